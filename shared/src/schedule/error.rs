//! The error type of schedule translation.

use serde::Serialize;

/// Error codes that API clients can match on.
pub mod codes {
    /// The expression does not parse, or uses a form EventBridge cannot run.
    pub const INVALID_EXPRESSION: &str = "invalid_expression";
    /// The interval is zero, negative or longer than the supported maximum.
    pub const INVALID_INTERVAL: &str = "invalid_interval";
    /// The time zone is not an IANA time zone name.
    pub const INVALID_TIMEZONE: &str = "invalid_timezone";
    /// Two consecutive runs can be closer together than the allowed minimum.
    pub const SCHEDULE_TOO_FREQUENT: &str = "schedule_too_frequent";
    /// Both day fields are restricted. Unix cron then runs when either one
    /// matches, and EventBridge needs one of them to be `?`, so no single
    /// EventBridge form exists.
    pub const AMBIGUOUS_DAY_FIELDS: &str = "ambiguous_day_fields";
    /// No date matches the expression, or every matching date has passed.
    pub const SCHEDULE_NEVER_FIRES: &str = "schedule_never_fires";
}

/// Names of the request fields an error can point at.
pub mod fields {
    pub const EXPRESSION: &str = "expression";
    pub const INTERVAL: &str = "interval";
    pub const TIMEZONE: &str = "timezone";
}

/// A rejected schedule: which request field is at fault, where inside it, and
/// how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct ScheduleError {
    /// One of the constants in [`codes`].
    pub code: &'static str,
    /// The request field at fault, one of the constants in [`fields`].
    pub field: &'static str,
    /// Character offset (not byte offset) of the offending token inside the
    /// field's value as the admin sent it, when one token is at fault.
    pub position: Option<usize>,
    /// A sentence for the admin that names the cron field at fault and the fix.
    pub message: String,
}

impl ScheduleError {
    pub(crate) fn expression(
        code: &'static str,
        position: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            field: fields::EXPRESSION,
            position,
            message: message.into(),
        }
    }

    pub(crate) fn interval(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            field: fields::INTERVAL,
            position: None,
            message: message.into(),
        }
    }

    pub(crate) fn timezone(message: impl Into<String>) -> Self {
        Self {
            code: codes::INVALID_TIMEZONE,
            field: fields::TIMEZONE,
            position: None,
            message: message.into(),
        }
    }
}
