//! Single-user sync (`POST /connectors/{id}/users/{loginOrId}/sync`) against
//! the fake Okta and moto.

use std::collections::BTreeSet;

use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
use harness::Stack;
use lambda_http::http::StatusCode;
use okta_sync::records::RunStatus;
use serde_json::{json, Value};

async fn fake_okta() -> FakeOkta {
    FakeOkta::start(Config::new(generate_org(&OrgSpec::small())))
        .await
        .expect("fake Okta started")
}

/// Creates a connector and runs its first full sync.
async fn synced_connector(stack: &Stack, okta: &FakeOkta) -> String {
    let connector = stack.create_connector(okta).await;
    let run = stack.sync_now(&connector).await;
    assert_eq!(run.status, RunStatus::Succeeded, "first sync: {run:?}");
    connector
}

async fn refresh(stack: &Stack, connector: &str, login_or_id: &str) -> (StatusCode, Value) {
    stack
        .request(
            "POST",
            &format!("/connectors/{connector}/users/{login_or_id}/sync"),
            None,
        )
        .await
}

async fn get_json(stack: &Stack, path: &str) -> Value {
    let (status, body) = stack.request("GET", path, None).await;
    assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
    body
}

async fn member_count(stack: &Stack, connector: &str, group_id: &str) -> u64 {
    get_json(stack, &format!("/connectors/{connector}/groups/{group_id}")).await["memberCount"]
        .as_u64()
        .expect("memberCount")
}

fn id_list(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .expect("a list of ids")
        .iter()
        .map(|id| id.as_str().expect("an id").to_owned())
        .collect()
}

/// Finds an OKTA_GROUP of the org (not Everyone) that `user_id` is not in.
fn other_group(okta: &FakeOkta, user_id: &str) -> String {
    let org = okta.org_snapshot();
    let member_of = org.groups_of(user_id);
    let group = org
        .groups()
        .find(|group| group.id != org.everyone_id() && !member_of.contains(&group.id))
        .expect("a group the user is not in")
        .id
        .clone();
    group
}

#[tokio::test]
async fn new_user_created_by_login() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let user_id = okta
        .create_user(
            json!({"login": "new.person+signin@example.com", "email": "new.person@example.com"}),
        )
        .expect("user created");
    let group = other_group(&okta, &user_id);
    okta.add_member(&group, &user_id).expect("member added");
    let everyone = okta.org_snapshot().everyone_id().to_owned();
    let count_before = member_count(&stack, &connector, &group).await;

    let (status, body) = refresh(&stack, &connector, "new.person%2Bsignin%40example.com").await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], user_id.as_str());
    assert_eq!(body["login"], "new.person+signin@example.com");
    assert_eq!(body["refresh"]["user"], "created");
    let expected: BTreeSet<String> = [group.clone(), everyone].into_iter().collect();
    assert_eq!(id_list(&body["groups"]), expected);
    assert_eq!(id_list(&body["refresh"]["membershipsAdded"]), expected);
    let key = body["key"].as_str().expect("a key").to_owned();
    let stored = get_json(&stack, &format!("/connectors/{connector}/users/{user_id}")).await;
    assert_eq!(stored["key"], key.as_str());
    assert_eq!(id_list(&stored["groups"]), expected);
    assert_eq!(
        member_count(&stack, &connector, &group).await,
        count_before + 1
    );

    // The next full sync finds the user as written: same key, nothing to add.
    let run = stack.sync_now(&connector).await;
    assert_eq!(run.counts.users.created, 0, "run: {run:?}");
    assert_eq!(run.counts.users.updated, 0, "run: {run:?}");
    assert_eq!(run.counts.memberships.added, 0, "run: {run:?}");
    let after = get_json(&stack, &format!("/connectors/{connector}/users/{user_id}")).await;
    assert_eq!(after["key"], key.as_str());
}

#[tokio::test]
async fn user_and_memberships_updated() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let org = okta.org_snapshot();
    let (user_id, left_group) = org
        .users()
        .find_map(|user| {
            org.groups_of(&user.id)
                .into_iter()
                .find(|group| group != org.everyone_id())
                .map(|group| (user.id.clone(), group))
        })
        .expect("a user in a group besides Everyone");
    drop(org);
    let joined_group = other_group(&okta, &user_id);
    let before = get_json(&stack, &format!("/connectors/{connector}/users/{user_id}")).await;
    let left_count = member_count(&stack, &connector, &left_group).await;
    let joined_count = member_count(&stack, &connector, &joined_group).await;
    okta.update_user_profile(&user_id, "title", json!("Refreshed at sign-in"))
        .expect("profile updated");
    okta.remove_member(&left_group, &user_id)
        .expect("member removed");
    okta.add_member(&joined_group, &user_id)
        .expect("member added");

    let (status, body) = refresh(&stack, &connector, &user_id).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["refresh"]["user"], "updated");
    assert_eq!(body["profile"]["title"], "Refreshed at sign-in");
    assert_eq!(body["key"], before["key"]);
    assert_eq!(body["firstSyncedAt"], before["firstSyncedAt"]);
    assert_eq!(body["refresh"]["membershipsAdded"], json!([joined_group]));
    assert_eq!(body["refresh"]["membershipsRemoved"], json!([left_group]));
    let expected: BTreeSet<String> = okta
        .org_snapshot()
        .groups_of(&user_id)
        .into_iter()
        .collect();
    assert_eq!(id_list(&body["groups"]), expected);
    let stored = get_json(&stack, &format!("/connectors/{connector}/users/{user_id}")).await;
    assert_eq!(id_list(&stored["groups"]), expected);
    assert_eq!(stored["profile"]["title"], "Refreshed at sign-in");
    assert_eq!(
        member_count(&stack, &connector, &left_group).await,
        left_count - 1
    );
    assert_eq!(
        member_count(&stack, &connector, &joined_group).await,
        joined_count + 1
    );

    // A second refresh with nothing new in Okta changes nothing.
    let (status, again) = refresh(&stack, &connector, &user_id).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["refresh"]["user"], "unchanged");
    assert_eq!(again["refresh"]["membershipsAdded"], json!([]));
    assert_eq!(again["refresh"]["membershipsRemoved"], json!([]));
    assert_eq!(
        member_count(&stack, &connector, &joined_group).await,
        joined_count + 1
    );
}

#[tokio::test]
async fn removed_user_restored() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    // A group admin's token lists only the members of its group, so a user
    // who leaves the group leaves the mirror and can come back.
    let org = okta.org_snapshot();
    let group = org
        .groups()
        .find(|group| group.id != org.everyone_id() && group.members.len() >= 2)
        .expect("a group with members")
        .id
        .clone();
    let token = format!("fake-okta-scoped-{}", uuid::Uuid::new_v4().simple());
    okta.add_scoped_token(&token, std::slice::from_ref(&group));
    let (status, created) = stack
        .request(
            "POST",
            "/connectors",
            Some(json!({"name": "Scoped", "domain": okta.domain(), "apiToken": token})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let connector = created["id"].as_str().expect("id").to_owned();
    stack.sync_now(&connector).await;
    let user_id = okta
        .org_snapshot()
        .group(&group)
        .expect("group")
        .members
        .iter()
        .next()
        .expect("a member")
        .clone();
    let before = get_json(&stack, &format!("/connectors/{connector}/users/{user_id}")).await;
    okta.remove_member(&group, &user_id)
        .expect("member removed");
    stack.sync_now(&connector).await;
    let removed = get_json(&stack, &format!("/connectors/{connector}/users/{user_id}")).await;
    assert!(removed["removedAt"].is_string(), "{removed}");
    okta.add_member(&group, &user_id).expect("member added");

    let (status, body) = refresh(&stack, &connector, &user_id).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["refresh"]["user"], "restored");
    assert!(body.get("removedAt").is_none(), "{body}");
    assert_eq!(body["key"], before["key"]);
    assert_eq!(body["firstSyncedAt"], before["firstSyncedAt"]);
    assert_eq!(body["groups"], json!([group]));
    let stored = get_json(&stack, &format!("/connectors/{connector}/users/{user_id}")).await;
    assert!(stored.get("removedAt").is_none(), "{stored}");
    assert_eq!(stored["groups"], json!([group]));
    let listed = stack
        .list_all(&format!("/connectors/{connector}/users"))
        .await;
    assert!(listed.iter().any(|user| user["id"] == user_id.as_str()));
}

#[tokio::test]
async fn groups_not_mirrored_are_reported() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let user_id = okta
        .org_snapshot()
        .users()
        .next()
        .expect("a user")
        .id
        .clone();
    let new_group = okta.create_group("Created after the sync");
    okta.add_member(&new_group, &user_id).expect("member added");

    let (status, body) = refresh(&stack, &connector, &user_id).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["refresh"]["groupsNotMirrored"], json!([new_group]));
    assert!(!id_list(&body["groups"]).contains(&new_group));
    let (status, _) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/groups/{new_group}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no group item is created");
}

#[tokio::test]
async fn unknown_user_gets_404() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let before = stack.dump_table().await;

    let (status, body) = refresh(&stack, &connector, "nobody%40example.com").await;

    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "okta_user_not_found");
    assert_eq!(body["markedRemoved"], false);
    assert_eq!(stack.dump_table().await, before);
}

#[tokio::test]
async fn deleted_user_marked_removed() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let org = okta.org_snapshot();
    let (user_id, group) = org
        .users()
        .find_map(|user| {
            org.groups_of(&user.id)
                .into_iter()
                .find(|group| group != org.everyone_id())
                .map(|group| (user.id.clone(), group))
        })
        .expect("a user in a group besides Everyone");
    drop(org);
    let count_before = member_count(&stack, &connector, &group).await;
    okta.delete_user(&user_id).expect("user deleted");

    let (status, body) = refresh(&stack, &connector, &user_id).await;

    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "okta_user_not_found");
    assert_eq!(body["markedRemoved"], true);
    let stored = get_json(&stack, &format!("/connectors/{connector}/users/{user_id}")).await;
    assert!(stored["removedAt"].is_string(), "{stored}");
    assert_eq!(stored["groups"], json!([]));
    assert_eq!(
        member_count(&stack, &connector, &group).await,
        count_before - 1
    );
}

#[tokio::test]
async fn deleted_user_follows_cleanup_policy() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let (status, body) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"cleanup": {"onRemoval": "delete"}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user_id = okta
        .org_snapshot()
        .users()
        .next()
        .expect("a user")
        .id
        .clone();
    okta.delete_user(&user_id).expect("user deleted");

    let (status, body) = refresh(&stack, &connector, &user_id).await;

    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["markedRemoved"], true);
    let (status, body) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/users/{user_id}"),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the user item is deleted: {body}"
    );
}

#[tokio::test]
async fn malformed_login_or_id_gets_400() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let before = stack.dump_table().await;
    okta.clear_requests();
    let too_long = format!("{}%40example.com", "a".repeat(100));

    for raw in [
        "a%2Fb%40example.com",
        "%FF%FE",
        "%20",
        "me",
        too_long.as_str(),
    ] {
        let (status, body) = refresh(&stack, &connector, raw).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw}: {body}");
        assert_eq!(body["code"], "invalid_login_or_id", "{raw}");
        assert_eq!(body["field"], "loginOrId", "{raw}");
    }
    for raw in ["%2E%2E", "..", "%2e", "."] {
        let (status, body) = refresh(&stack, &connector, raw).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{raw}: {body}");
        assert_eq!(body["code"], "invalid_path", "{raw}");
    }
    assert!(okta.requests().is_empty(), "Okta was not called");
    assert_eq!(stack.dump_table().await, before, "no run was started");
}

#[tokio::test]
async fn new_user_waits_for_running_sync() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let existing = okta
        .org_snapshot()
        .users()
        .next()
        .expect("a user")
        .id
        .clone();
    let new_user = okta
        .create_user(json!({"login": "late.joiner@example.com"}))
        .expect("user created");
    let (status, queued) = stack
        .request("POST", &format!("/connectors/{connector}/sync"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");

    let (status, body) = refresh(&stack, &connector, &new_user).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "sync_running");
    assert_eq!(body["runId"], queued["runId"]);
    let (status, _) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/users/{new_user}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the user was not written");

    // A user the mirror has is refreshed while the run is queued.
    let (status, body) = refresh(&stack, &connector, &existing).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn deleted_connector_gets_404() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = synced_connector(&stack, &okta).await;
    let user_id = okta
        .org_snapshot()
        .users()
        .next()
        .expect("a user")
        .id
        .clone();
    let (status, _) = stack
        .request("DELETE", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);

    let (status, body) = refresh(&stack, &connector, &user_id).await;

    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "connector_not_found");
}

#[tokio::test]
async fn refresh_route_takes_post_only() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let connector = stack.create_connector(&okta).await;

    let (status, body) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/users/alice%40example.com/sync"),
            None,
        )
        .await;

    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(body["code"], "method_not_allowed");
}

#[tokio::test]
async fn user_outside_required_groups_is_not_written() {
    let okta = fake_okta().await;
    let stack = Stack::new().await;
    let staff = okta.create_group("Staff");
    let inside = okta
        .create_user(json!({"login": "inside@example.com", "email": "inside@example.com"}))
        .expect("user created");
    okta.add_member(&staff, &inside).expect("added");
    let body = json!({
        "name": "Scoped", "domain": okta.domain(), "apiToken": okta.token(),
        "scope": {"requiredGroups": ["Staff"]},
    });
    let (status, created) = stack.request("POST", "/connectors", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "create connector: {created}");
    let connector = created["id"].as_str().expect("connector id").to_owned();
    let run = stack.sync_now(&connector).await;
    assert_eq!(run.status, RunStatus::Succeeded, "first sync: {run:?}");
    let outside = okta
        .create_user(json!({"login": "outside@example.com", "email": "outside@example.com"}))
        .expect("user created");
    let before = stack.dump_table().await;

    let (status, body) = refresh(&stack, &connector, &outside).await;

    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "user_out_of_scope", "{body}");
    assert_eq!(stack.dump_table().await, before, "nothing was written");
    let (status, body) = refresh(&stack, &connector, "inside@example.com").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["refresh"]["user"], "unchanged", "{body}");
}
