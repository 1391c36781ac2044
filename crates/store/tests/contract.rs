//! The storage contract: every test body runs against SQLite and against PostgreSQL.
//!
//! PostgreSQL tests need `CARBONMESH_TEST_POSTGRES_URL` (an account allowed to create
//! databases); `scripts/test.sh` starts a throwaway cluster and sets it. Without it the
//! PostgreSQL tests fail with that message: they are never skipped silently.

use std::sync::Arc;

use carbonmesh_model::{
    CreditRecord, Normalized, Project, ProjectStatus, Provenance, RecordKind, RegistryId,
    RejectedRecord, RunCounts, RunStatus, SerialRange, TransactionType, UnitStatus,
};
use carbonmesh_store::{DatabaseUrl, Stamped, Store};
use chrono::{Duration, TimeZone, Utc};
use rust_decimal::Decimal;

mod queries;
#[macro_use]
mod support;

use queries::{
    alert_queries_filter_and_order, batch_lookups_skip_missing, changes_since_a_time,
    claims_are_found_by_harmonized_beneficiary, credit_pages_survive_writes_between_pages,
    credit_queries_filter_order_and_page, credit_ties_list_in_stored_order,
    project_queries_filter_order_and_page, project_rollups_follow_their_records,
    project_vocabulary_counts_raw_values, queries_as_of_a_moment_see_that_moment,
    registry_counts_and_rejected_pages, serial_overlap_lookup, statistics_sum_exactly,
    unseen_records_are_retracted_and_come_back,
};

fn provenance(source: &str) -> Provenance {
    Provenance {
        source: source.into(),
        raw_hash: carbonmesh_model::sha256_hex(source.as_bytes()),
        fetched_at: Utc
            .with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
            .single()
            .expect("valid date"),
        run_id: None,
    }
}

fn project(id: &str, name: &str) -> Stamped<Project> {
    let mut p = Project::new(RegistryId::VERRA, id, name);
    p.country = Some("PE".into());
    p.country_raw = Some("Peru".into());
    p.status = Some(Normalized::new(ProjectStatus::Registered, "Registered"));
    Stamped {
        record: p,
        provenance: provenance("projects.csv:2"),
    }
}

fn credit(key: u64, quantity: u64, beneficiary: &str) -> Stamped<CreditRecord> {
    let start = key * 1_000 + 1;
    Stamped {
        record: CreditRecord {
            registry: RegistryId::VERRA,
            record_key: format!("block-{key:08}"),
            registry_project_id: "VCS1507".into(),
            transaction_type: Normalized::new(TransactionType::Retirement, "Retirement"),
            quantity: Decimal::from(quantity),
            serial: Some(format!("serial-{key}")),
            serial_range: Some(SerialRange {
                namespace: "verra".into(),
                start,
                end: start + quantity - 1,
            }),
            vintage: Some(2019),
            monitoring_period: None,
            event_date: chrono::NaiveDate::from_ymd_opt(2021, 3, 4),
            status: Normalized::new(UnitStatus::Retired, "Retired"),
            account: None,
            beneficiary: Some(beneficiary.into()),
            reason: None,
            note: Some("line \"one\"\nline two".into()),
        },
        provenance: provenance(&format!("transactions.csv:{key}")),
    }
}

fn counts(seen: u64, new: u64, changed: u64, unchanged: u64, rejected: u64) -> RunCounts {
    RunCounts {
        seen,
        new,
        changed,
        unchanged,
        rejected,
    }
}

async fn insert_and_read_back(store: Arc<dyn Store>) {
    let projects = vec![
        project("VCS1507", "Madre de Dios"),
        project("VCS985", "Cordillera Azul"),
    ];
    let credits: Vec<_> = (0..3).map(|k| credit(k, 10, "Acme")).collect();
    assert_eq!(
        store.upsert_projects(&projects).await.expect("upsert"),
        counts(2, 2, 0, 0, 0)
    );
    assert_eq!(
        store.upsert_credits(&credits).await.expect("upsert"),
        counts(3, 3, 0, 0, 0)
    );

    let read = store
        .project("verra:VCS1507")
        .await
        .expect("read")
        .expect("present");
    assert_eq!(read, projects[0].record);
    let read = store
        .credit(RegistryId::VERRA, "block-00000001")
        .await
        .expect("read");
    assert_eq!(read.as_ref(), Some(&credits[1].record));
    assert!(store.project("verra:VCS0").await.expect("read").is_none());

    let c = store.counts().await.expect("counts");
    assert_eq!((c.projects, c.credits, c.versions), (2, 3, 5));
    let versions = store
        .versions(RecordKind::Credit, RegistryId::VERRA, "block-00000002")
        .await
        .expect("versions");
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, 1);
    assert_eq!(versions[0].provenance, credits[2].provenance);
    assert_eq!(
        versions[0].payload,
        serde_json::to_value(&credits[2].record).expect("json")
    );
}

async fn reinsert_is_a_no_op(store: Arc<dyn Store>) {
    let credits: Vec<_> = (0..50).map(|k| credit(k, 5, "Acme")).collect();
    store.upsert_credits(&credits).await.expect("first");
    let before = store.counts().await.expect("counts");
    // Provenance differs (a new fetch), content does not: nothing is written.
    let mut again = credits.clone();
    for c in &mut again {
        c.provenance.fetched_at = Utc::now();
    }
    assert_eq!(
        store.upsert_credits(&again).await.expect("second"),
        counts(50, 0, 0, 50, 0)
    );
    assert_eq!(store.counts().await.expect("counts"), before);
}

async fn changed_content_writes_one_new_version(store: Arc<dyn Store>) {
    let original = credit(7, 100, "Acme");
    store
        .upsert_credits(std::slice::from_ref(&original))
        .await
        .expect("first");
    let mut changed = original.clone();
    changed.record.beneficiary = Some("Globex".into());
    changed.provenance.source = "transactions.csv:99".into();
    assert_eq!(
        store
            .upsert_credits(std::slice::from_ref(&changed))
            .await
            .expect("second"),
        counts(1, 0, 1, 0, 0)
    );
    assert_eq!(
        store
            .upsert_credits(std::slice::from_ref(&changed))
            .await
            .expect("third"),
        counts(1, 0, 0, 1, 0)
    );
    let current = store
        .credit(RegistryId::VERRA, "block-00000007")
        .await
        .expect("read");
    assert_eq!(current.as_ref(), Some(&changed.record));
    let history = store
        .versions(RecordKind::Credit, RegistryId::VERRA, "block-00000007")
        .await
        .expect("versions");
    assert_eq!(
        history.iter().map(|v| v.version).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(history[0].payload["beneficiary"], "Acme");
    assert_eq!(history[1].payload["beneficiary"], "Globex");
    assert_eq!(history[1].provenance.source, "transactions.csv:99");
    assert_ne!(history[0].content_hash, history[1].content_hash);
}

async fn a_key_twice_in_one_batch_applies_in_order(store: Arc<dyn Store>) {
    let first = credit(1, 10, "Acme");
    let mut second = first.clone();
    second.record.beneficiary = Some("Initech".into());
    let batch = [first, credit(2, 10, "Acme"), second.clone()];
    assert_eq!(
        store.upsert_credits(&batch).await.expect("upsert"),
        counts(3, 2, 1, 0, 0)
    );
    let current = store
        .credit(RegistryId::VERRA, "block-00000001")
        .await
        .expect("read");
    assert_eq!(current.as_ref(), Some(&second.record));
}

async fn invalid_records_are_kept_and_the_rest_goes_on(store: Arc<dyn Store>) {
    let mut bad = credit(3, 10, "Acme");
    bad.record.record_key = " ".into();
    let mut negative = credit(4, 10, "Acme");
    negative.record.quantity = Decimal::from(-5);
    let batch = [credit(1, 10, "Acme"), bad, negative, credit(2, 10, "Acme")];
    assert_eq!(
        store.upsert_credits(&batch).await.expect("upsert"),
        counts(4, 2, 0, 0, 2)
    );
    let rejected = store.rejected(10).await.expect("rejected");
    assert_eq!(rejected.len(), 2);
    let fields: Vec<_> = rejected.iter().filter_map(|r| r.field.as_deref()).collect();
    assert!(
        fields.contains(&"record_key") && fields.contains(&"quantity"),
        "{fields:?}"
    );
    let negative = rejected
        .iter()
        .find(|r| r.field.as_deref() == Some("quantity"))
        .expect("one");
    assert_eq!(negative.source, "transactions.csv:4");
    assert!(negative.reason.contains("negative"), "{}", negative.reason);
    assert!(negative.raw.contains("block-00000004"), "raw record kept");
    assert_eq!(store.counts().await.expect("counts").rejected, 2);
}

async fn a_batch_of_100k_records(store: Arc<dyn Store>) {
    let credits: Vec<_> = (0..100_000)
        .map(|k| credit(k, 1 + k % 50, "Acme"))
        .collect();
    assert_eq!(
        store.upsert_credits(&credits).await.expect("upsert"),
        counts(100_000, 100_000, 0, 0, 0)
    );
    let c = store.counts().await.expect("counts");
    assert_eq!((c.credits, c.versions), (100_000, 100_000));
    assert_eq!(
        store.upsert_credits(&credits).await.expect("again"),
        counts(100_000, 0, 0, 100_000, 0)
    );
    let last = store
        .credit(RegistryId::VERRA, "block-00099999")
        .await
        .expect("read");
    assert_eq!(last.as_ref(), Some(&credits[99_999].record));
}

/// Several writers (separate connection pools, as separate processes would have) rewrite the
/// same keys at once. Every write must land: no "database is locked", no lost update, and
/// each record's history is the gap-free sequence of its changes.
async fn concurrent_writers_lose_nothing(open: support::Opener) {
    const WRITERS: usize = 4;
    const ROUNDS: usize = 5;
    const KEYS: u64 = 300;
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let store = open().await;
        tasks.push(tokio::spawn(async move {
            let mut total = RunCounts::default();
            for round in 0..ROUNDS {
                let batch: Vec<_> = (0..KEYS)
                    .map(|k| credit(k, 10, &format!("writer {writer} round {round}")))
                    .collect();
                total += store.upsert_credits(&batch).await.expect("no write fails");
            }
            total
        }));
    }
    let mut total = RunCounts::default();
    for task in tasks {
        total += task.await.expect("writer task");
    }
    // Every batch differs from whatever is stored, so every record of every batch is new or
    // changed: nothing was lost.
    assert_eq!(total.seen, WRITERS as u64 * ROUNDS as u64 * KEYS);
    assert_eq!(total.new, KEYS);
    assert_eq!(total.new + total.changed + total.unchanged, total.seen);

    let store = open().await;
    let c = store.counts().await.expect("counts");
    assert_eq!(c.credits, KEYS);
    assert_eq!(c.versions, total.new + total.changed);
    for k in [0, KEYS / 2, KEYS - 1] {
        let key = format!("block-{k:08}");
        let history = store
            .versions(RecordKind::Credit, RegistryId::VERRA, &key)
            .await
            .expect("versions");
        let numbers: Vec<i64> = history.iter().map(|v| v.version).collect();
        let expected: Vec<i64> = (1..=history.len() as i64).collect();
        assert_eq!(numbers, expected, "gap-free history for {key}");
        let current = store
            .credit(RegistryId::VERRA, &key)
            .await
            .expect("read")
            .expect("present");
        let last = history.last().expect("one version at least");
        assert_eq!(serde_json::to_value(&current).expect("json"), last.payload);
    }
}

async fn runs_and_rejections_are_recorded(store: Arc<dyn Store>) {
    let id = store.start_run("verra", "poll").await.expect("start");
    let running = store.runs(10).await.expect("runs");
    assert_eq!(running[0].status, RunStatus::Running);
    assert!(running[0].finished_at.is_none());
    let done = counts(10, 4, 3, 2, 1);
    store
        .finish_run(
            id,
            RunStatus::Incomplete,
            done,
            &["page 3: HTTP 503 after 5 attempts".into()],
        )
        .await
        .expect("finish");
    let second = store
        .start_run("gold-standard", "import")
        .await
        .expect("start");
    assert!(second > id);
    let runs = store.runs(10).await.expect("runs");
    assert_eq!(runs.len(), 2);
    let first = runs.iter().find(|r| r.id == id).expect("first run");
    assert_eq!(first.status, RunStatus::Incomplete);
    assert_eq!(first.counts, done);
    assert_eq!(first.errors, ["page 3: HTTP 503 after 5 attempts"]);
    assert!(first.finished_at.expect("finished") >= first.started_at);

    let rejected = RejectedRecord {
        connector: "car".into(),
        source: "retirements.csv".into(),
        line: Some(17),
        field: Some("Quantity of Offset Credits".into()),
        reason: "`12x` is not a number".into(),
        raw: "CAR-1-US-…,12x,".into(),
        run_id: Some(id),
        rejected_at: Utc::now() - Duration::hours(1),
        last_seen_at: Utc::now() - Duration::hours(1),
        seen_count: 1,
    };
    store
        .insert_rejected(std::slice::from_ref(&rejected))
        .await
        .expect("insert");
    let back = store.rejected(5).await.expect("list");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].line, Some(17));
    assert_eq!(back[0].raw, rejected.raw);
    assert_eq!(back[0].run_id, Some(id));
    assert_eq!(back[0].seen_count, 1);

    // Read again by the next poll, at another line: kept once, the sighting counted.
    let again = RejectedRecord {
        source: "retirements-2.csv".into(),
        line: Some(18),
        rejected_at: Utc::now(),
        last_seen_at: Utc::now(),
        ..rejected.clone()
    };
    store
        .insert_rejected(&[again.clone(), again.clone()])
        .await
        .expect("insert again");
    let back = store.rejected(5).await.expect("list");
    assert_eq!(back.len(), 1, "{back:?}");
    assert_eq!(back[0].seen_count, 3);
    assert_eq!(back[0].line, Some(18));
    assert_eq!(back[0].source, "retirements-2.csv");
    assert_eq!(
        back[0].rejected_at.timestamp_micros(),
        rejected.rejected_at.timestamp_micros()
    );
    assert_eq!(
        back[0].last_seen_at.timestamp_micros(),
        again.last_seen_at.timestamp_micros()
    );
    // Another reason is another rejection.
    store
        .insert_rejected(&[RejectedRecord {
            reason: "quantity missing".into(),
            ..again
        }])
        .await
        .expect("insert other");
    assert_eq!(store.rejected(5).await.expect("list").len(), 2);
}

async fn migrations_run_twice(store: Arc<dyn Store>) {
    store.migrate().await.expect("second migrate is a no-op");
    store.migrate().await.expect("third migrate is a no-op");
    assert_eq!(store.counts().await.expect("counts").credits, 0);
}

async fn checkpoints_are_saved_and_cleared(store: Arc<dyn Store>) {
    assert_eq!(
        store
            .checkpoint("verra", "transactions")
            .await
            .expect("read"),
        None
    );
    store
        .save_checkpoint("verra", "transactions", Some("page=3"))
        .await
        .expect("save");
    store
        .save_checkpoint("verra", "transactions", Some("page=4"))
        .await
        .expect("save");
    store
        .save_checkpoint("verra", "projects", Some("page=1"))
        .await
        .expect("save");
    assert_eq!(
        store
            .checkpoint("verra", "transactions")
            .await
            .expect("read")
            .as_deref(),
        Some("page=4")
    );
    store
        .save_checkpoint("verra", "transactions", None)
        .await
        .expect("clear");
    assert_eq!(
        store
            .checkpoint("verra", "transactions")
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        store
            .checkpoint("verra", "projects")
            .await
            .expect("read")
            .as_deref(),
        Some("page=1")
    );
}

/// Instances racing for the same tick: exactly one wins it; the next tick is a new race.
async fn one_claim_per_schedule_tick(open: support::Opener) {
    let tick = Utc
        .with_ymd_and_hms(2026, 11, 26, 3, 15, 0)
        .single()
        .expect("date");
    let mut tasks = Vec::new();
    for instance in 0..6 {
        let store = open().await;
        tasks.push(tokio::spawn(async move {
            store
                .claim_tick("verra", tick, &format!("instance-{instance}"))
                .await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.expect("task").expect("claim"));
    }
    assert_eq!(wins, 1);
    let store = open().await;
    assert!(
        !store
            .claim_tick("verra", tick, "late")
            .await
            .expect("claim")
    );
    assert!(
        store
            .claim_tick("gold-standard", tick, "late")
            .await
            .expect("claim")
    );
    let next = tick + chrono::Duration::hours(1);
    assert!(
        store
            .claim_tick("verra", next, "late")
            .await
            .expect("claim")
    );
}

async fn pages_walk_every_current_record_once(store: Arc<dyn Store>) {
    let credits: Vec<_> = (0..25).map(|k| credit(k, 3, "Acme")).collect();
    store.upsert_credits(&credits).await.expect("upsert");
    let mut changed = credits[4].clone();
    changed.record.beneficiary = Some("Globex".into());
    store
        .upsert_credits(std::slice::from_ref(&changed))
        .await
        .expect("change");
    let projects: Vec<_> = (0..7).map(|k| project(&format!("VCS{k}"), "P")).collect();
    store.upsert_projects(&projects).await.expect("upsert");

    let mut seen = Vec::new();
    let mut after: Option<i64> = None;
    loop {
        let page = store.credits_page(after, 10).await.expect("page");
        let Some(last) = page.last() else { break };
        after = Some(last.position);
        seen.extend(page);
    }
    assert_eq!(seen.len(), 25);
    // In the order first stored; a changed record keeps its place, at its current version.
    assert_eq!(
        seen[4].record, changed.record,
        "the current version, not the first"
    );
    assert_eq!(seen[4].version, 2);
    assert_eq!(seen[3].version, 1);
    let keys: Vec<_> = seen.iter().map(|c| c.record.record_key.clone()).collect();
    let stored: Vec<_> = credits
        .iter()
        .map(|c| c.record.record_key.clone())
        .collect();
    assert_eq!(keys, stored);
    let positions: Vec<i64> = seen.iter().map(|c| c.position).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));

    let first = store.projects_page(None, 5).await.expect("page");
    let rest = store
        .projects_page(Some(&first[4].1.id()), 5)
        .await
        .expect("page");
    assert_eq!(first[0].0, 1, "versions come with the projects");
    assert_eq!((first.len(), rest.len()), (5, 2));
}

async fn match_keys_and_positions_read_what_the_matcher_groups(store: Arc<dyn Store>) {
    let run = store.start_run("verra", "import").await.expect("run");
    let mut credits: Vec<_> = (0..10).map(|k| credit(k, 3, "Acme")).collect();
    credits[2].record.serial_range = None;
    credits[3].record.transaction_type = Normalized::new(TransactionType::Cancellation, "x");
    credits[3].record.status = Normalized::new(UnitStatus::Converted, "Converted");
    credits[4].record.registry_project_id = "VCS9".into();
    for c in &mut credits[5..] {
        c.provenance.run_id = Some(run);
    }
    store.upsert_credits(&credits).await.expect("upsert");
    let mut project = project("VCS9", "Nine");
    project.provenance.run_id = Some(run);
    store
        .upsert_projects(&[project, self::project("VCS1507", "Other")])
        .await
        .expect("projects");

    let mut keys = Vec::new();
    let mut after = None;
    loop {
        let page = store.match_keys(after, None, 4).await.expect("keys");
        let Some(last) = page.last() else { break };
        after = Some(last.position);
        keys.extend(page);
    }
    let pages: Vec<_> = store
        .credits_page(None, 100)
        .await
        .expect("page")
        .into_iter()
        .map(|c| c.position)
        .collect();
    assert_eq!(
        keys.iter().map(|k| k.position).collect::<Vec<_>>(),
        pages,
        "every current record once, in position order"
    );
    assert_eq!(&*keys[0].project, "verra:VCS1507");
    assert_eq!(&*keys[4].project, "verra:VCS9");
    assert_eq!(
        keys[1].range.as_ref().map(|(ns, s, e)| (&**ns, *s, *e)),
        Some(("verra", 1_001, 1_003))
    );
    assert_eq!(keys[2].range, None);
    assert_eq!(
        (keys[3].kind, keys[3].status),
        (TransactionType::Cancellation, UnitStatus::Converted)
    );
    assert_eq!(keys[0].kind, TransactionType::Retirement);
    let between = store
        .match_keys(Some(pages[1]), Some(pages[4]), 10)
        .await
        .expect("keys");
    assert_eq!(
        between.iter().map(|k| k.position).collect::<Vec<_>>(),
        pages[2..4],
        "strictly between"
    );
    assert_eq!(
        keys.iter().map(|k| k.run == Some(run)).collect::<Vec<_>>(),
        [[false; 5], [true; 5]].concat(),
        "the run that wrote each record"
    );

    // Whole records at chosen positions: in position order, once, unknown ones left out.
    let mut changed = credits[6].clone();
    changed.record.beneficiary = Some("Globex".into());
    store
        .upsert_credits(std::slice::from_ref(&changed))
        .await
        .expect("change");
    let wanted = [pages[6], pages[1], pages[6], 999_999];
    let read = store.credits_at(&wanted).await.expect("at");
    assert_eq!(
        read.iter().map(|c| c.position).collect::<Vec<_>>(),
        [pages[1], pages[6]]
    );
    assert_eq!(read[1].record, changed.record, "the current version");
    assert_eq!((read[0].version, read[1].version), (1, 2));
    assert_eq!(read[0].record, credits[1].record);

    assert_eq!(
        store.projects_written_by(run).await.expect("projects"),
        ["verra:VCS9"]
    );
    assert!(
        store
            .projects_written_by(run + 1)
            .await
            .expect("projects")
            .is_empty()
    );
}

fn delivery(id: &str, body: &str) -> carbonmesh_model::WebhookDelivery {
    carbonmesh_model::WebhookDelivery {
        id: id.into(),
        connector: "verra".into(),
        received_at: Utc
            .with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
            .single()
            .expect("date"),
        verification: "v1 signature, secret 1 of 1".into(),
        kind: carbonmesh_model::WebhookKind::CommonFormat,
        status: carbonmesh_model::DeliveryStatus::Pending,
        attempts: 0,
        error: None,
        processed_at: None,
        payload: body.into(),
    }
}

/// The inbox keeps one row per delivery id, leases it to one worker at a time, and records
/// retries, success and failure.
async fn webhook_inbox_keeps_each_delivery_once(store: Arc<dyn Store>) {
    use carbonmesh_model::DeliveryStatus;
    use carbonmesh_store::{DeliveryCounts, DeliveryOutcome};
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
        .single()
        .expect("date");
    let minute = chrono::Duration::minutes(1);
    assert!(
        store
            .insert_delivery(&delivery("msg_1", "{\"a\":1}"))
            .await
            .expect("insert")
    );
    assert!(
        !store
            .insert_delivery(&delivery("msg_1", "{\"a\":2}"))
            .await
            .expect("again"),
        "a redelivery is recognised"
    );
    let mut other = delivery("msg_1", "{}");
    other.connector = "gold-standard".into();
    assert!(
        store
            .insert_delivery(&other)
            .await
            .expect("other connector")
    );
    // A batch is written in order: a redelivery within it, or of an earlier delivery, is
    // recognised like one arriving alone.
    assert_eq!(
        store
            .insert_deliveries(&[
                delivery("msg_2", "{}"),
                delivery("msg_1", "{\"a\":3}"),
                delivery("msg_2", "{\"b\":1}"),
            ])
            .await
            .expect("insert a batch"),
        vec![true, false, false]
    );

    let claimed = store
        .claim_deliveries("a", t0, t0 + minute, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 3);
    assert_eq!(claimed[0].id, "msg_1");
    assert_eq!(claimed[0].payload, "{\"a\":1}", "the first body is kept");
    assert_eq!(claimed[0].attempts, 1);
    assert!(
        store
            .claim_deliveries("b", t0, t0 + minute, 10)
            .await
            .expect("claim")
            .is_empty(),
        "leased rows are not claimed twice"
    );

    // msg_1 fails once and is retried after its back-off; msg_2 is applied; the other is
    // given up on.
    let retry = DeliveryOutcome::Retry {
        error: "database busy".into(),
        at: t0 + minute * 5,
    };
    assert!(
        store
            .finish_delivery("verra", "msg_1", "a", &retry, t0)
            .await
            .expect("finish")
    );
    assert!(
        !store
            .finish_delivery("verra", "msg_2", "b", &DeliveryOutcome::Applied, t0)
            .await
            .expect("finish"),
        "only the holder finishes a delivery"
    );
    assert!(
        store
            .finish_delivery("verra", "msg_2", "a", &DeliveryOutcome::Applied, t0)
            .await
            .expect("finish")
    );
    let failed = DeliveryOutcome::Failed {
        error: "not a project".into(),
    };
    assert!(
        store
            .finish_delivery("gold-standard", "msg_1", "a", &failed, t0)
            .await
            .expect("finish")
    );
    assert!(
        store
            .claim_deliveries("b", t0 + minute * 2, t0 + minute * 3, 10)
            .await
            .expect("claim")
            .is_empty(),
        "a retry waits for its time"
    );
    // A lease that ran out (its worker died) is claimed again.
    let again = store
        .claim_deliveries("b", t0 + minute * 5, t0 + minute * 6, 10)
        .await
        .expect("claim");
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].attempts, again[0].error.as_deref()),
        (2, Some("database busy"))
    );
    let later = store
        .claim_deliveries("c", t0 + minute * 7, t0 + minute * 8, 10)
        .await
        .expect("claim");
    assert_eq!(later.len(), 1, "b's lease ran out");
    assert!(
        !store
            .finish_delivery("verra", "msg_1", "b", &DeliveryOutcome::Applied, t0)
            .await
            .expect("finish"),
        "b lost its lease to c"
    );
    assert!(
        store
            .finish_delivery(
                "verra",
                "msg_1",
                "c",
                &DeliveryOutcome::Applied,
                t0 + minute * 7
            )
            .await
            .expect("finish")
    );

    let one = store
        .delivery("verra", "msg_1")
        .await
        .expect("read")
        .expect("present");
    assert_eq!(one.status, DeliveryStatus::Applied);
    assert_eq!((one.attempts, one.error), (3, None));
    assert_eq!(one.processed_at, Some(t0 + minute * 7));
    assert_eq!(
        store.delivery_counts().await.expect("counts"),
        DeliveryCounts {
            pending: 0,
            applied: 2,
            failed: 1
        }
    );
    let page = store.deliveries_page(None, 2).await.expect("page");
    assert_eq!(page.len(), 2);
    let rest = store
        .deliveries_page(Some(page[1].0), 10)
        .await
        .expect("page");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].1.status, DeliveryStatus::Applied);
    let gs = &page[1].1;
    assert_eq!(
        (gs.status, gs.error.as_deref()),
        (DeliveryStatus::Failed, Some("not a project"))
    );

    // Pruning keeps pending rows whatever their age.
    assert!(
        store
            .insert_delivery(&delivery("msg_3", "{}"))
            .await
            .expect("insert")
    );
    assert_eq!(store.prune_deliveries(t0 + minute).await.expect("prune"), 3);
    assert_eq!(
        store.delivery_counts().await.expect("counts"),
        DeliveryCounts {
            pending: 1,
            ..DeliveryCounts::default()
        }
    );
    assert!(
        store
            .delivery("verra", "msg_1")
            .await
            .expect("read")
            .is_none()
    );
}

async fn webhook_rejections_are_counted(store: Arc<dyn Store>) {
    let at = Utc
        .with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
        .single()
        .expect("date");
    for _ in 0..3 {
        store
            .count_rejection("verra", "invalid signature", at)
            .await
            .expect("count");
    }
    store
        .count_rejection(
            "(unknown)",
            "unknown connector",
            at + chrono::Duration::seconds(1),
        )
        .await
        .expect("count");
    let counts = store.rejection_counts().await.expect("counts");
    let summary: Vec<_> = counts
        .iter()
        .map(|c| (c.connector.as_str(), c.reason.as_str(), c.count))
        .collect();
    assert_eq!(
        summary,
        [
            ("(unknown)", "unknown connector", 1),
            ("verra", "invalid signature", 3)
        ]
    );
    assert_eq!(counts[1].last_at, at);
}

/// Instances sharing the database claim a backlog together: every delivery once.
async fn webhook_claims_are_exclusive(open: support::Opener) {
    let store = open().await;
    for i in 0..120 {
        assert!(
            store
                .insert_delivery(&delivery(&format!("msg_{i:03}"), "{}"))
                .await
                .expect("insert")
        );
    }
    let mut tasks = Vec::new();
    for instance in 0..4 {
        let store = open().await;
        tasks.push(tokio::spawn(async move {
            let holder = format!("instance-{instance}");
            let mut mine = Vec::new();
            loop {
                let now = Utc::now();
                let claimed = store
                    .claim_deliveries(&holder, now, now + chrono::Duration::minutes(5), 7)
                    .await
                    .expect("claim");
                if claimed.is_empty() {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|d| d.id));
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.expect("task"));
    }
    all.sort();
    let total = all.len();
    all.dedup();
    assert_eq!((total, all.len()), (120, 120));
}

async fn api_keys_are_kept_by_token_hash(store: Arc<dyn Store>) {
    use carbonmesh_model::{ApiKey, ApiRole};
    let at = |minute: u32| {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, minute, 0)
            .single()
            .expect("valid date")
    };
    let key = |id: &str, role: ApiRole, minute: u32| ApiKey {
        id: id.into(),
        name: format!("{id} name"),
        role,
        prefix: format!("cm_{id}"),
        created_by: "ops".into(),
        created_at: at(minute),
        revoked_at: None,
        last_used_at: None,
    };
    let hash = |token: &str| carbonmesh_model::sha256_hex(token.as_bytes());

    // A migrated store has nothing pending.
    assert_eq!(store.pending_migrations().await.expect("pending"), 0);

    assert!(store.api_keys().await.expect("keys").is_empty());
    let reviewer = key("k2", ApiRole::Reviewer, 5);
    let admin = key("k1", ApiRole::Admin, 7);
    store
        .insert_api_key(&reviewer, &hash("token-2"))
        .await
        .expect("insert");
    store
        .insert_api_key(&admin, &hash("token-1"))
        .await
        .expect("insert");
    // The same token hash twice is refused.
    assert!(
        store
            .insert_api_key(&key("k3", ApiRole::Observer, 8), &hash("token-1"))
            .await
            .is_err()
    );

    assert_eq!(
        store
            .api_key_by_hash(&hash("token-2"))
            .await
            .expect("by hash"),
        Some(reviewer.clone())
    );
    assert_eq!(
        store.api_key_by_hash(&hash("nope")).await.expect("by hash"),
        None
    );
    // The token itself is no key.
    assert_eq!(
        store.api_key_by_hash("token-2").await.expect("by hash"),
        None
    );
    // By creation time, then id.
    assert_eq!(
        store.api_keys().await.expect("keys"),
        vec![reviewer.clone(), admin.clone()]
    );

    store.touch_api_key("k1", at(30)).await.expect("touch");
    assert!(store.revoke_api_key("k2", at(40)).await.expect("revoke"));
    assert!(
        !store
            .revoke_api_key("k2", at(41))
            .await
            .expect("revoke again")
    );
    assert!(
        !store
            .revoke_api_key("k9", at(41))
            .await
            .expect("revoke unknown")
    );

    let revoked = store
        .api_key_by_hash(&hash("token-2"))
        .await
        .expect("by hash")
        .expect("revoked keys are still found");
    assert_eq!(revoked.revoked_at, Some(at(40)));
    let keys = store.api_keys().await.expect("keys");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].revoked_at, Some(at(40)));
    assert_eq!(keys[1].last_used_at, Some(at(30)));
    assert_eq!(keys[1].revoked_at, None);
}

/// A notification endpoint is held by one server at a time, moves only past what it was
/// given, and its deliveries are logged with their attempts.
async fn notification_endpoints_are_held_by_one_server(open: support::Opener) {
    use carbonmesh_model::{DeliveryState, NotificationDelivery, NotificationType};
    let (one, two) = (open().await, open().await);
    let now = Utc::now();
    let soon = now + Duration::seconds(30);
    // First met: it starts where it is told (entries up to there are not announced).
    assert_eq!(
        one.claim_endpoint("ops", "one", 7, now, soon)
            .await
            .expect("claim"),
        Some(7)
    );
    // Held: another server does not get it, and cannot move it.
    assert_eq!(
        two.claim_endpoint("ops", "two", 0, now, soon)
            .await
            .expect("claim"),
        None
    );
    assert!(!two.skip_notification("ops", "two", 9).await.expect("skip"));
    // Its holder renews it, and it remembers where it stands.
    assert_eq!(
        one.claim_endpoint("ops", "one", 0, now, soon)
            .await
            .expect("renew"),
        Some(7)
    );
    assert!(one.skip_notification("ops", "one", 8).await.expect("skip"));
    let mut delivery = NotificationDelivery {
        endpoint: "ops".into(),
        position: 9,
        alert_id: "alert-1".into(),
        kind: NotificationType::Raised,
        message_id: "cm_notification_9".into(),
        state: DeliveryState::Retrying,
        attempts: 1,
        last_error: Some("connection refused".into()),
        last_attempt_at: now,
        delivered_at: None,
    };
    assert!(
        one.record_notification("one", &delivery)
            .await
            .expect("log")
    );
    // A failed attempt does not move it.
    assert_eq!(
        one.claim_endpoint("ops", "one", 0, now, soon)
            .await
            .expect("renew"),
        Some(8)
    );
    delivery.attempts = 2;
    delivery.state = DeliveryState::Delivered;
    delivery.last_error = None;
    delivery.delivered_at = Some(now);
    // Not its holder: nothing is written.
    assert!(
        !two.record_notification("two", &delivery)
            .await
            .expect("log")
    );
    assert!(
        one.record_notification("one", &delivery)
            .await
            .expect("log")
    );
    let logged = two.notifications_page(None, 10).await.expect("page");
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].state, DeliveryState::Delivered);
    assert_eq!(logged[0].attempts, 2);
    assert_eq!(
        logged[0].delivered_at.map(|t| t.timestamp()),
        Some(now.timestamp())
    );
    assert_eq!(
        two.notifications_page(Some((9, "ops")), 10)
            .await
            .expect("page")
            .len(),
        0
    );
    // Once the lease runs out, another server takes it over where it stands.
    let later = soon + Duration::seconds(1);
    assert_eq!(
        two.claim_endpoint("ops", "two", 0, later, later + Duration::seconds(30))
            .await
            .expect("take over"),
        Some(9)
    );
    assert!(!one.skip_notification("ops", "one", 10).await.expect("skip"));
}

/// The rows an import may count as unchanged without reading them again: those of records a
/// run of this version wrote, not those written outside a run or of another registry.
async fn raw_hashes_name_the_rows_this_version_wrote(store: Arc<dyn Store>) {
    let run = store.start_run("verra", "import").await.expect("run");
    let mut from_run: Vec<_> = (0..3).map(|k| credit(k, 5, "Acme")).collect();
    for c in &mut from_run {
        c.provenance.run_id = Some(run);
    }
    let outside: Vec<_> = (10..12).map(|k| credit(k, 5, "Acme")).collect();
    store
        .upsert_credits(&from_run)
        .await
        .expect("run's records");
    store.upsert_credits(&outside).await.expect("other records");
    let mut hashes = store
        .raw_hashes_of_this_version(RegistryId::VERRA)
        .await
        .expect("hashes");
    hashes.sort_unstable();
    let mut expected: Vec<[u8; 32]> = from_run
        .iter()
        .map(|c| {
            let bytes = hex::decode(&c.provenance.raw_hash).expect("hex");
            <[u8; 32]>::try_from(bytes.as_slice()).expect("32 bytes")
        })
        .collect();
    expected.sort_unstable();
    assert_eq!(hashes, expected);
    // A retracted row is not one to skip: read again, it must be written again.
    let seen: std::collections::HashSet<i64> = from_run[1..]
        .iter()
        .chain(&outside)
        .map(|c| carbonmesh_store::key_hash("verra", &c.record.record_key, 0))
        .collect();
    let retraction = store
        .retract_unseen(RegistryId::VERRA, &seen, Utc::now())
        .await
        .expect("retract");
    assert_eq!(retraction.retracted, 1);
    let mut after = store
        .raw_hashes_of_this_version(RegistryId::VERRA)
        .await
        .expect("hashes");
    after.sort_unstable();
    let gone = hex::decode(&from_run[0].provenance.raw_hash).expect("hex");
    expected.retain(|h| h.as_slice() != gone.as_slice());
    assert_eq!(after, expected);
    assert!(
        store
            .raw_hashes_of_this_version(RegistryId::GOLD_STANDARD)
            .await
            .expect("none")
            .is_empty()
    );
}

/// When each connector last completed a run: failed and running runs do not count.
async fn last_complete_runs_name_each_connector_once(store: Arc<dyn Store>) {
    assert!(store.last_complete_runs().await.expect("none").is_empty());
    let first = store.start_run("verra", "poll").await.expect("run");
    store
        .finish_run(first, RunStatus::Complete, RunCounts::default(), &[])
        .await
        .expect("finish");
    let second = store.start_run("verra", "poll").await.expect("run");
    store
        .finish_run(
            second,
            RunStatus::Failed,
            RunCounts::default(),
            &["down".into()],
        )
        .await
        .expect("finish");
    store.start_run("acr", "poll").await.expect("running");
    let runs = store.runs(10).await.expect("runs");
    let first_finished = runs
        .iter()
        .find(|r| r.id == first)
        .and_then(|r| r.finished_at)
        .expect("finished");
    assert_eq!(
        store.last_complete_runs().await.expect("last"),
        vec![("verra".to_owned(), first_finished)]
    );
}

per_backend!(
    store: [
        insert_and_read_back,
        reinsert_is_a_no_op,
        changed_content_writes_one_new_version,
        a_key_twice_in_one_batch_applies_in_order,
        invalid_records_are_kept_and_the_rest_goes_on,
        a_batch_of_100k_records,
        runs_and_rejections_are_recorded,
        migrations_run_twice,
        checkpoints_are_saved_and_cleared,
        pages_walk_every_current_record_once,
        match_keys_and_positions_read_what_the_matcher_groups,
        webhook_inbox_keeps_each_delivery_once,
        webhook_rejections_are_counted,
        api_keys_are_kept_by_token_hash,
        project_queries_filter_order_and_page,
        credit_queries_filter_order_and_page,
        credit_pages_survive_writes_between_pages,
        credit_ties_list_in_stored_order,
        serial_overlap_lookup,
        statistics_sum_exactly,
        project_rollups_follow_their_records, queries_as_of_a_moment_see_that_moment,
        claims_are_found_by_harmonized_beneficiary,
        unseen_records_are_retracted_and_come_back,
        changes_since_a_time,
        alert_queries_filter_and_order,
        batch_lookups_skip_missing,
        registry_counts_and_rejected_pages,
        project_vocabulary_counts_raw_values,
        raw_hashes_name_the_rows_this_version_wrote,
        last_complete_runs_name_each_connector_once,
    ],
    opener: [
        concurrent_writers_lose_nothing,
        one_claim_per_schedule_tick,
        webhook_claims_are_exclusive,
        notification_endpoints_are_held_by_one_server,
    ],
);

#[test]
fn database_urls_name_their_backend() {
    assert!(DatabaseUrl::parse("x.db").is_ok());
}
