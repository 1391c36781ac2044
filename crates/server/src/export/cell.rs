//! Typed cells: one row of an export, written as CSV text or as typed Parquet columns.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;

/// The type of a column, which decides its Parquet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text (Parquet `BYTE_ARRAY`, `STRING`).
    Text,
    /// A signed integer (Parquet `INT64`).
    Int,
    /// An exact decimal (Parquet `DECIMAL(38, 18)`, see [`super::decimal`]).
    Decimal,
    /// A calendar day (Parquet `INT32`, `DATE`).
    Date,
    /// An instant (Parquet `INT64`, `TIMESTAMP(MICROS, UTC)`).
    Timestamp,
}

/// A named, typed column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// Its name, the same in every format.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
}

/// A text column.
pub const fn text(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
    }
}

/// An integer column.
pub const fn int(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Int,
    }
}

/// A decimal column.
pub const fn decimal(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Decimal,
    }
}

/// A date column.
pub const fn date(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Date,
    }
}

/// A timestamp column.
pub const fn timestamp(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Timestamp,
    }
}

/// One value of a row, borrowing the record's text; `Null` where the record has none (an
/// empty CSV field).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// No value.
    Null,
    /// Text.
    Text(Cow<'a, str>),
    /// An integer.
    Int(i64),
    /// An exact decimal.
    Decimal(Decimal),
    /// A calendar day.
    Date(NaiveDate),
    /// An instant.
    Time(DateTime<Utc>),
}

impl<'a> Cell<'a> {
    /// The kind of column this value belongs in; `None` for `Null`, which fits any.
    pub fn kind(&self) -> Option<Kind> {
        match self {
            Cell::Null => None,
            Cell::Text(_) => Some(Kind::Text),
            Cell::Int(_) => Some(Kind::Int),
            Cell::Decimal(_) => Some(Kind::Decimal),
            Cell::Date(_) => Some(Kind::Date),
            Cell::Time(_) => Some(Kind::Timestamp),
        }
    }

    /// Text, borrowed or owned.
    pub fn text(value: impl Into<Cow<'a, str>>) -> Cell<'a> {
        Cell::Text(value.into())
    }

    /// Text, or `Null` when there is none.
    pub fn opt_text(value: Option<impl Into<Cow<'a, str>>>) -> Cell<'a> {
        value.map_or(Cell::Null, |v| Cell::Text(v.into()))
    }

    /// An unsigned count or bound. One beyond 64 signed bits stays exact as text, which the
    /// Parquet writer then refuses rather than truncate (the store keeps bounds as signed
    /// 64-bit integers, so none arrives).
    pub fn uint(value: u64) -> Cell<'a> {
        i64::try_from(value).map_or_else(|_| Cell::text(value.to_string()), Cell::Int)
    }

    /// [`Cell::uint`], or `Null`.
    pub fn opt_uint(value: Option<u64>) -> Cell<'a> {
        value.map_or(Cell::Null, Cell::uint)
    }

    /// An instant, or `Null`.
    pub fn opt_time(value: Option<DateTime<Utc>>) -> Cell<'a> {
        value.map_or(Cell::Null, Cell::Time)
    }

    /// The CSV field: instants in RFC 3339, days as `YYYY-MM-DD`, decimals as written; text
    /// as it is, without a copy.
    pub fn to_csv(&self) -> Cow<'_, str> {
        match self {
            Cell::Null => Cow::Borrowed(""),
            Cell::Text(s) => Cow::Borrowed(s),
            Cell::Int(i) => Cow::Owned(i.to_string()),
            Cell::Decimal(d) => Cow::Owned(d.to_string()),
            Cell::Date(d) => Cow::Owned(d.to_string()),
            Cell::Time(t) => Cow::Owned(t.to_rfc3339()),
        }
    }
}

/// How `generated_at` is written in CSV, JSON lines and the Parquet metadata: RFC 3339 in
/// UTC, whole seconds (exports stamp the second they started).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}
