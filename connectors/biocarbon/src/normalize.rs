//! BioCarbon raw records → common-model records. Pure: no I/O, no clock.
//!
//! The project of a credit record is the record's `initiative_id`, the registry's internal
//! project number (the `id` of `/api/ghg/projects`), never the code inside the serial: blocks of
//! project `BCR-CO-319-14-001` carry serials `BCR-CO-259-14-005-…`. The internal number is the
//! one identifier every feed states: issuance blocks carry it beside the public code
//! (`project_id`), retirements carry only it, and cancellations are asked for by it. The public
//! code is kept on the project as a `project_code` label.

use carbonmesh_connector::{Feed, RawBody, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, Label, Normalized, Period, Project, RegistryId, TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    DateOrder, parse_methodology, project_status, transaction_type, unit_status,
};
use carbonmesh_serials::{Encoded, ParsedSerial, parse, parse_with_positions};
use chrono::Datelike;
use serde_json::Value;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::BIOCARBON;

/// Dates are mixed: `created_at` of retirements is `DD/MM/YYYY`, the rest ISO.
const DATES: DateOrder = DateOrder::DayFirst;

/// Normalizes one BioCarbon record.
pub fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let record = match raw.feed {
        Feed::Projects => Record::Project(project(raw)?),
        Feed::Issuances => Record::Credit(block(raw)?),
        Feed::Retirements => Record::Credit(retirement(raw)?),
        Feed::Cancellations => Record::Credit(cancellation(raw)?),
        Feed::Transactions => {
            return Err(Rejection::record(
                "BioCarbon publishes no combined transactions ledger",
            ));
        }
    };
    record.validate()?;
    Ok(vec![record])
}

/// The canonical form of BioCarbon's internal project number: digits without zero padding.
pub fn canonical_project_id(raw: &str) -> Option<String> {
    let s = raw.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = s.trim_start_matches('0');
    Some(if digits.is_empty() { "0" } else { digits }.to_owned())
}

fn project_number(raw: &RawRecord, name: &str) -> Result<String, Rejection> {
    let v = raw.required(&[name])?;
    canonical_project_id(&v).ok_or_else(|| {
        Rejection::field(
            name,
            format!("`{v}` is not a BioCarbon project number (digits)"),
        )
    })
}

/// `initial_vintage`..`final_vintage`, and the vintage year: `year` where given, else the year
/// of `final_vintage` (the registry's `year` is always that year where both are present).
fn vintage(raw: &RawRecord) -> Result<(Option<i32>, Option<Period>), Rejection> {
    let start = raw.date(&[col::INITIAL_VINTAGE], DATES)?;
    let end = raw.date(&[col::FINAL_VINTAGE], DATES)?;
    let year = raw.year(&[col::YEAR])?.or(end.or(start).map(|d| d.year()));
    let period = (start.is_some() || end.is_some()).then_some(Period { start, end });
    Ok((year, period))
}

fn serial(
    raw: &RawRecord,
    positions: Option<(u64, u64)>,
) -> Result<(String, ParsedSerial), Rejection> {
    let serial = raw.required(&[col::SERIAL])?;
    let parsed = match positions {
        Some((first, last)) => parse_with_positions(&serial, first, last, Some(REGISTRY)),
        None => parse(&serial, Some(REGISTRY)),
    }
    .map_err(|e| Rejection::field(col::SERIAL, format!("`{serial}`: {e}")))?;
    Ok((serial, parsed))
}

fn note(parts: Vec<Option<String>>) -> Option<String> {
    let parts: Vec<String> = parts.into_iter().flatten().collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn labelled(label: &str, value: Option<String>) -> Option<String> {
    value.map(|v| format!("{label}: {v}"))
}

/// The registry's word mapped through carbonmesh's vocabulary, `default` when it says nothing.
fn kind(raw: &str, default: TransactionType) -> TransactionType {
    match transaction_type(REGISTRY, raw) {
        TransactionType::Unknown => default,
        t => t,
    }
}

/// An issuance block of `/api/ghg/carbon-credits`, in its current state. `destination` says
/// what the block is for: `Impuesto` (units for the Colombian carbon tax) is an issuance,
/// `Reserva` and `reserved` are reserve (buffer) blocks.
fn block(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let project = project_number(raw, col::INITIATIVE_ID)?;
    let (serial, parsed) = serial(raw, None)?;
    let (vintage, period) = vintage(raw)?;
    let destination = raw.optional(&[col::DESTINATION]);
    let word = destination
        .clone()
        .unwrap_or_else(|| "carbon-credits".into());
    let t = kind(&word, TransactionType::Issuance);
    let status = match unit_status(REGISTRY, &word) {
        UnitStatus::Unknown if t == TransactionType::Buffer => UnitStatus::Buffer,
        UnitStatus::Unknown => UnitStatus::Active,
        s => s,
    };
    let event_date = match raw.date(&[col::DATE_ISSUE], DATES)? {
        Some(d) => Some(d),
        None => raw.date(&[col::CREATED_AT], DATES)?,
    };
    Ok(CreditRecord {
        registry: REGISTRY,
        record_key: format!("carbon-credit:{serial}"),
        registry_project_id: project,
        transaction_type: Normalized::new(t, &word),
        quantity: raw.quantity(&[col::AMOUNT])?,
        serial_range: parsed.serial_range(),
        serial: Some(serial),
        vintage,
        monitoring_period: period,
        event_date,
        status: Normalized::new(status, &word),
        account: raw.optional(&[col::HOLDER]),
        beneficiary: None,
        reason: None,
        // The block's standing as published; `dropouts` are cancelled units.
        note: note(vec![
            labelled("project code", raw.optional(&[col::PROJECT_CODE])),
            labelled("active", raw.optional(&[col::ACTIVE])),
            labelled("sold", raw.optional(&[col::SOLD])),
            labelled("out of", raw.optional(&[col::OUT_OF])),
            labelled("dropouts", raw.optional(&[col::DROPOUTS])),
        ]),
    })
}

fn position(raw: &RawRecord, name: &str) -> Result<Option<u64>, Rejection> {
    match raw.optional(&[name]) {
        None => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(Some)
            .map_err(|_| Rejection::field(name, format!("`{v}` is not a unit number"))),
    }
}

/// A retirement of `/api/ghg/retreats`: a sub-range of a block, whose serial repeats the
/// block's prefix. `initial_serial`/`final_serial` must lie inside the serial's range.
fn retirement(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let project = project_number(raw, col::INITIATIVE_ID)?;
    let positions = match (
        position(raw, col::INITIAL_SERIAL)?,
        position(raw, col::FINAL_SERIAL)?,
    ) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    let (serial, parsed) = serial(raw, positions)?;
    // A retirement states no vintage of its own; the serial's `YYMM` end is the block's year.
    let vintage = match &parsed.encoded {
        Encoded::Biocarbon(f) => Some(i32::from(f.vintage_end.year)),
        _ => None,
    };
    let word = "retreat";
    Ok(CreditRecord {
        registry: REGISTRY,
        record_key: format!("retreat:{serial}"),
        registry_project_id: project,
        transaction_type: Normalized::new(kind(word, TransactionType::Retirement), word),
        quantity: raw.quantity(&[col::SOLD])?,
        serial_range: parsed.serial_range(),
        serial: Some(serial),
        vintage,
        monitoring_period: None,
        event_date: raw.date(&[col::CREATED_AT], DATES)?,
        status: Normalized::new(UnitStatus::Retired, word),
        // `to_name` is the account retired into (often a fuel distributor retiring for its
        // customers); `final_user` is the beneficiary.
        account: raw.optional(&[col::TO_NAME]),
        beneficiary: raw.optional(&[col::FINAL_USER]),
        reason: raw.optional(&[col::REASON]),
        note: note(vec![
            labelled("market", raw.optional(&[col::MARKET])),
            labelled("destination", raw.optional(&[col::DESTINATION])),
            labelled("passive user", raw.optional(&[col::PASSIVE_USER])),
            labelled("holder", raw.optional(&[col::HOLDER])),
            labelled("project", raw.optional(&[col::PROJECT_NAME])),
        ]),
    })
}

/// A cancellation of `/api/ghg/carbon-credits/project/{id}/cancellations`.
fn cancellation(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let project = project_number(raw, col::INITIATIVE_ID)?;
    let (serial, parsed) = serial(raw, None)?;
    let (vintage, period) = vintage(raw)?;
    let word = "cancellation";
    Ok(CreditRecord {
        registry: REGISTRY,
        record_key: format!("cancellation:{serial}"),
        registry_project_id: project,
        transaction_type: Normalized::new(kind(word, TransactionType::Cancellation), word),
        quantity: raw.quantity(&[col::AMOUNT])?,
        serial_range: parsed.serial_range(),
        serial: Some(serial),
        vintage,
        monitoring_period: period,
        event_date: raw.date(&[col::CANCELLATION_DATE], DATES)?,
        status: Normalized::new(UnitStatus::Cancelled, word),
        account: None,
        beneficiary: None,
        reason: None,
        note: None,
    })
}

fn json<'a>(raw: &'a RawRecord, name: &str) -> Option<&'a Value> {
    match &raw.body {
        RawBody::Json(v) => v.get(name),
        RawBody::Csv { .. } => None,
    }
}

/// `methodologies[]` as `BCR BCR0002 v1; CDM ACM0002 v1`.
fn methodologies(raw: &RawRecord) -> Option<String> {
    let Some(Value::Array(items)) = json(raw, col::METHODOLOGIES) else {
        return None;
    };
    let texts: Vec<String> = items
        .iter()
        .filter_map(|m| {
            let code = m.get("code").and_then(Value::as_str)?.trim();
            let version = m
                .pointer("/pivot/version")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty());
            let mut out = match parse_methodology(REGISTRY, code) {
                Some(p) => [p.program, p.code]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" "),
                None => code.to_owned(),
            };
            if out.is_empty() {
                return None;
            }
            if let Some(v) = version {
                out.push_str(&format!(" v{v}"));
            }
            Some(out)
        })
        .collect();
    (!texts.is_empty()).then(|| texts.join("; "))
}

fn project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = project_number(raw, col::ID)?;
    let name = raw.optional(&[col::PROJECT_NAME]).unwrap_or_default();
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw
        .optional(&[col::HOLDER_NAME])
        .or_else(|| raw.optional(&[col::HOLDER_OBJECT]));
    // Names are sometimes Spanish (`Turquía`, `Perú`); `country_iso` is the code.
    let iso = raw.country(&[col::COUNTRY_ISO]);
    let country = raw.country(&[col::COUNTRY]);
    p.country = iso.alpha2.or(country.alpha2);
    p.country_raw = country.raw.or(iso.raw);
    p.sector = raw.optional(&[col::SECTOR]);
    p.project_type = raw.optional(&[col::TYPE]);
    p.methodology = methodologies(raw);
    p.status = raw
        .optional(&[col::STATUS])
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s));
    let start = raw.date(&[col::PERIOD_START], DATES)?;
    let end = raw.date(&[col::PERIOD_END], DATES)?;
    if start.is_some() || end.is_some() {
        p.crediting_periods.push(Period { start, end });
    }
    if let Some(code) = raw.optional(&[col::PROJECT_CODE]) {
        p.labels.push(Label {
            kind: "project_code".into(),
            value: code,
        });
    }
    if let Some(vvb) = raw.optional(&[col::VVB]) {
        p.labels.push(Label {
            kind: "validation_verification_body".into(),
            value: vvb,
        });
    }
    if let Some(v) = raw
        .optional(&[col::VERIFIED_REDUCTIONS])
        .filter(|v| v != "0")
    {
        p.labels.push(Label {
            kind: "verified_reductions".into(),
            value: v,
        });
    }
    if let Some(Value::Array(goals)) = json(raw, col::OBJECTIVES) {
        p.labels.extend(
            goals
                .iter()
                .filter_map(|g| g.get("text_cadt").and_then(Value::as_str))
                .map(|g| Label {
                    kind: "sdg".into(),
                    value: g.trim().to_owned(),
                }),
        );
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_numbers_take_one_form() {
        assert_eq!(canonical_project_id("35").as_deref(), Some("35"));
        assert_eq!(canonical_project_id(" 035 ").as_deref(), Some("35"));
        assert_eq!(canonical_project_id("BCR-CO-319-14-001"), None);
        assert_eq!(canonical_project_id(""), None);
    }
}
