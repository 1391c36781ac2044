//! Serial-number grammars of every registry, parsed into `(namespace, start, end)`.
//!
//! Each registry prints unit serials in its own layout. This crate reads each layout with a
//! hand-written byte-level parser (no regex), and returns a [`ParsedSerial`]: the namespace in
//! which unit numbers are unique, the inclusive range `start..=end` (64-bit, never above
//! [`carbonmesh_model::MAX_UNIT_NUMBER`]), the unit of account, and every field the serial
//! encodes (project, batch, country, vintage, scope, flags).
//!
//! # Entry points
//!
//! * [`parse`]: one serial string, optionally with the registry it came from.
//! * [`detect_registry`]: the registry whose units a serial names.
//! * [`parse_with_positions`]: a serial plus positions published beside it (Cercarbono
//!   `from`/`to`, Gold Standard `starting_credit_number`/`ending_credit_number`, BioCarbon
//!   `initial_serial`/`final_serial`, Verra `block_start`/`block_end`).
//! * [`parse_cadt_block`]: a CAD Trust `unitBlockStart`/`unitBlockEnd` pair.
//! * [`isometric_record`]: the synthetic range of an Isometric record (no serials exist).
//! * [`check_quantity`]: compares a parsed range with the record's stated quantity.
//! * [`run_parse_command`]: the whole `carbonmesh serial parse` command.
//! * `Display` on [`ParsedSerial`] writes the registry's canonical form back.
//!
//! # Namespace rules
//!
//! A namespace is where unit numbers are unique: two ranges can only overlap inside one
//! namespace. Two serials of one batch always share a namespace, and serials of different
//! registries never share one unless they name the same registry's units.
//!
//! | registry | namespace | why |
//! |---|---|---|
//! | Verra (every era) | `verra` | one registry-wide counter; a Verra serial found on a token or in a CAD Trust node is still `verra` |
//! | Gold Standard | `gold-standard:GS1-1-CC-GS<id>-<type>-<vintage>-<batch>` | numbering restarts at 1 per batch |
//! | CDM / Kyoto units | `cdm:<party of origin>-<unit type>` (e.g. `cdm:RW-5`) | Kyoto unit numbers are issued per originating party and unit type; CERs held in Gold Standard keep this namespace |
//! | ACR | `acr:ACR-CC-<project>-<vintage>-<batch>` | per batch |
//! | CAR | `car:CAR-(1\|ROC)-CC-<project>-<type>-<developer>-ST-<vintage>-<batch>` | per batch; CRT and ROC batches are distinct |
//! | ART TREES / FCPF | `art:(ART\|FCPF)-CC-<program>-<vintage>-<batch>` | per batch |
//! | Cercarbono | `cercarbono:<batch serial>` | the serial names a batch; `from`/`to` are positions inside it (also for `BCR2CDC_…` batches migrated from BioCarbon, whose positions are Cercarbono's) |
//! | BioCarbon | `biocarbon:<serial without the range>` | per issuance block; retirements repeat the prefix |
//! | Puro.earth | `puro:<issuance uuid>` | numbers restart per issuance |
//! | Puro.earth legacy 30-digit numbers | `puro:legacy:<18-digit prefix>` | the prefix rule: the fixed prefix does not fit 64 bits beside the 12-digit counter, so it moves into the namespace |
//! | CAD Trust block of another registry | that registry's namespace | the node republishes units it does not own |
//! | CAD Trust block, bare numbers, origin Verra | `verra` | Verra's single counter |
//! | CAD Trust block, anything else | `cadt:<org uid>:<prefix>` | numbers are only unique for the publishing organisation and prefix |
//! | Isometric | `isometric:<record id>` (synthetic, kilograms) | no serials exist; one namespace per record so no overlap is ever invented |
//! | California ARB | none | the issuance table publishes no unit serials ([`SerialError::NoSerials`]) |
//!
//! Numbers are stored as `u64` no larger than `i64::MAX` (storage uses signed 64-bit
//! columns). A larger number is an error ([`SerialError::NumberTooLarge`]) unless a prefix
//! rule applies (only Puro's legacy numbers have one).

mod admit;
mod apx;
mod biocarbon;
mod cadt;
mod cercarbono;
mod cli;
mod error;
mod gold_standard;
mod isometric;
mod kyoto;
mod parsed;
mod puro;
mod quantity;
mod scan;
mod short;
mod verra;

use std::fmt;

use carbonmesh_model::RegistryId;

pub use admit::reconcile_serial;
pub use apx::{AcrFields, ArtFields, ArtProgram, CarFields, CarUnit};
pub use biocarbon::{BiocarbonFields, BiocarbonProgram, YearMonth};
pub use cadt::{CadtFields, CadtUnitBlock, cadt_block_text, parse_cadt_block};
pub use cercarbono::{CercarbonoBuffer, CercarbonoFields, CercarbonoStandard};
pub use cli::run_parse_command;
pub use error::SerialError;
pub use gold_standard::GoldStandardFields;
pub use isometric::{IsometricFields, isometric_record};
pub use kyoto::{KyotoFields, KyotoUnitType};
pub use parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange};
pub use puro::{LegacyPrefix, PuroFields, PuroWrapper, Uuid};
pub use quantity::{QuantityMismatch, StatedQuantityError, check_quantity, parse_stated_quantity};
pub use scan::Code2;
pub use short::Short;
pub use verra::{VerraEra, VerraFields, VerraOrigin};

/// A serial layout. Several registries can print the same layout (Gold Standard holds Kyoto
/// serials; a CAD Trust node holds anyone's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Grammar {
    /// Verra VCU serials, every era.
    Verra,
    /// Gold Standard `GS1-1-…`.
    GoldStandard,
    /// Kyoto unit serials (CDM CERs).
    Kyoto,
    /// American Carbon Registry.
    Acr,
    /// Climate Action Reserve.
    Car,
    /// ART TREES and FCPF.
    Art,
    /// Cercarbono / EcoRegistry batch serials.
    Cercarbono,
    /// BioCarbon Registry.
    Biocarbon,
    /// Puro.earth certificate ranges.
    Puro,
    /// A generic CAD Trust unit block.
    CadtBlock,
    /// Isometric synthetic ranges.
    Isometric,
}

impl Grammar {
    /// Short name used in errors and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Grammar::Verra => "verra",
            Grammar::GoldStandard => "gold-standard",
            Grammar::Kyoto => "kyoto",
            Grammar::Acr => "acr",
            Grammar::Car => "car",
            Grammar::Art => "art",
            Grammar::Cercarbono => "cercarbono",
            Grammar::Biocarbon => "biocarbon",
            Grammar::Puro => "puro",
            Grammar::CadtBlock => "cadt-block",
            Grammar::Isometric => "isometric",
        }
    }

    /// Whether a record of `registry` may carry a serial in this grammar.
    pub fn allowed_in(self, registry: RegistryId) -> bool {
        match registry {
            RegistryId::VERRA => self == Grammar::Verra,
            RegistryId::GOLD_STANDARD => matches!(self, Grammar::GoldStandard | Grammar::Kyoto),
            RegistryId::ACR => self == Grammar::Acr,
            RegistryId::CAR => self == Grammar::Car,
            RegistryId::ART => self == Grammar::Art,
            RegistryId::ARB => false,
            RegistryId::ISOMETRIC => self == Grammar::Isometric,
            RegistryId::PURO => self == Grammar::Puro,
            RegistryId::CERCARBONO => self == Grammar::Cercarbono,
            RegistryId::BIOCARBON => self == Grammar::Biocarbon,
            RegistryId::CDM => self == Grammar::Kyoto,
            RegistryId::CADT => self != Grammar::Isometric,
            // Any other registry (one described by configuration, or a connector's of its
            // own) states its grammars itself: every grammar is allowed here.
            _ => true,
        }
    }
}

impl fmt::Display for Grammar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Recognises a grammar from the first bytes of a trimmed ASCII serial. Shape only: the
/// grammar's parser still validates every field.
fn sniff(b: &[u8]) -> Option<Grammar> {
    let first = *b.first()?;
    if first.is_ascii_digit() || (b'a'..=b'f').contains(&first) {
        if b.windows(5).any(|w| w == b"-VCU-") {
            return Some(Grammar::Verra);
        }
        if puro::looks_bare_uuid(b) || b.iter().all(|&c| c.is_ascii_digit() || c == b'-') {
            return Some(Grammar::Puro);
        }
        return None;
    }
    match b {
        [b'G', b'S', d, ..] if d.is_ascii_digit() => Some(Grammar::GoldStandard),
        [b'A', b'C', b'R', b'-', ..] => Some(Grammar::Acr),
        [b'C', b'A', b'R', b'-', ..] => Some(Grammar::Car),
        [b'A', b'R', b'T', b'-', ..] | [b'F', b'C', b'P', b'F', b'-', ..] => Some(Grammar::Art),
        [b'B' | b'P', b'C', b'R', b'-', ..] => Some(Grammar::Biocarbon),
        [b'P', b'U', b'R', b'O', b'_', ..] => Some(Grammar::Puro),
        [x, y, b'-', d, ..]
            if x.is_ascii_uppercase() && y.is_ascii_uppercase() && d.is_ascii_digit() =>
        {
            Some(Grammar::Kyoto)
        }
        _ if b.starts_with(b"ISOMETRIC:") => Some(Grammar::Isometric),
        _ => {
            let head = b.split(|&c| c == b'_').next()?;
            let std = match head.iter().position(|&c| c == b'2') {
                Some(p) => &head[p + 1..],
                None => head,
            };
            (head.len() < b.len() && matches!(std, b"CDC" | b"CDB" | b"CP" | b"CGS" | b"CBA"))
                .then_some(Grammar::Cercarbono)
        }
    }
}

fn parse_grammar(g: Grammar, s: &str) -> Result<ParsedSerial, SerialError> {
    match g {
        Grammar::Verra => verra::parse(s),
        Grammar::GoldStandard => gold_standard::parse(s),
        Grammar::Kyoto => kyoto::parse(s),
        Grammar::Acr => apx::parse_acr(s),
        Grammar::Car => apx::parse_car(s),
        Grammar::Art => apx::parse_art(s),
        Grammar::Cercarbono => cercarbono::parse(s),
        Grammar::Biocarbon => biocarbon::parse(s),
        Grammar::Puro => puro::parse(s),
        Grammar::Isometric => isometric::parse(s),
        // Generic CAD Trust blocks need the publishing organisation: see `parse_cadt_block`.
        Grammar::CadtBlock => Err(SerialError::UnknownGrammar),
    }
}

/// Finds the grammar of a trimmed input, checking it against the registry the caller named.
fn grammar_for(s: &str, registry: Option<RegistryId>) -> Result<Grammar, SerialError> {
    if registry == Some(RegistryId::ARB) {
        return Err(SerialError::NoSerials(RegistryId::ARB));
    }
    let g = sniff(s.as_bytes()).ok_or(SerialError::UnknownGrammar)?;
    match registry {
        Some(r) if !g.allowed_in(r) => Err(SerialError::NotForRegistry {
            registry: r,
            grammar: g,
        }),
        _ => Ok(g),
    }
}

/// Parses one serial.
///
/// `registry` is the registry whose record carried the serial, when known. It restricts the
/// grammars accepted (a Gold Standard record may hold Gold Standard and Kyoto serials; a CAD
/// Trust record any registry's), but the result's [`ParsedSerial::registry`] is always the
/// registry whose units the serial names: a Kyoto serial from Gold Standard is `cdm`.
///
/// Leading and trailing ASCII whitespace is ignored. A Cercarbono batch serial parses without
/// a range; use [`parse_with_positions`] to attach its `from`/`to`.
pub fn parse(input: &str, registry: Option<RegistryId>) -> Result<ParsedSerial, SerialError> {
    let s = scan::prepare(input)?;
    let g = grammar_for(s, registry)?;
    parse_grammar(g, s)
}

/// A serial as someone looking for it types it.
#[derive(Debug, Clone, PartialEq)]
pub enum SerialQuery {
    /// A serial of a registry grammar, parsed.
    Parsed(ParsedSerial),
    /// A CAD Trust unit block as printed: its namespace is `cadt:<organisation>:<prefix>`
    /// for an organisation the text does not name (or Verra's counter, for a block that
    /// mirrors Verra units and has no prefix).
    CadtBlock {
        /// The prefix both bounds share (often empty).
        prefix: String,
        /// First unit number.
        start: u64,
        /// Last unit number.
        end: u64,
    },
}

/// Reads a serial for a lookup. `registry`, when given, picks the grammar (a CAD Trust hint
/// reads a bare `START-END` block); without it, a serial that reads in more than one grammar
/// is [`SerialError::Ambiguous`], naming the candidates.
pub fn parse_query(input: &str, registry: Option<RegistryId>) -> Result<SerialQuery, SerialError> {
    let parsed = parse(input, registry);
    let block = match registry {
        None | Some(RegistryId::CADT) => cadt_block_text(input).ok(),
        Some(_) => None,
    };
    match (parsed, block) {
        (Ok(parsed), None) => Ok(SerialQuery::Parsed(parsed)),
        (Ok(parsed), Some(_)) if registry.is_some() => Ok(SerialQuery::Parsed(parsed)),
        (Ok(parsed), Some(_)) => {
            let mut names = vec![parsed.registry, RegistryId::CADT];
            names.dedup();
            Err(SerialError::Ambiguous(names))
        }
        (Err(_), Some((prefix, start, end))) => Ok(SerialQuery::CadtBlock { prefix, start, end }),
        (Err(error), None) => Err(error),
    }
}

/// The registry whose units a serial names, or `None` when no grammar parses it.
pub fn detect_registry(input: &str) -> Option<RegistryId> {
    parse(input, None).ok().map(|p| p.registry)
}

/// Parses a serial together with unit positions the registry publishes beside it.
///
/// * Cercarbono: `serial` names the batch and `first..=last` are the `from`/`to` positions
///   inside it, as published (the 2019 batches count from 0, later ones from 1).
/// * Gold Standard: `serial_number` with `starting_credit_number`/`ending_credit_number`; the
///   serial may be the block prefix without a range.
/// * BioCarbon `initial_serial`/`final_serial`, Verra `block_start`/`block_end`, and any other
///   grammar whose serial carries a range: `first..=last` must lie inside that range and
///   becomes the result's range.
/// * Puro legacy serials: `first`/`last` are the 12-digit counters.
pub fn parse_with_positions(
    serial: &str,
    first: u64,
    last: u64,
    registry: Option<RegistryId>,
) -> Result<ParsedSerial, SerialError> {
    let s = scan::prepare(serial)?;
    let g = grammar_for(s, registry)?;
    let p = match g {
        Grammar::Cercarbono => {
            return cercarbono::with_positions(cercarbono::parse(s)?, first, last);
        }
        Grammar::GoldStandard => gold_standard::parse_block(s)?,
        _ => parse_grammar(g, s)?,
    };
    if first > last {
        return Err(SerialError::StartAfterEnd {
            grammar: g,
            start: first,
            end: last,
        });
    }
    if last > carbonmesh_model::MAX_UNIT_NUMBER {
        return Err(SerialError::NumberTooLarge {
            grammar: g,
            field: 0,
        });
    }
    let mut p = p;
    if let Some(block) = p.range
        && (first < block.start || last > block.end)
    {
        return Err(SerialError::OutsideBlock {
            grammar: g,
            first,
            last,
            block_start: block.start,
            block_end: block.end,
        });
    }
    p.range = Some(UnitRange {
        start: first,
        end: last,
    });
    Ok(p)
}
