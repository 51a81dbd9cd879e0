//! Full syncs against the fake Okta and moto, through the real handlers.

use std::collections::{BTreeMap, BTreeSet};

use fake_okta::{generate_org, Config, FakeOkta, Fault, FaultKind, OrgSpec, UserStatus};
use harness::Stack;
use lambda_http::http::StatusCode;
use okta_sync::records::RunStatus;
use serde_json::{json, Value};

pub(crate) async fn fake_okta(spec: OrgSpec) -> FakeOkta {
    FakeOkta::start(Config::new(generate_org(&spec)))
        .await
        .expect("fake Okta started")
}

/// Mirror items only (users, groups, memberships), without runs, the
/// connector record or the lease, which every run writes.
async fn mirror_dump(stack: &Stack) -> Vec<String> {
    stack
        .dump_table()
        .await
        .into_iter()
        .filter(|row| {
            row.contains("#user") || row.contains("#group\"") || row.contains("#members#")
        })
        .collect()
}

async fn users_by_id(stack: &Stack, connector: &str, query: &str) -> BTreeMap<String, Value> {
    stack
        .list_all(&format!("/connectors/{connector}/users{query}"))
        .await
        .into_iter()
        .map(|user| (user["id"].as_str().unwrap_or_default().to_owned(), user))
        .collect()
}

pub(crate) async fn memberships(stack: &Stack, connector: &str) -> BTreeSet<(String, String)> {
    let mut pairs = BTreeSet::new();
    for group in stack
        .list_all(&format!("/connectors/{connector}/groups"))
        .await
    {
        let group_id = group["id"].as_str().unwrap_or_default().to_owned();
        for member in stack
            .list_all(&format!(
                "/connectors/{connector}/groups/{group_id}/members"
            ))
            .await
        {
            pairs.insert((
                group_id.clone(),
                member["id"].as_str().unwrap_or_default().to_owned(),
            ));
        }
    }
    pairs
}

pub(crate) fn okta_memberships(okta: &FakeOkta) -> BTreeSet<(String, String)> {
    let org = okta.org_snapshot();
    let mut pairs = BTreeSet::new();
    for user in org.users() {
        for group_id in org.groups_of(&user.id) {
            pairs.insert((group_id, user.id.clone()));
        }
    }
    pairs
}

#[tokio::test]
async fn full_sync_mirrors_org_exactly() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    let org = okta.org_snapshot();
    let users = users_by_id(&stack, &connector, "").await;
    let expected: BTreeSet<String> = org.users().map(|user| user.id.clone()).collect();
    assert_eq!(users.keys().cloned().collect::<BTreeSet<_>>(), expected);
    let groups: BTreeSet<String> = stack
        .list_all(&format!("/connectors/{connector}/groups"))
        .await
        .iter()
        .map(|group| group["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    let expected_groups: BTreeSet<String> = org.groups().map(|group| group.id.clone()).collect();
    assert_eq!(groups, expected_groups);
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
    assert_eq!(run.counts.users.seen as usize, org.user_count());
    assert_eq!(run.counts.users.created as usize, org.user_count());
    assert!(run.okta.calls > 0);
}

#[tokio::test]
async fn deprovisioned_users_are_mirrored() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let deprovisioned: BTreeSet<String> = okta
        .org_snapshot()
        .users()
        .filter(|user| user.status == UserStatus::Deprovisioned)
        .map(|user| user.id.clone())
        .collect();
    assert!(
        !deprovisioned.is_empty(),
        "the small org has DEPROVISIONED users"
    );

    stack.sync_now(&connector).await;

    let mirrored = users_by_id(&stack, &connector, "?status=DEPROVISIONED").await;
    assert_eq!(
        mirrored.keys().cloned().collect::<BTreeSet<_>>(),
        deprovisioned
    );
}

#[tokio::test]
async fn many_pages_follow_link_headers() {
    let okta = fake_okta(OrgSpec::new(7, 1050, 4)).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;

    let run = stack.sync_now(&connector).await;

    let user_pages = okta
        .requests()
        .iter()
        .filter(|request| request.path == "/api/v1/users")
        .count();
    assert_eq!(user_pages, 6, "1050 users at 200 a page");
    assert_eq!(run.counts.users.seen, 1050);
    assert_eq!(users_by_id(&stack, &connector, "").await.len(), 1050);
}

#[tokio::test]
async fn profiles_kept_exactly() {
    let okta = fake_okta(OrgSpec::small()).await;
    let special = okta
        .create_user(json!({
            "login": "zoë.ångström+test@example.com",
            "email": "zoë.ångström+test@example.com",
            "firstName": "Zoë 🚀",
            "lastName": "李 محمد",
            "integer": 42,
            "float": 1.5,
            "wholeFloat": 2.0,
            "big": 9007199254740993u64,
            "flag": true,
            "list": ["a", "ü", 3],
            "nested": {"k": [null, {"x": -0.25}]},
            "nothing": null,
        }))
        .expect("user created");
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;

    stack.sync_now(&connector).await;

    let org = okta.org_snapshot();
    for user in org.users() {
        let okta_json = user.to_json(&okta.base_url());
        let (status, mirrored) = stack
            .request(
                "GET",
                &format!("/connectors/{connector}/users/{}", user.id),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            mirrored["profile"].to_string(),
            okta_json["profile"].to_string(),
            "profile of {}",
            user.id
        );
        assert_eq!(mirrored["status"], okta_json["status"]);
        assert_eq!(mirrored["lastLogin"], okta_json["lastLogin"]);
    }
    let (_, user) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/users/{special}"),
            None,
        )
        .await;
    assert_eq!(user["profile"]["wholeFloat"].to_string(), "2.0");
    assert_eq!(user["profile"]["big"].to_string(), "9007199254740993");
    assert_eq!(user["firstName"], "Zoë 🚀");
}

#[tokio::test]
async fn throttle_mid_sync_recovers() {
    let okta = fake_okta(OrgSpec::new(3, 600, 5)).await;
    okta.inject(
        Fault::new("/api/v1/users", FaultKind::Status429)
            .after(1)
            .times(1),
    );
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    assert_eq!(run.okta.throttled, 1);
    assert_eq!(run.counts.users.seen, 600);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let okta = fake_okta(OrgSpec::small()).await;
    okta.inject(Fault::new("/api/v1/groups", FaultKind::Status500).times(2));
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    assert!(run.okta.retries >= 2, "retries: {}", run.okta.retries);
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
}

#[tokio::test]
async fn invalid_token_fails_without_changes() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    stack.sync_now(&connector).await;
    let before = mirror_dump(&stack).await;
    okta.revoke_token(&okta.token());
    okta.delete_user(
        &okta
            .org_snapshot()
            .users()
            .next()
            .expect("a user")
            .id
            .clone(),
    )
    .expect("user deleted");

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("an error on the run");
    assert_eq!(error.code, "okta_invalid_token");
    assert!(
        error.message.contains("Security > API > Tokens"),
        "{}",
        error.message
    );
    assert_eq!(mirror_dump(&stack).await, before);
}

#[tokio::test]
async fn unchanged_resync_writes_nothing() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    stack.sync_now(&connector).await;
    let before = mirror_dump(&stack).await;

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(
        run.counts.users.created + run.counts.users.updated + run.counts.users.removed,
        0
    );
    assert_eq!(
        run.counts.groups.created + run.counts.groups.updated + run.counts.groups.removed,
        0
    );
    assert_eq!(
        run.counts.memberships.added + run.counts.memberships.removed,
        0
    );
    assert_eq!(mirror_dump(&stack).await, before);
}

#[tokio::test]
async fn okta_removals_are_reflected() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    stack.sync_now(&connector).await;
    let first_sync = users_by_id(&stack, &connector, "").await;

    let org = okta.org_snapshot();
    let deleted_user = org.users().next().expect("a user").id.clone();
    let group = org
        .groups()
        .find(|group| group.id != org.everyone_id() && !group.members.is_empty())
        .expect("a group with members");
    let (group_id, member) = (
        group.id.clone(),
        group.members.iter().next().cloned().expect("member"),
    );
    let deleted_group = org
        .groups()
        .find(|candidate| candidate.id != org.everyone_id() && candidate.id != group_id)
        .expect("another group")
        .id
        .clone();
    okta.delete_user(&deleted_user).expect("user deleted");
    okta.remove_member(&group_id, &member)
        .expect("member removed");
    okta.delete_group(&deleted_group).expect("group deleted");

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    assert_eq!(run.counts.users.removed, 1);
    assert_eq!(run.counts.groups.removed, 1);
    let listed = users_by_id(&stack, &connector, "").await;
    assert!(
        !listed.contains_key(&deleted_user),
        "removed users leave the list"
    );
    let with_removed = users_by_id(&stack, &connector, "?includeRemoved=true").await;
    assert!(with_removed[&deleted_user]["removedAt"].is_string());
    let (status, user) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/users/{deleted_user}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        user["key"], first_sync[&deleted_user]["key"],
        "the key survives removal"
    );
    let (_, removed_group) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/groups/{deleted_group}"),
            None,
        )
        .await;
    assert!(removed_group["removedAt"].is_string());
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
}

#[tokio::test]
async fn returning_user_keeps_key() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    stack.sync_now(&connector).await;
    let user_id = okta
        .org_snapshot()
        .users()
        .next()
        .expect("a user")
        .id
        .clone();
    let (_, before) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/users/{user_id}"),
            None,
        )
        .await;
    okta.set_user_status(&user_id, UserStatus::Deprovisioned)
        .expect("deactivated");
    stack.sync_now(&connector).await;
    okta.set_user_status(&user_id, UserStatus::Active)
        .expect("reactivated");

    stack.sync_now(&connector).await;

    let (_, after) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/users/{user_id}"),
            None,
        )
        .await;
    assert_eq!(after["status"], "ACTIVE");
    assert_eq!(after["key"], before["key"]);
    assert_eq!(after["firstSyncedAt"], before["firstSyncedAt"]);
}

#[tokio::test]
async fn forbidden_group_keeps_members_with_warning() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    stack.sync_now(&connector).await;
    let org = okta.org_snapshot();
    let group = org
        .groups()
        .find(|group| group.id != org.everyone_id() && !group.members.is_empty())
        .expect("a group with members");
    let member = group.members.iter().next().cloned().expect("member");
    okta.remove_member(&group.id, &member)
        .expect("member removed");
    okta.inject(Fault::new(
        format!("/api/v1/groups/{}/users", group.id),
        FaultKind::Status403,
    ));
    let before = memberships(&stack, &connector).await;

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    assert_eq!(run.warnings.len(), 1, "warnings: {:?}", run.warnings);
    assert!(run.warnings[0].contains(&group.id));
    assert_eq!(
        memberships(&stack, &connector).await,
        before,
        "known members are kept"
    );
}

#[tokio::test]
async fn scoped_token_mirrors_what_it_sees() {
    let okta = fake_okta(OrgSpec::small()).await;
    let org = okta.org_snapshot();
    let group = org
        .groups()
        .find(|group| group.id != org.everyone_id() && group.members.len() >= 2)
        .expect("a group with members");
    let scoped = "scoped-token-0123456789abcdefghij";
    okta.add_scoped_token(scoped, std::slice::from_ref(&group.id));
    let stack = Stack::new().await;
    let (status, body) = stack
        .request(
            "POST",
            "/connectors",
            Some(json!({"name": "Scoped", "domain": okta.domain(), "apiToken": scoped})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let connector = body["id"].as_str().expect("id").to_owned();

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    let users: BTreeSet<String> = users_by_id(&stack, &connector, "")
        .await
        .into_keys()
        .collect();
    let expected: BTreeSet<String> = group.members.iter().cloned().collect();
    assert_eq!(users, expected);
    let groups = stack
        .list_all(&format!("/connectors/{connector}/groups"))
        .await;
    assert_eq!(groups.len(), 1);
}

#[tokio::test]
async fn second_sync_while_queued_conflicts() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let (status, first) = stack
        .request("POST", &format!("/connectors/{connector}/sync"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (status, second) = stack
        .request("POST", &format!("/connectors/{connector}/sync"), None)
        .await;

    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(second["code"], "sync_running");
    assert_eq!(second["runId"], first["runId"]);
    let runs = stack.run_queued().await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Succeeded);
}

#[tokio::test]
async fn scheduled_trigger_while_running_is_skipped() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let (status, queued) = stack
        .request("POST", &format!("/connectors/{connector}/sync"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let event: okta_sync::sync::SyncEvent =
        serde_json::from_value(json!({"connectorId": connector, "trigger": "schedule"}))
            .expect("event");
    let skipped = okta_sync::sync::handle_event(&stack.sync, event, None)
        .await
        .expect("handled")
        .expect("a run record");

    assert_eq!(skipped.status, RunStatus::Skipped);
    assert_eq!(skipped.trigger, okta_sync::records::Trigger::Schedule);
    assert!(skipped
        .error
        .expect("reason")
        .message
        .contains(queued["runId"].as_str().expect("run id")));
}

#[tokio::test]
async fn lapsed_run_is_marked_abandoned() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let (_, first) = stack
        .request("POST", &format!("/connectors/{connector}/sync"), None)
        .await;
    let first_run = first["runId"].as_str().expect("run id").to_owned();
    // The run's function instance takes the lease and dies: the lease lapses.
    let connector_id = okta_sync::domain::ConnectorId::parse(&connector).expect("id");
    stack
        .sync
        .store
        .acquire_lease(&connector_id, &first_run, "instance-that-died", -10)
        .await
        .expect("lease taken");

    let (status, second) = stack
        .request("POST", &format!("/connectors/{connector}/sync"), None)
        .await;

    assert_eq!(status, StatusCode::ACCEPTED, "{second}");
    let (_, abandoned) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/runs/{first_run}"),
            None,
        )
        .await;
    assert_eq!(abandoned["status"], "failed");
    assert_eq!(abandoned["error"]["code"], "run_abandoned");
    let runs = stack.run_queued().await;
    assert_eq!(runs.len(), 1, "the first run's message is ignored");
    assert_eq!(runs[0].run_id, second["runId"].as_str().expect("run id"));
    assert_eq!(runs[0].status, RunStatus::Succeeded);
}

pub(crate) async fn sync_with_mode(
    stack: &Stack,
    connector: &str,
    mode: &str,
) -> okta_sync::records::Run {
    let (status, body) = stack
        .request(
            "POST",
            &format!("/connectors/{connector}/sync"),
            Some(json!({ "mode": mode })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "start sync: {body}");
    let mut runs = stack.run_queued().await;
    assert_eq!(runs.len(), 1);
    runs.remove(0)
}

#[tokio::test]
async fn incremental_picks_up_changes() {
    let okta = fake_okta(OrgSpec::new(21, 600, 12)).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let full = stack.sync_now(&connector).await;
    let org = okta.org_snapshot();
    let mut users = org.users().filter(|user| user.status == UserStatus::Active);
    let (updated, deactivated, member) = (
        users.next().expect("user").id.clone(),
        users.next().expect("user").id.clone(),
        users.next().expect("user").id.clone(),
    );
    let group = org
        .groups()
        .find(|group| group.id != org.everyone_id() && !group.members.contains(&member))
        .expect("a group without the member")
        .id
        .clone();
    let shrinking = org
        .groups()
        .find(|candidate| {
            candidate.id != org.everyone_id()
                && candidate.id != group
                && !candidate.members.is_empty()
        })
        .expect("a group with members");
    let leaving = shrinking.members.iter().next().cloned().expect("member");
    let shrinking = shrinking.id.clone();
    okta.update_user_profile(&updated, "department", json!("Ünïcode Ops"))
        .expect("updated");
    okta.set_user_status(&deactivated, UserStatus::Deprovisioned)
        .expect("deactivated");
    let created = okta
        .create_user(json!({"login": "new.person@example.com", "email": "new.person@example.com"}))
        .expect("created");
    okta.add_member(&group, &member).expect("added");
    okta.remove_member(&shrinking, &leaving).expect("removed");
    okta.clear_requests();

    let run = sync_with_mode(&stack, &connector, "incremental").await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    assert_eq!(run.mode, okta_sync::records::SyncMode::Incremental);
    assert_eq!(run.counts.users.created, 1);
    assert_eq!(run.counts.users.updated, 2);
    let mirrored = users_by_id(&stack, &connector, "").await;
    assert_eq!(mirrored[&updated]["profile"]["department"], "Ünïcode Ops");
    assert_eq!(mirrored[&deactivated]["status"], "DEPROVISIONED");
    assert!(mirrored.contains_key(&created));
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
    assert!(
        run.okta.calls * 2 < full.okta.calls,
        "incremental calls {} vs full {}",
        run.okta.calls,
        full.okta.calls
    );
    let everyone_reads = okta
        .requests()
        .iter()
        .filter(|request| request.path.contains(org.everyone_id()))
        .count();
    assert_eq!(
        everyone_reads, 0,
        "the Everyone group's members follow from the users"
    );
}

#[tokio::test]
async fn deleted_users_wait_for_full_sync() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    stack.sync_now(&connector).await;
    let deleted = okta.org_snapshot().users().next().expect("user").id.clone();
    okta.delete_user(&deleted).expect("deleted");

    let incremental = sync_with_mode(&stack, &connector, "incremental").await;
    let after_incremental = users_by_id(&stack, &connector, "").await;
    let full = sync_with_mode(&stack, &connector, "full").await;

    assert_eq!(
        incremental.counts.users.removed, 0,
        "incremental runs mark nothing removed"
    );
    assert!(after_incremental.contains_key(&deleted));
    assert_eq!(full.counts.users.removed, 1);
    assert!(!users_by_id(&stack, &connector, "")
        .await
        .contains_key(&deleted));
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
}

#[tokio::test]
async fn scheduled_runs_choose_mode() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let scheduled = || {
        serde_json::from_value::<okta_sync::sync::SyncEvent>(
            json!({"connectorId": connector, "trigger": "schedule"}),
        )
        .expect("event")
    };

    let first = okta_sync::sync::handle_event(&stack.sync, scheduled(), None)
        .await
        .expect("handled")
        .expect("run");
    let second = okta_sync::sync::handle_event(&stack.sync, scheduled(), None)
        .await
        .expect("handled")
        .expect("run");

    assert_eq!(
        first.mode,
        okta_sync::records::SyncMode::Full,
        "no full run yet"
    );
    assert_eq!(second.mode, okta_sync::records::SyncMode::Incremental);
    assert_eq!(second.status, RunStatus::Succeeded);
    assert_eq!(second.dynamo.items_written, 0, "nothing changed");
}

#[tokio::test]
async fn incremental_without_watermark_runs_full() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;

    let run = sync_with_mode(&stack, &connector, "incremental").await;

    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.mode, okta_sync::records::SyncMode::Full);
    assert_eq!(run.warnings.len(), 1, "{:?}", run.warnings);
}

#[tokio::test]
async fn run_cut_at_deadline_resumes() {
    let okta = fake_okta(OrgSpec::new(5, 300, 60)).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;

    let (run_id, paused) = stack.start_paused_run(&connector).await;
    let finished = stack.run_queued().await;

    assert_eq!(paused.status, RunStatus::Running);
    assert_eq!(paused.progress.phase, "continuing");
    assert!(
        paused.counts.groups.seen < 60,
        "paused after {} groups",
        paused.counts.groups.seen
    );
    // The queue also holds the original message, which this test delivered
    // by hand: whichever message comes first continues the run, and the
    // other finds it finished and is ignored.
    assert_eq!(finished.len(), 1, "one continuation ran");
    let run = finished
        .iter()
        .find(|run| run.status == RunStatus::Succeeded)
        .expect("a finished run");
    assert_eq!(run.run_id, run_id, "the same run continued");
    assert_eq!(run.counts.users.created, 300);
    assert_eq!(run.counts.users.seen, 300);
    assert_eq!(run.counts.groups.seen, 60);
    assert_eq!(
        run.counts.memberships.added as usize,
        okta_memberships(&okta).len()
    );
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
    let users: BTreeSet<String> = users_by_id(&stack, &connector, "")
        .await
        .into_keys()
        .collect();
    let expected: BTreeSet<String> = okta
        .org_snapshot()
        .users()
        .map(|user| user.id.clone())
        .collect();
    assert_eq!(users, expected);
    let leftovers = stack.dump_table().await;
    assert!(
        leftovers.iter().all(|row| !row.contains("checkpoint#")),
        "the checkpoint is deleted at the end"
    );
}

#[tokio::test]
async fn checkpoint_of_a_huge_org_round_trips() {
    let stack = Stack::new().await;
    let connector: okta_sync::domain::ConnectorId =
        serde_json::from_value(json!("0123456789abcdef0123456789abcdef")).expect("connector id");
    // 40,000 group ids and 60,000 user ids of 20 characters: about 2 MB,
    // five times DynamoDB's item size, saved over two pauses.
    let ids = |prefix: &str, range: std::ops::Range<u32>| -> Vec<String> {
        range.map(|index| format!("{prefix}{index:017}")).collect()
    };
    let (groups_first, groups_then) = (ids("00g", 0..30_000), ids("00g", 30_000..40_000));
    let (seen_first, seen_then) = (ids("00u", 0..20_000), ids("00u", 20_000..60_000));
    let created = ids("00u", 59_990..60_000);
    let store = &stack.sync.store;
    let mut checkpoint = okta_sync::store::Checkpoint {
        users_cursor: Some("http://127.0.0.1:9/api/v1/users?after=00u1&limit=200".into()),
        invocations: 1,
        ..Default::default()
    };
    let first = okta_sync::store::CheckpointAdditions {
        groups_done: &groups_first,
        users_seen: &seen_first,
        users_created: &[],
    };
    store
        .put_checkpoint(&connector, "run-1", &mut checkpoint, first)
        .await
        .expect("first pause saved");
    checkpoint.invocations = 2;
    checkpoint.users_cursor = None;
    checkpoint.users_finished = true;
    let then = okta_sync::store::CheckpointAdditions {
        groups_done: &groups_then,
        users_seen: &seen_then,
        users_created: &created,
    };
    store
        .put_checkpoint(&connector, "run-1", &mut checkpoint, then)
        .await
        .expect("second pause saved");

    let read = store
        .get_checkpoint(&connector, "run-1")
        .await
        .expect("checkpoint read")
        .expect("checkpoint found");

    assert_eq!(read.invocations, 2);
    assert!(read.users_finished);
    assert_eq!(read.users_cursor, None);
    let as_set = |ids: &[String]| ids.iter().cloned().collect::<BTreeSet<String>>();
    assert_eq!(
        as_set(&read.groups_done),
        as_set(&[groups_first, groups_then].concat())
    );
    assert_eq!(
        as_set(&read.users_seen),
        as_set(&[seen_first, seen_then].concat())
    );
    assert_eq!(read.users_created, created);
    store
        .delete_checkpoint(&connector, "run-1")
        .await
        .expect("checkpoint deleted");
    assert!(store
        .get_checkpoint(&connector, "run-1")
        .await
        .expect("read after delete")
        .is_none());
    let leftovers = stack.dump_table().await;
    assert!(
        leftovers.iter().all(|row| !row.contains("checkpoint#")),
        "no part is left: {:?}",
        leftovers.iter().find(|row| row.contains("checkpoint#"))
    );
}

/// A run that must pause while it reads the users continues at the saved
/// cursor: no users page is read twice, and the mirror is exact.
#[tokio::test]
async fn run_cut_while_reading_users_resumes_at_cursor() {
    let okta = fake_okta(OrgSpec::new(25, 2000, 20)).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    okta.clear_requests();

    let (run_id, paused) = stack.start_paused_run(&connector).await;
    let finished = stack.run_queued().await;

    assert_eq!(paused.status, RunStatus::Running, "run: {paused:?}");
    assert_eq!(paused.counts.users.seen, 200, "one page of users");
    let run = finished
        .iter()
        .find(|run| run.status == RunStatus::Succeeded)
        .expect("a finished run");
    assert_eq!(run.run_id, run_id);
    assert_eq!(run.counts.users.seen, 2000);
    assert_eq!(run.counts.users.created, 2000);
    assert_eq!(
        run.counts.users.removed, 0,
        "no user read earlier is removed"
    );
    let users_pages = okta
        .requests()
        .iter()
        .filter(|request| request.path == "/api/v1/users")
        .count();
    assert_eq!(users_pages, 10, "2,000 users at 200 a page, each read once");
    let users: BTreeSet<String> = users_by_id(&stack, &connector, "")
        .await
        .into_keys()
        .collect();
    let expected: BTreeSet<String> = okta
        .org_snapshot()
        .users()
        .map(|user| user.id.clone())
        .collect();
    assert_eq!(users, expected);
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
}

#[tokio::test]
async fn full_sync_reads_members_while_reading_users() {
    let mut config = Config::new(generate_org(&OrgSpec::new(21, 2000, 20)));
    config.latency = std::time::Duration::from_millis(20);
    let okta = FakeOkta::start(config).await.expect("fake Okta");
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    okta.clear_requests();

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    let mut requests = okta.requests();
    requests.sort_by_key(|request| request.at_ms);
    let is_users_page = |path: &str| path == "/api/v1/users";
    let is_member_page =
        |path: &str| path.starts_with("/api/v1/groups/") && path.ends_with("/users");
    let last_users_page = requests
        .iter()
        .rposition(|request| is_users_page(&request.path))
        .expect("users were read");
    let first_member_page = requests
        .iter()
        .position(|request| is_member_page(&request.path))
        .expect("members were read");
    assert!(
        first_member_page < last_users_page,
        "member lists wait for the users: first member page #{first_member_page}, last users page #{last_users_page}"
    );
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
    assert_eq!(run.counts.users.seen, 2000);
    assert_eq!(run.progress.percent, 100, "progress: {:?}", run.progress);
}

/// Returns the maximum number of `bucket` requests that one rate-limit
/// window admitted. Windows follow the fake's rule: one opens at the first
/// request after the last one expired. 429 responses do not count.
fn busiest_window(okta: &FakeOkta, bucket: &str, window_ms: u64) -> usize {
    let mut requests: Vec<_> = okta
        .requests()
        .into_iter()
        .filter(|request| request.bucket == bucket && request.status != 429)
        .collect();
    requests.sort_by_key(|request| request.at_ms);
    let mut window_start = None;
    let mut in_window = 0;
    let mut busiest = 0;
    for request in requests {
        match window_start {
            Some(start) if request.at_ms - start < window_ms => in_window += 1,
            _ => {
                window_start = Some(request.at_ms);
                in_window = 1;
            }
        }
        busiest = busiest.max(in_window);
    }
    busiest
}

#[tokio::test]
async fn governor_stays_within_share() {
    let mut config = Config::new(generate_org(&OrgSpec::new(9, 1100, 30)));
    // Small buckets and 2-second windows, so the sync needs several windows.
    config.rate_limits = fake_okta::RateLimits {
        enabled: true,
        scale: 1.0,
        users: 5,
        groups: 5,
        logs: 5,
        other: 20,
        window: std::time::Duration::from_secs(2),
    };
    let okta = FakeOkta::start(config).await.expect("fake Okta");
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    okta.clear_requests();

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    assert_eq!(
        run.okta.throttled, 0,
        "the governor waits instead of spending requests on 429s"
    );
    // The default share is 80%: at most 4 of 5 and 16 of 20 per window.
    let share = okta_sync::okta::GovernorSettings::default().max_share;
    for (bucket, limit) in [("users", 5.0), ("groups", 5.0), ("other", 20.0)] {
        let allowed = (share * limit) as usize;
        let busiest = busiest_window(&okta, bucket, 2000);
        assert!(
            busiest <= allowed,
            "bucket {bucket}: {busiest} requests in one window, share allows {allowed}"
        );
    }
    assert_eq!(
        memberships(&stack, &connector).await,
        okta_memberships(&okta)
    );
}

/// Two Lambda instances syncing connectors of the same org each have a
/// governor of their own. Okta's `X-Rate-Limit-Remaining` counts both, and
/// each governor takes the lower of its own count and Okta's, so together
/// they stay near the share: over it by at most the other instance's
/// requests in flight, and never throttled.
#[tokio::test]
async fn separate_governors_share_one_budget() {
    let mut config = Config::new(generate_org(&OrgSpec::new(23, 1100, 200)));
    config.rate_limits = fake_okta::RateLimits {
        enabled: true,
        scale: 1.0,
        users: 100,
        groups: 100,
        other: 100,
        logs: 100,
        window: std::time::Duration::from_secs(2),
    };
    let okta = FakeOkta::start(config).await.expect("fake Okta");
    let stack = Stack::new().await;
    // The governors are kept per domain name, so `localhost` gets one of its
    // own, as a second Lambda instance would.
    let mut connectors = Vec::new();
    for domain in [
        okta.domain(),
        format!("localhost:{}", okta.address().port()),
    ] {
        let (status, body) = stack
            .request(
                "POST",
                "/connectors",
                Some(json!({"name": domain, "domain": domain, "apiToken": okta.token()})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "create connector: {body}");
        connectors.push(body["id"].as_str().expect("connector id").to_owned());
    }
    okta.clear_requests();
    let mut events = Vec::new();
    for connector in &connectors {
        let (status, queued) = stack
            .request("POST", &format!("/connectors/{connector}/sync"), None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
        let event: okta_sync::sync::SyncEvent = serde_json::from_value(json!({
            "connectorId": connector,
            "runId": queued["runId"],
            "trigger": "manual",
            "mode": "full",
        }))
        .expect("event");
        events.push(event);
    }
    let [first, second] = <[_; 2]>::try_from(events).expect("two events");

    let (first, second) = tokio::join!(
        okta_sync::sync::handle_event(&stack.sync, first, None),
        okta_sync::sync::handle_event(&stack.sync, second, None),
    );

    for run in [first, second] {
        let run = run.expect("handled").expect("run");
        assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
        assert_eq!(run.okta.throttled, 0, "no 429 answers: {run:?}");
    }
    let settings = okta_sync::okta::GovernorSettings::default();
    let allowed = (settings.max_share * 100.0) as usize;
    let busiest = busiest_window(&okta, "other", 2000);
    assert!(
        busiest <= allowed + settings.max_concurrency,
        "{busiest} member-list requests in one window; the share allows {allowed}, plus at most {} in flight elsewhere",
        settings.max_concurrency
    );
    // The original queue messages find their runs finished.
    stack.run_queued().await;
}
