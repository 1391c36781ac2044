//! The configuration checked and compiled into what the connector runs on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use carbonmesh_connector::Feed;
use carbonmesh_model::{ProjectStatus, RegistryId, TransactionType, UnitStatus};
use carbonmesh_normalize::DateOrder;
use regex::Regex;

use crate::ConfigError;
use crate::config::{
    CreditFields, DateOrderConfig, DatesConfig, ExtraRecordConfig, FeedConfig, FormatConfig,
    GenericConfig, MismatchPolicy, Names, Pagination, ProjectFields, RuleConfig, SerialConfig,
    Source, Unmapped,
};
use crate::json_path::JsonPath;

/// The default poll schedule: daily at 03:00 UTC.
pub const DEFAULT_SCHEDULE: &str = "0 0 3 * * *";
/// The default page cap of one feed.
pub const DEFAULT_MAX_PAGES: u64 = 100_000;

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        reason: reason.into(),
    }
}

/// Everything the connector needs, checked.
#[derive(Debug)]
pub(crate) struct Spec {
    pub registry: RegistryId,
    pub schedule: String,
    pub feed_order: Vec<Feed>,
    pub http: Option<HttpSpec>,
    pub feeds: BTreeMap<Feed, FeedSpec>,
}

#[derive(Debug)]
pub(crate) struct HttpSpec {
    pub base_url: String,
    pub headers: Vec<(String, String)>,
    pub paging: Paging,
    pub max_pages: u64,
}

#[derive(Debug)]
pub(crate) enum Paging {
    None,
    Offset {
        offset_param: String,
        limit_param: String,
        size: u32,
    },
    Page {
        page_param: String,
        size_param: String,
        size: u32,
        first: u64,
    },
    NextLink {
        next: JsonPath,
    },
}

#[derive(Debug)]
pub(crate) struct FeedSpec {
    pub feed: Feed,
    pub format: FormatConfig,
    pub url: Option<String>,
    pub records: JsonPath,
    pub total: Option<JsonPath>,
    pub detect_file_names: Vec<String>,
    /// Names that must all be present for a file to be this feed's.
    pub signature: Vec<Names>,
    /// Every mapped name, for scoring a header.
    pub mapped: Vec<Names>,
    /// `(model field, names)` of the columns a CSV must have.
    pub required: Vec<(&'static str, Names)>,
    pub dates: DateSpec,
    pub kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Project(Box<ProjectSpec>),
    Credit(Box<CreditSpec>),
}

#[derive(Debug, Clone)]
pub(crate) struct DateSpec {
    pub order: DateOrder,
    pub formats: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct ProjectSpec {
    pub fields: ProjectFields,
    pub status: Option<Rule<ProjectStatus>>,
    pub labels: Vec<LabelSpec>,
}

#[derive(Debug)]
pub(crate) struct LabelSpec {
    pub kind: String,
    pub column: Names,
    pub pattern: Option<Regex>,
}

#[derive(Debug)]
pub(crate) struct CreditSpec {
    pub fields: CreditFields,
    pub key: Template,
    pub transaction: Rule<TransactionType>,
    pub status: Option<Rule<UnitStatus>>,
    pub extras: Vec<Extra>,
    pub note_parts: Vec<(String, Names)>,
    pub serial: Option<Arc<SerialSpec>>,
}

#[derive(Debug)]
pub(crate) struct Extra {
    pub quantity: Names,
    pub transaction: TransactionType,
    pub status: UnitStatus,
    pub raw: String,
    pub key_suffix: String,
}

#[derive(Debug)]
pub(crate) enum SerialParser {
    /// The serials crate, with this registry as the hint.
    Grammar(RegistryId),
    /// A regular expression; `has_range` when it captures `start` and `end`.
    Regex { regex: Regex, has_range: bool },
}

#[derive(Debug)]
pub(crate) struct SerialSpec {
    pub parser: SerialParser,
    pub mismatch: MismatchPolicy,
}

/// A vocabulary rule.
#[derive(Debug)]
pub(crate) enum Rule<T> {
    Fixed {
        value: T,
        raw: String,
    },
    Column {
        names: Names,
        map: BTreeMap<String, T>,
        unmapped: Unmapped,
        default: Option<T>,
    },
    /// Follows the transaction type, recorded with this raw word (credit status only).
    Derived {
        raw: String,
    },
}

/// A record key template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub text: String,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Part {
    Literal(String),
    Transaction,
    ProjectId,
    Serial,
    Vintage,
    EventDate,
    Quantity,
    Column(String),
}

/// The key a rule map is looked up with: lower case, blanks folded.
pub(crate) fn rule_key(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// A vocabulary of the model.
pub(crate) trait Vocabulary: Copy + std::fmt::Debug {
    const NAME: &'static str;
    fn from_name(name: &str) -> Option<Self>;
    fn names() -> Vec<&'static str>;
}

macro_rules! vocabulary {
    ($t:ty, $name:literal) => {
        impl Vocabulary for $t {
            const NAME: &'static str = $name;
            fn from_name(name: &str) -> Option<Self> {
                <$t>::from_name(name)
            }
            fn names() -> Vec<&'static str> {
                <$t>::ALL.iter().map(|v| v.as_str()).collect()
            }
        }
    };
}
vocabulary!(TransactionType, "transaction type");
vocabulary!(UnitStatus, "unit status");
vocabulary!(ProjectStatus, "project status");

fn vocab<T: Vocabulary>(key: &str, value: &str) -> Result<T, ConfigError> {
    T::from_name(value.trim()).ok_or_else(|| {
        invalid(
            key,
            format!(
                "`{value}` is not a {} (one of: {})",
                T::NAME,
                T::names().join(", ")
            ),
        )
    })
}

fn rule<T: Vocabulary>(
    key: &str,
    config: &RuleConfig,
    derived_allowed: bool,
) -> Result<Rule<T>, ConfigError> {
    let column_only =
        !config.map.is_empty() || config.unmapped.is_some() || config.default.is_some();
    match (&config.fixed, &config.column) {
        (Some(_), Some(_)) => Err(invalid(key, "set either `fixed` or `column`, not both")),
        (None, None) if derived_allowed && !column_only => match &config.raw {
            Some(raw) => Ok(Rule::Derived { raw: raw.clone() }),
            None => Err(invalid(
                key,
                "set `fixed` (one value), `column`, or `raw` alone (the status follows the \
                 transaction type)",
            )),
        },
        (None, None) => Err(invalid(key, "set `fixed` (one value) or `column`")),
        (Some(fixed), None) => {
            if column_only {
                return Err(invalid(
                    key,
                    "`map`, `unmapped` and `default` apply to a `column` rule, not a `fixed` one",
                ));
            }
            Ok(Rule::Fixed {
                value: vocab(&format!("{key}.fixed"), fixed)?,
                raw: config.raw.clone().unwrap_or_else(|| fixed.clone()),
            })
        }
        (None, Some(names)) => {
            if config.raw.is_some() {
                return Err(invalid(
                    format!("{key}.raw"),
                    "applies to a `fixed` rule; a `column` rule keeps the column's value",
                ));
            }
            let mut map = BTreeMap::new();
            for (word, value) in &config.map {
                map.insert(rule_key(word), vocab(&format!("{key}.map.{word}"), value)?);
            }
            Ok(Rule::Column {
                names: names.clone(),
                map,
                unmapped: config.unmapped.unwrap_or(Unmapped::Builtin),
                default: config
                    .default
                    .as_deref()
                    .map(|d| vocab(&format!("{key}.default"), d))
                    .transpose()?,
            })
        }
    }
}

fn dates(config: &DatesConfig) -> DateSpec {
    DateSpec {
        order: match config.order {
            Some(DateOrderConfig::MonthFirst) => DateOrder::MonthFirst,
            Some(DateOrderConfig::DayFirst) | None => DateOrder::DayFirst,
        },
        formats: config.formats.clone(),
    }
}

fn check_date_formats(key: &str, config: &DatesConfig) -> Result<(), ConfigError> {
    for format in &config.formats {
        let items = chrono::format::StrftimeItems::new(format);
        if items
            .into_iter()
            .any(|i| matches!(i, chrono::format::Item::Error))
        {
            return Err(invalid(
                format!("{key}.formats"),
                format!("`{format}` is not a valid chrono format"),
            ));
        }
    }
    Ok(())
}

fn serial_spec(config: &SerialConfig) -> Result<SerialSpec, ConfigError> {
    let mismatch = config.on_quantity_mismatch.unwrap_or(MismatchPolicy::Keep);
    let parser = match (&config.grammar, &config.regex) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "serial",
                "set either `grammar` or `regex`, not both",
            ));
        }
        (None, None) => return Err(invalid("serial", "set `grammar` or `regex`")),
        (Some(grammar), None) => {
            let known = RegistryId::WELL_KNOWN
                .into_iter()
                .find(|r| r.as_str().eq_ignore_ascii_case(grammar.trim()));
            let registry = known.ok_or_else(|| {
                invalid(
                    "serial.grammar",
                    format!(
                        "`{grammar}` is not a registry whose serial grammar carbonmesh knows (one of: {})",
                        RegistryId::WELL_KNOWN.map(|r| r.to_string()).join(", ")
                    ),
                )
            })?;
            if registry == RegistryId::ARB {
                return Err(invalid(
                    "serial.grammar",
                    "the ARB table publishes no serials, so `arb` has no grammar",
                ));
            }
            SerialParser::Grammar(registry)
        }
        (None, Some(pattern)) => {
            let regex = Regex::new(pattern).map_err(|e| {
                invalid(
                    "serial.regex",
                    format!("not a valid regular expression: {e}"),
                )
            })?;
            let groups: BTreeSet<&str> = regex.capture_names().flatten().collect();
            if !groups.contains("namespace") {
                return Err(invalid(
                    "serial.regex",
                    "needs a named group `namespace` (`(?P<namespace>…)`)",
                ));
            }
            let has_range = match (groups.contains("start"), groups.contains("end")) {
                (true, true) => true,
                (false, false) => false,
                _ => {
                    return Err(invalid(
                        "serial.regex",
                        "names only one of the groups `start` and `end`; name both, or neither \
                         and map `serial_from` and `serial_to`",
                    ));
                }
            };
            SerialParser::Regex { regex, has_range }
        }
    };
    Ok(SerialSpec { parser, mismatch })
}

fn template(key: &str, text: &str) -> Result<Template, ConfigError> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| invalid(key, format!("`{text}` opens `{{` without closing it")))?;
        let name = after[..close].trim();
        parts.push(match name {
            "transaction" => Part::Transaction,
            "project_id" => Part::ProjectId,
            "serial" => Part::Serial,
            "vintage" => Part::Vintage,
            "event_date" => Part::EventDate,
            "quantity" => Part::Quantity,
            other => match other.strip_prefix("column:") {
                Some(column) if !column.trim().is_empty() => Part::Column(column.to_owned()),
                _ => {
                    return Err(invalid(
                        key,
                        format!(
                            "unknown placeholder `{{{name}}}` (known: transaction, project_id, \
                             serial, vintage, event_date, quantity, column:<name>)"
                        ),
                    ));
                }
            },
        });
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(invalid(
            key,
            format!("`{text}` closes `}}` without opening it"),
        ));
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    if !parts.iter().any(|p| !matches!(p, Part::Literal(_))) {
        return Err(invalid(
            key,
            format!("`{text}` has no placeholder, so every record would have the same key"),
        ));
    }
    Ok(Template {
        text: text.to_owned(),
        parts,
    })
}

fn required_name(key: &str, field: &str, names: &Option<Names>) -> Result<Names, ConfigError> {
    names
        .clone()
        .ok_or_else(|| invalid(format!("{key}.fields.{field}"), "is required"))
}

fn url_of(key: &str, base: &str, path: &Option<String>) -> Result<String, ConfigError> {
    let path = path
        .as_deref()
        .ok_or_else(|| invalid(format!("{key}.path"), "is required for an HTTP source"))?;
    let url = if path.starts_with("http://") || path.starts_with("https://") {
        path.to_owned()
    } else {
        format!(
            "{}/{}",
            base.trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    };
    reqwest::Url::parse(&url)
        .map_err(|e| invalid(format!("{key}.path"), format!("`{url}` is not a URL: {e}")))?;
    Ok(url)
}

/// What a feed maps: its model kind, its optional names and its required columns.
struct Mapping {
    kind: Kind,
    mapped: Vec<Names>,
    required: Vec<(&'static str, Names)>,
}

fn common<F>(
    key: &str,
    feed: Feed,
    config: &FeedConfig<F>,
    top: &GenericConfig,
    http: Option<&HttpSpec>,
    mapping: Mapping,
) -> Result<FeedSpec, ConfigError> {
    let Mapping {
        kind,
        mut mapped,
        required,
    } = mapping;
    let url = match http {
        Some(h) => Some(url_of(key, &h.base_url, &config.path)?),
        None => {
            if config.path.is_some() {
                return Err(invalid(
                    format!("{key}.path"),
                    "is only read with an HTTP source (`[source] type = \"http\"`)",
                ));
            }
            None
        }
    };
    let path = |field: &str, text: &Option<String>| -> Result<Option<JsonPath>, ConfigError> {
        text.as_deref()
            .map(|t| JsonPath::parse(t).map_err(|e| invalid(format!("{key}.{field}"), e)))
            .transpose()
    };
    let records = path("records", &config.records)?.unwrap_or_else(JsonPath::root);
    let total = path("total", &config.total)?;
    if config.format == FormatConfig::Csv {
        for (field, set) in [
            ("records", config.records.is_some()),
            ("total", config.total.is_some()),
        ] {
            if set {
                return Err(invalid(
                    format!("{key}.{field}"),
                    "applies to JSON feeds only",
                ));
            }
        }
        if let Some(HttpSpec {
            paging: Paging::NextLink { .. },
            ..
        }) = http
        {
            return Err(invalid(
                key,
                "next-link pagination reads the link from a JSON page; this feed is CSV",
            ));
        }
    }
    if let Some(d) = &config.dates {
        check_date_formats(&format!("{key}.dates"), d)?;
    }
    let mut signature: Vec<Names> = required.iter().map(|(_, n)| n.clone()).collect();
    for column in &config.detect.columns {
        signature.push(Names(vec![column.clone()]));
    }
    mapped.extend(signature.iter().cloned());
    Ok(FeedSpec {
        feed,
        format: config.format,
        url,
        records,
        total,
        detect_file_names: config
            .detect
            .file_name
            .iter()
            .map(|n| n.to_lowercase())
            .collect(),
        signature,
        mapped,
        required,
        dates: dates(config.dates.as_ref().unwrap_or(&top.dates)),
        kind,
    })
}

fn project_feed(
    config: &FeedConfig<ProjectFields>,
    top: &GenericConfig,
    http: Option<&HttpSpec>,
) -> Result<FeedSpec, ConfigError> {
    let key = "feeds.projects";
    let f = &config.fields;
    let id = required_name(key, "project_id", &f.project_id)?;
    let name = required_name(key, "name", &f.name)?;
    for (field, set) in [
        ("key", config.key.is_some()),
        ("transaction", config.transaction.is_some()),
        ("extra", !config.extra.is_empty()),
        ("note_parts", !config.note_parts.is_empty()),
    ] {
        if set {
            return Err(invalid(
                format!("{key}.{field}"),
                "applies to credit feeds, not to projects",
            ));
        }
    }
    let status = config
        .status
        .as_ref()
        .map(|r| rule::<ProjectStatus>(&format!("{key}.status"), r, false))
        .transpose()?;
    if let Some(Rule::Column { .. }) = status
        && f.status.is_some()
    {
        return Err(invalid(
            format!("{key}.status"),
            "names its own column; leave `fields.status` out, or drop `column` here",
        ));
    }
    let mapped: Vec<Names> = [
        &f.developer,
        &f.country,
        &f.methodology,
        &f.status,
        &f.project_type,
        &f.sector,
        &f.category,
        &f.region,
        &f.crediting_start,
        &f.crediting_end,
        &f.corresponding_adjustment,
        &f.registry_url,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .chain(config.label.iter().map(|l| l.column.clone()))
    .collect();
    let mut labels = Vec::new();
    for (i, l) in config.label.iter().enumerate() {
        if l.kind.trim().is_empty() {
            return Err(invalid(
                format!("{key}.label[{i}].kind"),
                "may not be blank",
            ));
        }
        let pattern = l
            .pattern
            .as_deref()
            .map(|p| {
                Regex::new(p).map_err(|e| {
                    invalid(
                        format!("{key}.label[{i}].pattern"),
                        format!("not a valid regular expression: {e}"),
                    )
                })
            })
            .transpose()?;
        labels.push(LabelSpec {
            kind: l.kind.clone(),
            column: l.column.clone(),
            pattern,
        });
    }
    let spec = ProjectSpec {
        fields: f.clone(),
        status,
        labels,
    };
    common(
        key,
        Feed::Projects,
        config,
        top,
        http,
        Mapping {
            kind: Kind::Project(Box::new(spec)),
            mapped,
            required: vec![("project_id", id), ("name", name)],
        },
    )
}

fn extra(key: &str, config: &ExtraRecordConfig) -> Result<Extra, ConfigError> {
    let transaction: TransactionType = vocab(&format!("{key}.transaction"), &config.transaction)?;
    let status = match &config.status {
        Some(s) => vocab(&format!("{key}.status"), s)?,
        None => crate::normalize::status_of(transaction),
    };
    if config.key_suffix.trim().is_empty() {
        return Err(invalid(format!("{key}.key_suffix"), "may not be blank"));
    }
    Ok(Extra {
        quantity: config.quantity.clone(),
        transaction,
        status,
        raw: config
            .raw
            .clone()
            .unwrap_or_else(|| config.quantity.0.first().cloned().unwrap_or_default()),
        key_suffix: config.key_suffix.clone(),
    })
}

fn credit_feed(
    feed: Feed,
    config: &FeedConfig<CreditFields>,
    top: &GenericConfig,
    http: Option<&HttpSpec>,
    serial: Option<&Arc<SerialSpec>>,
) -> Result<FeedSpec, ConfigError> {
    let key = format!("feeds.{feed}");
    let f = &config.fields;
    let id = required_name(&key, "project_id", &f.project_id)?;
    let quantity = required_name(&key, "quantity", &f.quantity)?;
    if !config.label.is_empty() {
        return Err(invalid(
            format!("{key}.label"),
            "applies to the projects feed only",
        ));
    }
    if !config.note_parts.is_empty() && f.note.is_some() {
        return Err(invalid(
            format!("{key}.note_parts"),
            "composes the note; leave `fields.note` out, or drop `note_parts`",
        ));
    }
    let transaction = config
        .transaction
        .as_ref()
        .ok_or_else(|| {
            invalid(
                format!("{key}.transaction"),
                "is required: set `fixed = \"retirement\"` (one type for the feed) or `column`",
            )
        })
        .and_then(|r| rule::<TransactionType>(&format!("{key}.transaction"), r, false))?;
    let status = config
        .status
        .as_ref()
        .map(|r| rule::<UnitStatus>(&format!("{key}.status"), r, true))
        .transpose()?;
    let key_template = match &config.key {
        Some(text) => template(&format!("{key}.key"), text)?,
        None if f.serial.is_some() => template(&format!("{key}.key"), "{transaction}:{serial}")?,
        None => {
            return Err(invalid(
                format!("{key}.key"),
                "is required when no serial is mapped: name the fields that identify a record, \
                 e.g. `issuance:{project_id}:{vintage}:{event_date}`",
            ));
        }
    };
    let uses = |p: &Part| key_template.parts.contains(p);
    if uses(&Part::Serial) && f.serial.is_none() {
        return Err(invalid(
            format!("{key}.key"),
            "uses {serial}, but `fields.serial` is not mapped",
        ));
    }
    for (part, field, mapped) in [
        (Part::Vintage, "vintage", f.vintage.is_some()),
        (Part::EventDate, "event_date", f.event_date.is_some()),
    ] {
        if uses(&part) && !mapped {
            return Err(invalid(
                format!("{key}.key"),
                format!("uses {{{field}}}, but `fields.{field}` is not mapped"),
            ));
        }
    }
    if f.serial_from.is_some() != f.serial_to.is_some() {
        return Err(invalid(
            format!("{key}.fields"),
            "map both `serial_from` and `serial_to`, or neither",
        ));
    }
    if f.serial_from.is_some() && f.serial.is_none() {
        return Err(invalid(
            format!("{key}.fields.serial_from"),
            "positions need the serial they lie in: map `serial` too",
        ));
    }
    if let Some(s) = serial
        && let SerialParser::Regex {
            has_range: false, ..
        } = s.parser
        && f.serial.is_some()
        && f.serial_from.is_none()
    {
        return Err(invalid(
            "serial.regex",
            format!(
                "has no `start` and `end` groups, so {key} must map `serial_from` and `serial_to`"
            ),
        ));
    }
    let extras = config
        .extra
        .iter()
        .enumerate()
        .map(|(i, e)| extra(&format!("{key}.extra[{i}]"), e))
        .collect::<Result<Vec<_>, _>>()?;
    let mut mapped: Vec<Names> = [
        &f.serial,
        &f.serial_from,
        &f.serial_to,
        &f.vintage,
        &f.event_date,
        &f.period_start,
        &f.period_end,
        &f.account,
        &f.beneficiary,
        &f.reason,
        &f.note,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .chain(extras.iter().map(|e| e.quantity.clone()))
    .chain(config.note_parts.iter().map(|p| p.column.clone()))
    .collect();
    let mut required = vec![("project_id", id), ("quantity", quantity)];
    for (label, r) in [
        ("transaction.column", rule_column(&transaction)),
        ("status.column", status.as_ref().and_then(rule_column)),
    ] {
        if let Some(names) = r {
            required.push((label, names));
        }
    }
    mapped.retain(|n| !required.iter().any(|(_, r)| r == n));
    let spec = CreditSpec {
        fields: f.clone(),
        key: key_template,
        transaction,
        status,
        extras,
        note_parts: config
            .note_parts
            .iter()
            .map(|p| (p.label.clone(), p.column.clone()))
            .collect(),
        serial: serial.cloned(),
    };
    common(
        &key,
        feed,
        config,
        top,
        http,
        Mapping {
            kind: Kind::Credit(Box::new(spec)),
            mapped,
            required,
        },
    )
}

fn rule_column<T>(rule: &Rule<T>) -> Option<Names> {
    match rule {
        Rule::Column { names, .. } => Some(names.clone()),
        Rule::Fixed { .. } | Rule::Derived { .. } => None,
    }
}

fn param(key: &str, value: &Option<String>, default: &str) -> Result<String, ConfigError> {
    let name = value.clone().unwrap_or_else(|| default.to_owned());
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'[' | b']'))
    {
        return Err(invalid(
            key,
            format!("`{name}` is not a query parameter name (letters, digits, `_-.[]`)"),
        ));
    }
    Ok(name)
}

fn page_size(key: &str, size: u32) -> Result<u32, ConfigError> {
    if size == 0 {
        return Err(invalid(key, "must be at least 1"));
    }
    Ok(size)
}

fn http_spec(source: &Source) -> Result<Option<HttpSpec>, ConfigError> {
    let Source::Http(h) = source else {
        return Ok(None);
    };
    let base = h.base_url.trim();
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(invalid(
            "source.base_url",
            format!("`{base}` is not an http:// or https:// URL"),
        ));
    }
    reqwest::Url::parse(base)
        .map_err(|e| invalid("source.base_url", format!("`{base}` is not a URL: {e}")))?;
    let paging = match &h.pagination {
        Pagination::None => Paging::None,
        Pagination::Offset {
            offset_param,
            limit_param,
            page_size: size,
        } => Paging::Offset {
            offset_param: param("source.pagination.offset_param", offset_param, "offset")?,
            limit_param: param("source.pagination.limit_param", limit_param, "limit")?,
            size: page_size("source.pagination.page_size", *size)?,
        },
        Pagination::Page {
            page_param,
            size_param,
            page_size: size,
            first_page,
        } => Paging::Page {
            page_param: param("source.pagination.page_param", page_param, "page")?,
            size_param: param("source.pagination.size_param", size_param, "size")?,
            size: page_size("source.pagination.page_size", *size)?,
            first: first_page.unwrap_or(1),
        },
        Pagination::NextLink { next } => Paging::NextLink {
            next: JsonPath::parse(next).map_err(|e| invalid("source.pagination.next", e))?,
        },
    };
    let max_pages = h.max_pages.unwrap_or(DEFAULT_MAX_PAGES);
    if max_pages == 0 {
        return Err(invalid("source.max_pages", "must be at least 1"));
    }
    Ok(Some(HttpSpec {
        base_url: base.trim_end_matches('/').to_owned(),
        headers: h
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        paging,
        max_pages,
    }))
}

/// Checks `config` and compiles it.
pub(crate) fn compile(config: &GenericConfig) -> Result<Spec, ConfigError> {
    let registry =
        RegistryId::new(config.registry.trim()).map_err(|e| invalid("registry", e.to_string()))?;
    let schedule = config
        .schedule
        .as_deref()
        .unwrap_or(DEFAULT_SCHEDULE)
        .trim();
    // The cron parser the scheduler runs it with is the judge of what it accepts.
    if let Err(e) = <cron::Schedule as std::str::FromStr>::from_str(schedule) {
        return Err(invalid(
            "schedule",
            format!(
                "`{schedule}` is not a schedule ({e}); carbonmesh schedules are cron expressions \
                 with seconds first (`sec min hour day-of-month month day-of-week`)"
            ),
        ));
    }
    check_date_formats("dates", &config.dates)?;
    let http = http_spec(&config.source)?;
    let serial = config
        .serial
        .as_ref()
        .map(serial_spec)
        .transpose()?
        .map(Arc::new);
    let mut feeds = BTreeMap::new();
    let f = &config.feeds;
    if let Some(p) = &f.projects {
        feeds.insert(Feed::Projects, project_feed(p, config, http.as_ref())?);
    }
    for (feed, c) in [
        (Feed::Issuances, &f.issuances),
        (Feed::Retirements, &f.retirements),
        (Feed::Cancellations, &f.cancellations),
        (Feed::Transactions, &f.transactions),
    ] {
        if let Some(c) = c {
            feeds.insert(
                feed,
                credit_feed(feed, c, config, http.as_ref(), serial.as_ref())?,
            );
        }
    }
    if feeds.is_empty() {
        return Err(invalid(
            "feeds",
            "configures no feed (projects, issuances, retirements, cancellations, transactions)",
        ));
    }
    if serial.is_some()
        && !feeds.values().any(|f| match &f.kind {
            Kind::Credit(c) => c.fields.serial.is_some(),
            Kind::Project(_) => false,
        })
    {
        return Err(invalid(
            "serial",
            "is set, but no feed maps `fields.serial`",
        ));
    }
    Ok(Spec {
        registry,
        schedule: schedule.to_owned(),
        feed_order: feeds.keys().copied().collect(),
        http,
        feeds,
    })
}
