//! The change feed: every version written since a time, current and superseded, in the order
//! (time written, kind, record id, version). A version keeps its place in that order when it
//! is superseded (it moves to the versions table with the same time, record and number), so a
//! cursor stays valid while records change.

use carbonmesh_model::{RecordKind, RegistryId};
use chrono::{DateTime, Utc};

use crate::db::Arg;
use crate::queries::Select;
use crate::queries::cursor::{Cursor, cursor, page, page_limit, time_value};
use crate::records::read::{CREDIT_VERSION, PROJECT_VERSION, credit_select, project_select};
use crate::records::version_of;
use crate::store::SqlStore;
use crate::{Change, Page, StoreResult};

/// The four parts of the feed: kind, the table of the versions, its time, record and version
/// columns, and the select list and joins that read them.
struct Part {
    kind: RecordKind,
    from: &'static str,
    record: &'static str,
    version: &'static str,
    time: &'static str,
    registry: &'static str,
}

const PARTS: [Part; 4] = [
    Part {
        kind: RecordKind::Credit,
        from: "FROM credits c JOIN origins o ON o.id = c.origin",
        record: "c.id",
        version: "c.version",
        time: "c.written_at",
        registry: "c.registry",
    },
    Part {
        kind: RecordKind::Credit,
        from: "FROM credit_versions v JOIN credits c ON c.id = v.credit \
               JOIN origins o ON o.id = v.origin",
        record: "v.credit",
        version: "v.version",
        time: "v.written_at",
        registry: "c.registry",
    },
    Part {
        kind: RecordKind::Project,
        from: "FROM projects p JOIN origins o ON o.id = p.origin",
        record: "p.id",
        version: "p.version",
        time: "p.written_at",
        registry: "p.registry",
    },
    Part {
        kind: RecordKind::Project,
        from: "FROM project_versions v JOIN projects p ON p.id = v.project \
               JOIN origins o ON o.id = v.origin",
        record: "v.project",
        version: "v.version",
        time: "v.written_at",
        registry: "p.registry",
    },
];

/// Where a change is in the feed: time written, kind, record id, version.
type ChangeKey = (DateTime<Utc>, &'static str, i64, i64);

pub(crate) async fn changes(
    store: &SqlStore,
    since: DateTime<Utc>,
    registry: Option<RegistryId>,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Page<Change>> {
    let cursor_at = after
        .map(|a| -> StoreResult<_> {
            let c = Cursor::parse(a, 4)?;
            Ok((c.time(0)?, c.text(1)?, c.int(2)?, c.int(3)?))
        })
        .transpose()?;
    let registry = match registry {
        Some(r) => match store
            .terms
            .lookup_one(store.db.as_ref(), r.as_str())
            .await?
        {
            Some(id) => Some(id),
            None => return Ok(page(Vec::new(), limit)),
        },
        None => None,
    };
    let mut changes: Vec<(ChangeKey, Change)> = Vec::new();
    for part in &PARTS {
        let kind = part.kind.as_str();
        let mut q = Select::default();
        let mut conds = vec![format!(
            "{} >= {}",
            part.time,
            q.arg(Arg::Instant(Some(since)))
        )];
        if let Some(r) = registry {
            conds.push(format!("{} = {}", part.registry, q.arg(r)));
        }
        if let Some((t, k, id, v)) = &cursor_at {
            let time = q.arg(Arg::Instant(Some(*t)));
            conds.push(match kind.cmp(k.as_str()) {
                std::cmp::Ordering::Greater => format!("{} >= {time}", part.time),
                std::cmp::Ordering::Less => format!("{} > {time}", part.time),
                std::cmp::Ordering::Equal => {
                    let id = q.arg(*id);
                    let v = q.arg(*v);
                    format!(
                        "({t} > {time} OR ({t} = {time} AND ({r}, {ver}) > ({id}, {v})))",
                        t = part.time,
                        r = part.record,
                        ver = part.version
                    )
                }
            });
        }
        let limit_arg = q.arg(page_limit(limit));
        let (columns, version_at) = match (part.kind, part.record) {
            (RecordKind::Credit, "c.id") => (credit_select("c", true), CREDIT_VERSION),
            (RecordKind::Credit, _) => (credit_select("v", true), CREDIT_VERSION),
            (RecordKind::Project, "p.id") => (project_select("p", true), PROJECT_VERSION),
            (RecordKind::Project, _) => (project_select("v", true), PROJECT_VERSION),
        };
        q.text = format!(
            "SELECT {columns} {} WHERE {} ORDER BY {}, {}, {} LIMIT {limit_arg}",
            part.from,
            conds.join(" AND "),
            part.time,
            part.record,
            part.version
        );
        match part.kind {
            RecordKind::Credit => {
                let (rows, records) = store.credit_rows(&q.text, q.args).await?;
                for (row, record) in rows.iter().zip(records) {
                    let change = version_of(part.kind, row, version_at, &record, |r| {
                        (r.registry, r.record_key.clone())
                    })?;
                    changes.push((
                        (change.recorded_at, kind, row.int(0)?, change.version),
                        change,
                    ));
                }
            }
            RecordKind::Project => {
                let (rows, records) = store.project_rows(&q.text, q.args).await?;
                for (row, record) in rows.iter().zip(records) {
                    let change = version_of(part.kind, row, version_at, &record, |p| {
                        (p.registry, p.registry_project_id.clone())
                    })?;
                    changes.push((
                        (change.recorded_at, kind, row.int(0)?, change.version),
                        change,
                    ));
                }
            }
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    let items = changes
        .into_iter()
        .map(|((at, kind, id, version), change)| {
            (
                cursor(&[time_value(at), kind.into(), id.into(), version.into()]),
                change,
            )
        })
        .collect();
    Ok(page(items, limit))
}
