//! Users, groups and the org that contains them, with their Okta JSON shapes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::profile::Profile;
use crate::system_log::SystemLog;

/// A point in time as the fake stores it: UTC, whole seconds, because Okta
/// reports every timestamp with `.000` milliseconds.
pub type Timestamp = DateTime<Utc>;

/// Truncates a time to whole seconds, the precision Okta stores.
pub fn to_okta_precision(at: Timestamp) -> Timestamp {
    at.trunc_subsecs(0)
}

/// Formats a time the way Okta does, for example `2026-01-31T09:15:02.000Z`.
pub fn format_timestamp(at: &Timestamp) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn serialize_timestamp<S: Serializer>(at: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_timestamp(at))
}

fn serialize_optional_timestamp<S: Serializer>(
    at: &Option<Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize_timestamp(at, serializer),
        None => serializer.serialize_none(),
    }
}

/// Okta's user lifecycle status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Staged,
    Provisioned,
    Active,
    Recovery,
    PasswordExpired,
    LockedOut,
    Suspended,
    Deprovisioned,
}

impl UserStatus {
    pub const ALL: [UserStatus; 8] = [
        UserStatus::Staged,
        UserStatus::Provisioned,
        UserStatus::Active,
        UserStatus::Recovery,
        UserStatus::PasswordExpired,
        UserStatus::LockedOut,
        UserStatus::Suspended,
        UserStatus::Deprovisioned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Staged => "STAGED",
            UserStatus::Provisioned => "PROVISIONED",
            UserStatus::Active => "ACTIVE",
            UserStatus::Recovery => "RECOVERY",
            UserStatus::PasswordExpired => "PASSWORD_EXPIRED",
            UserStatus::LockedOut => "LOCKED_OUT",
            UserStatus::Suspended => "SUSPENDED",
            UserStatus::Deprovisioned => "DEPROVISIONED",
        }
    }

    /// Tells whether a user in this status has been activated at some point,
    /// so `activated` and `passwordChanged` may be set.
    pub fn was_activated(self) -> bool {
        !matches!(self, UserStatus::Staged | UserStatus::Provisioned)
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for UserStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        UserStatus::ALL
            .into_iter()
            .find(|status| status.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| format!("unknown user status {text:?}"))
    }
}

/// Okta's group type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupType {
    OktaGroup,
    AppGroup,
    BuiltIn,
}

impl GroupType {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupType::OktaGroup => "OKTA_GROUP",
            GroupType::AppGroup => "APP_GROUP",
            GroupType::BuiltIn => "BUILT_IN",
        }
    }
}

impl fmt::Display for GroupType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GroupType {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [
            GroupType::OktaGroup,
            GroupType::AppGroup,
            GroupType::BuiltIn,
        ]
        .into_iter()
        .find(|kind| kind.as_str().eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("unknown group type {text:?}"))
    }
}

/// An Okta user. `Serialize` writes Okta's user object without `_links`;
/// [`User::to_json`] adds the links for a given base URL.
#[derive(Clone, Debug, PartialEq)]
pub struct User {
    pub id: String,
    pub status: UserStatus,
    pub created: Timestamp,
    pub activated: Option<Timestamp>,
    pub status_changed: Option<Timestamp>,
    pub last_login: Option<Timestamp>,
    pub last_updated: Timestamp,
    pub password_changed: Option<Timestamp>,
    /// The user type id (`type.id`), `oty…`.
    pub type_id: String,
    /// The open profile: standard attributes plus custom ones of any JSON type.
    pub profile: Profile,
}

impl User {
    pub fn login(&self) -> &str {
        self.profile
            .get("login")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Builds Okta's JSON user object with `_links.self` under `base_url`
    /// (for example `http://127.0.0.1:8080`).
    pub fn to_json(&self, base_url: &str) -> Value {
        serde_json::to_value(self.view(Some(base_url))).unwrap_or(Value::Null)
    }

    pub(crate) fn view<'a>(&'a self, base_url: Option<&'a str>) -> UserView<'a> {
        UserView {
            user: self,
            base_url,
        }
    }
}

impl Serialize for User {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.view(None).serialize(serializer)
    }
}

/// A user as Okta serialises it, with links when a base URL is known.
pub(crate) struct UserView<'a> {
    user: &'a User,
    base_url: Option<&'a str>,
}

#[derive(Serialize)]
struct TypeRef<'a> {
    id: &'a str,
}

#[derive(Serialize)]
struct Href {
    href: String,
}

#[derive(Serialize)]
struct Provider {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
}

#[derive(Serialize)]
struct Credentials {
    #[serde(skip_serializing_if = "Option::is_none")]
    password: Option<Map<String, Value>>,
    provider: Provider,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserJson<'a> {
    id: &'a str,
    status: UserStatus,
    #[serde(serialize_with = "serialize_timestamp")]
    created: &'a Timestamp,
    #[serde(serialize_with = "serialize_optional_timestamp")]
    activated: &'a Option<Timestamp>,
    #[serde(serialize_with = "serialize_optional_timestamp")]
    status_changed: &'a Option<Timestamp>,
    #[serde(serialize_with = "serialize_optional_timestamp")]
    last_login: &'a Option<Timestamp>,
    #[serde(serialize_with = "serialize_timestamp")]
    last_updated: &'a Timestamp,
    #[serde(serialize_with = "serialize_optional_timestamp")]
    password_changed: &'a Option<Timestamp>,
    #[serde(rename = "type")]
    user_type: TypeRef<'a>,
    profile: &'a Profile,
    credentials: Credentials,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    links: Option<BTreeMap<&'static str, Href>>,
}

impl Serialize for UserView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let user = self.user;
        // Okta leaves the password credential out for users who never set one.
        let password = user.password_changed.map(|_| Map::new());
        let links = self.base_url.map(|base| {
            BTreeMap::from([(
                "self",
                Href {
                    href: format!("{base}/api/v1/users/{}", user.id),
                },
            )])
        });
        UserJson {
            id: &user.id,
            status: user.status,
            created: &user.created,
            activated: &user.activated,
            status_changed: &user.status_changed,
            last_login: &user.last_login,
            last_updated: &user.last_updated,
            password_changed: &user.password_changed,
            user_type: TypeRef { id: &user.type_id },
            profile: &user.profile,
            credentials: Credentials {
                password,
                provider: Provider {
                    kind: "OKTA",
                    name: "OKTA",
                },
            },
            links,
        }
        .serialize(serializer)
    }
}

/// An Okta group and its members.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub id: String,
    pub group_type: GroupType,
    pub created: Timestamp,
    pub last_updated: Timestamp,
    pub last_membership_updated: Timestamp,
    /// `["okta:user_group"]` for Okta groups, `["okta:windows_security_principal"]`
    /// for the Active Directory groups generated as APP_GROUPs.
    pub object_class: Vec<String>,
    pub profile: Profile,
    /// The app instance (`0oa…`) an APP_GROUP is imported from.
    pub source_app_id: Option<String>,
    /// Member user ids, sorted because member pages are cut by id.
    pub members: BTreeSet<String>,
}

impl Group {
    pub fn name(&self) -> &str {
        self.profile
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// Builds Okta's JSON group object with links under `base_url`, and
    /// `_embedded.stats` when `with_stats` is set (`expand=stats`).
    pub fn to_json(&self, base_url: &str, with_stats: bool) -> Value {
        serde_json::to_value(self.view(Some(base_url), with_stats)).unwrap_or(Value::Null)
    }

    pub(crate) fn view<'a>(&'a self, base_url: Option<&'a str>, with_stats: bool) -> GroupView<'a> {
        GroupView {
            group: self,
            base_url,
            with_stats,
        }
    }
}

impl Serialize for Group {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.view(None, false).serialize(serializer)
    }
}

pub(crate) struct GroupView<'a> {
    group: &'a Group,
    base_url: Option<&'a str>,
    with_stats: bool,
}

impl Serialize for GroupView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let group = self.group;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &group.id)?;
        map.serialize_entry("created", &format_timestamp(&group.created))?;
        map.serialize_entry("lastUpdated", &format_timestamp(&group.last_updated))?;
        map.serialize_entry(
            "lastMembershipUpdated",
            &format_timestamp(&group.last_membership_updated),
        )?;
        map.serialize_entry("objectClass", &group.object_class)?;
        map.serialize_entry("type", &group.group_type)?;
        map.serialize_entry("profile", &group.profile)?;
        if self.with_stats {
            let stats = serde_json::json!({
                "stats": {
                    "usersCount": group.members.len(),
                    "appsCount": 0,
                    "groupPushMappingsCount": 0,
                }
            });
            map.serialize_entry("_embedded", &stats)?;
        }
        if let Some(base) = self.base_url {
            map.serialize_entry("_links", &group_links(group, base))?;
        }
        map.end()
    }
}

fn group_links(group: &Group, base: &str) -> Value {
    let mut links = serde_json::json!({
        "logo": [
            {"name": "medium", "href": format!("{base}/img/logos/groups/okta-medium.png"), "type": "image/png"},
            {"name": "large", "href": format!("{base}/img/logos/groups/okta-large.png"), "type": "image/png"},
        ],
        "users": {"href": format!("{base}/api/v1/groups/{}/users", group.id)},
        "apps": {"href": format!("{base}/api/v1/groups/{}/apps", group.id)},
    });
    if let (Some(app_id), Some(object)) = (&group.source_app_id, links.as_object_mut()) {
        object.insert(
            "source".to_string(),
            serde_json::json!({"href": format!("{base}/api/v1/apps/{app_id}")}),
        );
    }
    links
}

/// Counts that describe an org, as the binary and `/__admin/summary` report them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgSummary {
    pub users_by_status: BTreeMap<String, usize>,
    pub users: usize,
    pub groups: usize,
    /// (group, user) pairs across all groups, the Everyone group included.
    pub memberships: usize,
}

/// An error from a change to the org.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgError {
    UserNotFound(String),
    GroupNotFound(String),
    DuplicateLogin(String),
    /// The Everyone group cannot be renamed, deleted or given members by hand.
    BuiltInGroup(String),
    InvalidProfile(String),
}

impl fmt::Display for OrgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrgError::UserNotFound(id) => write!(f, "user {id:?} not found"),
            OrgError::GroupNotFound(id) => write!(f, "group {id:?} not found"),
            OrgError::DuplicateLogin(login) => {
                write!(f, "login {login:?} already belongs to another user")
            }
            OrgError::BuiltInGroup(id) => write!(
                f,
                "group {id:?} is the built-in Everyone group, whose name and members Okta manages"
            ),
            OrgError::InvalidProfile(reason) => write!(f, "invalid profile: {reason}"),
        }
    }
}

impl std::error::Error for OrgError {}

const ID_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Makes an Okta-style id: a three-letter prefix and 17 alphanumerics.
pub(crate) fn random_id(rng: &mut ChaCha8Rng, prefix: &str) -> String {
    let mut id = String::with_capacity(20);
    id.push_str(prefix);
    for _ in 0..17 {
        let index = rng.random_range(0..ID_ALPHABET.len());
        id.push(char::from(ID_ALPHABET[index]));
    }
    id
}

/// An Okta org: users sorted by id, groups sorted by id and the Everyone group.
#[derive(Clone, Debug)]
pub struct Org {
    pub(crate) users: BTreeMap<String, User>,
    pub(crate) groups: BTreeMap<String, Group>,
    pub(crate) everyone_id: String,
    /// Lower-cased login to user id, because Okta logins are case-insensitive.
    pub(crate) logins: HashMap<String, String>,
    pub(crate) user_type_id: String,
    /// Source of ids and generated profiles for users and groups created later.
    pub(crate) rng: ChaCha8Rng,
    /// Next number that generated logins and group names carry, so they stay unique.
    pub(crate) next_serial: u64,
    /// Membership and deletion events of the changes made after generation.
    pub(crate) log: SystemLog,
}

impl Org {
    pub fn users(&self) -> impl Iterator<Item = &User> {
        self.users.values()
    }

    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.get(id)
    }

    pub fn user_by_login(&self, login: &str) -> Option<&User> {
        let id = self.logins.get(&login.to_lowercase())?;
        self.users.get(id)
    }

    pub fn group(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// Returns the System Log: the events of the changes made since the org
    /// was generated, and the log's settings.
    pub fn system_log(&self) -> &SystemLog {
        &self.log
    }

    pub fn everyone_id(&self) -> &str {
        &self.everyone_id
    }

    pub fn everyone(&self) -> Option<&Group> {
        self.groups.get(&self.everyone_id)
    }

    pub fn user_count(&self) -> usize {
        self.users.len()
    }

    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// Ids of the groups a user belongs to, the Everyone group included.
    pub fn groups_of(&self, user_id: &str) -> Vec<String> {
        self.groups
            .values()
            .filter(|group| group.members.contains(user_id))
            .map(|group| group.id.clone())
            .collect()
    }

    pub fn summary(&self) -> OrgSummary {
        let mut users_by_status = BTreeMap::new();
        for user in self.users.values() {
            *users_by_status
                .entry(user.status.as_str().to_string())
                .or_insert(0) += 1;
        }
        OrgSummary {
            users_by_status,
            users: self.users.len(),
            groups: self.groups.len(),
            memberships: self.groups.values().map(|group| group.members.len()).sum(),
        }
    }
}
