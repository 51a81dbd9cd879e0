//! The System Log: events that changes to the org add, in the shape of
//! Okta's `LogEvent`, served by `GET /api/v1/logs`.
//!
//! Only three event types are recorded: a user added to a group, a user
//! removed from a group, and a user deleted. The Everyone group's automatic
//! changes (a user created or deleted) get no membership event, and neither
//! does a deletion's removal from the user's other groups, because Okta does
//! not log those as membership events either.

use std::time::Duration;

use chrono::Duration as TimeDelta;
use rand::RngExt;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{json, Value};

use crate::model::{format_timestamp, Group, Timestamp, User};
use crate::query::{Field, FieldValue, LogField, Record};

pub const MEMBERSHIP_ADD: &str = "group.user_membership.add";
pub const MEMBERSHIP_REMOVE: &str = "group.user_membership.remove";
pub const USER_DELETE: &str = "user.lifecycle.delete.initiated";

/// The admin every recorded change is attributed to.
const ACTOR_ID: &str = "00ufakeoktaadmin0001";
const ACTOR_LOGIN: &str = "admin@example.com";
const ACTOR_NAME: &str = "Fake Okta Admin";

/// One recorded event.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEvent {
    /// Position in the log. Events are recorded in `published` order, so the
    /// serial also orders events with the same `published` time.
    pub serial: u64,
    pub uuid: String,
    /// Millisecond precision, like Okta's `published`.
    pub published: Timestamp,
    /// First instant at which `GET /api/v1/logs` returns the event.
    pub visible_at: Timestamp,
    pub event_type: &'static str,
    pub display_message: &'static str,
    /// The user, then the group for membership events.
    pub targets: Vec<LogTarget>,
}

/// An entry of a LogEvent's `target` array.
#[derive(Clone, Debug, PartialEq)]
pub struct LogTarget {
    pub id: String,
    /// `User` or `UserGroup`.
    pub target_type: &'static str,
    pub alternate_id: String,
    pub display_name: String,
}

impl LogTarget {
    pub(crate) fn user(user: &User) -> LogTarget {
        let name = |key: &str| {
            user.profile
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        LogTarget {
            id: user.id.clone(),
            target_type: "User",
            alternate_id: user.login().to_string(),
            display_name: format!("{} {}", name("firstName"), name("lastName")),
        }
    }

    pub(crate) fn group(group: &Group) -> LogTarget {
        LogTarget {
            id: group.id.clone(),
            target_type: "UserGroup",
            // A group has no login-like alternate id, so the fake sends `unknown`.
            alternate_id: "unknown".to_string(),
            display_name: group.name().to_string(),
        }
    }
}

/// How the System Log behaves, set through `/__admin/logs` or
/// [`crate::FakeOkta::set_log_settings`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogSettings {
    /// Time between an event's `published` and the moment the log returns
    /// it, applied to events recorded from now on. It models Okta's late
    /// arrival of events.
    #[serde(with = "crate::faults::duration_ms", rename = "delayMs", default)]
    pub delay: Duration,
    /// Makes `GET /api/v1/logs` respond with 403 E0000006, as Okta does for a
    /// token whose admin role cannot read the System Log.
    #[serde(default)]
    pub forbidden: bool,
}

/// The recorded events and the log's settings.
#[derive(Clone, Debug, Default)]
pub struct SystemLog {
    events: Vec<LogEvent>,
    pub settings: LogSettings,
    next_serial: u64,
}

impl SystemLog {
    /// Returns every recorded event, visible or not, in `published` order.
    pub fn events(&self) -> &[LogEvent] {
        &self.events
    }

    /// Records a successful event published at `now`.
    pub(crate) fn record(
        &mut self,
        event_type: &'static str,
        display_message: &'static str,
        targets: Vec<LogTarget>,
        now: Timestamp,
    ) {
        let serial = self.next_serial;
        self.next_serial += 1;
        let delay = TimeDelta::from_std(self.settings.delay).unwrap_or(TimeDelta::MAX);
        // Callers read the clock before taking the org's lock, so their
        // times can arrive out of order. Keeping `published` from going back
        // keeps it in serial order.
        let published = self
            .events
            .last()
            .map_or(now, |last| now.max(last.published));
        self.events.push(LogEvent {
            serial,
            uuid: random_uuid(),
            published,
            visible_at: published.checked_add_signed(delay).unwrap_or(published),
            event_type,
            display_message,
            targets,
        });
    }
}

fn random_uuid() -> String {
    let bits: u128 = rand::rng().random();
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

impl Serialize for LogEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let targets: Vec<Value> = self
            .targets
            .iter()
            .map(|target| {
                json!({
                    "id": target.id,
                    "type": target.target_type,
                    "alternateId": target.alternate_id,
                    "displayName": target.display_name,
                    "detailEntry": null,
                })
            })
            .collect();

        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(
            "actor",
            &json!({
                "id": ACTOR_ID,
                "type": "User",
                "alternateId": ACTOR_LOGIN,
                "displayName": ACTOR_NAME,
                "detailEntry": null,
            }),
        )?;
        map.serialize_entry(
            "client",
            &json!({
                "userAgent": {"rawUserAgent": "okta-sdk-java", "os": "Unknown", "browser": "UNKNOWN"},
                "zone": null,
                "device": "Unknown",
                "id": null,
                "ipAddress": "127.0.0.1",
                "geographicalContext": null,
            }),
        )?;
        map.serialize_entry(
            "authenticationContext",
            &json!({
                "authenticationProvider": null,
                "credentialProvider": null,
                "credentialType": null,
                "issuer": null,
                "interface": null,
                "authenticationStep": 0,
                "externalSessionId": "trs-fake-okta",
            }),
        )?;

        map.serialize_entry("displayMessage", self.display_message)?;
        map.serialize_entry("eventType", self.event_type)?;
        map.serialize_entry("outcome", &json!({"result": "SUCCESS", "reason": null}))?;
        // `published` keeps its milliseconds, unlike the fake's object timestamps.
        map.serialize_entry("published", &format_timestamp(&self.published))?;
        map.serialize_entry("severity", "INFO")?;

        map.serialize_entry(
            "debugContext",
            &json!({"debugData": {"requestUri": "/api/v1/groups"}}),
        )?;
        map.serialize_entry("legacyEventType", &Value::Null)?;
        map.serialize_entry(
            "transaction",
            &json!({"type": "WEB", "id": format!("fake-{}", self.serial), "detail": {}}),
        )?;
        map.serialize_entry("uuid", &self.uuid)?;
        map.serialize_entry("version", "0")?;
        map.serialize_entry("request", &json!({"ipChain": []}))?;
        map.serialize_entry("target", &targets)?;
        map.end()
    }
}

impl Record for LogEvent {
    fn field(&self, field: &Field) -> FieldValue<'_> {
        let Field::Log(log_field) = field else {
            return match field {
                Field::Id => FieldValue::Id(&self.uuid),
                _ => FieldValue::Json(None),
            };
        };
        match log_field {
            LogField::EventType => FieldValue::Text(self.event_type),
            LogField::OutcomeResult => FieldValue::Text("SUCCESS"),
            LogField::ActorId => FieldValue::Id(ACTOR_ID),
            LogField::TargetId => FieldValue::Any(
                self.targets
                    .iter()
                    .map(|target| FieldValue::Id(&target.id))
                    .collect(),
            ),
            LogField::TargetType => FieldValue::Any(
                self.targets
                    .iter()
                    .map(|target| FieldValue::Text(target.target_type))
                    .collect(),
            ),
        }
    }
}
