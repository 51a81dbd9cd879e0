//! Upcoming run times of a cron or rate schedule in an IANA time zone.

use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use chrono_tz::Tz;

use super::cron::CronSpec;
use super::error::{codes, ScheduleError};
use super::rate::Rate;

/// Lists the first `count` runs of a cron schedule strictly after `after`.
///
/// EventBridge Scheduler skips a local time that a spring-forward change
/// removes and runs a local time that a fall-back change repeats only once,
/// at its first occurrence. croner 4.0.3 does neither on zoned times: it moves
/// a fixed-time job from the gap to the first minute after it, and runs
/// wildcard and step jobs in both passes of the repeated hour. So croner only
/// walks wall clock (naive) times here, and each wall clock time is mapped to
/// its earliest instant in the zone, or dropped when the zone skips it.
pub(crate) fn cron_runs(
    spec: &CronSpec,
    zone: Tz,
    after: DateTime<Utc>,
    count: usize,
) -> Result<Vec<DateTime<FixedOffset>>, ScheduleError> {
    let cron = spec.to_croner()?;
    let mut runs = Vec::new();
    // Mapping each wall clock time to its earliest instant keeps the order,
    // so no run after `after` sits at or before its wall clock time. A start
    // in the second pass of a repeated hour yields a few earlier instants,
    // which the comparison below drops.
    let mut cursor = after.with_timezone(&zone).naive_local();
    while runs.len() < count {
        // croner gives up at year 5000, and the year field ends at 2199.
        let Ok(wall_clock) = cron.find_next_occurrence(&cursor, false) else {
            break;
        };
        cursor = wall_clock;
        let Some(instant) = zone.from_local_datetime(&wall_clock).earliest() else {
            continue;
        };
        if instant.with_timezone(&Utc) > after {
            runs.push(instant.fixed_offset());
        }
    }
    if runs.is_empty() && count > 0 {
        return Err(ScheduleError::expression(
            codes::SCHEDULE_NEVER_FIRES,
            None,
            format!(
                "The schedule has no runs after {}; check the year field and the days it \
                 allows.",
                after.to_rfc3339()
            ),
        ));
    }
    Ok(runs)
}

/// Lists the first `count` runs of a rate schedule strictly after `after`,
/// counted from `anchor` in whole periods.
///
/// EventBridge counts a rate from the schedule's start in absolute time, so
/// `rate(1 day)` keeps 24 hours between runs across a daylight saving change
/// and its local time of day moves by an hour. These times are estimates,
/// because EventBridge does not publish the exact instant of the first run.
pub(crate) fn rate_runs(
    rate: &Rate,
    zone: Tz,
    after: DateTime<Utc>,
    count: usize,
    anchor: DateTime<Utc>,
) -> Vec<DateTime<FixedOffset>> {
    let period_ms = rate.period().num_milliseconds();
    // A rate is at least one minute long, so the division is safe.
    let first_index = if anchor > after {
        0
    } else {
        (after - anchor).num_milliseconds() / period_ms + 1
    };
    (0..count)
        .map_while(|index| {
            let run_index = first_index.checked_add(i64::try_from(index).ok()?)?;
            let offset = Duration::try_milliseconds(period_ms.checked_mul(run_index)?)?;
            let run = anchor.checked_add_signed(offset)?;
            Some(run.with_timezone(&zone).fixed_offset())
        })
        .collect()
}
