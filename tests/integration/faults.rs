//! Fault matrix: Okta misbehaving (429 storms, 5xx bursts, connections cut
//! mid-page, truncated JSON, responses slower than the client timeout), a
//! sync invocation cut at several points, DynamoDB unreachable, and two
//! triggers at once. Every test checks that the run either finishes with
//! the exact mirror or fails with a clear code, that no user is marked
//! removed because of the fault, and that the next run converges.
//! docs/reliability.md lists the matrix.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use fake_okta::{generate_org, Config, FakeOkta, Fault, FaultKind, OrgSpec, UserStatus};
use harness::proxy::ProxyMode;
use harness::Stack;
use lambda_http::http::StatusCode;
use okta_sync::records::{Run, RunStatus};
use okta_sync::sync::{self, SyncDeps, SyncEvent};
use serde_json::json;

/// Users of the test org: two users pages at Okta's 200 a page, and few
/// groups, because moto responds slowly on a busy machine.
const USERS: usize = 210;
const GROUPS: usize = 8;

async fn fake_okta(seed: u64, groups: usize) -> FakeOkta {
    FakeOkta::start(Config::new(generate_org(&OrgSpec::new(
        seed, USERS, groups,
    ))))
    .await
    .expect("fake Okta started")
}

/// What the mirror holds, read through the API.
#[derive(Debug, PartialEq)]
struct Mirror {
    /// Users without `removedAt`: id to (status, profile as JSON text).
    users: BTreeMap<String, (String, String)>,
    /// Ids of users marked removed.
    removed_users: BTreeSet<String>,
    /// Groups without `removedAt`: id to profile as JSON text.
    groups: BTreeMap<String, String>,
    /// (group id, user id) pairs.
    memberships: BTreeSet<(String, String)>,
}

/// Users in the mirror without `removedAt` (id to status and profile as
/// JSON text), and the ids of users marked removed.
async fn read_users(
    stack: &Stack,
    connector: &str,
) -> (BTreeMap<String, (String, String)>, BTreeSet<String>) {
    let mut users = BTreeMap::new();
    let mut removed_users = BTreeSet::new();
    for user in stack
        .list_all(&format!(
            "/connectors/{connector}/users?includeRemoved=true"
        ))
        .await
    {
        let id = user["id"].as_str().unwrap_or_default().to_owned();
        if user["removedAt"].is_string() {
            removed_users.insert(id);
        } else {
            let status = user["status"].as_str().unwrap_or_default().to_owned();
            users.insert(id, (status, user["profile"].to_string()));
        }
    }
    (users, removed_users)
}

async fn read_mirror(stack: &Stack, connector: &str) -> Mirror {
    let (users, removed_users) = read_users(stack, connector).await;
    let mut groups = BTreeMap::new();
    let mut memberships = BTreeSet::new();
    for group in stack
        .list_all(&format!("/connectors/{connector}/groups"))
        .await
    {
        let id = group["id"].as_str().unwrap_or_default().to_owned();
        for member in stack
            .list_all(&format!("/connectors/{connector}/groups/{id}/members"))
            .await
        {
            let user_id = member["id"].as_str().unwrap_or_default().to_owned();
            memberships.insert((id.clone(), user_id));
        }
        groups.insert(id, group["profile"].to_string());
    }
    Mirror {
        users,
        removed_users,
        groups,
        memberships,
    }
}

/// Checks that the mirror contains exactly the fake Okta's org: the same
/// users with the same status and profile, groups and memberships.
async fn assert_exact_mirror(stack: &Stack, connector: &str, okta: &FakeOkta) -> Mirror {
    let mirror = read_mirror(stack, connector).await;
    let org = okta.org_snapshot();
    let base = okta.base_url();

    let users: BTreeMap<String, (String, String)> = org
        .users()
        .map(|user| {
            let json = user.to_json(&base);
            let status = json["status"].as_str().unwrap_or_default().to_owned();
            (user.id.clone(), (status, json["profile"].to_string()))
        })
        .collect();
    let groups: BTreeMap<String, String> = org
        .groups()
        .map(|group| {
            (
                group.id.clone(),
                group.to_json(&base, false)["profile"].to_string(),
            )
        })
        .collect();
    let mut memberships = BTreeSet::new();
    for user in org.users() {
        for group_id in org.groups_of(&user.id) {
            memberships.insert((group_id, user.id.clone()));
        }
    }

    assert_eq!(
        mirror.users.keys().collect::<Vec<_>>(),
        users.keys().collect::<Vec<_>>(),
        "user ids"
    );
    assert!(mirror.users == users, "user statuses or profiles differ");
    assert_eq!(mirror.groups, groups, "groups");
    assert_eq!(mirror.memberships, memberships, "memberships");
    mirror
}

/// A synced connector and an org changed since: one profile edited, one
/// user deactivated, one created, one deleted (so the next full run must
/// mark exactly that one removed), one membership added and one removed.
struct Scenario {
    okta: FakeOkta,
    stack: Stack,
    connector: String,
    /// The user deleted in Okta since the first sync.
    deleted_user: String,
}

impl Scenario {
    async fn new(seed: u64) -> Scenario {
        Self::build(seed, GROUPS, Stack::new().await).await
    }

    async fn with_stack(seed: u64, stack: Stack) -> Scenario {
        Self::build(seed, GROUPS, stack).await
    }

    async fn build(seed: u64, groups: usize, stack: Stack) -> Scenario {
        let okta = fake_okta(seed, groups).await;
        let connector = stack.create_connector(&okta).await;
        let first = stack.sync_now(&connector).await;
        // A first run marks nothing removed, so no user is marked removed
        // before the faulted run.
        assert_eq!(first.status, RunStatus::Succeeded, "first run: {first:?}");

        let org = okta.org_snapshot();
        let mut active = org
            .users()
            .filter(|user| user.status == UserStatus::Active)
            .map(|user| user.id.clone());
        let edited = active.next().expect("an active user");
        let deactivated = active.next().expect("an active user");
        let deleted_user = active.next().expect("an active user");
        let joining = active.next().expect("an active user");
        let group = org
            .groups()
            .find(|group| group.id != org.everyone_id() && !group.members.contains(&joining))
            .expect("a group without the joining user")
            .id
            .clone();
        let shrinking = org
            .groups()
            .find(|candidate| {
                candidate.id != org.everyone_id()
                    && candidate.id != group
                    && candidate.members.len() >= 2
            })
            .expect("a group with members");
        let leaving = shrinking
            .members
            .iter()
            .find(|member| **member != deleted_user)
            .cloned()
            .expect("a member");
        let shrinking = shrinking.id.clone();
        okta.update_user_profile(&edited, "department", json!("Fault Tolerance"))
            .expect("profile edited");
        okta.set_user_status(&deactivated, UserStatus::Deprovisioned)
            .expect("user deactivated");
        okta.create_user(
            json!({"login": "late.joiner@example.com", "email": "late.joiner@example.com"}),
        )
        .expect("user created");
        okta.delete_user(&deleted_user).expect("user deleted");
        okta.add_member(&group, &joining).expect("member added");
        okta.remove_member(&shrinking, &leaving)
            .expect("member removed");
        okta.clear_requests();
        Scenario {
            okta,
            stack,
            connector,
            deleted_user,
        }
    }

    /// Queues a manual run and returns its event, which the test delivers.
    /// The queue keeps the message, as SQS does until it is deleted.
    async fn queue_run(&self) -> SyncEvent {
        let (status, body) = self
            .stack
            .request(
                "POST",
                &format!("/connectors/{}/sync", self.connector),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "start sync: {body}");
        serde_json::from_value(json!({
            "connectorId": self.connector,
            "runId": body["runId"],
            "trigger": "manual",
            "mode": "full",
        }))
        .expect("sync event")
    }

    /// Checks that the faulted run marked no user removed.
    async fn assert_no_removals(&self) {
        let (users, removed_users) = read_users(&self.stack, &self.connector).await;
        assert_eq!(
            removed_users,
            BTreeSet::new(),
            "a fault must not mark users removed"
        );
        assert!(
            users.contains_key(&self.deleted_user),
            "the deleted user stays until a complete run"
        );
    }

    /// Checks a finished run: succeeded, the exact mirror, and only the user
    /// deleted in Okta newly marked removed.
    async fn assert_converged(&self, run: &Run) {
        assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
        assert_eq!(run.counts.users.removed, 1, "run: {run:?}");
        let mirror = assert_exact_mirror(&self.stack, &self.connector, &self.okta).await;
        assert_eq!(
            mirror.removed_users,
            BTreeSet::from([self.deleted_user.clone()]),
            "removed users"
        );
    }

    /// Runs a fresh manual sync, after the faults are cleared, and checks
    /// that it converges.
    async fn assert_next_run_converges(&mut self) {
        self.okta.clear_faults();
        self.stack.sync.okta = harness::test_okta_options();
        let run = self.stack.sync_now(&self.connector).await;
        self.assert_converged(&run).await;
    }

    /// Checks a run that failed because of a fault: the expected code and no
    /// user marked removed.
    async fn assert_failed_cleanly(&self, run: &Run, code: &str) {
        assert_eq!(run.status, RunStatus::Failed, "run: {run:?}");
        let error = run.error.as_ref().expect("a failed run has an error");
        assert_eq!(error.code, code, "error: {error:?}");
        assert!(!error.message.is_empty());
        assert_eq!(run.counts.users.removed, 0);
        assert_eq!(run.counts.groups.removed, 0);
        self.assert_no_removals().await;
    }

    /// Simulates the five minutes after which a dead invocation's lease
    /// lapses, by moving the lease's expiry into the past.
    async fn lapse_lease(&self) {
        aws_sdk_dynamodb::Client::new(&self.stack.sdk)
            .update_item()
            .table_name(&self.stack.resources.table)
            .key("pk", attr(&format!("c#{}", self.connector)))
            .key("sk", attr("lease"))
            .update_expression("SET leaseUntil = :past")
            .expression_attribute_values(
                ":past",
                aws_sdk_dynamodb::types::AttributeValue::N("1".into()),
            )
            .send()
            .await
            .expect("lease moved into the past");
    }

    /// Returns the first group that is not Everyone, for faults on one member
    /// list.
    fn some_group(&self) -> String {
        let org = self.okta.org_snapshot();
        let group = org
            .groups()
            .find(|group| group.id != org.everyone_id())
            .expect("a group")
            .id
            .clone();
        group
    }
}

fn attr(value: &str) -> aws_sdk_dynamodb::types::AttributeValue {
    aws_sdk_dynamodb::types::AttributeValue::S(value.to_owned())
}

/// Runs `event` in a task, as one sync invocation, and drops the task as
/// soon as `cut` holds, as a Lambda timeout or crash stops an invocation
/// between two awaits. Panics if the run ends before the cut point.
async fn run_and_cut(deps: &SyncDeps, event: SyncEvent, cut: impl Fn() -> bool) {
    let deps = deps.clone();
    let task = tokio::spawn(async move { sync::handle_event(&deps, event, None).await });
    while !cut() {
        assert!(!task.is_finished(), "the run ended before the cut point");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    let outcome = task.await;
    assert!(
        outcome.as_ref().is_err_and(|error| error.is_cancelled()),
        "the run was cut, not finished: {outcome:?}"
    );
}

/// Holds a request long enough for the test to cut the run while it waits.
fn hold() -> FaultKind {
    FaultKind::Delay(Duration::from_secs(30))
}

// --- Okta faults ---------------------------------------------------------

#[tokio::test]
async fn throttle_storm_recovers() {
    let scenario = Scenario::new(101).await;
    let okta = &scenario.okta;
    okta.inject(
        Fault::new("/api/v1/users", FaultKind::Status429)
            .after(1)
            .times(2),
    );
    // Member lists are read 8 at a time, so these 429s arrive together.
    okta.inject(Fault::new("/api/v1/groups/", FaultKind::Status429).times(8));

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario.assert_converged(&run).await;
    assert_eq!(run.okta.throttled as usize, okta.faults_applied());
    assert_eq!(okta.faults_applied(), 10);
}

#[tokio::test]
async fn throttle_storm_past_limit_fails_cleanly() {
    let mut scenario = Scenario::new(102).await;
    scenario.stack.sync.okta.max_throttle_waits = 1;
    scenario
        .okta
        .inject(Fault::new("/api/v1/users", FaultKind::Status429).times(2));

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario.assert_failed_cleanly(&run, "okta_throttled").await;
    scenario.assert_next_run_converges().await;
}

#[tokio::test]
async fn server_error_burst_recovers() {
    let scenario = Scenario::new(103).await;
    let okta = &scenario.okta;
    okta.inject(
        Fault::new("/api/v1/users", FaultKind::Status500)
            .after(1)
            .times(2),
    );
    okta.inject(Fault::new("/api/v1/groups/", FaultKind::Status503).times(3));

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario.assert_converged(&run).await;
    assert!(run.okta.retries >= 5, "retries: {}", run.okta.retries);
}

#[tokio::test]
async fn server_errors_past_retries_fail_cleanly() {
    let mut scenario = Scenario::new(104).await;
    scenario.stack.sync.okta.max_attempts = 2;
    let group = scenario.some_group();
    scenario.okta.inject(
        Fault::new(
            format!("/api/v1/groups/{group}/users"),
            FaultKind::Status500,
        )
        .times(2),
    );

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario
        .assert_failed_cleanly(&run, "okta_unavailable")
        .await;
    scenario.assert_next_run_converges().await;
}

#[tokio::test]
async fn reset_mid_page_recovers() {
    let scenario = Scenario::new(105).await;
    let okta = &scenario.okta;
    let group = scenario.some_group();
    okta.inject(Fault::new("/api/v1/users", FaultKind::ResetConnection).after(1));
    okta.inject(Fault::new(
        format!("/api/v1/groups/{group}/users"),
        FaultKind::ResetConnection,
    ));

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario.assert_converged(&run).await;
    assert_eq!(okta.faults_applied(), 2);
    assert!(run.okta.retries >= 2, "retries: {}", run.okta.retries);
}

#[tokio::test]
async fn reset_past_retries_fails_cleanly() {
    let mut scenario = Scenario::new(106).await;
    scenario.stack.sync.okta.max_attempts = 2;
    scenario.okta.inject(
        Fault::new("/api/v1/users", FaultKind::ResetConnection)
            .after(1)
            .times(2),
    );

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario
        .assert_failed_cleanly(&run, "okta_unreachable")
        .await;
    scenario.assert_next_run_converges().await;
}

#[tokio::test]
async fn truncated_json_recovers() {
    let scenario = Scenario::new(107).await;
    let okta = &scenario.okta;
    let group = scenario.some_group();
    okta.inject(Fault::new("/api/v1/users", FaultKind::TruncatedJson));
    okta.inject(Fault::new(
        format!("/api/v1/groups/{group}/users"),
        FaultKind::TruncatedJson,
    ));

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario.assert_converged(&run).await;
    assert_eq!(okta.faults_applied(), 2);
}

#[tokio::test]
async fn truncated_json_past_retries_fails_cleanly() {
    let mut scenario = Scenario::new(108).await;
    scenario.stack.sync.okta.max_attempts = 2;
    // The groups list is the first request under this prefix, and its retry
    // comes before any member list, so both faults hit the groups list.
    scenario
        .okta
        .inject(Fault::new("/api/v1/groups", FaultKind::TruncatedJson).times(2));

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario
        .assert_failed_cleanly(&run, "okta_invalid_response")
        .await;
    scenario.assert_next_run_converges().await;
}

#[tokio::test]
async fn slow_answer_past_timeout_recovers() {
    let mut scenario = Scenario::new(109).await;
    scenario.stack.sync.okta.request_timeout = Duration::from_secs(3);
    scenario
        .okta
        .inject(Fault::new("/api/v1/users", FaultKind::Delay(Duration::from_secs(6))).after(1));

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario.assert_converged(&run).await;
    assert!(run.okta.retries >= 1, "retries: {}", run.okta.retries);
}

#[tokio::test]
async fn slow_answers_past_retries_fail_cleanly() {
    let mut scenario = Scenario::new(110).await;
    scenario.stack.sync.okta.request_timeout = Duration::from_secs(3);
    scenario.stack.sync.okta.max_attempts = 2;
    scenario
        .okta
        .inject(Fault::new("/api/v1/groups", FaultKind::Delay(Duration::from_secs(6))).times(2));

    let run = scenario.stack.sync_now(&scenario.connector).await;

    scenario
        .assert_failed_cleanly(&run, "okta_unreachable")
        .await;
    let message = &run.error.as_ref().expect("error").message;
    assert!(
        message.contains("2 attempts") || message.contains("timed out"),
        "{message}"
    );
    scenario.assert_next_run_converges().await;
}

// --- Invocations cut short -----------------------------------------------

/// Cuts a run while Okta holds the request `fault` matches, then lets the
/// lease lapse and delivers the run's message again, as SQS does after the
/// visibility timeout. The same run resumes and converges.
async fn cut_and_resume(scenario: &Scenario, fault: Fault) {
    let event = scenario.queue_run().await;
    let run_id = event.run_id.clone().expect("run id");
    scenario.okta.inject(fault);
    let okta = &scenario.okta;

    run_and_cut(&scenario.stack.sync, event, || okta.faults_applied() == 1).await;

    scenario.assert_no_removals().await;
    scenario.okta.clear_faults();
    scenario.lapse_lease().await;
    let runs = scenario.stack.run_queued().await;
    assert_eq!(runs.len(), 1, "the redelivered message ran: {runs:?}");
    assert_eq!(runs[0].run_id, run_id, "the same run resumed");
    scenario.assert_converged(&runs[0]).await;
}

#[tokio::test]
async fn cut_during_users_resumes() {
    let scenario = Scenario::new(111).await;
    cut_and_resume(&scenario, Fault::new("/api/v1/users", hold()).after(1)).await;
}

#[tokio::test]
async fn cut_during_groups_resumes() {
    let scenario = Scenario::new(112).await;
    cut_and_resume(&scenario, Fault::new("/api/v1/groups", hold())).await;
}

#[tokio::test]
async fn cut_during_memberships_resumes() {
    let scenario = Scenario::new(113).await;
    // The first member lists are written before the cut.
    cut_and_resume(&scenario, Fault::new("/api/v1/groups/", hold()).after(3)).await;
}

#[tokio::test]
async fn cut_during_removals_resumes() {
    let (stack, proxy) = Stack::behind_proxy().await;
    let scenario = Scenario::with_stack(114, stack).await;
    let event = scenario.queue_run().await;
    let run_id = event.run_id.clone().expect("run id");
    // Hold the first "mark removed" write, then cut the run while it waits.
    proxy.trip_on("SET removedAt", ProxyMode::Stall);

    run_and_cut(&scenario.stack.sync, event, || proxy.tripped() == 1).await;

    proxy.set_mode(ProxyMode::Pass);
    scenario.assert_no_removals().await;
    scenario.lapse_lease().await;
    let runs = scenario.stack.run_queued().await;
    assert_eq!(runs.len(), 1, "the redelivered message ran: {runs:?}");
    assert_eq!(runs[0].run_id, run_id, "the same run resumed");
    scenario.assert_converged(&runs[0]).await;
}

#[tokio::test]
async fn cut_continuation_resumes_from_checkpoint() {
    // More groups than the 8 read at once, so the first invocation pauses
    // with groups left for its continuation.
    let scenario = Scenario::build(115, 24, Stack::new().await).await;
    let event = scenario.queue_run().await;
    let run_id = event.run_id.clone().expect("run id");
    // The first invocation reaches its pause time at once, saves a
    // checkpoint and queues a continuation.
    let deadline = std::time::Instant::now() + sync::PAUSE_BEFORE_DEADLINE;
    let paused = sync::handle_event(&scenario.stack.sync, event.clone(), Some(deadline))
        .await
        .expect("handled")
        .expect("run");
    assert_eq!(paused.progress.phase, "continuing", "run: {paused:?}");
    let okta = &scenario.okta;
    okta.inject(Fault::new("/api/v1/groups/", hold()).after(2));

    // The continuation is cut while it reads member lists.
    run_and_cut(&scenario.stack.sync, event, || okta.faults_applied() == 1).await;

    scenario.assert_no_removals().await;
    okta.clear_faults();
    scenario.lapse_lease().await;
    let runs = scenario.stack.run_queued().await;
    let finished: Vec<&Run> = runs
        .iter()
        .filter(|run| run.status == RunStatus::Succeeded)
        .collect();
    assert_eq!(finished.len(), 1, "runs: {runs:?}");
    assert_eq!(finished[0].run_id, run_id, "the same run resumed");
    scenario.assert_converged(finished[0]).await;
}

// --- DynamoDB unreachable ------------------------------------------------

#[tokio::test]
async fn dynamo_down_at_start_then_converges() {
    let (stack, proxy) = Stack::behind_proxy().await;
    let scenario = Scenario::with_stack(116, stack).await;
    let event = scenario.queue_run().await;
    proxy.set_mode(ProxyMode::Refuse);

    let outcome = sync::handle_event(&scenario.stack.sync, event, None).await;

    let error = outcome.expect_err("the run cannot start without DynamoDB");
    assert_eq!(error.code(), "store_error", "{error}");
    assert!(error.to_string().contains("DynamoDB"), "{error}");
    assert!(proxy.refused() > 0);
    proxy.set_mode(ProxyMode::Pass);
    scenario.assert_no_removals().await;
    // SQS delivers the message again; the queued run's lease is its own.
    let runs = scenario.stack.run_queued().await;
    assert_eq!(runs.len(), 1, "runs: {runs:?}");
    scenario.assert_converged(&runs[0]).await;
}

#[tokio::test]
async fn dynamo_down_mid_run_then_converges() {
    let (stack, proxy) = Stack::behind_proxy().await;
    let scenario = Scenario::with_stack(117, stack).await;
    let event = scenario.queue_run().await;
    let run_id = event.run_id.clone().expect("run id");
    // DynamoDB goes away at the first membership write or read.
    proxy.trip_on("#members#", ProxyMode::Refuse);

    let outcome = sync::handle_event(&scenario.stack.sync, event, None).await;

    let error = outcome.expect_err("the run cannot record its outcome without DynamoDB");
    assert_eq!(error.code(), "store_error", "{error}");
    assert_eq!(proxy.tripped(), 1);
    proxy.set_mode(ProxyMode::Pass);
    scenario.assert_no_removals().await;
    scenario.lapse_lease().await;
    let runs = scenario.stack.run_queued().await;
    assert_eq!(runs.len(), 1, "runs: {runs:?}");
    assert_eq!(runs[0].run_id, run_id, "the same run resumed");
    scenario.assert_converged(&runs[0]).await;
}

// --- Concurrent triggers -------------------------------------------------

#[tokio::test]
async fn two_triggers_at_once_run_once() {
    let scenario = Scenario::new(118).await;
    let manual = scenario.queue_run().await;
    let scheduled: SyncEvent =
        serde_json::from_value(json!({"connectorId": scenario.connector, "trigger": "schedule"}))
            .expect("event");
    let deps = &scenario.stack.sync;

    // The manual run, a duplicate delivery of it, and a scheduled trigger.
    let (first, duplicate, schedule) = tokio::join!(
        sync::handle_event(deps, manual.clone(), None),
        sync::handle_event(deps, manual.clone(), None),
        sync::handle_event(deps, scheduled, None),
    );

    let outcomes: Vec<Option<Run>> = [first, duplicate, schedule]
        .into_iter()
        .map(|outcome| outcome.expect("handled"))
        .collect();
    let succeeded: Vec<&Run> = outcomes
        .iter()
        .flatten()
        .filter(|run| run.status == RunStatus::Succeeded)
        .collect();
    assert_eq!(succeeded.len(), 1, "outcomes: {outcomes:?}");
    assert_eq!(Some(&succeeded[0].run_id), manual.run_id.as_ref());
    let ignored = outcomes[..2].iter().filter(|run| run.is_none()).count();
    assert_eq!(ignored, 1, "one delivery of the manual run is ignored");
    let schedule = outcomes[2].as_ref().expect("the scheduled trigger's run");
    assert_eq!(schedule.status, RunStatus::Skipped, "run: {schedule:?}");
    scenario.assert_converged(succeeded[0]).await;
    assert!(
        scenario.stack.run_queued().await.is_empty(),
        "the queued message finds its run finished"
    );
}

#[tokio::test]
async fn two_scheduled_triggers_run_once() {
    let scenario = Scenario::new(119).await;
    let scheduled = || -> SyncEvent {
        serde_json::from_value(json!({
            "connectorId": scenario.connector,
            "trigger": "schedule",
            "mode": "full",
        }))
        .expect("event")
    };
    let deps = &scenario.stack.sync;

    let (first, second) = tokio::join!(
        sync::handle_event(deps, scheduled(), None),
        sync::handle_event(deps, scheduled(), None),
    );

    let runs: Vec<Run> = [first, second]
        .into_iter()
        .map(|outcome| outcome.expect("handled").expect("a run record"))
        .collect();
    let statuses: BTreeSet<String> = runs.iter().map(|run| format!("{:?}", run.status)).collect();
    assert_eq!(
        statuses,
        BTreeSet::from(["Skipped".to_owned(), "Succeeded".to_owned()]),
        "runs: {runs:?}"
    );
    let winner = runs
        .iter()
        .find(|run| run.status == RunStatus::Succeeded)
        .expect("one run");
    scenario.assert_converged(winner).await;
}
