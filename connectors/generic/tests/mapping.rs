//! Every mapping feature of the configuration, on small CSV and JSON samples.

use carbonmesh_connector::testkit::quick_http;
use carbonmesh_connector::{Connector, Feed, RawRecord, Record, Rejection};
use carbonmesh_connector_generic::GenericConnector;
use carbonmesh_model::{
    CreditRecord, Label, Project, ProjectStatus, RegistryId, SerialRange, TransactionType,
    UnitStatus,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

fn connector(toml: &str) -> GenericConnector {
    GenericConnector::from_toml("test.toml", toml, quick_http()).unwrap_or_else(|e| panic!("{e}"))
}

/// Reads `bytes` as `feed` and normalizes every row: records, and rejections by line.
fn run(
    c: &GenericConnector,
    feed: Feed,
    name: &str,
    bytes: &[u8],
) -> (Vec<Record>, Vec<(RawRecord, Rejection)>) {
    let page = c
        .read_file(feed, name, bytes)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(page.unreadable.is_empty(), "{:?}", page.unreadable);
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    for raw in page.records {
        let first = c.normalize(&raw);
        assert_eq!(first, c.normalize(&raw), "normalize is deterministic");
        match first {
            Ok(r) => records.extend(r),
            Err(e) => rejected.push((raw, e)),
        }
    }
    (records, rejected)
}

fn credits(records: &[Record]) -> Vec<&CreditRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Credit(c) => Some(c),
            Record::Project(_) => None,
        })
        .collect()
}

fn projects(records: &[Record]) -> Vec<&Project> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Project(p) => Some(p),
            Record::Credit(_) => None,
        })
        .collect()
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

const CSV_CONFIG: &str = r#"
registry = "mapping-csv"

[dates]
order = "day-first"
formats = ["%Y%m%d"]

[serial]
regex = '^(?P<namespace>MC-[A-Z]{2}-\d+-\d{4}-\d+)-(?P<start>\d+)-(?P<end>\d+)$'
on_quantity_mismatch = "reject"

[feeds.transactions]
format = "csv"

[feeds.transactions.transaction]
column = "Kind"
map = { "ISS" = "issuance", "RET" = "retirement", "Cancel  Out" = "cancellation" }
unmapped = "reject"

[feeds.transactions.status]
column = "Holding"
map = { "LIVE" = "active", "GONE" = "retired" }

[feeds.transactions.fields]
project_id = ["Project", "Project Code"]
quantity = "Amount"
serial = "Serial"
vintage = "Vintage"
event_date = "Date"
period_start = "From"
period_end = "To"
account = "Account"
beneficiary = "On Behalf Of"
reason = "Why"
note = "Memo"
"#;

const CSV: &str = "\
Project Code,Kind,Holding,Amount,Serial,Vintage,Date,From,To,Account,On Behalf Of,Why,Memo
P12,ISS,LIVE,\"1,000\",MC-KE-12-2021-3-1-1000,2021,04/03/2022,01/01/2021,31/12/2021,Dev Co,,,first batch
P12,RET,GONE,250,MC-KE-12-2021-3-1-250,2021.0,20220510,,,Buyer Ltd,Acme,Voluntary,
P12,ret,Unheard,abc,MC-KE-12-2021-3-251-300,2021,05/05/2022,,,,,,
P12,cancel out,GONE,50,MC-KE-12-2021-3-301-350,2021,06/05/2022,,,,,,
P12,GIFT,LIVE,10,MC-KE-12-2021-3-351-360,2021,07/05/2022,,,,,,
P12,RET,GONE,20,MC-KE-12-2021-3-361-390,2021,08/05/2022,,,,,,
P12,RET,GONE,5,NOT-A-SERIAL,2021,09/05/2022,,,,,,
P12,RET,GONE,5,MC-KE-12-2021-3-391-395,2021,31/31/2022,,,,,,
P12,RET,GONE,5,MC-KE-12-2021-3-396-400,2021,10/05/2022,,,,,,
";

#[test]
fn csv_rows_map_onto_credit_records_and_bad_rows_are_rejected_with_field_and_line() {
    let c = connector(CSV_CONFIG);
    let registry = c.registry();
    assert_eq!(registry.as_str(), "mapping-csv");
    assert_eq!("mapping-csv".parse::<RegistryId>(), Ok(registry));
    assert_eq!(c.feeds(), &[Feed::Transactions]);

    let (records, rejected) = run(&c, Feed::Transactions, "ledger.csv", CSV.as_bytes());
    let got = credits(&records);
    assert_eq!(got.len(), 4, "{got:#?}");

    let issue = got[0];
    assert_eq!(issue.registry, registry);
    assert_eq!(issue.project_id(), "mapping-csv:P12");
    assert_eq!(issue.record_key, "issuance:MC-KE-12-2021-3-1-1000");
    assert_eq!(issue.transaction_type.value, TransactionType::Issuance);
    assert_eq!(issue.transaction_type.raw, "ISS");
    assert_eq!(issue.status.value, UnitStatus::Active);
    assert_eq!(issue.status.raw, "LIVE");
    assert_eq!(issue.quantity, Decimal::from(1000));
    assert_eq!(
        issue.serial_range,
        Some(SerialRange {
            namespace: "mapping-csv:MC-KE-12-2021-3".into(),
            start: 1,
            end: 1000
        })
    );
    assert_eq!(issue.vintage, Some(2021));
    // Day first, as configured.
    assert_eq!(issue.event_date, date(2022, 3, 4));
    let period = issue.monitoring_period.clone().expect("period");
    assert_eq!(
        (period.start, period.end),
        (date(2021, 1, 1), date(2021, 12, 31))
    );
    assert_eq!(issue.account.as_deref(), Some("Dev Co"));
    assert_eq!(issue.note.as_deref(), Some("first batch"));
    assert_eq!(issue.beneficiary, None);

    let retire = got[1];
    assert_eq!(retire.transaction_type.value, TransactionType::Retirement);
    // The configured chrono format is tried before the built-in layouts.
    assert_eq!(retire.event_date, date(2022, 5, 10));
    assert_eq!(retire.vintage, Some(2021), "pandas' 2021.0");
    assert_eq!(retire.beneficiary.as_deref(), Some("Acme"));
    assert_eq!(retire.reason.as_deref(), Some("Voluntary"));
    assert_eq!(retire.monitoring_period, None);

    // Map keys are compared case-insensitively with blanks folded.
    let cancel = got[2];
    assert_eq!(cancel.transaction_type.value, TransactionType::Cancellation);
    assert_eq!(cancel.transaction_type.raw, "cancel out");
    assert_eq!(got[3].record_key, "retirement:MC-KE-12-2021-3-396-400");

    let reasons: Vec<(u64, Option<&str>, &str)> = rejected
        .iter()
        .map(|(raw, e)| (raw.line, e.field.as_deref(), e.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:#?}");
    let expect = |line: u64, field: &str, words: &str| {
        let (_, f, reason) = reasons
            .iter()
            .find(|(l, ..)| *l == line)
            .unwrap_or_else(|| panic!("line {line} not rejected: {reasons:#?}"));
        assert_eq!(*f, Some(field), "line {line}: {reason}");
        assert!(reason.contains(words), "line {line}: {reason}");
        assert!(
            reason.contains(&format!("ledger.csv:{line}")),
            "the reason names the line: {reason}"
        );
    };
    expect(4, "Amount", "abc");
    expect(6, "Kind", "`GIFT` is not in the configured map");
    expect(7, "Serial", "holds 30 units but the record states 20");
    expect(8, "Serial", "does not match the configured serial pattern");
    expect(9, "Date", "31/31/2022");
}

const JSON_CONFIG: &str = r#"
registry = "mapping-json"

[dates]
order = "month-first"

[serial]
# No range in the serial: positions are published beside it.
regex = '^(?P<namespace>[A-Z]+-\d+)$'

[feeds.projects]
format = "json"
records = "result.projects"
detect = { file_name = ["projects"] }

[feeds.projects.fields]
project_id = "id"
name = "info.title"
developer = "info.owners.0.name"
country = "where.country"
region = "where.region"
methodology = "method"
project_type = "kind"
sector = "sector"
crediting_start = "crediting.from"
crediting_end = "crediting.to"
registry_url = "url"

[feeds.projects.status]
column = "state"
map = { "on" = "registered" }
unmapped = "builtin"

[[feeds.projects.label]]
kind = "standard"
column = "standard"
pattern = '^(?P<value>[A-Z]+) '

[feeds.issuances]
format = "json"
records = "result.batches"
key = "batch:{project_id}:{vintage}:{column:batch.no}"
transaction = { fixed = "issuance", raw = "Issued" }
detect = { file_name = ["batches"] }

[feeds.issuances.fields]
project_id = "project.id"
quantity = "size"
serial = "batch.serial"
serial_from = "batch.first"
serial_to = "batch.last"
vintage = "vintage"
event_date = "issued"

[[feeds.issuances.extra]]
quantity = "reserve"
transaction = "buffer"
raw = "Reserve"
key_suffix = "reserve"

[[feeds.issuances.note_parts]]
label = "Gross"
column = "gross"

[[feeds.issuances.note_parts]]
label = "Verifier"
column = "verifier.name"
"#;

const PROJECTS_JSON: &str = r#"{"result": {"projects": [
  {"id": "J-1", "info": {"title": "Mangroves", "owners": [{"name": "Blue Co"}]},
   "where": {"country": "Kenya", "region": "Kwale"}, "method": "M-7", "kind": "Blue carbon",
   "sector": "AFOLU", "crediting": {"from": "2020-01-01", "to": "12/31/2029"},
   "url": "https://example.org/J-1", "state": "on", "standard": "JREG Standard v2"},
  {"id": "J-2", "info": {"title": "Cookstoves", "owners": []}, "where": {"country": "XX"},
   "state": "Under validation", "standard": "plain"},
  {"id": "", "info": {"title": "No id"}}
]}}"#;

const BATCHES_JSON: &str = r#"{"result": {"batches": [
  {"project": {"id": "J-1"}, "size": 100, "reserve": "10", "gross": 110, "verifier": {"name": "VV"},
   "batch": {"no": 4, "serial": "JB-4", "first": 1, "last": 100}, "vintage": "2022",
   "issued": "03/04/2023"},
  {"project": {"id": "J-1"}, "size": 5, "reserve": 0, "batch": {"no": 5, "serial": "JB-5",
   "first": "101", "last": "105"}, "vintage": 2022, "issued": null},
  {"project": {"id": "J-1"}, "size": 5, "batch": {"no": 6, "serial": "JB-6", "first": 7},
   "vintage": 2022}
]}}"#;

#[test]
fn json_records_map_through_nested_paths_positions_extras_labels_and_notes() {
    let c = connector(JSON_CONFIG);
    assert_eq!(c.feeds(), &[Feed::Projects, Feed::Issuances]);

    let (records, rejected) = run(
        &c,
        Feed::Projects,
        "projects.json",
        PROJECTS_JSON.as_bytes(),
    );
    let ps = projects(&records);
    assert_eq!(ps.len(), 2);
    let p = ps[0];
    assert_eq!(p.id(), "mapping-json:J-1");
    assert_eq!(p.name, "Mangroves");
    assert_eq!(p.developer.as_deref(), Some("Blue Co"));
    assert_eq!(p.country.as_deref(), Some("KE"));
    assert_eq!(p.country_raw.as_deref(), Some("Kenya"));
    assert_eq!(p.methodology.as_deref(), Some("M-7"));
    assert_eq!(p.project_type.as_deref(), Some("Blue carbon"));
    assert_eq!(p.sector.as_deref(), Some("AFOLU"));
    assert_eq!(p.registry_url.as_deref(), Some("https://example.org/J-1"));
    assert_eq!(
        p.status.as_ref().map(|s| s.value),
        Some(ProjectStatus::Registered)
    );
    assert_eq!(p.crediting_periods[0].start, date(2020, 1, 1));
    assert_eq!(
        p.crediting_periods[0].end,
        date(2029, 12, 31),
        "month first"
    );
    assert_eq!(p.locations[0].region.as_deref(), Some("Kwale"));
    assert_eq!(
        p.labels,
        vec![Label {
            kind: "standard".into(),
            value: "JREG".into()
        }]
    );
    let p2 = ps[1];
    assert_eq!(p2.developer, None, "an empty array has no element 0");
    assert_eq!(p2.country, None);
    assert_eq!(p2.country_raw.as_deref(), Some("XX"));
    // Not in the map: the built-in vocabulary.
    assert_eq!(
        p2.status.as_ref().map(|s| s.value),
        Some(ProjectStatus::UnderDevelopment)
    );
    assert_eq!(
        p2.labels[0].value, "plain",
        "no match: the value as published"
    );
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0.line, 3);
    assert_eq!(rejected[0].1.field.as_deref(), Some("id"));

    let (records, rejected) = run(&c, Feed::Issuances, "batches.json", BATCHES_JSON.as_bytes());
    let cs = credits(&records);
    assert_eq!(cs.len(), 3, "{cs:#?}");
    let issue = cs[0];
    assert_eq!(issue.record_key, "batch:J-1:2022:4");
    assert_eq!(issue.transaction_type.raw, "Issued");
    assert_eq!(issue.status.value, UnitStatus::Active);
    assert_eq!(issue.event_date, date(2023, 3, 4), "month first");
    assert_eq!(
        issue.serial_range,
        Some(SerialRange {
            namespace: "mapping-json:JB-4".into(),
            start: 1,
            end: 100
        })
    );
    assert_eq!(issue.note.as_deref(), Some("Gross: 110; Verifier: VV"));
    let reserve = cs[1];
    assert_eq!(reserve.record_key, "batch:J-1:2022:4#reserve");
    assert_eq!(reserve.transaction_type.value, TransactionType::Buffer);
    assert_eq!(reserve.transaction_type.raw, "Reserve");
    assert_eq!(reserve.status.value, UnitStatus::Buffer);
    assert_eq!(reserve.quantity, Decimal::from(10));
    assert_eq!(reserve.serial, None);
    assert_eq!(reserve.note, None);
    // A zero reserve yields no record; a null date is no date.
    let second = cs[2];
    assert_eq!(second.record_key, "batch:J-1:2022:5");
    assert_eq!(second.event_date, None);
    assert_eq!(
        second.serial_range.as_ref().map(|r| (r.start, r.end)),
        Some((101, 105))
    );
    assert_eq!(second.note, None);
    // One position without the other.
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0.line, 3);
    assert_eq!(rejected[0].1.field.as_deref(), Some("batch.last"));
    assert!(rejected[0].1.reason.contains("batches.json:3"));
}

#[test]
fn files_are_recognised_by_name_or_by_their_header() {
    let c = connector(JSON_CONFIG);
    assert_eq!(
        c.detect_feed("projects.json", b"{\"result\""),
        Some(Feed::Projects)
    );
    assert_eq!(
        c.detect_feed("2024-batches.json", b"{}"),
        Some(Feed::Issuances)
    );
    assert_eq!(c.detect_feed("x.csv", b"a,b\n"), None);
    let c = connector(CSV_CONFIG);
    let head = CSV.lines().next().expect("header");
    assert_eq!(
        c.detect_feed("export.csv", head.as_bytes()),
        Some(Feed::Transactions)
    );
    assert_eq!(c.detect_feed("export.csv", b"Something,Else\n"), None);
}

#[test]
fn a_csv_without_a_required_column_is_refused_whole() {
    let c = connector(CSV_CONFIG);
    let error = c
        .read_file(Feed::Transactions, "short.csv", b"Project,Kind\nP1,ISS\n")
        .expect_err("missing Amount");
    let text = error.to_string();
    assert!(text.contains("Amount (fields.quantity)"), "{text}");
    assert!(
        c.read_file(Feed::Projects, "p.csv", b"a\n").is_err(),
        "no projects feed"
    );
}

#[test]
fn built_in_grammars_and_fixed_types_need_no_regex() {
    let c = connector(
        r#"
registry = "built-in-grammar-test"
[serial]
grammar = "gold-standard"
on_quantity_mismatch = "reject"
[feeds.retirements]
format = "csv"
transaction = { fixed = "retirement" }
[feeds.retirements.fields]
project_id = "GSID"
quantity = "Quantity"
serial = "Serial Number"
"#,
    );
    let csv = "GSID,Quantity,Serial Number\n\
               GS2922,1,GS1-1-IN-GS2922-16-2017-20315-5400-5400\n\
               GS2922,3,GS1-1-IN-GS2922-16-2017-20315-5400-5400\n";
    let (records, rejected) = run(&c, Feed::Retirements, "r.csv", csv.as_bytes());
    let cs = credits(&records);
    assert_eq!(cs.len(), 1);
    assert_eq!(
        cs[0].record_key,
        "retirement:GS1-1-IN-GS2922-16-2017-20315-5400-5400"
    );
    assert_eq!(cs[0].transaction_type.raw, "retirement");
    assert_eq!(cs[0].status.value, UnitStatus::Retired);
    let range = cs[0].serial_range.as_ref().expect("range");
    assert!(range.namespace.starts_with("gold-standard:"), "{range:?}");
    assert_eq!((range.start, range.end), (5400, 5400));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].1.field.as_deref(), Some("Serial Number"));
}
