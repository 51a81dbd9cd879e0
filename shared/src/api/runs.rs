//! Run routes beyond reading a run: its change log, and the decision on
//! user removals the deletion guard held.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};

use serde_json::json;

use super::audit;
use super::connectors::{load, run_not_found};
use super::error::ApiError;
use super::request::{optional_json, Query};
use super::{json_response, ApiContext, ListPage};
use crate::records::AuditAction;
use crate::store::ChangePosition;
use crate::sync::ApprovalError;

/// `GET /connectors/{id}/runs/{runId}/changes`: the run's change log, a page
/// at a time, in a stable order.
pub async fn list_changes(
    context: &ApiContext,
    request: &Request,
    id: &str,
    run_id: &str,
) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["limit", "cursor"])?;
    let limit = query.limit()?;
    let connector = load(context, id).await?;
    let store = &context.services.store;
    if store.get_run(&connector.id, run_id).await?.is_none() {
        return Err(run_not_found(&connector.id, run_id));
    }

    let scope = format!("changes:{}:{run_id}", connector.id);
    let start = query
        .get("cursor")
        .map(|cursor| context.cursors.verify(cursor, &scope, ""))
        .transpose()?
        .map(|after| {
            // A cursor signed for this scope contains a position this route wrote.
            ChangePosition::decode(&after).ok_or_else(|| {
                ApiError::bad_request("invalid_cursor", "cursor is not valid for this listing")
                    .with_field("cursor")
            })
        })
        .transpose()?;
    let (items, next) = store
        .list_changes(&connector.id, run_id, start, limit)
        .await?;
    let next_cursor = next.map(|next| context.cursors.issue(&scope, "", &next.encode()));
    json_response(StatusCode::OK, &ListPage { items, next_cursor })
}

/// The admin's decision on the user removals a run held back.
#[derive(Debug, Clone, Copy)]
pub enum Decision {
    Approve,
    Discard,
}

/// Handles `POST /connectors/{id}/runs/{runId}/approve` (applies the held
/// removals) and `…/discard` (drops them), and records the decision in the
/// audit trail.
pub async fn decide(
    context: &ApiContext,
    request: &Request,
    id: &str,
    run_id: &str,
    decision: Decision,
) -> Result<Response<Body>, ApiError> {
    optional_json::<NoBody>(request)?;
    let connector = load(context, id).await?;
    let store = &context.services.store;
    let (result, action) = match decision {
        Decision::Approve => (
            crate::sync::approve(store, &connector, run_id).await,
            AuditAction::RemovalsApproved,
        ),
        Decision::Discard => (
            crate::sync::discard(store, &connector, run_id).await,
            AuditAction::RemovalsDiscarded,
        ),
    };
    let run = result.map_err(approval_error)?;

    let held_users = run.approval.as_ref().map(|approval| approval.held_users);
    audit::record(
        context,
        request,
        action,
        Some(&connector.id),
        json!({"runId": run_id, "heldUsers": held_users}),
    )
    .await;
    json_response(StatusCode::OK, &run)
}

/// Approve and discard take no body. Any field sent is rejected, so a
/// mistyped request does not make an irreversible decision.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NoBody {}

fn approval_error(error: ApprovalError) -> ApiError {
    let message = error.to_string();
    match error {
        ApprovalError::RunNotFound { run_id } => ApiError::not_found(
            "run_not_found",
            format!("{message}; GET /connectors/{{id}}/runs lists its runs"),
        )
        .with_extra("runId", run_id),
        ApprovalError::NotPending { run_id, status, .. } => {
            ApiError::new(StatusCode::CONFLICT, "not_awaiting_approval", message)
                .with_extra("runId", run_id)
                .with_extra("status", status)
        }
        ApprovalError::Stale {
            run_id,
            later_run_id,
        } => ApiError::new(StatusCode::CONFLICT, "hold_stale", message)
            .with_extra("runId", run_id)
            .with_extra("laterRunId", later_run_id),
        ApprovalError::Busy { holder } => {
            ApiError::new(StatusCode::CONFLICT, "sync_running", message).with_extra("runId", holder)
        }
        ApprovalError::Store(error) => error.into(),
        ApprovalError::Sync(error) => ApiError::internal("applying the held removals", &error),
    }
}
