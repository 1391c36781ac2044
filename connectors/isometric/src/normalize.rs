//! Isometric raw records → common-model records. Pure: no I/O, no clock.
//!
//! Quantities are kept exact: the kilogram count is the unit of account, and the tonnes are
//! computed from it (`2765370` kg → `2765.37` t). When a record states both, they must agree.

use carbonmesh_connector::{Feed, RawBody, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, Label, Location, Normalized, Period, Project, RegistryId, SerialRange,
    TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    DateOrder, kg_to_tonnes, parse_date, parse_py_str_list, parse_whole_units, project_status,
};
use carbonmesh_serials::SerialError;
use chrono::Datelike;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::ISOMETRIC;

/// Isometric writes ISO dates and datetimes with `Z` (`2026-04-14T16:50:41.621676Z`); a
/// numeric date other than ISO would be read month first.
const DATES: DateOrder = DateOrder::MonthFirst;

/// Public pages of records: `https://to.isometric.com/<prj_…|ret_…>`.
const PUBLIC_PAGE: &str = "https://to.isometric.com/";

/// Normalizes one Isometric record.
pub(crate) fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let records = match raw.feed {
        Feed::Projects => vec![Record::Project(project(raw)?)],
        Feed::Issuances => issuance(raw)?,
        Feed::Retirements => vec![Record::Credit(retirement(raw)?)],
        Feed::Cancellations | Feed::Transactions => {
            return Err(Rejection::record(format!(
                "Isometric publishes no {} feed",
                raw.feed
            )));
        }
    };
    for record in &records {
        record.validate()?;
    }
    Ok(records)
}

fn project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = record_id(raw, col::PRJ_ID, "prj_")?;
    let name = raw.required(col::NAME)?;
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(col::SUPPLIER_ORG);
    let country = raw.country(col::COUNTRY);
    p.country = country.alpha2;
    p.country_raw = country.raw;
    p.project_type = raw.clean_field(col::PATHWAY);
    p.methodology = raw.clean_field(col::PROTOCOL);
    p.status = raw
        .clean_field(col::STATUS)
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s));
    let start = raw.date(col::CREDITING_START, DATES)?;
    let end = raw.date(col::CREDITING_END, DATES)?;
    if start.is_some() || end.is_some() {
        p.crediting_periods.push(Period { start, end });
    }
    let region = raw.clean_field(col::LOCATION);
    let latitude = coordinate(raw, col::LATITUDE, 90.0)?;
    let longitude = coordinate(raw, col::LONGITUDE, 180.0)?;
    if region.is_some() || latitude.is_some() || longitude.is_some() {
        p.locations.push(Location {
            region,
            latitude,
            longitude,
        });
    }
    for (kind, names) in [
        ("short_code", col::SHORT_CODE),
        ("process", col::PROCESS_KEY),
    ] {
        if let Some(value) = raw.clean_field(names) {
            p.labels.push(Label {
                kind: kind.into(),
                value,
            });
        }
    }
    p.registry_url = raw
        .clean_field(col::URL)
        .filter(|u| u.starts_with("http"))
        .or_else(|| Some(format!("{PUBLIC_PAGE}{id}")));
    Ok(p)
}

/// An issuance yields the issuance of `credit_batch_size_total` (everything issued, buffer
/// included) and, when non-zero, the buffer record of `buffer_pool_credit_batch_size_total`,
/// the part set aside in Isometric's buffer pool. The supplier's part is in the note.
fn issuance(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let id = record_id(raw, col::ISSUANCE_ID, "iss_")?;
    let project = project_ref(raw, col::PROJECT_ID)?;
    let issued_at = raw.required_date(col::ISSUED_AT, DATES)?;
    let total = amount(raw, col::TOTAL_KGS, col::TOTAL_CREDITS)?
        .ok_or_else(|| Rejection::field(raw.field_name(col::TOTAL_KGS), "is blank or missing"))?;
    let buffer = amount(raw, col::BUFFER_KGS, col::BUFFER_CREDITS)?;
    let supplier = amount(raw, col::SUPPLIER_KGS, col::SUPPLIER_CREDITS)?;
    let start = raw.date(col::PERIOD_START, DATES)?;
    let end = raw.date(col::PERIOD_END, DATES)?;
    let base = CreditRecord {
        registry: REGISTRY,
        record_key: id.clone(),
        registry_project_id: project,
        transaction_type: Normalized::new(TransactionType::Issuance, "issuance"),
        quantity: total.tonnes,
        serial: None,
        serial_range: synthetic_range(raw, &id, total.kilograms)?,
        vintage: None,
        monitoring_period: (start.is_some() || end.is_some()).then_some(Period { start, end }),
        event_date: Some(issued_at),
        status: Normalized::new(UnitStatus::Active, "issued"),
        account: raw.clean_field(col::SUPPLIER_ORG),
        beneficiary: None,
        reason: None,
        note: supplier.map(|s| {
            format!(
                "supplier credits: {} t ({} kg)",
                s.tonnes.normalize(),
                s.kilograms
            )
        }),
    };
    let mut out = vec![Record::Credit(base.clone())];
    if let Some(b) = buffer.filter(|b| b.kilograms > 0) {
        out.push(Record::Credit(CreditRecord {
            record_key: format!("{id}#buffer"),
            transaction_type: Normalized::new(
                TransactionType::Buffer,
                "buffer_pool_credit_batch_size_total",
            ),
            quantity: b.tonnes,
            serial_range: None,
            status: Normalized::new(UnitStatus::Buffer, "buffer_pool"),
            note: None,
            ..base
        }));
    }
    Ok(out)
}

fn retirement(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let id = record_id(raw, col::RETIREMENT_ID, "ret_")?;
    let project = match raw.clean_field(col::PROJECT_ID) {
        Some(_) => project_ref(raw, col::PROJECT_ID)?,
        None => batches_project(raw)?,
    };
    let retired_at = raw.required_date(col::RETIRED_AT, DATES)?;
    let total = amount(raw, col::TOTAL_KGS, col::TOTAL_CREDITS)?
        .ok_or_else(|| Rejection::field(raw.field_name(col::TOTAL_KGS), "is blank or missing"))?;
    let vintage = match raw.date(col::SEQUESTERED_ON, DATES)? {
        Some(d) => Some(d.year()),
        None => batches_vintage(raw)?,
    };
    Ok(CreditRecord {
        registry: REGISTRY,
        record_key: id.clone(),
        registry_project_id: project,
        transaction_type: Normalized::new(TransactionType::Retirement, "retirement"),
        quantity: total.tonnes,
        serial: None,
        serial_range: synthetic_range(raw, &id, total.kilograms)?,
        vintage,
        monitoring_period: None,
        event_date: Some(retired_at),
        status: Normalized::new(UnitStatus::Retired, "retired"),
        account: raw.clean_field(col::OWNER),
        beneficiary: raw.clean_field(col::BENEFICIARY),
        reason: purposes(raw)?,
        note: raw.clean_field(col::NOTES),
    })
}

/// An exact amount: the kilogram count and the tonnes it makes.
#[derive(Clone, Copy)]
struct Amount {
    kilograms: u64,
    tonnes: Decimal,
}

/// Reads an amount from its kilograms and its tonnes. Kilograms are the unit of account; the
/// tonnes, when also given, must be exactly the kilograms divided by 1000. Tonnes alone must
/// be a whole number of kilograms.
fn amount(raw: &RawRecord, kgs: &[&str], credits: &[&str]) -> Result<Option<Amount>, Rejection> {
    let kg_field = || raw.field_name(kgs);
    let t_field = || raw.field_name(credits);
    let kilograms = match raw.clean_field(kgs) {
        None => None,
        Some(v) => {
            Some(parse_whole_units(&v).map_err(|e| Rejection::field(kg_field(), e.to_string()))?)
        }
    };
    let tonnes = raw.optional_quantity(credits)?;
    match (kilograms, tonnes) {
        (Some(kg), Some(t)) => {
            let exact = kg_to_tonnes(Decimal::from(kg));
            if exact != t.normalize() {
                return Err(Rejection::field(
                    t_field(),
                    format!("{t} t disagrees with {kg} kg (which is {exact} t)"),
                ));
            }
            Ok(Some(Amount {
                kilograms: kg,
                tonnes: exact,
            }))
        }
        (Some(kg), None) => Ok(Some(Amount {
            kilograms: kg,
            tonnes: kg_to_tonnes(Decimal::from(kg)),
        })),
        (None, Some(t)) => {
            let kg = t * Decimal::ONE_THOUSAND;
            if !kg.fract().is_zero() {
                return Err(Rejection::field(
                    t_field(),
                    format!("{t} t is finer than a kilogram"),
                ));
            }
            let kilograms = u64::try_from(kg.trunc())
                .map_err(|_| Rejection::field(t_field(), format!("{t} t is too large")))?;
            Ok(Some(Amount {
                kilograms,
                tonnes: t.normalize(),
            }))
        }
        (None, None) => Ok(None),
    }
}

/// The synthetic range `1..=kilograms` in the record's own namespace; `None` for an empty
/// record (zero kilograms has no range).
fn synthetic_range(
    raw: &RawRecord,
    id: &str,
    kilograms: u64,
) -> Result<Option<SerialRange>, Rejection> {
    match carbonmesh_serials::isometric_record(id, kilograms) {
        Ok(parsed) => Ok(parsed.serial_range()),
        Err(SerialError::EmptyRange { .. }) => Ok(None),
        Err(e) => Err(Rejection::field(
            raw.field_name(col::TOTAL_KGS),
            format!("{kilograms} kg of {id}: {e}"),
        )),
    }
}

/// A record id with its feed's prefix (`iss_1KP6EDZ8K1S036PY`): letters, digits and `_`.
fn record_id(raw: &RawRecord, names: &[&str], prefix: &str) -> Result<String, Rejection> {
    let id = raw.required(names)?;
    let well_formed = id.len() > prefix.len()
        && id.len() <= 64
        && id.starts_with(prefix)
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !well_formed {
        return Err(Rejection::field(
            raw.field_name(names),
            format!("`{id}` is not an Isometric id of the form {prefix}…"),
        ));
    }
    Ok(id)
}

fn project_ref(raw: &RawRecord, names: &[&str]) -> Result<String, Rejection> {
    record_id(raw, names, "prj_")
}

/// API retirements name no project themselves; their credit batches do, and must agree.
fn batches_project(raw: &RawRecord) -> Result<String, Rejection> {
    let mut ids: Vec<&str> = batches(raw)
        .iter()
        .filter_map(|b| b.get("project_id").and_then(Value::as_str))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    match ids.as_slice() {
        [one] if one.starts_with("prj_") => Ok((*one).to_owned()),
        [] => Err(Rejection::field("project_id", "is blank or missing")),
        many => Err(Rejection::field(
            "credit_batches",
            format!(
                "name {} projects ({}), not one",
                many.len(),
                many.join(", ")
            ),
        )),
    }
}

/// The earliest sequestration year of an API retirement's credit batches (CarbonPlan's rule).
fn batches_vintage(raw: &RawRecord) -> Result<Option<i32>, Rejection> {
    let mut years = Vec::new();
    for b in batches(raw) {
        if let Some(v) = b.get("sequestered_on").and_then(Value::as_str) {
            let d = parse_date(v, DateOrder::MonthFirst)
                .map_err(|e| Rejection::field("credit_batches.sequestered_on", e.to_string()))?;
            years.push(d.year());
        }
    }
    Ok(years.into_iter().min())
}

fn batches(raw: &RawRecord) -> &[Value] {
    match &raw.body {
        RawBody::Json(v) => v
            .get(col::CREDIT_BATCHES)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice),
        RawBody::Csv { .. } => &[],
    }
}

/// `purposes` is a JSON array in the API and a Python list in CarbonPlan's CSV
/// (`['corporate_targets', 'public_environmental_claims']`); joined with `, `.
fn purposes(raw: &RawRecord) -> Result<Option<String>, Rejection> {
    let Some(text) = raw.clean_field(col::PURPOSES) else {
        return Ok(None);
    };
    let list = match serde_json::from_str::<Vec<String>>(&text) {
        Ok(list) => list,
        Err(_) => parse_py_str_list(&text)
            .map_err(|e| Rejection::field(raw.field_name(col::PURPOSES), e.to_string()))?,
    };
    Ok((!list.is_empty()).then(|| list.join(", ")))
}

fn coordinate(raw: &RawRecord, names: &[&str], limit: f64) -> Result<Option<f64>, Rejection> {
    let Some(v) = raw.clean_field(names) else {
        return Ok(None);
    };
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x.abs() <= limit => Ok(Some(x)),
        _ => Err(Rejection::field(
            raw.field_name(names),
            format!("`{v}` is not a coordinate within ±{limit}"),
        )),
    }
}
