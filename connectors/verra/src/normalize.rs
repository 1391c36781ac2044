//! Pure mapping of Verra records onto the common model.
//!
//! Canonical project id: `VCS<number>` (e.g. `VCS1340`), the form Verra prints on its project
//! pages and the form the serials crate reads out of a VCU serial, so the id in a row and the
//! id its serial encodes can be compared directly. The export's numeric `ID` column (`1340`),
//! the Platts `vcsProjectId` (`"1340"`) and spellings such as `VCS-1340` all map to it.

use carbonmesh_connector::{Feed, RawBody, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, CrossReference, Location, Normalized, Period, Project, RegistryId,
    TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    DateOrder, parse_methodologies, parse_vintage, project_status, transaction_type, unit_status,
};
use carbonmesh_serials::{Encoded, ParsedSerial, parse, parse_with_positions};
use chrono::{Datelike, NaiveDate};

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::VERRA;

/// Normalizes one raw Verra record.
pub fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let record = match (&raw.body, raw.feed) {
        (RawBody::Csv { .. }, Feed::Projects) => Record::Project(export_project(raw)?),
        (RawBody::Csv { .. }, _) => Record::Credit(vcu_row(raw)?),
        (RawBody::Json(_), Feed::Projects) => Record::Project(platts_project(raw)?),
        (RawBody::Json(_), Feed::Issuances) => Record::Credit(platts_issuance(raw)?),
        (RawBody::Json(_), Feed::Retirements) => Record::Credit(platts_retirement(raw)?),
        (RawBody::Json(_), Feed::Cancellations) => Record::Credit(platts_cancellation(raw)?),
        (RawBody::Json(_), Feed::Transactions) => Record::Credit(vcu_row(raw)?),
    };
    record.validate()?;
    Ok(vec![record])
}

/// The canonical `VCS<number>` form of a Verra project id, if `raw` is one.
pub fn canonical_project_id(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = if s.len() >= 3 && s[..3].eq_ignore_ascii_case("vcs") {
        s[3..].trim_start_matches(['-', ' ', '_'])
    } else {
        s
    };
    // pandas writes integer columns with missing values as floats.
    let s = s.strip_suffix(".0").unwrap_or(s);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = s.trim_start_matches('0');
    Some(format!(
        "VCS{}",
        if digits.is_empty() { "0" } else { digits }
    ))
}

fn project_id_field(raw: &RawRecord, names: &[&str]) -> Result<String, Rejection> {
    let value = raw.field(names).unwrap_or_default();
    canonical_project_id(&value).ok_or_else(|| {
        Rejection::field(
            raw.field_name(names),
            format!("`{value}` is not a Verra project id"),
        )
    })
}

/// Exports before 2026 wrote dd/mm/yyyy; ISO dates read the same either way.
const DATES: DateOrder = DateOrder::DayFirst;

fn serial_text(raw: &RawRecord, names: &[&str]) -> Result<String, Rejection> {
    raw.clean_field(names).ok_or_else(|| {
        Rejection::field(
            raw.field_name(names),
            "is empty: a Verra block without a serial cannot be identified",
        )
    })
}

/// Parses a serial and checks that it names the row's project.
fn serial(
    raw: &RawRecord,
    names: &[&str],
    serial: &str,
    positions: Option<(u64, u64)>,
    project: &str,
) -> Result<ParsedSerial, Rejection> {
    let parsed = match positions {
        Some((first, last)) => parse_with_positions(serial, first, last, Some(REGISTRY)),
        None => parse(serial, Some(REGISTRY)),
    }
    .map_err(|e| Rejection::field(raw.field_name(names), format!("`{serial}`: {e}")))?;
    if let Some(in_serial) = parsed.project_id()
        && in_serial != project
    {
        return Err(Rejection::field(
            raw.field_name(names),
            format!("`{serial}` names project {in_serial}, but the record is for {project}"),
        ));
    }
    Ok(parsed)
}

/// The vintage dates the serial encodes.
fn serial_vintage(parsed: &ParsedSerial) -> Option<(NaiveDate, NaiveDate)> {
    match &parsed.encoded {
        Encoded::Verra(f) => Some((f.vintage_start, f.vintage_end)),
        _ => None,
    }
}

/// One row of the VCU export: an active block, or a retired or cancelled one when the
/// `Retirement/Cancellation Date` is set.
fn vcu_row(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let project = project_id_field(raw, col::ID)?;
    let quantity = raw.quantity(col::QUANTITY)?;
    let serial_raw = serial_text(raw, col::SERIAL)?;
    let parsed = serial(raw, col::SERIAL, &serial_raw, None, &project)?;
    let encoded = serial_vintage(&parsed);
    let start = raw
        .date(col::VINTAGE_START, DATES)?
        .or(encoded.map(|v| v.0));
    let end = raw.date(col::VINTAGE_END, DATES)?.or(encoded.map(|v| v.1));
    let issued = raw.date(col::ISSUANCE_DATE, DATES)?;
    let retired = raw.date(col::RETIRE_DATE, DATES)?;
    // The export does not tell retirements from cancellations: one date column serves both.
    // carbonmesh counts them as retirements (as CarbonPlan does) and keeps, as the raw value,
    // the column that decided it; the Platts feeds tell the two apart.
    let (transaction_type, status, event_date) = if retired.is_some() {
        (
            Normalized::new(TransactionType::Retirement, "Retirement/Cancellation Date"),
            Normalized::new(UnitStatus::Retired, "Retirement/Cancellation Date"),
            retired,
        )
    } else {
        (
            Normalized::new(TransactionType::Issuance, "Issuance Date"),
            Normalized::new(UnitStatus::Active, "Issuance Date"),
            issued,
        )
    };
    Ok(CreditRecord {
        registry: REGISTRY,
        // Verra numbers units on one registry-wide counter: a block's serial names it alone.
        record_key: serial_raw.clone(),
        registry_project_id: project,
        transaction_type,
        quantity,
        serial: Some(serial_raw),
        serial_range: parsed.serial_range(),
        vintage: start.or(end).map(|d| d.year()),
        monitoring_period: (start.is_some() || end.is_some()).then_some(Period { start, end }),
        event_date,
        status,
        account: None,
        beneficiary: raw.clean_field(col::BENEFICIARY),
        reason: raw.clean_field(col::REASON),
        note: raw.clean_field(col::DETAILS),
    })
}

/// Methodology codes joined by `; `, or the text itself when no code is recognised.
fn methodology(raw_text: Option<String>) -> Option<String> {
    let t = raw_text?;
    let codes: Vec<String> = parse_methodologies(REGISTRY, &t)
        .into_iter()
        .filter_map(|m| m.code)
        .collect();
    if codes.is_empty() {
        Some(t)
    } else {
        Some(codes.join("; "))
    }
}

fn registry_url(project: &str) -> String {
    format!(
        "https://registry.verra.org/app/projectDetail/VCS/{}",
        project.trim_start_matches("VCS")
    )
}

/// One row of the project export.
fn export_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = project_id_field(raw, col::ID)?;
    let name = raw.clean_field(col::NAME).unwrap_or_default();
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(col::PROPONENT);
    let country = raw.country(col::COUNTRY);
    p.country = country.alpha2;
    p.country_raw = country.raw;
    // Verra's "Project Type" is the sectoral-scope name; AFOLU activities refine it.
    p.sector = raw.clean_field(col::PROJECT_TYPE);
    p.category = raw.clean_field(col::AFOLU);
    p.methodology = methodology(raw.clean_field(col::METHODOLOGY));
    p.status = raw
        .clean_field(col::STATUS)
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s.clone()));
    let start = raw.date(col::CREDITING_START, DATES)?;
    let end = raw.date(col::CREDITING_END, DATES)?;
    if start.is_some() || end.is_some() {
        p.crediting_periods.push(Period { start, end });
    }
    p.registry_url = Some(registry_url(&id));
    Ok(p)
}

/// A Platts project entity.
fn platts_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = project_id_field(raw, &["vcsProjectId", "projectId", "projectSubmissionId"])?;
    let name = raw
        .clean_field(&["projectName", "publicProjectName"])
        .unwrap_or_default();
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(&["proponents", "accountName"]);
    let country = raw.country(&["countryName"]);
    p.country = country.alpha2;
    p.country_raw = country.raw;
    p.sector = raw.clean_field(&["sectoralScope"]);
    p.category = raw.clean_field(&["afoluNames", "projectCategory"]);
    p.project_type = raw.clean_field(&["projectType", "projectActivityType"]);
    p.methodology = methodology(raw.clean_field(&["methodologies"]));
    p.status = raw
        .clean_field(&["status", "publicStateNameEn", "stateCode"])
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s.clone()));
    let start = raw.date(
        &["creditPeriodStartDate", "creditingPeriodDurationStartDate"],
        DATES,
    )?;
    let end = raw.date(
        &["creditPeriodEndDate", "creditingPeriodDurationEndDate"],
        DATES,
    )?;
    if start.is_some() || end.is_some() {
        p.crediting_periods.push(Period { start, end });
    }
    let latitude = raw
        .clean_field(&["latitude"])
        .and_then(|v| v.parse::<f64>().ok());
    let longitude = raw
        .clean_field(&["longitude"])
        .and_then(|v| v.parse::<f64>().ok());
    // Platts writes 0/0 where no coordinates were given.
    let (latitude, longitude) = match (latitude, longitude) {
        (Some(a), Some(b)) if a == 0.0 && b == 0.0 => (None, None),
        other => other,
    };
    let region = raw.clean_field(&["stateProvince"]);
    if region.is_some() || latitude.is_some() || longitude.is_some() {
        p.locations.push(Location {
            region,
            latitude,
            longitude,
        });
    }
    p.corresponding_adjustment = raw.clean_field(&["corrAdjustmentName"]);
    if let Some(other) = raw.clean_field(&["otherGhgProgramId"]) {
        let program = raw
            .clean_field(&["otherGhgProgramName"])
            .unwrap_or_default();
        p.cross_references.push(CrossReference {
            registry: None,
            id: format!("{program} {other}").trim().to_owned(),
            relation: "same_project".into(),
        });
    }
    if let Some(linked) = raw
        .clean_field(&["linkedVcsProjectId"])
        .and_then(|v| canonical_project_id(&v))
    {
        p.cross_references.push(CrossReference {
            registry: Some(REGISTRY),
            id: linked,
            relation: "linked_project".into(),
        });
    }
    p.registry_url = Some(registry_url(&id));
    Ok(p)
}

/// Unit positions published beside the serial (`block_start`/`block_end`), when both are.
fn positions(raw: &RawRecord) -> Result<Option<(u64, u64)>, Rejection> {
    let read = |names: &[&str]| -> Result<Option<u64>, Rejection> {
        match raw.clean_field(names) {
            None => Ok(None),
            Some(v) => v.parse::<u64>().map(Some).map_err(|_| {
                Rejection::field(raw.field_name(names), format!("`{v}` is not a unit number"))
            }),
        }
    };
    match (
        read(&["block_start", "blockStart"])?,
        read(&["block_end", "blockEnd"])?,
    ) {
        (Some(a), Some(b)) => Ok(Some((a, b))),
        _ => Ok(None),
    }
}

/// What the Platts credit entities share.
struct PlattsBlock {
    key: String,
    project: String,
    quantity: rust_decimal::Decimal,
    serial: String,
    parsed: ParsedSerial,
    vintage: Option<i32>,
    period: Option<Period>,
}

fn platts_block(
    raw: &RawRecord,
    kind: &str,
    serial_names: &[&str],
) -> Result<PlattsBlock, Rejection> {
    let entity = raw
        .clean_field(&["entityId", "id"])
        .ok_or_else(|| Rejection::field("entityId", "is missing: the entity cannot be keyed"))?;
    let project = project_id_field(raw, &["vcsProjectId", "projectId", "project_submission_id"])?;
    let quantity = raw.quantity(&["holdingQuantity", "quantity"])?;
    let serial_raw = serial_text(raw, serial_names)?;
    let parsed = serial(raw, serial_names, &serial_raw, positions(raw)?, &project)?;
    let encoded = serial_vintage(&parsed);
    let vintage = match raw.clean_field(&["vintage"]) {
        Some(v) => Some(
            parse_vintage(&v)
                .map_err(|e| Rejection::field("vintage", e.to_string()))?
                .start,
        ),
        None => encoded.map(|v| v.0.year()),
    };
    // The serial's vintage dates are the period the units were issued for, as in the export.
    let period = match encoded {
        Some((start, end)) => Some(Period {
            start: Some(start),
            end: Some(end),
        }),
        None => {
            let start = raw.date(&["periodStartDate", "monitoring_period_start"], DATES)?;
            let end = raw.date(&["periodEndDate", "monitoring_period_end"], DATES)?;
            (start.is_some() || end.is_some()).then_some(Period { start, end })
        }
    };
    Ok(PlattsBlock {
        // An issuance and the retirement of the whole block share a serial; the Platts
        // entity id is unique per entity, so the key is the kind and that id.
        key: format!("{kind}:{entity}"),
        project,
        quantity,
        serial: serial_raw,
        parsed,
        vintage,
        period,
    })
}

fn credit(
    b: PlattsBlock,
    t: Normalized<TransactionType>,
    s: Normalized<UnitStatus>,
) -> CreditRecord {
    CreditRecord {
        registry: REGISTRY,
        record_key: b.key,
        registry_project_id: b.project,
        transaction_type: t,
        quantity: b.quantity,
        serial_range: b.parsed.serial_range(),
        serial: Some(b.serial),
        vintage: b.vintage,
        monitoring_period: b.period,
        event_date: None,
        status: s,
        account: None,
        beneficiary: None,
        reason: None,
        note: None,
    }
}

fn state(raw: &RawRecord, fallback: &str) -> String {
    raw.clean_field(&["stateCode", "status"])
        .unwrap_or_else(|| fallback.to_owned())
}

/// A Platts issuance entity.
fn platts_issuance(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let b = platts_block(raw, "issuance", &["serialNo", "serial_no"])?;
    let st = state(raw, "ISSUED");
    let mut c = credit(
        b,
        Normalized::new(TransactionType::Issuance, "issuances"),
        Normalized::new(unit_status(REGISTRY, &st), st),
    );
    c.event_date = raw.date(&["issueDate", "issuanceDate"], DATES)?;
    c.account = raw.clean_field(&["accountName"]);
    Ok(c)
}

/// A Platts retirement entity.
fn platts_retirement(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let b = platts_block(raw, "retirement", &["serialNo", "serial_no"])?;
    let st = state(raw, "RETIRED");
    let mut c = credit(
        b,
        Normalized::new(transaction_type(REGISTRY, &st), st.clone()),
        Normalized::new(unit_status(REGISTRY, &st), st),
    );
    if c.transaction_type.value == TransactionType::Unknown {
        c.transaction_type.value = TransactionType::Retirement;
    }
    c.event_date = raw.date(&["retiredDate", "retired_date", "retirementDate"], DATES)?;
    c.account = raw.clean_field(&["accountName"]);
    // `emailNotification` is personal data: never read.
    c.beneficiary = raw.clean_field(&["beneficialOwner", "retirementBeneficiary"]);
    c.reason = raw.clean_field(&["retirementReason"]);
    c.note = raw.clean_field(&["retirementReasonDetails", "retirement_remarks"]);
    Ok(c)
}

/// A Platts cancellation entity. `Cancel/Export - <n>` sub-accounts export the units, which
/// the vocabulary maps to a conversion.
fn platts_cancellation(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let b = platts_block(raw, "cancellation", &["serial_no", "serialNo"])?;
    let st = state(raw, "Cancelled");
    let sub_account = raw.clean_field(&["trading_name", "subAccountName"]);
    let by_account = sub_account
        .as_deref()
        .map(|a| (transaction_type(REGISTRY, a), a.to_owned()))
        .filter(|(t, _)| *t != TransactionType::Unknown);
    let (t, t_raw) = by_account.unwrap_or_else(|| {
        let t = transaction_type(REGISTRY, &st);
        let t = if t == TransactionType::Unknown {
            TransactionType::Cancellation
        } else {
            t
        };
        (t, st.clone())
    });
    let mut c = credit(
        b,
        Normalized::new(t, t_raw),
        Normalized::new(unit_status(REGISTRY, &st), st.clone()),
    );
    c.event_date = raw.date(
        &["cancellation_date", "cancellationDate", "retired_date"],
        DATES,
    )?;
    c.account = sub_account.or_else(|| raw.clean_field(&["accountName"]));
    c.reason = raw.clean_field(&["cancellation_purpose", "cancellationReason"]);
    c.note = raw.clean_field(&["cancellation_remarks", "cancellationReasonDetails"]);
    if let Some(country) = raw.clean_field(&["aquiring_country"]) {
        // Article 6 transfers name the acquiring party; keep it with the note.
        let n = format!("acquiring country: {country}");
        c.note = Some(match c.note {
            Some(prev) => format!("{prev}; {n}"),
            None => n,
        });
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_take_one_form() {
        assert_eq!(canonical_project_id("1340").as_deref(), Some("VCS1340"));
        assert_eq!(canonical_project_id("VCS1340").as_deref(), Some("VCS1340"));
        assert_eq!(canonical_project_id("vcs-0191").as_deref(), Some("VCS191"));
        assert_eq!(canonical_project_id("1340.0").as_deref(), Some("VCS1340"));
        assert_eq!(canonical_project_id("GS1340"), None);
        assert_eq!(canonical_project_id(""), None);
    }
}
