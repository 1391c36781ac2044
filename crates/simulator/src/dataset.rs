//! The whole generated data set: base ledgers plus injected rows, addressable per feed and row
//! index in constant time, so any page of any feed streams without generating what precedes it.

use std::collections::HashMap;

use carbonmesh_model::RegistryId;
use chrono::NaiveDate;

use crate::SimulatorError;
use crate::cases::{self, InjectedCase, Injections};
use crate::catalog::{self, ProjectInfo};
use crate::config::SimulatorConfig;
use crate::feeds::{Content, Feed};
use crate::ledger::{
    CreditRow, Layout, Ledger, PIECES_PER_BLOCK, PieceRef, Source, UnitState,
    cancellation_goes_to_arb,
};

/// The registries injected cases are spread over; ARB rows are derived from their
/// cancellations.
pub(crate) const LEDGER_REGISTRIES: [RegistryId; 4] = [
    RegistryId::VERRA,
    RegistryId::GOLD_STANDARD,
    RegistryId::ACR,
    RegistryId::CAR,
];

/// Every registry with a credit ledger: the case registries, then those served with base data
/// only (no injected cases).
pub(crate) const SIMULATED_REGISTRIES: [RegistryId; 10] = [
    RegistryId::VERRA,
    RegistryId::GOLD_STANDARD,
    RegistryId::ACR,
    RegistryId::CAR,
    RegistryId::ART,
    RegistryId::ISOMETRIC,
    RegistryId::PURO,
    RegistryId::CERCARBONO,
    RegistryId::BIOCARBON,
    RegistryId::CADT,
];

/// Registries whose conversions to ARB appear in the ARB issuance table, in table order.
const ARB_SOURCES: [RegistryId; 3] = [RegistryId::ACR, RegistryId::CAR, RegistryId::VERRA];

/// One row of the California ARB offset credit issuance table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArbRow {
    /// The registry the credits were converted from.
    pub source_registry: RegistryId,
    /// The project in that registry.
    pub project: ProjectInfo,
    /// Vintage year.
    pub vintage: i32,
    /// Reporting period.
    pub period_start: NaiveDate,
    /// Reporting period end.
    pub period_end: NaiveDate,
    /// ARB offset credits issued.
    pub quantity: u64,
    /// Issuance date.
    pub issued_on: NaiveDate,
    /// CARB issuance id (`CAOD1107-A`).
    pub issuance_id: String,
}

/// One row of a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedRow {
    /// A project.
    Project(ProjectInfo),
    /// A credit row with its project.
    Credit(CreditRow, ProjectInfo),
    /// An ARB issuance table row.
    Arb(ArbRow),
}

/// Where a feed's rows come from: base rows with injected rows spread evenly among them.
#[derive(Debug, Clone)]
struct FeedIndex {
    base_len: u64,
    /// Cycle entries of a piece feed, computed once.
    entries: Vec<PieceRef>,
    /// Row positions of the injected rows, ascending.
    positions: Vec<u64>,
    /// The injected rows, in position order.
    injected: Vec<FeedRow>,
}

impl FeedIndex {
    fn new(base_len: u64, entries: Vec<PieceRef>, injected: Vec<FeedRow>) -> FeedIndex {
        let k = injected.len() as u64;
        let total = base_len + k;
        let positions = (0..k).map(|j| (j + 1) * total / (k + 1)).collect();
        FeedIndex {
            base_len,
            entries,
            positions,
            injected,
        }
    }

    fn len(&self) -> u64 {
        self.base_len + self.injected.len() as u64
    }

    /// Either the injected row at `i`, or the base index it maps to.
    fn locate(&self, i: u64) -> Result<&FeedRow, u64> {
        match self.positions.binary_search(&i) {
            Ok(j) => Ok(&self.injected[j]),
            Err(before) => Err(i - before as u64),
        }
    }
}

/// A deterministic data set for one seed and scale.
#[derive(Debug, Clone)]
pub struct Dataset {
    seed: u64,
    ledgers: HashMap<RegistryId, Ledger>,
    /// Per ARB source registry: ARB-bound cancellations and cycle entries of its cancellations.
    arb_sources: Vec<(RegistryId, u64, Vec<PieceRef>)>,
    feeds: HashMap<Feed, FeedIndex>,
    injections: Injections,
}

impl Dataset {
    /// Generates the data set described by `config` (only the injected rows are held in memory).
    pub fn new(config: &SimulatorConfig) -> Result<Dataset, SimulatorError> {
        let mut ledgers = HashMap::new();
        for registry in SIMULATED_REGISTRIES {
            let scale = config
                .scale
                .of(registry)
                .ok_or_else(|| SimulatorError::InvalidConfig(format!("no scale for {registry}")))?;
            if scale.projects < 2 || scale.issuance_blocks < 1 {
                return Err(SimulatorError::InvalidConfig(format!(
                    "{registry} needs at least 2 projects and 1 issuance block"
                )));
            }
            ledgers.insert(
                registry,
                Ledger {
                    registry,
                    seed: config.seed,
                    blocks: scale.issuance_blocks,
                    projects: scale.projects,
                    layout: Layout::for_registry(registry),
                },
            );
        }
        let injections = cases::inject(config.seed, &config.cases, &ledgers)?;
        let mut dataset = Dataset {
            seed: config.seed,
            arb_sources: Vec::new(),
            ledgers,
            feeds: HashMap::new(),
            injections,
        };
        for registry in ARB_SOURCES {
            let ledger = dataset.ledger(registry)?;
            let entries = ledger.cycle_entries(&[UnitState::Cancelled]);
            let cancellations = ledger.pieces_len(&entries);
            let to_arb = cancellations / 5 * 4 + (cancellations % 5).min(4);
            dataset.arb_sources.push((registry, to_arb, entries));
        }
        for feed in Feed::ALL {
            let index = dataset.build_index(feed)?;
            dataset.feeds.insert(feed, index);
        }
        Ok(dataset)
    }

    fn ledger(&self, registry: RegistryId) -> Result<&Ledger, SimulatorError> {
        self.ledgers
            .get(&registry)
            .ok_or_else(|| SimulatorError::InvalidConfig(format!("no ledger for {registry}")))
    }

    fn build_index(&self, feed: Feed) -> Result<FeedIndex, SimulatorError> {
        let registry = feed.registry();
        Ok(match feed.content() {
            Content::Projects => {
                let ledger = self.ledger(registry)?;
                let injected = self
                    .injections
                    .projects
                    .iter()
                    .filter(|p| p.registry == registry)
                    .cloned()
                    .map(FeedRow::Project)
                    .collect();
                FeedIndex::new(ledger.projects, Vec::new(), injected)
            }
            Content::Credits(source) => {
                let ledger = self.ledger(registry)?;
                let entries = match source {
                    Source::Pieces(states) => ledger.cycle_entries(states),
                    Source::Blocks => Vec::new(),
                };
                let base = ledger.len(source);
                let injected = self
                    .injections
                    .rows
                    .iter()
                    .filter(|r| r.registry == registry && source.accepts(r))
                    .map(|r| FeedRow::Credit(r.clone(), self.project(registry, r.project)))
                    .collect();
                FeedIndex::new(base, entries, injected)
            }
            Content::Arb => {
                let base = self.arb_sources.iter().map(|(_, n, _)| n).sum();
                let injected = self
                    .injections
                    .arb_rows
                    .iter()
                    .cloned()
                    .map(FeedRow::Arb)
                    .collect();
                FeedIndex::new(base, Vec::new(), injected)
            }
        })
    }

    /// The seed the data set was generated from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every injected case and legitimate look-alike, with what a matcher should conclude.
    pub fn ground_truth(&self) -> &[InjectedCase] {
        &self.injections.cases
    }

    /// Number of rows in `feed`.
    pub fn len(&self, feed: Feed) -> u64 {
        self.feeds.get(&feed).map_or(0, FeedIndex::len)
    }

    /// Whether `feed` has no rows.
    pub fn is_empty(&self, feed: Feed) -> bool {
        self.len(feed) == 0
    }

    /// Project `index` of `registry` (base or injected).
    pub fn project(&self, registry: RegistryId, index: u64) -> ProjectInfo {
        let base = self.ledgers.get(&registry).map_or(0, |l| l.projects);
        if index >= base
            && let Some(p) = self
                .injections
                .projects
                .iter()
                .find(|p| p.registry == registry && p.index == index)
        {
            return p.clone();
        }
        catalog::project(self.seed, registry, index)
    }

    /// Number of projects in `registry`'s base catalog.
    pub fn projects(&self, registry: RegistryId) -> u64 {
        self.ledgers.get(&registry).map_or(0, |l| l.projects)
    }

    /// Issuance block `b` of `registry` as one issuance event (base blocks only).
    pub fn block(&self, registry: RegistryId, b: u64) -> Option<CreditRow> {
        let ledger = self.ledgers.get(&registry)?;
        (b < ledger.blocks).then(|| ledger.block(b))
    }

    /// The base blocks of project `project`, for registries whose blocks go to their projects
    /// in turn (ART, Isometric, Puro, Cercarbono, BioCarbon, CAD Trust); empty for the others.
    pub fn blocks_of_project(
        &self,
        registry: RegistryId,
        project: u64,
    ) -> impl Iterator<Item = u64> + use<> {
        let blocks: Box<dyn Iterator<Item = u64>> = match self.ledgers.get(&registry) {
            Some(ledger) => Box::new(ledger.blocks_of_project(project)),
            None => Box::new(std::iter::empty()),
        };
        blocks
    }

    /// The cancelled pieces of project `project`'s blocks, in block order (round-robin
    /// ledgers only): what a per-project cancellation route serves.
    pub fn cancellations_of_project(&self, registry: RegistryId, project: u64) -> Vec<FeedRow> {
        let Some(ledger) = self.ledgers.get(&registry) else {
            return Vec::new();
        };
        let info = self.project(registry, project);
        ledger
            .blocks_of_project(project)
            .flat_map(|block| (0..PIECES_PER_BLOCK).map(move |piece| PieceRef { block, piece }))
            .filter(|at| ledger.piece_state(at.block, at.piece) == UnitState::Cancelled)
            .map(|at| FeedRow::Credit(ledger.piece(at), info.clone()))
            .collect()
    }

    /// What `feed` serves, as a connector keys it: project ids, or serials, sorted.
    pub fn served_keys(&self, feed: Feed) -> Vec<String> {
        let mut keys: Vec<String> = (0..self.len(feed))
            .filter_map(|i| match self.row(feed, i)? {
                FeedRow::Project(p) => Some(p.registry_id()),
                FeedRow::Credit(c, p) => Some(crate::formats::serial::serial(&c, &p)),
                FeedRow::Arb(_) => None,
            })
            .collect();
        keys.sort();
        keys
    }

    /// Row `i` of `feed`, or `None` past the end.
    pub fn row(&self, feed: Feed, i: u64) -> Option<FeedRow> {
        let index = self.feeds.get(&feed)?;
        if i >= index.len() {
            return None;
        }
        let base_index = match index.locate(i) {
            Ok(row) => return Some(row.clone()),
            Err(base_index) => base_index,
        };
        let registry = feed.registry();
        match feed.content() {
            Content::Projects => Some(FeedRow::Project(self.project(registry, base_index))),
            Content::Credits(source) => {
                let ledger = self.ledgers.get(&registry)?;
                let mut row = match source {
                    Source::Blocks => ledger.block(base_index),
                    Source::Pieces(_) => {
                        let at = ledger.piece_at_in(&index.entries, base_index);
                        let mut row = ledger.piece(at);
                        if let Some(text) = self.injections.overrides.get(&(registry, at)) {
                            row.beneficiary = text.beneficiary.clone();
                            row.reason = text.reason.clone();
                            row.details = text.details.clone();
                        }
                        row
                    }
                };
                row.registry = registry;
                let project = self.project(registry, row.project);
                Some(FeedRow::Credit(row, project))
            }
            Content::Arb => self.arb_row(base_index).map(FeedRow::Arb),
        }
    }

    /// Base row `n` of the ARB table: the n-th ARB-bound cancellation of ACR, then CAR, then Verra.
    fn arb_row(&self, mut n: u64) -> Option<ArbRow> {
        for (registry, count, entries) in &self.arb_sources {
            if n < *count {
                let cancellation = n / 4 * 5 + n % 4;
                debug_assert!(cancellation_goes_to_arb(cancellation));
                let ledger = self.ledgers.get(registry)?;
                let row = ledger.piece(ledger.piece_at_in(entries, cancellation));
                let project = self.project(*registry, row.project);
                return Some(arb_row_for(&row, project, cancellation));
            }
            n -= count;
        }
        None
    }
}

/// The ARB issuance that a conversion cancellation turns into.
pub(crate) fn arb_row_for(row: &CreditRow, project: ProjectInfo, sequence: u64) -> ArbRow {
    let carb_id = project.arb_project_id();
    ArbRow {
        source_registry: row.registry,
        vintage: row.vintage(),
        period_start: row.vintage_start,
        period_end: row.vintage_end,
        quantity: row.quantity,
        issued_on: crate::ledger::not_future(
            row.event_on.unwrap_or(row.issued_on) + chrono::Days::new(30),
        ),
        issuance_id: format!("{carb_id}-{}", letters(sequence)),
        project,
    }
}

/// `0 → A`, `25 → Z`, `26 → AA`: CARB's issuance suffixes.
fn letters(mut n: u64) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}
