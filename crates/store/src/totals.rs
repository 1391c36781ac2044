//! Totals of the current credit records, kept with every write so that statistics never
//! scan the records: one row per (registry, project, vintage, transaction type, status) with
//! the number of records and the exact sum of their quantities.
//!
//! A write gathers its changes in [`Totals`] (a new record adds itself, a changed record
//! takes its old values off and adds its new ones) and applies them in its own transaction,
//! so the totals always agree with the records.
//!
//! Each total also keeps the first and last event day of its records, which project roll-ups
//! read. Adding records only widens that span; a total that lost a record has its span read
//! again from its records (a rare path: a record changed or was replaced).

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::StoreResult;
use crate::db::{Arg, Tx};

/// What a total is kept by. Vintage 0 stands for "no vintage" (a key column cannot be NULL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct TotalKey {
    pub registry: i64,
    pub project: i64,
    pub vintage: i64,
    pub kind: i64,
    pub status: i64,
}

/// The change of one total.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Delta {
    pub records: i64,
    /// Kilograms.
    pub quantity: i128,
    /// Quantities kept as text (see `records::encode`).
    pub quantity_text: Decimal,
    /// Earliest event day of the records added.
    pub first_day: Option<NaiveDate>,
    /// Latest event day of the records added.
    pub last_day: Option<NaiveDate>,
    /// Earliest and latest event day of the records taken off: where one was at an end of the
    /// span, the span is read again from the records.
    pub removed_days: Option<(NaiveDate, NaiveDate)>,
}

/// The changes a write makes to the totals.
#[derive(Debug, Default)]
pub(crate) struct Totals {
    pub deltas: HashMap<TotalKey, Delta>,
}

/// A record as the totals see it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Counted {
    pub key: TotalKey,
    pub quantity: Option<i64>,
    pub quantity_text: Option<Decimal>,
    /// Event day.
    pub event_day: Option<NaiveDate>,
}

impl Totals {
    /// Adds a record (`sign` 1) or takes one off (`sign` -1).
    pub(crate) fn count(&mut self, record: &Counted, sign: i64) {
        let d = self.deltas.entry(record.key).or_default();
        d.records += sign;
        if let Some(kg) = record.quantity {
            d.quantity += i128::from(kg) * i128::from(sign);
        }
        if let Some(text) = record.quantity_text {
            d.quantity_text += text * Decimal::from(sign);
        }
        // A record without an event day is in no span: taking it off leaves the span as is.
        let Some(day) = record.event_day else { return };
        if sign < 0 {
            d.removed_days = Some(
                d.removed_days
                    .map_or((day, day), |(f, l)| (f.min(day), l.max(day))),
            );
        } else {
            d.first_day = Some(d.first_day.map_or(day, |f| f.min(day)));
            d.last_day = Some(d.last_day.map_or(day, |l| l.max(day)));
        }
    }
}

pub(crate) const ADD: &str = "INSERT INTO credit_totals (registry, project, vintage, kind, status, \
     records, quantity, first_day, last_day) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
     ON CONFLICT (registry, project, vintage, kind, status) DO UPDATE SET \
     records = credit_totals.records + excluded.records, \
     quantity = credit_totals.quantity + excluded.quantity, \
     first_day = CASE WHEN excluded.first_day IS NULL OR credit_totals.first_day <= excluded.first_day \
         THEN credit_totals.first_day ELSE excluded.first_day END, \
     last_day = CASE WHEN excluded.last_day IS NULL OR credit_totals.last_day >= excluded.last_day \
         THEN credit_totals.last_day ELSE excluded.last_day END";

/// `first_day = …, last_day = …` of the totals row `t`, each end read again from its records:
/// the first record of the total in day order through the project's index (`ORDER BY …
/// LIMIT 1`; `MIN` with these conditions walks all the project's rows on PostgreSQL).
fn span_ends(t: &str) -> String {
    let end = |order: &str| {
        format!(
            "(SELECT c.event_day FROM credits c WHERE c.project = {t}.project \
             AND c.registry = {t}.registry AND COALESCE(c.vintage, 0) = {t}.vintage \
             AND c.kind = {t}.kind AND c.status = {t}.status AND c.retracted_at IS NULL \
             AND c.event_day IS NOT NULL ORDER BY c.event_day {order} LIMIT 1)"
        )
    };
    format!("first_day = {}, last_day = {}", end("ASC"), end("DESC"))
}

/// Reads a total's span of event days again from its records, when a record taken off (the
/// earliest and latest day taken off: `$6`, `$7`) was at one of its ends: otherwise the span
/// stands.
pub(crate) static RESPAN: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE credit_totals SET {} WHERE registry = $1 AND project = $2 AND vintage = $3 \
         AND kind = $4 AND status = $5 AND (first_day >= $6 OR last_day <= $7)",
        span_ends("credit_totals")
    )
});

/// [`RESPAN`] for many totals at once on PostgreSQL, their keys and removed days as arrays.
pub(crate) static RESPAN_MANY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE credit_totals t SET {} \
         FROM unnest($1::int[], $2::int[], $3::int[], $4::int[], $5::int[], $6::date[], \
         $7::date[]) AS k (registry, project, vintage, kind, status, first_removed, \
         last_removed) \
         WHERE t.registry = k.registry AND t.project = k.project AND t.vintage = k.vintage \
         AND t.kind = k.kind AND t.status = k.status \
         AND (t.first_day >= k.first_removed OR t.last_day <= k.last_removed)",
        span_ends("t")
    )
});

pub(crate) const TEXT_OF: &str = "SELECT quantity_text FROM credit_totals WHERE registry = $1 \
     AND project = $2 AND vintage = $3 AND kind = $4 AND status = $5";

/// Placeholders in order of appearance: SQLite numbers `$n` parameters as they appear.
pub(crate) const SET_TEXT: &str = "UPDATE credit_totals SET quantity_text = $1 WHERE registry = $2 \
     AND project = $3 AND vintage = $4 AND kind = $5 AND status = $6";

pub(crate) const DROP_EMPTY: &str = "DELETE FROM credit_totals WHERE records = 0";

impl TotalKey {
    /// Registry, project, vintage, kind and status, in the order of the table's key.
    pub(crate) fn columns(&self) -> [i64; 5] {
        [
            self.registry,
            self.project,
            self.vintage,
            self.kind,
            self.status,
        ]
    }
}

/// The key as the arguments `$1` to `$5` of the statements below.
pub(crate) fn key_args(key: &TotalKey) -> Vec<Arg> {
    key.columns().into_iter().map(Arg::from).collect()
}

/// One statement of applying [`Totals`].
pub(crate) enum Step {
    /// [`ADD`] with its arguments.
    Add(Vec<Arg>),
    /// Read the text sum of a total ([`TEXT_OF`] with `key`), add `delta`, write it back
    /// ([`SET_TEXT`] with [`text_sum`] and `key`).
    AddText { key: Vec<Arg>, delta: Decimal },
    /// [`RESPAN`] with the key and the earliest and latest event day taken off.
    Respan(Vec<Arg>),
    /// [`DROP_EMPTY`].
    DropEmpty,
}

/// The statements that apply `totals`, in one order for every writer (concurrent PostgreSQL
/// writers then lock rows alike).
pub(crate) fn steps(totals: &Totals) -> StoreResult<Vec<Step>> {
    let mut keys: Vec<&TotalKey> = totals.deltas.keys().collect();
    keys.sort_unstable();
    let mut steps = Vec::with_capacity(keys.len());
    let mut emptied = false;
    for key in keys {
        let d = totals.deltas[key];
        if d == Delta::default() {
            continue;
        }
        let mut args = key_args(key);
        args.push(d.records.into());
        args.push(i64::try_from(d.quantity).map_err(|_| overflow())?.into());
        args.push(Arg::Day(d.first_day));
        args.push(Arg::Day(d.last_day));
        steps.push(Step::Add(args));
        if !d.quantity_text.is_zero() {
            steps.push(Step::AddText {
                key: key_args(key),
                delta: d.quantity_text,
            });
        }
        if let Some((first, last)) = d.removed_days {
            let mut args = key_args(key);
            args.push(Arg::Day(Some(first)));
            args.push(Arg::Day(Some(last)));
            steps.push(Step::Respan(args));
        }
        emptied |= d.records < 0;
    }
    if emptied {
        steps.push(Step::DropEmpty);
    }
    Ok(steps)
}

/// The new text sum: the stored one (if any) plus `delta`; NULL when it comes to zero.
pub(crate) fn text_sum(old: Option<String>, delta: Decimal) -> StoreResult<Arg> {
    let old: Decimal = match old {
        Some(text) => text.parse().map_err(|_| crate::StoreError::Corrupt {
            column: "credit_totals.quantity_text",
            value: text,
        })?,
        None => Decimal::ZERO,
    };
    let sum = old + delta;
    Ok(Arg::Text(
        (!sum.is_zero()).then(|| sum.normalize().to_string()),
    ))
}

/// Applies `totals` in a transaction of the generic interface.
pub(crate) async fn apply(tx: &mut dyn Tx, totals: &Totals) -> StoreResult<()> {
    for step in steps(totals)? {
        match step {
            Step::Add(args) => {
                tx.execute(ADD, args).await?;
            }
            Step::AddText { key, delta } => {
                let old = tx.fetch(TEXT_OF, key.clone()).await?;
                let old = old.first().map(|r| r.opt_text(0)).transpose()?.flatten();
                let mut args = vec![text_sum(old, delta)?];
                args.extend(key);
                tx.execute(SET_TEXT, args).await?;
            }
            Step::Respan(key) => {
                tx.execute(&RESPAN, key).await?;
            }
            Step::DropEmpty => {
                tx.execute(DROP_EMPTY, Vec::new()).await?;
            }
        }
    }
    Ok(())
}

fn overflow() -> crate::StoreError {
    crate::StoreError::Corrupt {
        column: "credit_totals.quantity",
        value: "a sum beyond 64 bits of kilograms".into(),
    }
}
