//! The fake's System Log (`GET /api/v1/logs`): event shape, filters, paging,
//! late events, the 403 switch and its rate-limit bucket.

use std::time::Duration;

use fake_okta::{generate_org, Config, FakeOkta, GroupType, LogSettings, OrgSpec};
use reqwest::header::LINK;
use reqwest::StatusCode;
use serde_json::Value;

const MEMBERSHIP_FILTER: &str =
    r#"eventType eq "group.user_membership.add" or eventType eq "group.user_membership.remove""#;

async fn start() -> FakeOkta {
    FakeOkta::start(Config::new(generate_org(&OrgSpec::new(31, 40, 6))))
        .await
        .expect("start the fake Okta server")
}

async fn get(fake: &FakeOkta, url: &str, token: &str) -> reqwest::Response {
    let url = if url.starts_with("http") {
        url.to_string()
    } else {
        format!("{}{url}", fake.base_url())
    };
    reqwest::Client::new()
        .get(&url)
        .header("Authorization", format!("SSWS {token}"))
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {url} failed: {error}"))
}

fn logs_path(query: &[(&str, &str)]) -> String {
    let query = form_urlencoded_pairs(query);
    format!("/api/v1/logs?{query}")
}

fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn next_link(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_suffix("; rel=\"next\""))
        .map(|value| value.trim_matches(|c| c == '<' || c == '>').to_string())
}

/// Returns the smallest regular group and a user who is not in it.
fn group_and_outsider(fake: &FakeOkta) -> (String, String) {
    let org = fake.org();
    let group = org
        .groups()
        .filter(|group| group.group_type != GroupType::BuiltIn)
        .min_by_key(|group| group.members.len())
        .expect("a regular group");
    let user = org
        .users()
        .find(|user| !group.members.contains(&user.id))
        .expect("a user outside the group");
    (group.id.clone(), user.id.clone())
}

fn target_ids(event: &Value, target_type: &str) -> Vec<String> {
    event["target"]
        .as_array()
        .expect("a target array")
        .iter()
        .filter(|target| target["type"] == target_type)
        .map(|target| target["id"].as_str().expect("a target id").to_string())
        .collect()
}

#[tokio::test]
async fn membership_changes_are_logged() {
    let fake = start().await;
    let since = fake.now();
    let (group, user) = group_and_outsider(&fake);
    fake.add_member(&group, &user).expect("added");
    fake.remove_member(&group, &user).expect("removed");

    let path = logs_path(&[
        ("since", &fake_okta::format_timestamp(&since)),
        ("filter", MEMBERSHIP_FILTER),
    ]);
    let response = get(&fake, &path, &fake.token()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["x-rate-limit-limit"],
        "120",
        "the logs bucket"
    );
    let events: Vec<Value> = response.json().await.expect("a JSON array");

    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["eventType"], "group.user_membership.add");
    assert_eq!(events[1]["eventType"], "group.user_membership.remove");
    for event in &events {
        assert_eq!(event["outcome"]["result"], "SUCCESS");
        assert!(event["uuid"].as_str().is_some_and(|uuid| uuid.len() == 36));
        assert!(event["displayMessage"].is_string());
        assert!(event["actor"]["id"].is_string());
        assert_eq!(target_ids(event, "User"), vec![user.clone()]);
        assert_eq!(target_ids(event, "UserGroup"), vec![group.clone()]);
        let published = event["published"].as_str().expect("published");
        assert!(
            chrono::DateTime::parse_from_rfc3339(published).is_ok(),
            "{published}"
        );
    }
    assert!(events[0]["published"].as_str() <= events[1]["published"].as_str());
}

#[tokio::test]
async fn deletion_logs_no_membership_events() {
    let fake = start().await;
    let since = fake.now();
    let deleted = {
        let org = fake.org();
        let member = org
            .groups()
            .filter(|group| group.group_type != GroupType::BuiltIn)
            .find_map(|group| group.members.iter().next().cloned());
        member.expect("a member of a regular group")
    };
    fake.delete_user(&deleted).expect("deleted");
    fake.create_user(serde_json::json!({"login": "log.new@example.com"}))
        .expect("created");

    let path = logs_path(&[("since", &fake_okta::format_timestamp(&since))]);
    let events: Vec<Value> = get(&fake, &path, &fake.token())
        .await
        .json()
        .await
        .expect("a JSON array");

    let types: Vec<&str> = events
        .iter()
        .map(|event| event["eventType"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types, vec!["user.lifecycle.delete.initiated"]);
    assert_eq!(target_ids(&events[0], "User"), vec![deleted]);
}

#[tokio::test]
async fn log_pages_follow_next_links() {
    let fake = start().await;
    let since = fake_okta::format_timestamp(&fake.now());
    let (group, _) = group_and_outsider(&fake);
    let outsiders: Vec<String> = {
        let org = fake.org();
        let members = &org.group(&group).expect("group").members;
        org.users()
            .filter(|user| !members.contains(&user.id))
            .take(5)
            .map(|user| user.id.clone())
            .collect()
    };
    for user in &outsiders {
        fake.add_member(&group, user).expect("added");
    }

    let mut url = logs_path(&[("since", &since), ("limit", "2")]);
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let response = get(&fake, &url, &fake.token()).await;
        assert_eq!(response.status(), StatusCode::OK);
        let next = next_link(&response);
        let events: Vec<Value> = response.json().await.expect("a JSON array");
        assert!(events.len() <= 2);
        seen.extend(events.iter().flat_map(|event| target_ids(event, "User")));
        pages += 1;
        match next {
            Some(next) => url = next,
            None => break,
        }
    }

    assert_eq!(outsiders.len(), 5);
    assert_eq!(seen, outsiders, "every event once, oldest first");
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn until_and_descending_order() {
    let fake = start().await;
    let since = fake_okta::format_timestamp(&fake.now());
    let (group, user) = group_and_outsider(&fake);
    fake.add_member(&group, &user).expect("added");
    fake.advance_clock(Duration::from_secs(10));
    let until = fake_okta::format_timestamp(&fake.now());
    fake.remove_member(&group, &user).expect("removed");

    let bounded = logs_path(&[("since", &since), ("until", &until)]);
    let bounded: Vec<Value> = get(&fake, &bounded, &fake.token())
        .await
        .json()
        .await
        .expect("a JSON array");
    let descending = logs_path(&[("since", &since), ("sortOrder", "DESCENDING")]);
    let descending: Vec<Value> = get(&fake, &descending, &fake.token())
        .await
        .json()
        .await
        .expect("a JSON array");

    assert_eq!(bounded.len(), 1);
    assert_eq!(bounded[0]["eventType"], "group.user_membership.add");
    assert_eq!(descending.len(), 2);
    assert_eq!(descending[0]["eventType"], "group.user_membership.remove");
}

#[tokio::test]
async fn late_events_appear_after_delay() {
    let fake = start().await;
    let since = fake_okta::format_timestamp(&fake.now());
    fake.set_log_settings(LogSettings {
        delay: Duration::from_secs(300),
        forbidden: false,
    });
    let (group, user) = group_and_outsider(&fake);
    fake.add_member(&group, &user).expect("added");
    let path = logs_path(&[("since", &since)]);

    let before: Vec<Value> = get(&fake, &path, &fake.token())
        .await
        .json()
        .await
        .expect("a JSON array");
    fake.advance_clock(Duration::from_secs(301));
    let after: Vec<Value> = get(&fake, &path, &fake.token())
        .await
        .json()
        .await
        .expect("a JSON array");

    assert!(before.is_empty(), "{before:?}");
    assert_eq!(after.len(), 1);
}

#[tokio::test]
async fn forbidden_switch_and_scoped_tokens_get_403() {
    let fake = start().await;
    let (group, _) = group_and_outsider(&fake);
    fake.add_scoped_token("scoped-token", std::slice::from_ref(&group));

    let scoped = get(&fake, "/api/v1/logs", "scoped-token").await;
    fake.set_log_settings(LogSettings {
        delay: Duration::ZERO,
        forbidden: true,
    });
    let switched = get(&fake, "/api/v1/logs", &fake.token()).await;

    assert_eq!(scoped.status(), StatusCode::FORBIDDEN);
    assert_eq!(switched.status(), StatusCode::FORBIDDEN);
    let body: Value = switched.json().await.expect("an error body");
    assert_eq!(body["errorCode"], "E0000006");
}

#[tokio::test]
async fn invalid_log_parameters_get_400() {
    let fake = start().await;
    let cases = [
        logs_path(&[("since", "yesterday")]),
        logs_path(&[("filter", r#"published gt "2026-01-01T00:00:00.000Z""#)]),
        logs_path(&[("sortOrder", "RANDOM")]),
        logs_path(&[
            ("since", "2026-02-01T00:00:00.000Z"),
            ("until", "2026-01-01T00:00:00.000Z"),
        ]),
        logs_path(&[("after", "not-a-cursor")]),
    ];
    for path in cases {
        let response = get(&fake, &path, &fake.token()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
}

#[tokio::test]
async fn admin_route_sets_log_settings() {
    let fake = start().await;
    let client = reqwest::Client::new();

    let response = client
        .post(format!("{}/__admin/logs", fake.base_url()))
        .json(&serde_json::json!({"delayMs": 1500, "forbidden": true}))
        .send()
        .await
        .expect("POST /__admin/logs");

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        fake.log_settings(),
        LogSettings {
            delay: Duration::from_millis(1500),
            forbidden: true,
        }
    );
}
