//! User removals with their change log entries. A run and the approval of
//! held removals both go through `remove_and_log`, so the two stay the same.

use super::policy::{apply_user_removals, RemovalCounts};
use super::SyncError;
use crate::domain::ConnectorId;
use crate::lifecycle::Cleanup;
use crate::store::{Change, ChangeAction, Store};

/// Change log entries for users the cleanup policy removes, naming the
/// action (`disable`, `delete`, `anonymize` or `keep`).
pub fn removal_changes(user_ids: &[String], cleanup: Cleanup) -> Vec<Change> {
    let action = serde_json::to_value(cleanup.on_removal)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    user_ids
        .iter()
        .map(|id| Change::user(ChangeAction::Removed, id, None).with_removal(action.clone()))
        .collect()
}

/// Applies the cleanup policy to users who left and logs each removal in
/// the run's change log.
// NOTE: memberships that the policy drops along with the users are counted
// on the Run but get no change log entries of their own.
pub async fn remove_and_log(
    store: &Store,
    connector_id: &ConnectorId,
    run_id: &str,
    user_ids: &[String],
    cleanup: Cleanup,
) -> Result<RemovalCounts, SyncError> {
    let counts = apply_user_removals(store, connector_id, user_ids, cleanup).await?;
    store
        .write_changes(connector_id, run_id, &removal_changes(user_ids, cleanup))
        .await?;
    Ok(counts)
}
