//! What the matcher reads to check the store group by group: a lean key of every current
//! credit record, then the records of one group at a time by position, and the projects a run
//! wrote.

use std::collections::HashMap;
use std::sync::Arc;

use carbonmesh_model::{RegistryId, TransactionType, UnitStatus};

use super::read;
use crate::db::{Arg, Row};
use crate::store::SqlStore;
use crate::terms::Terms;
use crate::{CreditPosition, MatchKey, StoreResult};

/// The terms of one walk, remembered without the shared cache's lock: a few hundred distinct
/// numbers stand for a million rows.
#[derive(Default)]
struct LocalTerms {
    texts: HashMap<i64, Arc<str>>,
    kinds: HashMap<i64, TransactionType>,
    registries: HashMap<i64, RegistryId>,
    statuses: HashMap<i64, UnitStatus>,
}

impl LocalTerms {
    fn text(&mut self, terms: &Terms, id: i64) -> StoreResult<Arc<str>> {
        remembered(&mut self.texts, id, || terms.get(id))
    }

    fn registry(&mut self, terms: &Terms, id: i64) -> StoreResult<RegistryId> {
        remembered(&mut self.registries, id, || {
            super::encode::registry(&terms.get(id)?)
        })
    }

    fn kind(&mut self, terms: &Terms, row: &Row) -> StoreResult<TransactionType> {
        remembered(&mut self.kinds, row.int(5)?, || {
            read::enum_value(terms, row, 5, "credits.kind", TransactionType::from_name)
        })
    }

    fn status(&mut self, terms: &Terms, row: &Row) -> StoreResult<UnitStatus> {
        remembered(&mut self.statuses, row.int(6)?, || {
            read::enum_value(terms, row, 6, "credits.status", UnitStatus::from_name)
        })
    }
}

/// The value of term `id` in `memory`, or `decode`d and remembered.
fn remembered<T: Clone>(
    memory: &mut HashMap<i64, T>,
    id: i64,
    decode: impl FnOnce() -> StoreResult<T>,
) -> StoreResult<T> {
    if let Some(value) = memory.get(&id) {
        return Ok(value.clone());
    }
    let value = decode()?;
    memory.insert(id, value.clone());
    Ok(value)
}

/// Positions read by one statement of [`SqlStore::credits_at`].
const POSITIONS_PER_STATEMENT: usize = 10_000;

impl SqlStore {
    pub(crate) async fn match_keys_between(
        &self,
        after: Option<i64>,
        before: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<MatchKey>> {
        // Few origins (one per file or page a run read): their runs are mapped here, not
        // joined per record.
        let runs: HashMap<i64, i64> = self
            .db
            .fetch(
                "SELECT id, run FROM origins WHERE run IS NOT NULL",
                Vec::new(),
            )
            .await?
            .iter()
            .map(|row| Ok((row.int(0)?, row.int(1)?)))
            .collect::<StoreResult<_>>()?;
        // Retracted rows are skipped here, not in SQL, as in `credits_page`.
        let sql = "SELECT id, project, namespace, serial_start, serial_end, kind, status, origin, \
                   retracted_at IS NULL, registry FROM credits WHERE id > $1 AND id < $3 ORDER BY id \
                   LIMIT $2";
        let mut out = Vec::with_capacity((limit as usize).min(100_000));
        let mut after = after.unwrap_or(0);
        let mut local = LocalTerms::default();
        loop {
            let want = limit as usize - out.len();
            let rows = self
                .db
                .fetch(
                    sql,
                    vec![
                        after.into(),
                        (want as i64).into(),
                        before.unwrap_or(i64::MAX).into(),
                    ],
                )
                .await?;
            read::load_terms(self.db.as_ref(), &self.terms, &rows, &[1, 2, 5, 6, 9]).await?;
            for row in &rows {
                after = row.int(0)?;
                if row.int(8)? == 0 {
                    continue;
                }
                let range = match row.opt_int(2)? {
                    None => None,
                    Some(ns) => Some((
                        local.text(&self.terms, ns)?,
                        row.int(3)?.max(0) as u64,
                        row.int(4)?.max(0) as u64,
                    )),
                };
                out.push(MatchKey {
                    position: after,
                    registry: local.registry(&self.terms, row.int(9)?)?,
                    project: local.text(&self.terms, row.int(1)?)?,
                    range,
                    kind: local.kind(&self.terms, row)?,
                    status: local.status(&self.terms, row)?,
                    run: runs.get(&row.int(7)?).copied(),
                });
            }
            if rows.len() < want || out.len() == limit as usize {
                return Ok(out);
            }
        }
    }

    pub(crate) async fn credits_at_positions(
        &self,
        positions: &[i64],
    ) -> StoreResult<Vec<CreditPosition>> {
        let set = crate::db::json_id_set(self.db.backend(), "$1");
        // PostgreSQL looks an array's ids up in the key's index; `IN (SELECT …)` of the same
        // set takes it for a join (14 against 24 ms for 10,000 ids of 300,000).
        let condition = match self.db.backend() {
            crate::Backend::Sqlite => format!("c.id IN {set}"),
            crate::Backend::Postgres => format!("c.id = ANY(ARRAY{set})"),
        };
        let sql = format!(
            "SELECT {}, c.retracted_at IS NULL FROM credits c WHERE {condition} ORDER BY c.id",
            read::credit_select("c", false)
        );
        let current = read::CREDIT_VERSION + 1;
        let mut sorted = positions.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = Vec::with_capacity(sorted.len());
        for chunk in sorted.chunks(POSITIONS_PER_STATEMENT) {
            let json = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".to_owned());
            let (rows, found) = self
                .credit_rows(&sql, vec![Arg::from(json.as_str())])
                .await?;
            for (row, record) in rows.iter().zip(found) {
                if row.int(current)? != 0 {
                    out.push(CreditPosition {
                        position: row.int(0)?,
                        version: row.int(read::CREDIT_VERSION)?,
                        record,
                    });
                }
            }
        }
        Ok(out)
    }

    pub(crate) async fn projects_of_run(&self, run: i64) -> StoreResult<Vec<String>> {
        self.db
            .fetch(
                "SELECT p.key FROM projects p JOIN origins o ON o.id = p.origin WHERE o.run = $1",
                vec![run.into()],
            )
            .await?
            .iter()
            .map(|row| row.text(0))
            .collect()
    }
}
