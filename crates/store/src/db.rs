//! The small SQL interface both backends implement: run a statement with bound arguments,
//! read its rows as plain values, and group statements in a write transaction.
//!
//! Everything but the record write paths (see `records`) is written once against it, so the
//! runs, inbox, alerts, keys and read queries are one body of code for SQLite and PostgreSQL.
//! Statements use `$n` placeholders, which both accept. The few places where the dialects
//! differ choose by [`Backend`].

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};

use crate::{Backend, StoreError, StoreResult};

/// A bound argument. Each kind carries its own `None`, so a NULL is bound with the type of its
/// column (PostgreSQL does not cast a typed NULL between kinds).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Int(Option<i64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
    /// A timestamp column of the operational tables (fixed-format RFC 3339 text in SQLite).
    Time(Option<DateTime<Utc>>),
    /// A timestamp column of the record tables (microseconds since the epoch in SQLite).
    Instant(Option<DateTime<Utc>>),
    /// A day column of the record tables (days since 1970-01-01 in SQLite).
    Day(Option<NaiveDate>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(Some(v))
    }
}

impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::Int(v)
    }
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(Some(v.to_owned()))
    }
}

impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(Some(v))
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(Some(v.clone()))
    }
}

impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::Text(v.map(str::to_owned))
    }
}

impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::Text(v)
    }
}

impl From<&Option<String>> for Arg {
    fn from(v: &Option<String>) -> Self {
        Arg::Text(v.clone())
    }
}

impl Arg {
    pub(crate) fn time(at: DateTime<Utc>) -> Self {
        Arg::Time(Some(at))
    }
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
    Time(DateTime<Utc>),
    Day(NaiveDate),
    /// A PostgreSQL `numeric`.
    Decimal(rust_decimal::Decimal),
}

/// One row of a result, its columns in statement order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Row(pub Vec<Val>);

/// Days between 1970-01-01 and `day`: how SQLite stores a day.
pub(crate) fn epoch_days(day: NaiveDate) -> i64 {
    i64::from((day - NaiveDate::default()).num_days() as i32)
}

/// The day `days` after 1970-01-01.
pub(crate) fn from_epoch_days(days: i64) -> Option<NaiveDate> {
    NaiveDate::default().checked_add_signed(chrono::Duration::try_days(days)?)
}

/// Microseconds since the epoch: how SQLite stores an instant.
pub(crate) fn epoch_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// RFC 3339 with microseconds in UTC: sorts as text in SQLite, parses in PostgreSQL.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl Row {
    fn get(&self, i: usize) -> StoreResult<&Val> {
        self.0.get(i).ok_or_else(|| StoreError::Corrupt {
            column: "row",
            value: format!("no column {i}"),
        })
    }

    fn corrupt(&self, i: usize, what: &'static str) -> StoreError {
        StoreError::Corrupt {
            column: what,
            value: format!("{:?}", self.0.get(i)),
        }
    }

    pub(crate) fn is_null(&self, i: usize) -> bool {
        matches!(self.0.get(i), Some(Val::Null) | None)
    }

    pub(crate) fn int(&self, i: usize) -> StoreResult<i64> {
        match self.get(i)? {
            Val::Int(v) => Ok(*v),
            _ => Err(self.corrupt(i, "integer column")),
        }
    }

    pub(crate) fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        if self.is_null(i) {
            return Ok(None);
        }
        self.int(i).map(Some)
    }

    pub(crate) fn text(&self, i: usize) -> StoreResult<String> {
        match self.get(i)? {
            Val::Text(v) => Ok(v.clone()),
            _ => Err(self.corrupt(i, "text column")),
        }
    }

    pub(crate) fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        if self.is_null(i) {
            return Ok(None);
        }
        self.text(i).map(Some)
    }

    /// Moves a text value out of the row (rows are read once).
    pub(crate) fn take_text(&mut self, i: usize) -> StoreResult<Option<String>> {
        match self.0.get_mut(i) {
            Some(v @ Val::Text(_)) => match std::mem::replace(v, Val::Null) {
                Val::Text(t) => Ok(Some(t)),
                _ => unreachable!("matched as text"),
            },
            Some(Val::Null) => Ok(None),
            _ => Err(self.corrupt(i, "text column")),
        }
    }

    pub(crate) fn bytes(&self, i: usize) -> StoreResult<&[u8]> {
        match self.get(i)? {
            Val::Bytes(v) => Ok(v),
            _ => Err(self.corrupt(i, "binary column")),
        }
    }

    /// A timestamp: RFC 3339 text or microseconds (SQLite), or a `timestamptz`.
    pub(crate) fn time(&self, i: usize) -> StoreResult<DateTime<Utc>> {
        match self.get(i)? {
            Val::Time(t) => Ok(*t),
            Val::Int(micros) => {
                DateTime::from_timestamp_micros(*micros).ok_or_else(|| self.corrupt(i, "instant"))
            }
            Val::Text(text) => DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| self.corrupt(i, "timestamp")),
            _ => Err(self.corrupt(i, "timestamp")),
        }
    }

    pub(crate) fn opt_time(&self, i: usize) -> StoreResult<Option<DateTime<Utc>>> {
        if self.is_null(i) {
            return Ok(None);
        }
        self.time(i).map(Some)
    }

    /// A day: days since the epoch (SQLite) or a `date`.
    pub(crate) fn opt_day(&self, i: usize) -> StoreResult<Option<NaiveDate>> {
        match self.get(i)? {
            Val::Null => Ok(None),
            Val::Day(d) => Ok(Some(*d)),
            Val::Int(days) => from_epoch_days(*days)
                .map(Some)
                .ok_or_else(|| self.corrupt(i, "day")),
            _ => Err(self.corrupt(i, "day")),
        }
    }

    /// Units from a sum of kilograms (the store's integer quantities); NULL, a sum over no
    /// quantity, is zero.
    pub(crate) fn units_of_kilograms(&self, i: usize) -> StoreResult<rust_decimal::Decimal> {
        if self.is_null(i) {
            return Ok(rust_decimal::Decimal::ZERO);
        }
        Ok(self.decimal(i)? / rust_decimal::Decimal::from(1000))
    }

    /// An exact decimal: a `numeric`, decimal text, or an integer.
    pub(crate) fn decimal(&self, i: usize) -> StoreResult<rust_decimal::Decimal> {
        match self.get(i)? {
            Val::Decimal(d) => Ok(*d),
            Val::Int(v) => Ok((*v).into()),
            Val::Text(t) => t.parse().map_err(|_| self.corrupt(i, "decimal")),
            _ => Err(self.corrupt(i, "decimal")),
        }
    }
}

/// The pools of one database, read and written with [`Arg`]s and [`Row`]s.
#[async_trait]
pub(crate) trait Db: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// Runs a write statement on its own; returns the rows it changed.
    async fn execute(&self, sql: &str, args: Vec<Arg>) -> StoreResult<u64>;

    /// Runs a write statement on its own and returns its rows (`RETURNING`).
    async fn write_fetch(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>>;

    /// Reads rows.
    async fn fetch(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>>;

    /// Opens a write transaction (SQLite: `BEGIN IMMEDIATE`, so writers queue up front).
    async fn begin(&self) -> StoreResult<Box<dyn Tx>>;

    /// The backend's embedded schema migrations.
    fn migrator(&self) -> &'static sqlx::migrate::Migrator;

    /// Applies the embedded schema migrations.
    async fn run_migrations(&self) -> StoreResult<()>;
}

impl dyn Db {
    pub(crate) async fn fetch_one(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Row> {
        self.fetch(sql, args)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Corrupt {
                column: "statement",
                value: format!("no row from {sql}"),
            })
    }

    pub(crate) async fn fetch_optional(
        &self,
        sql: &str,
        args: Vec<Arg>,
    ) -> StoreResult<Option<Row>> {
        Ok(self.fetch(sql, args).await?.into_iter().next())
    }
}

/// A write transaction; dropped without [`Tx::commit`], it rolls back.
#[async_trait]
pub(crate) trait Tx: Send {
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<u64>;
    async fn fetch(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>>;
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}

/// `(SELECT …)` of the numbers of the JSON array bound at `placeholder` (`$n`): sets larger
/// than a statement takes parameters, as one argument.
pub(crate) fn json_id_set(backend: crate::Backend, placeholder: &str) -> String {
    match backend {
        crate::Backend::Sqlite => format!("(SELECT value FROM json_each({placeholder}))"),
        crate::Backend::Postgres => {
            format!("(SELECT json_array_elements_text({placeholder}::json)::bigint)")
        }
    }
}

/// `$1, $2, …` for `n` values starting after `offset` placeholders.
pub(crate) fn placeholders(offset: usize, n: usize) -> String {
    (offset + 1..=offset + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_instants_round_trip() {
        for day in [
            NaiveDate::from_ymd_opt(1969, 12, 31),
            NaiveDate::from_ymd_opt(2026, 12, 7),
            NaiveDate::from_ymd_opt(1, 1, 1),
        ]
        .into_iter()
        .flatten()
        {
            assert_eq!(from_epoch_days(epoch_days(day)), Some(day));
        }
        let at = DateTime::from_timestamp_micros(1_765_000_123_456_789).expect("instant");
        let row = Row(vec![Val::Int(epoch_micros(at)), Val::Text(timestamp(at))]);
        assert_eq!(row.time(0).expect("micros"), at);
        assert_eq!(row.time(1).expect("text"), at);
    }
}
