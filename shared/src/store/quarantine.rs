//! The connector record's failure count and quarantine. Every write is one
//! conditional UpdateItem, so concurrent invocations neither lose a count
//! nor count a run twice.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::items::{get_n, n, s};
use super::keys::CONNECTOR_PK;
use super::{Store, StoreError};
use crate::domain::ConnectorId;
use crate::records::Quarantine;

/// The connector's failure count just after a failed run was added.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureCount {
    /// Failed runs in a row, the one just counted included.
    pub failures: u32,
    /// The quarantine in place before this failure, if any.
    pub quarantine: Option<Quarantine>,
}

fn is_condition_failure<E, R>(error: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(|error| error.code())
        .is_some_and(|code| code == "ConditionalCheckFailedException")
}

impl Store {
    /// Adds one failed run to the connector's count. Returns `None` when
    /// this run was already counted (a repeated delivery) or the connector
    /// no longer exists.
    pub async fn count_run_failure(
        &self,
        connector_id: &ConnectorId,
        run_id: &str,
    ) -> Result<Option<FailureCount>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(connector_id.as_str()))
            .update_expression("ADD consecutiveFailures :one SET lastFailedRunId = :run")
            .condition_expression(
                "attribute_exists(pk) AND \
                 (attribute_not_exists(lastFailedRunId) OR lastFailedRunId <> :run)",
            )
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":run", s(run_id))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let attributes = match result {
            Ok(output) => output.attributes.unwrap_or_default(),
            Err(error) if is_condition_failure(&error) => return Ok(None),
            Err(error) => return Err(StoreError::dynamo("UpdateItem", error)),
        };
        let failures = get_n(&attributes, "consecutiveFailures").unwrap_or(1);
        let quarantine = attributes
            .get("quarantine")
            .cloned()
            .map(serde_dynamo::from_attribute_value::<_, Quarantine>)
            .transpose()
            .map_err(|error| StoreError::corrupt("quarantine", error))?;
        Ok(Some(FailureCount {
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            quarantine,
        }))
    }

    /// Writes the connector's quarantine if its failure count still equals
    /// `quarantine.failures`; a success or a later failure written in the
    /// meantime wins. Returns whether it was written.
    pub async fn set_quarantine(
        &self,
        connector_id: &ConnectorId,
        quarantine: &Quarantine,
    ) -> Result<bool, StoreError> {
        let value: AttributeValue = serde_dynamo::to_attribute_value(quarantine)
            .map_err(|error| StoreError::corrupt("quarantine", error))?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(connector_id.as_str()))
            .update_expression("SET quarantine = :quarantine, #status = :quarantined")
            .condition_expression("attribute_exists(pk) AND consecutiveFailures = :failures")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":quarantine", value)
            .expression_attribute_values(":quarantined", s("quarantined"))
            .expression_attribute_values(":failures", n(quarantine.failures))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failure(&error) => Ok(false),
            Err(error) => Err(StoreError::dynamo("UpdateItem", error)),
        }
    }

    /// Sets the failure count back to zero and ends any quarantine. Returns
    /// the quarantine that ended, if there was one.
    pub async fn clear_quarantine(
        &self,
        connector_id: &ConnectorId,
    ) -> Result<Option<Quarantine>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(CONNECTOR_PK))
            .key("sk", s(connector_id.as_str()))
            .update_expression(
                "SET #status = :active REMOVE quarantine, consecutiveFailures, lastFailedRunId",
            )
            // Connectors that never failed are left untouched.
            .condition_expression(
                "attribute_exists(pk) AND \
                 (attribute_exists(consecutiveFailures) OR attribute_exists(quarantine))",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":active", s("active"))
            .return_values(ReturnValue::UpdatedOld)
            .send()
            .await;
        let attributes = match result {
            Ok(output) => output.attributes.unwrap_or_default(),
            Err(error) if is_condition_failure(&error) => return Ok(None),
            Err(error) => return Err(StoreError::dynamo("UpdateItem", error)),
        };
        let ended = attributes
            .get("quarantine")
            .cloned()
            .map(serde_dynamo::from_attribute_value::<_, Quarantine>)
            .transpose()
            .map_err(|error| StoreError::corrupt("quarantine", error))?;
        if let Some(ended) = &ended {
            tracing::info!(
                connector_id = %connector_id,
                since = ended.since,
                failures = ended.failures,
                "quarantine ended"
            );
        }
        Ok(ended)
    }
}
