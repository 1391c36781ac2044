//! Registry identifiers: the prefix of every project id and the name used on the CLI and in config.
//!
//! The built-in registries are plain variants. A registry described only by configuration (read by
//! the generic connector) is a [`RegistryId::Custom`] holding a name that was registered once with
//! [`RegistryId::register_custom`]; from then on it parses, prints and serializes like a built-in.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::{OnceLock, RwLock};

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest name a custom registry may have.
pub const MAX_CUSTOM_NAME_LEN: usize = 64;

/// A registry carbonmesh knows how to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    /// A registry described by configuration. The name is interned by
    /// [`RegistryId::register_custom`]; construct this variant only through it.
    Custom(&'static str),
}

impl RegistryId {
    /// Every built-in registry, in a stable order.
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
            RegistryId::Custom(name) => name,
        }
    }

    /// The registry's name as people write it; a custom registry's id.
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
            RegistryId::Custom(name) => name,
        }
    }

    /// Whether this is a registry described by configuration rather than a built-in one.
    pub const fn is_custom(self) -> bool {
        matches!(self, RegistryId::Custom(_))
    }

    /// The built-in registry with this id (case-insensitive, surrounding blanks ignored).
    pub fn builtin(name: &str) -> Option<RegistryId> {
        let name = name.trim();
        RegistryId::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(name))
    }

    /// Registers a registry described by configuration and returns its id. The name must be
    /// lowercase ASCII letters, digits and single inner hyphens (at most
    /// [`MAX_CUSTOM_NAME_LEN`] characters) and must not be a built-in id. Registering the same
    /// name again returns the same id; each distinct name is allocated once for the life of the
    /// process.
    pub fn register_custom(name: &str) -> Result<RegistryId, InvalidRegistryName> {
        validate_custom_name(name)?;
        let mut names = custom_names()
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(interned) = names.get(name) {
            return Ok(RegistryId::Custom(interned));
        }
        let interned: &'static str = Box::leak(name.to_owned().into_boxed_str());
        names.insert(interned);
        Ok(RegistryId::Custom(interned))
    }

    /// The custom registries registered so far, sorted by name.
    pub fn custom_ids() -> Vec<RegistryId> {
        custom_names()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|name| RegistryId::Custom(name))
            .collect()
    }

    fn registered_custom(name: &str) -> Option<RegistryId> {
        custom_names()
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .map(|name| RegistryId::Custom(name))
    }
}

fn custom_names() -> &'static RwLock<BTreeSet<&'static str>> {
    static NAMES: OnceLock<RwLock<BTreeSet<&'static str>>> = OnceLock::new();
    NAMES.get_or_init(|| RwLock::new(BTreeSet::new()))
}

fn validate_custom_name(name: &str) -> Result<(), InvalidRegistryName> {
    let invalid = |reason: &'static str| InvalidRegistryName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("is empty"));
    }
    if name.len() > MAX_CUSTOM_NAME_LEN {
        return Err(invalid("is longer than 64 characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(invalid(
            "may hold only lowercase ASCII letters, digits and hyphens",
        ));
    }
    if name.starts_with('-') || name.ends_with('-') || name.contains("--") {
        return Err(invalid(
            "may not start or end with a hyphen, nor hold two in a row",
        ));
    }
    if RegistryId::builtin(name).is_some() {
        return Err(invalid("is the id of a built-in registry"));
    }
    Ok(())
}

impl fmt::Display for RegistryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A registry id that carbonmesh does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown registry `{0}` (known: verra, gold-standard, acr, car, art, arb, isometric, puro, cercarbono, biocarbon, cdm, cadt, or a configured custom registry)"
)]
pub struct UnknownRegistry(pub String);

/// A name that cannot be registered as a custom registry id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid custom registry id `{name}`: it {reason}")]
pub struct InvalidRegistryName {
    /// The name as given.
    pub name: String,
    /// Why it was refused.
    pub reason: &'static str,
}

impl FromStr for RegistryId {
    type Err = UnknownRegistry;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegistryId::builtin(s)
            .or_else(|| RegistryId::registered_custom(&s.trim().to_ascii_lowercase()))
            .ok_or_else(|| UnknownRegistry(s.to_owned()))
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
        use serde_json::{Map, Value, json};
        let builtins: Vec<Value> = RegistryId::ALL
            .into_iter()
            .map(|r| json!({ "description": r.display_name(), "type": "string", "const": r.as_str() }))
            .collect();
        let mut schema = Map::new();
        schema.insert(
            "description".into(),
            json!("A registry carbonmesh knows how to read: a built-in registry, or one described by configuration."),
        );
        schema.insert(
            "anyOf".into(),
            json!([
                { "oneOf": builtins },
                {
                    "description": "A registry described by configuration: lowercase letters, digits and inner hyphens.",
                    "type": "string",
                    "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
                    "maxLength": MAX_CUSTOM_NAME_LEN
                }
            ]),
        );
        Schema::from(schema)
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
            assert_eq!(serde_json::from_str::<RegistryId>(&json).ok(), Some(r));
        }
        assert!("vera".parse::<RegistryId>().is_err());
    }

    #[test]
    fn custom_ids_are_interned_once_and_behave_like_built_ins() {
        assert!("model-test-registry".parse::<RegistryId>().is_err());
        let id = RegistryId::register_custom("model-test-registry").expect("register");
        let again = RegistryId::register_custom("model-test-registry").expect("register again");
        assert_eq!(id, again);
        assert!(std::ptr::eq(id.as_str(), again.as_str()));
        assert!(id.is_custom());
        assert_eq!(id.to_string(), "model-test-registry");
        assert_eq!("model-test-registry".parse::<RegistryId>(), Ok(id));
        assert_eq!(" Model-Test-Registry ".parse::<RegistryId>(), Ok(id));
        let json = serde_json::to_string(&id).expect("serialize");
        assert_eq!(json, "\"model-test-registry\"");
        assert_eq!(serde_json::from_str::<RegistryId>(&json).ok(), Some(id));
        assert!(RegistryId::custom_ids().contains(&id));
        assert_eq!(
            crate::project_id(id, "P1"),
            "model-test-registry:P1".to_owned()
        );
    }

    #[test]
    fn unknown_and_invalid_names_are_refused() {
        assert!(
            serde_json::from_str::<RegistryId>("\"never-registered\"").is_err(),
            "an unregistered name does not deserialize"
        );
        for bad in [
            "",
            "Upper",
            "with space",
            "under_score",
            "-lead",
            "trail-",
            "a--b",
            "a:b",
        ] {
            assert!(
                RegistryId::register_custom(bad).is_err(),
                "{bad:?} accepted"
            );
        }
        let long = "a".repeat(MAX_CUSTOM_NAME_LEN + 1);
        assert!(RegistryId::register_custom(&long).is_err());
        let clash = RegistryId::register_custom("art").expect_err("built-in clash");
        assert!(clash.to_string().contains("built-in"), "{clash}");
    }
}
