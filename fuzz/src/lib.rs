//! Shared parts of the API fuzz targets: an `ApiContext` whose AWS clients
//! fail every call at once without opening a connection, a structured
//! request generator, and the checks every response must pass.
//!
//! Requests reach the router as API Gateway (HTTP API, payload v2) events
//! decoded by `lambda_http`, the same way the Lambda runtime delivers them.
//! Decoding and validation run for real. A request that passes them reaches
//! DynamoDB, Secrets Manager or EventBridge Scheduler, whose call fails, and
//! the API returns its 503 `service_unavailable` response.

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::behavior_version::BehaviorVersion;
use aws_smithy_runtime_api::client::http::{
    http_client_fn, HttpConnector, HttpConnectorFuture, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_types::region::Region;
use aws_types::sdk_config::{RetryConfig, SdkConfig, TimeoutConfig};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use okta_sync::api::{self, ApiContext, CursorSigner};
use okta_sync::config::{ScheduleTarget, Services, Settings};
use okta_sync::domain::DomainPolicy;
use serde_json::{Map, Value};

/// An HTTP connector that fails every request before sending it, so no
/// fuzz input can make the product reach a network.
#[derive(Debug)]
struct NoNetwork;

impl HttpConnector for NoNetwork {
    fn call(&self, _request: HttpRequest) -> HttpConnectorFuture {
        HttpConnectorFuture::ready(Err(ConnectorError::io(
            "the fuzz context has no network".into(),
        )))
    }
}

fn offline_sdk_config() -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "fuzz", "fuzz", None, None, "fuzz",
        )))
        .http_client(http_client_fn(|_, _| SharedHttpConnector::new(NoNetwork)))
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::disabled())
        .build()
}

/// Returns the API context both API targets share, built once per process.
pub fn context() -> &'static ApiContext {
    static CONTEXT: OnceLock<ApiContext> = OnceLock::new();
    CONTEXT.get_or_init(|| {
        let settings = Settings {
            table_name: "fuzz-table".into(),
            secret_prefix: "fuzz/connectors/".into(),
            sync_queue_url: Some("https://sqs.us-east-1.amazonaws.com/123456789012/fuzz".into()),
            domain_policy: DomainPolicy {
                allow_http_loopback: false,
                custom_domains: vec!["sso.example.com".into()],
            },
            retention_days: 90,
            schedule_group: Some("fuzz-schedules".into()),
            schedule_target: Some(ScheduleTarget {
                role_arn: "arn:aws:iam::123456789012:role/fuzz".into(),
                queue_arn: "arn:aws:sqs:us-east-1:123456789012:fuzz".into(),
                dead_letter_arn: None,
            }),
            full_sync_every: chrono::Duration::hours(24),
            sync_time_limit: None,
            min_schedule_interval: chrono::Duration::minutes(5),
        };
        ApiContext {
            services: Services::new(settings, &offline_sdk_config()),
            cursors: CursorSigner::new(b"fuzz cursor key".to_vec()),
        }
    })
}

/// Runs `future` to its end on one shared single-thread runtime.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a Tokio runtime for the fuzz target")
        })
        .block_on(future)
}

#[derive(Arbitrary, Debug)]
pub enum FuzzMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
    Other(String),
}

impl FuzzMethod {
    fn as_str(&self) -> &str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Head => "HEAD",
            Self::Options => "OPTIONS",
            Self::Other(name) => name,
        }
    }
}

/// A path segment: one of the API's fixed words, a well-formed connector id,
/// or any text.
#[derive(Arbitrary, Debug)]
pub enum Segment {
    Connectors,
    Runs,
    Users,
    Groups,
    Members,
    Schedule,
    Schedules,
    Preview,
    Sync,
    Test,
    Changes,
    Approve,
    Audit,
    /// A well-formed connector id (32 lower-case hex digits) built from the
    /// input's bytes.
    ConnectorId([u8; 16]),
    Empty,
    DotDot,
    Text(String),
}

impl Segment {
    fn render(&self) -> String {
        match self {
            Self::Connectors => "connectors".into(),
            Self::Runs => "runs".into(),
            Self::Users => "users".into(),
            Self::Groups => "groups".into(),
            Self::Members => "members".into(),
            Self::Schedule => "schedule".into(),
            Self::Schedules => "schedules".into(),
            Self::Preview => "preview".into(),
            Self::Sync => "sync".into(),
            Self::Test => "test".into(),
            Self::Changes => "changes".into(),
            Self::Approve => "approve".into(),
            Self::Audit => "audit".into(),
            Self::ConnectorId(bytes) => bytes.iter().map(|byte| format!("{byte:02x}")).collect(),
            Self::Empty => String::new(),
            Self::DotDot => "..".into(),
            Self::Text(text) => text.clone(),
        }
    }
}

/// Names of the query parameters the routes take, and any other name.
#[derive(Arbitrary, Debug)]
pub enum QueryName {
    Limit,
    Cursor,
    Status,
    IncludeRemoved,
    Other(String),
}

impl QueryName {
    fn as_str(&self) -> &str {
        match self {
            Self::Limit => "limit",
            Self::Cursor => "cursor",
            Self::Status => "status",
            Self::IncludeRemoved => "includeRemoved",
            Self::Other(name) => name,
        }
    }
}

#[derive(Arbitrary, Debug)]
pub enum ContentType {
    Json,
    JsonWithCharset,
    Missing,
    Other(String),
}

/// A JSON value whose object keys are mostly the request fields the routes
/// read, so generated bodies get past the unknown-field check.
#[derive(Arbitrary, Debug)]
pub enum FuzzJson {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(String),
    Array(Vec<FuzzJson>),
    Object(Vec<(FieldName, FuzzJson)>),
}

#[derive(Arbitrary, Debug)]
pub enum FieldName {
    Name,
    Domain,
    ApiToken,
    Type,
    Mode,
    Expression,
    Interval,
    Every,
    Unit,
    Timezone,
    Enabled,
    Other(String),
}

impl FieldName {
    fn as_str(&self) -> &str {
        match self {
            Self::Name => "name",
            Self::Domain => "domain",
            Self::ApiToken => "apiToken",
            Self::Type => "type",
            Self::Mode => "mode",
            Self::Expression => "expression",
            Self::Interval => "interval",
            Self::Every => "every",
            Self::Unit => "unit",
            Self::Timezone => "timezone",
            Self::Enabled => "enabled",
            Self::Other(name) => name,
        }
    }
}

impl FuzzJson {
    /// Writes the value as JSON text. Keys may repeat, as in a hostile body.
    fn write(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Self::Integer(value) => out.push_str(&value.to_string()),
            Self::Float(value) => out.push_str(
                &serde_json::Number::from_f64(*value)
                    .map_or_else(|| "0".to_owned(), |number| number.to_string()),
            ),
            Self::String(text) => out.push_str(&Value::String(text.clone()).to_string()),
            Self::Array(items) => {
                out.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            Self::Object(fields) => {
                out.push('{');
                for (index, (name, value)) in fields.iter().enumerate() {
                    if index > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(name.as_str().to_owned()).to_string());
                    out.push(':');
                    value.write(out);
                }
                out.push('}');
            }
        }
    }
}

#[derive(Arbitrary, Debug)]
pub enum FuzzBody {
    None,
    Json(FuzzJson),
    Text(String),
    Base64(Vec<u8>),
}

/// Everything of a request except its path, which each target builds from
/// its own route group.
#[derive(Arbitrary, Debug)]
pub struct RequestParts {
    pub method: FuzzMethod,
    pub query: Vec<(QueryName, String)>,
    pub content_type: ContentType,
    pub body: FuzzBody,
}

fn encode_component(text: &str, keep: &[u8]) -> String {
    let mut encoded = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || keep.contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Joins segments into a raw path as API Gateway passes it on (each segment
/// percent-encoded, so a segment of text can hold any character).
pub fn path_of(segments: &[Segment]) -> String {
    let mut path = String::new();
    for segment in segments {
        path.push('/');
        path.push_str(&encode_component(&segment.render(), b"-._~"));
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// Builds the API Gateway v2 event of a request. Returns `None` when
/// `lambda_http` cannot decode the event, which the Lambda runtime would
/// reject before calling the handler.
pub fn build_request(parts: &RequestParts, path: &str) -> Option<lambda_http::Request> {
    let query: Vec<String> = parts
        .query
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                encode_component(name.as_str(), b"-._~"),
                encode_component(value, b"-._~")
            )
        })
        .collect();
    let mut headers = Map::new();
    headers.insert("host".into(), "api.example.test".into());
    match &parts.content_type {
        ContentType::Json => {
            headers.insert("content-type".into(), "application/json".into());
        }
        ContentType::JsonWithCharset => {
            headers.insert(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            );
        }
        ContentType::Missing => {}
        ContentType::Other(value) => {
            headers.insert("content-type".into(), value.clone().into());
        }
    }
    let (body, is_base64) = match &parts.body {
        FuzzBody::None => (Value::Null, false),
        FuzzBody::Json(json) => {
            let mut text = String::new();
            json.write(&mut text);
            (Value::String(text), false)
        }
        FuzzBody::Text(text) => (Value::String(text.clone()), false),
        FuzzBody::Base64(bytes) => (Value::String(base64_encode(bytes)), true),
    };
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query.join("&"),
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "fuzz",
            "domainName": "api.example.test",
            "domainPrefix": "api",
            "http": {
                "method": parts.method.as_str(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "fuzz"
            },
            "requestId": "fuzz-request",
            "routeKey": "$default",
            "stage": "$default",
            "time": "04/Dec/2026:12:00:00 +0000",
            "timeEpoch": 1796385600000u64
        },
        "body": body,
        "isBase64Encoded": is_base64
    });
    lambda_http::request::from_str(&event.to_string()).ok()
}

fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut encoded = String::new();
    for chunk in bytes.chunks(3) {
        let triple = match chunk.len() {
            1 => u32::from(chunk[0]) << 16,
            2 => u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8,
            _ => u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]),
        };
        for index in 0..4 {
            if index <= chunk.len() {
                encoded.push(ALPHABET[(triple >> (18 - 6 * index) & 63) as usize] as char);
            } else {
                encoded.push('=');
            }
        }
    }
    encoded
}

/// Sends the request through the router and checks the response against
/// the API's error contract. Panics (a fuzz finding) when it breaks it.
pub fn check_request(request: lambda_http::Request) {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let response = block_on(api::handle(context(), request));
    check_response(&response, &format!("{method} {uri}"));
}

fn check_response(response: &Response<Body>, request: &str) {
    let status = response.status();
    let text = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("{request}: {status} body is not JSON ({error}): {text}"));
    if status.is_success() {
        assert!(body.is_object(), "{request}: {status} body is not an object: {text}");
        return;
    }
    let code = body["code"].as_str().unwrap_or_default();
    let message = body["message"].as_str().unwrap_or_default();
    assert!(!code.is_empty(), "{request}: {status} error without a code: {text}");
    assert!(!message.is_empty(), "{request}: {status} error without a message: {text}");
    if status.is_server_error() {
        // Only a failed AWS call may return 5xx, and the fuzz context fails
        // every AWS call.
        assert_eq!(
            (status, code),
            (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
            "{request}: unexpected server error: {text}"
        );
        return;
    }
    assert!(status.is_client_error(), "{request}: unexpected status {status}: {text}");
    if status == StatusCode::METHOD_NOT_ALLOWED {
        assert!(
            response.headers().contains_key("allow"),
            "{request}: 405 without an Allow header"
        );
    }
}
