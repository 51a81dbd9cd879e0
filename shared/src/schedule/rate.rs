//! EventBridge `rate(…)` expressions, and the intervals that become them.

use chrono::Duration;

use super::cron_fields::Source;
use super::error::{codes, ScheduleError};
use super::IntervalUnit;

/// Longest accepted rate. This is a product limit, not an EventBridge one:
/// a longer interval is far more likely a unit mix-up than a real need.
pub(crate) const MAX_RATE: Duration = Duration::days(1000);

/// A fixed period between runs, such as `rate(15 minutes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rate {
    pub value: u32,
    pub unit: IntervalUnit,
}

impl Rate {
    pub(crate) fn period(self) -> Duration {
        let value = i64::from(self.value);
        match self.unit {
            IntervalUnit::Minutes => Duration::minutes(value),
            IntervalUnit::Hours => Duration::hours(value),
            IntervalUnit::Days => Duration::days(value),
        }
    }

    /// Renders the rate in EventBridge syntax, which takes the singular unit
    /// for 1 and the plural for every other value.
    pub(crate) fn to_eventbridge(self) -> String {
        format!(
            "rate({})",
            describe_amount(i64::from(self.value), self.unit)
        )
    }
}

/// Writes an amount with its unit, such as "1 hour" or "90 minutes".
fn describe_amount(value: i64, unit: IntervalUnit) -> String {
    let singular = match unit {
        IntervalUnit::Minutes => "minute",
        IntervalUnit::Hours => "hour",
        IntervalUnit::Days => "day",
    };
    if value == 1 {
        format!("1 {singular}")
    } else {
        format!("{value} {singular}s")
    }
}

/// Writes a duration in its largest whole unit, such as "2 hours".
pub(crate) fn describe_duration(duration: Duration) -> String {
    let minutes = duration.num_minutes();
    if minutes != 0 && minutes % (24 * 60) == 0 {
        describe_amount(minutes / (24 * 60), IntervalUnit::Days)
    } else if minutes != 0 && minutes % 60 == 0 {
        describe_amount(minutes / 60, IntervalUnit::Hours)
    } else {
        describe_amount(minutes, IntervalUnit::Minutes)
    }
}

/// Parses `rate(N unit)`. Accepts either unit form for any value, because
/// the meaning is clear, and writes the form EventBridge expects.
pub(crate) fn parse_rate(source: &Source) -> Result<Rate, ScheduleError> {
    let (open, close) = source.parenthesized("rate")?;
    let tokens = source.tokens(open, close);
    let (value_token, unit_token) = match tokens.as_slice() {
        [value, unit] => (value, unit),
        [_, _, extra, ..] => {
            return Err(source.invalid(
                extra.offset,
                format!(
                    "rate: unexpected '{}'; write a value and a unit, such as rate(15 minutes).",
                    extra.text
                ),
            ))
        }
        _ => {
            return Err(source.invalid(
                open,
                "rate: write a value and a unit, such as rate(15 minutes).",
            ))
        }
    };

    let value_text = value_token.text;
    if !value_text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(source.invalid(
            value_token.offset,
            format!("rate: '{value_text}' is not a whole number; write a value such as 15."),
        ));
    }
    let unit = match unit_token.text.to_ascii_lowercase().as_str() {
        "minute" | "minutes" => IntervalUnit::Minutes,
        "hour" | "hours" => IntervalUnit::Hours,
        "day" | "days" => IntervalUnit::Days,
        other => {
            return Err(source.invalid(
                unit_token.offset,
                format!("rate: unknown unit '{other}'; use minutes, hours or days."),
            ))
        }
    };
    let value = match value_text.parse::<u32>() {
        Ok(0) => {
            return Err(source.invalid(value_token.offset, "rate: the value must be at least 1."))
        }
        Ok(value) => value,
        Err(_) => u32::MAX,
    };
    let rate = Rate { value, unit };
    if rate.period() > MAX_RATE {
        return Err(source.invalid(
            value_token.offset,
            format!(
                "rate: {value_text} {} is longer than the maximum of {}; use a shorter rate.",
                unit.plural(),
                describe_duration(MAX_RATE)
            ),
        ));
    }
    Ok(rate)
}

/// Validates an interval from the API and turns it into a rate.
pub(crate) fn rate_from_interval(every: i64, unit: IntervalUnit) -> Result<Rate, ScheduleError> {
    if every < 1 {
        return Err(ScheduleError::interval(
            codes::INVALID_INTERVAL,
            format!("interval: every must be at least 1, but it is {every}."),
        ));
    }
    let too_long = || {
        ScheduleError::interval(
            codes::INVALID_INTERVAL,
            format!(
                "interval: every {every} {} is longer than the maximum of {}; use a \
                 shorter interval.",
                unit.plural(),
                describe_duration(MAX_RATE)
            ),
        )
    };
    let value = u32::try_from(every).map_err(|_| too_long())?;
    let rate = Rate { value, unit };
    if rate.period() > MAX_RATE {
        return Err(too_long());
    }
    Ok(rate)
}
