//! Change log, dry runs and the deletion guard, through the real handlers
//! against the fake Okta and moto.

use std::collections::{BTreeMap, BTreeSet};

use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
use harness::Stack;
use lambda_http::http::StatusCode;
use okta_sync::records::{Run, RunStatus};
use serde_json::{json, Value};

async fn fake_okta(spec: OrgSpec) -> FakeOkta {
    FakeOkta::start(Config::new(generate_org(&spec)))
        .await
        .expect("fake Okta started")
}

/// Returns the partition key of a row of `Stack::dump_table`.
fn pk_of(row: &str) -> &str {
    let start = row.find("\"pk\": S(\"").map(|at| at + 9).unwrap_or(0);
    let end = row[start..].find('"').map_or(row.len(), |len| start + len);
    &row[start..end]
}

/// Reads the mirror items (users, groups, memberships) and the sync state,
/// which contains the incremental watermark.
async fn mirror_and_state(stack: &Stack) -> Vec<String> {
    stack
        .dump_table()
        .await
        .into_iter()
        .filter(|row| {
            let pk = pk_of(row);
            pk.ends_with("#user")
                || pk.ends_with("#group")
                || pk.contains("#members#")
                || row.contains("\"sk\": S(\"sync-state\")")
        })
        .collect()
}

async fn sync_with(stack: &Stack, connector: &str, body: Value) -> Run {
    let (status, answer) = stack
        .request("POST", &format!("/connectors/{connector}/sync"), Some(body))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "start sync: {answer}");
    let mut runs = stack.run_queued().await;
    assert_eq!(runs.len(), 1, "one run expected");
    runs.remove(0)
}

async fn changes(stack: &Stack, connector: &str, run_id: &str) -> Vec<Value> {
    stack
        .list_all(&format!("/connectors/{connector}/runs/{run_id}/changes"))
        .await
}

/// Change log entries by type and action, for example `("user", "created")`.
fn by_kind(changes: &[Value]) -> BTreeMap<(String, String), Vec<Value>> {
    let mut kinds: BTreeMap<(String, String), Vec<Value>> = BTreeMap::new();
    for change in changes {
        let kind = (
            change["type"].as_str().unwrap_or_default().to_owned(),
            change["action"].as_str().unwrap_or_default().to_owned(),
        );
        kinds.entry(kind).or_default().push(change.clone());
    }
    kinds
}

fn ids_of(changes: Option<&Vec<Value>>) -> BTreeSet<String> {
    changes
        .into_iter()
        .flatten()
        .map(|change| change["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn okta_membership_count(okta: &FakeOkta) -> usize {
    let org = okta.org_snapshot();
    org.users().map(|user| org.groups_of(&user.id).len()).sum()
}

async fn listed_user_ids(stack: &Stack, connector: &str) -> BTreeSet<String> {
    stack
        .list_all(&format!("/connectors/{connector}/users"))
        .await
        .iter()
        .map(|user| user["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Deletes all but `keep` users in the fake Okta and returns the deleted ids.
fn delete_most_users(okta: &FakeOkta, keep: usize) -> BTreeSet<String> {
    let ids: Vec<String> = okta
        .org_snapshot()
        .users()
        .map(|user| user.id.clone())
        .collect();
    let mut deleted = BTreeSet::new();
    for id in ids.into_iter().skip(keep) {
        okta.delete_user(&id).expect("user deleted");
        deleted.insert(id);
    }
    deleted
}

/// Syncs once, deletes most users in Okta and syncs again, which the
/// default guard holds. Returns the connector, the held run and the ids.
async fn held_run(stack: &Stack, okta: &FakeOkta) -> (String, Run, BTreeSet<String>) {
    let connector = stack.create_connector(okta).await;
    stack.sync_now(&connector).await;
    let deleted = delete_most_users(okta, 10);
    let run = stack.sync_now(&connector).await;
    (connector, run, deleted)
}

#[tokio::test]
async fn guard_holds_mass_removal() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let mirrored = okta.org_snapshot().user_count();

    let (connector, run, deleted) = held_run(&stack, &okta).await;

    assert_eq!(run.status, RunStatus::NeedsApproval, "run: {run:?}");
    let approval = run.approval.as_ref().expect("approval on the run");
    assert_eq!(approval.held_users as usize, deleted.len());
    assert_eq!(approval.mirrored_users as usize, mirrored);
    assert_eq!(approval.decision, None);
    assert_eq!(run.counts.users.removed, 0);
    let listed = listed_user_ids(&stack, &connector).await;
    assert_eq!(listed.len(), mirrored, "no user was removed");
    let log = by_kind(&changes(&stack, &connector, &run.run_id).await);
    let held = log.get(&("user".into(), "removal_held".into()));
    assert_eq!(ids_of(held), deleted);
    assert!(
        log.contains_key(&("membership".into(), "removed".into())),
        "the memberships of deleted users are still synced"
    );
    let (_, connector_body) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(connector_body["lastRun"]["status"], "needs_approval");
}

#[tokio::test]
async fn guard_holds_when_token_scope_shrinks() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    stack.sync_now(&connector).await;
    let org = okta.org_snapshot();
    let group = org
        .groups()
        .filter(|group| group.id != org.everyone_id() && !group.members.is_empty())
        .min_by_key(|group| group.members.len())
        .expect("a group with members");
    // The admin who owns the token is now limited to one small group, so
    // Okta suddenly lists only its members.
    okta.add_scoped_token(&okta.token(), std::slice::from_ref(&group.id));

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::NeedsApproval, "run: {run:?}");
    let approval = run.approval.expect("approval");
    assert_eq!(
        approval.held_users as usize,
        org.user_count() - group.members.len()
    );
    assert_eq!(
        listed_user_ids(&stack, &connector).await.len(),
        org.user_count()
    );
    assert!(run.counts.groups.removed > 0, "group removals still apply");
}

#[tokio::test]
async fn approve_applies_held_removals() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let (connector, run, deleted) = held_run(&stack, &okta).await;

    let (status, approved) = stack
        .request(
            "POST",
            &format!("/connectors/{connector}/runs/{}/approve", run.run_id),
            None,
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "succeeded");
    assert_eq!(approved["approval"]["decision"], "approved");
    assert_eq!(approved["counts"]["users"]["removed"], deleted.len());
    let listed = listed_user_ids(&stack, &connector).await;
    assert!(listed.is_disjoint(&deleted), "approved users are removed");
    assert_eq!(listed.len(), okta.org_snapshot().user_count());
    let log = by_kind(&changes(&stack, &connector, &run.run_id).await);
    let removed = log.get(&("user".into(), "removed".into()));
    assert_eq!(ids_of(removed), deleted);
    assert!(removed
        .into_iter()
        .flatten()
        .all(|change| change["removal"] == "disable"));
    assert!(!log.contains_key(&("user".into(), "removal_held".into())));
    let (status, again) = stack
        .request(
            "POST",
            &format!("/connectors/{connector}/runs/{}/approve", run.run_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    assert_eq!(again["code"], "not_awaiting_approval");
    let (_, connector_body) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(connector_body["lastRun"]["status"], "succeeded");
    assert_eq!(
        audit_actions(&stack, &connector)
            .await
            .first()
            .map(String::as_str),
        Some("removals.approved")
    );
}

/// Lists the connector's audit actions, newest first.
async fn audit_actions(stack: &Stack, connector: &str) -> Vec<String> {
    let (status, body) = stack
        .request("GET", &format!("/audit?connectorId={connector}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .expect("audit items")
        .iter()
        .map(|record| record["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn approve_with_a_body_is_refused() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let (connector, run, _) = held_run(&stack, &okta).await;
    let before = stack.dump_table().await;

    for verb in ["approve", "discard"] {
        let (status, body) = stack
            .request(
                "POST",
                &format!("/connectors/{connector}/runs/{}/{verb}", run.run_id),
                Some(json!({"x": 1})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{verb}: {body}");
    }
    assert_eq!(stack.dump_table().await, before, "the hold is untouched");
}

#[tokio::test]
async fn discard_drops_held_removals() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let mirrored = okta.org_snapshot().user_count();
    let (connector, run, deleted) = held_run(&stack, &okta).await;

    let (status, discarded) = stack
        .request(
            "POST",
            &format!("/connectors/{connector}/runs/{}/discard", run.run_id),
            None,
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{discarded}");
    assert_eq!(discarded["status"], "succeeded");
    assert_eq!(discarded["approval"]["decision"], "discarded");
    assert_eq!(discarded["counts"]["users"]["removed"], 0);
    assert_eq!(listed_user_ids(&stack, &connector).await.len(), mirrored);
    let log = by_kind(&changes(&stack, &connector, &run.run_id).await);
    let dropped = log.get(&("user".into(), "removal_discarded".into()));
    assert_eq!(ids_of(dropped), deleted);
    let (status, late) = stack
        .request(
            "POST",
            &format!("/connectors/{connector}/runs/{}/approve", run.run_id),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{late}");
    assert_eq!(late["code"], "not_awaiting_approval");
    assert_eq!(
        audit_actions(&stack, &connector)
            .await
            .first()
            .map(String::as_str),
        Some("removals.discarded")
    );
}

#[tokio::test]
async fn stale_hold_approval_conflicts() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let (connector, held, deleted) = held_run(&stack, &okta).await;
    let (status, body) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"deletionGuard": {"maxShare": 1, "maxCount": 1000000}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let later = stack.sync_now(&connector).await;
    assert_eq!(later.status, RunStatus::Succeeded, "later: {later:?}");
    assert_eq!(later.counts.users.removed as usize, deleted.len());

    let (status, refused) = stack
        .request(
            "POST",
            &format!("/connectors/{connector}/runs/{}/approve", held.run_id),
            None,
        )
        .await;

    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "hold_stale");
    assert_eq!(refused["laterRunId"], later.run_id.as_str());
    let (_, superseded) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/runs/{}", held.run_id),
            None,
        )
        .await;
    assert_eq!(superseded["status"], "succeeded");
    assert_eq!(superseded["approval"]["decision"], "superseded");
    assert_eq!(
        superseded["approval"]["supersededBy"],
        later.run_id.as_str()
    );
}

#[tokio::test]
async fn dry_run_writes_nothing() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    stack.sync_now(&connector).await;
    let org = okta.org_snapshot();
    let mut users = org.users().map(|user| user.id.clone());
    let (updated, deleted) = (users.next().expect("user"), users.next().expect("user"));
    okta.update_user_profile(&updated, "department", json!("Dry Run Ops"))
        .expect("updated");
    okta.delete_user(&deleted).expect("deleted");
    let created = okta
        .create_user(json!({"login": "dry.run@example.com"}))
        .expect("created");
    let before = mirror_and_state(&stack).await;
    assert!(before.iter().any(|row| pk_of(row).ends_with("#user")));
    assert!(before.iter().any(|row| row.contains("sync-state")));

    let run = sync_with(&stack, &connector, json!({"dryRun": true})).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    assert!(run.dry_run);
    assert_eq!(run.dynamo.items_written, 0);
    assert_eq!(mirror_and_state(&stack).await, before);
    let log = by_kind(&changes(&stack, &connector, &run.run_id).await);
    let created_ids = ids_of(log.get(&("user".into(), "created".into())));
    assert_eq!(created_ids, BTreeSet::from([created.clone()]));
    let updates = log
        .get(&("user".into(), "updated".into()))
        .expect("an update");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["id"], updated.as_str());
    let removed = log
        .get(&("user".into(), "removed".into()))
        .expect("a removal");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["id"], deleted.as_str());
    assert_eq!(removed[0]["removal"], "disable");
    assert!(log.contains_key(&("membership".into(), "added".into())));

    let real = stack.sync_now(&connector).await;
    assert_eq!(real.counts.users.created, 1, "the dry run left the work");
    assert_eq!(real.counts.users.updated, 1);
    assert_eq!(real.counts.users.removed, 1);
}

#[tokio::test]
async fn dry_run_from_sync_event() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let event: okta_sync::sync::SyncEvent =
        serde_json::from_value(json!({"connectorId": connector, "dryRun": true})).expect("event");

    let run = okta_sync::sync::handle_event(&stack.sync, event, None)
        .await
        .expect("handled")
        .expect("run");

    assert!(run.dry_run);
    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    assert!(mirror_and_state(&stack).await.is_empty());
    let log = by_kind(&changes(&stack, &connector, &run.run_id).await);
    let created = log.get(&("user".into(), "created".into()));
    assert_eq!(
        created.map_or(0, Vec::len),
        okta.org_snapshot().user_count()
    );
}

#[tokio::test]
async fn change_log_names_each_change() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let first = stack.sync_now(&connector).await;
    let org = okta.org_snapshot();
    let first_log = by_kind(&changes(&stack, &connector, &first.run_id).await);
    let created = first_log.get(&("user".into(), "created".into()));
    assert_eq!(created.map_or(0, Vec::len), org.user_count());
    let groups = first_log.get(&("group".into(), "created".into()));
    assert_eq!(groups.map_or(0, Vec::len), org.group_count());
    let added = first_log.get(&("membership".into(), "added".into()));
    assert_eq!(added.map_or(0, Vec::len), okta_membership_count(&okta));

    let group = org
        .groups()
        .find(|group| group.id != org.everyone_id() && group.members.len() >= 2)
        .expect("a group with members");
    let leaving = group.members.iter().next().cloned().expect("member");
    let joining = org
        .users()
        .find(|user| !group.members.contains(&user.id))
        .expect("a user outside the group")
        .id
        .clone();
    let updated = org
        .users()
        .find(|user| user.id != leaving && user.id != joining)
        .expect("another user")
        .id
        .clone();
    let deleted = org
        .users()
        .find(|user| ![&leaving, &joining, &updated].contains(&&user.id))
        .expect("a fourth user")
        .id
        .clone();
    okta.update_user_profile(&updated, "title", json!("Change Log Lead"))
        .expect("updated");
    okta.remove_member(&group.id, &leaving).expect("removed");
    okta.add_member(&group.id, &joining).expect("added");
    okta.delete_user(&deleted).expect("deleted");

    let second = stack.sync_now(&connector).await;

    assert_eq!(second.status, RunStatus::Succeeded, "run: {second:?}");
    let log = by_kind(&changes(&stack, &connector, &second.run_id).await);
    let updates = log
        .get(&("user".into(), "updated".into()))
        .expect("an update");
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0]["id"], updated.as_str());
    let attributes: Vec<&str> = updates[0]["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(attributes.contains(&"profile.title"), "{attributes:?}");
    assert!(attributes.contains(&"lastUpdated"), "{attributes:?}");
    assert!(updates[0]["login"].is_string());
    let removed = log
        .get(&("user".into(), "removed".into()))
        .expect("a removal");
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0]["id"], deleted.as_str());
    assert_eq!(removed[0]["removal"], "disable");
    let pair = |change: &Value| {
        (
            change["groupId"].as_str().unwrap_or_default().to_owned(),
            change["userId"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let joined: BTreeSet<_> = log
        .get(&("membership".into(), "added".into()))
        .into_iter()
        .flatten()
        .map(pair)
        .collect();
    assert!(joined.contains(&(group.id.clone(), joining.clone())));
    let left: BTreeSet<_> = log
        .get(&("membership".into(), "removed".into()))
        .into_iter()
        .flatten()
        .map(pair)
        .collect();
    assert!(left.contains(&(group.id.clone(), leaving.clone())));
    let group_updates = ids_of(log.get(&("group".into(), "updated".into())));
    assert!(group_updates.contains(&group.id));
    assert!(!log.contains_key(&("user".into(), "created".into())));
}

#[tokio::test]
async fn changes_paginate_in_stable_order() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let run = stack.sync_now(&connector).await;
    let path = format!("/connectors/{connector}/runs/{}/changes", run.run_id);
    let all = changes(&stack, &connector, &run.run_id).await;

    let mut paged = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cursor) => format!("{path}?limit=7&cursor={cursor}"),
            None => format!("{path}?limit=7"),
        };
        let (status, body) = stack.request("GET", &url, None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().cloned().unwrap_or_default();
        assert!(items.len() <= 7);
        paged.extend(items);
        pages += 1;
        match body["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }

    assert!(all.len() > 7, "the log spans several pages");
    assert_eq!(paged, all, "pages follow one stable order");
    assert!(pages >= all.len().div_ceil(7));
    let unique: BTreeSet<String> = all.iter().map(Value::to_string).collect();
    assert_eq!(unique.len(), all.len(), "no entry repeats");
    let (status, bad) = stack
        .request("GET", &format!("{path}?cursor=not-a-cursor"), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["code"], "invalid_cursor");
    let (status, missing) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/runs/20260101T000000000Z-00000000/changes"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["code"], "run_not_found");
}

#[tokio::test]
async fn resumed_run_logs_changes_once() {
    let okta = fake_okta(OrgSpec::new(5, 300, 60)).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    // The first invocation hands over to a continuation, which goes on
    // from the users page and the groups where it stopped.
    let (run_id, paused) = stack.start_paused_run(&connector).await;
    assert_eq!(paused.progress.phase, "continuing");
    let finished = stack.run_queued().await;
    assert!(finished
        .iter()
        .any(|run| run.run_id == run_id && run.status == RunStatus::Succeeded));

    let log = changes(&stack, &connector, &run_id).await;

    let kinds = by_kind(&log);
    let created = kinds.get(&("user".into(), "created".into()));
    assert_eq!(created.map_or(0, Vec::len), 300);
    assert_eq!(ids_of(created).len(), 300);
    let groups = kinds.get(&("group".into(), "created".into()));
    assert_eq!(ids_of(groups).len(), 60);
    let added = kinds.get(&("membership".into(), "added".into()));
    assert_eq!(added.map_or(0, Vec::len), okta_membership_count(&okta));
    let unique: BTreeSet<String> = log.iter().map(Value::to_string).collect();
    assert_eq!(unique.len(), log.len(), "no change is logged twice");
}

#[tokio::test]
async fn bad_guard_values_rejected() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;
    let (_, created) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(
        created["deletionGuard"],
        json!({"maxShare": 0.1, "maxCount": 500})
    );
    let cases = [
        (json!({"maxShare": 1.5}), "deletionGuard.maxShare"),
        (json!({"maxShare": -0.1}), "deletionGuard.maxShare"),
        (json!({"maxCount": -1}), "deletionGuard.maxCount"),
        (json!({"maxCount": 2.5}), "deletionGuard.maxCount"),
        (json!({"maxCount": 1e12}), "deletionGuard.maxCount"),
    ];
    let before = stack.dump_table().await;

    for (guard, field) in &cases {
        let (status, body) = stack
            .request(
                "POST",
                "/connectors",
                Some(json!({"name": "Guarded", "domain": okta.domain(), "apiToken": okta.token(), "deletionGuard": guard})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "create {guard}: {body}");
        assert_eq!(body["field"], *field, "create {guard}: {body}");
        assert_eq!(body["code"], "invalid_deletion_guard");
        let (status, body) = stack
            .request(
                "PATCH",
                &format!("/connectors/{connector}"),
                Some(json!({ "deletionGuard": guard })),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "patch {guard}: {body}");
        assert_eq!(body["field"], *field, "patch {guard}: {body}");
    }
    let (status, body) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"deletionGuard": {"maxShare": 0.2, "limit": 3}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "unknown_field");
    let (status, body) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"deletionGuard": {"maxShare": "ten percent"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(stack.dump_table().await, before, "nothing was stored");

    let (status, patched) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"deletionGuard": {"maxCount": 20}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["deletionGuard"],
        json!({"maxShare": 0.1, "maxCount": 20})
    );
    let (_, read) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(read["deletionGuard"], patched["deletionGuard"]);
    let (status, dry) = stack
        .request(
            "POST",
            &format!("/connectors/{connector}/sync"),
            Some(json!({"dryRun": "yes"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{dry}");
    assert_eq!(dry["field"], "dryRun");
}
