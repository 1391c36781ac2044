//! Registry identifiers: the prefix of every project id and the name used on the CLI, in
//! config and in the API.
//!
//! An id is any short name of lowercase ASCII letters, digits and inner hyphens. It is a value,
//! not a list: which registries a build can read is the server's list of connectors (and the
//! `[generic.<id>]` descriptions of its configuration), so a new registry needs no change here.
//! The ids of the registries carbonmesh ships connectors for are named below, because other
//! crates (the matcher's rules, the CAD Trust mapping, the simulator) speak of them.

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroU8;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest registry id, in bytes: long enough for any registry's short name
/// (`global-carbon-council` is 21), short enough to keep an id in 24 bytes.
pub const MAX_REGISTRY_ID_LEN: usize = 23;

/// A registry id, held inline in 24 bytes: copying, hashing and comparing it never allocates.
///
/// `bytes` is the id's ASCII, zero-padded; since every id byte is above zero, the derived
/// order (bytes first) is the order of the ids as strings. The length is never zero, so an
/// `Option<RegistryId>` takes no more room than the id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistryId {
    bytes: [u8; MAX_REGISTRY_ID_LEN],
    len: NonZeroU8,
}

impl RegistryId {
    /// Verra Verified Carbon Standard registry.
    pub const VERRA: RegistryId = RegistryId::known("verra");
    /// Gold Standard Impact Registry.
    pub const GOLD_STANDARD: RegistryId = RegistryId::known("gold-standard");
    /// American Carbon Registry.
    pub const ACR: RegistryId = RegistryId::known("acr");
    /// Climate Action Reserve.
    pub const CAR: RegistryId = RegistryId::known("car");
    /// ART TREES registry (also holds FCPF units).
    pub const ART: RegistryId = RegistryId::known("art");
    /// California Air Resources Board offset credit issuance table.
    pub const ARB: RegistryId = RegistryId::known("arb");
    /// Isometric registry.
    pub const ISOMETRIC: RegistryId = RegistryId::known("isometric");
    /// Puro.earth registry.
    pub const PURO: RegistryId = RegistryId::known("puro");
    /// Cercarbono, published on the EcoRegistry platform.
    pub const CERCARBONO: RegistryId = RegistryId::known("cercarbono");
    /// BioCarbon Registry, published through Global CarbonTrace.
    pub const BIOCARBON: RegistryId = RegistryId::known("biocarbon");
    /// UNFCCC Clean Development Mechanism registry (Kyoto units).
    pub const CDM: RegistryId = RegistryId::known("cdm");
    /// A Climate Action Data Trust node.
    pub const CADT: RegistryId = RegistryId::known("cadt");

    /// The registries named above, in a stable order: those whose serial grammars, words and
    /// identifiers carbonmesh's shared crates know.
    pub const WELL_KNOWN: [RegistryId; 12] = [
        RegistryId::VERRA,
        RegistryId::GOLD_STANDARD,
        RegistryId::ACR,
        RegistryId::CAR,
        RegistryId::ART,
        RegistryId::ARB,
        RegistryId::ISOMETRIC,
        RegistryId::PURO,
        RegistryId::CERCARBONO,
        RegistryId::BIOCARBON,
        RegistryId::CDM,
        RegistryId::CADT,
    ];

    /// The id `name`, checked when the constant is built: for `const`s in code. A name that is
    /// not a valid id fails the build.
    pub const fn known(name: &str) -> RegistryId {
        match RegistryId::checked(name.as_bytes()) {
            Ok(id) => id,
            Err(_) => panic!("not a valid registry id"),
        }
    }

    /// The id `name` as written (lowercase letters, digits and single inner hyphens, at most
    /// [`MAX_REGISTRY_ID_LEN`] bytes).
    pub fn new(name: &str) -> Result<RegistryId, InvalidRegistryId> {
        RegistryId::checked(name.as_bytes()).map_err(|reason| InvalidRegistryId {
            name: name.to_owned(),
            reason,
        })
    }

    const fn checked(name: &[u8]) -> Result<RegistryId, &'static str> {
        if name.is_empty() {
            return Err("is empty");
        }
        if name.len() > MAX_REGISTRY_ID_LEN {
            return Err("is longer than 23 characters");
        }
        let mut bytes = [0u8; MAX_REGISTRY_ID_LEN];
        let mut i = 0;
        while i < name.len() {
            let b = name[i];
            if !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
                return Err("may hold only lowercase ASCII letters, digits and hyphens");
            }
            let edge = i == 0 || i == name.len() - 1;
            if b == b'-' && (edge || name[i - 1] == b'-') {
                return Err("may not start or end with a hyphen, nor hold two in a row");
            }
            bytes[i] = b;
            i += 1;
        }
        // At most 23 bytes, so the length fits a byte.
        match NonZeroU8::new(name.len() as u8) {
            Some(len) => Ok(RegistryId { bytes, len }),
            None => Err("is empty"),
        }
    }

    /// The id, as used on the CLI, in config and as the prefix of project ids.
    pub fn as_str(&self) -> &str {
        let bytes = &self.bytes[..usize::from(self.len.get())];
        // Only ASCII is ever stored (see `checked`), so this cannot fail.
        std::str::from_utf8(bytes).unwrap_or_default()
    }
}

impl RegistryId {
    /// The registry's name as people write it, for the well-known ones; any other registry's
    /// id.
    pub fn display_name(&self) -> &str {
        match *self {
            RegistryId::VERRA => "Verra (VCS)",
            RegistryId::GOLD_STANDARD => "Gold Standard",
            RegistryId::ACR => "American Carbon Registry",
            RegistryId::CAR => "Climate Action Reserve",
            RegistryId::ART => "ART TREES",
            RegistryId::ARB => "California ARB",
            RegistryId::ISOMETRIC => "Isometric",
            RegistryId::PURO => "Puro.earth",
            RegistryId::CERCARBONO => "Cercarbono (EcoRegistry)",
            RegistryId::BIOCARBON => "BioCarbon Registry",
            RegistryId::CDM => "CDM Registry",
            RegistryId::CADT => "CAD Trust",
            _ => self.as_str(),
        }
    }
}

impl RegistryId {
    /// Whether the registry publishes its units as blocks in their current state (Verra's VCU
    /// export, CAD Trust units): a retired block is listed as a retirement and no longer as
    /// an issuance, so the units it issued are the sum of all its blocks. Other registries
    /// keep a ledger: issuances stay as issued, and retirements, cancellations and conversions
    /// draw on them.
    pub fn reports_blocks(&self) -> bool {
        matches!(*self, RegistryId::VERRA | RegistryId::CADT)
    }
}

impl fmt::Display for RegistryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegistryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegistryId({:?})", self.as_str())
    }
}

/// Text that is not a registry id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{name}` is not a registry id: it {reason} (registry ids look like `verra` or `gold-standard`)"
)]
pub struct InvalidRegistryId {
    /// The text as given.
    pub name: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl FromStr for RegistryId {
    type Err = InvalidRegistryId;

    /// Reads an id as people type it: surrounding blanks and case are ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        RegistryId::checked(trimmed.to_ascii_lowercase().as_bytes()).map_err(|reason| {
            InvalidRegistryId {
                name: s.to_owned(),
                reason,
            }
        })
    }
}

impl Serialize for RegistryId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RegistryId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = RegistryId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a registry id")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<RegistryId, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl JsonSchema for RegistryId {
    fn schema_name() -> Cow<'static, str> {
        "RegistryId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let examples: Vec<&str> = RegistryId::WELL_KNOWN.iter().map(|r| r.as_str()).collect();
        schemars::json_schema!({
            "description": "A registry id: lowercase letters, digits and inner hyphens.",
            "type": "string",
            "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
            "maxLength": MAX_REGISTRY_ID_LEN,
            "examples": examples,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_str_and_serde() {
        for r in RegistryId::WELL_KNOWN {
            assert_eq!(r.as_str().parse::<RegistryId>(), Ok(r));
            let json = serde_json::to_string(&r).expect("serialize");
            assert_eq!(json, format!("\"{}\"", r.as_str()));
            assert_eq!(serde_json::from_str::<RegistryId>(&json).ok(), Some(r));
        }
        let new = RegistryId::new("national-registry-7").expect("valid");
        assert_eq!(new.to_string(), "national-registry-7");
        assert_eq!(" National-Registry-7 ".parse::<RegistryId>(), Ok(new));
        assert_eq!(
            crate::project_id(new, "P1"),
            "national-registry-7:P1".to_owned()
        );
        let longest = "a".repeat(MAX_REGISTRY_ID_LEN);
        assert_eq!(
            RegistryId::new(&longest).map(|r| r.to_string()),
            Ok(longest)
        );
    }

    #[test]
    fn ids_order_as_their_text() {
        let mut ids = RegistryId::WELL_KNOWN.to_vec();
        ids.sort();
        let mut names: Vec<&str> = RegistryId::WELL_KNOWN.iter().map(|r| r.as_str()).collect();
        names.sort();
        let sorted: Vec<&str> = ids.iter().map(|r| r.as_str()).collect();
        assert_eq!(sorted, names);
        assert!(RegistryId::CADT < RegistryId::CAR, "cadt sorts before car");
    }

    #[test]
    fn invalid_names_are_refused_with_the_reason() {
        for bad in [
            "",
            "with space",
            "under_score",
            "-lead",
            "trail-",
            "a--b",
            "a:b",
            "é",
        ] {
            let error = RegistryId::new(bad).expect_err(bad);
            assert!(
                error.to_string().contains("is not a registry id"),
                "{error}"
            );
        }
        assert!(
            RegistryId::new("Upper").is_err(),
            "new takes the id as written"
        );
        let long = "a".repeat(MAX_REGISTRY_ID_LEN + 1);
        let error = RegistryId::new(&long).expect_err("too long");
        assert!(error.to_string().contains("longer than 23"), "{error}");
        assert!(serde_json::from_str::<RegistryId>("\"a b\"").is_err());
    }
}
