//! The DynamoDB store: one table with `pk`/`sk` keys and one index (`gsi1`)
//! holding connectors, runs, run leases and the mirror.
//!
//! Key layout (cid = connector id):
//! - connector: `pk = "connector"`, `sk = cid`
//! - run lease: `pk = "c#cid"`, `sk = "lease"`
//! - run: `pk = "c#cid#run"`, `sk = runId` (run ids sort by time)
//! - user: `pk = "c#cid#user"`, `sk = Okta user id`
//! - group: `pk = "c#cid#group"`, `sk = Okta group id`
//! - membership: `pk = "c#cid#members#groupId"`, `sk = userId`, and on the
//!   index `gsi1pk = "c#cid#groups-of#userId"`, `gsi1sk = groupId`, so both
//!   directions read as one query. A partition per group spreads the writes
//!   of large syncs over many keys.
//! - change log, held removals and the pending hold: see `changes.rs`.
//! - audit record: `pk = "audit"` and `pk = "audit#c#cid"`, `sk = record id`
//! - idempotency key: `pk = "idem#<route>"`, `sk = Idempotency-Key`

mod audit;
mod batch;
mod changes;
mod connectors;
mod diff;
mod idempotency;
mod items;
mod mirror;
mod quarantine;
mod removal;
mod runs;
mod user_refresh;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::Client;

pub use batch::BATCH_WRITE_MAX;
pub use changes::{Change, ChangeAction, ChangeObject, ChangePosition, CHANGE_SHARDS};
pub use diff::{changed_group_attributes, changed_user_attributes};
pub use idempotency::{ClaimOutcome, StoredResponse, IDEMPOTENCY_TTL_SECONDS};
pub use mirror::{
    group_hash, mapped_user_hash, user_hash, GroupIndexEntry, MemberQuery, MirrorPage, UserFilter,
    UserIndexEntry,
};
pub use quarantine::FailureCount;
pub use removal::{OWNED_USER_ATTRIBUTES, REMOVED_STATUS};
pub use runs::{Checkpoint, CheckpointAdditions, CheckpointParts, LeaseOutcome, SyncState};
pub use user_refresh::{UserItemCondition, UserRefresh};

use crate::domain::ConnectorId;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB call {operation} failed: {message}")]
    Dynamo {
        operation: &'static str,
        message: String,
    },
    #[error("item in DynamoDB could not be read ({what}): {message}")]
    Corrupt { what: String, message: String },
    #[error("connector {0} was not found")]
    ConnectorNotFound(ConnectorId),
    #[error("a sync of this connector is already queued or running (run {run_id})")]
    RunActive { run_id: String },
    #[error("the item was changed by another request")]
    Conflict,
    #[error("the connector is at version {current}, not the expected one")]
    VersionMismatch { current: u64 },
}

impl StoreError {
    pub(crate) fn dynamo<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: std::error::Error + ProvideErrorMetadata + 'static,
        R: std::fmt::Debug,
    {
        Self::Dynamo {
            operation,
            message: crate::aws_error::describe(&error),
        }
    }

    pub(crate) fn corrupt(what: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Self::Corrupt {
            what: what.into(),
            message: error.to_string(),
        }
    }
}

/// Tells whether a conditional write failed only because its condition was
/// false.
pub(crate) fn condition_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

/// Converts the result of a write that is needed only while its condition
/// is true. A failed condition means there was nothing to do, not an error.
pub(crate) fn unless_condition_failed<O, E, R>(
    operation: &'static str,
    result: Result<O, SdkError<E, R>>,
) -> Result<(), StoreError>
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(()),
        Err(error) if condition_failed(&error) => Ok(()),
        Err(error) => Err(StoreError::dynamo(operation, error)),
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    /// Runs expire (DynamoDB TTL) after this many days.
    retention_days: i64,
    stats: std::sync::Arc<WriteStats>,
}

/// Mirror writes of this store (users, groups, memberships; not runs or
/// leases), shared by its clones.
#[derive(Debug, Default)]
pub struct WriteStats {
    pub items_written: std::sync::atomic::AtomicU64,
    /// Milliseconds spent in write calls, summed over concurrent calls.
    pub write_ms: std::sync::atomic::AtomicU64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteCounts {
    pub items_written: u64,
    pub write_ms: u64,
}

impl WriteStats {
    pub fn snapshot(&self) -> WriteCounts {
        use std::sync::atomic::Ordering::Relaxed;
        WriteCounts {
            items_written: self.items_written.load(Relaxed),
            write_ms: self.write_ms.load(Relaxed),
        }
    }

    pub(crate) fn record(&self, items: usize, started: std::time::Instant) {
        use std::sync::atomic::Ordering::Relaxed;
        self.items_written.fetch_add(items as u64, Relaxed);
        self.write_ms
            .fetch_add(started.elapsed().as_millis() as u64, Relaxed);
    }
}

impl WriteCounts {
    /// Writes made between `before` and this snapshot.
    pub fn since(self, before: WriteCounts) -> WriteCounts {
        WriteCounts {
            items_written: self.items_written.saturating_sub(before.items_written),
            write_ms: self.write_ms.saturating_sub(before.write_ms),
        }
    }
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>, retention_days: i64) -> Self {
        Self {
            client,
            table: table.into(),
            retention_days,
            stats: Default::default(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn write_stats(&self) -> WriteCounts {
        self.stats.snapshot()
    }

    /// Expiry time (epoch seconds, the unit DynamoDB TTL reads) of a run or
    /// audit record written now.
    pub(crate) fn expires_at(&self) -> i64 {
        epoch_seconds() + self.retention_days * 24 * 3600
    }
}

/// Current time in epoch seconds.
pub(crate) fn epoch_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) mod keys {
    use crate::domain::ConnectorId;

    pub const CONNECTOR_PK: &str = "connector";
    pub const LEASE_SK: &str = "lease";

    pub fn lease_pk(id: &ConnectorId) -> String {
        format!("c#{id}")
    }

    pub fn runs_pk(id: &ConnectorId) -> String {
        format!("c#{id}#run")
    }

    pub fn users_pk(id: &ConnectorId) -> String {
        format!("c#{id}#user")
    }

    pub fn groups_pk(id: &ConnectorId) -> String {
        format!("c#{id}#group")
    }

    pub fn members_pk(id: &ConnectorId, group_id: &str) -> String {
        format!("c#{id}#members#{group_id}")
    }

    pub fn groups_of_pk(id: &ConnectorId, user_id: &str) -> String {
        format!("c#{id}#groups-of#{user_id}")
    }
}
