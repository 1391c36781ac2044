//! The feeds the simulator publishes: one per served route, each with its registry and rows.

use carbonmesh_model::RegistryId;

use crate::ledger::{Source, UnitState};

/// What kind of data a caller wants from a registry (see [`Feed::find`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// Projects in the registry's JSON API (Verra Platts, Gold Standard, ACR GreenTrace) or,
    /// where the registry only has a CSV (CAR), its CSV.
    Projects,
    /// Projects as a CSV export (Verra).
    ProjectsCsv,
    /// Every credit block in its current state as a CSV export (Verra VCUs).
    Transactions,
    /// Issuance events (Verra, CAR, ARB) or held holdings (ACR `ISSUED`).
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
}

impl Feed {
    /// Every feed.
    pub const ALL: [Feed; 17] = [
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
    ];

    /// The registry publishing the feed.
    pub fn registry(self) -> RegistryId {
        use Feed::*;
        match self {
            VerraTransactions | VerraProjectsCsv | VerraIssuances | VerraRetirements
            | VerraCancellations | VerraProjects => RegistryId::Verra,
            GoldStandardCredits | GoldStandardProjects => RegistryId::GoldStandard,
            AcrIssued | AcrRetired | AcrCanceled | AcrProjects => RegistryId::Acr,
            CarProjects | CarIssuances | CarRetirements | CarCancellations => RegistryId::Car,
            ArbIssuances => RegistryId::Arb,
        }
    }

    /// The feed serving `kind` for `registry`, if the simulator has one.
    pub fn find(registry: RegistryId, kind: FeedKind) -> Option<Feed> {
        use FeedKind as K;
        let feed = match (registry, kind) {
            (RegistryId::Verra, K::Transactions) => Feed::VerraTransactions,
            (RegistryId::Verra, K::ProjectsCsv) => Feed::VerraProjectsCsv,
            (RegistryId::Verra, K::Issuances) => Feed::VerraIssuances,
            (RegistryId::Verra, K::Retirements) => Feed::VerraRetirements,
            (RegistryId::Verra, K::Cancellations) => Feed::VerraCancellations,
            (RegistryId::Verra, K::Projects) => Feed::VerraProjects,
            (RegistryId::GoldStandard, K::Credits) => Feed::GoldStandardCredits,
            (RegistryId::GoldStandard, K::Projects) => Feed::GoldStandardProjects,
            (RegistryId::Acr, K::Issuances) => Feed::AcrIssued,
            (RegistryId::Acr, K::Retirements) => Feed::AcrRetired,
            (RegistryId::Acr, K::Cancellations) => Feed::AcrCanceled,
            (RegistryId::Acr, K::Projects) => Feed::AcrProjects,
            (RegistryId::Car, K::Projects) => Feed::CarProjects,
            (RegistryId::Car, K::Issuances) => Feed::CarIssuances,
            (RegistryId::Car, K::Retirements) => Feed::CarRetirements,
            (RegistryId::Car, K::Cancellations) => Feed::CarCancellations,
            (RegistryId::Arb, K::Issuances) => Feed::ArbIssuances,
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
            VerraProjectsCsv | VerraProjects | GoldStandardProjects | AcrProjects | CarProjects => {
                Content::Projects
            }
            ArbIssuances => Content::Arb,
            VerraTransactions => Content::Credits(Source::Pieces(ALL_PIECES)),
            GoldStandardCredits => Content::Credits(Source::Pieces(HELD_OR_RETIRED)),
            VerraIssuances | CarIssuances => Content::Credits(Source::Blocks),
            AcrIssued => Content::Credits(Source::Pieces(&[Held])),
            VerraRetirements | AcrRetired | CarRetirements => {
                Content::Credits(Source::Pieces(&[Retired]))
            }
            VerraCancellations | AcrCanceled | CarCancellations => {
                Content::Credits(Source::Pieces(&[Cancelled]))
            }
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
