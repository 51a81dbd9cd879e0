//! Control routes under `/__admin` for the demo and the benchmark. They need
//! no token, and neither the rate limits nor the request log count them.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::Fault;
use crate::model::{format_timestamp, OrgSummary};
use crate::mutate::MutationSummary;
use crate::server::{Access, RequestRecord, Shared};
use crate::system_log::LogSettings;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/__admin/summary", get(summary))
        .route("/__admin/mutate", post(mutate))
        .route("/__admin/requests", get(requests).delete(clear_requests))
        .route("/__admin/faults", post(add_fault).delete(clear_faults))
        .route("/__admin/clock", get(clock).post(advance_clock))
        .route("/__admin/tokens", post(add_token))
        .route("/__admin/tokens/revoke", post(revoke_token))
        .route("/__admin/logs", get(log_settings).post(set_log_settings))
}

async fn summary(State(shared): State<Arc<Shared>>) -> Json<OrgSummary> {
    Json(shared.summary())
}

#[derive(Deserialize)]
struct MutateRequest {
    share: f64,
    #[serde(default)]
    seed: u64,
}

async fn mutate(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<MutateRequest>,
) -> Json<MutationSummary> {
    let summary = shared.mutate_share(request.seed, request.share);
    tracing::info!(
        share = request.share,
        seed = request.seed,
        ?summary,
        "mutated the org"
    );
    Json(summary)
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RequestRecord>> {
    Json(shared.requests())
}

async fn clear_requests(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear_requests();
    StatusCode::NO_CONTENT
}

async fn add_fault(State(shared): State<Arc<Shared>>, Json(fault): Json<Fault>) -> StatusCode {
    tracing::info!(?fault, "injected a fault");
    shared.inject(fault);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear_faults();
    StatusCode::NO_CONTENT
}

async fn clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({ "now": format_timestamp(&shared.now()) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdvanceRequest {
    advance_ms: u64,
}

async fn advance_clock(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<AdvanceRequest>,
) -> Json<Value> {
    shared.advance_clock(Duration::from_millis(request.advance_ms));
    Json(json!({ "now": format_timestamp(&shared.now()) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequest {
    token: String,
    /// Groups a scoped token may read; absent for a full-access token.
    group_ids: Option<Vec<String>>,
}

async fn add_token(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<TokenRequest>,
) -> StatusCode {
    let access = match request.group_ids {
        Some(groups) => Access::Groups(groups.into_iter().collect()),
        None => Access::Full,
    };
    shared.set_access(&request.token, access);
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct RevokeRequest {
    token: String,
}

async fn revoke_token(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<RevokeRequest>,
) -> StatusCode {
    shared.set_access(&request.token, Access::Revoked);
    StatusCode::NO_CONTENT
}

async fn log_settings(State(shared): State<Arc<Shared>>) -> Json<LogSettings> {
    Json(shared.log_settings())
}

/// Changes of the System Log's settings; absent fields keep their value.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LogSettingsRequest {
    delay_ms: Option<u64>,
    forbidden: Option<bool>,
}

async fn set_log_settings(
    State(shared): State<Arc<Shared>>,
    Json(request): Json<LogSettingsRequest>,
) -> Json<LogSettings> {
    let mut settings = shared.log_settings();
    if let Some(delay_ms) = request.delay_ms {
        settings.delay = Duration::from_millis(delay_ms);
    }
    if let Some(forbidden) = request.forbidden {
        settings.forbidden = forbidden;
    }
    shared.set_log_settings(settings);
    tracing::info!(?settings, "changed the System Log settings");
    Json(settings)
}
