//! Project roll-ups: a project's credit records summed by what happened to their units, with
//! the first and last issuance and retirement days. Read from the totals kept with every
//! write (`credit_totals`, summed over vintages), never from the records.

use std::collections::HashMap;

use carbonmesh_model::{TransactionType, UnitStatus};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::db::Arg;
use crate::queries::LOOKUP_CHUNK;
use crate::records::encode::registry;
use crate::store::SqlStore;
use crate::{ProjectRollup, StoreResult};

/// One total of a project, summed over vintages.
struct Part {
    kind: Option<TransactionType>,
    status: Option<UnitStatus>,
    records: u64,
    quantity: Decimal,
    first_day: Option<NaiveDate>,
    last_day: Option<NaiveDate>,
}

/// Sums of the records of each (transaction type, unit status) of a project.
#[derive(Default)]
struct Parts {
    blocks: bool,
    parts: Vec<Part>,
}

impl Parts {
    fn sum(&self, keep: impl Fn(&Part) -> bool) -> Decimal {
        self.parts
            .iter()
            .filter(|p| keep(p))
            .map(|p| p.quantity)
            .sum()
    }

    fn of_kind(&self, kind: TransactionType) -> Decimal {
        self.sum(|p| p.kind == Some(kind))
    }

    fn span(&self, kind: TransactionType) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let of_kind = || self.parts.iter().filter(move |p| p.kind == Some(kind));
        (
            of_kind().filter_map(|p| p.first_day).min(),
            of_kind().filter_map(|p| p.last_day).max(),
        )
    }

    /// The roll-up: ledger registries' issuances stay as issued and the uses draw on them;
    /// block registries list each block once, in its current state
    /// (see [`carbonmesh_model::RegistryId::reports_blocks`]).
    fn rollup(&self, project_id: String) -> ProjectRollup {
        use TransactionType as T;
        let retired = self.of_kind(T::Retirement);
        let cancelled = self.of_kind(T::Cancellation);
        let converted = self.of_kind(T::Conversion);
        let buffer = self.of_kind(T::Buffer);
        let (issued, remaining) = if self.blocks {
            let issued = self.of_kind(T::Issuance) + retired + cancelled + converted + buffer;
            (issued, self.sum(|p| p.status == Some(UnitStatus::Active)))
        } else {
            let issued = self.of_kind(T::Issuance);
            (issued, issued - retired - cancelled - converted - buffer)
        };
        let (first_issuance, last_issuance) = self.span(T::Issuance);
        let (first_retirement, last_retirement) = self.span(T::Retirement);
        ProjectRollup {
            project_id,
            records: self.parts.iter().map(|p| p.records).sum(),
            issued: issued.normalize(),
            retired: retired.normalize(),
            cancelled: cancelled.normalize(),
            converted: converted.normalize(),
            buffer: buffer.normalize(),
            remaining: remaining.normalize(),
            first_issuance,
            last_issuance,
            first_retirement,
            last_retirement,
        }
    }
}

/// The roll-ups of the projects among `ids` that have credit records, in any order.
pub(crate) async fn rollups(store: &SqlStore, ids: &[String]) -> StoreResult<Vec<ProjectRollup>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        out.extend(rollups_of(store, chunk).await?);
    }
    Ok(out)
}

async fn rollups_of(store: &SqlStore, ids: &[String]) -> StoreResult<Vec<ProjectRollup>> {
    let db = store.db.as_ref();
    let list = crate::db::placeholders(0, ids.len());
    let args: Vec<Arg> = ids.iter().map(Arg::from).collect();
    // Joined on (registry, project), the prefix of the totals' key: one index range a project.
    let sums = format!(
        "SELECT p.key, t.registry, t.kind, t.status, SUM(t.records), SUM(t.quantity), \
         MIN(t.first_day), MAX(t.last_day) \
         FROM projects p JOIN credit_totals t ON t.registry = p.registry AND t.project = p.id \
         WHERE p.key IN ({list}) \
         GROUP BY p.key, t.registry, t.kind, t.status"
    );
    let texts = format!(
        "SELECT p.key, t.kind, t.status, t.quantity_text \
         FROM projects p JOIN credit_totals t ON t.registry = p.registry AND t.project = p.id \
         WHERE p.key IN ({list}) \
         AND t.quantity_text IS NOT NULL"
    );
    let rows = db.fetch(&sums, args.clone()).await?;
    let text_rows = db.fetch(&texts, args).await?;
    let mut terms = Vec::new();
    for row in &rows {
        terms.extend([row.int(1)?, row.int(2)?, row.int(3)?]);
    }
    for row in &text_rows {
        terms.extend([row.int(1)?, row.int(2)?]);
    }
    store.terms.load_ids(db, terms).await?;
    let kind = |id: i64| -> StoreResult<Option<TransactionType>> {
        Ok(TransactionType::from_name(&store.terms.get(id)?))
    };
    let status = |id: i64| -> StoreResult<Option<UnitStatus>> {
        Ok(UnitStatus::from_name(&store.terms.get(id)?))
    };

    let mut projects: HashMap<String, Parts> = HashMap::new();
    for row in &rows {
        let parts = projects.entry(row.text(0)?).or_default();
        parts.blocks = registry(&store.terms.get(row.int(1)?)?)?.reports_blocks();
        let units = row.units_of_kilograms(5)?;
        parts.parts.push(Part {
            kind: kind(row.int(2)?)?,
            status: status(row.int(3)?)?,
            records: row.decimal(4)?.try_into().unwrap_or(0),
            quantity: units,
            first_day: row.opt_day(6)?,
            last_day: row.opt_day(7)?,
        });
    }
    for row in &text_rows {
        // Exact decimal text: a corrupt one is an error naming the value.
        let quantity: Decimal = row.decimal(3)?;
        let parts = projects.entry(row.text(0)?).or_default();
        parts.parts.push(Part {
            kind: kind(row.int(1)?)?,
            status: status(row.int(2)?)?,
            records: 0,
            quantity,
            first_day: None,
            last_day: None,
        });
    }
    Ok(projects
        .into_iter()
        .map(|(id, parts)| parts.rollup(id))
        .collect())
}
