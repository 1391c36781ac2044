//! Reading records back from their columns: the select lists, and the decoding of a row into
//! the record, its version and its provenance.

use carbonmesh_model::{
    CreditRecord, Normalized, Period, Project, ProjectStatus, Provenance, SerialRange,
    TransactionType, UnitStatus,
};

use crate::StoreResult;
use crate::db::{Db, Row};
use crate::records::columns::{CREDIT_CONTENT, PROJECT_CONTENT, list};
use crate::records::encode::{
    HAS_PERIOD, ProjectExtra, SERIAL_IS_KEY, hash_text, join_source, quantity_from, registry,
    registry_project_id,
};
use crate::terms::Terms;
use crate::{StoreError, db::Val};

/// Columns of a credit row: `c.id, c.registry, c.record_key`, the content and version of
/// `content` (the `credits` row `c` or a `credit_versions` row), and with `provenance` its
/// hashes, origin (`o`, joined by the caller), line and time written.
pub(crate) fn credit_select(content: &str, provenance: bool) -> String {
    let mut s = format!(
        "c.id, c.registry, c.record_key, {}, {content}.version",
        list(content, &CREDIT_CONTENT)
    );
    if provenance {
        s.push_str(&provenance_select(content));
    }
    s
}

/// Columns of a project row: `p.id, p.registry, p.registry_project_id`, then as
/// [`credit_select`].
pub(crate) fn project_select(content: &str, provenance: bool) -> String {
    let mut s = format!(
        "p.id, p.registry, p.registry_project_id, {}, {content}.version",
        list(content, &PROJECT_CONTENT)
    );
    if provenance {
        s.push_str(&provenance_select(content));
    }
    s
}

fn provenance_select(t: &str) -> String {
    format!(
        ", {t}.content_hash, {t}.raw_hash, o.source, o.fetched_at, o.run, {t}.line, \
         {t}.written_at"
    )
}

/// Where the version column is in a credit row (the provenance follows it).
pub(crate) const CREDIT_VERSION: usize = 3 + CREDIT_CONTENT.len();
/// Where the version column is in a project row.
pub(crate) const PROJECT_VERSION: usize = 3 + PROJECT_CONTENT.len();

/// Term columns of a credit row.
const CREDIT_TERMS: [usize; 10] = [1, 3, 4, 5, 9, 16, 17, 18, 19, 20];
/// Term columns of a project row.
const PROJECT_TERMS: [usize; 3] = [1, 11, 12];

/// Loads the terms every row needs into the cache.
pub(crate) async fn load_terms(
    db: &dyn Db,
    terms: &Terms,
    rows: &[Row],
    columns: &[usize],
) -> StoreResult<()> {
    let ids = rows.iter().flat_map(|row| {
        columns.iter().filter_map(move |&i| match row.0.get(i) {
            Some(Val::Int(id)) => Some(*id),
            _ => None,
        })
    });
    terms.load_ids(db, ids.collect::<Vec<_>>()).await
}

/// Decodes credit rows (of [`credit_select`]), loading their terms first.
pub(crate) async fn credits(
    db: &dyn Db,
    terms: &Terms,
    rows: &mut [Row],
) -> StoreResult<Vec<CreditRecord>> {
    load_terms(db, terms, rows, &CREDIT_TERMS).await?;
    rows.iter_mut().map(|row| credit(row, terms)).collect()
}

/// Decodes project rows (of [`project_select`]), loading their terms first.
pub(crate) async fn projects(
    db: &dyn Db,
    terms: &Terms,
    rows: &mut [Row],
) -> StoreResult<Vec<Project>> {
    load_terms(db, terms, rows, &PROJECT_TERMS).await?;
    rows.iter_mut().map(|row| project(row, terms)).collect()
}

pub(crate) fn enum_value<T>(
    terms: &Terms,
    row: &Row,
    i: usize,
    column: &'static str,
    from_name: fn(&str) -> Option<T>,
) -> StoreResult<T> {
    let name = terms.get(row.int(i)?)?;
    from_name(&name).ok_or_else(|| StoreError::Corrupt {
        column,
        value: name.to_string(),
    })
}

/// One credit row of [`credit_select`], its terms loaded.
pub(crate) fn credit(row: &mut Row, terms: &Terms) -> StoreResult<CreditRecord> {
    let registry_name = terms.get(row.int(1)?)?;
    let record_key = row.take_text(2)?.unwrap_or_default();
    let project = terms.get(row.int(3)?)?;
    let flags = row.int(22)?;
    let serial = if flags & SERIAL_IS_KEY != 0 {
        Some(record_key.clone())
    } else {
        row.take_text(8)?
    };
    let serial_range = match row.opt_int(9)? {
        None => None,
        Some(ns) => Some(SerialRange {
            namespace: terms.get(ns)?.to_string(),
            start: row.int(10)?.max(0) as u64,
            end: row.int(11)?.max(0) as u64,
        }),
    };
    let monitoring_period = (flags & HAS_PERIOD != 0)
        .then(|| -> StoreResult<Period> {
            Ok(Period {
                start: row.opt_day(13)?,
                end: row.opt_day(14)?,
            })
        })
        .transpose()?;
    let quantity_text = row.take_text(7)?;
    Ok(CreditRecord {
        registry: registry(&registry_name)?,
        registry_project_id: registry_project_id(&registry_name, &project).to_owned(),
        record_key,
        transaction_type: Normalized::new(
            enum_value(terms, row, 4, "credits.kind", TransactionType::from_name)?,
            terms.get(row.int(5)?)?.to_string(),
        ),
        quantity: quantity_from(row.opt_int(6)?, quantity_text.as_deref())?,
        serial,
        serial_range,
        vintage: row.opt_int(12)?.map(|v| v as i32),
        monitoring_period,
        event_date: row.opt_day(15)?,
        status: Normalized::new(
            enum_value(terms, row, 16, "credits.status", UnitStatus::from_name)?,
            terms.get(row.int(17)?)?.to_string(),
        ),
        account: opt_term(terms, row, 18)?,
        beneficiary: opt_term(terms, row, 19)?,
        reason: opt_term(terms, row, 20)?,
        note: row.take_text(21)?,
    })
}

/// The text of an optional term column.
fn opt_term(terms: &Terms, row: &Row, i: usize) -> StoreResult<Option<String>> {
    row.opt_int(i)?
        .map(|id| terms.get(id).map(|t| t.to_string()))
        .transpose()
}

/// One project row of [`project_select`], its terms loaded.
pub(crate) fn project(row: &mut Row, terms: &Terms) -> StoreResult<Project> {
    let registry_name = terms.get(row.int(1)?)?;
    let status = match row.opt_int(11)? {
        None => None,
        Some(_) => Some(Normalized::new(
            enum_value(terms, row, 11, "projects.status", ProjectStatus::from_name)?,
            terms.get(row.int(12)?)?.to_string(),
        )),
    };
    let extra: ProjectExtra = match row.take_text(15)? {
        None => ProjectExtra::default(),
        Some(json) => serde_json::from_str(&json)?,
    };
    Ok(Project {
        registry: registry(&registry_name)?,
        registry_project_id: row.take_text(2)?.unwrap_or_default(),
        name: row.take_text(3)?.unwrap_or_default(),
        developer: row.take_text(4)?,
        country: row.take_text(5)?,
        country_raw: row.take_text(6)?,
        sector: row.take_text(7)?,
        category: row.take_text(8)?,
        project_type: row.take_text(9)?,
        methodology: row.take_text(10)?,
        status,
        crediting_periods: extra.crediting_periods,
        locations: extra.locations,
        labels: extra.labels,
        corresponding_adjustment: row.take_text(13)?,
        cross_references: extra.cross_references,
        registry_url: row.take_text(14)?,
    })
}

/// The content hash and provenance after the version column `version_at`, and the time the
/// version was written.
pub(crate) fn provenance(
    row: &Row,
    version_at: usize,
) -> StoreResult<(String, Provenance, chrono::DateTime<chrono::Utc>)> {
    let at = version_at + 1;
    let run = row.int(at + 4)?;
    Ok((
        hash_text(row.bytes(at)?),
        Provenance {
            source: join_source(&row.text(at + 2)?, row.opt_int(at + 5)?),
            raw_hash: hash_text(row.bytes(at + 1)?),
            fetched_at: row.time(at + 3)?,
            run_id: (run != 0).then_some(run),
        },
        row.time(at + 6)?,
    ))
}
