//! Registry identifiers: the prefix of every project id and the name used on the CLI and in config.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A registry carbonmesh knows how to read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RegistryId {
    /// Verra Verified Carbon Standard registry.
    Verra,
    /// Gold Standard Impact Registry.
    GoldStandard,
    /// American Carbon Registry.
    Acr,
    /// Climate Action Reserve.
    Car,
    /// ART TREES registry (also holds FCPF units).
    Art,
    /// California Air Resources Board offset credit issuance table.
    Arb,
    /// Isometric registry.
    Isometric,
    /// Puro.earth registry.
    Puro,
    /// Cercarbono, published on the EcoRegistry platform.
    Cercarbono,
    /// BioCarbon Registry, published through Global CarbonTrace.
    Biocarbon,
    /// UNFCCC Clean Development Mechanism registry (Kyoto units).
    Cdm,
    /// A Climate Action Data Trust node.
    Cadt,
}

impl RegistryId {
    /// Every registry, in a stable order.
    pub const ALL: [RegistryId; 12] = [
        RegistryId::Verra,
        RegistryId::GoldStandard,
        RegistryId::Acr,
        RegistryId::Car,
        RegistryId::Art,
        RegistryId::Arb,
        RegistryId::Isometric,
        RegistryId::Puro,
        RegistryId::Cercarbono,
        RegistryId::Biocarbon,
        RegistryId::Cdm,
        RegistryId::Cadt,
    ];

    /// The id used on the CLI, in config and as the prefix of project ids.
    pub const fn as_str(self) -> &'static str {
        match self {
            RegistryId::Verra => "verra",
            RegistryId::GoldStandard => "gold-standard",
            RegistryId::Acr => "acr",
            RegistryId::Car => "car",
            RegistryId::Art => "art",
            RegistryId::Arb => "arb",
            RegistryId::Isometric => "isometric",
            RegistryId::Puro => "puro",
            RegistryId::Cercarbono => "cercarbono",
            RegistryId::Biocarbon => "biocarbon",
            RegistryId::Cdm => "cdm",
            RegistryId::Cadt => "cadt",
        }
    }

    /// The registry's name as people write it.
    pub const fn display_name(self) -> &'static str {
        match self {
            RegistryId::Verra => "Verra (VCS)",
            RegistryId::GoldStandard => "Gold Standard",
            RegistryId::Acr => "American Carbon Registry",
            RegistryId::Car => "Climate Action Reserve",
            RegistryId::Art => "ART TREES",
            RegistryId::Arb => "California ARB",
            RegistryId::Isometric => "Isometric",
            RegistryId::Puro => "Puro.earth",
            RegistryId::Cercarbono => "Cercarbono (EcoRegistry)",
            RegistryId::Biocarbon => "BioCarbon Registry",
            RegistryId::Cdm => "CDM Registry",
            RegistryId::Cadt => "CAD Trust",
        }
    }
}

impl fmt::Display for RegistryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registry id that carbonmesh does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown registry `{0}` (known: verra, gold-standard, acr, car, art, arb, isometric, puro, cercarbono, biocarbon, cdm, cadt)"
)]
pub struct UnknownRegistry(pub String);

impl FromStr for RegistryId {
    type Err = UnknownRegistry;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegistryId::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownRegistry(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_str_and_serde() {
        for r in RegistryId::ALL {
            assert_eq!(r.as_str().parse::<RegistryId>(), Ok(r));
            let json = serde_json::to_string(&r).expect("serialize");
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert!("vera".parse::<RegistryId>().is_err());
    }
}
