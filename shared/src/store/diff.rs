//! Names of the attributes that differ between a mirrored item and what Okta
//! sent, for the change log.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::batch::Item;
use super::items::{get_n, get_s};
use super::keys::{groups_pk, users_pk};
use super::{Store, StoreError};
use crate::domain::ConnectorId;
use crate::okta::{OktaGroup, OktaUser};

const USER_FIELDS: &str =
    "#status, profileJson, created, activated, statusChanged, lastLogin, lastUpdated, passwordChanged, removedAt";
const GROUP_FIELDS: &str =
    "#type, profileJson, created, lastUpdated, lastMembershipUpdated, memberCount, removedAt";

impl Store {
    /// Reads the compared fields of mirrored users, by Okta id.
    pub async fn user_items(
        &self,
        connector_id: &ConnectorId,
        ids: &[String],
    ) -> Result<HashMap<String, Item>, StoreError> {
        self.batch_get(
            &users_pk(connector_id),
            ids,
            USER_FIELDS,
            &[("#status", "status")],
        )
        .await
    }

    /// Reads the compared fields of mirrored groups, by Okta id.
    pub async fn group_items(
        &self,
        connector_id: &ConnectorId,
        ids: &[String],
    ) -> Result<HashMap<String, Item>, StoreError> {
        self.batch_get(
            &groups_pk(connector_id),
            ids,
            GROUP_FIELDS,
            &[("#type", "type")],
        )
        .await
    }
}

/// Attributes of a user that differ from the mirrored item, sorted:
/// top-level fields by their API name, profile attributes as
/// `profile.<name>`, and `removedAt` for a user who returns.
pub fn changed_user_attributes(old: &Item, user: &OktaUser) -> Vec<String> {
    let mut changed = BTreeSet::new();
    let fields = [
        ("status", Some(&user.status)),
        ("created", user.created.as_ref()),
        ("activated", user.activated.as_ref()),
        ("statusChanged", user.status_changed.as_ref()),
        ("lastLogin", user.last_login.as_ref()),
        ("lastUpdated", user.last_updated.as_ref()),
        ("passwordChanged", user.password_changed.as_ref()),
    ];
    for (name, value) in fields {
        if get_s(old, name).as_ref() != value {
            changed.insert(name.to_owned());
        }
    }
    changed.extend(changed_profile_keys(old, &user.profile));
    if old.contains_key("removedAt") {
        changed.insert("removedAt".to_owned());
    }
    changed.into_iter().collect()
}

/// Attributes of a group that differ from the mirrored item, named as
/// `changed_user_attributes` names them.
pub fn changed_group_attributes(old: &Item, group: &OktaGroup, member_count: u64) -> Vec<String> {
    let mut changed = BTreeSet::new();
    let fields = [
        ("type", group.group_type.as_ref()),
        ("created", group.created.as_ref()),
        ("lastUpdated", group.last_updated.as_ref()),
        (
            "lastMembershipUpdated",
            group.last_membership_updated.as_ref(),
        ),
    ];
    for (name, value) in fields {
        if get_s(old, name).as_ref() != value {
            changed.insert(name.to_owned());
        }
    }
    if get_n(old, "memberCount") != Some(member_count) {
        changed.insert("memberCount".to_owned());
    }
    changed.extend(changed_profile_keys(old, &group.profile));
    if old.contains_key("removedAt") {
        changed.insert("removedAt".to_owned());
    }
    changed.into_iter().collect()
}

/// Profile keys added, removed or changed. An unreadable stored profile
/// counts as empty, so every current key is reported.
fn changed_profile_keys(old: &Item, profile: &Map<String, Value>) -> Vec<String> {
    let stored: Map<String, Value> = get_s(old, "profileJson")
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut keys: BTreeSet<&String> = stored.keys().collect();
    keys.extend(profile.keys());
    keys.into_iter()
        .filter(|key| stored.get(*key) != profile.get(*key))
        .map(|key| format!("profile.{key}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::items::s;

    fn user(profile: Value) -> OktaUser {
        serde_json::from_value(serde_json::json!({
            "id": "00u1",
            "status": "ACTIVE",
            "lastUpdated": "2026-01-02T00:00:00.000Z",
            "profile": profile,
        }))
        .expect("user")
    }

    #[test]
    fn user_attributes_name_profile_keys() {
        let old = Item::from([
            ("status".to_owned(), s("ACTIVE")),
            ("lastUpdated".to_owned(), s("2026-01-01T00:00:00.000Z")),
            (
                "profileJson".to_owned(),
                s(r#"{"login":"a@example.com","department":"Ops","gone":1}"#),
            ),
        ]);
        let current = user(serde_json::json!({
            "login": "a@example.com",
            "department": "Sales",
            "title": "Lead",
        }));

        let changed = changed_user_attributes(&old, &current);

        assert_eq!(
            changed,
            vec![
                "lastUpdated",
                "profile.department",
                "profile.gone",
                "profile.title"
            ]
        );
    }

    #[test]
    fn returning_user_reports_removed_at() {
        let old = Item::from([
            ("status".to_owned(), s("ACTIVE")),
            ("lastUpdated".to_owned(), s("2026-01-02T00:00:00.000Z")),
            ("profileJson".to_owned(), s("{}")),
            ("removedAt".to_owned(), s("2026-01-03T00:00:00.000Z")),
        ]);

        let changed = changed_user_attributes(&old, &user(serde_json::json!({})));

        assert_eq!(changed, vec!["removedAt"]);
    }
}
