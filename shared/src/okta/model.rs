//! The parts of Okta's `User` and `Group` objects that the mirror keeps.
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
}

/// A group member as the sync needs it: the member list returns whole user
/// objects, but only the id is read, so a page parses quickly.
#[derive(Debug, Clone, Deserialize)]
pub struct MemberRef {
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A list-users answer written to the shape of Okta's `User` schema.
    const USERS_PAGE: &str = include_str!("../../tests/fixtures/okta-list-users.json");
    const GROUPS_PAGE: &str = include_str!("../../tests/fixtures/okta-list-groups.json");

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
    fn parses_group_page_fixture() {
        let groups: Vec<OktaGroup> = serde_json::from_str(GROUPS_PAGE).unwrap();
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].group_type.as_deref(), Some("BUILT_IN"));
        assert!(groups[1].last_membership_updated.is_some());
    }
}
