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
