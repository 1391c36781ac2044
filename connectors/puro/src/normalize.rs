//! Puro.earth raw records → common-model records. Pure: no I/O, no clock.
//!
//! A transaction (issuance or retirement) yields one credit record per bundle: a bundle is one
//! certificate range of one production facility, and a retirement often draws on several. The
//! project is the bundle's `productionFacilityCode`, which is also the project's `code` on the
//! projects page; the serial's facility must agree with it.

use carbonmesh_connector::{Feed, Field, RawBody, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, Label, Location, Normalized, Period, Project, RegistryId, TransactionType,
    UnitStatus,
};
use carbonmesh_normalize::{DateOrder, parse_methodology, transaction_type, unit_status};
use carbonmesh_serials::{Encoded, ParsedSerial};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::PURO;

/// ISO dates and datetimes with `Z` everywhere.
const DATES: DateOrder = DateOrder::DayFirst;

/// Project pages live under this host.
const REGISTRY_SITE: &str = "https://registry.puro.earth";

/// Normalizes one Puro.earth record: a project, or a transaction into one credit record per
/// bundle. A transaction with one bad bundle is rejected whole, naming the bundle.
pub fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let records = match raw.feed {
        Feed::Projects => vec![Record::Project(project(raw)?)],
        Feed::Issuances | Feed::Retirements | Feed::Transactions => {
            transaction(raw)?.into_iter().map(Record::Credit).collect()
        }
        Feed::Cancellations => {
            return Err(Rejection::record(
                "Puro.earth publishes no cancellation ledger",
            ));
        }
    };
    for record in &records {
        record.validate()?;
    }
    Ok(records)
}

/// A period from two date members, a rejection naming the member under `prefix`.
fn period(
    raw: &RawRecord,
    prefix: &str,
    start: &str,
    end: &str,
) -> Result<Option<Period>, Rejection> {
    let date = |name: &str| raw.date(Field::labelled(&format!("{prefix}{name}"), &[name]), DATES);
    let (start, end) = (date(start)?, date(end)?);
    Ok((start.is_some() || end.is_some()).then_some(Period { start, end }))
}

/// The bundles of a transaction as records of their own, so fields read by name.
fn bundles(raw: &RawRecord) -> Result<Vec<RawRecord>, Rejection> {
    let RawBody::Json(value) = &raw.body else {
        return Err(Rejection::record("a Puro.earth record is a JSON object"));
    };
    let bundles = match value.get(col::BUNDLES) {
        Some(Value::Array(b)) if !b.is_empty() => b,
        Some(Value::Array(_)) => {
            return Err(Rejection::field(
                col::BUNDLES,
                "is empty: a transaction without bundles names no certificates",
            ));
        }
        _ => return Err(Rejection::field(col::BUNDLES, "is missing or not an array")),
    };
    bundles
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if b.is_object() {
                Ok(RawRecord {
                    feed: raw.feed,
                    source: raw.source.clone(),
                    line: raw.line,
                    body: RawBody::Json(b.clone()),
                })
            } else {
                Err(Rejection::field(
                    format!("{}[{i}]", col::BUNDLES),
                    "is not a JSON object",
                ))
            }
        })
        .collect()
}

/// Label names of `transactionLabels`: strings, or objects naming their label.
fn labels(raw: &RawRecord) -> Vec<String> {
    let RawBody::Json(value) = &raw.body else {
        return Vec::new();
    };
    let Some(Value::Array(items)) = value.get(col::TRANSACTION_LABELS) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::String(s) => Some(s.trim().to_owned()),
            Value::Object(o) => ["type", "id", "label", "name"]
                .iter()
                .find_map(|k| o.get(*k).and_then(Value::as_str))
                .map(|s| s.trim().to_owned()),
            _ => None,
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// What the registry says about a retirement beyond its beneficiary and purpose.
fn retirement_note(raw: &RawRecord) -> Result<Option<String>, Rejection> {
    let mut parts = Vec::new();
    if let Some(v) = raw.optional(&[col::USAGE_TYPE]) {
        parts.push(format!("usage: {v}"));
    }
    if let Some(v) = raw.optional(&[col::BENEFICIARY_TYPE]) {
        parts.push(format!("beneficiary type: {v}"));
    }
    if let Some(v) = raw.optional(&[col::CONSUMPTION_COUNTRY]) {
        parts.push(format!("country of consumption: {v}"));
    }
    let start = raw.date(&[col::CONSUMPTION_START], DATES)?;
    let end = raw.date(&[col::CONSUMPTION_END], DATES)?;
    if start.is_some() || end.is_some() {
        let show = |d: Option<NaiveDate>| d.map_or_else(|| "?".to_owned(), |d| d.to_string());
        parts.push(format!(
            "consumption period: {} to {}",
            show(start),
            show(end)
        ));
    }
    // The registry leaves the name out while the beneficiary is hidden.
    if let Some(until) = raw.optional(&[col::BENEFICIARY_HIDDEN_UNTIL]) {
        parts.push(format!("beneficiary hidden until {until}"));
    }
    if let Some(v) = raw.optional(&[col::STATEMENT_URL]) {
        parts.push(format!("statement: {v}"));
    }
    Ok((!parts.is_empty()).then(|| parts.join("; ")))
}

fn transaction(raw: &RawRecord) -> Result<Vec<CreditRecord>, Rejection> {
    let id = raw.required(&[col::ID])?;
    let type_raw = raw.required(&[col::TYPE])?;
    let t = transaction_type(REGISTRY, &type_raw);
    // Withdrawal is only a label on issuances, without a quantity.
    let withdrawal = labels(raw)
        .into_iter()
        .find(|l| unit_status(REGISTRY, l) == UnitStatus::Withdrawn);
    let status = match (&withdrawal, t) {
        (Some(label), _) => Normalized::new(UnitStatus::Withdrawn, label.clone()),
        (None, TransactionType::Issuance) => Normalized::new(UnitStatus::Active, &type_raw),
        (None, TransactionType::Retirement) => Normalized::new(UnitStatus::Retired, &type_raw),
        (None, _) => Normalized::new(unit_status(REGISTRY, &type_raw), &type_raw),
    };
    let event_date = raw.date(&[col::COMPLETED_ON], DATES)?;
    let account = raw.optional(&[col::ACCOUNT_HOLDER]);
    let (beneficiary, reason, note) = if t == TransactionType::Retirement {
        (
            raw.optional(&[col::BENEFICIARY]),
            raw.optional(&[col::PURPOSE]),
            retirement_note(raw)?,
        )
    } else {
        (
            None,
            None,
            raw.optional(&[col::AUDIT_BODY])
                .map(|a| format!("audit body: {a}")),
        )
    };
    let mut out = Vec::new();
    for (i, bundle) in bundles(raw)?.iter().enumerate() {
        let prefix = format!("{}[{i}].", col::BUNDLES);
        let field = |name: &str| format!("{prefix}{name}");
        let required = |name: &str| bundle.required(Field::labelled(&field(name), &[name]));
        let bundle_id = required(col::BUNDLE_ID)?;
        let facility = required(col::FACILITY)?;
        let certificates = required(col::CERTIFICATES)?;
        let parsed = serial(bundle, &prefix, &certificates, &facility)?;
        let vintage = bundle.year(Field::labelled(&field(col::VINTAGE), &[col::VINTAGE]))?;
        out.push(CreditRecord {
            registry: REGISTRY,
            // The transaction and bundle ids are the registry's own; a bundle id is unique.
            record_key: format!("{id}/{bundle_id}"),
            registry_project_id: facility,
            transaction_type: Normalized::new(t, &type_raw),
            quantity: bundle.quantity(Field::labelled(&field(col::VOLUME), &[col::VOLUME]))?,
            serial_range: parsed.serial_range(),
            serial: Some(certificates),
            vintage,
            monitoring_period: period(bundle, &prefix, col::PRODUCTION_START, col::PRODUCTION_END)?,
            event_date,
            status: status.clone(),
            account: account.clone(),
            beneficiary: beneficiary.clone(),
            reason: reason.clone(),
            note: note.clone(),
        });
    }
    // The transaction's volume is the sum of its bundles; anything else is a broken record.
    if let Some(stated) = raw.optional_quantity(&[col::VOLUME])? {
        let sum: Decimal = out.iter().map(|c| c.quantity).sum();
        if stated != sum {
            return Err(Rejection::field(
                col::VOLUME,
                format!("`{stated}` is not the sum of the bundles' volumes ({sum})"),
            ));
        }
    }
    Ok(out)
}

/// Parses a bundle's certificate range and checks it against the bundle's own fields: the
/// facility (the project), the issuance id (the namespace of current ranges) and `_start`/`_end`.
/// A range whose size differs from the volume is kept: the matcher reports it.
fn serial(
    bundle: &RawRecord,
    prefix: &str,
    certificates: &str,
    facility: &str,
) -> Result<ParsedSerial, Rejection> {
    let field = format!("{prefix}{}", col::CERTIFICATES);
    let parsed = carbonmesh_serials::parse(certificates, Some(REGISTRY))
        .map_err(|e| Rejection::field(&field, format!("`{certificates}`: {e}")))?;
    if let Encoded::Puro(f) = &parsed.encoded {
        if let Some(w) = &f.wrapper
            && w.facility.as_str() != facility
        {
            return Err(Rejection::field(
                &field,
                format!(
                    "`{certificates}` names facility {}, but the bundle is of facility {facility}",
                    w.facility.as_str()
                ),
            ));
        }
        if let (Some(in_serial), Some(stated)) =
            (f.issuance_id.as_ref(), bundle.optional(&[col::ISSUANCE_ID]))
            && !in_serial.as_str().eq_ignore_ascii_case(&stated)
        {
            return Err(Rejection::field(
                &field,
                format!(
                    "`{certificates}` names issuance {}, but the bundle is of issuance {stated}",
                    in_serial.as_str()
                ),
            ));
        }
    }
    if let (Some(start), Some(end)) = (bundle.optional(&[col::START]), bundle.optional(&[col::END]))
        && !certificates.ends_with(&format!("_{start}-{end}"))
        && certificates != format!("{start}-{end}")
    {
        return Err(Rejection::field(
            format!("{prefix}{}", col::START),
            format!("`{start}`-`{end}` is not the range of `{certificates}`"),
        ));
    }
    Ok(parsed)
}

fn project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = raw.required(col::PROJECT_CODE)?;
    let name = raw.optional(&[col::PROJECT_NAME]).unwrap_or_default();
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.optional(&[col::SUPPLIER]);
    // `NA` is Namibia.
    let country = raw.country(&[col::COUNTRY]);
    p.country = country.alpha2;
    p.country_raw = country.raw;
    if let Some(code) = raw.clean_field(col::METHODOLOGY_CODE) {
        p.methodology = Some(match parse_methodology(REGISTRY, &code) {
            Some(m) => [m.program, m.code]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            None => code,
        });
    }
    // The methodology's name is what the project does (`Biochar`, `Wooden Building Elements`).
    p.project_type = raw.optional(&[col::METHODOLOGY_NAME]);
    if let Some(period) = period(raw, "", col::CREDITING_START, col::CREDITING_END)? {
        p.crediting_periods.push(period);
    }
    let coordinate = |name: &str| -> Result<Option<f64>, Rejection> {
        match raw.optional(&[name]) {
            None => Ok(None),
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Some)
                .ok_or_else(|| Rejection::field(name, format!("`{v}` is not a coordinate"))),
        }
    };
    let (latitude, longitude) = (coordinate(col::LATITUDE)?, coordinate(col::LONGITUDE)?);
    if latitude.is_some() || longitude.is_some() {
        p.locations.push(Location {
            region: None,
            latitude,
            longitude,
        });
    }
    if let Some(gsrn) = raw.optional(&[col::GSRN]) {
        p.labels.push(Label {
            kind: "gsrn".into(),
            value: gsrn,
        });
    }
    if let RawBody::Json(value) = &raw.body
        && let Some(Value::Array(sdgs)) = value.get(col::SDGS)
    {
        for sdg in sdgs {
            let goal = sdg.get("goal").map(|g| match g {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            let name = sdg.get("name").and_then(Value::as_str);
            let value = match (goal, name) {
                (Some(g), Some(n)) => format!("SDG {g}: {n}"),
                (Some(g), None) => format!("SDG {g}"),
                (None, Some(n)) => n.to_owned(),
                (None, None) => continue,
            };
            p.labels.push(Label {
                kind: "sdg".into(),
                value,
            });
        }
    }
    if let Some(listing) = raw.optional(&[col::SUPPLIER_LISTING]) {
        p.labels.push(Label {
            kind: "supplier_listing".into(),
            value: listing,
        });
    }
    p.registry_url = Some(format!("{REGISTRY_SITE}/projects/{id}"));
    Ok(p)
}
