//! API safety: ETags with `If-Match` on PATCH and DELETE, and
//! `Idempotency-Key` on connector creation and sync starts.

use harness::{Call, Reply, Stack};
use lambda_http::http::StatusCode;
use serde_json::{json, Value};

const TOKEN: &str = "00abcdefghijklmnopqrstuvwxyz0123456789ABCD";
const NEW_TOKEN: &str = "00replacementtokenabcdefghijklmnopqrstuvw";

async fn call(
    stack: &Stack,
    method: &str,
    path: &str,
    body: Option<Value>,
    headers: &[(&'static str, &str)],
) -> Reply {
    stack
        .send(Call {
            method,
            path,
            body,
            headers: headers
                .iter()
                .map(|(name, value)| (*name, (*value).to_owned()))
                .collect(),
            ..Call::default()
        })
        .await
}

fn new_connector() -> Value {
    json!({"name": "Acme", "domain": "acme.okta.com", "apiToken": TOKEN})
}

async fn create(stack: &Stack) -> (String, String) {
    let reply = call(stack, "POST", "/connectors", Some(new_connector()), &[]).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let etag = reply.header("etag").expect("ETag on create").to_owned();
    (reply.body["id"].as_str().expect("id").to_owned(), etag)
}

async fn stored_token(stack: &Stack, id: &str) -> String {
    let name = stack
        .api
        .services
        .tokens
        .secret_name(&okta_sync::domain::ConnectorId::parse(id).expect("id"));
    aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .get_secret_value()
        .secret_id(name)
        .send()
        .await
        .expect("read the secret")
        .secret_string
        .expect("a string secret")
}

#[tokio::test]
async fn etag_round_trip() {
    let stack = Stack::new().await;
    let (id, created) = create(&stack).await;
    let path = format!("/connectors/{id}");

    let read = call(&stack, "GET", &path, None, &[]).await;
    assert_eq!(created, "\"1\"");
    assert_eq!(read.header("etag"), Some(created.as_str()));

    let patched = call(
        &stack,
        "PATCH",
        &path,
        Some(json!({"name": "Acme prod"})),
        &[("If-Match", &created)],
    )
    .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.header("etag"), Some("\"2\""));
    assert_eq!(patched.body["version"], 2);

    let scheduled = call(
        &stack,
        "PUT",
        &format!("{path}/schedule"),
        Some(json!({"interval": {"every": 6, "unit": "hours"}})),
        &[],
    )
    .await;
    assert_eq!(scheduled.status, StatusCode::OK, "{}", scheduled.body);
    let read = call(&stack, "GET", &path, None, &[]).await;
    assert_eq!(
        read.header("etag"),
        Some("\"3\""),
        "a schedule change is a change"
    );
    assert_eq!(read.body["name"], "Acme prod");
}

#[tokio::test]
async fn stale_if_match_patch_gets_412() {
    let stack = Stack::new().await;
    let (id, first) = create(&stack).await;
    let path = format!("/connectors/{id}");
    let moved = call(&stack, "PATCH", &path, Some(json!({"name": "B"})), &[]).await;
    assert_eq!(moved.status, StatusCode::OK);
    let before = stack.dump_table().await;

    let stale = call(
        &stack,
        "PATCH",
        &path,
        Some(json!({"name": "C", "apiToken": NEW_TOKEN})),
        &[("If-Match", &first)],
    )
    .await;

    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert_eq!(stale.body["code"], "precondition_failed");
    assert_eq!(stale.body["currentETag"], "\"2\"");
    assert_eq!(stack.dump_table().await, before, "the table is unchanged");
    assert_eq!(
        stored_token(&stack, &id).await,
        TOKEN,
        "the token is unchanged"
    );
    let weak = call(
        &stack,
        "PATCH",
        &path,
        Some(json!({"name": "C"})),
        &[("If-Match", "W/\"2\"")],
    )
    .await;
    assert_eq!(
        weak.status,
        StatusCode::PRECONDITION_FAILED,
        "weak tags never match"
    );
    let invalid = call(
        &stack,
        "PATCH",
        &path,
        Some(json!({"name": "C"})),
        &[("If-Match", "2")],
    )
    .await;
    assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
    assert_eq!(invalid.body["code"], "invalid_if_match");
}

#[tokio::test]
async fn stale_if_match_delete_gets_412() {
    let stack = Stack::new().await;
    let (id, first) = create(&stack).await;
    let path = format!("/connectors/{id}");
    let moved = call(&stack, "PATCH", &path, Some(json!({"name": "B"})), &[]).await;
    let current = moved.header("etag").expect("ETag").to_owned();
    let before = stack.dump_table().await;

    let stale = call(&stack, "DELETE", &path, None, &[("If-Match", &first)]).await;

    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert_eq!(stale.body["code"], "precondition_failed");
    assert_eq!(stack.dump_table().await, before, "the table is unchanged");
    let read = call(&stack, "GET", &path, None, &[]).await;
    assert_eq!(read.status, StatusCode::OK, "the connector still exists");

    let deleted = call(&stack, "DELETE", &path, None, &[("If-Match", &current)]).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);
    let gone = call(&stack, "DELETE", &path, None, &[("If-Match", "*")]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn idempotent_create_replays_first_answer() {
    let stack = Stack::new().await;
    let key = [("Idempotency-Key", "create-7f3c9a")];

    let first = call(&stack, "POST", "/connectors", Some(new_connector()), &key).await;
    // The same request serialised with its keys in another order.
    let reordered = json!({"apiToken": TOKEN, "domain": "acme.okta.com", "name": "Acme"});
    let second = call(&stack, "POST", "/connectors", Some(reordered), &key).await;

    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.body);
    assert_eq!(second.body, first.body, "the same connector");
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.header("location"), first.header("location"));
    assert_eq!(second.header("etag"), first.header("etag"));
    assert_eq!(stack.list_all("/connectors").await.len(), 1);
    let audit = stack.list_all("/audit").await;
    assert_eq!(audit.len(), 1, "one creation recorded");

    let other = json!({"name": "Other", "domain": "acme.okta.com", "apiToken": TOKEN});
    let reused = call(&stack, "POST", "/connectors", Some(other), &key).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["code"], "idempotency_key_reused");
    assert_eq!(stack.list_all("/connectors").await.len(), 1);

    let table = stack.dump_table().await.join("\n");
    assert!(table.contains("idem#"), "the key is stored");
    assert!(!table.contains(TOKEN), "no token in the idempotency record");
}

#[tokio::test]
async fn concurrent_creates_with_one_key() {
    let stack = Stack::new().await;
    let key = [("Idempotency-Key", "create-concurrent")];

    let (first, second) = tokio::join!(
        call(&stack, "POST", "/connectors", Some(new_connector()), &key),
        call(&stack, "POST", "/connectors", Some(new_connector()), &key),
    );

    let statuses = [first.status, second.status];
    assert!(
        statuses.contains(&StatusCode::CREATED),
        "one request creates: {statuses:?}"
    );
    for reply in [&first, &second] {
        let replayed_or_waiting =
            reply.status == StatusCode::CREATED || reply.body["code"] == "idempotency_key_in_use";
        assert!(replayed_or_waiting, "{}: {}", reply.status, reply.body);
    }
    assert_eq!(stack.list_all("/connectors").await.len(), 1);
}

#[tokio::test]
async fn idempotent_sync_queues_one_run() {
    let stack = Stack::new().await;
    let (id, _) = create(&stack).await;
    let path = format!("/connectors/{id}/sync");
    let key = [("Idempotency-Key", "sync-1")];

    let first = call(&stack, "POST", &path, None, &key).await;
    let second = call(&stack, "POST", &path, None, &key).await;

    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!(second.status, StatusCode::ACCEPTED, "{}", second.body);
    assert_eq!(second.body["runId"], first.body["runId"]);
    assert_eq!(
        stack
            .list_all(&format!("/connectors/{id}/runs"))
            .await
            .len(),
        1
    );
    let sqs = aws_sdk_sqs::Client::new(&stack.sdk);
    let received = sqs
        .receive_message()
        .queue_url(&stack.resources.queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    assert_eq!(
        received.messages.unwrap_or_default().len(),
        1,
        "one message"
    );

    let incremental = call(
        &stack,
        "POST",
        &path,
        Some(json!({"mode": "incremental"})),
        &key,
    )
    .await;
    assert_eq!(incremental.status, StatusCode::UNPROCESSABLE_ENTITY);
    let without_key = call(&stack, "POST", &path, None, &[]).await;
    assert_eq!(without_key.status, StatusCode::CONFLICT, "a run is queued");
    assert_eq!(without_key.body["code"], "sync_running");
}

#[tokio::test]
async fn replayed_sync_of_deleted_connector_gets_404() {
    let stack = Stack::new().await;
    let (id, _) = create(&stack).await;
    let path = format!("/connectors/{id}/sync");
    let key = [("Idempotency-Key", "sync-then-delete")];
    let first = call(&stack, "POST", &path, None, &key).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    let deleted = call(&stack, "DELETE", &format!("/connectors/{id}"), None, &[]).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);

    let replay = call(&stack, "POST", &path, None, &key).await;

    assert_eq!(replay.status, StatusCode::NOT_FOUND, "{}", replay.body);
    assert_eq!(replay.body["code"], "connector_not_found");
}

#[tokio::test]
async fn failed_request_frees_its_key() {
    let stack = Stack::new().await;
    let key = [("Idempotency-Key", "create-after-fix")];
    let bad = json!({"name": "Acme", "domain": "acme.example.com", "apiToken": TOKEN});

    let rejected = call(&stack, "POST", "/connectors", Some(bad), &key).await;
    let fixed = call(&stack, "POST", "/connectors", Some(new_connector()), &key).await;

    assert_eq!(rejected.status, StatusCode::BAD_REQUEST);
    assert_eq!(fixed.status, StatusCode::CREATED, "{}", fixed.body);
    assert_eq!(fixed.header("idempotent-replayed"), None);
}

#[tokio::test]
async fn invalid_idempotency_keys_rejected() {
    let stack = Stack::new().await;
    let long = "k".repeat(256);
    for key in ["", "has space", long.as_str()] {
        let reply = call(
            &stack,
            "POST",
            "/connectors",
            Some(new_connector()),
            &[("Idempotency-Key", key)],
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "key '{key}'");
        assert_eq!(reply.body["code"], "invalid_idempotency_key", "key '{key}'");
    }
    assert!(stack.list_all("/connectors").await.is_empty());
}
