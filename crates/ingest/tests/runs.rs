//! Sync runs and imports against a scripted connector and a real SQLite store.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, Page, RawBody, RawRecord, Record, Rejection,
};
use carbonmesh_ingest::{RejectLimit, import_file, sync};
use carbonmesh_model::{
    CreditRecord, Normalized, RegistryId, RunStatus, TransactionType, UnitStatus,
};
use carbonmesh_store::{DatabaseUrl, Store};
use rust_decimal::Decimal;
use serde_json::json;

/// Serves `pages` of one feed; page numbers in `failing` answer with an error instead.
struct Scripted {
    pages: Vec<Vec<serde_json::Value>>,
    failing: Mutex<HashSet<usize>>,
    fetched: Mutex<Vec<usize>>,
    /// Rows normalized so far.
    normalized: std::sync::atomic::AtomicUsize,
}

impl Scripted {
    fn new(pages: Vec<Vec<serde_json::Value>>, failing: &[usize]) -> Self {
        Self {
            pages,
            failing: Mutex::new(failing.iter().copied().collect()),
            fetched: Mutex::new(Vec::new()),
            normalized: Default::default(),
        }
    }

    fn heal(&self) {
        self.failing.lock().expect("lock").clear();
    }
}

fn raw(value: serde_json::Value, line: u64) -> RawRecord {
    RawRecord {
        feed: Feed::Issuances,
        source: "scripted".into(),
        line,
        body: RawBody::Json(value),
    }
}

#[async_trait]
impl Connector for Scripted {
    fn registry(&self) -> RegistryId {
        RegistryId::VERRA
    }
    fn default_schedule(&self) -> &'static str {
        "0 0 3 * * *"
    }
    fn feeds(&self) -> &'static [Feed] {
        &[Feed::Issuances]
    }
    async fn fetch_page(&self, _feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        let index: usize = cursor
            .map_or(Ok(0), str::parse)
            .map_err(|_| FetchError::Malformed {
                url: "scripted".into(),
                reason: "bad cursor".into(),
            })?;
        self.fetched.lock().expect("lock").push(index);
        if self.failing.lock().expect("lock").contains(&index) {
            return Err(FetchError::Status {
                url: format!("scripted?page={index}"),
                status: 503,
                attempts: 5,
            });
        }
        let records = self.pages[index]
            .iter()
            .enumerate()
            .map(|(i, v)| raw(v.clone(), i as u64 + 1))
            .collect();
        let next = (index + 1 < self.pages.len()).then(|| (index + 1).to_string());
        Ok(Page {
            records,
            next,
            ..Page::default()
        })
    }
    fn detect_feed(&self, _file_name: &str, head: &[u8]) -> Option<Feed> {
        head.starts_with(b"[").then_some(Feed::Issuances)
    }
    fn rows_stand_alone(&self, _feed: Feed) -> bool {
        true
    }
    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        let values: Vec<serde_json::Value> =
            serde_json::from_slice(bytes).map_err(|e| FileError::Malformed {
                file: source.into(),
                reason: e.to_string(),
            })?;
        Ok(Page {
            records: values
                .into_iter()
                .enumerate()
                .map(|(i, v)| RawRecord {
                    feed,
                    source: source.into(),
                    line: i as u64 + 1,
                    body: RawBody::Json(v),
                })
                .collect(),
            ..Page::default()
        })
    }
    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        self.normalized
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let key = raw
            .field(&["key"])
            .ok_or_else(|| Rejection::field("key", "missing"))?;
        let quantity = raw.field(&["quantity"]).unwrap_or_default();
        let quantity: Decimal = quantity
            .parse()
            .map_err(|_| Rejection::field("quantity", format!("`{quantity}` is not a number")))?;
        Ok(vec![Record::Credit(CreditRecord {
            registry: RegistryId::VERRA,
            record_key: key,
            registry_project_id: "1507".into(),
            transaction_type: Normalized::new(TransactionType::Issuance, "Issuance"),
            quantity,
            serial: None,
            serial_range: None,
            vintage: Some(2020),
            monitoring_period: None,
            event_date: None,
            status: Normalized::new(UnitStatus::Active, "Active"),
            account: None,
            beneficiary: None,
            reason: None,
            note: None,
        })])
    }
}

fn pages() -> Vec<Vec<serde_json::Value>> {
    (0..4)
        .map(|p| {
            (0..25)
                .map(|i| json!({"key": format!("k{p}-{i}"), "quantity": (p * 100 + i).to_string()}))
                .collect()
        })
        .collect()
}

async fn store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = DatabaseUrl::Sqlite(dir.path().join("ingest.db"));
    let store = carbonmesh_store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    (dir, Arc::from(store))
}

#[tokio::test]
async fn a_failed_page_leaves_the_run_incomplete_and_the_next_run_resumes() {
    let (_dir, store) = store().await;
    let connector = Scripted::new(pages(), &[2]);

    let first = sync(
        store.as_ref(),
        &carbonmesh_matcher::MatchSession::new(),
        &connector,
        "poll",
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(first.status, RunStatus::Incomplete);
    assert_eq!(first.counts.new, 50, "pages 0 and 1 stored");
    assert!(first.errors[0].contains("HTTP 503"), "{:?}", first.errors);
    assert_eq!(store.counts().await.expect("counts").credits, 50);

    connector.heal();
    let second = sync(
        store.as_ref(),
        &carbonmesh_matcher::MatchSession::new(),
        &connector,
        "poll",
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(second.status, RunStatus::Complete);
    assert_eq!(
        second.counts.new, 50,
        "resumed at page 2: pages 2 and 3 stored"
    );
    assert_eq!(
        second.counts.unchanged, 0,
        "pages 0 and 1 were not fetched again"
    );
    assert_eq!(*connector.fetched.lock().expect("lock"), [0, 1, 2, 2, 3]);

    // A complete run leaves no checkpoint: the next run reads the feed from the start and
    // changes nothing.
    let third = sync(
        store.as_ref(),
        &carbonmesh_matcher::MatchSession::new(),
        &connector,
        "poll",
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(third.status, RunStatus::Complete);
    assert_eq!((third.counts.new, third.counts.unchanged), (0, 100));
    let counts = store.counts().await.expect("counts");
    assert_eq!((counts.credits, counts.versions), (100, 100));

    let runs = store.runs(10).await.expect("runs");
    assert_eq!(runs.len(), 3);
    assert_eq!(runs[2].status, RunStatus::Incomplete);
    assert_eq!(runs[2].errors.len(), 1);
}

#[tokio::test]
async fn imports_keep_rejected_rows_and_are_idempotent() {
    let (dir, store) = store().await;
    let connector: Arc<dyn Connector> = Arc::new(Scripted::new(Vec::new(), &[]));
    let file = dir.path().join("issuances.json");
    std::fs::write(
        &file,
        r#"[{"key":"a","quantity":"10"},{"key":"b","quantity":"12x"},{"quantity":"3"},{"key":"c","quantity":"0.5"}]"#,
    )
    .expect("write");

    let counts = import_file(
        store.as_ref(),
        Some(&carbonmesh_matcher::MatchSession::new()),
        connector.clone(),
        &file,
        carbonmesh_ingest::ImportOptions::default(),
    )
    .await
    .expect("import");
    assert_eq!(counts.status, RunStatus::Complete);
    let counts = counts.counts;
    assert_eq!((counts.seen, counts.new, counts.rejected), (4, 2, 2));
    let rejected = store.rejected(10).await.expect("rejected");
    let reasons: Vec<_> = rejected.iter().map(|r| (r.line, r.field.clone())).collect();
    assert!(
        reasons.contains(&(Some(2), Some("quantity".into()))),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&(Some(3), Some("key".into()))),
        "{reasons:?}"
    );
    assert!(
        rejected.iter().any(|r| r.raw.contains("12x")),
        "raw row kept"
    );

    let again = import_file(
        store.as_ref(),
        Some(&carbonmesh_matcher::MatchSession::new()),
        connector.clone(),
        &file,
        carbonmesh_ingest::ImportOptions::default(),
    )
    .await
    .expect("import")
    .counts;
    assert_eq!((again.new, again.changed, again.unchanged), (0, 0, 2));
    assert_eq!(store.counts().await.expect("counts").versions, 2);
    // The same rows rejected again are kept once, each seen twice.
    let rejected = store.rejected(10).await.expect("rejected");
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(rejected.iter().all(|r| r.seen_count == 2), "{rejected:?}");

    // A file whose rows are all rejected: the run says so.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"[{"quantity":"1"},{"key":"z","quantity":"x"}]"#).expect("write");
    let outcome = import_file(
        store.as_ref(),
        None,
        connector.clone(),
        &bad,
        carbonmesh_ingest::ImportOptions::default(),
    )
    .await
    .expect("import");
    assert_eq!(outcome.status, RunStatus::Rejected);
    assert_eq!((outcome.counts.seen, outcome.counts.rejected), (2, 2));
    let run = store
        .runs(10)
        .await
        .expect("runs")
        .into_iter()
        .find(|r| r.id == outcome.run_id)
        .expect("run");
    assert_eq!(run.status, RunStatus::Rejected);
    assert!(
        run.errors[0].contains("2 of 2 rows rejected"),
        "{:?}",
        run.errors
    );
    // Allowed by a limit of 100%.
    let outcome = import_file(
        store.as_ref(),
        None,
        connector.clone(),
        &bad,
        carbonmesh_ingest::ImportOptions {
            feed: None,
            reject_limit: RejectLimit::percent(100.0).expect("limit"),
            ..Default::default()
        },
    )
    .await
    .expect("import");
    assert_eq!(outcome.status, RunStatus::Complete);

    let missing = import_file(
        store.as_ref(),
        Some(&carbonmesh_matcher::MatchSession::new()),
        connector.clone(),
        &dir.path().join("nope.json"),
        carbonmesh_ingest::ImportOptions::default(),
    )
    .await;
    assert!(missing.is_err());
    let unknown = dir.path().join("x.txt");
    std::fs::write(&unknown, "not json").expect("write");
    let error = import_file(
        store.as_ref(),
        Some(&carbonmesh_matcher::MatchSession::new()),
        connector.clone(),
        &unknown,
        carbonmesh_ingest::ImportOptions::default(),
    )
    .await
    .expect_err("unknown kind");
    assert!(error.to_string().contains("--kind"), "{error}");
}

/// A re-import normalizes only the rows it has not stored before: unchanged rows are known by
/// their raw hash; a changed row, a new one and rejected ones are read again, and `reread`
/// reads every row.
#[tokio::test]
async fn a_reimport_normalizes_only_rows_it_has_not_stored() {
    use std::sync::atomic::Ordering;
    let (dir, store) = store().await;
    let scripted = Arc::new(Scripted::new(Vec::new(), &[]));
    let connector: Arc<dyn Connector> = scripted.clone();
    let file = dir.path().join("issuances.json");
    let import = |options: carbonmesh_ingest::ImportOptions| {
        let (store, connector, file) = (store.clone(), connector.clone(), file.clone());
        async move {
            import_file(store.as_ref(), None, connector, &file, options)
                .await
                .expect("import")
                .counts
        }
    };
    let rows = |quantity_of_b: &str| {
        format!(
            r#"[{{"key":"a","quantity":"10"}},{{"key":"b","quantity":"{quantity_of_b}"}},{{"key":"c","quantity":"x"}}]"#
        )
    };
    std::fs::write(&file, rows("12")).expect("write");
    let first = import(Default::default()).await;
    assert_eq!((first.new, first.rejected), (2, 1));
    assert_eq!(scripted.normalized.swap(0, Ordering::Relaxed), 3);

    // b changed, and a new row d: a is not normalized again.
    std::fs::write(
        &file,
        rows("13").replace(']', r#",{"key":"d","quantity":"1"}]"#),
    )
    .expect("write");
    let second = import(Default::default()).await;
    assert_eq!(
        (
            second.seen,
            second.new,
            second.changed,
            second.unchanged,
            second.rejected
        ),
        (4, 1, 1, 1, 1)
    );
    assert_eq!(
        scripted.normalized.swap(0, Ordering::Relaxed),
        3,
        "b, c and d"
    );
    let b = store
        .credit(RegistryId::VERRA, "b")
        .await
        .expect("read")
        .expect("b");
    assert_eq!(b.quantity, Decimal::from(13));

    let again = import(Default::default()).await;
    assert_eq!((again.new, again.changed, again.unchanged), (0, 0, 3));
    assert_eq!(scripted.normalized.swap(0, Ordering::Relaxed), 1, "only c");
    let reread = import(carbonmesh_ingest::ImportOptions {
        reread: true,
        ..Default::default()
    })
    .await;
    assert_eq!((reread.new, reread.changed, reread.unchanged), (0, 0, 3));
    assert_eq!(scripted.normalized.swap(0, Ordering::Relaxed), 4);
}

/// A log sink the tests read back.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The process's log sink: one global subscriber for this test binary (per-thread
/// subscribers race with the other tests' callsites), read back by the test that needs it.
fn global_logs() -> &'static Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        logs
    })
}

/// What an operator reads of a run: the failed page and the run's summary, each under the
/// run's span with its connector and run id.
#[tokio::test]
async fn a_run_logs_its_failures_and_summary_under_its_connector_and_id() {
    let logs = global_logs();
    let (_dir, store) = store().await;
    let connector = Scripted::new(pages(), &[1]);
    // A trigger of its own tells this run's lines from the other tests'.
    let trigger = "logged-poll";
    let outcome = sync(
        store.as_ref(),
        &carbonmesh_matcher::MatchSession::new(),
        &connector,
        trigger,
        |_| {},
    )
    .await
    .expect("sync");
    let text = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("UTF-8");
    let run = format!(
        "run{{connector=\"{}\" run={} trigger=\"{trigger}\"}}",
        connector.registry(),
        outcome.run_id
    );
    let failed = text
        .lines()
        .find(|l| l.contains("fetch failed") && l.contains(&run))
        .unwrap_or_else(|| panic!("no failed fetch under {run} in:\n{text}"));
    assert!(failed.contains("WARN"), "{failed}");
    let summary = text
        .lines()
        .find(|l| l.contains("run finished") && l.contains(&run))
        .unwrap_or_else(|| panic!("no summary under {run} in:\n{text}"));
    assert!(
        summary.contains("status=incomplete") && summary.contains("new=25"),
        "{summary}"
    );
}
