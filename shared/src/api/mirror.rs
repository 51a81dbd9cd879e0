//! Read routes over the mirror: users, groups and group members.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use super::connectors::load;
use super::error::ApiError;
use super::request::Query;
use super::{json_response, ApiContext, ListPage};
use crate::okta::USER_STATUSES;
use crate::store::{MemberQuery, MirrorPage, UserFilter};

/// Lambda answers at most 6 MB; pages stop growing past this many bytes of
/// items so that a page of large profiles still fits.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

pub async fn list_users(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["limit", "cursor", "status", "includeRemoved"])?;
    let limit = query.limit()?;
    let include_removed = query.flag("includeRemoved")?;
    let status = query.get("status").map(parse_status).transpose()?;
    let connector = load(context, id).await?;

    let scope = format!("users:{}", connector.id);
    let filters = format!(
        "status={};includeRemoved={include_removed}",
        status.as_deref().unwrap_or("")
    );
    let after = verify_cursor(context, &query, &scope, &filters)?;
    let filter = UserFilter {
        status,
        include_removed,
    };
    let page = context
        .services
        .store
        .list_users(&connector.id, &filter, after, limit)
        .await?;
    let page = fit_page(page, |user| user.id.clone());
    respond_page(context, page, &scope, &filters)
}

pub async fn get_user(
    context: &ApiContext,
    id: &str,
    user_id: &str,
) -> Result<Response<Body>, ApiError> {
    let connector = load(context, id).await?;
    let user = context
        .services
        .store
        .get_user(&connector.id, user_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(
                "user_not_found",
                format!(
                    "user '{}' is not in the mirror of connector {}; ids are Okta user ids such as 00u1ab2cd3EF4gh5ij6k7",
                    crate::domain::truncate_for_message(user_id),
                    connector.id
                ),
            )
        })?;
    json_response(StatusCode::OK, &user)
}

pub async fn list_groups(
    context: &ApiContext,
    request: &Request,
    id: &str,
) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["limit", "cursor", "includeRemoved"])?;
    let limit = query.limit()?;
    let include_removed = query.flag("includeRemoved")?;
    let connector = load(context, id).await?;

    let scope = format!("groups:{}", connector.id);
    let filters = format!("includeRemoved={include_removed}");
    let after = verify_cursor(context, &query, &scope, &filters)?;
    let page = context
        .services
        .store
        .list_groups(&connector.id, include_removed, after, limit)
        .await?;
    let page = fit_page(page, |group| group.id.clone());
    respond_page(context, page, &scope, &filters)
}

pub async fn get_group(
    context: &ApiContext,
    id: &str,
    group_id: &str,
) -> Result<Response<Body>, ApiError> {
    let connector = load(context, id).await?;
    let group = context
        .services
        .store
        .get_group(&connector.id, group_id)
        .await?
        .ok_or_else(|| group_not_found(group_id, &connector.id.to_string()))?;
    json_response(StatusCode::OK, &group)
}

pub async fn list_members(
    context: &ApiContext,
    request: &Request,
    id: &str,
    group_id: &str,
) -> Result<Response<Body>, ApiError> {
    let query = Query::parse(request, &["limit", "cursor"])?;
    let limit = query.limit()?;
    let connector = load(context, id).await?;
    let store = &context.services.store;
    if store.get_group(&connector.id, group_id).await?.is_none() {
        return Err(group_not_found(group_id, &connector.id.to_string()));
    }

    let scope = format!("members:{}:{group_id}", connector.id);
    let after = verify_cursor(context, &query, &scope, "")?;
    let member_query = MemberQuery {
        group_id: group_id.to_owned(),
    };
    let page = store
        .list_members(&connector.id, &member_query, after, limit)
        .await?;
    respond_page(context, page, &scope, "")
}

fn group_not_found(group_id: &str, connector_id: &str) -> ApiError {
    ApiError::not_found(
        "group_not_found",
        format!(
            "group '{}' is not in the mirror of connector {connector_id}; ids are Okta group ids such as 00g1ab2cd3EF4gh5ij6k7",
            crate::domain::truncate_for_message(group_id)
        ),
    )
}

fn parse_status(value: &str) -> Result<String, ApiError> {
    if USER_STATUSES.contains(&value) {
        Ok(value.to_owned())
    } else {
        Err(ApiError::bad_request(
            "invalid_status",
            format!(
                "status '{}' is not an Okta user status; use one of {}",
                crate::domain::truncate_for_message(value),
                USER_STATUSES.join(", ")
            ),
        )
        .with_field("status"))
    }
}

fn verify_cursor(
    context: &ApiContext,
    query: &Query,
    scope: &str,
    filters: &str,
) -> Result<Option<String>, ApiError> {
    query
        .get("cursor")
        .map(|cursor| context.cursors.verify(cursor, scope, filters))
        .transpose()
}

/// Shortens a page whose items would make the answer too large, continuing
/// the next page after the last item kept.
fn fit_page<T: Serialize>(page: MirrorPage<T>, key_of: impl Fn(&T) -> String) -> MirrorPage<T> {
    let mut size = 0;
    let mut keep = page.items.len();
    for (index, item) in page.items.iter().enumerate() {
        size += serde_json::to_vec(item)
            .map(|bytes| bytes.len())
            .unwrap_or(0);
        if size > MAX_PAGE_BYTES && index > 0 {
            keep = index;
            break;
        }
    }
    if keep == page.items.len() {
        return page;
    }
    let mut items = page.items;
    items.truncate(keep);
    let last_key = items.last().map(&key_of);
    MirrorPage { items, last_key }
}

fn respond_page<T: Serialize>(
    context: &ApiContext,
    page: MirrorPage<T>,
    scope: &str,
    filters: &str,
) -> Result<Response<Body>, ApiError> {
    let next_cursor = page
        .last_key
        .map(|last| context.cursors.issue(scope, filters, &last));
    json_response(
        StatusCode::OK,
        &ListPage {
            items: page.items,
            next_cursor,
        },
    )
}
