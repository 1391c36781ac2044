//! Cercarbono raw records → common-model records. Pure: no I/O, no clock.
//!
//! Project id: the public code (`CDC-1`, `CDC-271`, `CDB-1`), never EcoRegistry's internal
//! `id` (274 for `CDC-271`, 224 for `CDB-1`). Credit records take it from the batch serial,
//! whose project token is the number of that code (`CDB_1_…` belongs to `CDB-1`), because
//! the issuance rows carry no project column and the retirement rows only the internal id.

use carbonmesh_connector::{Feed, RawBody, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, CrossReference, Label, Location, Normalized, Period, Project, RegistryId,
    TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    DateOrder, clean_text, country_alpha2, kg_to_tonnes, parse_date, parse_date_range,
    parse_methodologies, parse_py_literal, parse_vintage, parse_whole_units, project_status,
};
use carbonmesh_serials::{CercarbonoBuffer, Encoded, ParsedSerial, parse, parse_with_positions};
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::CERCARBONO;

/// A project's public page on EcoRegistry; the path takes the internal id.
const PROJECT_PAGE: &str = "https://www.ecoregistry.io/projects/";

/// Normalizes one Cercarbono raw record.
pub(crate) fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let record = match raw.feed {
        Feed::Projects => Record::Project(project(raw)?),
        Feed::Issuances => Record::Credit(issuance(raw)?),
        Feed::Retirements => Record::Credit(retirement(raw)?),
        Feed::Cancellations | Feed::Transactions => {
            return Err(Rejection::record(format!(
                "Cercarbono publishes no {} feed",
                raw.feed
            )));
        }
    };
    record.validate()?;
    Ok(vec![record])
}

/// The cross-reference of a project converted into Cercarbono from another registry, from
/// the detail's `convertedFromLink` (and `convertedFromDescription`, when given).
pub fn converted_from_reference(link: &str, description: Option<&str>) -> CrossReference {
    let says = |needle: &str| {
        link.to_ascii_lowercase().contains(needle)
            || description.is_some_and(|d| d.to_ascii_lowercase().contains(needle))
    };
    CrossReference {
        registry: says("biocarbon").then_some(RegistryId::BIOCARBON),
        id: link.trim().to_owned(),
        relation: "converted_from".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Field helpers

/// Values EcoRegistry writes when a field has no value.
fn is_placeholder(v: &str) -> bool {
    let k = v.trim().to_ascii_lowercase();
    matches!(
        k.as_str(),
        "not defined" | "no definido/not defined" | "no definido" | "not public" | "worldwide"
    )
}

/// A cleaned field that is not one of EcoRegistry's placeholders.
fn value(raw: &RawRecord, names: &[&str]) -> Option<String> {
    raw.clean_field(names).filter(|v| !is_placeholder(v))
}

/// A JSON member by dotted path.
fn member<'a>(raw: &'a RawRecord, path: &str) -> Option<&'a Value> {
    match &raw.body {
        RawBody::Json(v) => path.split('.').try_fold(v, |v, part| v.get(part)),
        RawBody::Csv { .. } => None,
    }
}

/// A list field: a JSON array member, or the Python repr the offsets-db-data CSVs hold.
fn list(raw: &RawRecord, names: &[&str]) -> Result<Vec<Value>, Rejection> {
    if let RawBody::Json(_) = raw.body {
        return Ok(names
            .iter()
            .find_map(|n| member(raw, n))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default());
    }
    let Some(text) = raw.clean_field(names) else {
        return Ok(Vec::new());
    };
    match parse_py_literal(&text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err(Rejection::field(raw.field_name(names), "is not a list")),
        Err(e) => Err(Rejection::field(raw.field_name(names), e.to_string())),
    }
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => clean_text(s).filter(|s| !is_placeholder(s)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Each item's `key`, once, in order.
fn descriptions<'a>(items: impl IntoIterator<Item = &'a Value>, key: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for d in items.into_iter().filter_map(|v| text_of(v, key)) {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

fn joined(items: Vec<String>) -> Option<String> {
    (!items.is_empty()).then(|| items.join("; "))
}

/// Methodology codes where recognised (`AR-ACM0003`), else the text as published.
fn methodology(texts: Vec<String>) -> Option<String> {
    let mut out: Vec<String> = Vec::new();
    for t in texts {
        let codes: Vec<String> = parse_methodologies(REGISTRY, &t)
            .into_iter()
            .filter_map(|m| m.code)
            .collect();
        for c in if codes.is_empty() { vec![t] } else { codes } {
            if !out.contains(&c) {
                out.push(c);
            }
        }
    }
    joined(out)
}

/// An EcoRegistry timestamp (`2019-03-07T18:33:46.000Z`, or the CSV's `2019-03-07 18:33:46`)
/// as its second (`2019-03-07T18:33:46`) and its day; a bare date keeps only the day.
fn timestamp(raw: &RawRecord, names: &[&str]) -> Result<(String, NaiveDate), Rejection> {
    let text = raw.required(names)?;
    let s = text.trim_end_matches('Z');
    let s = s.split('.').next().unwrap_or(s).replacen('T', " ", 1);
    if let Ok(t) = NaiveDateTime::parse_from_str(&s, "%Y-%m-%d %H:%M:%S") {
        return Ok((t.format("%Y-%m-%dT%H:%M:%S").to_string(), t.date()));
    }
    parse_date(&text, DateOrder::DayFirst)
        .map(|d| (d.to_string(), d))
        .map_err(|e| Rejection::field(raw.field_name(names), e.to_string()))
}

fn serial(raw: &RawRecord) -> Result<(String, ParsedSerial), Rejection> {
    let text = raw.required(col::SERIAL)?;
    let parsed = parse(&text, Some(REGISTRY))
        .map_err(|e| Rejection::field(raw.field_name(col::SERIAL), format!("`{text}`: {e}")))?;
    Ok((text, parsed))
}

fn project_of(raw: &RawRecord, serial: &str, parsed: &ParsedSerial) -> Result<String, Rejection> {
    parsed.project_id().ok_or_else(|| {
        Rejection::field(
            raw.field_name(col::SERIAL),
            format!("`{serial}` names no project"),
        )
    })
}

/// What the serial says beyond the batch, for the record's note.
fn serial_notes(parsed: &ParsedSerial, notes: &mut Vec<String>) {
    if let Encoded::Cercarbono(f) = &parsed.encoded {
        if let Some(origin) = &f.converted_from {
            let name = f
                .converted_from_registry()
                .map_or_else(|| origin.clone(), |r| r.display_name().to_owned());
            notes.push(format!(
                "batch migrated from {name} ({origin}2{} serial); positions are Cercarbono's",
                f.standard.as_str()
            ));
        }
        if let Some(r) = f.revision {
            notes.push(format!("serial revision R{r}"));
        }
    }
}

fn is_buffer_serial(parsed: &ParsedSerial) -> bool {
    matches!(&parsed.encoded, Encoded::Cercarbono(f) if matches!(f.buffer, Some(CercarbonoBuffer::Bf | CercarbonoBuffer::Bfc)))
}

/// Whole units of a quantity, when it is a whole, positive number.
fn whole_units(q: Decimal) -> Option<u64> {
    (q.fract().is_zero() && q.is_sign_positive() && !q.is_zero())
        .then(|| u64::try_from(q).ok())
        .flatten()
}

// ---------------------------------------------------------------------------------------------
// Credit records

/// One issued batch (`analytics/projects` → `serials[]`, flattened in the issuance CSV).
fn issuance(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let (serial_raw, parsed) = serial(raw)?;
    let project = project_of(raw, &serial_raw, &parsed)?;
    let quantity = raw.quantity(col::ISSUED_QUANTITY)?;
    let flag = raw.clean_field(col::IS_BUFFER);
    let is_buffer = match flag.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("false" | "0") => false,
        Some("true" | "1") => true,
        Some(_) => {
            return Err(Rejection::field(
                raw.field_name(col::IS_BUFFER),
                format!("`{}` is not a boolean", flag.unwrap_or_default()),
            ));
        }
    };
    if is_buffer_serial(&parsed) && !is_buffer {
        return Err(Rejection::field(
            raw.field_name(col::IS_BUFFER),
            format!("`{serial_raw}` is a buffer batch but is_buffer is false"),
        ));
    }
    let flag_raw = format!("is_buffer={}", flag.unwrap_or_else(|| "False".into()));
    let (t, status) = if is_buffer {
        (TransactionType::Buffer, UnitStatus::Buffer)
    } else {
        (TransactionType::Issuance, UnitStatus::Active)
    };
    // The registry publishes no positions for an issued batch: the batch is 1..=quantity.
    let parsed = match whole_units(quantity) {
        Some(n) => parse_with_positions(&serial_raw, 1, n, Some(REGISTRY)).map_err(|e| {
            Rejection::field(raw.field_name(col::SERIAL), format!("`{serial_raw}`: {e}"))
        })?,
        None => parsed,
    };
    let vintage = match raw.year(col::YEAR)? {
        Some(y) => Some(y),
        None => match &parsed.encoded {
            Encoded::Cercarbono(f) => f.vintage.map(i32::from),
            _ => None,
        },
    };
    let monitoring_period = match raw.clean_field(col::VINTAGE_OF_CREDITS) {
        None => None,
        Some(v) => {
            let (start, end) = parse_date_range(&v, DateOrder::DayFirst).map_err(|e| {
                Rejection::field(raw.field_name(col::VINTAGE_OF_CREDITS), e.to_string())
            })?;
            Some(Period {
                start: Some(start),
                end: Some(end),
            })
        }
    };
    let (_, event_date) = timestamp(raw, col::ISSUANCE_DATE)?;
    let mut notes = Vec::new();
    if let Some(v) = raw.clean_field(col::VERIFICATION) {
        notes.push(format!("verification {v}"));
    }
    let eligible: Vec<String> = list(raw, col::ELIGIBLE)?
        .iter()
        .filter_map(|e| {
            let d = text_of(e, "description")?;
            Some(match text_of(e, "code") {
                Some(c) => format!("{d} ({c})"),
                None => d,
            })
        })
        .collect();
    if !eligible.is_empty() {
        notes.push(format!("eligible for {}", eligible.join(", ")));
    }
    serial_notes(&parsed, &mut notes);
    Ok(CreditRecord {
        registry: REGISTRY,
        // The serial names the batch; a batch is either buffer or not.
        record_key: format!("{}:{serial_raw}", t.as_str()),
        registry_project_id: project,
        transaction_type: Normalized::new(t, flag_raw.clone()),
        quantity,
        serial_range: parsed.serial_range(),
        serial: Some(serial_raw),
        vintage,
        monitoring_period,
        event_date: Some(event_date),
        status: Normalized::new(status, flag_raw),
        account: None,
        beneficiary: None,
        reason: None,
        note: joined(notes),
    })
}

fn position(raw: &RawRecord, names: &[&str]) -> Result<Option<u64>, Rejection> {
    match raw.clean_field(names) {
        None => Ok(None),
        Some(v) => parse_whole_units(&v)
            .map(Some)
            .map_err(|e| Rejection::field(raw.field_name(names), e.to_string())),
    }
}

/// One retirement (the CSV download with `from`/`to`, or `analytics/get-retirements`).
fn retirement(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let (serial_raw, parsed) = serial(raw)?;
    let project = project_of(raw, &serial_raw, &parsed)?;
    let stated = raw.quantity(col::QUANTITY)?;
    let in_kg = raw
        .clean_field(col::IS_KG)
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true"));
    let quantity = if in_kg { kg_to_tonnes(stated) } else { stated };
    let parsed = match (position(raw, col::FROM)?, position(raw, col::TO)?) {
        (Some(from), Some(to)) => parse_with_positions(&serial_raw, from, to, Some(REGISTRY))
            .map_err(|e| {
                Rejection::field(raw.field_name(col::FROM), format!("{from}-{to}: {e}"))
            })?,
        (None, None) => parsed,
        (Some(_), None) => {
            return Err(Rejection::field(
                raw.field_name(col::TO),
                "is empty while `from` is given",
            ));
        }
        (None, Some(_)) => {
            return Err(Rejection::field(
                raw.field_name(col::FROM),
                "is empty while `to` is given",
            ));
        }
    };
    let (second, event_date) = timestamp(raw, col::DATE)?;
    let vintage = match raw.clean_field(col::VINTAGE) {
        None => None,
        Some(v) => Some(
            parse_vintage(&v)
                .map_err(|e| Rejection::field(raw.field_name(col::VINTAGE), e.to_string()))?
                .start,
        ),
    };
    let passive_subject = value(raw, col::PASSIVE_SUBJECT);
    let beneficiary = value(raw, col::END_USER).or_else(|| passive_subject.clone());
    let mut notes = Vec::new();
    if let Some(id) = col::RETIREMENT_ID.iter().find_map(|n| member(raw, n)) {
        notes.push(format!("retirement id {id}"));
    }
    if let Some(p) = &passive_subject {
        notes.push(format!("passive subject {p}"));
    }
    if let Some(c) = value(raw, col::END_USER_COUNTRY) {
        notes.push(format!("end user country {c}"));
    }
    if let Some(i) = value(raw, col::INDUSTRY) {
        notes.push(format!("industry {i}"));
    }
    if in_kg {
        notes.push(format!("stated as {stated} kg"));
    }
    serial_notes(&parsed, &mut notes);
    Ok(CreditRecord {
        registry: REGISTRY,
        // Neither feed gives one key for a retirement (the CSV has no id, the API no
        // positions); the batch, the second and the stated quantity name it in both.
        record_key: format!("retirement:{serial_raw}@{second}:{}", stated.normalize()),
        registry_project_id: project,
        transaction_type: Normalized::new(TransactionType::Retirement, "retirement"),
        quantity,
        serial_range: parsed.serial_range(),
        serial: Some(serial_raw),
        vintage,
        monitoring_period: None,
        event_date: Some(event_date),
        status: Normalized::new(UnitStatus::Retired, "retired"),
        account: None,
        beneficiary,
        reason: value(raw, col::DESTINATION),
        note: joined(notes),
    })
}

// ---------------------------------------------------------------------------------------------
// Projects

fn project(raw: &RawRecord) -> Result<Project, Rejection> {
    if member(raw, "project").is_some_and(Value::is_object) {
        detail_project(raw)
    } else if member(raw, "projectStage").is_some() || member(raw, "locationText").is_some() {
        listed_project(raw)
    } else {
        analytics_project(raw)
    }
}

fn code(raw: &RawRecord, names: &[&str]) -> Result<String, Rejection> {
    let code = raw.required(names)?;
    let ok = code.split_once('-').is_some_and(|(s, n)| {
        !s.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    });
    if !ok {
        return Err(Rejection::field(
            raw.field_name(names),
            format!("`{code}` is not a project code such as `CDC-1`"),
        ));
    }
    Ok(code)
}

fn status(stage: Option<String>) -> Option<Normalized<carbonmesh_model::ProjectStatus>> {
    stage.map(|s| Normalized::new(project_status(REGISTRY, &s), s))
}

fn set_country(p: &mut Project, raw_country: Option<String>) {
    if let Some(c) = raw_country {
        p.country = country_alpha2(&c).map(str::to_owned);
        p.country_raw = Some(c);
    }
}

fn registry_url(raw: &RawRecord, names: &[&str]) -> Option<String> {
    raw.clean_field(names)
        .map(|id| format!("{PROJECT_PAGE}{id}"))
}

fn place(city: Option<String>, region: Option<String>) -> Option<String> {
    match (city, region) {
        (Some(c), Some(r)) if c != r => Some(format!("{c}, {r}")),
        (c, r) => c.or(r),
    }
}

fn coordinate(map: Option<&Value>, key: &str) -> Option<f64> {
    map?.get(key)?.as_f64().filter(|v| v.is_finite())
}

fn location(v: &Value, city: &str, region: &str, map: &str) -> Option<Location> {
    let l = Location {
        region: place(text_of(v, city), text_of(v, region)),
        latitude: coordinate(v.get(map), "latitude"),
        longitude: coordinate(v.get(map), "longitude"),
    };
    (l.region.is_some() || l.latitude.is_some() || l.longitude.is_some()).then_some(l)
}

/// A project of the standard's list (`project/public-by-standard/cercarbono-co2`).
fn listed_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = code(raw, col::CODE)?;
    let mut p = Project::new(
        REGISTRY,
        &id,
        &raw.clean_field(col::NAME).unwrap_or_default(),
    );
    p.developer = value(raw, col::DEVELOPER);
    let countries = list(raw, &["location"])?;
    let first = countries
        .first()
        .and_then(Value::as_str)
        .and_then(clean_text);
    set_country(&mut p, first.or_else(|| value(raw, &["locationText"])));
    let sectors = list(raw, &["sectors"])?;
    p.sector =
        joined(descriptions(&sectors, "description")).or_else(|| value(raw, &["sectorsText"]));
    p.methodology = methodology(descriptions(&list(raw, &["methodology"])?, "description"));
    p.status = status(raw.clean_field(&["projectStage"]));
    p.labels = descriptions(&list(raw, &["eligibles"])?, "description")
        .into_iter()
        .map(|value| Label {
            kind: "eligibility".into(),
            value,
        })
        .collect();
    if let Some(link) = value(raw, &["convertedFromLink"]) {
        p.cross_references
            .push(converted_from_reference(&link, None));
    }
    p.registry_url = registry_url(raw, &["id"]);
    Ok(p)
}

/// One project detail (`project/public/<id>`): the whole response is the record.
fn detail_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = code(raw, &["project.code"])?;
    let mut p = Project::new(
        REGISTRY,
        &id,
        &raw.clean_field(&["project.name"]).unwrap_or_default(),
    );
    p.status = status(raw.clean_field(&["project.projectsStage"]));
    let sectors = list(raw, &["project.sectors"])?;
    p.sector = joined(descriptions(&sectors, "description"));
    let methods: Vec<Value> = list(raw, &["project.sectorsMethodologies"])?
        .iter()
        .filter_map(|s| s.get("methodologies").and_then(Value::as_array))
        .flatten()
        .cloned()
        .collect();
    p.methodology = methodology(descriptions(&methods, "description"));
    let periods = list(raw, &["project.projectsCreditingPeriod"])?;
    for period in &periods {
        let day = |k: &str| {
            text_of(period, k)
                .map(|d| parse_date(&d, DateOrder::DayFirst))
                .transpose()
                .map_err(|e| {
                    Rejection::field(
                        format!("project.projectsCreditingPeriod.{k}"),
                        e.to_string(),
                    )
                })
        };
        let period = Period {
            start: day("periodInit")?,
            end: day("periodEnd")?,
        };
        if (period.start.is_some() || period.end.is_some())
            && !p.crediting_periods.contains(&period)
        {
            p.crediting_periods.push(period);
        }
    }
    let locations = list(raw, &["locations"])?;
    let first = locations
        .first()
        .and_then(|l| text_of(l, "countryDescription"));
    set_country(&mut p, first);
    p.locations = locations
        .iter()
        .filter_map(|l| location(l, "cityDescription", "regionDescription", "dataMap"))
        .collect();
    let converted = member(raw, "project.isConvertedFrom").and_then(Value::as_bool) == Some(true);
    if let Some(link) = value(raw, &["project.convertedFromLink"]) {
        let description = value(raw, &["project.convertedFromDescription"]);
        p.cross_references
            .push(converted_from_reference(&link, description.as_deref()));
    } else if converted {
        return Err(Rejection::field(
            "project.convertedFromLink",
            "is empty although isConvertedFrom is true: the origin cannot be linked",
        ));
    }
    p.registry_url = registry_url(raw, &["project.id"]);
    Ok(p)
}

/// A project of `analytics/projects`, as the offsets-db-data project CSV flattens it.
fn analytics_project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = code(raw, col::CODE)?;
    let mut p = Project::new(
        REGISTRY,
        &id,
        &raw.clean_field(col::NAME).unwrap_or_default(),
    );
    p.developer = value(raw, col::DEVELOPER).or_else(|| value(raw, col::OWNER));
    let sectors = list(raw, col::SECTOR)?;
    p.sector = joined(descriptions(&sectors, "description"));
    p.methodology = value(raw, col::METHOD).and_then(|m| methodology(vec![m]));
    p.status = status(raw.clean_field(col::STAGE));
    let locations = list(raw, col::LOCATIONS)?;
    set_country(
        &mut p,
        locations.first().and_then(|l| text_of(l, "country")),
    );
    p.locations = locations
        .iter()
        .filter_map(|l| location(l, "city", "region", "data_map"))
        .collect();
    p.registry_url = registry_url(raw, col::PROJECT_INTERNAL_ID);
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converted_links_name_biocarbon() {
        let x = converted_from_reference("https://biocarbonregistry.com/en/project/?id=24", None);
        assert_eq!(x.registry, Some(RegistryId::BIOCARBON));
        assert_eq!(x.relation, "converted_from");
        let y = converted_from_reference("https://example.org/p/1", Some("Other"));
        assert_eq!(y.registry, None);
    }

    #[test]
    fn placeholders_are_blanks() {
        assert!(is_placeholder("Worldwide"));
        assert!(is_placeholder("No definido/Not defined"));
        assert!(!is_placeholder("Colombia"));
    }
}
