//! Test harness: starts the AWS emulator (moto) on a free loopback port,
//! creates the product's resources in it, and calls the functions' handlers
//! in-process with API Gateway v2 events. The local tools (`devtool`) use the
//! same resource set-up.

pub mod handoff;
pub mod moto;
pub mod proxy;
pub mod resources;

use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use lambda_http::http::StatusCode;
use lambda_http::Body;
use okta_sync::api::{self, ApiContext, CursorSigner};
use okta_sync::config::{Services, Settings};
use okta_sync::domain::DomainPolicy;
use okta_sync::okta::ClientOptions;
use okta_sync::records::Run;
use okta_sync::sync::{self, SyncDeps};
use serde_json::{json, Value};

pub use resources::Resources;

/// SDK configuration for the emulator. Region and credentials are given, so
/// the SDK never looks for them elsewhere (no instance metadata lookups).
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "harness"))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// Sends the product's logs to the test output, filtered by `RUST_LOG`
/// (default: warnings and errors).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// Okta client settings for tests: short waits so fault tests end quickly.
pub fn test_okta_options() -> ClientOptions {
    ClientOptions {
        request_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    }
}

/// One isolated product installation: its own table, queue and schedule
/// group in the shared emulator, and handlers wired to them.
pub struct Stack {
    pub sdk: SdkConfig,
    pub resources: Resources,
    pub api: ApiContext,
    pub sync: SyncDeps,
}

impl Stack {
    pub async fn new() -> Stack {
        Self::with_settings(|_| {}).await
    }

    /// Builds a stack, letting the test adjust the settings first.
    pub async fn with_settings(adjust: impl FnOnce(&mut Settings)) -> Stack {
        let moto = moto::shared().await;
        Self::with_product_endpoint(&moto.endpoint(), adjust).await
    }

    /// Builds a stack whose handlers reach AWS through a [`proxy::Proxy`]
    /// that the test can cut, while the harness itself (resources, queue
    /// reads, table dumps) talks to moto directly.
    pub async fn behind_proxy() -> (Stack, proxy::Proxy) {
        let moto = moto::shared().await;
        let target = std::net::SocketAddr::from(([127, 0, 0, 1], moto.port()));
        let proxy = proxy::Proxy::start(target)
            .await
            .expect("proxy to moto started");
        let stack = Self::with_product_endpoint(&proxy.endpoint(), |_| {}).await;
        (stack, proxy)
    }

    /// Builds a stack whose handlers send their AWS calls to
    /// `product_endpoint`.
    async fn with_product_endpoint(
        product_endpoint: &str,
        adjust: impl FnOnce(&mut Settings),
    ) -> Stack {
        init_logging();
        let moto = moto::shared().await;
        let sdk = sdk_config(&moto.endpoint()).await;
        let resources = Resources::create(&sdk, &resources::unique_prefix()).await;
        let mut settings = Settings {
            table_name: resources.table.clone(),
            secret_prefix: format!("{}/connectors/", resources.prefix),
            sync_queue_url: Some(resources.queue_url.clone()),
            domain_policy: DomainPolicy {
                allow_http_loopback: true,
                custom_domains: vec![],
            },
            retention_days: 90,
            secrets_kms_key_id: None,
            schedule_group: Some(resources.schedule_group.clone()),
            schedule_target: Some(okta_sync::config::ScheduleTarget {
                role_arn: "arn:aws:iam::123456789012:role/okta-sync-scheduler".into(),
                queue_arn: resources.queue_arn.clone(),
                dead_letter_arn: None,
            }),
            min_schedule_interval: chrono::Duration::minutes(5),
            full_sync_every: chrono::Duration::hours(24),
            sync_time_limit: None,
            quarantine: Default::default(),
        };
        adjust(&mut settings);
        let product_sdk = sdk_config(product_endpoint).await;
        let mut services = Services::new(settings, &product_sdk);
        services.okta = test_okta_options();
        let sync = SyncDeps::from(&services);
        let api = ApiContext {
            services,
            cursors: CursorSigner::new(b"test cursor key".to_vec()),
        };
        Stack {
            sdk,
            resources,
            api,
            sync,
        }
    }

    /// Sends a request to the connectors API as API Gateway would, and
    /// returns the status and the JSON body.
    pub async fn request(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let body = body.map(|body| body.to_string());
        let (status, text) = self
            .raw_request(method, path_and_query, body.as_deref(), "application/json")
            .await;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Sends a request with a body given as text, for malformed bodies.
    pub async fn raw_request(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&str>,
        content_type: &str,
    ) -> (StatusCode, String) {
        let request = api_gateway_request(method, path_and_query, body, content_type);
        let response = api::handle(&self.api, request).await;
        let status = response.status();
        let text = match response.into_body() {
            Body::Text(text) => text,
            Body::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        };
        (status, text)
    }

    /// Sends a request with extra headers and an authorizer context, and
    /// returns the whole response with its body parsed as JSON.
    pub async fn send(&self, call: Call<'_>) -> Reply {
        let body = call.body.map(|body| body.to_string());
        let mut event =
            api_gateway_event(call.method, call.path, body.as_deref(), "application/json");
        for (name, value) in call.headers {
            event["headers"][name.to_ascii_lowercase()] = json!(value);
        }
        if let Some(authorizer) = call.authorizer {
            event["requestContext"]["authorizer"] = authorizer;
        }
        let request =
            lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway event");
        let response = api::handle(&self.api, request).await;
        let status = response.status();
        let headers = response.headers().clone();
        let text = match response.into_body() {
            Body::Text(text) => text,
            Body::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            _ => String::new(),
        };
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    /// Creates a connector for the fake Okta and returns its id.
    pub async fn create_connector(&self, okta: &fake_okta::FakeOkta) -> String {
        let (status, body) = self
            .request(
                "POST",
                "/connectors",
                Some(
                    json!({"name": "Test org", "domain": okta.domain(), "apiToken": okta.token()}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create connector: {body}");
        body["id"].as_str().expect("connector id").to_owned()
    }

    /// Runs every message waiting on the sync queue through the sync
    /// handler, as the event source mapping would, and returns the runs.
    pub async fn run_queued(&self) -> Vec<Run> {
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        let mut runs = Vec::new();
        loop {
            let output = sqs
                .receive_message()
                .queue_url(&self.resources.queue_url)
                .max_number_of_messages(1)
                .send()
                .await
                .expect("receive from the sync queue");
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return runs;
            }
            for message in messages {
                let body = message.body.clone().unwrap_or_default();
                let event: sync::SyncEvent = serde_json::from_str(&body).expect("sync event");
                if let Some(run) = sync::handle_event(&self.sync, event, None)
                    .await
                    .expect("sync handler")
                {
                    runs.push(run);
                }
                sqs.delete_message()
                    .queue_url(&self.resources.queue_url)
                    .receipt_handle(message.receipt_handle.unwrap_or_default())
                    .send()
                    .await
                    .expect("delete the message");
            }
        }
    }

    /// Presses Sync and runs the first invocation with its pause time
    /// already reached, so it reads one users page, starts the first groups
    /// and hands over to a continuation. Returns the run id and the paused
    /// Run. The queue then contains the original message and the continuation.
    pub async fn start_paused_run(&self, connector_id: &str) -> (String, Run) {
        let (status, queued) = self
            .request("POST", &format!("/connectors/{connector_id}/sync"), None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "start sync: {queued}");
        let run_id = queued["runId"].as_str().expect("run id").to_owned();
        let event: sync::SyncEvent = serde_json::from_value(json!({
            "connectorId": connector_id,
            "runId": run_id,
            "trigger": "manual",
            "mode": "full",
        }))
        .expect("event");
        let deadline = std::time::Instant::now() + sync::PAUSE_BEFORE_DEADLINE;
        let paused = sync::handle_event(&self.sync, event, Some(deadline))
            .await
            .expect("handled")
            .expect("run");
        (run_id, paused)
    }

    /// Presses Sync and runs the queued run to its end.
    pub async fn sync_now(&self, connector_id: &str) -> Run {
        let (status, body) = self
            .request("POST", &format!("/connectors/{connector_id}/sync"), None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "start sync: {body}");
        let mut runs = self.run_queued().await;
        assert_eq!(runs.len(), 1, "one run expected");
        runs.remove(0)
    }

    /// Reads every page of a list route.
    pub async fn list_all(&self, path: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let url = match &cursor {
                Some(cursor) => format!("{path}{separator}limit=1000&cursor={cursor}"),
                None => format!("{path}{separator}limit=1000"),
            };
            let (status, body) = self.request("GET", &url, None).await;
            assert_eq!(status, StatusCode::OK, "GET {url}: {body}");
            items.extend(body["items"].as_array().cloned().unwrap_or_default());
            match body["nextCursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// Reads every item of the table, sorted, for before/after comparisons.
    pub async fn dump_table(&self) -> Vec<String> {
        resources::dump_table(&self.sdk, &self.resources.table).await
    }
}

/// A request for [`Stack::send`].
#[derive(Default)]
pub struct Call<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub body: Option<Value>,
    pub headers: Vec<(&'a str, String)>,
    /// `requestContext.authorizer` as API Gateway sends it, for example
    /// `{"iam": {"userArn": "…"}}` or `{"jwt": {"claims": {"sub": "…"}}}`.
    pub authorizer: Option<Value>,
}

/// A response of [`Stack::send`].
pub struct Reply {
    pub status: StatusCode,
    pub headers: lambda_http::http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// Builds the request API Gateway (HTTP API, payload v2) sends a function.
pub fn api_gateway_request(
    method: &str,
    path_and_query: &str,
    body: Option<&str>,
    content_type: &str,
) -> lambda_http::Request {
    let event = api_gateway_event(method, path_and_query, body, content_type);
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

/// Builds the API Gateway v2 event of a request, with no authorizer.
pub fn api_gateway_event(
    method: &str,
    path_and_query: &str,
    body: Option<&str>,
    content_type: &str,
) -> Value {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": content_type, "host": "api.example.test"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "test",
            "domainName": "api.example.test",
            "domainPrefix": "api",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "harness"
            },
            "requestId": "test-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "04/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1796385600000u64
        },
        "body": body,
        "isBase64Encoded": false
    })
}
