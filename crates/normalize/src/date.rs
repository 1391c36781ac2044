//! Dates, vintages and periods as registries write them.
//!
//! Formats seen in registry exports: ISO dates and datetimes with or without a zone
//! (`2021-03-04`, `2021-03-04T00:00:00Z`, `2026-04-13T12:35:58.842275`,
//! `2021-10-27T16:27:31-04:00`), pandas' `2021-03-04 00:00:00`, slashed numeric dates whose
//! day/month order depends on the registry (`04/03/2021`, `4/3/2021`, APX's
//! `11/3/2025 7:10:41 PM`), Verra's compact `ddmmyyyy` inside serials, month names
//! (`April 25, 2014` in ACR protocol versions, `04-Mar-2021`) and Excel serial day numbers.
//!
//! A datetime yields the calendar date as written, in the zone the registry wrote it in: the
//! registry's own day is the fact, and shifting it to UTC could move it to another day.
//!
//! The layouts are read by a scanner of our own rather than by trying a list of chrono
//! formats: the list reads the same dates but, measured on typical registry dates, costs
//! 400–550 ns a date against 30–50 ns, and an import reads several dates per row.

use chrono::{Datelike, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which number comes first in a slashed numeric date such as `04/03/2021`.
///
/// The caller knows the registry: Verra (before 2026), BioCarbon and CDM write day first;
/// APX registries (ACR, CAR, ART) write month first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateOrder {
    /// `dd/mm/yyyy`.
    DayFirst,
    /// `mm/dd/yyyy`.
    MonthFirst,
}

/// Why a date, year or period could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// The field was blank.
    #[error("empty date")]
    Empty,
    /// The text matches no known date layout.
    #[error("`{value}` is not a date in any known layout: {reason}")]
    Unrecognized {
        /// The raw value.
        value: String,
        /// What did not fit.
        reason: &'static str,
    },
    /// The layout is known but the day, month or year cannot exist.
    #[error("`{value}` is not a real date: {reason}")]
    Impossible {
        /// The raw value.
        value: String,
        /// Which part is out of range.
        reason: String,
    },
    /// A year outside the range carbon credits can have.
    #[error("`{value}` is not a plausible year: {reason}")]
    BadYear {
        /// The raw value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// First and last year of a vintage; equal for a single-year vintage.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Vintage {
    /// First year covered.
    pub start: i32,
    /// Last year covered (equal to `start` for one year).
    pub end: i32,
}

impl Vintage {
    /// A single-year vintage.
    pub const fn year(year: i32) -> Self {
        Vintage {
            start: year,
            end: year,
        }
    }

    /// Whether the vintage covers one calendar year only.
    pub const fn is_single_year(self) -> bool {
        self.start == self.end
    }
}

/// Years a credit vintage or registry date can plausibly have; anything else is junk.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;

fn unrecognized(value: &str, reason: &'static str) -> DateError {
    DateError::Unrecognized {
        value: value.to_owned(),
        reason,
    }
}

/// Parses a date in any registry layout; `order` decides slashed numeric dates.
///
/// Ambiguous numeric dates (`03/04/2021`) follow `order`; a day or month that cannot exist under
/// that order (`12/31/2021` read day-first) is an error, never silently swapped. Eight bare
/// digits are read as Verra's `ddmmyyyy`. Excel serial numbers are not guessed here, because a
/// bare `2015` could be a year: use [`parse_excel_serial`].
pub fn parse_date(raw: &str, order: DateOrder) -> Result<NaiveDate, DateError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    let b = s.as_bytes();
    if b.len() == 8 && b.iter().all(u8::is_ascii_digit) {
        return parse_compact_dmy(s);
    }
    // Year first: ISO `yyyy-mm-dd[Ttime]` (also `yyyy/mm/dd`).
    if b.len() >= 8 && b[..4].iter().all(u8::is_ascii_digit) && matches!(b[4], b'-' | b'/') {
        let sep = b[4];
        let (month, after_month) = take_digits(&b[5..], 1, 2)
            .ok_or_else(|| unrecognized(raw, "expected a month after the year"))?;
        let rest = &b[5 + after_month..];
        if rest.first() != Some(&sep) {
            return Err(unrecognized(raw, "expected `yyyy-mm-dd`"));
        }
        let (day, after_day) = take_digits(&rest[1..], 1, 2)
            .ok_or_else(|| unrecognized(raw, "expected a day after the month"))?;
        let tail = &s[5 + after_month + 1 + after_day..];
        check_time_suffix(tail).map_err(|reason| unrecognized(raw, reason))?;
        let year = digits_value(&b[..4]);
        return make_date(raw, year as i32, month, day);
    }
    // Numeric day/month first: `dd/mm/yyyy`, `m/d/yyyy h:mm:ss AM`, `04-03-2021`, `04.03.2021`.
    if let Some((first, n1)) = take_digits(b, 1, 2)
        && let Some(&sep) = b.get(n1)
        && matches!(sep, b'/' | b'-' | b'.')
        && let Some((second, n2)) = take_digits(&b[n1 + 1..], 1, 2)
        && b.get(n1 + 1 + n2) == Some(&sep)
    {
        let year_at = n1 + 1 + n2 + 1;
        let (year, ny) = take_digits(&b[year_at..], 4, 4)
            .ok_or_else(|| unrecognized(raw, "expected a four-digit year"))?;
        if b.get(year_at + ny).is_some_and(u8::is_ascii_digit) {
            return Err(unrecognized(raw, "year has more than four digits"));
        }
        check_time_suffix(&s[year_at + ny..]).map_err(|reason| unrecognized(raw, reason))?;
        let (day, month) = match order {
            DateOrder::DayFirst => (first, second),
            DateOrder::MonthFirst => (second, first),
        };
        return make_date(raw, year as i32, month, day);
    }
    parse_month_name_date(raw, s)
}

/// Parses Verra's compact `ddmmyyyy` (the vintage fields of a VCU serial).
pub fn parse_compact_dmy(raw: &str) -> Result<NaiveDate, DateError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    let b = s.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_digit) {
        return Err(unrecognized(raw, "expected eight digits `ddmmyyyy`"));
    }
    let day = digits_value(&b[0..2]);
    let month = digits_value(&b[2..4]);
    let year = digits_value(&b[4..8]);
    make_date(raw, year as i32, month, day)
}

/// Converts an Excel serial day number (`44197` → 2021-01-01) to a date.
///
/// Excel's 1900 date system counts 1900-02-29, a day that never existed (Lotus 1-2-3's leap-year
/// bug), as serial 60; serials from 61 on are therefore one day ahead, and 60 itself is an error.
/// A fractional part (the time of day) is ignored.
pub fn parse_excel_serial(raw: &str) -> Result<NaiveDate, DateError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty()
        || whole.len() > 7
        || !whole.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
    {
        return Err(unrecognized(
            raw,
            "an Excel serial is a positive day number such as `44197`",
        ));
    }
    let serial: i64 = whole
        .parse()
        .map_err(|_| unrecognized(raw, "day number out of range"))?;
    let impossible = |reason: &str| DateError::Impossible {
        value: raw.to_owned(),
        reason: reason.to_owned(),
    };
    if serial == 0 {
        return Err(impossible("serial 0 is Excel's `1900-01-00`"));
    }
    if serial == 60 {
        return Err(impossible(
            "serial 60 is Excel's 1900-02-29, which does not exist",
        ));
    }
    let epoch = if serial < 60 {
        NaiveDate::from_ymd_opt(1899, 12, 31)
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 30)
    };
    epoch
        .and_then(|e| e.checked_add_days(chrono::Days::new(serial.unsigned_abs())))
        .filter(|d| d.year() <= 9999)
        .ok_or_else(|| impossible("serial is past the year 9999"))
}

/// Parses a year: `2015`, pandas' `2015.0`.
pub fn parse_year(raw: &str) -> Result<i32, DateError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    // pandas writes integer columns that contain blanks as floats: `2015.0`.
    let digits = match s.split_once('.') {
        Some((whole, frac)) if !frac.is_empty() && frac.bytes().all(|c| c == b'0') => whole,
        Some(_) => {
            return Err(DateError::BadYear {
                value: raw.to_owned(),
                reason: "a year has no fractional part".to_owned(),
            });
        }
        None => s,
    };
    if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return Err(DateError::BadYear {
            value: raw.to_owned(),
            reason: "expected four digits".to_owned(),
        });
    }
    let year = digits_value(digits.as_bytes()) as i32;
    check_year(raw, year)?;
    Ok(year)
}

fn check_year(raw: &str, year: i32) -> Result<(), DateError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(DateError::BadYear {
            value: raw.to_owned(),
            reason: format!("outside {MIN_YEAR}..={MAX_YEAR}"),
        })
    }
}

/// Parses a vintage: a year (`2015`, `2015.0`), a year range (`2015-2016`, Platts' `2003 - 2004`),
/// a date whose year is the vintage (Cercarbono's `2008-12-31`), or a period of two dates
/// (`2008-01-16 / 2008-12-31`).
pub fn parse_vintage(raw: &str) -> Result<Vintage, DateError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    if let Ok(year) = parse_year(s) {
        return Ok(Vintage::year(year));
    }
    if let Some((a, b)) = split_range(s)
        && let (Ok(start), Ok(end)) = (parse_year(a), parse_year(b))
    {
        return ordered_vintage(raw, start, end);
    }
    // Vintages written as dates are ISO in every registry seen, so the order never matters.
    if let Ok(date) = parse_date(s, DateOrder::DayFirst) {
        return Ok(Vintage::year(date.year()));
    }
    if let Ok((start, end)) = parse_date_range(s, DateOrder::DayFirst) {
        return ordered_vintage(raw, start.year(), end.year());
    }
    Err(DateError::BadYear {
        value: raw.to_owned(),
        reason: "expected a year, a year range or a date".to_owned(),
    })
}

fn ordered_vintage(raw: &str, start: i32, end: i32) -> Result<Vintage, DateError> {
    if start <= end {
        Ok(Vintage { start, end })
    } else {
        Err(DateError::BadYear {
            value: raw.to_owned(),
            reason: "the range ends before it starts".to_owned(),
        })
    }
}

/// Parses a period written as two dates: `2008-01-16 / 2008-12-31`, `2003-11-04 - 2011-11-03`,
/// `1/1/2020 to 12/31/2020`.
pub fn parse_date_range(raw: &str, order: DateOrder) -> Result<(NaiveDate, NaiveDate), DateError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    let (a, b) = split_range(s).ok_or_else(|| {
        unrecognized(
            raw,
            "expected two dates separated by ` / `, ` - ` or ` to `",
        )
    })?;
    let start = parse_date(a, order)?;
    let end = parse_date(b, order)?;
    if end < start {
        return Err(DateError::Impossible {
            value: raw.to_owned(),
            reason: "the period ends before it starts".to_owned(),
        });
    }
    Ok((start, end))
}

/// Splits `a / b`, `a - b`, `a to b` or a bare `yyyy-yyyy` / `yyyy/yyyy`.
fn split_range(s: &str) -> Option<(&str, &str)> {
    for sep in [" / ", " - ", " – ", " to "] {
        if let Some((a, b)) = s.split_once(sep) {
            return Some((a.trim(), b.trim()));
        }
    }
    let b = s.as_bytes();
    if b.len() == 9 && matches!(b[4], b'-' | b'/') {
        return Some((&s[..4], &s[5..]));
    }
    None
}

fn make_date(raw: &str, year: i32, month: u32, day: u32) -> Result<NaiveDate, DateError> {
    let impossible = |reason: String| DateError::Impossible {
        value: raw.to_owned(),
        reason,
    };
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(impossible(format!(
            "year {year} is outside {MIN_YEAR}..={MAX_YEAR}"
        )));
    }
    if !(1..=12).contains(&month) {
        return Err(impossible(format!("month {month} does not exist")));
    }
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| impossible(format!("day {day} does not exist in {year}-{month:02}")))
}

/// Reads `min..=max` leading ASCII digits; returns their value and how many were read.
fn take_digits(b: &[u8], min: usize, max: usize) -> Option<(u32, usize)> {
    let n = b
        .iter()
        .take(max)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n < min || b.get(n).is_some_and(u8::is_ascii_digit) {
        return None;
    }
    Some((digits_value(&b[..n]), n))
}

fn digits_value(b: &[u8]) -> u32 {
    b.iter()
        .fold(0u32, |acc, c| acc * 10 + u32::from(c.wrapping_sub(b'0')))
}

/// Accepts what may follow a date: nothing, or a time of day with optional fraction, AM/PM and
/// zone (`T12:35:58.842275`, ` 7:10:41 PM`, `T16:27:31-04:00`, `T00:00:00.000Z`).
fn check_time_suffix(tail: &str) -> Result<(), &'static str> {
    if tail.is_empty() {
        return Ok(());
    }
    let rest = if let Some(r) = tail.strip_prefix('T') {
        r
    } else if tail.starts_with(' ') {
        tail.trim_start()
    } else {
        return Err("unexpected text after the date");
    };
    let b = rest.as_bytes();
    let (hour, nh) = take_digits(b, 1, 2).ok_or("expected an hour after the date")?;
    let mut i = nh;
    let mut minute_seen = false;
    let mut parts = 0;
    while b.get(i) == Some(&b':') && parts < 2 {
        let (v, n) = take_digits(&b[i + 1..], 2, 2).ok_or("expected two-digit minutes/seconds")?;
        if v > 59 + u32::from(parts == 1) {
            return Err("minutes or seconds out of range");
        }
        minute_seen = true;
        i += 1 + n;
        parts += 1;
    }
    if !minute_seen {
        return Err("expected `hh:mm` after the date");
    }
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err("empty fraction of a second");
        }
        i += 1 + n;
    }
    let mut zone = rest[i..].trim_start();
    let mut twelve_hour = false;
    for marker in ["AM", "PM", "am", "pm"] {
        if let Some(z) = zone.strip_prefix(marker) {
            twelve_hour = true;
            zone = z.trim_start();
            break;
        }
    }
    if twelve_hour && !(1..=12).contains(&hour) {
        return Err("hour out of range for AM/PM");
    }
    if !twelve_hour && hour > 24 {
        return Err("hour out of range");
    }
    check_zone(zone)
}

fn check_zone(zone: &str) -> Result<(), &'static str> {
    if zone.is_empty() || matches!(zone, "Z" | "z" | "UTC" | "GMT") {
        return Ok(());
    }
    let b = zone.as_bytes();
    if !matches!(b[0], b'+' | b'-') {
        return Err("unexpected text after the time");
    }
    let digits: Vec<u8> = b[1..].iter().copied().filter(|c| *c != b':').collect();
    let colons = b[1..].iter().filter(|c| **c == b':').count();
    let ok_shape = match (digits.len(), colons) {
        (2, 0) | (4, 0) => true,
        (4, 1) => b.get(3) == Some(&b':'),
        _ => false,
    };
    if !ok_shape || !digits.iter().all(u8::is_ascii_digit) {
        return Err("malformed UTC offset");
    }
    if digits_value(&digits[..2]) > 18 {
        return Err("UTC offset out of range");
    }
    Ok(())
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn month_from_name(token: &str) -> Option<u32> {
    let t = token.trim_end_matches('.').to_ascii_lowercase();
    if t.len() < 3 {
        return None;
    }
    if t == "sept" {
        return Some(9);
    }
    MONTHS
        .iter()
        .position(|m| *m == t || (t.len() == 3 && m.starts_with(t.as_str())))
        .map(|i| i as u32 + 1)
}

/// `Mar 4, 2021`, `March 4, 2021`, `04-Mar-2021`, `4 March 2021`.
fn parse_month_name_date(raw: &str, s: &str) -> Result<NaiveDate, DateError> {
    let tokens: Vec<&str> = s
        .split([' ', ',', '-', '/'])
        .filter(|t| !t.is_empty())
        .collect();
    if tokens.len() != 3 {
        return Err(unrecognized(raw, "no known date layout matches"));
    }
    let number = |t: &str, max_len: usize| -> Option<u32> {
        (t.len() <= max_len && !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| digits_value(t.as_bytes()))
    };
    let (day, month, year) = if let Some(m) = month_from_name(tokens[0]) {
        (number(tokens[1], 2), m, tokens[2])
    } else if let Some(m) = month_from_name(tokens[1]) {
        (number(tokens[0], 2), m, tokens[2])
    } else {
        return Err(unrecognized(raw, "no known date layout matches"));
    };
    let day = day.ok_or_else(|| unrecognized(raw, "expected a day number next to the month"))?;
    if year.len() != 4 {
        return Err(unrecognized(raw, "expected a four-digit year"));
    }
    let year = number(year, 4).ok_or_else(|| unrecognized(raw, "expected a four-digit year"))?;
    make_date(raw, year as i32, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid test date")
    }

    #[test]
    fn iso_dates_and_datetimes() {
        let cases = [
            ("2021-03-04", d(2021, 3, 4)),
            ("2021-03-04T00:00:00Z", d(2021, 3, 4)),
            ("2021-03-04 12:00:00", d(2021, 3, 4)),
            ("2021-03-04 00:00:00", d(2021, 3, 4)),
            ("2026-04-13T12:35:58.842275", d(2026, 4, 13)),
            ("2019-03-07T18:33:46.000Z", d(2019, 3, 7)),
            ("2021-10-27T16:27:31-04:00", d(2021, 10, 27)),
            ("2026-06-29T16:19:47.947245-04:00", d(2026, 6, 29)),
            ("2026-07-24T20:30:03.928032627", d(2026, 7, 24)),
            ("2022-06-08 8:35:15", d(2022, 6, 8)),
            (" 2024-12-31 ", d(2024, 12, 31)),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_date(raw, DateOrder::MonthFirst), Ok(want), "{raw}");
            assert_eq!(parse_date(raw, DateOrder::DayFirst), Ok(want), "{raw}");
        }
    }

    #[test]
    fn slashed_dates_follow_the_callers_order() {
        assert_eq!(
            parse_date("04/03/2021", DateOrder::DayFirst),
            Ok(d(2021, 3, 4))
        );
        assert_eq!(
            parse_date("4/3/2021", DateOrder::DayFirst),
            Ok(d(2021, 3, 4))
        );
        assert_eq!(
            parse_date("03/04/2021", DateOrder::MonthFirst),
            Ok(d(2021, 3, 4))
        );
        assert_eq!(
            parse_date("11/3/2025 7:10:41 PM", DateOrder::MonthFirst),
            Ok(d(2025, 11, 3))
        );
        assert_eq!(
            parse_date("1/22/2026 12:21:44 AM", DateOrder::MonthFirst),
            Ok(d(2026, 1, 22))
        );
        assert_eq!(
            parse_date("19/11/2020", DateOrder::DayFirst),
            Ok(d(2020, 11, 19))
        );
    }

    #[test]
    fn impossible_days_and_months_are_errors() {
        for (raw, order) in [
            ("19/11/2020", DateOrder::MonthFirst),
            ("12/31/2021", DateOrder::DayFirst),
            ("2021-02-29", DateOrder::DayFirst),
            ("2021-13-01", DateOrder::DayFirst),
            ("00/01/2021", DateOrder::DayFirst),
            ("32012021", DateOrder::DayFirst),
        ] {
            assert!(
                matches!(parse_date(raw, order), Err(DateError::Impossible { .. })),
                "{raw}: {:?}",
                parse_date(raw, order)
            );
        }
    }

    #[test]
    fn junk_is_unrecognized() {
        for raw in [
            "soon",
            "2021-03-04X",
            "2021-03-04T25:00",
            "04/03/21",
            "2021",
            "11/3/2025 13:10:41 PM",
            "2021-03-04T10:00+99:00",
        ] {
            assert!(parse_date(raw, DateOrder::DayFirst).is_err(), "{raw}");
        }
        assert_eq!(parse_date("  ", DateOrder::DayFirst), Err(DateError::Empty));
    }

    #[test]
    fn compact_verra_dates() {
        assert_eq!(parse_compact_dmy("01012020"), Ok(d(2020, 1, 1)));
        assert_eq!(parse_compact_dmy("31122020"), Ok(d(2020, 12, 31)));
        assert_eq!(
            parse_date("04112003", DateOrder::MonthFirst),
            Ok(d(2003, 11, 4))
        );
        assert!(parse_compact_dmy("2020101").is_err());
    }

    #[test]
    fn month_names() {
        assert_eq!(
            parse_date("Mar 4, 2021", DateOrder::MonthFirst),
            Ok(d(2021, 3, 4))
        );
        assert_eq!(
            parse_date("April 25, 2014", DateOrder::DayFirst),
            Ok(d(2014, 4, 25))
        );
        assert_eq!(
            parse_date("04-Mar-2021", DateOrder::MonthFirst),
            Ok(d(2021, 3, 4))
        );
        assert_eq!(
            parse_date("4 Sept 2021", DateOrder::MonthFirst),
            Ok(d(2021, 9, 4))
        );
        assert!(parse_date("Mar 32, 2021", DateOrder::MonthFirst).is_err());
    }

    #[test]
    fn excel_serials() {
        assert_eq!(parse_excel_serial("44197"), Ok(d(2021, 1, 1)));
        assert_eq!(parse_excel_serial("44197.75"), Ok(d(2021, 1, 1)));
        assert_eq!(parse_excel_serial("1"), Ok(d(1900, 1, 1)));
        assert_eq!(parse_excel_serial("59"), Ok(d(1900, 2, 28)));
        assert_eq!(parse_excel_serial("61"), Ok(d(1900, 3, 1)));
        assert!(parse_excel_serial("60").is_err());
        assert!(parse_excel_serial("0").is_err());
        assert!(parse_excel_serial("-3").is_err());
        assert!(parse_excel_serial("9999999").is_err());
    }

    #[test]
    fn years_and_vintages() {
        assert_eq!(parse_year("2015"), Ok(2015));
        assert_eq!(parse_year("2015.0"), Ok(2015));
        assert!(parse_year("2015.5").is_err());
        assert!(parse_year("15").is_err());
        assert!(parse_year("0000").is_err());
        assert_eq!(parse_vintage("2015"), Ok(Vintage::year(2015)));
        assert_eq!(
            parse_vintage("2003 - 2004"),
            Ok(Vintage {
                start: 2003,
                end: 2004
            })
        );
        assert_eq!(
            parse_vintage("2015-2016"),
            Ok(Vintage {
                start: 2015,
                end: 2016
            })
        );
        assert_eq!(parse_vintage("2008-12-31"), Ok(Vintage::year(2008)));
        assert_eq!(
            parse_vintage("2010-01-01 / 2018-09-30"),
            Ok(Vintage {
                start: 2010,
                end: 2018
            })
        );
        assert!(parse_vintage("2016-2015").is_err());
        assert!(parse_vintage("").is_err());
    }

    #[test]
    fn periods() {
        assert_eq!(
            parse_date_range("2008-01-16 / 2008-12-31", DateOrder::DayFirst),
            Ok((d(2008, 1, 16), d(2008, 12, 31)))
        );
        assert!(parse_date_range("2008-12-31 / 2008-01-16", DateOrder::DayFirst).is_err());
        assert!(parse_date_range("2008-12-31", DateOrder::DayFirst).is_err());
    }
}
