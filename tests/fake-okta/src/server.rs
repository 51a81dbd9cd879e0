//! The HTTP server: the request pipeline (concurrency, rate limits, auth,
//! faults, latency), the handle that controls it, and its request log.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::Deref;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, DATE, HOST, LINK};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Router;
use chrono::{Duration as TimeDelta, SubsecRound, Utc};
use rand::RngExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{self, ApiRequest, Reply};
use crate::faults::{Fault, FaultKind, FaultPlan};
use crate::limits::{Bucket, Buckets, RateLimits, RateState};
use crate::model::{to_okta_precision, Org, OrgError, OrgSummary, Timestamp, UserStatus};
use crate::mutate::MutationSummary;
use crate::system_log::LogSettings;

/// Settings for [`FakeOkta::start`].
#[derive(Clone)]
pub struct Config {
    pub org: Org,
    /// The API token with full read access, sent as `Authorization: SSWS <token>`.
    pub token: String,
    /// Delay added to every API request before its response is sent.
    /// Concurrent requests wait in parallel.
    pub latency: Duration,
    pub rate_limits: RateLimits,
    /// Requests in flight above this number get 429 E0000047, as with Okta's
    /// per-org concurrency limit. Disabled rate limits disable this check too.
    pub max_concurrent: usize,
}

impl Config {
    /// Workforce rate limits, no latency, 75 concurrent requests and a fresh
    /// random token of the form `fake-okta-token-<32 hex digits>`.
    pub fn new(org: Org) -> Self {
        let mut rng = rand::rng();
        let token = format!(
            "fake-okta-token-{:016x}{:016x}",
            rng.random::<u64>(),
            rng.random::<u64>()
        );
        Config {
            org,
            token,
            latency: Duration::ZERO,
            rate_limits: RateLimits::default(),
            max_concurrent: 75,
        }
    }
}

/// Leaves the token out and shows the org as counts, so that logging a
/// config neither leaks the secret nor prints every user.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("org", &self.org.summary())
            .field("token", &"<redacted>")
            .field("latency", &self.latency)
            .field("rate_limits", &self.rate_limits)
            .field("max_concurrent", &self.max_concurrent)
            .finish()
    }
}

/// One API request as the log keeps it. Requests to `/__admin` are not logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Arrival time in milliseconds since the server started.
    pub at_ms: u64,
    pub method: String,
    pub path: String,
    /// The raw query string, empty when there is none.
    pub query: String,
    pub status: u16,
    /// `users`, `groups` or `other`.
    pub bucket: String,
    /// Requests in flight when this one arrived, itself included.
    pub in_flight: usize,
    pub request_id: String,
    /// The injected fault applied to this request, if any.
    pub fault: Option<String>,
    /// Time from arrival until the response headers were ready.
    pub duration_ms: u64,
}

/// What a token may read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    Full,
    /// A group admin's token: only these groups and their members.
    Groups(BTreeSet<String>),
    Revoked,
}

/// The fake's clock: wall time at start, advanced by a monotonic clock and by
/// any offset a test adds. It starts after every generated timestamp, so
/// changes always look newer than the generated org.
pub(crate) struct Clock {
    wall_at_start: Timestamp,
    started: Instant,
    offset_ms: AtomicI64,
}

impl Clock {
    fn new(org: &Org) -> Clock {
        let newest = org
            .users()
            .map(|user| user.last_updated)
            .chain(
                org.groups()
                    .map(|group| group.last_updated.max(group.last_membership_updated)),
            )
            .max();
        let mut wall = Utc::now();
        if let Some(newest) = newest {
            wall = wall.max(newest + TimeDelta::seconds(1));
        }
        Clock {
            wall_at_start: wall,
            started: Instant::now(),
            offset_ms: AtomicI64::new(0),
        }
    }

    pub fn at(&self, instant: Instant) -> Timestamp {
        let elapsed = instant.saturating_duration_since(self.started);
        let elapsed = TimeDelta::from_std(elapsed).unwrap_or_default();
        self.wall_at_start
            + elapsed
            + TimeDelta::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }

    pub fn now(&self) -> Timestamp {
        self.at(Instant::now())
    }

    fn advance(&self, by: Duration) {
        let millis = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.fetch_add(millis, Ordering::SeqCst);
    }
}

/// State shared by the handle and every request.
pub(crate) struct Shared {
    org: RwLock<Org>,
    tokens: Mutex<HashMap<String, Access>>,
    main_token: String,
    latency: Duration,
    rate_limits: RateLimits,
    max_concurrent: usize,
    buckets: Mutex<Buckets>,
    in_flight: AtomicUsize,
    faults: Mutex<FaultPlan>,
    log: Mutex<Vec<RequestRecord>>,
    clock: Clock,
    request_serial: AtomicU64,
}

/// Locks a mutex even if a panicking thread poisoned it, because every value
/// behind these locks stays consistent between statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn read_org(&self) -> RwLockReadGuard<'_, Org> {
        self.org.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_org(&self) -> RwLockWriteGuard<'_, Org> {
        self.org.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn access_for(&self, authorization: Option<&str>) -> Access {
        let Some(token) = authorization.and_then(|value| value.strip_prefix("SSWS ")) else {
            return Access::Revoked;
        };
        lock(&self.tokens)
            .get(token.trim())
            .cloned()
            .unwrap_or(Access::Revoked)
    }

    fn next_request_id(&self) -> String {
        let serial = self.request_serial.fetch_add(1, Ordering::SeqCst);
        format!("{}{serial:07}", api::random_alphanumeric(20))
    }

    pub(crate) fn now(&self) -> Timestamp {
        to_okta_precision(self.clock.now())
    }

    /// Returns the fake's clock at millisecond precision, for changes.
    /// Objects keep whole seconds, while System Log events keep the
    /// milliseconds as Okta's do.
    fn change_time(&self) -> Timestamp {
        self.clock.now().trunc_subsecs(3)
    }

    pub(crate) fn log_settings(&self) -> LogSettings {
        self.read_org().log.settings
    }

    pub(crate) fn set_log_settings(&self, settings: LogSettings) {
        self.write_org().log.settings = settings;
    }

    pub(crate) fn summary(&self) -> OrgSummary {
        self.read_org().summary()
    }

    pub(crate) fn mutate_share(&self, seed: u64, share: f64) -> MutationSummary {
        let now = self.change_time();
        self.write_org().mutate_share(seed, share, now)
    }

    pub(crate) fn requests(&self) -> Vec<RequestRecord> {
        let mut records = lock(&self.log).clone();
        records.sort_by_key(|record| record.at_ms);
        records
    }

    pub(crate) fn clear_requests(&self) {
        lock(&self.log).clear();
    }

    pub(crate) fn inject(&self, fault: Fault) {
        lock(&self.faults).add(fault);
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    pub(crate) fn faults_applied(&self) -> usize {
        lock(&self.faults).applied()
    }

    pub(crate) fn advance_clock(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub(crate) fn set_access(&self, token: &str, access: Access) {
        lock(&self.tokens).insert(token.to_string(), access);
    }
}

/// Decrements the in-flight count when a request ends, even if its future is dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Handles every request outside `/__admin`: Okta's API.
async fn serve_api(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let arrived = Instant::now();
    let in_flight = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let mut in_flight_slot = Some(InFlight(&shared.in_flight));
    let (parts, _body) = request.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let bucket = Bucket::for_path(&path);
    let request_id = shared.next_request_id();

    let authorization = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok());
    let mut admission = admit(&shared, bucket, in_flight, arrived, authorization, &path);
    let extra_delay = match &admission.fault {
        Some(FaultKind::Delay(delay)) => *delay,
        _ => Duration::ZERO,
    };
    // Rejected requests wait too, so latency shapes every response the same way,
    // but they free their concurrency slot at once because no work remains.
    if admission.rejection.is_some() {
        in_flight_slot.take();
    }
    tokio::time::sleep(shared.latency + extra_delay).await;

    let mut reply = match admission.rejection.take() {
        Some(reply) => reply,
        None => {
            let host = parts
                .headers
                .get(HOST)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("localhost");
            let api_request =
                ApiRequest::new(&parts.method, &path, &query, host, shared.clock.at(arrived));
            let org = shared.read_org();
            api::route(&org, &admission.access, &api_request)
        }
    };
    reply.body_mode = match admission.fault {
        Some(FaultKind::TruncatedJson) => BodyMode::Truncated,
        Some(FaultKind::ResetConnection) => BodyMode::Reset,
        _ => BodyMode::Whole,
    };

    let response = build_response(&shared, reply, admission.rate, &request_id);
    let record = RequestRecord {
        at_ms: duration_ms(arrived.saturating_duration_since(shared.clock.started)),
        method: parts.method.to_string(),
        path,
        query,
        status: response.status().as_u16(),
        bucket: bucket.name().to_string(),
        in_flight,
        request_id,
        fault: admission.fault.as_ref().map(|kind| kind.name().to_string()),
        duration_ms: duration_ms(arrived.elapsed()),
    };
    lock(&shared.log).push(record);
    drop(in_flight_slot);
    response
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The outcome of the checks made before a request is routed.
struct Admission {
    rate: RateState,
    access: Access,
    /// The reply when a check rejects the request.
    rejection: Option<Reply>,
    fault: Option<FaultKind>,
}

/// Checks, in order: the concurrency limit, the rate-limit bucket, the token
/// and the scripted faults. Faults count only requests that pass the first three.
fn admit(
    shared: &Shared,
    bucket: Bucket,
    in_flight: usize,
    arrived: Instant,
    authorization: Option<&str>,
    path: &str,
) -> Admission {
    let mut admission = {
        let mut buckets = lock(&shared.buckets);
        // NOTE: a request over the concurrency limit does not use up its
        // bucket, and its headers report the bucket's current state. Okta does
        // not document which headers it sends for concurrency rejections.
        if shared.rate_limits.enabled && in_flight > shared.max_concurrent {
            let rate = buckets.peek(&shared.rate_limits, bucket, arrived);
            Admission {
                rate,
                access: Access::Revoked,
                rejection: Some(rate_limited()),
                fault: None,
            }
        } else {
            let rate = buckets.consume(&shared.rate_limits, bucket, arrived);
            Admission {
                rate,
                access: Access::Revoked,
                rejection: (!rate.allowed).then(rate_limited),
                fault: None,
            }
        }
    };
    if admission.rejection.is_some() {
        return admission;
    }
    admission.access = shared.access_for(authorization);
    if admission.access == Access::Revoked {
        admission.rejection = Some(Reply::error(
            StatusCode::UNAUTHORIZED,
            "E0000011",
            "Invalid token provided",
        ));
        return admission;
    }
    admission.fault = lock(&shared.faults).next_for(path);
    admission.rejection = match &admission.fault {
        Some(kind) => fault_reply(kind, &mut admission.rate),
        None => None,
    };
    admission
}

fn rate_limited() -> Reply {
    Reply::error(
        StatusCode::TOO_MANY_REQUESTS,
        "E0000047",
        "API call exceeded rate limit due to too many requests.",
    )
}

fn fault_reply(kind: &FaultKind, rate: &mut RateState) -> Option<Reply> {
    match kind {
        FaultKind::Status429 => {
            rate.remaining = 0;
            rate.reset_at = Instant::now() + Duration::from_secs(2);
            Some(rate_limited())
        }
        FaultKind::Status500 => Some(Reply::error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "E0000009",
            "Internal Server Error",
        )),
        FaultKind::Status503 => Some(Reply::html(
            StatusCode::SERVICE_UNAVAILABLE,
            "<html><head><title>503 Service Unavailable</title></head><body><h1>Service Unavailable</h1></body></html>",
        )),
        FaultKind::Status403 => Some(Reply::error(
            StatusCode::FORBIDDEN,
            "E0000006",
            "You do not have permission to perform the requested action",
        )),
        FaultKind::Delay(_) | FaultKind::TruncatedJson | FaultKind::ResetConnection => None,
    }
}

/// How the body of a reply reaches the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyMode {
    Whole,
    /// The first half only, with a `Content-Length` of that half.
    Truncated,
    /// The first half, then the connection breaks although `Content-Length`
    /// promised the whole body.
    Reset,
}

fn build_response(shared: &Shared, reply: Reply, rate: RateState, request_id: &str) -> Response {
    let (body, length) = response_body(reply.body, reply.body_mode);
    let mut response = Response::new(body);
    *response.status_mut() = reply.status;

    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(reply.content_type));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    let date = shared.clock.now().format("%a, %d %b %Y %H:%M:%S GMT");
    insert_text(headers, DATE, &date.to_string());
    insert_text(
        headers,
        HeaderName::from_static("x-okta-request-id"),
        request_id,
    );

    let reset = shared.clock.at(rate.reset_at);
    // Round the reset up, so waiting until it never ends inside the window.
    let reset_epoch = reset.timestamp() + i64::from(reset.timestamp_subsec_nanos() > 0);
    headers.insert(
        HeaderName::from_static("x-rate-limit-limit"),
        HeaderValue::from(rate.limit),
    );
    headers.insert(
        HeaderName::from_static("x-rate-limit-remaining"),
        HeaderValue::from(rate.remaining),
    );
    headers.insert(
        HeaderName::from_static("x-rate-limit-reset"),
        HeaderValue::from(reset_epoch),
    );

    // One header line per relation, as Okta sends them.
    for link in &reply.links {
        match HeaderValue::from_str(link) {
            Ok(value) => {
                headers.append(LINK, value);
            }
            Err(error) => {
                tracing::warn!(%error, link, "dropped a Link header that is not valid header text")
            }
        }
    }
    response
}

/// Returns the body to send and the `Content-Length` to declare for it.
fn response_body(body: Vec<u8>, mode: BodyMode) -> (Body, usize) {
    let body = Bytes::from(body);
    let full_length = body.len();
    let half = body.slice(..full_length / 2);
    match mode {
        BodyMode::Whole => (Body::from(body), full_length),
        BodyMode::Truncated => {
            let length = half.len();
            (Body::from(half), length)
        }
        BodyMode::Reset => (broken_body(half), full_length),
    }
}

fn insert_text(headers: &mut axum::http::HeaderMap, name: HeaderName, value: &str) {
    match HeaderValue::from_str(value) {
        Ok(value) => {
            headers.insert(name, value);
        }
        Err(error) => {
            tracing::warn!(%error, header = %name, "dropped a header that is not valid header text")
        }
    }
}

fn broken_body(first_half: Bytes) -> Body {
    let chunks = futures_util::stream::unfold(0_u8, move |step| {
        let first_half = first_half.clone();
        async move {
            match step {
                0 => Some((Ok::<Bytes, io::Error>(first_half), 1)),
                1 => {
                    // Waits so the status line, headers and first half reach the
                    // client before the connection breaks.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((
                        Err(io::Error::new(
                            io::ErrorKind::ConnectionReset,
                            "injected fault: connection reset mid-body",
                        )),
                        2,
                    ))
                }
                _ => None,
            }
        }
    });
    Body::from_stream(chunks)
}

/// Read access to the org of a running fake. Holding it blocks changes, so
/// drop it before calling a mutation method or awaiting a request.
pub struct OrgGuard<'a>(RwLockReadGuard<'a, Org>);

impl Deref for OrgGuard<'_> {
    type Target = Org;

    fn deref(&self) -> &Org {
        &self.0
    }
}

/// A running fake Okta server on 127.0.0.1. Dropping it shuts the server down.
pub struct FakeOkta {
    shared: Arc<Shared>,
    address: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl FakeOkta {
    /// Starts a server on a free port of 127.0.0.1.
    pub async fn start(config: Config) -> io::Result<FakeOkta> {
        FakeOkta::start_on_port(config, 0).await
    }

    /// Starts a server on `port` of 127.0.0.1; port 0 picks a free one.
    pub async fn start_on_port(config: Config, port: u16) -> io::Result<FakeOkta> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await?;
        let address = listener.local_addr()?;
        let clock = Clock::new(&config.org);
        let tokens = HashMap::from([(config.token.clone(), Access::Full)]);
        let shared = Arc::new(Shared {
            org: RwLock::new(config.org),
            tokens: Mutex::new(tokens),
            main_token: config.token,
            latency: config.latency,
            rate_limits: config.rate_limits,
            max_concurrent: config.max_concurrent,
            buckets: Mutex::new(Buckets::default()),
            in_flight: AtomicUsize::new(0),
            faults: Mutex::new(FaultPlan::default()),
            log: Mutex::new(Vec::new()),
            clock,
            request_serial: AtomicU64::new(1),
        });
        let router = Router::new()
            .merge(crate::admin::routes())
            .fallback(serve_api)
            .with_state(Arc::clone(&shared));
        let (shutdown, shutdown_signal) = oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let serving = axum::serve(listener, router).with_graceful_shutdown(async move {
                // A dropped sender means the handle is gone, which also shuts down.
                let _ = shutdown_signal.await;
            });
            if let Err(error) = serving.await {
                tracing::error!(%error, %address, "fake Okta server stopped with an error");
            }
        });
        tracing::info!(%address, "fake Okta server started");
        Ok(FakeOkta {
            shared,
            address,
            shutdown: Some(shutdown),
            server: Some(server),
        })
    }

    /// `127.0.0.1:PORT`, the form a connector stores as its Okta domain.
    pub fn domain(&self) -> String {
        self.address.to_string()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns the full-access API token.
    pub fn token(&self) -> String {
        self.shared.main_token.clone()
    }

    /// Adds the token of a group admin limited to `group_ids`: it lists only
    /// those groups (never Everyone) and their members, and gets 403 E0000006
    /// for other groups and users.
    pub fn add_scoped_token(&self, token: &str, group_ids: &[String]) {
        let groups = group_ids.iter().cloned().collect();
        self.shared.set_access(token, Access::Groups(groups));
    }

    /// Adds another full-access token, for example the new token an admin
    /// creates after revoking the old one.
    pub fn add_full_token(&self, token: &str) {
        self.shared.set_access(token, Access::Full);
    }

    /// Revokes a token, the full-access one included; later requests with it
    /// get 401 E0000011.
    pub fn revoke_token(&self, token: &str) {
        self.shared.set_access(token, Access::Revoked);
    }

    /// Read access to the current org.
    pub fn org(&self) -> OrgGuard<'_> {
        OrgGuard(self.shared.read_org())
    }

    /// Copies the current org, for comparing with a mirror at leisure.
    pub fn org_snapshot(&self) -> Org {
        self.shared.read_org().clone()
    }

    pub fn summary(&self) -> OrgSummary {
        self.shared.summary()
    }

    /// Returns the fake's current time, which change timestamps and the `Date` header use.
    pub fn now(&self) -> Timestamp {
        self.shared.now()
    }

    /// Moves the fake's clock forward, for example so that a change lands in a
    /// later second than a sync's cutoff. Rate-limit windows keep real time.
    pub fn advance_clock(&self, by: Duration) {
        self.shared.advance_clock(by);
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.inject(fault);
    }

    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// Returns how many requests an injected fault has applied to. The count
    /// grows when a faulted request arrives, before its (possibly delayed)
    /// response, so a test can wait for a request to be held by a delay.
    pub fn faults_applied(&self) -> usize {
        self.shared.faults_applied()
    }

    /// Returns the request log in order of arrival. A request appears once its
    /// response is ready.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests()
    }

    pub fn clear_requests(&self) {
        self.shared.clear_requests();
    }

    /// Creates an ACTIVE user with a generated profile overlaid by `profile`
    /// (a JSON object, or null for none) and returns its id.
    pub fn create_user(&self, profile: Value) -> Result<String, OrgError> {
        let overrides = match profile {
            Value::Object(map) => map,
            Value::Null => serde_json::Map::new(),
            other => {
                return Err(OrgError::InvalidProfile(format!(
                    "expected a JSON object of profile attributes, got {other}"
                )))
            }
        };
        let now = self.shared.now();
        self.shared.write_org().create_user(overrides, now)
    }

    pub fn update_user_profile(&self, id: &str, key: &str, value: Value) -> Result<(), OrgError> {
        let now = self.shared.now();
        self.shared
            .write_org()
            .update_user_profile(id, key, value, now)
    }

    /// Changes a user's status; DEPROVISIONED is a deactivation that keeps
    /// group memberships.
    pub fn set_user_status(&self, id: &str, status: UserStatus) -> Result<(), OrgError> {
        let now = self.shared.now();
        self.shared.write_org().set_user_status(id, status, now)
    }

    /// Deletes a user and its memberships. The System Log records the
    /// deletion but no membership events.
    pub fn delete_user(&self, id: &str) -> Result<(), OrgError> {
        let now = self.shared.change_time();
        self.shared.write_org().delete_user(id, now)
    }

    /// Creates an empty OKTA_GROUP and returns its id.
    pub fn create_group(&self, name: &str) -> String {
        let now = self.shared.now();
        self.shared.write_org().create_group(name, now)
    }

    pub fn rename_group(&self, id: &str, name: &str) -> Result<(), OrgError> {
        let now = self.shared.now();
        self.shared.write_org().rename_group(id, name, now)
    }

    pub fn update_group_profile(&self, id: &str, key: &str, value: Value) -> Result<(), OrgError> {
        let now = self.shared.now();
        self.shared
            .write_org()
            .update_group_profile(id, key, value, now)
    }

    pub fn delete_group(&self, id: &str) -> Result<(), OrgError> {
        self.shared.write_org().delete_group(id)
    }

    /// Adds a member and logs the event; returns false when the user already
    /// was one.
    pub fn add_member(&self, group_id: &str, user_id: &str) -> Result<bool, OrgError> {
        let now = self.shared.change_time();
        self.shared.write_org().add_member(group_id, user_id, now)
    }

    /// Removes a member and logs the event; returns false when the user was
    /// not one.
    pub fn remove_member(&self, group_id: &str, user_id: &str) -> Result<bool, OrgError> {
        let now = self.shared.change_time();
        self.shared
            .write_org()
            .remove_member(group_id, user_id, now)
    }

    /// Changes about `share` of the users and groups at random; see [`Org::mutate_share`].
    pub fn mutate_share(&self, seed: u64, share: f64) -> MutationSummary {
        self.shared.mutate_share(seed, share)
    }

    /// Returns the System Log's settings.
    pub fn log_settings(&self) -> LogSettings {
        self.shared.log_settings()
    }

    /// Sets the System Log's delay before events become visible, and whether
    /// `GET /api/v1/logs` responds with 403.
    pub fn set_log_settings(&self, settings: LogSettings) {
        self.shared.set_log_settings(settings);
    }

    /// Stops accepting connections and waits up to five seconds for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(mut server) = self.server.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut server)
                .await
                .is_err()
            {
                tracing::warn!(address = %self.address, "fake Okta server did not stop within 5 s, aborting it");
                server.abort();
            }
        }
    }
}

impl Drop for FakeOkta {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
