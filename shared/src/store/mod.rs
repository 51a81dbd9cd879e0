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

mod batch;
mod connectors;
mod items;
mod mirror;
mod runs;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::Client;

pub use batch::BATCH_WRITE_MAX;
pub use mirror::{
    group_hash, user_hash, GroupIndexEntry, MemberQuery, MirrorPage, UserFilter, UserIndexEntry,
};
pub use runs::LeaseOutcome;

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

#[derive(Clone, Debug)]
pub struct Store {
    client: Client,
    table: String,
    /// Runs expire (DynamoDB TTL) after this many days.
    retention_days: i64,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>, retention_days: i64) -> Self {
        Self {
            client,
            table: table.into(),
            retention_days,
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
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
