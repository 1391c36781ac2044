//! Harmonized names of who a retirement was made for: the same company written several ways
//! ("Microsoft Corporation", "MICROSOFT CORP.", "Microsoft, Inc") reads as one name
//! (`microsoft`). The raw text is always kept on the record; this is only how records are
//! grouped and searched.

/// Legal forms dropped from the end of a name.
const LEGAL_FORMS: [&str; 30] = [
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "llp",
    "lp",
    "plc",
    "corp",
    "corporation",
    "co",
    "company",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "srl",
    "spa",
    "sl",
    "bv",
    "nv",
    "ab",
    "asa",
    "oy",
    "oyj",
    "kk",
    "pte",
    "pty",
    "sarl",
    "ltda",
];

/// Words that introduce the name rather than belong to it.
const LEADING: [&[&str]; 4] = [
    &["retired", "on", "behalf", "of"],
    &["on", "behalf", "of"],
    &["retired", "for"],
    &["for"],
];

/// The letter without its accent, for the Latin letters registries write.
fn fold(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    }
}

/// The words of `text`, lower-cased and without accents; `&` reads as `and`, dots join
/// abbreviations (`S.A.` is `sa`), any other punctuation separates words.
fn words(text: &str) -> Vec<String> {
    let mut clean = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase).map(fold) {
        match c {
            '&' => clean.push_str(" and "),
            '.' | '\'' | '’' => {}
            c if c.is_alphanumeric() => clean.push(c),
            _ => clean.push(' '),
        }
    }
    clean.split_whitespace().map(str::to_owned).collect()
}

/// The harmonized name of `raw`: lower case, no accents or punctuation, without a leading
/// "on behalf of" and trailing legal forms. `None` when nothing is left.
pub fn beneficiary_key(raw: &str) -> Option<String> {
    let mut w = words(raw);
    let leads = |lead: &&&[&str]| {
        lead.len() < w.len() && lead.iter().zip(&w).all(|(a, b)| *a == b.as_str())
    };
    if let Some(lead) = LEADING.iter().find(leads) {
        w.drain(..lead.len());
    }
    while w.len() > 1
        && w.last()
            .is_some_and(|last| LEGAL_FORMS.contains(&last.as_str()))
    {
        w.pop();
    }
    (!w.is_empty()).then(|| w.join(" "))
}

/// Whether the harmonized name `key` holds the words of `query` (harmonized too) in a row.
pub fn beneficiary_matches(key: &str, query: &str) -> bool {
    let Some(query) = beneficiary_key(query) else {
        return false;
    };
    let (key, query) = (format!(" {key} "), format!(" {query} "));
    key.contains(&query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_company_read_as_one_name() {
        for raw in [
            "Microsoft Corporation",
            "MICROSOFT CORP.",
            "Microsoft, Inc",
            "  microsoft  ",
            "On behalf of Microsoft Corp",
        ] {
            assert_eq!(beneficiary_key(raw).as_deref(), Some("microsoft"), "{raw}");
        }
        assert_eq!(
            beneficiary_key("Nestlé S.A.").as_deref(),
            Some("nestle"),
            "accents and dotted legal forms"
        );
        assert_eq!(
            beneficiary_key("Procter & Gamble Co.").as_deref(),
            Some("procter and gamble")
        );
        assert_eq!(
            beneficiary_key("Delta Air Lines, Inc.").as_deref(),
            Some("delta air lines")
        );
    }

    #[test]
    fn a_legal_form_alone_or_nothing_is_kept_or_refused() {
        assert_eq!(beneficiary_key("Company").as_deref(), Some("company"));
        assert_eq!(beneficiary_key(" ,. "), None);
        assert_eq!(beneficiary_key(""), None);
    }

    #[test]
    fn search_matches_whole_words_in_a_row() {
        assert!(beneficiary_matches(
            "microsoft ireland operations",
            "Microsoft"
        ));
        assert!(beneficiary_matches(
            "microsoft ireland operations",
            "microsoft ireland"
        ));
        assert!(!beneficiary_matches("microsoftie", "microsoft"));
        assert!(!beneficiary_matches(
            "ireland microsoft",
            "microsoft ireland"
        ));
        assert!(!beneficiary_matches("microsoft", ""));
    }
}
