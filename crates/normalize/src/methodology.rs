//! Methodology and protocol names harmonized into `{program, code, version}`.
//!
//! Spellings seen: `VM0007`, `AMS-III.D.; AMS-III.F.` (Verra lists), `VM0007 (Version 1.3)`
//! (Platts), `ACM0001 Flaring or use of landfill gas`, `GS TPDDTEC v3.1` (Gold Standard),
//! `CDM - AR-ACM0003: Afforestation…` (Cercarbono), `BCR0001_Actividades ARR` (BioCarbon),
//! `Landfill Gas Capture/Combustion - Version 5.0` (CAR), `ARB Compliance Offset Protocol: U.S.
//! Forest Projects` with the version in another column (ACR), Puro's `C03000000`. Codes of known
//! families (CDM, VCS, BioCarbon, Puro, JCM) are recognized anywhere in the text; otherwise the
//! protocol name itself is the code, under the program the registry implies.

use std::sync::LazyLock;

use carbonmesh_model::RegistryId;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::date::{DateOrder, parse_date};
use crate::text::clean_text;

/// A methodology or protocol reference, with the raw text kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Methodology {
    /// The text as the registry wrote it.
    pub raw: String,
    /// Program that owns the methodology: `CDM`, `VCS`, `GS`, `CAR`, `ACR`, `ARB`, `ECY`, `ART`,
    /// `BCR`, `CCB` (Cercarbono), `JCM`, `Puro`, `Isometric`.
    pub program: Option<String>,
    /// The methodology code (`ACM0002`, `AMS-III.D`, `VM0007`, `TPDDTEC`) or, for protocols
    /// known by name only, the protocol name.
    pub code: Option<String>,
    /// Version as written after `v`/`ver.`/`Version` (`3.1`), or an ISO date for protocols
    /// versioned by date.
    pub version: Option<String>,
    /// Descriptive title that followed the code, if any.
    pub title: Option<String>,
}

fn re(pattern: &str) -> Regex {
    // Patterns are constants covered by the tests below.
    Regex::new(pattern).expect("valid methodology pattern")
}

static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(CDM|VCS|Verra|GS|Gold Standard|CAR|ACR|ARB|ECY|ART|CCB|JCM|BCR|Puro|Isometric)(?:\s*[-–:]\s*|\s+Compliance Offset Protocol:\s*|\s+)(.+)$",
    )
});
static VERSION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:^|[\s(,_:-])(?:version|ver|v)\.?\s*(\d+(?:\.\d+)*|NA|N/A)\.?\)?(?:\s*$|\s*[:)]|\s+-)",
    )
});
static COMPLIANCE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)^(.*?\b(?:ARB|ECY|WA ECO)\b.*?)?\bCompliance Offset Protocol\b(.+)$")
});
static CODE: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r"\b(?P<cdm>(?:AR-)?(?:ACM|AMS|AM)\d{4}|AMS-[IV]+\.[A-Z]+(?:\.[A-Z]+)*\.?)",
        r"|\b(?P<vcs>VM[RD]?\d{4})\b",
        r"|\b(?P<bcr>BCR\d{4})",
        r"|\b(?P<puro>C\d{8})\b",
        r"|\b(?P<jcm>[A-Z]{2}_AM\d{3})\b",
        r"|(?P<ccb>\bM/[A-Z]+/[A-Z]+-[A-Z]\d+\b|\bCBCP-\d+\b)",
    ))
});

/// Parses one methodology reference; `None` for a blank value.
pub fn parse_methodology(registry: RegistryId, raw: &str) -> Option<Methodology> {
    let text = clean_text(raw)?;
    // EcoRegistry and others write a placeholder where no methodology is set.
    if matches!(
        text.to_ascii_lowercase().as_str(),
        "not defined" | "not provided" | "not applicable" | "undefined" | "unknown"
    ) {
        return None;
    }
    let mut program: Option<String> = None;
    let mut rest = text.clone();
    if let Some(c) = PREFIX.captures(&text) {
        let p = c.get(1).map_or("", |m| m.as_str());
        program = Some(canonical_program(p));
        rest = c.get(2).map_or("", |m| m.as_str()).to_owned();
    }
    let (mut body, mut version) = take_version(&rest);
    // CAR names compliance protocols in full: `Livestock - ARB Compliance - ARB Compliance
    // Offset Protocol Livestock Projects, November 14, 2014`; the program is ARB or Washington
    // Ecology, the version is the protocol's date.
    if let Some(c) = COMPLIANCE.captures(&body) {
        let head = c.get(1).map_or("", |x| x.as_str());
        let name = c.get(2).map_or("", |x| x.as_str());
        let owner = if head.to_ascii_uppercase().contains("WA ECO") || head.contains("ECY") {
            "ECY"
        } else {
            "ARB"
        };
        program = Some(owner.to_owned());
        let name = name
            .trim_start_matches(':')
            .trim()
            .trim_start_matches("ARB ")
            .to_owned();
        body = name;
    }
    if version.is_none()
        && let Some((name, date)) = body.rsplit_once(", ")
        && let Some((name2, month_day)) = name.rsplit_once(", ").or(Some((name, "")))
    {
        // `…, November 14, 2014`: the text after the last two commas is a date.
        let candidate = format!("{month_day}, {date}");
        let candidate = candidate.trim_start_matches([',', ' ']);
        if let Ok(d) = parse_date(candidate, DateOrder::MonthFirst) {
            version = Some(d.format("%Y-%m-%d").to_string());
            body = name2.to_owned();
        }
    }
    let mut m = Methodology {
        raw: raw.to_owned(),
        program,
        code: None,
        version,
        title: None,
    };
    if let Some(c) = CODE.captures(&body) {
        let whole = c.get(0).map_or("", |x| x.as_str());
        let family = ["cdm", "vcs", "bcr", "puro", "jcm", "ccb"]
            .into_iter()
            .find(|g| c.name(g).is_some())
            .unwrap_or("cdm");
        m.code = Some(whole.trim_end_matches('.').to_owned());
        if m.program.is_none() {
            m.program = Some(
                match family {
                    "cdm" => "CDM",
                    "vcs" => "VCS",
                    "bcr" => "BCR",
                    "puro" => "Puro",
                    "jcm" => "JCM",
                    _ => "CCB",
                }
                .to_owned(),
            );
        }
        let end = c.get(0).map_or(0, |x| x.end());
        m.title = clean_text(body[end..].trim_start_matches([':', '_', '-', '.', ' ', '–']));
        return Some(m);
    }
    if m.program.is_none() {
        m.program = registry_program(registry).map(str::to_owned);
    }
    // Gold Standard's own methodologies are named by short code: `GS TPDDTEC v3.1`.
    let name = body.trim().trim_end_matches([' ', '-', ':', ',']).trim();
    if m.program.as_deref() == Some("GS")
        && let Some((first, tail)) = name.split_once(' ').or(Some((name, "")))
        && first.len() >= 3
        && first
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        m.code = Some(first.to_owned());
        m.title = clean_text(tail.trim_start_matches([':', '-', ' ']));
        return Some(m);
    }
    m.code = clean_text(name);
    Some(m)
}

/// Parses a list of methodologies separated by `;` (Verra's `AMS-III.D.; AMS-III.F.`).
pub fn parse_methodologies(registry: RegistryId, raw: &str) -> Vec<Methodology> {
    raw.split(';')
        .filter_map(|part| parse_methodology(registry, part))
        .collect()
}

/// Parses a methodology whose version sits in a separate column (ACR's
/// `Methodology/Protocol Version`: `Version 1.0`, `April 25, 2014`).
pub fn parse_methodology_with_version(
    registry: RegistryId,
    name: &str,
    version: &str,
) -> Option<Methodology> {
    let mut m = parse_methodology(registry, name)?;
    if let Some(v) = parse_version(version) {
        m.version = Some(v);
    }
    Some(m)
}

/// Normalizes a version column: `Version 1.0` → `1.0`, `v. 19` → `19`, `April 25, 2014` →
/// `2014-04-25`, `NA` → `None`; anything else is kept cleaned.
pub fn parse_version(raw: &str) -> Option<String> {
    let s = clean_text(raw)?;
    if matches!(s.to_ascii_lowercase().as_str(), "na" | "n/a") {
        return None;
    }
    let (rest, version) = take_version(&s);
    if rest.trim().is_empty() {
        return version;
    }
    if let Ok(d) = parse_date(&s, DateOrder::MonthFirst) {
        return Some(d.format("%Y-%m-%d").to_string());
    }
    Some(s)
}

/// Removes the version marker from the text and returns it separately; `Version NA` gives no
/// version.
fn take_version(text: &str) -> (String, Option<String>) {
    let Some(c) = VERSION.captures(text) else {
        return (text.to_owned(), None);
    };
    let (Some(whole), Some(v)) = (c.get(0), c.get(1)) else {
        return (text.to_owned(), None);
    };
    let version = v.as_str();
    let version = (!matches!(version.to_ascii_uppercase().as_str(), "NA" | "N/A"))
        .then(|| version.to_owned());
    let mut body = String::with_capacity(text.len());
    body.push_str(&text[..whole.start()]);
    let tail = &text[whole.end()..];
    if !tail.trim().is_empty() {
        body.push(' ');
        body.push_str(tail.trim_start_matches([':', ' ']));
    }
    (body.trim().to_owned(), version)
}

fn canonical_program(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "verra" | "vcs" => "VCS",
        "gold standard" | "gs" => "GS",
        "puro" => "Puro",
        "isometric" => "Isometric",
        other => return other.to_ascii_uppercase(),
    }
    .to_owned()
}

/// The program a bare protocol name belongs to when the registry runs its own protocols.
fn registry_program(registry: RegistryId) -> Option<&'static str> {
    match registry {
        RegistryId::CAR => Some("CAR"),
        RegistryId::ACR => Some("ACR"),
        RegistryId::ART => Some("ART"),
        RegistryId::ARB => Some("ARB"),
        RegistryId::GOLD_STANDARD => Some("GS"),
        RegistryId::ISOMETRIC => Some("Isometric"),
        RegistryId::PURO => Some("Puro"),
        RegistryId::VERRA => Some("VCS"),
        RegistryId::CERCARBONO => Some("CCB"),
        RegistryId::BIOCARBON => Some("BCR"),
        RegistryId::CDM => Some("CDM"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(registry: RegistryId, raw: &str) -> (Option<String>, Option<String>, Option<String>) {
        let m = parse_methodology(registry, raw).expect("not blank");
        assert_eq!(m.raw, raw);
        (m.program, m.code, m.version)
    }

    fn some(p: &str, c: &str, v: Option<&str>) -> (Option<String>, Option<String>, Option<String>) {
        (Some(p.into()), Some(c.into()), v.map(str::to_owned))
    }

    #[test]
    fn codes_and_versions() {
        let cases = [
            (RegistryId::VERRA, "VM0007", some("VCS", "VM0007", None)),
            (RegistryId::VERRA, "VMR0016", some("VCS", "VMR0016", None)),
            (
                RegistryId::VERRA,
                "AMS-III.D. ver. 18",
                some("CDM", "AMS-III.D", Some("18")),
            ),
            (
                RegistryId::VERRA,
                "ACM0002 v. 19",
                some("CDM", "ACM0002", Some("19")),
            ),
            (
                RegistryId::VERRA,
                "VM0007 (Version 1.3)",
                some("VCS", "VM0007", Some("1.3")),
            ),
            (
                RegistryId::VERRA,
                "ACM0002 (Version NA)",
                some("CDM", "ACM0002", None),
            ),
            (
                RegistryId::GOLD_STANDARD,
                "GS TPDDTEC v 3.1",
                some("GS", "TPDDTEC", Some("3.1")),
            ),
            (
                RegistryId::GOLD_STANDARD,
                "GS TPDDTEC v3.1",
                some("GS", "TPDDTEC", Some("3.1")),
            ),
            (
                RegistryId::GOLD_STANDARD,
                "GS TPDDTEC V4.0: REDUCED EMISSIONS FROM COOKING AND HEATING",
                some("GS", "TPDDTEC", Some("4.0")),
            ),
            (
                RegistryId::GOLD_STANDARD,
                "ACM0001 Flaring or use of landfill gas",
                some("CDM", "ACM0001", None),
            ),
            (
                RegistryId::GOLD_STANDARD,
                "AMS-III.AR. Substituting fossil fuel based lighting with LED",
                some("CDM", "AMS-III.AR", None),
            ),
            (
                RegistryId::CERCARBONO,
                "CDM - AR-ACM0003: Afforestation and reforestation of lands",
                some("CDM", "AR-ACM0003", None),
            ),
            (
                RegistryId::CERCARBONO,
                "CCB - M/UT/F-A01: Methodology To Implement GHG Removal Projects",
                some("CCB", "M/UT/F-A01", None),
            ),
            (
                RegistryId::BIOCARBON,
                "BCR0001_Actividades ARR",
                some("BCR", "BCR0001", None),
            ),
            (
                RegistryId::BIOCARBON,
                "CDM - ACM0002_Grid-connected electricity generation",
                some("CDM", "ACM0002", None),
            ),
            (
                RegistryId::PURO,
                "C03000000",
                some("Puro", "C03000000", None),
            ),
            (
                RegistryId::CAR,
                "Landfill Gas Capture/Combustion - Version 5.0",
                some("CAR", "Landfill Gas Capture/Combustion", Some("5.0")),
            ),
            (
                RegistryId::CAR,
                "Forest Project Protocol V3.2",
                some("CAR", "Forest Project Protocol", Some("3.2")),
            ),
            (
                RegistryId::CAR,
                "Forestry - MX - Version 3.0",
                some("CAR", "Forestry - MX", Some("3.0")),
            ),
            (
                RegistryId::ACR,
                "ARB Compliance Offset Protocol: U.S. Forest Projects",
                some("ARB", "U.S. Forest Projects", None),
            ),
            (
                RegistryId::ISOMETRIC,
                "biochar",
                some("Isometric", "biochar", None),
            ),
            (
                RegistryId::CAR,
                "Livestock - ARB Compliance - ARB Compliance Offset Protocol Livestock Projects, November 14, 2014",
                some("ARB", "Livestock Projects", Some("2014-11-14")),
            ),
            (
                RegistryId::CAR,
                "Ozone Depleting Substances - U.S. - WA ECO Compliance - WA Eco Compliance Offset Protocol Ozone Depleting Substances Projects - Version 1.0",
                some("ECY", "Ozone Depleting Substances Projects", Some("1.0")),
            ),
            (
                RegistryId::ACR,
                "ECY Compliance Offset Protocol: Ozone Depleting Substances Projects",
                some("ECY", "Ozone Depleting Substances Projects", None),
            ),
        ];
        for (registry, raw, want) in cases {
            assert_eq!(parts(registry, raw), want, "{raw}");
        }
        assert_eq!(parse_methodology(RegistryId::VERRA, " "), None);
        assert_eq!(
            parse_methodology(RegistryId::CERCARBONO, "Not defined"),
            None
        );
    }

    #[test]
    fn lists_and_version_columns() {
        let list = parse_methodologies(RegistryId::VERRA, "AMS-I.F.; VMR0014; VM0038");
        let codes: Vec<_> = list.iter().filter_map(|m| m.code.clone()).collect();
        assert_eq!(codes, ["AMS-I.F", "VMR0014", "VM0038"]);
        let m = parse_methodology_with_version(
            RegistryId::ACR,
            "ARB Compliance Offset Protocol: Mine Methane Capture Projects",
            "April 25, 2014",
        )
        .expect("not blank");
        assert_eq!(m.version.as_deref(), Some("2014-04-25"));
        assert_eq!(parse_version("Version 1.0").as_deref(), Some("1.0"));
        assert_eq!(parse_version("NA"), None);
        assert_eq!(
            parse_version("Edition 2022 V3").as_deref(),
            Some("Edition 2022 V3")
        );
    }
}
