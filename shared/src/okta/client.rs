//! HTTP client for Okta's management API: SSWS auth, cursor pagination over
//! `Link` headers, and retries of 429, 5xx and connection errors. Requests
//! count against the rate-limit buckets `users`, `groups`, `members`,
//! `user-groups` and `logs`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, AUTHORIZATION, DATE};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;

use super::error::{OktaError, OktaErrorBody};
use super::governor::{Governor, GovernorSettings};
use super::link::next_link;
use super::model::{
    LogEvent, MemberRef, MembershipEvent, OktaGroup, OktaUser, MEMBERSHIP_ADD, MEMBERSHIP_REMOVE,
    USER_DELETE, USER_STATUSES,
};
use crate::domain::{ApiToken, DomainPolicy, InvalidValue, OktaDomain};

/// Page sizes: Okta's maxima for users (200) and members (1000); groups may go
/// to 10000, but large pages of groups are slow to serve, so 1000 is used.
pub const USERS_PAGE_SIZE: u32 = 200;
pub const GROUPS_PAGE_SIZE: u32 = 1000;
pub const MEMBERS_PAGE_SIZE: u32 = 1000;
/// The System Log's maximum page size; its default is 100.
pub const LOGS_PAGE_SIZE: u32 = 1000;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub request_timeout: Duration,
    /// Attempts for one request that fails with 5xx or a connection error.
    pub max_attempts: u32,
    /// 429 answers waited out for one request before giving up.
    pub max_throttle_waits: u32,
    /// Upper bound of one wait for a rate-limit reset.
    pub max_reset_wait: Duration,
    pub governor: GovernorSettings,
    /// Waits that would end after this instant fail with `DeadlineReached`.
    pub deadline: Option<Instant>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(60),
            max_attempts: 5,
            max_throttle_waits: 10,
            max_reset_wait: Duration::from_secs(90),
            governor: GovernorSettings::default(),
            deadline: None,
        }
    }
}

/// Counters for the Run record, shared by clones of a client.
#[derive(Debug, Default)]
pub struct CallStats {
    pub calls: AtomicU64,
    pub throttled: AtomicU64,
    pub retries: AtomicU64,
    /// Milliseconds spent in requests, summed over concurrent requests.
    pub request_ms: AtomicU64,
    /// Epoch seconds of the `Date` header of the first answer, 0 until then.
    pub first_date: std::sync::atomic::AtomicI64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallCounts {
    pub calls: u64,
    pub throttled: u64,
    pub retries: u64,
    /// Time spent in Okta requests, summed over concurrent requests.
    #[serde(default)]
    pub request_ms: u64,
}

impl CallStats {
    pub fn snapshot(&self) -> CallCounts {
        CallCounts {
            calls: self.calls.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            request_ms: self.request_ms.load(Ordering::Relaxed),
        }
    }
}

#[derive(Clone)]
pub struct OktaClient {
    http: reqwest::Client,
    base: Url,
    token: ApiToken,
    options: ClientOptions,
    governor: Arc<Governor>,
    stats: Arc<CallStats>,
}

/// An admin's expression that selects the users a connector mirrors.
#[derive(Debug, Clone, Copy)]
pub enum UserSelection<'a> {
    /// Okta `filter`: consistent, limited attributes.
    Filter(&'a str),
    /// Okta `search`: any profile attribute, eventually consistent.
    Search(&'a str),
}

impl<'a> UserSelection<'a> {
    /// Returns the query parameter's name and value.
    pub fn parameter(&self) -> (&'static str, &'a str) {
        match self {
            Self::Filter(expression) => ("filter", expression),
            Self::Search(expression) => ("search", expression),
        }
    }
}

/// One page of a list and the link to the next one.
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Url>,
}

impl OktaClient {
    /// Builds a client for a stored domain, checking it again against the
    /// running function's policy before any connection is made.
    pub fn new(
        domain: &OktaDomain,
        token: ApiToken,
        policy: &DomainPolicy,
        options: ClientOptions,
    ) -> Result<Self, InvalidValue> {
        let domain = domain.recheck(policy)?;
        let base = Url::parse(&domain.base_url()).map_err(|error| InvalidValue {
            code: "invalid_domain",
            message: format!("domain '{domain}' does not form a URL: {error}"),
        })?;
        let http = reqwest::Client::builder()
            .timeout(options.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            // Okta does not redirect API calls; following one could lead off the org.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("okta-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| InvalidValue {
                code: "invalid_domain",
                message: format!("could not build the HTTP client: {error}"),
            })?;
        let governor = Governor::for_domain(domain.as_str(), options.governor);
        Ok(Self {
            http,
            base,
            token,
            options,
            governor,
            stats: Arc::new(CallStats::default()),
        })
    }

    pub fn stats(&self) -> Arc<CallStats> {
        self.stats.clone()
    }

    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.options.deadline = deadline;
    }

    /// First page of every user, DEPROVISIONED included: a filter that names
    /// every status is needed, because without one Okta hides DEPROVISIONED.
    pub fn users_first_page(&self) -> Url {
        let filter = USER_STATUSES
            .iter()
            .map(|status| format!("status eq \"{status}\""))
            .collect::<Vec<_>>()
            .join(" or ");
        self.url(
            "/api/v1/users",
            &[("limit", USERS_PAGE_SIZE.to_string()), ("filter", filter)],
        )
    }

    /// First page of the users changed after `since` (an Okta timestamp).
    /// A `lastUpdated` filter returns DEPROVISIONED users too.
    pub fn users_changed_since(&self, since: &str) -> Url {
        self.url(
            "/api/v1/users",
            &[
                ("limit", USERS_PAGE_SIZE.to_string()),
                ("filter", format!("lastUpdated gt \"{since}\"")),
            ],
        )
    }

    /// First page of the users an admin's `filter` or `search` expression
    /// selects, limited to those changed after `since` when given. Okta
    /// returns DEPROVISIONED users to any filtered or searched list.
    pub fn users_selected(&self, selection: &UserSelection<'_>, since: Option<&str>) -> Url {
        let (name, expression) = selection.parameter();
        let expression = match since {
            Some(since) => format!("({expression}) and lastUpdated gt \"{since}\""),
            None => expression.to_owned(),
        };
        self.url(
            "/api/v1/users",
            &[("limit", USERS_PAGE_SIZE.to_string()), (name, expression)],
        )
    }

    /// Asks Okta for one user matching an admin's expression, so Okta's own
    /// parser checks it (E0000053 for a filter, E0000031 for a search).
    pub async fn try_user_selection(&self, selection: &UserSelection<'_>) -> Result<(), OktaError> {
        let (name, expression) = selection.parameter();
        let url = self.url(
            "/api/v1/users",
            &[("limit", "1".into()), (name, expression.to_owned())],
        );
        self.get_page::<OktaUser>(url, "users").await?;
        Ok(())
    }

    /// First page of the groups whose profile or membership changed after
    /// `since`, with their member counts (`expand=stats`), against which
    /// members derived from the System Log are checked.
    pub fn groups_changed_since(&self, since: &str) -> Url {
        self.url(
            "/api/v1/groups",
            &[
                ("limit", GROUPS_PAGE_SIZE.to_string()),
                (
                    "filter",
                    format!("lastUpdated gt \"{since}\" or lastMembershipUpdated gt \"{since}\""),
                ),
                ("expand", "stats".to_string()),
            ],
        )
    }

    /// First page of the System Log's membership adds and removes and user
    /// deletions published from `since` to `until` (Okta timestamps), oldest
    /// first.
    pub fn membership_events_first_page(&self, since: &str, until: &str) -> Url {
        let filter = [MEMBERSHIP_ADD, MEMBERSHIP_REMOVE, USER_DELETE]
            .iter()
            .map(|event_type| format!("eventType eq \"{event_type}\""))
            .collect::<Vec<_>>()
            .join(" or ");
        self.url(
            "/api/v1/logs",
            &[
                ("since", since.to_owned()),
                ("until", until.to_owned()),
                ("filter", filter),
                ("sortOrder", "ASCENDING".to_owned()),
                ("limit", LOGS_PAGE_SIZE.to_string()),
            ],
        )
    }

    /// Reads every membership add and remove and user deletion the System
    /// Log published from `since` to `until`, following `next` links. Events
    /// that failed are left out. A page that contains no event ends the list
    /// too, because Okta keeps a `next` link on polling requests.
    pub async fn membership_events(
        &self,
        since: &str,
        until: &str,
    ) -> Result<Vec<MembershipEvent>, OktaError> {
        let mut events = Vec::new();
        let mut next = Some(self.membership_events_first_page(since, until));
        while let Some(url) = next {
            let path = url.path().to_owned();
            let page: Page<LogEvent> = self.get_page(url, "logs").await?;
            if page.items.is_empty() {
                break;
            }
            for event in &page.items {
                let converted =
                    event
                        .membership_event()
                        .map_err(|reason| OktaError::InvalidResponse {
                            path: path.clone(),
                            request_id: String::new(),
                            reason,
                        })?;
                events.extend(converted);
            }
            next = page.next;
        }
        Ok(events)
    }

    /// Okta's clock at this client's first answer (its `Date` header), the
    /// base of the next incremental run's watermark.
    pub fn okta_time_at_first_answer(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        let seconds = self.stats.first_date.load(Ordering::Relaxed);
        (seconds != 0)
            .then(|| chrono::DateTime::from_timestamp(seconds, 0))
            .flatten()
    }

    pub fn groups_first_page(&self) -> Url {
        self.url("/api/v1/groups", &[("limit", GROUPS_PAGE_SIZE.to_string())])
    }

    pub fn members_first_page(&self, group_id: &str) -> Url {
        let mut url = self.url(
            "/api/v1/groups",
            &[("limit", MEMBERS_PAGE_SIZE.to_string())],
        );
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(group_id).push("users");
        }
        url
    }

    pub async fn users_page(&self, url: Url) -> Result<Page<OktaUser>, OktaError> {
        self.get_page(url, "users").await
    }

    pub async fn groups_page(&self, url: Url) -> Result<Page<OktaGroup>, OktaError> {
        self.get_page(url, "groups").await
    }

    pub async fn members_page(&self, url: Url) -> Result<Page<MemberRef>, OktaError> {
        self.get_page(url, "members").await
    }

    /// Reads one user by Okta id, login or login shortname. The value is one
    /// path segment, percent-encoded, so `?`, `#` and `%` in a login stay in
    /// it. Okta returns 404 E0000007 when no user matches.
    pub async fn get_user(&self, login_or_id: &str) -> Result<OktaUser, OktaError> {
        let mut url = self.url("/api/v1/users", &[]);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(login_or_id);
        }
        self.get_object(url, "user").await
    }

    /// Lists the groups a user belongs to (`GET /api/v1/users/{id}/groups`),
    /// following `next` links in case Okta pages the response.
    pub async fn user_groups(&self, user_id: &str) -> Result<Vec<OktaGroup>, OktaError> {
        let mut url = self.url("/api/v1/users", &[]);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.push(user_id).push("groups");
        }
        let mut groups = Vec::new();
        let mut next = Some(url);
        while let Some(url) = next {
            let page: Page<OktaGroup> = self.get_page(url, "user-groups").await?;
            groups.extend(page.items);
            next = page.next;
        }
        Ok(groups)
    }

    /// Checks that the token works and can list users and groups.
    pub async fn probe(&self) -> Result<(), OktaError> {
        let users = self.url("/api/v1/users", &[("limit", "1".into())]);
        self.get_page::<OktaUser>(users, "users").await?;
        let groups = self.url("/api/v1/groups", &[("limit", "1".into())]);
        self.get_page::<OktaGroup>(groups, "groups").await?;
        Ok(())
    }

    fn host(&self) -> String {
        self.base[url::Position::BeforeHost..url::Position::AfterPort].to_owned()
    }

    fn url(&self, path: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in query {
                pairs.append_pair(name, value);
            }
        }
        url
    }

    /// Fetches one page. A 200 whose body does not parse (a connection cut
    /// mid-answer) is fetched again, like a 5xx.
    async fn get_page<T: DeserializeOwned>(
        &self,
        url: Url,
        bucket: &'static str,
    ) -> Result<Page<T>, OktaError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (body, headers, request_id) = self.get_with_retries(&url, bucket).await?;
            let items: Vec<T> = match serde_json::from_slice(&body) {
                Ok(items) => items,
                Err(error) if attempt < self.options.max_attempts => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        path = url.path(),
                        okta_request_id = request_id,
                        attempt,
                        error = %error,
                        "Okta's answer could not be parsed, fetching the page again"
                    );
                    continue;
                }
                Err(error) => {
                    return Err(OktaError::InvalidResponse {
                        path: url.path().to_owned(),
                        request_id,
                        reason: format!("the JSON list could not be parsed: {error}"),
                    })
                }
            };
            let next = match next_link(&headers) {
                Some(link) => Some(self.check_link(&link, &url, &request_id)?),
                None => None,
            };
            return Ok(Page { items, next });
        }
    }

    /// Fetches one JSON object. A 200 whose body does not parse is fetched
    /// again, like a 5xx.
    async fn get_object<T: DeserializeOwned>(
        &self,
        url: Url,
        bucket: &'static str,
    ) -> Result<T, OktaError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (body, _headers, request_id) = self.get_with_retries(&url, bucket).await?;
            match serde_json::from_slice(&body) {
                Ok(object) => return Ok(object),
                Err(error) if attempt < self.options.max_attempts => {
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        path = url.path(),
                        okta_request_id = request_id,
                        attempt,
                        error = %error,
                        "Okta's answer could not be parsed, fetching it again"
                    );
                }
                Err(error) => {
                    return Err(OktaError::InvalidResponse {
                        path: url.path().to_owned(),
                        request_id,
                        reason: format!("the JSON object could not be parsed: {error}"),
                    })
                }
            }
        }
    }

    /// A next link must stay on the org's host: the token goes with it.
    fn check_link(&self, link: &str, current: &Url, request_id: &str) -> Result<Url, OktaError> {
        let next = Url::parse(link).map_err(|error| OktaError::InvalidResponse {
            path: current.path().to_owned(),
            request_id: request_id.to_owned(),
            reason: format!("the next-page link is not a URL: {error}"),
        })?;
        let same_origin = next.scheme() == self.base.scheme()
            && next.host_str() == self.base.host_str()
            && next.port_or_known_default() == self.base.port_or_known_default();
        if !same_origin {
            return Err(OktaError::ForeignLink {
                host: self.base.host_str().unwrap_or_default().to_owned(),
                link_host: next.host_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(next)
    }

    /// Sends a GET, retrying 429 after the bucket resets and 5xx or
    /// connection errors with capped exponential backoff and jitter.
    async fn get_with_retries(
        &self,
        url: &Url,
        bucket: &'static str,
    ) -> Result<(Vec<u8>, HeaderMap, String), OktaError> {
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(500))
            .with_max_delay(Duration::from_secs(20))
            .with_jitter()
            .without_max_times()
            .build();
        let mut attempts = 0u32;
        let mut throttle_waits = 0u32;
        let path = url.path().to_owned();

        loop {
            attempts += 1;
            let outcome = self.send_once(url, bucket).await;
            let (retry_after, last_failure) = match outcome {
                Attempt::Done(body, headers, request_id) => return Ok((body, headers, request_id)),
                Attempt::Fatal(error) => return Err(error),
                Attempt::Throttled { wait, request_id } => {
                    throttle_waits += 1;
                    self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        path,
                        okta_request_id = request_id,
                        wait_ms = wait.as_millis() as u64,
                        "Okta answered 429, waiting for the rate-limit reset"
                    );
                    if throttle_waits > self.options.max_throttle_waits {
                        return Err(OktaError::Throttled {
                            path,
                            attempts: throttle_waits,
                        });
                    }
                    (wait, format!("HTTP 429 E0000047 on {path}"))
                }
                Attempt::Transient(error) => {
                    if attempts >= self.options.max_attempts {
                        return Err(error.into_final(self.host(), path, attempts));
                    }
                    let wait = backoff.next().unwrap_or(Duration::from_secs(20));
                    self.stats.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        path,
                        attempt = attempts,
                        wait_ms = wait.as_millis() as u64,
                        error = %error.describe(),
                        "Okta request failed, retrying"
                    );
                    (wait, format!("{} on {path}", error.describe()))
                }
            };
            if let Some(deadline) = self.options.deadline {
                if Instant::now() + retry_after > deadline {
                    return Err(OktaError::DeadlineReached {
                        wait: retry_after,
                        last_failure,
                    });
                }
            }
            tokio::time::sleep(retry_after).await;
        }
    }

    async fn send_once(&self, url: &Url, bucket: &'static str) -> Attempt {
        let _slot = self.governor.admit(bucket).await;
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let attempt = self.request(url, bucket).await;
        let elapsed = started.elapsed().as_millis() as u64;
        self.stats.request_ms.fetch_add(elapsed, Ordering::Relaxed);
        attempt
    }

    async fn request(&self, url: &Url, bucket: &'static str) -> Attempt {
        let response = self
            .http
            .get(url.clone())
            .header(AUTHORIZATION, format!("SSWS {}", self.token.expose()))
            .header("Accept", "application/json")
            .send()
            .await;
        let response = match response {
            Ok(response) => response,
            Err(error) => return Attempt::Transient(Transient::Connection(error_chain(&error))),
        };

        let status = response.status();
        let headers = response.headers().clone();
        let request_id = header_str(&headers, "x-okta-request-id").unwrap_or_default();
        let reset_in = self.observe_rate_limit(bucket, &headers);

        // Bodies are read whole: a page is at most a few hundred KiB.
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(error) => {
                return Attempt::Transient(Transient::Connection(format!(
                    "the answer was cut off: {}",
                    error_chain(&error)
                )))
            }
        };
        if status.is_success() {
            return Attempt::Done(body, headers, request_id);
        }

        let error_body: OktaErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        let code = error_body.error_code.clone().unwrap_or_default();
        self.classify_failure(
            status, code, error_body, url, request_id, reset_in, &headers,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn classify_failure(
        &self,
        status: StatusCode,
        code: String,
        body: OktaErrorBody,
        url: &Url,
        request_id: String,
        reset_in: Option<Duration>,
        headers: &HeaderMap,
    ) -> Attempt {
        let path = url.path().to_owned();
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                // Okta's SDKs wait until Reset − Date + 1 s.
                let wait = reset_in
                    .map(|reset| reset + Duration::from_secs(1))
                    .unwrap_or(Duration::from_secs(5))
                    .min(self.options.max_reset_wait);
                Attempt::Throttled { wait, request_id }
            }
            StatusCode::UNAUTHORIZED => Attempt::Fatal(OktaError::InvalidToken {
                code: non_empty(code, "E0000011"),
                request_id,
            }),
            StatusCode::FORBIDDEN => {
                // A missing OAuth scope is a 403 with an empty body that names
                // the scope in www-authenticate.
                let code = if code.is_empty() {
                    header_str(headers, "www-authenticate").unwrap_or_else(|| "E0000006".into())
                } else {
                    code
                };
                Attempt::Fatal(OktaError::Forbidden {
                    code,
                    path,
                    request_id,
                })
            }
            StatusCode::NOT_FOUND => Attempt::Fatal(OktaError::NotFound {
                code: non_empty(code, "E0000007"),
                path,
                request_id,
            }),
            status if status.is_server_error() => Attempt::Transient(Transient::Status {
                status: status.as_u16(),
                code,
                request_id,
            }),
            status => Attempt::Fatal(OktaError::Rejected {
                status: status.as_u16(),
                code,
                summary: body.error_summary.unwrap_or_default(),
                path,
                request_id,
            }),
        }
    }

    /// Reads `X-Rate-Limit-*` and returns how long until the bucket resets,
    /// measured against the answer's `Date` rather than the local clock.
    fn observe_rate_limit(&self, bucket: &'static str, headers: &HeaderMap) -> Option<Duration> {
        let okta_date = header_str(headers, DATE.as_str())
            .and_then(|date| chrono::DateTime::parse_from_rfc2822(&date).ok())
            .map(|date| date.timestamp());
        if let Some(date) = okta_date {
            let _ = self.stats.first_date.compare_exchange(
                0,
                date,
                Ordering::Relaxed,
                Ordering::Relaxed,
            );
        }
        let reset: i64 = header_str(headers, "x-rate-limit-reset")?.parse().ok()?;
        let date = okta_date.unwrap_or_else(|| chrono::Utc::now().timestamp());
        let reset_in = Duration::from_secs(reset.saturating_sub(date).max(0) as u64);
        let limit = header_str(headers, "x-rate-limit-limit").and_then(|v| v.parse().ok());
        let remaining = header_str(headers, "x-rate-limit-remaining").and_then(|v| v.parse().ok());
        if let (Some(limit), Some(remaining)) = (limit, remaining) {
            self.governor.observe(bucket, limit, remaining, reset_in);
        }
        Some(reset_in)
    }
}

enum Attempt {
    Done(Vec<u8>, HeaderMap, String),
    Throttled { wait: Duration, request_id: String },
    Transient(Transient),
    Fatal(OktaError),
}

enum Transient {
    Connection(String),
    Status {
        status: u16,
        code: String,
        request_id: String,
    },
}

impl Transient {
    fn describe(&self) -> String {
        match self {
            Self::Connection(reason) => reason.clone(),
            Self::Status { status, code, .. } => format!("HTTP {status} {code}"),
        }
    }

    fn into_final(self, host: String, path: String, attempts: u32) -> OktaError {
        match self {
            Self::Connection(reason) => OktaError::Unreachable {
                host,
                attempts,
                reason,
            },
            Self::Status {
                status,
                code,
                request_id,
            } => OktaError::Unavailable {
                status,
                code,
                path,
                attempts,
                request_id,
            },
        }
    }
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn non_empty(code: String, default: &str) -> String {
    if code.is_empty() {
        default.to_owned()
    } else {
        code
    }
}

/// Joins an error and its sources, because reqwest's top-level message alone
/// ("error sending request") does not say what failed.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
