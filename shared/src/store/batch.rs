use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use backon::{BackoffBuilder, ExponentialBuilder};
use futures::StreamExt;

use super::{Store, StoreError};

/// BatchWriteItem takes at most 25 requests. moto accepts more, so the limit
/// is enforced here rather than left to the service.
pub const BATCH_WRITE_MAX: usize = 25;

/// Batches in flight at once for one `write_all`.
const PARALLEL_BATCHES: usize = 8;

/// Unprocessed items are retried this many times before the write fails.
const UNPROCESSED_RETRIES: usize = 8;

pub type Item = HashMap<String, AttributeValue>;

impl Store {
    pub(crate) fn put_request(item: Item) -> Result<WriteRequest, StoreError> {
        let put = PutRequest::builder()
            .set_item(Some(item))
            .build()
            .map_err(|error| StoreError::corrupt("put request", error))?;
        Ok(WriteRequest::builder().put_request(put).build())
    }

    pub(crate) fn delete_request(pk: String, sk: String) -> Result<WriteRequest, StoreError> {
        let delete = DeleteRequest::builder()
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .build()
            .map_err(|error| StoreError::corrupt("delete request", error))?;
        Ok(WriteRequest::builder().delete_request(delete).build())
    }

    /// Writes the requests in batches of at most 25, several batches at once,
    /// retrying what DynamoDB returns as unprocessed with exponential backoff
    /// and jitter. Returns how many requests were written.
    pub async fn write_all(&self, requests: Vec<WriteRequest>) -> Result<usize, StoreError> {
        self.write_requests(requests, true).await
    }

    /// Writes like `write_all`; `count` tells whether the writes count as
    /// mirror writes in the store's statistics.
    pub(crate) async fn write_requests(
        &self,
        requests: Vec<WriteRequest>,
        count: bool,
    ) -> Result<usize, StoreError> {
        let written = requests.len();
        let mut chunks = Vec::with_capacity(written.div_ceil(BATCH_WRITE_MAX));
        // Each batch gets a vector of its own size. (Splitting one vector
        // with `split_off` left every batch with the capacity of all the
        // requests after it, so memory grew with the square of the count.)
        let mut requests = requests.into_iter();
        loop {
            let chunk: Vec<WriteRequest> = requests.by_ref().take(BATCH_WRITE_MAX).collect();
            if chunk.is_empty() {
                break;
            }
            chunks.push(chunk);
        }
        let mut writes = futures::stream::iter(
            chunks
                .into_iter()
                .map(|chunk| self.write_batch(chunk, count)),
        )
        .buffer_unordered(PARALLEL_BATCHES);
        while let Some(result) = writes.next().await {
            result?;
        }
        Ok(written)
    }

    async fn write_batch(&self, chunk: Vec<WriteRequest>, count: bool) -> Result<(), StoreError> {
        debug_assert!(chunk.len() <= BATCH_WRITE_MAX);
        let started = std::time::Instant::now();
        let items = chunk.len();
        let mut pending = chunk;
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(50))
            .with_max_delay(Duration::from_secs(5))
            .with_jitter()
            .with_max_times(UNPROCESSED_RETRIES)
            .build();

        loop {
            let output = self
                .client
                .batch_write_item()
                .request_items(self.table.clone(), pending)
                .send()
                .await
                .map_err(|error| StoreError::dynamo("BatchWriteItem", error))?;
            let unprocessed = output
                .unprocessed_items
                .and_then(|mut items| items.remove(&self.table))
                .unwrap_or_default();
            if unprocessed.is_empty() {
                if count {
                    self.stats.record(items, started);
                }
                return Ok(());
            }
            let Some(delay) = delays.next() else {
                return Err(StoreError::Dynamo {
                    operation: "BatchWriteItem",
                    message: format!(
                        "{} items stayed unprocessed after {UNPROCESSED_RETRIES} retries",
                        unprocessed.len()
                    ),
                });
            };
            tracing::warn!(
                unprocessed = unprocessed.len(),
                delay_ms = delay.as_millis() as u64,
                "DynamoDB returned unprocessed items, retrying"
            );
            tokio::time::sleep(delay).await;
            pending = unprocessed;
        }
    }
}
