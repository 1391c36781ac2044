//! Country names and codes to ISO 3166-1 alpha-2.
//!
//! Registries write countries as ISO alpha-2 (ACR, CAR, Puro), alpha-3 (Isometric), English
//! names in several conventions (`Viet Nam`, `COTE D'IVOIRE`, `CONGO, THE DEMOCRATIC REPUBLIC OF
//! THE`, `United States of America`), old names (`Turkey`, `Swaziland`), Spanish names
//! (BioCarbon's `Turquía`, `Perú`, `Brasil`) and CAD Trust's misspelled picklist entries.
//! Matching ignores case, accents, punctuation and the word "the". An unknown name is `None`:
//! the caller keeps the raw string.

use std::collections::HashMap;
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// One ISO 3166-1 entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country {
    /// Alpha-2 code, e.g. `CI`.
    pub alpha2: &'static str,
    /// Alpha-3 code, e.g. `CIV`.
    pub alpha3: &'static str,
    /// English short name, e.g. `Côte d'Ivoire`.
    pub name: &'static str,
}

/// Every ISO 3166-1 entry (from the `rust_iso3166` crate's table).
pub fn all_countries() -> impl ExactSizeIterator<Item = Country> {
    rust_iso3166::ALL.iter().map(|c| Country {
        alpha2: c.alpha2,
        alpha3: c.alpha3,
        name: c.name,
    })
}

/// Names other than the ISO short name, as registries and CAD Trust write them.
const ALIASES: &[(&str, &str)] = &[
    // English variants and former names.
    ("United States of America", "US"),
    ("United States", "US"),
    ("USA", "US"),
    ("U.S.", "US"),
    ("U.S.A.", "US"),
    ("America", "US"),
    ("United Kingdom of Great Britain and Northern Ireland", "GB"),
    ("UK", "GB"),
    ("U.K.", "GB"),
    ("Great Britain", "GB"),
    ("Britain", "GB"),
    ("Vietnam", "VN"),
    ("Socialist Republic of Viet Nam", "VN"),
    ("Ivory Coast", "CI"),
    ("Cote d'Ivoire", "CI"),
    ("Republic of Côte d'Ivoire", "CI"),
    ("Democratic Republic of the Congo", "CD"),
    ("DR Congo", "CD"),
    ("DRC", "CD"),
    ("D.R. Congo", "CD"),
    ("Congo, Dem. Rep.", "CD"),
    ("Congo, Democratic Republic", "CD"),
    ("Congo (Kinshasa)", "CD"),
    ("Congo-Kinshasa", "CD"),
    ("Zaire", "CD"),
    ("Republic of the Congo", "CG"),
    ("Congo, Rep.", "CG"),
    ("Congo, Republic of", "CG"),
    ("Congo (Brazzaville)", "CG"),
    ("Congo-Brazzaville", "CG"),
    ("Korea (Republic of)", "KR"),
    ("South Korea", "KR"),
    ("Korea, South", "KR"),
    ("Korea, Rep.", "KR"),
    ("North Korea", "KP"),
    ("Korea, North", "KP"),
    ("Korea, Dem. People's Rep.", "KP"),
    ("Democratic People's Republic of Korea", "KP"),
    ("Turkey", "TR"),
    ("Turkiye", "TR"),
    ("Bolivia", "BO"),
    ("Plurinational State of Bolivia", "BO"),
    ("Lao PDR", "LA"),
    ("Laos", "LA"),
    ("Lao", "LA"),
    ("Iran", "IR"),
    ("Venezuela", "VE"),
    ("Tanzania", "TZ"),
    ("Moldova", "MD"),
    ("Micronesia", "FM"),
    ("Taiwan", "TW"),
    ("Palestine", "PS"),
    ("Palestinian Territory, Occupied", "PS"),
    ("Palestinian Territories", "PS"),
    ("Russia", "RU"),
    ("Syria", "SY"),
    ("Brunei", "BN"),
    ("Macau", "MO"),
    ("Hong Kong SAR", "HK"),
    ("Hong Kong, China", "HK"),
    ("Vatican", "VA"),
    ("Vatican City", "VA"),
    ("Czech Republic", "CZ"),
    ("Swaziland", "SZ"),
    ("Kingdom of Eswatini", "SZ"),
    ("Macedonia", "MK"),
    ("Republic of North Macedonia", "MK"),
    ("The Former Yugoslav Republic of Macedonia", "MK"),
    ("Macedonia, the Former Yugoslav Republic of", "MK"),
    ("Cape Verde", "CV"),
    ("Burma", "MM"),
    ("East Timor", "TL"),
    ("Timor Leste", "TL"),
    ("Gambia, The", "GM"),
    ("The Gambia", "GM"),
    ("Bahamas, The", "BS"),
    ("Holland", "NL"),
    ("Netherlands, The", "NL"),
    ("Kingdom of the Netherlands", "NL"),
    ("Saint Kitts & Nevis", "KN"),
    ("St Kitts and Nevis", "KN"),
    ("St. Lucia", "LC"),
    ("St Lucia", "LC"),
    ("St. Vincent and the Grenadines", "VC"),
    ("Sao Tome & Principe", "ST"),
    ("São Tomé and Príncipe", "ST"),
    ("Trinidad & Tobago", "TT"),
    ("Antigua & Barbuda", "AG"),
    ("Bosnia & Herzegovina", "BA"),
    ("Bosnia", "BA"),
    ("Guinea Bissau", "GW"),
    ("Kyrgyz Republic", "KG"),
    ("Slovak Republic", "SK"),
    ("Falkland Islands", "FK"),
    ("Reunion", "RE"),
    ("Curacao", "CW"),
    ("Aland Islands", "AX"),
    ("Saint Barthelemy", "BL"),
    ("US Virgin Islands", "VI"),
    ("British Virgin Islands", "VG"),
    ("Federated States of Micronesia", "FM"),
    ("Islamic Republic of Iran", "IR"),
    ("United Republic of Tanzania", "TZ"),
    ("Republic of Moldova", "MD"),
    ("Republic of Korea", "KR"),
    ("State of Palestine", "PS"),
    ("Bolivarian Republic of Venezuela", "VE"),
    ("Lao People's Dem. Rep.", "LA"),
    ("Kosovo", "XK"),
    // CAD Trust v1 picklist misspellings.
    ("Antigua and Barduba", "AG"),
    ("Domincan Republic", "DO"),
    ("Equatorial New Guinea", "GQ"),
    // Spanish, as Latin American registries (BioCarbon, Cercarbono) write them.
    ("Turquía", "TR"),
    ("Perú", "PE"),
    ("Brasil", "BR"),
    ("México", "MX"),
    ("Estados Unidos", "US"),
    ("Estados Unidos de América", "US"),
    ("España", "ES"),
    ("Alemania", "DE"),
    ("Francia", "FR"),
    ("Reino Unido", "GB"),
    ("Italia", "IT"),
    ("Países Bajos", "NL"),
    ("Suiza", "CH"),
    ("Suecia", "SE"),
    ("Noruega", "NO"),
    ("Dinamarca", "DK"),
    ("Finlandia", "FI"),
    ("Bélgica", "BE"),
    ("Irlanda", "IE"),
    ("Polonia", "PL"),
    ("Canadá", "CA"),
    ("Japón", "JP"),
    ("Panamá", "PA"),
    ("República Dominicana", "DO"),
    ("Haití", "HT"),
    ("Belice", "BZ"),
    ("Sudáfrica", "ZA"),
    ("Kenia", "KE"),
    ("Etiopía", "ET"),
    ("Camerún", "CM"),
    ("Marruecos", "MA"),
    ("Egipto", "EG"),
    ("Filipinas", "PH"),
    ("Tailandia", "TH"),
    ("Malasia", "MY"),
    ("Singapur", "SG"),
    ("Nueva Zelanda", "NZ"),
    ("Rusia", "RU"),
    ("Ucrania", "UA"),
    ("Pakistán", "PK"),
    ("Bangladés", "BD"),
    ("Surinam", "SR"),
    ("Guayana Francesa", "GF"),
    ("Trinidad y Tobago", "TT"),
    ("Arabia Saudita", "SA"),
    ("Emiratos Árabes Unidos", "AE"),
    ("Corea del Sur", "KR"),
    ("Costa de Marfil", "CI"),
    ("Rumania", "RO"),
    ("Rumanía", "RO"),
    ("Grecia", "GR"),
    ("Hungría", "HU"),
    ("Chequia", "CZ"),
    ("República Checa", "CZ"),
];

/// Folds a name to its matching key: accents, case, punctuation and "the" removed.
fn key(raw: &str) -> String {
    let folded: String = raw
        .replace('&', " and ")
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    folded
        .split_whitespace()
        .filter(|w| *w != "the")
        .collect::<Vec<_>>()
        .join(" ")
}

/// Extra names derived from ISO names, for the other conventions registries write them in:
/// `Korea (Republic of)` → `Korea`, `Korea, Republic of`, `Republic of Korea`;
/// `Bonaire, Sint Eustatius and Saba` → `Sint Eustatius and Saba Bonaire`.
fn derived_names(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((before, rest)) = name.split_once(" (") {
        let (inside, after) = rest.split_once(')').unwrap_or((rest, ""));
        out.push(format!("{before}{after}"));
        out.push(format!("{before}, {inside}"));
        out.push(format!("{inside} {before}"));
    }
    if let Some((head, tail)) = name.split_once(", ") {
        out.push(format!("{tail} {head}"));
    }
    out
}

static INDEX: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let mut index = HashMap::new();
    for c in all_countries() {
        index.insert(key(c.name), c.alpha2);
    }
    // A derived name two entries share (`Korea` from both Koreas) names neither.
    let mut derived: HashMap<String, Option<&'static str>> = HashMap::new();
    for c in all_countries() {
        for d in derived_names(c.name) {
            derived
                .entry(key(&d))
                .and_modify(|a| {
                    if *a != Some(c.alpha2) {
                        *a = None;
                    }
                })
                .or_insert(Some(c.alpha2));
        }
    }
    for (k, alpha2) in derived {
        if let Some(alpha2) = alpha2 {
            index.entry(k).or_insert(alpha2);
        }
    }
    for &(alias, alpha2) in ALIASES {
        index.insert(key(alias), alpha2);
    }
    index
});

/// Finds the ISO entry for a country code or name; `None` when unknown (keep the raw string).
///
/// Two letters are read as alpha-2 (`NA` is Namibia), three as alpha-3, anything else as a
/// name. Kosovo's user-assigned `XK` has no ISO entry, so it resolves only through
/// [`country_alpha2`].
pub fn lookup_country(raw: &str) -> Option<Country> {
    let alpha2 = country_alpha2(raw)?;
    all_countries().find(|c| c.alpha2 == alpha2)
}

/// The ISO 3166-1 alpha-2 code for a country code or name (`Viet Nam` → `VN`,
/// `CONGO, THE DEMOCRATIC REPUBLIC OF THE` → `CD`, `DEU` → `DE`); `None` when unknown.
pub fn country_alpha2(raw: &str) -> Option<&'static str> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if s.chars().all(|c| c.is_ascii_alphabetic()) {
        let upper = s.to_ascii_uppercase();
        let by_code = match upper.len() {
            2 => all_countries().find(|c| c.alpha2 == upper),
            3 => all_countries().find(|c| c.alpha3 == upper),
            _ => None,
        };
        if let Some(c) = by_code {
            return Some(c.alpha2);
        }
    }
    let k = key(s);
    if k.is_empty() {
        return None;
    }
    INDEX.get(&k).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_complete_and_consistent() {
        assert_eq!(all_countries().len(), 249);
        let mut seen2 = std::collections::HashSet::new();
        let mut seen3 = std::collections::HashSet::new();
        for c in all_countries() {
            assert!(seen2.insert(c.alpha2), "{}", c.alpha2);
            assert!(seen3.insert(c.alpha3), "{}", c.alpha3);
            assert_eq!(country_alpha2(c.name), Some(c.alpha2), "{}", c.name);
            assert_eq!(country_alpha2(c.alpha3), Some(c.alpha2));
            assert_eq!(country_alpha2(c.alpha2), Some(c.alpha2));
        }
    }

    #[test]
    fn aliases_do_not_shadow_iso_names() {
        for &(alias, alpha2) in ALIASES {
            assert!(
                alpha2 == "XK" || all_countries().any(|c| c.alpha2 == alpha2),
                "{alias} → {alpha2}"
            );
            assert_eq!(country_alpha2(alias), Some(alpha2), "{alias}");
        }
        for c in all_countries() {
            assert_eq!(country_alpha2(c.name), Some(c.alpha2), "{}", c.name);
        }
    }

    #[test]
    fn registry_spellings() {
        for (raw, want) in [
            ("Viet Nam", "VN"),
            ("Côte d'Ivoire", "CI"),
            ("Cote d'Ivoire", "CI"),
            ("COTE D'IVOIRE", "CI"),
            ("Côte d’Ivoire", "CI"),
            ("Congo, The Democratic Republic of the", "CD"),
            ("CONGO, THE DEMOCRATIC REPUBLIC OF THE", "CD"),
            ("Democratic Republic of the Congo", "CD"),
            ("Congo", "CG"),
            ("Korea (Republic of)", "KR"),
            ("Türkiye", "TR"),
            ("Turkey", "TR"),
            ("Turquía", "TR"),
            ("Bolivia, Plurinational State of", "BO"),
            ("Bolivia (Plurinational State of)", "BO"),
            ("United States", "US"),
            ("USA", "US"),
            ("United States of America", "US"),
            ("Lao PDR", "LA"),
            ("NA", "NA"),
            ("na", "NA"),
            ("DEU", "DE"),
            ("Czechia", "CZ"),
            ("Perú", "PE"),
            ("  GUYANA ", "GY"),
            ("Holy See", "VA"),
            ("Antigua and Barduba", "AG"),
        ] {
            assert_eq!(country_alpha2(raw), Some(want), "{raw}");
        }
        for unknown in [
            "",
            "  ",
            "Worldwide",
            "European Union",
            "Narnia",
            "ZZ",
            "XYZ",
        ] {
            assert_eq!(country_alpha2(unknown), None, "{unknown}");
        }
        assert_eq!(lookup_country("Viet Nam").map(|c| c.alpha3), Some("VNM"));
    }
}
