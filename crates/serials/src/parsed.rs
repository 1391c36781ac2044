//! The typed result of parsing a serial.

use std::fmt;

use carbonmesh_model::{RegistryId, SerialRange};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::{
    Grammar, apx, biocarbon, cadt, cercarbono, gold_standard, isometric, kyoto, puro, verra,
};

/// An inclusive range of unit numbers, `start <= end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnitRange {
    /// First unit number, inclusive.
    pub start: u64,
    /// Last unit number, inclusive.
    pub end: u64,
}

impl UnitRange {
    /// Number of units in the range.
    pub fn count(&self) -> u64 {
        self.end - self.start + 1
    }
}

/// What one unit number stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnitOfAccount {
    /// One tonne of CO2e per unit number (every registry with serials).
    Tonne,
    /// One kilogram of CO2e per unit number (the Isometric synthetic ranges).
    Kilogram,
}

impl UnitOfAccount {
    /// Tonnes per unit number.
    pub fn tonnes_per_unit(self) -> Decimal {
        match self {
            UnitOfAccount::Tonne => Decimal::ONE,
            UnitOfAccount::Kilogram => Decimal::new(1, 3),
        }
    }

    /// Short name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitOfAccount::Tonne => "tCO2e",
            UnitOfAccount::Kilogram => "kgCO2e",
        }
    }
}

/// What the serial itself encodes besides the range, one variant per grammar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoded {
    /// Verra VCU serial (all eras).
    Verra(verra::VerraFields),
    /// Gold Standard `GS1-1-…` serial.
    GoldStandard(gold_standard::GoldStandardFields),
    /// Kyoto unit serial (CDM CERs), including those held in Gold Standard.
    Kyoto(kyoto::KyotoFields),
    /// American Carbon Registry serial.
    Acr(apx::AcrFields),
    /// Climate Action Reserve serial (CRT and ROC).
    Car(apx::CarFields),
    /// ART TREES or FCPF serial in the ART registry.
    Art(apx::ArtFields),
    /// Cercarbono / EcoRegistry batch serial.
    Cercarbono(cercarbono::CercarbonoFields),
    /// BioCarbon Registry serial.
    Biocarbon(biocarbon::BiocarbonFields),
    /// Puro.earth certificate range.
    Puro(puro::PuroFields),
    /// A CAD Trust unit block that names no other registry's grammar.
    Cadt(cadt::CadtFields),
    /// Isometric synthetic range (the registry has no unit serials).
    Isometric(isometric::IsometricFields),
}

/// A parsed serial: where its numbers are unique, which numbers it covers, and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedSerial {
    /// The registry whose units these are. A CDM serial held in Gold Standard is `Cdm`.
    pub registry: RegistryId,
    /// Where unit numbers are unique (see the crate documentation for every rule).
    pub namespace: String,
    /// The unit numbers covered. `None` only for a Cercarbono batch serial given without its
    /// `from`/`to` positions: the serial names a batch, not a range.
    pub range: Option<UnitRange>,
    /// What one unit number stands for.
    pub unit: UnitOfAccount,
    /// Fields the serial encodes.
    pub encoded: Encoded,
}

impl ParsedSerial {
    /// The grammar the serial was written in.
    pub fn grammar(&self) -> Grammar {
        match &self.encoded {
            Encoded::Verra(_) => Grammar::Verra,
            Encoded::GoldStandard(_) => Grammar::GoldStandard,
            Encoded::Kyoto(_) => Grammar::Kyoto,
            Encoded::Acr(_) => Grammar::Acr,
            Encoded::Car(_) => Grammar::Car,
            Encoded::Art(_) => Grammar::Art,
            Encoded::Cercarbono(_) => Grammar::Cercarbono,
            Encoded::Biocarbon(_) => Grammar::Biocarbon,
            Encoded::Puro(_) => Grammar::Puro,
            Encoded::Cadt(_) => Grammar::CadtBlock,
            Encoded::Isometric(_) => Grammar::Isometric,
        }
    }

    /// First unit number, if the serial carries a range.
    pub fn start(&self) -> Option<u64> {
        self.range.map(|r| r.start)
    }

    /// Last unit number, if the serial carries a range.
    pub fn end(&self) -> Option<u64> {
        self.range.map(|r| r.end)
    }

    /// Number of unit numbers covered (`end - start + 1`).
    pub fn count(&self) -> Option<u64> {
        self.range.map(|r| r.count())
    }

    /// Quantity in tonnes of CO2e (`count` times the unit of account).
    pub fn quantity(&self) -> Option<Decimal> {
        self.count()
            .map(|c| Decimal::from(c) * self.unit.tonnes_per_unit())
    }

    /// The range in the model's form, for storage and the matcher.
    pub fn serial_range(&self) -> Option<SerialRange> {
        self.range.map(|r| SerialRange {
            namespace: self.namespace.clone(),
            start: r.start,
            end: r.end,
        })
    }

    /// The namespace with its `registry:` prefix removed.
    pub(crate) fn namespace_body(&self) -> &str {
        self.namespace
            .split_once(':')
            .map_or(self.namespace.as_str(), |(_, b)| b)
    }

    /// The registry's own project id when the serial states it (e.g. `VCS1340`, `GS11236`).
    pub fn project_id(&self) -> Option<String> {
        match &self.encoded {
            Encoded::Verra(f) => Some(format!("VCS{}", f.project_id)),
            Encoded::GoldStandard(f) => Some(format!("GS{}", f.gsid)),
            Encoded::Kyoto(f) => Some(format!("CDM{}", f.project)),
            Encoded::Acr(f) => Some(format!("ACR{}", f.project_number)),
            Encoded::Car(f) => Some(format!("CAR{}", f.project_number)),
            Encoded::Art(f) => Some(format!("ART{}", f.program_number)),
            Encoded::Cercarbono(f) => Some(format!("{}-{}", f.standard.as_str(), f.project_number)),
            // The code inside a BioCarbon serial is not always the project: never claim it.
            Encoded::Biocarbon(_) => None,
            Encoded::Puro(f) => f.wrapper.as_ref().map(|w| w.facility.to_string()),
            Encoded::Cadt(_) | Encoded::Isometric(_) => None,
        }
    }

    /// The JSON object printed by `carbonmesh serial parse` (without `input`).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("registry".into(), self.registry.as_str().into());
        m.insert("grammar".into(), self.grammar().as_str().into());
        m.insert("namespace".into(), self.namespace.clone().into());
        m.insert(
            "start".into(),
            self.start().map_or(Value::Null, Value::from),
        );
        m.insert("end".into(), self.end().map_or(Value::Null, Value::from));
        m.insert(
            "quantity".into(),
            self.quantity()
                .map_or(Value::Null, |q| Value::from(q.normalize().to_string())),
        );
        m.insert("unit".into(), self.unit.as_str().into());
        m.insert(
            "project_id".into(),
            self.project_id().map_or(Value::Null, Value::from),
        );
        m.insert("canonical".into(), self.to_string().into());
        match &self.encoded {
            Encoded::Verra(f) => f.json(&mut m),
            Encoded::GoldStandard(f) => f.json(&mut m),
            Encoded::Kyoto(f) => f.json(&mut m),
            Encoded::Acr(f) => f.json(&mut m),
            Encoded::Car(f) => f.json(&mut m),
            Encoded::Art(f) => f.json(&mut m),
            Encoded::Cercarbono(f) => f.json(&mut m),
            Encoded::Biocarbon(f) => f.json(&mut m),
            Encoded::Puro(f) => f.json(&mut m),
            Encoded::Cadt(f) => f.json(&mut m),
            Encoded::Isometric(f) => f.json(&mut m),
        }
        m
    }
}

/// Writes the serial back in its registry's canonical form.
///
/// For Cercarbono the registry's form is the batch serial alone; the `from`/`to` positions are
/// not part of it and round-trip through [`crate::parse_with_positions`].
impl fmt::Display for ParsedSerial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.range.unwrap_or(UnitRange { start: 0, end: 0 });
        match &self.encoded {
            Encoded::Verra(v) => v.write(f, r),
            Encoded::GoldStandard(_) => {
                write!(f, "{}-{}-{}", self.namespace_body(), r.start, r.end)
            }
            Encoded::Kyoto(k) => k.write(f, r),
            Encoded::Acr(_) | Encoded::Car(_) | Encoded::Art(_) => {
                write!(f, "{}-{} to {}", self.namespace_body(), r.start, r.end)
            }
            Encoded::Cercarbono(_) => f.write_str(self.namespace_body()),
            Encoded::Biocarbon(_) => {
                write!(f, "{}-{:07}-{:07}", self.namespace_body(), r.start, r.end)
            }
            Encoded::Puro(p) => p.write(f, r),
            Encoded::Cadt(c) => c.write(f, r),
            Encoded::Isometric(i) => write!(f, "ISOMETRIC:{}:{}-{}", i.record_id, r.start, r.end),
        }
    }
}

/// Inserts the usual vintage keys.
pub(crate) fn put(m: &mut Map<String, Value>, k: &str, v: impl Into<Value>) {
    m.insert(k.to_owned(), v.into());
}
