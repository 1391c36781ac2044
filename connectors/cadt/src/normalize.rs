//! CADT v1 records → common-model records. Pure: no I/O, no clock.
//!
//! Project id: `cadt:<warehouseProjectId>`. The warehouse id is the key of the record in its
//! organisation's DataLayer store, the same on every node that syncs it; it identifies the
//! CADT record, not the real-world project, so the ids CADT states for the project in its
//! registry of origin (`originProjectId`) and its current registry (`projectId`) are kept as
//! cross-references, which is where project resolution links them.

use carbonmesh_connector::{Feed, RawBody, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, CrossReference, Label, Location, Normalized, Period, Project, RegistryId,
    TransactionType, UnitStatus,
};
use carbonmesh_normalize::{
    DateOrder, clean_text, country_alpha2, parse_date, parse_methodologies, project_status,
    unit_status,
};
use carbonmesh_serials::{CadtUnitBlock, parse_cadt_block};
use chrono::NaiveDate;
use serde_json::Value;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::CADT;

/// Normalizes one CADT project or unit.
pub(crate) fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    let record = match raw.feed {
        Feed::Projects => Record::Project(project(raw)?),
        Feed::Transactions => Record::Credit(unit(raw)?),
        other => {
            return Err(Rejection::record(format!(
                "a CAD Trust node has no {other} list"
            )));
        }
    };
    record.validate()?;
    Ok(vec![record])
}

// ---------------------------------------------------------------------------------------------
// Registries named in CADT records

/// The registry a CADT registry name denotes (`registryOfOrigin`, `currentRegistry`, the
/// `registries` picklist, which is free text in practice), when carbonmesh reads it.
pub fn registry_from_name(name: &str) -> Option<RegistryId> {
    let k: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    let k = k.split_whitespace().collect::<Vec<_>>().join(" ");
    let words: Vec<&str> = k.split(' ').collect();
    let has = |w: &str| words.contains(&w);
    let r = if k.contains("verra") || has("vcs") || k.contains("verified carbon standard") {
        RegistryId::VERRA
    } else if k.contains("gold standard") || has("gs") {
        RegistryId::GOLD_STANDARD
    } else if k.contains("american carbon registry") || has("acr") {
        RegistryId::ACR
    } else if k.contains("climate action reserve") || has("car") {
        RegistryId::CAR
    } else if k.contains("cdm") || k.contains("clean development mechanism") {
        RegistryId::CDM
    } else if k.contains("ecoregistry") || k.contains("cercarbono") {
        RegistryId::CERCARBONO
    } else if k.contains("biocarbon") {
        RegistryId::BIOCARBON
    } else if k.contains("puro") {
        RegistryId::PURO
    } else if k.contains("isometric") {
        RegistryId::ISOMETRIC
    } else if k.contains("art trees") || has("art") {
        RegistryId::ART
    } else if k.contains("air resources board") || has("arb") {
        RegistryId::ARB
    } else {
        return None;
    };
    Some(r)
}

/// The registry a unit's `unitRegistryLink` points into, by host.
pub fn registry_from_link(link: &str) -> Option<RegistryId> {
    let l = link.trim().to_ascii_lowercase();
    let rest = l.split_once("://").map_or(l.as_str(), |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let is = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
    let r = if is("verra.org") {
        RegistryId::VERRA
    } else if is("goldstandard.org") {
        RegistryId::GOLD_STANDARD
    } else if is("acrcarbon.org") || is("americancarbonregistry.org") {
        RegistryId::ACR
    } else if is("climateactionreserve.org") || host == "thereserve2.apx.com" {
        RegistryId::CAR
    } else if is("unfccc.int") {
        RegistryId::CDM
    } else if is("ecoregistry.io") || is("cercarbono.com") {
        RegistryId::CERCARBONO
    } else if is("biocarbonregistry.com") || is("globalcarbontrace.io") {
        RegistryId::BIOCARBON
    } else if is("puro.earth") {
        RegistryId::PURO
    } else if is("isometric.com") {
        RegistryId::ISOMETRIC
    } else if is("artredd.org") {
        RegistryId::ART
    } else {
        return None;
    };
    Some(r)
}

/// A project id as written in a CADT record, in the form carbonmesh uses for `registry`
/// where the id is a bare or prefixed number (`1507`, `VCS-1507`, `VCS 1507` → `VCS1507`;
/// `GS 2922` → `GS2922`; `ACR0182` → `ACR182`); anything else as written.
pub fn canonical_project_id(registry: Option<RegistryId>, id: &str) -> String {
    let id = id.trim();
    let prefix = match registry {
        Some(RegistryId::VERRA) => "VCS",
        Some(RegistryId::GOLD_STANDARD) => "GS",
        Some(RegistryId::ACR) => "ACR",
        Some(RegistryId::CAR) => "CAR",
        _ => return id.to_owned(),
    };
    let rest = if id.len() >= prefix.len() && id[..prefix.len()].eq_ignore_ascii_case(prefix) {
        id[prefix.len()..].trim_start_matches(['-', ' ', '_', '#'])
    } else {
        id
    };
    let rest = rest.strip_suffix(".0").unwrap_or(rest);
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return id.to_owned();
    }
    let digits = rest.trim_start_matches('0');
    format!("{prefix}{}", if digits.is_empty() { "0" } else { digits })
}

fn reference(registry_name: Option<&str>, id: &str, relation: &str) -> CrossReference {
    let registry = registry_name.and_then(registry_from_name);
    CrossReference {
        registry,
        id: canonical_project_id(registry, id),
        relation: relation.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Field helpers

fn children<'a>(raw: &'a RawRecord, name: &str) -> &'a [Value] {
    match &raw.body {
        RawBody::Json(v) => v
            .get(name)
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice),
        RawBody::Csv { .. } => &[],
    }
}

fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => clean_text(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A date of a child record (`2019-01-01`, `2019-01-01T00:00:00.000Z`).
fn child_date(parent: &str, v: &Value, key: &str) -> Result<Option<NaiveDate>, Rejection> {
    text(v, key)
        .map(|d| parse_date(&d, DateOrder::DayFirst))
        .transpose()
        .map_err(|e| Rejection::field(format!("{parent}.{key}"), e.to_string()))
}

/// `lat, long` when a location's `geographicIdentifier` is a coordinate pair.
fn coordinates(v: &Value) -> Option<(f64, f64)> {
    let g = text(v, "geographicIdentifier")?;
    let (a, b) = g.split_once(',')?;
    let (lat, long) = (a.trim().parse::<f64>().ok()?, b.trim().parse::<f64>().ok()?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long)).then_some((lat, long))
}

fn label_kind(label_type: &str) -> String {
    label_type
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

fn push_unique<T: PartialEq>(items: &mut Vec<T>, item: T) {
    if !items.contains(&item) {
        items.push(item);
    }
}

// ---------------------------------------------------------------------------------------------
// Projects

fn project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = raw.required(col::WAREHOUSE_PROJECT_ID)?;
    let name = raw.required(col::PROJECT_NAME)?;
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(col::DEVELOPER);
    p.sector = raw.clean_field(col::SECTOR);
    p.project_type = raw.clean_field(col::PROJECT_TYPE);
    p.category = raw.clean_field(col::PROGRAM);
    let methods: Vec<String> = [col::METHODOLOGY, col::METHODOLOGY2]
        .iter()
        .filter_map(|n| raw.clean_field(n))
        .collect();
    let mut codes = Vec::new();
    for m in &methods {
        let parsed: Vec<String> = parse_methodologies(REGISTRY, m)
            .into_iter()
            .filter_map(|x| x.code)
            .collect();
        for c in if parsed.is_empty() {
            vec![m.clone()]
        } else {
            parsed
        } {
            push_unique(&mut codes, c);
        }
    }
    p.methodology = (!codes.is_empty()).then(|| codes.join("; "));
    p.status = raw
        .clean_field(col::PROJECT_STATUS)
        .map(|s| Normalized::new(project_status(REGISTRY, &s), s));

    // Locations: the first location's country is the host country.
    for l in children(raw, col::LOCATIONS) {
        if p.country_raw.is_none()
            && let Some(c) = text(l, "country")
        {
            p.country = country_alpha2(&c).map(str::to_owned);
            p.country_raw = Some(c);
        }
        let xy = coordinates(l);
        let location = Location {
            region: text(l, "inCountryRegion"),
            latitude: xy.map(|c| c.0),
            longitude: xy.map(|c| c.1),
        };
        if location.region.is_some() || xy.is_some() {
            push_unique(&mut p.locations, location);
        }
    }

    // Labels, co-benefits, ratings and tags.
    for l in children(raw, col::LABELS) {
        if let Some(value) = text(l, "label") {
            let kind = text(l, "labelType").map_or_else(|| "label".to_owned(), |t| label_kind(&t));
            push_unique(&mut p.labels, Label { kind, value });
        }
    }
    for b in children(raw, col::CO_BENEFITS) {
        if let Some(value) = text(b, "cobenefit") {
            push_unique(
                &mut p.labels,
                Label {
                    kind: "co_benefit".into(),
                    value,
                },
            );
        }
    }
    for r in children(raw, col::RATINGS) {
        if let (Some(kind), Some(rating)) = (text(r, "ratingType"), text(r, "rating")) {
            push_unique(
                &mut p.labels,
                Label {
                    kind: "rating".into(),
                    value: format!("{kind}: {rating}"),
                },
            );
        }
    }
    for tag in raw
        .clean_field(col::PROJECT_TAGS)
        .iter()
        .flat_map(|t| t.split(','))
        .filter_map(clean_text)
    {
        push_unique(
            &mut p.labels,
            Label {
                kind: "tag".into(),
                value: tag,
            },
        );
    }

    // Crediting periods: the estimations' periods, then the labels'.
    for (list, start, end) in [
        (
            col::ESTIMATIONS,
            "creditingPeriodStart",
            "creditingPeriodEnd",
        ),
        (
            col::LABELS,
            "creditingPeriodStartDate",
            "creditingPeriodEndDate",
        ),
    ] {
        for e in children(raw, list) {
            let period = Period {
                start: child_date(list, e, start)?,
                end: child_date(list, e, end)?,
            };
            if period.start.is_some() || period.end.is_some() {
                push_unique(&mut p.crediting_periods, period);
            }
        }
    }
    p.crediting_periods.sort_by_key(|x| (x.start, x.end));

    // Cross-references: the project in its registry of origin and in its current registry.
    if let Some(origin) = raw.clean_field(col::ORIGIN_PROJECT_ID) {
        let registry = raw.clean_field(col::REGISTRY_OF_ORIGIN);
        push_unique(
            &mut p.cross_references,
            reference(registry.as_deref(), &origin, "origin_project"),
        );
    }
    if let Some(current) = raw.clean_field(col::PROJECT_ID) {
        let registry = raw
            .clean_field(col::CURRENT_REGISTRY)
            .or_else(|| raw.clean_field(col::REGISTRY_OF_ORIGIN));
        push_unique(
            &mut p.cross_references,
            reference(registry.as_deref(), &current, "current_registry_project"),
        );
    }
    for r in children(raw, col::RELATED) {
        if let Some(id) = text(r, "relatedProjectId") {
            let relation = text(r, "relationshipType")
                .map_or_else(|| "related_project".to_owned(), |t| label_kind(&t));
            push_unique(
                &mut p.cross_references,
                reference(text(r, "registry").as_deref(), &id, &relation),
            );
        }
    }
    p.registry_url = raw.clean_field(col::PROJECT_LINK);
    Ok(p)
}

// ---------------------------------------------------------------------------------------------
// Units

/// What a unit status says happened to the block.
fn transaction(status: UnitStatus) -> TransactionType {
    match status {
        UnitStatus::Active => TransactionType::Issuance,
        UnitStatus::Retired => TransactionType::Retirement,
        UnitStatus::Cancelled => TransactionType::Cancellation,
        UnitStatus::Buffer => TransactionType::Buffer,
        UnitStatus::Converted | UnitStatus::Pending => TransactionType::Conversion,
        _ => TransactionType::Unknown,
    }
}

fn unit(raw: &RawRecord) -> Result<CreditRecord, Rejection> {
    let id = raw.required(col::WAREHOUSE_UNIT_ID)?;
    let project = raw.clean_field(col::ISSUANCE_PROJECT).ok_or_else(|| {
        Rejection::field(
            "issuance.warehouseProjectId",
            "is empty: a unit reaches its project only through its issuance",
        )
    })?;
    let status_raw = raw.required(col::UNIT_STATUS)?;
    let status = unit_status(REGISTRY, &status_raw);
    let t = transaction(status);
    let quantity = raw.quantity(col::UNIT_COUNT)?;
    let start = raw.required(col::BLOCK_START)?;
    let end = raw.required(col::BLOCK_END)?;
    let org = raw.clean_field(col::ORG_UID).unwrap_or_default();
    let link = raw.clean_field(col::UNIT_REGISTRY_LINK);
    let origin = link.as_deref().and_then(registry_from_link);
    let parsed = parse_cadt_block(&CadtUnitBlock {
        unit_block_start: &start,
        unit_block_end: &end,
        org_uid: &org,
        registry_of_origin: origin,
    })
    .map_err(|e| {
        Rejection::field(
            raw.field_name(col::BLOCK_START),
            format!("`{start}` – `{end}`: {e}"),
        )
    })?;
    let vintage = raw.year(col::VINTAGE_YEAR)?;
    let period = Period {
        start: raw.date(col::ISSUANCE_START, DateOrder::DayFirst)?,
        end: raw.date(col::ISSUANCE_END, DateOrder::DayFirst)?,
    };
    let owner = raw.clean_field(col::UNIT_OWNER);
    let mut notes = vec![format!("units of {}", parsed.registry.display_name())];
    if let Some(t) = raw.clean_field(col::UNIT_TYPE) {
        notes.push(format!("unit type {t}"));
    }
    if let Some(c) = raw.clean_field(col::OWNER_COUNTRY) {
        notes.push(format!("owner jurisdiction {c}"));
    }
    match (
        raw.clean_field(col::CA_DECLARATION),
        raw.clean_field(col::CA_STATUS),
    ) {
        (None, None) => {}
        (d, s) => notes.push(format!(
            "corresponding adjustment {} / {}",
            d.as_deref().unwrap_or("-"),
            s.as_deref().unwrap_or("-")
        )),
    }
    if let Some(m) = raw.clean_field(col::MARKETPLACE) {
        match raw.clean_field(col::MARKETPLACE_ID) {
            Some(i) => notes.push(format!("marketplace {m} ({i})")),
            None => notes.push(format!("marketplace {m}")),
        }
    }
    let labels: Vec<String> = children(raw, col::LABELS)
        .iter()
        .filter_map(|l| {
            let label = text(l, "label")?;
            Some(match text(l, "labelType") {
                Some(t) => format!("{label} ({t})"),
                None => label,
            })
        })
        .collect();
    if !labels.is_empty() {
        notes.push(format!("labels {}", labels.join(", ")));
    }
    if let Some(body) = raw.clean_field(col::ISSUANCE_BODY) {
        let report = raw.date(col::ISSUANCE_REPORT_DATE, DateOrder::DayFirst)?;
        notes.push(match report {
            Some(d) => format!("verified by {body} (report {d})"),
            None => format!("verified by {body}"),
        });
    }
    if !org.is_empty() {
        notes.push(format!("organisation {org}"));
    }
    if let Some(l) = &link {
        notes.push(format!("registry link {l}"));
    }
    let serial = raw
        .clean_field(col::SERIAL_BLOCK)
        .unwrap_or_else(|| format!("{start}-{end}"));
    Ok(CreditRecord {
        registry: REGISTRY,
        // The warehouse unit id stays with the block as its status changes; a split keeps
        // it on the first part.
        record_key: format!("unit:{id}"),
        registry_project_id: project,
        transaction_type: Normalized::new(t, status_raw.clone()),
        quantity,
        serial: Some(serial),
        serial_range: parsed.serial_range(),
        vintage,
        monitoring_period: (period.start.is_some() || period.end.is_some()).then_some(period),
        event_date: None,
        status: Normalized::new(status, status_raw),
        account: owner.clone(),
        beneficiary: (status == UnitStatus::Retired).then_some(owner).flatten(),
        reason: raw.clean_field(col::UNIT_STATUS_REASON),
        note: Some(notes.join("; ")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_names_and_links() {
        assert_eq!(
            registry_from_name("American Carbon Registry (ACR)"),
            Some(RegistryId::ACR)
        );
        assert_eq!(
            registry_from_name("Climate Action Reserve (CAR)"),
            Some(RegistryId::CAR)
        );
        assert_eq!(registry_from_name("CDM Registry"), Some(RegistryId::CDM));
        assert_eq!(registry_from_name("Verra"), Some(RegistryId::VERRA));
        assert_eq!(registry_from_name("Global Carbon Council"), None);
        assert_eq!(
            registry_from_link("https://registry.verra.org/app/projectDetail/VCS/1507"),
            Some(RegistryId::VERRA)
        );
        assert_eq!(registry_from_link("https://evil-verra.org.example/x"), None);
    }

    #[test]
    fn project_ids_take_the_registrys_form() {
        let v = Some(RegistryId::VERRA);
        assert_eq!(canonical_project_id(v, "1507"), "VCS1507");
        assert_eq!(canonical_project_id(v, "VCS-1507"), "VCS1507");
        assert_eq!(
            canonical_project_id(Some(RegistryId::ACR), "ACR0182"),
            "ACR182"
        );
        assert_eq!(canonical_project_id(Some(RegistryId::CDM), "1234"), "1234");
        assert_eq!(canonical_project_id(None, " X-1 "), "X-1");
    }
}
