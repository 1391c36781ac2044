//! Gold Standard: entities of `public-api.goldstandard.org` (`/credits`, `/projects`).

use serde_json::{Value, json};

use super::entity;
use super::serial::serial;
use crate::catalog::ProjectInfo;
use crate::ledger::{CreditRow, Product, UnitState};

const CREDIT_KEYS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "number_of_credits",
    "starting_credit_number",
    "ending_credit_number",
    "batch_number",
    "serial_number",
    "certified_date",
    "monitoring_period_start_date",
    "monitoring_period_end_date",
    "status",
    "vintage",
    "is_active",
    "is_transferable",
    "is_retirable",
    "is_assignable",
    "is_convertable",
    "is_cancelable",
    "is_flagged_for_transactional_approval",
    "is_note_displayable",
    "is_using_entity_displayable",
    "is_undo_issuable",
    "is_undo_assignable",
    "is_undo_retirable",
    "is_corsia_eligible",
    "note",
    "project",
    "product",
    "labels",
];

const CREDIT_PROJECT_KEYS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "name",
    "description",
    "status",
    "gsf_standards_version",
    "estimated_annual_credits",
    "crediting_period_start_date",
    "crediting_period_end_date",
    "methodology",
    "type",
    "size",
    "sustaincert_id",
    "sustaincert_url",
    "project_developer",
    "carbon_stream",
    "country",
    "country_code",
    "latitude",
    "longitude",
    "state",
    "crediting_periods",
    "programme_of_activities",
    "labels",
];

const PROJECT_KEYS: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "name",
    "description",
    "status",
    "gsf_standards_version",
    "estimated_annual_credits",
    "crediting_period_start_date",
    "crediting_period_end_date",
    "methodology",
    "type",
    "size",
    "sustaincert_id",
    "sustaincert_url",
    "project_developer",
    "carbon_stream",
    "country",
    "country_code",
    "latitude",
    "longitude",
    "state",
    "crediting_periods",
    "programme_of_activities",
    "poa_project_id",
    "poa_project_sustaincert_id",
    "poa_project_name",
    "sustainable_development_goals",
    "labels",
];

fn project_values(project: &ProjectInfo) -> Vec<(&'static str, Value)> {
    let created = format!("{}T09:00:00Z", project.registered_on.format("%Y-%m-%d"));
    let end = project.registered_on + chrono::Days::new(3652);
    vec![
        ("id", json!((project.index + 1000).to_string())),
        ("created_at", json!(created)),
        ("updated_at", json!(created)),
        ("name", json!(project.name)),
        (
            "description",
            json!(format!(
                "{} in {}.",
                project.project_type.name, project.country.name
            )),
        ),
        ("status", json!("GOLD_STANDARD_CERTIFIED_PROJECT")),
        (
            "gsf_standards_version",
            json!("Gold Standard for the Global Goals"),
        ),
        ("estimated_annual_credits", json!(project.estimated_annual)),
        (
            "crediting_period_start_date",
            json!(project.registered_on.format("%Y-%m-%d").to_string()),
        ),
        (
            "crediting_period_end_date",
            json!(end.format("%Y-%m-%d").to_string()),
        ),
        ("methodology", json!(project.project_type.methodology)),
        ("type", json!(project.project_type.name)),
        ("size", json!("Large Scale")),
        ("sustaincert_id", json!(project.number)),
        (
            "sustaincert_url",
            json!(format!(
                "https://assurance-platform.goldstandard.org/project-documents/GS{}",
                project.number
            )),
        ),
        ("project_developer", json!(project.developer)),
        ("carbon_stream", json!("VER")),
        ("country", json!(project.country.name)),
        ("country_code", json!(project.country.code)),
        ("programme_of_activities", json!("Standalone")),
        ("labels", json!(["EMISSION_REDUCTION"])),
    ]
}

/// A `/credits` block in its current state.
pub fn credit_entity(row: &CreditRow, project: &ProjectInfo) -> Value {
    let retired = row.state == UnitState::Retired;
    let certified = row.issued_on.format("%Y-%m-%d").to_string();
    let stamp = format!("{certified}T10:00:00Z");
    let (product_name, abbreviation) = match row.product {
        Product::KyotoCer => ("Certified Emission Reduction", "CER"),
        Product::Standard => ("Verified Emission Reduction", "VER"),
    };
    entity(
        CREDIT_KEYS,
        vec![
            // One id per published piece: pieces of a batch start at different unit numbers,
            // and Gold Standard batches restart at 1 and stay far below ten million units.
            (
                "id",
                json!((row.batch * 10_000_000 + row.start).to_string()),
            ),
            ("created_at", json!(stamp)),
            ("updated_at", json!(stamp)),
            ("number_of_credits", json!(row.quantity)),
            ("starting_credit_number", json!(row.start)),
            ("ending_credit_number", json!(row.end)),
            ("batch_number", json!(row.batch)),
            ("serial_number", json!(serial(row, project))),
            ("certified_date", json!(certified)),
            (
                "monitoring_period_start_date",
                json!(row.vintage_start.format("%Y-%m-%d").to_string()),
            ),
            (
                "monitoring_period_end_date",
                json!(row.vintage_end.format("%Y-%m-%d").to_string()),
            ),
            ("status", json!(if retired { "RETIRED" } else { "ISSUED" })),
            ("vintage", json!(row.vintage().to_string())),
            ("is_active", json!(true)),
            ("is_transferable", json!(!retired)),
            ("is_retirable", json!(!retired)),
            ("is_assignable", json!(!retired)),
            ("is_convertable", json!(false)),
            ("is_cancelable", json!(!retired)),
            ("is_flagged_for_transactional_approval", json!(false)),
            ("is_note_displayable", json!(retired)),
            ("is_using_entity_displayable", json!(false)),
            ("is_undo_issuable", json!(false)),
            ("is_undo_assignable", json!(false)),
            ("is_undo_retirable", json!(retired)),
            ("is_corsia_eligible", json!(false)),
            (
                "note",
                if retired {
                    json!(row.details)
                } else {
                    Value::Null
                },
            ),
            (
                "project",
                entity(CREDIT_PROJECT_KEYS, project_values(project)),
            ),
            (
                "product",
                json!({ "name": product_name, "abbreviation": abbreviation }),
            ),
            ("labels", json!(["EMISSION_REDUCTION"])),
        ],
    )
}

/// A `/projects` entry.
pub fn project_entity(project: &ProjectInfo) -> Value {
    let mut values = project_values(project);
    values.push((
        "sustainable_development_goals",
        json!([{ "name": "Goal 13: Climate Action", "issuable_products": [
            { "name": "Verified Emission Reduction", "abbreviation": "VER" }
        ] }]),
    ));
    entity(PROJECT_KEYS, values)
}
