//! A fake Okta org served over HTTP on 127.0.0.1, for tests, demos and
//! benchmarks of the Okta sync.
//!
//! It serves the read endpoints a sync uses: `/api/v1/users`,
//! `/api/v1/groups`, `/api/v1/groups/{id}/users` and the single-object reads.
//! Like Okta, it checks SSWS tokens, pages with opaque cursors and one `Link`
//! header per relation, and hides DEPROVISIONED users unless the request
//! filters or searches. It sends rate-limit headers and Okta error objects,
//! and answers 429 over a bucket's limit or the concurrency limit. Latency
//! and scripted faults are configurable. The org is generated from a seed and
//! can be changed while the server runs.
//!
//! Known differences from Okta: the fake serves only GET and HEAD. It has no
//! OAuth token endpoint, no System Log and no `q` parameter on users. Its
//! `search` sees changes at once, while Okta's search is eventually consistent.
//!
//! Routes under `/__admin` (summary, mutate, requests, faults, clock, tokens)
//! control the fake without a token; see `admin.rs`.
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

pub use faults::{Fault, FaultKind};
pub use generate::{generate_org, OrgSpec};
pub use limits::{Bucket, RateLimits};
pub use model::{
    format_timestamp, Group, GroupType, Org, OrgError, OrgSummary, Timestamp, User, UserStatus,
};
pub use mutate::MutationSummary;
pub use profile::Profile;
pub use server::{Config, FakeOkta, OrgGuard, RequestRecord};
