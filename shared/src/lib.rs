//! Library behind the Okta user and group sync: domain types, the Okta client,
//! the DynamoDB mirror store, token storage, schedule translation and the sync
//! engine. The Lambda functions under `functions/` are thin entry points over it.

pub mod api;
pub mod aws_error;
pub mod config;
pub mod domain;
pub mod handoff;
pub mod lifecycle;
pub mod okta;
pub mod records;
pub mod schedule;
pub mod scheduler;
pub mod secrets;
pub mod store;
pub mod sync;
pub mod telemetry;
