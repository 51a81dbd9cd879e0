//! `POST /connectors/{id}/users/{loginOrId}/sync`: refreshes one user and
//! their memberships from Okta and returns the mirrored user.

use std::time::{Duration, Instant};

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use percent_encoding::percent_decode_str;
use serde_json::{json, Value};

use super::connectors::load;
use super::error::ApiError;
use super::{json_response, ApiContext};
use crate::domain::truncate_for_message;
use crate::okta::{ClientOptions, OktaClient};
use crate::sync::{sync_one_user, SingleUserError};

/// Okta's user schema allows logins of at most 100 characters; ids have 20.
const MAX_LOGIN_CHARS: usize = 100;

/// Time limit of the Okta calls, so the response comes within API Gateway's
/// 29 seconds. Retry waits that would end later fail instead.
const REFRESH_TIME_LIMIT: Duration = Duration::from_secs(20);

pub async fn sync_user(
    context: &ApiContext,
    id: &str,
    raw_login_or_id: &str,
) -> Result<Response<Body>, ApiError> {
    let login_or_id = parse_login_or_id(raw_login_or_id)?;
    let connector = load(context, id).await?;
    let services = &context.services;
    let token = services.tokens.read(&connector.id).await?;
    let options = ClientOptions {
        request_timeout: Duration::from_secs(8),
        max_attempts: 2,
        max_throttle_waits: 1,
        max_reset_wait: Duration::from_secs(10),
        ..services.okta.clone()
    };
    let mut client = OktaClient::new(
        &connector.domain,
        token,
        &services.settings.domain_policy,
        options,
    )
    .map_err(|error| ApiError::invalid_field("domain", error))?;
    client.set_deadline(Some(Instant::now() + REFRESH_TIME_LIMIT));

    let result = sync_one_user(&services.store, &client, &connector, &login_or_id).await;
    let refreshed = result.map_err(|error| refresh_error(error, &connector.id.to_string()))?;
    let mut body = serde_json::to_value(&refreshed.user)
        .map_err(|error| ApiError::internal("writing the response", &error))?;
    if let Value::Object(object) = &mut body {
        let outcome = serde_json::to_value(&refreshed.outcome)
            .map_err(|error| ApiError::internal("writing the response", &error))?;
        object.insert("refresh".into(), outcome);
    }
    json_response(StatusCode::OK, &body)
}

/// Decodes the path segment and checks it can name one Okta user.
fn parse_login_or_id(raw: &str) -> Result<String, ApiError> {
    let invalid = |why: String| {
        ApiError::bad_request(
            "invalid_login_or_id",
            format!(
                "'{}' {why}; give an Okta user id such as 00u1ab2cd3EF4gh5ij6k7 or a login such as alice@example.com, percent-encoded",
                truncate_for_message(raw)
            ),
        )
        .with_field("loginOrId")
    };
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| invalid("is not UTF-8 text once its percent-escapes are decoded".into()))?
        .into_owned();
    if decoded.trim().is_empty() {
        return Err(invalid("is empty".into()));
    }
    if decoded.trim() != decoded {
        return Err(invalid("starts or ends with white space".into()));
    }
    let chars = decoded.chars().count();
    if chars > MAX_LOGIN_CHARS {
        return Err(invalid(format!(
            "has {chars} characters, but Okta logins have at most {MAX_LOGIN_CHARS}"
        )));
    }
    if decoded.chars().any(char::is_control) {
        return Err(invalid("contains control characters".into()));
    }
    if decoded.contains('/') {
        return Err(invalid(
            "contains '/', and Okta reads such users by id only; use the user's id".into(),
        ));
    }
    if decoded == "." || decoded == ".." {
        return Err(invalid("is a path step, not a user".into()));
    }
    if decoded.eq_ignore_ascii_case("me") {
        return Err(invalid(
            "names, in Okta's API, the admin who owns the token rather than a user".into(),
        ));
    }
    Ok(decoded)
}

fn refresh_error(error: SingleUserError, connector_id: &str) -> ApiError {
    match error {
        SingleUserError::UserNotFound {
            login_or_id,
            marked_removed,
        } => {
            let removed = if marked_removed {
                " It was the id of a mirrored user, which is now marked removed."
            } else {
                ""
            };
            ApiError::not_found(
                "okta_user_not_found",
                format!(
                    "Okta has no user with the id or login '{}'.{removed} Check the value; GET /connectors/{connector_id}/users lists the mirrored users.",
                    truncate_for_message(&login_or_id)
                ),
            )
            .with_extra("markedRemoved", marked_removed)
        }
        SingleUserError::SyncRunning { run_id } => ApiError::new(
            StatusCode::CONFLICT,
            "sync_running",
            format!("the user is not in the mirror yet and run {run_id} of this connector is queued or running; that run adds the user. Retry when it has finished."),
        )
        .with_extra("runId", run_id),
        SingleUserError::OutOfScope { .. } => ApiError::new(
            StatusCode::CONFLICT,
            "user_out_of_scope",
            format!("{error}. Nothing was written; the next full sync applies the connector's cleanup policy to the user. Change the connector's scope or mapping to include them."),
        ),
        SingleUserError::Settings(message) => ApiError::new(
            StatusCode::CONFLICT,
            "invalid_settings",
            format!("{message}. Fix the connector's scope or mapping with PATCH /connectors/{connector_id}."),
        ),
        SingleUserError::ConnectorDeleted => ApiError::connector_not_found(connector_id),
        SingleUserError::Conflict => ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "a sync changed this user's items while they were refreshed; retry the request",
        ),
        SingleUserError::Okta(error) => {
            tracing::warn!(connector_id, code = error.code(), error = %error, "single-user sync failed on Okta's side");
            ApiError::new(StatusCode::BAD_GATEWAY, error.code(), error.to_string())
                .with_extra("oktaRequestId", json!(error.request_id()))
        }
        SingleUserError::Store(error) => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_is_percent_decoded() {
        assert_eq!(
            parse_login_or_id("alice%2Btest%40example.com").unwrap(),
            "alice+test@example.com"
        );
        assert_eq!(
            parse_login_or_id("00u1ab2cd3EF4gh5ij6k7").unwrap(),
            "00u1ab2cd3EF4gh5ij6k7"
        );
    }

    #[test]
    fn malformed_values_are_rejected() {
        let long = "a".repeat(101);
        for raw in [
            "",
            "%20",
            "a%2Fb",
            "%FF",
            "%0A",
            "me",
            "..",
            " alice",
            long.as_str(),
        ] {
            let error = parse_login_or_id(raw).unwrap_err();
            assert_eq!(error.code, "invalid_login_or_id", "value {raw:?}");
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "value {raw:?}");
        }
    }
}
