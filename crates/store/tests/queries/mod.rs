//! The storage contract of the API's read queries: filters, keyset pages, the serial overlap
//! lookup, batch lookups, statistics, the change feed. Each test body runs on both backends
//! (see `contract_tests!`); expectations are computed here from the records written.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use carbonmesh_model::{
    Alert, AlertEvent, AlertKind, AlertRecordRef, AlertStatus, CreditRecord, Normalized, Period,
    Project, ProjectStatus, Provenance, RecordKind, RegistryId, RejectedRecord, SerialRange,
    Severity, TransactionType, UnitStatus,
};
use carbonmesh_store::{
    AlertFacets, AlertFilter, CreditFilter, CreditOrder, DateRange, FacetCount, Page,
    ProjectFilter, ProjectOrder, ProjectRollup, RawKind, Stamped, StatRow, StatsGroup, Store,
};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

/// A small deterministic generator (no dependency needed for a few thousand numbers).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn provenance(source: &str) -> Provenance {
    Provenance {
        source: source.into(),
        raw_hash: carbonmesh_model::sha256_hex(source.as_bytes()),
        fetched_at: Utc
            .with_ymd_and_hms(2026, 11, 1, 12, 0, 0)
            .single()
            .expect("valid time"),
        run_id: None,
    }
}

/// Upserts `projects`, which must succeed.
async fn write_projects(store: &Arc<dyn Store>, projects: &[Project]) {
    let batch: Vec<Stamped<Project>> = projects.iter().cloned().map(stamp).collect();
    store
        .upsert_projects(&batch)
        .await
        .expect("upsert projects");
}

/// Upserts `credits`, which must succeed.
async fn write_credits(store: &Arc<dyn Store>, credits: &[CreditRecord]) {
    let batch: Vec<Stamped<CreditRecord>> = credits.iter().cloned().map(stamp).collect();
    store.upsert_credits(&batch).await.expect("upsert credits");
}

fn stamp<T>(record: T) -> Stamped<T> {
    Stamped {
        record,
        provenance: provenance("queries"),
    }
}

/// The projects of the query tests: varied registries, countries, statuses, methodologies,
/// categories, names and crediting periods.
fn projects() -> Vec<Project> {
    let registries = [
        RegistryId::VERRA,
        RegistryId::GOLD_STANDARD,
        RegistryId::ACR,
    ];
    let countries = [Some("PE"), Some("BR"), None, Some("IN")];
    let statuses = [
        ProjectStatus::Registered,
        ProjectStatus::Listed,
        ProjectStatus::Completed,
    ];
    let methodologies = ["VM0007", "AMS-I.D.", "ACR-IFM"];
    let names = [
        "Madre de Dios Amazon REDD",
        "Cordillera Azul",
        "Wind Power in Tamil Nadu",
        "Cookstoves 100% Kenya",
        "Forest_Carbon Maine",
        "amazon riverside",
    ];
    (0..24)
        .map(|i| {
            let registry = registries[i % 3];
            let mut p = Project::new(
                registry,
                &format!("P{:03}", (i * 7) % 24),
                names[i % names.len()],
            );
            p.country = countries[i % 4].map(str::to_owned);
            p.status = Some(Normalized::new(statuses[i % 3], statuses[i % 3].as_str()));
            p.methodology = Some(methodologies[(i / 2) % 3].to_owned());
            p.sector = Some(if i % 2 == 0 { "Forestry" } else { "Energy" }.to_owned());
            p.category = (i % 3 == 0).then(|| "REDD+".to_owned());
            p.project_type = (i % 5 == 0).then(|| "Cookstoves".to_owned());
            p.crediting_periods = match i % 4 {
                0 => vec![Period {
                    start: Some(date(2010, 1, 1)),
                    end: Some(date(2015, 12, 31)),
                }],
                1 => vec![Period {
                    start: Some(date(2018, 6, 1)),
                    end: None,
                }],
                2 => vec![
                    Period {
                        start: Some(date(2005, 1, 1)),
                        end: Some(date(2009, 12, 31)),
                    },
                    Period {
                        start: Some(date(2016, 1, 1)),
                        end: Some(date(2017, 12, 31)),
                    },
                ],
                _ => Vec::new(),
            };
            p
        })
        .collect()
}

fn folded_eq(value: &Option<String>, wanted: &str) -> bool {
    value
        .as_deref()
        .is_some_and(|v| v.to_lowercase() == wanted.to_lowercase())
}

/// What [`ProjectFilter`] means, written plainly.
fn project_matches(p: &Project, f: &ProjectFilter) -> bool {
    (f.registries.is_empty() || f.registries.contains(&p.registry))
        && (f.countries.is_empty() || p.country.as_ref().is_some_and(|c| f.countries.contains(c)))
        && (f.statuses.is_empty()
            || p.status
                .as_ref()
                .is_some_and(|s| f.statuses.contains(&s.value)))
        && f.methodology
            .as_ref()
            .is_none_or(|m| folded_eq(&p.methodology, m))
        && f.category.as_ref().is_none_or(|c| {
            folded_eq(&p.sector, c) || folded_eq(&p.category, c) || folded_eq(&p.project_type, c)
        })
        && f.crediting_period.is_none_or(|r| {
            let range = Period {
                start: r.from,
                end: r.to,
            };
            p.crediting_periods.iter().any(|cp| cp.overlaps(&range))
        })
        && f.search
            .as_ref()
            .is_none_or(|s| p.name.to_lowercase().contains(&s.to_lowercase()))
        && f.kinds
            .as_ref()
            .is_none_or(|kinds| kinds.contains(&kind_of(p)))
}

fn kind_of(p: &Project) -> RawKind {
    RawKind {
        registry: p.registry,
        sector: p.sector.clone(),
        category: p.category.clone(),
        project_type: p.project_type.clone(),
    }
}

/// Walks every page of a query, `limit` at a time, checking each page's size and
/// `has_next_page`; `between` runs after each page.
async fn walk<T: Clone, F, Fut>(limit: u32, mut fetch: F) -> Vec<T>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Page<T>>,
{
    let mut all = Vec::new();
    let mut after = None;
    for _ in 0..10_000 {
        let page = fetch(after.clone()).await;
        assert!(page.items.len() <= limit as usize);
        if page.has_next_page {
            assert_eq!(
                page.items.len(),
                limit as usize,
                "a full page before the next"
            );
        }
        let done = !page.has_next_page;
        after = page.items.last().map(|(c, _)| c.clone());
        all.extend(page.items.into_iter().map(|(_, item)| item));
        if done {
            return all;
        }
    }
    panic!("pages never end");
}

fn project_sort_key(order: ProjectOrder, p: &Project) -> (String, String) {
    match order {
        ProjectOrder::Id => (String::new(), p.id()),
        ProjectOrder::Name => (p.name.clone(), p.id()),
        ProjectOrder::Country => (p.country.clone().unwrap_or_default(), p.id()),
        ProjectOrder::RetiredDesc | ProjectOrder::FirstIssuance => {
            panic!("roll-up orders are checked by project_rollups_follow_their_records")
        }
    }
}

pub async fn project_queries_filter_order_and_page(store: Arc<dyn Store>) {
    let all = projects();
    write_projects(&store, &all).await;
    let filters = [
        ProjectFilter::default(),
        ProjectFilter {
            registries: vec![RegistryId::GOLD_STANDARD, RegistryId::ACR],
            ..Default::default()
        },
        ProjectFilter {
            countries: vec!["PE".into(), "IN".into()],
            ..Default::default()
        },
        ProjectFilter {
            statuses: vec![ProjectStatus::Listed],
            ..Default::default()
        },
        ProjectFilter {
            methodology: Some("vm0007".into()),
            ..Default::default()
        },
        ProjectFilter {
            category: Some("redd+".into()),
            ..Default::default()
        },
        ProjectFilter {
            category: Some("COOKSTOVES".into()),
            ..Default::default()
        },
        ProjectFilter {
            category: Some("energy".into()),
            registries: vec![RegistryId::VERRA],
            ..Default::default()
        },
        ProjectFilter {
            crediting_period: Some(DateRange {
                from: Some(date(2016, 6, 1)),
                to: Some(date(2017, 1, 1)),
            }),
            ..Default::default()
        },
        ProjectFilter {
            crediting_period: Some(DateRange {
                from: Some(date(2020, 1, 1)),
                to: None,
            }),
            ..Default::default()
        },
        ProjectFilter {
            crediting_period: Some(DateRange {
                from: None,
                to: Some(date(2009, 12, 31)),
            }),
            ..Default::default()
        },
        ProjectFilter {
            search: Some("AMAZON".into()),
            ..Default::default()
        },
        // Wildcards in the search are plain characters.
        ProjectFilter {
            search: Some("100%".into()),
            ..Default::default()
        },
        ProjectFilter {
            search: Some("e_d".into()),
            ..Default::default()
        },
        ProjectFilter {
            search: Some("%".into()),
            countries: vec!["KE".into()],
            ..Default::default()
        },
        // Kinds: a missing value matches only a missing one; none matches nothing.
        ProjectFilter {
            kinds: Some(vec![
                RawKind {
                    registry: RegistryId::VERRA,
                    sector: Some("Forestry".into()),
                    category: Some("REDD+".into()),
                    project_type: None,
                },
                RawKind {
                    registry: RegistryId::ACR,
                    sector: Some("Energy".into()),
                    category: None,
                    project_type: None,
                },
                RawKind {
                    registry: RegistryId::new("nowhere").expect("registry id"),
                    sector: None,
                    category: None,
                    project_type: None,
                },
            ]),
            ..Default::default()
        },
        ProjectFilter {
            kinds: Some(Vec::new()),
            ..Default::default()
        },
        ProjectFilter {
            kinds: Some(all.iter().take(7).map(kind_of).collect()),
            countries: vec!["PE".into()],
            ..Default::default()
        },
    ];
    // The reference predicate is not vacuous: spot checks.
    let ids = |f: &ProjectFilter| -> Vec<String> {
        let mut ids: Vec<_> = all
            .iter()
            .filter(|p| project_matches(p, f))
            .map(Project::id)
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&filters[12]).len(), 4, "the Cookstoves 100% projects");
    assert!(
        !ids(&filters[15]).is_empty(),
        "some projects of those kinds"
    );
    assert!(ids(&filters[16]).is_empty());
    // Unescaped, `_` would match "Madre de Dios".
    assert!(ids(&filters[13]).is_empty(), "no 'e_d' in any name");
    assert_eq!(
        ids(&filters[8]).len(),
        6,
        "the projects with a 2016-17 period"
    );

    for filter in &filters {
        let expected_count = ids(filter).len();
        assert_eq!(
            store.count_projects(filter).await.expect("count") as usize,
            expected_count,
            "{filter:?}"
        );
        for order in [ProjectOrder::Id, ProjectOrder::Name, ProjectOrder::Country] {
            let mut expected: Vec<&Project> =
                all.iter().filter(|p| project_matches(p, filter)).collect();
            expected.sort_by_key(|p| project_sort_key(order, p));
            for limit in [1, 5, 100] {
                let walked = walk(limit, |after| {
                    let store = Arc::clone(&store);
                    async move {
                        store
                            .query_projects(filter, order, after.as_deref(), limit)
                            .await
                            .expect("query")
                    }
                })
                .await;
                let expected: Vec<Project> = expected.iter().map(|p| (*p).clone()).collect();
                assert_eq!(walked, expected, "{filter:?} {order:?} {limit}");
            }
        }
    }
    assert!(
        store
            .query_projects(
                &ProjectFilter::default(),
                ProjectOrder::Id,
                Some("not a cursor"),
                5
            )
            .await
            .is_err()
    );
}

/// A credit record of the query tests.
#[allow(clippy::too_many_arguments)]
fn block(
    registry: RegistryId,
    key: &str,
    project: &str,
    transaction_type: TransactionType,
    quantity: Decimal,
    serial: Option<(&str, u64, u64)>,
    vintage: Option<i32>,
    event_date: Option<NaiveDate>,
) -> CreditRecord {
    let status = match transaction_type {
        TransactionType::Retirement => UnitStatus::Retired,
        TransactionType::Cancellation => UnitStatus::Cancelled,
        _ => UnitStatus::Active,
    };
    CreditRecord {
        registry,
        record_key: key.into(),
        registry_project_id: project.into(),
        transaction_type: Normalized::new(transaction_type, transaction_type.as_str()),
        quantity,
        serial: serial.map(|(ns, s, e)| format!("{ns}-{s}-{e}")),
        serial_range: serial.map(|(ns, start, end)| SerialRange {
            namespace: ns.into(),
            start,
            end,
        }),
        vintage,
        monitoring_period: None,
        event_date,
        status: Normalized::new(status, status.as_str()),
        account: None,
        beneficiary: None,
        reason: None,
        note: None,
    }
}

/// Credit records over the test projects: every combination the filters look at, with
/// fractional quantities and records without a vintage or a date.
fn credits(projects: &[Project], n: usize) -> Vec<CreditRecord> {
    let types = [
        TransactionType::Issuance,
        TransactionType::Retirement,
        TransactionType::Cancellation,
        TransactionType::Buffer,
        TransactionType::Conversion,
    ];
    (0..n)
        .map(|i| {
            let p = &projects[(i * 5) % projects.len()];
            let quantity = Decimal::new((i as i64 * 7919) % 100_000 + 1, (i % 4) as u32);
            block(
                p.registry,
                &format!("K{:05}-{}", (i * 37) % n, i % 3),
                &p.registry_project_id,
                types[i % 4],
                quantity,
                Some(("ns", i as u64 * 100, i as u64 * 100 + 10)),
                (i % 7 != 0).then_some(2012 + (i % 9) as i32),
                (i % 6 != 0).then(|| date(2020, 1 + (i % 12) as u32, 1 + (i % 3) as u32)),
            )
        })
        .collect()
}

fn credit_matches(
    c: &CreditRecord,
    projects: &BTreeMap<String, Project>,
    f: &CreditFilter,
) -> bool {
    let p = projects.get(&c.project_id());
    let project_filter = ProjectFilter {
        countries: f.countries.clone(),
        methodology: f.methodology.clone(),
        category: f.category.clone(),
        search: f.search.clone(),
        ..Default::default()
    };
    (f.registries.is_empty() || f.registries.contains(&c.registry))
        && f.project_id.as_ref().is_none_or(|id| *id == c.project_id())
        && f.vintage_from
            .is_none_or(|v| c.vintage.is_some_and(|cv| cv >= v))
        && f.vintage_to
            .is_none_or(|v| c.vintage.is_some_and(|cv| cv <= v))
        && (f.transaction_types.is_empty()
            || f.transaction_types.contains(&c.transaction_type.value))
        && (f.statuses.is_empty() || f.statuses.contains(&c.status.value))
        && f.event_date.is_none_or(|r| {
            c.event_date.is_some_and(|d| {
                r.from.is_none_or(|from| d >= from) && r.to.is_none_or(|to| d <= to)
            })
        })
        && (project_filter == ProjectFilter::default()
            || p.is_some_and(|p| project_matches(p, &project_filter)))
}

type CreditKey = (bool, std::cmp::Reverse<Option<NaiveDate>>, String, String);

fn credit_sort_key(order: CreditOrder, c: &CreditRecord) -> CreditKey {
    let (registry, key) = (c.registry.as_str().to_owned(), c.record_key.clone());
    match order {
        // In the order first stored: the order the records were written in, which the
        // (stable) sort by this constant keeps.
        CreditOrder::Key => (false, std::cmp::Reverse(None), String::new(), String::new()),
        CreditOrder::EventDateDesc => (
            c.event_date.is_none(),
            std::cmp::Reverse(c.event_date),
            registry,
            key,
        ),
    }
}

fn credit_filters(projects: &[Project]) -> Vec<CreditFilter> {
    vec![
        CreditFilter::default(),
        CreditFilter {
            registries: vec![RegistryId::VERRA],
            ..Default::default()
        },
        CreditFilter {
            project_id: Some(projects[4].id()),
            ..Default::default()
        },
        CreditFilter {
            countries: vec!["BR".into()],
            ..Default::default()
        },
        CreditFilter {
            vintage_from: Some(2014),
            vintage_to: Some(2016),
            ..Default::default()
        },
        CreditFilter {
            vintage_from: Some(2019),
            ..Default::default()
        },
        CreditFilter {
            transaction_types: vec![TransactionType::Retirement, TransactionType::Cancellation],
            ..Default::default()
        },
        CreditFilter {
            statuses: vec![UnitStatus::Active],
            registries: vec![RegistryId::ACR, RegistryId::GOLD_STANDARD],
            ..Default::default()
        },
        CreditFilter {
            methodology: Some("ams-i.d.".into()),
            ..Default::default()
        },
        CreditFilter {
            category: Some("Redd+".into()),
            ..Default::default()
        },
        CreditFilter {
            event_date: Some(DateRange {
                from: Some(date(2020, 3, 2)),
                to: Some(date(2020, 7, 1)),
            }),
            ..Default::default()
        },
        CreditFilter {
            event_date: Some(DateRange {
                from: None,
                to: Some(date(2020, 2, 28)),
            }),
            ..Default::default()
        },
        CreditFilter {
            search: Some("amazon".into()),
            vintage_to: Some(2018),
            ..Default::default()
        },
    ]
}

pub async fn credit_queries_filter_order_and_page(store: Arc<dyn Store>) {
    let projects = projects();
    write_projects(&store, &projects).await;
    let all = credits(&projects, 300);
    write_credits(&store, &all).await;
    let by_id: BTreeMap<String, Project> = projects.iter().map(|p| (p.id(), p.clone())).collect();
    for filter in credit_filters(&projects) {
        let matching: Vec<&CreditRecord> = all
            .iter()
            .filter(|c| credit_matches(c, &by_id, &filter))
            .collect();
        assert!(
            !matching.is_empty() && matching.len() < all.len() || filter == CreditFilter::default(),
            "{filter:?} selects {} of {}",
            matching.len(),
            all.len()
        );
        assert_eq!(
            store.count_credits(&filter).await.expect("count") as usize,
            matching.len(),
            "{filter:?}"
        );
        for order in [CreditOrder::Key, CreditOrder::EventDateDesc] {
            let mut expected: Vec<CreditRecord> = matching.iter().map(|c| (*c).clone()).collect();
            expected.sort_by_key(|c| credit_sort_key(order, c));
            let mut walks = Vec::new();
            for limit in [7, 1000] {
                let walked = walk(limit, |after| {
                    let store = Arc::clone(&store);
                    let filter = filter.clone();
                    async move {
                        store
                            .query_credits(&filter, order, after.as_deref(), limit)
                            .await
                            .expect("query")
                    }
                })
                .await;
                assert_listed(order, &walked, &expected, &format!("{filter:?} {limit}"));
                walks.push(walked);
            }
            assert_eq!(
                walks[0], walks[1],
                "{filter:?} {order:?}: pages of 7 and of 1000"
            );
        }
    }
}

/// `listed` holds exactly the records of `expected` (sorted by [`credit_sort_key`]), in the
/// listing's order. Newest first lists the records of one date in the order they were first
/// stored, which `expected` does not know: there only the sequence of dates is compared.
fn assert_listed(
    order: CreditOrder,
    listed: &[CreditRecord],
    expected: &[CreditRecord],
    context: &str,
) {
    match order {
        CreditOrder::Key => assert_eq!(listed, expected, "{context} {order:?}"),
        CreditOrder::EventDateDesc => {
            let dates = |records: &[CreditRecord]| -> Vec<Option<NaiveDate>> {
                records.iter().map(|c| c.event_date).collect()
            };
            assert_eq!(dates(listed), dates(expected), "{context} {order:?}");
            let mut sorted = listed.to_vec();
            sorted.sort_by_key(|c| credit_sort_key(order, c));
            assert_eq!(sorted, expected, "{context} {order:?}");
        }
    }
}

/// Newest first, records of one date come in the order they were first stored: a later
/// batch after an earlier one whatever the keys, and a changed record keeps its place.
pub async fn credit_ties_list_in_stored_order(store: Arc<dyn Store>) {
    let on = |key: &str, day: Option<NaiveDate>| {
        block(
            RegistryId::VERRA,
            key,
            "VCS1",
            TransactionType::Retirement,
            Decimal::ONE,
            None,
            Some(2020),
            day,
        )
    };
    let day = Some(date(2024, 5, 1));
    let first = vec![on("d", day), on("b", day), on("x", None)];
    let second = vec![on("c", day), on("a", day), on("e", Some(date(2024, 5, 2)))];
    for batch in [&first, &second] {
        store
            .upsert_credits(&batch.iter().cloned().map(stamp).collect::<Vec<_>>())
            .await
            .expect("upsert");
    }
    let mut changed = on("b", day);
    changed.note = Some("changed".into());
    store
        .upsert_credits(&[stamp(changed)])
        .await
        .expect("change");
    let listed = walk(2, |after| {
        let store = Arc::clone(&store);
        async move {
            store
                .query_credits(
                    &CreditFilter::default(),
                    CreditOrder::EventDateDesc,
                    after.as_deref(),
                    2,
                )
                .await
                .expect("query")
        }
    })
    .await;
    let keys: Vec<&str> = listed.iter().map(|c| c.record_key.as_str()).collect();
    // Within a batch, records are stored in the order given.
    assert_eq!(keys, ["e", "d", "b", "c", "a", "x"]);
}

/// Records inserted (and changed) between pages: every record present from the start is
/// seen exactly once, pages stay in order, and records inserted after the cursor show up.
pub async fn credit_pages_survive_writes_between_pages(store: Arc<dyn Store>) {
    let projects = projects();
    write_projects(&store, &projects).await;
    let initial = credits(&projects, 200);
    write_credits(&store, &initial).await;
    let filter = CreditFilter {
        vintage_from: Some(2013),
        ..Default::default()
    };
    for order in [CreditOrder::Key, CreditOrder::EventDateDesc] {
        let mut seen: Vec<CreditRecord> = Vec::new();
        let mut after: Option<String> = None;
        let mut round = 0u64;
        loop {
            let page = store
                .query_credits(&filter, order, after.as_deref(), 9)
                .await
                .expect("page");
            round += 1;
            seen.extend(page.items.iter().map(|(_, c)| c.clone()));
            after = page.items.last().map(|(c, _)| c.clone());
            if !page.has_next_page {
                break;
            }
            // New records spread over the whole order, and a change to one already seen.
            let mut extra: Vec<CreditRecord> = (0..3)
                .map(|j| {
                    let mut c = initial[((round * 31 + j * 67) % 200) as usize].clone();
                    c.record_key = format!("{}-new-{order:?}-{round}-{j}", c.record_key);
                    c.vintage = Some(2014);
                    c
                })
                .collect();
            let mut changed = seen[0].clone();
            changed.note = Some(format!("changed in round {round}"));
            extra.push(changed);
            store
                .upsert_credits(&extra.into_iter().map(stamp).collect::<Vec<_>>())
                .await
                .expect("insert between pages");
        }
        let seen_keys: HashSet<(RegistryId, String)> = seen
            .iter()
            .map(|c| (c.registry, c.record_key.clone()))
            .collect();
        assert_eq!(seen_keys.len(), seen.len(), "no record twice");
        for c in initial
            .iter()
            .filter(|c| c.vintage.is_some_and(|v| v >= 2013))
        {
            assert!(
                seen_keys.contains(&(c.registry, c.record_key.clone())),
                "{} missing",
                c.record_key
            );
        }
        // The listing as it stands now: records keep their places while others are inserted
        // or changed, so the pages walked must follow it.
        let now = store
            .query_credits(&filter, order, None, 100_000)
            .await
            .expect("all");
        let listed: Vec<CreditRecord> = now.items.iter().map(|(_, c)| c.clone()).collect();
        let mut sorted = listed.clone();
        sorted.sort_by_key(|c| credit_sort_key(order, c));
        assert_listed(order, &listed, &sorted, "after the writes");
        let place: BTreeMap<(RegistryId, &str), usize> = listed
            .iter()
            .enumerate()
            .map(|(i, c)| ((c.registry, c.record_key.as_str()), i))
            .collect();
        let places: Vec<usize> = seen
            .iter()
            .map(|c| place[&(c.registry, c.record_key.as_str())])
            .collect();
        assert!(places.windows(2).all(|w| w[0] < w[1]), "strictly in order");
        // Every record ahead of the final cursor when it was written was found.
        let last = *places.last().expect("records");
        for c in &listed[..=last] {
            assert!(
                seen_keys.contains(&(c.registry, c.record_key.clone())) || {
                    // Inserted behind the cursor after it passed: legitimately not seen.
                    c.record_key.contains("-new-")
                }
            );
        }
        assert!(seen.len() > 200 - 200 / 7, "{} records seen", seen.len());
        assert_eq!(
            store.count_credits(&filter).await.expect("count") as usize,
            now.items.len()
        );
    }
}

fn overlap_block(key: u64, ns: &str, start: u64, end: u64) -> CreditRecord {
    block(
        RegistryId::VERRA,
        &format!("B{key:06}"),
        "P000",
        TransactionType::Issuance,
        Decimal::from(end - start + 1),
        Some((ns, start, end)),
        Some(2020),
        None,
    )
}

async fn overlapping(store: &Arc<dyn Store>, ns: &str, start: u64, end: u64) -> Vec<String> {
    store
        .credits_overlapping(ns, start, end, 10_000)
        .await
        .expect("overlap")
        .into_iter()
        .map(|c| c.record_key)
        .collect()
}

pub async fn serial_overlap_lookup(store: Arc<dyn Store>) {
    let max = carbonmesh_model::MAX_UNIT_NUMBER;
    let fixed = [
        // A long issuance far before the queried ranges.
        overlap_block(1, "verra", 1_000_000, 1_999_999),
        overlap_block(2, "verra", 1_500_000, 1_500_009),
        overlap_block(3, "verra", 1_500_010, 1_500_010),
        overlap_block(4, "verra", 2_000_000, 2_000_099),
        overlap_block(5, "other", 1_500_000, 1_500_009),
        overlap_block(6, "verra", 0, 0),
        overlap_block(7, "verra", max - 10, max),
        overlap_block(8, "verra", 5, max - 20),
    ];
    write_credits(&store, &fixed).await;
    // Contained in the long block only.
    assert_eq!(
        overlapping(&store, "verra", 1_900_000, 1_900_010).await,
        ["B000008", "B000001"]
    );
    // Partial overlaps at both ends, the other namespace left out, in start order.
    assert_eq!(
        overlapping(&store, "verra", 1_500_005, 1_500_010).await,
        ["B000008", "B000001", "B000002", "B000003"]
    );
    assert_eq!(
        overlapping(&store, "verra", 1_999_990, 2_000_000).await,
        ["B000008", "B000001", "B000004"]
    );
    // Adjacent ranges do not overlap.
    assert_eq!(
        overlapping(&store, "verra", 1, 4).await,
        Vec::<String>::new()
    );
    assert_eq!(
        overlapping(&store, "verra", 2_000_100, 2_000_200).await,
        ["B000008"]
    );
    assert_eq!(
        overlapping(&store, "verra", max - 19, max - 11).await,
        Vec::<String>::new()
    );
    assert_eq!(
        overlapping(&store, "verra", max, u64::MAX).await,
        ["B000007"]
    );
    assert_eq!(
        overlapping(&store, "verra", u64::MAX - 1, u64::MAX).await,
        Vec::<String>::new()
    );
    assert_eq!(overlapping(&store, "verra", 0, 0).await, ["B000006"]);
    assert_eq!(
        overlapping(&store, "nowhere", 0, max).await,
        Vec::<String>::new()
    );
    assert_eq!(
        overlapping(&store, "verra", 10, 9).await,
        Vec::<String>::new()
    );
    // The limit keeps the first blocks by start.
    let first_two: Vec<String> = store
        .credits_overlapping("verra", 0, max, 2)
        .await
        .expect("limited")
        .into_iter()
        .map(|c| c.record_key)
        .collect();
    assert_eq!(first_two, ["B000006", "B000008"]);

    // Random blocks of every length class, checked against a brute-force scan.
    let mut rng = Lcg(7);
    let mut blocks = Vec::new();
    for key in 100..3_100u64 {
        let span = match rng.below(10) {
            0..=5 => rng.below(100),
            6..=7 => rng.below(10_000),
            8 => rng.below(1_000_000),
            _ => rng.below(50_000_000),
        };
        let start = rng.below(100_000_000);
        blocks.push(overlap_block(key, "random", start, start + span));
    }
    write_credits(&store, &blocks).await;
    for _ in 0..200 {
        let start = rng.below(160_000_000);
        let end = start + [0, 10, 1_000, 100_000][rng.below(4) as usize];
        let mut expected: Vec<(u64, String)> = blocks
            .iter()
            .filter_map(|b| {
                let r = b.serial_range.as_ref().expect("range");
                (r.start <= end && r.end >= start).then(|| (r.start, b.record_key.clone()))
            })
            .collect();
        expected.sort();
        let expected: Vec<String> = expected.into_iter().map(|(_, k)| k).collect();
        assert_eq!(
            overlapping(&store, "random", start, end).await,
            expected,
            "{start}..={end}"
        );
    }
}

pub async fn statistics_sum_exactly(store: Arc<dyn Store>) {
    let projects = projects();
    write_projects(&store, &projects).await;
    let mut all = credits(&projects, 400);
    // Quantities SQLite would get wrong as floating point, and records of an unknown project.
    all[0].quantity = "0.1".parse().expect("decimal");
    all[4].quantity = "0.2".parse().expect("decimal");
    all[8].quantity = "1234.000000000000000001".parse().expect("decimal");
    // More fraction digits than SQLite sums as integers.
    all[12].quantity = "0.00000000000000000001".parse().expect("decimal");
    let mut orphan = all[1].clone();
    orphan.registry_project_id = "NOPE".into();
    orphan.record_key = "orphan".into();
    all.push(orphan);
    write_credits(&store, &all).await;
    let by_id: BTreeMap<String, Project> = projects.iter().map(|p| (p.id(), p.clone())).collect();
    let filters = [
        CreditFilter::default(),
        CreditFilter {
            registries: vec![RegistryId::GOLD_STANDARD],
            vintage_from: Some(2015),
            ..Default::default()
        },
        CreditFilter {
            category: Some("forestry".into()),
            ..Default::default()
        },
    ];
    for filter in &filters {
        for group in [
            StatsGroup::Registry,
            StatsGroup::Vintage,
            StatsGroup::Country,
            StatsGroup::Category,
            StatsGroup::EventMonth,
        ] {
            let mut expected: BTreeMap<(bool, i64, Option<String>), StatRow> = BTreeMap::new();
            for c in all.iter().filter(|c| credit_matches(c, &by_id, filter)) {
                let p = by_id.get(&c.project_id());
                let key = match group {
                    StatsGroup::Registry => Some(c.registry.as_str().to_owned()),
                    StatsGroup::Vintage => c.vintage.map(|v| v.to_string()),
                    StatsGroup::Country => p.and_then(|p| p.country.clone()),
                    StatsGroup::Category => p.and_then(|p| p.category.clone().or(p.sector.clone())),
                    StatsGroup::EventMonth => c.event_date.map(|d| d.format("%Y-%m").to_string()),
                };
                let numeric = match group {
                    StatsGroup::Vintage => c.vintage.map_or(0, i64::from),
                    _ => 0,
                };
                let row = expected
                    .entry((key.is_none(), numeric, key.clone()))
                    .or_insert_with(|| StatRow {
                        key,
                        ..Default::default()
                    });
                row.records += 1;
                match c.transaction_type.value {
                    TransactionType::Issuance => row.issued += c.quantity,
                    TransactionType::Retirement => row.retired += c.quantity,
                    TransactionType::Cancellation => row.cancelled += c.quantity,
                    TransactionType::Buffer => row.buffer += c.quantity,
                    TransactionType::Conversion => row.converted += c.quantity,
                    _ => {}
                }
            }
            let expected: Vec<StatRow> = expected.into_values().collect();
            let got = store.statistics(group, filter).await.expect("statistics");
            assert_eq!(got, expected, "{group:?} {filter:?}");
            // Exact, and printed the same whatever the backend.
            for row in &got {
                assert_eq!(row.issued.to_string(), row.issued.normalize().to_string());
            }
        }
    }
    let total = store
        .statistics(StatsGroup::Registry, &CreditFilter::default())
        .await
        .expect("statistics");
    assert_eq!(
        total.iter().map(|r| r.records).sum::<u64>(),
        all.len() as u64
    );
}

fn change_ids(page: &[carbonmesh_model::RecordVersion]) -> Vec<(RecordKind, String, i64)> {
    page.iter()
        .map(|v| (v.kind, v.record_key.clone(), v.version))
        .collect()
}

pub async fn changes_since_a_time(store: Arc<dyn Store>) {
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(20));
    let projects = projects();
    let verra_project = projects
        .iter()
        .find(|p| p.registry == RegistryId::VERRA)
        .expect("verra")
        .clone();
    let v1: Vec<CreditRecord> = credits(&projects, 12);
    write_credits(&store, &v1).await;
    pause().await;
    let since = Utc::now();
    pause().await;
    // v2 of records 0..6 (v1 stays before `since`), then v3 of records 0..3 (v2 superseded
    // after `since`), a new record and a project.
    let v2: Vec<CreditRecord> = v1[..6]
        .iter()
        .map(|c| CreditRecord {
            note: Some("v2".into()),
            ..c.clone()
        })
        .collect();
    write_credits(&store, &v2).await;
    pause().await;
    let mut later: Vec<CreditRecord> = v1[..3]
        .iter()
        .map(|c| CreditRecord {
            note: Some("v3".into()),
            ..c.clone()
        })
        .collect();
    let mut fresh = v1[0].clone();
    fresh.record_key = "fresh".into();
    later.push(fresh.clone());
    write_credits(&store, &later).await;
    store
        .upsert_projects(&[stamp(verra_project.clone())])
        .await
        .expect("project");

    let mut expected: Vec<(RecordKind, RegistryId, String, i64)> = Vec::new();
    for c in &v1[..6] {
        expected.push((RecordKind::Credit, c.registry, c.record_key.clone(), 2));
    }
    for c in &v1[..3] {
        expected.push((RecordKind::Credit, c.registry, c.record_key.clone(), 3));
    }
    expected.push((RecordKind::Credit, fresh.registry, "fresh".into(), 1));
    expected.push((
        RecordKind::Project,
        RegistryId::VERRA,
        verra_project.registry_project_id.clone(),
        1,
    ));
    for registry in [
        None,
        Some(RegistryId::VERRA),
        Some(RegistryId::GOLD_STANDARD),
    ] {
        for limit in [1, 4, 100] {
            let walked = walk(limit, |after| {
                let store = Arc::clone(&store);
                async move {
                    store
                        .changes(since, registry, after.as_deref(), limit)
                        .await
                        .expect("changes")
                }
            })
            .await;
            let mut wanted: Vec<_> = expected
                .iter()
                .filter(|(_, r, _, _)| registry.is_none_or(|want| want == *r))
                .map(|(k, _, key, v)| (*k, key.clone(), *v))
                .collect();
            let mut got = change_ids(&walked);
            assert!(
                walked
                    .windows(2)
                    .all(|w| w[0].recorded_at <= w[1].recorded_at),
                "oldest first"
            );
            assert!(walked.iter().all(|v| v.recorded_at >= since));
            assert!(registry.is_none_or(|r| walked.iter().all(|v| v.registry == r)));
            wanted.sort();
            got.sort();
            assert_eq!(got, wanted, "{registry:?} {limit}");
        }
    }
    // The superseded v2 is the version `versions()` reports, payload and provenance included.
    let all = store
        .changes(since, None, None, 100)
        .await
        .expect("changes");
    let v2_of_0 = all
        .items
        .iter()
        .find(|(_, v)| v.record_key == v1[0].record_key && v.version == 2)
        .expect("v2")
        .1
        .clone();
    let history = store
        .versions(RecordKind::Credit, v1[0].registry, &v1[0].record_key)
        .await
        .expect("versions");
    assert_eq!(history[1], v2_of_0);
    assert_eq!(v2_of_0.payload["note"], "v2");
    // Nothing after the future.
    let none = store
        .changes(Utc::now() + Duration::hours(1), None, None, 10)
        .await
        .expect("none");
    assert!(none.items.is_empty() && !none.has_next_page);
}

fn alert(
    id: &str,
    kind: AlertKind,
    severity: Severity,
    status: AlertStatus,
    registries: &[RegistryId],
    last_seen: DateTime<Utc>,
    assignee: Option<&str>,
) -> Alert {
    Alert {
        id: id.into(),
        kind,
        severity,
        status,
        explanation: format!("alert {id}"),
        records: registries
            .iter()
            .enumerate()
            .map(|(i, r)| AlertRecordRef {
                registry: *r,
                record_key: format!("{id}-{i}"),
                version: 1,
                serial: None,
                range: None,
            })
            .collect(),
        overlap: None,
        overlap_units: None,
        assignee: assignee.map(str::to_owned),
        first_seen: last_seen - Duration::days(1),
        last_seen,
    }
}

fn alerts() -> Vec<Alert> {
    let t0 = Utc
        .with_ymd_and_hms(2026, 10, 1, 8, 0, 0)
        .single()
        .expect("time");
    let severities = [
        Severity::Low,
        Severity::Critical,
        Severity::Info,
        Severity::High,
        Severity::Medium,
    ];
    let kinds = [
        AlertKind::SerialOverlapIssuance,
        AlertKind::UncoveredRetirement,
        AlertKind::CrossRegistryPeriodOverlap,
    ];
    let statuses = [
        AlertStatus::New,
        AlertStatus::InReview,
        AlertStatus::Dismissed,
    ];
    let registries: [&[RegistryId]; 3] = [
        &[RegistryId::VERRA],
        &[RegistryId::VERRA, RegistryId::GOLD_STANDARD],
        &[RegistryId::ACR],
    ];
    (0..30)
        .map(|i| {
            alert(
                &format!("a{:02}", (i * 11) % 30),
                kinds[i % 3],
                severities[i % 5],
                statuses[(i / 2) % 3],
                registries[(i / 3) % 3],
                // Ties on last_seen, broken by id.
                t0 + Duration::minutes((i % 4) as i64 * 10) + Duration::microseconds(1),
                (i % 4 == 1).then_some("ana"),
            )
        })
        .collect()
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    }
}

fn alert_matches(a: &Alert, f: &AlertFilter) -> bool {
    (f.statuses.is_empty() || f.statuses.contains(&a.status))
        && (f.kinds.is_empty() || f.kinds.contains(&a.kind))
        && (f.severities.is_empty() || f.severities.contains(&a.severity))
        && f.registry
            .is_none_or(|r| a.records.iter().any(|x| x.registry == r))
        && f.assignee
            .as_ref()
            .is_none_or(|x| a.assignee.as_ref() == Some(x))
}

/// The facets `filter` should count over `all`, computed here the slow way.
fn expected_facets(all: &[Alert], filter: &AlertFilter) -> AlertFacets {
    fn tally<'a>(values: impl Iterator<Item = &'a str>) -> Vec<FacetCount> {
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for v in values {
            *counts.entry(v).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(value, count)| FacetCount {
                value: value.to_owned(),
                count,
            })
            .collect()
    }
    let under = |without: AlertFilter| {
        all.iter()
            .filter(move |a| alert_matches(a, &without))
            .collect::<Vec<_>>()
    };
    let f = || filter.clone();
    AlertFacets {
        total: under(f()).len() as u64,
        statuses: tally(
            under(AlertFilter {
                statuses: Vec::new(),
                ..f()
            })
            .into_iter()
            .map(|a| a.status.as_str()),
        ),
        severities: tally(
            under(AlertFilter {
                severities: Vec::new(),
                ..f()
            })
            .into_iter()
            .map(|a| a.severity.as_str()),
        ),
        kinds: tally(
            under(AlertFilter {
                kinds: Vec::new(),
                ..f()
            })
            .into_iter()
            .map(|a| a.kind.as_str()),
        ),
        assignees: tally(
            under(AlertFilter {
                assignee: None,
                ..f()
            })
            .into_iter()
            .filter_map(|a| a.assignee.as_deref()),
        ),
        registries: tally(
            under(AlertFilter {
                registry: None,
                ..f()
            })
            .into_iter()
            .flat_map(|a| {
                a.records
                    .iter()
                    .map(|r| r.registry.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
            }),
        ),
    }
}

pub async fn alert_queries_filter_and_order(store: Arc<dyn Store>) {
    let mut all = alerts();
    for a in &all {
        store.save_alert(a, None).await.expect("save");
    }
    // A transition changes the status column: filters read it.
    let event = AlertEvent {
        alert_id: all[0].id.clone(),
        actor: "ana".into(),
        at: Utc::now(),
        from_status: Some(all[0].status),
        to_status: Some(AlertStatus::Escalated),
        reason: None,
        note: None,
        actor_key: None,
        channel: None,
        decision: None,
    };
    assert!(
        store
            .transition_alert(
                &all[0].id,
                all[0].status,
                AlertStatus::Escalated,
                Some("bo"),
                &event
            )
            .await
            .expect("transition")
    );
    all[0].status = AlertStatus::Escalated;
    all[0].assignee = Some("bo".into());
    let filters = [
        AlertFilter::default(),
        AlertFilter {
            statuses: vec![AlertStatus::New, AlertStatus::Escalated],
            ..Default::default()
        },
        AlertFilter {
            kinds: vec![AlertKind::UncoveredRetirement],
            ..Default::default()
        },
        AlertFilter {
            severities: vec![Severity::Critical, Severity::Info],
            ..Default::default()
        },
        AlertFilter {
            registry: Some(RegistryId::GOLD_STANDARD),
            ..Default::default()
        },
        AlertFilter {
            registry: Some(RegistryId::VERRA),
            statuses: vec![AlertStatus::InReview],
            ..Default::default()
        },
        AlertFilter {
            assignee: Some("ana".into()),
            ..Default::default()
        },
        AlertFilter {
            assignee: Some("bo".into()),
            ..Default::default()
        },
    ];
    for filter in &filters {
        let mut expected: Vec<Alert> = all
            .iter()
            .filter(|a| alert_matches(a, filter))
            .cloned()
            .collect();
        expected.sort_by(|a, b| {
            (
                severity_rank(a.severity),
                std::cmp::Reverse(a.last_seen),
                &a.id,
            )
                .cmp(&(
                    severity_rank(b.severity),
                    std::cmp::Reverse(b.last_seen),
                    &b.id,
                ))
        });
        assert!(!expected.is_empty(), "{filter:?}");
        assert_eq!(
            store.count_alerts(filter).await.expect("count") as usize,
            expected.len()
        );
        assert_eq!(
            store.alert_facets(filter).await.expect("facets"),
            expected_facets(&all, filter),
            "{filter:?}"
        );
        for limit in [1, 4, 50] {
            let walked = walk(limit, |after| {
                let store = Arc::clone(&store);
                async move {
                    store
                        .query_alerts(filter, after.as_deref(), limit)
                        .await
                        .expect("alerts")
                }
            })
            .await;
            assert_eq!(walked, expected, "{filter:?} {limit}");
        }
    }
}

pub async fn batch_lookups_skip_missing(store: Arc<dyn Store>) {
    let projects = projects();
    write_projects(&store, &projects).await;
    let all = credits(&projects, 120);
    write_credits(&store, &all).await;

    let ids = vec![
        projects[3].id(),
        "verra:missing".to_owned(),
        projects[0].id(),
    ];
    let mut found: Vec<String> = store
        .projects_by_ids(&ids)
        .await
        .expect("projects")
        .iter()
        .map(Project::id)
        .collect();
    found.sort();
    let mut wanted = vec![projects[0].id(), projects[3].id()];
    wanted.sort();
    assert_eq!(found, wanted);
    assert!(store.projects_by_ids(&[]).await.expect("none").is_empty());
    // More ids than one statement binds.
    let many: Vec<String> = (0..1_200)
        .map(|i| format!("verra:missing-{i}"))
        .chain(projects.iter().map(Project::id))
        .collect();
    assert_eq!(
        store.projects_by_ids(&many).await.expect("many").len(),
        projects.len()
    );

    let keys = vec![
        (all[5].registry, all[5].record_key.clone()),
        (RegistryId::VERRA, "missing".to_owned()),
        (all[9].registry, all[9].record_key.clone()),
        // The right key in the wrong registry.
        (RegistryId::CDM, all[9].record_key.clone()),
    ];
    let mut found = store.credits_by_keys(&keys).await.expect("credits");
    found.sort_by(|a, b| a.record_key.cmp(&b.record_key));
    let mut wanted = vec![all[5].clone(), all[9].clone()];
    wanted.sort_by(|a, b| a.record_key.cmp(&b.record_key));
    assert_eq!(found, wanted);
    assert!(store.credits_by_keys(&[]).await.expect("none").is_empty());

    let project_ids = vec![projects[0].id(), projects[5].id(), "verra:none".to_owned()];
    let got = store
        .credits_of_projects(&project_ids, 2)
        .await
        .expect("of projects");
    let mut wanted = Vec::new();
    for id in &project_ids {
        // In the order first stored: the order of the batch.
        let of = all.iter().filter(|c| c.project_id() == *id);
        wanted.extend(of.take(2).cloned());
    }
    let set = |v: &[CreditRecord]| -> HashSet<String> {
        v.iter().map(|c| c.record_key.clone()).collect()
    };
    assert_eq!(got.len(), wanted.len());
    assert_eq!(set(&got), set(&wanted));
    assert!(wanted.len() >= 2);

    let a = alerts();
    for alert in &a[..3] {
        store.save_alert(alert, None).await.expect("save");
    }
    let t = Utc
        .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("time");
    let mut events = Vec::new();
    for (i, alert) in a[..3].iter().enumerate() {
        for n in 0..=i {
            let event = AlertEvent {
                alert_id: alert.id.clone(),
                actor: "ana".into(),
                at: t + Duration::seconds(n as i64),
                from_status: None,
                to_status: None,
                reason: None,
                note: Some(format!("note {n}")),
                // Who, how and what was decided come back as written.
                actor_key: Some("key-ana".into()),
                channel: Some(carbonmesh_model::Channel::Cli),
                decision: (n == 1).then_some(AlertStatus::Confirmed),
            };
            store.add_alert_event(&event).await.expect("event");
            events.push(event);
        }
    }
    let ids = vec![a[2].id.clone(), "missing".into(), a[1].id.clone()];
    let got = store.alert_events_of(&ids).await.expect("events");
    assert_eq!(got.len(), 5);
    for id in [&a[1].id, &a[2].id] {
        let of: Vec<&AlertEvent> = got.iter().filter(|e| &e.alert_id == id).collect();
        let wanted: Vec<&AlertEvent> = events.iter().filter(|e| &e.alert_id == id).collect();
        assert_eq!(of, wanted, "each history oldest first");
    }
}

pub async fn registry_counts_and_rejected_pages(store: Arc<dyn Store>) {
    assert!(store.registry_counts().await.expect("empty").is_empty());
    let projects = projects();
    let before = Utc::now();
    write_projects(&store, &projects).await;
    let all = credits(&projects, 90);
    write_credits(&store, &all).await;
    let counts = store.registry_counts().await.expect("counts");
    let registries: Vec<RegistryId> = counts.iter().map(|c| c.registry).collect();
    let mut sorted = registries.clone();
    sorted.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(registries, sorted);
    for c in &counts {
        assert_eq!(
            c.projects as usize,
            projects.iter().filter(|p| p.registry == c.registry).count()
        );
        assert_eq!(
            c.credits as usize,
            all.iter().filter(|x| x.registry == c.registry).count()
        );
        let last = c.last_write.expect("written");
        assert!(last >= before - Duration::seconds(1) && last <= Utc::now());
    }
    assert_eq!(counts.len(), 3);

    let rejected: Vec<RejectedRecord> = (0..25)
        .map(|i| RejectedRecord {
            connector: if i % 3 == 0 { "verra" } else { "gold-standard" }.into(),
            source: format!("file.csv:{i}"),
            line: Some(i),
            field: Some("quantity".into()),
            reason: format!("reason {i}"),
            raw: format!("raw {i}"),
            run_id: None,
            rejected_at: Utc::now(),
            last_seen_at: Utc::now(),
            seen_count: 1,
        })
        .collect();
    store.insert_rejected(&rejected).await.expect("rejected");
    for connector in [None, Some("verra"), Some("gold-standard"), Some("none")] {
        let walked = walk(4, |after| {
            let store = Arc::clone(&store);
            async move {
                store
                    .rejected_page(connector, after.as_deref(), 4)
                    .await
                    .expect("page")
            }
        })
        .await;
        let wanted: Vec<u64> = rejected
            .iter()
            .rev()
            .filter(|r| connector.is_none_or(|c| r.connector == c))
            .filter_map(|r| r.line)
            .collect();
        let got: Vec<u64> = walked.iter().filter_map(|r| r.line).collect();
        assert_eq!(got, wanted, "{connector:?}");
    }
    let newest = store.rejected(3).await.expect("rejected");
    let page = store.rejected_page(None, None, 3).await.expect("page");
    assert_eq!(
        page.items.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
        newest
    );
}

/// The roll-up of `project`'s records, computed here from the records: a block registry's
/// issued units are all its blocks and its remaining the active ones; a ledger registry's
/// issued units are its issuances, less what was used for its remaining.
fn expected_rollup(project: &Project, records: &[&CreditRecord]) -> ProjectRollup {
    let of = |kind: TransactionType| -> Decimal {
        records
            .iter()
            .filter(|c| c.transaction_type.value == kind)
            .map(|c| c.quantity)
            .sum()
    };
    let span = |kind: TransactionType| {
        let days = || {
            records
                .iter()
                .filter(move |c| c.transaction_type.value == kind)
                .filter_map(|c| c.event_date)
        };
        (days().min(), days().max())
    };
    let (retired, cancelled, converted, buffer) = (
        of(TransactionType::Retirement),
        of(TransactionType::Cancellation),
        of(TransactionType::Conversion),
        of(TransactionType::Buffer),
    );
    let (issued, remaining) = if project.registry.reports_blocks() {
        let active = records
            .iter()
            .filter(|c| c.status.value == UnitStatus::Active)
            .map(|c| c.quantity)
            .sum();
        (
            of(TransactionType::Issuance) + retired + cancelled + converted + buffer,
            active,
        )
    } else {
        let issued = of(TransactionType::Issuance);
        (issued, issued - retired - cancelled - converted - buffer)
    };
    let (first_issuance, last_issuance) = span(TransactionType::Issuance);
    let (first_retirement, last_retirement) = span(TransactionType::Retirement);
    ProjectRollup {
        project_id: project.id(),
        records: records.len() as u64,
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

/// Project roll-ups equal the sums of their records after every write (records added, then
/// changed so that a project's first and last days move back), and listings sorted or
/// filtered by them page correctly.
pub async fn project_rollups_follow_their_records(store: Arc<dyn Store>) {
    let projects = projects();
    write_projects(&store, &projects).await;
    let mut all = credits(&projects, 300);
    all[3].quantity = "0.000000000000000001".parse().expect("decimal");
    let check = |all: Vec<CreditRecord>| {
        let store = Arc::clone(&store);
        let projects = projects.clone();
        async move {
            let ids: Vec<String> = projects.iter().map(Project::id).collect();
            let mut got = store.project_rollups(&ids).await.expect("rollups");
            got.sort_by(|a, b| a.project_id.cmp(&b.project_id));
            let mut expected: Vec<ProjectRollup> = projects
                .iter()
                .filter_map(|p| {
                    let records: Vec<&CreditRecord> =
                        all.iter().filter(|c| c.project_id() == p.id()).collect();
                    (!records.is_empty()).then(|| expected_rollup(p, &records))
                })
                .collect();
            expected.sort_by(|a, b| a.project_id.cmp(&b.project_id));
            assert_eq!(got, expected);
            expected
        }
    };
    write_credits(&store, &all).await;
    check(all.clone()).await;
    // Changes: the earliest issuance and latest retirement of every project move to other
    // days, one retirement becomes an issuance, a Verra block is retired.
    for c in all.iter_mut().step_by(4) {
        c.event_date = c.event_date.map(|d| d + Duration::days(400));
    }
    all[1].transaction_type = Normalized::new(TransactionType::Issuance, "Issuance");
    all[1].status = Normalized::new(UnitStatus::Active, "Active");
    let verra_active = all
        .iter()
        .position(|c| c.registry == RegistryId::VERRA && c.status.value == UnitStatus::Active)
        .expect("an active Verra block");
    all[verra_active].transaction_type = Normalized::new(TransactionType::Retirement, "Retired");
    all[verra_active].status = Normalized::new(UnitStatus::Retired, "Retired");
    write_credits(&store, &all).await;
    let rollups = check(all.clone()).await;
    assert!(
        rollups
            .iter()
            .any(|r| r.first_retirement.is_some() && r.last_issuance.is_some()),
        "the data has both kinds of days"
    );

    // Listings by retired units and by first issuance, whole and filtered, in pages.
    let by_id: BTreeMap<&str, &ProjectRollup> =
        rollups.iter().map(|r| (r.project_id.as_str(), r)).collect();
    let kg = |d: Decimal| (d * Decimal::from(1000)).floor();
    let retired_kg = |p: &Project| {
        by_id
            .get(p.id().as_str())
            .map_or(Decimal::ZERO, |r| kg(r.retired))
    };
    let first = |p: &Project| by_id.get(p.id().as_str()).and_then(|r| r.first_issuance);
    let threshold = Decimal::new(50_000, 0);
    let days = DateRange {
        from: Some(date(2020, 3, 1)),
        to: Some(date(2021, 6, 30)),
    };
    let filters = [
        ProjectFilter::default(),
        ProjectFilter {
            retired_at_least: Some(threshold),
            ..Default::default()
        },
        ProjectFilter {
            first_issuance: Some(days),
            registries: vec![RegistryId::VERRA, RegistryId::ACR],
            ..Default::default()
        },
    ];
    for filter in &filters {
        let mut expected: Vec<&Project> = projects
            .iter()
            .filter(|p| filter.registries.is_empty() || filter.registries.contains(&p.registry))
            .filter(|p| {
                filter
                    .retired_at_least
                    .is_none_or(|t| retired_kg(p) >= kg(t))
            })
            .filter(|p| {
                filter.first_issuance.is_none_or(|r| {
                    first(p).is_some_and(|d| {
                        r.from.is_none_or(|f| d >= f) && r.to.is_none_or(|t| d <= t)
                    })
                })
            })
            .collect();
        assert!(!expected.is_empty(), "{filter:?} matches something");
        assert_eq!(
            store.count_projects(filter).await.expect("count") as usize,
            expected.len(),
            "{filter:?}"
        );
        for order in [ProjectOrder::RetiredDesc, ProjectOrder::FirstIssuance] {
            match order {
                ProjectOrder::RetiredDesc => expected
                    .sort_by(|a, b| retired_kg(b).cmp(&retired_kg(a)).then(a.id().cmp(&b.id()))),
                _ => expected.sort_by(|a, b| {
                    let key = |p: &Project| (first(p).is_none(), first(p), p.id());
                    key(a).cmp(&key(b))
                }),
            }
            let want: Vec<Project> = expected.iter().map(|p| (*p).clone()).collect();
            for limit in [1, 4, 100] {
                let walked = walk(limit, |after| {
                    let store = Arc::clone(&store);
                    async move {
                        store
                            .query_projects(filter, order, after.as_deref(), limit)
                            .await
                            .expect("query")
                    }
                })
                .await;
                assert_eq!(walked, want, "{filter:?} {order:?} {limit}");
            }
        }
    }
}

/// The raw sectors, categories and project types of the current projects, each counted by
/// registry as the projects written say.
pub async fn project_vocabulary_counts_raw_values(store: Arc<dyn Store>) {
    assert!(store.project_vocabulary().await.expect("empty").is_empty());
    let projects = projects();
    write_projects(&store, &projects).await;
    let mut expected: BTreeMap<(String, &str, String), u64> = BTreeMap::new();
    for p in &projects {
        for (field, value) in [
            ("sector", &p.sector),
            ("category", &p.category),
            ("project_type", &p.project_type),
        ] {
            if let Some(v) = value {
                *expected
                    .entry((p.registry.as_str().to_owned(), field, v.clone()))
                    .or_default() += 1;
            }
        }
    }
    let found: BTreeMap<(String, &str, String), u64> = store
        .project_vocabulary()
        .await
        .expect("vocabulary")
        .into_iter()
        .map(|v| {
            (
                (v.registry.as_str().to_owned(), v.field, v.value),
                v.projects,
            )
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(found, expected);

    let mut kinds: BTreeMap<RawKind, u64> = BTreeMap::new();
    for p in &projects {
        *kinds.entry(kind_of(p)).or_default() += 1;
    }
    let stored: BTreeMap<RawKind, u64> = store
        .project_kinds()
        .await
        .expect("kinds")
        .into_iter()
        .collect();
    assert_eq!(stored, kinds);
}

/// Listings, counts, statistics and single projects as of a moment equal what was current
/// then: records changed later appear as they were, records added later do not.
pub async fn queries_as_of_a_moment_see_that_moment(store: Arc<dyn Store>) {
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(20));
    let projects_v1 = projects();
    let credits_v1 = credits(&projects_v1, 60);
    write_projects(&store, &projects_v1).await;
    write_credits(&store, &credits_v1).await;
    pause().await;
    let t1 = Utc::now();
    pause().await;
    // v2: a third of the records and projects change, a few are added.
    let mut projects_v2 = projects_v1.clone();
    for p in projects_v2.iter_mut().step_by(3) {
        p.name = format!("{} (renamed)", p.name);
        p.country = Some("KE".into());
    }
    let mut credits_v2 = credits_v1.clone();
    for c in credits_v2.iter_mut().step_by(3) {
        c.quantity += Decimal::ONE;
        c.status = Normalized::new(UnitStatus::Retired, "Retired");
        c.transaction_type = Normalized::new(TransactionType::Retirement, "Retired");
    }
    let mut added = credits(&projects_v1, 70)[60..].to_vec();
    for (i, c) in added.iter_mut().enumerate() {
        c.record_key = format!("added-{i}");
    }
    credits_v2.extend(added);
    write_projects(&store, &projects_v2).await;
    write_credits(&store, &credits_v2).await;
    pause().await;
    let t2 = Utc::now();
    pause().await;
    // v3: records of v2 change again (their v2 is superseded after t2).
    let mut credits_v3 = credits_v2.clone();
    for c in credits_v3.iter_mut().step_by(2) {
        c.note = Some("v3".into());
    }
    write_credits(&store, &credits_v3).await;
    let before = Utc::now() - Duration::days(1);

    for (at, projects, credits) in [
        (t1, &projects_v1, &credits_v1),
        (t2, &projects_v2, &credits_v2),
        (Utc::now(), &projects_v2, &credits_v3),
        (before, &Vec::new(), &Vec::new()),
    ] {
        let by_key = |list: &[CreditRecord]| -> BTreeMap<(RegistryId, String), CreditRecord> {
            list.iter()
                .map(|c| ((c.registry, c.record_key.clone()), c.clone()))
                .collect()
        };
        let filter = CreditFilter {
            as_of: Some(at),
            ..Default::default()
        };
        for order in [CreditOrder::Key, CreditOrder::EventDateDesc] {
            let walked = walk(7, |after| {
                let store = Arc::clone(&store);
                let filter = filter.clone();
                async move {
                    store
                        .query_credits(&filter, order, after.as_deref(), 7)
                        .await
                        .expect("credits as of")
                }
            })
            .await;
            assert_eq!(walked.len(), credits.len(), "{at} {order:?}");
            assert_eq!(by_key(&walked), by_key(credits), "{at} {order:?}");
        }
        assert_eq!(
            store.count_credits(&filter).await.expect("count") as usize,
            credits.len()
        );
        let retired_in_kenya = CreditFilter {
            as_of: Some(at),
            countries: vec!["KE".into()],
            transaction_types: vec![TransactionType::Retirement],
            ..Default::default()
        };
        let kenyan: BTreeMap<String, &Project> = projects
            .iter()
            .filter(|p| p.country.as_deref() == Some("KE"))
            .map(|p| (p.id(), p))
            .collect();
        let expected: Decimal = credits
            .iter()
            .filter(|c| {
                kenyan.contains_key(&c.project_id())
                    && c.transaction_type.value == TransactionType::Retirement
            })
            .map(|c| c.quantity)
            .sum();
        let stats = store
            .statistics(StatsGroup::Registry, &retired_in_kenya)
            .await
            .expect("statistics as of");
        let retired: Decimal = stats.iter().map(|r| r.retired).sum();
        assert_eq!(retired, expected, "{at}");

        let project_filter = ProjectFilter {
            as_of: Some(at),
            ..Default::default()
        };
        let walked = walk(5, |after| {
            let store = Arc::clone(&store);
            let filter = project_filter.clone();
            async move {
                store
                    .query_projects(&filter, ProjectOrder::Name, after.as_deref(), 5)
                    .await
                    .expect("projects as of")
            }
        })
        .await;
        let mut want = projects.clone();
        want.sort_by_key(|p| (p.name.clone(), p.id()));
        assert_eq!(walked, want, "{at}");
        assert_eq!(
            store.count_projects(&project_filter).await.expect("count") as usize,
            projects.len()
        );
        for p in &projects_v1 {
            let got = store
                .project_as_of(&p.id(), at)
                .await
                .expect("project as of");
            assert_eq!(
                got.as_ref(),
                projects.iter().find(|q| q.id() == p.id()),
                "{at}"
            );
        }
    }
}

/// Claims: a search finds the records whose beneficiary is the same name however spelled,
/// or whose account, reason or note holds the words; beneficiaries group across registries.
pub async fn claims_are_found_by_harmonized_beneficiary(store: Arc<dyn Store>) {
    let projects = projects();
    let mut all = credits(&projects, 80);
    let spellings = [
        "Microsoft Corporation",
        "MICROSOFT CORP.",
        "Microsoft, Inc",
        "Microsoft Ireland Operations Ltd",
    ];
    for (i, c) in all.iter_mut().enumerate() {
        c.transaction_type = Normalized::new(TransactionType::Retirement, "Retired");
        c.status = Normalized::new(UnitStatus::Retired, "Retired");
        match i % 10 {
            0..=3 => c.beneficiary = Some(spellings[i % 10].to_owned()),
            4 => c.beneficiary = Some("Microsofty Games".to_owned()),
            5 => c.account = Some("Retirements for MICROSOFT".to_owned()),
            6 => c.note = Some("offsetting microsoft's 2030 goal".to_owned()),
            7 => c.reason = Some("Microsoft voluntary claim".to_owned()),
            _ => c.beneficiary = Some("Delta Air Lines, Inc.".to_owned()),
        }
    }
    write_credits(&store, &all).await;
    let filter = CreditFilter {
        claim: Some("microsoft".into()),
        ..Default::default()
    };
    let walked = walk(9, |after| {
        let store = Arc::clone(&store);
        let filter = filter.clone();
        async move {
            store
                .query_credits(&filter, CreditOrder::Key, after.as_deref(), 9)
                .await
                .expect("claims")
        }
    })
    .await;
    let mut got: Vec<String> = walked.iter().map(|c| c.record_key.clone()).collect();
    let mut want: Vec<String> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(i % 10, 0..=3 | 5..=7))
        .map(|(_, c)| c.record_key.clone())
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "Microsofty Games and Delta are not Microsoft");
    assert_eq!(
        store.count_credits(&filter).await.expect("count") as usize,
        want.len()
    );
    let stats = store
        .statistics(StatsGroup::Registry, &filter)
        .await
        .expect("statistics");
    let expected: Decimal = all
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(i % 10, 0..=3 | 5..=7))
        .map(|(_, c)| c.quantity)
        .sum();
    assert_eq!(stats.iter().map(|r| r.retired).sum::<Decimal>(), expected);

    // "Microsoft Corp" reads as `microsoft`: the group of that name, however spelled.
    let found = store
        .beneficiaries("Microsoft Corp", 10)
        .await
        .expect("beneficiaries");
    let microsoft = found
        .iter()
        .find(|b| b.name == "microsoft")
        .expect("one group for the spellings of Microsoft");
    let mut spelled = spellings[..3].to_vec();
    spelled.sort();
    assert_eq!(microsoft.spellings, spelled);
    let named: Vec<&CreditRecord> = all
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 10 <= 2)
        .map(|(_, c)| c)
        .collect();
    assert_eq!(microsoft.records as usize, named.len());
    assert_eq!(
        microsoft.units,
        named
            .iter()
            .map(|c| c.quantity)
            .sum::<Decimal>()
            .normalize()
    );
    let mut registries: Vec<RegistryId> = named.iter().map(|c| c.registry).collect();
    registries.sort();
    registries.dedup();
    assert!(registries.len() > 1, "the data spans registries");
    assert_eq!(microsoft.registries, registries);
    // Two names hold "microsoft": both listed, most units first.
    let both = store
        .beneficiaries("microsoft", 10)
        .await
        .expect("beneficiaries");
    let mut names: Vec<&str> = both.iter().map(|b| b.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["microsoft", "microsoft ireland operations"]);
    assert!(both.windows(2).all(|w| w[0].units >= w[1].units));
    assert!(
        store
            .beneficiaries("nobody at all", 10)
            .await
            .expect("none")
            .is_empty()
    );
}

/// Records a registry no longer lists are retracted: gone from listings, counts, totals and
/// serial lookups, still there as they were before the retraction, and back when listed again.
pub async fn unseen_records_are_retracted_and_come_back(store: Arc<dyn Store>) {
    let projects = projects();
    let all = credits(&projects, 40);
    write_credits(&store, &all).await;
    let verra: Vec<&CreditRecord> = all
        .iter()
        .filter(|c| c.registry == RegistryId::VERRA)
        .collect();
    assert!(verra.len() >= 6);
    let gone: Vec<&CreditRecord> = verra.iter().take(3).copied().collect();
    let seen: HashSet<i64> = verra[3..]
        .iter()
        .map(|c| carbonmesh_store::key_hash("verra", &c.record_key, 0))
        .collect();
    let keys = |page: Vec<CreditRecord>| -> Vec<String> {
        let mut k: Vec<String> = page
            .into_iter()
            .map(|c| format!("{}:{}", c.registry, c.record_key))
            .collect();
        k.sort();
        k
    };
    let listed = || async {
        keys(
            walk(100, |after| {
                let store = Arc::clone(&store);
                async move {
                    store
                        .query_credits(
                            &CreditFilter::default(),
                            CreditOrder::Key,
                            after.as_deref(),
                            100,
                        )
                        .await
                        .expect("list")
                }
            })
            .await,
        )
    };
    let everything = listed().await;
    let before = Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // Nearly everything unseen: refused, nothing retracted.
    let refused = store
        .retract_unseen(RegistryId::VERRA, &HashSet::new(), Utc::now())
        .await
        .expect("retract");
    assert_eq!(refused.retracted, 0);
    assert_eq!(refused.refused, Some(verra.len() as u64));
    assert_eq!(listed().await, everything);

    let done = store
        .retract_unseen(RegistryId::VERRA, &seen, Utc::now())
        .await
        .expect("retract");
    assert_eq!(
        done,
        carbonmesh_store::Retraction {
            retracted: 3,
            refused: None
        }
    );
    let expected: Vec<String> = everything
        .iter()
        .filter(|k| {
            !gone
                .iter()
                .any(|g| **k == format!("verra:{}", g.record_key))
        })
        .cloned()
        .collect();
    assert_eq!(listed().await, expected);
    let total = |stats: Vec<StatRow>| stats.iter().map(|r| r.records).sum::<u64>();
    assert_eq!(
        store
            .count_credits(&CreditFilter::default())
            .await
            .expect("count") as usize,
        expected.len()
    );
    assert_eq!(
        total(
            store
                .statistics(StatsGroup::Registry, &CreditFilter::default())
                .await
                .expect("stats")
        ) as usize,
        expected.len()
    );
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.credits_page(after, 7).await.expect("page");
        let Some(last) = page.last() else { break };
        after = Some(last.position);
        paged.extend(page.into_iter().map(|p| p.record));
    }
    assert_eq!(keys(paged), expected, "what the matcher and exports read");
    let range = gone[0].serial_range.as_ref().expect("a range");
    let overlapping = store
        .credits_overlapping(&range.namespace, range.start, range.end, 10)
        .await
        .expect("overlap");
    assert!(
        !overlapping
            .iter()
            .any(|c| c.record_key == gone[0].record_key)
    );
    // As of before the retraction, the records read as they were.
    let as_of = CreditFilter {
        as_of: Some(before),
        ..Default::default()
    };
    let then = store
        .query_credits(&as_of, CreditOrder::Key, None, 100)
        .await
        .expect("as of");
    assert_eq!(
        keys(then.items.into_iter().map(|(_, c)| c).collect()),
        everything
    );
    assert_eq!(
        store.count_credits(&as_of).await.expect("count") as usize,
        everything.len()
    );

    // Listed again: back, as a new version.
    let counts = store
        .upsert_credits(&[stamp(gone[0].clone())])
        .await
        .expect("again");
    assert_eq!(counts.changed, 1, "{counts:?}");
    let mut back = expected.clone();
    back.push(format!("verra:{}", gone[0].record_key));
    back.sort();
    assert_eq!(listed().await, back);
    assert_eq!(
        store
            .count_credits(&CreditFilter::default())
            .await
            .expect("count") as usize,
        back.len()
    );
    let history = store
        .versions(RecordKind::Credit, RegistryId::VERRA, &gone[0].record_key)
        .await
        .expect("history");
    assert_eq!(history.len(), 3, "written, retracted, back");
}
