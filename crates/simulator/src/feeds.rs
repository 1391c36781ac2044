//! The feeds the simulator publishes: one per served route, each with its registry and rows.

use carbonmesh_model::RegistryId;

use crate::ledger::{Source, UnitState};

/// What kind of data a caller wants from a registry (see [`Feed::find`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// Projects in the registry's JSON API (Verra Platts, Gold Standard, ACR and ART
    /// GreenTrace, Isometric, Cercarbono, BioCarbon, CAD Trust), its pages (Puro) or, where the
    /// registry only has a CSV (CAR), its CSV.
    Projects,
    /// Projects as a CSV export (Verra).
    ProjectsCsv,
    /// Every credit block in its current state: the Verra VCU CSV export, CAD Trust units.
    Transactions,
    /// Issuance events (Verra, CAR, ARB, Isometric, Puro, Cercarbono, BioCarbon) or held
    /// holdings (ACR and ART `ISSUED`).
    Issuances,
    /// Retirements.
    Retirements,
    /// Cancellations.
    Cancellations,
    /// Credit blocks in their current state (Gold Standard `/credits`).
    Credits,
}

/// One served feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feed {
    /// Verra VCU export CSV (`uiapi/asset/asset/search?$format=csv`).
    VerraTransactions,
    /// Verra project export CSV (`uiapi/resource/resource/search?$format=csv`).
    VerraProjectsCsv,
    /// Verra Platts issuance entities.
    VerraIssuances,
    /// Verra Platts retirement entities.
    VerraRetirements,
    /// Verra Platts cancellation entities.
    VerraCancellations,
    /// Verra Platts project entities.
    VerraProjects,
    /// Gold Standard `/credits`.
    GoldStandardCredits,
    /// Gold Standard `/projects`.
    GoldStandardProjects,
    /// ACR GreenTrace holdings, `holdingStatus=ISSUED`.
    AcrIssued,
    /// ACR GreenTrace holdings, `holdingStatus=RETIRED`.
    AcrRetired,
    /// ACR GreenTrace holdings, `holdingStatus=CANCELED`.
    AcrCanceled,
    /// ACR GreenTrace project summaries.
    AcrProjects,
    /// CAR report 111, projects CSV.
    CarProjects,
    /// CAR report 112, issuances CSV.
    CarIssuances,
    /// CAR report 206, retirements CSV.
    CarRetirements,
    /// CAR report 308, cancellations CSV.
    CarCancellations,
    /// California ARB offset credit issuance table (sheet 3) as CSV.
    ArbIssuances,
    /// ART GreenTrace holdings, `holdingStatus=ISSUED`.
    ArtIssued,
    /// ART GreenTrace holdings, `holdingStatus=RETIRED`.
    ArtRetired,
    /// ART GreenTrace holdings, `holdingStatus=CANCELED`.
    ArtCanceled,
    /// ART GreenTrace project summaries.
    ArtProjects,
    /// Isometric Registry API `/registry/v0/projects`.
    IsometricProjects,
    /// Isometric Registry API `/registry/v0/issuances`.
    IsometricIssuances,
    /// Isometric Registry API `/registry/v0/retirements`.
    IsometricRetirements,
    /// Puro.earth `/projects` page.
    PuroProjects,
    /// Puro.earth `/issuances` page.
    PuroIssuances,
    /// Puro.earth `/retirements` page.
    PuroRetirements,
    /// EcoRegistry `platform/project/public-by-standard/cercarbono-co2`.
    CercarbonoProjects,
    /// EcoRegistry `platform/analytics/projects` (issued batches per project).
    CercarbonoIssuances,
    /// EcoRegistry `platform/analytics/get-retirements`.
    CercarbonoRetirements,
    /// Global CarbonTrace `/api/ghg/projects`.
    BiocarbonProjects,
    /// Global CarbonTrace `/api/ghg/carbon-credits` (issuance blocks).
    BiocarbonIssuances,
    /// Global CarbonTrace `/api/ghg/retreats`.
    BiocarbonRetirements,
    /// Global CarbonTrace `/api/ghg/carbon-credits/project/{id}/cancellations`, every project.
    BiocarbonCancellations,
    /// CAD Trust node `/v1/projects`.
    CadtProjects,
    /// CAD Trust node `/v1/units` (every unit block in its current state).
    CadtUnits,
}

impl Feed {
    /// Every feed.
    pub const ALL: [Feed; 36] = [
        Feed::VerraTransactions,
        Feed::VerraProjectsCsv,
        Feed::VerraIssuances,
        Feed::VerraRetirements,
        Feed::VerraCancellations,
        Feed::VerraProjects,
        Feed::GoldStandardCredits,
        Feed::GoldStandardProjects,
        Feed::AcrIssued,
        Feed::AcrRetired,
        Feed::AcrCanceled,
        Feed::AcrProjects,
        Feed::CarProjects,
        Feed::CarIssuances,
        Feed::CarRetirements,
        Feed::CarCancellations,
        Feed::ArbIssuances,
        Feed::ArtIssued,
        Feed::ArtRetired,
        Feed::ArtCanceled,
        Feed::ArtProjects,
        Feed::IsometricProjects,
        Feed::IsometricIssuances,
        Feed::IsometricRetirements,
        Feed::PuroProjects,
        Feed::PuroIssuances,
        Feed::PuroRetirements,
        Feed::CercarbonoProjects,
        Feed::CercarbonoIssuances,
        Feed::CercarbonoRetirements,
        Feed::BiocarbonProjects,
        Feed::BiocarbonIssuances,
        Feed::BiocarbonRetirements,
        Feed::BiocarbonCancellations,
        Feed::CadtProjects,
        Feed::CadtUnits,
    ];

    /// Whether the simulator serves any feed of `registry`.
    pub fn simulated(registry: RegistryId) -> bool {
        Feed::ALL.iter().any(|f| f.registry() == registry)
    }

    /// The registry publishing the feed.
    pub fn registry(self) -> RegistryId {
        use Feed::*;
        match self {
            VerraTransactions | VerraProjectsCsv | VerraIssuances | VerraRetirements
            | VerraCancellations | VerraProjects => RegistryId::VERRA,
            GoldStandardCredits | GoldStandardProjects => RegistryId::GOLD_STANDARD,
            AcrIssued | AcrRetired | AcrCanceled | AcrProjects => RegistryId::ACR,
            CarProjects | CarIssuances | CarRetirements | CarCancellations => RegistryId::CAR,
            ArbIssuances => RegistryId::ARB,
            ArtIssued | ArtRetired | ArtCanceled | ArtProjects => RegistryId::ART,
            IsometricProjects | IsometricIssuances | IsometricRetirements => RegistryId::ISOMETRIC,
            PuroProjects | PuroIssuances | PuroRetirements => RegistryId::PURO,
            CercarbonoProjects | CercarbonoIssuances | CercarbonoRetirements => {
                RegistryId::CERCARBONO
            }
            BiocarbonProjects
            | BiocarbonIssuances
            | BiocarbonRetirements
            | BiocarbonCancellations => RegistryId::BIOCARBON,
            CadtProjects | CadtUnits => RegistryId::CADT,
        }
    }

    /// The feed serving `kind` for `registry`, if the simulator has one.
    pub fn find(registry: RegistryId, kind: FeedKind) -> Option<Feed> {
        use FeedKind as K;
        let feed = match (registry, kind) {
            (RegistryId::VERRA, K::Transactions) => Feed::VerraTransactions,
            (RegistryId::VERRA, K::ProjectsCsv) => Feed::VerraProjectsCsv,
            (RegistryId::VERRA, K::Issuances) => Feed::VerraIssuances,
            (RegistryId::VERRA, K::Retirements) => Feed::VerraRetirements,
            (RegistryId::VERRA, K::Cancellations) => Feed::VerraCancellations,
            (RegistryId::VERRA, K::Projects) => Feed::VerraProjects,
            (RegistryId::GOLD_STANDARD, K::Credits) => Feed::GoldStandardCredits,
            (RegistryId::GOLD_STANDARD, K::Projects) => Feed::GoldStandardProjects,
            (RegistryId::ACR, K::Issuances) => Feed::AcrIssued,
            (RegistryId::ACR, K::Retirements) => Feed::AcrRetired,
            (RegistryId::ACR, K::Cancellations) => Feed::AcrCanceled,
            (RegistryId::ACR, K::Projects) => Feed::AcrProjects,
            (RegistryId::CAR, K::Projects) => Feed::CarProjects,
            (RegistryId::CAR, K::Issuances) => Feed::CarIssuances,
            (RegistryId::CAR, K::Retirements) => Feed::CarRetirements,
            (RegistryId::CAR, K::Cancellations) => Feed::CarCancellations,
            (RegistryId::ARB, K::Issuances) => Feed::ArbIssuances,
            (RegistryId::ART, K::Issuances) => Feed::ArtIssued,
            (RegistryId::ART, K::Retirements) => Feed::ArtRetired,
            (RegistryId::ART, K::Cancellations) => Feed::ArtCanceled,
            (RegistryId::ART, K::Projects) => Feed::ArtProjects,
            (RegistryId::ISOMETRIC, K::Projects) => Feed::IsometricProjects,
            (RegistryId::ISOMETRIC, K::Issuances) => Feed::IsometricIssuances,
            (RegistryId::ISOMETRIC, K::Retirements) => Feed::IsometricRetirements,
            (RegistryId::PURO, K::Projects) => Feed::PuroProjects,
            (RegistryId::PURO, K::Issuances) => Feed::PuroIssuances,
            (RegistryId::PURO, K::Retirements) => Feed::PuroRetirements,
            (RegistryId::CERCARBONO, K::Projects) => Feed::CercarbonoProjects,
            (RegistryId::CERCARBONO, K::Issuances) => Feed::CercarbonoIssuances,
            (RegistryId::CERCARBONO, K::Retirements) => Feed::CercarbonoRetirements,
            (RegistryId::BIOCARBON, K::Projects) => Feed::BiocarbonProjects,
            (RegistryId::BIOCARBON, K::Issuances) => Feed::BiocarbonIssuances,
            (RegistryId::BIOCARBON, K::Retirements) => Feed::BiocarbonRetirements,
            (RegistryId::BIOCARBON, K::Cancellations) => Feed::BiocarbonCancellations,
            (RegistryId::CADT, K::Projects) => Feed::CadtProjects,
            (RegistryId::CADT, K::Transactions) => Feed::CadtUnits,
            _ => return None,
        };
        Some(feed)
    }

    /// What rows the feed is made of.
    pub(crate) fn content(self) -> Content {
        use Feed::*;
        use UnitState::*;
        const ALL_PIECES: &[UnitState] = &[Held, Retired, Cancelled];
        const HELD_OR_RETIRED: &[UnitState] = &[Held, Retired];
        match self {
            VerraProjectsCsv | VerraProjects | GoldStandardProjects | AcrProjects | CarProjects
            | ArtProjects | IsometricProjects | PuroProjects | CercarbonoProjects
            | BiocarbonProjects | CadtProjects => Content::Projects,
            ArbIssuances => Content::Arb,
            VerraTransactions | CadtUnits => Content::Credits(Source::Pieces(ALL_PIECES)),
            GoldStandardCredits => Content::Credits(Source::Pieces(HELD_OR_RETIRED)),
            VerraIssuances | CarIssuances | IsometricIssuances | PuroIssuances
            | CercarbonoIssuances | BiocarbonIssuances => Content::Credits(Source::Blocks),
            AcrIssued | ArtIssued => Content::Credits(Source::Pieces(&[Held])),
            VerraRetirements
            | AcrRetired
            | CarRetirements
            | ArtRetired
            | IsometricRetirements
            | PuroRetirements
            | CercarbonoRetirements
            | BiocarbonRetirements => Content::Credits(Source::Pieces(&[Retired])),
            VerraCancellations
            | AcrCanceled
            | CarCancellations
            | ArtCanceled
            | BiocarbonCancellations => Content::Credits(Source::Pieces(&[Cancelled])),
        }
    }
}

/// The kind of rows in a feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    Projects,
    Credits(Source),
    Arb,
}
