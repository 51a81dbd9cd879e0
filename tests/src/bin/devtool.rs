//! Local tools behind `make demo` and `make dev`:
//! - `setup` creates the product's resources in the emulator;
//! - `handoff` moves sync events from the emulator's queue to the sync
//!   function under `cargo lambda watch`, as the SQS event source does in AWS;
//! - `demo` drives the API like an admin: create a connector, sync, report.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use harness::{resources, sdk_config};
use serde_json::{json, Value};

#[derive(Parser)]
#[command(about = "Local tools for the Okta sync: set-up, queue hand-off and demo")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the table, sync queue and schedule group in the emulator and
    /// print them as shell `export` lines.
    Setup {
        /// The emulator's endpoint, e.g. http://127.0.0.1:5000.
        #[arg(long)]
        endpoint: String,
        /// Prefix of the resource names.
        #[arg(long, default_value = "okta-sync-local")]
        prefix: String,
    },
    /// Receive sync events from the queue and invoke the sync function
    /// through cargo-lambda's Invoke endpoint, until stopped.
    Handoff {
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        queue_url: String,
        /// cargo-lambda's address, e.g. http://127.0.0.1:9000.
        #[arg(long)]
        invoke_url: String,
    },
    /// Create a connector through the API, sync it and print the result.
    /// The Okta token is read from the OKTA_API_TOKEN environment variable.
    Demo {
        /// Base URL of the connectors function, e.g.
        /// http://127.0.0.1:9000/lambda-url/connectors.
        #[arg(long)]
        api: String,
        /// Base URL of the schedules function.
        #[arg(long)]
        schedules_api: Option<String>,
        /// The Okta domain the connector points at.
        #[arg(long)]
        okta_domain: String,
        /// The fake Okta's summary URL; when given, the demo checks the
        /// mirror against it.
        #[arg(long)]
        expect_summary: Option<String>,
        /// Give up waiting for the sync after this many seconds.
        #[arg(long, default_value_t = 1800)]
        timeout_seconds: u64,
    },
}

#[tokio::main]
async fn main() {
    // Logs go to standard error: `setup` prints shell lines on standard output.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Setup { endpoint, prefix } => setup(&endpoint, &prefix).await,
        Command::Handoff {
            endpoint,
            queue_url,
            invoke_url,
        } => handoff(&endpoint, &queue_url, &invoke_url).await,
        Command::Demo {
            api,
            schedules_api,
            okta_domain,
            expect_summary,
            timeout_seconds,
        } => {
            demo(
                &api,
                schedules_api.as_deref(),
                &okta_domain,
                expect_summary.as_deref(),
                Duration::from_secs(timeout_seconds),
            )
            .await
        }
    };
    if let Err(message) = result {
        eprintln!("devtool: {message}");
        std::process::exit(1);
    }
}

async fn setup(endpoint: &str, prefix: &str) -> Result<(), String> {
    let sdk = sdk_config(endpoint).await;
    let created = resources::Resources::create(&sdk, prefix).await;
    println!("export TABLE_NAME={}", created.table);
    println!("export SYNC_QUEUE_URL={}", created.queue_url);
    println!("export SYNC_QUEUE_ARN={}", created.queue_arn);
    println!("export SCHEDULE_GROUP_NAME={}", created.schedule_group);
    Ok(())
}

async fn handoff(endpoint: &str, queue_url: &str, invoke_url: &str) -> Result<(), String> {
    let sdk = sdk_config(endpoint).await;
    eprintln!("handoff: forwarding {queue_url} to the sync function at {invoke_url}");
    harness::handoff::forward(&sdk, queue_url, invoke_url).await
}

async fn demo(
    api: &str,
    schedules_api: Option<&str>,
    okta_domain: &str,
    expect_summary: Option<&str>,
    timeout: Duration,
) -> Result<(), String> {
    let token = std::env::var("OKTA_API_TOKEN")
        .map_err(|_| "set OKTA_API_TOKEN to the Okta API token".to_owned())?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|error| error.to_string())?;
    let api = api.trim_end_matches('/');

    let connector = call(
        &http,
        "POST",
        &format!("{api}/connectors"),
        Some(json!({
            "name": "Demo connector", "domain": okta_domain, "apiToken": token,
        })),
    )
    .await?;
    let id = connector["id"]
        .as_str()
        .ok_or("the API returned no connector id")?
        .to_owned();
    println!(
        "Created connector {id} for {}",
        connector["domain"].as_str().unwrap_or_default()
    );

    let test = call(&http, "POST", &format!("{api}/connectors/{id}/test"), None).await?;
    println!(
        "Connection test: {}",
        test["message"].as_str().unwrap_or_default()
    );
    if test["ok"] != Value::Bool(true) {
        return Err("the connection test failed; check the domain and token".into());
    }

    let started = Instant::now();
    let queued = call(&http, "POST", &format!("{api}/connectors/{id}/sync"), None).await?;
    let run_id = queued["runId"]
        .as_str()
        .ok_or("the API returned no run id")?
        .to_owned();
    println!("Sync queued as run {run_id}");
    let run = wait_for_run(&http, api, &id, &run_id, timeout).await?;
    let elapsed = started.elapsed();
    println!();
    println!(
        "Run {run_id} {} in {:.1} s",
        run["status"].as_str().unwrap_or_default(),
        elapsed.as_secs_f64()
    );
    if run["status"] != "succeeded" {
        return Err(format!("the sync did not succeed: {}", run["error"]));
    }
    print_counts(&run);

    let mirrored = mirrored_counts(&http, api, &id).await?;
    println!(
        "Mirror now holds {} users ({}), {} groups, {} memberships",
        mirrored.users,
        format_statuses(&mirrored.by_status),
        mirrored.groups,
        mirrored.memberships
    );
    if let Some(summary_url) = expect_summary {
        compare_with_fake(&http, summary_url, &mirrored).await?;
    }
    if let Some(schedules_api) = schedules_api {
        set_demo_schedule(&http, schedules_api.trim_end_matches('/'), &id).await?;
    }

    println!();
    println!("Query the mirror (with `make dev`, which keeps the stack running):");
    println!("  curl -s '{api}/connectors/{id}/users?limit=5'");
    println!("  curl -s '{api}/connectors/{id}/users?status=DEPROVISIONED'");
    println!("  curl -s '{api}/connectors/{id}/groups'");
    println!("  curl -s '{api}/connectors/{id}/runs/{run_id}'");
    Ok(())
}

async fn call(
    http: &reqwest::Client,
    method: &str,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let method =
        reqwest::Method::from_bytes(method.as_bytes()).map_err(|error| error.to_string())?;
    let mut request = http.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .map_err(|error| format!("{method} {url} failed: {error}"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        return Err(format!("{method} {url} answered {status}: {body}"));
    }
    Ok(body)
}

async fn wait_for_run(
    http: &reqwest::Client,
    api: &str,
    id: &str,
    run_id: &str,
    timeout: Duration,
) -> Result<Value, String> {
    let started = Instant::now();
    let mut last_line = String::new();
    loop {
        let run = call(
            http,
            "GET",
            &format!("{api}/connectors/{id}/runs/{run_id}"),
            None,
        )
        .await?;
        let status = run["status"].as_str().unwrap_or_default().to_owned();
        let progress = &run["progress"];
        let line = format!(
            "  {status:<9} {:>3}%  phase {:<12} users {:>6}  groups {:>5}/{:<5}",
            progress["percent"].as_u64().unwrap_or(0),
            progress["phase"].as_str().unwrap_or_default(),
            progress["users"].as_u64().unwrap_or(0),
            progress["groupsDone"].as_u64().unwrap_or(0),
            progress["groupsTotal"].as_u64().unwrap_or(0),
        );
        if line != last_line {
            println!("{line}");
            last_line = line;
        }
        if !matches!(status.as_str(), "queued" | "running") {
            return Ok(run);
        }
        if started.elapsed() > timeout {
            return Err(format!(
                "the run did not finish within {} s",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn print_counts(run: &Value) {
    let counts = &run["counts"];
    for kind in ["users", "groups"] {
        let c = &counts[kind];
        println!(
            "  {kind:<11} seen {:>6}  created {:>6}  updated {:>6}  unchanged {:>6}  removed {:>6}",
            c["seen"], c["created"], c["updated"], c["unchanged"], c["removed"]
        );
    }
    let m = &counts["memberships"];
    println!(
        "  memberships seen {:>6}  added {:>6}  removed {:>6}",
        m["seen"], m["added"], m["removed"]
    );
    let okta = &run["okta"];
    println!(
        "  Okta calls {}  throttled {}  retries {}",
        okta["calls"], okta["throttled"], okta["retries"]
    );
    if let Some(warnings) = run["warnings"].as_array().filter(|list| !list.is_empty()) {
        println!("  warnings: {}", warnings.len());
        for warning in warnings.iter().take(5) {
            println!("    - {}", warning.as_str().unwrap_or_default());
        }
    }
}

struct Mirrored {
    users: usize,
    by_status: BTreeMap<String, usize>,
    groups: usize,
    memberships: u64,
}

/// Counts the mirror through the API, as a downstream application reads it.
async fn mirrored_counts(http: &reqwest::Client, api: &str, id: &str) -> Result<Mirrored, String> {
    let users = list_all(http, &format!("{api}/connectors/{id}/users")).await?;
    let mut by_status = BTreeMap::new();
    for user in &users {
        *by_status
            .entry(user["status"].as_str().unwrap_or_default().to_owned())
            .or_insert(0) += 1;
    }
    let groups = list_all(http, &format!("{api}/connectors/{id}/groups")).await?;
    let memberships = groups
        .iter()
        .filter_map(|group| group["memberCount"].as_u64())
        .sum();
    Ok(Mirrored {
        users: users.len(),
        by_status,
        groups: groups.len(),
        memberships,
    })
}

async fn list_all(http: &reqwest::Client, url: &str) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    let mut next = format!("{url}?limit=1000");
    loop {
        let page = call(http, "GET", &next, None).await?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["nextCursor"].as_str() {
            Some(cursor) => next = format!("{url}?limit=1000&cursor={cursor}"),
            None => return Ok(items),
        }
    }
}

fn format_statuses(by_status: &BTreeMap<String, usize>) -> String {
    by_status
        .iter()
        .map(|(status, count)| format!("{status} {count}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn compare_with_fake(
    http: &reqwest::Client,
    summary_url: &str,
    mirrored: &Mirrored,
) -> Result<(), String> {
    let summary = call(http, "GET", summary_url, None).await?;
    let expected_users = summary["users"].as_u64().unwrap_or(0) as usize;
    let expected_groups = summary["groups"].as_u64().unwrap_or(0) as usize;
    let expected_memberships = summary["memberships"].as_u64().unwrap_or(0);
    let expected_by_status: BTreeMap<String, usize> = summary["usersByStatus"]
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(status, count)| (status.clone(), count.as_u64().unwrap_or(0) as usize))
                .collect()
        })
        .unwrap_or_default();
    println!(
        "Fake Okta org holds  {expected_users} users ({}), {expected_groups} groups, {expected_memberships} memberships",
        format_statuses(&expected_by_status)
    );
    let equal = expected_users == mirrored.users
        && expected_groups == mirrored.groups
        && expected_memberships == mirrored.memberships
        && expected_by_status == mirrored.by_status;
    if equal {
        println!("The mirror matches the Okta org exactly.");
        Ok(())
    } else {
        Err("the mirror's counts differ from the fake Okta org's".into())
    }
}

async fn set_demo_schedule(
    http: &reqwest::Client,
    schedules_api: &str,
    id: &str,
) -> Result<(), String> {
    let schedule = call(
        http,
        "PUT",
        &format!("{schedules_api}/connectors/{id}/schedule"),
        Some(json!({"interval": {"every": 1, "unit": "hours"}, "timezone": "UTC"})),
    )
    .await?;
    println!();
    println!(
        "Hourly schedule set: {} ({}), next runs:",
        schedule["scheduleExpression"].as_str().unwrap_or_default(),
        schedule["timezone"].as_str().unwrap_or_default()
    );
    for run in schedule["nextRuns"].as_array().cloned().unwrap_or_default() {
        println!("  {}", run.as_str().unwrap_or_default());
    }
    Ok(())
}
