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

/// The serial of `row` in its registry's grammar.
pub fn serial(row: &CreditRow, project: &ProjectInfo) -> String {
    let cc = project.country.code;
    let vintage = row.vintage();
    let mut s = String::with_capacity(80);
    // Writing to a String cannot fail.
    let _ = match row.registry {
        RegistryId::Verra => {
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
        RegistryId::GoldStandard => match row.product {
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
        RegistryId::Acr => write!(
            s,
            "ACR-{cc}-{}-{vintage}-{}-{} to {}",
            project.number, row.batch, row.start, row.end
        ),
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
    match (row.registry, row.product) {
        (RegistryId::Verra, _) => "verra".to_string(),
        (RegistryId::GoldStandard, Product::KyotoCer) => format!("cdm:{}-5", project.country.code),
        (RegistryId::GoldStandard, Product::Standard) => {
            // Drop the trailing `-start-end`.
            let cut = full.rsplitn(3, '-').nth(2).unwrap_or(&full);
            format!("gold-standard:{cut}")
        }
        (registry, _) => {
            let cut = full
                .rsplit_once('-')
                .map_or(full.as_str(), |(prefix, _)| prefix);
            format!("{}:{cut}", registry.as_str())
        }
    }
}
