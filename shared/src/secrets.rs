//! Okta API tokens in AWS Secrets Manager, one secret per connector, named
//! `<prefix><connector id>`. The token is read only to build an Okta client.

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::Client;

use crate::domain::{ApiToken, ConnectorId};

/// Deleted secrets can be restored for this many days (Secrets Manager's
/// minimum is 7), in case a connector was deleted by mistake.
const RECOVERY_WINDOW_DAYS: i64 = 7;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("Secrets Manager call {operation} failed for connector {connector_id}: {message}")]
    Call {
        operation: &'static str,
        connector_id: String,
        message: String,
    },
    #[error(
        "the stored token of connector {0} is missing; set a new one with PATCH /connectors/{0}"
    )]
    Missing(String),
}

#[derive(Clone, Debug)]
pub struct TokenStore {
    client: Client,
    prefix: String,
    /// Customer managed KMS key for new secrets; `None` uses the account's
    /// `aws/secretsmanager` key.
    kms_key_id: Option<String>,
}

impl TokenStore {
    pub fn new(client: Client, prefix: impl Into<String>) -> Self {
        Self {
            client,
            prefix: prefix.into(),
            kms_key_id: None,
        }
    }

    /// Encrypts the secrets this store creates with the given KMS key (id,
    /// ARN or alias). New token values of an existing secret keep the key it
    /// was created with.
    pub fn with_kms_key_id(mut self, kms_key_id: Option<String>) -> Self {
        self.kms_key_id = kms_key_id;
        self
    }

    pub fn secret_name(&self, connector_id: &ConnectorId) -> String {
        format!("{}{}", self.prefix, connector_id)
    }

    pub async fn create(
        &self,
        connector_id: &ConnectorId,
        token: &ApiToken,
    ) -> Result<(), SecretsError> {
        self.client
            .create_secret()
            .name(self.secret_name(connector_id))
            .description("Okta API token of an Okta sync connector")
            .secret_string(token.expose())
            .set_kms_key_id(self.kms_key_id.clone())
            .tags(
                aws_sdk_secretsmanager::types::Tag::builder()
                    .key("okta-sync:connector")
                    .value(connector_id.as_str())
                    .build(),
            )
            .send()
            .await
            .map_err(|error| call_error("CreateSecret", connector_id, error))?;
        Ok(())
    }

    pub async fn replace(
        &self,
        connector_id: &ConnectorId,
        token: &ApiToken,
    ) -> Result<(), SecretsError> {
        self.client
            .put_secret_value()
            .secret_id(self.secret_name(connector_id))
            .secret_string(token.expose())
            .send()
            .await
            .map_err(|error| call_error("PutSecretValue", connector_id, error))?;
        Ok(())
    }

    pub async fn read(&self, connector_id: &ConnectorId) -> Result<ApiToken, SecretsError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(self.secret_name(connector_id))
            .send()
            .await
            .map_err(|error| call_error("GetSecretValue", connector_id, error))?;
        let value = output
            .secret_string
            .ok_or_else(|| SecretsError::Missing(connector_id.to_string()))?;
        ApiToken::parse(&value).map_err(|_| SecretsError::Missing(connector_id.to_string()))
    }

    /// Deletes the connector's secret; a secret already gone is not an error.
    pub async fn delete(&self, connector_id: &ConnectorId) -> Result<(), SecretsError> {
        let result = self
            .client
            .delete_secret()
            .secret_id(self.secret_name(connector_id))
            .recovery_window_in_days(RECOVERY_WINDOW_DAYS)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
            {
                Ok(())
            }
            // Deleting a secret already scheduled for deletion is rejected as
            // an invalid request; that secret is as deleted as it gets.
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_invalid_request_exception())
                    && self.is_scheduled_for_deletion(connector_id).await =>
            {
                Ok(())
            }
            Err(error) => Err(call_error("DeleteSecret", connector_id, error)),
        }
    }
}

impl TokenStore {
    async fn is_scheduled_for_deletion(&self, connector_id: &ConnectorId) -> bool {
        self.client
            .describe_secret()
            .secret_id(self.secret_name(connector_id))
            .send()
            .await
            .is_ok_and(|secret| secret.deleted_date.is_some())
    }
}

/// The description holds the service's error code and message, never the
/// secret value, which travels only in the request body.
fn call_error<E, R>(
    operation: &'static str,
    connector_id: &ConnectorId,
    error: SdkError<E, R>,
) -> SecretsError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    SecretsError::Call {
        operation,
        connector_id: connector_id.to_string(),
        message: crate::aws_error::describe(&error),
    }
}
