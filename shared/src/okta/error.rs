use std::time::Duration;

/// Okta's error body. Only `errorCode` is used to branch; the summary is
/// shown to admins as Okta wrote it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaErrorBody {
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_summary: Option<String>,
}

/// What went wrong talking to Okta. Every variant that comes from an answer
/// carries Okta's request id so an admin can quote it to Okta support.
#[derive(Debug, thiserror::Error)]
pub enum OktaError {
    #[error("Okta rejected the API token ({code}, request {request_id}). Create a new token in Okta under Security > API > Tokens and update the connector.")]
    InvalidToken { code: String, request_id: String },

    #[error("Okta denied access to {path} ({code}, request {request_id}): the token's admin role does not cover it. Use a token of an admin whose role can read users and groups.")]
    Forbidden {
        code: String,
        path: String,
        request_id: String,
    },

    #[error("Okta found no resource at {path} ({code}, request {request_id}).")]
    NotFound {
        code: String,
        path: String,
        request_id: String,
    },

    #[error("Okta rejected the request to {path} with HTTP {status} ({code}: {summary}, request {request_id}).")]
    Rejected {
        status: u16,
        code: String,
        summary: String,
        path: String,
        request_id: String,
    },

    #[error("Okta kept failing on {path} after {attempts} attempts; last answer HTTP {status} ({code}, request {request_id}). Okta may be degraded; the next sync will try again.")]
    Unavailable {
        status: u16,
        code: String,
        path: String,
        attempts: u32,
        request_id: String,
    },

    #[error("Okta kept throttling {path} after {attempts} attempts (E0000047). Other integrations may be using this org's rate limit; try a later sync or lower their use.")]
    Throttled { path: String, attempts: u32 },

    #[error("could not reach Okta at {host} after {attempts} attempts: {reason}. Check the connector's domain and the network path to Okta.")]
    Unreachable {
        host: String,
        attempts: u32,
        reason: String,
    },

    #[error(
        "Okta sent a response that could not be read on {path} (request {request_id}): {reason}"
    )]
    InvalidResponse {
        path: String,
        request_id: String,
        reason: String,
    },

    #[error("Okta sent a next-page link to another host ({link_host}); the sync only follows links on {host}.")]
    ForeignLink { host: String, link_host: String },

    #[error("the run reached its function's deadline: the next retry after {last_failure} would wait {wait:?}, past the deadline")]
    DeadlineReached {
        wait: Duration,
        last_failure: String,
    },
}

impl OktaError {
    /// Stable code for API answers and Run records.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidToken { .. } => "okta_invalid_token",
            Self::Forbidden { .. } => "okta_forbidden",
            Self::NotFound { .. } => "okta_not_found",
            Self::Rejected { .. } => "okta_rejected",
            Self::Unavailable { .. } => "okta_unavailable",
            Self::Throttled { .. } => "okta_throttled",
            Self::Unreachable { .. } => "okta_unreachable",
            Self::InvalidResponse { .. } => "okta_invalid_response",
            Self::ForeignLink { .. } => "okta_foreign_link",
            Self::DeadlineReached { .. } => "deadline_reached",
        }
    }

    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::InvalidToken { request_id, .. }
            | Self::Forbidden { request_id, .. }
            | Self::NotFound { request_id, .. }
            | Self::Rejected { request_id, .. }
            | Self::Unavailable { request_id, .. }
            | Self::InvalidResponse { request_id, .. } => Some(request_id),
            _ => None,
        }
    }
}
