use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::condition_failed;
use super::items::{n, s, PagedQuery};
use super::keys::CONNECTOR_PK;
use super::unless_condition_failed;
use super::{Store, StoreError};
use crate::domain::ConnectorId;
use crate::records::{Connector, RunSummary, ScheduleRecord};

/// Update expression that raises a connector's version by one; items
/// written before versions existed start from 0.
const BUMP_VERSION: &str = "#version = if_not_exists(#version, :zero) + :one";

/// Adds the names and values that `BUMP_VERSION` uses.
fn request_version(request: UpdateItemFluentBuilder) -> UpdateItemFluentBuilder {
    request
        .expression_attribute_names("#version", "version")
        .expression_attribute_values(":zero", n(0))
        .expression_attribute_values(":one", n(1))
}

/// Condition that the connector exists with the given version. Version 0
/// also matches an item that has no version attribute yet.
fn version_condition(version: u64) -> &'static str {
    if version == 0 {
        "attribute_exists(pk) AND (attribute_not_exists(#version) OR #version = :expected)"
    } else {
        "#version = :expected"
    }
}

fn with_version_condition(
    request: UpdateItemFluentBuilder,
    expected_version: Option<u64>,
) -> UpdateItemFluentBuilder {
    match expected_version {
        None => request.condition_expression("attribute_exists(pk)"),
        Some(version) => request
            .condition_expression(version_condition(version))
            .expression_attribute_values(":expected", n(version)),
    }
}

impl Store {
    pub async fn create_connector(&self, connector: &Connector) -> Result<(), StoreError> {
        let item = self.connector_item(connector)?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|error| match error.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => StoreError::Conflict,
                _ => StoreError::dynamo("PutItem", error),
            })?;
        Ok(())
    }

    /// Writes the admin-editable fields of a connector if it still exists
    /// and raises its version, which it stores in `connector.version`. Only
    /// these attributes change, so a schedule or run summary written by
    /// another request at the same time is kept. With `expected_version`
    /// the write happens only while the stored version is that one.
    pub async fn update_connector_settings(
        &self,
        connector: &mut Connector,
        expected_version: Option<u64>,
    ) -> Result<(), StoreError> {
        let value = |what: &str, value: Result<AttributeValue, serde_dynamo::Error>| {
            value.map_err(|error| StoreError::corrupt(format!("connector {what}"), error))
        };
        let domain = value(
            "domain",
            serde_dynamo::to_attribute_value(&connector.domain),
        )?;
        let scope = value("scope", serde_dynamo::to_attribute_value(&connector.scope))?;
        let mapping = value(
            "mapping",
            serde_dynamo::to_attribute_value(&connector.mapping),
        )?;
        let cleanup = value(
            "cleanup",
            serde_dynamo::to_attribute_value(connector.cleanup),
        )?;
        let adopt_match = value(
            "adoptMatch",
            serde_dynamo::to_attribute_value(connector.adopt_match),
        )?;
        let guard = value(
            "deletionGuard",
            serde_dynamo::to_attribute_value(connector.deletion_guard),
        )?;
        let mut expression = format!(
            "SET #name = :name, #domain = :domain, updatedAt = :updated, \
             #scope = :scope, #mapping = :mapping, #cleanup = :cleanup, adoptMatch = :adoptMatch, \
             deletionGuard = :guard, {BUMP_VERSION}"
        );
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(connector.id.as_str()))
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#domain", "domain")
            .expression_attribute_names("#scope", "scope")
            .expression_attribute_names("#mapping", "mapping")
            .expression_attribute_names("#cleanup", "cleanup")
            .expression_attribute_values(":name", s(&connector.name))
            .expression_attribute_values(":domain", domain)
            .expression_attribute_values(":updated", s(&connector.updated_at))
            .expression_attribute_values(":scope", scope)
            .expression_attribute_values(":mapping", mapping)
            .expression_attribute_values(":cleanup", cleanup)
            .expression_attribute_values(":adoptMatch", adopt_match)
            .expression_attribute_values(":guard", guard)
            .return_values(ReturnValue::UpdatedNew);
        if connector.adopt_from.is_empty() {
            expression.push_str(" REMOVE adoptFrom");
        } else {
            let adopt_from = value(
                "adoptFrom",
                serde_dynamo::to_attribute_value(&connector.adopt_from),
            )?;
            expression.push_str(", adoptFrom = :adoptFrom");
            request = request.expression_attribute_values(":adoptFrom", adopt_from);
        }
        let request = request.update_expression(expression);
        let request = with_version_condition(request_version(request), expected_version);
        match request.send().await {
            Ok(output) => {
                connector.version = output
                    .attributes
                    .as_ref()
                    .and_then(|attributes| super::items::get_n(attributes, "version"))
                    .unwrap_or(connector.version + 1);
                Ok(())
            }
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Err(self.explain_failed_condition(&connector.id).await)
            }
            Err(error) => Err(StoreError::dynamo("UpdateItem", error)),
        }
    }

    /// Tells why a conditional write on a connector failed: it is gone, or
    /// its version moved on.
    async fn explain_failed_condition(&self, id: &ConnectorId) -> StoreError {
        match self.get_connector(id).await {
            Ok(Some(current)) => StoreError::VersionMismatch {
                current: current.version,
            },
            Ok(None) => StoreError::ConnectorNotFound(id.clone()),
            Err(error) => error,
        }
    }

    pub async fn get_connector(&self, id: &ConnectorId) -> Result<Option<Connector>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        output
            .item
            .map(|item| {
                serde_dynamo::from_item(item)
                    .map_err(|error| StoreError::corrupt("connector", error))
            })
            .transpose()
    }

    pub async fn require_connector(&self, id: &ConnectorId) -> Result<Connector, StoreError> {
        self.get_connector(id)
            .await?
            .ok_or_else(|| StoreError::ConnectorNotFound(id.clone()))
    }

    pub async fn list_connectors(
        &self,
        after: Option<String>,
        limit: usize,
    ) -> Result<(Vec<Connector>, Option<String>), StoreError> {
        let page = self
            .query_page(PagedQuery {
                pk: CONNECTOR_PK.into(),
                after_sk: after,
                limit,
                filter: None,
                newest_first: false,
            })
            .await?;
        let connectors = page
            .items
            .into_iter()
            .map(|item| {
                serde_dynamo::from_item(item)
                    .map_err(|error| StoreError::corrupt("connector", error))
            })
            .collect::<Result<Vec<Connector>, _>>()?;
        Ok((connectors, page.last_sk))
    }

    /// Deletes the connector's record and returns it, or `None` if it was
    /// already gone. With `expected_version` it deletes only that version
    /// and fails with `VersionMismatch` on any other.
    pub async fn delete_connector(
        &self,
        id: &ConnectorId,
        expected_version: Option<u64>,
    ) -> Result<Option<Connector>, StoreError> {
        let mut request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(id.as_str()))
            .return_values(ReturnValue::AllOld);
        request = match expected_version {
            None => request.condition_expression("attribute_exists(pk)"),
            Some(version) => request
                .condition_expression(version_condition(version))
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":expected", n(version)),
        };
        let output = request.send().await;
        if expected_version.is_some()
            && output.as_ref().is_err_and(|error| {
                matches!(
                    error.as_service_error(),
                    Some(DeleteItemError::ConditionalCheckFailedException(_))
                )
            })
        {
            return match self.explain_failed_condition(id).await {
                StoreError::ConnectorNotFound(_) => Ok(None),
                other => Err(other),
            };
        }
        match output {
            Ok(output) => output
                .attributes
                .map(|item| {
                    serde_dynamo::from_item(item)
                        .map_err(|error| StoreError::corrupt("connector", error))
                })
                .transpose(),
            Err(error) => match error.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(_)) => Ok(None),
                _ => Err(StoreError::dynamo("DeleteItem", error)),
            },
        }
    }

    /// Records a run's summary on its connector, if the connector still exists.
    pub async fn set_last_run(&self, id: &ConnectorId, run: &RunSummary) -> Result<(), StoreError> {
        let value: AttributeValue = serde_dynamo::to_attribute_value(run)
            .map_err(|error| StoreError::corrupt("run summary", error))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(id.as_str()))
            .update_expression("SET lastRun = :run")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":run", value)
            .send()
            .await;
        unless_condition_failed("UpdateItem", result)
    }

    /// Stores the connector's schedule, or removes it with `None`, and
    /// raises the connector's version. Fails with `ConnectorNotFound` when
    /// the connector no longer exists.
    pub async fn set_schedule(
        &self,
        id: &ConnectorId,
        schedule: Option<&ScheduleRecord>,
    ) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(id.as_str()))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#schedule", "schedule");
        let request = match schedule {
            Some(schedule) => {
                let value: AttributeValue = serde_dynamo::to_attribute_value(schedule)
                    .map_err(|error| StoreError::corrupt("schedule", error))?;
                request
                    .update_expression(format!("SET #schedule = :schedule, {BUMP_VERSION}"))
                    .expression_attribute_values(":schedule", value)
            }
            None => request.update_expression(format!("SET {BUMP_VERSION} REMOVE #schedule")),
        };
        let request = request_version(request);
        match request.send().await {
            Ok(_) => Ok(()),
            Err(error) if condition_failed(&error) => {
                Err(StoreError::ConnectorNotFound(id.clone()))
            }
            Err(error) => Err(StoreError::dynamo("UpdateItem", error)),
        }
    }

    fn connector_item(
        &self,
        connector: &Connector,
    ) -> Result<std::collections::HashMap<String, AttributeValue>, StoreError> {
        let mut item: std::collections::HashMap<String, AttributeValue> =
            serde_dynamo::to_item(connector)
                .map_err(|error| StoreError::corrupt("connector", error))?;
        item.insert("pk".into(), s(CONNECTOR_PK));
        item.insert("sk".into(), s(connector.id.as_str()));
        Ok(item)
    }
}
