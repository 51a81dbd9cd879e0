//! The fake's HTTP behaviour that the sync relies on, checked with a real
//! HTTP client against a server on 127.0.0.1.

use std::collections::{BTreeSet, HashSet};
use std::time::{Duration, Instant};

use fake_okta::{
    generate_org, Config, FakeOkta, Fault, FaultKind, GroupType, OrgSpec, RateLimits, UserStatus,
};
use reqwest::header::{HeaderMap, LINK};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn start(spec: &OrgSpec) -> FakeOkta {
    start_with(spec, |_| {}).await
}

async fn start_with(spec: &OrgSpec, adjust: impl FnOnce(&mut Config)) -> FakeOkta {
    let mut config = Config::new(generate_org(spec));
    adjust(&mut config);
    FakeOkta::start(config)
        .await
        .expect("start the fake Okta server")
}

async fn get(fake: &FakeOkta, path_and_query: &str, token: &str) -> reqwest::Response {
    get_url(&format!("{}{path_and_query}", fake.base_url()), token).await
}

async fn get_url(url: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .header("Authorization", format!("SSWS {token}"))
        .header("Accept", "application/json")
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {url} failed: {error}"))
}

async fn json_of(response: reqwest::Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// Finds the URL of the Link header line for `rel` and counts the lines with that rel.
fn link(headers: &HeaderMap, rel: &str) -> (Option<String>, usize) {
    let suffix = format!("; rel=\"{rel}\"");
    let urls: Vec<String> = headers
        .get_all(LINK)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.strip_suffix(&suffix))
        .map(|value| {
            value
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
        .collect();
    (urls.first().cloned(), urls.len())
}

fn header_i64(headers: &HeaderMap, name: &str) -> i64 {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("missing or non-numeric {name} header"))
}

fn date_epoch(headers: &HeaderMap) -> i64 {
    let date = headers
        .get("date")
        .and_then(|value| value.to_str().ok())
        .expect("a Date header");
    chrono::DateTime::parse_from_rfc2822(date)
        .unwrap_or_else(|error| panic!("Date {date:?} is not RFC 7231: {error}"))
        .timestamp()
}

/// Follows `next` links from `path` and returns every id seen, in order.
async fn collect_ids(fake: &FakeOkta, path: &str, token: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut url = format!("{}{path}", fake.base_url());
    loop {
        let response = get_url(&url, token).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        let (next, _) = link(response.headers(), "next");
        let page = json_of(response).await;
        for item in page.as_array().expect("a JSON array") {
            ids.push(item["id"].as_str().expect("an id").to_string());
        }
        match next {
            Some(next) => url = next,
            None => return ids,
        }
    }
}

fn assert_okta_error(body: &Value, code: &str) {
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["errorLink"], code, "{body}");
    assert!(
        body["errorSummary"].as_str().is_some_and(|s| !s.is_empty()),
        "{body}"
    );
    assert!(
        body["errorId"]
            .as_str()
            .is_some_and(|id| id.starts_with("oae")),
        "{body}"
    );
    assert!(body["errorCauses"].is_array(), "{body}");
}

#[tokio::test]
async fn users_pages_follow_separate_links() {
    let fake = start(&OrgSpec::new(7, 450, 10)).await;
    let token = fake.token();

    let first = get(&fake, "/api/v1/users", &token).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.headers().get_all(LINK).iter().count(),
        2,
        "one Link line per relation"
    );
    let (self_link, self_count) = link(first.headers(), "self");
    let (next_link, next_count) = link(first.headers(), "next");
    assert_eq!(self_count, 1);
    assert_eq!(next_count, 1);
    assert_eq!(self_link, Some(format!("{}/api/v1/users", fake.base_url())));
    let next_link = next_link.expect("a next link on the first page");
    assert!(
        next_link.starts_with(&format!("{}/api/v1/users?", fake.base_url())),
        "{next_link}"
    );
    let first_page = json_of(first).await;
    let first_page = first_page.as_array().expect("a JSON array");
    assert_eq!(first_page.len(), 200, "default limit");
    let last_id = first_page[199]["id"].as_str().expect("an id");
    assert!(
        !next_link.contains(last_id),
        "cursor {next_link} exposes the id"
    );

    let ids = collect_ids(&fake, "/api/v1/users", &token).await;
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "a user was listed twice");
    let visible = fake
        .org()
        .users()
        .filter(|user| user.status != UserStatus::Deprovisioned)
        .count();
    assert_eq!(ids.len(), visible);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "users come in id order");

    let clamped = json_of(get(&fake, "/api/v1/users?limit=1000", &token).await).await;
    assert_eq!(
        clamped.as_array().map(Vec::len),
        Some(200),
        "limit above 200 is clamped"
    );
}

#[tokio::test]
async fn last_page_has_no_next_link() {
    let fake = start(&OrgSpec::small()).await;
    let response = get(&fake, "/api/v1/users?limit=200", &fake.token()).await;
    let (next, _) = link(response.headers(), "next");
    let (this, _) = link(response.headers(), "self");
    assert_eq!(next, None);
    assert_eq!(
        this,
        Some(format!("{}/api/v1/users?limit=200", fake.base_url()))
    );
}

#[tokio::test]
async fn deprovisioned_only_with_filter() {
    let fake = start(&OrgSpec::new(11, 600, 6)).await;
    let token = fake.token();
    let deprovisioned: BTreeSet<String> = fake
        .org()
        .users()
        .filter(|user| user.status == UserStatus::Deprovisioned)
        .map(|user| user.id.clone())
        .collect();
    assert!(
        !deprovisioned.is_empty(),
        "the org needs DEPROVISIONED users"
    );

    let default_ids: BTreeSet<String> = collect_ids(&fake, "/api/v1/users", &token)
        .await
        .into_iter()
        .collect();
    assert!(default_ids.is_disjoint(&deprovisioned));

    let filtered: BTreeSet<String> = collect_ids(
        &fake,
        "/api/v1/users?filter=status%20eq%20%22DEPROVISIONED%22",
        &token,
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(filtered, deprovisioned);

    let searched: BTreeSet<String> = collect_ids(
        &fake,
        "/api/v1/users?search=status+eq+%22DEPROVISIONED%22",
        &token,
    )
    .await
    .into_iter()
    .collect();
    assert_eq!(searched, deprovisioned);

    let every_status = UserStatus::ALL
        .iter()
        .map(|status| format!("status eq \"{status}\""))
        .collect::<Vec<_>>()
        .join(" or ");
    let query: String = form_encode(&[("filter", &every_status), ("limit", "200")]);
    let everyone = collect_ids(&fake, &format!("/api/v1/users?{query}"), &token).await;
    assert_eq!(
        everyone.len(),
        600,
        "a filter naming every status lists every user"
    );
}

fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| format!("{key}={}", percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn bad_tokens_get_401() {
    let fake = start(&OrgSpec::small()).await;
    let url = format!("{}/api/v1/users", fake.base_url());

    let missing = reqwest::Client::new()
        .get(&url)
        .send()
        .await
        .expect("request sent");
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.headers().contains_key("x-okta-request-id"));
    let body = json_of(missing).await;
    assert_okta_error(&body, "E0000011");
    assert_eq!(body["errorSummary"], "Invalid token provided");
    assert_eq!(body["errorCauses"], json!([]));

    let wrong = get(&fake, "/api/v1/users", "not-the-token").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    let bearer = reqwest::Client::new()
        .get(&url)
        .header("Authorization", format!("Bearer {}", fake.token()))
        .send()
        .await
        .expect("request sent");
    assert_eq!(
        bearer.status(),
        StatusCode::UNAUTHORIZED,
        "only SSWS tokens are API tokens"
    );

    assert_eq!(
        get(&fake, "/api/v1/users", &fake.token()).await.status(),
        StatusCode::OK
    );
    fake.revoke_token(&fake.token());
    let revoked = get(&fake, "/api/v1/users", &fake.token()).await;
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
    assert_okta_error(&json_of(revoked).await, "E0000011");
}

#[tokio::test]
async fn every_response_has_okta_headers() {
    let fake = start(&OrgSpec::small()).await;
    let mut request_ids = HashSet::new();
    for path in [
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/users/nobody",
        "/api/v1/nothing",
    ] {
        let response = get(&fake, path, &fake.token()).await;
        let headers = response.headers();
        let request_id = headers
            .get("x-okta-request-id")
            .and_then(|value| value.to_str().ok())
            .expect("X-Okta-Request-Id")
            .to_string();
        assert!(request_ids.insert(request_id), "request ids repeat");
        let date = date_epoch(headers);
        let now = fake.now().timestamp();
        assert!(
            (date - now).abs() <= 2,
            "Date {date} is far from the fake's clock {now}"
        );
        assert!(header_i64(headers, "x-rate-limit-limit") > 0);
        assert!(header_i64(headers, "x-rate-limit-remaining") >= 0);
        let reset = header_i64(headers, "x-rate-limit-reset");
        assert!(
            (date..=date + 61).contains(&reset),
            "reset {reset} vs date {date}"
        );
        assert_eq!(
            headers.get_all("date").iter().count(),
            1,
            "exactly one Date header on {path}"
        );
    }
}

#[tokio::test]
async fn users_bucket_spent_gives_429() {
    let fake = start_with(&OrgSpec::small(), |config| {
        config.rate_limits = RateLimits {
            users: 3,
            ..RateLimits::default()
        };
    })
    .await;
    let token = fake.token();
    let mut resets = BTreeSet::new();
    for expected_remaining in [2, 1, 0] {
        let response = get(&fake, "/api/v1/users?limit=1", &token).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(header_i64(headers, "x-rate-limit-limit"), 3);
        assert_eq!(
            header_i64(headers, "x-rate-limit-remaining"),
            expected_remaining
        );
        resets.insert(header_i64(headers, "x-rate-limit-reset"));
    }
    let limited = get(&fake, "/api/v1/users?limit=1", &token).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = limited.headers().clone();
    assert_eq!(header_i64(&headers, "x-rate-limit-limit"), 3);
    assert_eq!(header_i64(&headers, "x-rate-limit-remaining"), 0);
    let reset = header_i64(&headers, "x-rate-limit-reset");
    resets.insert(reset);
    assert_eq!(resets.len(), 1, "one window, one reset time: {resets:?}");
    let wait = reset - date_epoch(&headers);
    // Date rounds down and Reset rounds up, so a full window can show 61 s.
    assert!((1..=61).contains(&wait), "Reset - Date = {wait} s");
    assert_okta_error(&json_of(limited).await, "E0000047");

    let groups = get(&fake, "/api/v1/groups", &token).await;
    assert_eq!(
        groups.status(),
        StatusCode::OK,
        "the groups bucket is separate"
    );
    assert_eq!(header_i64(groups.headers(), "x-rate-limit-limit"), 500);
    let members_path = format!("/api/v1/groups/{}/users", fake.org().everyone_id());
    let members = get(&fake, &members_path, &token).await;
    assert_eq!(header_i64(members.headers(), "x-rate-limit-limit"), 1200);

    let log = fake.requests();
    let statuses: Vec<u16> = log
        .iter()
        .filter(|r| r.bucket == "users")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 200, 429]);
}

#[tokio::test]
async fn rate_limit_window_restarts() {
    let fake = start_with(&OrgSpec::small(), |config| {
        config.rate_limits = RateLimits {
            groups: 1,
            window: Duration::from_millis(1000),
            ..RateLimits::default()
        };
    })
    .await;
    let token = fake.token();
    assert_eq!(
        get(&fake, "/api/v1/groups", &token).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get(&fake, "/api/v1/groups", &token).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        get(&fake, "/api/v1/groups", &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn scale_multiplies_bucket_limits() {
    let fake = start_with(&OrgSpec::small(), |config| {
        config.rate_limits.scale = 10.0;
    })
    .await;
    let response = get(&fake, "/api/v1/users", &fake.token()).await;
    assert_eq!(header_i64(response.headers(), "x-rate-limit-limit"), 6000);
}

#[tokio::test]
async fn concurrency_over_limit_gets_429() {
    let fake = start_with(&OrgSpec::small(), |config| {
        config.max_concurrent = 2;
        config.latency = Duration::from_millis(800);
    })
    .await;
    let token = fake.token();
    let started = Instant::now();
    let requests = (0..5).map(|_| get(&fake, "/api/v1/groups", &token));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|response| response.status())
        .collect();
    let elapsed = started.elapsed();

    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(ok, 2, "{statuses:?}");
    assert_eq!(limited, 3, "{statuses:?}");

    assert!(
        elapsed < Duration::from_millis(2400),
        "latency is not parallel: {elapsed:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(800),
        "latency missing: {elapsed:?}"
    );
    // Rejected requests free their slot at once, so no arrival counts more
    // than the two accepted requests plus itself.
    let max_in_flight = fake.requests().iter().map(|r| r.in_flight).max();
    assert_eq!(max_in_flight, Some(3));
}

#[tokio::test]
async fn last_updated_filter_after_mutation() {
    let fake = start(&OrgSpec::small()).await;
    let token = fake.token();
    let cutoff = fake_okta::format_timestamp(&fake.now());
    fake.advance_clock(Duration::from_secs(2));

    let (edited, deactivated, member, group) = {
        let org = fake.org();
        let mut active = org.users().filter(|user| user.status == UserStatus::Active);
        let edited = active.next().expect("an ACTIVE user").id.clone();
        let deactivated = active.next().expect("a second ACTIVE user").id.clone();
        let member = active.next().expect("a third ACTIVE user").id.clone();
        let group = org
            .groups()
            .find(|group| {
                group.group_type == GroupType::OktaGroup && !group.members.contains(&member)
            })
            .expect("an OKTA_GROUP without the third user")
            .id
            .clone();
        (edited, deactivated, member, group)
    };
    fake.update_user_profile(&edited, "title", json!("Changed ✨"))
        .expect("edit the profile");
    fake.set_user_status(&deactivated, UserStatus::Deprovisioned)
        .expect("deactivate");
    let created = fake
        .create_user(json!({"login": "new.hire@example.com"}))
        .expect("create a user");
    assert!(fake.add_member(&group, &member).expect("add a member"));

    let filter = form_encode(&[("filter", &format!("lastUpdated gt \"{cutoff}\""))]);
    let changed: BTreeSet<String> = collect_ids(&fake, &format!("/api/v1/users?{filter}"), &token)
        .await
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = [edited, deactivated, created].into_iter().collect();
    assert_eq!(
        changed, expected,
        "membership changes do not touch the user"
    );

    let group_filter = form_encode(&[(
        "filter",
        &format!("lastMembershipUpdated gt \"{cutoff}\" or lastUpdated gt \"{cutoff}\""),
    )]);
    let groups: BTreeSet<String> =
        collect_ids(&fake, &format!("/api/v1/groups?{group_filter}"), &token)
            .await
            .into_iter()
            .collect();
    let everyone = fake.org().everyone_id().to_string();
    let expected_groups: BTreeSet<String> = [group, everyone].into_iter().collect();
    assert_eq!(
        groups, expected_groups,
        "the new user changes Everyone's members"
    );
}

#[tokio::test]
async fn invalid_filter_and_search_rejected() {
    let fake = start(&OrgSpec::small()).await;
    let token = fake.token();
    let cases = [
        ("/api/v1/users?filter=status%20eq%20ACTIVE", "E0000053"),
        (
            "/api/v1/users?filter=profile.department%20eq%20%22Sales%22",
            "E0000053",
        ),
        (
            "/api/v1/users?filter=lastUpdated%20gt%20%22yesterday%22",
            "E0000053",
        ),
        ("/api/v1/users?search=status%20eq", "E0000031"),
        (
            "/api/v1/users?search=(profile.city%20eq%20%22Paris%22",
            "E0000031",
        ),
        ("/api/v1/groups?filter=type%20eq%20%22TEAM%22", "E0000053"),
        (
            "/api/v1/groups?filter=profile.name%20eq%20%22x%22",
            "E0000053",
        ),
    ];
    for (path, code) in cases {
        let response = get(&fake, path, &token).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        assert_okta_error(&json_of(response).await, code);
    }
}

#[tokio::test]
async fn search_on_profile_attributes() {
    let fake = start(&OrgSpec::new(4, 300, 5)).await;
    let expected: BTreeSet<String> = fake
        .org()
        .users()
        .filter(|user| user.profile.get("department") == Some(&json!("Sales")))
        .filter(|user| user.profile.get("isContractor") == Some(&json!(false)))
        .map(|user| user.id.clone())
        .collect();
    assert!(!expected.is_empty());
    let search = form_encode(&[(
        "search",
        "profile.department eq \"Sales\" and profile.isContractor eq false",
    )]);
    let found: BTreeSet<String> =
        collect_ids(&fake, &format!("/api/v1/users?{search}"), &fake.token())
            .await
            .into_iter()
            .collect();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn scoped_token_sees_only_its_groups() {
    let fake = start(&OrgSpec::new(21, 300, 12)).await;
    let (scope, other, expected_users) = {
        let org = fake.org();
        let mut regular: Vec<_> = org
            .groups()
            .filter(|group| group.group_type != GroupType::BuiltIn && !group.members.is_empty())
            .collect();
        regular.sort_by_key(|group| group.members.len());
        let scope = vec![regular[0].id.clone(), regular[1].id.clone()];
        let other = regular[regular.len() - 1].id.clone();
        let users: BTreeSet<String> = regular[0]
            .members
            .union(&regular[1].members)
            .filter(|id| {
                org.user(id)
                    .is_some_and(|user| user.status != UserStatus::Deprovisioned)
            })
            .cloned()
            .collect();
        (scope, other, users)
    };
    fake.add_scoped_token("group-admin-token", &scope);

    let users: BTreeSet<String> = collect_ids(&fake, "/api/v1/users", "group-admin-token")
        .await
        .into_iter()
        .collect();
    assert_eq!(users, expected_users);

    let groups: BTreeSet<String> = collect_ids(&fake, "/api/v1/groups", "group-admin-token")
        .await
        .into_iter()
        .collect();
    let expected_groups: BTreeSet<String> = scope.iter().cloned().collect();
    assert_eq!(
        groups, expected_groups,
        "no Everyone group for a group admin"
    );

    let denied = get(
        &fake,
        &format!("/api/v1/groups/{other}/users"),
        "group-admin-token",
    )
    .await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    assert_okta_error(&json_of(denied).await, "E0000006");
    let everyone = fake.org().everyone_id().to_string();
    let denied = get(
        &fake,
        &format!("/api/v1/groups/{everyone}/users"),
        "group-admin-token",
    )
    .await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let allowed = get(
        &fake,
        &format!("/api/v1/groups/{}/users", scope[0]),
        "group-admin-token",
    )
    .await;
    assert_eq!(allowed.status(), StatusCode::OK);

    let missing = get(
        &fake,
        "/api/v1/groups/00gDOESNOTEXIST00000/users",
        &fake.token(),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_okta_error(&json_of(missing).await, "E0000007");
}

#[tokio::test]
async fn members_include_deprovisioned_and_paginate() {
    let fake = start(&OrgSpec::new(8, 2500, 4)).await;
    let token = fake.token();
    let everyone = fake.org().everyone_id().to_string();
    let path = format!("/api/v1/groups/{everyone}/users");

    let first = get(&fake, &path, &token).await;
    let (next, _) = link(first.headers(), "next");
    assert!(next.is_some(), "2500 members need more than one page");
    assert_eq!(
        json_of(first).await.as_array().map(Vec::len),
        Some(1000),
        "default limit"
    );
    let clamped = json_of(get(&fake, &format!("{path}?limit=5000"), &token).await).await;
    assert_eq!(
        clamped.as_array().map(Vec::len),
        Some(1000),
        "limit above 1000 is clamped"
    );

    let ids = collect_ids(&fake, &path, &token).await;
    let unique: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(ids.len(), 2500);
    assert_eq!(unique.len(), 2500);
    let deprovisioned = fake
        .org()
        .users()
        .filter(|user| user.status == UserStatus::Deprovisioned)
        .count();
    assert!(deprovisioned > 0);
    let small_pages = collect_ids(&fake, &format!("{path}?limit=7"), &token).await;
    assert_eq!(small_pages, ids);
}

#[tokio::test]
async fn group_objects_match_okta_shape() {
    let fake = start(&OrgSpec::small()).await;
    let groups = json_of(get(&fake, "/api/v1/groups?expand=stats", &fake.token()).await).await;
    let groups = groups.as_array().expect("a JSON array");
    assert_eq!(groups.len(), 8);
    let org = fake.org();
    let mut types = BTreeSet::new();
    for group in groups {
        let id = group["id"].as_str().expect("an id");
        assert!(id.starts_with("00g"), "{id}");
        assert_eq!(id.len(), 20, "{id}");
        for field in ["created", "lastUpdated", "lastMembershipUpdated"] {
            let text = group[field].as_str().expect("a timestamp");
            assert!(
                text.ends_with(".000Z") && text.len() == 24,
                "{field}: {text}"
            );
        }
        assert!(group["objectClass"].is_array());
        assert!(group["profile"]["name"].is_string());
        types.insert(group["type"].as_str().expect("a type").to_string());
        let expected_count = org.group(id).map(|g| g.members.len());
        assert_eq!(
            group["_embedded"]["stats"]["usersCount"]
                .as_u64()
                .map(|n| n as usize),
            expected_count
        );
        assert_eq!(
            group["_links"]["users"]["href"],
            format!("{}/api/v1/groups/{id}/users", fake.base_url())
        );
    }
    let expected_types: BTreeSet<String> = ["APP_GROUP", "BUILT_IN", "OKTA_GROUP"]
        .map(String::from)
        .into();
    assert_eq!(types, expected_types);
    drop(org);

    let app_groups = json_of(
        get(
            &fake,
            "/api/v1/groups?filter=type%20eq%20%22APP_GROUP%22",
            &fake.token(),
        )
        .await,
    )
    .await;
    assert!(app_groups
        .as_array()
        .expect("a JSON array")
        .iter()
        .all(|group| group["type"] == "APP_GROUP"));
}

#[tokio::test]
async fn user_objects_match_okta_shape() {
    let fake = start(&OrgSpec::small()).await;
    let token = fake.token();
    let users = json_of(
        get(
            &fake,
            "/api/v1/users?filter=status%20eq%20%22ACTIVE%22",
            &token,
        )
        .await,
    )
    .await;
    let user = &users.as_array().expect("a JSON array")[0];
    let id = user["id"].as_str().expect("an id");
    assert!(id.starts_with("00u"), "{id}");
    assert_eq!(id.len(), 20, "{id}");
    assert_eq!(user["status"], "ACTIVE");
    for field in ["created", "lastUpdated"] {
        assert!(
            user[field].as_str().is_some_and(|t| t.ends_with(".000Z")),
            "{field}"
        );
    }
    for field in ["activated", "statusChanged", "lastLogin", "passwordChanged"] {
        assert!(
            user.get(field).is_some(),
            "{field} is present, possibly null"
        );
    }
    assert!(user["type"]["id"]
        .as_str()
        .is_some_and(|t| t.starts_with("oty")));
    assert_eq!(
        user["credentials"]["provider"],
        json!({"type": "OKTA", "name": "OKTA"})
    );
    assert_eq!(
        user["_links"]["self"]["href"],
        format!("{}/api/v1/users/{id}", fake.base_url())
    );
    let login = user["profile"]["login"]
        .as_str()
        .expect("a login")
        .to_string();

    let by_id = get(&fake, &format!("/api/v1/users/{id}"), &token).await;
    assert_eq!(by_id.status(), StatusCode::OK);
    assert_eq!(json_of(by_id).await["id"], id);
    let by_login = get(
        &fake,
        &format!("/api/v1/users/{}", percent_encode(&login)),
        &token,
    )
    .await;
    assert_eq!(by_login.status(), StatusCode::OK);
    assert_eq!(json_of(by_login).await["id"], id);
    let missing = get(&fake, "/api/v1/users/00uDOESNOTEXIST00000", &token).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_okta_error(&json_of(missing).await, "E0000007");
}

#[tokio::test]
async fn faults_fire_configured_times() {
    let fake = start(&OrgSpec::small()).await;
    let token = fake.token();
    fake.inject(
        Fault::new("/api/v1/groups", FaultKind::Status500)
            .after(1)
            .times(2),
    );
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(get(&fake, "/api/v1/groups", &token).await.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 500, 500, 200, 200]);
    let faulted = fake
        .requests()
        .iter()
        .filter(|r| r.fault.as_deref() == Some("Status500"))
        .count();
    assert_eq!(faulted, 2);

    fake.inject(Fault::new("/api/v1/users", FaultKind::Status429));
    let limited = get(&fake, "/api/v1/users", &token).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait = header_i64(limited.headers(), "x-rate-limit-reset") - date_epoch(limited.headers());
    assert!((1..=3).contains(&wait), "Reset - Date = {wait}");
    assert_eq!(header_i64(limited.headers(), "x-rate-limit-remaining"), 0);
    assert_okta_error(&json_of(limited).await, "E0000047");

    fake.inject(Fault::new("/api/v1/users", FaultKind::Status503));
    assert_eq!(
        get(&fake, "/api/v1/users", &token).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    fake.inject(Fault::new("/api/v1/users", FaultKind::Status403));
    let forbidden = get(&fake, "/api/v1/users", &token).await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_okta_error(&json_of(forbidden).await, "E0000006");
    assert_eq!(
        get(&fake, "/api/v1/users", &token).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn truncated_json_fault() {
    let fake = start(&OrgSpec::small()).await;
    fake.inject(Fault::new("/api/v1/users", FaultKind::TruncatedJson));
    let response = get(&fake, "/api/v1/users", &fake.token()).await;
    assert_eq!(response.status(), StatusCode::OK);
    let declared = header_i64(response.headers(), "content-length");
    let body = response.bytes().await.expect("the cut body arrives whole");
    assert_eq!(body.len() as i64, declared);
    assert!(
        serde_json::from_slice::<Value>(&body).is_err(),
        "body should be cut JSON"
    );
    let whole = get(&fake, "/api/v1/users", &fake.token()).await;
    assert!(
        whole.json::<Value>().await.is_ok(),
        "the fault applies once"
    );
}

#[tokio::test]
async fn reset_connection_fault_breaks_body() {
    let fake = start(&OrgSpec::small()).await;
    fake.inject(Fault::new("/api/v1/users", FaultKind::ResetConnection));
    let response = get(&fake, "/api/v1/users", &fake.token()).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "headers arrive before the break"
    );
    assert!(
        response.bytes().await.is_err(),
        "reading the body should fail"
    );
    assert_eq!(
        get(&fake, "/api/v1/users", &fake.token()).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn delay_fault_and_latency() {
    let fake = start_with(&OrgSpec::small(), |config| {
        config.latency = Duration::from_millis(100);
    })
    .await;
    fake.inject(Fault::new(
        "/api/v1/groups",
        FaultKind::Delay(Duration::from_millis(1000)),
    ));
    let started = Instant::now();
    let delayed = get(&fake, "/api/v1/groups", &fake.token()).await;
    let delayed_time = started.elapsed();
    assert_eq!(delayed.status(), StatusCode::OK);
    assert!(
        delayed_time >= Duration::from_millis(1100),
        "{delayed_time:?}"
    );
    let started = Instant::now();
    get(&fake, "/api/v1/groups", &fake.token()).await;
    let plain_time = started.elapsed();
    assert!(plain_time >= Duration::from_millis(100), "{plain_time:?}");
    assert!(
        plain_time < Duration::from_millis(900),
        "the delay applied twice: {plain_time:?}"
    );
}

#[tokio::test]
async fn admin_routes_skip_limits_and_log() {
    let fake = start_with(&OrgSpec::small(), |config| {
        config.rate_limits = RateLimits {
            other: 1,
            ..RateLimits::default()
        };
    })
    .await;
    let client = reqwest::Client::new();
    let base = fake.base_url();

    for _ in 0..3 {
        let summary: Value = client
            .get(format!("{base}/__admin/summary"))
            .send()
            .await
            .expect("request sent")
            .json()
            .await
            .expect("summary JSON");
        assert_eq!(summary["users"], 50);
        assert_eq!(summary["groups"], 8);
        assert!(summary["usersByStatus"].is_object());
    }
    let mutated: Value = client
        .post(format!("{base}/__admin/mutate"))
        .json(&json!({"share": 0.1, "seed": 7}))
        .send()
        .await
        .expect("request sent")
        .json()
        .await
        .expect("mutation summary JSON");
    assert!(mutated["profileUpdates"].is_u64(), "{mutated}");

    let fault = client
        .post(format!("{base}/__admin/faults"))
        .json(&json!({"matcher": "/api/v1/users", "kind": "Status500"}))
        .send()
        .await
        .expect("request sent");
    assert_eq!(fault.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get(&fake, "/api/v1/users", &fake.token()).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );

    let log: Value = client
        .get(format!("{base}/__admin/requests"))
        .send()
        .await
        .expect("request sent")
        .json()
        .await
        .expect("log JSON");
    let log = log.as_array().expect("a JSON array");
    assert_eq!(log.len(), 1, "only the API request is logged: {log:?}");
    assert_eq!(log[0]["status"], 500);
    assert_eq!(log[0]["bucket"], "users");
    assert!(log[0]["atMs"].is_u64());
    assert_eq!(log[0]["inFlight"], 1);
}

#[tokio::test]
async fn shutdown_frees_the_port() {
    let fake = start(&OrgSpec::small()).await;
    let address = fake.address();
    assert_eq!(
        get(&fake, "/api/v1/groups", &fake.token()).await.status(),
        StatusCode::OK
    );
    fake.shutdown().await;
    let result = reqwest::Client::new()
        .get(format!("http://{address}/api/v1/groups"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(result.is_err(), "server still answers after shutdown");
}
