//! Connector routes: create, read, update, delete, test, and start a sync.

use std::time::Duration;

use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::audit;
use super::connector_settings::{check_user_selection, local_errors, resolve_adopt_from};
use super::error::ApiError;
use super::idempotency;
use super::precondition::{if_match, with_etag};
use super::request::{optional_json, required_json, Query};
use super::{json_response, ApiContext, ListPage};
use crate::domain::{ApiToken, ConnectorId, OktaDomain};
use crate::lifecycle::{AdoptMatch, Cleanup, Mapping, Scope};
use crate::okta::{ClientOptions, OktaClient};
use crate::records::{
    now_rfc3339, AuditAction, Connector, ConnectorAuth, DeletionGuard, Run, SyncMode, Trigger,
};
use crate::sync::{SyncAction, SyncEvent};

/// A queued run holds the connector's lease this long if its message is
/// never picked up, so a lost message cannot block syncs for good.
pub const QUEUED_LEASE_SECONDS: i64 = 3600;

const MAX_NAME_CHARS: usize = 200;

/// Maximum length of a domain input: a 253-character host name with room for
/// `https://` and a trailing slash. Checked before parsing, so the parser
/// only gets short values.
const MAX_DOMAIN_CHARS: usize = 300;

fn parse_domain(value: &str, policy: &crate::domain::DomainPolicy) -> Result<OktaDomain, ApiError> {
    let chars = value.chars().count();
    if chars > MAX_DOMAIN_CHARS {
        return Err(ApiError::bad_request(
            "invalid_domain",
            format!("domain has {chars} characters; the maximum is {MAX_DOMAIN_CHARS}: enter your Okta org's host, for example acme.okta.com"),
        )
        .with_field("domain"));
    }
    OktaDomain::parse(value, policy).map_err(|error| ApiError::invalid_field("domain", error))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateConnector {
    name: String,
    domain: String,
    api_token: String,
    #[serde(rename = "type", default)]
    connector_type: Option<String>,
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    mapping: Option<Mapping>,
    #[serde(default)]
    cleanup: Option<Cleanup>,
    #[serde(default)]
    adopt_from: Option<Vec<String>>,
    #[serde(default)]
    adopt_match: Option<AdoptMatch>,
    #[serde(default)]
    deletion_guard: Option<DeletionGuardInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct UpdateConnector {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    api_token: Option<String>,
    #[serde(default)]
    scope: Option<Scope>,
    #[serde(default)]
    mapping: Option<Mapping>,
    #[serde(default)]
    cleanup: Option<Cleanup>,
    #[serde(default)]
    adopt_from: Option<Vec<String>>,
    #[serde(default)]
    adopt_match: Option<AdoptMatch>,
    #[serde(default)]
    deletion_guard: Option<DeletionGuardInput>,
}

impl UpdateConnector {
    fn changes_nothing(&self) -> bool {
        self.name.is_none()
            && self.domain.is_none()
            && self.api_token.is_none()
            && self.scope.is_none()
            && self.mapping.is_none()
            && self.cleanup.is_none()
            && self.adopt_from.is_none()
            && self.adopt_match.is_none()
            && self.deletion_guard.is_none()
    }
}

/// `deletionGuard` in a request. Like the other settings objects it replaces
/// the stored guard whole; a field left out takes its default.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeletionGuardInput {
    #[serde(default)]
    max_share: Option<f64>,
    /// Read as a number so that `-1` or `2.5` get a message naming the rule.
    #[serde(default)]
    max_count: Option<f64>,
}

/// Upper bound of `deletionGuard.maxCount`; larger values would only hide
/// typing mistakes, and this one already turns the count limit off.
const MAX_GUARD_COUNT: f64 = 1_000_000_000.0;

impl DeletionGuardInput {
    fn validate(&self) -> Vec<ApiError> {
        let mut errors = Vec::new();
        if let Some(share) = self.max_share {
            if !(0.0..=1.0).contains(&share) {
                errors.push(
                    ApiError::bad_request(
                        "invalid_deletion_guard",
                        format!("deletionGuard.maxShare {share} is invalid: give a share of the mirrored users from 0 to 1, for example 0.1 for 10%"),
                    )
                    .with_field("deletionGuard.maxShare"),
                );
            }
        }
        if let Some(count) = self.max_count {
            if count.fract() != 0.0 || !(0.0..=MAX_GUARD_COUNT).contains(&count) {
                errors.push(
                    ApiError::bad_request(
                        "invalid_deletion_guard",
                        format!("deletionGuard.maxCount {count} is invalid: give a whole number of users from 0 to {MAX_GUARD_COUNT}, for example 500"),
                    )
                    .with_field("deletionGuard.maxCount"),
                );
            }
        }
        errors
    }

    /// Builds the guard, with defaults for the fields left out; call after
    /// `validate`.
    fn into_guard(self) -> DeletionGuard {
        let defaults = DeletionGuard::default();
        DeletionGuard {
            max_share: self.max_share.unwrap_or(defaults.max_share),
            max_count: self
                .max_count
                .map_or(defaults.max_count, |count| count as u64),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StartSync {
    #[serde(default)]
    mode: Option<SyncMode>,
    #[serde(default)]
    dry_run: Option<bool>,
}

pub(super) fn parse_id(id: &str) -> Result<ConnectorId, ApiError> {
    ConnectorId::parse(id).map_err(|_| ApiError::connector_not_found(id))
}

pub(super) async fn load(context: &ApiContext, id: &str) -> Result<Connector, ApiError> {
    let id = parse_id(id)?;
    context
        .services
        .store
        .get_connector(&id)
        .await?
        .ok_or_else(|| ApiError::connector_not_found(id.as_str()))
}

fn validate_name(name: &str) -> Result<String, ApiError> {
    let trimmed = name.trim();
    let invalid = |why: String| ApiError::bad_request("invalid_name", why).with_field("name");
    if trimmed.is_empty() {
        return Err(invalid("name is empty: give the connector a name admins will recognise, for example 'Acme production'".into()));
    }
    let chars = trimmed.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(invalid(format!(
            "name has {chars} characters; the maximum is {MAX_NAME_CHARS}"
        )));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(invalid(
            "name contains control characters such as line breaks or tabs; remove them".into(),
        ));
    }
    Ok(trimmed.to_owned())
}

fn validate_type(connector_type: Option<&str>) -> Result<(), ApiError> {
    match connector_type {
        None | Some("okta") => Ok(()),
        Some(other) => Err(ApiError::bad_request(
            "invalid_type",
            format!(
                "type '{}' is not supported; the only connector type is \"okta\"",
                crate::domain::truncate_for_message(other)
            ),
        )
        .with_field("type")),
    }
}

/// Checks every field and reports all problems, the first as the answer's
/// `field` and all of them under `errors`.
fn collect_errors(errors: Vec<ApiError>) -> Result<(), ApiError> {
    let mut errors = errors.into_iter();
    let Some(first) = errors.next() else {
        return Ok(());
    };
    let rest: Vec<_> = errors.collect();
    if rest.is_empty() {
        return Err(first);
    }
    let all: Vec<_> = std::iter::once(first.body())
        .chain(rest.iter().map(ApiError::body))
        .collect();
    Err(first.with_extra("errors", all))
}

/// `POST /connectors`, once per `Idempotency-Key`.
pub async fn create(context: &ApiContext, request: &Request) -> Result<Response<Body>, ApiError> {
    idempotency::once(context, request, "POST /connectors", || {
        create_once(context, request)
    })
    .await
}

async fn create_once(context: &ApiContext, request: &Request) -> Result<Response<Body>, ApiError> {
    let body: CreateConnector = required_json(request)?;
    let policy = &context.services.settings.domain_policy;

    let name = validate_name(&body.name);
    let domain = parse_domain(&body.domain, policy);
    let token = ApiToken::parse(&body.api_token)
        .map_err(|error| ApiError::invalid_field("apiToken", error));
    let kind = validate_type(body.connector_type.as_deref());
    let adopt_from = resolve_adopt_from(
        context,
        body.adopt_from.as_deref().unwrap_or_default(),
        None,
    )
    .await;
    let mut errors: Vec<ApiError> = [
        name.as_ref().err(),
        domain.as_ref().err(),
        token.as_ref().err(),
        kind.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    errors.extend(local_errors(body.scope.as_ref(), body.mapping.as_ref()));
    errors.extend(
        body.deletion_guard
            .map(|guard| guard.validate())
            .unwrap_or_default(),
    );
    if let Err(adopt_errors) = &adopt_from {
        errors.extend(adopt_errors.iter().cloned());
    }
    collect_errors(errors)?;
    let (Ok(name), Ok(domain), Ok(token), Ok(adopt_from)) = (name, domain, token, adopt_from)
    else {
        unreachable!("collect_errors returned early for any error");
    };
    let scope = body.scope.unwrap_or_default();
    check_user_selection(context, &domain, token.clone(), &scope).await?;

    let now = now_rfc3339();
    let connector = Connector {
        id: ConnectorId::generate(),
        name,
        connector_type: "okta".into(),
        domain,
        auth: ConnectorAuth::api_token(),
        created_at: now.clone(),
        updated_at: now,
        version: 1,
        schedule: None,
        last_run: None,
        scope,
        mapping: body.mapping.unwrap_or_default(),
        cleanup: body.cleanup.unwrap_or_default(),
        adopt_from,
        adopt_match: body.adopt_match.unwrap_or_default(),
        adopted_by: None,
        deletion_guard: body
            .deletion_guard
            .map(DeletionGuardInput::into_guard)
            .unwrap_or_default(),
        status: Default::default(),
        quarantine: None,
    };
    let services = &context.services;
    services.tokens.create(&connector.id, &token).await?;
    if let Err(error) = services.store.create_connector(&connector).await {
        // Do not leave an orphaned secret behind.
        if let Err(cleanup) = services.tokens.delete(&connector.id).await {
            tracing::error!(connector_id = %connector.id, error = %cleanup, "could not delete the secret of a connector that failed to save");
        }
        return Err(error.into());
    }
    tracing::info!(connector_id = %connector.id, domain = %connector.domain, "connector created");
    audit::record(
        context,
        request,
        AuditAction::ConnectorCreated,
        Some(&connector.id),
        json!({"name": connector.name, "domain": connector.domain, "apiToken": "set"}),
    )
    .await;

    let mut response = with_etag(
        json_response(StatusCode::CREATED, &connector)?,
        connector.version,
    );
    if let Ok(location) = format!("/connectors/{}", connector.id).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub async fn list(context: &ApiContext, request: &Request) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["limit", "cursor"])?;
    let limit = query.limit()?;
    let after = query
        .get("cursor")
        .map(|cursor| context.cursors.verify(cursor, "connectors", ""))
        .transpose()?;
    let (items, last) = context.services.store.list_connectors(after, limit).await?;
    let next_cursor = last.map(|last| context.cursors.issue("connectors", "", &last));
    json_response(StatusCode::OK, &ListPage { items, next_cursor })
}

pub async fn get(context: &ApiContext, id: &str) -> Result<Response<Body>, ApiError> {
    let connector = load(context, id).await?;
    let response = json_response(
        StatusCode::OK,
        &super::schedules::connector_body(&connector)?,
    )?;
    Ok(with_etag(response, connector.version))
}

pub async fn update(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let body: UpdateConnector = required_json(request)?;
    let precondition = if_match(request)?;
    if body.changes_nothing() {
        return Err(ApiError::bad_request(
            "empty_update",
            "the body changes nothing: give at least one of name, domain, apiToken, scope, mapping, cleanup, adoptFrom, adoptMatch, deletionGuard",
        ));
    }
    let policy = &context.services.settings.domain_policy;
    let name = body.name.as_deref().map(validate_name).transpose();
    let domain = body
        .domain
        .as_deref()
        .map(|domain| parse_domain(domain, policy))
        .transpose();
    let token = body
        .api_token
        .as_deref()
        .map(ApiToken::parse)
        .transpose()
        .map_err(|error| ApiError::invalid_field("apiToken", error));
    let own_id = parse_id(id)?;
    let adopt_from = match &body.adopt_from {
        Some(ids) => resolve_adopt_from(context, ids, Some(&own_id))
            .await
            .map(Some),
        None => Ok(None),
    };
    let mut errors: Vec<ApiError> = [
        name.as_ref().err(),
        domain.as_ref().err(),
        token.as_ref().err(),
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect();
    errors.extend(local_errors(body.scope.as_ref(), body.mapping.as_ref()));
    errors.extend(
        body.deletion_guard
            .map(|guard| guard.validate())
            .unwrap_or_default(),
    );
    if let Err(adopt_errors) = &adopt_from {
        errors.extend(adopt_errors.iter().cloned());
    }
    collect_errors(errors)?;
    let (Ok(name), Ok(domain), Ok(token), Ok(adopt_from)) = (name, domain, token, adopt_from)
    else {
        unreachable!("collect_errors returned early for any error");
    };

    let mut connector = load(context, id).await?;
    // Checked before the token is replaced, so a stale request changes
    // nothing. The conditional write below catches a change in between.
    let expected_version = precondition
        .map(|precondition| precondition.expect(connector.version))
        .transpose()?;
    let domain_changed = domain.is_some();
    let mut changes = apply_settings(&mut connector, name, domain, token.is_some());
    let before = settings_snapshot(&connector);
    // A new selection, domain or token is checked against Okta before it
    // is stored; each object sent replaces the stored one whole.
    let scope = body.scope.unwrap_or_else(|| connector.scope.clone());
    let selection_changed = scope.user_filter != connector.scope.user_filter
        || scope.user_search != connector.scope.user_search
        || domain_changed
        || token.is_some();
    if selection_changed && (scope.user_filter.is_some() || scope.user_search.is_some()) {
        let check_token = match &token {
            Some(token) => token.clone(),
            None => context.services.tokens.read(&connector.id).await?,
        };
        check_user_selection(context, &connector.domain, check_token, &scope).await?;
    }
    connector.scope = scope;
    if let Some(mapping) = body.mapping {
        connector.mapping = mapping;
    }
    if let Some(cleanup) = body.cleanup {
        connector.cleanup = cleanup;
    }
    if let Some(adopt_from) = adopt_from {
        connector.adopt_from = adopt_from;
    }
    if let Some(adopt_match) = body.adopt_match {
        connector.adopt_match = adopt_match;
    }
    if let Some(guard) = body.deletion_guard {
        connector.deletion_guard = guard.into_guard();
    }
    record_setting_changes(&mut changes, &before, &settings_snapshot(&connector));
    if let Some(token) = &token {
        // NOTE: if the conditional write below fails (a concurrent change
        // between the check above and the write), the new token is already
        // stored and the request still gets 412.
        context
            .services
            .tokens
            .replace(&connector.id, token)
            .await?;
    }
    connector.updated_at = now_rfc3339();
    context
        .services
        .store
        .update_connector_settings(&mut connector, expected_version)
        .await?;
    tracing::info!(connector_id = %connector.id, token_replaced = token.is_some(), "connector updated");
    audit::record(
        context,
        request,
        AuditAction::ConnectorUpdated,
        Some(&connector.id),
        changes,
    )
    .await;
    let response = json_response(
        StatusCode::OK,
        &super::schedules::connector_body(&connector)?,
    )?;
    Ok(with_etag(response, connector.version))
}

/// Applies a PATCH's new values to the connector and returns what changed,
/// as the audit record lists it: `{from, to}` per field, and only
/// `"replaced"` for the token.
fn apply_settings(
    connector: &mut Connector,
    name: Option<String>,
    domain: Option<OktaDomain>,
    token_replaced: bool,
) -> serde_json::Value {
    let mut changes = serde_json::Map::new();
    if let Some(name) = name.filter(|name| *name != connector.name) {
        changes.insert("name".into(), json!({"from": connector.name, "to": name}));
        connector.name = name;
    }
    if let Some(domain) = domain.filter(|domain| *domain != connector.domain) {
        changes.insert(
            "domain".into(),
            json!({"from": connector.domain, "to": domain}),
        );
        connector.domain = domain;
    }
    if token_replaced {
        changes.insert("apiToken".into(), json!("replaced"));
    }
    serde_json::Value::Object(changes)
}

/// Returns the lifecycle settings of a connector as JSON, so the audit
/// record can list the ones a PATCH changed.
fn settings_snapshot(connector: &Connector) -> serde_json::Map<String, serde_json::Value> {
    let mut snapshot = serde_json::Map::new();
    snapshot.insert("scope".into(), json!(connector.scope));
    snapshot.insert("mapping".into(), json!(connector.mapping));
    snapshot.insert("cleanup".into(), json!(connector.cleanup));
    snapshot.insert("adoptFrom".into(), json!(connector.adopt_from));
    snapshot.insert("adoptMatch".into(), json!(connector.adopt_match));
    snapshot.insert("deletionGuard".into(), json!(connector.deletion_guard));
    snapshot
}

/// Adds `{from, to}` to `changes` for each setting that differs.
fn record_setting_changes(
    changes: &mut serde_json::Value,
    before: &serde_json::Map<String, serde_json::Value>,
    after: &serde_json::Map<String, serde_json::Value>,
) {
    let Some(changes) = changes.as_object_mut() else {
        return;
    };
    for (name, new) in after {
        let old = before.get(name).unwrap_or(&serde_json::Value::Null);
        if old != new {
            changes.insert(name.clone(), json!({"from": old, "to": new}));
        }
    }
}

/// Deletes the record at once (the connector answers 404 from now on), then
/// its schedule and secret; the mirror is purged by the sync function.
pub async fn delete(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let connector_id = parse_id(id)?;
    let precondition = if_match(request)?;
    let services = &context.services;
    let expected_version = match precondition {
        Some(precondition) => {
            let current = load(context, id).await?;
            Some(precondition.expect(current.version)?)
        }
        None => None,
    };
    let Some(connector) = services
        .store
        .delete_connector(&connector_id, expected_version)
        .await?
    else {
        return Err(ApiError::connector_not_found(id));
    };
    audit::record(
        context,
        request,
        AuditAction::ConnectorDeleted,
        Some(&connector.id),
        json!({"name": connector.name, "domain": connector.domain}),
    )
    .await;

    if let Err(error) = crate::scheduler::delete_schedule(services, &connector.id).await {
        tracing::error!(connector_id = %connector.id, error = %error, "could not delete the connector's schedule");
    }
    if let Err(error) = services.tokens.delete(&connector.id).await {
        tracing::error!(connector_id = %connector.id, error = %error, "could not delete the connector's secret; the purge retries");
    }
    let purge = SyncEvent {
        connector_id: connector.id.to_string(),
        mode: None,
        run_id: None,
        trigger: None,
        action: Some(SyncAction::Purge),
        dry_run: None,
    };
    match &services.handoff {
        Some(handoff) => {
            if let Err(error) = handoff.send(&purge).await {
                tracing::error!(connector_id = %connector.id, error = %error, "could not queue the purge of a deleted connector's mirror");
            }
        }
        None => {
            tracing::warn!(connector_id = %connector.id, "no sync queue configured; the deleted connector's mirror stays until purged by hand")
        }
    }
    tracing::info!(connector_id = %connector.id, "connector deleted");
    json_response(
        StatusCode::ACCEPTED,
        &json!({"id": connector.id, "status": "deleting"}),
    )
}

/// Checks the stored token against Okta: it must be valid and able to list
/// users and groups. Okta's answer is reported, never the token.
pub async fn test(context: &ApiContext, id: &str) -> Result<Response<Body>, ApiError> {
    let connector = load(context, id).await?;
    let services = &context.services;
    let token = services.tokens.read(&connector.id).await?;
    let options = ClientOptions {
        // API Gateway answers within 29 s, so the test fails fast.
        request_timeout: Duration::from_secs(8),
        max_attempts: 2,
        max_throttle_waits: 0,
        ..services.okta.clone()
    };
    let client = OktaClient::new(
        &connector.domain,
        token,
        &services.settings.domain_policy,
        options,
    )
    .map_err(|error| ApiError::invalid_field("domain", error))?;
    let body = match client.probe().await {
        Ok(()) => {
            // A working token ends a quarantine: scheduled runs go back to
            // their schedule.
            let ended = services.store.clear_quarantine(&connector.id).await?;
            json!({
            "ok": true,
            "message": format!("The token is valid and can list users and groups of {}.", connector.domain),
            "domain": connector.domain,
            "quarantineEnded": ended.is_some(),
            })
        }
        Err(error) => json!({
            "ok": false,
            "code": error.code(),
            "message": error.to_string(),
            "oktaRequestId": error.request_id(),
            "domain": connector.domain,
        }),
    };
    json_response(StatusCode::OK, &body)
}

/// Queues a sync (full unless the body requests incremental, and a dry run
/// if it sets `dryRun`): writes the `queued` Run and the connector's lease
/// together, sends the run to the sync function, and answers 202 at once.
/// Runs once per `Idempotency-Key` of the connector.
pub async fn start_sync(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let connector_id = parse_id(id)?;
    // A deleted connector returns 404 even for a replayed key, so a client
    // is not told that a run of a deleted connector is queued.
    load(context, id).await?;
    let scope = format!("POST /connectors/{connector_id}/sync");
    idempotency::once(context, request, &scope, || {
        start_sync_once(context, request, id)
    })
    .await
}

async fn start_sync_once(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let body: StartSync = optional_json(request)?.unwrap_or_default();
    let connector = load(context, id).await?;
    let services = &context.services;
    let Some(handoff) = &services.handoff else {
        return Err(ApiError::internal(
            "queueing the sync",
            &"SYNC_QUEUE_URL is not set in the function's environment",
        ));
    };

    let mut run = Run::queued(
        connector.id.clone(),
        Trigger::Manual,
        body.mode.unwrap_or_default(),
    );
    run.dry_run = body.dry_run.unwrap_or(false);
    let lapsed = services.store.lapsed_lease_holder(&connector.id).await?;
    services.store.queue_run(&run, QUEUED_LEASE_SECONDS).await?;
    if let Some(lapsed) = lapsed {
        services
            .store
            .mark_abandoned(&connector.id, &lapsed)
            .await?;
    }
    let event = SyncEvent {
        connector_id: connector.id.to_string(),
        mode: Some(run.mode),
        run_id: Some(run.run_id.clone()),
        trigger: Some(Trigger::Manual),
        action: None,
        dry_run: run.dry_run.then_some(true),
    };
    if let Err(error) = handoff.send(&event).await {
        let mut failed = run.clone();
        failed.status = crate::records::RunStatus::Failed;
        failed.finished_at = Some(now_rfc3339());
        failed.error = Some(crate::records::RunError {
            code: "queue_unavailable".into(),
            message: "the sync could not be queued; start it again".into(),
        });
        services.store.put_run(&failed).await?;
        services
            .store
            .release_lease(&connector.id, &run.run_id)
            .await?;
        return Err(ApiError::internal("queueing the sync", &error));
    }
    tracing::info!(connector_id = %connector.id, run_id = run.run_id, dry_run = run.dry_run, "sync queued");
    audit::record(
        context,
        request,
        AuditAction::SyncStarted,
        Some(&connector.id),
        json!({"runId": run.run_id, "mode": run.mode, "dryRun": run.dry_run}),
    )
    .await;

    let mut response = json_response(
        StatusCode::ACCEPTED,
        &json!({"runId": run.run_id, "status": "queued"}),
    )?;
    if let Ok(location) = format!("/connectors/{}/runs/{}", connector.id, run.run_id).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

pub async fn list_runs(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["limit", "cursor"])?;
    let limit = query.limit()?;
    let connector = load(context, id).await?;
    let scope = format!("runs:{}", connector.id);
    let after = query
        .get("cursor")
        .map(|cursor| context.cursors.verify(cursor, &scope, ""))
        .transpose()?;
    let (items, last) = context
        .services
        .store
        .list_runs(&connector.id, after, limit)
        .await?;
    let next_cursor = last.map(|last| context.cursors.issue(&scope, "", &last));
    json_response(StatusCode::OK, &ListPage { items, next_cursor })
}

pub async fn get_run(
    context: &ApiContext,
    id: &str,
    run_id: &str,
) -> Result<Response<Body>, ApiError> {
    let connector = load(context, id).await?;
    let run = context
        .services
        .store
        .get_run(&connector.id, run_id)
        .await?
        .ok_or_else(|| run_not_found(&connector.id, run_id))?;
    json_response(StatusCode::OK, &run)
}

pub(super) fn run_not_found(connector_id: &ConnectorId, run_id: &str) -> ApiError {
    ApiError::not_found(
        "run_not_found",
        format!(
            "run '{}' of connector {connector_id} was not found; GET /connectors/{connector_id}/runs lists its runs",
            crate::domain::truncate_for_message(run_id),
        ),
    )
}
