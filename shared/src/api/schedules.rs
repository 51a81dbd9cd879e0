//! Schedule routes: a connector's sync schedule in EventBridge Scheduler,
//! and a preview of the runs of any expression or interval.

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::audit;
use super::connectors::{load, parse_id};
use super::error::ApiError;
use super::request::required_json;
use super::{json_response, ApiContext};
use crate::domain::ConnectorId;
use crate::records::{now_rfc3339, AuditAction, Connector, ScheduleRecord};
use crate::schedule::{
    self, codes, fields, Dialect, IntervalUnit, ScheduleError, ScheduleSource, Timezone,
};
use crate::scheduler::{self, DesiredSchedule, SchedulerError};
use crate::store::StoreError;

/// Number of upcoming runs listed in a Schedule and in a preview.
pub const NEXT_RUN_COUNT: usize = 5;

/// EventBridge Scheduler's limits on `ScheduleExpression` (1 to 256
/// characters) and `ScheduleExpressionTimezone` (1 to 50), applied to what
/// the admin sends.
const MAX_EXPRESSION_CHARS: usize = 256;
const MAX_TIMEZONE_CHARS: usize = 50;

fn check_length(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    let chars = value.chars().count();
    if chars > max {
        return Err(ApiError::bad_request(
            "value_too_long",
            format!("{field} has {chars} characters; the maximum is {max}"),
        )
        .with_field(field));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PutSchedule {
    #[serde(default)]
    expression: Option<String>,
    #[serde(default)]
    interval: Option<Interval>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PreviewSchedule {
    #[serde(default)]
    expression: Option<String>,
    #[serde(default)]
    interval: Option<Interval>,
    #[serde(default)]
    timezone: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Interval {
    every: i64,
    unit: IntervalUnit,
}

/// The API's Schedule: the stored schedule with its upcoming runs.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ScheduleView<'a> {
    connector_id: &'a ConnectorId,
    source: &'a ScheduleSource,
    schedule_expression: &'a str,
    timezone: &'a Timezone,
    enabled: bool,
    next_runs: Vec<String>,
    created_at: &'a str,
    updated_at: &'a str,
}

impl<'a> ScheduleView<'a> {
    fn new(connector_id: &'a ConnectorId, record: &'a ScheduleRecord) -> Self {
        Self {
            connector_id,
            source: &record.source,
            schedule_expression: &record.schedule_expression,
            timezone: &record.timezone,
            enabled: record.enabled,
            next_runs: upcoming_runs(connector_id, record),
            created_at: &record.created_at,
            updated_at: &record.updated_at,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Preview {
    schedule_expression: String,
    timezone: Timezone,
    dialect: Dialect,
    next_runs: Vec<String>,
}

/// A schedule that passed every check: the admin's input, its EventBridge
/// form and its time zone.
struct CheckedSchedule {
    source: ScheduleSource,
    schedule_expression: String,
    dialect: Dialect,
    timezone: Timezone,
    next_runs: Vec<DateTime<FixedOffset>>,
}

impl From<ScheduleError> for ApiError {
    fn from(error: ScheduleError) -> Self {
        let api_error = ApiError::bad_request(error.code, error.message).with_field(error.field);
        match error.position {
            Some(position) => api_error.with_position(position),
            None => api_error,
        }
    }
}

impl From<SchedulerError> for ApiError {
    fn from(error: SchedulerError) -> Self {
        ApiError::internal("writing the schedule to EventBridge Scheduler", &error)
    }
}

/// Renders a connector as the API returns it: the stored record, with its
/// schedule shown as a Schedule with upcoming runs.
pub(super) fn connector_body(connector: &Connector) -> Result<Value, ApiError> {
    let mut body = serde_json::to_value(connector)
        .map_err(|error| ApiError::internal("writing the response", &error))?;
    if let (Some(record), Some(object)) = (&connector.schedule, body.as_object_mut()) {
        let view = serde_json::to_value(ScheduleView::new(&connector.id, record))
            .map_err(|error| ApiError::internal("writing the response", &error))?;
        object.insert("schedule".into(), view);
    }
    Ok(body)
}

/// `PUT /connectors/{id}/schedule`: creates or replaces the connector's
/// schedule. Fields left out take their defaults (UTC, enabled).
pub async fn put(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    parse_id(id)?;
    let body: PutSchedule = required_json(request)?;
    let services = &context.services;
    let checked = check(
        body.expression,
        body.interval,
        body.timezone.as_deref(),
        services.settings.min_schedule_interval,
    )?;
    let enabled = body.enabled.unwrap_or(true);
    let connector = load(context, id).await?;

    let desired = DesiredSchedule {
        expression: &checked.schedule_expression,
        timezone: checked.timezone.name(),
        enabled,
    };
    scheduler::put_schedule(services, &connector.id, &desired).await?;

    let now = now_rfc3339();
    // NOTE: EventBridge does not document whether an update restarts the
    // count of a rate schedule, so rate runs stay anchored at the creation.
    let created_at = match &connector.schedule {
        Some(previous) => previous.created_at.clone(),
        None => now.clone(),
    };
    let record = ScheduleRecord {
        source: checked.source,
        schedule_expression: checked.schedule_expression,
        timezone: checked.timezone,
        enabled,
        created_at,
        updated_at: now,
    };
    if let Err(error) = services
        .store
        .set_schedule(&connector.id, Some(&record))
        .await
    {
        if matches!(error, StoreError::ConnectorNotFound(_)) {
            // The connector was deleted after it was read, and its deletion
            // may have run before the schedule existed.
            if let Err(cleanup) = scheduler::delete_schedule(services, &connector.id).await {
                tracing::error!(
                    connector_id = %connector.id,
                    error = %cleanup,
                    "failed to delete the schedule of a connector deleted during the request"
                );
            }
        }
        return Err(error.into());
    }
    tracing::info!(
        connector_id = %connector.id,
        schedule_expression = record.schedule_expression,
        timezone = %record.timezone,
        enabled,
        "connector schedule saved"
    );
    audit::record(
        context,
        request,
        AuditAction::ScheduleUpdated,
        Some(&connector.id),
        json!({
            "source": record.source,
            "scheduleExpression": record.schedule_expression,
            "timezone": record.timezone,
            "enabled": enabled,
            "previous": connector.schedule.as_ref().map(|previous| &previous.schedule_expression),
        }),
    )
    .await;
    json_response(StatusCode::OK, &ScheduleView::new(&connector.id, &record))
}

/// `GET /connectors/{id}/schedule`.
pub async fn get(context: &ApiContext, id: &str) -> Result<Response<Body>, ApiError> {
    let connector = load(context, id).await?;
    let Some(record) = &connector.schedule else {
        return Err(schedule_not_found(&connector.id));
    };
    json_response(StatusCode::OK, &ScheduleView::new(&connector.id, record))
}

/// `DELETE /connectors/{id}/schedule`: removes the EventBridge schedule,
/// then the connector's record of it.
pub async fn delete(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let connector = load(context, id).await?;
    if connector.schedule.is_none() {
        return Err(schedule_not_found(&connector.id));
    }
    let services = &context.services;
    scheduler::delete_schedule(services, &connector.id).await?;
    services.store.set_schedule(&connector.id, None).await?;
    tracing::info!(connector_id = %connector.id, "connector schedule removed");
    audit::record(
        context,
        request,
        AuditAction::ScheduleDeleted,
        Some(&connector.id),
        json!({
            "previous": connector.schedule.as_ref().map(|previous| &previous.schedule_expression),
        }),
    )
    .await;
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Empty)
        .map_err(|error| ApiError::internal("writing the response", &error))
}

/// `POST /schedules/preview`: translates an expression or interval and
/// lists its next runs, counting a rate from now. Writes nothing.
pub async fn preview(context: &ApiContext, request: &Request) -> Result<Response<Body>, ApiError> {
    let body: PreviewSchedule = required_json(request)?;
    let checked = check(
        body.expression,
        body.interval,
        body.timezone.as_deref(),
        context.services.settings.min_schedule_interval,
    )?;
    let preview = Preview {
        schedule_expression: checked.schedule_expression,
        timezone: checked.timezone,
        dialect: checked.dialect,
        next_runs: checked.next_runs.iter().map(format_run).collect(),
    };
    json_response(StatusCode::OK, &preview)
}

/// Checks a schedule the way EventBridge and this product need it: exactly
/// one of expression and interval, a known time zone, runs no closer than
/// `min_interval`, and at least one run still to come.
fn check(
    expression: Option<String>,
    interval: Option<Interval>,
    timezone: Option<&str>,
    min_interval: chrono::Duration,
) -> Result<CheckedSchedule, ApiError> {
    if let Some(expression) = &expression {
        check_length(fields::EXPRESSION, expression, MAX_EXPRESSION_CHARS)?;
    }
    if let Some(timezone) = timezone {
        check_length(fields::TIMEZONE, timezone, MAX_TIMEZONE_CHARS)?;
    }
    let source = match (expression, interval) {
        (Some(expression), None) => ScheduleSource::Expression(expression),
        (None, Some(Interval { every, unit })) => ScheduleSource::Interval { every, unit },
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "conflicting_fields",
                "expression and interval are both set; send only one of them",
            )
            .with_field(fields::INTERVAL))
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "missing_field",
                "the schedule needs expression (for example \"cron(0 2 * * ? *)\" or \
                 \"0 2 * * *\") or interval (for example {\"every\": 6, \"unit\": \"hours\"})",
            )
            .with_field(fields::EXPRESSION))
        }
    };
    let translated = schedule::translate(&source, min_interval)?;
    let timezone = match timezone {
        Some(name) => Timezone::parse(name)?,
        None => Timezone::utc(),
    };
    let next_runs = schedule::next_runs(
        &translated.schedule_expression,
        &timezone,
        Utc::now(),
        NEXT_RUN_COUNT,
        None,
    )?;
    Ok(CheckedSchedule {
        source,
        schedule_expression: translated.schedule_expression,
        dialect: translated.dialect,
        timezone,
        next_runs,
    })
}

/// Lists the next runs of a stored schedule: none while it is disabled, and
/// rate runs counted from the schedule's creation.
fn upcoming_runs(connector_id: &ConnectorId, record: &ScheduleRecord) -> Vec<String> {
    if !record.enabled {
        return Vec::new();
    }
    let anchor = DateTime::parse_from_rfc3339(&record.created_at)
        .ok()
        .map(|created| created.with_timezone(&Utc));
    let runs = schedule::next_runs(
        &record.schedule_expression,
        &record.timezone,
        Utc::now(),
        NEXT_RUN_COUNT,
        anchor,
    );
    match runs {
        Ok(runs) => runs.iter().map(format_run).collect(),
        // A schedule whose last year has passed has no runs left.
        Err(error) if error.code == codes::SCHEDULE_NEVER_FIRES => Vec::new(),
        Err(error) => {
            tracing::warn!(
                connector_id = %connector_id,
                schedule_expression = record.schedule_expression,
                error = %error,
                "stored schedule expression could not be evaluated; listing no runs"
            );
            Vec::new()
        }
    }
}

fn format_run(run: &DateTime<FixedOffset>) -> String {
    run.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn schedule_not_found(connector_id: &ConnectorId) -> ApiError {
    ApiError::not_found(
        "schedule_not_found",
        format!(
            "connector {connector_id} has no schedule; create one with PUT \
             /connectors/{connector_id}/schedule"
        ),
    )
}
