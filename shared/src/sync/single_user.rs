//! Refresh of one user and their memberships outside a run, for applications
//! that want fresh data when a person signs in.
//!
//! The user is read from Okta by id or login, then their groups. The user
//! item is written with the digest and item shape a full sync writes: a new
//! user gets a new key, and a mirrored user (removed or not) keeps its key
//! and `firstSyncedAt` and loses `removedAt`. Memberships are added and
//! removed so that the user's mirrored groups equal the groups Okta lists,
//! among the groups the mirror has and has not marked removed. Groups the
//! mirror does not have yet are reported, not created: the next sync adds
//! them with their members.
//!
//! The connector's mapping rules and required groups apply as in a run: a
//! user they leave out is not written, and the response gives the reason.
//! Group allow and block patterns apply through the mirror, which contains
//! only allowed groups.
// NOTE: `scope.userFilter` and `scope.userSearch` are not checked here; a
// user outside them is refreshed and left to the next full sync's cleanup.

use std::collections::HashSet;

use serde::Serialize;

use super::{apply_user_removals, SyncPolicy};
use crate::domain::ConnectorId;
use crate::lifecycle::Cleanup;
use crate::lifecycle::MirroredFields;
use crate::okta::{OktaClient, OktaError, OktaUser};
use crate::records::{now_rfc3339, Connector, UserRecord};
use crate::store::{mapped_user_hash, Store, StoreError, UserIndexEntry};
use crate::store::{UserItemCondition, UserRefresh};

/// Changes made by one refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshOutcome {
    /// `created`, `updated`, `restored` (it had `removedAt`) or `unchanged`.
    pub user: &'static str,
    pub memberships_added: Vec<String>,
    pub memberships_removed: Vec<String>,
    /// Groups Okta lists for the user that the mirror does not have (or has
    /// marked removed); the next sync mirrors them.
    pub groups_not_mirrored: Vec<String>,
}

/// The refreshed user, with the ids of their mirrored groups, and what
/// changed.
#[derive(Debug, Clone, PartialEq)]
pub struct SingleUserSync {
    pub user: UserRecord,
    pub outcome: RefreshOutcome,
}

#[derive(Debug, thiserror::Error)]
pub enum SingleUserError {
    #[error("Okta has no user with the id or login '{login_or_id}'")]
    UserNotFound {
        login_or_id: String,
        /// The value was the id of a mirrored user, now marked removed.
        marked_removed: bool,
    },
    #[error("the user is not in the mirror yet and run {run_id} of this connector is queued or running; that run adds the user")]
    SyncRunning { run_id: String },
    #[error("user '{login_or_id}' is outside the connector's scope: {reason}")]
    OutOfScope { login_or_id: String, reason: String },
    #[error("the connector's settings cannot be applied: {0}")]
    Settings(String),
    #[error("the connector was deleted")]
    ConnectorDeleted,
    #[error("the user's items were changed by another writer twice while they were refreshed")]
    Conflict,
    #[error(transparent)]
    Okta(#[from] OktaError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refreshes one user from Okta. `login_or_id` is an Okta user id, a login
/// or a login short name, already checked by the caller.
pub async fn sync_one_user(
    store: &Store,
    okta: &OktaClient,
    connector: &Connector,
    login_or_id: &str,
) -> Result<SingleUserSync, SingleUserError> {
    let connector_id = &connector.id;
    let policy = SyncPolicy::load(store, connector, false)
        .await
        .map_err(|error| SingleUserError::Settings(error.to_string()))?;
    let user = match okta.get_user(login_or_id).await {
        Ok(user) => user,
        Err(OktaError::NotFound { .. }) => {
            let marked_removed =
                remove_missing_user(store, connector_id, login_or_id, connector.cleanup).await?;
            return Err(SingleUserError::UserNotFound {
                login_or_id: login_or_id.to_owned(),
                marked_removed,
            });
        }
        Err(error) => return Err(error.into()),
    };
    let user_groups = okta.user_groups(&user.id).await?;
    let out_of_scope = |reason: &str| SingleUserError::OutOfScope {
        login_or_id: login_or_id.to_owned(),
        reason: reason.to_owned(),
    };
    if !policy.admits_member_of(&user_groups) {
        return Err(out_of_scope("the user is in none of scope.requiredGroups"));
    }
    let fields = policy
        .map_user(&user)
        .ok_or_else(|| out_of_scope("no mapping rule applies and mapping.whenNoRule is exclude"))?;
    let hash = mapped_user_hash(&user, policy.maps_fields().then_some(&fields));
    let okta_groups: Vec<String> = user_groups.into_iter().map(|group| group.id).collect();
    let mirrored = store.live_group_ids(connector_id, &okta_groups).await?;
    let mut groups_not_mirrored: Vec<String> = okta_groups
        .iter()
        .filter(|id| !mirrored.contains(*id))
        .cloned()
        .collect();
    groups_not_mirrored.sort();
    groups_not_mirrored.dedup();

    // A condition that fails means a run wrote the same items in between:
    // read again and retry once.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match write_user(store, connector_id, (&user, &fields, &hash), &mirrored).await {
            Ok((user, mut outcome)) => {
                outcome.groups_not_mirrored = groups_not_mirrored;
                tracing::info!(
                    connector_id = %connector_id,
                    user_id = user.id,
                    change = outcome.user,
                    memberships_added = outcome.memberships_added.len(),
                    memberships_removed = outcome.memberships_removed.len(),
                    groups_not_mirrored = outcome.groups_not_mirrored.len(),
                    "refreshed one user"
                );
                return Ok(SingleUserSync { user, outcome });
            }
            Err(StoreError::Conflict) => {
                explain_conflict(store, connector_id, &user.id).await?;
                if attempt >= 2 {
                    return Err(SingleUserError::Conflict);
                }
                tracing::info!(connector_id = %connector_id, user_id = user.id, "user items changed during the refresh, reading them again");
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// Writes the user item and the membership changes, and returns the user as
/// the API shows it.
async fn write_user(
    store: &Store,
    connector_id: &ConnectorId,
    (user, fields, hash): (&OktaUser, &MirroredFields, &str),
    mirrored_groups: &HashSet<String>,
) -> Result<(UserRecord, RefreshOutcome), StoreError> {
    let hash = hash.to_owned();
    let existing = store.get_user_entry(connector_id, &user.id).await?;
    let (entry, change, condition) = match existing {
        None => (
            UserIndexEntry {
                hash,
                key: uuid::Uuid::new_v4().to_string(),
                first_synced_at: now_rfc3339(),
                removed: false,
            },
            "created",
            Some(UserItemCondition::New),
        ),
        Some(existing) if existing.hash == hash && !existing.removed => {
            (existing, "unchanged", None)
        }
        Some(existing) => {
            let change = if existing.removed {
                "restored"
            } else {
                "updated"
            };
            let condition = UserItemCondition::Existing {
                key: existing.key.clone(),
            };
            let entry = UserIndexEntry {
                hash,
                removed: false,
                ..existing
            };
            (entry, change, Some(condition))
        }
    };
    let item = Store::user_item(connector_id, user, fields, &entry);

    let current = store
        .memberships_of(connector_id, &user.id, mirrored_groups)
        .await?;
    let mut add_to: Vec<String> = mirrored_groups.difference(&current).cloned().collect();
    let mut remove_from: Vec<String> = current.difference(mirrored_groups).cloned().collect();
    add_to.sort();
    remove_from.sort();

    let refresh = UserRefresh {
        user: condition.map(|condition| (item.clone(), condition)),
        add_to: add_to.clone(),
        remove_from: remove_from.clone(),
    };
    store
        .write_user_refresh(connector_id, &user.id, refresh)
        .await?;

    let mut record = Store::user_record_of(&item)?;
    let mut groups: Vec<String> = mirrored_groups.iter().cloned().collect();
    groups.sort();
    record.groups = Some(groups);
    let outcome = RefreshOutcome {
        user: change,
        memberships_added: add_to,
        memberships_removed: remove_from,
        groups_not_mirrored: Vec::new(),
    };
    Ok((record, outcome))
}

/// Turns a failed write condition into the error that explains it, or
/// returns `Ok` when a retry may succeed.
async fn explain_conflict(
    store: &Store,
    connector_id: &ConnectorId,
    user_id: &str,
) -> Result<(), SingleUserError> {
    if store.get_connector(connector_id).await?.is_none() {
        return Err(SingleUserError::ConnectorDeleted);
    }
    if store.get_user_entry(connector_id, user_id).await?.is_none() {
        if let Some(run_id) = store.lease_holder(connector_id).await? {
            return Err(SingleUserError::SyncRunning { run_id });
        }
    }
    Ok(())
}

/// Handles Okta's 404. Okta user ids never change, so a 404 for the id of a
/// mirrored user means the user was deleted in Okta: the mirror marks it
/// removed and drops its memberships, as a full sync would. A login can
/// change, so a 404 for a login marks nothing; the next full sync decides.
/// Returns whether a user was marked removed.
async fn remove_missing_user(
    store: &Store,
    connector_id: &ConnectorId,
    login_or_id: &str,
    cleanup: Cleanup,
) -> Result<bool, SingleUserError> {
    let Some(entry) = store.get_user_entry(connector_id, login_or_id).await? else {
        return Ok(false);
    };
    if entry.removed {
        return Ok(false);
    }
    let groups = store
        .memberships_of(connector_id, login_or_id, &HashSet::new())
        .await?;
    let refresh = UserRefresh {
        user: None,
        add_to: Vec::new(),
        remove_from: groups.into_iter().collect(),
    };
    match store
        .write_user_refresh(connector_id, login_or_id, refresh)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            explain_conflict(store, connector_id, login_or_id).await?;
            return Err(SingleUserError::Conflict);
        }
        Err(error) => return Err(error.into()),
    }
    // The connector's cleanup policy decides what removal means, as in a
    // full run: a later run skips users that already carry `removedAt`.
    apply_user_removals(store, connector_id, &[login_or_id.to_owned()], cleanup).await?;
    tracing::info!(connector_id = %connector_id, user_id = login_or_id, action = ?cleanup.on_removal, "Okta no longer has the user; applied the cleanup policy");
    Ok(true)
}
