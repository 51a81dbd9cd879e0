use std::str::FromStr;

use chrono::{DateTime, Duration, Utc};

use super::*;

enum Expected {
    /// The dialect detected and the EventBridge expression produced.
    Translates(Dialect, &'static str),
    /// The error code and the character position of the offending token.
    Fails(&'static str, Option<usize>),
}

use Dialect::{EventBridgeCron, EventBridgeRate, Quartz, Unix};
use Expected::{Fails, Translates};

const INVALID: &str = codes::INVALID_EXPRESSION;
const AMBIGUOUS: &str = codes::AMBIGUOUS_DAY_FIELDS;
const TOO_FREQUENT: &str = codes::SCHEDULE_TOO_FREQUENT;
const NEVER: &str = codes::SCHEDULE_NEVER_FIRES;

/// Expressions with the default minimum interval of 5 minutes.
#[rustfmt::skip]
const EXPRESSION_CASES: &[(&str, Expected)] = &[
    // EventBridge cron: passes through, normalised.
    ("cron(0 12 * * ? *)", Translates(EventBridgeCron, "cron(0 12 * * ? *)")),
    ("cron(0/15 * * * ? *)", Translates(EventBridgeCron, "cron(0/15 * * * ? *)")),
    ("  CRON( 0   9  ?  *  mon-fri  * ) ", Translates(EventBridgeCron, "cron(0 9 ? * MON-FRI *)")),
    ("cron(0 8 1 jan,jul ? 2026-2030)", Translates(EventBridgeCron, "cron(0 8 1 JAN,JUL ? 2026-2030)")),
    ("cron(0 18 ? * 6L *)", Translates(EventBridgeCron, "cron(0 18 ? * 6L *)")),
    ("cron(0 18 ? * friL *)", Translates(EventBridgeCron, "cron(0 18 ? * FRIL *)")),
    ("cron(0 10 ? * 2#1 *)", Translates(EventBridgeCron, "cron(0 10 ? * 2#1 *)")),
    ("cron(0 10 L * ? *)", Translates(EventBridgeCron, "cron(0 10 L * ? *)")),
    ("cron(0 10 LW * ? *)", Translates(EventBridgeCron, "cron(0 10 LW * ? *)")),
    ("cron(0 10 15W * ? *)", Translates(EventBridgeCron, "cron(0 10 15W * ? *)")),
    ("cron(0 10 * * MON *)", Translates(EventBridgeCron, "cron(0 10 ? * MON *)")),
    ("cron(0 10 * * * *)", Translates(EventBridgeCron, "cron(0 10 * * ? *)")),
    ("cron(*/10 * ? * * *)", Translates(EventBridgeCron, "cron(0/10 * ? * * *)")),
    ("cron(0 9 ? * 2-6/2 *)", Translates(EventBridgeCron, "cron(0 9 ? * 2,4,6 *)")),
    ("cron(0 9 1/2 * ? *)", Translates(EventBridgeCron, "cron(0 9 1/2 * ? *)")),
    ("0 12 * * ? *", Translates(EventBridgeCron, "cron(0 12 * * ? *)")),
    ("cron (0 12 * * ? *)", Translates(EventBridgeCron, "cron(0 12 * * ? *)")),
    ("cron(61 * * * ? *)", Fails(INVALID, Some(5))),
    ("cron(0 24 * * ? *)", Fails(INVALID, Some(7))),
    ("cron(0 12 * * FRY *)", Fails(INVALID, Some(14))),
    ("  cron(0 12 * * FRY *)", Fails(INVALID, Some(16))),
    // A no-break space (two bytes in UTF-8) counts as one character.
    ("\u{a0}cron(0 12 * * FRY *)", Fails(INVALID, Some(15))),
    ("cron(0 12 * * ? )", Fails(INVALID, Some(16))),
    ("cron(0 12 * * ? * 1)", Fails(INVALID, Some(18))),
    ("cron(0 12 * * ?", Fails(INVALID, Some(15))),
    ("cron(0 12 ? * ? *)", Fails(INVALID, Some(14))),
    ("cron(0 12 1 * MON *)", Fails(AMBIGUOUS, Some(14))),
    ("cron(0 12 ? * 2#1,4#1 *)", Fails(INVALID, Some(14))),
    ("cron(0 12 ? * 2#6 *)", Fails(INVALID, Some(16))),
    ("cron(0 12 ? * 8 *)", Fails(INVALID, Some(14))),
    ("cron(0 12 * * ? 1969)", Fails(INVALID, Some(16))),
    ("cron(0 12 L-2 * ? *)", Fails(INVALID, Some(10))),
    ("cron(0 12 1,L * ? *)", Fails(INVALID, Some(12))),
    ("cron(0 12 * 1W ? *)", Fails(INVALID, Some(13))),
    ("cron(0 12 30 2 ? *)", Fails(NEVER, None)),
    ("cron(*/2 * * * ? *)", Fails(TOO_FREQUENT, None)),
    // EventBridge rate.
    ("rate(5 minutes)", Translates(EventBridgeRate, "rate(5 minutes)")),
    ("rate(1 hour)", Translates(EventBridgeRate, "rate(1 hour)")),
    ("RATE( 1  hours )", Translates(EventBridgeRate, "rate(1 hour)")),
    ("rate(2 hour)", Translates(EventBridgeRate, "rate(2 hours)")),
    ("rate(90 minutes)", Translates(EventBridgeRate, "rate(90 minutes)")),
    ("rate(1 day)", Translates(EventBridgeRate, "rate(1 day)")),
    ("rate(1 minute)", Fails(TOO_FREQUENT, None)),
    ("rate(0 minutes)", Fails(INVALID, Some(5))),
    ("rate(five minutes)", Fails(INVALID, Some(5))),
    ("rate(5 weeks)", Fails(INVALID, Some(7))),
    ("rate(1001 days)", Fails(INVALID, Some(5))),
    ("rate(5 minutes", Fails(INVALID, Some(14))),
    ("at(2026-03-01T00:00:00)", Fails(INVALID, Some(0))),
    // Unix crontab.
    ("*/15 * * * *", Translates(Unix, "cron(0/15 * * * ? *)")),
    ("0,30 * * * *", Translates(Unix, "cron(0,30 * * * ? *)")),
    ("0 9 * * 1-5", Translates(Unix, "cron(0 9 ? * 2-6 *)")),
    ("30 2 * * 5-7", Translates(Unix, "cron(30 2 ? * 1,6-7 *)")),
    ("0 0 * * 0", Translates(Unix, "cron(0 0 ? * 1 *)")),
    ("0 0 * * 7", Translates(Unix, "cron(0 0 ? * 1 *)")),
    ("0 0 * * 0,7", Translates(Unix, "cron(0 0 ? * 1 *)")),
    ("0 0 * * mon,wed,fri", Translates(Unix, "cron(0 0 ? * MON,WED,FRI *)")),
    ("0 22 * * sun-sat", Translates(Unix, "cron(0 22 ? * SUN-SAT *)")),
    ("0 12 * * */2", Translates(Unix, "cron(0 12 ? * 1,3,5,7 *)")),
    ("0 12 * * 1-5/2", Translates(Unix, "cron(0 12 ? * 2,4,6 *)")),
    ("0 6 1 * *", Translates(Unix, "cron(0 6 1 * ? *)")),
    ("0 0 1,15 * *", Translates(Unix, "cron(0 0 1,15 * ? *)")),
    ("15 10 * jan-mar 1", Translates(Unix, "cron(15 10 ? JAN-MAR 2 *)")),
    ("0 18 * * 5L", Translates(Unix, "cron(0 18 ? * 6L *)")),
    ("0,57 0,23 * * 1", Translates(Unix, "cron(0,57 0,23 ? * 2 *)")),
    ("@daily", Translates(Unix, "cron(0 0 * * ? *)")),
    ("@weekly", Translates(Unix, "cron(0 0 ? * 1 *)")),
    ("@hourly", Translates(Unix, "cron(0 * * * ? *)")),
    ("@YEARLY", Translates(Unix, "cron(0 0 1 1 ? *)")),
    ("@reboot", Fails(INVALID, Some(0))),
    ("*/2 * * * *", Fails(TOO_FREQUENT, None)),
    ("0,3 * * * *", Fails(TOO_FREQUENT, None)),
    // Minute 59 and minute 0 of the next hour are one minute apart.
    ("0,59 * * * *", Fails(TOO_FREQUENT, None)),
    // 23:57 and 00:00 of the next day are three minutes apart.
    ("0,57 0,23 * * *", Fails(TOO_FREQUENT, None)),
    ("0 0 1 * 1", Fails(AMBIGUOUS, Some(8))),
    ("0 0 * * 8", Fails(INVALID, Some(8))),
    ("60 * * * *", Fails(INVALID, Some(0))),
    ("0 0 * * FRY", Fails(INVALID, Some(8))),
    ("0 0 * * 5-3", Fails(INVALID, Some(8))),
    ("*/0 * * * *", Fails(INVALID, Some(2))),
    ("0 0 1,,2 * *", Fails(INVALID, Some(6))),
    ("0 0 31 4 *", Fails(NEVER, None)),
    ("0 9% * * *", Fails(INVALID, Some(3))),
    // Quartz.
    ("0 0 12 ? * 6", Translates(Quartz, "cron(0 12 ? * 6 *)")),
    ("0 30 9 ? * MON-FRI 2027", Translates(Quartz, "cron(30 9 ? * MON-FRI 2027)")),
    ("0 0/5 * * * ?", Translates(Quartz, "cron(0/5 * * * ? *)")),
    ("0 0 8 L * ?", Translates(Quartz, "cron(0 8 L * ? *)")),
    ("0 15 10 ? * 6#3", Translates(Quartz, "cron(15 10 ? * 6#3 *)")),
    ("0 0 12 * * 2", Translates(Quartz, "cron(0 12 ? * 2 *)")),
    ("*/10 * * * * ?", Fails(INVALID, Some(0))),
    ("30 0 12 * * ?", Fails(INVALID, Some(0))),
    ("? 0 12 * * ?", Fails(INVALID, Some(0))),
    ("0 0 12 1 * 2", Fails(AMBIGUOUS, Some(11))),
    ("0 0 12 ? * 0", Fails(INVALID, Some(11))),
    ("0 12 * * ? * extra", Fails(INVALID, Some(9))),
    // Shapes that fit no dialect.
    ("", Fails(INVALID, None)),
    ("1 2 3", Fails(INVALID, Some(0))),
];

fn translate_expression(input: &str) -> Result<Translated, ScheduleError> {
    translate(
        &ScheduleSource::Expression(input.to_string()),
        DEFAULT_MIN_INTERVAL,
    )
}

#[test]
fn translate_expression_table() {
    let mut mismatches = Vec::new();
    for (input, expected) in EXPRESSION_CASES {
        let result = translate_expression(input);
        let matches = match (&result, expected) {
            (Ok(translated), Translates(dialect, expression)) => {
                translated.dialect == *dialect && translated.schedule_expression == *expression
            }
            (Err(error), Fails(code, position)) => {
                error.code == *code
                    && error.field == fields::EXPRESSION
                    && error.position == *position
            }
            _ => false,
        };
        if !matches {
            let wanted = match expected {
                Translates(dialect, expression) => format!("{dialect:?} {expression}"),
                Fails(code, position) => format!("{code} at {position:?}"),
            };
            mismatches.push(format!("{input:?}: expected {wanted}, got {result:?}"));
        }
    }
    assert!(EXPRESSION_CASES.len() >= 40);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn error_messages_name_field_and_fix() {
    let cases = [
        (
            "cron(61 * * * ? *)",
            "minute: value 61 is out of range 0-59",
        ),
        ("0 0 * * FRY", "day-of-week: unknown day name 'FRY'"),
        ("0 0 * * 5-3", "day-of-week: range 5-3 runs backwards"),
        (
            "*/10 * * * * ?",
            "second: EventBridge runs schedules on whole minutes only",
        ),
        ("0 0 12 ? * 0", "day-of-week: value 0 is out of range 1-7"),
        ("cron(0 12 * 1W ? *)", "month: unexpected character 'W'"),
        ("rate(5 weeks)", "rate: unknown unit 'weeks'"),
        ("cron(0 12 L-2 * ? *)", "day-of-month: 'L-2'"),
    ];
    for (input, expected) in cases {
        let error = translate_expression(input).expect_err(input);
        assert!(
            error.message.contains(expected),
            "{input:?}: message {:?} lacks {expected:?}",
            error.message
        );
    }
}

#[test]
fn ambiguous_day_fields_suggest_alternatives() {
    let error = translate_expression("0 0 1 * 1").expect_err("both day fields restricted");
    assert_eq!(error.code, AMBIGUOUS);
    assert!(
        error.message.contains("Restrict only one"),
        "{}",
        error.message
    );
    assert!(error.message.contains("two schedules"), "{}", error.message);
}

#[test]
fn too_frequent_names_gap_and_minimum() {
    let error = translate_expression("*/2 * * * *").expect_err("every 2 minutes");
    assert_eq!(error.code, TOO_FREQUENT);
    assert!(
        error.message.contains("2 minutes after"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("at least 5 minutes"),
        "{}",
        error.message
    );
}

#[test]
fn smallest_gap_of_cron_expressions() {
    let cases = [
        ("*/10 * * * *", Duration::minutes(10)),
        ("0,30 9-17 * * *", Duration::minutes(30)),
        ("58 0,23 * * *", Duration::minutes(60)),
        ("0 9 * * *", Duration::days(1)),
        ("0 9 * * 1", Duration::days(7)),
        ("0 9 * * 1,3", Duration::days(2)),
        ("0 9 L * ?", Duration::days(28)),
        ("0 0 1 1 *", Duration::days(365)),
    ];
    for (input, expected) in cases {
        let translated = translate_expression(input).expect(input);
        assert_eq!(translated.smallest_gap, Some(expected), "{input}");
    }
}

#[test]
fn min_interval_is_a_parameter() {
    let source = ScheduleSource::Expression("*/2 * * * *".to_string());
    let translated = translate(&source, Duration::minutes(1)).expect("1 minute minimum");
    assert_eq!(translated.schedule_expression, "cron(0/2 * * * ? *)");
    let error = translate(&source, Duration::minutes(3)).expect_err("3 minute minimum");
    assert_eq!(error.code, TOO_FREQUENT);
}

#[test]
fn interval_table() {
    let ok = [
        (90, IntervalUnit::Minutes, "rate(90 minutes)"),
        (5, IntervalUnit::Minutes, "rate(5 minutes)"),
        (1, IntervalUnit::Hours, "rate(1 hour)"),
        (2, IntervalUnit::Hours, "rate(2 hours)"),
        (1, IntervalUnit::Days, "rate(1 day)"),
        (1000, IntervalUnit::Days, "rate(1000 days)"),
    ];
    for (every, unit, expected) in ok {
        let translated = translate(
            &ScheduleSource::Interval { every, unit },
            DEFAULT_MIN_INTERVAL,
        )
        .expect(expected);
        assert_eq!(translated.schedule_expression, expected);
        assert_eq!(translated.dialect, Dialect::Interval);
    }

    let failing = [
        (0, IntervalUnit::Minutes, codes::INVALID_INTERVAL),
        (-5, IntervalUnit::Hours, codes::INVALID_INTERVAL),
        (1001, IntervalUnit::Days, codes::INVALID_INTERVAL),
        (24_001, IntervalUnit::Hours, codes::INVALID_INTERVAL),
        (i64::MAX, IntervalUnit::Minutes, codes::INVALID_INTERVAL),
        (1, IntervalUnit::Minutes, codes::SCHEDULE_TOO_FREQUENT),
        (4, IntervalUnit::Minutes, codes::SCHEDULE_TOO_FREQUENT),
    ];
    for (every, unit, code) in failing {
        let error = translate(
            &ScheduleSource::Interval { every, unit },
            DEFAULT_MIN_INTERVAL,
        )
        .expect_err("invalid interval");
        assert_eq!(error.code, code, "every {every} {unit:?}");
        assert_eq!(error.field, fields::INTERVAL, "every {every} {unit:?}");
        assert_eq!(error.position, None, "every {every} {unit:?}");
    }
}

#[test]
fn schedule_source_json_shape() {
    let interval: ScheduleSource =
        serde_json::from_str(r#"{"interval": {"every": 2, "unit": "hours"}}"#)
            .expect("interval JSON");
    assert_eq!(
        interval,
        ScheduleSource::Interval {
            every: 2,
            unit: IntervalUnit::Hours
        }
    );
    let expression: ScheduleSource =
        serde_json::from_str(r#"{"expression": "0 9 * * 1-5"}"#).expect("expression JSON");
    assert_eq!(
        expression,
        ScheduleSource::Expression("0 9 * * 1-5".to_string())
    );
}

#[test]
fn timezone_parse() {
    assert_eq!(Timezone::default().name(), "UTC");
    assert_eq!(
        Timezone::parse("Europe/Berlin").expect("Berlin").name(),
        "Europe/Berlin"
    );
    assert_eq!(
        Timezone::parse(" america/new_york ")
            .expect("New York")
            .name(),
        "America/New_York"
    );
    for invalid in ["Mars/Olympus", "", "UTC+2"] {
        let error = Timezone::parse(invalid).expect_err(invalid);
        assert_eq!(error.code, codes::INVALID_TIMEZONE, "{invalid:?}");
        assert_eq!(error.field, fields::TIMEZONE, "{invalid:?}");
    }
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test time")
        .with_timezone(&Utc)
}

/// Translates `input`, then lists its runs as RFC 3339 strings.
fn runs(input: &str, zone: &str, after: &str, count: usize) -> Vec<String> {
    let translated = translate_expression(input).expect(input);
    let zone = Timezone::parse(zone).expect(zone);
    next_runs(
        &translated.schedule_expression,
        &zone,
        utc(after),
        count,
        None,
    )
    .expect(input)
    .iter()
    .map(DateTime::to_rfc3339)
    .collect()
}

const START: &str = "2026-03-07T12:00:00Z";

#[test]
fn next_runs_utc_cases() {
    let cases: [(&str, &[&str]); 7] = [
        (
            "0 9 * * 1-5",
            &[
                "2026-03-09T09:00:00+00:00",
                "2026-03-10T09:00:00+00:00",
                "2026-03-11T09:00:00+00:00",
            ],
        ),
        (
            "0 12 * * 5-7",
            &[
                "2026-03-08T12:00:00+00:00",
                "2026-03-13T12:00:00+00:00",
                "2026-03-14T12:00:00+00:00",
            ],
        ),
        (
            "cron(0 10 ? * 6L *)",
            &[
                "2026-03-27T10:00:00+00:00",
                "2026-04-24T10:00:00+00:00",
                "2026-05-29T10:00:00+00:00",
            ],
        ),
        (
            "cron(0 10 ? * 2#1 *)",
            &[
                "2026-04-06T10:00:00+00:00",
                "2026-05-04T10:00:00+00:00",
                "2026-06-01T10:00:00+00:00",
            ],
        ),
        (
            "cron(0 10 LW * ? *)",
            &[
                "2026-03-31T10:00:00+00:00",
                "2026-04-30T10:00:00+00:00",
                "2026-05-29T10:00:00+00:00",
            ],
        ),
        (
            "cron(0 10 15W * ? *)",
            &[
                "2026-03-16T10:00:00+00:00",
                "2026-04-15T10:00:00+00:00",
                "2026-05-15T10:00:00+00:00",
            ],
        ),
        (
            "0 0 12 ? * 6",
            &[
                "2026-03-13T12:00:00+00:00",
                "2026-03-20T12:00:00+00:00",
                "2026-03-27T12:00:00+00:00",
            ],
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(runs(input, "UTC", START, 3), expected, "{input}");
    }
}

#[test]
fn next_runs_skip_new_york_spring_forward() {
    // 2026-03-08 02:30 does not exist in New York, so that day has no run.
    assert_eq!(
        runs("30 2 * * *", "America/New_York", START, 3),
        [
            "2026-03-09T02:30:00-04:00",
            "2026-03-10T02:30:00-04:00",
            "2026-03-11T02:30:00-04:00",
        ]
    );
}

#[test]
fn next_runs_once_in_new_york_fall_back() {
    // 01:30 happens twice on 2026-11-01, and only the first (EDT) runs.
    assert_eq!(
        runs("30 1 * * *", "America/New_York", "2026-10-30T12:00:00Z", 3),
        [
            "2026-10-31T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-02T01:30:00-05:00",
        ]
    );
    // A step schedule runs through the repeated hour once, not twice.
    assert_eq!(
        runs(
            "*/30 * * * *",
            "America/New_York",
            "2026-11-01T04:00:00Z",
            5
        ),
        [
            "2026-11-01T00:30:00-04:00",
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T02:00:00-05:00",
            "2026-11-01T02:30:00-05:00",
        ]
    );
}

#[test]
fn next_runs_start_in_repeated_hour() {
    // 06:10Z is 01:10 EST, in the second pass of the repeated hour, so the
    // next run is 02:00 EST and nothing earlier.
    assert_eq!(
        runs(
            "*/30 * * * *",
            "America/New_York",
            "2026-11-01T06:10:00Z",
            2
        ),
        ["2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00"]
    );
}

#[test]
fn next_runs_berlin_dst_changes() {
    assert_eq!(
        runs("30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", 3),
        [
            "2026-03-28T02:30:00+01:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00",
        ]
    );
    assert_eq!(
        runs("30 2 * * *", "Europe/Berlin", "2026-10-23T12:00:00Z", 3),
        [
            "2026-10-24T02:30:00+02:00",
            "2026-10-25T02:30:00+02:00",
            "2026-10-26T02:30:00+01:00",
        ]
    );
}

#[test]
fn next_runs_of_rate_from_anchor() {
    let berlin = Timezone::parse("Europe/Berlin").expect("Berlin");
    let anchored = next_runs(
        "rate(2 hours)",
        &berlin,
        utc(START),
        3,
        Some(utc("2026-03-07T11:30:00Z")),
    )
    .expect("rate runs");
    let anchored: Vec<String> = anchored.iter().map(DateTime::to_rfc3339).collect();
    assert_eq!(
        anchored,
        [
            "2026-03-07T14:30:00+01:00",
            "2026-03-07T16:30:00+01:00",
            "2026-03-07T18:30:00+01:00",
        ]
    );

    let future_anchor = next_runs(
        "rate(1 hour)",
        &Timezone::utc(),
        utc(START),
        2,
        Some(utc("2026-03-10T00:00:00Z")),
    )
    .expect("rate runs");
    let future_anchor: Vec<String> = future_anchor.iter().map(DateTime::to_rfc3339).collect();
    assert_eq!(
        future_anchor,
        ["2026-03-10T00:00:00+00:00", "2026-03-10T01:00:00+00:00"]
    );

    let unanchored =
        next_runs("rate(90 minutes)", &Timezone::utc(), utc(START), 1, None).expect("rate runs");
    assert_eq!(unanchored[0].to_rfc3339(), "2026-03-07T13:30:00+00:00");
}

#[test]
fn next_runs_of_daily_rate_across_dst() {
    // A day is 24 hours for a rate, so the local time moves with DST.
    let new_york = Timezone::parse("America/New_York").expect("New York");
    let runs: Vec<String> = next_runs(
        "rate(1 day)",
        &new_york,
        utc("2026-03-07T07:00:00Z"),
        2,
        Some(utc("2026-03-06T07:00:00Z")),
    )
    .expect("rate runs")
    .iter()
    .map(DateTime::to_rfc3339)
    .collect();
    assert_eq!(
        runs,
        ["2026-03-08T03:00:00-04:00", "2026-03-09T03:00:00-04:00"]
    );
}

#[test]
fn next_runs_past_years_never_fire() {
    let error = next_runs(
        "cron(0 12 * * ? 2020)",
        &Timezone::utc(),
        utc(START),
        5,
        None,
    )
    .expect_err("2020 has passed");
    assert_eq!(error.code, NEVER);
}

#[test]
fn next_runs_stop_at_last_year() {
    let runs = next_runs(
        "cron(0 12 31 12 ? 2026)",
        &Timezone::utc(),
        utc(START),
        5,
        None,
    )
    .expect("one run left");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].to_rfc3339(), "2026-12-31T12:00:00+00:00");
}

/// Checks the translated Unix schedules against croner's own reading of the
/// original crontab line, in UTC where both agree on every wall clock time.
#[test]
fn unix_translation_matches_croner() {
    let lines = [
        "30 2 * * 5-7",
        "0 9 * * 1-5",
        "0 12 * * */2",
        "0 12 * * 0",
        "0 12 * * 7",
        "15 8 * * sat,sun",
        "0 */4 1-7 * *",
        "5-10/5 3 * feb-apr 2-3",
        "0 0 L * *",
        "0 18 * * 5L",
        "0 18 * * 1#2",
    ];
    let after = utc(START);
    for line in lines {
        let croner_runs: Vec<String> = croner::Cron::from_str(line)
            .expect(line)
            .iter_after(after)
            .take(20)
            .map(|run| run.fixed_offset().to_rfc3339())
            .collect();
        assert_eq!(runs(line, "UTC", START, 20), croner_runs, "{line}");
    }
}

/// Found by the `schedule_expression` fuzz target: `*,0` was written into
/// the EventBridge expression as is, and listing its runs then failed.
#[test]
fn wildcard_inside_list_becomes_wildcard() {
    let cases = [
        ("*/15 *,0 2 * *", "cron(0/15 * 2 * ? *)"),
        ("cron(0 0,* * * ? *)", "cron(0 * * * ? *)"),
        ("0 0 12 ? * *,MON", "cron(0 12 ? * * *)"),
    ];
    for (input, expected) in cases {
        let translated = translate_expression(input).expect(input);
        assert_eq!(translated.schedule_expression, expected, "{input}");
        let listed = runs(input, "UTC", START, 3);
        assert_eq!(listed.len(), 3, "{input}: {listed:?}");
    }
}
