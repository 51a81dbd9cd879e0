//! Reading requests: strict JSON bodies and list query parameters.

use std::collections::BTreeMap;

use lambda_http::http::{header::CONTENT_TYPE, StatusCode};
use lambda_http::{Body, Request, RequestExt};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Request bodies larger than this are rejected with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Default and maximum page size of lists.
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;

pub(super) fn body_bytes(request: &Request) -> &[u8] {
    match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    }
}

/// Parses a JSON body strictly: unknown fields, wrong types and duplicate
/// keys are rejected with the field's name. Returns `None` for no body.
pub fn optional_json<T: DeserializeOwned>(request: &Request) -> Result<Option<T>, ApiError> {
    let bytes = body_bytes(request);
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!(
                "the request body has {} bytes; the maximum is {MAX_BODY_BYTES} bytes (64 KiB)",
                bytes.len()
            ),
        ));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "the request body must be JSON sent with Content-Type: application/json (got '{}')",
                crate::domain::truncate_for_message(content_type)
            ),
        ));
    }
    // serde reads a struct from a JSON array too (fields by position), so
    // anything but an object is rejected before parsing.
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ApiError::bad_request(
            "invalid_json",
            "the request body must be a JSON object, for example {\"name\": \"…\"}",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut deserializer).map_err(json_error)?;
    deserializer.end().map_err(|error| {
        ApiError::bad_request(
            "invalid_json",
            format!("the request body has text after the JSON value: {error}"),
        )
    })?;
    Ok(Some(value))
}

pub fn required_json<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    optional_json(request)?.ok_or_else(|| {
        ApiError::bad_request(
            "missing_body",
            "this request needs a JSON body; see the API reference for its fields",
        )
    })
}

/// Turns a serde error into a 400 naming the field at fault.
fn json_error(error: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    let detail = strip_location(&inner.to_string());

    if inner.is_syntax() || inner.is_eof() {
        return ApiError::bad_request(
            "invalid_json",
            format!("the request body is not valid JSON ({inner}); send a JSON object"),
        );
    }
    if let Some(field) = quoted_name(&detail, "unknown field `") {
        return ApiError::bad_request(
            "unknown_field",
            format!("field '{field}' is not part of this request; remove it ({detail})"),
        )
        .with_field(field);
    }
    if let Some(field) = quoted_name(&detail, "missing field `") {
        return ApiError::bad_request("missing_field", format!("field '{field}' is required"))
            .with_field(field);
    }
    if let Some(field) = quoted_name(&detail, "duplicate field `") {
        return ApiError::bad_request(
            "duplicate_field",
            format!("field '{field}' appears more than once; send it once"),
        )
        .with_field(field);
    }
    let field = (path != ".").then_some(path);
    let message = match &field {
        Some(field) => format!("field '{field}' has the wrong type or value: {detail}"),
        None => format!("the request body has the wrong shape: {detail}; send a JSON object"),
    };
    let mut error = ApiError::bad_request("invalid_field", message);
    error.field = field;
    error
}

fn strip_location(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message.to_owned(),
    }
}

fn quoted_name(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    Some(rest.split('`').next()?.to_owned())
}

/// Query parameters of a request, checked against the names a route takes.
pub struct Query {
    params: BTreeMap<String, String>,
}

impl Query {
    pub fn parse(request: &Request, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut params = BTreeMap::new();
        let raw = request.query_string_parameters();
        for (name, _) in raw.iter() {
            if !allowed.contains(&name) {
                return Err(ApiError::bad_request(
                    "unknown_parameter",
                    format!(
                        "query parameter '{}' is not supported here; supported: {}",
                        crate::domain::truncate_for_message(name),
                        if allowed.is_empty() {
                            "none".to_owned()
                        } else {
                            allowed.join(", ")
                        }
                    ),
                )
                .with_field(name));
            }
            let values = raw.all(name).unwrap_or_default();
            if values.len() > 1 {
                return Err(ApiError::bad_request(
                    "duplicate_parameter",
                    format!("query parameter '{name}' is given more than once; give it once"),
                )
                .with_field(name));
            }
            if let Some(value) = values.first() {
                params.insert(name.to_owned(), (*value).to_owned());
            }
        }
        Ok(Self { params })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub fn limit(&self) -> Result<usize, ApiError> {
        let Some(value) = self.get("limit") else {
            return Ok(DEFAULT_LIMIT);
        };
        match value.parse::<usize>() {
            Ok(limit) if (1..=MAX_LIMIT).contains(&limit) => Ok(limit),
            _ => Err(ApiError::bad_request(
                "invalid_limit",
                format!(
                    "limit '{}' is invalid: give a whole number from 1 to {MAX_LIMIT}",
                    crate::domain::truncate_for_message(value)
                ),
            )
            .with_field("limit")),
        }
    }

    pub fn flag(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(ApiError::bad_request(
                "invalid_parameter",
                format!(
                    "{name} '{}' is invalid: use true or false",
                    crate::domain::truncate_for_message(other)
                ),
            )
            .with_field(name)),
        }
    }
}
