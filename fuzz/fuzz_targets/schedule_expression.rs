//! Schedule expression parsing and translation: any text, interval and time
//! zone. Beyond "no panic", an accepted expression must translate to an
//! EventBridge expression that translates to itself, and its next runs must
//! come in order after the start time.

#![no_main]

use arbitrary::Unstructured;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use okta_sync::schedule::{
    codes, next_runs, translate, IntervalUnit, ScheduleSource, Timezone, DEFAULT_MIN_INTERVAL,
};

/// The input, split at NUL bytes: `expression \0 timezone \0 parameters`,
/// so seeds and dictionary entries are plain text. Parameters, all
/// optional, are read from the remaining bytes.
struct Input<'a> {
    expression: &'a str,
    timezone: &'a str,
    every: i64,
    unit: IntervalUnit,
    /// Start of the run listing, in seconds after 2026-01-01T00:00:00Z.
    after_offset: u32,
    /// Check against a one-minute minimum instead of the default five.
    short_minimum: bool,
}

impl<'a> Input<'a> {
    fn parse(data: &'a [u8]) -> Option<Self> {
        let mut parts = data.splitn(3, |byte| *byte == 0);
        let expression = std::str::from_utf8(parts.next()?).ok()?;
        let timezone = std::str::from_utf8(parts.next().unwrap_or_default()).ok()?;
        let mut parameters = Unstructured::new(parts.next().unwrap_or_default());
        let every = parameters.arbitrary::<i64>().unwrap_or(1);
        let unit = match parameters.arbitrary::<u8>().unwrap_or(0) % 3 {
            0 => IntervalUnit::Minutes,
            1 => IntervalUnit::Hours,
            _ => IntervalUnit::Days,
        };
        Some(Input {
            expression,
            timezone,
            every,
            unit,
            after_offset: parameters.arbitrary().unwrap_or(0),
            short_minimum: parameters.arbitrary().unwrap_or(false),
        })
    }
}

fn check_expression(expression: &str, timezone: &Timezone, after: DateTime<Utc>, minimum: chrono::Duration) {
    let source = ScheduleSource::Expression(expression.to_owned());
    let translated = match translate(&source, minimum) {
        Ok(translated) => translated,
        Err(error) => {
            if let Some(position) = error.position {
                assert!(
                    position <= expression.chars().count(),
                    "position {position} is past the end of {expression:?}"
                );
            }
            assert!(!error.message.is_empty(), "empty message for {expression:?}");
            return;
        }
    };
    let again = translate(
        &ScheduleSource::Expression(translated.schedule_expression.clone()),
        minimum,
    )
    .unwrap_or_else(|error| {
        panic!(
            "{expression:?} translated to {:?}, which is rejected: {error:?}",
            translated.schedule_expression
        )
    });
    assert_eq!(
        again.schedule_expression, translated.schedule_expression,
        "translation of {expression:?} is not stable"
    );
    assert_eq!(again.smallest_gap, translated.smallest_gap, "gap of {expression:?}");

    match next_runs(&translated.schedule_expression, timezone, after, 5, None) {
        Ok(runs) => {
            let mut previous = after;
            for run in &runs {
                let run = run.with_timezone(&Utc);
                assert!(run > previous, "runs of {expression:?} out of order: {runs:?}");
                previous = run;
            }
        }
        Err(error) => assert_eq!(
            error.code,
            codes::SCHEDULE_NEVER_FIRES,
            "next runs of {:?} failed: {error:?}",
            translated.schedule_expression
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let timezone = Timezone::parse(input.timezone).unwrap_or_default();
    let after = DateTime::<Utc>::from_timestamp(1_767_225_600 + i64::from(input.after_offset), 0)
        .unwrap_or_default();
    let minimum = if input.short_minimum {
        chrono::Duration::minutes(1)
    } else {
        DEFAULT_MIN_INTERVAL
    };
    check_expression(input.expression, &timezone, after, minimum);

    let interval = ScheduleSource::Interval {
        every: input.every,
        unit: input.unit,
    };
    if let Ok(translated) = translate(&interval, minimum) {
        check_expression(&translated.schedule_expression, &timezone, after, minimum);
    }
});
