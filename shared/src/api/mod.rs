//! The admin API behind API Gateway (HTTP API, payload v2): routing on the
//! request path, JSON responses and errors. Routing never reads API Gateway's
//! path parameters, because `cargo lambda watch` sends none, so the same code
//! routes in AWS and locally.

// An `ApiError` is built at most once per request, so its size is not worth
// boxing.
#![allow(clippy::result_large_err)]

pub mod audit;
mod connector_settings;
mod connectors;
mod cursor;
mod error;
pub mod idempotency;
mod mirror;
pub mod precondition;
mod request;
mod runs;
mod schedules;
mod single_user;

use lambda_http::http::{header, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::Value;

pub use cursor::CursorSigner;
pub use error::ApiError;
pub use request::{MAX_BODY_BYTES, MAX_LIMIT};
pub use schedules::NEXT_RUN_COUNT;

use crate::config::{optional, ConfigError, Services};

/// State shared by the handlers of both API functions.
#[derive(Clone, Debug)]
pub struct ApiContext {
    pub services: Services,
    pub cursors: CursorSigner,
}

impl ApiContext {
    /// Reads the cursor signing key from `CURSOR_SIGNING_KEY` (local runs) or
    /// from the secret named by `CURSOR_KEY_SECRET_ARN` (the SAM template).
    pub async fn from_env() -> Result<Self, ConfigError> {
        let services = Services::from_env().await?;
        let key = match optional("CURSOR_SIGNING_KEY") {
            Some(key) => key,
            None => {
                let arn = crate::config::required("CURSOR_KEY_SECRET_ARN")?;
                services
                    .secrets
                    .get_secret_value()
                    .secret_id(arn)
                    .send()
                    .await
                    .map_err(|error| ConfigError::CursorKey(crate::aws_error::describe(&error)))?
                    .secret_string
                    .ok_or_else(|| {
                        ConfigError::CursorKey("the secret has no string value".into())
                    })?
            }
        };
        Ok(Self {
            services,
            cursors: CursorSigner::new(key.into_bytes()),
        })
    }

    /// Builds the schedules function's context. Its routes return no lists,
    /// so it signs cursors with a random key of its own instance and needs
    /// no signing key secret.
    pub async fn from_env_without_cursor_key() -> Result<Self, ConfigError> {
        let services = Services::from_env().await?;
        let key: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()]
            .iter()
            .flat_map(|part| part.into_bytes())
            .collect();
        Ok(Self {
            services,
            cursors: CursorSigner::new(key),
        })
    }
}

/// Handles one API request. Every failure becomes a JSON error response.
pub async fn handle(context: &ApiContext, request: Request) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let result = match dot_segment(request.raw_http_path()) {
        Some(segment) => Err(ApiError::bad_request(
            "invalid_path",
            format!(
                "the path holds the segment '{}', which names no resource; percent-encode '.' in ids and logins as %2E only inside a longer value",
                crate::domain::truncate_for_message(segment)
            ),
        )),
        None => route(context, &request, &path, &method).await,
    };
    let response = match result {
        Ok(response) => response,
        Err(error) => error_response(&error),
    };
    tracing::info!(
        method = %method,
        path,
        status = response.status().as_u16(),
        "request handled"
    );
    response
}

/// Finds a `.` or `..` segment (also percent-encoded) in the path as the
/// client sent it. The URL parser behind `request.uri()` resolves such
/// segments, so `/connectors/x/users/%2E%2E/sync` would otherwise reach
/// `/connectors/x/sync`.
fn dot_segment(raw_path: &str) -> Option<&str> {
    raw_path.split('/').find(|segment| {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        decoded == "." || decoded == ".."
    })
}

async fn route(
    context: &ApiContext,
    request: &Request,
    path: &str,
    method: &Method,
) -> Result<Response<Body>, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["connectors"] => match *method {
            Method::GET => connectors::list(context, request).await,
            Method::POST => connectors::create(context, request).await,
            _ => Err(method_not_allowed(&["GET", "POST"])),
        },
        ["connectors", id] => match *method {
            Method::GET => connectors::get(context, id).await,
            Method::PATCH => connectors::update(context, request, id).await,
            Method::DELETE => connectors::delete(context, request, id).await,
            _ => Err(method_not_allowed(&["GET", "PATCH", "DELETE"])),
        },
        ["connectors", id, "test"] => match *method {
            Method::POST => connectors::test(context, id).await,
            _ => Err(method_not_allowed(&["POST"])),
        },
        ["connectors", id, "sync"] => match *method {
            Method::POST => connectors::start_sync(context, request, id).await,
            _ => Err(method_not_allowed(&["POST"])),
        },
        ["connectors", id, "runs"] => match *method {
            Method::GET => connectors::list_runs(context, request, id).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        ["connectors", id, "runs", run_id] => match *method {
            Method::GET => connectors::get_run(context, id, run_id).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        ["connectors", id, "runs", run_id, "changes"] => match *method {
            Method::GET => runs::list_changes(context, request, id, run_id).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        ["connectors", id, "runs", run_id, "approve"] => match *method {
            Method::POST => {
                runs::decide(context, request, id, run_id, runs::Decision::Approve).await
            }
            _ => Err(method_not_allowed(&["POST"])),
        },
        ["connectors", id, "runs", run_id, "discard"] => match *method {
            Method::POST => {
                runs::decide(context, request, id, run_id, runs::Decision::Discard).await
            }
            _ => Err(method_not_allowed(&["POST"])),
        },
        ["connectors", id, "users"] => match *method {
            Method::GET => mirror::list_users(context, request, id).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        ["connectors", id, "users", user_id] => match *method {
            Method::GET => mirror::get_user(context, id, user_id).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        ["connectors", id, "users", login_or_id, "sync"] => match *method {
            Method::POST => single_user::sync_user(context, id, login_or_id).await,
            _ => Err(method_not_allowed(&["POST"])),
        },
        ["connectors", id, "groups"] => match *method {
            Method::GET => mirror::list_groups(context, request, id).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        ["connectors", id, "groups", group_id] => match *method {
            Method::GET => mirror::get_group(context, id, group_id).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        ["connectors", id, "groups", group_id, "members"] => match *method {
            Method::GET => mirror::list_members(context, request, id, group_id).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        ["connectors", id, "schedule"] => match *method {
            Method::GET => schedules::get(context, id).await,
            Method::PUT => schedules::put(context, request, id).await,
            Method::DELETE => schedules::delete(context, request, id).await,
            _ => Err(method_not_allowed(&["GET", "PUT", "DELETE"])),
        },
        ["schedules", "preview"] => match *method {
            Method::POST => schedules::preview(context, request).await,
            _ => Err(method_not_allowed(&["POST"])),
        },
        ["audit"] => match *method {
            Method::GET => audit::list(context, request).await,
            _ => Err(method_not_allowed(&["GET"])),
        },
        _ => Err(ApiError::not_found(
            "route_not_found",
            format!(
                "no route {method} {}; the API reference lists the routes",
                crate::domain::truncate_for_message(path)
            ),
        )),
    }
}

fn method_not_allowed(allowed: &[&str]) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("this route takes {}", allowed.join(", ")),
    )
    .with_extra("allow", allowed.join(", "))
}

pub fn json_response(
    status: StatusCode,
    body: &impl Serialize,
) -> Result<Response<Body>, ApiError> {
    let text = serde_json::to_string(body)
        .map_err(|error| ApiError::internal("writing the response", &error))?;
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(text))
        .map_err(|error| ApiError::internal("writing the response", &error))
}

fn error_response(error: &ApiError) -> Response<Body> {
    let mut builder = Response::builder()
        .status(error.status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store");
    if let Some(Value::String(allow)) = error.extra.get("allow") {
        builder = builder.header(header::ALLOW, allow.as_str());
    }
    let text = error.body().to_string();
    builder
        .body(Body::Text(text.clone()))
        .unwrap_or_else(|_| Response::new(Body::Text(text)))
}

/// A list response: `{"items": [...], "nextCursor"?: "…"}`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListPage<T> {
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
