//! CSV header matching that survives registries' whitespace and case drift.
//!
//! Real headers: `Status Effective  (GMT)` (double space, ACR cancellations),
//! `Total Number of Credits Registered ` (trailing space), `Program  Country` (ART), Berkeley's
//! `" Type"`, renamed columns (`CCP Approved` → `ICVCM CCP Eligible`). Connectors therefore find
//! columns by name, never by position, and accept every known spelling.

/// Normalizes a header for matching: strips a BOM, trims, collapses internal whitespace to one
/// space and case-folds. `Status Effective  (GMT)` → `status effective (gmt)`.
pub fn normalize_header(raw: &str) -> String {
    raw.trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A required column: the name the connector uses for it and every header spelling accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'a> {
    /// The connector's name for the column, used in error messages.
    pub name: &'a str,
    /// Header spellings accepted, compared after [`normalize_header`].
    pub accepted: &'a [&'a str],
}

/// Required columns absent from a header row.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing required column(s) {missing:?}; the header has {seen:?}")]
pub struct MissingColumns {
    /// The connector's names of the columns not found.
    pub missing: Vec<String>,
    /// The header names as they appear in the file.
    pub seen: Vec<String>,
}

/// A header row indexed by normalized name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HeaderMap {
    raw: Vec<String>,
    normalized: Vec<String>,
    found: Found,
}

/// The answers [`HeaderMap::find`] gave, by the list of spellings asked: a connector asks the
/// same few questions of every row, and normalizing the spellings each time cost more than
/// the rest of reading a row. Keyed by the list's contents (and, to skip comparing them, its
/// address when it is a constant).
#[derive(Debug, Default)]
struct Found(std::sync::Mutex<Vec<Answer>>);

/// One remembered answer: the spellings' address, the spellings, the column.
type Answer = (usize, Vec<String>, Option<usize>);

/// Distinct spelling lists remembered; past this, answers are computed every time.
const FOUND_LIMIT: usize = 256;

impl Clone for Found {
    fn clone(&self) -> Self {
        Found::default()
    }
}

impl PartialEq for Found {
    /// Remembered answers follow from the header: they never make two maps differ.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Found {}

impl HeaderMap {
    /// Indexes a header row.
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let raw: Vec<String> = headers.into_iter().map(|h| h.as_ref().to_owned()).collect();
        let normalized = raw.iter().map(|h| normalize_header(h)).collect();
        HeaderMap {
            raw,
            normalized,
            found: Found::default(),
        }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// Whether the header row is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The header names exactly as in the file.
    pub fn raw(&self) -> &[String] {
        &self.raw
    }

    /// The normalized header names, in file order.
    pub fn normalized(&self) -> &[String] {
        &self.normalized
    }

    /// Index of the first column whose normalized name equals any accepted spelling; the
    /// spellings are tried in order, so list the preferred one first.
    pub fn find(&self, accepted: &[&str]) -> Option<usize> {
        let address = accepted.as_ptr() as usize;
        let same = |names: &[String]| {
            names
                .iter()
                .map(String::as_str)
                .eq(accepted.iter().copied())
        };
        let mut found = self
            .found
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((_, _, index)) = found.iter().find(|(a, n, _)| *a == address && same(n)) {
            return *index;
        }
        if let Some((a, _, index)) = found.iter_mut().find(|(_, n, _)| same(n)) {
            *a = address;
            return *index;
        }
        let index = accepted.iter().find_map(|name| {
            let want = normalize_header(name);
            self.normalized.iter().position(|h| *h == want)
        });
        if found.len() < FOUND_LIMIT {
            found.push((
                address,
                accepted.iter().map(|n| (*n).to_owned()).collect(),
                index,
            ));
        }
        index
    }

    /// Index of a required column, or which one is missing and what the header has.
    pub fn require(&self, column: Column<'_>) -> Result<usize, MissingColumns> {
        self.find(column.accepted)
            .ok_or_else(|| self.missing(vec![column.name.to_owned()]))
    }

    /// Indices of every required column, reporting all missing ones at once.
    pub fn require_all<const N: usize>(
        &self,
        columns: [Column<'_>; N],
    ) -> Result<[usize; N], MissingColumns> {
        let found = columns.map(|c| self.find(c.accepted));
        let missing: Vec<String> = columns
            .iter()
            .zip(found.iter())
            .filter(|(_, f)| f.is_none())
            .map(|(c, _)| c.name.to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(self.missing(missing));
        }
        Ok(found.map(|f| f.unwrap_or_default()))
    }

    fn missing(&self, missing: Vec<String>) -> MissingColumns {
        MissingColumns {
            missing,
            seen: self.raw.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_registry_headers() {
        assert_eq!(
            normalize_header("Status Effective  (GMT)"),
            "status effective (gmt)"
        );
        assert_eq!(
            normalize_header("Total Number of Credits Registered "),
            "total number of credits registered"
        );
        assert_eq!(normalize_header("\u{feff}Vintage"), "vintage");
        assert_eq!(normalize_header(" Type"), "type");
        assert_eq!(normalize_header("Program \t Country"), "program country");
    }

    #[test]
    fn finds_columns_by_any_spelling() {
        let h = HeaderMap::new(["Vintage", "Status Effective  (GMT)", "ICVCM CCP Eligible"]);
        assert_eq!(h.find(&["Status Effective (GMT)"]), Some(1));
        assert_eq!(h.find(&["CCP Approved", "ICVCM CCP Eligible"]), Some(2));
        assert_eq!(h.find(&["Quantity"]), None);
        let vintage = Column {
            name: "vintage",
            accepted: &["Vintage"],
        };
        let quantity = Column {
            name: "quantity",
            accepted: &["Quantity of Credits", "Quantity"],
        };
        let beneficiary = Column {
            name: "beneficiary",
            accepted: &["Using Entity", "* Using Entity"],
        };
        assert_eq!(h.require(vintage), Ok(0));
        let err = h
            .require_all([vintage, quantity, beneficiary])
            .expect_err("two columns are missing");
        assert_eq!(err.missing, vec!["quantity", "beneficiary"]);
        assert_eq!(err.seen.len(), 3);
        assert!(err.to_string().contains("Status Effective  (GMT)"));
    }
}
