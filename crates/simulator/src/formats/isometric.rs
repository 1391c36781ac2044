//! Isometric: nodes of the Registry API v0 (`/projects`, `/issuances`, `/retirements`).
//!
//! Isometric publishes no serials and states quantities in kilograms: a block of `q` units is
//! `q` tonnes less a few kilograms (so quantities are fractional), and each record's range is
//! the synthetic `1..=kilograms` in its own namespace.

use serde_json::{Value, json};

use super::serial::isometric_id;
use crate::catalog::ProjectInfo;
use crate::ledger::CreditRow;

/// ISO 3166-1 alpha-3 of the simulated countries, as Isometric writes them.
fn alpha3(code: &str) -> &'static str {
    match code {
        "ET" => "ETH",
        "CN" => "CHN",
        "BR" => "BRA",
        "IN" => "IND",
        "KE" => "KEN",
        "RW" => "RWA",
        "CL" => "CHL",
        "ID" => "IDN",
        "AR" => "ARG",
        "UG" => "UGA",
        "CA" => "CAN",
        "MX" => "MEX",
        _ => "USA",
    }
}

/// The kilograms of a row: its quantity in tonnes less up to 999 kg (never below 1 kg).
pub fn kilograms(row: &CreditRow) -> u64 {
    let shave = (row.start.wrapping_mul(7919) ^ row.batch.wrapping_mul(104_729)) % 1000;
    (row.quantity * 1000).saturating_sub(shave).max(1)
}

/// `{"credits": tonnes, "credit_kgs": kilograms}`.
fn amount(kg: u64) -> Value {
    // Tonnes as the API prints them: the exact decimal of kg / 1000 (shortest form).
    let tonnes: Value = format!("{}.{:03}", kg / 1000, kg % 1000)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .parse::<f64>()
        .map_or(Value::Null, Value::from);
    json!({ "credits": tonnes, "credit_kgs": kg })
}

fn supplier(project: &ProjectInfo) -> Value {
    json!({ "id": format!("sup_SIM{:06}", project.number), "organisation": {
        "id": format!("org_SIM{:06}", project.number), "name": project.developer } })
}

/// A project node.
pub fn project_node(project: &ProjectInfo) -> Value {
    let id = project.registry_id();
    let start = project.registered_on;
    json!({
        "id": id,
        "name": project.name,
        "short_code": format!("SIM{}", project.number),
        "status": "validated",
        "url": format!("https://to.isometric.com/{id}"),
        "process_key": project.project_type.name.to_lowercase().replace(' ', "_"),
        "pathway": project.project_type.name,
        "protocol_slug": project.project_type.name.to_lowercase().replace(' ', "-"),
        "country_code": alpha3(project.country.code),
        "crediting_period_start": start.format("%Y-%m-%d").to_string(),
        "crediting_period_end": (start + chrono::Days::new(3652)).format("%Y-%m-%d").to_string(),
        "location": {
            "description": format!("{}, {}", project.country.state_name, project.country.name),
            "latitude": -10.0 + (project.number % 40) as f64,
            "longitude": 20.0 + (project.number % 90) as f64,
        },
        "supplier": supplier(project),
    })
}

/// An issuance node: everything issued, its buffer share and the supplier's share.
pub fn issuance_node(row: &CreditRow, project: &ProjectInfo) -> Value {
    let total = kilograms(row);
    let buffer = total / 20;
    json!({
        "id": isometric_id(row),
        "project_id": project.registry_id(),
        "issued_at": format!("{}T16:50:41.621676Z", row.issued_on.format("%Y-%m-%d")),
        "reporting_period_start_at": format!("{}T00:00:00Z", row.vintage_start.format("%Y-%m-%d")),
        "reporting_period_end_at": format!("{}T23:59:59Z", row.vintage_end.format("%Y-%m-%d")),
        "credit_batch_size_total": amount(total),
        "buffer_pool_credit_batch_size_total": amount(buffer),
        "supplier_credit_batch_size_total": amount(total - buffer),
        "supplier": supplier(project),
    })
}

/// A retirement node: project and sequestration date per credit batch.
pub fn retirement_node(row: &CreditRow, project: &ProjectInfo) -> Value {
    let retired = row.event_on.unwrap_or(row.issued_on);
    json!({
        "id": isometric_id(row),
        "retired_at": format!("{}T15:34:34.000000Z", retired.format("%Y-%m-%d")),
        "purposes": ["corporate_targets"],
        "beneficiary": { "id": format!("org_B{:08}", row.batch), "name": row.beneficiary },
        "owner": { "id": format!("org_O{:08}", row.batch), "name": project.developer },
        "credit_batch_size_total": amount(kilograms(row)),
        "notes": row.details,
        "credit_batches": [{
            "id": format!("ctb_SIM{:08}", row.batch),
            "project_id": project.registry_id(),
            "sequestered_on": row.vintage_start.format("%Y-%m-%d").to_string(),
        }],
    })
}
