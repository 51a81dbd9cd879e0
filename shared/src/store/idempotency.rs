//! Idempotency keys: the first response to a request sent with an
//! `Idempotency-Key`, kept for a day so that a retry gets it again instead
//! of acting twice. An item contains a keyed digest of the request and the
//! response body, never the request body itself.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};

use super::condition_failed;
use super::items::{get_n, get_s, n, s};
use super::{epoch_seconds, Store, StoreError};

/// A key's stored response is returned for this long (24 hours), after
/// which the key may be used again.
pub const IDEMPOTENCY_TTL_SECONDS: i64 = 24 * 3600;

/// A claim that was never completed or released (its Lambda was cut off)
/// can be taken over by a retry of the same request after this many
/// seconds. API requests end within 29 s, the functions' timeout.
const CLAIM_LEASE_SECONDS: i64 = 60;

const PENDING: &str = "pending";
const COMPLETED: &str = "completed";

/// A response as the idempotency record keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    /// Headers to send again, such as `Location` and `ETag`.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// Result of claiming an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    /// The key is new (or expired): this request acts and completes it.
    Claimed,
    /// An earlier request with the same key and body finished with this
    /// response.
    Completed(StoredResponse),
    /// An earlier request with the same key and body is still running.
    InProgress,
    /// The key was used for a request with another body or route.
    DigestMismatch,
}

fn key_item(scope: &str, key: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("pk".to_owned(), s(format!("idem#{scope}"))),
        ("sk".to_owned(), s(key)),
    ])
}

impl Store {
    /// Claims `key` for a request with `digest`, with a conditional write so
    /// that of two requests at the same time only one acts.
    pub async fn claim_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        digest: &str,
    ) -> Result<ClaimOutcome, StoreError> {
        let now = epoch_seconds();
        let mut item = key_item(scope, key);
        item.insert("state".into(), s(PENDING));
        item.insert("requestDigest".into(), s(digest));
        item.insert("leaseUntil".into(), n(now + CLAIM_LEASE_SECONDS));
        item.insert("expiresAt".into(), n(now + IDEMPOTENCY_TTL_SECONDS));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expiresAt < :now \
                 OR (#state = :pending AND leaseUntil < :now AND requestDigest = :digest)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":digest", s(digest))
            .send()
            .await;
        match result {
            Ok(_) => Ok(ClaimOutcome::Claimed),
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                self.read_claim(scope, key, digest).await
            }
            Err(error) => Err(StoreError::dynamo("PutItem", error)),
        }
    }

    async fn read_claim(
        &self,
        scope: &str,
        key: &str,
        digest: &str,
    ) -> Result<ClaimOutcome, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_item(scope, key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::dynamo("GetItem", error))?;
        // The item can vanish between the two calls only if its claim was
        // released, so the other request is treated as still running.
        let Some(item) = output.item else {
            return Ok(ClaimOutcome::InProgress);
        };
        if get_s(&item, "requestDigest").as_deref() != Some(digest) {
            return Ok(ClaimOutcome::DigestMismatch);
        }
        if get_s(&item, "state").as_deref() != Some(COMPLETED) {
            return Ok(ClaimOutcome::InProgress);
        }
        let response = StoredResponse {
            status: get_n(&item, "status").unwrap_or(200) as u16,
            body: get_s(&item, "body").unwrap_or_default(),
            headers: get_s(&item, "headers")
                .and_then(|text| serde_json::from_str(&text).ok())
                .unwrap_or_default(),
        };
        Ok(ClaimOutcome::Completed(response))
    }

    /// Stores the response of a claimed key.
    pub async fn complete_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        digest: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let headers = serde_json::to_string(&response.headers)
            .map_err(|error| StoreError::corrupt("response headers", error))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_item(scope, key)))
            .update_expression(
                "SET #state = :completed, #status = :status, #body = :body, #headers = :headers",
            )
            .condition_expression("requestDigest = :digest")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#body", "body")
            .expression_attribute_names("#headers", "headers")
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":status", n(response.status))
            .expression_attribute_values(":body", s(&response.body))
            .expression_attribute_values(":headers", s(headers))
            .expression_attribute_values(":digest", s(digest))
            .send()
            .await
            .map_err(|error| StoreError::dynamo("UpdateItem", error))?;
        Ok(())
    }

    /// Frees a claimed key whose request failed, so that a retry with the
    /// same key acts again.
    pub async fn release_idempotency_key(
        &self,
        scope: &str,
        key: &str,
        digest: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_item(scope, key)))
            .condition_expression("#state = :pending AND requestDigest = :digest")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":pending", s(PENDING))
            .expression_attribute_values(":digest", s(digest))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Another request took the key over after the lease ran out.
            Err(error) if condition_failed(&error) => Ok(()),
            Err(error) => Err(StoreError::dynamo("DeleteItem", error)),
        }
    }
}
