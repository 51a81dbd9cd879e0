//! Changes to an org, each stamping `lastUpdated` / `lastMembershipUpdated`
//! the way Okta does.

use std::collections::BTreeSet;

use rand::seq::index;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::generate::{new_group, random_group_profile, random_profile};
use crate::model::{
    random_id, to_okta_precision, GroupType, Org, OrgError, Timestamp, User, UserStatus,
};
use crate::profile::Profile;
use crate::system_log::{LogTarget, MEMBERSHIP_ADD, MEMBERSHIP_REMOVE, USER_DELETE};

/// Counts of what [`Org::mutate_share`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MutationSummary {
    pub profile_updates: usize,
    pub login_changes: usize,
    pub status_changes: usize,
    pub users_created: usize,
    pub users_deleted: usize,
    pub groups_created: usize,
    pub groups_renamed: usize,
    pub groups_deleted: usize,
    pub memberships_added: usize,
    pub memberships_removed: usize,
}

impl Org {
    /// Creates an ACTIVE user with a generated profile, overlaid with `overrides`,
    /// and adds it to the Everyone group. Returns the new user's id.
    pub fn create_user(
        &mut self,
        overrides: Map<String, Value>,
        now: Timestamp,
    ) -> Result<String, OrgError> {
        let now = to_okta_precision(now);
        let serial = self.next_serial;
        self.next_serial += 1;
        let mut profile = random_profile(&mut self.rng, serial);
        for (key, value) in overrides {
            profile.insert(key, value);
        }
        profile.shrink_to_fit();

        let login = match profile.get("login") {
            Some(Value::String(login)) if !login.is_empty() => login.to_lowercase(),
            _ => {
                return Err(OrgError::InvalidProfile(
                    "profile.login must be a non-empty string".to_string(),
                ))
            }
        };
        if self.logins.contains_key(&login) {
            return Err(OrgError::DuplicateLogin(login));
        }

        let id = loop {
            let candidate = random_id(&mut self.rng, "00u");
            if !self.users.contains_key(&candidate) {
                break candidate;
            }
        };
        let user = User {
            id: id.clone(),
            status: UserStatus::Active,
            created: now,
            activated: Some(now),
            status_changed: Some(now),
            last_login: None,
            last_updated: now,
            password_changed: Some(now),
            type_id: self.user_type_id.clone(),
            profile,
        };
        self.logins.insert(login, id.clone());
        self.users.insert(id.clone(), user);

        let everyone_id = self.everyone_id.clone();
        if let Some(everyone) = self.groups.get_mut(&everyone_id) {
            everyone.members.insert(id.clone());
            everyone.last_membership_updated = now;
        }
        Ok(id)
    }

    /// Sets one profile attribute (JSON null included) and stamps `lastUpdated`.
    pub fn update_user_profile(
        &mut self,
        id: &str,
        key: &str,
        value: Value,
        now: Timestamp,
    ) -> Result<(), OrgError> {
        let user = self
            .users
            .get(id)
            .ok_or_else(|| OrgError::UserNotFound(id.to_string()))?;
        if key == "login" {
            let new_login = match &value {
                Value::String(login) if !login.is_empty() => login.to_lowercase(),
                _ => {
                    return Err(OrgError::InvalidProfile(
                        "profile.login must be a non-empty string".to_string(),
                    ))
                }
            };
            let old_login = user.login().to_lowercase();
            if new_login != old_login {
                if self.logins.contains_key(&new_login) {
                    return Err(OrgError::DuplicateLogin(new_login));
                }
                self.logins.remove(&old_login);
                self.logins.insert(new_login, id.to_string());
            }
        }
        if let Some(user) = self.users.get_mut(id) {
            user.profile.insert(key.to_string(), value);
            user.profile.shrink_to_fit();
            user.last_updated = to_okta_precision(now);
        }
        Ok(())
    }

    /// Moves a user to `status`. DEPROVISIONED is Okta's deactivation: the user
    /// keeps its group memberships. Setting the current status changes nothing.
    pub fn set_user_status(
        &mut self,
        id: &str,
        status: UserStatus,
        now: Timestamp,
    ) -> Result<(), OrgError> {
        let now = to_okta_precision(now);
        let user = self
            .users
            .get_mut(id)
            .ok_or_else(|| OrgError::UserNotFound(id.to_string()))?;
        if user.status == status {
            return Ok(());
        }
        if status == UserStatus::Active && user.activated.is_none() {
            user.activated = Some(now);
        }
        if status.was_activated() && user.password_changed.is_none() {
            user.password_changed = Some(now);
        }
        user.status = status;
        user.status_changed = Some(now);
        user.last_updated = now;
        Ok(())
    }

    /// Deletes a user outright, removing it from every group that held it.
    /// The System Log gets a deletion event but no membership events.
    pub fn delete_user(&mut self, id: &str, now: Timestamp) -> Result<(), OrgError> {
        let stamp = to_okta_precision(now);
        let user = self
            .users
            .remove(id)
            .ok_or_else(|| OrgError::UserNotFound(id.to_string()))?;
        self.logins.remove(&user.login().to_lowercase());
        for group in self.groups.values_mut() {
            if group.members.remove(id) {
                group.last_membership_updated = stamp;
            }
        }
        self.log.record(
            USER_DELETE,
            "Delete Okta user",
            vec![LogTarget::user(&user)],
            now,
        );
        Ok(())
    }

    /// Creates an empty OKTA_GROUP named `name` and returns its id.
    pub fn create_group(&mut self, name: &str, now: Timestamp) -> String {
        let now = to_okta_precision(now);
        let id = loop {
            let candidate = random_id(&mut self.rng, "00g");
            if !self.groups.contains_key(&candidate) {
                break candidate;
            }
        };
        let mut profile = Profile::new();
        profile.insert("name", json!(name));
        profile.insert("description", Value::Null);
        let mut group = new_group(
            &mut self.rng,
            id.clone(),
            GroupType::OktaGroup,
            profile,
            BTreeSet::new(),
            now,
            now,
        );
        group.last_updated = now;
        group.last_membership_updated = now;
        self.groups.insert(id.clone(), group);
        id
    }

    pub fn rename_group(&mut self, id: &str, name: &str, now: Timestamp) -> Result<(), OrgError> {
        self.update_group_profile(id, "name", json!(name), now)
    }

    /// Sets one group profile attribute and stamps the group's `lastUpdated`.
    pub fn update_group_profile(
        &mut self,
        id: &str,
        key: &str,
        value: Value,
        now: Timestamp,
    ) -> Result<(), OrgError> {
        let group = self.editable_group(id)?;
        group.profile.insert(key.to_string(), value);
        group.last_updated = to_okta_precision(now);
        Ok(())
    }

    pub fn delete_group(&mut self, id: &str) -> Result<(), OrgError> {
        self.editable_group(id)?;
        self.groups.remove(id);
        Ok(())
    }

    /// Adds a user to a group. Returns whether the membership is new; only a
    /// new one stamps `lastMembershipUpdated` and gets a System Log event.
    pub fn add_member(
        &mut self,
        group_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<bool, OrgError> {
        if !self.users.contains_key(user_id) {
            return Err(OrgError::UserNotFound(user_id.to_string()));
        }
        let group = self.editable_group(group_id)?;
        let added = group.members.insert(user_id.to_string());
        if added {
            group.last_membership_updated = to_okta_precision(now);
            self.record_membership(
                MEMBERSHIP_ADD,
                "Add user to group membership",
                group_id,
                user_id,
                now,
            );
        }
        Ok(added)
    }

    /// Removes a user from a group and records the event when it was a
    /// member. Returns whether it was a member.
    pub fn remove_member(
        &mut self,
        group_id: &str,
        user_id: &str,
        now: Timestamp,
    ) -> Result<bool, OrgError> {
        let group = self.editable_group(group_id)?;
        let removed = group.members.remove(user_id);
        if removed {
            group.last_membership_updated = to_okta_precision(now);
            self.record_membership(
                MEMBERSHIP_REMOVE,
                "Remove user from group membership",
                group_id,
                user_id,
                now,
            );
        }
        Ok(removed)
    }

    /// Records a membership event with the user and the group as targets,
    /// published at `now` with its milliseconds.
    fn record_membership(
        &mut self,
        event_type: &'static str,
        display_message: &'static str,
        group_id: &str,
        user_id: &str,
        now: Timestamp,
    ) {
        let (Some(user), Some(group)) = (self.users.get(user_id), self.groups.get(group_id)) else {
            return;
        };
        let targets = vec![LogTarget::user(user), LogTarget::group(group)];
        self.log.record(event_type, display_message, targets, now);
    }

    fn editable_group(&mut self, id: &str) -> Result<&mut crate::model::Group, OrgError> {
        if id == self.everyone_id {
            return Err(OrgError::BuiltInGroup(id.to_string()));
        }
        self.groups
            .get_mut(id)
            .ok_or_else(|| OrgError::GroupNotFound(id.to_string()))
    }

    /// Changes about `share` (0.0 to 1.0) of the users and of the groups at
    /// random: profile edits, login and status changes, memberships added and
    /// removed, and a few users and groups created and deleted. The same seed
    /// on the same org makes the same changes.
    pub fn mutate_share(&mut self, seed: u64, share: f64, now: Timestamp) -> MutationSummary {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let share = if share.is_finite() {
            share.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let mut summary = MutationSummary::default();
        if share == 0.0 {
            return summary;
        }

        let user_ids: Vec<String> = self.users.keys().cloned().collect();
        let touched_users = touched_count(user_ids.len(), share);
        for position in index::sample(&mut rng, user_ids.len(), touched_users) {
            self.mutate_user(&mut rng, &user_ids[position], now, &mut summary);
        }
        let creates = (touched_users / 20).max(1);
        for _ in 0..creates {
            if self.create_user(Map::new(), now).is_ok() {
                summary.users_created += 1;
            }
        }

        let group_ids: Vec<String> = self
            .groups
            .keys()
            .filter(|id| **id != self.everyone_id)
            .cloned()
            .collect();
        let touched_groups = touched_count(group_ids.len(), share);
        for position in index::sample(&mut rng, group_ids.len(), touched_groups) {
            self.mutate_group(&mut rng, &group_ids[position], now, &mut summary);
        }
        let group_creates = (touched_groups / 20).max(1);
        for _ in 0..group_creates {
            let serial = self.next_serial;
            self.next_serial += 1;
            let profile = random_group_profile(&mut rng, GroupType::OktaGroup, serial);
            let name = profile
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("New group")
                .to_string();
            let id = self.create_group(&name, now);
            summary.groups_created += 1;
            let members = rng.random_range(0..4);
            self.add_random_members(&mut rng, &id, members, now, &mut summary);
        }
        summary
    }

    fn mutate_user(
        &mut self,
        rng: &mut ChaCha8Rng,
        id: &str,
        now: Timestamp,
        summary: &mut MutationSummary,
    ) {
        let roll = rng.random_range(0..100);
        match roll {
            0..=49 => {
                let (key, value) = random_profile_edit(rng);
                if self.update_user_profile(id, key, value, now).is_ok() {
                    summary.profile_updates += 1;
                }
            }
            50..=54 => {
                let serial = self.next_serial;
                self.next_serial += 1;
                let login = format!("renamed.{serial}@example.com");
                if self
                    .update_user_profile(id, "login", json!(login), now)
                    .is_ok()
                {
                    summary.login_changes += 1;
                }
            }
            55..=74 => {
                let status = random_new_status(rng);
                let changed = self.users.get(id).is_some_and(|user| user.status != status);
                if changed && self.set_user_status(id, status, now).is_ok() {
                    summary.status_changes += 1;
                }
            }
            75..=94 => {
                let groups = self.groups_of(id);
                let removable: Vec<&String> =
                    groups.iter().filter(|g| **g != self.everyone_id).collect();
                if !removable.is_empty() && rng.random_bool(0.5) {
                    let group = removable[rng.random_range(0..removable.len())].clone();
                    if self.remove_member(&group, id, now).unwrap_or(false) {
                        summary.memberships_removed += 1;
                    }
                } else if let Some(group) = self.random_group_id(rng) {
                    if self.add_member(&group, id, now).unwrap_or(false) {
                        summary.memberships_added += 1;
                    }
                }
            }
            _ => {
                if self.delete_user(id, now).is_ok() {
                    summary.users_deleted += 1;
                }
            }
        }
    }

    fn mutate_group(
        &mut self,
        rng: &mut ChaCha8Rng,
        id: &str,
        now: Timestamp,
        summary: &mut MutationSummary,
    ) {
        let roll = rng.random_range(0..100);
        match roll {
            0..=29 => {
                let name = match self.groups.get(id) {
                    Some(group) => format!("{} (renamed {})", group.name(), self.next_serial),
                    None => return,
                };
                self.next_serial += 1;
                if self.rename_group(id, &name, now).is_ok() {
                    summary.groups_renamed += 1;
                }
            }
            30..=39 => {
                let description =
                    json!(format!("Edited description {}", rng.random_range(0..1000)));
                if self
                    .update_group_profile(id, "description", description, now)
                    .is_ok()
                {
                    summary.groups_renamed += 1;
                }
            }
            40..=93 => {
                let members: Vec<String> = match self.groups.get(id) {
                    Some(group) => group.members.iter().cloned().collect(),
                    None => return,
                };
                let removals = rng.random_range(0..=members.len().min(3));
                for position in index::sample(rng, members.len(), removals) {
                    if self
                        .remove_member(id, &members[position], now)
                        .unwrap_or(false)
                    {
                        summary.memberships_removed += 1;
                    }
                }
                let additions = rng.random_range(1..=5);
                self.add_random_members(rng, id, additions, now, summary);
            }
            _ => {
                if self.delete_group(id).is_ok() {
                    summary.groups_deleted += 1;
                }
            }
        }
    }

    fn add_random_members(
        &mut self,
        rng: &mut ChaCha8Rng,
        group_id: &str,
        count: usize,
        now: Timestamp,
        summary: &mut MutationSummary,
    ) {
        if self.users.is_empty() {
            return;
        }
        for _ in 0..count {
            let position = rng.random_range(0..self.users.len());
            let Some(user_id) = self.users.keys().nth(position).cloned() else {
                continue;
            };
            if self.add_member(group_id, &user_id, now).unwrap_or(false) {
                summary.memberships_added += 1;
            }
        }
    }

    fn random_group_id(&self, rng: &mut ChaCha8Rng) -> Option<String> {
        let count = self.groups.len().saturating_sub(1);
        if count == 0 {
            return None;
        }
        self.groups
            .keys()
            .filter(|id| **id != self.everyone_id)
            .nth(rng.random_range(0..count))
            .cloned()
    }
}

fn touched_count(total: usize, share: f64) -> usize {
    if total == 0 {
        return 0;
    }
    ((total as f64 * share).round() as usize).clamp(1, total)
}

fn random_profile_edit(rng: &mut ChaCha8Rng) -> (&'static str, Value) {
    match rng.random_range(0..8) {
        0 => (
            "title",
            json!(format!("Title v{}", rng.random_range(0..1000))),
        ),
        1 => (
            "department",
            json!(["Engineering", "Sales", "開発部", "المالية"][rng.random_range(0..4)]),
        ),
        2 => ("costCenter", json!(rng.random_range(1000..9999))),
        3 => ("mobilePhone", Value::Null),
        4 => ("skills", json!(["rust", "edited"])),
        5 => (
            "displayName",
            json!(format!("Renamed 🎈 {}", rng.random_range(0..1000))),
        ),
        6 => ("fte", json!(0.6)),
        _ => ("isContractor", json!(rng.random_bool(0.5))),
    }
}

fn random_new_status(rng: &mut ChaCha8Rng) -> UserStatus {
    match rng.random_range(0..10) {
        0..=2 => UserStatus::Deprovisioned,
        3..=4 => UserStatus::Suspended,
        5 => UserStatus::LockedOut,
        6 => UserStatus::PasswordExpired,
        _ => UserStatus::Active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{generate_org, OrgSpec};
    use chrono::{Duration as TimeDelta, Utc};

    #[test]
    fn create_and_delete_user_touch_everyone() {
        let mut org = generate_org(&OrgSpec::small());
        let now = to_okta_precision(Utc::now());
        let id = org
            .create_user(
                Map::from_iter([("login".to_string(), json!("New.Person@Example.com"))]),
                now,
            )
            .expect("create the user");
        let everyone = org.everyone().expect("Everyone exists");
        assert!(everyone.members.contains(&id));
        assert_eq!(everyone.last_membership_updated, now);
        assert_eq!(
            org.user_by_login("new.person@example.com")
                .map(|u| u.id.clone()),
            Some(id.clone())
        );

        let later = now + TimeDelta::seconds(5);
        org.delete_user(&id, later).expect("delete the user");
        let everyone = org.everyone().expect("Everyone exists");
        assert!(!everyone.members.contains(&id));
        assert_eq!(everyone.last_membership_updated, later);
        assert!(org.user_by_login("new.person@example.com").is_none());
    }

    #[test]
    fn duplicate_login_rejected() {
        let mut org = generate_org(&OrgSpec::small());
        let existing = org
            .users()
            .next()
            .map(|u| u.login().to_uppercase())
            .unwrap_or_default();
        let result = org.create_user(
            Map::from_iter([("login".to_string(), json!(existing))]),
            Utc::now(),
        );
        assert!(
            matches!(result, Err(OrgError::DuplicateLogin(_))),
            "{result:?}"
        );
    }

    #[test]
    fn membership_change_stamps_group_only() {
        let mut org = generate_org(&OrgSpec::small());
        let now = to_okta_precision(Utc::now());
        let group_id = org.create_group("Fresh", now);
        let user = org.users().next().cloned().expect("a user");
        let later = now + TimeDelta::seconds(3);
        assert_eq!(org.add_member(&group_id, &user.id, later), Ok(true));
        assert_eq!(
            org.add_member(&group_id, &user.id, later + TimeDelta::seconds(1)),
            Ok(false)
        );
        let group = org.group(&group_id).expect("group exists");
        assert_eq!(group.last_membership_updated, later);
        assert_eq!(group.last_updated, now);
        assert_eq!(
            org.user(&user.id).map(|u| u.last_updated),
            Some(user.last_updated)
        );
    }

    #[test]
    fn everyone_cannot_be_edited() {
        let mut org = generate_org(&OrgSpec::small());
        let everyone = org.everyone_id().to_string();
        assert!(matches!(
            org.delete_group(&everyone),
            Err(OrgError::BuiltInGroup(_))
        ));
        assert!(matches!(
            org.rename_group(&everyone, "Nobody", Utc::now()),
            Err(OrgError::BuiltInGroup(_))
        ));
    }

    #[test]
    fn mutate_share_is_deterministic() {
        let now = to_okta_precision(Utc::now());
        let mut first = generate_org(&OrgSpec::demo());
        let mut second = first.clone();
        let first_summary = first.mutate_share(7, 0.02, now);
        let second_summary = second.mutate_share(7, 0.02, now);
        assert_eq!(first_summary, second_summary);
        assert!(first_summary.profile_updates > 0, "{first_summary:?}");
        assert!(first_summary.status_changes > 0, "{first_summary:?}");
        assert!(first_summary.memberships_added > 0, "{first_summary:?}");
        assert!(first_summary.users_created > 0, "{first_summary:?}");
        let changed = first.users().filter(|u| u.last_updated == now).count();
        let expected = first_summary.profile_updates
            + first_summary.login_changes
            + first_summary.status_changes
            + first_summary.users_created;
        assert!(
            changed <= expected,
            "changed {changed}, expected at most {expected}"
        );
        assert!(changed > 0);
    }
}
