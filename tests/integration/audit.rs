//! The audit trail: every change made through the API is recorded with the
//! caller's identity from API Gateway's request context, and read back at
//! `GET /audit`, newest first, by connector and in pages.

use aws_sdk_dynamodb::types::AttributeValue;
use harness::{Call, Reply, Stack};
use lambda_http::http::StatusCode;
use serde_json::{json, Value};

const TOKEN: &str = "00abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const NEW_TOKEN: &str = "00replacementtokenabcdefghijklmnopqrstuvw";
const ADMIN_ARN: &str = "arn:aws:iam::123456789012:user/alice";
const ISSUER: &str = "https://acme.okta.com/oauth2/default";

fn iam() -> Value {
    json!({"iam": {
        "accessKey": "AKIAEXAMPLE",
        "accountId": "123456789012",
        "callerId": "AIDAEXAMPLE",
        "principalOrgId": null,
        "userArn": ADMIN_ARN,
        "userId": "AIDAEXAMPLE"
    }})
}

fn jwt() -> Value {
    json!({"jwt": {
        "claims": {"sub": "00u1bob", "iss": ISSUER, "aud": "api://okta-sync"},
        "scopes": null
    }})
}

async fn send(
    stack: &Stack,
    method: &str,
    path: &str,
    body: Option<Value>,
    authorizer: Option<Value>,
) -> Reply {
    stack
        .send(Call {
            method,
            path,
            body,
            authorizer,
            ..Call::default()
        })
        .await
}

async fn create(stack: &Stack, name: &str, authorizer: Option<Value>) -> String {
    let reply = send(
        stack,
        "POST",
        "/connectors",
        Some(json!({"name": name, "domain": "acme.okta.com", "apiToken": TOKEN})),
        authorizer,
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn audit_records_every_change_with_caller() {
    let stack = Stack::new().await;
    let id = create(&stack, "Acme", Some(iam())).await;
    let path = format!("/connectors/{id}");

    let steps = [
        (
            "PATCH",
            path.clone(),
            Some(json!({"name": "Acme prod", "apiToken": NEW_TOKEN})),
            jwt(),
            StatusCode::OK,
        ),
        (
            "POST",
            format!("{path}/sync"),
            None,
            iam(),
            StatusCode::ACCEPTED,
        ),
        (
            "PUT",
            format!("{path}/schedule"),
            Some(json!({"expression": "0 2 * * *"})),
            jwt(),
            StatusCode::OK,
        ),
        (
            "DELETE",
            format!("{path}/schedule"),
            None,
            iam(),
            StatusCode::NO_CONTENT,
        ),
        ("DELETE", path.clone(), None, jwt(), StatusCode::ACCEPTED),
    ];
    for (method, route, body, authorizer, expected) in steps {
        let reply = send(&stack, method, &route, body, Some(authorizer)).await;
        assert_eq!(reply.status, expected, "{method} {route}: {}", reply.body);
    }

    let records = stack.list_all(&format!("/audit?connectorId={id}")).await;
    let actions: Vec<&str> = records
        .iter()
        .map(|record| record["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        actions,
        [
            "connector.deleted",
            "schedule.deleted",
            "schedule.updated",
            "sync.started",
            "connector.updated",
            "connector.created",
        ],
        "newest first"
    );
    for record in &records {
        assert_eq!(record["connectorId"], id.as_str());
        assert!(record["time"]
            .as_str()
            .is_some_and(|time| time.ends_with('Z')));
        assert_eq!(record["requestId"], "test-request");
    }

    let created = &records[5]["actor"];
    assert_eq!(created["type"], "iam");
    assert_eq!(created["id"], ADMIN_ARN);
    assert_eq!(created["accountId"], "123456789012");
    assert_eq!(created["sourceIp"], "127.0.0.1");

    let updated = &records[4];
    assert_eq!(updated["actor"]["type"], "jwt");
    assert_eq!(updated["actor"]["id"], "00u1bob");
    assert_eq!(updated["actor"]["issuer"], ISSUER);
    assert_eq!(
        updated["details"],
        json!({"name": {"from": "Acme", "to": "Acme prod"}, "apiToken": "replaced"})
    );

    let sync = &records[3];
    assert!(sync["details"]["runId"].is_string(), "{sync}");
    assert_eq!(sync["details"]["mode"], "full");
    assert_eq!(
        records[2]["details"]["scheduleExpression"],
        "cron(0 2 * * ? *)"
    );

    let everything = records.iter().map(Value::to_string).collect::<String>()
        + &stack.dump_table().await.join("\n");
    assert!(!everything.contains(TOKEN), "the first token leaked");
    assert!(!everything.contains(NEW_TOKEN), "the new token leaked");
}

#[tokio::test]
async fn audit_without_authorizer_is_anonymous() {
    let stack = Stack::new().await;
    let id = create(&stack, "Local", None).await;

    let records = stack.list_all(&format!("/audit?connectorId={id}")).await;

    assert_eq!(records.len(), 1);
    let actor = &records[0]["actor"];
    assert_eq!(actor["type"], "anonymous");
    assert_eq!(actor["id"], "anonymous");
    assert_eq!(actor["sourceIp"], "127.0.0.1");
}

#[tokio::test]
async fn audit_filters_by_connector_and_pages() {
    let stack = Stack::new().await;
    let first = create(&stack, "First", Some(iam())).await;
    let second = create(&stack, "Second", Some(iam())).await;
    for _ in 0..2 {
        let reply = send(
            &stack,
            "PATCH",
            &format!("/connectors/{first}"),
            Some(json!({"name": "First again"})),
            Some(jwt()),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK);
    }

    let of_first = stack.list_all(&format!("/audit?connectorId={first}")).await;
    let of_second = stack
        .list_all(&format!("/audit?connectorId={second}"))
        .await;
    assert_eq!(of_first.len(), 3);
    assert_eq!(of_second.len(), 1);
    assert!(of_first
        .iter()
        .all(|record| record["connectorId"] == first.as_str()));

    let mut seen = Vec::new();
    let mut url = "/audit?limit=1".to_owned();
    loop {
        let (status, page) = stack.request("GET", &url, None).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let items = page["items"].as_array().expect("items");
        assert!(items.len() <= 1);
        seen.extend(items.iter().map(|record| record["id"].clone()));
        match page["nextCursor"].as_str() {
            Some(cursor) => url = format!("/audit?limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 4, "every record once");
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.as_str().cmp(&a.as_str()));
    assert_eq!(seen, sorted, "newest first");

    let (_, page) = stack
        .request("GET", &format!("/audit?limit=1&connectorId={first}"), None)
        .await;
    let cursor = page["nextCursor"].as_str().expect("a second page");
    let (status, body) = stack
        .request("GET", &format!("/audit?cursor={cursor}"), None)
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "cursor bound to its filter"
    );
    assert_eq!(body["code"], "invalid_cursor");

    let (status, body) = stack
        .request("GET", "/audit?connectorId=..%2Fetc", None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["field"], "connectorId");
}

/// Reads the `expiresAt` of every item whose partition key starts with
/// `prefix`.
async fn expiry_times(stack: &Stack, prefix: &str) -> Vec<i64> {
    let output = aws_sdk_dynamodb::Client::new(&stack.sdk)
        .scan()
        .table_name(&stack.resources.table)
        .send()
        .await
        .expect("scan");
    output
        .items
        .unwrap_or_default()
        .into_iter()
        .filter(
            |item| matches!(item.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with(prefix)),
        )
        .map(|item| match item.get("expiresAt") {
            Some(AttributeValue::N(value)) => value.parse().expect("a number"),
            other => panic!("expiresAt is {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn runs_and_audit_expire_after_retention() {
    let stack = Stack::with_settings(|settings| settings.retention_days = 7).await;
    let id = create(&stack, "Expiring", Some(iam())).await;
    let reply = send(
        &stack,
        "POST",
        &format!("/connectors/{id}/sync"),
        None,
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let now = chrono::Utc::now().timestamp();
    let week = 7 * 24 * 3600;

    let audit = expiry_times(&stack, "audit").await;
    let runs = expiry_times(&stack, &format!("c#{id}#run")).await;

    assert_eq!(audit.len(), 4, "two records, each in two partitions");
    assert_eq!(runs.len(), 1);
    for expires in audit.iter().chain(&runs) {
        assert!(
            (now + week - 120..=now + week + 5).contains(expires),
            "expiresAt {expires} is not 7 days after {now}"
        );
    }
    let ttl = aws_sdk_dynamodb::Client::new(&stack.sdk)
        .describe_time_to_live()
        .table_name(&stack.resources.table)
        .send()
        .await
        .expect("describe TTL")
        .time_to_live_description
        .expect("TTL description");
    assert_eq!(ttl.attribute_name(), Some("expiresAt"));
}
