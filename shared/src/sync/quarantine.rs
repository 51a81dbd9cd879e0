//! Quarantine of connectors whose runs keep failing, for example after the
//! API token was revoked (Okta E0000011).
//!
//! Rules:
//! - every run that ends `failed` adds one to the connector's count of
//!   failed runs in a row; a run that succeeds sets it back to zero;
//! - at `after_failures` failures in a row (default 3) the connector enters
//!   quarantine: its record gets `status: quarantined` and `quarantine`;
//! - while quarantined, a scheduled trigger runs only once the back-off since
//!   the start of the last failed run has passed: `first_backoff` (1 hour) at
//!   the failure that started the quarantine, doubling with each further
//!   failure up to `max_backoff` (1 day). Earlier triggers are recorded as
//!   `skipped` runs with the code `connector_quarantined`;
//! - manual and console runs always run;
//! - a successful run of any trigger, or a successful
//!   `POST /connectors/{id}/test`, ends the quarantine.

use chrono::{DateTime, Utc};

use super::{SyncDeps, SyncError};
use crate::records::{now_rfc3339, Quarantine, Run, RunError, RunStatus};

/// When a connector enters quarantine and how its scheduled runs back off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuarantinePolicy {
    /// Failed runs in a row that put a connector in quarantine.
    pub after_failures: u32,
    /// Back-off after the failure that started the quarantine.
    pub first_backoff: chrono::Duration,
    /// Upper bound of the back-off.
    pub max_backoff: chrono::Duration,
    /// Allowance before the end of the back-off in which a scheduled trigger
    /// still runs. Scheduled runs start some seconds after their time, so
    /// without it an hourly schedule would wait two hours for a one-hour
    /// back-off.
    pub tolerance: chrono::Duration,
}

/// Default number of failed runs in a row before quarantine.
pub const DEFAULT_QUARANTINE_AFTER_FAILURES: u32 = 3;

impl Default for QuarantinePolicy {
    fn default() -> Self {
        Self {
            after_failures: DEFAULT_QUARANTINE_AFTER_FAILURES,
            first_backoff: chrono::Duration::hours(1),
            max_backoff: chrono::Duration::days(1),
            tolerance: chrono::Duration::minutes(5),
        }
    }
}

impl QuarantinePolicy {
    /// Back-off after `failures` failed runs in a row: `first_backoff` at
    /// `after_failures`, doubled for each failure after it, at most
    /// `max_backoff`.
    pub fn backoff(&self, failures: u32) -> chrono::Duration {
        let doublings = failures.saturating_sub(self.after_failures).min(30);
        let backoff = self
            .first_backoff
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_backoff);
        backoff.min(self.max_backoff)
    }

    /// Builds the quarantine a failure leaves, or `None` while the failures
    /// in a row stay below the threshold and the connector was not already
    /// quarantined. `attempt_started_at` is the failed run's start.
    pub fn quarantine_after(
        &self,
        failures: u32,
        earlier: Option<&Quarantine>,
        error: &RunError,
        attempt_started_at: &str,
    ) -> Option<Quarantine> {
        if failures < self.after_failures && earlier.is_none() {
            return None;
        }
        let started = parse_time(attempt_started_at).unwrap_or_else(Utc::now);
        let next_attempt = started + self.backoff(failures.max(self.after_failures));
        Some(Quarantine {
            since: earlier.map_or_else(now_rfc3339, |earlier| earlier.since.clone()),
            reason: error.message.clone(),
            code: error.code.clone(),
            failures,
            last_attempt_at: to_rfc3339(started),
            next_attempt_after: to_rfc3339(next_attempt),
        })
    }

    /// Returns whether a scheduled trigger at `now` may run. A back-off end
    /// that does not parse lets the run go ahead rather than block it for good.
    pub fn allows_scheduled_run(&self, quarantine: &Quarantine, now: DateTime<Utc>) -> bool {
        match parse_time(&quarantine.next_attempt_after) {
            Some(next) => now + self.tolerance >= next,
            None => true,
        }
    }
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

fn to_rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Records a new scheduled run as `skipped` when its connector is
/// quarantined and the back-off has not passed. Returns the skipped run, or
/// `None` when the run may go ahead.
pub(super) async fn skip_if_backing_off(
    deps: &SyncDeps,
    run: &mut Run,
) -> Result<Option<Run>, SyncError> {
    let Some(connector) = deps.store.get_connector(&run.connector_id).await? else {
        // The run itself reports the deleted connector.
        return Ok(None);
    };
    let Some(quarantine) = connector.quarantine else {
        return Ok(None);
    };
    if deps
        .quarantine
        .allows_scheduled_run(&quarantine, Utc::now())
    {
        tracing::info!(
            connector_id = %run.connector_id,
            run_id = run.run_id,
            failures = quarantine.failures,
            "quarantined connector: the back-off has passed, the scheduled run goes ahead"
        );
        return Ok(None);
    }

    run.status = RunStatus::Skipped;
    run.finished_at = Some(now_rfc3339());
    run.progress.phase = "skipped".into();
    run.error = Some(RunError {
        code: "connector_quarantined".into(),
        message: format!(
            "the connector is quarantined since {} after {} failed runs in a row ({}: {}), so \
             scheduled runs back off until {}. Fix the cause, then run POST /connectors/{}/test \
             or start a sync by hand to end the quarantine.",
            quarantine.since,
            quarantine.failures,
            quarantine.code,
            quarantine.reason,
            quarantine.next_attempt_after,
            run.connector_id
        ),
    });
    deps.store.put_run(run).await?;
    tracing::info!(
        connector_id = %run.connector_id,
        run_id = run.run_id,
        next_attempt_after = quarantine.next_attempt_after,
        "skipped a scheduled run: the connector is quarantined"
    );
    Ok(Some(run.clone()))
}

/// Updates the connector's failure count and quarantine after a run ended.
/// Errors are logged, not returned: the run's outcome is already stored, and
/// failing the invocation would only make SQS deliver a finished run again.
pub(super) async fn record_outcome(deps: &SyncDeps, run: &Run) {
    let result = match (run.status, &run.error) {
        (RunStatus::Succeeded, _) => deps
            .store
            .clear_quarantine(&run.connector_id)
            .await
            .map(|_| ()),
        (RunStatus::Failed, Some(error)) if counts_as_failure(error) => {
            record_failure(deps, run, error).await
        }
        _ => Ok(()),
    };
    if let Err(error) = result {
        tracing::error!(
            connector_id = %run.connector_id,
            run_id = run.run_id,
            error = %error,
            "could not update the connector's failure count"
        );
    }
}

/// Counts the failed run once (a repeated delivery of the same run is not
/// counted again) and writes the quarantine the count calls for.
async fn record_failure(
    deps: &SyncDeps,
    run: &Run,
    error: &RunError,
) -> Result<(), crate::store::StoreError> {
    let Some(count) = deps
        .store
        .count_run_failure(&run.connector_id, &run.run_id)
        .await?
    else {
        return Ok(());
    };
    let quarantine = deps.quarantine.quarantine_after(
        count.failures,
        count.quarantine.as_ref(),
        error,
        &run.started_at,
    );
    let Some(quarantine) = quarantine else {
        return Ok(());
    };
    let written = deps
        .store
        .set_quarantine(&run.connector_id, &quarantine)
        .await?;
    if written && count.quarantine.is_none() {
        tracing::warn!(
            connector_id = %run.connector_id,
            run_id = run.run_id,
            failures = quarantine.failures,
            code = quarantine.code,
            next_attempt_after = quarantine.next_attempt_after,
            "connector quarantined after failed runs in a row; scheduled runs back off"
        );
    }
    Ok(())
}

/// Returns false for runs stopped because their connector was deleted, which
/// tell nothing about the connector's health.
fn counts_as_failure(error: &RunError) -> bool {
    !matches!(
        error.code.as_str(),
        "connector_deleted" | "connector_not_found"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error() -> RunError {
        RunError {
            code: "okta_invalid_token".into(),
            message: "Okta rejected the API token".into(),
        }
    }

    #[test]
    fn backoff_doubles_up_to_a_day() {
        let policy = QuarantinePolicy::default();
        let hours: Vec<i64> = (3..=9)
            .map(|failures| policy.backoff(failures).num_hours())
            .collect();
        assert_eq!(hours, vec![1, 2, 4, 8, 16, 24, 24]);
        assert_eq!(policy.backoff(u32::MAX).num_hours(), 24);
    }

    #[test]
    fn below_threshold_no_quarantine() {
        let policy = QuarantinePolicy::default();
        let at = "2026-12-04T10:00:00.000Z";
        assert_eq!(policy.quarantine_after(2, None, &error(), at), None);
    }

    #[test]
    fn threshold_starts_quarantine() {
        let policy = QuarantinePolicy::default();
        let at = "2026-12-04T10:00:00.000Z";
        let quarantine = policy.quarantine_after(3, None, &error(), at).unwrap();
        assert_eq!(quarantine.failures, 3);
        assert_eq!(quarantine.code, "okta_invalid_token");
        assert_eq!(quarantine.last_attempt_at, at);
        assert_eq!(quarantine.next_attempt_after, "2026-12-04T11:00:00.000Z");
    }

    #[test]
    fn further_failure_keeps_since() {
        let policy = QuarantinePolicy::default();
        let first = policy
            .quarantine_after(3, None, &error(), "2026-12-04T10:00:00.000Z")
            .unwrap();
        let second = policy
            .quarantine_after(4, Some(&first), &error(), "2026-12-04T11:01:00.000Z")
            .unwrap();
        assert_eq!(second.since, first.since);
        assert_eq!(second.next_attempt_after, "2026-12-04T13:01:00.000Z");
    }

    #[test]
    fn scheduled_run_waits_for_backoff() {
        let policy = QuarantinePolicy::default();
        let quarantine = policy
            .quarantine_after(3, None, &error(), "2026-12-04T10:00:30.000Z")
            .unwrap();
        let at = |text: &str| parse_time(text).unwrap();
        assert!(!policy.allows_scheduled_run(&quarantine, at("2026-12-04T10:30:00Z")));
        // An hourly schedule firing at 11:00 runs although the last attempt
        // started 30 seconds after 10:00.
        assert!(policy.allows_scheduled_run(&quarantine, at("2026-12-04T11:00:00Z")));
    }
}
