//! The `fake-okta` binary: its start-up line, its API and admin routes, and
//! its exit on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[tokio::test]
async fn binary_prints_line_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-okta"))
        .args([
            "--port",
            "0",
            "--users",
            "120",
            "--groups",
            "6",
            "--seed",
            "3",
            "--token",
            "T0KEN",
            "--latency-ms",
            "5",
            "--rate-limit-scale",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the fake-okta binary");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the start-up line");
    let started: Value = serde_json::from_str(&line).expect("the start-up line is JSON");
    assert_eq!(started["token"], "T0KEN");
    assert_eq!(started["users"], 120);
    assert_eq!(started["groups"], 6);
    assert!(started["memberships"].as_u64().is_some_and(|n| n >= 120));
    assert!(started["usersByStatus"]["ACTIVE"]
        .as_u64()
        .is_some_and(|n| n > 0));
    let domain = started["domain"].as_str().expect("a domain").to_string();
    assert!(domain.starts_with("127.0.0.1:"), "{domain}");
    assert_eq!(started["baseUrl"], format!("http://{domain}"));

    let client = reqwest::Client::new();
    let users = client
        .get(format!("http://{domain}/api/v1/users"))
        .header("Authorization", "SSWS T0KEN")
        .send()
        .await
        .expect("GET users");
    assert_eq!(users.status(), reqwest::StatusCode::OK);
    assert_eq!(
        users
            .headers()
            .get("x-rate-limit-limit")
            .and_then(|v| v.to_str().ok()),
        Some("1200")
    );
    let summary: Value = client
        .get(format!("http://{domain}/__admin/summary"))
        .send()
        .await
        .expect("GET summary")
        .json()
        .await
        .expect("summary JSON");
    assert_eq!(summary["users"], 120);
    drop(client);

    let pid = child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(exit) = child.try_wait().expect("poll the child") {
            assert!(exit.success(), "exit status {exit}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("fake-okta did not stop within 10 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn binary_rejects_invalid_share() {
    let output = Command::new(env!("CARGO_BIN_EXE_fake-okta"))
        .args(["--deprovisioned-share", "2"])
        .output()
        .expect("run the fake-okta binary");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--deprovisioned-share"), "{stderr}");
}
