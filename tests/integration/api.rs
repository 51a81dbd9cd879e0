//! The connectors API: validation, errors, cursors and the connector
//! lifecycle, through the real handler against moto.

use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
use harness::Stack;
use lambda_http::http::StatusCode;
use serde_json::{json, Value};

const TOKEN: &str = "00abcdefghijklmnopqrstuvwxyz0123456789ABCD";

async fn create(stack: &Stack, body: Value) -> (StatusCode, Value) {
    stack.request("POST", "/connectors", Some(body)).await
}

fn secrets(stack: &Stack) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&stack.sdk)
}

#[tokio::test]
async fn create_normalises_domain() {
    let stack = Stack::new().await;
    for input in [
        "https://acme.okta.com/",
        "acme.okta.com",
        "acme-admin.okta.com",
    ] {
        let (status, body) = create(
            &stack,
            json!({"name": "Acme", "domain": input, "apiToken": TOKEN}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{input}: {body}");
        assert_eq!(body["domain"], "acme.okta.com", "{input}");
        assert_eq!(body["type"], "okta");
        assert_eq!(body["auth"], json!({"type": "apiToken", "tokenSet": true}));
    }
}

#[tokio::test]
async fn token_never_returned() {
    let stack = Stack::new().await;
    let (_, created) = create(
        &stack,
        json!({"name": "Acme", "domain": "acme.okta.com", "apiToken": TOKEN}),
    )
    .await;
    let id = created["id"].as_str().expect("id");
    let (_, listed) = stack.request("GET", "/connectors", None).await;
    let (_, fetched) = stack
        .request("GET", &format!("/connectors/{id}"), None)
        .await;

    for body in [&created, &listed, &fetched] {
        assert!(!body.to_string().contains(TOKEN), "token leaked in {body}");
    }
    let stored = secrets(&stack)
        .get_secret_value()
        .secret_id(
            stack
                .api
                .services
                .tokens
                .secret_name(&okta_sync::domain::ConnectorId::parse(id).expect("id")),
        )
        .send()
        .await
        .expect("secret exists");
    assert_eq!(stored.secret_string.as_deref(), Some(TOKEN));
    assert!(stack
        .dump_table()
        .await
        .iter()
        .all(|row| !row.contains(TOKEN)));
}

#[tokio::test]
async fn each_bad_field_is_named() {
    let stack = Stack::new().await;
    let cases = [
        (
            json!({"domain": "acme.okta.com", "apiToken": TOKEN}),
            "name",
            "missing_field",
        ),
        (
            json!({"name": "A", "apiToken": TOKEN}),
            "domain",
            "missing_field",
        ),
        (
            json!({"name": "A", "domain": "acme.okta.com"}),
            "apiToken",
            "missing_field",
        ),
        (
            json!({"name": "", "domain": "acme.okta.com", "apiToken": TOKEN}),
            "name",
            "invalid_name",
        ),
        (
            json!({"name": "a\nb", "domain": "acme.okta.com", "apiToken": TOKEN}),
            "name",
            "invalid_name",
        ),
        (
            json!({"name": "x".repeat(201), "domain": "acme.okta.com", "apiToken": TOKEN}),
            "name",
            "invalid_name",
        ),
        (
            json!({"name": 5, "domain": "acme.okta.com", "apiToken": TOKEN}),
            "name",
            "invalid_field",
        ),
        (
            json!({"name": "A", "domain": "example.com", "apiToken": TOKEN}),
            "domain",
            "invalid_domain",
        ),
        (
            json!({"name": "A", "domain": "169.254.169.254", "apiToken": TOKEN}),
            "domain",
            "invalid_domain",
        ),
        (
            json!({"name": "A", "domain": "acme.okta.com/x", "apiToken": TOKEN}),
            "domain",
            "invalid_domain",
        ),
        (
            json!({"name": "A", "domain": "http://acme.okta.com", "apiToken": TOKEN}),
            "domain",
            "invalid_domain",
        ),
        (
            json!({"name": "A", "domain": ["acme.okta.com"], "apiToken": TOKEN}),
            "domain",
            "invalid_field",
        ),
        (
            json!({"name": "A", "domain": "acme.okta.com", "apiToken": "short"}),
            "apiToken",
            "invalid_api_token",
        ),
        (
            json!({"name": "A", "domain": "acme.okta.com", "apiToken": "has space in the middle of it"}),
            "apiToken",
            "invalid_api_token",
        ),
        (
            json!({"name": "A", "domain": "acme.okta.com", "apiToken": TOKEN, "type": "azure"}),
            "type",
            "invalid_type",
        ),
        (
            json!({"name": "A", "domain": "acme.okta.com", "apiToken": TOKEN, "extra": 1}),
            "extra",
            "unknown_field",
        ),
    ];
    for (body, field, code) in cases {
        let (status, error) = create(&stack, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {error}");
        assert_eq!(error["field"], field, "{body}: {error}");
        assert_eq!(error["code"], code, "{body}: {error}");
        assert!(
            error["message"].as_str().is_some_and(|m| m.len() > 10),
            "{error}"
        );
    }
    let (_, listed) = stack.request("GET", "/connectors", None).await;
    assert_eq!(listed["items"], json!([]), "no connector was stored");
}

#[tokio::test]
async fn all_bad_fields_listed() {
    let stack = Stack::new().await;
    let (status, error) = create(
        &stack,
        json!({"name": "", "domain": "nope", "apiToken": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fields: Vec<&str> = error["errors"]
        .as_array()
        .expect("errors list")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["name", "domain", "apiToken"]);
}

#[tokio::test]
async fn malformed_bodies_rejected() {
    let stack = Stack::new().await;
    let valid = json!({"name": "A", "domain": "acme.okta.com", "apiToken": TOKEN}).to_string();
    let cases: [(&str, String, &str, StatusCode, &str); 6] = [
        ("POST", "{\"name\": ".into(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        ("POST", "[1,2]".into(), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
        ("POST", valid.clone(), "text/plain", StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        ("POST", format!("{{\"name\":\"{}\"}}", "x".repeat(70_000)), "application/json", StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        ("POST", r#"{"name":"A","name":"B","domain":"acme.okta.com","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into(), "application/json", StatusCode::BAD_REQUEST, "duplicate_field"),
        ("POST", format!("{valid} {valid}"), "application/json", StatusCode::BAD_REQUEST, "invalid_json"),
    ];
    for (method, body, content_type, expected, code) in cases {
        let (status, text) = stack
            .raw_request(method, "/connectors", Some(&body), content_type)
            .await;
        let error: Value = serde_json::from_str(&text).expect("JSON error");
        assert_eq!(status, expected, "{}: {text}", &body[..body.len().min(60)]);
        assert_eq!(error["code"], code, "{text}");
    }
}

#[tokio::test]
async fn routes_and_methods_checked() {
    let stack = Stack::new().await;
    let (_, created) = create(
        &stack,
        json!({"name": "A", "domain": "acme.okta.com", "apiToken": TOKEN}),
    )
    .await;
    let id = created["id"].as_str().expect("id");
    let cases = [
        (
            "GET",
            "/nope".to_owned(),
            StatusCode::NOT_FOUND,
            "route_not_found",
        ),
        (
            "POST",
            "/audit".to_owned(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "POST",
            format!("/connectors/{id}/runs/r1/approve"),
            StatusCode::NOT_FOUND,
            "run_not_found",
        ),
        (
            "PUT",
            "/connectors".to_owned(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "POST",
            format!("/connectors/{id}"),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            "GET",
            "/connectors/0123456789abcdef0123456789abcdef".to_owned(),
            StatusCode::NOT_FOUND,
            "connector_not_found",
        ),
        (
            "GET",
            "/connectors/..%2F..%2Fetc".to_owned(),
            StatusCode::NOT_FOUND,
            "connector_not_found",
        ),
        (
            "GET",
            format!("/connectors/{id}/users/00unknown"),
            StatusCode::NOT_FOUND,
            "user_not_found",
        ),
        (
            "GET",
            format!("/connectors/{id}/groups/00gunknown/members"),
            StatusCode::NOT_FOUND,
            "group_not_found",
        ),
        (
            "GET",
            format!("/connectors/{id}/runs/nope"),
            StatusCode::NOT_FOUND,
            "run_not_found",
        ),
        (
            "GET",
            "/connectors?limit=0".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "GET",
            "/connectors?limit=1001".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "GET",
            "/connectors?limit=abc".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid_limit",
        ),
        (
            "GET",
            "/connectors?sort=name".to_owned(),
            StatusCode::BAD_REQUEST,
            "unknown_parameter",
        ),
        (
            "GET",
            format!("/connectors/{id}/users?status=GONE"),
            StatusCode::BAD_REQUEST,
            "invalid_status",
        ),
        (
            "GET",
            format!("/connectors/{id}/users?includeRemoved=yes"),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
        (
            "GET",
            "/connectors?cursor=abc".to_owned(),
            StatusCode::BAD_REQUEST,
            "invalid_cursor",
        ),
        (
            "PATCH",
            format!("/connectors/{id}"),
            StatusCode::BAD_REQUEST,
            "missing_body",
        ),
    ];
    for (method, path, expected, code) in cases {
        let (status, body) = stack.request(method, &path, None).await;
        assert_eq!(status, expected, "{method} {path}: {body}");
        assert_eq!(body["code"], code, "{method} {path}: {body}");
    }
}

#[tokio::test]
async fn cursors_page_and_resist_tampering() {
    let stack = Stack::new().await;
    for index in 0..5 {
        let (status, _) = create(
            &stack,
            json!({"name": format!("C{index}"), "domain": "acme.okta.com", "apiToken": TOKEN}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (_, first) = stack.request("GET", "/connectors?limit=2", None).await;
    assert_eq!(first["items"].as_array().expect("items").len(), 2);
    let cursor = first["nextCursor"].as_str().expect("cursor").to_owned();
    let all = stack.list_all("/connectors").await;
    assert_eq!(all.len(), 5);

    let (status, second) = stack
        .request("GET", &format!("/connectors?limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(second["items"][0]["id"], first["items"][0]["id"]);

    let mut tampered = cursor.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    let (status, error) = stack
        .request("GET", &format!("/connectors?cursor={tampered}"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "invalid_cursor");

    let id = first["items"][0]["id"].as_str().expect("id");
    let (status, error) = stack
        .request(
            "GET",
            &format!("/connectors/{id}/users?cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a cursor of another listing"
    );
    assert_eq!(error["field"], "cursor");
}

#[tokio::test]
async fn patch_replaces_token_and_fields() {
    let stack = Stack::new().await;
    let (_, created) = create(
        &stack,
        json!({"name": "A", "domain": "acme.okta.com", "apiToken": TOKEN}),
    )
    .await;
    let id = created["id"].as_str().expect("id");
    let new_token = "00zyxwvutsrqponmlkjihgfedcba9876543210ZYXW";

    let (status, updated) = stack
        .request(
            "PATCH",
            &format!("/connectors/{id}"),
            Some(json!({"name": "B", "apiToken": new_token})),
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["name"], "B");
    assert_eq!(updated["domain"], "acme.okta.com");
    let secret_id = stack
        .api
        .services
        .tokens
        .secret_name(&okta_sync::domain::ConnectorId::parse(id).expect("id"));
    let stored = secrets(&stack)
        .get_secret_value()
        .secret_id(&secret_id)
        .send()
        .await
        .expect("secret");
    assert_eq!(stored.secret_string.as_deref(), Some(new_token));

    let before = stack.dump_table().await;
    let (status, error) = stack
        .request(
            "PATCH",
            &format!("/connectors/{id}"),
            Some(json!({"domain": "evil.example"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["field"], "domain");
    assert_eq!(
        stack.dump_table().await,
        before,
        "a rejected PATCH changes nothing"
    );
}

#[tokio::test]
async fn loopback_domain_needs_opt_in() {
    let stack =
        Stack::with_settings(|settings| settings.domain_policy.allow_http_loopback = false).await;
    let (status, error) = create(
        &stack,
        json!({"name": "A", "domain": "127.0.0.1:8080", "apiToken": TOKEN}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error["field"], "domain");
}

#[tokio::test]
async fn delete_removes_connector_secret_and_mirror() {
    let okta = FakeOkta::start(Config::new(generate_org(&OrgSpec::small())))
        .await
        .expect("fake Okta");
    let stack = Stack::new().await;
    let id = stack.create_connector(&okta).await;
    stack.sync_now(&id).await;
    assert!(stack
        .dump_table()
        .await
        .iter()
        .any(|row| row.contains(&format!("c#{id}#user"))));

    let (status, _) = stack
        .request("DELETE", &format!("/connectors/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, _) = stack
        .request("GET", &format!("/connectors/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "gone at once");
    let (status, _) = stack
        .request("DELETE", &format!("/connectors/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    stack.run_queued().await;

    assert!(
        stack
            .dump_table()
            .await
            .iter()
            .filter(|row| !is_audit_row(row))
            .all(|row| !row.contains(&id)),
        "the purge removed every item of the connector but its audit trail"
    );
    let secret_id = stack
        .api
        .services
        .tokens
        .secret_name(&okta_sync::domain::ConnectorId::parse(&id).expect("id"));
    let described = secrets(&stack)
        .describe_secret()
        .secret_id(&secret_id)
        .send()
        .await;
    let deleted = match described {
        Ok(secret) => secret.deleted_date.is_some(),
        Err(_) => true,
    };
    assert!(deleted, "the secret is scheduled for deletion");
}

#[tokio::test]
async fn connection_test_reports_okta_answer() {
    let okta = FakeOkta::start(Config::new(generate_org(&OrgSpec::small())))
        .await
        .expect("fake Okta");
    let stack = Stack::new().await;
    let id = stack.create_connector(&okta).await;

    let (status, good) = stack
        .request("POST", &format!("/connectors/{id}/test"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(good["ok"], true, "{good}");

    okta.revoke_token(&okta.token());
    let (status, bad) = stack
        .request("POST", &format!("/connectors/{id}/test"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["code"], "okta_invalid_token");
    assert!(bad["oktaRequestId"].is_string());
    assert!(!bad.to_string().contains(&okta.token()));
}

#[tokio::test]
async fn delete_during_sync_stops_run_then_purges() {
    // Slow enough that the run is still going when the connector is deleted.
    let mut config = Config::new(generate_org(&OrgSpec::new(3, 1000, 300)));
    config.latency = std::time::Duration::from_millis(100);
    let okta = FakeOkta::start(config).await.expect("fake Okta");
    let stack = Stack::new().await;
    let id = stack.create_connector(&okta).await;
    let (_, queued) = stack
        .request("POST", &format!("/connectors/{id}/sync"), None)
        .await;
    let event: okta_sync::sync::SyncEvent = serde_json::from_value(
        json!({"connectorId": id, "runId": queued["runId"], "trigger": "manual"}),
    )
    .expect("event");
    let deps = stack.sync.clone();
    let running =
        tokio::spawn(async move { okta_sync::sync::handle_event(&deps, event, None).await });
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;

    let (status, _) = stack
        .request("DELETE", &format!("/connectors/{id}"), None)
        .await;
    let run = running.await.expect("task").expect("handled").expect("run");
    stack.run_queued().await;

    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(
        run.error.expect("the run stopped").code,
        "connector_deleted"
    );
    let left: Vec<String> = stack
        .dump_table()
        .await
        .into_iter()
        .filter(|row| row.contains(&id) && !is_audit_row(row))
        .collect();
    assert!(
        left.is_empty(),
        "{} items of the deleted connector remain",
        left.len()
    );
}

/// Audit records outlive their connector until they expire.
fn is_audit_row(row: &str) -> bool {
    row.contains(r#""pk": S("audit"#)
}
