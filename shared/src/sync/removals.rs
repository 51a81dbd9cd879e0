//! What happens to users who left Okta. Both a run and the approval of held
//! removals go through `apply_user_removals`, so the two stay the same.

use super::SyncError;
use crate::records::Connector;
use crate::store::{Change, ChangeAction, Store};

/// The cleanup action this module applies: the user keeps their item,
/// marked with `removedAt`.
const DISABLE: &str = "disable";

/// Names the action `apply_user_removals` takes for this connector, for the
/// change log of a dry run, which removes nothing.
pub fn removal_action(_connector: &Connector) -> &'static str {
    DISABLE
}

/// Applies the connector's cleanup to users who left Okta, and returns one
/// change log entry per user naming the action taken.
// NOTE: every user is disabled (marked `removedAt`); cleanup policies that
// delete or anonymize are meant to extend this function.
pub async fn apply_user_removals(
    store: &Store,
    connector: &Connector,
    user_ids: &[String],
    removed_at: &str,
) -> Result<Vec<Change>, SyncError> {
    let users_partition = Store::users_partition(&connector.id);
    store
        .mark_removed(users_partition, user_ids, removed_at)
        .await?;
    Ok(user_ids
        .iter()
        .map(|user_id| {
            Change::user(ChangeAction::Removed, user_id, None)
                .with_removal(removal_action(connector))
        })
        .collect())
}
