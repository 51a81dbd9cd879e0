//! The parts of Okta's `User`, `Group` and `LogEvent` objects that the sync
//! reads.
//! Timestamps stay the strings Okta sent, and `profile` stays the JSON object
//! Okta sent, custom attributes and their JSON types included.

use serde::Deserialize;
use serde_json::{Map, Value};

/// Every user status Okta has. A `filter` naming all of them lists every user,
/// DEPROVISIONED included, in one pass; without a filter Okta hides those.
pub const USER_STATUSES: &[&str] = &[
    "STAGED",
    "PROVISIONED",
    "ACTIVE",
    "RECOVERY",
    "PASSWORD_EXPIRED",
    "LOCKED_OUT",
    "SUSPENDED",
    "DEPROVISIONED",
];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaUser {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub activated: Option<String>,
    #[serde(default)]
    pub status_changed: Option<String>,
    #[serde(default)]
    pub last_login: Option<String>,
    #[serde(default)]
    pub last_updated: Option<String>,
    #[serde(default)]
    pub password_changed: Option<String>,
    #[serde(default)]
    pub profile: Map<String, Value>,
}

impl OktaUser {
    pub fn profile_str(&self, name: &str) -> Option<&str> {
        self.profile.get(name).and_then(Value::as_str)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaGroup {
    pub id: String,
    #[serde(rename = "type", default)]
    pub group_type: Option<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub last_updated: Option<String>,
    #[serde(default)]
    pub last_membership_updated: Option<String>,
    #[serde(default)]
    pub profile: Map<String, Value>,
    /// `_embedded`, present when the request asked for `expand=stats`.
    #[serde(rename = "_embedded", default)]
    pub embedded: Option<GroupEmbedded>,
}

impl OktaGroup {
    /// Okta's member count (`_embedded.stats.usersCount`), when the group
    /// was listed with `expand=stats`.
    pub fn users_count(&self) -> Option<u64> {
        self.embedded.as_ref()?.stats.as_ref()?.users_count
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GroupEmbedded {
    #[serde(default)]
    pub stats: Option<GroupStats>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupStats {
    #[serde(default)]
    pub users_count: Option<u64>,
}

/// A group member as the sync needs it: the member list returns whole user
/// objects, but only the id is read, so a page parses quickly.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberRef {
    pub id: String,
}

/// System Log event type of a user added to a group.
pub const MEMBERSHIP_ADD: &str = "group.user_membership.add";
/// System Log event type of a user removed from a group.
pub const MEMBERSHIP_REMOVE: &str = "group.user_membership.remove";
/// System Log event type of a user deleted outright. The groups the user was
/// in get no membership removal events.
pub const USER_DELETE: &str = "user.lifecycle.delete.initiated";

/// The parts of a System Log `LogEvent` that the sync reads.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    #[serde(default)]
    pub uuid: Option<String>,
    /// When the event happened, with milliseconds.
    pub published: String,
    pub event_type: String,
    #[serde(default)]
    pub outcome: Option<LogOutcome>,
    /// The objects acted on. Their order is not fixed, so they are found by
    /// `type`.
    #[serde(default)]
    pub target: Vec<LogTarget>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogOutcome {
    #[serde(default)]
    pub result: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogTarget {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(rename = "type", default)]
    pub target_type: Option<String>,
}

/// A membership change read from the System Log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipChange {
    Added {
        group_id: String,
        user_id: String,
    },
    Removed {
        group_id: String,
        user_id: String,
    },
    /// The user was deleted, so it left every group it was in.
    UserDeleted {
        user_id: String,
    },
}

/// A membership change and when Okta published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipEvent {
    pub published: chrono::DateTime<chrono::Utc>,
    pub change: MembershipChange,
}

impl LogEvent {
    /// Converts a membership or user-deletion event. Returns `Ok(None)` for
    /// other event types and for events whose outcome is not SUCCESS,
    /// because those changed nothing. Returns an error for an event of a
    /// known type that lacks its timestamp or targets.
    pub fn membership_event(&self) -> Result<Option<MembershipEvent>, String> {
        let known = [MEMBERSHIP_ADD, MEMBERSHIP_REMOVE, USER_DELETE];
        if !known.contains(&self.event_type.as_str()) {
            return Ok(None);
        }
        let succeeded = self
            .outcome
            .as_ref()
            .and_then(|outcome| outcome.result.as_deref())
            == Some("SUCCESS");
        if !succeeded {
            return Ok(None);
        }
        let published = chrono::DateTime::parse_from_rfc3339(&self.published)
            .map_err(|error| {
                format!(
                    "event {} has an invalid published time {:?}: {error}",
                    self.uuid.as_deref().unwrap_or("without uuid"),
                    self.published
                )
            })?
            .to_utc();
        let target_id = |target_type: &str| {
            self.target
                .iter()
                .find(|target| target.target_type.as_deref() == Some(target_type))
                .and_then(|target| target.id.clone())
                .ok_or_else(|| {
                    format!(
                        "{} event {} has no {target_type} target",
                        self.event_type,
                        self.uuid.as_deref().unwrap_or("without uuid")
                    )
                })
        };
        let change = match self.event_type.as_str() {
            MEMBERSHIP_ADD => MembershipChange::Added {
                group_id: target_id("UserGroup")?,
                user_id: target_id("User")?,
            },
            MEMBERSHIP_REMOVE => MembershipChange::Removed {
                group_id: target_id("UserGroup")?,
                user_id: target_id("User")?,
            },
            _ => MembershipChange::UserDeleted {
                user_id: target_id("User")?,
            },
        };
        Ok(Some(MembershipEvent { published, change }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list-users answer written to the shape of Okta's `User` schema.
    const USERS_PAGE: &str = include_str!("../../tests/fixtures/okta-list-users.json");
    const GROUPS_PAGE: &str = include_str!("../../tests/fixtures/okta-list-groups.json");
    /// A list-logs response written to the shape of Okta's `LogEvent` schema.
    const LOG_PAGE: &str = include_str!("../../tests/fixtures/okta-list-logs.json");

    #[test]
    fn parses_user_page_fixture() {
        let users: Vec<OktaUser> = serde_json::from_str(USERS_PAGE).unwrap();
        assert_eq!(users.len(), 2);
        assert_eq!(
            users[0].profile_str("login"),
            Some("isaac.brock@example.com")
        );
        assert_eq!(users[1].status, "DEPROVISIONED");
        assert_eq!(users[1].last_login, None);
    }

    #[test]
    fn reads_membership_event_from_log_page() {
        let events: Vec<LogEvent> = serde_json::from_str(LOG_PAGE).unwrap();
        let changes: Vec<_> = events
            .iter()
            .map(|event| event.membership_event().unwrap())
            .collect();
        assert_eq!(changes.len(), 3);
        assert_eq!(
            changes[0].as_ref().map(|event| &event.change),
            Some(&MembershipChange::Added {
                group_id: "00g1emaKYZTWRYYRRTSK".into(),
                user_id: "00u1f96ECLNVOKVMUSEA".into(),
            })
        );
        assert_eq!(
            changes[0]
                .as_ref()
                .map(|event| event.published.timestamp_millis() % 1000),
            Some(353)
        );
        assert!(changes[1].is_none(), "a sign-in is not a membership event");
        assert!(changes[2].is_none(), "a failed add changed nothing");
    }

    #[test]
    fn membership_event_without_group_is_an_error() {
        let event: LogEvent = serde_json::from_value(serde_json::json!({
            "uuid": "dc9fd3c0-598c-11ef-8478-2b7584bf8d5a",
            "published": "2026-01-31T09:15:02.353Z",
            "eventType": "group.user_membership.remove",
            "outcome": {"result": "SUCCESS"},
            "target": [{"id": "00u1f96ECLNVOKVMUSEA", "type": "User"}]
        }))
        .unwrap();
        let error = event.membership_event().unwrap_err();
        assert!(error.contains("UserGroup"), "{error}");
    }

    #[test]
    fn users_count_comes_from_stats() {
        let group: OktaGroup = serde_json::from_value(serde_json::json!({
            "id": "00g1emaKYZTWRYYRRTSK",
            "type": "OKTA_GROUP",
            "profile": {"name": "Engineering"},
            "_embedded": {"stats": {"usersCount": 42, "appsCount": 1}}
        }))
        .unwrap();
        assert_eq!(group.users_count(), Some(42));
        let plain: OktaGroup = serde_json::from_value(serde_json::json!({"id": "00g2"})).unwrap();
        assert_eq!(plain.users_count(), None);
    }

    #[test]
    fn parses_group_page_fixture() {
        let groups: Vec<OktaGroup> = serde_json::from_str(GROUPS_PAGE).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].group_type.as_deref(), Some("BUILT_IN"));
        assert!(groups[1].last_membership_updated.is_some());
    }
}
