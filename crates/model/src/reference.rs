//! The data-model reference, `docs/data-model.md`: every field of every common record, its
//! type and meaning (from the JSON Schemas, whose descriptions are the doc comments), and the
//! column or key of each registry that fills it (from `data/source-fields.csv`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::Value;

const SOURCE_FIELDS: &str = include_str!("../data/source-fields.csv");

/// One row of `data/source-fields.csv`: a registry's column or key that fills a field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SourceField {
    /// The record: `project` or `credit-record` (its schema file's stem).
    pub record: String,
    /// The field, as the JSON Schema names it.
    pub field: String,
    /// The registry id.
    pub registry: String,
    /// The column or key as the registry spells it; a dotted name is a JSON path.
    pub source: String,
    /// Whether the real registry samples show it (`yes`) or not (`no`).
    pub in_samples: String,
}

/// Why the reference could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The source-field table is not the CSV it should be.
    #[error("source-fields.csv: {0}")]
    Csv(#[from] csv::Error),
    /// A schema is not the JSON it should be.
    #[error("{file}: {source}")]
    Schema {
        /// The schema file.
        file: &'static str,
        /// What the JSON reader said.
        source: serde_json::Error,
    },
    /// A row of the table names a record or field the schemas do not have.
    #[error("source-fields.csv names {record}.{field}, which no schema has")]
    UnknownField {
        /// The record.
        record: String,
        /// The field.
        field: String,
    },
}

/// The built-in source-field table.
pub fn source_fields() -> Result<Vec<SourceField>, ReferenceError> {
    Ok(csv::Reader::from_reader(SOURCE_FIELDS.as_bytes())
        .deserialize()
        .collect::<Result<Vec<SourceField>, _>>()?)
}

/// `docs/data-model.md`, generated.
pub fn data_model_markdown() -> Result<String, ReferenceError> {
    let schemas: Vec<(&'static str, Value)> = crate::schema::json_schemas()
        .into_iter()
        .map(|(file, text)| {
            serde_json::from_str(&text)
                .map(|v| (file, v))
                .map_err(|source| ReferenceError::Schema { file, source })
        })
        .collect::<Result<_, _>>()?;
    let sources = source_fields()?;
    for s in &sources {
        let known = schemas.iter().any(|(file, schema)| {
            record_of(file) == s.record && schema["properties"].get(&s.field).is_some()
        });
        if !known {
            return Err(ReferenceError::UnknownField {
                record: s.record.clone(),
                field: s.field.clone(),
            });
        }
    }

    let mut out = String::new();
    out.push_str(INTRO);
    out.push_str("\n## Records\n\n");
    for (_, schema) in &schemas {
        let title = title(schema);
        let _ = writeln!(
            out,
            "- [{title}](#{}): {}",
            anchor(title),
            first_line(schema)
        );
    }
    let names = Names::of(&schemas);
    for (file, schema) in &schemas {
        record(&mut out, file, schema, &sources, &names);
    }
    out.push_str("\n## Types used by the records\n");
    for nested in &names.nested {
        let def = &nested.def;
        let _ = write!(
            out,
            "\n### {}\n\n{}\n",
            nested.heading,
            text(&def["description"])
        );
        let context = Context {
            record: &nested.record,
            names: &names,
        };
        if let Some(values) = enum_values(def) {
            out.push_str("\n| value | meaning |\n|---|---|\n");
            for (value, meaning) in values {
                let _ = writeln!(out, "| `{value}` | {meaning} |");
            }
        } else if def["properties"].is_object() {
            out.push('\n');
            fields_table(&mut out, def, None, &context);
        } else {
            let _ = writeln!(out, "\nA {}.", context.type_of(def));
        }
    }
    Ok(out)
}

const INTRO: &str = "# The carbonmesh data model

<!-- Generated from the JSON Schemas of `carbonmesh-model` and `crates/model/data/source-fields.csv`;
do not edit. Regenerate with `CARBONMESH_BLESS=1 cargo test -p carbonmesh-model --test data_model_doc`. -->

Every registry's records are normalized into these records. Their JSON Schemas are in
`schema/model/`; the JSON lines of `carbonmesh export` carry their fields. For each field this
page gives its type, its meaning, and, for projects and credit records, the column or key of
each registry's export or API that fills it (as the registry spells it; a dotted name is a path
in a JSON object). Fields without a source are made by carbonmesh: ids, parsed serial ranges,
ISO country codes and the normalized value of a registry's word, which always keeps the raw
word beside it. A source marked † is read from a feed the real registry samples do not cover.

Projects are served with a harmonized category and type beside the registry's `sector`,
`category` and `project_type`, mapped when they are read from the files in
`crates/taxonomy/data/`; they are not part of the stored record.
";

/// A type defined inside the records' schemas, under the heading it gets here.
struct Nested {
    heading: String,
    /// The record it is first described for.
    record: String,
    def: Value,
}

/// Where each named type is described. A name the schemas define differently (`Normalized`
/// of a project status, of a transaction type) gets one heading per meaning, named after the
/// record it first appears in.
struct Names {
    nested: Vec<Nested>,
    /// `(record title, type name)` -> anchor.
    anchors: BTreeMap<(String, String), String>,
}

impl Names {
    fn of(schemas: &[(&'static str, Value)]) -> Names {
        let titles: BTreeSet<&str> = schemas.iter().map(|(_, s)| title(s)).collect();
        let mut by_name: BTreeMap<&str, Vec<(&str, &Value)>> = BTreeMap::new();
        for (_, schema) in schemas {
            for (name, def) in schema["$defs"].as_object().into_iter().flatten() {
                by_name
                    .entry(name.as_str())
                    .or_default()
                    .push((title(schema), def));
            }
        }
        let mut names = Names {
            nested: Vec::new(),
            anchors: BTreeMap::new(),
        };
        for (name, uses) in by_name {
            // A record used inside another (an alert in a notification) is described above.
            if titles.contains(name) {
                for (record, _) in uses {
                    names
                        .anchors
                        .insert((record.to_owned(), name.to_owned()), anchor(name));
                }
                continue;
            }
            let mut distinct: Vec<(&Value, &str)> = Vec::new();
            for (_, def) in &uses {
                if !distinct.iter().any(|(d, _)| d == def) {
                    distinct.push((def, ""));
                }
            }
            for (def, _) in &distinct {
                let first = uses.iter().find(|(_, d)| d == def).map_or("", |(r, _)| *r);
                let heading = if distinct.len() == 1 {
                    name.to_owned()
                } else {
                    format!("{name} ({first})")
                };
                for (record, _) in uses.iter().filter(|(_, d)| d == def) {
                    names
                        .anchors
                        .insert(((*record).to_owned(), name.to_owned()), anchor(&heading));
                }
                names.nested.push(Nested {
                    heading,
                    record: first.to_owned(),
                    def: (*def).clone(),
                });
            }
        }
        names
    }
}

/// The record whose schema a type appears in, for resolving its references.
struct Context<'a> {
    record: &'a str,
    names: &'a Names,
}

fn record_of(file: &str) -> &str {
    file.trim_end_matches(".schema.json")
}

fn title(schema: &Value) -> &str {
    schema["title"].as_str().unwrap_or("?")
}

/// The anchor a Markdown renderer gives a heading: lower case, spaces as hyphens, other
/// punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// A description on one line, safe in a table cell.
fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or("")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

fn first_line(schema: &Value) -> String {
    let t = text(&schema["description"]);
    match t.find(". ") {
        Some(i) => t[..=i].to_owned(),
        None => t,
    }
}

fn record(out: &mut String, file: &str, schema: &Value, sources: &[SourceField], names: &Names) {
    let record = record_of(file);
    let _ = write!(
        out,
        "\n## {}\n\n{} JSON Schema: `schema/model/{file}`.\n\n",
        title(schema),
        text(&schema["description"])
    );
    let mine: Vec<&SourceField> = sources.iter().filter(|s| s.record == record).collect();
    let context = Context {
        record: title(schema),
        names,
    };
    fields_table(
        out,
        schema,
        (!mine.is_empty()).then_some(mine.as_slice()),
        &context,
    );
}

fn fields_table(
    out: &mut String,
    schema: &Value,
    sources: Option<&[&SourceField]>,
    context: &Context<'_>,
) {
    let required: BTreeSet<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    match sources {
        Some(_) => out.push_str(
            "| field | type | required | meaning | source fields |\n|---|---|---|---|---|\n",
        ),
        None => out.push_str("| field | type | required | meaning |\n|---|---|---|---|\n"),
    }
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (name, property) in properties {
        let _ = write!(
            out,
            "| `{name}` | {} | {} | {} |",
            context.type_of(property),
            if required.contains(name.as_str()) {
                "yes"
            } else {
                "no"
            },
            text(&property["description"])
        );
        if let Some(sources) = sources {
            let _ = write!(out, " {} |", source_cell(name, sources));
        }
        out.push('\n');
    }
}

/// `registry: `A`, `B`` per registry, one registry a line.
fn source_cell(field: &str, sources: &[&SourceField]) -> String {
    let mut by_registry: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for s in sources.iter().filter(|s| s.field == field) {
        let mark = if s.in_samples == "no" { "†" } else { "" };
        by_registry
            .entry(&s.registry)
            .or_default()
            .push(format!("`{}`{mark}", s.source.replace('|', "\\|")));
    }
    by_registry
        .into_iter()
        .map(|(registry, names)| format!("{registry}: {}", names.join(", ")))
        .collect::<Vec<_>>()
        .join("<br>")
}

/// The values of an enumeration schema (`oneOf` of constants), with their meanings.
fn enum_values(def: &Value) -> Option<Vec<(String, String)>> {
    let variants = def["oneOf"].as_array()?;
    variants
        .iter()
        .map(|v| {
            let value = v["const"].as_str()?;
            Some((value.to_owned(), text(&v["description"])))
        })
        .collect()
}

impl Context<'_> {
    /// A schema's type in words, linking named types.
    fn type_of(&self, schema: &Value) -> String {
        if let Some(reference) = schema["$ref"].as_str() {
            let name = reference.rsplit('/').next().unwrap_or(reference);
            let key = (self.record.to_owned(), name.to_owned());
            let target = self
                .names
                .anchors
                .get(&key)
                .cloned()
                .unwrap_or_else(|| anchor(name));
            return format!("[{name}](#{target})");
        }
        if let Some(c) = schema.get("const") {
            return format!(
                "`{}`",
                c.as_str().map_or_else(|| c.to_string(), str::to_owned)
            );
        }
        for combinator in ["anyOf", "oneOf"] {
            if let Some(variants) = schema[combinator].as_array() {
                return variants
                    .iter()
                    .map(|v| self.type_of(v))
                    .collect::<Vec<_>>()
                    .join(" or ");
            }
        }
        let one = |t: &str| -> String {
            match t {
                "array" => format!("list of {}", self.type_of(&schema["items"])),
                "string" => match schema["format"].as_str() {
                    Some(f) => format!("string ({f})"),
                    None => "string".to_owned(),
                },
                "object" => match schema.get("additionalProperties") {
                    Some(v) if v.is_object() => format!("map of string to {}", self.type_of(v)),
                    _ => "object".to_owned(),
                },
                other => other.to_owned(),
            }
        };
        match &schema["type"] {
            Value::String(t) => one(t),
            Value::Array(ts) => ts
                .iter()
                .filter_map(Value::as_str)
                .map(one)
                .collect::<Vec<_>>()
                .join(" or "),
            _ => "any JSON value".to_owned(),
        }
    }
}
