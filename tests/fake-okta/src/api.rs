//! The Okta endpoints: users, groups, group members and the System Log, with
//! Okta's pagination, filters and error objects.

use std::collections::HashSet;
use std::ops::Bound;

use axum::http::{Method, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use percent_encoding::percent_decode_str;
use rand::RngExt;
use serde::Serialize;
use serde_json::json;

use crate::model::{Group, GroupType, Org, Timestamp, User, UserStatus};
use crate::query::{self, Dialect, Expr};
use crate::server::{Access, BodyMode};

/// Page sizes: (default, maximum) per collection.
const USERS_PAGE: (usize, usize) = (200, 200);
// NOTE: older Okta references give 10000 as both the default and the maximum
// for groups; the current reference states only the maximum.
const GROUPS_PAGE: (usize, usize) = (10_000, 10_000);
const MEMBERS_PAGE: (usize, usize) = (1000, 1000);
const LOGS_PAGE: (usize, usize) = (100, 1000);
/// How far back `GET /api/v1/logs` reads when the request gives no `since`.
const LOGS_DEFAULT_SPAN_DAYS: i64 = 7;

/// A response before the pipeline adds the common headers.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// Complete `Link` header values, one per relation.
    pub links: Vec<String>,
    pub body_mode: BodyMode,
}

impl Reply {
    fn json(body: Vec<u8>) -> Reply {
        Reply {
            status: StatusCode::OK,
            body,
            content_type: "application/json",
            links: Vec::new(),
            body_mode: BodyMode::Whole,
        }
    }

    /// Builds Okta's error object with an empty `errorCauses`.
    pub fn error(status: StatusCode, code: &str, summary: &str) -> Reply {
        Reply::error_with_causes(status, code, summary, &[])
    }

    pub fn error_with_causes(
        status: StatusCode,
        code: &str,
        summary: &str,
        causes: &[String],
    ) -> Reply {
        let causes: Vec<_> = causes
            .iter()
            .map(|cause| json!({ "errorSummary": cause }))
            .collect();
        let body = json!({
            "errorCode": code,
            "errorSummary": summary,
            "errorLink": code,
            "errorId": format!("oae{}", random_alphanumeric(22)),
            "errorCauses": causes,
        });
        Reply {
            status,
            ..Reply::json(body.to_string().into_bytes())
        }
    }

    pub fn html(status: StatusCode, page: &str) -> Reply {
        Reply {
            status,
            body: page.as_bytes().to_vec(),
            content_type: "text/html; charset=utf-8",
            links: Vec::new(),
            body_mode: BodyMode::Whole,
        }
    }

    fn not_found(what: &str, kind: &str) -> Reply {
        Reply::error(
            StatusCode::NOT_FOUND,
            "E0000007",
            &format!("Not found: Resource not found: {what} ({kind})"),
        )
    }

    fn forbidden() -> Reply {
        Reply::error(
            StatusCode::FORBIDDEN,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    }

    fn invalid(parameter: &str, reason: &str) -> Reply {
        Reply::error_with_causes(
            StatusCode::BAD_REQUEST,
            "E0000001",
            &format!("Api validation failed: {parameter}"),
            &[format!("{parameter}: {reason}")],
        )
    }
}

pub(crate) fn random_alphanumeric(length: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// The parts of a request the endpoints read.
pub(crate) struct ApiRequest {
    method: Method,
    path: String,
    /// Decoded query parameters in their original order.
    params: Vec<(String, String)>,
    /// `http://` plus the Host the client used, for links.
    base_url: String,
    /// The fake's clock when the request arrived, which decides the System
    /// Log events that are visible.
    now: Timestamp,
}

impl ApiRequest {
    pub fn new(method: &Method, path: &str, query: &str, host: &str, now: Timestamp) -> ApiRequest {
        ApiRequest {
            method: method.clone(),
            path: path.to_string(),
            params: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            base_url: format!("http://{host}"),
            now,
        }
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn url_with(&self, params: &[(String, String)]) -> String {
        if params.is_empty() {
            return format!("{}{}", self.base_url, self.path);
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("{}{}?{query}", self.base_url, self.path)
    }

    /// Builds the `self` link and, when more results follow, the `next` link carrying `cursor`.
    fn page_links(&self, cursor: Option<String>) -> Vec<String> {
        let mut links = vec![format!("<{}>; rel=\"self\"", self.url_with(&self.params))];
        if let Some(cursor) = cursor {
            let mut params: Vec<(String, String)> = self
                .params
                .iter()
                .filter(|(key, _)| key != "after")
                .cloned()
                .collect();
            params.push(("after".to_string(), cursor));
            links.push(format!("<{}>; rel=\"next\"", self.url_with(&params)));
        }
        links
    }

    /// Reads the page size: `default` when absent, clamped to `1..=max`.
    fn limit(&self, (default, max): (usize, usize)) -> Result<usize, Reply> {
        match self.param("limit") {
            None => Ok(default),
            Some(text) => text
                .trim()
                .parse::<i64>()
                .map(|limit| usize::try_from(limit.max(1)).unwrap_or(max).min(max))
                .map_err(|_| Reply::invalid("limit", &format!("{text:?} is not an integer"))),
        }
    }

    /// Decodes the opaque `after` cursor into the id this page starts after.
    fn after(&self, kind: CursorKind) -> Result<Option<String>, Reply> {
        match self.param("after") {
            None => Ok(None),
            Some(cursor) => decode_cursor(cursor, kind).map(Some).ok_or_else(|| {
                Reply::invalid("after", "the cursor is not one this endpoint issued")
            }),
        }
    }

    fn expression(&self, name: &str, dialect: Dialect) -> Result<Option<Expr>, Reply> {
        let Some(text) = self.param(name) else {
            return Ok(None);
        };
        query::parse(text, dialect).map(Some).map_err(|error| {
            let (code, summary) = match dialect {
                Dialect::UserFilter | Dialect::GroupFilter => ("E0000053", "Invalid filter"),
                Dialect::LogFilter => ("E0000001", "Api validation failed: filter"),
                Dialect::UserSearch | Dialect::GroupSearch => {
                    ("E0000031", "Invalid search criteria.")
                }
            };
            Reply::error_with_causes(
                StatusCode::BAD_REQUEST,
                code,
                summary,
                &[format!("{name}: {error}")],
            )
        })
    }
}

impl ApiRequest {
    /// Reads an ISO 8601 timestamp parameter such as `since`.
    fn timestamp(&self, name: &str) -> Result<Option<Timestamp>, Reply> {
        let Some(text) = self.param(name) else {
            return Ok(None);
        };
        chrono::DateTime::parse_from_rfc3339(text.trim())
            .map(|at| Some(at.to_utc()))
            .map_err(|_| {
                Reply::invalid(
                    name,
                    &format!(
                        "{text:?} is not an ISO 8601 timestamp such as 2026-01-31T09:15:02.000Z"
                    ),
                )
            })
    }
}

#[derive(Clone, Copy)]
enum CursorKind {
    Users,
    Groups,
    Members,
    Logs,
}

impl CursorKind {
    fn tag(self) -> &'static str {
        match self {
            CursorKind::Users => "u",
            CursorKind::Groups => "g",
            CursorKind::Members => "m",
            CursorKind::Logs => "l",
        }
    }
}

/// Encodes the last id of a page so that clients cannot read it as an id.
fn encode_cursor(kind: CursorKind, last_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{}:{last_id}", kind.tag()))
}

fn decode_cursor(cursor: &str, kind: CursorKind) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let id = text
        .strip_prefix("v1:")?
        .strip_prefix(kind.tag())?
        .strip_prefix(':')?;
    (!id.is_empty()).then(|| id.to_string())
}

/// Takes up to `limit` items and reports the id to resume after when more remain.
fn take_page<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    limit: usize,
    id_of: impl Fn(&T) -> &str,
) -> (Vec<&'a T>, Option<String>) {
    let mut page: Vec<&T> = Vec::with_capacity(limit.min(1024));
    let mut more = false;
    for item in items {
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(item);
    }
    let resume = if more {
        page.last().map(|item| id_of(item).to_string())
    } else {
        None
    };
    (page, resume)
}

fn to_body<T: Serialize>(value: &T) -> Reply {
    match serde_json::to_vec(value) {
        Ok(body) => Reply::json(body),
        Err(error) => {
            tracing::error!(%error, "failed to serialise a response body");
            Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "E0000009",
                "Internal Server Error",
            )
        }
    }
}

fn range_after(after: &Option<String>) -> (Bound<&str>, Bound<&str>) {
    match after {
        Some(id) => (Bound::Excluded(id.as_str()), Bound::Unbounded),
        None => (Bound::Unbounded, Bound::Unbounded),
    }
}

/// Routes one authenticated request. `access` is never [`Access::Revoked`] here.
pub(crate) fn route(org: &Org, access: &Access, request: &ApiRequest) -> Reply {
    if request.method != Method::GET && request.method != Method::HEAD {
        return Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            "E0000022",
            "The endpoint does not support the provided HTTP method",
        );
    }
    let Some(rest) = request.path.strip_prefix("/api/v1/") else {
        return Reply::not_found(&request.path, "Resource");
    };
    let segments: Vec<String> = rest
        .split('/')
        .map(|segment| percent_decode_str(segment).decode_utf8_lossy().into_owned())
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let result = match segments.as_slice() {
        ["users"] => list_users(org, access, request),
        ["users", id] => get_user(org, access, request, id),
        ["users", id, "groups"] => list_user_groups(org, access, request, id),
        ["groups"] => list_groups(org, access, request),
        ["groups", id] => get_group(org, access, request, id),
        ["groups", id, "users"] => list_members(org, access, request, id),
        ["logs"] => list_logs(org, access, request),
        _ => Err(Reply::not_found(&request.path, "Resource")),
    };
    result.unwrap_or_else(|reply| reply)
}

/// User ids a scoped token may see; `None` for a full-access token.
fn visible_users<'a>(org: &'a Org, access: &Access) -> Option<HashSet<&'a str>> {
    let Access::Groups(groups) = access else {
        return None;
    };
    let mut visible = HashSet::new();
    for group in groups.iter().filter_map(|id| org.group(id)) {
        if group.group_type != GroupType::BuiltIn {
            visible.extend(group.members.iter().map(String::as_str));
        }
    }
    Some(visible)
}

fn may_see_group(access: &Access, group: &Group) -> bool {
    match access {
        Access::Full => true,
        Access::Groups(groups) => {
            group.group_type != GroupType::BuiltIn && groups.contains(&group.id)
        }
        Access::Revoked => false,
    }
}

fn list_users(org: &Org, access: &Access, request: &ApiRequest) -> Result<Reply, Reply> {
    let limit = request.limit(USERS_PAGE)?;
    let after = request.after(CursorKind::Users)?;
    let filter = request.expression("filter", Dialect::UserFilter)?;
    let search = request.expression("search", Dialect::UserSearch)?;
    // Okta leaves DEPROVISIONED users out unless the request filters or searches.
    let include_deprovisioned = filter.is_some() || search.is_some();
    let visible = visible_users(org, access);
    let matching = org
        .users
        .range::<str, _>(range_after(&after))
        .map(|(_, user)| user)
        .filter(|user| include_deprovisioned || user.status != UserStatus::Deprovisioned)
        .filter(|user| {
            visible
                .as_ref()
                .is_none_or(|ids| ids.contains(user.id.as_str()))
        })
        .filter(|user| filter.as_ref().is_none_or(|expr| expr.matches(*user)))
        .filter(|user| search.as_ref().is_none_or(|expr| expr.matches(*user)));
    let (page, resume) = take_page(matching, limit, |user: &User| &user.id);
    users_page(request, page, resume, CursorKind::Users)
}

fn users_page(
    request: &ApiRequest,
    page: Vec<&User>,
    resume: Option<String>,
    kind: CursorKind,
) -> Result<Reply, Reply> {
    let views: Vec<_> = page
        .iter()
        .map(|user| user.view(Some(&request.base_url)))
        .collect();
    let mut reply = to_body(&views);
    reply.links = request.page_links(resume.map(|id| encode_cursor(kind, &id)));
    Ok(reply)
}

fn find_user<'a>(org: &'a Org, id_or_login: &str) -> Option<&'a User> {
    org.user(id_or_login)
        .or_else(|| org.user_by_login(id_or_login))
}

fn get_user(
    org: &Org,
    access: &Access,
    request: &ApiRequest,
    id_or_login: &str,
) -> Result<Reply, Reply> {
    let user = find_user(org, id_or_login).ok_or_else(|| Reply::not_found(id_or_login, "User"))?;
    if visible_users(org, access).is_some_and(|ids| !ids.contains(user.id.as_str())) {
        return Err(Reply::forbidden());
    }
    Ok(to_body(&user.view(Some(&request.base_url))))
}

fn list_user_groups(
    org: &Org,
    access: &Access,
    request: &ApiRequest,
    id_or_login: &str,
) -> Result<Reply, Reply> {
    let user = find_user(org, id_or_login).ok_or_else(|| Reply::not_found(id_or_login, "User"))?;
    if visible_users(org, access).is_some_and(|ids| !ids.contains(user.id.as_str())) {
        return Err(Reply::forbidden());
    }
    let views: Vec<_> = org
        .groups()
        .filter(|group| group.members.contains(&user.id) && may_see_group(access, group))
        .map(|group| group.view(Some(&request.base_url), false))
        .collect();
    Ok(to_body(&views))
}

fn list_groups(org: &Org, access: &Access, request: &ApiRequest) -> Result<Reply, Reply> {
    let limit = request.limit(GROUPS_PAGE)?;
    let after = request.after(CursorKind::Groups)?;
    let filter = request.expression("filter", Dialect::GroupFilter)?;
    let search = request.expression("search", Dialect::GroupSearch)?;
    let name_prefix = request.param("q").map(str::to_lowercase);
    let with_stats = request
        .param("expand")
        .is_some_and(|expand| expand.split(',').any(|item| item.trim() == "stats"));
    let matching = org
        .groups
        .range::<str, _>(range_after(&after))
        .map(|(_, group)| group)
        .filter(|group| may_see_group(access, group))
        .filter(|group| filter.as_ref().is_none_or(|expr| expr.matches(*group)))
        .filter(|group| search.as_ref().is_none_or(|expr| expr.matches(*group)))
        .filter(|group| {
            name_prefix
                .as_ref()
                .is_none_or(|prefix| group.name().to_lowercase().starts_with(prefix))
        });
    let (page, resume) = take_page(matching, limit, |group: &Group| &group.id);
    let views: Vec<_> = page
        .iter()
        .map(|group| group.view(Some(&request.base_url), with_stats))
        .collect();
    let mut reply = to_body(&views);
    reply.links = request.page_links(resume.map(|id| encode_cursor(CursorKind::Groups, &id)));
    Ok(reply)
}

fn visible_group<'a>(org: &'a Org, access: &Access, id: &str) -> Result<&'a Group, Reply> {
    let group = org
        .group(id)
        .ok_or_else(|| Reply::not_found(id, "UserGroup"))?;
    if !may_see_group(access, group) {
        return Err(Reply::forbidden());
    }
    Ok(group)
}

fn get_group(org: &Org, access: &Access, request: &ApiRequest, id: &str) -> Result<Reply, Reply> {
    let group = visible_group(org, access, id)?;
    let with_stats = request
        .param("expand")
        .is_some_and(|expand| expand.contains("stats"));
    Ok(to_body(&group.view(Some(&request.base_url), with_stats)))
}

fn list_members(
    org: &Org,
    access: &Access,
    request: &ApiRequest,
    id: &str,
) -> Result<Reply, Reply> {
    let group = visible_group(org, access, id)?;
    let limit = request.limit(MEMBERS_PAGE)?;
    let after = request.after(CursorKind::Members)?;
    // Members of every status are listed, DEPROVISIONED included.
    let members = group
        .members
        .range::<str, _>(range_after(&after))
        .filter_map(|user_id| org.user(user_id));
    let (page, resume) = take_page(members, limit, |user: &User| &user.id);
    users_page(request, page, resume, CursorKind::Members)
}

/// Lists System Log events whose `published` is at or after `since` and
/// before `until`, oldest first unless `sortOrder=DESCENDING`.
// NOTE: Okta's OpenAPI document does not say whether `since` and `until`
// are inclusive. The fake includes `since` and excludes `until`. Okta treats
// a request without `until` as polling and always returns a `next` link,
// but the fake ends such a list like a bounded one. It ignores `q`.
fn list_logs(org: &Org, access: &Access, request: &ApiRequest) -> Result<Reply, Reply> {
    let log = org.system_log();
    // A group admin's role cannot read the System Log.
    if log.settings.forbidden || *access != Access::Full {
        return Err(Reply::forbidden());
    }
    let limit = request.limit(LOGS_PAGE)?;
    let until = request.timestamp("until")?.unwrap_or(request.now);
    let since = request
        .timestamp("since")?
        .unwrap_or(until - chrono::Duration::days(LOGS_DEFAULT_SPAN_DAYS));
    if since > until {
        return Err(Reply::invalid(
            "since",
            "since must not be later than until",
        ));
    }
    let descending = match request.param("sortOrder") {
        None => false,
        Some(order) if order.eq_ignore_ascii_case("ASCENDING") => false,
        Some(order) if order.eq_ignore_ascii_case("DESCENDING") => true,
        Some(order) => {
            return Err(Reply::invalid(
                "sortOrder",
                &format!("{order:?} is not ASCENDING or DESCENDING"),
            ))
        }
    };
    let after =
        match request.after(CursorKind::Logs)? {
            Some(serial) => Some(serial.parse::<u64>().map_err(|_| {
                Reply::invalid("after", "the cursor is not one this endpoint issued")
            })?),
            None => None,
        };
    let filter = request.expression("filter", Dialect::LogFilter)?;

    let matches = |event: &&crate::system_log::LogEvent| {
        event.visible_at <= request.now
            && event.published >= since
            && event.published < until
            && filter.as_ref().is_none_or(|expr| expr.matches(*event))
    };
    let events = log.events();
    let ordered: Box<dyn Iterator<Item = &crate::system_log::LogEvent>> = if descending {
        Box::new(
            events
                .iter()
                .rev()
                .filter(move |event| after.is_none_or(|after| event.serial < after)),
        )
    } else {
        Box::new(
            events
                .iter()
                .filter(move |event| after.is_none_or(|after| event.serial > after)),
        )
    };
    let mut page = Vec::with_capacity(limit.min(1024));
    let mut more = false;
    for event in ordered.filter(matches) {
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(event);
    }
    let resume = page
        .last()
        .filter(|_| more)
        .map(|event| encode_cursor(CursorKind::Logs, &event.serial.to_string()));
    let mut reply = to_body(&page);
    reply.links = request.page_links(resume);
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let cursor = encode_cursor(CursorKind::Users, "00uABCDEFGHIJKLMNOPQ");
        assert!(!cursor.contains("00u"), "cursor {cursor} shows the id");
        assert_eq!(
            decode_cursor(&cursor, CursorKind::Users).as_deref(),
            Some("00uABCDEFGHIJKLMNOPQ")
        );
        assert_eq!(decode_cursor(&cursor, CursorKind::Groups), None);
        assert_eq!(
            decode_cursor("00uABCDEFGHIJKLMNOPQ", CursorKind::Users),
            None
        );
    }

    #[test]
    fn next_link_keeps_parameters() {
        let request = ApiRequest::new(
            &Method::GET,
            "/api/v1/users",
            "filter=status+eq+%22ACTIVE%22&limit=5&after=old",
            "127.0.0.1:9999",
            chrono::Utc::now(),
        );
        let links = request.page_links(Some("NEW".to_string()));
        assert_eq!(
            links,
            vec![
                "<http://127.0.0.1:9999/api/v1/users?filter=status+eq+%22ACTIVE%22&limit=5&after=old>; rel=\"self\"".to_string(),
                "<http://127.0.0.1:9999/api/v1/users?filter=status+eq+%22ACTIVE%22&limit=5&after=NEW>; rel=\"next\"".to_string(),
            ]
        );
    }
}
