//! Raw records as fetched, and what normalizing them yields.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use carbonmesh_model::{CreditRecord, Project};
use carbonmesh_normalize::{HeaderMap, clean_text};

/// A kind of record a registry publishes, usually one export file or API endpoint each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feed {
    /// Project listings.
    Projects,
    /// Issuance blocks.
    Issuances,
    /// Retirement blocks.
    Retirements,
    /// Cancellation blocks.
    Cancellations,
    /// A combined ledger of every transaction type (Verra's VCU export).
    Transactions,
}

impl Feed {
    /// Every feed.
    pub const ALL: [Feed; 5] = [
        Feed::Projects,
        Feed::Issuances,
        Feed::Retirements,
        Feed::Cancellations,
        Feed::Transactions,
    ];

    /// The name used on the command line and in run records.
    pub const fn as_str(self) -> &'static str {
        match self {
            Feed::Projects => "projects",
            Feed::Issuances => "issuances",
            Feed::Retirements => "retirements",
            Feed::Cancellations => "cancellations",
            Feed::Transactions => "transactions",
        }
    }
}

impl fmt::Display for Feed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A feed name carbonmesh does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown kind `{0}` (known: projects, issuances, retirements, cancellations, transactions)"
)]
pub struct UnknownFeed(pub String);

impl FromStr for Feed {
    type Err = UnknownFeed;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Feed::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownFeed(s.to_owned()))
    }
}

/// One record as the registry published it, with where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    /// The feed it belongs to.
    pub feed: Feed,
    /// The file path or URL it was read from.
    pub source: String,
    /// 1-based line in a CSV file, or 1-based position in a JSON page.
    pub line: u64,
    /// The record itself.
    pub body: RawBody,
}

/// The content of a raw record.
#[derive(Debug, Clone, PartialEq)]
pub enum RawBody {
    /// A CSV row; the header is shared by every row of its file or page.
    Csv {
        /// The file's header row.
        headers: Arc<HeaderMap>,
        /// The row's fields, as many as the header has.
        fields: Vec<String>,
    },
    /// A JSON object (one element of an API page or export array).
    Json(serde_json::Value),
}

impl RawRecord {
    /// The raw record as text: the CSV fields joined by commas (quoted where needed), or the
    /// JSON object. Kept with rejected records, and hashed for provenance.
    pub fn text(&self) -> String {
        match &self.body {
            RawBody::Csv { fields, .. } => fields
                .iter()
                .map(|f| {
                    if f.contains([',', '"', '\n', '\r']) {
                        format!("\"{}\"", f.replace('"', "\"\""))
                    } else {
                        f.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
            RawBody::Json(value) => value.to_string(),
        }
    }

    /// sha256 (hex) of [`RawRecord::text`], computed without building the text (it runs once
    /// per record read).
    pub fn raw_hash(&self) -> String {
        hex::encode(self.raw_digest())
    }

    /// sha256 of [`RawRecord::text`], as bytes.
    pub fn raw_digest(&self) -> [u8; 32] {
        use sha2::Digest as _;
        match &self.body {
            RawBody::Csv { fields, .. } => {
                // The row's text in one buffer, hashed at once: many small updates cost more
                // than the copy.
                let mut text = Vec::with_capacity(fields.iter().map(|f| f.len() + 3).sum());
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        text.push(b',');
                    }
                    let bytes = f.as_bytes();
                    if bytes
                        .iter()
                        .any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
                    {
                        text.push(b'"');
                        for &b in bytes {
                            if b == b'"' {
                                text.push(b'"');
                            }
                            text.push(b);
                        }
                        text.push(b'"');
                    } else {
                        text.extend_from_slice(bytes);
                    }
                }
                sha2::Sha256::digest(&text).into()
            }
            RawBody::Json(_) => sha2::Sha256::digest(self.text().as_bytes()).into(),
        }
    }

    /// `source:line`, for provenance and error messages.
    pub fn location(&self) -> String {
        format!("{}:{}", self.source, self.line)
    }

    /// The CSV field under the first of `names` (compared after header normalization) that the
    /// header has, or the JSON member at the first of `names` that is present.
    ///
    /// Returns `None` when the field is absent; an empty field is `Some("")`.
    pub fn field(&self, names: &[&str]) -> Option<String> {
        match &self.body {
            RawBody::Csv { headers, fields } => headers
                .find(names)
                .and_then(|i| fields.get(i))
                .map(|f| f.to_owned()),
            RawBody::Json(value) => names.iter().find_map(|name| {
                let v = pointer(value, name)?;
                Some(match v {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }),
        }
    }
}

impl RawRecord {
    /// The field under the first of `names`, cleaned (trimmed, runs of spaces folded);
    /// `None` when absent, blank, or a placeholder such as `nan` or `N/A`.
    pub fn clean_field(&self, names: &[&str]) -> Option<String> {
        self.field(names).as_deref().and_then(clean_text)
    }

    /// The name of the field `names` finds, as the source spells it (the CSV header), for
    /// rejections; the first accepted name when the source has none of them.
    pub fn field_name(&self, names: &[&str]) -> String {
        if let RawBody::Csv { headers, .. } = &self.body
            && let Some(i) = headers.find(names)
            && let Some(h) = headers.raw().get(i)
        {
            return h.trim().to_owned();
        }
        names.first().map_or_else(String::new, |n| (*n).to_owned())
    }
}

/// A JSON member by name, or by a dotted path (`project.id`).
fn pointer<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    if let Some(v) = value.get(path) {
        return Some(v);
    }
    path.split('.').try_fold(value, |v, part| v.get(part))
}

/// What normalizing a raw record yields.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A project.
    Project(Project),
    /// A credit block.
    Credit(CreditRecord),
}

impl Record {
    /// Checks the record against the model's rules; a broken rule rejects the raw record,
    /// naming the field.
    pub fn validate(&self) -> Result<(), Rejection> {
        match self {
            Record::Project(p) => p.validate(),
            Record::Credit(c) => c.validate(),
        }
        .map_err(|e| Rejection::field(e.field, e.reason))
    }
}

/// Why a raw record could not be normalized; the record is kept with this reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct Rejection {
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: String,
}

impl Rejection {
    /// A rejection naming the field at fault.
    pub fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: Some(field.into()),
            reason: reason.into(),
        }
    }

    /// A rejection of the record as a whole.
    pub fn record(reason: impl Into<String>) -> Self {
        Self {
            field: None,
            reason: reason.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_round_trip() {
        for f in Feed::ALL {
            assert_eq!(f.as_str().parse::<Feed>(), Ok(f));
        }
        assert!("trades".parse::<Feed>().is_err());
    }

    #[test]
    fn fields_by_any_accepted_name() {
        let headers = Arc::new(HeaderMap::new(["Serial Number", "Quantity  Issued"]));
        let csv = RawRecord {
            feed: Feed::Transactions,
            source: "t.csv".into(),
            line: 2,
            body: RawBody::Csv {
                headers,
                fields: vec!["A-1".into(), "1,000".into()],
            },
        };
        assert_eq!(csv.field(&["quantity issued"]).as_deref(), Some("1,000"));
        assert_eq!(
            csv.field(&["missing", "serial number"]).as_deref(),
            Some("A-1")
        );
        assert_eq!(csv.field(&["missing"]), None);
        assert_eq!(csv.location(), "t.csv:2");

        let json = RawRecord {
            body: RawBody::Json(serde_json::json!({"a": {"b": 3}, "c": null, "d": "x,y"})),
            ..csv.clone()
        };
        assert_eq!(json.field(&["a.b"]).as_deref(), Some("3"));
        assert_eq!(json.field(&["c"]).as_deref(), Some(""));
        assert_eq!(json.field(&["d"]).as_deref(), Some("x,y"));
        assert_eq!(csv.text(), "A-1,\"1,000\"");
        assert_eq!(
            csv.raw_hash(),
            carbonmesh_model::sha256_hex(csv.text().as_bytes())
        );
        let quoted = RawRecord {
            body: RawBody::Csv {
                headers: Arc::new(HeaderMap::new(["a", "b", "c"])),
                fields: vec!["say \"hi\"".into(), "two\nlines".into(), String::new()],
            },
            ..csv.clone()
        };
        assert_eq!(
            quoted.raw_hash(),
            carbonmesh_model::sha256_hex(quoted.text().as_bytes())
        );
    }
}
