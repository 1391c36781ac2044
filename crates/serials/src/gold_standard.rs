//! Gold Standard serials: `GS<ver>-<unit>-CC-GS<gsid>-<type>-<vintage>-<batch>-<start>-<end>`.
//!
//! Numbering restarts at 1 for every batch, so the namespace is the whole prefix before the
//! range. Kyoto CER serials that Gold Standard holds are parsed by [`crate::kyoto`].

use carbonmesh_model::RegistryId;
use serde_json::{Map, Value};

use crate::parsed::{Encoded, ParsedSerial, UnitOfAccount, UnitRange, put};
use crate::scan::{Code2, Cursor, ordered, push_u64};
use crate::{Grammar, SerialError};

/// What a Gold Standard serial encodes besides the range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldStandardFields {
    /// The number after the leading `GS` (always 1 so far).
    pub standard_version: u64,
    /// Field 2 (always 1 so far; meaning undocumented).
    pub unit_type: u64,
    /// Project country, ISO 3166-1 alpha-2.
    pub country: Code2,
    /// Gold Standard project id (the `sustaincert_id`).
    pub gsid: u64,
    /// Project-type code (16 = energy efficiency - domestic, 4 = biogas - heat, ...).
    pub project_type_code: u64,
    /// Vintage year.
    pub vintage: u16,
    /// Issuance batch.
    pub batch: u64,
}

impl GoldStandardFields {
    pub(crate) fn json(&self, m: &mut Map<String, Value>) {
        put(m, "batch", self.batch.to_string());
        put(m, "country", self.country.as_str());
        put(m, "vintage_start", self.vintage.to_string());
        put(m, "vintage_end", self.vintage.to_string());
        put(m, "project_type_code", self.project_type_code);
    }

    fn namespace(&self) -> String {
        let mut s = String::with_capacity(48);
        s.push_str("gold-standard:GS");
        push_u64(&mut s, self.standard_version);
        s.push('-');
        push_u64(&mut s, self.unit_type);
        s.push('-');
        s.push_str(self.country.as_str());
        s.push_str("-GS");
        push_u64(&mut s, self.gsid);
        s.push('-');
        push_u64(&mut s, self.project_type_code);
        s.push('-');
        push_u64(&mut s, u64::from(self.vintage));
        s.push('-');
        push_u64(&mut s, self.batch);
        s
    }
}

const G: Grammar = Grammar::GoldStandard;

/// Parses the 7 prefix fields; the cursor stops right after the batch.
fn prefix(c: &mut Cursor<'_>) -> Result<GoldStandardFields, SerialError> {
    c.lit(b"GS", 1, "standard")?;
    let standard_version = c.num(1, "standard version")?.value;
    c.sep(b'-', 1, "standard version")?;
    let unit_type = c.num(2, "unit type")?.value;
    c.sep(b'-', 2, "unit type")?;
    let country = c.upper2(3, "country")?;
    c.sep(b'-', 3, "country")?;
    c.lit(b"GS", 4, "project id")?;
    let gsid = c.num(4, "project id")?.value;
    c.sep(b'-', 4, "project id")?;
    let project_type_code = c.num(5, "project type code")?.value;
    c.sep(b'-', 5, "project type code")?;
    let vintage = c.fixed(4, 6, "vintage")?;
    let batch = {
        c.sep(b'-', 6, "vintage")?;
        c.num(7, "batch")?.value
    };
    Ok(GoldStandardFields {
        standard_version,
        unit_type,
        country,
        gsid,
        project_type_code,
        vintage: u16::try_from(vintage).unwrap_or(u16::MAX),
        batch,
    })
}

fn build(f: GoldStandardFields, ns: String, range: Option<UnitRange>) -> ParsedSerial {
    ParsedSerial {
        registry: RegistryId::GOLD_STANDARD,
        namespace: ns,
        range,
        unit: UnitOfAccount::Tonne,
        encoded: Encoded::GoldStandard(f),
    }
}

/// Parses a full Gold Standard serial (with its range).
pub(crate) fn parse(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, G);
    let f = prefix(&mut c)?;
    let prefix_end = c.i;
    let prefix_canonical = c.canonical;
    c.sep(b'-', 7, "batch")?;
    let start = c.num(8, "range start")?.value;
    c.sep(b'-', 8, "range start")?;
    let end = c.num(9, "range end")?.value;
    c.finish()?;
    ordered(G, start, end)?;
    let ns = if prefix_canonical {
        let mut ns = String::with_capacity(14 + prefix_end);
        ns.push_str("gold-standard:");
        ns.push_str(&s[..prefix_end]);
        ns
    } else {
        f.namespace()
    };
    Ok(build(f, ns, Some(UnitRange { start, end })))
}

/// Parses a Gold Standard serial that may lack its range (the API's block prefix), for the
/// separate-parts entry point. Returns the block range when the serial has one.
pub(crate) fn parse_block(s: &str) -> Result<ParsedSerial, SerialError> {
    let mut c = Cursor::new(s, G);
    let f = prefix(&mut c)?;
    if c.at_end() {
        let ns = f.namespace();
        return Ok(build(f, ns, None));
    }
    parse(s)
}
