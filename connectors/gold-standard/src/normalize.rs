//! Pure mapping of Gold Standard records onto the common model.
//!
//! Canonical project id: `GS<GSID>` (e.g. `GS11236`), the form Gold Standard prints and the
//! serials crate reads out of a `GS1-1-…` serial. The exports' `GSID` column, the API's
//! `sustaincert_id` and pandas' float spelling (`11191.0`) all map to it. The API's own
//! `id` is an internal number and never used as the project id.

use carbonmesh_connector::{Feed, RawBody, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, CrossReference, Label, Location, Normalized, Period, Project, RegistryId,
    TransactionType,
};
use carbonmesh_normalize::{
    DateOrder, parse_methodologies, parse_vintage, project_status, transaction_type, unit_status,
};
use carbonmesh_serials::{Encoded, ParsedSerial, parse, parse_with_positions};
use chrono::Datelike;
use serde_json::Value;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::GOLD_STANDARD;

/// Normalizes one raw Gold Standard record.
pub fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let record = match (&raw.body, raw.feed) {
        (RawBody::Csv { .. }, Feed::Projects) => Record::Project(export_project(raw)?),
        (RawBody::Csv { .. }, _) => Record::Credit(export_credit(raw)?),
        (RawBody::Json(_), Feed::Projects) => Record::Project(api_project(raw)?),
        (RawBody::Json(_), _) => Record::Credit(api_credit(raw)?),
    };
    record.validate()?;
    Ok(vec![record])
}

/// The canonical `GS<number>` form of a Gold Standard project id, if `raw` is one.
pub fn canonical_project_id(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = if s.len() >= 2 && s[..2].eq_ignore_ascii_case("gs") {
        s[2..].trim_start_matches(['-', ' '])
    } else {
        s
    };
    let s = s.strip_suffix(".0").unwrap_or(s);
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = s.trim_start_matches('0');
    Some(format!(
        "GS{}",
        if digits.is_empty() { "0" } else { digits }
    ))
}

fn project_id_field(raw: &RawRecord, names: &[&str]) -> Result<String, Rejection> {
    let value = raw.field(names).unwrap_or_default();
    canonical_project_id(&value).ok_or_else(|| {
        Rejection::field(
            raw.field_name(names),
            format!("`{value}` is not a Gold Standard project id"),
        )
    })
}

/// Dates are ISO everywhere (`Issuance Date` with microseconds), so the order never matters.
const DATES: DateOrder = DateOrder::DayFirst;

fn period(raw: &RawRecord, start: &[&str], end: &[&str]) -> Result<Option<Period>, Rejection> {
    let (start, end) = (raw.date(start, DATES)?, raw.date(end, DATES)?);
    Ok((start.is_some() || end.is_some()).then_some(Period { start, end }))
}

fn vintage(raw: &RawRecord, names: &[&str]) -> Result<Option<i32>, Rejection> {
    match raw.clean_field(names) {
        None => Ok(None),
        Some(v) => parse_vintage(&v)
            .map(|v| Some(v.start))
            .map_err(|e| Rejection::field(raw.field_name(names), e.to_string())),
    }
}

/// Parses a serial (a `GS1-1-…` block, or a Kyoto CER range, which keeps its `cdm:`
/// namespace) and checks that a Gold Standard serial names the record's project.
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
    // A CER's serial names the CDM project, which has another number: nothing to compare.
    if let Encoded::GoldStandard(_) = parsed.encoded
        && let Some(in_serial) = parsed.project_id()
        && in_serial != project
    {
        return Err(Rejection::field(
            raw.field_name(names),
            format!("`{serial}` names project {in_serial}, but the record is for {project}"),
        ));
    }
    Ok(parsed)
}

/// One row of the issuance or retirement export (the latter holds cancellations too).
fn export_credit(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let project = project_id_field(raw, col::GSID)?;
    let status_raw = raw.clean_field(col::STATUS).ok_or_else(|| {
        Rejection::field(
            raw.field_name(col::STATUS),
            "is empty: the block's state is unknown",
        )
    })?;
    let t = transaction_type(REGISTRY, &status_raw);
    let quantity = raw.quantity(col::QUANTITY)?;
    let serial_raw = raw.clean_field(col::SERIAL).ok_or_else(|| {
        Rejection::field(
            raw.field_name(col::SERIAL),
            "is empty: a block without a serial cannot be identified",
        )
    })?;
    let parsed = serial(raw, col::SERIAL, &serial_raw, None, &project)?;
    let event_date = match t {
        TransactionType::Issuance => raw.date(col::ISSUANCE_DATE, DATES)?,
        // Cancellations carry no date of their own in the export.
        _ => raw.date(col::RETIREMENT_DATE, DATES)?,
    };
    let beneficiary = raw
        .clean_field(col::USING_ENTITY)
        .or_else(|| raw.clean_field(col::OPERATOR));
    Ok(CreditRecord {
        registry: REGISTRY,
        // Unit numbers restart per batch, so the serial (batch included) names one block;
        // the same block can be issued and later retired, hence the transaction in the key.
        record_key: format!("{}:{serial_raw}", t.as_str()),
        registry_project_id: project,
        transaction_type: Normalized::new(t, status_raw.clone()),
        quantity,
        serial_range: parsed.serial_range(),
        serial: Some(serial_raw),
        vintage: vintage(raw, col::VINTAGE)?,
        monitoring_period: period(raw, col::PERIOD_START, col::PERIOD_END)?,
        event_date,
        status: Normalized::new(unit_status(REGISTRY, &status_raw), status_raw),
        account: None,
        beneficiary,
        reason: raw.clean_field(col::USE_CASE),
        note: raw.clean_field(col::NOTE),
    })
}

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
        "https://registry.goldstandard.org/projects?q={}",
        project.to_ascii_lowercase()
    )
}

fn poa(p: &mut Project, parent: Option<String>) {
    if let Some(parent) = parent.and_then(|v| canonical_project_id(&v))
        && parent != p.registry_project_id
    {
        p.cross_references.push(CrossReference {
            registry: Some(REGISTRY),
            id: parent,
            relation: "programme_of_activities".into(),
        });
    }
}

/// One row of the project export.
fn export_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = project_id_field(raw, col::GSID)?;
    let name = raw.clean_field(col::NAME).unwrap_or_default();
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(col::DEVELOPER);
    let country = raw.country(col::COUNTRY);
    p.country = country.alpha2;
    p.country_raw = country.raw;
    p.project_type = raw.clean_field(col::PROJECT_TYPE);
    p.methodology = methodology(raw.clean_field(col::METHODOLOGY));
    p.status = raw
        .clean_field(&["Status"])
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s.clone()));
    poa(&mut p, raw.clean_field(col::POA_GSID));
    p.registry_url = Some(registry_url(&id));
    Ok(p)
}

fn json<'a>(raw: &'a RawRecord, key: &str) -> Option<&'a Value> {
    match &raw.body {
        RawBody::Json(v) => v.get(key),
        RawBody::Csv { .. } => None,
    }
}

/// A `/projects` entity.
fn api_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = project_id_field(raw, &["sustaincert_id"])?;
    let name = raw.clean_field(&["name"]).unwrap_or_default();
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(&["project_developer"]);
    let country = raw.country(&["country"]);
    p.country = raw
        .clean_field(&["country_code"])
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()))
        .or(country.alpha2);
    p.country_raw = country.raw;
    p.project_type = raw.clean_field(&["type"]);
    p.methodology = methodology(raw.clean_field(&["methodology"]));
    p.status = raw
        .clean_field(&["status"])
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s.clone()));
    if let Some(period) = period(
        raw,
        &["crediting_period_start_date"],
        &["crediting_period_end_date"],
    )? {
        p.crediting_periods.push(period);
    }
    let latitude = raw
        .clean_field(&["latitude"])
        .and_then(|v| v.parse::<f64>().ok());
    let longitude = raw
        .clean_field(&["longitude"])
        .and_then(|v| v.parse::<f64>().ok());
    let region = raw.clean_field(&["state"]);
    if region.is_some() || latitude.is_some() || longitude.is_some() {
        p.locations.push(Location {
            region,
            latitude,
            longitude,
        });
    }
    if let Some(Value::Array(labels)) = json(raw, "labels") {
        p.labels
            .extend(labels.iter().filter_map(Value::as_str).map(|l| Label {
                kind: "gold_standard_label".into(),
                value: l.to_owned(),
            }));
    }
    poa(&mut p, raw.clean_field(&["poa_project_sustaincert_id"]));
    p.registry_url = raw
        .clean_field(&["id"])
        .map(|i| format!("https://registry.goldstandard.org/projects/details/{i}"));
    Ok(p)
}

/// A `/credits` block, in its current state (`ISSUED` or `RETIRED`).
fn api_credit(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let id = raw
        .clean_field(&["id"])
        .ok_or_else(|| Rejection::field("id", "is missing: the block cannot be keyed"))?;
    let project = project_id_field(raw, &["project.sustaincert_id"])?;
    let status_raw = raw
        .clean_field(&["status"])
        .ok_or_else(|| Rejection::field("status", "is empty: the block's state is unknown"))?;
    let quantity = raw.quantity(&["number_of_credits"])?;
    let serial_raw = raw.clean_field(&["serial_number"]).ok_or_else(|| {
        Rejection::field(
            "serial_number",
            "is empty: a block without a serial cannot be identified",
        )
    })?;
    let position = |name: &str| -> Result<Option<u64>, Rejection> {
        match raw.clean_field(&[name]) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| Rejection::field(name, format!("`{v}` is not a credit number"))),
        }
    };
    let positions = match (
        position("starting_credit_number")?,
        position("ending_credit_number")?,
    ) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    let parsed = serial(raw, &["serial_number"], &serial_raw, positions, &project)?;
    let t = transaction_type(REGISTRY, &status_raw);
    let certified = raw.date(&["certified_date"], DATES)?;
    Ok(CreditRecord {
        registry: REGISTRY,
        // The API's block id: a block keeps it as its state moves from ISSUED to RETIRED.
        record_key: format!("credit:{id}"),
        registry_project_id: project,
        transaction_type: Normalized::new(t, status_raw.clone()),
        quantity,
        serial_range: parsed.serial_range(),
        serial: Some(serial_raw),
        vintage: vintage(raw, &["vintage"])?.or(certified.map(|d| d.year())),
        monitoring_period: period(
            raw,
            &["monitoring_period_start_date"],
            &["monitoring_period_end_date"],
        )?,
        // `certified_date` is the issuance; the API publishes no retirement date.
        event_date: (t == TransactionType::Issuance)
            .then_some(certified)
            .flatten(),
        status: Normalized::new(unit_status(REGISTRY, &status_raw), status_raw),
        account: None,
        beneficiary: raw.clean_field(&["using_entity"]),
        reason: raw.clean_field(&["retirement_use_case"]),
        note: raw.clean_field(&["note"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_ids_take_one_form() {
        assert_eq!(canonical_project_id("11236").as_deref(), Some("GS11236"));
        assert_eq!(canonical_project_id("GS817").as_deref(), Some("GS817"));
        assert_eq!(canonical_project_id("11191.0").as_deref(), Some("GS11191"));
        assert_eq!(canonical_project_id("VCS1"), None);
    }
}
