//! Puro.earth: the records the registry pages embed (`/projects`, `/issuances`,
//! `/retirements`), and the Next.js page that carries them in its server-component stream.

use serde_json::{Value, json};

use super::serial::{puro_issuance_id, serial, uuid};
use crate::catalog::ProjectInfo;
use crate::ledger::{CreditRow, UnitState};

/// Kinds of derived ids.
const TRANSACTION: u64 = 2;
const BUNDLE: u64 = 3;

fn day(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A project listing.
pub fn project_entity(project: &ProjectInfo) -> Value {
    let code = project.number.to_string();
    json!({
        "projectId": code,
        "code": code,
        "gsrn": format!("6430024068{:08}", project.number),
        "name": project.name,
        "countryCode": project.country.code,
        "supplierName": project.developer,
        "supplierListingUrl": null,
        "methodologyCode": project.project_type.methodology,
        "creditingPeriodStart": day(project.registered_on),
        "creditingPeriodEnd": day(project.registered_on + chrono::Days::new(3652)),
        "sdgs": [{"goal": 13, "name": "Climate action"}],
        "latitude": null,
        "longitude": null,
        "methodology": {
            "code": project.project_type.methodology,
            "name": project.project_type.name,
            "edition": "",
            "url": "",
        },
    })
}

/// An issuance (a whole block) or a retirement (one retired piece), each with one bundle.
pub fn transaction_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    let issuance = puro_issuance_id(row);
    let (kind, id) = match row.state {
        UnitState::Issued => ("Issuance", issuance.clone()),
        _ => ("Retirement", uuid(TRANSACTION, row.batch, row.start)),
    };
    let completed = row.event_on.unwrap_or(row.issued_on);
    let completed_on = format!("{}T13:33:20.438Z", day(completed));
    let bundle = json!({
        "id": uuid(BUNDLE, row.batch, row.start),
        "certificates": serial(row, project),
        "_start": row.start.to_string(),
        "_end": row.end.to_string(),
        "volume": row.quantity,
        "methodologyCode": project.project_type.methodology,
        "productionFacilityCode": project.number.to_string(),
        "vintage": row.vintage(),
        "productionStartDate": day(row.vintage_start),
        "productionEndDate": day(row.vintage_end),
        "creditType": "CORC",
        "issuanceId": issuance,
        "issuanceDate": day(row.issued_on),
        "transactionId": id,
        "project": {"name": project.name, "supplierName": project.developer},
        "methodology": {"name": project.project_type.name},
    });
    let (retirement, issuance_details) = match row.state {
        UnitState::Issued => (
            Value::Null,
            json!({"auditBody": "Energy Link Services Pty Ltd", "issuanceId": issuance,
                   "issuanceDate": completed_on}),
        ),
        _ => (
            json!({
                "usageType": "OTHER",
                "beneficiaryName": row.beneficiary,
                "beneficiaryType": "END_CONSUMER",
                "retirementPurpose": row.details,
                "publicStatementUrl": format!("https://retirements.puro.earth/retirement-statement/{id}"),
                "beneficiaryLocation": "United States",
                "countryOfConsumption": "US",
                "beneficiaryHiddenUntil": null,
                "consumptionPeriodStartDate": format!("{}-01-01T00:00:00.000Z", row.vintage()),
                "consumptionPeriodEndDate": format!("{}-12-31T00:00:00.000Z", row.vintage()),
            }),
            Value::Null,
        ),
    };
    json!({
        "id": id,
        "type": kind,
        "accountHolderName": project.developer,
        "completedOn": completed_on,
        "volume": row.quantity,
        "retirementId": id,
        "retirementDetails": retirement,
        "issuanceDetails": issuance_details,
        "withdrawalDetails": null,
        "transactionLabels": [],
        "transactionAdditionalLabels": [{"type": "CORC", "transactionId": id, "order": 0}],
        "bundles": [bundle],
    })
}

/// Characters of the server-component stream per `self.__next_f.push` call.
const PUSH_CHARS: usize = 2000;

/// A registry page embedding `{"data": records}` in its server-component stream, cut into
/// many pushes (a record may straddle two), as the Next.js front end sends it.
pub fn page_html(title: &str, records: &[Value]) -> String {
    let data = json!({ "data": records }).to_string();
    let stream = format!(
        "0:[\"$\",\"$L1\",null,{{\"title\":{}}}]\n2:I[\"(app)/page\",[]]\n3:{data}\n",
        Value::from(title)
    );
    let mut html = String::with_capacity(stream.len() * 11 / 10 + 512);
    html.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"/><title>");
    html.push_str(title);
    html.push_str("</title></head><body><div id=\"__next\"></div>");
    html.push_str("<script>(self.__next_f=self.__next_f||[]).push([0])</script>");
    let mut rest = stream.as_str();
    while !rest.is_empty() {
        let mut cut = rest.len().min(PUSH_CHARS);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        html.push_str("<script>self.__next_f.push([1,");
        // A JSON string literal, with `<` escaped so that no chunk closes the script.
        html.push_str(&Value::from(chunk).to_string().replace('<', "\\u003c"));
        html.push_str("])</script>");
        rest = tail;
    }
    html.push_str("</body></html>");
    html
}
