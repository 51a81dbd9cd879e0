//! Malformed requests across every route: each gets a 4xx with a code and a
//! message, never a 5xx, and the stored state is unchanged afterwards.

use fake_okta::{generate_org, Config, FakeOkta, OrgSpec};
use harness::Stack;

#[tokio::test]
async fn malformed_requests_change_nothing() {
    let okta = FakeOkta::start(Config::new(generate_org(&OrgSpec::small())))
        .await
        .expect("fake Okta");
    let stack = Stack::new().await;
    let c = stack.create_connector(&okta).await;
    stack.sync_now(&c).await;
    let (_, other) = stack
        .request(
            "POST",
            "/connectors",
            Some(serde_json::json!({"name": "Other", "domain": "acme.okta.com", "apiToken": "00abcdefghijklmnopqrstuvwxyz0123456789ABCD"})),
        )
        .await;
    let other = other["id"].as_str().expect("id").to_owned();
    let (_, page) = stack
        .request("GET", &format!("/connectors/{other}/users?limit=1"), None)
        .await;
    let (_, users_page) = stack
        .request("GET", &format!("/connectors/{c}/users?limit=1"), None)
        .await;
    let user_cursor = users_page["nextCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    assert!(page["nextCursor"].is_null());
    let user = users_page["items"][0]["id"]
        .as_str()
        .expect("user")
        .to_owned();
    let (_, runs) = stack
        .request("GET", &format!("/connectors/{c}/runs"), None)
        .await;
    let run = runs["items"][0]["runId"].as_str().expect("run").to_owned();
    let json = "application/json";
    let long = "x".repeat(10_000);
    let huge = format!("{{\"name\":\"{}\"}}", "y".repeat(70_000));

    let cases: Vec<(&str, String, Option<String>, &str)> = vec![
        // Creating connectors.
        ("POST", "/connectors".into(), Some("".into()), json),
        ("POST", "/connectors".into(), Some("{".into()), json),
        ("POST", "/connectors".into(), Some("null".into()), json),
        ("POST", "/connectors".into(), Some("[]".into()), json),
        ("POST", "/connectors".into(), Some("123".into()), json),
        ("POST", "/connectors".into(), Some("\"text\"".into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":null,"domain":"acme.okta.com","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":{"a":1},"domain":"acme.okta.com","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"A","domain":42,"apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"A","domain":"acme.okta.com","apiToken":true}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"\u0000","domain":"acme.okta.com","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"\ud800","domain":"acme.okta.com","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"A","domain":"acme.okta.com.","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"A","domain":"ацме.okta.com","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"A","domain":"http://169.254.169.254/latest","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"A","domain":"[::1]:0","apiToken":"00abcdefghijklmnopqrstuvwxyz0123456789ABCD"}"#.into()), json),
        ("POST", "/connectors".into(), Some(r#"{"name":"A","domain":"acme.okta.com","apiToken":"00abc😀defghijklmnopqrstuvwxyz0123456789"}"#.into()), json),
        ("POST", "/connectors".into(), Some(huge.clone()), json),
        ("POST", "/connectors".into(), Some("name=A".into()), "application/x-www-form-urlencoded"),
        ("POST", "/connectors".into(), Some("{}".into()), "text/json"),
        // Changing connectors.
        ("PATCH", format!("/connectors/{c}"), Some("{}".into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"name":""}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"domain":"1.2.3.4"}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"apiToken":"                         "}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"id":"other"}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"name":["A"]}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"name":"B"}"#.into()), "text/plain"),
        ("PATCH", format!("/connectors/{c}"), Some(huge.clone()), json),
        ("PATCH", "/connectors/0123456789abcdef0123456789abcdef".into(), Some(r#"{"name":"B"}"#.into()), json),
        ("PATCH", "/connectors/..%2F..%2Fetc%2Fpasswd".into(), Some(r#"{"name":"B"}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"name":"B","name":"C"}"#.into()), json),
        // Starting syncs.
        ("POST", format!("/connectors/{c}/sync"), Some(r#"{"mode":"partial"}"#.into()), json),
        ("POST", format!("/connectors/{c}/sync"), Some(r#"{"mode":1}"#.into()), json),
        ("POST", format!("/connectors/{c}/sync"), Some(r#"{"mode":"full","extra":true}"#.into()), json),
        ("POST", format!("/connectors/{c}/sync"), Some("[]".into()), json),
        ("POST", format!("/connectors/{c}/sync"), Some("full".into()), "text/plain"),
        ("POST", "/connectors/0123456789abcdef0123456789abcdef/sync".into(), None, json),
        ("GET", format!("/connectors/{c}/sync"), None, json),
        ("DELETE", format!("/connectors/{c}/test"), None, json),
        // Query strings.
        ("GET", format!("/connectors/{c}/users?limit=-1"), None, json),
        ("GET", format!("/connectors/{c}/users?limit=1.5"), None, json),
        ("GET", format!("/connectors/{c}/users?limit="), None, json),
        ("GET", format!("/connectors/{c}/users?cursor=garbage"), None, json),
        ("GET", format!("/connectors/{other}/users?cursor={user_cursor}"), None, json),
        ("GET", format!("/connectors/{c}/users?status=ACTIVE&cursor={user_cursor}"), None, json),
        ("GET", format!("/connectors/{c}/groups?cursor={user_cursor}"), None, json),
        ("GET", format!("/connectors/{c}/users?includeRemoved=TRUE"), None, json),
        ("GET", format!("/connectors/{c}/users?status=active"), None, json),
        ("GET", format!("/connectors/{c}/users?status="), None, json),
        ("GET", format!("/connectors/{c}/users?limit=1&limit=2"), None, json),
        ("GET", format!("/connectors/{c}/runs?order=asc"), None, json),
        ("GET", format!("/connectors?limit={long}"), None, json),
        // Ids and routes.
        ("GET", "/connectors/..%2F..%2Fetc".into(), None, json),
        ("GET", format!("/connectors/{long}"), None, json),
        ("GET", format!("/connectors/{c}/users/..%2F..%2F{user}"), None, json),
        ("GET", format!("/connectors/{c}/users/{long}"), None, json),
        ("GET", format!("/connectors/{c}/groups/nope/members"), None, json),
        ("GET", format!("/connectors/{c}/runs/..%2Flease"), None, json),
        ("GET", format!("/connectors/{c}/unknown"), None, json),
        ("GET", format!("/connectors/{c}/users/{user}/extra"), None, json),
        ("DELETE", "/connectors".into(), None, json),
        ("PUT", format!("/connectors/{c}"), Some("{}".into()), json),
        ("DELETE", "/connectors/0123456789abcdef0123456789abcdef".into(), None, json),
        // Schedules.
        ("PUT", format!("/connectors/{c}/schedule"), Some("{}".into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(r#"{"expression":"* * * * *"}"#.into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(r#"{"expression":"0 9 1 * 1"}"#.into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(r#"{"expression":"cron(0 9 * * FRY *)"}"#.into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(r#"{"interval":{"every":0,"unit":"hours"}}"#.into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(r#"{"interval":{"every":2,"unit":"weeks"}}"#.into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(r#"{"expression":"0 9 * * 1","timezone":"Mars/Base"}"#.into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(r#"{"expression":"0 9 * * 1","interval":{"every":2,"unit":"hours"}}"#.into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(format!(r#"{{"expression":"{long}"}}"#)), json),
        ("POST", "/schedules/preview".into(), Some("x".into()), json),
        ("GET", format!("/connectors/{c}/schedule"), None, json),
        ("DELETE", format!("/connectors/{c}/schedule"), None, json),
        ("PUT", "/connectors/0123456789abcdef0123456789abcdef/schedule".into(), Some(r#"{"interval":{"every":2,"unit":"hours"}}"#.into()), json),
        ("PUT", format!("/connectors/{c}/schedule"), Some(format!(r#"{{"expression":"0 9 * * 1","timezone":"{}"}}"#, "Europe/".repeat(10))), json),
        // Lifecycle settings.
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"scope":{"groupAllow":["("]}}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"scope":{"requiredGroups":[7]}}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"cleanup":{"onRemoval":"shred"}}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"deletionGuard":{"maxShare":2}}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(r#"{"mapping":{"rules":[{"target":"login","from":[]}]}}"#.into()), json),
        ("PATCH", format!("/connectors/{c}"), Some(format!(r#"{{"adoptFrom":["{c}"]}}"#)), json),
        ("POST", format!("/connectors/{c}/sync"), Some(r#"{"dryRun":"yes"}"#.into()), json),
        // Change log, held removals and single-user sync.
        ("GET", format!("/connectors/{c}/runs/nope/changes"), None, json),
        ("GET", format!("/connectors/{c}/runs/{run}/changes?limit=0"), None, json),
        ("GET", format!("/connectors/{c}/runs/{run}/changes?cursor=abc"), None, json),
        ("POST", format!("/connectors/{c}/runs/{run}/approve"), Some(r#"{"x":1}"#.into()), json),
        ("POST", format!("/connectors/{c}/runs/{run}/approve"), Some("yes".into()), "text/plain"),
        ("GET", format!("/connectors/{c}/runs/{run}/approve"), None, json),
        ("POST", format!("/connectors/{c}/runs/{run}/discard"), None, json),
        ("POST", format!("/connectors/{c}/users/me/sync"), None, json),
        ("POST", format!("/connectors/{c}/users/%2E%2E/sync"), None, json),
        ("GET", format!("/connectors/{c}/users/{user}/sync"), None, json),
        // Audit trail.
        ("GET", "/audit?connectorId=..%2Fetc".into(), None, json),
        ("GET", "/audit?limit=0".into(), None, json),
        ("GET", "/audit?cursor=abc".into(), None, json),
        ("GET", "/audit?action=connector.created".into(), None, json),
        ("POST", "/audit".into(), Some("{}".into()), json),
    ];
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let before = stack.dump_table().await;

    for (method, path, body, content_type) in &cases {
        let (status, text) = stack
            .raw_request(method, path, body.as_deref(), content_type)
            .await;
        let shown = &path[..path.len().min(90)];
        assert!(
            status.is_client_error(),
            "{method} {shown}: {status} {text}"
        );
        let error: serde_json::Value = serde_json::from_str(&text).expect("a JSON error");
        assert!(error["code"].is_string(), "{method} {shown}: {text}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| message.len() > 10),
            "{method} {shown}: {text}"
        );
        assert!(
            text.len() < 4_000,
            "{method} {shown}: the error repeats a huge value"
        );
    }

    assert_eq!(
        stack.dump_table().await,
        before,
        "rejected requests changed stored data"
    );
}
