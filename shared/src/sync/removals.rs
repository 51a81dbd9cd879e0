//! Removal of users who left Okta or the connector's scope. Both a run
//! and the approval of held removals go through `apply_user_removals`, so
//! the two stay the same.

use super::SyncError;
use crate::lifecycle::RemovalAction;
use crate::records::Connector;
use crate::store::{Change, ChangeAction, Store};

/// Names the action `apply_user_removals` takes for this connector, as the
/// change log shows it (a dry run logs it without removing anything).
pub fn removal_action(connector: &Connector) -> &'static str {
    match connector.cleanup.on_removal {
        RemovalAction::Disable => "disable",
        RemovalAction::Delete => "delete",
        RemovalAction::Anonymize => "anonymize",
        RemovalAction::Keep => "keep",
    }
}

/// Applies the connector's cleanup policy to users who left, and returns
/// one change log entry per user naming the action, plus one per
/// membership deleted:
/// - `disable`: status DEPROVISIONED and `removedAt`;
/// - `delete`: the item and the user's memberships are deleted;
/// - `anonymize`: personal fields cleared, id and key kept, `removedAt` set;
/// - `keep`: the user stays listed as last synced, with `leftAt`.
///
/// With `dropMemberships` the memberships of users who stay are deleted
/// too. A user who comes back is rewritten from Okta with the same key and
/// `firstSyncedAt`, except after `delete`, which keeps nothing to return to.
pub async fn apply_user_removals(
    store: &Store,
    connector: &Connector,
    user_ids: &[String],
    removed_at: &str,
) -> Result<Vec<Change>, SyncError> {
    let connector_id = &connector.id;
    let cleanup = connector.cleanup;
    let mut changes = Vec::new();
    let drops_memberships = cleanup.drop_memberships || cleanup.on_removal == RemovalAction::Delete;
    if drops_memberships {
        // Memberships go first: a delete leaves no item to find them by.
        for user_id in user_ids {
            let groups = store.drop_user_memberships(connector_id, user_id).await?;
            changes.extend(
                groups
                    .iter()
                    .map(|group_id| Change::membership(ChangeAction::Removed, group_id, user_id)),
            );
        }
    }
    match cleanup.on_removal {
        RemovalAction::Disable => {
            store
                .disable_users(connector_id, user_ids, removed_at)
                .await?
        }
        RemovalAction::Anonymize => {
            store
                .anonymize_users(connector_id, user_ids, removed_at)
                .await?
        }
        RemovalAction::Keep => {
            store
                .keep_left_users(connector_id, user_ids, removed_at)
                .await?
        }
        RemovalAction::Delete => store.delete_users(connector_id, user_ids).await?,
    }
    tracing::info!(
        connector_id = %connector_id,
        users = user_ids.len(),
        memberships = changes.len(),
        action = removal_action(connector),
        "applied the cleanup policy to users who left"
    );
    let action = removal_action(connector);
    changes.extend(
        user_ids
            .iter()
            .map(|user_id| Change::user(ChangeAction::Removed, user_id, None).with_removal(action)),
    );
    Ok(changes)
}
