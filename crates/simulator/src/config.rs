//! What to generate: the seed, how much per registry, and how many cases of each kind to inject.

use std::net::SocketAddr;

use carbonmesh_model::RegistryId;

use crate::faults::FaultPlan;

/// How much one registry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryScale {
    /// Projects in the catalog (at least 2).
    pub projects: u64,
    /// Issuance blocks; each is published as four current-state pieces.
    pub issuance_blocks: u64,
}

/// How much each registry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Verra.
    pub verra: RegistryScale,
    /// Gold Standard.
    pub gold_standard: RegistryScale,
    /// American Carbon Registry.
    pub acr: RegistryScale,
    /// Climate Action Reserve.
    pub car: RegistryScale,
    /// ART TREES (ICE GreenTrace tenant `ART_REGISTRY`).
    pub art: RegistryScale,
    /// Isometric (Registry API v0).
    pub isometric: RegistryScale,
    /// Puro.earth (registry pages).
    pub puro: RegistryScale,
    /// Cercarbono (EcoRegistry front-end API).
    pub cercarbono: RegistryScale,
    /// BioCarbon Registry (Global CarbonTrace API).
    pub biocarbon: RegistryScale,
    /// A CAD Trust node (v1 REST API).
    pub cadt: RegistryScale,
}

impl Scale {
    /// The same size for every registry.
    pub fn uniform(projects: u64, issuance_blocks: u64) -> Scale {
        let each = RegistryScale {
            projects,
            issuance_blocks,
        };
        Scale {
            verra: each,
            gold_standard: each,
            acr: each,
            car: each,
            art: each,
            isometric: each,
            puro: each,
            cercarbono: each,
            biocarbon: each,
            cadt: each,
        }
    }

    /// The same scale with `registry` set to `each` (registries not simulated are ignored).
    pub fn with(mut self, registry: RegistryId, each: RegistryScale) -> Scale {
        let slot = match registry {
            RegistryId::VERRA => &mut self.verra,
            RegistryId::GOLD_STANDARD => &mut self.gold_standard,
            RegistryId::ACR => &mut self.acr,
            RegistryId::CAR => &mut self.car,
            RegistryId::ART => &mut self.art,
            RegistryId::ISOMETRIC => &mut self.isometric,
            RegistryId::PURO => &mut self.puro,
            RegistryId::CERCARBONO => &mut self.cercarbono,
            RegistryId::BIOCARBON => &mut self.biocarbon,
            RegistryId::CADT => &mut self.cadt,
            _ => return self,
        };
        *slot = each;
        self
    }

    /// The size of one registry (`None` for registries not simulated).
    pub fn of(&self, registry: RegistryId) -> Option<RegistryScale> {
        match registry {
            RegistryId::VERRA => Some(self.verra),
            RegistryId::GOLD_STANDARD => Some(self.gold_standard),
            RegistryId::ACR => Some(self.acr),
            RegistryId::CAR => Some(self.car),
            RegistryId::ART => Some(self.art),
            RegistryId::ISOMETRIC => Some(self.isometric),
            RegistryId::PURO => Some(self.puro),
            RegistryId::CERCARBONO => Some(self.cercarbono),
            RegistryId::BIOCARBON => Some(self.biocarbon),
            RegistryId::CADT => Some(self.cadt),
            _ => None,
        }
    }
}

impl Default for Scale {
    /// A small data set for tests and the demo.
    fn default() -> Self {
        Scale::uniform(40, 200)
    }
}

/// How many cases of each kind to inject (see [`crate::CaseKind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaseCounts {
    /// Overlapping issuance blocks in one namespace.
    pub overlapping_issuance: u32,
    /// The same units retired twice.
    pub double_retirement: u32,
    /// A retirement no issuance covers.
    pub uncovered_retirement: u32,
    /// A serial range whose count differs from the stated quantity.
    pub quantity_mismatch: u32,
    /// One project registered in Verra and Gold Standard with overlapping vintages.
    pub cross_registry_project: u32,
    /// A conversion to ARB with a matching ARB issuance (legitimate).
    pub conversion_matched: u32,
    /// A conversion to ARB with no ARB issuance.
    pub conversion_without_target: u32,
    /// A conversion to ARB whose ARB issuance has a different quantity.
    pub conversion_quantity_mismatch: u32,
    /// A Verra retirement bridged to a token (blockchain beneficiary or bridge named).
    pub bridge_retirement: u32,
    /// A CAD Trust node retiring Verra units that Verra still shows active.
    pub foreign_active_units: u32,
    /// A retirement inside its issuance block (legitimate).
    pub contained_retirement: u32,
    /// Two adjacent, non-overlapping ranges (legitimate).
    pub adjacent_ranges: u32,
}

impl CaseCounts {
    /// `n` cases of every kind.
    pub fn each(n: u32) -> CaseCounts {
        CaseCounts {
            overlapping_issuance: n,
            double_retirement: n,
            uncovered_retirement: n,
            quantity_mismatch: n,
            cross_registry_project: n,
            conversion_matched: n,
            conversion_without_target: n,
            conversion_quantity_mismatch: n,
            bridge_retirement: n,
            foreign_active_units: n,
            contained_retirement: n,
            adjacent_ranges: n,
        }
    }
}

/// Everything the simulator needs to generate and serve a data set.
#[derive(Debug, Clone)]
pub struct SimulatorConfig {
    /// Seed of every random draw: same seed, same bytes.
    pub seed: u64,
    /// Records per registry.
    pub scale: Scale,
    /// Injected double-counting cases and look-alikes.
    pub cases: CaseCounts,
    /// Address to listen on; loopback with an ephemeral port by default.
    pub bind: SocketAddr,
    /// Faults active from the start (changeable later through the handle).
    pub faults: FaultPlan,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            seed: 1,
            scale: Scale::default(),
            cases: CaseCounts::each(1),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            faults: FaultPlan::default(),
        }
    }
}
