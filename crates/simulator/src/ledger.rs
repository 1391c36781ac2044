//! Credit blocks: each issuance block is split into four contiguous, disjoint pieces whose
//! states follow a fixed cycle, so that any row of any feed is computed in constant time.
//!
//! Per block: pieces 0 and 1 are retired, piece 2 is retired or (once per cycle) cancelled,
//! piece 3 is the balance still held. This mirrors how registries publish a block in its
//! current state, split into sub-blocks as parts are retired.

use carbonmesh_model::RegistryId;
use chrono::{Datelike, NaiveDate};

use crate::catalog::{is_compliance_index, registry_tag};
use crate::rng::{RecordRng, Stream};

/// Pieces per issuance block.
pub(crate) const PIECES_PER_BLOCK: u64 = 4;

/// The state of a published credit row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitState {
    /// A whole issuance event.
    Issued,
    /// Units issued and still held (active).
    Held,
    /// Units retired.
    Retired,
    /// Units cancelled (conversions, exports, reversals).
    Cancelled,
}

/// Which rows a feed publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Source {
    /// One row per issuance event.
    Blocks,
    /// Current-state pieces whose state is in the list.
    Pieces(&'static [UnitState]),
}

impl Source {
    /// Whether an injected row of `state` belongs in this feed. An injected issuance shows
    /// as a held piece in piece feeds unless it is marked as an event only.
    pub(crate) fn accepts(self, row: &CreditRow) -> bool {
        match self {
            Source::Blocks => row.state == UnitState::Issued,
            Source::Pieces(states) => {
                let shown = if row.state == UnitState::Issued {
                    if row.event_only {
                        return false;
                    }
                    UnitState::Held
                } else {
                    row.state
                };
                states.contains(&shown)
            }
        }
    }
}

/// The product a Gold Standard block carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    /// The registry's own unit (VCU, GS VER, ACR ERT, CAR CRT/ROC).
    Standard,
    /// A CDM CER held in Gold Standard, with a Kyoto serial.
    KyotoCer,
}

/// One published credit row, with every field the formats need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditRow {
    /// Registry publishing the row.
    pub registry: RegistryId,
    /// State of the row.
    pub state: UnitState,
    /// Index of the project in the registry's catalog.
    pub project: u64,
    /// Issuance batch number (Verra batch, GS/ACR/CAR batch).
    pub batch: u64,
    /// The block's number among its project's issuances, 1 to 999 (the three-digit sequence
    /// field of BioCarbon serials).
    pub sequence: u64,
    /// Vintage period.
    pub vintage_start: NaiveDate,
    /// Vintage period end.
    pub vintage_end: NaiveDate,
    /// Issuance date.
    pub issued_on: NaiveDate,
    /// Retirement or cancellation date.
    pub event_on: Option<NaiveDate>,
    /// First unit number.
    pub start: u64,
    /// Last unit number.
    pub end: u64,
    /// Quantity the row states (equals `end - start + 1` unless a mismatch is injected).
    pub quantity: u64,
    /// Quantity of the whole issuance block the row belongs to.
    pub block_quantity: u64,
    /// Whether the block is an ARB-compliance (ROC / ARB-eligible) block.
    pub compliance: bool,
    /// Product.
    pub product: Product,
    /// Additional certification label ("" when none).
    pub certification: &'static str,
    /// Whether the serial uses Verra's 2026 form (no sectoral scope).
    pub scopeless: bool,
    /// Retirement beneficiary.
    pub beneficiary: String,
    /// Retirement or cancellation reason.
    pub reason: String,
    /// Retirement or cancellation details.
    pub details: String,
    /// An issuance that only appears in event feeds, never as a held piece.
    pub event_only: bool,
    /// For a CAD Trust unit block mirroring another registry's units: that registry, whose
    /// unit numbers the block's bounds are.
    pub mirrors: Option<RegistryId>,
}

impl CreditRow {
    /// Vintage year (the start year, as the serials print it).
    pub fn vintage(&self) -> i32 {
        self.vintage_start.year()
    }

    /// Units covered by the range.
    pub fn count(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// Layout constants of one registry's ledger.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Layout {
    /// Blocks per state cycle; the last block of each cycle has a cancelled piece.
    pub cycle: u64,
    /// Smallest and largest block quantity.
    pub min_quantity: u64,
    pub max_quantity: u64,
    /// First batch number.
    pub first_batch: u64,
    /// Whether unit numbers come from one registry-wide counter (Verra) or restart per batch.
    pub shared_counter: bool,
    /// Whether block `b` belongs to project `b % projects` (so a project's blocks are found
    /// without a scan, as per-project routes need) rather than to a drawn project.
    pub round_robin: bool,
}

/// Unit numbers reserved per block on a registry-wide counter (Verra).
pub(crate) const COUNTER_SLOT: u64 = 1_000_000;
/// First unit number on a registry-wide counter.
pub(crate) const COUNTER_BASE: u64 = 100_000_000;

impl Layout {
    pub(crate) fn for_registry(registry: RegistryId) -> Layout {
        match registry {
            RegistryId::VERRA => Layout {
                cycle: 16,
                min_quantity: 8,
                max_quantity: 300_000,
                first_batch: 10_000,
                shared_counter: true,
                round_robin: false,
            },
            RegistryId::GOLD_STANDARD => Layout {
                cycle: 16,
                min_quantity: 8,
                max_quantity: 60_000,
                first_batch: 20_000,
                shared_counter: false,
                round_robin: false,
            },
            RegistryId::ACR | RegistryId::CAR => Layout {
                cycle: 4,
                min_quantity: 8,
                max_quantity: 250_000,
                first_batch: 2_000,
                shared_counter: false,
                round_robin: false,
            },
            _ => Layout {
                cycle: 4,
                min_quantity: 8,
                max_quantity: 250_000,
                first_batch: 1,
                shared_counter: false,
                round_robin: true,
            },
        }
    }

    /// The first unit number of block (or fresh slot) `slot`.
    pub(crate) fn slot_start(&self, slot: u64) -> u64 {
        if self.shared_counter {
            COUNTER_BASE + slot * COUNTER_SLOT
        } else {
            1
        }
    }
}

/// One registry's issuance blocks and their pieces.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    pub registry: RegistryId,
    pub seed: u64,
    pub blocks: u64,
    pub projects: u64,
    pub layout: Layout,
}

/// A piece address: block and piece number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct PieceRef {
    pub block: u64,
    pub piece: u64,
}

impl Ledger {
    /// Whether block `b` is the cancelling block of its cycle.
    pub(crate) fn is_cancelling_block(&self, b: u64) -> bool {
        b % self.layout.cycle == self.layout.cycle - 1
    }

    /// The state of piece `p` of block `b`.
    pub(crate) fn piece_state(&self, b: u64, p: u64) -> UnitState {
        match p {
            0 | 1 => UnitState::Retired,
            2 if self.is_cancelling_block(b) => UnitState::Cancelled,
            2 => UnitState::Retired,
            _ => UnitState::Held,
        }
    }

    /// The blocks of project `project` (round-robin ledgers only), in order.
    pub(crate) fn blocks_of_project(&self, project: u64) -> impl Iterator<Item = u64> + use<> {
        let step = self.projects.max(1);
        let blocks = if self.layout.round_robin {
            self.blocks
        } else {
            0
        };
        (project..blocks).step_by(usize::try_from(step).unwrap_or(usize::MAX))
    }

    /// The pieces of one cycle whose state is in `states`, in block order.
    pub(crate) fn cycle_entries(&self, states: &[UnitState]) -> Vec<PieceRef> {
        let mut out = Vec::new();
        for block in 0..self.layout.cycle {
            for piece in 0..PIECES_PER_BLOCK {
                if states.contains(&self.piece_state(block, piece)) {
                    out.push(PieceRef { block, piece });
                }
            }
        }
        out
    }

    /// Number of base rows in a feed.
    pub(crate) fn len(&self, source: Source) -> u64 {
        match source {
            Source::Blocks => self.blocks,
            Source::Pieces(states) => self.pieces_len(&self.cycle_entries(states)),
        }
    }

    /// Number of pieces in a piece feed whose cycle entries are `entries`.
    pub(crate) fn pieces_len(&self, entries: &[PieceRef]) -> u64 {
        let full = self.blocks / self.layout.cycle;
        let rest = self.blocks % self.layout.cycle;
        full * entries.len() as u64 + entries.iter().filter(|e| e.block < rest).count() as u64
    }

    /// The piece behind base row `i` of a piece feed.
    #[cfg(test)]
    pub(crate) fn piece_at(&self, states: &[UnitState], i: u64) -> PieceRef {
        self.piece_at_in(&self.cycle_entries(states), i)
    }

    /// The piece behind base row `i` of a piece feed whose cycle entries are `entries`.
    pub(crate) fn piece_at_in(&self, entries: &[PieceRef], i: u64) -> PieceRef {
        let per_cycle = entries.len() as u64;
        let entry = entries[(i % per_cycle) as usize];
        PieceRef {
            block: (i / per_cycle) * self.layout.cycle + entry.block,
            piece: entry.piece,
        }
    }

    /// The index of block `b`'s project: ARB-compliance blocks draw from compliance projects.
    fn project_of(&self, b: u64, rng: &mut RecordRng) -> u64 {
        if self.layout.round_robin {
            return b % self.projects.max(1);
        }
        let compliance = self.is_cancelling_block(b);
        if matches!(self.registry, RegistryId::ACR | RegistryId::CAR) && self.projects >= 2 {
            let pairs = self.projects / 2;
            let pair = rng.between(0, pairs - 1);
            let index = pair * 2 + u64::from(compliance);
            debug_assert_eq!(is_compliance_index(self.registry, index), compliance);
            index
        } else {
            rng.between(0, self.projects.saturating_sub(1))
        }
    }

    /// Issuance block `b`, as one issuance event.
    pub(crate) fn block(&self, b: u64) -> CreditRow {
        let mut rng = RecordRng::new(self.seed, registry_tag(self.registry), Stream::Block, b);
        let project = self.project_of(b, &mut rng);
        // Log-uniform-ish sizes: many small blocks, a few large ones.
        let ceiling = [100, 5_000, 50_000, self.layout.max_quantity][rng.between(0, 3) as usize];
        let quantity = rng.between(
            self.layout.min_quantity,
            ceiling.max(self.layout.min_quantity),
        );
        let year = 2012 + rng.between(0, 13) as i32;
        let vintage_start = date(year, 1, 1);
        let vintage_end = if rng.chance(20) {
            date(year, 10, 31)
        } else {
            date(year, 12, 31)
        };
        let issued_year = (year + 1 + rng.between(0, 2) as i32).min(2026);
        let issued_on = not_future(date(
            issued_year,
            rng.between(1, 12) as u32,
            rng.between(1, 28) as u32,
        ));
        let product = if self.registry == RegistryId::GOLD_STANDARD && b % 50 == 25 {
            Product::KyotoCer
        } else {
            Product::Standard
        };
        // Kyoto unit numbers are unique per party of origin, so CERs take a counter slot.
        let start = match product {
            Product::KyotoCer => COUNTER_BASE + b * COUNTER_SLOT,
            Product::Standard => self.layout.slot_start(b),
        };
        let certification = if rng.chance(20) {
            *rng.pick(&["CCB-Biodiversity Gold", "Social Carbon", "ICVCM CCP"])
        } else {
            ""
        };
        CreditRow {
            registry: self.registry,
            state: UnitState::Issued,
            project,
            batch: self.layout.first_batch + b,
            sequence: b / self.projects.max(1) % 999 + 1,
            vintage_start,
            vintage_end,
            issued_on,
            event_on: None,
            start,
            end: start + quantity - 1,
            quantity,
            block_quantity: quantity,
            compliance: self.is_cancelling_block(b)
                && matches!(
                    self.registry,
                    RegistryId::VERRA | RegistryId::ACR | RegistryId::CAR
                ),
            product,
            certification,
            scopeless: issued_year == 2026 && rng.chance(50),
            beneficiary: String::new(),
            reason: String::new(),
            details: String::new(),
            event_only: false,
            mirrors: None,
        }
    }

    /// Piece `p` of block `b` in its current state.
    pub(crate) fn piece(&self, at: PieceRef) -> CreditRow {
        let block = self.block(at.block);
        let mut rng = RecordRng::new(
            self.seed,
            registry_tag(self.registry),
            Stream::Piece,
            at.block * PIECES_PER_BLOCK + at.piece,
        );
        let (start, end) = piece_range(&block, at.block, self.seed, self.registry, at.piece);
        let state = self.piece_state(at.block, at.piece);
        let event_on = match state {
            UnitState::Retired | UnitState::Cancelled => Some(not_future(
                block.issued_on + chrono::Days::new(rng.between(1, 300)),
            )),
            _ => None,
        };
        let (beneficiary, reason, details) = match state {
            UnitState::Retired => retirement_text(&mut rng),
            UnitState::Cancelled => cancellation_text(self.registry, at.block / self.layout.cycle),
            _ => (String::new(), String::new(), String::new()),
        };
        CreditRow {
            state,
            event_on,
            start,
            end,
            quantity: end - start + 1,
            beneficiary,
            reason,
            details,
            ..block
        }
    }
}

/// The unit range of piece `p` of `block`: four contiguous, disjoint parts covering it.
fn piece_range(block: &CreditRow, b: u64, seed: u64, registry: RegistryId, p: u64) -> (u64, u64) {
    let mut rng = RecordRng::new(
        seed,
        registry_tag(registry),
        Stream::Piece,
        b * PIECES_PER_BLOCK + 99,
    );
    let q = block.quantity;
    let quarter = (q / PIECES_PER_BLOCK).max(1);
    let sizes = [
        rng.between(1, quarter),
        rng.between(1, quarter),
        rng.between(1, quarter),
    ];
    let mut start = block.start;
    for size in sizes.iter().take(p as usize) {
        start += size;
    }
    let end = match sizes.get(p as usize) {
        Some(size) => start + size - 1,
        None => block.end,
    };
    (start, end)
}

/// Whether the n-th cancellation of an ACR/CAR/Verra ledger is a conversion to ARB offsets.
pub(crate) fn cancellation_goes_to_arb(cancellation: u64) -> bool {
    cancellation % 5 != 4
}

fn cancellation_text(registry: RegistryId, cancellation: u64) -> (String, String, String) {
    let to_arb = cancellation_goes_to_arb(cancellation);
    let reason = match (registry, to_arb) {
        (RegistryId::ACR, true) => "Convert to ARB offset credits",
        (RegistryId::ACR, false) => "Convert to Ecology offset credits",
        (RegistryId::CAR, true) => "ARB",
        (RegistryId::CAR, false) => "WA ECO",
        (RegistryId::VERRA, true) => "Conversion to ARB offset credits",
        (RegistryId::VERRA, false) => "Cancel/Export",
        _ => "Canceled",
    };
    (String::new(), reason.to_string(), String::new())
}

fn retirement_text(rng: &mut RecordRng) -> (String, String, String) {
    const BENEFICIARIES: &[&str] = &[
        "Hilti Corporation",
        "Velas do Engenho",
        "Maple Leaf Foods",
        "Factory Mutual Insurance Company",
        "No owner - contributing towards global emissions reductions",
    ];
    const REASONS: &[&str] = &[
        "Environmental Benefit",
        "Other",
        "Retirement for Person or Organization",
    ];
    let beneficiary = rng.pick(BENEFICIARIES).to_string();
    let reason = rng.pick(REASONS).to_string();
    let details = format!(
        "Retired on behalf of {beneficiary} for {} emissions",
        2020 + rng.between(0, 6)
    );
    (beneficiary, reason, details)
}

/// A date no later than today: the simulated registries publish what has happened, never an
/// event in the future.
pub(crate) fn not_future(day: NaiveDate) -> NaiveDate {
    day.min(chrono::Utc::now().date_naive())
}

/// A valid calendar date (the inputs are always in range).
pub(crate) fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ledger(registry: RegistryId, blocks: u64) -> Ledger {
        Ledger {
            registry,
            seed: 3,
            blocks,
            projects: 10,
            layout: Layout::for_registry(registry),
        }
    }

    #[test]
    fn pieces_partition_their_block() {
        let l = ledger(RegistryId::VERRA, 40);
        for b in 0..40 {
            let block = l.block(b);
            let mut next = block.start;
            for p in 0..PIECES_PER_BLOCK {
                let piece = l.piece(PieceRef { block: b, piece: p });
                assert_eq!(piece.start, next);
                assert!(piece.end >= piece.start);
                next = piece.end + 1;
            }
            assert_eq!(next, block.end + 1);
        }
    }

    #[test]
    fn state_feeds_enumerate_exactly_the_pieces_in_that_state() {
        let l = ledger(RegistryId::ACR, 23);
        for states in [
            &[UnitState::Retired][..],
            &[UnitState::Cancelled],
            &[UnitState::Held],
        ] {
            let n = l.len(Source::Pieces(states));
            let mut expected = 0;
            for b in 0..23 {
                for p in 0..PIECES_PER_BLOCK {
                    if states.contains(&l.piece_state(b, p)) {
                        let got = l.piece_at(states, expected);
                        assert_eq!(got, PieceRef { block: b, piece: p });
                        expected += 1;
                    }
                }
            }
            assert_eq!(n, expected);
        }
    }
}
