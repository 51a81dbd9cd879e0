//! Checks of the connector fields that shape what a sync mirrors: `scope`,
//! `mapping`, `cleanup`, `adoptFrom` and `adoptMatch`.

use std::time::Duration;

use super::error::ApiError;
use super::ApiContext;
use crate::domain::{ApiToken, ConnectorId, OktaDomain};
use crate::lifecycle::MAX_ADOPT_FROM;
use crate::lifecycle::{validate_mapping, validate_scope, InvalidSetting, Mapping, Scope};
use crate::okta::{ClientOptions, OktaClient, OktaError, UserSelection};

fn setting_error(invalid: InvalidSetting) -> ApiError {
    ApiError::invalid_field(&invalid.field, invalid.error)
}

/// Errors in the scope's and mapping's own values, without asking Okta.
pub(super) fn local_errors(scope: Option<&Scope>, mapping: Option<&Mapping>) -> Vec<ApiError> {
    let mut errors = Vec::new();
    if let Some(scope) = scope {
        errors.extend(validate_scope(scope).into_iter().map(setting_error));
    }
    if let Some(mapping) = mapping {
        errors.extend(validate_mapping(mapping).into_iter().map(setting_error));
    }
    errors
}

/// Checks `adoptFrom`: at most `MAX_ADOPT_FROM` distinct, existing
/// connectors other than `own`. On an update (`own` given) a non-empty list
/// is rejected once the connector has finished a sync, because adoption
/// only happens before that.
pub(super) async fn resolve_adopt_from(
    context: &ApiContext,
    ids: &[String],
    own: Option<&ConnectorId>,
) -> Result<Vec<ConnectorId>, Vec<ApiError>> {
    let invalid = |index: usize, message: String| {
        ApiError::bad_request("invalid_adopt_from", message)
            .with_field(format!("adoptFrom[{index}]"))
    };
    if ids.len() > MAX_ADOPT_FROM {
        return Err(vec![ApiError::bad_request(
            "invalid_adopt_from",
            format!(
                "adoptFrom lists {} connectors; the maximum is {MAX_ADOPT_FROM}",
                ids.len()
            ),
        )
        .with_field("adoptFrom")]);
    }
    if let (Some(own), false) = (own, ids.is_empty()) {
        let state = context
            .services
            .store
            .get_sync_state(own)
            .await
            .map_err(|error| vec![error.into()])?;
        if state.watermark.is_some() {
            return Err(vec![ApiError::bad_request(
                "adoption_closed",
                "this connector has already finished a sync, and adoption only happens on a connector's first successful sync; create a new connector with adoptFrom instead",
            )
            .with_field("adoptFrom")]);
        }
    }
    let mut resolved = Vec::with_capacity(ids.len());
    let mut errors = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        let shown = crate::domain::truncate_for_message(id);
        let Ok(connector_id) = ConnectorId::parse(id) else {
            errors.push(invalid(
                index,
                format!(
                    "connector '{shown}' was not found; GET /connectors lists the existing ones"
                ),
            ));
            continue;
        };
        if Some(&connector_id) == own {
            errors.push(invalid(
                index,
                "a connector cannot adopt its own users; list the connector being replaced".into(),
            ));
            continue;
        }
        if resolved.contains(&connector_id) {
            errors.push(invalid(
                index,
                format!("connector '{shown}' is listed twice; list it once"),
            ));
            continue;
        }
        match context.services.store.get_connector(&connector_id).await {
            Ok(Some(_)) => resolved.push(connector_id),
            Ok(None) => errors.push(invalid(
                index,
                format!(
                    "connector '{shown}' was not found; GET /connectors lists the existing ones"
                ),
            )),
            Err(error) => return Err(vec![error.into()]),
        }
    }
    if errors.is_empty() {
        Ok(resolved)
    } else {
        Err(errors)
    }
}

/// Asks Okta for one user matching the scope's `userFilter` or
/// `userSearch`, so an expression Okta rejects (E0000053 for a filter,
/// E0000031 for a search) is a 400 now rather than a failed sync later.
pub(super) async fn check_user_selection(
    context: &ApiContext,
    domain: &OktaDomain,
    token: ApiToken,
    scope: &Scope,
) -> Result<(), ApiError> {
    let (selection, field) = match (&scope.user_filter, &scope.user_search) {
        (Some(filter), _) => (UserSelection::Filter(filter), "scope.userFilter"),
        (None, Some(search)) => (UserSelection::Search(search), "scope.userSearch"),
        (None, None) => return Ok(()),
    };
    let services = &context.services;
    let options = ClientOptions {
        // API Gateway times out after 29 s, so the check fails fast.
        request_timeout: Duration::from_secs(8),
        max_attempts: 2,
        max_throttle_waits: 0,
        ..services.okta.clone()
    };
    let client = OktaClient::new(domain, token, &services.settings.domain_policy, options)
        .map_err(|error| ApiError::invalid_field("domain", error))?;
    let (_, expression) = selection.parameter();
    let shown = crate::domain::truncate_for_message(expression);
    match client.try_user_selection(&selection).await {
        Ok(()) => Ok(()),
        Err(OktaError::Rejected { code, summary, .. })
            if code == "E0000031" || code == "E0000053" =>
        {
            Err(ApiError::bad_request(
                "invalid_user_selection",
                format!(
                    "Okta rejected {field} '{shown}' ({code}: {summary}). Okta's filter takes status, lastUpdated, id and profile.login/email/firstName/lastName with eq; search takes any profile attribute, for example profile.department eq \"Sales\"."
                ),
            )
            .with_field(field)
            .with_extra("oktaCode", code))
        }
        Err(error) => Err(ApiError::bad_request(
            "user_selection_unchecked",
            format!(
                "{field} could not be checked against Okta: {error} Fix the connector's domain or token (POST /connectors/{{id}}/test checks them), then send the scope again."
            ),
        )
        .with_field(field)),
    }
}
