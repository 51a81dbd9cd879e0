//! A fake Okta org served over HTTP on 127.0.0.1, for tests, demos and
//! benchmarks of the Okta sync.
//!
//! It serves the read endpoints a sync uses: `/api/v1/users`,
//! `/api/v1/groups`, `/api/v1/groups/{id}/users`, the single-object reads and
//! the System Log (`/api/v1/logs`) with the membership events and user
//! deletions of the changes made while it runs.
//! Like Okta, it checks SSWS tokens, pages with opaque cursors and one `Link`
//! header per relation, and hides DEPROVISIONED users unless the request
//! filters or searches. It sends rate-limit headers and Okta error objects,
//! and answers 429 over a bucket's limit or the concurrency limit. Latency
//! and scripted faults are configurable. The org is generated from a seed and
//! can be changed while the server runs.
//!
//! Known differences from Okta: the fake serves only GET and HEAD. It has no
//! OAuth token endpoint and no `q` parameter on users or logs. Its `search`
//! returns changes at once, while Okta's search is eventually consistent. Its
//! System Log contains only membership adds and removes and user deletions, and
//! a log request without `until` ends like a bounded one instead of polling.
//!
//! Routes under `/__admin` (summary, mutate, requests, faults, clock, tokens,
//! logs) control the fake without a token; see `admin.rs`.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
//!
//! let fake = FakeOkta::start(Config::new(generate_org(&OrgSpec::small()))).await?;
//! println!("GET {}/api/v1/users with SSWS {}", fake.base_url(), fake.token());
//! # Ok(())
//! # }
//! ```

mod admin;
mod api;
mod faults;
mod generate;
mod limits;
mod model;
mod mutate;
mod profile;
mod query;
mod server;
mod system_log;

pub use faults::{Fault, FaultKind};
pub use generate::{generate_org, OrgSpec};
pub use limits::{Bucket, RateLimits};
pub use model::{
    format_timestamp, Group, GroupType, Org, OrgError, OrgSummary, Timestamp, User, UserStatus,
};
pub use mutate::MutationSummary;
pub use profile::Profile;
pub use server::{Config, FakeOkta, OrgGuard, RequestRecord};
pub use system_log::{
    LogEvent, LogSettings, LogTarget, SystemLog, MEMBERSHIP_ADD, MEMBERSHIP_REMOVE, USER_DELETE,
};
