//! Deciding on user removals that a run held because they exceeded the
//! connector's deletion guard.
//!
//! A hold never blocks later runs. At most one hold per connector waits for
//! a decision: when a later run (not a dry run) succeeds or holds removals
//! of its own, the earlier hold is superseded, because the later run read
//! Okta more recently. A superseded run ends `succeeded` with
//! `approval.decision = "superseded"`, and approving it is rejected.

use super::removals::remove_and_log;
use super::{SyncError, RUNNING_LEASE_SECONDS};
use crate::records::{now_rfc3339, ApprovalDecision, Connector, Run, RunStatus};
use crate::store::{Change, ChangeAction, LeaseOutcome, Store, StoreError};

/// Held removals applied or dropped per batch.
const BATCH: usize = 500;

#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("run {run_id} of this connector was not found")]
    RunNotFound { run_id: String },
    #[error(
        "run {run_id} has no removals waiting for approval (its status is {status}{decision})"
    )]
    NotPending {
        run_id: String,
        status: String,
        decision: String,
    },
    #[error("the removals held by run {run_id} are stale: run {later_run_id} finished after it and read Okta more recently. Review that run instead; if it holds removals, approve or discard those")]
    Stale {
        run_id: String,
        later_run_id: String,
    },
    #[error("run {holder} of this connector is queued or running; decide on the held removals after it ends")]
    Busy { holder: String },
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies the user removals run `run_id` held, through the connector's
/// cleanup policy, logs them in the run's change log and ends the run
/// `succeeded`.
pub async fn approve(
    store: &Store,
    connector: &Connector,
    run_id: &str,
) -> Result<Run, ApprovalError> {
    decide(store, connector, run_id, ApprovalDecision::Approved).await
}

/// Drops the user removals run `run_id` held: the users stay in the mirror,
/// their change log entries read `removal_discarded`, and the run ends
/// `succeeded`.
pub async fn discard(
    store: &Store,
    connector: &Connector,
    run_id: &str,
) -> Result<Run, ApprovalError> {
    decide(store, connector, run_id, ApprovalDecision::Discarded).await
}

async fn decide(
    store: &Store,
    connector: &Connector,
    run_id: &str,
    decision: ApprovalDecision,
) -> Result<Run, ApprovalError> {
    pending_run(store, connector, run_id, decision).await?;

    // The run lease keeps syncs of the connector out while the decision is
    // applied, and keeps two decisions on the same hold apart.
    let owner = uuid::Uuid::new_v4().to_string();
    let lease = store
        .acquire_lease(&connector.id, run_id, &owner, RUNNING_LEASE_SECONDS)
        .await?;
    if let LeaseOutcome::HeldBy(holder) = lease {
        return Err(ApprovalError::Busy { holder });
    }
    // NOTE: the decision is applied inside the API request, so a hold of tens
    // of thousands of users may outlast API Gateway's 29-second limit. Held
    // items are deleted as they are applied, so approving again after the
    // lease lapses (5 minutes) continues with the rest.
    let result = apply_decision(store, connector, run_id, decision, &owner).await;
    store.release_lease(&connector.id, run_id).await?;
    result
}

async fn apply_decision(
    store: &Store,
    connector: &Connector,
    run_id: &str,
    decision: ApprovalDecision,
    owner: &str,
) -> Result<Run, ApprovalError> {
    // Checked again under the lease: a run may have ended in between.
    let mut run = pending_run(store, connector, run_id, decision).await?;
    let now = now_rfc3339();
    let mut removed = 0;
    let mut dropped_memberships = 0;
    loop {
        let user_ids = store.held_removals(&connector.id, run_id, BATCH).await?;
        if user_ids.is_empty() {
            break;
        }
        if decision == ApprovalDecision::Approved {
            let counts =
                remove_and_log(store, &connector.id, run_id, &user_ids, connector.cleanup).await?;
            removed += counts.users;
            dropped_memberships += counts.memberships;
        } else {
            let changes: Vec<Change> = user_ids
                .iter()
                .map(|id| Change::user(ChangeAction::RemovalDiscarded, id, None))
                .collect();
            store.write_changes(&connector.id, run_id, &changes).await?;
        }
        store
            .delete_held_removals(&connector.id, run_id, &user_ids)
            .await?;
        store
            .renew_lease(&connector.id, owner, RUNNING_LEASE_SECONDS)
            .await?;
    }

    run.counts.users.removed += removed;
    run.counts.memberships.removed += dropped_memberships;
    run.status = RunStatus::Succeeded;
    if let Some(approval) = run.approval.as_mut() {
        approval.decision = Some(decision);
        approval.decided_at = Some(now);
    }
    store.put_run(&run).await?;
    store.clear_pending_approval(&connector.id, run_id).await?;
    if connector
        .last_run
        .as_ref()
        .is_some_and(|last| last.run_id == run_id)
    {
        store.set_last_run(&connector.id, &run.summary()).await?;
    }
    tracing::info!(
        connector_id = %connector.id,
        run_id,
        decision = ?decision,
        removed,
        "decided on held user removals"
    );
    Ok(run)
}

/// Loads a run whose hold waits for a decision. An approval is also
/// rejected when a later run already succeeded or held removals.
async fn pending_run(
    store: &Store,
    connector: &Connector,
    run_id: &str,
    decision: ApprovalDecision,
) -> Result<Run, ApprovalError> {
    let run =
        store
            .get_run(&connector.id, run_id)
            .await?
            .ok_or_else(|| ApprovalError::RunNotFound {
                run_id: run_id.to_owned(),
            })?;
    let recorded = run.approval.as_ref().and_then(|approval| approval.decision);
    if recorded == Some(ApprovalDecision::Superseded) && decision == ApprovalDecision::Approved {
        let later_run_id = run
            .approval
            .as_ref()
            .and_then(|approval| approval.superseded_by.clone())
            .unwrap_or_default();
        return Err(ApprovalError::Stale {
            run_id: run_id.to_owned(),
            later_run_id,
        });
    }
    if run.status != RunStatus::NeedsApproval {
        let status = serde_json::to_value(run.status)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        let decision = match recorded {
            Some(decision) => format!(", and its held removals were {decision:?}").to_lowercase(),
            None => String::new(),
        };
        return Err(ApprovalError::NotPending {
            run_id: run_id.to_owned(),
            status,
            decision,
        });
    }
    if decision == ApprovalDecision::Approved {
        let later = store.runs_after(&connector.id, run_id).await?;
        if let Some(later) = later.iter().find(|later| {
            !later.dry_run
                && matches!(
                    later.status,
                    RunStatus::Succeeded | RunStatus::NeedsApproval
                )
        }) {
            return Err(ApprovalError::Stale {
                run_id: run_id.to_owned(),
                later_run_id: later.run_id.clone(),
            });
        }
    }
    Ok(run)
}

/// Records `run` as the connector's latest completed run: an earlier hold
/// still waiting for a decision is superseded, and a hold of `run` becomes
/// the pending one.
pub(super) async fn replace_pending_hold(store: &Store, run: &Run) -> Result<(), StoreError> {
    let connector_id = &run.connector_id;
    if let Some(pending) = store.pending_approval(connector_id).await? {
        if pending != run.run_id {
            supersede(store, run, &pending).await?;
            store.clear_pending_approval(connector_id, &pending).await?;
        }
    }
    if run.status == RunStatus::NeedsApproval {
        store
            .set_pending_approval(connector_id, &run.run_id)
            .await?;
    }
    Ok(())
}

async fn supersede(store: &Store, later: &Run, run_id: &str) -> Result<(), StoreError> {
    let connector_id = &later.connector_id;
    let Some(mut run) = store.get_run(connector_id, run_id).await? else {
        return Ok(());
    };
    if run.status != RunStatus::NeedsApproval {
        return Ok(());
    }
    loop {
        let user_ids = store.held_removals(connector_id, run_id, BATCH).await?;
        if user_ids.is_empty() {
            break;
        }
        store
            .delete_held_removals(connector_id, run_id, &user_ids)
            .await?;
    }
    run.status = RunStatus::Succeeded;
    if let Some(approval) = run.approval.as_mut() {
        approval.decision = Some(ApprovalDecision::Superseded);
        approval.decided_at = Some(now_rfc3339());
        approval.superseded_by = Some(later.run_id.clone());
    }
    store.put_run(&run).await?;
    tracing::info!(
        connector_id = %connector_id,
        run_id,
        superseded_by = later.run_id,
        "a later run superseded held user removals"
    );
    Ok(())
}
