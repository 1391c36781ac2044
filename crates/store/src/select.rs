//! Statements of the API's read queries (see [`crate::query`]), built from a filter for either
//! backend, and the cursors of their pages.
//!
//! Values are always bound (`$n` placeholders), never spliced into the text. The few places
//! where the dialects differ (JSON functions, the serial bucket expression) are chosen by
//! [`Backend`]. Text ordering follows the database collation: SQLite compares bytes, and so
//! does PostgreSQL under the `C` collation (`initdb --no-locale`, as the test clusters are
//! made); under another collation the order of text keys follows it, and pages still never
//! skip or repeat a row, since the order and the keyset condition use the same collation.
//! Case-insensitive matches fold ASCII letters alike on both backends; SQLite's `lower()`
//! leaves other letters as they are where PostgreSQL's folds them.

use carbonmesh_model::MAX_UNIT_NUMBER;
use chrono::{DateTime, NaiveDate, Utc};

use crate::query::{
    AlertFilter, CreditFilter, CreditOrder, DateRange, ProjectFilter, ProjectOrder, StatsGroup,
};
use crate::{Backend, StoreError, StoreResult};

/// Ids or keys bound per statement in batch lookups: far below either backend's limit on
/// bound parameters.
pub(crate) const LOOKUP_CHUNK: usize = 500;

/// A bound value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    /// A `DATE` column (ISO text in SQLite).
    Date(NaiveDate),
    /// A timestamp column (fixed-format RFC 3339 text in SQLite).
    Time(DateTime<Utc>),
}

/// A statement and its arguments, `$1` being the first.
#[derive(Debug, Default)]
pub(crate) struct Select {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Select {
    /// Adds an argument; returns its placeholder.
    fn arg(&mut self, arg: Arg) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }

    fn text(&mut self, value: impl Into<String>) -> String {
        self.arg(Arg::Text(value.into()))
    }

    /// `($a, $b, …)` binding each value.
    fn list<S: Into<String>>(&mut self, values: impl IntoIterator<Item = S>) -> String {
        let items: Vec<String> = values.into_iter().map(|v| self.text(v)).collect();
        format!("({})", items.join(", "))
    }
}

/// `WHERE a AND b …`, or nothing.
fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// Lower-cases a value compared with `lower(column)`.
fn folded(value: &str) -> String {
    value.trim().to_lowercase()
}

/// A `LIKE` pattern matching `value` anywhere, with `\` escaping the wildcards.
fn contains_pattern(value: &str) -> String {
    let mut pattern = String::from("%");
    for ch in folded(value).chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

// ---------------------------------------------------------------------------------------------
// Cursors

/// The sort key of a row, as a page cursor: a JSON array of the key values, hex-encoded so it
/// is one opaque token that any transport carries unchanged.
pub(crate) fn cursor(values: &[serde_json::Value]) -> String {
    let json = serde_json::Value::Array(values.to_vec()).to_string();
    let mut out = String::with_capacity(json.len() * 2);
    for byte in json.bytes() {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// A decoded cursor.
#[derive(Debug)]
pub(crate) struct Cursor(Vec<serde_json::Value>);

impl Cursor {
    /// Decodes a cursor of `arity` values made by [`cursor`].
    pub(crate) fn parse(text: &str, arity: usize) -> StoreResult<Self> {
        let invalid = || StoreError::InvalidCursor(text.chars().take(64).collect());
        if !text.len().is_multiple_of(2) || !text.is_ascii() {
            return Err(invalid());
        }
        let bytes = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| invalid())?;
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Array(values)) if values.len() == arity => Ok(Self(values)),
            _ => Err(invalid()),
        }
    }

    fn invalid(&self) -> StoreError {
        StoreError::InvalidCursor(serde_json::Value::Array(self.0.clone()).to_string())
    }

    pub(crate) fn text(&self, i: usize) -> StoreResult<String> {
        self.0[i]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.invalid())
    }

    pub(crate) fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        match &self.0[i] {
            serde_json::Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    pub(crate) fn int(&self, i: usize) -> StoreResult<i64> {
        self.0[i].as_i64().ok_or_else(|| self.invalid())
    }

    fn date(&self, text: &str) -> StoreResult<NaiveDate> {
        text.parse().map_err(|_| self.invalid())
    }

    pub(crate) fn time(&self, i: usize) -> StoreResult<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.text(i)?)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| self.invalid())
    }
}

/// A timestamp in a cursor: the text SQLite stores, which PostgreSQL's microseconds match.
pub(crate) fn time_value(at: DateTime<Utc>) -> serde_json::Value {
    crate::batch::timestamp(at).into()
}

/// A page from rows (each with its cursor) fetched with a limit one above `limit`.
pub(crate) fn page<T>(mut items: Vec<(String, T)>, limit: u32) -> crate::Page<T> {
    let has_next_page = items.len() > limit as usize;
    items.truncate(limit as usize);
    crate::Page {
        items,
        has_next_page,
    }
}

/// The `LIMIT` of a page: one row more than asked, which tells whether another page follows.
fn page_limit(limit: u32) -> i64 {
    i64::from(limit) + 1
}

// ---------------------------------------------------------------------------------------------
// Projects

/// Conditions of a project filter on `projects p`.
fn project_conditions(
    backend: Backend,
    filter: &ProjectFilter,
    q: &mut Select,
    out: &mut Vec<String>,
) {
    if !filter.registries.is_empty() {
        let list = q.list(filter.registries.iter().map(|r| r.as_str()));
        out.push(format!("p.registry IN {list}"));
    }
    if !filter.countries.is_empty() {
        let list = q.list(filter.countries.iter().map(|c| c.trim().to_uppercase()));
        out.push(format!("p.country IN {list}"));
    }
    if !filter.statuses.is_empty() {
        let list = q.list(filter.statuses.iter().map(|s| s.as_str()));
        out.push(format!("p.status IN {list}"));
    }
    project_text_conditions(
        filter.methodology.as_deref(),
        filter.category.as_deref(),
        filter.search.as_deref(),
        q,
        out,
    );
    if let Some(range) = &filter.crediting_period {
        out.push(crediting_period_overlaps(backend, range, q));
    }
}

/// The conditions on a project's methodology, category and name.
fn project_text_conditions(
    methodology: Option<&str>,
    category: Option<&str>,
    search: Option<&str>,
    q: &mut Select,
    out: &mut Vec<String>,
) {
    if let Some(methodology) = methodology {
        let m = q.text(folded(methodology));
        out.push(format!("lower(p.methodology) = {m}"));
    }
    if let Some(category) = category {
        let c = q.text(folded(category));
        out.push(format!(
            "(lower(p.sector) = {c} OR lower(p.category) = {c} OR lower(p.project_type) = {c})"
        ));
    }
    if let Some(search) = search {
        let s = q.text(contains_pattern(search));
        out.push(format!("lower(p.name) LIKE {s} ESCAPE '\\'"));
    }
}

/// A project has a crediting period sharing a day with `range`; an open end of either
/// reaches everything on its side. Periods live in the payload, as ISO dates.
fn crediting_period_overlaps(backend: Backend, range: &DateRange, q: &mut Select) -> String {
    let (periods, start, end) = match backend {
        Backend::Sqlite => (
            "json_each(p.payload, '$.crediting_periods') cp",
            "json_extract(cp.value, '$.start')",
            "json_extract(cp.value, '$.end')",
        ),
        Backend::Postgres => (
            "json_array_elements(p.payload -> 'crediting_periods') cp",
            "(cp ->> 'start')::date",
            "(cp ->> 'end')::date",
        ),
    };
    let mut conditions = vec!["true".to_owned()];
    if let Some(to) = range.to {
        let to = q.arg(Arg::Date(to));
        conditions.push(format!("({start} IS NULL OR {start} <= {to})"));
    }
    if let Some(from) = range.from {
        let from = q.arg(Arg::Date(from));
        conditions.push(format!("({end} IS NULL OR {end} >= {from})"));
    }
    format!(
        "EXISTS (SELECT 1 FROM {periods} WHERE {})",
        conditions.join(" AND ")
    )
}

/// The sort key of a project listing, as SQL and as a cursor value list.
fn project_order_sql(order: ProjectOrder) -> (&'static str, &'static str) {
    match order {
        ProjectOrder::Id => ("p.id", "p.id"),
        ProjectOrder::Name => ("p.name, p.id", "(p.name, p.id)"),
        ProjectOrder::Country => (
            "COALESCE(p.country, ''), p.id",
            "(COALESCE(p.country, ''), p.id)",
        ),
    }
}

/// The cursor of a project in `order`.
pub(crate) fn project_cursor(order: ProjectOrder, project: &carbonmesh_model::Project) -> String {
    let id = project.id();
    match order {
        ProjectOrder::Id => cursor(&[id.into()]),
        ProjectOrder::Name => cursor(&[project.name.clone().into(), id.into()]),
        ProjectOrder::Country => cursor(&[
            project.country.clone().unwrap_or_default().into(),
            id.into(),
        ]),
    }
}

/// A page of projects: `payload`.
pub(crate) fn query_projects(
    backend: Backend,
    filter: &ProjectFilter,
    order: ProjectOrder,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Select> {
    let mut q = Select::default();
    let mut conditions = Vec::new();
    project_conditions(backend, filter, &mut q, &mut conditions);
    let (order_by, key) = project_order_sql(order);
    if let Some(after) = after {
        let condition = match order {
            ProjectOrder::Id => {
                let c = Cursor::parse(after, 1)?;
                format!("p.id > {}", q.text(c.text(0)?))
            }
            ProjectOrder::Name | ProjectOrder::Country => {
                let c = Cursor::parse(after, 2)?;
                let first = q.text(c.text(0)?);
                let id = q.text(c.text(1)?);
                format!("{key} > ({first}, {id})")
            }
        };
        conditions.push(condition);
    }
    let limit = q.arg(Arg::Int(page_limit(limit)));
    q.text = format!(
        "SELECT p.payload FROM projects p{} ORDER BY {order_by} LIMIT {limit}",
        where_clause(&conditions)
    );
    Ok(q)
}

/// The number of projects matching a filter.
pub(crate) fn count_projects(backend: Backend, filter: &ProjectFilter) -> Select {
    let mut q = Select::default();
    let mut conditions = Vec::new();
    project_conditions(backend, filter, &mut q, &mut conditions);
    q.text = format!(
        "SELECT COUNT(*) FROM projects p{}",
        where_clause(&conditions)
    );
    q
}

// ---------------------------------------------------------------------------------------------
// Credit records

/// Whether a credit filter has conditions on the record's project.
fn needs_project(filter: &CreditFilter) -> bool {
    !filter.countries.is_empty()
        || filter.methodology.is_some()
        || filter.category.is_some()
        || filter.search.is_some()
}

/// Conditions of a credit filter on `credit_records c` (joined with `projects p` when
/// [`needs_project`]).
fn credit_conditions(filter: &CreditFilter, q: &mut Select, out: &mut Vec<String>) {
    if !filter.registries.is_empty() {
        let list = q.list(filter.registries.iter().map(|r| r.as_str()));
        out.push(format!("c.registry IN {list}"));
    }
    if let Some(project) = &filter.project_id {
        let p = q.text(project.trim());
        out.push(format!("c.project_id = {p}"));
    }
    if !filter.countries.is_empty() {
        let list = q.list(filter.countries.iter().map(|c| c.trim().to_uppercase()));
        out.push(format!("p.country IN {list}"));
    }
    if let Some(from) = filter.vintage_from {
        let v = q.arg(Arg::Int(i64::from(from)));
        out.push(format!("c.vintage >= {v}"));
    }
    if let Some(to) = filter.vintage_to {
        let v = q.arg(Arg::Int(i64::from(to)));
        out.push(format!("c.vintage <= {v}"));
    }
    if !filter.transaction_types.is_empty() {
        let list = q.list(filter.transaction_types.iter().map(|t| t.as_str()));
        out.push(format!("c.transaction_type IN {list}"));
    }
    if !filter.statuses.is_empty() {
        let list = q.list(filter.statuses.iter().map(|s| s.as_str()));
        out.push(format!("c.status IN {list}"));
    }
    if let Some(range) = &filter.event_date {
        if let Some(from) = range.from {
            let d = q.arg(Arg::Date(from));
            out.push(format!("c.event_date >= {d}"));
        }
        if let Some(to) = range.to {
            let d = q.arg(Arg::Date(to));
            out.push(format!("c.event_date <= {d}"));
        }
    }
    project_text_conditions(
        filter.methodology.as_deref(),
        filter.category.as_deref(),
        filter.search.as_deref(),
        q,
        out,
    );
}

/// `FROM credit_records c`, joined with the project when the filter or the grouping reads it.
fn credits_from(join_project: bool) -> &'static str {
    if join_project {
        "FROM credit_records c LEFT JOIN projects p ON p.id = c.project_id"
    } else {
        "FROM credit_records c"
    }
}

/// `FROM` of a credit listing. A page walks `credit_records` in the listing's order and
/// stops when it is full; with project conditions, SQLite would rather start from the
/// projects (an index on country, say) and sort every record of theirs (0.3 s on 1M records
/// for one country, against 8 ms walking the order). `CROSS JOIN` keeps `credit_records` the
/// outer table in SQLite; PostgreSQL plans it as the inner join it is. The project conditions
/// reject a missing project, so an inner join lists the same records as a left join would.
fn listing_from(join_project: bool, conditions: &mut Vec<String>) -> &'static str {
    if join_project {
        conditions.insert(0, "p.id = c.project_id".to_owned());
        "FROM credit_records c CROSS JOIN projects p"
    } else {
        "FROM credit_records c"
    }
}

/// The column numbering credit records in the order they were first stored: the rowid in
/// SQLite, `seq` in PostgreSQL (see the 0008 migrations). Ties between records of one event
/// date are listed in that order.
fn stored_order(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "c.rowid",
        Backend::Postgres => "c.seq",
    }
}

/// The cursor of a credit record in `order`; `stored` is its [`stored_order`] value.
pub(crate) fn credit_cursor(
    order: CreditOrder,
    record: &carbonmesh_model::CreditRecord,
    stored: i64,
) -> String {
    match order {
        CreditOrder::Key => cursor(&[
            record.registry.as_str().into(),
            record.record_key.clone().into(),
        ]),
        CreditOrder::EventDateDesc => cursor(&[
            record.event_date.map(|d| d.to_string()).into(),
            stored.into(),
        ]),
    }
}

/// A page of credit records: statements selecting `payload` and the [`stored_order`] value,
/// to run in turn until a page is full. Newest first after a dated record takes three, each
/// one range of the `credit_records_event_date` index: the rest of that date, the earlier
/// dates, then the records without a date. One `OR` of the three would make the database read
/// the index from its start (or from the start of the date) and filter, page after page.
pub(crate) fn query_credits(
    backend: Backend,
    filter: &CreditFilter,
    order: CreditOrder,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Vec<Select>> {
    let stored = stored_order(backend);
    // One statement with the filter and `extra` conditions (their arguments bound by `bind`).
    let statement = |order_by: &str, bind: &dyn Fn(&mut Select) -> Vec<String>| {
        let mut q = Select::default();
        let mut conditions = Vec::new();
        credit_conditions(filter, &mut q, &mut conditions);
        conditions.extend(bind(&mut q));
        let limit = q.arg(Arg::Int(page_limit(limit)));
        q.text = format!(
            "SELECT c.payload, {stored} {}{} ORDER BY {order_by} LIMIT {limit}",
            listing_from(needs_project(filter), &mut conditions),
            where_clause(&conditions)
        );
        q
    };
    match order {
        CreditOrder::Key => {
            let order_by = "c.registry, c.record_key";
            Ok(vec![match after {
                None => statement(order_by, &|_| Vec::new()),
                Some(after) => {
                    let c = Cursor::parse(after, 2)?;
                    let (registry, key) = (c.text(0)?, c.text(1)?);
                    statement(order_by, &|q| {
                        let registry = q.text(&registry);
                        let key = q.text(&key);
                        vec![format!("(c.registry, c.record_key) > ({registry}, {key})")]
                    })
                }
            }])
        }
        CreditOrder::EventDateDesc => {
            // The order of the credit_records_event_date index: records without a date last.
            let order_by = format!("c.event_date DESC NULLS LAST, {stored}");
            let Some(after) = after else {
                return Ok(vec![statement(&order_by, &|_| Vec::new())]);
            };
            let c = Cursor::parse(after, 2)?;
            let date = c.opt_text(0)?.map(|d| c.date(&d)).transpose()?;
            let after_stored = c.int(1)?;
            let later = |q: &mut Select| format!("{stored} > {}", q.arg(Arg::Int(after_stored)));
            Ok(match date {
                Some(date) => vec![
                    statement(stored, &|q| {
                        let d = q.arg(Arg::Date(date));
                        vec![format!("c.event_date = {d}"), later(q)]
                    }),
                    statement(&order_by, &|q| {
                        let d = q.arg(Arg::Date(date));
                        vec![format!("c.event_date < {d}")]
                    }),
                    statement(stored, &|_| vec!["c.event_date IS NULL".to_owned()]),
                ],
                None => vec![statement(stored, &|q| {
                    vec!["c.event_date IS NULL".to_owned(), later(q)]
                })],
            })
        }
    }
}

/// The number of credit records matching a filter.
pub(crate) fn count_credits(filter: &CreditFilter) -> Select {
    let mut q = Select::default();
    let mut conditions = Vec::new();
    credit_conditions(filter, &mut q, &mut conditions);
    q.text = format!(
        "SELECT COUNT(*) {}{}",
        credits_from(needs_project(filter)),
        where_clause(&conditions)
    );
    q
}

/// The rows [`crate::Store::statistics`] aggregates: `k` (the group's value as text, or
/// NULL), `t` (the transaction type) and `q` (the quantity) of each matching record. Each
/// backend sums them its own way.
pub(crate) fn statistics_source(group: StatsGroup, filter: &CreditFilter) -> Select {
    let mut q = Select::default();
    let mut conditions = Vec::new();
    credit_conditions(filter, &mut q, &mut conditions);
    let (key, join) = match group {
        // Not the bare column: SQLite would then walk the primary key for the grouping,
        // reading the table in key order instead of scanning it.
        StatsGroup::Registry => ("(c.registry || '')", false),
        StatsGroup::Vintage => ("CAST(c.vintage AS TEXT)", false),
        StatsGroup::Country => ("p.country", true),
        StatsGroup::Category => ("COALESCE(p.category, p.sector)", true),
    };
    q.text = format!(
        "SELECT {key} AS k, c.transaction_type AS t, c.quantity AS q {}{}",
        credits_from(join || needs_project(filter)),
        where_clause(&conditions)
    );
    q
}

/// Length buckets of serial blocks (see the 0005 migration): bucket `b` holds blocks whose
/// `end - start` is below `4^b` (and at least `4^(b-1)`); the last bucket holds the rest.
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
/// their length. `None` when no stored block can overlap (unit numbers above the 63-bit
/// limit).
///
/// SQLite runs one `UNION ALL` branch per bucket. PostgreSQL planned those 33 branches afresh
/// on every call (4 to 10 ms, for under 2 ms of running them), so it runs one subquery per
/// bucket of a list instead, planned once. The subquery's own `LIMIT` keeps it a nested loop
/// of index range scans: joined plainly, PostgreSQL misjudges the range condition and scans
/// the table.
pub(crate) fn credits_overlapping(
    backend: Backend,
    namespace: &str,
    start: u64,
    end: u64,
    limit: u32,
) -> Option<Select> {
    if start > end || start > MAX_UNIT_NUMBER || limit == 0 {
        return None;
    }
    let end = end.min(MAX_UNIT_NUMBER);
    let mut q = Select::default();
    let ns = q.text(namespace);
    let s = q.arg(Arg::Int(start as i64));
    let e = q.arg(Arg::Int(end as i64));
    let limit = q.arg(Arg::Int(i64::from(limit)));
    // start - span never overflows: start >= 0 and span <= i64::MAX.
    q.text = match backend {
        Backend::Sqlite => {
            let branches: Vec<String> = (0..SERIAL_BUCKETS)
                .map(|b| {
                    format!(
                        "SELECT c.payload, c.serial_start, c.registry, c.record_key \
                         FROM credit_records c WHERE c.serial_namespace = {ns} \
                         AND c.serial_bucket = {b} AND c.serial_start >= {s} - {span} \
                         AND c.serial_start <= {e} AND c.serial_end >= {s}",
                        span = bucket_max_span(b)
                    )
                })
                .collect();
            format!(
                "SELECT o.payload FROM ({}) o ORDER BY o.serial_start, o.registry, \
                 o.record_key LIMIT {limit}",
                branches.join(" UNION ALL ")
            )
        }
        Backend::Postgres => {
            let buckets: Vec<String> = (0..SERIAL_BUCKETS)
                .map(|b| format!("({b}, {}::bigint)", bucket_max_span(b)))
                .collect();
            format!(
                "SELECT c.payload FROM (VALUES {}) AS b (bucket, span) \
                 CROSS JOIN LATERAL (SELECT c.payload, c.serial_start, c.registry, \
                 c.record_key FROM credit_records c WHERE c.serial_namespace = {ns} \
                 AND c.serial_bucket = b.bucket AND c.serial_start >= {s} - b.span \
                 AND c.serial_start <= {e} AND c.serial_end >= {s} \
                 ORDER BY c.serial_start, c.registry, c.record_key LIMIT {limit}) c \
                 ORDER BY c.serial_start, c.registry, c.record_key LIMIT {limit}",
                buckets.join(", ")
            )
        }
    };
    Some(q)
}

/// Current projects among `ids`: `payload`.
pub(crate) fn projects_by_ids(ids: &[String]) -> Select {
    let mut q = Select::default();
    let list = q.list(ids.iter().cloned());
    q.text = format!("SELECT payload FROM projects WHERE id IN {list}");
    q
}

/// Current credit records among `keys`: `payload`.
pub(crate) fn credits_by_keys(keys: &[(carbonmesh_model::RegistryId, String)]) -> Select {
    let mut q = Select::default();
    let pairs: Vec<String> = keys
        .iter()
        .map(|(registry, key)| {
            let r = q.text(registry.as_str());
            let k = q.text(key.clone());
            format!("({r}, {k})")
        })
        .collect();
    q.text = format!(
        "SELECT payload FROM credit_records WHERE (registry, record_key) IN (VALUES {})",
        pairs.join(", ")
    );
    q
}

/// The first `per_project` credit records of each project: `payload`.
pub(crate) fn credits_of_projects(project_ids: &[String], per_project: u32) -> Select {
    let mut q = Select::default();
    let list = q.list(project_ids.iter().cloned());
    let n = q.arg(Arg::Int(i64::from(per_project)));
    q.text = format!(
        "SELECT r.payload FROM (SELECT payload, project_id, registry, record_key, \
         ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY registry, record_key) AS n \
         FROM credit_records WHERE project_id IN {list}) r WHERE r.n <= {n} \
         ORDER BY r.project_id, r.registry, r.record_key"
    );
    q
}

// ---------------------------------------------------------------------------------------------
// Alerts

/// The severity rank alerts are listed by, most severe first: the first expression of the
/// `alerts_order` index, written identically so the index serves the order.
const ALERT_RANK: &str = "(CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 \
     WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END)";

/// The rank [`ALERT_RANK`] gives a severity.
pub(crate) fn alert_rank(severity: carbonmesh_model::Severity) -> i64 {
    use carbonmesh_model::Severity;
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    }
}

/// Alert history entries of several alerts.
pub(crate) fn alert_events_of(ids: &[String]) -> Select {
    let mut q = Select::default();
    let list = q.list(ids.iter().cloned());
    q.text = format!(
        "SELECT alert_id, actor, at, from_status, to_status, reason, note FROM alert_events \
         WHERE alert_id IN {list} ORDER BY seq"
    );
    q
}

fn alert_conditions(backend: Backend, filter: &AlertFilter, q: &mut Select, out: &mut Vec<String>) {
    if !filter.statuses.is_empty() {
        let list = q.list(filter.statuses.iter().map(|s| s.as_str()));
        out.push(format!("status IN {list}"));
    }
    if !filter.kinds.is_empty() {
        let list = q.list(filter.kinds.iter().map(|k| k.as_str()));
        out.push(format!("kind IN {list}"));
    }
    if !filter.severities.is_empty() {
        let list = q.list(filter.severities.iter().map(|s| s.as_str()));
        out.push(format!("severity IN {list}"));
    }
    if let Some(assignee) = &filter.assignee {
        let a = q.text(assignee.clone());
        out.push(format!("assignee = {a}"));
    }
    if let Some(registry) = filter.registry {
        // The records an alert names are in its payload (JSON text on both backends).
        let r = q.text(registry.as_str());
        out.push(match backend {
            Backend::Sqlite => format!(
                "EXISTS (SELECT 1 FROM json_each(alerts.payload, '$.records') ar \
                 WHERE json_extract(ar.value, '$.registry') = {r})"
            ),
            Backend::Postgres => format!(
                "EXISTS (SELECT 1 FROM json_array_elements(alerts.payload::json -> 'records') ar \
                 WHERE ar ->> 'registry' = {r})"
            ),
        });
    }
}

/// A page of alerts: `id, status, assignee, payload, last_seen`.
pub(crate) fn query_alerts(
    backend: Backend,
    filter: &AlertFilter,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Select> {
    let mut q = Select::default();
    let mut conditions = Vec::new();
    alert_conditions(backend, filter, &mut q, &mut conditions);
    if let Some(after) = after {
        let c = Cursor::parse(after, 3)?;
        let rank = q.arg(Arg::Int(c.int(0)?));
        let seen = q.arg(Arg::Time(c.time(1)?));
        let id = q.text(c.text(2)?);
        conditions.push(format!(
            "({ALERT_RANK} > {rank} OR ({ALERT_RANK} = {rank} AND (last_seen < {seen} \
             OR (last_seen = {seen} AND id > {id}))))"
        ));
    }
    let limit = q.arg(Arg::Int(page_limit(limit)));
    q.text = format!(
        "SELECT id, status, assignee, payload, last_seen FROM alerts{} \
         ORDER BY {ALERT_RANK}, last_seen DESC, id LIMIT {limit}",
        where_clause(&conditions)
    );
    Ok(q)
}

/// The cursor of an alert row.
pub(crate) fn alert_cursor(
    severity: carbonmesh_model::Severity,
    last_seen: DateTime<Utc>,
    id: &str,
) -> String {
    cursor(&[
        alert_rank(severity).into(),
        time_value(last_seen),
        id.into(),
    ])
}

/// The number of alerts matching a filter.
pub(crate) fn count_alerts(backend: Backend, filter: &AlertFilter) -> Select {
    let mut q = Select::default();
    let mut conditions = Vec::new();
    alert_conditions(backend, filter, &mut q, &mut conditions);
    q.text = format!("SELECT COUNT(*) FROM alerts{}", where_clause(&conditions));
    q
}

// ---------------------------------------------------------------------------------------------
// The change feed, rejected records

/// Version columns of a change, `kind, registry, record_key` first.
const CHANGE_COLUMNS: &str = "version, content_hash, payload, source, raw_hash, fetched_at, \
     run_id";

/// A page of the change feed: superseded versions from `record_versions` and the current
/// rows, in (time written, kind, registry, key, version) order. A version keeps its place in
/// that order when it is superseded (its time becomes `recorded_at`), so a cursor stays valid
/// while records change. Each part is limited on its own before the merge, so a page reads
/// at most three pages of rows.
pub(crate) fn changes(
    since: DateTime<Utc>,
    registry: Option<carbonmesh_model::RegistryId>,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Select> {
    let mut q = Select::default();
    let cursor = after.map(|a| Cursor::parse(a, 5)).transpose()?;
    let lower = match &cursor {
        Some(c) => c.time(0)?.max(since),
        None => since,
    };
    let lower = q.arg(Arg::Time(lower));
    let registry = registry.map(|r| q.text(r.as_str()));
    let after = cursor
        .map(|c| -> StoreResult<_> {
            Ok((
                q.arg(Arg::Time(c.time(0)?)),
                q.text(c.text(1)?),
                q.text(c.text(2)?),
                q.text(c.text(3)?),
                q.arg(Arg::Int(c.int(4)?)),
            ))
        })
        .transpose()?;
    let limit = q.arg(Arg::Int(page_limit(limit)));
    let part = |table: &str, kind: &str, key: &str, time: &str| {
        let mut conditions = vec![format!("{time} >= {lower}")];
        if let Some(r) = &registry {
            conditions.push(format!("registry = {r}"));
        }
        if let Some((t, k, r, rk, v)) = &after {
            conditions.push(format!(
                "({time} > {t} OR ({time} = {t} AND ({kind}, registry, {key}, version) \
                 > ({k}, {r}, {rk}, {v})))"
            ));
        }
        // PostgreSQL refuses a constant in ORDER BY: a table's own kind is one value anyway.
        let kind_order = if kind.starts_with('\'') {
            String::new()
        } else {
            format!("{kind}, ")
        };
        format!(
            "SELECT * FROM (SELECT {kind} AS kind, registry, {key} AS record_key, \
             {CHANGE_COLUMNS}, {time} AS recorded_at FROM {table}{} \
             ORDER BY {time}, {kind_order}registry, {key}, version LIMIT {limit}) {table}_part",
            where_clause(&conditions)
        )
    };
    q.text = format!(
        "SELECT * FROM ({} UNION ALL {} UNION ALL {}) c \
         ORDER BY recorded_at, kind, registry, record_key, version LIMIT {limit}",
        part("record_versions", "kind", "record_key", "recorded_at"),
        part("projects", "'project'", "registry_project_id", "updated_at"),
        part("credit_records", "'credit'", "record_key", "updated_at"),
    );
    Ok(q)
}

/// The cursor of a change.
pub(crate) fn change_cursor(change: &carbonmesh_model::RecordVersion) -> String {
    cursor(&[
        time_value(change.recorded_at),
        change.kind.as_str().into(),
        change.registry.as_str().into(),
        change.record_key.clone().into(),
        change.version.into(),
    ])
}

/// A page of rejected records, newest first.
pub(crate) fn rejected_page(
    connector: Option<&str>,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Select> {
    let mut q = Select::default();
    let mut conditions = Vec::new();
    if let Some(connector) = connector {
        let c = q.text(connector);
        conditions.push(format!("connector = {c}"));
    }
    if let Some(after) = after {
        let c = Cursor::parse(after, 1)?;
        let id = q.arg(Arg::Int(c.int(0)?));
        conditions.push(format!("id < {id}"));
    }
    let limit = q.arg(Arg::Int(page_limit(limit)));
    q.text = format!(
        "SELECT id, connector, source, line, field, reason, raw, run_id, rejected_at \
         FROM rejected_records{} ORDER BY id DESC LIMIT {limit}",
        where_clause(&conditions)
    );
    Ok(q)
}

/// Current records and the last write per registry, of one table.
pub(crate) const REGISTRY_COUNTS: [&str; 2] = [
    "SELECT registry, COUNT(*), MAX(updated_at) FROM projects GROUP BY registry",
    "SELECT registry, COUNT(*), MAX(updated_at) FROM credit_records GROUP BY registry",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_any_text() {
        let text = "a\"b\\c,d\u{e9}\n🌱";
        let c = cursor(&[text.into(), serde_json::Value::Null, 42.into()]);
        assert!(c.bytes().all(|b| b.is_ascii_hexdigit()));
        let parsed = Cursor::parse(&c, 3).expect("parse");
        assert_eq!(parsed.text(0).expect("text"), text);
        assert_eq!(parsed.opt_text(1).expect("null"), None);
        assert_eq!(parsed.int(2).expect("int"), 42);
        assert!(Cursor::parse(&c, 2).is_err());
        assert!(Cursor::parse("zz", 1).is_err());
        assert!(Cursor::parse("abc", 1).is_err());
    }

    #[test]
    fn buckets_cover_every_span() {
        // The bucket of a span is the first whose max span reaches it, as in the migration.
        let bucket = |span: i64| (0..SERIAL_BUCKETS).find(|&b| span <= bucket_max_span(b));
        assert_eq!(bucket(0), Some(0));
        assert_eq!(bucket(3), Some(1));
        assert_eq!(bucket(4), Some(2));
        assert_eq!(bucket(i64::MAX), Some(32));
        let sqlite = include_str!("../migrations/sqlite/0005_query_indexes.sql");
        let postgres = include_str!("../migrations/postgres/0005_query_indexes.sql");
        for b in 0..32 {
            let bound = bucket_max_span(b) + 1;
            assert!(sqlite.contains(&format!("serial_start < {bound} THEN {b}\n")));
            assert!(postgres.contains(&format!("$2 - $1 < {bound} THEN {b}\n")));
        }
    }

    #[test]
    fn alert_rank_matches_the_index_expression() {
        let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        for migration in [
            include_str!("../migrations/sqlite/0005_query_indexes.sql"),
            include_str!("../migrations/postgres/0005_query_indexes.sql"),
        ] {
            assert!(squash(migration).contains(&squash(ALERT_RANK)));
        }
    }
}
