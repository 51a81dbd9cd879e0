//! `fake-okta`: serves a generated fake Okta org on 127.0.0.1 until SIGTERM
//! or SIGINT. Prints one JSON line with the address, token and org counts.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fake_okta::{generate_org, Config, FakeOkta, OrgSpec, RateLimits};
use serde_json::json;

/// Serve a generated fake Okta org on 127.0.0.1.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// TCP port on 127.0.0.1; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Number of users to generate.
    #[arg(long, default_value_t = 5000)]
    users: usize,
    /// Number of groups to generate, the Everyone group included.
    #[arg(long, default_value_t = 300)]
    groups: usize,
    /// Seed of the generated org; the same seed gives the same org.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Target number of memberships outside the Everyone group [default: 3 per user].
    #[arg(long)]
    memberships: Option<usize>,
    /// Share of users in DEPROVISIONED status, from 0 to 1.
    #[arg(long, default_value_t = 0.03)]
    deprovisioned_share: f64,
    /// Full-access API token [default: a random `fake-okta-token-…`].
    #[arg(long)]
    token: Option<String>,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Factor applied to every rate-limit bucket (per minute: 600 users, 500 groups, 120 logs,
    /// 1200 other).
    #[arg(long, default_value_t = 1.0)]
    rate_limit_scale: f64,
    /// Count requests and send rate-limit headers, but never reject with 429
    /// (this also turns off the concurrency limit).
    #[arg(long)]
    no_rate_limits: bool,
    /// Requests in flight above this number get 429.
    #[arg(long, default_value_t = 75)]
    max_concurrent: usize,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if !(0.0..=1.0).contains(&args.deprovisioned_share) {
        eprintln!(
            "invalid --deprovisioned-share {}: expected a number from 0 to 1",
            args.deprovisioned_share
        );
        return ExitCode::from(2);
    }
    if !(args.rate_limit_scale.is_finite() && args.rate_limit_scale > 0.0) {
        eprintln!(
            "invalid --rate-limit-scale {}: expected a positive number",
            args.rate_limit_scale
        );
        return ExitCode::from(2);
    }

    let spec = OrgSpec {
        seed: args.seed,
        users: args.users,
        groups: args.groups,
        deprovisioned_share: args.deprovisioned_share,
        memberships: args.memberships,
    };
    let started = std::time::Instant::now();
    let org = generate_org(&spec);
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        ?spec,
        "generated the org"
    );

    let mut config = Config::new(org);
    if let Some(token) = args.token {
        config.token = token;
    }
    config.latency = Duration::from_millis(args.latency_ms);
    config.rate_limits = RateLimits {
        enabled: !args.no_rate_limits,
        scale: args.rate_limit_scale,
        ..RateLimits::default()
    };
    config.max_concurrent = args.max_concurrent;

    let fake = match FakeOkta::start_on_port(config, args.port).await {
        Ok(fake) => fake,
        Err(error) => {
            eprintln!(
                "failed to bind 127.0.0.1:{}: {error}; pick a free port or pass --port 0",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let summary = fake.summary();
    let line = json!({
        "domain": fake.domain(),
        "baseUrl": fake.base_url(),
        "token": fake.token(),
        "users": summary.users,
        "groups": summary.groups,
        "memberships": summary.memberships,
        "usersByStatus": summary.users_by_status,
    });
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        eprintln!("failed to write the start-up line to stdout");
        return ExitCode::FAILURE;
    }
    drop(stdout);

    wait_for_signal().await;
    tracing::info!("stopping on signal");
    fake.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                return;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM, waiting for SIGINT only")
            }
        }
    }
    if let Err(error) = tokio::signal::ctrl_c().await {
        tracing::error!(%error, "cannot listen for SIGINT, stopping now");
    }
}
