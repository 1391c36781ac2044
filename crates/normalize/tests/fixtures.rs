//! Every date, quantity, country, status, transaction type and methodology value in the shared
//! registry fixtures goes through the normalizers. A value either normalizes or is listed in
//! [`KNOWN_BAD`] with the reason; a listed value that no longer appears fails the test too.

use std::collections::BTreeSet;
use std::path::PathBuf;

use carbonmesh_model::RegistryId;
use carbonmesh_normalize::{
    DateOrder, ProjectStatus, TransactionType, UnitStatus, country_alpha2, kg_to_tonnes,
    parse_compact_dmy, parse_date, parse_date_range, parse_methodologies, parse_py_literal,
    parse_py_str_list, parse_quantity, parse_vintage, parse_year, project_status, read_csv,
    transaction_type, unit_status,
};
use serde_json::Value;

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries"
);

fn fixture_path(file: &str) -> PathBuf {
    let root = PathBuf::from(FIXTURES);
    assert!(
        root.is_dir(),
        "registry fixtures not found at {} (they live in the shared folder beside the repository)",
        root.display()
    );
    root.join(file)
}

fn read_fixture(file: &str) -> Vec<u8> {
    let path = fixture_path(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Date(DateOrder),
    Year,
    Vintage,
    Period,
    Quantity,
    Country,
    Tx(RegistryId),
    Unit(RegistryId),
    Project(RegistryId),
    Method(RegistryId),
    PyList,
    PyLiteral,
    /// A Python list of `{'city', 'country', 'region'}` dicts; every country must resolve.
    PyLocations,
    /// A Verra VCU serial; its two `ddmmyyyy` vintage fields must parse.
    VerraSerial,
}

use Kind::*;

const MF: Kind = Date(DateOrder::MonthFirst);
const DF: Kind = Date(DateOrder::DayFirst);

/// `(file, field, kind)`. CSV fields are header names (matched after normalization, so the
/// double-spaced headers are found by their single-spaced names). JSON fields are key paths
/// through objects; arrays are walked through, `*` matches any key and `*x*` any key containing
/// `x`.
const SPECS: &[(&str, &str, Kind)] = &[
    // ACR, legacy APX CSV.
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Date Issued (GMT)",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Vintage",
        Year,
    ),
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Vintage Assignment Period Start Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Vintage Assignment Period End Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Quantity of Credits",
        Quantity,
    ),
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Status Effective (GMT)",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Cancellation Type",
        Tx(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Project Site Country",
        Country,
    ),
    (
        "american-carbon-registry/offsets-db-data_cancellations.csv",
        "Project Methodology/Protocol",
        Method(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Date Issued (GMT)",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Vintage",
        Year,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "ReportingPeriodBegin",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "ReportingPeriodEnd",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Total Credits Issued",
        Quantity,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Credits Issued to Project",
        Quantity,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Credits Issued to Buffer Pool",
        Quantity,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Credits Transferred to Buffer Pool",
        Quantity,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Project Site Country",
        Country,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Project Crediting Period Start Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_issuances.csv",
        "Project Methodology/Protocol",
        Method(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Initial Crediting Period Start Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Current Crediting Period Start Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Current Crediting Period End Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Voluntary Status",
        Project(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Compliance Program Status (ARB or Ecology)",
        Project(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Project Status Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Project Site Country",
        Country,
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Total Number of Credits Registered",
        Quantity,
    ),
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Project Methodology/Protocol",
        Method(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/offsets-db-data_retirements.csv",
        "Date Issued (GMT)",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_retirements.csv",
        "Vintage",
        Year,
    ),
    (
        "american-carbon-registry/offsets-db-data_retirements.csv",
        "Vintage Assignment Period Start Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_retirements.csv",
        "Vintage Assignment Period End Date",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_retirements.csv",
        "Quantity of Credits",
        Quantity,
    ),
    (
        "american-carbon-registry/offsets-db-data_retirements.csv",
        "Status Effective (GMT)",
        MF,
    ),
    (
        "american-carbon-registry/offsets-db-data_retirements.csv",
        "Project Site Country",
        Country,
    ),
    (
        "american-carbon-registry/offsets-db-data_retirements.csv",
        "Project Methodology/Protocol",
        Method(RegistryId::ACR),
    ),
    // ACR, GreenTrace JSON.
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/holdingStatusEffectiveTimestamp",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/issuanceVintageStartDate",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/vintage",
        Year,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/issuanceDate",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/cancellationDate",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/holdingQuantity",
        Quantity,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/issuanceQuantity",
        Quantity,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/projectSiteLocationCountry",
        Country,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/holdingStatus",
        Tx(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/holdingStatus",
        Unit(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/cancellationReason",
        Tx(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-cancellations.json",
        "datasets/cancelledCredits/rows/cancellationReasonDisplayName",
        Tx(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-issuances.json",
        "datasets/issuedCredits/rows/issuanceVintageStartDate",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-issuances.json",
        "datasets/issuedCredits/rows/vintage",
        Year,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-issuances.json",
        "datasets/issuedCredits/rows/issuanceDate",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-issuances.json",
        "datasets/issuedCredits/rows/holdingQuantity",
        Quantity,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-issuances.json",
        "datasets/issuedCredits/rows/issuanceQuantity",
        Quantity,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-issuances.json",
        "datasets/issuedCredits/rows/projectSiteLocationCountry",
        Country,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/holdingStatusEffectiveTimestamp",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/issuanceVintageStartDate",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/vintage",
        Year,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/issuanceDate",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/retirementDate",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/holdingQuantity",
        Quantity,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/projectSiteLocationCountry",
        Country,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/holdingStatus",
        Tx(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-retirements.json",
        "datasets/retiredCredits/rows/holdingStatus",
        Unit(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-projects.json",
        "datasets/projects/rows/country",
        Country,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-projects.json",
        "datasets/projects/rows/projectStatus",
        Project(RegistryId::ACR),
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-projects.json",
        "datasets/projects/rows/issuedCredits",
        Quantity,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-projects.json",
        "datasets/projects/rows/projectExtensionMap/lastProjectStatusChanged",
        MF,
    ),
    (
        "american-carbon-registry/rb-carbon-scraper_acr-projects.json",
        "datasets/projects/rows/projectMethodology",
        Method(RegistryId::ACR),
    ),
    // ART TREES.
    (
        "art-trees/offsets-db-data_cancellations.csv",
        "Vintage",
        Year,
    ),
    (
        "art-trees/offsets-db-data_cancellations.csv",
        "Quantity of Credits",
        Quantity,
    ),
    (
        "art-trees/offsets-db-data_cancellations.csv",
        "Status Effective",
        MF,
    ),
    (
        "art-trees/offsets-db-data_cancellations.csv",
        "Program Country",
        Country,
    ),
    (
        "art-trees/offsets-db-data_cancellations.csv",
        "Date Approved",
        MF,
    ),
    (
        "art-trees/offsets-db-data_cancellations.csv",
        "Cancellation Reason",
        Tx(RegistryId::ART),
    ),
    (
        "art-trees/offsets-db-data_issuances.csv",
        "Date Approved",
        MF,
    ),
    ("art-trees/offsets-db-data_issuances.csv", "Vintage", Year),
    (
        "art-trees/offsets-db-data_issuances.csv",
        "Total Emission Reductions/Removals",
        Quantity,
    ),
    (
        "art-trees/offsets-db-data_issuances.csv",
        "Credits Deposited in Buffer",
        Quantity,
    ),
    (
        "art-trees/offsets-db-data_issuances.csv",
        "Credits Verified",
        Quantity,
    ),
    (
        "art-trees/offsets-db-data_issuances.csv",
        "Program Country",
        Country,
    ),
    (
        "art-trees/offsets-db-data_projects.csv",
        "Status",
        Project(RegistryId::ART),
    ),
    (
        "art-trees/offsets-db-data_projects.csv",
        "Initial Crediting Period Start Date",
        MF,
    ),
    (
        "art-trees/offsets-db-data_projects.csv",
        "Program Country",
        Country,
    ),
    ("art-trees/offsets-db-data_retirements.csv", "Vintage", Year),
    (
        "art-trees/offsets-db-data_retirements.csv",
        "Quantity of Credits",
        Quantity,
    ),
    (
        "art-trees/offsets-db-data_retirements.csv",
        "Status Effective",
        MF,
    ),
    (
        "art-trees/offsets-db-data_retirements.csv",
        "Program Country",
        Country,
    ),
    (
        "art-trees/offsets-db-data_retirements.csv",
        "Date Approved",
        MF,
    ),
    // BioCarbon.
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/amount",
        Quantity,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/active",
        Quantity,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/outof",
        Quantity,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/dropouts",
        Quantity,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/sold",
        Quantity,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/initial_vintage",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/final_vintage",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/created_at",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/date_issue",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/year",
        Year,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/country",
        Country,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/destination",
        Unit(RegistryId::BIOCARBON),
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-retreats-page1.json",
        "data/created_at",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-retreats-page1.json",
        "data/sold",
        Quantity,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-retreats-page1.json",
        "data/destination",
        Unit(RegistryId::BIOCARBON),
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-cancellations.json",
        "*/data/amount",
        Quantity,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-cancellations.json",
        "*/data/initial_vintage",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-cancellations.json",
        "*/data/final_vintage",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-cancellations.json",
        "*/data/cancellation_date",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-cancellations.json",
        "*/data/year",
        Year,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/country",
        Country,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/country_iso",
        Country,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/status",
        Project(RegistryId::BIOCARBON),
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/quantification_period_start",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/quantification_period_end",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/verified_reductions",
        Quantity,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/created_at",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/acceptance_date",
        DF,
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/methodologies/code",
        Method(RegistryId::BIOCARBON),
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-projects-page1.json",
        "data/methodologies/name",
        Method(RegistryId::BIOCARBON),
    ),
    // CARB.
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Reporting Period Start Date",
        MF,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Reporting Period End Date",
        MF,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Vintage",
        Year,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "ARB Offset Credits Issued",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Forest Buffer Account Contribution",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Issuance Date",
        MF,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Date Invalidation Period Reduced",
        MF,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Start of Invalidation Timeframe",
        MF,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Invalidated or Canceled",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Buffer Pool Retired",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Retired for Intentional Reversal",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Retired Voluntarily",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Retired 1st Compliance Period (CA)",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Retired 2nd Compliance Period (CA)",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Retired 3rd Compliance Period (CA)",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Retired 4th Compliance Period (CA)",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Retired 5th Compliance Period (CA)",
        Quantity,
    ),
    (
        "carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv",
        "Retired for Compliance in Quebec",
        Quantity,
    ),
    // Cercarbono.
    (
        "cercarbono/offsets-db-data_issuances.csv",
        "issued_quantity",
        Quantity,
    ),
    (
        "cercarbono/offsets-db-data_issuances.csv",
        "issuance_date",
        DF,
    ),
    ("cercarbono/offsets-db-data_issuances.csv", "year", Year),
    (
        "cercarbono/offsets-db-data_issuances.csv",
        "vintage_of_credits",
        Period,
    ),
    (
        "cercarbono/offsets-db-data_issuances.csv",
        "vintage_of_credits",
        Vintage,
    ),
    (
        "cercarbono/offsets-db-data_issuances.csv",
        "global_goals",
        PyLiteral,
    ),
    (
        "cercarbono/offsets-db-data_issuances.csv",
        "elegible",
        PyLiteral,
    ),
    (
        "cercarbono/offsets-db-data_projects-first12.csv",
        "stage",
        Project(RegistryId::CERCARBONO),
    ),
    (
        "cercarbono/offsets-db-data_projects-first12.csv",
        "quantification_method",
        Method(RegistryId::CERCARBONO),
    ),
    (
        "cercarbono/offsets-db-data_projects-first12.csv",
        "locations",
        PyLocations,
    ),
    (
        "cercarbono/offsets-db-data_projects-first12.csv",
        "serials",
        PyLiteral,
    ),
    (
        "cercarbono/offsets-db-data_projects-first12.csv",
        "annualEstimated",
        Quantity,
    ),
    (
        "cercarbono/offsets-db-data_retirements.csv",
        "vintage",
        Year,
    ),
    ("cercarbono/offsets-db-data_retirements.csv", "date", DF),
    (
        "cercarbono/offsets-db-data_retirements.csv",
        "quantity",
        Quantity,
    ),
    (
        "cercarbono/offsets-db-data_retirements.csv",
        "from",
        Quantity,
    ),
    ("cercarbono/offsets-db-data_retirements.csv", "to", Quantity),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-retirements.json",
        "retirements/date",
        DF,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-retirements.json",
        "retirements/vintage",
        Vintage,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-retirements.json",
        "retirements/quantity",
        Quantity,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-retirements.json",
        "retirements/country_final_user",
        Country,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-retirements.json",
        "retirements/methodologies/description",
        Method(RegistryId::CERCARBONO),
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-projects.json",
        "projects/location",
        Country,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-projects.json",
        "projects/projectStage",
        Project(RegistryId::CERCARBONO),
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-projects.json",
        "projects/vintage",
        Year,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-projects.json",
        "projects/methodology/description",
        Method(RegistryId::CERCARBONO),
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail.json",
        "project/projectsStage",
        Project(RegistryId::CERCARBONO),
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail.json",
        "project/date",
        DF,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail.json",
        "project/periodEnd",
        DF,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail.json",
        "project/accreditationPeriod",
        Period,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail.json",
        "project/projectsFirms/dateSignature",
        DF,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail.json",
        "project/projectsCreditingPeriod/periodInit",
        DF,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail.json",
        "certificatedVerification/total",
        Quantity,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail-converted.json",
        "project/projectsStage",
        Project(RegistryId::CERCARBONO),
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail-converted.json",
        "project/accreditationPeriod",
        Period,
    ),
    (
        "cercarbono/rb-carbon-scraper_cercarbono-detail-converted.json",
        "certificatedVerification/total",
        Quantity,
    ),
    // Climate Action Reserve.
    (
        "climate-action-reserve/offsets-db-data_cancellations.csv",
        "Vintage",
        Year,
    ),
    (
        "climate-action-reserve/offsets-db-data_cancellations.csv",
        "Quantity of Offset Credits",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_cancellations.csv",
        "Status Effective",
        MF,
    ),
    (
        "climate-action-reserve/offsets-db-data_cancellations.csv",
        "Protocol and Version",
        Method(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/offsets-db-data_cancellations.csv",
        "Project Site Country",
        Country,
    ),
    (
        "climate-action-reserve/offsets-db-data_cancellations.csv",
        "Cancellation Reason",
        Tx(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Date Issued",
        MF,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Vintage",
        Year,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Total Offset Credits Issued",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Offset Credits Currently in Reserve Buffer Pool",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Offset Credits Intended for Compliance Buffer Pool",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Offset Credits Converted to VCUs",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Canceled for Compliance",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Canceled",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Project Site Country",
        Country,
    ),
    (
        "climate-action-reserve/offsets-db-data_issuances.csv",
        "Protocol and Version",
        Method(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "Status",
        Project(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "Compliance Program Status",
        Project(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "ARB Project Status",
        Project(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "WA ECO Project Status",
        Project(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "Project Site Country",
        Country,
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "Total Number of Offset Credits Registered",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "Project Listed Date",
        MF,
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "Project Registered Date",
        MF,
    ),
    (
        "climate-action-reserve/offsets-db-data_retirements.csv",
        "Vintage",
        Year,
    ),
    (
        "climate-action-reserve/offsets-db-data_retirements.csv",
        "Quantity of Offset Credits",
        Quantity,
    ),
    (
        "climate-action-reserve/offsets-db-data_retirements.csv",
        "Status Effective",
        MF,
    ),
    (
        "climate-action-reserve/offsets-db-data_retirements.csv",
        "Protocol and Version",
        Method(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/offsets-db-data_retirements.csv",
        "Project Site Country",
        Country,
    ),
    (
        "climate-action-reserve/rb-carbon-scraper_car-projects.csv",
        "Status",
        Project(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/rb-carbon-scraper_car-projects.csv",
        "Compliance Program Status",
        Project(RegistryId::CAR),
    ),
    (
        "climate-action-reserve/rb-carbon-scraper_car-projects.csv",
        "Project Site Country",
        Country,
    ),
    (
        "climate-action-reserve/rb-carbon-scraper_car-projects.csv",
        "Total Number of Offset Credits Registered",
        Quantity,
    ),
    (
        "climate-action-reserve/rb-carbon-scraper_car-projects.csv",
        "Project Listed Date",
        MF,
    ),
    (
        "climate-action-reserve/rb-carbon-scraper_car-projects.csv",
        "Project Registered Date",
        MF,
    ),
    // Gold Standard.
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Vintage",
        Year,
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Credit Status",
        Tx(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Credit Status",
        Unit(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Quantity",
        Quantity,
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Country",
        Country,
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Methodology",
        Method(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Issuance Date",
        DF,
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Monitoring Period Start",
        DF,
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Monitoring Period End",
        DF,
    ),
    (
        "gold-standard/offsets-db-data_projects.csv",
        "Status",
        Project(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/offsets-db-data_projects.csv",
        "Country",
        Country,
    ),
    (
        "gold-standard/offsets-db-data_projects.csv",
        "Estimated Annual Credits",
        Quantity,
    ),
    (
        "gold-standard/offsets-db-data_projects.csv",
        "Methodology",
        Method(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Vintage",
        Year,
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Credit Status",
        Tx(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Credit Status",
        Unit(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Quantity",
        Quantity,
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Country",
        Country,
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Methodology",
        Method(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Issuance Date",
        DF,
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Retirement Date",
        DF,
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Monitoring Period Start",
        DF,
    ),
    (
        "gold-standard/offsets-db-data_retirements.csv",
        "Monitoring Period End",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "certified_date",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "monitoring_period_start_date",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "monitoring_period_end_date",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "created_at",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "vintage",
        Year,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "number_of_credits",
        Quantity,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "status",
        Tx(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "status",
        Unit(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "project/country",
        Country,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "project/country_code",
        Country,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "project/status",
        Project(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "project/methodology",
        Method(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "project/crediting_period_start_date",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-credits.json",
        "project/crediting_period_end_date",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-projects.json",
        "country",
        Country,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-projects.json",
        "country_code",
        Country,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-projects.json",
        "status",
        Project(RegistryId::GOLD_STANDARD),
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-projects.json",
        "crediting_period_start_date",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-projects.json",
        "crediting_period_end_date",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-projects.json",
        "created_at",
        DF,
    ),
    (
        "gold-standard/rb-carbon-scraper_gs-projects.json",
        "estimated_annual_credits",
        Quantity,
    ),
    // Isometric.
    ("isometric/offsets-db-data_issuances.csv", "issued_at", DF),
    (
        "isometric/offsets-db-data_issuances.csv",
        "supplier_credit_batch_size_total.credits",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_issuances.csv",
        "supplier_credit_batch_size_total.credit_kgs",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_issuances.csv",
        "buffer_pool_credit_batch_size_total.credits",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_issuances.csv",
        "buffer_pool_credit_batch_size_total.credit_kgs",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_issuances.csv",
        "credit_batch_size_total.credits",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_issuances.csv",
        "credit_batch_size_total.credit_kgs",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_issuances.csv",
        "supplier.location.country_code",
        Country,
    ),
    (
        "isometric/offsets-db-data_issuances.csv",
        "supplier.location.country_name",
        Country,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "status",
        Project(RegistryId::ISOMETRIC),
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "country_code",
        Country,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "location.country_code",
        Country,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "location.country_name",
        Country,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "supplier.location.country_code",
        Country,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "supplier.location.country_name",
        Country,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "crediting_period_start",
        DF,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "crediting_period_end",
        DF,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "issued_credits_total.credits",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "issued_credits_total.credit_kgs",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "retired_credits_total.credits",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "retired_credits_total.credit_kgs",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_projects.csv",
        "protocol_slug",
        Method(RegistryId::ISOMETRIC),
    ),
    (
        "isometric/offsets-db-data_retirements.csv",
        "retired_at",
        DF,
    ),
    (
        "isometric/offsets-db-data_retirements.csv",
        "purposes",
        PyList,
    ),
    (
        "isometric/offsets-db-data_retirements.csv",
        "credit_batch_size_total.credits",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_retirements.csv",
        "credit_batch_size_total.credit_kgs",
        Quantity,
    ),
    (
        "isometric/offsets-db-data_retirements.csv",
        "sequestered_on",
        DF,
    ),
    (
        "isometric/offsets-db-data_retirements.csv",
        "sequestered_on",
        Vintage,
    ),
    // Puro.earth.
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "completedOn",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "volume",
        Quantity,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "type",
        Tx(RegistryId::PURO),
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "transactionAdditionalLabels/type",
        Unit(RegistryId::PURO),
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "bundles/volume",
        Quantity,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "bundles/vintage",
        Year,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "bundles/productionStartDate",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "bundles/productionEndDate",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "bundles/issuanceDate",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "bundles/methodologyCode",
        Method(RegistryId::PURO),
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-retirements.json",
        "completedOn",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-retirements.json",
        "volume",
        Quantity,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-retirements.json",
        "type",
        Tx(RegistryId::PURO),
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-retirements.json",
        "retirementDetails/consumptionPeriodStartDate",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-retirements.json",
        "retirementDetails/consumptionPeriodEndDate",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-retirements.json",
        "retirementDetails/countryOfConsumption",
        Country,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-retirements.json",
        "bundles/volume",
        Quantity,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-retirements.json",
        "bundles/vintage",
        Year,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-projects.json",
        "countryCode",
        Country,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-projects.json",
        "creditingPeriodStart",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-projects.json",
        "creditingPeriodEnd",
        DF,
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-projects.json",
        "methodologyCode",
        Method(RegistryId::PURO),
    ),
    // Toucan.
    (
        "toucan/toucan-sdk_README_tco2-token-example.json",
        "projectVintage/name",
        Year,
    ),
    // Verra.
    (
        "verra/offsets-db-data_projects.csv",
        "Status",
        Project(RegistryId::VERRA),
    ),
    (
        "verra/offsets-db-data_projects.csv",
        "Country/Area",
        Country,
    ),
    (
        "verra/offsets-db-data_projects.csv",
        "Estimated Annual Emission Reductions",
        Quantity,
    ),
    (
        "verra/offsets-db-data_projects.csv",
        "Methodology",
        Method(RegistryId::VERRA),
    ),
    (
        "verra/offsets-db-data_projects.csv",
        "Project Registration Date",
        DF,
    ),
    (
        "verra/offsets-db-data_projects.csv",
        "Crediting Period Start Date",
        DF,
    ),
    (
        "verra/offsets-db-data_projects.csv",
        "Crediting Period End Date",
        DF,
    ),
    (
        "verra/offsets-db-data_transactions.csv",
        "Issuance Date",
        DF,
    ),
    (
        "verra/offsets-db-data_transactions.csv",
        "Vintage Start",
        DF,
    ),
    ("verra/offsets-db-data_transactions.csv", "Vintage End", DF),
    (
        "verra/offsets-db-data_transactions.csv",
        "Retirement/Cancellation Date",
        DF,
    ),
    (
        "verra/offsets-db-data_transactions.csv",
        "Country/Area",
        Country,
    ),
    (
        "verra/offsets-db-data_transactions.csv",
        "Methodology",
        Method(RegistryId::VERRA),
    ),
    (
        "verra/offsets-db-data_transactions.csv",
        "Total Vintage Quantity",
        Quantity,
    ),
    (
        "verra/offsets-db-data_transactions.csv",
        "Quantity Issued",
        Quantity,
    ),
    (
        "verra/offsets-db-data_transactions.csv",
        "Serial Number",
        VerraSerial,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/issueDate",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/issuanceRequestedDate",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/periodStartDate",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/periodEndDate",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/retired_date",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/cancellation_date",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/monitoring_period_start",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/monitoring_period_end",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/creditingPeriodDurationStartDate",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/creditingPeriodDurationEndDate",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/modifiedDate",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/esUpdatedOn",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/submissionDate",
        DF,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/vintage",
        Vintage,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/holdingQuantity",
        Quantity,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/block_start",
        Quantity,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/block_end",
        Quantity,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/countryName",
        Country,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/methodologies",
        Method(RegistryId::VERRA),
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/serialNo",
        VerraSerial,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*/entities/serial_no",
        VerraSerial,
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*issuances*/entities/stateCode",
        Unit(RegistryId::VERRA),
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*cancellations*/entities/status",
        Unit(RegistryId::VERRA),
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*cancellations*/entities/trading_name",
        Tx(RegistryId::VERRA),
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*project*/entities/status",
        Project(RegistryId::VERRA),
    ),
    (
        "verra/rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
        "*project*/entities/stateCode",
        Project(RegistryId::VERRA),
    ),
];

/// Values in the fixtures that do not normalize, and why: `(file, field, value, reason)`.
const KNOWN_BAD: &[(&str, &str, &str, &str)] = &[
    (
        "american-carbon-registry/offsets-db-data_projects.csv",
        "Compliance Program Status (ARB or Ecology)",
        "Not ARB or Ecology Eligible",
        "an eligibility statement, not a project status",
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "Compliance Program Status",
        "Not ARB or WA ECO Eligible",
        "an eligibility statement, not a project status",
    ),
    (
        "climate-action-reserve/rb-carbon-scraper_car-projects.csv",
        "Compliance Program Status",
        "Not ARB or WA ECO Eligible",
        "an eligibility statement, not a project status",
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "ARB Project Status",
        "Not ARB Eligible",
        "an eligibility statement, not a project status",
    ),
    (
        "climate-action-reserve/offsets-db-data_projects.csv",
        "WA ECO Project Status",
        "Not WA Eligible",
        "an eligibility statement, not a project status",
    ),
    (
        "cercarbono/offsets-db-data_projects-first12.csv",
        "stage",
        "Not assigned",
        "EcoRegistry's placeholder for a project with no stage yet",
    ),
    (
        "cercarbono/offsets-db-data_projects-first12.csv",
        "quantification_method",
        "Not defined",
        "EcoRegistry's placeholder for a missing methodology",
    ),
    (
        "gold-standard/offsets-db-data_issuances.csv",
        "Methodology",
        "Not provided",
        "Gold Standard's placeholder for a missing methodology",
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-carbon-credits.json",
        "data/destination",
        "Impuesto",
        "the credits' destination (Colombian carbon tax), not a unit status",
    ),
    (
        "biocarbon/rb-carbon-scraper_biocarbon-retreats-page1.json",
        "data/destination",
        "tax",
        "a retirement purpose (Colombian carbon tax), not a unit status",
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "transactionAdditionalLabels/type",
        "CORC",
        "a credit-type label beside the withdrawal labels, not a unit status",
    ),
    (
        "puro-earth/rb-carbon-scraper_puro-issuances.json",
        "transactionAdditionalLabels/type",
        "CORC100+",
        "a credit-type label beside the withdrawal labels, not a unit status",
    ),
];

/// Collects the scalar values at a key path; `null` is a missing value and yields nothing.
fn json_values(value: &Value, path: &[&str], out: &mut Vec<String>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| json_values(v, path, out)),
        Value::Object(map) if !path.is_empty() => {
            let seg = path[0];
            for (k, v) in map {
                let hit = if seg == "*" {
                    true
                } else if let Some(inner) = seg.strip_prefix('*').and_then(|s| s.strip_suffix('*'))
                {
                    k.contains(inner)
                } else {
                    k == seg
                };
                if hit {
                    json_values(v, &path[1..], out);
                }
            }
        }
        Value::String(s) if path.is_empty() => out.push(s.clone()),
        Value::Number(n) if path.is_empty() => out.push(n.to_string()),
        Value::Bool(b) if path.is_empty() => out.push(b.to_string()),
        _ => {}
    }
}

fn values(file: &str, field: &str) -> Vec<String> {
    let bytes = read_fixture(file);
    if file.ends_with(".csv") {
        let mut rows = read_csv(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let col = rows
            .headers()
            .find(&[field])
            .unwrap_or_else(|| panic!("{file}: no column `{field}`"));
        rows.by_ref()
            .map(|r| {
                let r = r.unwrap_or_else(|e| panic!("{file}: {e}"));
                r.get(col).unwrap_or_default().to_owned()
            })
            .collect()
    } else {
        let json: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let path: Vec<&str> = field.split('/').collect();
        let mut out = Vec::new();
        json_values(&json, &path, &mut out);
        out
    }
}

/// `Err(reason)` when the value does not normalize.
fn check(kind: Kind, raw: &str) -> Result<(), String> {
    let v = raw.trim();
    match kind {
        Date(order) => parse_date(v, order).map(|_| ()).map_err(|e| e.to_string()),
        Year => parse_year(v).map(|_| ()).map_err(|e| e.to_string()),
        Vintage => parse_vintage(v).map(|_| ()).map_err(|e| e.to_string()),
        Period => parse_date_range(v, DateOrder::DayFirst)
            .map(|_| ())
            .map_err(|e| e.to_string()),
        Quantity => parse_quantity(v).map(|_| ()).map_err(|e| e.to_string()),
        Country => country_alpha2(v)
            .map(|_| ())
            .ok_or_else(|| "unknown country".to_owned()),
        Tx(r) => (transaction_type(r, v) != TransactionType::Unknown)
            .then_some(())
            .ok_or_else(|| "unknown transaction type".to_owned()),
        Unit(r) => (unit_status(r, v) != UnitStatus::Unknown)
            .then_some(())
            .ok_or_else(|| "unknown unit status".to_owned()),
        Project(r) => (project_status(r, v) != ProjectStatus::Unknown)
            .then_some(())
            .ok_or_else(|| "unknown project status".to_owned()),
        Method(r) => {
            let ms = parse_methodologies(r, v);
            if ms.is_empty() || ms.iter().any(|m| m.code.is_none() || m.program.is_none()) {
                Err(format!("no program/code in {ms:?}"))
            } else {
                Ok(())
            }
        }
        PyList => parse_py_str_list(v).map(|_| ()).map_err(|e| e.to_string()),
        PyLiteral => parse_py_literal(v).map(|_| ()).map_err(|e| e.to_string()),
        PyLocations => {
            let parsed = parse_py_literal(v).map_err(|e| e.to_string())?;
            let mut countries = Vec::new();
            json_values(&parsed, &["country"], &mut countries);
            match countries.iter().find(|c| country_alpha2(c).is_none()) {
                Some(bad) => Err(format!("unknown country `{bad}`")),
                None if countries.is_empty() => Err("no country in the locations".to_owned()),
                None => Ok(()),
            }
        }
        VerraSerial => {
            let parts: Vec<&str> = v.split('-').collect();
            let n = parts.len();
            if n < 4 {
                return Err("too few fields for a VCU serial".to_owned());
            }
            parse_compact_dmy(parts[n - 3]).map_err(|e| e.to_string())?;
            parse_compact_dmy(parts[n - 2]).map_err(|e| e.to_string())?;
            Ok(())
        }
    }
}

/// Whether a blank value is simply missing for this kind (as opposed to a value to normalize).
fn is_blank(raw: &str) -> bool {
    carbonmesh_normalize::clean_text(raw).is_none()
}

#[test]
fn every_fixture_value_normalizes_or_is_documented() {
    let mut failures = Vec::new();
    let mut used_known_bad = BTreeSet::new();
    let mut checked = 0usize;
    for &(file, field, kind) in SPECS {
        let vals = values(file, field);
        assert!(!vals.is_empty(), "{file}: `{field}` has no values");
        for raw in vals {
            if is_blank(&raw) {
                continue;
            }
            checked += 1;
            if let Err(reason) = check(kind, &raw) {
                if let Some(i) = KNOWN_BAD
                    .iter()
                    .position(|(f, k, v, _)| *f == file && *k == field && *v == raw.trim())
                {
                    used_known_bad.insert(i);
                } else {
                    failures.push(format!("{file} / {field} / {kind:?}: `{raw}`: {reason}"));
                }
            }
        }
    }
    failures.sort();
    failures.dedup();
    assert!(
        failures.is_empty(),
        "{} fixture values did not normalize:\n{}",
        failures.len(),
        failures.join("\n")
    );
    let unused: Vec<_> = KNOWN_BAD
        .iter()
        .enumerate()
        .filter(|(i, _)| !used_known_bad.contains(i))
        .map(|(_, k)| k)
        .collect();
    assert!(
        unused.is_empty(),
        "documented bad values no longer seen: {unused:?}"
    );
    assert!(checked > 5000, "only {checked} values checked");
}

#[test]
fn every_fixture_csv_reads_without_row_errors() {
    let expected_rows = [
        (
            "american-carbon-registry/offsets-db-data_cancellations.csv",
            35,
        ),
        ("american-carbon-registry/offsets-db-data_issuances.csv", 70),
        ("american-carbon-registry/offsets-db-data_projects.csv", 35),
        (
            "american-carbon-registry/offsets-db-data_retirements.csv",
            70,
        ),
        ("art-trees/offsets-db-data_cancellations.csv", 3),
        ("art-trees/offsets-db-data_issuances.csv", 11),
        ("art-trees/offsets-db-data_projects.csv", 28),
        ("art-trees/offsets-db-data_retirements.csv", 8),
        ("carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv", 70),
        ("cercarbono/offsets-db-data_issuances.csv", 70),
        ("cercarbono/offsets-db-data_projects-first12.csv", 12),
        ("cercarbono/offsets-db-data_retirements.csv", 70),
        (
            "climate-action-reserve/offsets-db-data_cancellations.csv",
            35,
        ),
        ("climate-action-reserve/offsets-db-data_issuances.csv", 70),
        ("climate-action-reserve/offsets-db-data_projects.csv", 35),
        ("climate-action-reserve/offsets-db-data_retirements.csv", 70),
        (
            "climate-action-reserve/rb-carbon-scraper_car-projects.csv",
            60,
        ),
        ("gold-standard/offsets-db-data_issuances.csv", 70),
        ("gold-standard/offsets-db-data_projects.csv", 35),
        ("gold-standard/offsets-db-data_retirements.csv", 70),
        ("isometric/offsets-db-data_issuances.csv", 70),
        ("isometric/offsets-db-data_projects.csv", 35),
        ("isometric/offsets-db-data_retirements.csv", 70),
        ("verra/offsets-db-data_projects.csv", 35),
        ("verra/offsets-db-data_transactions.csv", 140),
    ];
    for (file, want) in expected_rows {
        let bytes = read_fixture(file);
        let rows = read_csv(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        let width = rows.headers().len();
        let mut n = 0;
        for row in rows {
            let row = row.unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(row.fields.len(), width, "{file} line {}", row.line);
            n += 1;
        }
        assert_eq!(n, want, "{file}");
    }
}

#[test]
fn gold_standard_notes_keep_their_newlines_and_line_numbers_advance() {
    let bytes = read_fixture("gold-standard/offsets-db-data_retirements.csv");
    let rows = read_csv(&bytes).expect("header");
    let note = rows.headers().find(&["Note"]).expect("Note column");
    let records: Vec<_> = rows.map(|r| r.expect("row")).collect();
    assert!(records.iter().any(|r| r.fields[note].contains('\n')));
    // A multi-line note pushes the next record's line number past one line per row.
    let last = records.last().expect("rows");
    assert!(last.line > records.len() as u64 + 1);
}

#[test]
fn double_spaced_headers_are_found() {
    for (file, name) in [
        (
            "american-carbon-registry/offsets-db-data_cancellations.csv",
            "Status Effective (GMT)",
        ),
        ("art-trees/offsets-db-data_projects.csv", "Program Country"),
        (
            "american-carbon-registry/offsets-db-data_projects.csv",
            "Total Number of Credits Registered",
        ),
    ] {
        let bytes = read_fixture(file);
        let rows = read_csv(&bytes).expect("header");
        assert!(rows.headers().find(&[name]).is_some(), "{file}: {name}");
    }
}

#[test]
fn isometric_kilograms_match_tonnes() {
    let file = "isometric/offsets-db-data_issuances.csv";
    let bytes = read_fixture(file);
    let rows = read_csv(&bytes).expect("header");
    let h = rows.headers().clone();
    let pairs = [
        (
            "credit_batch_size_total.credits",
            "credit_batch_size_total.credit_kgs",
        ),
        (
            "supplier_credit_batch_size_total.credits",
            "supplier_credit_batch_size_total.credit_kgs",
        ),
        (
            "buffer_pool_credit_batch_size_total.credits",
            "buffer_pool_credit_batch_size_total.credit_kgs",
        ),
    ];
    let cols: Vec<(usize, usize)> = pairs
        .iter()
        .map(|(t, k)| (h.find(&[t]).expect("tonnes"), h.find(&[k]).expect("kg")))
        .collect();
    let mut compared = 0;
    for row in rows {
        let row = row.expect("row");
        for &(t, k) in &cols {
            let (Some(tonnes), Some(kg)) = (row.get_clean(t), row.get_clean(k)) else {
                continue;
            };
            let tonnes = parse_quantity(&tonnes).expect("tonnes");
            let kg = parse_quantity(&kg).expect("kg");
            assert_eq!(kg_to_tonnes(kg), tonnes, "line {}", row.line);
            compared += 1;
        }
    }
    assert!(compared > 100);
}

#[test]
fn known_fixture_values_map_as_documented() {
    assert_eq!(
        country_alpha2("CONGO, THE DEMOCRATIC REPUBLIC OF THE"),
        Some("CD")
    );
    assert_eq!(country_alpha2("Turquía"), Some("TR"));
    assert_eq!(country_alpha2("United States of America"), Some("US"));
    assert_eq!(
        transaction_type(RegistryId::CAR, "WA ECO"),
        TransactionType::Conversion
    );
    assert_eq!(
        transaction_type(RegistryId::ACR, "Convert to Ecology offset credits"),
        TransactionType::Conversion
    );
    assert_eq!(
        transaction_type(RegistryId::ACR, "COMPENSATION_FOR_INTENTIONAL_REVERSAL"),
        TransactionType::Cancellation
    );
    assert_eq!(
        transaction_type(RegistryId::VERRA, "Cancel/Export - 8294"),
        TransactionType::Conversion
    );
    assert_eq!(
        transaction_type(RegistryId::GOLD_STANDARD, "Canceled"),
        TransactionType::Cancellation
    );
    assert_eq!(unit_status(RegistryId::ACR, "ISSUED"), UnitStatus::Active);
    assert_eq!(
        unit_status(RegistryId::PURO, "FULLY_WITHDRAWN"),
        UnitStatus::Withdrawn
    );
    assert_eq!(
        project_status(RegistryId::ISOMETRIC, "validation_unsuccessful"),
        ProjectStatus::Rejected
    );
    assert_eq!(
        project_status(RegistryId::CAR, "Transitioned"),
        ProjectStatus::Transitioned
    );
    assert_eq!(
        project_status(RegistryId::GOLD_STANDARD, "GOLD_STANDARD_CERTIFIED_PROJECT"),
        ProjectStatus::Verified
    );
    assert_eq!(
        project_status(RegistryId::VERRA, "Under validation"),
        ProjectStatus::UnderDevelopment
    );
}
