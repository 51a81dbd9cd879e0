//! The sync function's event, sent by the connectors API (through the
//! queue), by a schedule, or by hand from the console or `cargo lambda
//! invoke`. An SQS envelope carries the same JSON in each record's body.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::records::{SyncMode, Trigger};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncEvent {
    pub connector_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<SyncMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<SyncAction>,
    /// Starts a dry run: the change set is computed and logged, the mirror
    /// is left alone. Ignored when `runId` names an existing run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncAction {
    Sync,
    /// Delete what a deleted connector left behind.
    Purge,
}

/// An incoming event: either one sync event or an SQS batch of them.
pub enum Incoming {
    Direct(SyncEvent),
    Queue(Vec<(String, Result<SyncEvent, String>)>),
}

impl Incoming {
    /// Tells the two shapes apart by the `Records` array of an SQS event.
    pub fn parse(value: Value) -> Result<Self, String> {
        if let Some(records) = value.get("Records").and_then(Value::as_array) {
            let events = records
                .iter()
                .map(|record| {
                    let message_id = record
                        .get("messageId")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    let body = record
                        .get("body")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    let event = serde_json::from_str(body).map_err(|error| {
                        format!("message {message_id} is not a sync event: {error}")
                    });
                    (message_id, event)
                })
                .collect();
            return Ok(Self::Queue(events));
        }
        serde_json::from_value(value)
            .map(Self::Direct)
            .map_err(|error| {
                format!("the event is not a sync event ({error}); send {{\"connectorId\": \"…\"}}")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_event_parses() {
        let value = serde_json::json!({"connectorId": "abc", "trigger": "schedule"});
        let Ok(Incoming::Direct(event)) = Incoming::parse(value) else {
            panic!("expected a direct event");
        };
        assert_eq!(event.trigger, Some(Trigger::Schedule));
    }

    #[test]
    fn sqs_envelope_parses() {
        let value = serde_json::json!({"Records": [
            {"messageId": "m1", "body": "{\"connectorId\":\"abc\",\"runId\":\"r1\"}"},
            {"messageId": "m2", "body": "not json"}
        ]});
        let Ok(Incoming::Queue(events)) = Incoming::parse(value) else {
            panic!("expected a queue event");
        };
        assert_eq!(events.len(), 2);
        assert!(events[0].1.is_ok());
        assert!(events[1].1.is_err());
    }

    #[test]
    fn unknown_field_is_rejected() {
        let value = serde_json::json!({"connectorId": "abc", "bogus": 1});
        assert!(Incoming::parse(value).is_err());
    }
}
