//! The audit trail of admin actions: who changed what, and when.
//!
//! Every route that changes something calls [`record`] after the change
//! succeeded. Routes built later (approving or discarding a run's removals)
//! call it the same way:
//!
//! ```ignore
//! audit::record(context, request, AuditAction::RemovalsApproved,
//!     Some(&connector.id), json!({"runId": run_id, "removed": 12})).await;
//! ```
//!
//! `details` must never hold a secret: record a replaced token as
//! `"apiToken": "replaced"`.

use lambda_http::http::StatusCode;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{Map, Value};

use super::error::ApiError;
use super::request::Query;
use super::{json_response, ApiContext, ListPage};
use crate::domain::ConnectorId;
use crate::records::{now_rfc3339, Actor, ActorKind, AuditAction, AuditRecord, Run};

/// Identity values from the request context are cut to this many
/// characters, so a huge claim cannot bloat the trail.
const MAX_IDENTITY_CHARS: usize = 512;

/// Records an admin action in the audit trail with the caller's identity
/// and the time. A failure to write is logged and does not fail the
/// request, because the action itself has already happened.
pub async fn record(
    context: &ApiContext,
    request: &Request,
    action: AuditAction,
    connector_id: Option<&ConnectorId>,
    details: Value,
) {
    let details = match details {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => Map::from_iter([("value".to_owned(), other)]),
    };
    let record = AuditRecord {
        id: Run::new_id(),
        time: now_rfc3339(),
        action,
        connector_id: connector_id.map(|id| id.to_string()),
        actor: actor(request),
        request_id: request_id(request),
        details,
    };
    if let Err(error) = context.services.store.put_audit(&record).await {
        // NOTE: the action stays done but unrecorded; the log line below is
        // its only trace.
        tracing::error!(
            error = %error,
            audit_id = record.id,
            action = ?record.action,
            connector_id = record.connector_id,
            actor = record.actor.id,
            "could not write the audit record of a completed action"
        );
    }
}

/// `GET /audit`: the audit trail, newest first, optionally of one
/// connector (`?connectorId=`), which may already be deleted.
pub async fn list(context: &ApiContext, request: &Request) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["limit", "cursor", "connectorId"])?;
    let limit = query.limit()?;
    let connector_id = query
        .get("connectorId")
        .map(|id| {
            ConnectorId::parse(id).map_err(|_| {
                ApiError::bad_request(
                    "invalid_parameter",
                    format!(
                        "connectorId '{}' is not a connector id; copy the id from GET /connectors",
                        crate::domain::truncate_for_message(id)
                    ),
                )
                .with_field("connectorId")
            })
        })
        .transpose()?;
    let filters = match &connector_id {
        Some(id) => format!("connectorId={id}"),
        None => String::new(),
    };
    let after = query
        .get("cursor")
        .map(|cursor| context.cursors.verify(cursor, "audit", &filters))
        .transpose()?;
    let (items, last) = context
        .services
        .store
        .list_audit(connector_id.as_ref().map(ConnectorId::as_str), after, limit)
        .await?;
    let next_cursor = last.map(|last| context.cursors.issue("audit", &filters, &last));
    json_response(StatusCode::OK, &ListPage { items, next_cursor })
}

/// Reads the caller from API Gateway's request context: the IAM
/// authorizer's caller, else the JWT authorizer's `sub` and `iss` claims,
/// else `anonymous` with the source IP (no authorizer, as locally).
pub fn actor(request: &Request) -> Actor {
    let mut actor = Actor {
        kind: ActorKind::Anonymous,
        id: "anonymous".into(),
        issuer: None,
        account_id: None,
        source_ip: None,
        user_agent: None,
    };
    let Some(RequestContext::ApiGatewayV2(context)) = request.request_context_ref() else {
        return actor;
    };
    actor.source_ip = context.http.source_ip.as_deref().map(bounded);
    actor.user_agent = context.http.user_agent.as_deref().map(bounded);
    let Some(authorizer) = &context.authorizer else {
        return actor;
    };
    if let Some(iam) = &authorizer.iam {
        let id = [&iam.user_arn, &iam.caller_id, &iam.user_id]
            .into_iter()
            .flatten()
            .find(|id| !id.is_empty());
        if let Some(id) = id {
            actor.kind = ActorKind::Iam;
            actor.id = bounded(id);
            actor.account_id = iam.account_id.as_deref().map(bounded);
            return actor;
        }
    }
    if let Some(jwt) = &authorizer.jwt {
        if let Some(subject) = jwt.claims.get("sub").filter(|sub| !sub.is_empty()) {
            actor.kind = ActorKind::Jwt;
            actor.id = bounded(subject);
            actor.issuer = jwt.claims.get("iss").map(|issuer| bounded(issuer));
        }
    }
    actor
}

fn request_id(request: &Request) -> Option<String> {
    match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.request_id.as_deref().map(bounded),
        _ => None,
    }
}

fn bounded(value: &str) -> String {
    value.chars().take(MAX_IDENTITY_CHARS).collect()
}
