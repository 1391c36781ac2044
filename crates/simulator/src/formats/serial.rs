//! Serial numbers in each registry's grammar, and the namespace their units live in.

use std::fmt::Write as _;

use carbonmesh_model::RegistryId;
use chrono::NaiveDate;

use crate::catalog::ProjectInfo;
use crate::ledger::{CreditRow, Product};

/// `ddmmyyyy`, as Verra serials print vintage dates.
fn ddmmyyyy(d: NaiveDate) -> String {
    d.format("%d%m%Y").to_string()
}

/// Verra's issuer code (field 6): fixed per batch, as in real serials.
fn verra_issuer(batch: u64) -> u64 {
    100 + batch % 7900
}

/// CAR's project developer id (field 6 of a CAR serial).
fn car_developer(project: &ProjectInfo) -> u64 {
    100 + (project.index * 37) % 2000
}

/// The Kyoto CDM project reference of a Gold Standard CER block.
fn cdm_reference(project: &ProjectInfo) -> u64 {
    1000 + project.index % 9000
}

/// A version-4-shaped UUID derived from `kind` and two numbers (Puro transaction, bundle and
/// issuance ids; CAD Trust warehouse ids).
pub fn uuid(kind: u64, a: u64, b: u64) -> String {
    use crate::rng::mix64;
    let x = mix64(kind.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix64(a ^ mix64(b)));
    let y = mix64(x ^ 0x5bd1_e995);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        x >> 32,
        (x >> 16) & 0xffff,
        x & 0xfff,
        8 + (y >> 62),
        (y >> 48) & 0xfff,
        y & 0xffff_ffff_ffff
    )
}

/// The Puro.earth issuance UUID of a block (numbers restart in every issuance).
pub fn puro_issuance_id(row: &CreditRow) -> String {
    uuid(1, row.batch, 0)
}

/// The Isometric record id of a row: `iss_…` for an issuance, `ret_…` for a retirement.
pub fn isometric_id(row: &CreditRow) -> String {
    match row.state {
        crate::ledger::UnitState::Issued => format!("iss_SIM{:08}", row.batch),
        _ => format!("ret_SIM{:08}X{}", row.batch, row.start),
    }
}

/// The CAD Trust organisation whose units the simulated node publishes.
pub const CADT_ORG_UID: &str = "c4b0e5a2-6f1d-4e8a-9b3c-2d7f1a0e5b6c";

/// One bound of a CAD Trust block: the organisation's own numbering, restarting per batch
/// (`CMS-B000017-000000001`), or the bare unit number of the registry a block mirrors.
pub fn cadt_bound(row: &CreditRow, n: u64) -> String {
    match row.mirrors {
        Some(_) => n.to_string(),
        None => format!("CMS-B{:06}-{n:09}", row.batch),
    }
}

/// `YYMM` of a date, as BioCarbon serials print vintages.
fn yymm(d: NaiveDate) -> String {
    d.format("%y%m").to_string()
}

/// The serial of `row` in its registry's grammar.
pub fn serial(row: &CreditRow, project: &ProjectInfo) -> String {
    let cc = project.country.code;
    let vintage = row.vintage();
    let mut s = String::with_capacity(80);
    // Writing to a String cannot fail.
    let _ = match row.registry {
        RegistryId::VERRA => {
            let scope = if row.scopeless {
                String::new()
            } else {
                format!("{}-", project.project_type.code)
            };
            write!(
                s,
                "{}-{}-{}-VCS-VCU-{}-VER-{cc}-{scope}{}-{}-{}-{}",
                row.batch,
                row.start,
                row.end,
                verra_issuer(row.batch),
                project.number,
                ddmmyyyy(row.vintage_start),
                ddmmyyyy(row.vintage_end),
                u8::from(!row.certification.is_empty()),
            )
        }
        RegistryId::GOLD_STANDARD => match row.product {
            Product::KyotoCer => {
                let reference = cdm_reference(project);
                write!(
                    s,
                    "{cc}-5-{}-2-2-0-{reference} - {cc}-5-{}-2-2-0-{reference}",
                    row.start, row.end
                )
            }
            Product::Standard => write!(
                s,
                "GS1-1-{cc}-GS{}-{}-{vintage}-{}-{}-{}",
                project.number, project.project_type.code, row.batch, row.start, row.end
            ),
        },
        RegistryId::ACR => write!(
            s,
            "ACR-{cc}-{}-{vintage}-{}-{} to {}",
            project.number, row.batch, row.start, row.end
        ),
        RegistryId::ART => write!(
            s,
            "ART-{cc}-{}-{vintage}-{}-{} to {}",
            project.number, row.batch, row.start, row.end
        ),
        RegistryId::PURO => write!(
            s,
            "PURO_PR_CORC_{cc}_{}_{vintage}_{}_{}-{}",
            project.number,
            puro_issuance_id(row),
            row.start,
            row.end
        ),
        // A Cercarbono serial names the batch; positions travel beside it.
        RegistryId::CERCARBONO => {
            write!(s, "CDC_{}_1_{}_321_14_{vintage}", project.number, row.batch)
        }
        RegistryId::BIOCARBON => write!(
            s,
            "BCR-{cc}-{}-14-{:03}-2-{}-{}-{:07}-{:07}",
            project.number,
            row.sequence,
            yymm(row.vintage_start),
            yymm(row.vintage_end),
            row.start,
            row.end
        ),
        RegistryId::CADT => write!(
            s,
            "{}-{}",
            cadt_bound(row, row.start),
            cadt_bound(row, row.end)
        ),
        // Isometric publishes no serials: a record is known by its id.
        RegistryId::ISOMETRIC => write!(s, "{}", isometric_id(row)),
        _ => write!(
            s,
            "CAR-{}-{cc}-{}-{}-{}-{}-{vintage}-{}-{} to {}",
            if row.compliance { "ROC" } else { "1" },
            project.number,
            project.project_type.code,
            car_developer(project),
            project.country.state_code,
            row.batch,
            row.start,
            row.end
        ),
    };
    s
}

/// The namespace in which `row`'s unit numbers are unique, named as `carbonmesh_serials` names it.
pub fn namespace(row: &CreditRow, project: &ProjectInfo) -> String {
    let full = serial(row, project);
    match (row.mirrors.unwrap_or(row.registry), row.product) {
        (RegistryId::VERRA, _) => "verra".to_string(),
        (RegistryId::GOLD_STANDARD, Product::KyotoCer) => format!("cdm:{}-5", project.country.code),
        (RegistryId::GOLD_STANDARD, Product::Standard) => {
            // Drop the trailing `-start-end`.
            let cut = full.rsplitn(3, '-').nth(2).unwrap_or(&full);
            format!("gold-standard:{cut}")
        }
        (RegistryId::PURO, _) => format!("puro:{}", puro_issuance_id(row)),
        (RegistryId::CERCARBONO, _) => format!("cercarbono:{full}"),
        (RegistryId::ISOMETRIC, _) => format!("isometric:{full}"),
        (RegistryId::CADT, _) => format!("cadt:{CADT_ORG_UID}:CMS-B{:06}-", row.batch),
        (RegistryId::BIOCARBON, _) => {
            let cut = full.rsplitn(3, '-').nth(2).unwrap_or(&full);
            format!("biocarbon:{cut}")
        }
        (registry, _) => {
            let cut = full
                .rsplit_once('-')
                .map_or(full.as_str(), |(prefix, _)| prefix);
            format!("{}:{cut}", registry.as_str())
        }
    }
}
