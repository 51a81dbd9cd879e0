//! API errors: `{"code", "message", "field"?, "position"?, …}` with a stable
//! machine-readable `code` and a `message` that tells a person what to do.

use lambda_http::http::StatusCode;
use serde_json::{Map, Value};

use crate::domain::InvalidValue;
use crate::secrets::SecretsError;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub field: Option<String>,
    pub position: Option<usize>,
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            field: None,
            position: None,
            extra: Map::new(),
        }
    }

    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn invalid_field(field: &str, invalid: InvalidValue) -> Self {
        Self::bad_request(invalid.code, invalid.message).with_field(field)
    }

    pub fn not_found(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn connector_not_found(id: &str) -> Self {
        Self::not_found(
            "connector_not_found",
            format!(
                "connector '{}' was not found; GET /connectors lists the existing ones",
                crate::domain::truncate_for_message(id)
            ),
        )
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn with_position(mut self, position: usize) -> Self {
        self.position = Some(position);
        self
    }

    pub fn with_extra(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(name.to_owned(), value.into());
        self
    }

    /// An internal failure: logged with its detail, answered without it.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %error, context, "request failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            format!("{context} failed on the server side; try again in a moment. If it keeps failing, an operator can find the cause in the function's logs."),
        )
    }

    pub fn body(&self) -> Value {
        let mut body = Map::new();
        body.insert("code".into(), self.code.clone().into());
        body.insert("message".into(), self.message.clone().into());
        if let Some(field) = &self.field {
            body.insert("field".into(), field.clone().into());
        }
        if let Some(position) = self.position {
            body.insert("position".into(), position.into());
        }
        for (name, value) in &self.extra {
            body.insert(name.clone(), value.clone());
        }
        Value::Object(body)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::ConnectorNotFound(id) => Self::connector_not_found(id.as_str()),
            StoreError::RunActive { run_id } => Self::new(
                StatusCode::CONFLICT,
                "sync_running",
                format!("a sync of this connector is already queued or running (run {run_id}); wait for it to finish, then start another"),
            )
            .with_extra("runId", run_id),
            StoreError::Conflict => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "the connector was changed by another request at the same time; read it again and retry",
            ),
            StoreError::VersionMismatch { current } => {
                super::precondition::precondition_failed(current)
            }
            other => Self::internal("reading or writing the mirror table", &other),
        }
    }
}

impl From<SecretsError> for ApiError {
    fn from(error: SecretsError) -> Self {
        Self::internal("storing or reading the connector's token", &error)
    }
}
