//! Credit record listings, counts, serial overlap lookups and batch lookups.

use carbonmesh_model::{CreditRecord, MAX_UNIT_NUMBER, RegistryId};

use crate::queries::as_of::Sources;
use crate::queries::cursor::{Cursor, cursor, page, page_limit};
use crate::queries::{
    CreditTerms, LOOKUP_CHUNK, Select, credit_conditions, needs_project, reads_records,
    where_clause,
};
use crate::records::read::credit_select;
use crate::store::SqlStore;
use crate::{Backend, CreditFilter, CreditOrder, Page, StoreResult};

/// `FROM` of a credit listing. A page walks `credits` in the listing's order and stops when it
/// is full; with project conditions, SQLite would rather start from the projects and sort
/// every record of theirs. `CROSS JOIN` keeps `credits` the outer table in SQLite; PostgreSQL
/// plans it as the inner join it is. The project conditions reject a missing project, so an
/// inner join lists the same records as a left join would.
fn listing_from(join_project: bool, sources: &Sources, conditions: &mut Vec<String>) -> String {
    let Sources { credits, projects } = sources;
    if join_project {
        conditions.insert(0, "p.id = c.project".to_owned());
        format!("FROM {credits} c CROSS JOIN {projects} p")
    } else {
        format!("FROM {credits} c")
    }
}

/// A page of credit records: statements to run in turn until the page is full. Newest first
/// after a dated record takes three, each one range of the `credits_event` index: the rest
/// of that date, the earlier dates, then the records without a date.
fn statements(
    filter: &CreditFilter,
    terms: &CreditTerms,
    order: CreditOrder,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<Select>> {
    let statement = |order_by: &str, bind: &dyn Fn(&mut Select) -> Vec<String>| {
        let mut q = Select::default();
        let sources = Sources::new(&mut q, filter.as_of);
        let mut conditions = Vec::new();
        credit_conditions("c", filter, terms, &mut q, &mut conditions);
        conditions.extend(bind(&mut q));
        let limit = q.arg(page_limit(limit));
        q.text = format!(
            "SELECT {} {}{} ORDER BY {order_by} LIMIT {limit}",
            credit_select("c", false),
            listing_from(needs_project(filter), &sources, &mut conditions),
            where_clause(&conditions)
        );
        q
    };
    match order {
        CreditOrder::Key => Ok(vec![match after {
            None => statement("c.id", &|_| Vec::new()),
            Some(after) => {
                let after = Cursor::parse(after, 1)?.int(0)?;
                statement("c.id", &|q| vec![format!("c.id > {}", q.arg(after))])
            }
        }]),
        CreditOrder::EventDateDesc => {
            let order_by = "c.event_day DESC NULLS LAST, c.id";
            let Some(after) = after else {
                return Ok(vec![statement(order_by, &|_| Vec::new())]);
            };
            let c = Cursor::parse(after, 2)?;
            let date = c.opt_text(0)?.map(|d| c.date(&d)).transpose()?;
            let after_id = c.int(1)?;
            let later = |q: &mut Select| format!("c.id > {}", q.arg(after_id));
            Ok(match date {
                Some(date) => vec![
                    statement("c.id", &|q| {
                        let d = q.arg(crate::db::Arg::Day(Some(date)));
                        vec![format!("c.event_day = {d}"), later(q)]
                    }),
                    statement(order_by, &|q| {
                        let d = q.arg(crate::db::Arg::Day(Some(date)));
                        vec![format!("c.event_day < {d}")]
                    }),
                    statement("c.id", &|_| vec!["c.event_day IS NULL".to_owned()]),
                ],
                None => vec![statement("c.id", &|q| {
                    vec!["c.event_day IS NULL".to_owned(), later(q)]
                })],
            })
        }
    }
}

pub(crate) async fn query(
    store: &SqlStore,
    filter: &CreditFilter,
    order: CreditOrder,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Page<CreditRecord>> {
    let terms = store.credit_terms(filter).await?;
    let mut items = Vec::new();
    for select in statements(filter, &terms, order, after, limit)? {
        if items.len() > limit as usize {
            break;
        }
        let (rows, records) = store.credit_rows(&select.text, select.args).await?;
        for (row, record) in rows.iter().zip(records) {
            let cursor = match order {
                CreditOrder::Key => cursor(&[row.int(0)?.into()]),
                CreditOrder::EventDateDesc => cursor(&[
                    record.event_date.map(|d| d.to_string()).into(),
                    row.int(0)?.into(),
                ]),
            };
            items.push((cursor, record));
        }
    }
    Ok(page(items, limit))
}

/// Counts from the totals, unless the filter reads event dates (which they do not keep) or
/// a past moment.
pub(crate) async fn count(store: &SqlStore, filter: &CreditFilter) -> StoreResult<u64> {
    let terms = store.credit_terms(filter).await?;
    let mut q = Select::default();
    let mut conditions = Vec::new();
    let join = if needs_project(filter) {
        " LEFT JOIN projects p ON p.id = t.project"
    } else {
        ""
    };
    q.text = if reads_records(filter) {
        let Sources { credits, projects } = Sources::new(&mut q, filter.as_of);
        credit_conditions("c", filter, &terms, &mut q, &mut conditions);
        let join = if needs_project(filter) {
            format!(" LEFT JOIN {projects} p ON p.id = c.project")
        } else {
            String::new()
        };
        format!(
            "SELECT COUNT(*) FROM {credits} c{join}{}",
            where_clause(&conditions)
        )
    } else {
        credit_conditions("t", filter, &terms, &mut q, &mut conditions);
        format!(
            "SELECT COALESCE(SUM(t.records), 0) FROM credit_totals t{join}{}",
            where_clause(&conditions)
        )
    };
    let row = store.db.fetch_one(&q.text, q.args).await?;
    Ok(row.decimal(0)?.try_into().unwrap_or(0))
}

/// Length buckets of serial blocks: bucket `b` holds blocks whose `end - start` is below `4^b`
/// (and at least `4^(b-1)`); the last bucket holds the rest (see `records::encode`).
const SERIAL_BUCKETS: u32 = 33;

/// The largest `end - start` of a block in bucket `b`.
fn bucket_max_span(b: u32) -> i64 {
    if b >= 32 {
        i64::MAX
    } else {
        (1i64 << (2 * b)) - 1
    }
}

/// Credit records whose serial range in a namespace overlaps `start..=end`: one index range
/// per length bucket, each reading only blocks that start late enough to reach `start` for
/// their length. A range query on (namespace, start) alone would have to read every block
/// that starts before the range ends, since any could be long enough to reach it.
///
/// SQLite runs one `UNION ALL` branch per bucket. PostgreSQL planned those branches afresh on
/// every call, so it runs one subquery per bucket of a list instead, planned once; the
/// subquery's own `LIMIT` keeps it a nested loop of index range scans.
/// The serial namespaces of stored records that begin with `prefix`, in order.
pub(crate) async fn namespaces_with_prefix(
    store: &SqlStore,
    prefix: &str,
) -> StoreResult<Vec<String>> {
    // The terms are unique text, so a range on the text reads its index; the next
    // character after the prefix bounds it (`cadt:` to `cadt;`).
    let mut upper = prefix.to_owned();
    let Some(last) = upper.pop() else {
        return Ok(Vec::new());
    };
    upper.push(char::from_u32(last as u32 + 1).unwrap_or(char::MAX));
    let rows = store
        .db
        .fetch(
            "SELECT t.text FROM terms t WHERE t.text >= $1 AND t.text < $2 \
             AND EXISTS (SELECT 1 FROM credits c WHERE c.namespace = t.id) ORDER BY t.text",
            vec![prefix.into(), upper.as_str().into()],
        )
        .await?;
    rows.iter().map(|r| r.text(0)).collect()
}

/// Current credit records whose serial is `serial` as published and names no unit range.
pub(crate) async fn with_unranged_serial(
    store: &SqlStore,
    serial: &str,
    limit: u32,
) -> StoreResult<Vec<CreditRecord>> {
    let mut q = Select::default();
    let serial = q.arg(serial);
    let limit = q.arg(i64::from(limit));
    let columns = credit_select("c", false);
    q.text = format!(
        "SELECT {columns} FROM credits c WHERE c.serial = {serial} AND c.namespace IS NULL \
         AND c.retracted_at IS NULL ORDER BY c.registry, c.record_key LIMIT {limit}"
    );
    Ok(store.credit_rows(&q.text, q.args).await?.1)
}

pub(crate) async fn overlapping(
    store: &SqlStore,
    namespace: &str,
    start: u64,
    end: u64,
    limit: u32,
) -> StoreResult<Vec<CreditRecord>> {
    if start > end || start > MAX_UNIT_NUMBER || limit == 0 {
        return Ok(Vec::new());
    }
    let Some(ns) = store.terms.lookup_one(store.db.as_ref(), namespace).await? else {
        return Ok(Vec::new());
    };
    let end = end.min(MAX_UNIT_NUMBER);
    let mut q = Select::default();
    let ns = q.arg(ns);
    let s = q.arg(start as i64);
    let e = q.arg(end as i64);
    let limit = q.arg(i64::from(limit));
    let columns = credit_select("c", false);
    // start - span never overflows: start >= 0 and span <= i64::MAX.
    q.text = match store.db.backend() {
        Backend::Sqlite => {
            // Each branch reads the index and the row's end; only the ids and starts of the
            // matches are sorted, then their rows read.
            let branches: Vec<String> = (0..SERIAL_BUCKETS)
                .map(|b| {
                    format!(
                        "SELECT c.id, c.serial_start FROM credits c WHERE c.namespace = {ns} \
                         AND c.serial_bucket = {b} AND c.serial_start >= {s} - {span} \
                         AND c.serial_start <= {e} AND c.serial_end >= {s} \
                         AND c.retracted_at IS NULL",
                        span = bucket_max_span(b)
                    )
                })
                .collect();
            format!(
                "SELECT {columns} FROM (SELECT * FROM ({}) ORDER BY serial_start, id \
                 LIMIT {limit}) o CROSS JOIN credits c ON c.id = o.id \
                 ORDER BY o.serial_start, c.registry, c.record_key",
                branches.join(" UNION ALL ")
            )
        }
        Backend::Postgres => {
            let buckets: Vec<String> = (0..SERIAL_BUCKETS)
                .map(|b| format!("({b}, {}::bigint)", bucket_max_span(b)))
                .collect();
            format!(
                "SELECT c.* FROM (VALUES {}) AS b (bucket, span) \
                 CROSS JOIN LATERAL (SELECT {columns} FROM credits c WHERE c.namespace = {ns} \
                 AND c.serial_bucket = b.bucket AND c.serial_start >= {s} - b.span \
                 AND c.serial_start <= {e} AND c.serial_end >= {s} AND c.retracted_at IS NULL \
                 ORDER BY c.serial_start, c.registry, c.record_key LIMIT {limit}) c \
                 ORDER BY c.serial_start, c.registry, c.record_key LIMIT {limit}",
                buckets.join(", ")
            )
        }
    };
    Ok(store.credit_rows(&q.text, q.args).await?.1)
}

/// Current credit records among `keys`, looked up by their first key hash; a key whose slot
/// another key holds (see `records::key_hash`) is looked up on its own.
pub(crate) async fn by_keys(
    store: &SqlStore,
    keys: &[(RegistryId, String)],
) -> StoreResult<Vec<CreditRecord>> {
    use crate::RecordStore as _;
    let mut found = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let mut q = Select::default();
        let mut pairs = Vec::new();
        for (registry, key) in chunk {
            let Some(reg) = store
                .terms
                .lookup_one(store.db.as_ref(), registry.as_str())
                .await?
            else {
                continue;
            };
            let r = q.arg(reg);
            let h = q.arg(crate::records::key_hash(registry.as_str(), key, 0));
            pairs.push(format!("({r}, {h})"));
        }
        if pairs.is_empty() {
            continue;
        }
        q.text = format!(
            "SELECT {}, c.key_hash FROM credits c WHERE (c.registry, c.key_hash) IN (VALUES {})",
            credit_select("c", false),
            pairs.join(", ")
        );
        let (rows, records) = store.credit_rows(&q.text, q.args).await?;
        // The slots that came back, each with the key it holds.
        let mut held: std::collections::HashMap<(RegistryId, i64), CreditRecord> =
            std::collections::HashMap::new();
        for (row, record) in rows.iter().zip(records) {
            let hash = row.int(crate::records::read::CREDIT_VERSION + 1)?;
            held.insert((record.registry, hash), record);
        }
        for (registry, key) in chunk {
            let slot = (
                *registry,
                crate::records::key_hash(registry.as_str(), key, 0),
            );
            match held.remove(&slot) {
                Some(record) if record.record_key == *key => found.push(record),
                // Another key holds the first slot: this one is further on, if stored.
                Some(other) => {
                    held.insert(slot, other);
                    if let Some(record) = store.credit(*registry, key).await? {
                        found.push(record);
                    }
                }
                None => {}
            }
        }
    }
    Ok(found)
}

/// The first `per_project` credit records (in the order first stored) of each project.
pub(crate) async fn of_projects(
    store: &SqlStore,
    project_ids: &[String],
    per_project: u32,
) -> StoreResult<Vec<CreditRecord>> {
    if project_ids.is_empty() || per_project == 0 {
        return Ok(Vec::new());
    }
    let ids = store
        .terms
        .lookup(store.db.as_ref(), project_ids.iter().cloned())
        .await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = Select::default();
    let list = q.list(ids.iter().copied());
    let n = q.arg(i64::from(per_project));
    q.text = format!(
        "SELECT * FROM (SELECT {}, ROW_NUMBER() OVER (PARTITION BY c.project ORDER BY c.id) \
         AS n FROM credits c WHERE c.project IN {list} AND c.retracted_at IS NULL) r WHERE r.n <= {n} \
         ORDER BY r.project, r.id",
        credit_select("c", false)
    );
    Ok(store.credit_rows(&q.text, q.args).await?.1)
}
