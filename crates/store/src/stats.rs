//! Aggregates of [`Store::statistics`](crate::Store::statistics) and
//! [`Store::registry_counts`](crate::Store::registry_counts), assembled from what each backend
//! sums.

use std::collections::BTreeMap;

use carbonmesh_model::{RegistryId, TransactionType};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::query::{RegistryCounts, StatRow, StatsGroup};
use crate::{StoreError, StoreResult};

/// The records of one group and transaction type, with their exact total quantity.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QuantitySum {
    pub key: Option<String>,
    pub transaction_type: String,
    pub records: u64,
    pub quantity: Decimal,
}

/// Statistics rows in key order, records without a key last (vintages in numeric order).
pub(crate) fn rows(group: StatsGroup, sums: Vec<QuantitySum>) -> Vec<StatRow> {
    let mut rows: BTreeMap<(bool, i64, Option<String>), StatRow> = BTreeMap::new();
    for sum in sums {
        let numeric = match (&sum.key, group) {
            (Some(key), StatsGroup::Vintage) => key.parse().unwrap_or(i64::MAX),
            _ => 0,
        };
        let row = rows
            .entry((sum.key.is_none(), numeric, sum.key.clone()))
            .or_insert_with(|| StatRow {
                key: sum.key.clone(),
                ..StatRow::default()
            });
        row.records += sum.records;
        match TransactionType::from_name(&sum.transaction_type) {
            Some(TransactionType::Issuance) => row.issued += sum.quantity,
            Some(TransactionType::Retirement) => row.retired += sum.quantity,
            Some(TransactionType::Cancellation) => row.cancelled += sum.quantity,
            _ => {}
        }
    }
    rows.into_values()
        .map(|row| StatRow {
            // The same figures print the same on both backends (PostgreSQL keeps the scale of
            // its inputs, the SQLite sums have 18 fraction digits).
            issued: row.issued.normalize(),
            retired: row.retired.normalize(),
            cancelled: row.cancelled.normalize(),
            ..row
        })
        .collect()
}

/// Per-registry counts of projects and credit records from `(registry, count, last write)`
/// rows of each table, by registry id.
pub(crate) fn registry_counts(
    projects: &[(String, i64, Option<DateTime<Utc>>)],
    credits: &[(String, i64, Option<DateTime<Utc>>)],
) -> StoreResult<Vec<RegistryCounts>> {
    let mut out: BTreeMap<&str, RegistryCounts> = BTreeMap::new();
    for (table, rows) in [(0, projects), (1, credits)] {
        for (registry, n, last) in rows {
            let id = registry
                .parse::<RegistryId>()
                .map_err(|_| StoreError::Corrupt {
                    column: "registry",
                    value: registry.clone(),
                })?;
            let entry = out.entry(registry.as_str()).or_insert(RegistryCounts {
                registry: id,
                projects: 0,
                credits: 0,
                last_write: None,
            });
            if table == 0 {
                entry.projects = *n as u64;
            } else {
                entry.credits = *n as u64;
            }
            entry.last_write = entry.last_write.max(*last);
        }
    }
    Ok(out.into_values().collect())
}
