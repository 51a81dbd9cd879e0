//! Deterministic generation of an org of any size from a seed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Duration as TimeDelta, TimeZone, Utc};
use rand::seq::index;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};

use crate::model::{random_id, Group, GroupType, Org, Timestamp, User, UserStatus};
use crate::profile::Profile;
use crate::system_log::SystemLog;

/// What [`generate_org`] builds.
#[derive(Clone, Debug, PartialEq)]
pub struct OrgSpec {
    pub seed: u64,
    pub users: usize,
    /// Total groups, the Everyone group included (at least 1).
    pub groups: usize,
    /// Share of users in DEPROVISIONED status, 0.0 to 1.0.
    pub deprovisioned_share: f64,
    /// Target number of memberships in groups other than Everyone; `None`
    /// means about 3 per user. The Everyone group always adds one per user.
    pub memberships: Option<usize>,
}

impl OrgSpec {
    pub fn new(seed: u64, users: usize, groups: usize) -> Self {
        OrgSpec {
            seed,
            users,
            groups,
            deprovisioned_share: 0.03,
            memberships: None,
        }
    }

    /// About 50 users in 8 groups: enough for every edge case, fast to sync.
    pub fn small() -> Self {
        OrgSpec::new(42, 50, 8)
    }

    /// 5000 users in 300 groups, the size the demo shows.
    pub fn demo() -> Self {
        OrgSpec::new(1, 5000, 300)
    }
}

impl Default for OrgSpec {
    fn default() -> Self {
        OrgSpec::small()
    }
}

/// Returns the instant that every generated timestamp precedes. It is fixed so that the
/// same seed always gives the same org.
pub(crate) fn generation_anchor() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

/// First names as shown and as written in a login.
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Alice", "alice"),
    ("Bob", "bob"),
    ("José", "jose"),
    ("Zoë", "zoe"),
    ("François", "francois"),
    ("Åsa", "asa"),
    ("Søren", "soren"),
    ("Łukasz", "lukasz"),
    ("Chloé", "chloe"),
    ("Jürgen", "jurgen"),
    ("Siobhán", "siobhan"),
    ("Nguyễn Thị", "thi"),
    ("美咲", "misaki"),
    ("陽翔", "haruto"),
    ("伟", "wei"),
    ("민준", "minjun"),
    ("محمد", "mohammed"),
    ("فاطمة", "fatima"),
    ("נועה", "noa"),
    ("Дмитрий", "dmitry"),
    ("Νίκος", "nikos"),
    ("अर्जुन", "arjun"),
    ("สมชาย", "somchai"),
    ("Priya", "priya"),
    ("Olúwaseun", "oluwaseun"),
    ("Mary-Jane", "maryjane"),
    ("D'Andre", "dandre"),
    ("Ingrid", "ingrid"),
];

const LAST_NAMES: &[(&str, &str)] = &[
    ("Smith", "smith"),
    ("García", "garcia"),
    ("Müller", "muller"),
    ("O'Brien", "obrien"),
    ("Nguyễn", "nguyen"),
    ("Ødegård", "odegard"),
    ("van der Berg", "vanderberg"),
    ("Smith-Jones", "smithjones"),
    ("Dvořák", "dvorak"),
    ("田中", "tanaka"),
    ("王", "wang"),
    ("김", "kim"),
    ("الفارسي", "alfarsi"),
    ("Иванова", "ivanova"),
    ("Παπαδόπουλος", "papadopoulos"),
    ("Kowalczyk", "kowalczyk"),
    ("Ó Súilleabháin", "osuilleabhain"),
    ("Şahin", "sahin"),
    ("Lefèvre", "lefevre"),
    ("Okonkwo", "okonkwo"),
    ("Cohen", "cohen"),
    ("Patel", "patel"),
];

const EMOJI: &[&str] = &["🚀", "🌸", "👩‍💻", "🏳️‍🌈", "🎉", "☕", "🇯🇵"];

const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Ventes",
    "Recherche & Développement",
    "開発部",
    "المالية",
    "Кадры",
    "Support",
    "Legal",
];

const TITLES: &[&str] = &[
    "Engineer",
    "Senior Engineer",
    "Account Executive",
    "Directrice financière",
    "Support Specialist",
    "\"Chief\" Evangelist",
    "Ops\\Infra Lead",
    "プロダクトマネージャー",
    "مدير المشروع",
];

const SKILLS: &[&str] = &[
    "rust",
    "sql",
    "negotiation",
    "design",
    "日本語",
    "français",
    "aws",
    "okta",
    "excel",
];

const LOCALES: &[(&str, &str, &str)] = &[
    ("en_US", "en", "America/Los_Angeles"),
    ("fr_FR", "fr", "Europe/Paris"),
    ("de_DE", "de", "Europe/Berlin"),
    ("ja_JP", "ja", "Asia/Tokyo"),
    ("ar_EG", "ar", "Africa/Cairo"),
    ("pt_BR", "pt", "America/Sao_Paulo"),
    ("en_IN", "hi", "Asia/Kolkata"),
];

const CITIES: &[(&str, &str)] = &[
    ("San Francisco", "US"),
    ("Paris", "FR"),
    ("München", "DE"),
    ("東京", "JP"),
    ("القاهرة", "EG"),
    ("São Paulo", "BR"),
    ("Bengaluru", "IN"),
];

const DOMAINS: &[&str] = &["example.com", "example.org", "corp.example.net"];

const GROUP_STEMS: &[&str] = &[
    "Engineering",
    "Sales",
    "Ventes",
    "開発部",
    "المالية",
    "Δοκιμή",
    "Contractors",
    "Admins",
    "Project Ünicorn",
    "🚀 Launch crew",
    "All-hands",
    "On-call",
];

const GROUP_QUALIFIERS: &[&str] = &["EMEA", "APAC", "AMER", "Berlin", "東京", "Interns", "Leads"];

/// Status weights for users who are not DEPROVISIONED, in [`UserStatus::ALL`] order.
const STATUS_WEIGHTS: [(UserStatus, u32); 7] = [
    (UserStatus::Staged, 30),
    (UserStatus::Provisioned, 30),
    (UserStatus::Active, 850),
    (UserStatus::Recovery, 10),
    (UserStatus::PasswordExpired, 15),
    (UserStatus::LockedOut, 15),
    (UserStatus::Suspended, 20),
];

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn random_status(rng: &mut ChaCha8Rng, deprovisioned_share: f64) -> UserStatus {
    if rng.random_bool(deprovisioned_share.clamp(0.0, 1.0)) {
        return UserStatus::Deprovisioned;
    }
    let total: u32 = STATUS_WEIGHTS.iter().map(|(_, weight)| weight).sum();
    let mut roll = rng.random_range(0..total);
    for (status, weight) in STATUS_WEIGHTS {
        if roll < weight {
            return status;
        }
        roll -= weight;
    }
    UserStatus::Active
}

fn seconds_before(anchor: Timestamp, rng: &mut ChaCha8Rng, max_days: i64) -> Timestamp {
    anchor - TimeDelta::seconds(rng.random_range(0..max_days.max(1) * 86_400))
}

fn seconds_after(
    start: Timestamp,
    rng: &mut ChaCha8Rng,
    max_days: i64,
    limit: Timestamp,
) -> Timestamp {
    let later = start + TimeDelta::seconds(rng.random_range(0..max_days.max(1) * 86_400));
    later.min(limit).max(start)
}

/// Builds a user profile with standard attributes and custom ones of every JSON
/// type. `serial` makes the login unique.
pub(crate) fn random_profile(rng: &mut ChaCha8Rng, serial: u64) -> Profile {
    let (first, first_ascii) = *pick(rng, FIRST_NAMES);
    let (last, last_ascii) = *pick(rng, LAST_NAMES);
    let domain = *pick(rng, DOMAINS);
    let mut login = format!("{first_ascii}.{last_ascii}.{serial}@{domain}");
    // Some orgs keep logins as typed, so about a fifth are mixed case.
    if rng.random_bool(0.2) {
        login = capitalize_words(&login);
    }
    let email = if rng.random_bool(0.1) {
        format!("{first_ascii}{last_ascii}{serial}@mail.{domain}")
    } else {
        login.to_lowercase()
    };

    let mut profile = Profile::new();
    profile.insert("login", json!(login));
    profile.insert("email", json!(email));
    profile.insert("firstName", json!(first));
    profile.insert("lastName", json!(last));
    match rng.random_range(0..10) {
        0 => {}
        1 => {
            profile.insert("displayName", Value::Null);
        }
        2 | 3 => {
            let emoji = *pick(rng, EMOJI);
            profile.insert("displayName", json!(format!("{first} {last} {emoji}")));
        }
        _ => {
            profile.insert("displayName", json!(format!("{first} {last}")));
        }
    }
    profile.insert("nickName", Value::Null);
    let mobile = if rng.random_bool(0.6) {
        json!(format!(
            "+1 555 01{:02} {:03}",
            rng.random_range(0..100),
            serial % 1000
        ))
    } else {
        Value::Null
    };
    profile.insert("mobilePhone", mobile);
    let second_email = match rng.random_range(0..4) {
        0 => json!(""),
        1 => json!(format!("{first_ascii}.{serial}@personal.example")),
        _ => Value::Null,
    };
    profile.insert("secondEmail", second_email);
    if rng.random_bool(0.9) {
        profile.insert("department", json!(*pick(rng, DEPARTMENTS)));
    }
    if rng.random_bool(0.85) {
        profile.insert("title", json!(*pick(rng, TITLES)));
    }
    let (locale, language, timezone) = *pick(rng, LOCALES);
    profile.insert("locale", json!(locale));
    profile.insert("preferredLanguage", json!(language));
    profile.insert("timezone", json!(timezone));
    let (city, country) = *pick(rng, CITIES);
    profile.insert("city", json!(city));
    profile.insert("countryCode", json!(country));
    profile.insert("employeeNumber", json!(format!("{:06}", serial)));

    insert_custom_attributes(rng, &mut profile);
    profile.shrink_to_fit();
    profile
}

/// Adds custom attributes: integers, floats, booleans, string arrays, nulls,
/// attributes that are sometimes absent, and rare edge values.
fn insert_custom_attributes(rng: &mut ChaCha8Rng, profile: &mut Profile) {
    profile.insert("costCenter", json!(rng.random_range(1000..9999_i64)));
    let fte = [1.0, 0.8, 0.5, 0.25][rng.random_range(0..4)];
    profile.insert("fte", json!(fte));
    profile.insert("isContractor", json!(rng.random_bool(0.15)));

    let skill_count = rng.random_range(0..4);
    let skills: Vec<&str> = (0..skill_count).map(|_| *pick(rng, SKILLS)).collect();
    profile.insert("skills", json!(skills));

    if rng.random_bool(0.7) {
        let start = format!(
            "20{:02}-{:02}-{:02}",
            rng.random_range(10..26),
            rng.random_range(1..13),
            rng.random_range(1..29)
        );
        profile.insert("startDate", json!(start));
    }

    if rng.random_bool(0.5) {
        profile.insert("managerId", Value::Null);
    }

    if rng.random_bool(0.3) {
        // Quarter gigabytes, so the value has a fraction and is sometimes negative.
        let quota = f64::from(rng.random_range(-400..40_000_i32)) / 4.0;
        profile.insert("quotaGb", json!(quota));
    }

    if rng.random_bool(0.02) {
        // Above 2^53, where a float64 cannot hold every integer, so a reader
        // that parses numbers as floats changes some of these values.
        let badge = 9_007_199_254_740_993_i64 + rng.random_range(0..1000_i64);
        profile.insert("badgeNumber", json!(badge));
    }

    if rng.random_bool(0.05) {
        profile.insert(
            "notes",
            json!("Line one\nLine \"two\"\twith a tab, a backslash \\ and ünïcödé"),
        );
    }

    if rng.random_bool(0.6) {
        profile.insert("clearanceLevel", json!(rng.random_range(0..6)));
    }
}

fn capitalize_words(login: &str) -> String {
    let mut out = String::with_capacity(login.len());
    let mut at_word_start = true;
    for c in login.chars() {
        if at_word_start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        at_word_start = matches!(c, '.' | '@');
    }
    out
}

/// Lifecycle timestamps that fit a user's status, all before `anchor`.
pub(crate) fn lifecycle_for(
    rng: &mut ChaCha8Rng,
    status: UserStatus,
    created: Timestamp,
    anchor: Timestamp,
) -> Lifecycle {
    let activated_at = seconds_after(created, rng, 7, anchor);
    let (activated, password_changed) = if status.was_activated() {
        // Okta's published list-users example shows an ACTIVE user with
        // `activated: null`, so a tenth of activated users get null too.
        let activated = rng.random_bool(0.9).then_some(activated_at);
        (
            activated,
            Some(seconds_after(activated_at, rng, 400, anchor)),
        )
    } else if status == UserStatus::Provisioned {
        (None, Some(activated_at))
    } else {
        (None, None)
    };
    let status_changed = match status {
        UserStatus::Staged => None,
        UserStatus::Active if rng.random_bool(0.3) => None,
        _ => Some(seconds_after(activated_at, rng, 600, anchor)),
    };
    let last_login = if status.was_activated() && rng.random_bool(0.85) {
        Some(seconds_after(activated_at, rng, 900, anchor))
    } else {
        None
    };
    let latest_change = [Some(created), activated, status_changed, password_changed]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(created);
    Lifecycle {
        activated,
        status_changed,
        last_login,
        last_updated: seconds_after(latest_change, rng, 60, anchor),
        password_changed,
    }
}

pub(crate) struct Lifecycle {
    pub activated: Option<Timestamp>,
    pub status_changed: Option<Timestamp>,
    pub last_login: Option<Timestamp>,
    pub last_updated: Timestamp,
    pub password_changed: Option<Timestamp>,
}

/// Builds the profile of a non-Everyone group; `serial` keeps names unique.
pub(crate) fn random_group_profile(
    rng: &mut ChaCha8Rng,
    group_type: GroupType,
    serial: u64,
) -> Profile {
    let stem = *pick(rng, GROUP_STEMS);
    let qualifier = *pick(rng, GROUP_QUALIFIERS);
    let mut profile = Profile::new();
    if group_type == GroupType::AppGroup {
        // Active Directory groups carry the AD profile, not okta:user_group's.
        let sam = format!("{}_{serial}", stem.replace(' ', "_"));
        profile.insert("name", json!(format!("{stem} {qualifier} (AD) {serial}")));
        profile.insert(
            "description",
            json!(format!("Imported from corp.example.net: {sam}")),
        );
        profile.insert("groupType", json!("Security"));
        profile.insert("groupScope", json!("Global"));
        profile.insert("samAccountName", json!(sam));
        profile.insert("windowsDomainQualifiedName", json!(format!("CORP\\{sam}")));
        profile.insert(
            "dn",
            json!(format!("CN={sam},OU=Groups,DC=corp,DC=example,DC=net")),
        );
        profile.insert(
            "objectSid",
            json!(format!(
                "S-1-5-21-1004336348-1177238915-682003330-{}",
                1000 + serial
            )),
        );
        profile.insert("externalId", json!(format!("{serial:08x}")));
        return profile;
    }
    profile.insert("name", json!(format!("{stem} – {qualifier} {serial}")));
    match rng.random_range(0..4) {
        0 => {
            profile.insert("description", Value::Null);
        }
        1 => {
            profile.insert("description", json!(""));
        }
        _ => {
            profile.insert(
                "description",
                json!(format!("Members of {stem} in {qualifier}")),
            );
        }
    }
    if rng.random_bool(0.3) {
        profile.insert("costCenter", json!(rng.random_range(1000..9999)));
    }
    if rng.random_bool(0.2) {
        profile.insert("owner", json!(format!("owner{serial}@example.com")));
    }
    if rng.random_bool(0.15) {
        profile.insert("tags", json!(["synced", *pick(rng, SKILLS)]));
    }
    profile
}

/// Mixed into the seed of the random source for users and groups created
/// after generation, so their ids do not repeat the generation's sequence.
const LATER_CHANGES_STREAM: u64 = 0x9e37_79b9_7f4a_7c15;

/// Generates an org from `spec`. The same spec always yields the same org.
pub fn generate_org(spec: &OrgSpec) -> Org {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let anchor = generation_anchor();
    let user_type_id = random_id(&mut rng, "oty");

    let mut users = BTreeMap::new();
    let mut logins = HashMap::with_capacity(spec.users);
    let mut serial = 1_u64;
    while users.len() < spec.users {
        let id = random_id(&mut rng, "00u");
        if users.contains_key(&id) {
            continue;
        }
        let status = random_status(&mut rng, spec.deprovisioned_share);
        let created = seconds_before(anchor - TimeDelta::days(1), &mut rng, 2000);
        let lifecycle = lifecycle_for(&mut rng, status, created, anchor);
        let profile = random_profile(&mut rng, serial);
        serial += 1;
        let user = User {
            id: id.clone(),
            status,
            created,
            activated: lifecycle.activated,
            status_changed: lifecycle.status_changed,
            last_login: lifecycle.last_login,
            last_updated: lifecycle.last_updated,
            password_changed: lifecycle.password_changed,
            type_id: user_type_id.clone(),
            profile,
        };
        logins.insert(user.login().to_lowercase(), id.clone());
        users.insert(id, user);
    }

    let user_ids: Vec<String> = users.keys().cloned().collect();
    let mut groups = BTreeMap::new();
    let everyone = everyone_group(&mut rng, &users, anchor);
    let everyone_id = everyone.id.clone();
    groups.insert(everyone_id.clone(), everyone);

    let other_groups = spec.groups.saturating_sub(1);
    let target = spec.memberships.unwrap_or(spec.users.saturating_mul(3));
    let sizes = group_sizes(&mut rng, other_groups, user_ids.len(), target);
    for (position, size) in sizes.into_iter().enumerate() {
        let id = loop {
            let candidate = random_id(&mut rng, "00g");
            if !groups.contains_key(&candidate) {
                break candidate;
            }
        };
        // One group in twenty, the second one first, so even a small org has one.
        let group_type = if position % 20 == 1 {
            GroupType::AppGroup
        } else {
            GroupType::OktaGroup
        };
        let profile = random_group_profile(&mut rng, group_type, serial);
        serial += 1;
        let members: BTreeSet<String> = index::sample(&mut rng, user_ids.len(), size)
            .into_iter()
            .map(|position| user_ids[position].clone())
            .collect();
        let created = seconds_before(anchor - TimeDelta::days(1), &mut rng, 2000);
        let group = new_group(&mut rng, id, group_type, profile, members, created, anchor);
        groups.insert(group.id.clone(), group);
    }

    Org {
        users,
        groups,
        everyone_id,
        logins,
        user_type_id,
        rng: ChaCha8Rng::seed_from_u64(spec.seed ^ LATER_CHANGES_STREAM),
        next_serial: serial,
        log: SystemLog::default(),
    }
}

fn everyone_group(
    rng: &mut ChaCha8Rng,
    users: &BTreeMap<String, User>,
    anchor: Timestamp,
) -> Group {
    let created = anchor - TimeDelta::days(2200);
    let last_membership_updated = users
        .values()
        .map(|user| user.created)
        .max()
        .unwrap_or(created);
    let mut profile = Profile::new();
    profile.insert("name", json!("Everyone"));
    profile.insert("description", json!("All users in your organization"));
    Group {
        id: random_id(rng, "00g"),
        group_type: GroupType::BuiltIn,
        created,
        last_updated: created,
        last_membership_updated,
        object_class: vec!["okta:user_group".to_string()],
        profile,
        source_app_id: None,
        members: users.keys().cloned().collect(),
    }
}

pub(crate) fn new_group(
    rng: &mut ChaCha8Rng,
    id: String,
    group_type: GroupType,
    profile: Profile,
    members: BTreeSet<String>,
    created: Timestamp,
    now: Timestamp,
) -> Group {
    let (object_class, source_app_id) = match group_type {
        GroupType::AppGroup => (
            "okta:windows_security_principal",
            Some(random_id(rng, "0oa")),
        ),
        _ => ("okta:user_group", None),
    };
    let last_updated = seconds_after(created, rng, 300, now);
    let last_membership_updated = if members.is_empty() {
        created
    } else {
        seconds_after(created, rng, 900, now)
    };
    Group {
        id,
        group_type,
        created,
        last_updated,
        last_membership_updated,
        object_class: vec![object_class.to_string()],
        profile,
        source_app_id,
        members,
    }
}

/// Sizes for `count` groups: heavy-tailed (Zipf, exponent 1.1) in random
/// order, about one in twenty empty, each at most `user_count`, summing to
/// about `target`.
fn group_sizes(rng: &mut ChaCha8Rng, count: usize, user_count: usize, target: usize) -> Vec<usize> {
    if count == 0 {
        return Vec::new();
    }
    let mut weights: Vec<f64> = (0..count)
        .map(|rank| 1.0 / ((rank + 1) as f64).powf(1.1))
        .collect();
    // At least one empty group once there are a few, because syncs must keep them.
    let empty_count = if count >= 3 { (count / 20).max(1) } else { 0 };
    for weight in weights.iter_mut().rev().take(empty_count) {
        *weight = 0.0;
    }
    shuffle(rng, &mut weights);

    // Scale the weights so the capped sizes reach the target. A few passes are
    // enough, because only the largest groups hit the cap.
    let mut scale = target as f64 / weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let mut sizes = vec![0; count];
    for _ in 0..6 {
        for (size, weight) in sizes.iter_mut().zip(&weights) {
            *size = ((weight * scale).round() as usize).min(user_count);
        }
        let total: usize = sizes.iter().sum();
        let uncapped: f64 = sizes
            .iter()
            .zip(&weights)
            .filter(|(size, _)| **size < user_count)
            .map(|(_, weight)| weight)
            .sum();
        if total >= target || uncapped <= 0.0 {
            break;
        }
        scale += (target - total) as f64 / uncapped;
    }
    sizes
}

fn shuffle(rng: &mut ChaCha8Rng, items: &mut [f64]) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_org() {
        let first = generate_org(&OrgSpec::small());
        let second = generate_org(&OrgSpec::small());
        let first_users: Vec<&User> = first.users().collect();
        let second_users: Vec<&User> = second.users().collect();
        assert_eq!(first_users, second_users);
        let first_groups: Vec<&Group> = first.groups().collect();
        let second_groups: Vec<&Group> = second.groups().collect();
        assert_eq!(first_groups, second_groups);
    }

    #[test]
    fn small_org_shape() {
        let org = generate_org(&OrgSpec::small());
        let summary = org.summary();
        assert_eq!(summary.users, 50);
        assert_eq!(summary.groups, 8);
        let everyone = org.everyone().expect("the Everyone group exists");
        assert_eq!(everyone.group_type, GroupType::BuiltIn);
        assert_eq!(everyone.name(), "Everyone");
        assert_eq!(everyone.members.len(), 50);
        let empty = org
            .groups()
            .filter(|group| group.members.is_empty())
            .count();
        assert!(empty >= 1, "expected an empty group");
        for user in org.users() {
            assert_eq!(user.id.len(), 20, "{}", user.id);
            assert!(user.id.starts_with("00u"));
            assert!(user.last_updated >= user.created);
            assert_eq!(
                org.user_by_login(user.login()).map(|u| &u.id),
                Some(&user.id)
            );
        }
    }

    #[test]
    fn empty_org_keeps_everyone() {
        let org = generate_org(&OrgSpec::new(1, 0, 0));
        let summary = org.summary();
        assert_eq!(summary.users, 0);
        assert_eq!(summary.groups, 1);
        assert_eq!(summary.memberships, 0);
        assert!(org.everyone().is_some());
    }

    #[test]
    fn custom_attributes_cover_json_types() {
        let org = generate_org(&OrgSpec::new(3, 2000, 20));
        let mut seen = BTreeSet::new();
        for user in org.users() {
            for value in user.profile.values() {
                let kind = match value {
                    Value::Null => "null",
                    Value::Bool(_) => "bool",
                    Value::Number(n) if n.is_f64() => "float",
                    Value::Number(_) => "integer",
                    Value::String(_) => "string",
                    Value::Array(_) => "array",
                    Value::Object(_) => "object",
                };
                seen.insert(kind);
            }
        }
        for kind in ["null", "bool", "float", "integer", "string", "array"] {
            assert!(seen.contains(kind), "no {kind} attribute in {seen:?}");
        }
        let deprovisioned = org.summary().users_by_status.get("DEPROVISIONED").copied();
        let share = deprovisioned.unwrap_or(0) as f64 / 2000.0;
        assert!(
            (0.015..0.05).contains(&share),
            "DEPROVISIONED share {share}"
        );
        let app_groups = org
            .groups()
            .filter(|group| group.group_type == GroupType::AppGroup)
            .count();
        assert!(app_groups >= 1, "expected an APP_GROUP among 20 groups");
    }

    #[test]
    fn membership_target_is_approached() {
        let spec = OrgSpec {
            memberships: Some(20_000),
            ..OrgSpec::new(9, 5000, 200)
        };
        let summary = generate_org(&spec).summary();
        let regular = summary.memberships - summary.users;
        assert!(
            (18_000..=22_000).contains(&regular),
            "memberships outside Everyone: {regular}"
        );
    }

    #[test]
    fn group_sizes_are_heavy_tailed() {
        let org = generate_org(&OrgSpec::new(5, 10_000, 500));
        let mut sizes: Vec<usize> = org
            .groups()
            .filter(|group| group.group_type != GroupType::BuiltIn)
            .map(|group| group.members.len())
            .collect();
        sizes.sort_unstable();
        let largest = sizes.last().copied().unwrap_or(0);
        let median = sizes[sizes.len() / 2];
        assert!(
            largest > 20 * median.max(1),
            "largest {largest}, median {median}"
        );
    }
}
