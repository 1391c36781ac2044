//! Projects: one deterministic project per (registry, index), with the attributes every
//! format needs (names, countries, types, methodologies, developers).

use carbonmesh_model::RegistryId;
use chrono::NaiveDate;

use crate::rng::{RecordRng, Stream};

/// A country as the registries print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, as in serials.
    pub code: &'static str,
    /// English name, as in CSV exports.
    pub name: &'static str,
    /// Verra's region name.
    pub region: &'static str,
    /// A state or province code used by APX-style serials.
    pub state_code: &'static str,
    /// The state or province name.
    pub state_name: &'static str,
}

const fn country(
    code: &'static str,
    name: &'static str,
    region: &'static str,
    state_code: &'static str,
    state_name: &'static str,
) -> Country {
    Country {
        code,
        name,
        region,
        state_code,
        state_name,
    }
}

const WORLD: &[Country] = &[
    country("ET", "Ethiopia", "Africa", "OR", "Oromia"),
    country("CN", "China", "Asia", "HE", "Henan"),
    country("BR", "Brazil", "Latin America", "PA", "Pará"),
    country("IN", "India", "Asia", "KA", "Karnataka"),
    country("KE", "Kenya", "Africa", "NA", "Nairobi"),
    country("RW", "Rwanda", "Africa", "KI", "Kigali"),
    country("CL", "Chile", "Latin America", "LR", "Los Ríos"),
    country("ID", "Indonesia", "Asia", "SS", "South Sumatra"),
    country("AR", "Argentina", "Latin America", "CB", "Córdoba"),
    country("UG", "Uganda", "Africa", "KM", "Kampala"),
    country(
        "US",
        "United States of America",
        "North America",
        "TX",
        "TEXAS",
    ),
    country("CA", "Canada", "North America", "QC", "Quebec"),
];

const NORTH_AMERICA: &[Country] = &[
    country(
        "US",
        "United States of America",
        "North America",
        "WV",
        "WEST VIRGINIA",
    ),
    country(
        "US",
        "United States of America",
        "North America",
        "CA",
        "CALIFORNIA",
    ),
    country(
        "US",
        "United States of America",
        "North America",
        "OH",
        "OHIO",
    ),
    country(
        "US",
        "United States of America",
        "North America",
        "KS",
        "KANSAS",
    ),
    country(
        "US",
        "United States of America",
        "North America",
        "AR",
        "ARKANSAS",
    ),
    country(
        "US",
        "United States of America",
        "North America",
        "IL",
        "ILLINOIS",
    ),
    country("MX", "Mexico", "Latin America", "QR", "QUINTANA ROO"),
];

/// A project type with the codes the serials and the ARB table use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectType {
    /// The type's name in exports.
    pub name: &'static str,
    /// The methodology or protocol.
    pub methodology: &'static str,
    /// Verra sectoral scope / Gold Standard type code / CAR type code printed in serials.
    pub code: u32,
    /// Two-letter ARB project family (`CAOD…`, `CAMM…`, `CAFR…`).
    pub arb_family: &'static str,
}

const fn ptype(
    name: &'static str,
    methodology: &'static str,
    code: u32,
    arb: &'static str,
) -> ProjectType {
    ProjectType {
        name,
        methodology,
        code,
        arb_family: arb,
    }
}

const VERRA_TYPES: &[ProjectType] = &[
    ptype(
        "Agriculture Forestry and Other Land Use",
        "VM0015",
        14,
        "FR",
    ),
    ptype(
        "Energy industries (renewable/non-renewable sources)",
        "ACM0002",
        1,
        "MM",
    ),
    ptype("Energy demand", "VMR0006; VM0050", 3, "OD"),
    ptype("Waste handling and disposal", "ACM0010", 13, "LS"),
];

const GOLD_STANDARD_TYPES: &[ProjectType] = &[
    ptype("Energy Efficiency - Domestic", "GS TPDDTEC v3.1", 16, "OD"),
    ptype(
        "Biogas - Heat",
        "GS Baseline and Monitoring Methodology Biodigester v1.",
        4,
        "LS",
    ),
    ptype("Wind", "ACM0002", 12, "MM"),
    ptype("Solar Thermal - Electricity", "AMS-I.D.", 2, "MM"),
    ptype("A/R", "GS A/R Requirements", 22, "FR"),
];

const ACR_TYPES: &[ProjectType] = &[
    ptype(
        "Forest Carbon",
        "Improved Forest Management (IFM) on Non-Federal U.S. Forestlands",
        6,
        "FR",
    ),
    ptype(
        "Ozone Depleting Substances",
        "ARB Compliance Offset Protocol: Destruction of U.S. Ozone Depleting Substances Banks",
        2,
        "OD",
    ),
    ptype(
        "Coal Mine Methane",
        "ARB Compliance Offset Protocol: Mine Methane Capture Projects",
        3,
        "MM",
    ),
    ptype(
        "Refrigerants",
        "Certified Reclaimed HFC Refrigerants",
        9,
        "OD",
    ),
];

const CAR_TYPES: &[ProjectType] = &[
    ptype(
        "Mine Methane Capture - ARB Compliance",
        "ARB Compliance Offset Protocol Mine Methane Capture, April 25, 2014",
        129,
        "MM",
    ),
    ptype(
        "Nitric Acid N2O- Tertiary Catalyst",
        "Version 3.0",
        31,
        "OD",
    ),
    ptype(
        "Improved Forest Management",
        "Forest Project Protocol Version 3.3",
        6,
        "FR",
    ),
    ptype(
        "Livestock - ARB Compliance",
        "ARB Compliance Offset Protocol Livestock Projects, November 14, 2014",
        105,
        "LS",
    ),
];

const LATIN_AMERICA: &[Country] = &[
    country("CO", "Colombia", "Latin America", "AN", "Antioquia"),
    country("PE", "Peru", "Latin America", "LO", "Loreto"),
    country("MX", "Mexico", "Latin America", "OA", "Oaxaca"),
    country("BR", "Brazil", "Latin America", "PA", "Pará"),
    country("CL", "Chile", "Latin America", "LR", "Los Ríos"),
    country("GT", "Guatemala", "Latin America", "PE", "Petén"),
];

const ART_TYPES: &[ProjectType] = &[
    ptype("Jurisdictional REDD+", "ART TREES Version 2.0", 14, "FR"),
    ptype("Jurisdictional HFLD", "ART TREES Version 2.0", 14, "FR"),
];

const REMOVAL_TYPES: &[ProjectType] = &[
    ptype("Biochar", "C03000000", 3, "FR"),
    ptype("Enhanced Rock Weathering", "C05000000", 5, "FR"),
    ptype("Wooden Building Elements", "C01000000", 1, "FR"),
];

const NATURE_TYPES: &[ProjectType] = &[
    ptype(
        "Agriculture Forestry and Other Land Use",
        "AR-ACM0003",
        14,
        "FR",
    ),
    ptype("Energy industries", "ACM0002", 1, "MM"),
    ptype("Waste handling and disposal", "AMS-III.H.", 13, "LS"),
];

const NAME_STEMS: &[&str] = &[
    "Highlands",
    "River Basin",
    "Valley",
    "Coastal Reserve",
    "Grassland",
    "Mine",
    "Hydropower Plant",
    "Cookstove Programme",
    "Biogas Recovery",
    "Wind Farm",
];

const DEVELOPERS: &[&str] = &[
    "Knowledge Integration Services Pte. Ltd.",
    "The Climate Trust",
    "Keyrock Environment, LLC",
    "BioLite Inc.",
    "Multiple Proponents",
    "Sierra Pacific Industries",
    "ClimeCo Corp",
    "A-Gas US Inc.",
];

/// One generated project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectInfo {
    /// The registry that lists the project.
    pub registry: RegistryId,
    /// The index the project was generated from (injected projects count on after the base).
    pub index: u64,
    /// The registry's numeric project id (`1340` → Verra `1340`, ACR `ACR1340`, GS `GS1340`).
    pub number: u64,
    /// Project name.
    pub name: String,
    /// Project developer / proponent.
    pub developer: String,
    /// Country and state.
    pub country: Country,
    /// Project type and methodology.
    pub project_type: ProjectType,
    /// Whether the project is under a California ARB compliance protocol.
    pub arb_compliance: bool,
    /// Registration date.
    pub registered_on: NaiveDate,
    /// Estimated annual credits.
    pub estimated_annual: u64,
}

impl ProjectInfo {
    /// The id as the registry prints it in its own project column.
    pub fn registry_id(&self) -> String {
        match self.registry {
            RegistryId::ACR => format!("ACR{}", self.number),
            RegistryId::CAR => format!("CAR{}", self.number),
            RegistryId::ART => format!("ART{}", self.number),
            RegistryId::CERCARBONO => format!("CDC-{}", self.number),
            RegistryId::ISOMETRIC => format!("prj_SIM{:08}", self.number),
            RegistryId::CADT => format!("5a1c0de0-0000-4000-8000-{:012x}", self.number),
            _ => self.number.to_string(),
        }
    }

    /// The CARB project id this project would carry in the ARB issuance table.
    pub fn arb_project_id(&self) -> String {
        // A registry digit keeps ids of equal project numbers in different registries apart.
        let digit = match self.registry {
            RegistryId::ACR => 1,
            RegistryId::CAR => 2,
            _ => 3,
        };
        format!("CA{}{digit}{}", self.project_type.arb_family, self.number)
    }
}

/// First project number per registry, chosen so ids look like the real ones.
pub(crate) fn first_project_number(registry: RegistryId) -> u64 {
    match registry {
        RegistryId::VERRA => 100,
        RegistryId::GOLD_STANDARD => 1000,
        RegistryId::ACR => 100,
        RegistryId::CAR => 1000,
        RegistryId::ART => 100,
        RegistryId::PURO => 100_000,
        RegistryId::ISOMETRIC => 1,
        RegistryId::CERCARBONO => 1,
        RegistryId::BIOCARBON => 1,
        RegistryId::CADT => 1,
        _ => 1,
    }
}

/// A stable small number per registry that keeps their random streams apart.
pub(crate) fn registry_tag(registry: RegistryId) -> u64 {
    RegistryId::WELL_KNOWN
        .iter()
        .position(|r| *r == registry)
        .map_or(99, |p| p as u64 + 1)
}

/// Whether project `index` of an ACR or CAR catalog is under an ARB protocol. Odd indices are,
/// so a compliance block can always find one in constant time.
pub(crate) fn is_compliance_index(registry: RegistryId, index: u64) -> bool {
    matches!(registry, RegistryId::ACR | RegistryId::CAR) && index % 2 == 1
}

/// Generates project `index` of `registry`.
pub(crate) fn project(seed: u64, registry: RegistryId, index: u64) -> ProjectInfo {
    let mut rng = RecordRng::new(seed, registry_tag(registry), Stream::Project, index);
    let arb_compliance = is_compliance_index(registry, index);
    let (countries, types): (&[Country], &[ProjectType]) = match registry {
        RegistryId::ACR => (NORTH_AMERICA, ACR_TYPES),
        RegistryId::CAR => (NORTH_AMERICA, CAR_TYPES),
        RegistryId::GOLD_STANDARD => (WORLD, GOLD_STANDARD_TYPES),
        RegistryId::ART => (LATIN_AMERICA, ART_TYPES),
        RegistryId::ISOMETRIC | RegistryId::PURO => (WORLD, REMOVAL_TYPES),
        RegistryId::CERCARBONO | RegistryId::BIOCARBON => (LATIN_AMERICA, NATURE_TYPES),
        RegistryId::CADT => (WORLD, NATURE_TYPES),
        _ => (WORLD, VERRA_TYPES),
    };
    let mut country = *rng.pick(countries);
    if arb_compliance {
        // ARB offsets come from US projects only.
        country = NORTH_AMERICA[(index / 2 % 6) as usize];
    }
    let project_type = *rng.pick(types);
    let stem = rng.pick(NAME_STEMS);
    let number = first_project_number(registry) + index;
    let name = format!(
        "{} {} {} Project {}",
        country.state_name,
        stem,
        project_type.name.split(' ').next().unwrap_or("Carbon"),
        number
    );
    let registered_on = NaiveDate::from_ymd_opt(
        2008 + rng.between(0, 17) as i32,
        rng.between(1, 12) as u32,
        rng.between(1, 28) as u32,
    )
    .unwrap_or_default();
    ProjectInfo {
        registry,
        index,
        number,
        name,
        developer: rng.pick(DEVELOPERS).to_string(),
        country,
        project_type,
        arb_compliance,
        registered_on,
        estimated_annual: rng.between(1_000, 2_000_000),
    }
}
