//! The sync function's work: take the connector's run lease, run a full sync
//! and record the outcome on the Run. Deleted connectors are purged here too,
//! because that can take longer than an API request may.

mod approval;
mod engine;
mod event;
mod membership_log;
mod policy;
mod progress;
mod quarantine;
mod removals;
mod single_user;

use std::time::Instant;

pub use approval::{approve, discard, ApprovalError};
pub use engine::Plan;
pub use event::{Incoming, SyncAction, SyncEvent};
pub use policy::{apply_user_removals, RemovalCounts, SyncPolicy};
pub use progress::ProgressReporter;
pub use quarantine::{QuarantinePolicy, DEFAULT_QUARANTINE_AFTER_FAILURES};
pub use single_user::{sync_one_user, RefreshOutcome, SingleUserError, SingleUserSync};

use crate::domain::{ConnectorId, DomainPolicy, InvalidValue};
use crate::okta::{ClientOptions, OktaClient, OktaError};
use crate::records::{now_rfc3339, Connector, Run, RunError, RunStatus, SyncMode, Trigger};
use crate::secrets::{SecretsError, TokenStore};
use crate::store::{LeaseOutcome, Store, StoreError};

/// A running sync's lease lasts this long past its last renewal, so a run
/// that dies frees its connector within five minutes.
pub const RUNNING_LEASE_SECONDS: i64 = 300;

/// A run stops starting new groups this long before its deadline, to let the
/// groups in flight finish and save a checkpoint.
pub const PAUSE_BEFORE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// A paused run's lease waits this long for its continuation to start.
const CONTINUATION_LEASE_SECONDS: i64 = 3600;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Okta(#[from] OktaError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("the connector's domain is no longer allowed: {0}")]
    Domain(#[from] InvalidValue),
    #[error("the run lost its lease (it was not renewed in time and another run took over); this run stopped without marking anything removed")]
    LeaseLost,
    #[error("the sync event is invalid: {0}")]
    InvalidEvent(String),
    #[error("the connector was deleted while the run was in progress; the run stopped")]
    ConnectorDeleted,
    #[error("run {0} of the deleted connector is still in progress; the purge waits for it to stop and is retried")]
    PurgeWaiting(String),
    #[error("the run reached its function's deadline and could not queue its continuation: {0}")]
    Continuation(String),
    #[error("the connector's settings cannot be applied: {0}")]
    Settings(String),
}

impl SyncError {
    pub fn code(&self) -> String {
        match self {
            Self::Okta(error) => error.code().into(),
            Self::Store(_) => "store_error".into(),
            Self::Secrets(_) => "token_unavailable".into(),
            Self::Domain(error) => error.code.into(),
            Self::LeaseLost => "lease_lost".into(),
            Self::InvalidEvent(_) => "invalid_event".into(),
            Self::ConnectorDeleted => "connector_deleted".into(),
            Self::PurgeWaiting(_) => "purge_waiting".into(),
            Self::Continuation(_) => "continuation_failed".into(),
            Self::Settings(_) => "invalid_settings".into(),
        }
    }
}

/// Dependencies of the sync function, built once per Lambda instance.
#[derive(Clone)]
pub struct SyncDeps {
    pub store: Store,
    pub tokens: TokenStore,
    pub policy: DomainPolicy,
    pub okta: ClientOptions,
    /// Where a run that nears its deadline sends its continuation.
    pub handoff: Option<crate::handoff::Handoff>,
    /// A scheduled run is full when the last full run is older than this,
    /// because only full runs see users and groups deleted in Okta.
    pub full_sync_every: chrono::Duration,
    /// The watermark is Okta's clock at the start of a run less this margin,
    /// so a change committed while the run read its first page is read again
    /// rather than missed.
    pub watermark_margin: chrono::Duration,
    pub quarantine: QuarantinePolicy,
}

/// Default period of full runs among scheduled runs.
pub const DEFAULT_FULL_SYNC_EVERY_HOURS: i64 = 24;
/// Default safety margin subtracted from a run's start in Okta's clock.
pub const DEFAULT_WATERMARK_MARGIN_SECONDS: i64 = 120;

impl From<&crate::config::Services> for SyncDeps {
    fn from(services: &crate::config::Services) -> Self {
        Self {
            store: services.store.clone(),
            tokens: services.tokens.clone(),
            policy: services.settings.domain_policy.clone(),
            okta: services.okta.clone(),
            handoff: services.handoff.clone(),
            full_sync_every: services.settings.full_sync_every,
            watermark_margin: chrono::Duration::seconds(DEFAULT_WATERMARK_MARGIN_SECONDS),
            quarantine: services.settings.quarantine,
        }
    }
}

/// Converts the Lambda context's deadline (epoch milliseconds) into an
/// instant, less a margin to save the run's outcome before the cut-off.
pub fn lambda_deadline(deadline_ms: u64) -> Option<Instant> {
    const MARGIN: std::time::Duration = std::time::Duration::from_secs(20);
    let now_ms = chrono::Utc::now().timestamp_millis();
    let left_ms = (deadline_ms as i64).checked_sub(now_ms)?;
    let left = std::time::Duration::from_millis(left_ms.max(0) as u64);
    Some(Instant::now() + left.saturating_sub(MARGIN))
}

/// Handles what the Lambda runtime delivers. A direct event returns the Run.
/// An SQS batch returns the messages that failed, so SQS delivers only those
/// again.
pub async fn handle_incoming(
    deps: &SyncDeps,
    payload: serde_json::Value,
    deadline: Option<Instant>,
) -> Result<serde_json::Value, SyncError> {
    match Incoming::parse(payload).map_err(SyncError::InvalidEvent)? {
        Incoming::Direct(event) => {
            let run = handle_event(deps, event, deadline).await?;
            Ok(serde_json::to_value(run).unwrap_or_default())
        }
        Incoming::Queue(events) => {
            let mut failures = Vec::new();
            for (message_id, event) in events {
                let result = match event {
                    Ok(event) => handle_event(deps, event, deadline).await.map(|_| ()),
                    Err(reason) => {
                        // A malformed message never gets better: drop it.
                        tracing::error!(
                            message_id,
                            reason,
                            "dropping a message that is not a sync event"
                        );
                        Ok(())
                    }
                };
                if let Err(error) = result {
                    tracing::error!(message_id, error = %error, "sync event failed; SQS will deliver it again");
                    failures.push(serde_json::json!({"itemIdentifier": message_id}));
                }
            }
            Ok(serde_json::json!({"batchItemFailures": failures}))
        }
    }
}

/// Handles one sync event. Returns the finished Run, or `None` when the
/// event needed no run (a purge, or a duplicate delivery of a run that is
/// already running or done).
pub async fn handle_event(
    deps: &SyncDeps,
    event: SyncEvent,
    deadline: Option<Instant>,
) -> Result<Option<Run>, SyncError> {
    let connector_id = ConnectorId::parse(&event.connector_id)
        .map_err(|error| SyncError::InvalidEvent(error.message))?;
    if event.action == Some(SyncAction::Purge) {
        purge(deps, &connector_id).await?;
        return Ok(None);
    }

    let mut run = match &event.run_id {
        Some(run_id) => match deps.store.get_run(&connector_id, run_id).await? {
            Some(run) => run,
            None => {
                return Err(SyncError::InvalidEvent(format!(
                    "run {run_id} of connector {connector_id} does not exist; omit runId to start a new run"
                )))
            }
        },
        None => {
            let trigger = event.trigger.unwrap_or(Trigger::Console);
            let mode = match event.mode {
                Some(mode) => mode,
                None if trigger == Trigger::Schedule => scheduled_mode(deps, &connector_id).await?,
                None => SyncMode::Full,
            };
            let mut run = Run::queued(connector_id.clone(), trigger, mode);
            run.dry_run = event.dry_run.unwrap_or(false);
            run
        }
    };
    if !run.status.is_active() {
        tracing::info!(connector_id = %connector_id, run_id = run.run_id, status = ?run.status, "run already finished, ignoring a repeated delivery");
        return Ok(None);
    }
    if event.run_id.is_none() && run.trigger == Trigger::Schedule {
        if let Some(skipped) = quarantine::skip_if_backing_off(deps, &mut run).await? {
            return Ok(Some(skipped));
        }
    }

    let owner = uuid::Uuid::new_v4().to_string();
    let lapsed = deps.store.lapsed_lease_holder(&connector_id).await?;
    let lease = deps
        .store
        .acquire_lease(&connector_id, &run.run_id, &owner, RUNNING_LEASE_SECONDS)
        .await?;
    if let (LeaseOutcome::Acquired, Some(lapsed)) = (&lease, lapsed) {
        if lapsed != run.run_id {
            deps.store.mark_abandoned(&connector_id, &lapsed).await?;
        }
    }
    if let LeaseOutcome::HeldBy(holder) = lease {
        if holder == run.run_id {
            tracing::info!(connector_id = %connector_id, run_id = run.run_id, "run is already running elsewhere, ignoring a repeated delivery");
            return Ok(None);
        }
        run.status = RunStatus::Skipped;
        run.finished_at = Some(now_rfc3339());
        run.error = Some(RunError {
            code: "sync_running".into(),
            message: format!(
                "run {holder} of this connector was already queued or running, so this {} trigger was skipped",
                run.trigger.as_str()
            ),
        });
        deps.store.put_run(&run).await?;
        tracing::info!(connector_id = %connector_id, run_id = run.run_id, holder, "skipped: another run holds the lease");
        return Ok(Some(run));
    }

    let Some(connector) = deps.store.get_connector(&connector_id).await? else {
        run.status = RunStatus::Failed;
        run.finished_at = Some(now_rfc3339());
        run.error = Some(RunError {
            code: "connector_not_found".into(),
            message: "the connector was deleted before the run started".into(),
        });
        deps.store.put_run(&run).await?;
        deps.store.release_lease(&connector_id, &run.run_id).await?;
        return Ok(Some(run));
    };

    // A run already marked running is a continuation of a paused run, or a
    // redelivery after its instance died: it resumes from its checkpoint.
    let checkpoint = if run.status == RunStatus::Running {
        deps.store
            .get_checkpoint(&connector_id, &run.run_id)
            .await?
    } else {
        run.started_at = now_rfc3339();
        None
    };
    run.status = RunStatus::Running;
    run.progress.phase = "starting".into();
    // Totals of earlier invocations live in the checkpoint; this invocation
    // counts from zero and adds them at the end.
    run.counts = Default::default();
    run.warnings.clear();
    run.approval = None;
    deps.store.put_run(&run).await?;
    tracing::info!(
        connector_id = %connector_id,
        run_id = run.run_id,
        trigger = ?run.trigger,
        mode = ?run.mode,
        continuation = checkpoint.is_some(),
        "sync started"
    );

    let started = Instant::now();
    let writes_before = deps.store.write_stats();
    let pause_at = deadline.map(|deadline| deadline - PAUSE_BEFORE_DEADLINE);
    let outcome = execute(
        deps,
        &connector,
        &mut run,
        &owner,
        pause_at,
        checkpoint.as_ref(),
    )
    .await;
    run.duration_ms = started.elapsed().as_millis() as u64;
    run.dynamo = deps.store.write_stats().since(writes_before);
    if let Some(earlier) = &checkpoint {
        merge_checkpoint(&mut run, earlier);
    }
    if let Ok(engine::Outcome::Paused(paused)) = outcome {
        return pause(deps, run, &owner, &paused, checkpoint.as_ref())
            .await
            .map(Some);
    }

    run.finished_at = Some(now_rfc3339());
    if checkpoint.is_some() {
        deps.store
            .delete_checkpoint(&connector_id, &run.run_id)
            .await?;
    }
    match outcome {
        Ok(_) => {
            run.status = match (&run.approval, run.dry_run) {
                (Some(_), false) => RunStatus::NeedsApproval,
                _ => RunStatus::Succeeded,
            };
            if let (Some(approval), true) = (&run.approval, run.dry_run) {
                run.warnings.push(format!(
                    "a real run would hold {} user removals for approval, because they exceed the connector's deletion guard",
                    approval.held_users
                ));
            }
            run.progress.phase = "done".into();
            run.progress.percent = 100;
            tracing::info!(
                connector_id = %connector_id,
                run_id = run.run_id,
                users_seen = run.counts.users.seen,
                groups_seen = run.counts.groups.seen,
                memberships_seen = run.counts.memberships.seen,
                okta_calls = run.okta.calls,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "sync succeeded"
            );
        }
        Err(error) => {
            run.status = RunStatus::Failed;
            run.error = Some(RunError {
                code: error.code(),
                message: error.to_string(),
            });
            tracing::error!(connector_id = %connector_id, run_id = run.run_id, code = error.code(), error = %error, "sync failed");
        }
    }
    deps.store.put_run(&run).await?;
    if !run.dry_run && matches!(run.status, RunStatus::Succeeded | RunStatus::NeedsApproval) {
        approval::replace_pending_hold(&deps.store, &run).await?;
    }
    deps.store
        .set_last_run(&connector_id, &run.summary())
        .await?;
    quarantine::record_outcome(deps, &run).await;
    deps.store.release_lease(&connector_id, &run.run_id).await?;
    Ok(Some(run))
}

async fn execute(
    deps: &SyncDeps,
    connector: &Connector,
    run: &mut Run,
    owner: &str,
    pause_at: Option<Instant>,
    checkpoint: Option<&crate::store::Checkpoint>,
) -> Result<engine::Outcome, SyncError> {
    let token = deps.tokens.read(&connector.id).await?;
    let mut okta = OktaClient::new(&connector.domain, token, &deps.policy, deps.okta.clone())?;
    okta.set_deadline(pause_at.map(|pause_at| pause_at + PAUSE_BEFORE_DEADLINE));
    let stats = okta.stats();

    let state = deps.store.get_sync_state(&connector.id).await?;
    let plan = match (run.mode, &state.watermark) {
        (SyncMode::Incremental, Some(since)) => Plan::Incremental {
            since: since.clone(),
        },
        (SyncMode::Incremental, None) => {
            run.warnings.push(
                "no earlier successful run to continue from, so a full sync ran instead of an incremental one".into(),
            );
            run.mode = SyncMode::Full;
            Plan::Full
        }
        (SyncMode::Full, _) => Plan::Full,
    };

    // Adoption happens on the connector's first successful sync: until one
    // finishes there is no watermark, so a failed first run adopts again.
    let adopting = state.watermark.is_none() && !connector.adopt_from.is_empty();
    let policy = SyncPolicy::load(&deps.store, connector, adopting).await?;

    let reporter = ProgressReporter::new(
        deps.store.clone(),
        connector.id.clone(),
        run.run_id.clone(),
        owner.to_owned(),
        RUNNING_LEASE_SECONDS,
    );
    let engine = engine::Engine {
        connector_id: &connector.id,
        connector,
        run_id: &run.run_id,
        store: &deps.store,
        okta: &okta,
        progress: &reporter,
        dry_run: run.dry_run,
        policy: &policy,
    };
    let resume = engine::Resume {
        groups_done: checkpoint
            .map(|checkpoint| checkpoint.groups_done.iter().cloned().collect())
            .unwrap_or_default(),
        users: checkpoint.map(users_resume).unwrap_or_default(),
        pause_at,
    };
    let report = engine::Report {
        counts: &mut run.counts,
        warnings: &mut run.warnings,
        approval: &mut run.approval,
    };
    let result = engine.run(&plan, &resume, report).await;
    run.progress = reporter.snapshot();
    run.okta = stats.snapshot();
    let outcome = result?;
    if outcome != engine::Outcome::Finished || run.dry_run {
        return Ok(outcome);
    }

    // The next incremental run reads what changed after this run started,
    // by Okta's clock.
    let started_at_okta = okta
        .okta_time_at_first_answer()
        .unwrap_or_else(chrono::Utc::now);
    let watermark = (started_at_okta - deps.watermark_margin)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let last_full_at = match plan {
        Plan::Full => Some(now_rfc3339()),
        Plan::Incremental { .. } => state.last_full_at,
    };
    if adopting {
        record_adoption(deps, connector, run).await?;
    }
    let next = crate::store::SyncState {
        watermark: Some(watermark),
        last_full_at,
    };
    deps.store.put_sync_state(&connector.id, &next).await?;
    Ok(engine::Outcome::Finished)
}

/// Reports on the Run which users of the adopted connectors this connector
/// took over, and points those connectors to this one.
async fn record_adoption(
    deps: &SyncDeps,
    connector: &Connector,
    run: &mut Run,
) -> Result<(), SyncError> {
    let report = policy::adoption_report(&deps.store, connector).await?;
    for source in &connector.adopt_from {
        deps.store.set_adopted_by(source, &connector.id).await?;
    }
    tracing::info!(
        connector_id = %connector.id,
        adopted = report.adopted,
        unmatched = report.unmatched_count,
        "adopted users of earlier connectors"
    );
    run.adoption = Some(report);
    Ok(())
}

/// Saves a paused run's checkpoint, hands its lease to the continuation and
/// queues the continuation. The run stays `running`.
async fn pause(
    deps: &SyncDeps,
    mut run: Run,
    owner: &str,
    paused: &engine::Paused,
    earlier: Option<&crate::store::Checkpoint>,
) -> Result<Run, SyncError> {
    let connector_id = run.connector_id.clone();
    let mut checkpoint = crate::store::Checkpoint {
        users_cursor: paused.users_cursor.clone(),
        users_finished: paused.users_cursor.is_none(),
        counts: run.counts,
        okta: run.okta,
        dynamo: run.dynamo,
        warnings: run.warnings.clone(),
        duration_ms: run.duration_ms,
        invocations: earlier.map_or(1, |earlier| earlier.invocations + 1),
        parts: earlier.map(|earlier| earlier.parts).unwrap_or_default(),
        ..Default::default()
    };
    let additions = crate::store::CheckpointAdditions {
        groups_done: &paused.groups_done,
        users_seen: &paused.users_seen,
        users_created: &paused.users_created,
    };
    deps.store
        .put_checkpoint(&connector_id, &run.run_id, &mut checkpoint, additions)
        .await?;
    run.progress.phase = "continuing".into();
    deps.store.put_run(&run).await?;

    let Some(handoff) = &deps.handoff else {
        return Err(SyncError::Continuation(
            "no sync queue is configured (SYNC_QUEUE_URL)".into(),
        ));
    };
    deps.store
        .hand_over_lease(&connector_id, owner, CONTINUATION_LEASE_SECONDS)
        .await?;
    let event = SyncEvent {
        connector_id: connector_id.to_string(),
        mode: Some(run.mode),
        run_id: Some(run.run_id.clone()),
        trigger: Some(run.trigger),
        action: None,
        dry_run: run.dry_run.then_some(true),
    };
    handoff
        .send(&event)
        .await
        .map_err(|error| SyncError::Continuation(error.to_string()))?;
    tracing::info!(
        connector_id = %connector_id,
        run_id = run.run_id,
        groups_done = paused.groups_done.len(),
        users_read = paused.users_seen.len(),
        users_finished = checkpoint.users_finished,
        invocations = checkpoint.invocations,
        "paused before the deadline; a continuation is queued"
    );
    Ok(run)
}

/// Returns where the users phase continues: at the saved cursor, after the
/// users earlier invocations read.
fn users_resume(checkpoint: &crate::store::Checkpoint) -> engine::UsersResume {
    // The cursor is a link Okta returned. One that no longer parses starts
    // the users again, and the users already read are skipped.
    let cursor = checkpoint
        .users_cursor
        .as_deref()
        .and_then(|cursor| reqwest::Url::parse(cursor).ok());
    engine::UsersResume {
        finished: checkpoint.users_finished,
        cursor,
        seen: checkpoint.users_seen.iter().cloned().collect(),
        created: checkpoint.users_created.clone(),
    }
}

/// Adds the totals of earlier invocations to this one's. An invocation
/// reads only the users earlier ones did not, so every count adds up.
fn merge_checkpoint(run: &mut Run, earlier: &crate::store::Checkpoint) {
    let users = &mut run.counts.users;
    users.seen += earlier.counts.users.seen;
    users.created += earlier.counts.users.created;
    users.updated += earlier.counts.users.updated;
    users.unchanged += earlier.counts.users.unchanged;
    users.out_of_scope += earlier.counts.users.out_of_scope;

    let groups = &mut run.counts.groups;
    groups.seen += earlier.counts.groups.seen;
    groups.created += earlier.counts.groups.created;
    groups.updated += earlier.counts.groups.updated;
    groups.unchanged += earlier.counts.groups.unchanged;

    let memberships = &mut run.counts.memberships;
    memberships.seen += earlier.counts.memberships.seen;
    memberships.added += earlier.counts.memberships.added;
    memberships.removed += earlier.counts.memberships.removed;

    run.okta.calls += earlier.okta.calls;
    run.okta.throttled += earlier.okta.throttled;
    run.okta.retries += earlier.okta.retries;
    run.okta.request_ms += earlier.okta.request_ms;
    run.dynamo.items_written += earlier.dynamo.items_written;
    run.dynamo.write_ms += earlier.dynamo.write_ms;
    run.duration_ms += earlier.duration_ms;
    let mut warnings = earlier.warnings.clone();
    warnings.append(&mut run.warnings);
    run.warnings = warnings;
}

/// A scheduled run is incremental while the last full run is recent enough,
/// and full otherwise.
async fn scheduled_mode(
    deps: &SyncDeps,
    connector_id: &ConnectorId,
) -> Result<SyncMode, SyncError> {
    let state = deps.store.get_sync_state(connector_id).await?;
    let recent_full = state
        .last_full_at
        .as_deref()
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .is_some_and(|at| {
            chrono::Utc::now() - at.with_timezone(&chrono::Utc) < deps.full_sync_every
        });
    Ok(if recent_full && state.watermark.is_some() {
        SyncMode::Incremental
    } else {
        SyncMode::Full
    })
}

/// Removes everything a deleted connector left: mirror, runs and secret.
async fn purge(deps: &SyncDeps, connector_id: &ConnectorId) -> Result<(), SyncError> {
    if deps.store.get_connector(connector_id).await?.is_some() {
        return Err(SyncError::InvalidEvent(format!(
            "connector {connector_id} still exists; only deleted connectors are purged"
        )));
    }
    // A run still in progress could write after the purge; wait for it.
    let purge_id = format!("purge-{}", uuid::Uuid::new_v4().simple());
    let lease = deps
        .store
        .acquire_lease(connector_id, &purge_id, &purge_id, RUNNING_LEASE_SECONDS)
        .await?;
    if let LeaseOutcome::HeldBy(run_id) = lease {
        return Err(SyncError::PurgeWaiting(run_id));
    }
    let deleted = deps.store.purge_connector(connector_id).await?;
    deps.tokens.delete(connector_id).await?;
    tracing::info!(connector_id = %connector_id, deleted_items = deleted, "purged a deleted connector");
    Ok(())
}
