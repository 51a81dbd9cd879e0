//! Records the API returns and the store keeps: connectors, runs, mirrored
//! users and groups. Field names are the API contract (camelCase JSON).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::{ConnectorId, OktaDomain};
use crate::lifecycle::{AdoptMatch, Cleanup, Mapping, Scope};
use crate::okta::CallCounts;
use crate::schedule::{ScheduleSource, Timezone};
use crate::store::WriteCounts;

/// Current time as RFC 3339 with milliseconds, the form every record uses.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Connector {
    pub id: ConnectorId,
    pub name: String,
    #[serde(rename = "type")]
    pub connector_type: String,
    pub domain: OktaDomain,
    pub auth: ConnectorAuth,
    pub created_at: String,
    pub updated_at: String,
    /// Version of the admin-set state (name, domain, token, schedule),
    /// raised by one on every change to it and sent as the `ETag`. Items
    /// written before versions existed read as 0.
    #[serde(default)]
    pub version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<RunSummary>,
    #[serde(default)]
    pub scope: Scope,
    #[serde(default)]
    pub mapping: Mapping,
    #[serde(default)]
    pub cleanup: Cleanup,
    /// Connectors whose users this one adopts on its first successful sync.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopt_from: Vec<ConnectorId>,
    #[serde(default)]
    pub adopt_match: AdoptMatch,
    /// The connector that adopted this one's users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopted_by: Option<ConnectorId>,
    #[serde(default)]
    pub deletion_guard: DeletionGuard,
    /// `quarantined` while `quarantine` is set, `active` otherwise. Records
    /// written before quarantine existed read as `active`.
    #[serde(default)]
    pub status: ConnectorStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine: Option<Quarantine>,
}

/// Limits on the users one run may remove before an admin must approve.
/// A run that would remove more than `max_count` users, or more than
/// `max_share` of the mirrored users that are not removed yet, keeps those
/// removals back (run status `needs_approval`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DeletionGuard {
    /// Share from 0 to 1 of the mirrored, not removed users.
    pub max_share: f64,
    pub max_count: u64,
}

impl Default for DeletionGuard {
    fn default() -> Self {
        Self {
            max_share: 0.10,
            max_count: 500,
        }
    }
}

impl DeletionGuard {
    /// Tells whether removing `removals` of `mirrored` users exceeds a limit.
    pub fn is_exceeded(&self, removals: u64, mirrored: u64) -> bool {
        if removals == 0 {
            return false;
        }
        let share = removals as f64 / mirrored.max(1) as f64;
        removals > self.max_count || share > self.max_share
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorStatus {
    #[default]
    Active,
    Quarantined,
}

/// Reason and start of a connector's quarantine, in which its scheduled runs
/// back off. It is set after several failed runs in a row, and a successful
/// run or test removes it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Quarantine {
    /// When the connector entered quarantine (RFC 3339).
    pub since: String,
    /// The error message of the last failed run.
    pub reason: String,
    /// The error code of the last failed run, for example `okta_invalid_token`.
    pub code: String,
    /// Failed runs in a row, the last one included.
    pub failures: u32,
    /// Start of the last failed run (RFC 3339).
    pub last_attempt_at: String,
    /// Scheduled triggers before this time are skipped (RFC 3339).
    pub next_attempt_after: String,
}

/// A connector's sync schedule as the store keeps it. The API adds the next
/// run times when it reads one, because they change with the clock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRecord {
    /// The expression or interval exactly as the admin sent it.
    pub source: ScheduleSource,
    /// The EventBridge `cron(…)` or `rate(…)` form of `source`.
    pub schedule_expression: String,
    pub timezone: Timezone,
    pub enabled: bool,
    /// When the EventBridge schedule was first created. Rate schedules count
    /// their runs from here.
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorAuth {
    #[serde(rename = "type")]
    pub auth_type: String,
    pub token_set: bool,
}

impl ConnectorAuth {
    pub fn api_token() -> Self {
        Self {
            auth_type: "apiToken".into(),
            token_set: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    pub run_id: String,
    pub status: RunStatus,
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Queued,
    Running,
    Succeeded,
    Failed,
    Skipped,
    /// The run applied its changes except user removals that exceeded the
    /// connector's deletion guard; an admin approves or discards them.
    NeedsApproval,
}

impl RunStatus {
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    #[default]
    Manual,
    Schedule,
    Console,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::Schedule => "schedule",
            Self::Console => "console",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    #[default]
    Full,
    Incremental,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ObjectCounts {
    pub seen: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub removed: u64,
    /// Users Okta listed that the connector's scope or mapping rules left out.
    #[serde(default)]
    pub out_of_scope: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MembershipCounts {
    pub seen: u64,
    pub added: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct RunCounts {
    pub users: ObjectCounts,
    pub groups: ObjectCounts,
    pub memberships: MembershipCounts,
}

/// Where a running sync is; written to the Run as it goes.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub phase: String,
    pub pages: u64,
    pub users: u64,
    pub groups: u64,
    pub groups_total: u64,
    pub groups_done: u64,
    pub percent: u8,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RunError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub run_id: String,
    pub connector_id: ConnectorId,
    pub trigger: Trigger,
    pub mode: SyncMode,
    pub status: RunStatus,
    pub queued_at: String,
    pub started_at: String,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub progress: Progress,
    #[serde(default)]
    pub counts: RunCounts,
    #[serde(default)]
    pub okta: CallCounts,
    /// Mirror items written by the run and the time spent writing them.
    #[serde(default)]
    pub dynamo: WriteCounts,
    /// Wall time of the run in milliseconds, once it ended.
    #[serde(default)]
    pub duration_ms: u64,
    #[serde(default)]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RunError>,
    /// A dry run computes and records its changes without writing the
    /// mirror or moving the incremental watermark.
    #[serde(default)]
    pub dry_run: bool,
    /// Removals the deletion guard held (or, in a dry run, would hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<Approval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adoption: Option<AdoptionReport>,
}

/// User removals a run held because they exceeded the deletion guard, and
/// what became of them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub held_users: u64,
    /// Mirrored users that were not removed when the run started.
    pub mirrored_users: u64,
    /// The guard that was exceeded.
    pub guard: DeletionGuard,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<ApprovalDecision>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The later run that made this hold stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approved,
    Discarded,
    /// A later run finished first and computed removals of its own.
    Superseded,
}

/// Maximum number of unmatched logins a Run lists; `unmatchedCount` has all.
pub const MAX_UNMATCHED_LISTED: usize = 100;

/// Outcome of a run that adopted users from other connectors.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AdoptionReport {
    /// Users of the adopted connectors whose key a user of this one now has.
    pub adopted: u64,
    /// Logins of the adopted connectors' users (not removed) that matched
    /// no user of this connector, at most `MAX_UNMATCHED_LISTED`.
    pub unmatched: Vec<String>,
    pub unmatched_count: u64,
}

impl Run {
    /// A new run id sorts by creation time, so runs list newest first.
    pub fn new_id() -> String {
        let now = chrono::Utc::now().format("%Y%m%dT%H%M%S%3fZ");
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        format!("{now}-{suffix}")
    }

    pub fn queued(connector_id: ConnectorId, trigger: Trigger, mode: SyncMode) -> Self {
        let now = now_rfc3339();
        Self {
            run_id: Self::new_id(),
            connector_id,
            trigger,
            mode,
            status: RunStatus::Queued,
            queued_at: now.clone(),
            started_at: now,
            finished_at: None,
            progress: Progress {
                phase: "queued".into(),
                ..Progress::default()
            },
            counts: RunCounts::default(),
            okta: CallCounts::default(),
            dynamo: WriteCounts::default(),
            duration_ms: 0,
            warnings: Vec::new(),
            error: None,
            dry_run: false,
            approval: None,
            adoption: None,
        }
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary {
            run_id: self.run_id.clone(),
            status: self.status,
            started_at: self.started_at.clone(),
            finished_at: self.finished_at.clone(),
        }
    }
}

/// A mirrored Okta user as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct UserRecord {
    pub id: String,
    pub key: String,
    pub status: String,
    pub login: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub profile: Map<String, Value>,
    pub created: Option<String>,
    pub activated: Option<String>,
    pub status_changed: Option<String>,
    pub last_login: Option<String>,
    pub last_updated: Option<String>,
    pub password_changed: Option<String>,
    pub first_synced_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<String>,
    /// When the user left Okta or the scope under the `keep` cleanup policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at: Option<String>,
    /// Values of mapping rules whose target is not a standard field.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
}

/// A mirrored Okta group as the API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecord {
    pub id: String,
    #[serde(rename = "type")]
    pub group_type: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub profile: Map<String, Value>,
    pub last_updated: Option<String>,
    pub last_membership_updated: Option<String>,
    pub member_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<String>,
}

/// One entry of a group's member list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MemberRecord {
    pub id: String,
    pub login: Option<String>,
    pub status: Option<String>,
}

/// One admin action recorded in the audit trail. It names who acted, on
/// what and when, and never contains a secret: a replaced token is recorded as
/// `"apiToken": "replaced"`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Time-ordered id, so that ids sort like `time`.
    pub id: String,
    pub time: String,
    pub action: AuditAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
    pub actor: Actor,
    /// API Gateway's id of the request, to find it in the access log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Changed values, for example `{"name": {"from": "A", "to": "B"}}`.
    #[serde(default)]
    pub details: Map<String, Value>,
}

/// The admin actions the audit trail records.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum AuditAction {
    #[serde(rename = "connector.created")]
    ConnectorCreated,
    #[serde(rename = "connector.updated")]
    ConnectorUpdated,
    #[serde(rename = "connector.deleted")]
    ConnectorDeleted,
    #[serde(rename = "sync.started")]
    SyncStarted,
    #[serde(rename = "schedule.updated")]
    ScheduleUpdated,
    #[serde(rename = "schedule.deleted")]
    ScheduleDeleted,
    #[serde(rename = "removals.approved")]
    RemovalsApproved,
    #[serde(rename = "removals.discarded")]
    RemovalsDiscarded,
}

/// The caller of an API request, as API Gateway's authorizer identified it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    /// IAM: the caller's ARN (or its caller id when API Gateway sends no
    /// ARN). JWT: the `sub` claim. Anonymous: `"anonymous"`.
    pub id: String,
    /// JWT: the `iss` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// IAM: the caller's AWS account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    Iam,
    Jwt,
    /// No authorizer ran, as under `cargo lambda watch`.
    Anonymous,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_exceeded_by_share_or_count() {
        let guard = DeletionGuard::default();

        assert!(!guard.is_exceeded(0, 0));
        assert!(!guard.is_exceeded(10, 100), "10% is not more than 10%");
        assert!(guard.is_exceeded(11, 100));
        assert!(!guard.is_exceeded(500, 10_000));
        assert!(guard.is_exceeded(501, 100_000));
    }

    #[test]
    fn guard_share_one_allows_every_removal() {
        let guard = DeletionGuard {
            max_share: 1.0,
            max_count: 1_000,
        };

        assert!(!guard.is_exceeded(50, 50));
        assert!(guard.is_exceeded(1_001, 1_001));
    }
}
