//! Statistics and per-registry counts, answered from the totals kept with every write
//! (`credit_totals`, `registry_writes`) instead of the records.

use std::collections::BTreeMap;

use carbonmesh_model::TransactionType;
use rust_decimal::Decimal;

use crate::Backend;
use crate::queries::as_of::Sources;
use crate::queries::{Select, credit_conditions, needs_project, reads_records, where_clause};
use crate::records::encode::registry;
use crate::store::SqlStore;
use crate::{
    CreditFilter, RawKind, RegistryCounts, StatRow, StatsGroup, StoreResult, VocabularyCount,
};

/// Issued, retired and cancelled totals by group. From the totals table, joined with the
/// projects when the group or the filter reads them; a filter on event dates (which the totals
/// do not keep) reads the records of those days instead, through the event-date index.
pub(crate) async fn statistics(
    store: &SqlStore,
    group: StatsGroup,
    filter: &CreditFilter,
) -> StoreResult<Vec<StatRow>> {
    let terms = store.credit_terms(filter).await?;
    let from_records = reads_records(filter) || group == StatsGroup::EventMonth;
    let t = if from_records { "c" } else { "t" };
    let key = match group {
        StatsGroup::Registry => format!("{t}.registry"),
        StatsGroup::Vintage => format!("{t}.vintage"),
        StatsGroup::Country => "p.country".to_owned(),
        StatsGroup::Category => "COALESCE(p.category, p.sector)".to_owned(),
        StatsGroup::EventMonth => match store.db.backend() {
            Backend::Sqlite => "strftime('%Y-%m', c.event_day * 86400, 'unixepoch')".to_owned(),
            Backend::Postgres => "to_char(c.event_day, 'YYYY-MM')".to_owned(),
        },
    };
    let join = matches!(group, StatsGroup::Country | StatsGroup::Category) || needs_project(filter);
    let mut q = Select::default();
    let Sources { credits, projects } = Sources::new(&mut q, filter.as_of);
    let mut conds = Vec::new();
    credit_conditions(t, filter, &terms, &mut q, &mut conds);
    let from = match (from_records, join) {
        (false, false) => "FROM credit_totals t".to_owned(),
        (false, true) => "FROM credit_totals t LEFT JOIN projects p ON p.id = t.project".to_owned(),
        (true, false) => format!("FROM {credits} c"),
        (true, true) => format!("FROM {credits} c LEFT JOIN {projects} p ON p.id = c.project"),
    };
    let (records, kg, text) = if from_records {
        ("COUNT(*)", "SUM(c.quantity)", "c.quantity_text")
    } else {
        ("SUM(t.records)", "SUM(t.quantity)", "t.quantity_text")
    };
    let filter_sql = where_clause(&conds);
    let sums = format!(
        "SELECT {key}, {t}.kind, {records}, {kg} {from}{filter_sql} GROUP BY {key}, {t}.kind"
    );
    let texts = format!(
        "SELECT {key}, {t}.kind, {text} {from}{filter_sql}{} {text} IS NOT NULL",
        if conds.is_empty() { " WHERE" } else { " AND" }
    );
    let rows = store.db.fetch(&sums, q.args.clone()).await?;
    let text_rows = store.db.fetch(&texts, q.args).await?;
    // Group keys and transaction types are terms for registries and kinds.
    let mut ids: Vec<i64> = Vec::new();
    for row in rows.iter().chain(&text_rows) {
        ids.push(row.int(1)?);
        if group == StatsGroup::Registry {
            ids.push(row.int(0)?);
        }
    }
    store.terms.load_ids(store.db.as_ref(), ids).await?;

    let mut out: BTreeMap<(bool, i64, Option<String>), StatRow> = BTreeMap::new();
    let mut add = |row: &crate::db::Row, records: u64, quantity: Decimal| -> StoreResult<()> {
        let (numeric, key) = match group {
            StatsGroup::Registry => {
                let name = store.terms.get(row.int(0)?)?;
                (0, Some(registry(&name)?.as_str().to_owned()))
            }
            StatsGroup::Vintage => match row.opt_int(0)?.filter(|v| *v != 0) {
                Some(v) => (v, Some(v.to_string())),
                None => (0, None),
            },
            StatsGroup::Country | StatsGroup::Category | StatsGroup::EventMonth => {
                (0, row.opt_text(0)?)
            }
        };
        let stat = out
            .entry((key.is_none(), numeric, key.clone()))
            .or_insert_with(|| StatRow {
                key,
                ..StatRow::default()
            });
        stat.records += records;
        let kind = store.terms.get(row.int(1)?)?;
        match TransactionType::from_name(&kind) {
            Some(TransactionType::Issuance) => stat.issued += quantity,
            Some(TransactionType::Retirement) => stat.retired += quantity,
            Some(TransactionType::Cancellation) => stat.cancelled += quantity,
            Some(TransactionType::Buffer) => stat.buffer += quantity,
            Some(TransactionType::Conversion) => stat.converted += quantity,
            _ => {}
        }
        Ok(())
    };
    for row in &rows {
        let records: u64 = row.decimal(2)?.try_into().unwrap_or(0);
        let units = row.units_of_kilograms(3)?;
        add(row, records, units)?;
    }
    for row in &text_rows {
        // Exact decimal text: a corrupt one is an error naming the value.
        let quantity: Decimal = row.decimal(2)?;
        add(row, 0, quantity)?;
    }
    Ok(out
        .into_values()
        .map(|row| StatRow {
            issued: row.issued.normalize(),
            retired: row.retired.normalize(),
            cancelled: row.cancelled.normalize(),
            buffer: row.buffer.normalize(),
            converted: row.converted.normalize(),
            ..row
        })
        .collect())
}

/// Projects and credit records per registry, with the last write of either.
pub(crate) async fn registry_counts(store: &SqlStore) -> StoreResult<Vec<RegistryCounts>> {
    let projects = store
        .db
        .fetch(
            "SELECT registry, COUNT(*) FROM projects GROUP BY registry",
            Vec::new(),
        )
        .await?;
    let credits = store
        .db
        .fetch(
            "SELECT registry, SUM(records) FROM credit_totals GROUP BY registry",
            Vec::new(),
        )
        .await?;
    let writes = store
        .db
        .fetch(
            "SELECT registry, MAX(written_at) FROM registry_writes GROUP BY registry",
            Vec::new(),
        )
        .await?;
    let ids: Vec<i64> = projects
        .iter()
        .chain(&credits)
        .chain(&writes)
        .map(|r| r.int(0))
        .collect::<StoreResult<_>>()?;
    store.terms.load_ids(store.db.as_ref(), ids).await?;
    let mut out: BTreeMap<String, RegistryCounts> = BTreeMap::new();
    fn entry<'a>(
        out: &'a mut BTreeMap<String, RegistryCounts>,
        store: &SqlStore,
        id: i64,
    ) -> StoreResult<&'a mut RegistryCounts> {
        let name = store.terms.get(id)?;
        let registry = registry(&name)?;
        Ok(out.entry(name.to_string()).or_insert(RegistryCounts {
            registry,
            projects: 0,
            credits: 0,
            last_write: None,
        }))
    }
    for row in &projects {
        entry(&mut out, store, row.int(0)?)?.projects = row.int(1)?.max(0) as u64;
    }
    for row in &credits {
        let n: u64 = row.decimal(1)?.try_into().unwrap_or(0);
        if n > 0 {
            entry(&mut out, store, row.int(0)?)?.credits = n;
        }
    }
    for row in &writes {
        let at = row.opt_time(1)?;
        let e = entry(&mut out, store, row.int(0)?)?;
        e.last_write = e.last_write.max(at);
    }
    Ok(out.into_values().collect())
}

/// Every raw sector, category and project type of the current projects, counted by registry:
/// what the taxonomy's mappings must cover.
pub(crate) async fn project_vocabulary(store: &SqlStore) -> StoreResult<Vec<VocabularyCount>> {
    let mut out = Vec::new();
    for field in ["sector", "category", "project_type"] {
        // The column names come from this fixed list, never from input.
        let sql = format!(
            "SELECT registry, {field}, COUNT(*) FROM projects \
             WHERE {field} IS NOT NULL GROUP BY registry, {field}"
        );
        let rows = store.db.fetch(&sql, Vec::new()).await?;
        let ids = rows
            .iter()
            .map(|r| r.int(0))
            .collect::<StoreResult<Vec<_>>>()?;
        store.terms.load_ids(store.db.as_ref(), ids).await?;
        for row in &rows {
            let Some(value) = row.opt_text(1)? else {
                continue;
            };
            out.push(VocabularyCount {
                registry: registry(&store.terms.get(row.int(0)?)?)?,
                field,
                value,
                projects: row.int(2)?.max(0) as u64,
            });
        }
    }
    out.sort();
    Ok(out)
}

/// Every combination of registry, raw sector, category and project type of the current
/// projects, with how many projects carry it.
pub(crate) async fn project_kinds(store: &SqlStore) -> StoreResult<Vec<(RawKind, u64)>> {
    let rows = store
        .db
        .fetch(
            "SELECT registry, sector, category, project_type, COUNT(*) FROM projects \
             GROUP BY registry, sector, category, project_type",
            Vec::new(),
        )
        .await?;
    let ids = rows
        .iter()
        .map(|r| r.int(0))
        .collect::<StoreResult<Vec<_>>>()?;
    store.terms.load_ids(store.db.as_ref(), ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let kind = RawKind {
            registry: registry(&store.terms.get(row.int(0)?)?)?,
            sector: row.opt_text(1)?,
            category: row.opt_text(2)?,
            project_type: row.opt_text(3)?,
        };
        out.push((kind, row.int(4)?.max(0) as u64));
    }
    out.sort();
    Ok(out)
}
