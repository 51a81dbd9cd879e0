//! The schedules API: connector schedules written to moto's EventBridge
//! Scheduler and read back with the SDK, input checks, previews, and the
//! sync event a schedule sends.

use aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput;
use aws_sdk_scheduler::types::{FlexibleTimeWindowMode, ScheduleState};
use chrono::{DateTime, Datelike, Duration, FixedOffset, Timelike, Utc};
use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
use harness::Stack;
use lambda_http::http::StatusCode;
use okta_sync::records::{RunStatus, Trigger};
use okta_sync::scheduler::{schedule_name, MAX_EVENT_AGE_SECONDS, MAX_RETRY_ATTEMPTS};
use serde_json::{json, Value};

const TOKEN: &str = "00abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const DEAD_LETTER_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:okta-sync-schedule-dlq";
const UNKNOWN_ID: &str = "0123456789abcdef0123456789abcdef";

/// Builds a stack whose schedules also name a dead-letter queue.
async fn stack_with_dead_letter_queue() -> Stack {
    Stack::with_settings(|settings| {
        if let Some(target) = settings.schedule_target.as_mut() {
            target.dead_letter_arn = Some(DEAD_LETTER_ARN.into());
        }
    })
    .await
}

async fn create_connector(stack: &Stack) -> String {
    let (status, body) = stack
        .request(
            "POST",
            "/connectors",
            Some(json!({"name": "Acme", "domain": "acme.okta.com", "apiToken": TOKEN})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "create connector: {body}");
    body["id"].as_str().expect("connector id").to_owned()
}

async fn put_schedule(stack: &Stack, connector: &str, body: Value) -> (StatusCode, Value) {
    stack
        .request(
            "PUT",
            &format!("/connectors/{connector}/schedule"),
            Some(body),
        )
        .await
}

/// Reads the connector's schedule from the emulator, or `None` if absent.
async fn read_schedule(stack: &Stack, connector: &str) -> Option<GetScheduleOutput> {
    let id = okta_sync::domain::ConnectorId::parse(connector).expect("connector id");
    let result = aws_sdk_scheduler::Client::new(&stack.sdk)
        .get_schedule()
        .group_name(&stack.resources.schedule_group)
        .name(schedule_name(&id))
        .send()
        .await;
    match result {
        Ok(output) => Some(output),
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(error) => panic!("GetSchedule failed: {error:?}"),
    }
}

fn parse_runs(body: &Value) -> Vec<DateTime<FixedOffset>> {
    body["nextRuns"]
        .as_array()
        .unwrap_or_else(|| panic!("nextRuns is not a list: {body}"))
        .iter()
        .map(|run| {
            let text = run.as_str().expect("run time is a string");
            DateTime::parse_from_rfc3339(text)
                .unwrap_or_else(|error| panic!("run time {text} is not RFC 3339: {error}"))
        })
        .collect()
}

async fn preview(stack: &Stack, body: Value) -> (StatusCode, Value) {
    stack
        .request("POST", "/schedules/preview", Some(body))
        .await
}

#[tokio::test]
async fn put_creates_scheduler_schedule() {
    let stack = stack_with_dead_letter_queue().await;
    let connector = create_connector(&stack).await;

    let (status, body) = put_schedule(
        &stack,
        &connector,
        json!({"expression": "30 2 * * *", "timezone": "Europe/Berlin"}),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["connectorId"], connector.as_str());
    assert_eq!(body["source"], json!({"expression": "30 2 * * *"}));
    assert_eq!(body["scheduleExpression"], "cron(30 2 * * ? *)");
    assert_eq!(body["timezone"], "Europe/Berlin");
    assert_eq!(body["enabled"], true);
    let runs = parse_runs(&body);
    assert_eq!(runs.len(), 5, "{body}");
    for run in &runs {
        assert_eq!(
            (run.hour(), run.minute()),
            (2, 30),
            "{run} is not 02:30 local"
        );
        let offset = run.offset().local_minus_utc();
        assert!(
            offset == 3600 || offset == 7200,
            "{run} is not in Berlin time"
        );
    }

    let schedule = read_schedule(&stack, &connector)
        .await
        .expect("schedule exists");
    assert_eq!(schedule.schedule_expression(), Some("cron(30 2 * * ? *)"));
    assert_eq!(
        schedule.schedule_expression_timezone(),
        Some("Europe/Berlin")
    );
    assert_eq!(schedule.state(), Some(&ScheduleState::Enabled));
    assert_eq!(
        schedule.flexible_time_window().map(|window| &window.mode),
        Some(&FlexibleTimeWindowMode::Off)
    );
    let target = schedule.target().expect("schedule has a target");
    assert_eq!(target.arn, stack.resources.queue_arn);
    let role = &stack
        .api
        .services
        .settings
        .schedule_target
        .as_ref()
        .expect("schedule target configured")
        .role_arn;
    assert_eq!(&target.role_arn, role);
    let input: Value = serde_json::from_str(target.input().expect("target input")).expect("JSON");
    assert_eq!(
        input,
        json!({"connectorId": connector, "trigger": "schedule"})
    );
    let retry = target.retry_policy().expect("retry policy");
    assert_eq!(retry.maximum_retry_attempts, Some(MAX_RETRY_ATTEMPTS));
    assert_eq!(
        retry.maximum_event_age_in_seconds,
        Some(MAX_EVENT_AGE_SECONDS)
    );
    assert_eq!(
        target.dead_letter_config().and_then(|config| config.arn()),
        Some(DEAD_LETTER_ARN)
    );
}

#[tokio::test]
async fn get_shows_schedule_and_next_runs() {
    let stack = Stack::new().await;
    let connector = create_connector(&stack).await;
    let source = json!({"interval": {"every": 6, "unit": "hours"}});
    let (status, written) = put_schedule(&stack, &connector, source.clone()).await;
    assert_eq!(status, StatusCode::OK, "{written}");

    let (status, read) = stack
        .request("GET", &format!("/connectors/{connector}/schedule"), None)
        .await;

    assert_eq!(status, StatusCode::OK, "{read}");
    for field in [
        "connectorId",
        "source",
        "scheduleExpression",
        "timezone",
        "enabled",
    ] {
        assert_eq!(read[field], written[field], "field {field}");
    }
    assert_eq!(read["source"], source);
    assert_eq!(read["scheduleExpression"], "rate(6 hours)");
    assert_eq!(read["timezone"], "UTC");
    let runs = parse_runs(&read);
    assert_eq!(runs.len(), 5, "{read}");
    for pair in runs.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::hours(6), "{read}");
    }

    let (status, fetched) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{fetched}");
    let schedule = &fetched["schedule"];
    assert_eq!(schedule["scheduleExpression"], "rate(6 hours)", "{fetched}");
    assert_eq!(schedule["source"], source, "{fetched}");
    assert_eq!(parse_runs(schedule).len(), 5, "{fetched}");
}

#[tokio::test]
async fn update_keeps_target_fields() {
    let stack = stack_with_dead_letter_queue().await;
    let connector = create_connector(&stack).await;
    let (status, body) = put_schedule(&stack, &connector, json!({"expression": "0 3 * * *"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let before = read_schedule(&stack, &connector)
        .await
        .expect("schedule exists");

    let (status, body) = put_schedule(
        &stack,
        &connector,
        json!({"expression": "cron(15 4 ? * MON-FRI *)", "timezone": "America/New_York"}),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let after = read_schedule(&stack, &connector)
        .await
        .expect("schedule exists");
    assert_eq!(
        after.schedule_expression(),
        Some("cron(15 4 ? * MON-FRI *)")
    );
    assert_eq!(
        after.schedule_expression_timezone(),
        Some("America/New_York")
    );
    assert_eq!(after.target, before.target);
    assert_eq!(after.flexible_time_window, before.flexible_time_window);
    assert_eq!(after.description, before.description);
    assert_eq!(after.state(), Some(&ScheduleState::Enabled));
}

/// Fields that only an operator sets in AWS survive an update, because
/// UpdateSchedule resets every field it is not sent.
#[tokio::test]
async fn update_keeps_fields_set_outside_product() {
    let stack = Stack::new().await;
    let connector = create_connector(&stack).await;
    let (status, body) = put_schedule(&stack, &connector, json!({"expression": "0 3 * * *"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = read_schedule(&stack, &connector)
        .await
        .expect("schedule exists");
    let mut target = created.target.clone().expect("target");
    target.dead_letter_config = Some(
        aws_sdk_scheduler::types::DeadLetterConfig::builder()
            .arn(DEAD_LETTER_ARN)
            .build(),
    );
    aws_sdk_scheduler::Client::new(&stack.sdk)
        .update_schedule()
        .group_name(&stack.resources.schedule_group)
        .name(created.name().expect("name"))
        .schedule_expression(created.schedule_expression().expect("expression"))
        .flexible_time_window(created.flexible_time_window.clone().expect("window"))
        .state(ScheduleState::Enabled)
        .description("set by an operator")
        .kms_key_arn("arn:aws:kms:us-east-1:123456789012:key/operator-key")
        .target(target)
        .send()
        .await
        .expect("operator update");

    let (status, body) = put_schedule(&stack, &connector, json!({"expression": "0 5 * * *"})).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let after = read_schedule(&stack, &connector)
        .await
        .expect("schedule exists");
    assert_eq!(after.schedule_expression(), Some("cron(0 5 * * ? *)"));
    assert_eq!(after.description(), Some("set by an operator"));
    assert_eq!(
        after.kms_key_arn(),
        Some("arn:aws:kms:us-east-1:123456789012:key/operator-key")
    );
    let target = after.target().expect("target");
    assert_eq!(
        target.dead_letter_config().and_then(|config| config.arn()),
        Some(DEAD_LETTER_ARN)
    );
    assert_eq!(
        target.retry_policy(),
        created.target().and_then(|t| t.retry_policy())
    );
}

#[tokio::test]
async fn disabled_schedule_has_no_runs() {
    let stack = Stack::new().await;
    let connector = create_connector(&stack).await;

    let (status, body) = put_schedule(
        &stack,
        &connector,
        json!({"expression": "rate(1 hour)", "enabled": false}),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["enabled"], false);
    assert_eq!(body["nextRuns"], json!([]));
    let schedule = read_schedule(&stack, &connector)
        .await
        .expect("schedule kept");
    assert_eq!(schedule.state(), Some(&ScheduleState::Disabled));
    assert_eq!(schedule.schedule_expression(), Some("rate(1 hour)"));
    let (_, read) = stack
        .request("GET", &format!("/connectors/{connector}/schedule"), None)
        .await;
    assert_eq!(read["enabled"], false, "{read}");
    assert_eq!(read["nextRuns"], json!([]), "{read}");
    let (_, fetched) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(fetched["schedule"]["nextRuns"], json!([]), "{fetched}");

    let (status, body) =
        put_schedule(&stack, &connector, json!({"expression": "rate(1 hour)"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(parse_runs(&body).len(), 5, "{body}");
    let schedule = read_schedule(&stack, &connector)
        .await
        .expect("schedule kept");
    assert_eq!(schedule.state(), Some(&ScheduleState::Enabled));
}

#[tokio::test]
async fn rate_runs_anchor_at_creation() {
    let stack = Stack::new().await;
    let connector = create_connector(&stack).await;
    let (_, first) = put_schedule(&stack, &connector, json!({"expression": "rate(2 hours)"})).await;
    let (status, second) = put_schedule(
        &stack,
        &connector,
        json!({"expression": "rate(2 hours)", "timezone": "Asia/Tokyo"}),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{second}");
    let first_runs = parse_runs(&first);
    let second_runs = parse_runs(&second);
    assert_eq!(first_runs, second_runs, "the update moved the rate's runs");
    assert_eq!(second_runs[0].offset().local_minus_utc(), 9 * 3600);
}

#[tokio::test]
async fn delete_removes_schedule() {
    let stack = Stack::new().await;
    let connector = create_connector(&stack).await;
    let path = format!("/connectors/{connector}/schedule");
    let (status, body) = put_schedule(&stack, &connector, json!({"expression": "@daily"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = stack.request("DELETE", &path, None).await;

    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(read_schedule(&stack, &connector).await.is_none());
    let (status, body) = stack.request("GET", &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "schedule_not_found");
    let (status, body) = stack.request("DELETE", &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "schedule_not_found");
    let (_, fetched) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert!(fetched.get("schedule").is_none(), "{fetched}");
}

#[tokio::test]
async fn connector_delete_removes_schedule() {
    let stack = Stack::new().await;
    let connector = create_connector(&stack).await;
    let (status, body) = put_schedule(&stack, &connector, json!({"expression": "@hourly"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(read_schedule(&stack, &connector).await.is_some());

    let (status, body) = stack
        .request("DELETE", &format!("/connectors/{connector}"), None)
        .await;

    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(read_schedule(&stack, &connector).await.is_none());
    let (status, body) = stack
        .request("GET", &format!("/connectors/{connector}/schedule"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "connector_not_found");
}

#[tokio::test]
async fn bad_schedules_name_field_and_position() {
    let stack = Stack::new().await;
    let connector = create_connector(&stack).await;
    #[rustfmt::skip]
    let cases: Vec<(Value, &str, &str, Option<u64>)> = vec![
        (json!({"expression": "cron(61 * * * ? *)"}), "invalid_expression", "expression", Some(5)),
        (json!({"expression": "cron(0 12 * * FRY *)"}), "invalid_expression", "expression", Some(14)),
        (json!({"expression": "0 0 1 * 1"}), "ambiguous_day_fields", "expression", Some(8)),
        (json!({"expression": "*/0 * * * *"}), "invalid_expression", "expression", Some(2)),
        (json!({"expression": "rate(5 weeks)"}), "invalid_expression", "expression", Some(7)),
        (json!({"expression": "at(2030-01-01T00:00:00)"}), "invalid_expression", "expression", Some(0)),
        (json!({"expression": "1 2 3"}), "invalid_expression", "expression", Some(0)),
        (json!({"expression": ""}), "invalid_expression", "expression", None),
        (json!({"expression": "*/2 * * * *"}), "schedule_too_frequent", "expression", None),
        (json!({"expression": "cron(0 12 30 2 ? *)"}), "schedule_never_fires", "expression", None),
        (json!({"expression": "cron(0 12 * * ? 2020)"}), "schedule_never_fires", "expression", None),
        (json!({"interval": {"every": 0, "unit": "hours"}}), "invalid_interval", "interval", None),
        (json!({"interval": {"every": 2, "unit": "minutes"}}), "schedule_too_frequent", "interval", None),
        (json!({"interval": {"every": 2, "unit": "weeks"}}), "invalid_field", "interval.unit", None),
        (json!({"interval": {"every": 2, "unit": "hours", "at": 3}}), "unknown_field", "at", None),
        (json!({"expression": "@daily", "timezone": "Mars/Olympus"}), "invalid_timezone", "timezone", None),
        (json!({"expression": "@daily", "timezone": ""}), "invalid_timezone", "timezone", None),
        (json!({"expression": "@daily", "enabled": "yes"}), "invalid_field", "enabled", None),
        (json!({"expression": "@daily", "name": "nightly"}), "unknown_field", "name", None),
        (json!({"expression": 5}), "invalid_field", "expression", None),
        (json!({"expression": "@daily", "interval": {"every": 1, "unit": "days"}}), "conflicting_fields", "interval", None),
        (json!({"timezone": "UTC"}), "missing_field", "expression", None),
        (json!({}), "missing_field", "expression", None),
    ];
    for (body, code, field, position) in cases {
        let (status, error) = put_schedule(&stack, &connector, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert_eq!(error["code"], code, "{body}: {error}");
        assert_eq!(error["field"], field, "{body}: {error}");
        assert_eq!(error["position"].as_u64(), position, "{body}: {error}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| message.len() > 20),
            "{body}: {error}"
        );
    }

    assert!(read_schedule(&stack, &connector).await.is_none());
    let (status, _) = stack
        .request("GET", &format!("/connectors/{connector}/schedule"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn position_counts_characters() {
    let stack = Stack::new().await;
    let expression = "\u{a0}cron(0 12 * * FRY *)";
    for route in ["/schedules/preview", "/connectors/{id}/schedule"] {
        let connector = create_connector(&stack).await;
        let path = route.replace("{id}", &connector);
        let method = if route.starts_with("/schedules") {
            "POST"
        } else {
            "PUT"
        };
        let (status, error) = stack
            .request(method, &path, Some(json!({"expression": expression})))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{route}: {error}");
        assert_eq!(error["position"], 15, "{route}: {error}");
    }
}

#[tokio::test]
async fn unknown_connector_is_404() {
    let stack = Stack::new().await;
    let body = json!({"expression": "@daily"});
    for id in [UNKNOWN_ID, "not-a-connector-id"] {
        let path = format!("/connectors/{id}/schedule");
        for (method, body) in [("PUT", Some(body.clone())), ("GET", None), ("DELETE", None)] {
            let (status, error) = stack.request(method, &path, body).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {error}");
            assert_eq!(
                error["code"], "connector_not_found",
                "{method} {path}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn schedule_routes_check_methods_and_bodies() {
    let stack = Stack::new().await;
    let connector = create_connector(&stack).await;
    let path = format!("/connectors/{connector}/schedule");

    let (status, error) = stack.request("POST", &path, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{error}");
    assert_eq!(error["allow"], "GET, PUT, DELETE");
    let (status, error) = stack.request("GET", "/schedules/preview", None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{error}");
    assert_eq!(error["allow"], "POST");

    let (status, error) = stack.request("PUT", &path, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "missing_body");
    let (status, text) = stack
        .raw_request("PUT", &path, Some("{\"expression\": "), "application/json")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    let (status, text) = stack
        .raw_request("PUT", &path, Some("expression=@daily"), "text/plain")
        .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{text}");
}

#[tokio::test]
async fn preview_translates_and_lists_runs() {
    let stack = Stack::new().await;
    let cases = [
        (
            json!({"expression": "cron(0 8 1 JAN ? 2099)"}),
            "cron(0 8 1 JAN ? 2099)",
            vec!["2099-01-01T08:00:00Z"],
        ),
        // Quartz day-of-week 6 is Friday, and 3 January 2098 is a Friday.
        (
            json!({"expression": "0 0 12 ? * 6 2098-2100", "timezone": "America/New_York"}),
            "cron(0 12 ? * 6 2098-2100)",
            vec![
                "2098-01-03T12:00:00-05:00",
                "2098-01-10T12:00:00-05:00",
                "2098-01-17T12:00:00-05:00",
                "2098-01-24T12:00:00-05:00",
                "2098-01-31T12:00:00-05:00",
            ],
        ),
        (
            json!({"expression": "cron(0 6 29 2 ? 2098-2110)", "timezone": "Asia/Tokyo"}),
            "cron(0 6 29 2 ? 2098-2110)",
            vec!["2104-02-29T06:00:00+09:00", "2108-02-29T06:00:00+09:00"],
        ),
    ];
    for (body, expression, expected) in cases {
        let (status, answer) = preview(&stack, body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
        assert_eq!(answer["scheduleExpression"], expression, "{body}");
        assert_eq!(answer["nextRuns"], json!(expected), "{body}");
    }

    let (status, berlin) = preview(
        &stack,
        json!({"expression": "30 9 1 1,7 *", "timezone": "europe/berlin"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{berlin}");
    assert_eq!(berlin["scheduleExpression"], "cron(30 9 1 1,7 ? *)");
    assert_eq!(
        berlin["timezone"], "Europe/Berlin",
        "canonical time zone name"
    );
    assert_eq!(berlin["dialect"], "unix");
    let runs = parse_runs(&berlin);
    assert_eq!(runs.len(), 5, "{berlin}");
    for run in runs {
        assert_eq!(
            (run.day(), run.hour(), run.minute()),
            (1, 9, 30),
            "{berlin}"
        );
        let expected_offset = if run.month() == 1 { 3600 } else { 7200 };
        assert_eq!(run.offset().local_minus_utc(), expected_offset, "{berlin}");
    }
}

#[tokio::test]
async fn preview_of_rates_and_intervals() {
    let stack = Stack::new().await;
    let started = Utc::now();
    let (status, answer) = preview(
        &stack,
        json!({"interval": {"every": 90, "unit": "minutes"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["scheduleExpression"], "rate(90 minutes)");
    assert_eq!(answer["timezone"], "UTC");
    let runs = parse_runs(&answer);
    assert_eq!(runs.len(), 5, "{answer}");
    let first = runs[0].with_timezone(&Utc);
    assert!(first > started, "{answer}");
    assert!(first <= Utc::now() + Duration::minutes(90), "{answer}");
    for pair in runs.windows(2) {
        assert_eq!(pair[1] - pair[0], Duration::minutes(90), "{answer}");
    }

    let (status, answer) = preview(&stack, json!({"expression": "rate(1 hours)"})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["scheduleExpression"], "rate(1 hour)");

    let (status, error) = preview(&stack, json!({"expression": "rate(1 minute)"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "schedule_too_frequent");
    let (status, error) = preview(&stack, json!({"expression": "@daily", "enabled": true})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "unknown_field");
    assert_eq!(error["field"], "enabled");
}

#[tokio::test]
async fn minimum_interval_comes_from_settings() {
    let stack = Stack::with_settings(|settings| {
        settings.min_schedule_interval = Duration::hours(1);
    })
    .await;
    let connector = create_connector(&stack).await;

    let (status, error) = put_schedule(
        &stack,
        &connector,
        json!({"expression": "rate(30 minutes)"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "schedule_too_frequent");
    let (status, error) = preview(&stack, json!({"expression": "*/30 * * * *"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "schedule_too_frequent");
    let (status, body) =
        put_schedule(&stack, &connector, json!({"expression": "rate(1 hour)"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn scheduler_not_configured_is_503() {
    let stack = Stack::with_settings(|settings| settings.schedule_target = None).await;
    let connector = create_connector(&stack).await;

    let (status, error) = put_schedule(&stack, &connector, json!({"expression": "@daily"})).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{error}");
    assert!(read_schedule(&stack, &connector).await.is_none());
    let (status, _) = preview(&stack, json!({"expression": "@daily"})).await;
    assert_eq!(status, StatusCode::OK, "preview needs no Scheduler");
}

/// The schedule's Input, sent to the sync queue as EventBridge Scheduler
/// sends it, starts a run recorded with the `schedule` trigger.
#[tokio::test]
async fn scheduled_event_records_schedule_trigger() {
    let stack = Stack::new().await;
    let okta = FakeOkta::start(Config::new(generate_org(&OrgSpec::small())))
        .await
        .expect("fake Okta started");
    let connector = stack.create_connector(&okta).await;
    let (status, body) = put_schedule(&stack, &connector, json!({"expression": "@daily"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let schedule = read_schedule(&stack, &connector)
        .await
        .expect("schedule exists");
    let input = schedule
        .target()
        .and_then(|target| target.input())
        .expect("target input")
        .to_owned();

    aws_sdk_sqs::Client::new(&stack.sdk)
        .send_message()
        .queue_url(&stack.resources.queue_url)
        .message_body(input)
        .send()
        .await
        .expect("send the schedule's input");
    let runs = stack.run_queued().await;

    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].trigger, Trigger::Schedule);
    assert_eq!(runs[0].status, RunStatus::Succeeded, "{:?}", runs[0].error);
    let (status, listed) = stack
        .request("GET", &format!("/connectors/{connector}/runs"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed["items"][0]["trigger"], "schedule", "{listed}");
}
