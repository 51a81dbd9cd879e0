//! Schedule expressions: turns what an admin types into one Amazon
//! EventBridge Scheduler expression, and lists the schedule's next runs.
//!
//! Accepted input, detected from its shape:
//! - EventBridge `cron(min hour day-of-month month day-of-week year)` and
//!   `rate(N minute|minutes|hour|hours|day|days)`, also without the
//!   `cron(…)` wrapper when a `?` sits in an EventBridge day position;
//! - a 5-field Unix crontab line (day-of-week 0-7, 0 and 7 are Sunday), and
//!   the macros `@hourly`, `@daily`, `@midnight`, `@weekly`, `@monthly`,
//!   `@yearly` and `@annually`;
//! - a 6- or 7-field Quartz expression (leading seconds, optional year);
//! - an interval `{every, unit}`, which becomes a `rate(…)`.
//!
//! A translated `cron(…)` fires at the same wall clock times as the input.
//! Where EventBridge itself would reject a harmless form (both day fields
//! `*`, a `*` next to a restricted day field, steps in day-of-week, a plural
//! unit after 1 in a rate), the translation writes the accepted equivalent.

mod cron;
mod cron_fields;
mod error;
mod rate;
mod runs;
#[cfg(test)]
mod tests;

use std::fmt;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use cron::CronSpec;
use cron_fields::Source;
use rate::Rate;

pub use error::{codes, fields, ScheduleError};

/// Smallest gap between two runs that callers allow by default.
pub const DEFAULT_MIN_INTERVAL: Duration = Duration::minutes(5);

/// Unit of an interval schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IntervalUnit {
    Minutes,
    Hours,
    Days,
}

impl IntervalUnit {
    /// Returns the unit's plural name, as the API spells it.
    pub fn plural(self) -> &'static str {
        match self {
            Self::Minutes => "minutes",
            Self::Hours => "hours",
            Self::Days => "days",
        }
    }
}

/// Schedule input from the admin: an expression in any supported dialect,
/// or an interval. Serializes as `{"expression": "…"}` or
/// `{"interval": {"every": 2, "unit": "hours"}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScheduleSource {
    Expression(String),
    /// `every` is signed so that a negative value from the API reaches
    /// validation and gets an `invalid_interval` error naming it.
    Interval {
        every: i64,
        unit: IntervalUnit,
    },
}

/// The dialect an expression was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Dialect {
    EventBridgeCron,
    EventBridgeRate,
    Unix,
    Quartz,
    Interval,
}

/// An IANA time zone, such as `Europe/Berlin`. The default is UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timezone(Tz);

impl Timezone {
    /// Parses an IANA time zone name. A name that differs from a known one
    /// only in letter case is accepted and written in its canonical form.
    pub fn parse(name: &str) -> Result<Self, ScheduleError> {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return Err(ScheduleError::timezone(
                "timezone: the value is empty; use an IANA name such as Europe/Berlin, or \
                 leave the field out for UTC.",
            ));
        }
        if let Ok(zone) = trimmed.parse::<Tz>() {
            return Ok(Self(zone));
        }
        chrono_tz::TZ_VARIANTS
            .iter()
            .find(|zone| zone.name().eq_ignore_ascii_case(trimmed))
            .map(|&zone| Self(zone))
            .ok_or_else(|| {
                ScheduleError::timezone(format!(
                    "timezone: unknown time zone '{trimmed}'; use an IANA name such as \
                     America/New_York, Europe/Berlin or UTC."
                ))
            })
    }

    pub fn utc() -> Self {
        Self(Tz::UTC)
    }

    /// Returns the canonical IANA name, which EventBridge takes as
    /// `ScheduleExpressionTimezone`.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    pub fn tz(&self) -> Tz {
        self.0
    }
}

impl Default for Timezone {
    fn default() -> Self {
        Self::utc()
    }
}

impl fmt::Display for Timezone {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl Serialize for Timezone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Timezone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// The result of [`translate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translated {
    /// The EventBridge `cron(…)` or `rate(…)` expression.
    pub schedule_expression: String,
    pub dialect: Dialect,
    /// Smallest wall clock gap between two consecutive runs. `None` when the
    /// schedule runs at most once in the 28 years scanned.
    pub smallest_gap: Option<Duration>,
}

/// Translates an expression or interval into the EventBridge expression that
/// fires at the same times, and rejects schedules whose runs can come closer
/// together than `min_interval` with `schedule_too_frequent`.
pub fn translate(
    source: &ScheduleSource,
    min_interval: Duration,
) -> Result<Translated, ScheduleError> {
    let (parsed, field) = match source {
        ScheduleSource::Expression(raw) => (parse_expression(raw)?, fields::EXPRESSION),
        ScheduleSource::Interval { every, unit } => (
            Parsed::Rate(rate::rate_from_interval(*every, *unit)?, Dialect::Interval),
            fields::INTERVAL,
        ),
    };
    let (schedule_expression, dialect, smallest_gap) = match parsed {
        Parsed::Cron(spec, dialect) => {
            spec.ensure_fires()?;
            (spec.to_eventbridge(), dialect, spec.smallest_gap()?)
        }
        Parsed::Rate(rate, dialect) => (rate.to_eventbridge(), dialect, Some(rate.period())),
    };
    if let Some(gap) = smallest_gap.filter(|gap| *gap < min_interval) {
        return Err(ScheduleError {
            code: codes::SCHEDULE_TOO_FREQUENT,
            field,
            position: None,
            message: format!(
                "{schedule_expression} can run {} after the previous run, but runs must be at \
                 least {} apart. Choose fewer minutes or hours, a larger step, or a longer \
                 rate.",
                rate::describe_duration(gap),
                rate::describe_duration(min_interval),
            ),
        });
    }
    Ok(Translated {
        schedule_expression,
        dialect,
        smallest_gap,
    })
}

/// Lists the next `count` run times strictly after `after`, in `timezone`'s
/// offset at each run.
///
/// `schedule_expression` is normally the output of [`translate`], but any
/// expression that [`translate`] accepts works. Cron runs follow
/// EventBridge's daylight saving rules: a local time that the clock skips
/// does not run, and a local time that the clock repeats runs once, at its
/// first occurrence. Rate runs are `rate_anchor + k * period` (the
/// schedule's start, or `after` when `None`), so they are estimates.
///
/// Returns `schedule_never_fires` when a cron schedule has no run after
/// `after`, such as one whose years have all passed. Returns fewer than
/// `count` runs when the year field ends before `count` runs.
pub fn next_runs(
    schedule_expression: &str,
    timezone: &Timezone,
    after: DateTime<Utc>,
    count: usize,
    rate_anchor: Option<DateTime<Utc>>,
) -> Result<Vec<DateTime<FixedOffset>>, ScheduleError> {
    match parse_expression(schedule_expression)? {
        Parsed::Cron(spec, _) => runs::cron_runs(&spec, timezone.tz(), after, count),
        Parsed::Rate(rate, _) => Ok(runs::rate_runs(
            &rate,
            timezone.tz(),
            after,
            count,
            rate_anchor.unwrap_or(after),
        )),
    }
}

enum Parsed {
    Cron(CronSpec, Dialect),
    Rate(Rate, Dialect),
}

/// Unix macros and the crontab lines they stand for.
const UNIX_MACROS: [(&str, &str); 7] = [
    ("@yearly", "0 0 1 1 *"),
    ("@annually", "0 0 1 1 *"),
    ("@monthly", "0 0 1 * *"),
    ("@weekly", "0 0 * * 0"),
    ("@daily", "0 0 * * *"),
    ("@midnight", "0 0 * * *"),
    ("@hourly", "0 * * * *"),
];

/// Tells whether `lower` starts with `keyword(`, allowing whitespace before
/// the parenthesis.
fn is_call(lower: &str, keyword: &str) -> bool {
    lower
        .strip_prefix(keyword)
        .is_some_and(|rest| rest.trim_start().starts_with('('))
}

/// Detects the dialect of `raw` from its shape and parses it.
fn parse_expression(raw: &str) -> Result<Parsed, ScheduleError> {
    let source = Source::new(raw);
    let body = raw.trim();
    let body_offset = raw.len() - raw.trim_start().len();
    let lower = body.to_ascii_lowercase();

    if body.is_empty() {
        return Err(ScheduleError::expression(
            codes::INVALID_EXPRESSION,
            None,
            "The expression is empty; enter one such as cron(0 2 * * ? *), 0 2 * * * or \
             rate(1 hour).",
        ));
    }
    if is_call(&lower, "cron") {
        let (open, close) = source.parenthesized("cron")?;
        let tokens = source.tokens(open, close);
        if tokens.len() != 6 {
            let (offset, problem) = match tokens.get(6) {
                Some(extra) => (extra.offset, format!("has an extra field '{}'", extra.text)),
                None => (close, format!("has {} fields", tokens.len())),
            };
            return Err(source.invalid(
                offset,
                format!(
                    "cron(…) {problem}, but EventBridge needs 6: minute hour day-of-month \
                     month day-of-week year. Use * as the year for every year."
                ),
            ));
        }
        let spec = cron::parse_eventbridge_fields(&source, &tokens)?;
        return Ok(Parsed::Cron(spec, Dialect::EventBridgeCron));
    }
    if is_call(&lower, "rate") {
        return Ok(Parsed::Rate(
            rate::parse_rate(&source)?,
            Dialect::EventBridgeRate,
        ));
    }
    if is_call(&lower, "at") {
        return Err(source.invalid(
            body_offset,
            "One-time at(…) schedules are not supported for syncs; use cron(…), rate(…) or \
             an interval.",
        ));
    }
    if body.starts_with('@') {
        return match UNIX_MACROS.iter().find(|(name, _)| *name == lower) {
            Some((_, line)) => {
                let expansion = Source::new(line);
                let tokens = expansion.tokens(0, line.len());
                let spec = cron::parse_unix_fields(&expansion, &tokens)?;
                Ok(Parsed::Cron(spec, Dialect::Unix))
            }
            None => Err(source.invalid(
                body_offset,
                format!(
                    "Unknown or unsupported macro '{body}'; use @hourly, @daily, @weekly, \
                     @monthly or @yearly, or write the cron fields."
                ),
            )),
        };
    }

    let tokens = source.tokens(0, raw.len());
    match tokens.len() {
        5 => Ok(Parsed::Cron(
            cron::parse_unix_fields(&source, &tokens)?,
            Dialect::Unix,
        )),
        // Quartz never allows '?' in its third or fifth field (hour and
        // month), so a '?' there means EventBridge fields without `cron(…)`.
        6 if tokens[2].text == "?" || tokens[4].text == "?" => Ok(Parsed::Cron(
            cron::parse_eventbridge_fields(&source, &tokens)?,
            Dialect::EventBridgeCron,
        )),
        6 | 7 => Ok(Parsed::Cron(
            cron::parse_quartz_fields(&source, &tokens)?,
            Dialect::Quartz,
        )),
        count => {
            let offset = tokens.get(7).map_or(body_offset, |extra| extra.offset);
            Err(source.invalid(
                offset,
                format!(
                    "The expression has {count} fields; use cron(…) or rate(…), a 5-field \
                     Unix cron line (minute hour day-of-month month day-of-week), or a 6- or \
                     7-field Quartz expression (second minute hour day-of-month month \
                     day-of-week [year])."
                ),
            ))
        }
    }
}
