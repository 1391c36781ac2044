//! ACR raw records → common-model records. Pure: no I/O, no clock.
//!
//! Two shapes are read: rows of the legacy APX CSV exports and rows of ICE GreenTrace JSON
//! (`project-summaries` and `holding-summaries`). Both give the same keys for the same block,
//! so a retirement read from either source is one record.

use carbonmesh_connector::{Feed, Field, RawBody, RawRecord, Record, Rejection, greentrace};
use carbonmesh_model::{
    CreditRecord, CrossReference, Label, Location, Normalized, Period, Project, RegistryId,
    TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    DateOrder, parse_methodology, parse_methodology_with_version, project_status, transaction_type,
    unit_status,
};

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::ACR;

/// ACR's readings of GreenTrace rows.
const GREENTRACE: greentrace::Rows = greentrace::Rows {
    registry: REGISTRY,
    project_id,
    serial,
    cancelled_status,
    whole_credits: false,
};

/// Normalizes one ACR record.
pub(crate) fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let json = matches!(raw.body, RawBody::Json(_));
    let records = match (raw.feed, json) {
        (Feed::Projects, false) => vec![Record::Project(apx_project(raw)?)],
        (Feed::Projects, true) => vec![Record::Project(greentrace_project(raw)?)],
        (Feed::Issuances, false) => apx_issuance(raw)?,
        (Feed::Retirements, false) => vec![Record::Credit(apx_retirement(raw)?)],
        (Feed::Cancellations, false) => vec![Record::Credit(apx_cancellation(raw)?)],
        (Feed::Issuances | Feed::Retirements | Feed::Cancellations, true) => {
            vec![Record::Credit(holding(raw)?)]
        }
        (Feed::Transactions, _) => {
            return Err(Rejection::record(
                "ACR publishes no combined transactions export",
            ));
        }
    };
    for record in &records {
        record.validate()?;
    }
    Ok(records)
}

/// The canonical ACR project id: `ACR` and the number without zero padding (`ACR885`).
///
/// APX and serials write `ACR885` / `885`; GreenTrace pads to `ACR0885`. The unpadded form is
/// the one every source can produce, so it is the one carbonmesh stores.
pub fn canonical_project_id(raw: &str) -> Option<String> {
    carbonmesh_connector::greentrace::canonical_id("ACR", raw)
}

/// APX writes `11/3/2025 7:10:41 PM` (month first); GreenTrace rows are read by
/// [`greentrace`].
const APX_DATES: DateOrder = DateOrder::MonthFirst;

fn project_id(raw: &RawRecord, field: &str, names: &[&str]) -> Result<String, Rejection> {
    let id = raw.required(Field::labelled(field, names))?;
    canonical_project_id(&id).ok_or_else(|| {
        Rejection::field(
            field,
            format!("`{id}` is not an ACR project id (ACR followed by digits)"),
        )
    })
}

fn apx_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = project_id(raw, "Project ID", col::PROJECT_ID)?;
    let name = raw.required(col::PROJECT_NAME)?;
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(col::DEVELOPER);
    let country = raw.country(col::SITE_COUNTRY);
    p.country = country.alpha2;
    p.country_raw = country.raw;
    p.project_type = raw.clean_field(col::PROJECT_TYPE);
    p.methodology = methodology(raw);
    // The voluntary status is blank for compliance-only projects; their ARB or Ecology status
    // is then the only one published.
    p.status = raw
        .clean_field(col::VOLUNTARY_STATUS)
        .or_else(|| raw.clean_field(col::COMPLIANCE_STATUS))
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s));
    let initial = raw.date(col::INITIAL_CREDITING_START, APX_DATES)?;
    let start = raw.date(col::CREDITING_START, APX_DATES)?;
    let end = raw.date(col::CREDITING_END, APX_DATES)?;
    if let Some(initial) = initial.filter(|i| start.is_some_and(|s| *i < s)) {
        p.crediting_periods.push(Period {
            start: Some(initial),
            end: start.and_then(|s| s.pred_opt()),
        });
    }
    if start.is_some() || end.is_some() {
        p.crediting_periods.push(Period { start, end });
    }
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
    if let Some(reference) = raw
        .clean_field(col::COMPLIANCE_ID)
        .and_then(|v| compliance_reference(&v))
    {
        p.cross_references.push(reference);
    }
    Ok(p)
}

fn greentrace_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let mut p = GREENTRACE.project(raw)?;
    p.methodology = raw.clean_field(&["projectMethodology"]).and_then(|m| {
        parse_methodology(REGISTRY, &m)
            .map(|m| methodology_text(m.program, m.code, m.version, m.raw))
    });
    if let Some(program) = raw.clean_field(&["creditingProgram"]) {
        p.labels.push(Label {
            kind: "crediting_program".into(),
            value: program,
        });
    }
    Ok(p)
}

/// A compliance-program id as a cross-reference: `CAOD1007` is a CARB offset project,
/// `ECY…` a Washington Ecology one (a program carbonmesh does not read).
fn compliance_reference(id: &str) -> Option<CrossReference> {
    let upper = id.trim().to_ascii_uppercase();
    let (registry, relation) = if upper.starts_with("ECY") || upper.starts_with("WA") {
        (None, "ecology_offset_project")
    } else if upper.starts_with("CA") && upper.len() > 4 {
        (Some(RegistryId::ARB), "arb_offset_project")
    } else {
        return None;
    };
    Some(CrossReference {
        registry,
        id: id.trim().to_owned(),
        relation: relation.to_owned(),
    })
}

/// One legacy issuance row yields the issuance (`Total Credits Issued`, which includes any
/// units issued to the buffer) and one buffer record per non-zero buffer column:
/// `Credits Issued to Buffer Pool` (part of the total) and `Credits Transferred to Buffer Pool`
/// (moved to the buffer from the project's units). Buffer records share the issuance key with a
/// suffix naming the column.
fn apx_issuance(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let project = project_id(raw, "Project ID", col::PROJECT_ID)?;
    let vintage = raw.required_year(col::VINTAGE)?;
    let date = raw.required_date(col::DATE_ISSUED, APX_DATES)?;
    let total = raw.quantity(col::TOTAL_ISSUED)?;
    let to_project = raw.optional_quantity(col::ISSUED_TO_PROJECT)?;
    let key = format!("issued:{project}:{vintage}:{date}:{total}");
    let base = CreditRecord {
        registry: REGISTRY,
        record_key: key.clone(),
        registry_project_id: project,
        transaction_type: Normalized::new(kind("Issued", TransactionType::Issuance), "Issued"),
        quantity: total,
        serial: None,
        serial_range: None,
        vintage: Some(vintage),
        monitoring_period: period(raw)?,
        event_date: Some(date),
        status: Normalized::new(unit_status(REGISTRY, "Issued"), "Issued"),
        account: None,
        beneficiary: None,
        reason: None,
        note: to_project.map(|q| format!("Credits Issued to Project: {q}")),
    };
    let mut out = vec![];
    for (column, suffix) in [
        (col::ISSUED_TO_BUFFER, "buffer-issued"),
        (col::TRANSFERRED_TO_BUFFER, "buffer-transferred"),
    ] {
        match raw.optional_quantity(&[column])? {
            Some(q) if !q.is_zero() => out.push(Record::Credit(CreditRecord {
                record_key: format!("{key}#{suffix}"),
                transaction_type: Normalized::new(kind(column, TransactionType::Buffer), column),
                quantity: q,
                status: Normalized::new(UnitStatus::Buffer, column),
                note: None,
                ..base.clone()
            })),
            _ => {}
        }
    }
    out.insert(0, Record::Credit(base));
    Ok(out)
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

/// `Convert to ARB offset credits` / `Convert to Ecology offset credits` are conversions to
/// compliance offsets; the cancellation type is kept as the raw value.
fn apx_cancellation(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let mut c = apx_block(raw)?;
    let reason = raw.required(col::CANCELLATION_TYPE)?;
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
        Normalized::new(unit_status(REGISTRY, raw), raw)
    }
}

/// The block of a legacy retirement or cancellation row; `record_key` holds the serial.
fn apx_block(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let project = project_id(raw, "Project ID", col::PROJECT_ID)?;
    let (serial, range) = serial(raw, "Credit Serial Numbers", col::SERIAL)?;
    Ok(CreditRecord {
        registry: REGISTRY,
        record_key: serial.clone(),
        registry_project_id: project,
        transaction_type: Normalized::new(TransactionType::Unknown, ""),
        quantity: raw.quantity(col::QUANTITY)?,
        serial: Some(serial),
        serial_range: range,
        vintage: Some(raw.required_year(col::VINTAGE)?),
        monitoring_period: period(raw)?,
        event_date: raw.date(col::STATUS_EFFECTIVE, APX_DATES)?,
        status: Normalized::new(UnitStatus::Unknown, ""),
        account: raw.clean_field(col::ACCOUNT_HOLDER),
        beneficiary: None,
        reason: None,
        note: None,
    })
}

/// A GreenTrace holding row.
fn holding(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let mut c = GREENTRACE.holding(raw)?;
    // Reversal compensation is paid with buffer units, held in ACR's risk mitigation account:
    // say so, since the block's serial belongs to the project's own batch.
    if raw.feed == Feed::Cancellations && raw.clean_field(&["isReserve"]).as_deref() == Some("true")
    {
        c.note = Some(format!(
            "paid from the buffer pool ({})",
            raw.clean_field(&["registryAccountName"])
                .unwrap_or_else(|| "reserve".into())
        ));
    }
    Ok(c)
}

fn serial(
    raw: &RawRecord,
    field: &str,
    names: &[&str],
) -> Result<(String, Option<carbonmesh_model::SerialRange>), Rejection> {
    // A serial count that differs from the stated quantity is kept: the matcher alerts on it.
    let (serial, parsed) = raw.serial(Field::labelled(field, names), Some(REGISTRY))?;
    Ok((serial, parsed.serial_range()))
}

/// The registry's word mapped through carbonmesh's vocabulary; the feed decides when the word
/// alone says nothing.
fn kind(raw: &str, default: TransactionType) -> TransactionType {
    match transaction_type(REGISTRY, raw) {
        TransactionType::Unknown => default,
        t => t,
    }
}

fn period(raw: &RawRecord) -> Result<Option<Period>, Rejection> {
    let start = raw.date(
        Field::labelled("period start", col::PERIOD_START),
        APX_DATES,
    )?;
    let end = raw.date(Field::labelled("period end", col::PERIOD_END), APX_DATES)?;
    Ok((start.is_some() || end.is_some()).then_some(Period { start, end }))
}

fn methodology(raw: &RawRecord) -> Option<String> {
    let name = raw.clean_field(col::METHODOLOGY)?;
    let version = raw
        .clean_field(col::METHODOLOGY_VERSION)
        .unwrap_or_default();
    let m = parse_methodology_with_version(REGISTRY, &name, &version)?;
    Some(methodology_text(m.program, m.code, m.version, m.raw))
}

/// `Program code vVersion`, or the raw text when nothing was recognized.
fn methodology_text(
    program: Option<String>,
    code: Option<String>,
    version: Option<String>,
    raw: String,
) -> String {
    let mut out = [program, code]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if out.is_empty() {
        out = raw;
    }
    if let Some(v) = version {
        out.push_str(&format!(" v{v}"));
    }
    out
}
