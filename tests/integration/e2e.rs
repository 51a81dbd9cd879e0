//! End to end: the real function binaries under `cargo lambda watch`, the
//! queue hand-off, moto and the fake Okta, driven over HTTP as an admin would.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
use harness::moto::{free_port, wait_for_port, workspace_root};
use harness::Stack;
use serde_json::{json, Value};

/// `cargo lambda watch`, started through `sh` with a pipe on its standard
/// input so that it stops when the test process ends, however it ends.
struct Watch {
    child: Child,
    port: u16,
}

impl Watch {
    fn start(env_file: &Path) -> Watch {
        let binary = workspace_root().join(".venv/bin/cargo-lambda");
        let port = free_port().expect("free port");
        let child = Command::new("sh")
            .arg("-c")
            .arg(r#""$0" lambda watch --ignore-changes --invoke-address 127.0.0.1 --invoke-port "$1" --env-file "$2" >"$3" 2>&1 & pid=$!; cat >/dev/null; kill "$pid""#)
            .arg(&binary)
            .arg(port.to_string())
            .arg(env_file)
            .arg(env_file.with_extension("log"))
            .current_dir(workspace_root())
            .stdin(Stdio::piped())
            .spawn()
            .expect("cargo lambda watch started");
        assert!(
            wait_for_port(port, Duration::from_secs(300)),
            "cargo lambda watch did not listen; see {}",
            env_file.with_extension("log").display()
        );
        Watch { child, port }
    }

    fn url(&self, function: &str, path: &str) -> String {
        format!("http://127.0.0.1:{}/lambda-url/{function}{path}", self.port)
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Closing the pipe makes the shell stop cargo lambda watch.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn binaries_sync_through_queue() {
    let okta = FakeOkta::start(Config::new(generate_org(&OrgSpec::new(11, 450, 12))))
        .await
        .expect("fake Okta");
    let stack = Stack::new().await;
    let moto = harness::moto::shared().await;
    let state = workspace_root().join("target/e2e");
    std::fs::create_dir_all(&state).expect("state folder");
    let env_file = state.join(format!("{}.env", stack.resources.prefix));
    let resources = &stack.resources;
    std::fs::write(
        &env_file,
        format!(
            "AWS_ENDPOINT_URL={}\nAWS_ACCESS_KEY_ID=test\nAWS_SECRET_ACCESS_KEY=test\nAWS_REGION=us-east-1\n\
             AWS_EC2_METADATA_DISABLED=true\nTABLE_NAME={}\nSYNC_QUEUE_URL={}\nSYNC_QUEUE_ARN={}\n\
             SCHEDULE_GROUP_NAME={}\nSCHEDULER_ROLE_ARN=arn:aws:iam::123456789012:role/e2e\n\
             SECRET_NAME_PREFIX={}/connectors/\nCURSOR_SIGNING_KEY=e2e-cursor-key\nOKTA_ALLOW_HTTP_LOOPBACK=1\nSYNC_TIME_LIMIT_SECONDS=900\nRUST_LOG=info\n",
            moto.endpoint(),
            resources.table,
            resources.queue_url,
            resources.queue_arn,
            resources.schedule_group,
            resources.prefix,
        ),
    )
    .expect("env file written");
    let watch = Watch::start(&env_file);
    let handoff_sdk = stack.sdk.clone();
    let queue_url = resources.queue_url.clone();
    let invoke_url = format!("http://127.0.0.1:{}", watch.port);
    let handoff = tokio::spawn(async move {
        harness::handoff::forward(&handoff_sdk, &queue_url, &invoke_url).await
    });
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");

    let (status, connector) = call(
        &http,
        reqwest::Method::POST,
        &watch.url("connectors", "/connectors"),
        Some(json!({"name": "E2E", "domain": okta.domain(), "apiToken": okta.token()})),
    )
    .await;
    assert_eq!(status, 201, "{connector}");
    let id = connector["id"].as_str().expect("id").to_owned();

    let started = Instant::now();
    let (status, queued) = call(
        &http,
        reqwest::Method::POST,
        &watch.url("connectors", &format!("/connectors/{id}/sync")),
        None,
    )
    .await;
    assert_eq!(status, 202, "{queued}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "POST /sync answers without waiting for the sync"
    );
    let run_id = queued["runId"].as_str().expect("run id").to_owned();

    let run = loop {
        let (_, run) = call(
            &http,
            reqwest::Method::GET,
            &watch.url("connectors", &format!("/connectors/{id}/runs/{run_id}")),
            None,
        )
        .await;
        if !matches!(run["status"].as_str(), Some("queued" | "running")) {
            break run;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the sync did not finish: {run}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    handoff.abort();

    assert_eq!(run["status"], "succeeded", "{run}");
    let summary = okta.summary();
    assert_eq!(run["counts"]["users"]["seen"], summary.users as u64);
    assert_eq!(run["counts"]["groups"]["seen"], summary.groups as u64);
    assert_eq!(
        run["counts"]["memberships"]["seen"],
        summary.memberships as u64
    );

    let (status, preview) = call(
        &http,
        reqwest::Method::POST,
        &watch.url("schedules", "/schedules/preview"),
        Some(json!({"expression": "0 9 * * 1-5", "timezone": "Europe/Berlin"})),
    )
    .await;
    assert_eq!(status, 200, "{preview}");
    assert_eq!(preview["scheduleExpression"], "cron(0 9 ? * 2-6 *)");
}
