//! A connector's scope, mapping, cleanup and adoption settings in the form a
//! run uses them, and the removal of users under the cleanup policy.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use super::SyncError;
use crate::domain::ConnectorId;
use crate::lifecycle::{
    AdoptMatch, Cleanup, CompiledMapping, CompiledScope, MappedUser, MirroredFields, RemovalAction,
    WhenNoRule,
};
use crate::okta::{OktaClient, OktaGroup, OktaUser, UserSelection};
use crate::records::{AdoptionReport, Connector, MAX_UNMATCHED_LISTED};
use crate::store::{Store, StoreError, UserIndexEntry, OWNED_USER_ATTRIBUTES};

/// The connector's scope, mapping, cleanup and adoption settings, compiled
/// for one run.
pub struct SyncPolicy {
    scope: CompiledScope,
    user_filter: Option<String>,
    user_search: Option<String>,
    mapping: CompiledMapping,
    pub cleanup: Cleanup,
    /// Whether some users Okta lists are left out, so member lists are cut
    /// down to mirrored users.
    limits_users: bool,
    member_allowlist: OnceLock<HashSet<String>>,
    adoption: Option<Mutex<Adoption>>,
}

/// Users of older connectors that a new connector's users may adopt, by
/// lower-cased login or email.
struct Adoption {
    match_on: AdoptMatch,
    candidates: HashMap<String, AdoptedUser>,
}

/// The key, first sync time and foreign attributes a new user takes over
/// from the user it adopts.
#[derive(Debug, Clone)]
pub struct AdoptedUser {
    pub key: String,
    pub first_synced_at: String,
    /// Attributes of the old item that the product does not write.
    pub foreign: HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
}

impl SyncPolicy {
    /// Compiles the connector's settings. Adoption candidates are loaded
    /// only when `adopting` (the connector's first successful sync).
    pub async fn load(
        store: &Store,
        connector: &Connector,
        adopting: bool,
    ) -> Result<Self, SyncError> {
        let scope = CompiledScope::compile(&connector.scope).map_err(SyncError::Settings)?;
        let mapping = CompiledMapping::compile(&connector.mapping).map_err(SyncError::Settings)?;
        let limits_users = connector.scope.limits_users()
            || (connector.mapping.when_no_rule == WhenNoRule::Exclude && !mapping.is_empty());
        let adoption = if adopting && !connector.adopt_from.is_empty() {
            Some(Mutex::new(
                Adoption::load(store, &connector.adopt_from, connector.adopt_match).await?,
            ))
        } else {
            None
        };
        Ok(Self {
            scope,
            user_filter: connector.scope.user_filter.clone(),
            user_search: connector.scope.user_search.clone(),
            mapping,
            cleanup: connector.cleanup,
            limits_users,
            member_allowlist: OnceLock::new(),
            adoption,
        })
    }

    /// First page of the users to read: every user, or the admin's
    /// selection, changed after `since` when given.
    pub fn users_first_page(&self, okta: &OktaClient, since: Option<&str>) -> reqwest::Url {
        let selection = match (&self.user_filter, &self.user_search) {
            (Some(filter), _) => Some(UserSelection::Filter(filter)),
            (None, Some(search)) => Some(UserSelection::Search(search)),
            (None, None) => None,
        };
        match (selection, since) {
            (Some(selection), since) => okta.users_selected(&selection, since),
            (None, Some(since)) => okta.users_changed_since(since),
            (None, None) => okta.users_first_page(),
        }
    }

    /// Tells whether scope or mapping rules leave some users out: group
    /// members are then checked against the users read, and the mirror's
    /// member counts can differ from Okta's.
    pub fn limits_users(&self) -> bool {
        self.limits_users
    }

    pub fn requires_groups(&self) -> bool {
        !self.scope.required_groups.is_empty()
    }

    /// Returns the listed groups that are required groups. A name that
    /// matches no group becomes a warning. When none matches, the run fails,
    /// because an empty scope would remove every user.
    pub fn required_groups<'g>(
        &self,
        groups: &'g [OktaGroup],
        warnings: &mut Vec<String>,
    ) -> Result<Vec<&'g OktaGroup>, SyncError> {
        let found: Vec<&OktaGroup> = groups
            .iter()
            .filter(|group| self.scope.is_required(group))
            .collect();
        for wanted in &self.scope.required_groups {
            let present = found.iter().any(|group| {
                group.id == *wanted
                    || group.profile.get("name").and_then(Value::as_str) == Some(wanted)
            });
            if !present {
                warnings.push(format!(
                    "required group '{wanted}' was not found in Okta (by id or exact name); its members are not in scope"
                ));
            }
        }
        if found.is_empty() {
            return Err(SyncError::Settings(format!(
                "none of the required groups ({}) was found in Okta, so no user would be in scope; fix scope.requiredGroups",
                self.scope.required_groups.join(", ")
            )));
        }
        Ok(found)
    }

    /// Tells whether a member of `groups` is in scope as far as required
    /// groups go.
    pub fn admits_member_of(&self, groups: &[OktaGroup]) -> bool {
        !self.requires_groups() || groups.iter().any(|group| self.scope.is_required(group))
    }

    /// Groups whose names pass the allow and block patterns.
    pub fn mirrored_groups(&self, mut groups: Vec<OktaGroup>) -> Vec<OktaGroup> {
        groups.retain(|group| self.scope.mirrors_group(group));
        groups
    }

    /// Maps a user's profile, or `None` when a rule leaves the user out.
    pub fn map_user(&self, user: &OktaUser) -> Option<MirroredFields> {
        match self.mapping.apply(&user.profile) {
            MappedUser::Mirrored(fields) => Some(fields),
            MappedUser::Excluded => None,
        }
    }

    /// Tells whether mapping rules are set, so the user digest covers their
    /// output.
    pub fn maps_fields(&self) -> bool {
        !self.mapping.is_empty()
    }

    /// Takes the older connectors' user that a new user matches, if any.
    /// Each older user is adopted at most once.
    pub fn adopt(&self, fields: &MirroredFields) -> Option<AdoptedUser> {
        let adoption = self.adoption.as_ref()?;
        let mut adoption = adoption
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let value = fields.match_value(adoption.match_on)?;
        adoption.candidates.remove(&value)
    }

    /// Drops candidates whose key this connector's mirror already contains,
    /// because an earlier invocation of the run adopted them.
    pub fn forget_adopted(&self, index: &HashMap<String, UserIndexEntry>) {
        let Some(adoption) = &self.adoption else {
            return;
        };
        let keys: HashSet<&str> = index.values().map(|entry| entry.key.as_str()).collect();
        let mut adoption = adoption
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        adoption
            .candidates
            .retain(|_, candidate| !keys.contains(candidate.key.as_str()));
    }

    /// Fixes the users whose memberships this run mirrors, once the users
    /// are written. When the scope leaves some users out, these are the
    /// users in the mirror, less those already removed when their
    /// memberships are dropped. Otherwise every member Okta lists is
    /// mirrored. Later calls keep the first list.
    pub fn fix_member_allowlist(&self, index: &HashMap<String, UserIndexEntry>) {
        if !self.limits_users {
            return;
        }
        let keep_removed = !self.cleanup.drop_memberships;
        let allowed = index
            .iter()
            .filter(|(_, entry)| keep_removed || !entry.removed)
            .map(|(id, _)| id.clone())
            .collect();
        let _ = self.member_allowlist.set(allowed);
    }

    /// Tells whether a group member is mirrored: always, until
    /// `fix_member_allowlist` sets a list.
    pub fn mirrors_member(&self, user_id: &str) -> bool {
        self.member_allowlist
            .get()
            .is_none_or(|allowed| allowed.contains(user_id))
    }
}

impl Adoption {
    async fn load(
        store: &Store,
        sources: &[ConnectorId],
        match_on: AdoptMatch,
    ) -> Result<Self, StoreError> {
        let mut candidates = HashMap::new();
        for source in sources {
            for item in store.load_user_items(source).await? {
                let attribute = match match_on {
                    AdoptMatch::Login => "login",
                    AdoptMatch::Email => "email",
                };
                let Some(value) = text(&item, attribute).filter(|value| !value.is_empty()) else {
                    continue;
                };
                let (Some(key), Some(first_synced_at)) =
                    (text(&item, "key"), text(&item, "firstSyncedAt"))
                else {
                    continue;
                };
                let foreign = item
                    .into_iter()
                    .filter(|(name, _)| !OWNED_USER_ATTRIBUTES.contains(&name.as_str()))
                    .collect();
                // The first connector listed in `adoptFrom` wins a tie.
                candidates
                    .entry(value.to_lowercase())
                    .or_insert(AdoptedUser {
                        key,
                        first_synced_at,
                        foreign,
                    });
            }
        }
        Ok(Self {
            match_on,
            candidates,
        })
    }
}

fn text(
    item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
    name: &str,
) -> Option<String> {
    item.get(name).and_then(|value| value.as_s().ok()).cloned()
}

/// Counts of what `apply_user_removals` changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RemovalCounts {
    pub users: u64,
    pub memberships: u64,
}

/// Applies the cleanup policy to mirrored users who left Okta or the scope:
/// - `disable`: status DEPROVISIONED and `removedAt`;
/// - `delete`: the item and the user's memberships are deleted;
/// - `anonymize`: personal fields cleared, id and key kept, `removedAt` set;
/// - `keep`: the user stays listed as last synced, with `leftAt`.
///
/// With `dropMemberships` the memberships of users who stay are deleted
/// too. A user who comes back is rewritten from Okta with the same key,
/// except after `delete`, which keeps nothing to come back to.
pub async fn apply_user_removals(
    store: &Store,
    connector_id: &ConnectorId,
    ids: &[String],
    cleanup: Cleanup,
) -> Result<RemovalCounts, StoreError> {
    let now = crate::records::now_rfc3339();
    let mut memberships = 0;
    match cleanup.on_removal {
        RemovalAction::Disable => store.disable_users(connector_id, ids, &now).await?,
        RemovalAction::Anonymize => store.anonymize_users(connector_id, ids, &now).await?,
        RemovalAction::Keep => store.keep_left_users(connector_id, ids, &now).await?,
        RemovalAction::Delete => memberships += store.delete_users(connector_id, ids).await?,
    }
    if cleanup.drop_memberships && cleanup.on_removal != RemovalAction::Delete {
        for id in ids {
            memberships += store.drop_user_memberships(connector_id, id).await?;
        }
    }
    tracing::info!(
        connector_id = %connector_id,
        users = ids.len(),
        memberships,
        action = ?cleanup.on_removal,
        "applied the cleanup policy to users who left"
    );
    Ok(RemovalCounts {
        users: ids.len() as u64,
        memberships,
    })
}

/// Compares the adopted connectors' users with this connector's mirror
/// after a run: an older user whose key this mirror contains was adopted.
pub async fn adoption_report(
    store: &Store,
    connector: &Connector,
) -> Result<AdoptionReport, StoreError> {
    let index = store.load_user_index(&connector.id).await?;
    let keys: HashSet<String> = index.into_values().map(|entry| entry.key).collect();
    let mut report = AdoptionReport::default();
    for source in &connector.adopt_from {
        for item in store.load_user_items(source).await? {
            let Some(key) = text(&item, "key") else {
                continue;
            };
            if keys.contains(&key) {
                report.adopted += 1;
            } else if !item.contains_key("removedAt") {
                report.unmatched_count += 1;
                if report.unmatched.len() < MAX_UNMATCHED_LISTED {
                    let login = text(&item, "login")
                        .unwrap_or_else(|| text(&item, "sk").unwrap_or_default());
                    report.unmatched.push(login);
                }
            }
        }
    }
    Ok(report)
}
