//! ART raw records → common-model records. Pure: no I/O, no clock.
//!
//! Two shapes are read: rows of the APX CSV exports and rows of ICE GreenTrace JSON
//! (`project-summaries` and `holding-summaries`). A retirement or cancellation block read from
//! either source has the same key (`retired:<serial>`, `cancelled:<serial>`), so it is one record.

use carbonmesh_connector::{Feed, Field, RawBody, RawRecord, Record, Rejection, greentrace};
use carbonmesh_model::{
    CreditRecord, Label, Location, Normalized, Period, Project, RegistryId, SerialRange,
    TransactionType, UnitStatus,
};
use carbonmesh_normalize::{DateOrder, project_status, transaction_type, unit_status};
use rust_decimal::Decimal;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::ART;

/// ART's readings of GreenTrace rows.
const GREENTRACE: greentrace::Rows = greentrace::Rows {
    registry: REGISTRY,
    project_id: program_id,
    serial,
    cancelled_status,
    whole_credits: true,
};

/// Normalizes one ART record.
pub(crate) fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let json = matches!(raw.body, RawBody::Json(_));
    let records = match (raw.feed, json) {
        (Feed::Projects, false) => vec![Record::Project(apx_project(raw)?)],
        (Feed::Projects, true) => vec![Record::Project(greentrace_project(raw)?)],
        (Feed::Issuances, false) => apx_issuance(raw)?,
        (Feed::Retirements, false) => vec![Record::Credit(apx_retirement(raw)?)],
        (Feed::Cancellations, false) => vec![Record::Credit(apx_cancellation(raw)?)],
        (Feed::Issuances | Feed::Retirements | Feed::Cancellations, true) => {
            vec![Record::Credit(GREENTRACE.holding(raw)?)]
        }
        (Feed::Transactions, _) => {
            return Err(Rejection::record(
                "ART publishes no combined transactions export",
            ));
        }
    };
    for record in &records {
        record.validate()?;
    }
    Ok(records)
}

/// The canonical ART program id: `ART` and the program number without zero padding
/// (`ART102`, `ART130`). A bare number (`102`, as in the export's `fiID`) is accepted.
///
/// FCPF programs held in the ART registry carry ART program ids too (`ART130`); their serials
/// start with `FCPF-` but name the same program number.
pub fn canonical_program_id(raw: &str) -> Option<String> {
    carbonmesh_connector::greentrace::canonical_id("ART", raw)
}

/// APX writes `03/09/2026` in one column and `3/9/2026 4:16:10 PM` in another (both month
/// first); GreenTrace rows are read by [`greentrace`].
const APX_DATES: DateOrder = DateOrder::MonthFirst;

fn program_id(raw: &RawRecord, field: &str, names: &[&str]) -> Result<String, Rejection> {
    let id = raw.required(Field::labelled(field, names))?;
    canonical_program_id(&id).ok_or_else(|| {
        Rejection::field(
            field,
            format!("`{id}` is not an ART program id (ART followed by digits)"),
        )
    })
}

fn apx_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = program_id(raw, "Program ID", col::PROGRAM_ID)?;
    let name = raw.required(col::PROGRAM_NAME)?;
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(col::DEVELOPER);
    let country = raw.country(col::COUNTRY);
    p.country = country.alpha2;
    p.country_raw = country.raw;
    p.project_type = raw.clean_field(col::PROGRAM_TYPE);
    if let Some(standard) = raw.clean_field(col::STANDARD) {
        p.labels.push(Label {
            kind: "crediting_program".into(),
            value: crediting_program(&standard),
        });
        p.methodology = Some(standard);
    }
    p.status = raw
        .clean_field(col::STATUS)
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s));
    if let Some(start) = raw.date(col::CREDITING_START, APX_DATES)? {
        p.crediting_periods.push(Period {
            start: Some(start),
            end: None,
        });
    }
    if let Some(region) = raw.clean_field(col::JURISDICTIONS) {
        p.locations.push(Location {
            region: Some(region),
            latitude: None,
            longitude: None,
        });
    }
    Ok(p)
}

fn greentrace_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let mut p = GREENTRACE.project(raw)?;
    p.methodology = raw.clean_field(&["projectMethodology"]);
    if let Some(program) = raw.clean_field(&["creditingProgram"]) {
        p.labels.push(Label {
            kind: "crediting_program".into(),
            value: crediting_program(&program),
        });
    }
    Ok(p)
}

/// `ART - The REDD+ Environmental Excellence Standard (TREES)` → `ART`;
/// `FCPF - Carbon Fund Methodological Framework` → `FCPF`; anything else as published.
fn crediting_program(standard: &str) -> String {
    standard
        .split_once(" - ")
        .map_or(standard, |(program, _)| program)
        .trim()
        .to_owned()
}

/// One issuance row yields the issuance (`Credits Verified`, the amount issued to the program)
/// and, when non-zero, a buffer record (`Credits Deposited in Buffer`). Together they make
/// `Total Emission Reductions/Removals`, kept in the issuance's note.
fn apx_issuance(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let program = program_id(raw, "Program ID", col::PROGRAM_ID)?;
    let vintage = raw.required_year(col::VINTAGE)?;
    let date = raw.required_date(col::DATE_APPROVED, APX_DATES)?;
    let verified = whole_credits(raw, col::CREDITS_VERIFIED)?;
    let total = optional_whole_credits(raw, col::TOTAL_ERR)?;
    let key = format!("issued:{program}:{vintage}:{date}:{verified}");
    let base = CreditRecord {
        registry: REGISTRY,
        record_key: key.clone(),
        registry_project_id: program,
        transaction_type: Normalized::new(kind("Issued", TransactionType::Issuance), "Issued"),
        quantity: verified,
        serial: None,
        serial_range: None,
        vintage: Some(vintage),
        monitoring_period: None,
        event_date: Some(date),
        status: Normalized::new(unit_status(REGISTRY, "Issued"), "Issued"),
        account: None,
        beneficiary: None,
        reason: None,
        note: issuance_note(raw, total),
    };
    let mut out = vec![Record::Credit(base.clone())];
    if let Some(buffer) = optional_whole_credits(raw, &[col::BUFFER])?
        && !buffer.is_zero()
    {
        out.push(Record::Credit(CreditRecord {
            record_key: format!("{key}#buffer"),
            transaction_type: Normalized::new(
                kind(col::BUFFER, TransactionType::Buffer),
                col::BUFFER,
            ),
            quantity: buffer,
            status: Normalized::new(UnitStatus::Buffer, col::BUFFER),
            note: None,
            ..base
        }));
    }
    Ok(out)
}

/// The issuance's total and its eligibility flags, as published.
fn issuance_note(raw: &RawRecord, total: Option<Decimal>) -> Option<String> {
    let mut notes = Vec::new();
    if let Some(q) = total {
        notes.push(format!("Total Emission Reductions/Removals: {q}"));
    }
    for (label, names) in [("CORSIA Eligible", col::CORSIA), ("CCP Approved", col::CCP)] {
        if let Some(v) = raw.clean_field(names) {
            notes.push(format!("{label}: {v}"));
        }
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

fn apx_retirement(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let mut c = apx_block(raw)?;
    c.record_key = format!("retired:{}", c.record_key);
    c.transaction_type = Normalized::new(kind("Retired", TransactionType::Retirement), "Retired");
    c.status = Normalized::new(unit_status(REGISTRY, "Retired"), "Retired");
    c.beneficiary = raw.clean_field(col::BENEFICIARY);
    c.reason = raw.clean_field(col::RETIREMENT_REASON);
    c.note = raw.clean_field(col::RETIREMENT_PURPOSE);
    Ok(c)
}

/// `CORSIA Compliance` (every cancellation in the sample) is a cancellation for an airline's
/// CORSIA obligation; `Convert to …` would be a conversion. The reason is the raw value, and
/// `Cancellation Details` (the airline and phase) the note.
fn apx_cancellation(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let mut c = apx_block(raw)?;
    let reason = raw.required(col::CANCELLATION_REASON)?;
    c.record_key = format!("cancelled:{}", c.record_key);
    c.transaction_type = Normalized::new(kind(&reason, TransactionType::Cancellation), &reason);
    c.status = cancelled_status(c.transaction_type.value, "Canceled");
    c.reason = Some(reason);
    c.note = raw.clean_field(col::CANCELLATION_DETAILS);
    Ok(c)
}

fn cancelled_status(t: TransactionType, raw: &str) -> Normalized<UnitStatus> {
    if t == TransactionType::Conversion {
        Normalized::new(UnitStatus::Converted, raw)
    } else {
        Normalized::new(UnitStatus::Cancelled, raw)
    }
}

/// The block of a retirement or cancellation row; `record_key` holds the serial.
fn apx_block(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let program = program_id(raw, "Program ID", col::PROGRAM_ID)?;
    let (serial, range) = serial(raw, "Credit Serial Numbers", col::SERIAL)?;
    Ok(CreditRecord {
        registry: REGISTRY,
        record_key: serial.clone(),
        registry_project_id: program,
        transaction_type: Normalized::new(TransactionType::Unknown, ""),
        quantity: whole_credits(raw, col::QUANTITY)?,
        serial: Some(serial),
        serial_range: range,
        vintage: Some(raw.required_year(col::VINTAGE)?),
        monitoring_period: None,
        event_date: raw.date(col::STATUS_EFFECTIVE, APX_DATES)?,
        status: Normalized::new(UnitStatus::Unknown, ""),
        account: raw.clean_field(col::ACCOUNT_HOLDER),
        beneficiary: None,
        reason: None,
        note: None,
    })
}

/// The serial as published and its integer range. A serial whose unit count differs from the
/// stated quantity is kept as it is: the matcher alerts on it.
fn serial(
    raw: &RawRecord,
    field: &str,
    names: &[&str],
) -> Result<(String, Option<SerialRange>), Rejection> {
    let (serial, parsed) = raw.serial(Field::labelled(field, names), Some(REGISTRY))?;
    let range = parsed
        .serial_range()
        .ok_or_else(|| Rejection::field(field, format!("`{serial}` carries no unit range")))?;
    Ok((serial, Some(range)))
}

/// The registry's word mapped through carbonmesh's vocabulary; the feed decides when the word
/// alone says nothing.
fn kind(raw: &str, default: TransactionType) -> TransactionType {
    match transaction_type(REGISTRY, raw) {
        TransactionType::Unknown => default,
        t => t,
    }
}

/// A quantity that must be there, in whole credits (ART issues no fractions).
fn whole_credits(raw: &RawRecord, names: &[&str]) -> Result<Decimal, Rejection> {
    optional_whole_credits(raw, names)?
        .ok_or_else(|| Rejection::field(raw.field_name(names), "is blank or missing"))
}

/// A quantity when the field has one, in whole credits.
fn optional_whole_credits(raw: &RawRecord, names: &[&str]) -> Result<Option<Decimal>, Rejection> {
    match raw.optional_quantity(names)? {
        Some(q) if !q.fract().is_zero() => Err(Rejection::field(
            raw.field_name(names),
            format!("`{q}` is not a whole number of credits"),
        )),
        q => Ok(q),
    }
}
