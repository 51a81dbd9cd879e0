//! Cron dialects: reads EventBridge, Unix and Quartz cron fields into one
//! EventBridge form, and works out how often that form runs.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use croner::parser::{CronParser, Seconds, Year};
use croner::Cron;

use super::cron_fields::{
    parse_field, Field, FieldKind, Source, Token, Weekdays, FIRST_YEAR, LAST_YEAR,
};
use super::error::{codes, ScheduleError};
use super::Dialect;

const MINUTES_PER_DAY: i64 = 24 * 60;

/// Years scanned for the closest pair of run days. The Gregorian calendar
/// repeats its weekdays every 28 years between 1901 and 2099.
const DAY_SCAN_YEARS: i32 = 28;

/// A cron schedule in EventBridge terms: Quartz weekday numbering, and
/// exactly one of the two day fields set to `?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CronSpec {
    pub minute: Field,
    pub hour: Field,
    pub day_of_month: Field,
    pub month: Field,
    pub day_of_week: Field,
    pub year: Field,
}

/// Parses the six fields inside EventBridge's `cron(…)`.
pub(crate) fn parse_eventbridge_fields(
    source: &Source,
    tokens: &[Token],
) -> Result<CronSpec, ScheduleError> {
    let [minute, hour, day_of_month, month, day_of_week, year] = tokens else {
        return Err(ScheduleError::expression(
            codes::INVALID_EXPRESSION,
            None,
            "EventBridge cron needs 6 fields: minute hour day-of-month month day-of-week year.",
        ));
    };
    build_spec(
        source,
        Dialect::EventBridgeCron,
        [minute, hour, day_of_month, month, day_of_week],
        Some(year),
    )
}

/// Parses a Quartz expression: seconds, minute, hour, day-of-month, month,
/// day-of-week and an optional year.
pub(crate) fn parse_quartz_fields(
    source: &Source,
    tokens: &[Token],
) -> Result<CronSpec, ScheduleError> {
    let (second, rest) = match tokens {
        [second, rest @ ..] if rest.len() == 5 || rest.len() == 6 => (second, rest),
        _ => {
            return Err(ScheduleError::expression(
                codes::INVALID_EXPRESSION,
                None,
                "Quartz cron needs 6 or 7 fields: second minute hour day-of-month month \
                 day-of-week [year].",
            ))
        }
    };
    let seconds = parse_field(source, second, FieldKind::Second, Weekdays::Quartz)?;
    if seconds.values(FieldKind::Second, Weekdays::Quartz) != [0].into() {
        return Err(source.invalid(
            second.offset,
            format!(
                "second: EventBridge runs schedules on whole minutes only, so the seconds \
                 field must be 0, not '{}'.",
                second.text
            ),
        ));
    }
    build_spec(
        source,
        Dialect::Quartz,
        [&rest[0], &rest[1], &rest[2], &rest[3], &rest[4]],
        rest.get(5),
    )
}

/// Parses a five-field Unix crontab line.
pub(crate) fn parse_unix_fields(
    source: &Source,
    tokens: &[Token],
) -> Result<CronSpec, ScheduleError> {
    let [minute, hour, day_of_month, month, day_of_week] = tokens else {
        return Err(ScheduleError::expression(
            codes::INVALID_EXPRESSION,
            None,
            "Unix cron needs 5 fields: minute hour day-of-month month day-of-week.",
        ));
    };
    build_spec(
        source,
        Dialect::Unix,
        [minute, hour, day_of_month, month, day_of_week],
        None,
    )
}

/// Parses the five fields from minute to day-of-week and an optional year.
fn build_spec(
    source: &Source,
    dialect: Dialect,
    [minute, hour, day_of_month, month, day_of_week]: [&Token; 5],
    year: Option<&Token>,
) -> Result<CronSpec, ScheduleError> {
    let weekdays = match dialect {
        Dialect::Unix => Weekdays::Posix,
        _ => Weekdays::Quartz,
    };
    let minute_field = parse_field(source, minute, FieldKind::Minute, weekdays)?;
    let hour_field = parse_field(source, hour, FieldKind::Hour, weekdays)?;
    let dom_field = parse_field(source, day_of_month, FieldKind::DayOfMonth, weekdays)?;
    let month_field = parse_field(source, month, FieldKind::Month, weekdays)?;
    let dow_field = parse_field(source, day_of_week, FieldKind::DayOfWeek, weekdays)?
        .into_quartz_weekdays(weekdays);
    let year_field = match year {
        Some(token) => parse_field(source, token, FieldKind::Year, weekdays)?,
        None => Field::every(),
    };
    let (dom_field, dow_field) = reconcile_day_fields(
        source,
        dialect,
        (dom_field, day_of_month),
        (dow_field, day_of_week),
    )?;
    Ok(CronSpec {
        minute: minute_field,
        hour: hour_field,
        day_of_month: dom_field,
        month: month_field,
        day_of_week: dow_field,
        year: year_field,
    })
}

/// Sets exactly one day field to `?`, as EventBridge requires.
fn reconcile_day_fields(
    source: &Source,
    dialect: Dialect,
    (dom, dom_token): (Field, &Token),
    (dow, dow_token): (Field, &Token),
) -> Result<(Field, Field), ScheduleError> {
    if dom == Field::NoSpecific && dow == Field::NoSpecific {
        return Err(source.invalid(
            dow_token.offset,
            "day-of-week: day-of-month and day-of-week cannot both be '?'; set one of \
             them to * or to the days to run on.",
        ));
    }
    match (dom.is_unrestricted(), dow.is_unrestricted()) {
        (true, true) if dom == Field::NoSpecific => Ok((Field::NoSpecific, Field::every())),
        (true, true) => Ok((Field::every(), Field::NoSpecific)),
        (true, false) => Ok((Field::NoSpecific, dow)),
        (false, true) => Ok((dom, Field::NoSpecific)),
        (false, false) => {
            let (dom_text, dow_text) = (dom_token.text, dow_token.text);
            let message = match dialect {
                Dialect::Unix => format!(
                    "day-of-week: Unix cron runs on days that match day-of-month \
                     '{dom_text}' or day-of-week '{dow_text}', and one EventBridge schedule \
                     cannot express that. Restrict only one of the two fields and set the \
                     other to *, or create two schedules: one with day-of-month \
                     '{dom_text}' and day-of-week *, and one with day-of-month * and \
                     day-of-week '{dow_text}'."
                ),
                _ => format!(
                    "day-of-week: EventBridge needs '?' in day-of-month or day-of-week, but \
                     both are set ('{dom_text}' and '{dow_text}'). Set one of them to ?, or \
                     create two schedules, one for each day field."
                ),
            };
            Err(ScheduleError::expression(
                codes::AMBIGUOUS_DAY_FIELDS,
                Some(source.position(dow_token.offset)),
                message,
            ))
        }
    }
}

impl CronSpec {
    /// Renders the schedule as an EventBridge `cron(…)` expression.
    pub(crate) fn to_eventbridge(&self) -> String {
        format!(
            "cron({} {} {} {} {} {})",
            self.minute.render_eventbridge(FieldKind::Minute),
            self.hour.render_eventbridge(FieldKind::Hour),
            self.day_of_month.render_eventbridge(FieldKind::DayOfMonth),
            self.month.render_eventbridge(FieldKind::Month),
            self.day_of_week.render_eventbridge(FieldKind::DayOfWeek),
            self.year.render_eventbridge(FieldKind::Year),
        )
    }

    /// Builds the croner schedule that matches the same wall clock times.
    pub(crate) fn to_croner(&self) -> Result<Cron, ScheduleError> {
        self.croner_with_time(
            &self.minute.render_croner(FieldKind::Minute),
            &self.hour.render_croner(FieldKind::Hour),
        )
    }

    /// Builds a croner schedule that fires at midnight on every run day.
    fn days_to_croner(&self) -> Result<Cron, ScheduleError> {
        self.croner_with_time("0", "0")
    }

    fn croner_with_time(&self, minute: &str, hour: &str) -> Result<Cron, ScheduleError> {
        let pattern = format!(
            "0 {minute} {hour} {} {} {} {}",
            self.day_of_month.render_croner(FieldKind::DayOfMonth),
            self.month.render_croner(FieldKind::Month),
            self.day_of_week.render_croner(FieldKind::DayOfWeek),
            self.year.render_croner(FieldKind::Year),
        );
        CronParser::builder()
            .seconds(Seconds::Required)
            .year(Year::Required)
            .build()
            .parse(&pattern)
            .map_err(|error| {
                // The pattern is generated from fields that already passed
                // validation, so this points at a translation bug.
                ScheduleError::expression(
                    codes::INVALID_EXPRESSION,
                    None,
                    format!(
                        "The expression passed validation but its run times could not be \
                         computed ({error}); rewrite it with plain values and ranges."
                    ),
                )
            })
    }

    /// Fails with `schedule_never_fires` when no date from 1970 to 2199
    /// matches the day, month and year fields, such as `30 FEB`.
    pub(crate) fn ensure_fires(&self) -> Result<(), ScheduleError> {
        let days = self.days_to_croner()?;
        let fires = new_year_midnight(FIRST_YEAR as i32)
            .and_then(|start| days.find_next_occurrence(&start, true).ok())
            .is_some_and(|day| day.year() <= LAST_YEAR as i32);
        if fires {
            return Ok(());
        }
        Err(ScheduleError::expression(
            codes::SCHEDULE_NEVER_FIRES,
            None,
            format!(
                "No date from {FIRST_YEAR} to {LAST_YEAR} matches day-of-month '{}', month \
                 '{}', day-of-week '{}' and year '{}'; check for dates that do not exist, \
                 such as 30 FEB or day 31 in a 30-day month.",
                self.day_of_month.render_eventbridge(FieldKind::DayOfMonth),
                self.month.render_eventbridge(FieldKind::Month),
                self.day_of_week.render_eventbridge(FieldKind::DayOfWeek),
                self.year.render_eventbridge(FieldKind::Year),
            ),
        ))
    }

    /// Returns the smallest wall clock gap between two consecutive runs, or
    /// `None` when the schedule runs at most once in the scanned years.
    ///
    /// The times of day come straight from the minute and hour sets. The gap
    /// across midnight depends on the closest pair of run days, which is
    /// scanned over [`DAY_SCAN_YEARS`] years only when it could be the
    /// smallest gap.
    ///
    /// NOTE: The gap is in wall clock time. Across a spring-forward change
    /// two runs can be closer in real time (01:55 and 03:00 on the day New
    /// York skips 02:00 are five minutes apart), and this check misses that.
    pub(crate) fn smallest_gap(&self) -> Result<Option<Duration>, ScheduleError> {
        let minutes = self.minute.values(FieldKind::Minute, Weekdays::Quartz);
        let hours = self.hour.values(FieldKind::Hour, Weekdays::Quartz);
        let times_of_day: Vec<i64> = hours
            .iter()
            .flat_map(|&hour| {
                minutes
                    .iter()
                    .map(move |&minute| i64::from(hour) * 60 + i64::from(minute))
            })
            .collect();
        let (Some(&first), Some(&last)) = (times_of_day.first(), times_of_day.last()) else {
            return Ok(None);
        };

        let within_day = times_of_day.windows(2).map(|pair| pair[1] - pair[0]).min();
        let across_one_midnight = MINUTES_PER_DAY - last + first;
        if let Some(gap) = within_day {
            if gap <= across_one_midnight {
                return Ok(Some(Duration::minutes(gap)));
            }
        }

        let across_midnight = self
            .smallest_day_gap()?
            .map(|days| days * MINUTES_PER_DAY - last + first);
        let smallest = match (within_day, across_midnight) {
            (Some(within), Some(across)) => Some(within.min(across)),
            (within, across) => within.or(across),
        };
        Ok(smallest.map(Duration::minutes))
    }

    /// Returns the fewest days between two run days, scanning from the first
    /// allowed year. Stops early at one day, the smallest possible gap.
    fn smallest_day_gap(&self) -> Result<Option<i64>, ScheduleError> {
        let days = self.days_to_croner()?;
        let first_year = self
            .year
            .values(FieldKind::Year, Weekdays::Quartz)
            .first()
            .map_or(FIRST_YEAR as i32, |&year| year as i32);
        let Some(mut cursor) = new_year_midnight(first_year) else {
            return Ok(None);
        };
        let end_year = first_year + DAY_SCAN_YEARS;

        let mut smallest: Option<i64> = None;
        let mut previous: Option<NaiveDateTime> = None;
        while let Ok(day) = days.find_next_occurrence(&cursor, previous.is_none()) {
            if day.year() >= end_year {
                break;
            }
            if let Some(previous_day) = previous {
                let gap = (day.date() - previous_day.date()).num_days();
                smallest = Some(smallest.map_or(gap, |known| known.min(gap)));
                if gap <= 1 {
                    break;
                }
            }
            previous = Some(day);
            cursor = day;
        }
        Ok(smallest)
    }
}

fn new_year_midnight(year: i32) -> Option<NaiveDateTime> {
    NaiveDate::from_ymd_opt(year, 1, 1).and_then(|date| date.and_hms_opt(0, 0, 0))
}
