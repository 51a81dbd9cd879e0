//! Hand-off of work from the API to the sync function through SQS: in AWS an
//! event source mapping invokes the sync function; locally a small poller
//! receives from the emulator's queue and invokes the function.

use aws_sdk_sqs::Client;

use crate::sync::SyncEvent;

#[derive(Debug, thiserror::Error)]
#[error("could not queue the sync event: {0}")]
pub struct HandoffError(String);

#[derive(Clone, Debug)]
pub struct Handoff {
    client: Client,
    queue_url: String,
}

impl Handoff {
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    pub async fn send(&self, event: &SyncEvent) -> Result<(), HandoffError> {
        let body = serde_json::to_string(event).map_err(|error| HandoffError(error.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|error| HandoffError(crate::aws_error::describe(&error)))?;
        Ok(())
    }
}
