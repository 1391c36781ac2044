//! Injected double-counting cases and legitimate look-alikes, with the ground truth a matcher
//! is checked against.
//!
//! Cases that need a fresh namespace take a fresh batch (or, for Verra, a fresh slot of the
//! registry-wide counter past the last base block), so they never disturb the base data.
//! Cases about existing blocks use distinct base blocks spread over the ledger.

use std::collections::HashMap;

use carbonmesh_model::RegistryId;
use serde::{Deserialize, Serialize};

use crate::SimulatorError;
use crate::catalog::{self, ProjectInfo};
use crate::config::CaseCounts;
use crate::dataset::{ArbRow, LEDGER_REGISTRIES, arb_row_for};
use crate::formats::serial::{namespace, serial};
use crate::ledger::{CreditRow, Ledger, PIECES_PER_BLOCK, PieceRef, UnitState, not_future};
use crate::rng::{RecordRng, Stream};

/// The kind of an injected case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// Two issuance blocks overlap in one namespace (double issuance).
    OverlappingIssuance,
    /// The same units retired twice, with different beneficiaries (double use).
    DoubleRetirement,
    /// A retirement that no issuance covers.
    UncoveredRetirement,
    /// A serial whose unit count differs from the stated quantity.
    QuantityMismatch,
    /// One project registered in Verra and Gold Standard, issuing for overlapping vintages.
    CrossRegistryProject,
    /// A conversion to ARB with a matching ARB issuance: legitimate, must not be flagged.
    ConversionMatched,
    /// A conversion to ARB with no ARB issuance.
    ConversionWithoutTarget,
    /// A conversion to ARB whose ARB issuance has a different quantity.
    ConversionQuantityMismatch,
    /// A retirement bridged to a token: blockchain beneficiary, or Toucan/C3/Moss/KlimaDAO named.
    BridgeRetirement,
    /// A CAD Trust node retires units numbered in Verra's namespace that Verra still shows
    /// held (a shared-namespace double use).
    ForeignActiveUnits,
    /// A retirement inside its issuance block: legitimate, must not be flagged.
    ContainedRetirement,
    /// Two adjacent, non-overlapping ranges of one block: legitimate, must not be flagged.
    AdjacentRanges,
}

/// A record taking part in a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef {
    /// Registry publishing the record.
    pub registry: RegistryId,
    /// Its role: `issuance`, `held`, `retirement`, `cancellation`, `project`, `arb_issuance`.
    pub role: String,
    /// Its natural key: the serial for credit rows, the project id, or the CARB issuance id.
    pub key: String,
    /// The serial, for credit rows.
    pub serial: Option<String>,
    /// The quantity the record states.
    pub quantity: Option<u64>,
}

/// An inclusive range of unit numbers in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverlapRange {
    /// Namespace as `carbonmesh_serials` names it.
    pub namespace: String,
    /// First unit number.
    pub start: u64,
    /// Last unit number.
    pub end: u64,
}

/// One injected case and what a matcher should conclude about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InjectedCase {
    /// Stable id within the data set (`case-0003`).
    pub id: String,
    /// What was injected.
    pub kind: CaseKind,
    /// Whether a correct matcher raises an alert (false for legitimate look-alikes).
    pub expect_alert: bool,
    /// The registry the case sits in (for cross-registry cases, the second registry).
    pub registry: RegistryId,
    /// The records involved.
    pub records: Vec<RecordRef>,
    /// The overlapping unit range, for overlap cases.
    pub overlap: Option<OverlapRange>,
    /// The overlapping vintage years, for cross-registry project cases.
    pub vintage_overlap: Option<(i32, i32)>,
}

/// Replacement retirement text for one base piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RetirementText {
    pub beneficiary: String,
    pub reason: String,
    pub details: String,
}

/// Everything injected into a data set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Injections {
    pub rows: Vec<CreditRow>,
    pub projects: Vec<ProjectInfo>,
    pub arb_rows: Vec<ArbRow>,
    pub overrides: HashMap<(RegistryId, PieceRef), RetirementText>,
    pub cases: Vec<InjectedCase>,
}

/// The registries each kind is spread over, round robin.
fn registries_for(kind: CaseKind) -> &'static [RegistryId] {
    use CaseKind::*;
    match kind {
        CrossRegistryProject => &[RegistryId::GOLD_STANDARD],
        ConversionMatched | ConversionWithoutTarget | ConversionQuantityMismatch => {
            &[RegistryId::ACR, RegistryId::CAR]
        }
        BridgeRetirement => &[RegistryId::VERRA],
        ForeignActiveUnits => &[RegistryId::CADT],
        // Only a registry publishing every serialized issuance block makes a retirement
        // provably uncovered; Puro's issuance pages are that.
        UncoveredRetirement => &[RegistryId::PURO],
        _ => &LEDGER_REGISTRIES,
    }
}

/// The base ledger a case of this kind takes a block from, if any.
fn base_block_registry(kind: CaseKind, registry: RegistryId) -> Option<RegistryId> {
    use CaseKind::*;
    match kind {
        OverlappingIssuance | DoubleRetirement | BridgeRetirement | ContainedRetirement
        | AdjacentRanges => Some(registry),
        CrossRegistryProject | ForeignActiveUnits => Some(RegistryId::VERRA),
        _ => None,
    }
}

fn plan(counts: &CaseCounts) -> Vec<(CaseKind, RegistryId)> {
    use CaseKind::*;
    let kinds = [
        (OverlappingIssuance, counts.overlapping_issuance),
        (DoubleRetirement, counts.double_retirement),
        (UncoveredRetirement, counts.uncovered_retirement),
        (QuantityMismatch, counts.quantity_mismatch),
        (CrossRegistryProject, counts.cross_registry_project),
        (ConversionMatched, counts.conversion_matched),
        (ConversionWithoutTarget, counts.conversion_without_target),
        (
            ConversionQuantityMismatch,
            counts.conversion_quantity_mismatch,
        ),
        (BridgeRetirement, counts.bridge_retirement),
        (ForeignActiveUnits, counts.foreign_active_units),
        (ContainedRetirement, counts.contained_retirement),
        (AdjacentRanges, counts.adjacent_ranges),
    ];
    let mut out = Vec::new();
    for (kind, n) in kinds {
        let registries = registries_for(kind);
        for j in 0..n as usize {
            out.push((kind, registries[j % registries.len()]));
        }
    }
    out
}

/// Builds every injected row, override and ground-truth entry.
pub(crate) fn inject(
    seed: u64,
    counts: &CaseCounts,
    ledgers: &HashMap<RegistryId, Ledger>,
) -> Result<Injections, SimulatorError> {
    let plan = plan(counts);
    let mut base_cases: HashMap<RegistryId, u64> = HashMap::new();
    for (kind, registry) in &plan {
        if let Some(r) = base_block_registry(*kind, *registry) {
            *base_cases.entry(r).or_default() += 1;
        }
    }
    for (registry, n) in &base_cases {
        let blocks = ledgers.get(registry).map_or(0, |l| l.blocks);
        if blocks <= *n {
            return Err(SimulatorError::InvalidConfig(format!(
                "{registry} has {blocks} issuance blocks, too few for {n} injected cases"
            )));
        }
    }
    let mut builder = Builder {
        seed,
        ledgers,
        base_cases,
        base_used: HashMap::new(),
        fresh_used: HashMap::new(),
        out: Injections::default(),
    };
    for (kind, registry) in plan {
        builder.case(kind, registry)?;
    }
    Ok(builder.out)
}

struct Builder<'a> {
    seed: u64,
    ledgers: &'a HashMap<RegistryId, Ledger>,
    base_cases: HashMap<RegistryId, u64>,
    base_used: HashMap<RegistryId, u64>,
    fresh_used: HashMap<RegistryId, u64>,
    out: Injections,
}

/// Which serial-less role name a row's state has.
fn role(state: UnitState) -> &'static str {
    match state {
        UnitState::Issued => "issuance",
        UnitState::Held => "held",
        UnitState::Retired => "retirement",
        UnitState::Cancelled => "cancellation",
    }
}

impl Builder<'_> {
    fn ledger(&self, registry: RegistryId) -> Result<&Ledger, SimulatorError> {
        self.ledgers
            .get(&registry)
            .ok_or_else(|| SimulatorError::InvalidConfig(format!("no ledger for {registry}")))
    }

    fn project(&self, registry: RegistryId, index: u64) -> ProjectInfo {
        self.out
            .projects
            .iter()
            .find(|p| p.registry == registry && p.index == index)
            .cloned()
            .unwrap_or_else(|| catalog::project(self.seed, registry, index))
    }

    /// The next distinct base block of `registry`, spread evenly over the ledger.
    fn next_base_block(&mut self, registry: RegistryId) -> Result<u64, SimulatorError> {
        let blocks = self.ledger(registry)?.blocks;
        let n = self.base_cases.get(&registry).copied().unwrap_or(1);
        let used = self.base_used.entry(registry).or_default();
        let block = (*used + 1) * blocks / (n + 1);
        *used += 1;
        Ok(block.min(blocks - 1))
    }

    /// A fresh issuance block past the base ledger: its own batch and, for Verra, its own
    /// counter slot, so nothing else in the data set touches its units.
    fn fresh_block(
        &mut self,
        registry: RegistryId,
        compliance: bool,
    ) -> Result<CreditRow, SimulatorError> {
        let ledger = self.ledger(registry)?.clone();
        let used = self.fresh_used.entry(registry).or_default();
        let slot = ledger.blocks + *used;
        *used += 1;
        // Borrow a base block's dates and sizes, then move it to the fresh slot.
        let mut row = ledger.block(slot % ledger.blocks);
        let mut rng = RecordRng::new(self.seed, slot, Stream::Case, *used);
        let quantity = rng.between(40, 4_000);
        row.batch = ledger.layout.first_batch + slot;
        // Counted down from 999, clear of the base blocks' numbers within their projects.
        row.sequence = 999 - (*used - 1) % 499;
        row.start = ledger.layout.slot_start(slot);
        row.end = row.start + quantity - 1;
        row.quantity = quantity;
        row.block_quantity = quantity;
        row.product = crate::ledger::Product::Standard;
        row.compliance = compliance;
        if matches!(registry, RegistryId::ACR | RegistryId::CAR) {
            // Compliance blocks belong to compliance (odd) projects, the others to even ones.
            let pairs = (ledger.projects / 2).max(1);
            row.project = (row.project / 2 % pairs) * 2 + u64::from(compliance);
        }
        Ok(row)
    }

    fn reference(&self, row: &CreditRow) -> RecordRef {
        let project = self.project(row.registry, row.project);
        let s = serial(row, &project);
        RecordRef {
            registry: row.registry,
            role: role(row.state).to_string(),
            key: s.clone(),
            serial: Some(s),
            quantity: Some(row.quantity),
        }
    }

    fn overlap(&self, row: &CreditRow, start: u64, end: u64) -> Option<OverlapRange> {
        let project = self.project(row.registry, row.project);
        Some(OverlapRange {
            namespace: namespace(row, &project),
            start,
            end,
        })
    }

    fn push_case(
        &mut self,
        kind: CaseKind,
        registry: RegistryId,
        records: Vec<RecordRef>,
        overlap: Option<OverlapRange>,
        vintage_overlap: Option<(i32, i32)>,
    ) {
        let expect_alert = !matches!(
            kind,
            CaseKind::ConversionMatched | CaseKind::ContainedRetirement | CaseKind::AdjacentRanges
        );
        let id = format!("case-{:04}", self.out.cases.len());
        self.out.cases.push(InjectedCase {
            id,
            kind,
            expect_alert,
            registry,
            records,
            overlap,
            vintage_overlap,
        });
    }

    fn case(&mut self, kind: CaseKind, registry: RegistryId) -> Result<(), SimulatorError> {
        let n = self.out.cases.len() as u64;
        let mut rng = RecordRng::new(self.seed, 0xca5e, Stream::Case, n);
        match kind {
            CaseKind::OverlappingIssuance => {
                let b = self.next_base_block(registry)?;
                let block = self.ledger(registry)?.block(b);
                let half = block.quantity / 2;
                let mut twin = block.clone();
                if registry == RegistryId::VERRA {
                    // A second batch on the registry-wide counter reusing half the units.
                    twin.batch = 9_000_000 + n;
                }
                twin.start = block.start + half;
                twin.end = twin.start + block.quantity - 1;
                let overlap = self.overlap(&block, twin.start, block.end);
                let records = vec![self.reference(&block), self.reference(&twin)];
                self.out.rows.push(twin);
                self.push_case(kind, registry, records, overlap, None);
            }
            CaseKind::DoubleRetirement => {
                let b = self.next_base_block(registry)?;
                let ledger = self.ledger(registry)?;
                let first = ledger.piece(PieceRef { block: b, piece: 0 });
                let mut second = first.clone();
                if registry == RegistryId::VERRA {
                    // Another batch number on the registry-wide counter: same units, new serial.
                    second.batch = 9_500_000 + n;
                } else if first.count() >= 2 {
                    // Batch registries: a sub-range, so the serial string differs.
                    second.start += 1;
                }
                second.quantity = second.count();
                second.beneficiary = "Second Claimant Holdings".to_string();
                second.details = format!("Retired on behalf of Second Claimant Holdings ({n})");
                second.event_on = first
                    .event_on
                    .map(|d| not_future(d + chrono::Days::new(45)));
                let overlap = self.overlap(&first, second.start, second.end);
                let records = vec![self.reference(&first), self.reference(&second)];
                self.out.rows.push(second);
                self.push_case(kind, registry, records, overlap, None);
            }
            CaseKind::UncoveredRetirement => {
                let mut row = self.fresh_block(registry, false)?;
                row.state = UnitState::Retired;
                row.event_on = Some(not_future(row.issued_on + chrono::Days::new(10)));
                row.beneficiary = "Uncovered Retirement Ltd".to_string();
                row.reason = "Environmental Benefit".to_string();
                let overlap = self.overlap(&row, row.start, row.end);
                let records = vec![self.reference(&row)];
                self.out.rows.push(row);
                self.push_case(kind, registry, records, overlap, None);
            }
            CaseKind::ForeignActiveUnits => {
                let b = self.next_base_block(RegistryId::VERRA)?;
                let verra = self.ledger(RegistryId::VERRA)?;
                // The last piece of every block stays held.
                let held = verra.piece(PieceRef {
                    block: b,
                    piece: PIECES_PER_BLOCK - 1,
                });
                let mut row = self.fresh_block(RegistryId::CADT, false)?;
                row.state = UnitState::Retired;
                row.event_on = Some(not_future(held.issued_on + chrono::Days::new(30)));
                row.beneficiary = "National Climate Fund".to_string();
                row.reason = "Retired for NDC accounting".to_string();
                row.start = held.start;
                row.end = held.end;
                row.quantity = held.count();
                row.block_quantity = row.quantity;
                row.vintage_start = held.vintage_start;
                row.vintage_end = held.vintage_end;
                row.mirrors = Some(RegistryId::VERRA);
                let overlap = self.overlap(&held, held.start, held.end);
                let records = vec![self.reference(&row), self.reference(&held)];
                self.out.rows.push(row);
                self.push_case(kind, registry, records, overlap, None);
            }
            CaseKind::QuantityMismatch => {
                let mut row = self.fresh_block(registry, false)?;
                row.quantity = row.count() + rng.between(1, 50);
                let records = vec![self.reference(&row)];
                self.out.rows.push(row);
                self.push_case(kind, registry, records, None, None);
            }
            CaseKind::CrossRegistryProject => {
                let b = self.next_base_block(RegistryId::VERRA)?;
                let verra_block = self.ledger(RegistryId::VERRA)?.block(b);
                let verra_project = self.project(RegistryId::VERRA, verra_block.project);
                let gs_base = self.ledger(RegistryId::GOLD_STANDARD)?.projects;
                let index = gs_base
                    + self
                        .out
                        .projects
                        .iter()
                        .filter(|p| p.registry == RegistryId::GOLD_STANDARD)
                        .count() as u64;
                let mut twin = catalog::project(self.seed, RegistryId::GOLD_STANDARD, index);
                twin.name = verra_project.name.clone();
                twin.developer = verra_project.developer.clone();
                twin.country = verra_project.country;
                self.out.projects.push(twin.clone());
                let mut gs_block = self.fresh_block(RegistryId::GOLD_STANDARD, false)?;
                gs_block.project = index;
                gs_block.vintage_start = verra_block.vintage_start;
                gs_block.vintage_end = verra_block.vintage_end;
                let year = verra_block.vintage();
                let records = vec![
                    RecordRef {
                        registry: RegistryId::VERRA,
                        role: "project".to_string(),
                        key: verra_project.registry_id(),
                        serial: None,
                        quantity: None,
                    },
                    self.reference(&verra_block),
                    RecordRef {
                        registry: RegistryId::GOLD_STANDARD,
                        role: "project".to_string(),
                        key: twin.registry_id(),
                        serial: None,
                        quantity: None,
                    },
                    self.reference(&gs_block),
                ];
                self.out.rows.push(gs_block);
                self.push_case(
                    kind,
                    RegistryId::GOLD_STANDARD,
                    records,
                    None,
                    Some((year, year)),
                );
            }
            CaseKind::ConversionMatched
            | CaseKind::ConversionWithoutTarget
            | CaseKind::ConversionQuantityMismatch => {
                let mut issuance = self.fresh_block(registry, true)?;
                issuance.event_only = true;
                let mut cancellation = issuance.clone();
                cancellation.state = UnitState::Cancelled;
                cancellation.event_only = false;
                cancellation.event_on =
                    Some(not_future(issuance.issued_on + chrono::Days::new(20)));
                cancellation.reason = match registry {
                    RegistryId::ACR => "Convert to ARB offset credits",
                    _ => "ARB",
                }
                .to_string();
                let mut records = vec![self.reference(&issuance), self.reference(&cancellation)];
                if kind != CaseKind::ConversionWithoutTarget {
                    let project = self.project(registry, cancellation.project);
                    // Sequence numbers past any base conversion keep issuance ids unique.
                    let mut arb = arb_row_for(&cancellation, project, 10_000 + n);
                    if kind == CaseKind::ConversionQuantityMismatch {
                        arb.quantity = cancellation.quantity - rng.between(1, 30);
                    }
                    records.push(RecordRef {
                        registry: RegistryId::ARB,
                        role: "arb_issuance".to_string(),
                        key: arb.issuance_id.clone(),
                        serial: None,
                        quantity: Some(arb.quantity),
                    });
                    self.out.arb_rows.push(arb);
                }
                self.out.rows.push(issuance);
                self.out.rows.push(cancellation);
                self.push_case(kind, registry, records, None, None);
            }
            CaseKind::BridgeRetirement => {
                let b = self.next_base_block(registry)?;
                let at = PieceRef { block: b, piece: 0 };
                let piece = self.ledger(registry)?.piece(at);
                let address = format!(
                    "0x{:016x}{:016x}{:08x}",
                    rng.next_u64(),
                    rng.next_u64(),
                    rng.next_u64() as u32
                );
                let text = match n % 4 {
                    0 => RetirementText {
                        beneficiary: address,
                        reason: "Other".to_string(),
                        details: format!("TOUCAN: batch NFT {}", rng.between(1, 99_999)),
                    },
                    1 => RetirementText {
                        beneficiary: "C3".to_string(),
                        reason: "Other".to_string(),
                        details: "C3T bridge to Polygon".to_string(),
                    },
                    2 => RetirementText {
                        beneficiary: "Moss Earth".to_string(),
                        reason: "Other".to_string(),
                        details: "MCO2 tokenization by Moss".to_string(),
                    },
                    _ => RetirementText {
                        beneficiary: address,
                        reason: "Other".to_string(),
                        details: "KlimaDAO treasury offset".to_string(),
                    },
                };
                self.out.overrides.insert((registry, at), text);
                let records = vec![self.reference(&piece)];
                self.push_case(kind, registry, records, None, None);
            }
            CaseKind::ContainedRetirement | CaseKind::AdjacentRanges => {
                let b = self.next_base_block(registry)?;
                let ledger = self.ledger(registry)?;
                let first = ledger.piece(PieceRef { block: b, piece: 0 });
                let other = if kind == CaseKind::ContainedRetirement {
                    ledger.block(b)
                } else {
                    ledger.piece(PieceRef { block: b, piece: 1 })
                };
                let records = vec![self.reference(&other), self.reference(&first)];
                self.push_case(kind, registry, records, None, None);
            }
        }
        Ok(())
    }
}
