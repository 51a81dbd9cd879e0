//! The `Idempotency-Key` header: a client that retries a request with the
//! same key and body gets the first response again, and the action runs
//! once. The store keeps a keyed digest of the request (the body may contain
//! an API token) and the response, which never contains a token.

use std::future::Future;

use lambda_http::http::header::{HeaderName, HeaderValue, ETAG, LOCATION};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use super::error::ApiError;
use super::request::body_bytes;
use super::ApiContext;
use crate::store::{ClaimOutcome, StoredResponse};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Header set on a response that is the stored response to an earlier
/// request with the same key.
pub const REPLAYED: &str = "idempotent-replayed";

/// Keys are 1 to this many visible ASCII characters, enough for a UUID or
/// a ULID with a prefix.
pub const MAX_KEY_CHARS: usize = 255;

/// Runs `action` once per idempotency key of `scope` (the route and its
/// connector): with no header it just runs it. A successful response is
/// stored for 24 hours and returned again for the same key and body. A
/// failed request frees the key, so a retry acts again.
pub async fn once<F, Fut>(
    context: &ApiContext,
    request: &Request,
    scope: &str,
    action: F,
) -> Result<Response<Body>, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let Some(key) = idempotency_key(request)? else {
        return action().await;
    };
    let digest = context
        .cursors
        .digest("idempotency", &[scope.as_bytes(), &canonical_body(request)]);
    let store = &context.services.store;

    match store.claim_idempotency_key(scope, &key, &digest).await? {
        ClaimOutcome::Claimed => {}
        ClaimOutcome::Completed(stored) => {
            tracing::info!(scope, "returning the stored response of an idempotency key");
            return replay(&stored);
        }
        ClaimOutcome::InProgress => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_key_in_use",
                "a request with this Idempotency-Key is still being processed; retry in a few seconds to get its response",
            )
            .with_field("Idempotency-Key"))
        }
        ClaimOutcome::DigestMismatch => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request body or route in the last 24 hours; send a new key for a new request",
            )
            .with_field("Idempotency-Key"))
        }
    }

    let result = action().await;
    match &result {
        Ok(response) if response.status().is_success() => {
            let stored = to_stored(response);
            if let Err(error) = store
                .complete_idempotency_key(scope, &key, &digest, &stored)
                .await
            {
                // The action happened, so its response still goes out. A
                // retry with the key gets 409 until the claim's lease
                // lapses, then acts again.
                tracing::error!(scope, error = %error, "could not store the response of an idempotency key");
            }
        }
        _ => {
            if let Err(error) = store.release_idempotency_key(scope, &key, &digest).await {
                tracing::error!(scope, error = %error, "could not release the idempotency key of a failed request");
            }
        }
    }
    result
}

fn idempotency_key(request: &Request) -> Result<Option<String>, ApiError> {
    let values: Vec<&HeaderValue> = request.headers().get_all(IDEMPOTENCY_KEY).iter().collect();
    let invalid = |why: &str| {
        ApiError::bad_request(
            "invalid_idempotency_key",
            format!("Idempotency-Key {why}; send one key of 1 to {MAX_KEY_CHARS} visible ASCII characters, for example a UUID"),
        )
        .with_field("Idempotency-Key")
    };
    let value = match values.as_slice() {
        [] => return Ok(None),
        [value] => value,
        _ => return Err(invalid("is given more than once")),
    };
    let key = value
        .to_str()
        .map_err(|_| invalid("contains characters that are not ASCII"))?;
    if key.is_empty() {
        return Err(invalid("is empty"));
    }
    if key.len() > MAX_KEY_CHARS {
        return Err(invalid(&format!("has {} characters", key.len())));
    }
    if !key.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(invalid("contains spaces or control characters"));
    }
    Ok(Some(key.to_owned()))
}

/// Serialises the body in a form that does not change with key order or
/// whitespace, so a client that serialises the same request again matches. A body that
/// is not JSON is compared byte for byte.
fn canonical_body(request: &Request) -> Vec<u8> {
    let bytes = body_bytes(request);
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => serde_json::to_vec(&sorted(value)).unwrap_or_else(|_| bytes.to_vec()),
        Err(_) => bytes.to_vec(),
    }
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(name, value)| (name, sorted(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// Headers that belong to the response itself and are sent again with it.
const KEPT_HEADERS: [HeaderName; 2] = [LOCATION, ETAG];

fn to_stored(response: &Response<Body>) -> StoredResponse {
    let body = match response.body() {
        Body::Text(text) => text.clone(),
        Body::Binary(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => String::new(),
    };
    let headers = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    StoredResponse {
        status: response.status().as_u16(),
        body,
        headers,
    }
}

fn replay(stored: &StoredResponse) -> Result<Response<Body>, ApiError> {
    let status = StatusCode::from_u16(stored.status)
        .map_err(|error| ApiError::internal("reading a stored response", &error))?;
    let body: Value = serde_json::from_str(&stored.body)
        .map_err(|error| ApiError::internal("reading a stored response", &error))?;
    let mut response = super::json_response(status, &body)?;
    for (name, value) in &stored.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    Ok(response)
}
