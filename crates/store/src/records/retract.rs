//! Retracting the credit records a registry no longer publishes: after a sync read every
//! feed of a registry from the start to the end, its current records that the sync did not
//! see are marked retracted. Each gets a new version (the same content, written at the time
//! of the retraction, marked), so it still reads as it was before that time; the totals take
//! it off. A record read again later is written back as a new version (see the writers).

use std::collections::HashSet;

use carbonmesh_model::RegistryId;
use chrono::{DateTime, Utc};

use crate::db::Arg;
use crate::records::columns::{CREDIT_CONTENT, list};
use crate::records::key_hash;
use crate::store::SqlStore;
use crate::totals::{Counted, TotalKey, Totals};
use crate::{Retraction, StoreResult};

/// Above this share of a registry's records, a retraction is refused: a registry that
/// suddenly lists less than half of what it listed is more likely broken than emptied.
const MOST: f64 = 0.5;

pub(crate) async fn retract_unseen(
    store: &SqlStore,
    registry: RegistryId,
    seen: &HashSet<i64>,
    at: DateTime<Utc>,
) -> StoreResult<Retraction> {
    let db = store.db.as_ref();
    let Some(term) = store.terms.lookup_one(db, registry.as_str()).await? else {
        return Ok(Retraction::default());
    };
    let mut unseen = Vec::new();
    let mut current = 0u64;
    store
        .each_row_of(term, "record_key, retracted_at IS NULL", |row| {
            if row.int(3)? == 0 {
                return Ok(());
            }
            current += 1;
            if !seen.contains(&key_hash(registry.as_str(), &row.text(2)?, 0)) {
                unseen.push(row.int(0)?);
            }
            Ok(())
        })
        .await?;
    if unseen.is_empty() {
        return Ok(Retraction::default());
    }
    if unseen.len() as f64 > current as f64 * MOST {
        return Ok(Retraction {
            retracted: 0,
            refused: Some(unseen.len() as u64),
        });
    }

    let content = list("", &CREDIT_CONTENT);
    let supersede = format!(
        "INSERT INTO credit_versions (credit, version, {content}, content_hash, raw_hash, \
         origin, line, written_at, retracted_at) SELECT id, version, {content}, content_hash, \
         raw_hash, origin, line, written_at, retracted_at FROM credits WHERE id = $1"
    );
    let mut tx = db.begin().await?;
    // The retraction's own provenance, with no run (0): an import never takes a retracted
    // row's raw hash for a row it stored (see `raw_hashes_written_by`).
    let origin = tx
        .fetch(
            "INSERT INTO origins (source, fetched_at, run) VALUES ($1, $2, 0) \
             ON CONFLICT (source, fetched_at, run) DO UPDATE SET run = excluded.run RETURNING id",
            vec![
                format!("retracted: {registry} no longer lists it")
                    .as_str()
                    .into(),
                Arg::Instant(Some(at)),
            ],
        )
        .await?;
    let origin = origin
        .first()
        .map(|r| r.int(0))
        .transpose()?
        .unwrap_or_default();
    let mut totals = Totals::default();
    let mut retracted = 0;
    for id in unseen {
        // Read again inside the transaction: a write may have brought it back meanwhile.
        let rows = tx
            .fetch(
                "SELECT registry, project, vintage, kind, status, quantity, quantity_text, \
                 event_day FROM credits WHERE id = $1 AND retracted_at IS NULL",
                vec![id.into()],
            )
            .await?;
        let Some(row) = rows.first() else { continue };
        totals.count(
            &Counted {
                key: TotalKey {
                    registry: row.int(0)?,
                    project: row.int(1)?,
                    vintage: row.opt_int(2)?.unwrap_or(0),
                    kind: row.int(3)?,
                    status: row.int(4)?,
                },
                quantity: row.opt_int(5)?,
                quantity_text: row.opt_text(6)?.and_then(|t| t.parse().ok()),
                event_day: row.opt_day(7)?,
            },
            -1,
        );
        tx.execute(&supersede, vec![id.into()]).await?;
        tx.execute(
            "UPDATE credits SET version = version + 1, written_at = $1, retracted_at = $1, \
             origin = $2 WHERE id = $3",
            vec![Arg::Instant(Some(at)), origin.into(), id.into()],
        )
        .await?;
        retracted += 1;
    }
    crate::totals::apply(tx.as_mut(), &totals).await?;
    tx.commit().await?;
    Ok(Retraction {
        retracted,
        refused: None,
    })
}
