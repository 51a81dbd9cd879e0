//! Library behind the Okta user and group sync: domain types, the Okta client,
//! the DynamoDB mirror store, token storage, schedule translation and the sync
//! engine. The Lambda functions under `functions/` are thin entry points over it.

pub mod schedule;
