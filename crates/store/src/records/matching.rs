//! What the matcher reads to check the store group by group: a lean key of every current
//! credit record, then the records of one group at a time by position, and the projects a run
//! wrote.

use std::collections::HashMap;

use carbonmesh_model::{TransactionType, UnitStatus};

use super::read;
use crate::db::Arg;
use crate::store::SqlStore;
use crate::{CreditPosition, MatchKey, StoreResult};

/// Positions read by one statement of [`SqlStore::credits_at`].
const POSITIONS_PER_STATEMENT: usize = 10_000;

impl SqlStore {
    pub(crate) async fn match_keys_after(
        &self,
        after: Option<i64>,
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
                   retracted_at IS NULL FROM credits WHERE id > $1 ORDER BY id LIMIT $2";
        let mut out = Vec::with_capacity((limit as usize).min(100_000));
        let mut after = after.unwrap_or(0);
        loop {
            let want = limit as usize - out.len();
            let rows = self
                .db
                .fetch(sql, vec![after.into(), (want as i64).into()])
                .await?;
            read::load_terms(self.db.as_ref(), &self.terms, &rows, &[1, 2, 5, 6]).await?;
            for row in &rows {
                after = row.int(0)?;
                if row.int(8)? == 0 {
                    continue;
                }
                let range = match row.opt_int(2)? {
                    None => None,
                    Some(ns) => Some((
                        self.terms.get(ns)?,
                        row.int(3)?.max(0) as u64,
                        row.int(4)?.max(0) as u64,
                    )),
                };
                out.push(MatchKey {
                    position: after,
                    project: self.terms.get(row.int(1)?)?,
                    range,
                    kind: read::enum_value(
                        &self.terms,
                        row,
                        5,
                        "credits.kind",
                        TransactionType::from_name,
                    )?,
                    status: read::enum_value(
                        &self.terms,
                        row,
                        6,
                        "credits.status",
                        UnitStatus::from_name,
                    )?,
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
        let sql = format!(
            "SELECT {}, c.retracted_at IS NULL FROM credits c WHERE c.id IN {set} ORDER BY c.id",
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
