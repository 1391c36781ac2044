//! The TOML configuration of a generic connector, as written by hand.
//!
//! Every struct refuses unknown keys, so a misspelt key is an error naming the key and the
//! keys accepted there rather than a silently ignored setting. [`GenericConfig::from_toml`]
//! parses a file's text; [`crate::GenericConnector::new`] then checks what serde cannot (a
//! regular expression's groups, a vocabulary value, a feed without an address).

use std::collections::BTreeMap;
use std::fmt;

use figment::Figment;
use figment::providers::{Format, Toml};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::ConfigError;

/// The whole configuration of one generic connector.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericConfig {
    /// The registry id: a built-in one (`art`) or a new one (`example-registry`: lowercase
    /// letters, digits and inner hyphens).
    pub registry: String,
    /// Default poll schedule, a cron expression with seconds first. Default `0 0 3 * * *`.
    #[serde(default)]
    pub schedule: Option<String>,
    /// Where records come from. Default: files only.
    #[serde(default)]
    pub source: Source,
    /// How dates are written. Default: slashed dates are day first.
    #[serde(default)]
    pub dates: DatesConfig,
    /// How serials are parsed. Without it, a mapped serial is kept as text with no range.
    #[serde(default)]
    pub serial: Option<SerialConfig>,
    /// One table per feed the registry publishes.
    pub feeds: FeedsConfig,
}

impl GenericConfig {
    /// Parses the TOML text of a configuration. `origin` (a file name) is quoted in errors.
    pub fn from_toml(origin: &str, text: &str) -> Result<Self, ConfigError> {
        Figment::from(Toml::string(text))
            .extract::<GenericConfig>()
            .map_err(|e| ConfigError::Parse {
                origin: origin.to_owned(),
                errors: e.into_iter().map(|one| describe(&one)).collect(),
            })
    }

    /// Reads and parses a configuration file.
    pub fn from_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_toml(&path.display().to_string(), &text)
    }
}

/// One figment error as `key: what is wrong`, without figment's profile prefix.
fn describe(error: &figment::Error) -> String {
    let path: Vec<&str> = error
        .path
        .iter()
        .map(String::as_str)
        .skip_while(|p| *p == "default")
        .collect();
    let kind = error.kind.to_string();
    if path.is_empty() {
        kind
    } else {
        format!("`{}`: {kind}", path.join("."))
    }
}

/// Where records come from.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Source {
    /// Files downloaded by hand only; `fetch_page` refuses.
    #[default]
    Files,
    /// An HTTP API or export URL.
    Http(HttpSource),
}

/// An HTTP source.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSource {
    /// Scheme and host (and an optional path prefix) every feed's `path` is joined to.
    pub base_url: String,
    /// Headers sent with every request (e.g. `Accept`).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// How pages are requested. Default: one request per feed.
    #[serde(default)]
    pub pagination: Pagination,
    /// The most pages one feed may have; a cursor past it is refused. Default 100000.
    #[serde(default)]
    pub max_pages: Option<u64>,
}

/// How a feed is paged.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(tag = "style", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Pagination {
    /// One request returns the whole feed.
    #[default]
    None,
    /// `?offset=N&limit=M`: the cursor is the offset.
    Offset {
        /// Name of the offset parameter. Default `offset`.
        #[serde(default)]
        offset_param: Option<String>,
        /// Name of the limit parameter. Default `limit`.
        #[serde(default)]
        limit_param: Option<String>,
        /// Records per page.
        page_size: u32,
    },
    /// `?page=N&size=M`: the cursor is the page number.
    Page {
        /// Name of the page parameter. Default `page`.
        #[serde(default)]
        page_param: Option<String>,
        /// Name of the page-size parameter. Default `size`.
        #[serde(default)]
        size_param: Option<String>,
        /// Records per page.
        page_size: u32,
        /// Number of the first page. Default 1.
        #[serde(default)]
        first_page: Option<u64>,
    },
    /// Each JSON page names the URL of the next one; the cursor is that URL.
    NextLink {
        /// JSON path of the next page's URL (absolute, or relative to the page's URL).
        next: String,
    },
}

/// How dates are written.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatesConfig {
    /// Which number comes first in a slashed date such as `04/03/2021`. Default `day-first`.
    #[serde(default)]
    pub order: Option<DateOrderConfig>,
    /// chrono formats tried before the built-in layouts (e.g. `%d.%m.%Y`).
    #[serde(default)]
    pub formats: Vec<String>,
}

/// `day-first` or `month-first`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DateOrderConfig {
    /// `dd/mm/yyyy`.
    DayFirst,
    /// `mm/dd/yyyy`.
    MonthFirst,
}

/// How serials are parsed: exactly one of `grammar` and `regex`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialConfig {
    /// The registry id whose built-in grammar reads the serials (`verra`, `gold-standard`,
    /// `acr`, `car`, `art`, `cercarbono`, `biocarbon`, `puro`, `cdm`, `cadt`).
    #[serde(default)]
    pub grammar: Option<String>,
    /// A regular expression with the named groups `namespace`, `start` and `end` (`start` and
    /// `end` may be left out when the feed maps `serial_from` and `serial_to`).
    #[serde(default)]
    pub regex: Option<String>,
    /// What to do when the serial's range holds another quantity than the record states:
    /// `keep` (default: the matcher reports it) or `reject`.
    #[serde(default)]
    pub on_quantity_mismatch: Option<MismatchPolicy>,
}

/// What to do with a record whose serial range and quantity disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MismatchPolicy {
    /// Keep the record; the difference is evidence for the matcher.
    Keep,
    /// Reject the record.
    Reject,
}

/// One table per feed; a feed left out is not read.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedsConfig {
    /// Project listings.
    #[serde(default)]
    pub projects: Option<FeedConfig<ProjectFields>>,
    /// Issuance blocks.
    #[serde(default)]
    pub issuances: Option<FeedConfig<CreditFields>>,
    /// Retirement blocks.
    #[serde(default)]
    pub retirements: Option<FeedConfig<CreditFields>>,
    /// Cancellation blocks.
    #[serde(default)]
    pub cancellations: Option<FeedConfig<CreditFields>>,
    /// A combined ledger of every transaction type.
    #[serde(default)]
    pub transactions: Option<FeedConfig<CreditFields>>,
}

/// One feed.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig<F> {
    /// `csv` or `json`.
    pub format: FormatConfig,
    /// Path joined to the source's `base_url` (or an absolute URL). Needed for HTTP sources.
    #[serde(default)]
    pub path: Option<String>,
    /// JSON path of the array of records in a page or file. Default: the document itself.
    #[serde(default)]
    pub records: Option<String>,
    /// JSON path of the total number of records, checked by offset and page pagination.
    #[serde(default)]
    pub total: Option<String>,
    /// How `detect_feed` recognises a file of this feed.
    #[serde(default)]
    pub detect: DetectConfig,
    /// Template of the record key (credit feeds), e.g. `retired:{serial}`.
    #[serde(default)]
    pub key: Option<String>,
    /// Which column or JSON path holds each model field.
    pub fields: F,
    /// How the transaction type is found (credit feeds).
    #[serde(default)]
    pub transaction: Option<RuleConfig>,
    /// How the status is found: the unit status of credit feeds (default: from the transaction
    /// type), or the project status of the projects feed (default: the built-in mapping of the
    /// `status` field).
    #[serde(default)]
    pub status: Option<RuleConfig>,
    /// Further credit records one row yields, e.g. a buffer contribution beside an issuance.
    #[serde(default)]
    pub extra: Vec<ExtraRecordConfig>,
    /// Labels of a project (projects feed only), one table each.
    #[serde(default)]
    pub label: Vec<LabelConfig>,
    /// A note composed of several columns, `Label: value` joined by `; ` (credit feeds; instead
    /// of `fields.note`).
    #[serde(default)]
    pub note_parts: Vec<NotePartConfig>,
    /// Date settings of this feed, replacing the top-level `[dates]`.
    #[serde(default)]
    pub dates: Option<DatesConfig>,
}

/// The layout of a feed's pages and files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FormatConfig {
    /// CSV with a header row.
    Csv,
    /// JSON: an array of objects, at `records` inside the document.
    Json,
}

/// How a file of a feed is recognised.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetectConfig {
    /// Case-insensitive parts of a file name that identify the feed.
    #[serde(default)]
    pub file_name: Vec<String>,
    /// CSV header names (or JSON member names) that identify the feed, beside the mapped ones.
    #[serde(default)]
    pub columns: Vec<String>,
}

/// A label read from a column.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelConfig {
    /// What kind of label it is, e.g. `corsia` or `crediting_program`.
    pub kind: String,
    /// The column or JSON path of its value.
    pub column: Names,
    /// A regular expression applied to the value: when it matches, the label is its group
    /// `value` (or the whole match); when it does not, the value as published.
    #[serde(default)]
    pub pattern: Option<String>,
}

/// One part of a composed note.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotePartConfig {
    /// Written before the value, as `label: value`.
    pub label: String,
    /// The column or JSON path; a blank value leaves the part out.
    pub column: Names,
}

/// A vocabulary rule: `fixed` (one value), `column` (the registry's word, mapped), or, for a
/// credit feed's status only, `raw` alone (the status follows the transaction type and is
/// recorded with this raw word).
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    /// One value for every record of the feed (e.g. `retirement`).
    #[serde(default)]
    pub fixed: Option<String>,
    /// The raw value recorded beside a fixed value. Default: the fixed value.
    #[serde(default)]
    pub raw: Option<String>,
    /// The column or JSON path holding the registry's own word.
    #[serde(default)]
    pub column: Option<Names>,
    /// The registry's words (compared case-insensitively, blanks folded) → values.
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// A word the map lacks: `builtin` (default: carbonmesh's mapping for the registry),
    /// `unknown`, or `reject`.
    #[serde(default)]
    pub unmapped: Option<Unmapped>,
    /// The value given instead of `unknown` when neither the map nor the built-in mapping
    /// knows the word (e.g. `cancellation` for a cancellations feed).
    #[serde(default)]
    pub default: Option<String>,
}

/// What a rule does with a word its map lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unmapped {
    /// carbonmesh's built-in mapping for the registry (falls back to `unknown`).
    Builtin,
    /// The vocabulary's `unknown` value.
    Unknown,
    /// Reject the record.
    Reject,
}

/// A further credit record read from the same row.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraRecordConfig {
    /// Column or JSON path of its quantity; a blank or zero quantity yields no record.
    pub quantity: Names,
    /// Its transaction type (e.g. `buffer`).
    pub transaction: String,
    /// Its unit status. Default: from the transaction type.
    #[serde(default)]
    pub status: Option<String>,
    /// The raw value kept beside the transaction type and status. Default: the column name.
    #[serde(default)]
    pub raw: Option<String>,
    /// Appended to the row's record key after `#`.
    pub key_suffix: String,
}

/// Model fields of a credit feed: each a column name (or JSON path), or a list of accepted
/// spellings.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditFields {
    /// The registry's project id. Required.
    pub project_id: Option<Names>,
    /// Number of units. Required.
    pub quantity: Option<Names>,
    /// The serial as published.
    #[serde(default)]
    pub serial: Option<Names>,
    /// First unit position published beside the serial.
    #[serde(default)]
    pub serial_from: Option<Names>,
    /// Last unit position published beside the serial.
    #[serde(default)]
    pub serial_to: Option<Names>,
    /// Vintage year (or a range or date; its first year is kept).
    #[serde(default)]
    pub vintage: Option<Names>,
    /// Date of the transaction.
    #[serde(default)]
    pub event_date: Option<Names>,
    /// Start of the monitoring period.
    #[serde(default)]
    pub period_start: Option<Names>,
    /// End of the monitoring period.
    #[serde(default)]
    pub period_end: Option<Names>,
    /// Account or account holder.
    #[serde(default)]
    pub account: Option<Names>,
    /// Beneficiary of a retirement.
    #[serde(default)]
    pub beneficiary: Option<Names>,
    /// Reason of a retirement or cancellation.
    #[serde(default)]
    pub reason: Option<Names>,
    /// Free-text note.
    #[serde(default)]
    pub note: Option<Names>,
}

/// Model fields of the projects feed.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectFields {
    /// The registry's project id. Required.
    pub project_id: Option<Names>,
    /// Project name. Required.
    pub name: Option<Names>,
    /// Developer or proponent.
    #[serde(default)]
    pub developer: Option<Names>,
    /// Host country (a name or an ISO code).
    #[serde(default)]
    pub country: Option<Names>,
    /// Methodology or protocol.
    #[serde(default)]
    pub methodology: Option<Names>,
    /// Project status as the registry words it.
    #[serde(default)]
    pub status: Option<Names>,
    /// Project type.
    #[serde(default)]
    pub project_type: Option<Names>,
    /// Sector.
    #[serde(default)]
    pub sector: Option<Names>,
    /// Category within the sector.
    #[serde(default)]
    pub category: Option<Names>,
    /// Region, state or site.
    #[serde(default)]
    pub region: Option<Names>,
    /// Start of the crediting period.
    #[serde(default)]
    pub crediting_start: Option<Names>,
    /// End of the crediting period.
    #[serde(default)]
    pub crediting_end: Option<Names>,
    /// Corresponding adjustment status.
    #[serde(default)]
    pub corresponding_adjustment: Option<Names>,
    /// The project's page on the registry.
    #[serde(default)]
    pub registry_url: Option<Names>,
}

/// A column name or JSON path, or a list of accepted spellings (the first present wins).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names(pub Vec<String>);

impl Names {
    /// The names as string slices.
    pub fn as_strs(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}

impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamesVisitor;
        impl<'de> Visitor<'de> for NamesVisitor {
            type Value = Names;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a column name or JSON path, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Names, E> {
                if v.trim().is_empty() {
                    return Err(E::custom("a column name may not be blank"));
                }
                Ok(Names(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Names, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    if name.trim().is_empty() {
                        return Err(de::Error::custom("a column name may not be blank"));
                    }
                    names.push(name);
                }
                if names.is_empty() {
                    return Err(de::Error::custom("the list of names is empty"));
                }
                Ok(Names(names))
            }
        }
        deserializer.deserialize_any(NamesVisitor)
    }
}
