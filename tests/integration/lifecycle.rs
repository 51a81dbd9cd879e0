//! Connector settings that shape the mirror: scope, mapping rules, cleanup
//! policy and adoption, against the fake Okta and moto.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::AttributeValue;
use fake_okta::{generate_org, Config, FakeOkta, OrgSpec, UserStatus};
use harness::Stack;
use lambda_http::http::StatusCode;
use okta_sync::records::RunStatus;
use serde_json::{json, Value};

async fn fake_okta(spec: OrgSpec) -> FakeOkta {
    FakeOkta::start(Config::new(generate_org(&spec)))
        .await
        .expect("fake Okta started")
}

/// Creates a connector for `okta` with extra fields and returns its id.
async fn create_with(stack: &Stack, okta: &FakeOkta, settings: Value) -> String {
    let mut body = json!({"name": "Shaped", "domain": okta.domain(), "apiToken": okta.token()});
    for (name, value) in settings.as_object().cloned().unwrap_or_default() {
        body[name] = value;
    }
    let (status, body) = stack.request("POST", "/connectors", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "create connector: {body}");
    body["id"].as_str().expect("connector id").to_owned()
}

async fn users_by_id(stack: &Stack, connector: &str, query: &str) -> BTreeMap<String, Value> {
    stack
        .list_all(&format!("/connectors/{connector}/users{query}"))
        .await
        .into_iter()
        .map(|user| (user["id"].as_str().unwrap_or_default().to_owned(), user))
        .collect()
}

async fn group_names(stack: &Stack, connector: &str) -> BTreeSet<String> {
    stack
        .list_all(&format!("/connectors/{connector}/groups"))
        .await
        .iter()
        .map(|group| group["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn get_user(stack: &Stack, connector: &str, user_id: &str) -> (StatusCode, Value) {
    stack
        .request(
            "GET",
            &format!("/connectors/{connector}/users/{user_id}"),
            None,
        )
        .await
}

async fn member_ids(stack: &Stack, connector: &str, group_id: &str) -> BTreeSet<String> {
    stack
        .list_all(&format!(
            "/connectors/{connector}/groups/{group_id}/members"
        ))
        .await
        .iter()
        .map(|member| member["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Creates a user with a fixed login, email and names, plus `extra`.
fn add_user(okta: &FakeOkta, login: &str, extra: Value) -> String {
    let mut profile = json!({
        "login": login,
        "email": login.to_lowercase(),
        "firstName": "First",
        "lastName": "Last",
    });
    for (name, value) in extra.as_object().cloned().unwrap_or_default() {
        profile[name] = value;
    }
    okta.create_user(profile).expect("user created")
}

#[tokio::test]
async fn required_groups_limit_users() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let engineering = okta.create_group("Engineering");
    let sales = okta.create_group("Sales");
    let ada = add_user(&okta, "ada@example.com", json!({}));
    let bob = add_user(&okta, "bob@example.com", json!({}));
    let cy = add_user(&okta, "cy@example.com", json!({}));
    okta.add_member(&engineering, &ada).expect("added");
    okta.add_member(&sales, &bob).expect("added");
    okta.add_member(&sales, &cy).expect("added");
    okta.remove_member(&sales, &cy).expect("removed");
    let connector = create_with(
        &stack,
        &okta,
        json!({"scope": {"requiredGroups": ["Engineering", sales]}}),
    )
    .await;

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    let users = users_by_id(&stack, &connector, "").await;
    let expected: BTreeSet<String> = [ada.clone(), bob.clone()].into();
    assert_eq!(users.keys().cloned().collect::<BTreeSet<_>>(), expected);
    assert_eq!(run.counts.users.seen, 2);
    assert_eq!(
        run.counts.users.out_of_scope as usize,
        okta.org_snapshot().user_count() - 2
    );
    let everyone = okta.org_snapshot().everyone_id().to_owned();
    assert_eq!(
        member_ids(&stack, &connector, &everyone).await,
        expected,
        "member lists hold only mirrored users"
    );
}

#[tokio::test]
async fn missing_required_group_fails_run() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = create_with(
        &stack,
        &okta,
        json!({"scope": {"requiredGroups": ["No such group"]}}),
    )
    .await;

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Failed);
    let error = run.error.expect("an error");
    assert_eq!(error.code, "invalid_settings");
    assert!(error.message.contains("No such group"), "{}", error.message);
    assert!(users_by_id(&stack, &connector, "").await.is_empty());
}

#[tokio::test]
async fn group_allow_and_block_patterns() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let app_sales = okta.create_group("app-sales");
    let app_admins = okta.create_group("app-admins");
    okta.create_group("hr");
    let member = add_user(&okta, "ada@example.com", json!({}));
    okta.add_member(&app_admins, &member).expect("added");
    let connector = create_with(&stack, &okta, json!({})).await;
    stack.sync_now(&connector).await;
    assert!(group_names(&stack, &connector).await.contains("app-admins"));

    let (status, body) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"scope": {"groupAllow": ["^app-", "^hr$"], "groupBlock": ["admins$"]}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["scope"]["groupAllow"], json!(["^app-", "^hr$"]));
    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    let expected: BTreeSet<String> = ["app-sales", "hr"].map(String::from).into();
    assert_eq!(group_names(&stack, &connector).await, expected);
    let (_, blocked) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/groups/{app_admins}"),
            None,
        )
        .await;
    assert!(
        blocked["removedAt"].is_string(),
        "a mirrored group that falls out of scope is removed: {blocked}"
    );
    assert!(member_ids(&stack, &connector, &app_admins).await.is_empty());
    let (_, user) = get_user(&stack, &connector, &member).await;
    assert!(!user["groups"]
        .as_array()
        .expect("groups")
        .contains(&json!(app_admins)));
    let (_, allowed) = stack
        .request(
            "GET",
            &format!("/connectors/{connector}/groups/{app_sales}"),
            None,
        )
        .await;
    assert!(allowed["removedAt"].is_null());
}

#[tokio::test]
async fn user_filter_selects_users() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = create_with(
        &stack,
        &okta,
        json!({"scope": {"userFilter": "status eq \"ACTIVE\""}}),
    )
    .await;

    let run = stack.sync_now(&connector).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    let org = okta.org_snapshot();
    let expected: BTreeSet<String> = org
        .users()
        .filter(|user| user.status == UserStatus::Active)
        .map(|user| user.id.clone())
        .collect();
    assert!(
        expected.len() < org.user_count(),
        "the org has other statuses"
    );
    let users = users_by_id(&stack, &connector, "").await;
    assert_eq!(users.keys().cloned().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn user_search_selects_users() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let ada = add_user(&okta, "ada@example.com", json!({"department": "Shape"}));
    let bob = add_user(&okta, "bob@example.com", json!({"department": "Shape"}));
    let connector = create_with(
        &stack,
        &okta,
        json!({"scope": {"userSearch": "profile.department eq \"Shape\""}}),
    )
    .await;

    stack.sync_now(&connector).await;

    let users = users_by_id(&stack, &connector, "").await;
    let expected: BTreeSet<String> = [ada, bob].into();
    assert_eq!(users.keys().cloned().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn user_selection_rejected_by_okta() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let cases = [
        ("userFilter", "status eq", "E0000053"),
        ("userFilter", "profile.department eq \"Sales\"", "E0000053"),
        ("userSearch", "profile.department zz \"Sales\"", "E0000031"),
    ];
    for (field, expression, okta_code) in cases {
        let body = json!({
            "name": "Bad", "domain": okta.domain(), "apiToken": okta.token(),
            "scope": {field: expression},
        });
        let (status, error) = stack.request("POST", "/connectors", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{expression}: {error}");
        assert_eq!(error["code"], "invalid_user_selection");
        assert_eq!(error["field"], format!("scope.{field}"));
        assert_eq!(error["oktaCode"], okta_code);
    }
    assert!(stack.list_all("/connectors").await.is_empty());

    let connector = create_with(&stack, &okta, json!({})).await;
    let (status, error) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"scope": {"userFilter": "lastLogin gt \"2026-01-01T00:00:00.000Z\""}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["field"], "scope.userFilter");
    let (_, stored) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert!(stored["scope"]["userFilter"].is_null(), "{stored}");
}

#[tokio::test]
async fn bad_settings_rejected() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let rule = |transforms: Value| json!({"rules": [{"target": "login", "from": ["login"], "transforms": transforms}]});
    let cases = [
        (
            json!({"scope": {"groupAllow": ["^ok$", "(unclosed"]}}),
            "scope.groupAllow[1]",
            "invalid_pattern",
        ),
        (
            json!({"scope": {"groupBlock": ["a{5000}{5000}"]}}),
            "scope.groupBlock[0]",
            "invalid_pattern",
        ),
        (
            json!({"scope": {"requiredGroups": [" "]}}),
            "scope.requiredGroups[0]",
            "invalid_scope",
        ),
        (
            json!({"scope": {"userFilter": "status eq \"ACTIVE\"", "userSearch": "status eq \"ACTIVE\""}}),
            "scope.userSearch",
            "invalid_scope",
        ),
        (
            json!({"scope": {"groupAllow": "^app-"}}),
            "scope.groupAllow",
            "invalid_field",
        ),
        (json!({"scope": {"groups": []}}), "groups", "unknown_field"),
        (
            json!({"mapping": {"rules": [{"target": "login", "from": []}]}}),
            "mapping.rules[0].from",
            "invalid_mapping",
        ),
        (
            json!({"mapping": {"rules": [{"target": "bad name", "from": ["login"]}]}}),
            "mapping.rules[0].target",
            "invalid_mapping",
        ),
        (
            json!({"mapping": rule(json!([{"type": "lowercase"}, {"type": "regexReplace", "pattern": "[", "replacement": ""}]))}),
            "mapping.rules[0].transforms[1].pattern",
            "invalid_pattern",
        ),
        (
            json!({"mapping": rule(json!([{"type": "script", "code": "x"}]))}),
            "mapping.rules[0].transforms[0].type",
            "invalid_field",
        ),
        (
            json!({"mapping": {"whenNoRule": "skip"}}),
            "mapping.whenNoRule",
            "invalid_field",
        ),
        (
            json!({"cleanup": {"onRemoval": "purge"}}),
            "cleanup.onRemoval",
            "invalid_field",
        ),
        (
            json!({"adoptFrom": ["0123456789abcdef0123456789abcdef"]}),
            "adoptFrom[0]",
            "invalid_adopt_from",
        ),
        (
            json!({"adoptFrom": ["not-an-id"]}),
            "adoptFrom[0]",
            "invalid_adopt_from",
        ),
        (
            json!({"adoptMatch": "phone"}),
            "adoptMatch",
            "invalid_field",
        ),
    ];
    for (settings, field, code) in &cases {
        let mut body = json!({"name": "Bad", "domain": okta.domain(), "apiToken": okta.token()});
        for (name, value) in settings.as_object().cloned().unwrap_or_default() {
            body[name] = value;
        }
        let (status, error) = stack.request("POST", "/connectors", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{settings}: {error}");
        assert_eq!(error["field"], *field, "{settings}: {error}");
        assert_eq!(error["code"], *code, "{settings}: {error}");
    }
    assert!(stack.list_all("/connectors").await.is_empty());

    let connector = create_with(&stack, &okta, json!({})).await;
    let (_, before) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    for (settings, field, _) in &cases {
        let (status, error) = stack
            .request(
                "PATCH",
                &format!("/connectors/{connector}"),
                Some(settings.clone()),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "PATCH {settings}: {error}");
        assert_eq!(error["field"], *field, "PATCH {settings}: {error}");
    }
    let (status, error) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"adoptFrom": [connector]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["field"], "adoptFrom[0]");
    let (_, after) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;
    assert_eq!(after, before, "rejected updates change nothing");
}

#[tokio::test]
async fn connector_settings_defaults_shown() {
    let okta = fake_okta(OrgSpec::small()).await;
    let stack = Stack::new().await;
    let connector = create_with(&stack, &okta, json!({})).await;

    let (_, body) = stack
        .request("GET", &format!("/connectors/{connector}"), None)
        .await;

    assert_eq!(
        body["cleanup"],
        json!({"onRemoval": "disable", "dropMemberships": false})
    );
    assert_eq!(body["mapping"], json!({"rules": [], "whenNoRule": "keep"}));
    assert_eq!(
        body["scope"],
        json!({"requiredGroups": [], "groupAllow": [], "groupBlock": []})
    );
    assert_eq!(body["adoptMatch"], "login");
}

#[tokio::test]
async fn mapping_rules_shape_fields() {
    let okta = fake_okta(OrgSpec::new(5, 3, 1)).await;
    let stack = Stack::new().await;
    let ada = add_user(
        &okta,
        "Ada.Lovelace@Example.com",
        json!({"workEmail": "ada@work.example", "nickName": "Countess Ada", "costCenter": 7001}),
    );
    let bob = add_user(&okta, "Bob@Example.com", json!({"workEmail": null}));
    let mapping = json!({"rules": [
        {"target": "login", "from": ["login"], "transforms": [{"type": "stripEmailDomain"}, {"type": "lowercase"}]},
        {"target": "email", "from": ["workEmail", "email"]},
        {"target": "displayName", "from": ["nickName"], "transforms": [
            {"type": "regexReplace", "pattern": "^Countess (\\w+)$", "replacement": "Lady $1"}
        ]},
        {"target": "costCentre", "from": ["costCenter"]}
    ]});
    let connector = create_with(&stack, &okta, json!({"mapping": mapping})).await;

    stack.sync_now(&connector).await;

    let (_, ada_user) = get_user(&stack, &connector, &ada).await;
    assert_eq!(
        ada_user["login"], "ada.lovelace",
        "strip domain, lower-case"
    );
    assert_eq!(
        ada_user["email"], "ada@work.example",
        "first of alternatives"
    );
    assert_eq!(ada_user["displayName"], "Lady Ada", "regex replace");
    assert_eq!(
        ada_user["attributes"]["costCentre"], 7001,
        "rename keeps the type"
    );
    assert_eq!(
        ada_user["profile"]["login"], "Ada.Lovelace@Example.com",
        "the profile stays as Okta sent it"
    );
    let (_, bob_user) = get_user(&stack, &connector, &bob).await;
    assert_eq!(bob_user["login"], "bob");
    assert_eq!(bob_user["email"], "bob@example.com", "falls back to email");

    // A change of the rules rewrites the users it changes.
    let (status, _) = stack
        .request(
            "PATCH",
            &format!("/connectors/{connector}"),
            Some(json!({"mapping": {"rules": []}})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let run = stack.sync_now(&connector).await;
    assert!(run.counts.users.updated >= 2, "run: {:?}", run.counts);
    let (_, ada_user) = get_user(&stack, &connector, &ada).await;
    assert_eq!(ada_user["login"], "Ada.Lovelace@Example.com");
    assert!(ada_user["attributes"].is_null(), "{ada_user}");
}

#[tokio::test]
async fn when_no_rule_drop_and_exclude() {
    let okta = fake_okta(OrgSpec::new(6, 3, 1)).await;
    let stack = Stack::new().await;
    let with_work = add_user(
        &okta,
        "ada@example.com",
        json!({"workEmail": "ada@work.example"}),
    );
    let without = add_user(&okta, "bob@example.com", json!({"workEmail": null}));
    let rules = json!([{"target": "email", "from": ["workEmail"]}]);
    let keep = create_with(
        &stack,
        &okta,
        json!({"mapping": {"rules": rules, "whenNoRule": "keep"}}),
    )
    .await;
    let drop = create_with(
        &stack,
        &okta,
        json!({"mapping": {"rules": rules, "whenNoRule": "drop"}}),
    )
    .await;
    let exclude = create_with(
        &stack,
        &okta,
        json!({"mapping": {"rules": rules, "whenNoRule": "exclude"}}),
    )
    .await;

    stack.sync_now(&keep).await;
    stack.sync_now(&drop).await;
    let excluded_run = stack.sync_now(&exclude).await;

    assert_eq!(
        get_user(&stack, &keep, &without).await.1["email"],
        "bob@example.com"
    );
    assert!(get_user(&stack, &drop, &without).await.1["email"].is_null());
    assert_eq!(
        get_user(&stack, &exclude, &without).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_user(&stack, &exclude, &with_work).await.1["email"],
        "ada@work.example"
    );
    assert!(excluded_run.counts.users.out_of_scope >= 1);
    let everyone = okta.org_snapshot().everyone_id().to_owned();
    assert!(!member_ids(&stack, &exclude, &everyone)
        .await
        .contains(&without));
}

/// The state each cleanup action leaves, checked after a user left the
/// required group (still in Okta) and another was deleted from Okta.
#[tokio::test]
async fn cleanup_actions_apply() {
    let okta = fake_okta(OrgSpec::new(9, 3, 2)).await;
    let stack = Stack::new().await;
    let staff = okta.create_group("Staff");
    let team = okta.create_group("Team");
    let leaver = add_user(&okta, "leaver@example.com", json!({}));
    let deleted = add_user(&okta, "deleted@example.com", json!({}));
    let stayer = add_user(&okta, "stayer@example.com", json!({}));
    for user in [&leaver, &deleted, &stayer] {
        okta.add_member(&staff, user).expect("added");
        okta.add_member(&team, user).expect("added");
    }
    let scope = json!({"requiredGroups": ["Staff"]});
    let mut connectors = BTreeMap::new();
    for (action, drop) in [
        ("disable", false),
        ("delete", false),
        ("anonymize", false),
        ("keep", false),
        ("disable", true),
    ] {
        let cleanup = json!({"onRemoval": action, "dropMemberships": drop});
        // Any removal from this three-user org exceeds the default deletion
        // guard, so the guard is turned off here.
        let settings =
            json!({"scope": scope, "cleanup": cleanup, "deletionGuard": {"maxShare": 1}});
        let id = create_with(&stack, &okta, settings).await;
        stack.sync_now(&id).await;
        connectors.insert((action, drop), id);
    }
    let before: BTreeMap<_, _> = {
        let mut keys = BTreeMap::new();
        for (name, id) in &connectors {
            keys.insert(*name, get_user(&stack, id, &leaver).await.1);
        }
        keys
    };
    okta.remove_member(&staff, &leaver).expect("left the scope");
    okta.set_user_status(&deleted, UserStatus::Deprovisioned)
        .expect("deactivated");
    okta.delete_user(&deleted).expect("deleted");

    for id in connectors.values() {
        let run = stack.sync_now(id).await;
        assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
        assert_eq!(run.counts.users.removed, 2, "run: {:?}", run.counts);
    }

    let disable = &connectors[&("disable", false)];
    let (_, user) = get_user(&stack, disable, &leaver).await;
    assert_eq!(user["status"], "DEPROVISIONED");
    assert!(user["removedAt"].is_string());
    assert_eq!(user["login"], "leaver@example.com");
    assert!(
        user["groups"]
            .as_array()
            .expect("groups")
            .contains(&json!(team)),
        "memberships Okta still has stay: {user}"
    );
    assert!(!users_by_id(&stack, disable, "").await.contains_key(&leaver));

    let delete = &connectors[&("delete", false)];
    assert_eq!(
        get_user(&stack, delete, &leaver).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_user(&stack, delete, &deleted).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(!member_ids(&stack, delete, &team).await.contains(&leaver));
    let (_, group) = stack
        .request("GET", &format!("/connectors/{delete}/groups/{team}"), None)
        .await;
    assert_eq!(group["memberCount"], 1, "{group}");

    let anonymize = &connectors[&("anonymize", false)];
    let (_, user) = get_user(&stack, anonymize, &leaver).await;
    assert_eq!(user["key"], before[&("anonymize", false)]["key"]);
    assert!(user["removedAt"].is_string());
    for field in ["login", "email", "firstName", "lastName", "lastLogin"] {
        assert!(user[field].is_null(), "{field} cleared: {user}");
    }
    assert_eq!(user["profile"], json!({}));

    let keep = &connectors[&("keep", false)];
    let listed = users_by_id(&stack, keep, "").await;
    assert_eq!(listed[&leaver]["status"], "ACTIVE");
    assert!(listed[&leaver]["leftAt"].is_string());
    assert!(listed[&leaver]["removedAt"].is_null());

    let dropped = &connectors[&("disable", true)];
    let (_, user) = get_user(&stack, dropped, &leaver).await;
    assert_eq!(user["groups"], json!([]), "memberships dropped");
    assert!(!member_ids(&stack, dropped, &team).await.contains(&leaver));

    // A third run removes no user again.
    for id in connectors.values() {
        let run = stack.sync_now(id).await;
        assert_eq!(run.counts.users.removed, 0, "run: {:?}", run.counts);
    }
}

#[tokio::test]
async fn anonymized_user_restored_on_return() {
    let okta = fake_okta(OrgSpec::new(10, 3, 1)).await;
    let stack = Stack::new().await;
    let staff = okta.create_group("Staff");
    let user_id = add_user(&okta, "returner@example.com", json!({"nickName": "Ret"}));
    okta.add_member(&staff, &user_id).expect("added");
    let connector = create_with(
        &stack,
        &okta,
        // The only user's removal would exceed the default deletion guard.
        json!({"scope": {"requiredGroups": [staff]}, "cleanup": {"onRemoval": "anonymize"}, "deletionGuard": {"maxShare": 1}}),
    )
    .await;
    stack.sync_now(&connector).await;
    let (_, before) = get_user(&stack, &connector, &user_id).await;
    okta.remove_member(&staff, &user_id).expect("left");
    stack.sync_now(&connector).await;
    let (_, anonymized) = get_user(&stack, &connector, &user_id).await;
    assert!(anonymized["login"].is_null(), "{anonymized}");

    okta.add_member(&staff, &user_id).expect("returned");
    let run = stack.sync_now(&connector).await;

    assert_eq!(run.counts.users.created, 0, "restored, not duplicated");
    assert_eq!(run.counts.users.updated, 1);
    let (_, after) = get_user(&stack, &connector, &user_id).await;
    assert_eq!(after["login"], "returner@example.com");
    assert_eq!(after["profile"]["nickName"], "Ret");
    assert_eq!(after["status"], "ACTIVE");
    assert_eq!(after["key"], before["key"]);
    assert_eq!(after["firstSyncedAt"], before["firstSyncedAt"]);
    assert!(after["removedAt"].is_null());
    assert_eq!(after["groups"], before["groups"]);
    assert_eq!(users_by_id(&stack, &connector, "").await.len(), 1);
}

/// Stores an attribute that a downstream application might write on a
/// mirrored user's item.
async fn put_foreign_attribute(stack: &Stack, connector: &str, user_id: &str) {
    aws_sdk_dynamodb::Client::new(&stack.sdk)
        .update_item()
        .table_name(&stack.resources.table)
        .key("pk", AttributeValue::S(format!("c#{connector}#user")))
        .key("sk", AttributeValue::S(user_id.to_owned()))
        .update_expression("SET appRole = :role")
        .expression_attribute_values(":role", AttributeValue::S("editor".into()))
        .send()
        .await
        .expect("attribute written");
}

async fn app_role(stack: &Stack, connector: &str, user_id: &str) -> Option<String> {
    aws_sdk_dynamodb::Client::new(&stack.sdk)
        .get_item()
        .table_name(&stack.resources.table)
        .key("pk", AttributeValue::S(format!("c#{connector}#user")))
        .key("sk", AttributeValue::S(user_id.to_owned()))
        .send()
        .await
        .expect("item read")
        .item
        .and_then(|item| item.get("appRole").and_then(|v| v.as_s().ok()).cloned())
}

#[tokio::test]
async fn adoption_across_orgs_keeps_keys() {
    let old_org = fake_okta(OrgSpec::new(21, 2, 1)).await;
    let new_org = fake_okta(OrgSpec::new(22, 2, 1)).await;
    let stack = Stack::new().await;
    let old_alice = add_user(&old_org, "alice@example.com", json!({}));
    let old_carol = add_user(&old_org, "carol@example.com", json!({}));
    add_user(&old_org, "bob@example.com", json!({}));
    let old = create_with(&stack, &old_org, json!({})).await;
    stack.sync_now(&old).await;
    put_foreign_attribute(&stack, &old, &old_alice).await;
    let (_, old_alice_user) = get_user(&stack, &old, &old_alice).await;
    let (_, old_carol_user) = get_user(&stack, &old, &old_carol).await;

    let new_alice = add_user(&new_org, "Alice@Example.com", json!({}));
    // The new org stores Carol's login without a domain; a mapping rule
    // adds it so her login matches the old one.
    let new_carol = add_user(&new_org, "carol", json!({"email": "carol@example.com"}));
    assert_ne!(new_alice, old_alice, "the orgs give different Okta ids");
    let mapping = json!({"rules": [{"target": "login", "from": ["login"], "transforms": [
        {"type": "regexReplace", "pattern": "^([^@]+)$", "replacement": "$1@example.com"}
    ]}]});
    let new = create_with(
        &stack,
        &new_org,
        json!({"adoptFrom": [old], "mapping": mapping}),
    )
    .await;

    let run = stack.sync_now(&new).await;

    assert_eq!(run.status, RunStatus::Succeeded, "run: {run:?}");
    let (_, alice) = get_user(&stack, &new, &new_alice).await;
    assert_eq!(alice["id"], new_alice);
    assert_eq!(alice["login"], "Alice@Example.com");
    assert_eq!(alice["key"], old_alice_user["key"]);
    assert_eq!(alice["firstSyncedAt"], old_alice_user["firstSyncedAt"]);
    assert_eq!(
        app_role(&stack, &new, &new_alice).await.as_deref(),
        Some("editor")
    );
    let (_, carol) = get_user(&stack, &new, &new_carol).await;
    assert_eq!(carol["key"], old_carol_user["key"]);

    let adoption = run.adoption.expect("adoption report");
    assert!(adoption.adopted >= 2, "{adoption:?}");
    assert!(
        adoption.unmatched.contains(&"bob@example.com".to_owned()),
        "{adoption:?}"
    );
    assert_eq!(adoption.unmatched_count as usize, adoption.unmatched.len());
    let (_, old_connector) = stack
        .request("GET", &format!("/connectors/{old}"), None)
        .await;
    assert_eq!(old_connector["adoptedBy"], new);

    // Adoption happens on the first successful sync only.
    let (status, error) = stack
        .request(
            "PATCH",
            &format!("/connectors/{new}"),
            Some(json!({"adoptFrom": [old]})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{error}");
    assert_eq!(error["code"], "adoption_closed");
    assert_eq!(error["field"], "adoptFrom");
    let later = stack.sync_now(&new).await;
    assert!(later.adoption.is_none());
    assert_eq!(
        get_user(&stack, &new, &new_alice).await.1["key"],
        old_alice_user["key"]
    );
}

#[tokio::test]
async fn adoption_matches_by_email() {
    let old_org = fake_okta(OrgSpec::new(31, 2, 1)).await;
    let new_org = fake_okta(OrgSpec::new(32, 2, 1)).await;
    let stack = Stack::new().await;
    let old_user = add_user(
        &old_org,
        "a.smith@old.example",
        json!({"email": "Ann@Example.com"}),
    );
    let old = create_with(&stack, &old_org, json!({})).await;
    stack.sync_now(&old).await;
    let (_, before) = get_user(&stack, &old, &old_user).await;
    let new_user = add_user(
        &new_org,
        "ann@new.example",
        json!({"email": "ann@example.com"}),
    );
    let new = create_with(
        &stack,
        &new_org,
        json!({"adoptFrom": [old], "adoptMatch": "email"}),
    )
    .await;

    stack.sync_now(&new).await;

    let (_, after) = get_user(&stack, &new, &new_user).await;
    assert_eq!(after["key"], before["key"]);
}
