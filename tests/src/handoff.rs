//! The local stand-in for the SQS event source mapping: receives sync events
//! from the emulator's queue and invokes the sync function through
//! cargo-lambda's Invoke endpoint with the same SQS envelope AWS sends.
//! A message is deleted only when the function reports no failure for it.

use std::time::Duration;

use aws_config::SdkConfig;
use serde_json::{json, Value};

/// Forwards messages until the task is dropped or the process ends.
pub async fn forward(sdk: &SdkConfig, queue_url: &str, invoke_url: &str) -> Result<(), String> {
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(900))
        .build()
        .map_err(|error| error.to_string())?;
    let invoke = format!(
        "{}/2015-03-31/functions/sync/invocations",
        invoke_url.trim_end_matches('/')
    );

    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(1)
            .send()
            .await;
        let messages = match received {
            Ok(output) => output.messages.unwrap_or_default(),
            Err(error) => {
                tracing::warn!(error = %error, "receiving from the sync queue failed; retrying in 2 s");
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        for message in messages {
            let envelope = json!({"Records": [{
                "messageId": message.message_id.clone().unwrap_or_default(),
                "receiptHandle": message.receipt_handle.clone().unwrap_or_default(),
                "body": message.body.clone().unwrap_or_default(),
                "eventSource": "aws:sqs",
            }]});
            let delivered = match http.post(&invoke).json(&envelope).send().await {
                Ok(response) if response.status().is_success() => {
                    let answer: Value = response.json().await.unwrap_or(Value::Null);
                    let failed = answer["batchItemFailures"]
                        .as_array()
                        .is_some_and(|failures| !failures.is_empty());
                    if failed {
                        tracing::warn!(
                            "the sync function reported a failure; the message stays on the queue"
                        );
                    }
                    !failed
                }
                Ok(response) => {
                    tracing::warn!(status = %response.status(), "the sync function answered with an error");
                    false
                }
                Err(error) => {
                    tracing::warn!(error = %error, "could not invoke the sync function");
                    false
                }
            };
            if delivered {
                let _ = sqs
                    .delete_message()
                    .queue_url(queue_url)
                    .receipt_handle(message.receipt_handle.unwrap_or_default())
                    .send()
                    .await;
            }
        }
    }
}
