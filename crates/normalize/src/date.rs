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

use chrono::format::ParseErrorKind;
use chrono::{Datelike, NaiveDate, NaiveTime};
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
    if s.len() == 8 && s.bytes().all(|c| c.is_ascii_digit()) {
        return parse_compact_dmy(s);
    }
    let numeric = match order {
        DateOrder::DayFirst => &DAY_FIRST,
        DateOrder::MonthFirst => &MONTH_FIRST,
    };
    // chrono reads `Sep`, not the `Sept` some registries write.
    let named = s.replace("Sept ", "Sep ").replace("sept ", "sep ");
    let layouts = YEAR_FIRST
        .iter()
        .chain(numeric)
        .map(|layout| (*layout, s))
        .chain(NAMED.iter().map(|layout| (*layout, named.as_str())));
    // The first layout a date and what follows it fit is the answer; else the most telling
    // failure: a date that fits a layout but cannot exist, then text after a date.
    let mut impossible = None;
    let mut trailing = None;
    for (layout, text) in layouts {
        match NaiveDate::parse_and_remainder(text, layout) {
            Ok((date, rest)) => {
                if let Err(reason) = check_time_suffix(rest) {
                    trailing.get_or_insert(reason);
                } else if let Err(e) = check_year(raw, date.year()) {
                    impossible.get_or_insert(e);
                } else {
                    return Ok(date);
                }
            }
            Err(e) if e.kind() == ParseErrorKind::OutOfRange => {
                impossible.get_or_insert_with(|| DateError::Impossible {
                    value: raw.to_owned(),
                    reason: format!("no such day, month or year (read as `{layout}`)"),
                });
            }
            Err(_) => {}
        }
    }
    Err(impossible
        .or_else(|| trailing.map(|reason| unrecognized(raw, reason)))
        .unwrap_or_else(|| unrecognized(raw, "no known date layout matches")))
}

/// Year-first layouts (`2021-03-04`), never ambiguous.
const YEAR_FIRST: [&str; 2] = ["%Y-%m-%d", "%Y/%m/%d"];
/// Numeric layouts read day first (`04/03/2021`, `04-03-2021`, `04.03.2021`).
const DAY_FIRST: [&str; 3] = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"];
/// The same read month first (APX's `11/3/2025`).
const MONTH_FIRST: [&str; 3] = ["%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y"];
/// Month names, full or abbreviated (`Mar 4, 2021`, `April 25, 2014`, `04-Mar-2021`,
/// `4 March 2021`).
const NAMED: [&str; 5] = ["%B %d, %Y", "%B %d %Y", "%d-%B-%Y", "%d %B %Y", "%d %B, %Y"];
/// Times of day that may follow a date, before an optional zone (`T12:35:58.842275`,
/// ` 7:10:41 PM`, `T16:27`).
const TIMES: [&str; 6] = [
    "T%H:%M:%S%.f",
    "T%H:%M",
    " %I:%M:%S %p",
    " %I:%M %p",
    " %H:%M:%S%.f",
    " %H:%M",
];

/// Parses Verra's compact `ddmmyyyy` (the vintage fields of a VCU serial).
pub fn parse_compact_dmy(raw: &str) -> Result<NaiveDate, DateError> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(DateError::Empty);
    }
    if s.len() != 8 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(unrecognized(raw, "expected eight digits `ddmmyyyy`"));
    }
    let date = NaiveDate::parse_from_str(s, "%d%m%Y").map_err(|_| DateError::Impossible {
        value: raw.to_owned(),
        reason: "no such day, month or year".to_owned(),
    })?;
    check_year(raw, date.year())?;
    Ok(date)
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

fn digits_value(b: &[u8]) -> u32 {
    b.iter()
        .fold(0u32, |acc, c| acc * 10 + u32::from(c.wrapping_sub(b'0')))
}

/// Accepts what may follow a date: nothing, or a time of day (one of [`TIMES`]) with an
/// optional zone (`T16:27:31-04:00`, `T00:00:00.000Z`).
fn check_time_suffix(tail: &str) -> Result<(), &'static str> {
    if tail.is_empty() {
        return Ok(());
    }
    let mut fits_a_time = false;
    for layout in TIMES {
        if let Ok((_, zone)) = NaiveTime::parse_and_remainder(tail, layout) {
            fits_a_time = true;
            if check_zone(zone.trim_start()).is_ok() {
                return Ok(());
            }
        }
    }
    Err(if fits_a_time {
        "unexpected text after the time"
    } else {
        "unexpected text after the date"
    })
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
