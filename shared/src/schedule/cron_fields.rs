//! Parsing and rendering of single cron fields, shared by every cron dialect.
//!
//! A parsed field keeps the admin's structure (lists, ranges, steps, names) so
//! the EventBridge form stays recognisable, and renders a second time in the
//! pattern syntax of the `croner` crate, which computes the run times.

use std::collections::BTreeSet;

use super::error::{codes, ScheduleError};

const MONTH_NAMES: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// Years that EventBridge accepts in the year field.
pub(crate) const FIRST_YEAR: u32 = 1970;
pub(crate) const LAST_YEAR: u32 = 2199;

/// The expression as the admin sent it, so errors can report character
/// offsets into it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Source<'a> {
    raw: &'a str,
}

impl<'a> Source<'a> {
    pub(crate) fn new(raw: &'a str) -> Self {
        Self { raw }
    }

    /// Converts a byte offset into `raw` to a character offset.
    pub(crate) fn position(&self, byte_offset: usize) -> usize {
        self.raw
            .get(..byte_offset)
            .map_or(byte_offset, |prefix| prefix.chars().count())
    }

    pub(crate) fn invalid(&self, byte_offset: usize, message: impl Into<String>) -> ScheduleError {
        ScheduleError::expression(
            codes::INVALID_EXPRESSION,
            Some(self.position(byte_offset)),
            message,
        )
    }

    /// Returns the byte range between `keyword(` and the closing `)`. The
    /// caller has checked that the trimmed expression starts with the
    /// keyword, optional whitespace and `(`.
    pub(crate) fn parenthesized(&self, keyword: &str) -> Result<(usize, usize), ScheduleError> {
        let start = self.raw.len() - self.raw.trim_start().len();
        let after_keyword = start + keyword.len();
        let open = self
            .raw
            .get(after_keyword..)
            .and_then(|rest| rest.find('('))
            .map_or(after_keyword, |index| after_keyword + index + 1);
        let end = self.raw.trim_end().len();
        if end <= open || !self.raw[..end].ends_with(')') {
            return Err(self.invalid(end, format!("{keyword}(…) is missing its closing ')'.")));
        }
        Ok((open, end - 1))
    }

    /// Splits `raw[start..end]` at whitespace into tokens that remember their
    /// byte offsets in `raw`.
    pub(crate) fn tokens(&self, start: usize, end: usize) -> Vec<Token<'a>> {
        let mut tokens = Vec::new();
        let Some(slice) = self.raw.get(start..end) else {
            return tokens;
        };
        let mut token_start: Option<usize> = None;
        for (index, character) in slice.char_indices() {
            match (character.is_whitespace(), token_start) {
                (true, Some(begin)) => {
                    tokens.push(Token {
                        text: &slice[begin..index],
                        offset: start + begin,
                    });
                    token_start = None;
                }
                (false, None) => token_start = Some(index),
                _ => {}
            }
        }
        if let Some(begin) = token_start {
            tokens.push(Token {
                text: &slice[begin..],
                offset: start + begin,
            });
        }
        tokens
    }
}

/// A whitespace-separated part of the expression and its byte offset in it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Token<'a> {
    pub text: &'a str,
    pub offset: usize,
}

/// Numbering of the input's day-of-week values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Weekdays {
    /// Unix crontab: 0-7, where 0 and 7 are Sunday.
    Posix,
    /// Quartz and EventBridge: 1-7, where 1 is Sunday.
    Quartz,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldKind {
    Second,
    Minute,
    Hour,
    DayOfMonth,
    Month,
    DayOfWeek,
    Year,
}

impl FieldKind {
    /// Returns the field's name as error messages show it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::DayOfMonth => "day-of-month",
            Self::Month => "month",
            Self::DayOfWeek => "day-of-week",
            Self::Year => "year",
        }
    }

    /// Returns the smallest and largest value the field accepts.
    pub(crate) fn bounds(self, weekdays: Weekdays) -> (u32, u32) {
        match self {
            Self::Second | Self::Minute => (0, 59),
            Self::Hour => (0, 23),
            Self::DayOfMonth => (1, 31),
            Self::Month => (1, 12),
            Self::DayOfWeek => match weekdays {
                Weekdays::Posix => (0, 7),
                Weekdays::Quartz => (1, 7),
            },
            Self::Year => (FIRST_YEAR, LAST_YEAR),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Self::Month => &MONTH_NAMES,
            Self::DayOfWeek => &DAY_NAMES,
            _ => &[],
        }
    }
}

/// One value of a field, with the name the admin used for it, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Value {
    pub number: u32,
    pub name: Option<&'static str>,
}

impl Value {
    fn number(number: u32) -> Self {
        Self { number, name: None }
    }

    fn render(&self) -> String {
        match self.name {
            Some(name) => name.to_string(),
            None => self.number.to_string(),
        }
    }
}

/// The values a list entry starts from, before any step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    /// `*`: every value of the field.
    Every,
    /// `5`, or `5/15`, which with a step means 5 up to the field's maximum.
    One(Value),
    /// `1-5`.
    Range(Value, Value),
}

/// One comma-separated entry of a field, such as `10-30/5`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub base: Base,
    pub step: Option<u32>,
}

impl Item {
    fn one(number: u32) -> Self {
        Self {
            base: Base::One(Value::number(number)),
            step: None,
        }
    }

    fn is_every(&self) -> bool {
        self.base == Base::Every && self.step.unwrap_or(1) == 1
    }

    /// Lists the values the entry selects, given the field's bounds.
    fn values(&self, (min, max): (u32, u32)) -> Vec<u32> {
        let (first, last) = match (&self.base, self.step) {
            (Base::Every, _) => (min, max),
            (Base::One(value), None) => (value.number, value.number),
            (Base::One(value), Some(_)) => (value.number, max),
            (Base::Range(from, to), _) => (from.number, to.number),
        };
        let step = self.step.unwrap_or(1).max(1) as usize;
        (first..=last).step_by(step).collect()
    }
}

/// A parsed cron field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    /// `?`: no specific value, in day-of-month or day-of-week only.
    NoSpecific,
    /// A comma-separated list, which includes a lone `*`.
    List(Vec<Item>),
    /// `L` in day-of-month: the last day of the month.
    LastDayOfMonth,
    /// `LW` in day-of-month: the last weekday (Monday to Friday) of the month.
    LastWeekdayOfMonth,
    /// `15W` in day-of-month: the weekday nearest to that day, within the month.
    NearestWeekday(u32),
    /// `6L` in day-of-week: the last such weekday of the month.
    LastWeekdayInMonth(Value),
    /// `6#3` in day-of-week: the third such weekday of the month.
    NthWeekdayInMonth(Value, u32),
}

impl Field {
    /// Returns `*`, the field value that matches everything.
    pub(crate) fn every() -> Self {
        Self::List(vec![Item {
            base: Base::Every,
            step: None,
        }])
    }

    /// Tells whether the field matches every value, as `*`, `*/1` or `?` do.
    pub(crate) fn is_unrestricted(&self) -> bool {
        match self {
            Self::NoSpecific => true,
            Self::List(items) => items.iter().any(Item::is_every),
            _ => false,
        }
    }

    /// Lists the values a plain list selects, in ascending order. Fields
    /// using `?`, `L`, `W` or `#` select no fixed values and return an empty
    /// set.
    pub(crate) fn values(&self, kind: FieldKind, weekdays: Weekdays) -> BTreeSet<u32> {
        match self {
            Self::List(items) => items
                .iter()
                .flat_map(|item| item.values(kind.bounds(weekdays)))
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    /// Renders the field in EventBridge syntax, which also fits the Quartz
    /// numbering of weekdays.
    pub(crate) fn render_eventbridge(&self, kind: FieldKind) -> String {
        let (min, _) = kind.bounds(Weekdays::Quartz);
        match self {
            Self::NoSpecific => "?".to_string(),
            Self::List(items) => items
                .iter()
                .map(|item| match (&item.base, item.step) {
                    (Base::Every, None) => "*".to_string(),
                    // `0/5` is the step form the EventBridge documentation
                    // shows, so `*/5` is written that way.
                    (Base::Every, Some(step)) => format!("{min}/{step}"),
                    (Base::One(value), None) => value.render(),
                    (Base::One(value), Some(step)) => format!("{}/{step}", value.render()),
                    (Base::Range(from, to), None) => {
                        format!("{}-{}", from.render(), to.render())
                    }
                    (Base::Range(from, to), Some(step)) => {
                        format!("{}-{}/{step}", from.render(), to.render())
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
            Self::LastDayOfMonth => "L".to_string(),
            Self::LastWeekdayOfMonth => "LW".to_string(),
            Self::NearestWeekday(day) => format!("{day}W"),
            Self::LastWeekdayInMonth(day) => format!("{}L", day.render()),
            Self::NthWeekdayInMonth(day, nth) => format!("{}#{nth}", day.render()),
        }
    }

    /// Renders the field in croner's pattern syntax, which numbers weekdays
    /// 0-6 from Sunday. Expects Quartz weekday numbering in `self`.
    pub(crate) fn render_croner(&self, kind: FieldKind) -> String {
        let (min, max) = kind.bounds(Weekdays::Quartz);
        let number = |value: &Value| match kind {
            FieldKind::DayOfWeek => value.number.saturating_sub(1),
            _ => value.number,
        };
        match self {
            Self::NoSpecific => "?".to_string(),
            Self::List(items) => items
                .iter()
                .map(|item| match (&item.base, item.step) {
                    // croner's `*` in the year field reaches past 2199, the
                    // last year EventBridge accepts.
                    (Base::Every, None) if kind == FieldKind::Year => format!("{min}-{max}"),
                    (Base::Every, None) => "*".to_string(),
                    // croner 4 accepts steps only on `*` or an explicit range.
                    (Base::Every, Some(step)) => {
                        format!("{}-{}/{step}", min, max)
                    }
                    (Base::One(value), None) => number(value).to_string(),
                    (Base::One(value), Some(step)) => {
                        format!("{}-{}/{step}", number(value), max)
                    }
                    (Base::Range(from, to), None) => format!("{}-{}", number(from), number(to)),
                    (Base::Range(from, to), Some(step)) => {
                        format!("{}-{}/{step}", number(from), number(to))
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
            Self::LastDayOfMonth => "L".to_string(),
            Self::LastWeekdayOfMonth => "LW".to_string(),
            Self::NearestWeekday(day) => format!("{day}W"),
            Self::LastWeekdayInMonth(day) => format!("{}#L", number(day)),
            Self::NthWeekdayInMonth(day, nth) => format!("{}#{nth}", number(day)),
        }
    }

    /// Converts a day-of-week field from Unix numbering (0-7, Sunday is 0 and
    /// 7) to Quartz numbering (1-7, Sunday is 1), and expands steps, which
    /// the EventBridge day-of-week field does not accept.
    pub(crate) fn into_quartz_weekdays(self, from: Weekdays) -> Self {
        let convert = |number: u32| match from {
            Weekdays::Posix => number % 7 + 1,
            Weekdays::Quartz => number,
        };
        let convert_value = |value: Value| Value {
            number: convert(value.number),
            name: value.name,
        };
        match self {
            Self::List(items) => {
                if items.iter().any(Item::is_every) {
                    return Self::every();
                }
                let has_step = items.iter().any(|item| item.step.is_some());
                if from == Weekdays::Quartz && !has_step {
                    return Self::List(items);
                }
                // Names mean the same day in every dialect, and a range of
                // names never wraps past Saturday, so named entries keep
                // their form. Any other entry is expanded to days and
                // written again in Quartz numbers, because `5-7` (Friday to
                // Sunday) becomes `6-7,1` there.
                let all_named = !has_step
                    && items.iter().all(|item| match &item.base {
                        Base::One(value) => value.name.is_some(),
                        Base::Range(from, to) => from.name.is_some() && to.name.is_some(),
                        Base::Every => false,
                    });
                if all_named {
                    return Self::List(
                        items
                            .into_iter()
                            .map(|item| Item {
                                base: match item.base {
                                    Base::One(value) => Base::One(convert_value(value)),
                                    Base::Range(from, to) => {
                                        Base::Range(convert_value(from), convert_value(to))
                                    }
                                    Base::Every => Base::Every,
                                },
                                step: None,
                            })
                            .collect(),
                    );
                }
                let bounds = FieldKind::DayOfWeek.bounds(from);
                let days: BTreeSet<u32> = items
                    .iter()
                    .flat_map(|item| item.values(bounds))
                    .map(convert)
                    .collect();
                Self::List(compress(&days))
            }
            Self::LastWeekdayInMonth(value) => Self::LastWeekdayInMonth(convert_value(value)),
            Self::NthWeekdayInMonth(value, nth) => {
                Self::NthWeekdayInMonth(convert_value(value), nth)
            }
            other => other,
        }
    }
}

/// Writes a set of values as a list of single values and ranges.
fn compress(values: &BTreeSet<u32>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    let close = |from: u32, to: u32, items: &mut Vec<Item>| {
        if from == to {
            items.push(Item::one(from));
        } else {
            items.push(Item {
                base: Base::Range(Value::number(from), Value::number(to)),
                step: None,
            });
        }
    };
    for &value in values {
        run = match run {
            Some((from, to)) if value == to + 1 => Some((from, value)),
            Some((from, to)) => {
                close(from, to, &mut items);
                Some((value, value))
            }
            None => Some((value, value)),
        };
    }
    if let Some((from, to)) = run {
        close(from, to, &mut items);
    }
    items
}

/// Parses one cron field. Day-of-week values keep the input's numbering.
pub(crate) fn parse_field(
    source: &Source,
    token: &Token,
    kind: FieldKind,
    weekdays: Weekdays,
) -> Result<Field, ScheduleError> {
    // ASCII upper-casing keeps byte offsets, so offsets into `text` are
    // offsets into the token as sent.
    let text = token.text.to_ascii_uppercase();
    let name = kind.name();

    if text == "?" {
        return match kind {
            FieldKind::DayOfMonth | FieldKind::DayOfWeek => Ok(Field::NoSpecific),
            FieldKind::Second => Err(source.invalid(
                token.offset,
                "second: '?' is not allowed here; EventBridge runs schedules on whole \
                 minutes only, so set the seconds field to 0.",
            )),
            _ => Err(source.invalid(
                token.offset,
                format!(
                    "{name}: '?' is only allowed in day-of-month and day-of-week; \
                     use * to match every {name}."
                ),
            )),
        };
    }

    let entries = split_entries(&text, token.offset);
    let parser = FieldParser {
        source,
        kind,
        weekdays,
    };
    if let Some(&(entry, offset)) = entries.iter().find(|(entry, _)| parser.is_special(entry)) {
        if entries.len() > 1 {
            return Err(source.invalid(
                offset,
                format!(
                    "{name}: '{entry}' must be the only entry of the field, because \
                     EventBridge does not combine L, W or # with a list; \
                     create a second schedule for the other entries."
                ),
            ));
        }
        return parser.parse_special(entry, offset);
    }

    let items = entries
        .iter()
        .map(|&(entry, offset)| parser.parse_item(entry, offset))
        .collect::<Result<Vec<_>, _>>()?;
    // A list with a `*` in it, such as `*,0`, selects every value. It is
    // written as a lone `*`, because the run time calculation (croner 4)
    // rejects `*` inside a list. A lone `*` is also the plain EventBridge
    // form of the field.
    if items.len() > 1 && items.iter().any(Item::is_every) {
        return Ok(Field::List(vec![Item {
            base: Base::Every,
            step: None,
        }]));
    }
    Ok(Field::List(items))
}

/// Splits a field at commas, keeping each entry's byte offset.
fn split_entries(text: &str, offset: usize) -> Vec<(&str, usize)> {
    let mut entries = Vec::new();
    let mut start = 0;
    for (index, character) in text.char_indices() {
        if character == ',' {
            entries.push((&text[start..index], offset + start));
            start = index + 1;
        }
    }
    entries.push((&text[start..], offset + start));
    entries
}

struct FieldParser<'s, 'a> {
    source: &'s Source<'a>,
    kind: FieldKind,
    weekdays: Weekdays,
}

impl FieldParser<'_, '_> {
    fn error(&self, offset: usize, problem: impl std::fmt::Display) -> ScheduleError {
        self.source
            .invalid(offset, format!("{}: {problem}", self.kind.name()))
    }

    /// Tells whether an entry uses `L`, `W` or `#`, which EventBridge allows
    /// only as the sole entry of day-of-month or day-of-week.
    fn is_special(&self, entry: &str) -> bool {
        match self.kind {
            FieldKind::DayOfMonth => entry.starts_with('L') || entry.ends_with('W'),
            FieldKind::DayOfWeek => {
                entry.contains('#') || (entry.ends_with('L') && !entry.contains(['-', '/']))
            }
            _ => false,
        }
    }

    fn parse_special(&self, entry: &str, offset: usize) -> Result<Field, ScheduleError> {
        match self.kind {
            FieldKind::DayOfMonth => self.parse_day_of_month_special(entry, offset),
            _ => self.parse_day_of_week_special(entry, offset),
        }
    }

    fn parse_day_of_month_special(
        &self,
        entry: &str,
        offset: usize,
    ) -> Result<Field, ScheduleError> {
        match entry {
            "L" => Ok(Field::LastDayOfMonth),
            "LW" => Ok(Field::LastWeekdayOfMonth),
            _ if entry.starts_with("L-") => Err(self.error(
                offset,
                format!(
                    "'{entry}' (an offset from the last day) is not supported by \
                     EventBridge; use L for the last day or a fixed day number."
                ),
            )),
            _ if entry.starts_with('L') => Err(self.error(
                offset + 1,
                format!(
                    "'{entry}' is not valid; use L for the last day or LW for the last weekday."
                ),
            )),
            _ => {
                let day_text = &entry[..entry.len() - 1];
                if day_text.is_empty() {
                    return Err(self.error(
                        offset,
                        "'W' needs a day number before it, such as 15W for the weekday \
                         nearest the 15th.",
                    ));
                }
                let value = self.parse_value(day_text, offset)?;
                Ok(Field::NearestWeekday(value.number))
            }
        }
    }

    fn parse_day_of_week_special(
        &self,
        entry: &str,
        offset: usize,
    ) -> Result<Field, ScheduleError> {
        if entry == "L" {
            // A lone L in day-of-week is the last day of the week, Saturday.
            let saturday = match self.weekdays {
                Weekdays::Posix => 6,
                Weekdays::Quartz => 7,
            };
            return Ok(Field::List(vec![Item::one(saturday)]));
        }
        if let Some((day_text, nth_text)) = entry.split_once('#') {
            let day = self.parse_weekday_before_modifier(day_text, offset, "#")?;
            let nth_offset = offset + day_text.len() + 1;
            let nth = match nth_text.parse::<u32>() {
                Ok(nth @ 1..=5) if nth_text.bytes().all(|byte| byte.is_ascii_digit()) => nth,
                _ => {
                    return Err(self.error(
                        nth_offset,
                        format!(
                            "'#{nth_text}' is not valid; write the week of the month as \
                             #1 to #5, such as 6#3 for the third Friday."
                        ),
                    ))
                }
            };
            return Ok(Field::NthWeekdayInMonth(day, nth));
        }
        let day_text = &entry[..entry.len() - 1];
        let day = self.parse_weekday_before_modifier(day_text, offset, "L")?;
        Ok(Field::LastWeekdayInMonth(day))
    }

    fn parse_weekday_before_modifier(
        &self,
        day_text: &str,
        offset: usize,
        modifier: &str,
    ) -> Result<Value, ScheduleError> {
        if day_text.is_empty() {
            return Err(self.error(
                offset,
                format!("'{modifier}' needs a day of the week before it, such as FRI{modifier}."),
            ));
        }
        self.parse_value(day_text, offset)
    }

    fn parse_item(&self, entry: &str, offset: usize) -> Result<Item, ScheduleError> {
        if entry.is_empty() {
            return Err(self.error(
                offset,
                "empty list entry; remove the extra comma or add a value.",
            ));
        }
        let (base_text, step) = match entry.split_once('/') {
            Some((base_text, step_text)) => {
                let step_offset = offset + base_text.len() + 1;
                (base_text, Some(self.parse_step(step_text, step_offset)?))
            }
            None => (entry, None),
        };

        let base = if base_text == "*" {
            Base::Every
        } else if base_text.is_empty() {
            return Err(self.error(
                offset,
                format!("'{entry}' needs a start before '/'; write */N or 0/N."),
            ));
        } else if let Some((from_text, to_text)) = base_text.split_once('-') {
            let from = self.parse_value(from_text, offset)?;
            let to_offset = offset + from_text.len() + 1;
            let to = self.parse_value(to_text, to_offset)?;
            if from.number > to.number {
                return Err(self.error(
                    offset,
                    format!(
                        "range {from_text}-{to_text} runs backwards; write it as two \
                         ascending ranges, one up to the field's maximum and one from \
                         its minimum."
                    ),
                ));
            }
            Base::Range(from, to)
        } else {
            Base::One(self.parse_value(base_text, offset)?)
        };
        Ok(Item { base, step })
    }

    fn parse_step(&self, step_text: &str, offset: usize) -> Result<u32, ScheduleError> {
        let (min, max) = self.kind.bounds(self.weekdays);
        let span = max - min;
        if step_text.is_empty() {
            return Err(self.error(offset, "missing step after '/'; write */N or 0/N."));
        }
        if let Some((index, character)) = step_text
            .char_indices()
            .find(|(_, character)| !character.is_ascii_digit())
        {
            return Err(self.error(
                offset + index,
                format!(
                    "unexpected character '{character}' in the step; a step is a whole number."
                ),
            ));
        }
        match step_text.parse::<u32>() {
            Ok(step) if (1..=span).contains(&step) => Ok(step),
            _ => Err(self.error(
                offset,
                format!("step {step_text} is out of range; use a step from 1 to {span}."),
            )),
        }
    }

    fn parse_value(&self, text: &str, offset: usize) -> Result<Value, ScheduleError> {
        let (min, max) = self.kind.bounds(self.weekdays);
        if text.is_empty() {
            return Err(self.error(offset, "missing value before or after '-'."));
        }

        if text.bytes().all(|byte| byte.is_ascii_digit()) {
            return match text.parse::<u32>() {
                Ok(number) if (min..=max).contains(&number) => Ok(Value::number(number)),
                _ => Err(self.error(offset, format!("value {text} is out of range {min}-{max}."))),
            };
        }

        if text.bytes().all(|byte| byte.is_ascii_alphabetic()) {
            let names = self.kind.names();
            if names.is_empty() {
                return Err(self.error(
                    offset,
                    format!("'{text}' is not a number; use a value from {min} to {max}."),
                ));
            }
            let first_number = match (self.kind, self.weekdays) {
                (FieldKind::DayOfWeek, Weekdays::Posix) => 0,
                _ => 1,
            };
            return match names.iter().position(|known| *known == text) {
                Some(index) => Ok(Value {
                    number: first_number + index as u32,
                    name: Some(names[index]),
                }),
                None => {
                    let name_kind = match self.kind {
                        FieldKind::Month => "month",
                        _ => "day",
                    };
                    Err(self.error(
                        offset,
                        format!(
                            "unknown {name_kind} name '{text}'; use one of {} or a number \
                             from {min} to {max}.",
                            names.join(", ")
                        ),
                    ))
                }
            };
        }

        let (index, character) = text
            .char_indices()
            .find(|(_, character)| !character.is_ascii_alphanumeric())
            .or_else(|| {
                // Letters and digits mixed: point at the first letter after
                // a digit, or the first digit after a letter.
                let first_is_digit = text.starts_with(|c: char| c.is_ascii_digit());
                text.char_indices()
                    .find(|(_, character)| character.is_ascii_digit() != first_is_digit)
            })
            .unwrap_or((0, '?'));
        let hint = match character {
            'L' | 'W' | '#' | '?' => format!(
                "'{character}' is only allowed in day-of-month (L, W, ?) and \
                 day-of-week (L, #, ?), and only as the whole field or a single entry"
            ),
            _ => "use digits, names, and the characters , - * /".to_string(),
        };
        Err(self.error(
            offset + index,
            format!("unexpected character '{character}' in '{text}'; {hint}."),
        ))
    }
}
