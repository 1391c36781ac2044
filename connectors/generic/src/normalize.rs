//! Raw records → common-model records, driven by the compiled configuration. Pure: no I/O,
//! no clock.

use carbonmesh_connector::{RawBody, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, Label, Location, MAX_UNIT_NUMBER, Normalized, Period, Project, ProjectStatus,
    RegistryId, SerialRange, TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    clean_text, country_alpha2, parse_date, parse_quantity, parse_vintage, parse_whole_units,
    project_status, transaction_type, unit_status,
};
use carbonmesh_serials::{check_quantity, parse, parse_with_positions};
use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;

use crate::config::{MismatchPolicy, Names, Unmapped};
use crate::json_path::{JsonPath, as_text};
use crate::spec::{
    CreditSpec, DateSpec, FeedSpec, Kind, Part, ProjectSpec, Rule, SerialParser, SerialSpec,
    rule_key,
};

/// The unit status a transaction leaves its units in, when no status is published.
pub(crate) fn status_of(t: TransactionType) -> UnitStatus {
    match t {
        TransactionType::Issuance | TransactionType::Transfer => UnitStatus::Active,
        TransactionType::Retirement => UnitStatus::Retired,
        TransactionType::Cancellation => UnitStatus::Cancelled,
        TransactionType::Buffer => UnitStatus::Buffer,
        TransactionType::Conversion => UnitStatus::Converted,
        TransactionType::Unknown => UnitStatus::Unknown,
    }
}

/// The field under the first of `names` the record has, as published.
pub(crate) fn value(raw: &RawRecord, names: &Names) -> Option<String> {
    match &raw.body {
        RawBody::Csv { headers, fields } => headers
            .find(&names.as_strs())
            .and_then(|i| fields.get(i))
            .cloned(),
        RawBody::Json(doc) => names.0.iter().find_map(|name| {
            JsonPath::parse(name)
                .ok()
                .and_then(|p| p.get(doc).map(as_text))
        }),
    }
}

/// The field cleaned: `None` when absent, blank or a placeholder such as `nan`.
fn clean(raw: &RawRecord, names: &Names) -> Option<String> {
    value(raw, names).as_deref().and_then(clean_text)
}

fn clean_opt(raw: &RawRecord, names: &Option<Names>) -> Option<String> {
    names.as_ref().and_then(|n| clean(raw, n))
}

/// The field's name as the source spells it.
fn label(raw: &RawRecord, names: &Names) -> String {
    raw.field_name(&names.as_strs())
}

/// A rejection naming the field and where the record was read.
fn reject(raw: &RawRecord, field: impl Into<String>, reason: impl std::fmt::Display) -> Rejection {
    Rejection::field(field, format!("{reason} (at {})", raw.location()))
}

/// Normalizes one raw record of `feed`.
pub(crate) fn normalize(
    registry: RegistryId,
    feed: &FeedSpec,
    raw: &RawRecord,
) -> Result<Vec<Record>, Rejection> {
    let records = match &feed.kind {
        Kind::Project(p) => vec![Record::Project(project(registry, feed, p, raw)?)],
        Kind::Credit(c) => credits(registry, feed, c, raw)?,
    };
    for record in &records {
        let checked = match record {
            Record::Project(p) => p.validate(),
            Record::Credit(c) => c.validate(),
        };
        checked.map_err(|e| reject(raw, e.field, e.reason))?;
    }
    Ok(records)
}

/// Parses a date with the configured chrono formats first, then carbonmesh's layouts.
pub(crate) fn parse_date_with(dates: &DateSpec, text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    for format in &dates.formats {
        if let Ok(d) = NaiveDate::parse_from_str(text, format) {
            return Ok(d);
        }
        if let Ok(d) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(d.date());
        }
    }
    parse_date(text, dates.order).map_err(|e| e.to_string())
}

fn date(
    raw: &RawRecord,
    dates: &DateSpec,
    names: &Option<Names>,
) -> Result<Option<NaiveDate>, Rejection> {
    let Some(names) = names else {
        return Ok(None);
    };
    match clean(raw, names) {
        None => Ok(None),
        Some(v) => parse_date_with(dates, &v)
            .map(Some)
            .map_err(|e| reject(raw, label(raw, names), e)),
    }
}

fn required(raw: &RawRecord, names: &Names, what: &str) -> Result<String, Rejection> {
    clean(raw, names).ok_or_else(|| reject(raw, label(raw, names), format!("is blank: {what}")))
}

/// Applies a rule; `derived` is the value of a [`Rule::Derived`] status.
fn apply_rule<T: Copy + PartialEq>(
    raw: &RawRecord,
    rule: &Rule<T>,
    builtin: impl Fn(&str) -> T,
    unknown: T,
    derived: T,
) -> Result<Normalized<T>, Rejection> {
    match rule {
        Rule::Fixed { value, raw } => Ok(Normalized::new(*value, raw.clone())),
        Rule::Derived { raw } => Ok(Normalized::new(derived, raw.clone())),
        Rule::Column {
            names,
            map,
            unmapped,
            default,
        } => {
            let word = required(raw, names, "the value cannot be mapped")?;
            if let Some(v) = map.get(&rule_key(&word)) {
                return Ok(Normalized::new(*v, word));
            }
            let or_default = |v: T| {
                if v == unknown {
                    default.unwrap_or(v)
                } else {
                    v
                }
            };
            match unmapped {
                Unmapped::Builtin => Ok(Normalized::new(or_default(builtin(&word)), word)),
                Unmapped::Unknown => Ok(Normalized::new(or_default(unknown), word)),
                Unmapped::Reject => Err(reject(
                    raw,
                    label(raw, names),
                    format!("`{word}` is not in the configured map"),
                )),
            }
        }
    }
}

fn project(
    registry: RegistryId,
    feed: &FeedSpec,
    spec: &ProjectSpec,
    raw: &RawRecord,
) -> Result<Project, Rejection> {
    let f = &spec.fields;
    let id_names = f
        .project_id
        .as_ref()
        .ok_or_else(|| Rejection::record("no project id mapped"))?;
    let id = required(
        raw,
        id_names,
        "a project without an id cannot be identified",
    )?;
    let name = clean_opt(raw, &f.name).unwrap_or_default();
    let mut p = Project::new(registry, &id, &name);
    p.developer = clean_opt(raw, &f.developer);
    if let Some(c) = clean_opt(raw, &f.country) {
        p.country = country_alpha2(&c).map(str::to_owned);
        p.country_raw = Some(c);
    }
    p.methodology = clean_opt(raw, &f.methodology);
    p.project_type = clean_opt(raw, &f.project_type);
    p.sector = clean_opt(raw, &f.sector);
    p.category = clean_opt(raw, &f.category);
    p.status = match &spec.status {
        Some(rule) => Some(apply_rule(
            raw,
            rule,
            |w| project_status(registry, w),
            ProjectStatus::Unknown,
            ProjectStatus::Unknown,
        )?),
        None => clean_opt(raw, &f.status).map(|s| Normalized::new(project_status(registry, &s), s)),
    };
    let start = date(raw, &feed.dates, &f.crediting_start)?;
    let end = date(raw, &feed.dates, &f.crediting_end)?;
    if start.is_some() || end.is_some() {
        p.crediting_periods.push(Period { start, end });
    }
    if let Some(region) = clean_opt(raw, &f.region) {
        p.locations.push(Location {
            region: Some(region),
            latitude: None,
            longitude: None,
        });
    }
    for l in &spec.labels {
        if let Some(value) = clean(raw, &l.column) {
            let value = match l.pattern.as_ref().and_then(|re| re.captures(&value)) {
                Some(caps) => caps
                    .name("value")
                    .or_else(|| caps.get(0))
                    .map_or(value.clone(), |m| m.as_str().trim().to_owned()),
                None => value,
            };
            p.labels.push(Label {
                kind: l.kind.clone(),
                value,
            });
        }
    }
    p.corresponding_adjustment = clean_opt(raw, &f.corresponding_adjustment);
    p.registry_url = clean_opt(raw, &f.registry_url);
    Ok(p)
}

fn quantity(raw: &RawRecord, names: &Names) -> Result<Decimal, Rejection> {
    let v = value(raw, names).unwrap_or_default();
    parse_quantity(&v).map_err(|e| reject(raw, label(raw, names), e))
}

fn position(raw: &RawRecord, names: &Names) -> Result<Option<u64>, Rejection> {
    match clean(raw, names) {
        None => Ok(None),
        Some(v) => parse_whole_units(&v)
            .map(Some)
            .map_err(|e| reject(raw, label(raw, names), e)),
    }
}

/// The serial's range, checked against the stated quantity as the configuration asks.
fn serial_range(
    registry: RegistryId,
    raw: &RawRecord,
    names: &Names,
    serial: &str,
    positions: Option<(u64, u64)>,
    quantity: Decimal,
    spec: &SerialSpec,
) -> Result<Option<SerialRange>, Rejection> {
    let field = || label(raw, names);
    let range = match &spec.parser {
        SerialParser::Grammar(grammar) => {
            let parsed = match positions {
                Some((a, b)) => parse_with_positions(serial, a, b, Some(*grammar)),
                None => parse(serial, Some(*grammar)),
            }
            .map_err(|e| reject(raw, field(), format!("`{serial}`: {e}")))?;
            if spec.mismatch == MismatchPolicy::Reject
                && let Err(m) = check_quantity(&parsed, quantity)
            {
                return Err(reject(raw, field(), m));
            }
            parsed.serial_range()
        }
        SerialParser::Regex { regex, has_range } => {
            let caps = regex.captures(serial).ok_or_else(|| {
                reject(
                    raw,
                    field(),
                    format!("`{serial}` does not match the configured serial pattern"),
                )
            })?;
            let namespace = caps
                .name("namespace")
                .map(|m| m.as_str().trim())
                .filter(|n| !n.is_empty())
                .ok_or_else(|| {
                    reject(raw, field(), format!("`{serial}` has an empty namespace"))
                })?;
            let number = |group: &str| -> Result<u64, Rejection> {
                let text = caps.name(group).map(|m| m.as_str()).unwrap_or_default();
                text.parse::<u64>()
                    .ok()
                    .filter(|n| *n <= MAX_UNIT_NUMBER)
                    .ok_or_else(|| {
                        reject(
                            raw,
                            field(),
                            format!(
                                "`{serial}`: {group} `{text}` is not a unit number up to {MAX_UNIT_NUMBER}"
                            ),
                        )
                    })
            };
            let block = if *has_range {
                Some((number("start")?, number("end")?))
            } else {
                None
            };
            let (start, end) = match (positions, block) {
                (Some((a, b)), Some((s, e))) if a < s || b > e => {
                    return Err(reject(
                        raw,
                        field(),
                        format!("positions {a}-{b} lie outside the serial's range {s}-{e}"),
                    ));
                }
                (Some(p), _) => p,
                (None, Some(b)) => b,
                (None, None) => {
                    return Err(reject(
                        raw,
                        field(),
                        format!("`{serial}` carries no range and no positions are published"),
                    ));
                }
            };
            if start > end || end > MAX_UNIT_NUMBER {
                return Err(reject(
                    raw,
                    field(),
                    format!("`{serial}`: the range {start}-{end} is not a valid unit range"),
                ));
            }
            let range = SerialRange {
                namespace: format!("{registry}:{namespace}"),
                start,
                end,
            };
            if spec.mismatch == MismatchPolicy::Reject
                && Decimal::from(range.quantity()) != quantity
            {
                return Err(reject(
                    raw,
                    field(),
                    format!(
                        "serial range {} {start}-{end} holds {} units but the record states {quantity}",
                        range.namespace,
                        range.quantity()
                    ),
                ));
            }
            Some(range)
        }
    };
    Ok(range)
}

fn credits(
    registry: RegistryId,
    feed: &FeedSpec,
    spec: &CreditSpec,
    raw: &RawRecord,
) -> Result<Vec<Record>, Rejection> {
    let f = &spec.fields;
    let (Some(id_names), Some(qty_names)) = (&f.project_id, &f.quantity) else {
        return Err(Rejection::record("no project id or quantity mapped"));
    };
    let project = required(raw, id_names, "the units' project is unknown")?;
    let transaction = apply_rule(
        raw,
        &spec.transaction,
        |w| transaction_type(registry, w),
        TransactionType::Unknown,
        TransactionType::Unknown,
    )?;
    let quantity = quantity(raw, qty_names)?;
    let serial = clean_opt(raw, &f.serial);
    let positions = match (&f.serial_from, &f.serial_to) {
        (Some(a), Some(b)) => match (position(raw, a)?, position(raw, b)?) {
            (Some(x), Some(y)) => Some((x, y)),
            (None, None) => None,
            (None, Some(_)) => {
                return Err(reject(
                    raw,
                    label(raw, a),
                    "is blank beside a last position",
                ));
            }
            (Some(_), None) => {
                return Err(reject(
                    raw,
                    label(raw, b),
                    "is blank beside a first position",
                ));
            }
        },
        _ => None,
    };
    let serial_range = match (&serial, &spec.serial, &f.serial) {
        (Some(s), Some(parser), Some(names)) => {
            serial_range(registry, raw, names, s, positions, quantity, parser)?
        }
        _ => None,
    };
    let vintage = match &f.vintage {
        None => None,
        Some(names) => match clean(raw, names) {
            None => None,
            Some(v) => Some(
                parse_vintage(&v)
                    .map_err(|e| reject(raw, label(raw, names), e))?
                    .start,
            ),
        },
    };
    let event_date = date(raw, &feed.dates, &f.event_date)?;
    let period_start = date(raw, &feed.dates, &f.period_start)?;
    let period_end = date(raw, &feed.dates, &f.period_end)?;
    let status = match &spec.status {
        Some(rule) => apply_rule(
            raw,
            rule,
            |w| unit_status(registry, w),
            UnitStatus::Unknown,
            status_of(transaction.value),
        )?,
        None => Normalized::new(status_of(transaction.value), transaction.raw.clone()),
    };
    let mut key = String::new();
    for part in &spec.key.parts {
        let piece = match part {
            Part::Literal(text) => Some(text.clone()),
            Part::Transaction => Some(transaction.value.as_str().to_owned()),
            Part::ProjectId => Some(project.clone()),
            Part::Serial => serial.clone(),
            Part::Vintage => vintage.map(|v| v.to_string()),
            Part::EventDate => event_date.map(|d| d.to_string()),
            Part::Quantity => Some(quantity.normalize().to_string()),
            Part::Column(column) => clean(raw, &Names(vec![column.clone()])),
        };
        match piece {
            Some(p) => key.push_str(&p),
            None => {
                let (field, names) = match part {
                    Part::Serial => ("serial", f.serial.clone()),
                    Part::Vintage => ("vintage", f.vintage.clone()),
                    Part::EventDate => ("event_date", f.event_date.clone()),
                    Part::Column(c) => ("column", Some(Names(vec![c.clone()]))),
                    _ => ("key", None),
                };
                let shown = names.map_or_else(|| field.to_owned(), |n| label(raw, &n));
                return Err(reject(
                    raw,
                    shown,
                    format!("is blank, and the record key `{}` needs it", spec.key.text),
                ));
            }
        }
    }
    let base = CreditRecord {
        registry,
        record_key: key,
        registry_project_id: project,
        transaction_type: transaction,
        quantity,
        serial,
        serial_range,
        vintage,
        monitoring_period: (period_start.is_some() || period_end.is_some()).then_some(Period {
            start: period_start,
            end: period_end,
        }),
        event_date,
        status,
        account: clean_opt(raw, &f.account),
        beneficiary: clean_opt(raw, &f.beneficiary),
        reason: clean_opt(raw, &f.reason),
        note: if spec.note_parts.is_empty() {
            clean_opt(raw, &f.note)
        } else {
            let parts: Vec<String> = spec
                .note_parts
                .iter()
                .filter_map(|(l, names)| clean(raw, names).map(|v| format!("{l}: {v}")))
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        },
    };
    let mut out = Vec::with_capacity(1 + spec.extras.len());
    for extra in &spec.extras {
        let Some(text) = clean(raw, &extra.quantity) else {
            continue;
        };
        let q = parse_quantity(&text).map_err(|e| reject(raw, label(raw, &extra.quantity), e))?;
        if q.is_zero() {
            continue;
        }
        out.push(Record::Credit(CreditRecord {
            record_key: format!("{}#{}", base.record_key, extra.key_suffix),
            transaction_type: Normalized::new(extra.transaction, extra.raw.clone()),
            status: Normalized::new(extra.status, extra.raw.clone()),
            quantity: q,
            serial: None,
            serial_range: None,
            beneficiary: None,
            reason: None,
            note: None,
            ..base.clone()
        }));
    }
    out.insert(0, Record::Credit(base));
    Ok(out)
}
