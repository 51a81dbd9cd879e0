//! The API token never leaves Secrets Manager: not in a log line (even at
//! TRACE), a response, a Run record or a table item.

use std::io::Write;
use std::sync::{Arc, Mutex};

use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
use harness::Stack;
use lambda_http::http::StatusCode;
use serde_json::json;

/// A log sink the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn token_absent_from_trace_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime has one thread, so this catches every log line of the
    // handlers, the SDK and the HTTP client.
    let _guard = tracing::subscriber::set_default(subscriber);

    let okta = FakeOkta::start(Config::new(generate_org(&OrgSpec::small())))
        .await
        .expect("fake Okta");
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let mut bodies = Vec::new();
    for (method, path) in [
        ("GET", format!("/connectors/{connector}")),
        ("GET", "/connectors".to_owned()),
        ("POST", format!("/connectors/{connector}/test")),
    ] {
        let (_, body) = stack.request(method, &path, None).await;
        bodies.push(body.to_string());
    }
    let run = stack.sync_now(&connector).await;
    let replacement = "00replacementtokenabcdefghijklmnopqrstuvw";
    let (status, patched) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"apiToken": replacement})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    bodies.push(patched.to_string());
    let failed = stack.sync_now(&connector).await;
    bodies.push(format!("{run:?} {failed:?}"));
    let runs = stack
        .list_all(&format!("/connectors/{connector}/runs"))
        .await;
    bodies.push(serde_json::to_string(&runs).expect("runs"));

    let logs = String::from_utf8_lossy(&captured.0.lock().expect("log buffer")).into_owned();
    let table = stack.dump_table().await.join("\n");
    assert!(
        logs.len() > 10_000,
        "TRACE logs were captured ({} bytes)",
        logs.len()
    );
    for token in [okta.token(), replacement.to_owned()] {
        assert!(!logs.contains(&token), "a log line contains the token");
        assert!(!table.contains(&token), "a table item contains the token");
        for body in &bodies {
            assert!(!body.contains(&token), "a response contains the token");
        }
    }
    assert_eq!(
        failed.error.map(|error| error.code),
        Some("okta_invalid_token".to_owned()),
        "the replaced token reached Okta"
    );
}

#[tokio::test]
async fn secrets_use_kms_key_when_set() {
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let stack = Stack::with_settings(|settings| {
        settings.secrets_kms_key_id = Some(key_arn.to_owned());
    })
    .await;
    let (status, body) = stack
        .request(
            "POST",
            "/connectors",
            Some(json!({
                "name": "Encrypted",
                "domain": "acme.okta.com",
                "apiToken": "00abcdefghijklmnopqrstuvwxyz0123456789ABCD"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = okta_sync::domain::ConnectorId::parse(body["id"].as_str().expect("id")).expect("id");

    let secret = aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .describe_secret()
        .secret_id(stack.api.services.tokens.secret_name(&id))
        .send()
        .await
        .expect("describe the secret");

    assert_eq!(secret.kms_key_id(), Some(key_arn));
}

#[tokio::test]
async fn secrets_use_default_key_when_unset() {
    let stack = Stack::new().await;
    let (status, body) = stack
        .request(
            "POST",
            "/connectors",
            Some(json!({
                "name": "Default key",
                "domain": "acme.okta.com",
                "apiToken": "00abcdefghijklmnopqrstuvwxyz0123456789ABCD"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = okta_sync::domain::ConnectorId::parse(body["id"].as_str().expect("id")).expect("id");

    let secret = aws_sdk_secretsmanager::Client::new(&stack.sdk)
        .describe_secret()
        .secret_id(stack.api.services.tokens.secret_name(&id))
        .send()
        .await
        .expect("describe the secret");

    // Secrets Manager reports no key id for the aws/secretsmanager key.
    assert_eq!(secret.kms_key_id(), None);
}
