//! CAR raw rows → common-model records. Pure: no I/O, no clock.

use carbonmesh_connector::{Feed, Field, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, CrossReference, Label, Location, Normalized, Project, RegistryId, SerialRange,
    TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    DateOrder, parse_methodology, parse_quantity, project_status, transaction_type, unit_status,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::CAR;

/// CAR writes `MM/DD/YYYY`.
const DATES: DateOrder = DateOrder::MonthFirst;

/// The project page on the CAR registry; the id is the numeric part of `CAR1234`.
const PROJECT_PAGE: &str = "https://thereserve2.apx.com/mymodule/reg/prjView.asp?id1=";

/// Normalizes one CAR row.
pub(crate) fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let records = match raw.feed {
        Feed::Projects => vec![Record::Project(project(raw)?)],
        Feed::Issuances => issuance(raw)?,
        Feed::Retirements => vec![Record::Credit(retirement(raw)?)],
        Feed::Cancellations => vec![Record::Credit(cancellation(raw)?)],
        Feed::Transactions => {
            return Err(Rejection::record(
                "CAR publishes no combined transactions export",
            ));
        }
    };
    for record in &records {
        record.validate()?;
    }
    Ok(records)
}

fn project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = project_id(raw)?;
    let name = raw.required(col::PROJECT_NAME)?;
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(col::DEVELOPER);
    let country = raw.country(col::SITE_COUNTRY);
    p.country = country.alpha2;
    p.country_raw = country.raw;
    p.project_type = raw.clean_field(col::PROJECT_TYPE);
    p.methodology = raw.clean_field(col::PROTOCOL).and_then(|m| methodology(&m));
    p.status = raw
        .clean_field(col::STATUS)
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s))
        .or_else(|| {
            raw.clean_field(col::COMPLIANCE_STATUS)
                .map(|s| Normalized::new(project_status(REGISTRY, &s), s))
        });
    let region = match (
        raw.clean_field(col::SITE_LOCATION),
        raw.clean_field(col::SITE_STATE),
    ) {
        (Some(place), Some(state)) => Some(format!("{place}, {state}")),
        (place, state) => place.or(state),
    };
    if region.is_some() {
        p.locations.push(Location {
            region,
            latitude: None,
            longitude: None,
        });
    }
    if let Some(ccp) = raw
        .clean_field(col::CCP)
        .filter(|v| v.eq_ignore_ascii_case("yes"))
    {
        p.labels.push(Label {
            kind: "ccp".into(),
            value: ccp,
        });
    }
    // CAR lists the compliance id under up to three columns (`ARB ID`, `WA ECO`, and
    // `Compliance Program ID`, which repeats one of them); keep each id once.
    for names in [col::ARB_ID, col::WA_ECO_ID, col::COMPLIANCE_ID] {
        if let Some(reference) = raw
            .clean_field(names)
            .and_then(|v| compliance_reference(&v))
            && !p.cross_references.contains(&reference)
        {
            p.cross_references.push(reference);
        }
    }
    p.registry_url = Some(format!("{PROJECT_PAGE}{}", &id[3..]));
    Ok(p)
}

/// A compliance-program id as a cross-reference: `CAFR6957` is a CARB offset project,
/// `ECYOD2278` a Washington Ecology one (a program carbonmesh does not read).
fn compliance_reference(id: &str) -> Option<CrossReference> {
    let id = id.trim();
    let upper = id.to_ascii_uppercase();
    let (registry, relation) = if upper.starts_with("ECY") {
        (None, "ecology_offset_project")
    } else if upper.starts_with("CA") && upper.len() > 4 {
        (Some(RegistryId::ARB), "arb_offset_project")
    } else {
        return None;
    };
    Some(CrossReference {
        registry,
        id: id.to_owned(),
        relation: relation.to_owned(),
    })
}

/// One issuance row yields the issuance, plus one record per non-zero buffer or conversion
/// column, each keyed by the issuance key and a suffix naming the column.
///
/// `Canceled for Compliance` and `Canceled` are not turned into records: CAR's cancellation
/// export lists the same units with their serials (`CAR-ROC-…`, reason `ARB` / `WA ECO`), and
/// counting them from both would double them. Their amounts stay in the note.
fn issuance(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let project = project_id(raw)?;
    let vintage = raw.required_year(col::VINTAGE)?;
    let date = raw.required_date(col::DATE_ISSUED, DATES)?;
    let total = raw.quantity(col::TOTAL_ISSUED)?;
    let key = format!("issued:{project}:{vintage}:{date}:{total}");

    let mut notes = Vec::new();
    for (label, names) in [
        ("Canceled for Compliance", col::CANCELED_FOR_COMPLIANCE),
        ("Canceled", col::CANCELED),
        ("Zero-Credit Reporting Period", col::ZERO_CREDIT),
        ("Crediting Period", col::CREDITING_PERIOD),
    ] {
        if let Some(v) = raw.clean_field(names) {
            let v = parse_quantity(&v).map_or(v, |q| q.to_string());
            notes.push(format!("{label}: {v}"));
        }
    }
    let base = CreditRecord {
        registry: REGISTRY,
        record_key: key.clone(),
        registry_project_id: project,
        transaction_type: Normalized::new(kind("Issued", TransactionType::Issuance), "Issued"),
        quantity: total,
        serial: None,
        serial_range: None,
        vintage: Some(vintage),
        monitoring_period: None,
        event_date: Some(date),
        status: Normalized::new(unit_status(REGISTRY, "Issued"), "Issued"),
        account: None,
        beneficiary: None,
        reason: None,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    };
    let mut out = Vec::new();
    for (column, suffix, default, status) in [
        (
            col::RESERVE_BUFFER,
            "reserve-buffer",
            TransactionType::Buffer,
            UnitStatus::Buffer,
        ),
        (
            col::COMPLIANCE_BUFFER,
            "compliance-buffer",
            TransactionType::Buffer,
            UnitStatus::Buffer,
        ),
        (
            col::CONVERTED_TO_VCUS,
            "converted-to-vcus",
            TransactionType::Conversion,
            UnitStatus::Converted,
        ),
    ] {
        let Some(amount) = raw.optional_quantity(&[column])? else {
            continue;
        };
        if amount.is_zero() {
            continue;
        }
        out.push(Record::Credit(CreditRecord {
            record_key: format!("{key}#{suffix}"),
            transaction_type: Normalized::new(kind(column, default), column),
            quantity: amount,
            status: Normalized::new(status, column),
            note: None,
            ..base.clone()
        }));
    }
    out.insert(0, Record::Credit(base));
    Ok(out)
}

fn retirement(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let block = block(raw)?;
    let reason = raw.clean_field(col::RETIREMENT_REASON);
    Ok(CreditRecord {
        record_key: format!("retired:{}", block.serial),
        transaction_type: Normalized::new(kind("Retired", TransactionType::Retirement), "Retired"),
        status: Normalized::new(unit_status(REGISTRY, "Retired"), "Retired"),
        reason,
        note: raw.clean_field(col::RETIREMENT_DETAILS),
        ..block.into_record()
    })
}

/// A cancellation whose reason is `ARB` or `WA ECO` converts the units to California or
/// Washington compliance offsets: a conversion, with the reason kept as the raw value.
fn cancellation(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let block = block(raw)?;
    let reason = raw.required(col::CANCELLATION_REASON)?;
    let t = kind(&reason, TransactionType::Cancellation);
    let status = if t == TransactionType::Conversion {
        UnitStatus::Converted
    } else {
        unit_status(REGISTRY, "Canceled")
    };
    Ok(CreditRecord {
        record_key: format!("cancelled:{}", block.serial),
        transaction_type: Normalized::new(t, reason.clone()),
        status: Normalized::new(status, "Canceled"),
        reason: Some(reason),
        note: raw.clean_field(col::EXPORT_NOTES),
        ..block.into_record()
    })
}

/// What retirement and cancellation rows share: a serial block of one project and vintage.
struct Block {
    project: String,
    serial: String,
    range: Option<SerialRange>,
    quantity: Decimal,
    vintage: i32,
    date: NaiveDate,
    account: Option<String>,
}

impl Block {
    fn into_record(self) -> CreditRecord {
        CreditRecord {
            registry: REGISTRY,
            record_key: String::new(),
            registry_project_id: self.project,
            transaction_type: Normalized::new(TransactionType::Unknown, ""),
            quantity: self.quantity,
            serial: Some(self.serial),
            serial_range: self.range,
            vintage: Some(self.vintage),
            monitoring_period: None,
            event_date: Some(self.date),
            status: Normalized::new(UnitStatus::Unknown, ""),
            account: self.account,
            beneficiary: None,
            reason: None,
            note: None,
        }
    }
}

fn block(raw: &RawRecord) -> Result<Block, Rejection> {
    let project = project_id(raw)?;
    let (serial, parsed) = raw.serial(
        Field::labelled("Offset Credit Serial Numbers", col::SERIAL),
        Some(REGISTRY),
    )?;
    Ok(Block {
        project,
        range: parsed.serial_range(),
        serial,
        quantity: raw.quantity(col::QUANTITY)?,
        vintage: raw.required_year(col::VINTAGE)?,
        date: raw.required_date(col::STATUS_EFFECTIVE, DATES)?,
        account: raw.clean_field(col::ACCOUNT_HOLDER),
    })
}

/// The registry's word mapped through carbonmesh's vocabulary; the export a row comes from
/// decides when the word alone says nothing.
fn kind(raw: &str, default: TransactionType) -> TransactionType {
    match transaction_type(REGISTRY, raw) {
        TransactionType::Unknown => default,
        t => t,
    }
}

/// `CAR1234`, upper-cased; anything else is not a CAR project id.
fn project_id(raw: &RawRecord) -> Result<String, Rejection> {
    let id = raw.required(col::PROJECT_ID)?;
    let upper = id.to_ascii_uppercase();
    match upper.strip_prefix("CAR") {
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => Ok(upper),
        _ => Err(Rejection::field(
            "Project ID",
            format!("`{id}` is not a CAR project id (CAR followed by digits)"),
        )),
    }
}

/// `Program code vVersion` from CAR's `Protocol and Version`.
fn methodology(raw: &str) -> Option<String> {
    let m = parse_methodology(REGISTRY, raw)?;
    let mut out = [m.program, m.code]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if out.is_empty() {
        out = m.raw;
    }
    if let Some(v) = m.version {
        out.push_str(&format!(" v{v}"));
    }
    Some(out)
}
