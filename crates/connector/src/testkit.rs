//! Helpers for connector tests on the real registry samples: read a fixture file through a
//! connector's `read_file` and `normalize`, the way `carbonmesh import` does.

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroU32;
use std::time::Duration;

use carbonmesh_model::CreditRecord;
use rust_decimal::Decimal;

use crate::{Connector, Feed, FetchError, HttpClient, HttpPolicy, Page, Record, Rejection};

/// An HTTP client with short timeouts and back-off, for tests on loopback.
pub fn quick_http() -> HttpClient {
    let policy = HttpPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 2,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
        requests_per_second: NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN),
        ..HttpPolicy::default()
    };
    match HttpClient::new(policy) {
        Ok(client) => client,
        Err(error) => panic!("cannot build the test HTTP client: {error}"),
    }
}

/// The bytes of fixture `name` in folder `dir`; panics (never skips) when it is missing.
pub fn read_fixture(dir: &str, name: &str) -> Vec<u8> {
    let path = format!("{dir}{name}");
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!("fixture {path} is missing ({e}): the shared fixtures must be present")
    })
}

/// What a fixture file turned into.
pub struct Imported {
    /// The raw records and unreadable rows `read_file` produced.
    pub page: Page,
    /// The normalized records.
    pub records: Vec<Record>,
    /// Raw records `normalize` rejected, by line.
    pub rejected: Vec<(u64, Rejection)>,
}

/// Reads `bytes` (the file `name`) through `connector`, checking that the feed is detected
/// as `expected` and that normalizing is deterministic.
pub fn import_fixture(
    connector: &dyn Connector,
    name: &str,
    bytes: &[u8],
    expected: Feed,
) -> Imported {
    let head = &bytes[..bytes.len().min(4096)];
    assert_eq!(connector.detect_feed(name, head), Some(expected), "{name}");
    let page = match connector.read_file(expected, name, bytes) {
        Ok(page) => page,
        Err(error) => panic!("{name} is not readable: {error}"),
    };
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    for raw in &page.records {
        let first = connector.normalize(raw);
        assert_eq!(
            first,
            connector.normalize(raw),
            "normalize is deterministic"
        );
        match first {
            Ok(r) => records.extend(r),
            Err(e) => rejected.push((raw.line, e)),
        }
    }
    Imported {
        page,
        records,
        rejected,
    }
}

/// The credit records among `records`.
pub fn credits(records: &[Record]) -> Vec<&CreditRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Credit(c) => Some(c),
            Record::Project(_) => None,
        })
        .collect()
}

/// The keys of a synced feed, sorted: project ids, and the serials of credit blocks. Panics
/// unless every block carries a serial and an integer range of as many units as its quantity,
/// in a namespace starting with `namespace`.
pub fn block_keys(records: &[Record], namespace: &str) -> Vec<String> {
    let mut keys: Vec<String> = records
        .iter()
        .map(|record| match record {
            Record::Project(p) => p.registry_project_id.clone(),
            Record::Credit(credit) => {
                let serial = credit.serial.clone().expect("a serial");
                let range = credit.serial_range.clone().expect("a serial range");
                assert_eq!(Decimal::from(range.quantity()), credit.quantity, "{serial}");
                assert!(
                    range.namespace.starts_with(namespace),
                    "{}",
                    range.namespace
                );
                serial
            }
        })
        .collect();
    keys.sort();
    keys
}

/// Credit quantities summed per `key`: the totals a test compares with a file's own columns.
pub fn totals_by<'a, K: Ord>(
    credits: impl IntoIterator<Item = &'a CreditRecord>,
    key: impl Fn(&'a CreditRecord) -> K,
) -> BTreeMap<K, Decimal> {
    let mut totals = BTreeMap::new();
    for c in credits {
        *totals.entry(key(c)).or_default() += c.quantity;
    }
    totals
}

/// Quantities per (project, vintage, transaction type).
pub type Totals = BTreeMap<(String, i32, &'static str), Decimal>;

/// The [`Totals`] of the credit records among `records`; panics on one without a vintage.
pub fn totals_of(records: &[Record]) -> Totals {
    totals_by(credits(records), |c| {
        (
            c.registry_project_id.clone(),
            c.vintage.expect("vintage"),
            c.transaction_type.value.as_str(),
        )
    })
}

/// A CSV fixture read with the plain `csv` crate (the fixture files are well-quoted), as maps
/// from header, passed through `header`, to field.
pub fn csv_rows(bytes: &[u8], header: fn(&str) -> String) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = match reader.headers() {
        Ok(headers) => headers.clone(),
        Err(error) => panic!("no header row: {error}"),
    };
    reader
        .records()
        .map(|r| {
            let r = r.unwrap_or_else(|error| panic!("unreadable row: {error}"));
            headers
                .iter()
                .map(header)
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// A quantity as a file writes it, normalized; a blank field is zero.
pub fn dec(v: &str) -> Decimal {
    if v.trim().is_empty() {
        return Decimal::ZERO;
    }
    v.trim()
        .parse::<Decimal>()
        .unwrap_or_else(|error| panic!("`{v}` is not a number: {error}"))
        .normalize()
}

/// Panics when two credit records of one file share a record key.
pub fn assert_unique_keys(name: &str, records: &[Record]) {
    let mut seen = HashSet::new();
    for c in credits(records) {
        assert!(
            seen.insert(&c.record_key),
            "{name}: duplicate key {}",
            c.record_key
        );
    }
}

/// More pages than any feed of a test data set has: the bound of [`sync_feed`].
pub const MAX_PAGES: usize = 200;

/// Every record of `feed` through `connector.fetch_page`, following `next` for at most
/// [`MAX_PAGES`] pages; every row must be readable and normalize. Returns the records and the
/// number of pages read.
pub async fn sync_feed(
    connector: &dyn Connector,
    feed: Feed,
) -> Result<(Vec<Record>, usize), FetchError> {
    let mut cursor: Option<String> = None;
    let mut out = Vec::new();
    for pages in 1..=MAX_PAGES {
        let page = connector.fetch_page(feed, cursor.as_deref()).await?;
        assert!(page.unreadable.is_empty(), "{feed}: {:?}", page.unreadable);
        for raw in &page.records {
            let records = connector
                .normalize(raw)
                .unwrap_or_else(|r| panic!("{feed}: {} rejected: {r}", raw.location()));
            out.extend(records);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok((out, pages)),
        }
    }
    panic!("{feed}: more than {MAX_PAGES} pages");
}
