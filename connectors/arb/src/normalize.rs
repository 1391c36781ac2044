//! Rows of CARB's issuance table → an ARB project and its credit records. Pure.
//!
//! The table publishes no serials: every ARB credit record has `serial_range: None`. What links
//! ARB offsets to the registry they came from is the project: each row pairs a `CARB Project
//! ID` with the `OPR Project ID` (the ACR, CAR or Verra project), which becomes a
//! cross-reference on the ARB project.

use carbonmesh_connector::{Feed, RawRecord, Record, Rejection};
use carbonmesh_model::{
    CreditRecord, CrossReference, Label, Location, Normalized, Period, Project, RegistryId,
    TransactionType, UnitStatus,
};
use carbonmesh_normalize::{DateOrder, parse_quantity, unit_status};
use rust_decimal::Decimal;

use crate::columns as col;

const REGISTRY: RegistryId = RegistryId::ARB;

/// The table (as CarbonPlan exports it) writes ISO dates; a numeric date would be American.
const DATES: DateOrder = DateOrder::MonthFirst;

/// Normalizes one issuance-table row.
///
/// Every row yields its ARB project. A row with a `CARB Issuance ID` also yields the issuance
/// and one record per non-zero amount column (buffer contribution, invalidations, retirements
/// by purpose), keyed `<issuance id>#<column>`. A row without one is a zero-credit reporting
/// period or a reversal notice: it yields the project, and for a reversal a cancellation
/// record of the reversed amount.
pub(crate) fn normalize(raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
    if raw.feed != Feed::Issuances {
        return Err(Rejection::record(
            "the ARB issuance table holds issuances only",
        ));
    }
    let project = project(raw)?;
    let project_id = project.registry_project_id.clone();
    let mut out = vec![Record::Project(project)];
    let opr = raw.clean_field(col::OPR_PROJECT_ID);
    let rp = raw.clean_field(col::REPORTING_PERIOD);
    let period = {
        let start = raw.date(col::PERIOD_START, DATES)?;
        let end = raw.date(col::PERIOD_END, DATES)?;
        (start.is_some() || end.is_some()).then_some(Period { start, end })
    };
    let vintage = raw.year(col::VINTAGE)?;
    let mut note = vec![];
    if let Some(opr) = &opr {
        note.push(format!("OPR project {opr}"));
    }
    if let Some(rp) = &rp {
        note.push(format!("reporting period {rp}"));
    }
    if let Some(c) = raw.clean_field(col::COMMENT) {
        note.push(c);
    }
    let base = CreditRecord {
        registry: REGISTRY,
        record_key: String::new(),
        registry_project_id: project_id.clone(),
        transaction_type: Normalized::new(TransactionType::Issuance, "ARB Offset Credits Issued"),
        quantity: Decimal::ZERO,
        serial: None,
        serial_range: None,
        vintage,
        monitoring_period: period,
        event_date: raw.date(col::ISSUANCE_DATE, DATES)?,
        status: Normalized::new(unit_status(REGISTRY, "Issued"), "Issued"),
        account: None,
        beneficiary: None,
        reason: None,
        note: (!note.is_empty()).then(|| note.join("; ")),
    };

    let Some(issuance_id) = raw.clean_field(col::ISSUANCE_ID) else {
        for column in [col::INTENTIONAL_REVERSAL, col::UNINTENTIONAL_REVERSAL] {
            let Some(amount) = signed_quantity(raw, column)? else {
                continue;
            };
            let rp = rp.as_deref().unwrap_or("?");
            out.push(Record::Credit(CreditRecord {
                record_key: format!("{project_id}:RP{rp}#{}", slug(column)),
                // CARB prints the reversed amount as a negative; the record holds its size.
                quantity: amount.abs(),
                transaction_type: Normalized::new(TransactionType::Cancellation, column),
                status: Normalized::new(UnitStatus::Cancelled, column),
                ..base.clone()
            }));
        }
        return check(out);
    };
    let issued = raw.quantity(col::ISSUED)?;
    if vintage.is_none() {
        return Err(Rejection::field(
            "Vintage",
            format!("is blank on issuance {issuance_id}"),
        ));
    }
    out.push(Record::Credit(CreditRecord {
        record_key: issuance_id.clone(),
        quantity: issued,
        ..base.clone()
    }));
    for (column, suffix, t, status) in col::AMOUNTS {
        let Some(amount) = raw.optional_quantity(&[column])? else {
            continue;
        };
        if amount.is_zero() {
            continue;
        }
        out.push(Record::Credit(CreditRecord {
            record_key: format!("{issuance_id}#{suffix}"),
            quantity: amount,
            transaction_type: Normalized::new(t, column),
            status: Normalized::new(status, column),
            // Compliance retirement "dates" are program deadlines, not events: none is set.
            event_date: if t == TransactionType::Buffer {
                base.event_date
            } else {
                None
            },
            ..base.clone()
        }));
    }
    check(out)
}

fn check(records: Vec<Record>) -> Result<Vec<Record>, Rejection> {
    for record in &records {
        record.validate()?;
    }
    Ok(records)
}

fn project(raw: &RawRecord) -> Result<Project, Rejection> {
    let id = raw.required(col::CARB_PROJECT_ID)?;
    if !id.starts_with("CA") || id.len() < 5 {
        return Err(Rejection::field(
            "CARB Project ID",
            format!("`{id}` is not a CARB project id (CA, a type code and digits)"),
        ));
    }
    let name = raw.clean_field(col::PROJECT_NAME).unwrap_or_default();
    let mut p = Project::new(REGISTRY, &id, &name);
    p.developer = raw.clean_field(col::OPERATOR);
    // The table covers US projects only (California's program); the state is the location.
    p.country = Some("US".to_owned());
    p.project_type = raw.clean_field(col::PROJECT_TYPE);
    if let Some(state) = raw.clean_field(col::STATE) {
        p.locations.push(Location {
            region: Some(state),
            latitude: None,
            longitude: None,
        });
    }
    if let Some(kind) = raw.clean_field(col::EARLY_ACTION) {
        p.labels.push(Label {
            kind: "arb_program".into(),
            value: kind,
        });
    }
    p.registry_url = raw
        .clean_field(col::DOCUMENTATION)
        .filter(|u| u.starts_with("http"));
    if let Some(opr) = raw.clean_field(col::OPR_PROJECT_ID) {
        p.cross_references.push(opr_reference(&opr));
    }
    Ok(p)
}

/// The offset project registry's id: `ACR182` → ACR, `CAR997` → CAR, a bare number or
/// `VCS123` → Verra (`VCS123`). The ACR number is kept unpadded, as the ACR connector stores it.
pub fn opr_reference(opr: &str) -> CrossReference {
    let id = opr.trim();
    let upper = id.to_ascii_uppercase();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (registry, id) = if let Some(n) = upper.strip_prefix("ACR").filter(|n| digits(n)) {
        let n = n.trim_start_matches('0');
        (
            Some(RegistryId::ACR),
            format!("ACR{}", if n.is_empty() { "0" } else { n }),
        )
    } else if let Some(n) = upper.strip_prefix("CAR").filter(|n| digits(n)) {
        (Some(RegistryId::CAR), format!("CAR{n}"))
    } else if let Some(n) = upper
        .strip_prefix("VCS")
        .map(str::trim_start)
        .or(Some(upper.as_str()))
        .filter(|n| digits(n))
    {
        (Some(RegistryId::VERRA), format!("VCS{n}"))
    } else {
        (None, id.to_owned())
    };
    CrossReference {
        registry,
        id,
        relation: "arb_offset_project".to_owned(),
    }
}

fn slug(column: &str) -> String {
    column
        .split_whitespace()
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

/// A reversal amount as printed: CARB prints reversals as negatives, which the toolkit's
/// quantities refuse. Blank and `–` are `None`.
fn signed_quantity(raw: &RawRecord, column: &str) -> Result<Option<Decimal>, Rejection> {
    raw.optional(&[column])
        .map(|v| parse_quantity(&v).map_err(|e| Rejection::field(column, e.to_string())))
        .transpose()
}
