//! Quarantine of connectors whose runs keep failing, against the fake Okta
//! and moto.

use aws_sdk_dynamodb::types::AttributeValue;
use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
use harness::Stack;
use lambda_http::http::StatusCode;
use okta_sync::domain::ConnectorId;
use okta_sync::records::{Run, RunStatus};
use okta_sync::sync::SyncEvent;
use serde_json::{json, Value};

async fn fake_okta() -> FakeOkta {
    FakeOkta::start(Config::new(generate_org(&OrgSpec::small())))
        .await
        .expect("fake Okta started")
}

async fn connector_body(stack: &Stack, connector: &str) -> Value {
    let (status, body) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn scheduled_trigger(stack: &Stack, connector: &str) -> Run {
    let event: SyncEvent =
        serde_json::from_value(json!({"connectorId": connector, "trigger": "schedule"}))
            .expect("event");
    okta_sync::sync::handle_event(&stack.sync, event, None)
        .await
        .expect("handled")
        .expect("a run record")
}

fn hours_between(earlier: &Value, later: &Value) -> i64 {
    let parse = |value: &Value| {
        chrono::DateTime::parse_from_rfc3339(value.as_str().expect("a time")).expect("RFC 3339")
    };
    (parse(later) - parse(earlier)).num_hours()
}

/// Creates and syncs a connector, revokes its token in Okta, then runs
/// `failures` manual syncs that fail on it.
async fn failing_connector(stack: &Stack, okta: &FakeOkta, failures: usize) -> String {
    let connector = stack.create_connector(okta).await;
    let first = stack.sync_now(&connector).await;
    assert_eq!(first.status, RunStatus::Succeeded);
    okta.revoke_token(&okta.token());
    for _ in 0..failures {
        let run = stack.sync_now(&connector).await;
        assert_eq!(run.status, RunStatus::Failed);
        assert_eq!(
            run.error.expect("an error").code,
            "okta_invalid_token",
            "the revoked token fails the run"
        );
    }
    connector
}

/// Gives the connector a new, valid token, as an admin would after
/// creating one in Okta.
async fn replace_token(stack: &Stack, okta: &FakeOkta, connector: &str) -> String {
    let token = format!("fake-okta-token-{}", uuid::Uuid::new_v4().simple());
    okta.add_full_token(&token);
    let (status, body) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"apiToken": token})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    token
}

/// Moves the end of the connector's back-off into the past, as if the
/// back-off had passed.
async fn end_backoff(stack: &Stack, connector: &str) {
    let dynamo = aws_sdk_dynamodb::Client::new(&stack.sdk);
    dynamo
        .update_item()
        .table_name(&stack.resources.table)
        .key("pk", AttributeValue::S("connector".into()))
        .key("sk", AttributeValue::S(connector.into()))
        .update_expression("SET quarantine.nextAttemptAfter = :past")
        .expression_attribute_values(
            ":past",
            AttributeValue::S("2026-01-01T00:00:00.000Z".into()),
        )
        .send()
        .await
        .expect("back-off moved");
}

#[tokio::test]
async fn quarantine_after_three_failures() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = failing_connector(&stack, &okta, 2).await;
    let body = connector_body(&stack, &connector).await;
    assert_eq!(body["status"], "active", "two failures: {body}");
    assert!(body.get("quarantine").is_none(), "{body}");

    let run = stack.sync_now(&connector).await;
    assert_eq!(run.status, RunStatus::Failed);

    let body = connector_body(&stack, &connector).await;
    assert_eq!(body["status"], "quarantined", "{body}");
    let quarantine = &body["quarantine"];
    assert_eq!(quarantine["failures"], 3);
    assert_eq!(quarantine["code"], "okta_invalid_token");
    assert!(
        quarantine["reason"]
            .as_str()
            .expect("reason")
            .contains("E0000011"),
        "{quarantine}"
    );
    assert!(quarantine["since"].is_string());
    assert_eq!(quarantine["lastAttemptAt"], run.started_at.as_str());
    assert_eq!(
        hours_between(
            &quarantine["lastAttemptAt"],
            &quarantine["nextAttemptAfter"]
        ),
        1
    );
    let listed = stack.list_all("/connectors").await;
    let entry = listed
        .iter()
        .find(|item| item["id"] == connector.as_str())
        .expect("listed");
    assert_eq!(entry["status"], "quarantined");
}

#[tokio::test]
async fn scheduled_trigger_skipped_while_backing_off() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = failing_connector(&stack, &okta, 3).await;
    okta.clear_requests();

    let skipped = scheduled_trigger(&stack, &connector).await;

    assert_eq!(skipped.status, RunStatus::Skipped);
    let error = skipped.error.expect("a reason");
    assert_eq!(error.code, "connector_quarantined");
    assert!(error.message.contains("quarantined"), "{}", error.message);
    assert!(okta.requests().is_empty(), "no Okta call while backing off");
    let (status, stored) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/runs/{}", skipped.run_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["status"], "skipped");
    let body = connector_body(&stack, &connector).await;
    assert_eq!(body["quarantine"]["failures"], 3, "a skip is no failure");
}

#[tokio::test]
async fn scheduled_trigger_runs_after_backoff() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = failing_connector(&stack, &okta, 3).await;
    let since = connector_body(&stack, &connector).await["quarantine"]["since"].clone();
    end_backoff(&stack, &connector).await;

    let run = scheduled_trigger(&stack, &connector).await;

    assert_eq!(run.status, RunStatus::Failed, "the trigger ran: {run:?}");
    let quarantine = connector_body(&stack, &connector).await["quarantine"].clone();
    assert_eq!(quarantine["failures"], 4);
    assert_eq!(quarantine["since"], since);
    assert_eq!(
        hours_between(
            &quarantine["lastAttemptAt"],
            &quarantine["nextAttemptAfter"]
        ),
        2,
        "the back-off doubles"
    );
    let next = scheduled_trigger(&stack, &connector).await;
    assert_eq!(next.status, RunStatus::Skipped);
}

#[tokio::test]
async fn manual_sync_runs_and_clears() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = failing_connector(&stack, &okta, 3).await;

    // A manual sync runs despite the quarantine; this one fails again.
    let run = stack.sync_now(&connector).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        connector_body(&stack, &connector).await["quarantine"]["failures"],
        4
    );

    let token = replace_token(&stack, &okta, &connector).await;
    let run = stack.sync_now(&connector).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");

    let body = connector_body(&stack, &connector).await;
    assert_eq!(body["status"], "active", "{body}");
    assert!(body.get("quarantine").is_none(), "{body}");
    let scheduled = scheduled_trigger(&stack, &connector).await;
    assert_eq!(scheduled.status, RunStatus::Succeeded, "{scheduled:?}");

    // The count starts again from zero.
    okta.revoke_token(&token);
    let run = stack.sync_now(&connector).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(connector_body(&stack, &connector).await["status"], "active");
}

#[tokio::test]
async fn successful_test_clears() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = failing_connector(&stack, &okta, 3).await;

    let (status, failed) = stack
        .request("POST", &format!("/connectors/{connector}/test"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(failed["ok"], false);
    assert_eq!(
        connector_body(&stack, &connector).await["status"],
        "quarantined",
        "a failed test keeps the quarantine"
    );

    replace_token(&stack, &okta, &connector).await;
    let (status, passed) = stack
        .request("POST", &format!("/connectors/{connector}/test"), None)
        .await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(passed["ok"], true, "{passed}");
    assert_eq!(passed["quarantineEnded"], true);
    let body = connector_body(&stack, &connector).await;
    assert_eq!(body["status"], "active", "{body}");
    assert!(body.get("quarantine").is_none(), "{body}");
    let scheduled = scheduled_trigger(&stack, &connector).await;
    assert_eq!(scheduled.status, RunStatus::Succeeded, "{scheduled:?}");
}

#[tokio::test]
async fn threshold_is_a_setting() {
    let okta = fake_okta().await;
    let stack = Stack::with_settings(|settings| settings.quarantine.after_failures = 1).await;

    let connector = failing_connector(&stack, &okta, 1).await;

    let body = connector_body(&stack, &connector).await;
    assert_eq!(body["status"], "quarantined", "{body}");
    assert_eq!(body["quarantine"]["failures"], 1);
}

#[tokio::test]
async fn failure_counted_once_per_run() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let id = ConnectorId::parse(&connector).expect("connector id");
    let store = &stack.api.services.store;

    let first = store
        .count_run_failure(&id, "20261204T120000000Z-aaaaaaaa")
        .await
        .expect("counted");
    let repeated = store
        .count_run_failure(&id, "20261204T120000000Z-aaaaaaaa")
        .await
        .expect("handled");
    let next = store
        .count_run_failure(&id, "20261204T130000000Z-bbbbbbbb")
        .await
        .expect("counted");

    assert_eq!(first.expect("first count").failures, 1);
    assert!(repeated.is_none(), "a repeated delivery is not counted");
    assert_eq!(next.expect("second count").failures, 2);
}
