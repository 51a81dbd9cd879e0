//! Entity tags of connectors and the `If-Match` header. A connector's ETag is
//! its version in quotes, for example `"3"`. PATCH and DELETE with a stale
//! `If-Match` get 412 and change nothing.

use lambda_http::http::header::{HeaderValue, ETAG, IF_MATCH};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use super::error::ApiError;

/// A parsed `If-Match` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: the connector must exist, in any version.
    Any,
    /// The entity tags listed, quotes removed. Weak tags (`W/"3"`) are kept
    /// with their prefix, so they never match, because HTTP's `If-Match`
    /// uses the strong comparison.
    Tags(Vec<String>),
}

impl IfMatch {
    /// The version to make a conditional write with, or 412 when the
    /// connector's `current` version is not one the client named.
    pub fn expect(&self, current: u64) -> Result<u64, ApiError> {
        match self {
            Self::Any => Ok(current),
            Self::Tags(tags) if tags.iter().any(|tag| *tag == current.to_string()) => Ok(current),
            Self::Tags(_) => Err(precondition_failed(current)),
        }
    }
}

pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

pub fn with_etag(mut response: Response<Body>, version: u64) -> Response<Body> {
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(ETAG, value);
    }
    response
}

pub fn precondition_failed(current: u64) -> ApiError {
    let current = etag(current);
    ApiError::new(
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
        format!(
            "the connector was changed since the If-Match version was read; its ETag is now {current}. Read it again, check that your change still applies, and retry with If-Match: {current}"
        ),
    )
    .with_field("If-Match")
    .with_extra("currentETag", current)
}

/// Reads `If-Match`: `*` or a comma-separated list of entity tags.
pub fn if_match(request: &Request) -> Result<Option<IfMatch>, ApiError> {
    let invalid = |value: &str| {
        ApiError::bad_request(
            "invalid_if_match",
            format!(
                "If-Match '{}' is not an entity tag; send the ETag of the connector exactly as received, quotes included, for example If-Match: \"3\"",
                crate::domain::truncate_for_message(value)
            ),
        )
        .with_field("If-Match")
    };
    let mut tags = Vec::new();
    for value in request.headers().get_all(IF_MATCH) {
        let text = value.to_str().map_err(|_| invalid("(not ASCII)"))?;
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            if part == "*" {
                return Ok(Some(IfMatch::Any));
            }
            let (weak, quoted) = match part.strip_prefix("W/") {
                Some(rest) => (true, rest),
                None => (false, part),
            };
            let tag = quoted
                .strip_prefix('"')
                .and_then(|rest| rest.strip_suffix('"'))
                .filter(|tag| !tag.contains('"'))
                .ok_or_else(|| invalid(part))?;
            tags.push(if weak {
                format!("W/{tag}")
            } else {
                tag.to_owned()
            });
        }
    }
    if tags.is_empty() {
        // No header, or only an empty one.
        return match request.headers().get(IF_MATCH) {
            None => Ok(None),
            Some(_) => Err(invalid("")),
        };
    }
    Ok(Some(IfMatch::Tags(tags)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_tag_never_matches() {
        let tags = IfMatch::Tags(vec!["W/3".into()]);
        assert!(tags.expect(3).is_err());
    }

    #[test]
    fn any_listed_tag_matches() {
        let tags = IfMatch::Tags(vec!["2".into(), "3".into()]);
        assert_eq!(tags.expect(3).unwrap(), 3);
        assert_eq!(tags.expect(4).unwrap_err().code, "precondition_failed");
    }
}
