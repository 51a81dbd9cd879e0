//! Records the API returns and the store keeps: connectors, runs, mirrored
//! users and groups. Field names are the API contract (camelCase JSON).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::{ConnectorId, OktaDomain};
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
