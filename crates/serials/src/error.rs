//! Typed errors: every way a serial can be wrong has its own variant.

use carbonmesh_model::{MAX_UNIT_NUMBER, RegistryId};

use crate::Grammar;

/// Why a serial could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialError {
    /// The input is empty or only whitespace.
    #[error("empty serial")]
    Empty,
    /// A digit outside ASCII (e.g. `٣` or `３`): registries only print ASCII digits.
    #[error("non-ASCII digit {ch:?} at byte {at}")]
    NonAsciiDigit {
        /// Byte offset in the trimmed input.
        at: usize,
        /// The offending character.
        ch: char,
    },
    /// Any other non-ASCII character (dashes such as `–`, letters with accents...).
    #[error("non-ASCII character {ch:?} at byte {at}")]
    NonAscii {
        /// Byte offset in the trimmed input.
        at: usize,
        /// The offending character.
        ch: char,
    },
    /// No registry grammar recognises the shape of the input.
    #[error("no known serial grammar matches this input")]
    UnknownGrammar,
    /// The grammar was recognised but belongs to a registry the caller did not ask for.
    #[error("a {grammar} serial is not a serial of registry {registry}")]
    NotForRegistry {
        /// The registry the caller named.
        registry: RegistryId,
        /// The grammar the input has.
        grammar: Grammar,
    },
    /// The registry publishes no unit serials at all.
    #[error("{0} publishes no unit serial numbers")]
    NoSerials(RegistryId),
    /// A field is present but malformed.
    #[error("{grammar} serial: field {field} ({name}) is malformed, expected {expected}")]
    BadField {
        /// Grammar being parsed.
        grammar: Grammar,
        /// 1-based field position in the grammar's layout.
        field: u8,
        /// Field name.
        name: &'static str,
        /// What the field should look like.
        expected: &'static str,
    },
    /// The input stops before the grammar's last field.
    #[error("{grammar} serial: ends before field {field} ({name})")]
    Truncated {
        /// Grammar being parsed.
        grammar: Grammar,
        /// 1-based field position that is missing.
        field: u8,
        /// Field name.
        name: &'static str,
    },
    /// Text follows a complete serial.
    #[error("{grammar} serial: unexpected trailing text at byte {at}")]
    TrailingJunk {
        /// Grammar being parsed.
        grammar: Grammar,
        /// Byte offset in the trimmed input where the junk starts.
        at: usize,
    },
    /// The range runs backwards.
    #[error("{grammar} serial: range start {start} is after range end {end}")]
    StartAfterEnd {
        /// Grammar being parsed.
        grammar: Grammar,
        /// First unit number as written.
        start: u64,
        /// Last unit number as written.
        end: u64,
    },
    /// A range that holds no unit (a zero quantity where the range is derived from it).
    #[error("{grammar} record: a range must hold at least one unit")]
    EmptyRange {
        /// Grammar being parsed.
        grammar: Grammar,
    },
    /// A unit number does not fit storage and no prefix rule of the grammar applies.
    #[error(
        "{grammar} serial: unit number in field {field} exceeds {MAX_UNIT_NUMBER} (signed 64-bit storage) and the grammar has no prefix rule for it"
    )]
    NumberTooLarge {
        /// Grammar being parsed.
        grammar: Grammar,
        /// 1-based field position of the number.
        field: u8,
    },
    /// The two ends of a range written as two full identifiers disagree on a shared field.
    #[error("{grammar} serial: the two ends of the range disagree on {name}")]
    EndsDisagree {
        /// Grammar being parsed.
        grammar: Grammar,
        /// Field that differs.
        name: &'static str,
    },
    /// Separately published positions fall outside the block the serial names.
    #[error(
        "{grammar} record: positions {first}-{last} are not inside the serial's block {block_start}-{block_end}"
    )]
    OutsideBlock {
        /// Grammar being parsed.
        grammar: Grammar,
        /// First position given.
        first: u64,
        /// Last position given.
        last: u64,
        /// Block start written in the serial.
        block_start: u64,
        /// Block end written in the serial.
        block_end: u64,
    },
    /// A CAD Trust block whose bounds cannot be placed in a namespace.
    #[error("CAD Trust unit block: {0}")]
    CadtBlock(&'static str),
    /// The serial reads in the grammars of several registries: the caller must name one.
    #[error("ambiguous serial: it reads as a serial of {}; name the registry", .0.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" and of "))]
    Ambiguous(Vec<RegistryId>),
}

impl SerialError {
    /// A field that does not read as what the grammar expects there.
    pub fn bad_field(
        grammar: Grammar,
        field: u8,
        name: &'static str,
        expected: &'static str,
    ) -> Self {
        SerialError::BadField {
            grammar,
            field,
            name,
            expected,
        }
    }
}
