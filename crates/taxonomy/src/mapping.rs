//! The mappings from a registry's raw words to the one list, their checks, and their use.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::OnceLock;

use carbonmesh_model::{Project, RegistryId};
use serde::Deserialize;

use crate::list::{Category, ProjectType};

const CATEGORIES: &str = include_str!("../data/categories.csv");
const TYPES: &str = include_str!("../data/types.csv");
const MAPPINGS: &str = include_str!("../data/mappings.csv");

/// The project field a raw value was published in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawField {
    /// [`Project::sector`].
    Sector,
    /// [`Project::category`].
    Category,
    /// [`Project::project_type`].
    ProjectType,
}

impl RawField {
    /// Every field, most specific first: the order a project is classified in.
    pub const ALL: [RawField; 3] = [RawField::ProjectType, RawField::Category, RawField::Sector];

    /// The field's name on [`Project`] and in the data files.
    pub fn as_str(self) -> &'static str {
        match self {
            RawField::Sector => "sector",
            RawField::Category => "category",
            RawField::ProjectType => "project_type",
        }
    }

    /// The field named `name` (`sector`, `category`, `project_type`).
    pub fn from_name(name: &str) -> Option<RawField> {
        RawField::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The raw value a project carries in this field.
    pub fn of(self, project: &Project) -> Option<&str> {
        match self {
            RawField::Sector => project.sector.as_deref(),
            RawField::Category => project.category.as_deref(),
            RawField::ProjectType => project.project_type.as_deref(),
        }
        .map(str::trim)
        .filter(|v| !v.is_empty())
    }
}

impl fmt::Display for RawField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `data/mappings.csv`: what a registry's raw value in one field means.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Mapping {
    /// The registry id, e.g. `verra`.
    pub registry: String,
    /// The project field the value is published in.
    pub field: RawField,
    /// The value as the registry writes it (matched ignoring case and runs of spaces).
    pub raw_value: String,
    /// The harmonized category; empty when the value tells nothing of the category.
    pub category: Option<String>,
    /// The harmonized type; empty when the value names only a category.
    #[serde(rename = "type")]
    pub project_type: Option<String>,
    /// Why: a document or URL, or `carbonmesh maintainers: <reasoning>`.
    pub source: String,
}

/// A mistake in the data files.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    /// A file is not the CSV it should be.
    #[error("{file}: {source}")]
    Csv {
        /// The file.
        file: &'static str,
        /// What the CSV reader said.
        source: csv::Error,
    },
    /// A row breaks a rule.
    #[error("{file} line {line}: {reason}")]
    Row {
        /// The file.
        file: &'static str,
        /// The line (the header is line 1).
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// A project's harmonized category and type, as its raw values map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Classification<'a> {
    /// The category, when a mapping names one.
    pub category: Option<&'a Category>,
    /// The type, when a mapping names one.
    pub project_type: Option<&'a ProjectType>,
}

/// A raw value found on stored projects, and how many projects carry it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RawValueCount {
    /// The registry id.
    pub registry: String,
    /// The field.
    pub field: RawField,
    /// The value as stored.
    pub raw_value: String,
    /// Projects carrying it.
    pub projects: u64,
}

/// The one list and the mappings onto it.
#[derive(Debug)]
pub struct Taxonomy {
    categories: Vec<Category>,
    types: Vec<ProjectType>,
    mappings: Vec<Mapping>,
    by_key: HashMap<(String, RawField, String), usize>,
}

/// The lookup form of a raw value: trimmed, lower case, runs of white space as one space.
fn fold(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn read<T: for<'de> Deserialize<'de>>(
    file: &'static str,
    text: &str,
) -> Result<Vec<T>, TaxonomyError> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .map_err(|source| TaxonomyError::Csv { file, source })
}

fn row_error(file: &'static str, index: usize, reason: String) -> TaxonomyError {
    // Rows are numbered from the line after the header.
    TaxonomyError::Row {
        file,
        line: index + 2,
        reason,
    }
}

impl Taxonomy {
    /// The list and mappings built into this binary (checked by this crate's tests).
    pub fn embedded() -> &'static Taxonomy {
        static EMBEDDED: OnceLock<Taxonomy> = OnceLock::new();
        EMBEDDED.get_or_init(|| {
            Taxonomy::parse(CATEGORIES, TYPES, MAPPINGS)
                .unwrap_or_else(|e| panic!("the built-in taxonomy data is invalid: {e}"))
        })
    }

    /// The built-in data files as text: `(file name, contents)`.
    pub fn embedded_files() -> [(&'static str, &'static str); 3] {
        [
            ("categories.csv", CATEGORIES),
            ("types.csv", TYPES),
            ("mappings.csv", MAPPINGS),
        ]
    }

    /// Reads and checks the three files: ids unique, every type in a listed category, every
    /// mapping naming a listed category and type (the type's own category), no two mappings
    /// for one registry, field and value, and a source on every row.
    pub fn parse(categories: &str, types: &str, mappings: &str) -> Result<Taxonomy, TaxonomyError> {
        let categories: Vec<Category> = read("categories.csv", categories)?;
        let types: Vec<ProjectType> = read("types.csv", types)?;
        let mappings: Vec<Mapping> = read("mappings.csv", mappings)?;

        let mut category_ids = HashMap::new();
        for (i, c) in categories.iter().enumerate() {
            check_id("categories.csv", i, &c.id)?;
            check_source("categories.csv", i, &c.source)?;
            if category_ids.insert(c.id.as_str(), i).is_some() {
                return Err(row_error("categories.csv", i, format!("`{}` twice", c.id)));
            }
        }
        let mut type_ids = HashMap::new();
        for (i, t) in types.iter().enumerate() {
            check_id("types.csv", i, &t.id)?;
            check_source("types.csv", i, &t.source)?;
            if !category_ids.contains_key(t.category.as_str()) {
                let reason = format!("category `{}` is not in categories.csv", t.category);
                return Err(row_error("types.csv", i, reason));
            }
            if type_ids.insert(t.id.as_str(), i).is_some() {
                return Err(row_error("types.csv", i, format!("`{}` twice", t.id)));
            }
        }
        let mut by_key = HashMap::new();
        for (i, m) in mappings.iter().enumerate() {
            let file = "mappings.csv";
            if let Err(e) = RegistryId::new(&m.registry) {
                return Err(row_error(file, i, e.to_string()));
            }
            if m.raw_value.trim().is_empty() {
                return Err(row_error(file, i, "empty raw_value".to_owned()));
            }
            check_source(file, i, &m.source)?;
            if let Some(c) = &m.category
                && !category_ids.contains_key(c.as_str())
            {
                let reason = format!("category `{c}` is not in categories.csv");
                return Err(row_error(file, i, reason));
            }
            if let Some(t) = &m.project_type {
                let Some(&ti) = type_ids.get(t.as_str()) else {
                    let reason = format!("type `{t}` is not in types.csv");
                    return Err(row_error(file, i, reason));
                };
                if m.category.as_deref() != Some(types[ti].category.as_str()) {
                    let reason = format!(
                        "type `{t}` belongs to category `{}`, the row says {:?}",
                        types[ti].category, m.category
                    );
                    return Err(row_error(file, i, reason));
                }
            }
            let key = (m.registry.clone(), m.field, fold(&m.raw_value));
            if let Some(first) = by_key.insert(key, i) {
                let reason = format!(
                    "{} {} `{}` is mapped on line {} already",
                    m.registry,
                    m.field,
                    m.raw_value,
                    first + 2
                );
                return Err(row_error(file, i, reason));
            }
        }
        Ok(Taxonomy {
            categories,
            types,
            mappings,
            by_key,
        })
    }

    /// Every harmonized category, in the file's order.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// Every harmonized type, in the file's order.
    pub fn types(&self) -> &[ProjectType] {
        &self.types
    }

    /// Every mapping row, in the file's order.
    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }

    /// The category with this id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// The type with this id.
    pub fn project_type(&self, id: &str) -> Option<&ProjectType> {
        self.types.iter().find(|t| t.id == id)
    }

    /// The mapping of a registry's raw value in one field, if a row covers it.
    pub fn lookup(&self, registry: &str, field: RawField, raw: &str) -> Option<&Mapping> {
        let key = (registry.to_owned(), field, fold(raw));
        self.by_key.get(&key).map(|&i| &self.mappings[i])
    }

    /// A project's harmonized category and type. The most specific field that maps to a type
    /// gives the type, and the category with it; without a type, the most specific field that
    /// maps to a category gives the category.
    pub fn classify(&self, project: &Project) -> Classification<'_> {
        let registry = project.registry.as_str();
        let rows: Vec<&Mapping> = RawField::ALL
            .iter()
            .filter_map(|&f| self.lookup(registry, f, f.of(project)?))
            .collect();
        let typed = rows
            .iter()
            .find_map(|m| m.project_type.as_deref().and_then(|t| self.project_type(t)));
        let category = match typed {
            Some(t) => self.category(&t.category),
            None => rows
                .iter()
                .find_map(|m| m.category.as_deref().and_then(|c| self.category(c))),
        };
        Classification {
            category,
            project_type: typed,
        }
    }

    /// The raw values of `found` that no mapping covers, their counts summed per registry,
    /// field and value as stored; sorted by registry, field and value.
    pub fn unmapped(&self, found: impl IntoIterator<Item = RawValueCount>) -> Vec<RawValueCount> {
        let mut out: BTreeMap<(String, RawField, String), u64> = BTreeMap::new();
        for v in found {
            if v.raw_value.trim().is_empty()
                || self.lookup(&v.registry, v.field, &v.raw_value).is_some()
            {
                continue;
            }
            *out.entry((v.registry, v.field, v.raw_value)).or_default() += v.projects;
        }
        out.into_iter()
            .map(|((registry, field, raw_value), projects)| RawValueCount {
                registry,
                field,
                raw_value,
                projects,
            })
            .collect()
    }
}

fn check_id(file: &'static str, index: usize, id: &str) -> Result<(), TaxonomyError> {
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        let reason = format!("id `{id}` is not lower-case letters, digits and hyphens");
        Err(row_error(file, index, reason))
    }
}

fn check_source(file: &'static str, index: usize, source: &str) -> Result<(), TaxonomyError> {
    if source.trim().is_empty() {
        Err(row_error(file, index, "no source".to_owned()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATS: &str = "category,name,source\nforest,Forest,doc\nenergy,Energy,doc\n";
    const TYPES: &str = "type,name,category,source\nredd,REDD+,forest,doc\n";

    fn parse(mappings: &str) -> Result<Taxonomy, TaxonomyError> {
        Taxonomy::parse(
            CATS,
            TYPES,
            &format!("registry,field,raw_value,category,type,source\n{mappings}"),
        )
    }

    #[test]
    fn the_most_specific_typed_field_decides() {
        let t = parse(
            "verra,sector,AFOLU,forest,,doc\n\
             verra,category,REDD,forest,redd,doc\n\
             verra,project_type,Hydro  Power,energy,,doc\n",
        )
        .expect("valid");
        let mut p = Project::new(RegistryId::VERRA, "1", "p");
        p.sector = Some("afolu".into());
        p.category = Some("REDD".into());
        let c = t.classify(&p);
        assert_eq!(c.project_type.map(|t| t.id.as_str()), Some("redd"));
        assert_eq!(c.category.map(|c| c.id.as_str()), Some("forest"));
        // A category without a type from a more specific field does not beat a type.
        p.project_type = Some("hydro power".into());
        assert_eq!(
            t.classify(&p).category.map(|c| c.id.as_str()),
            Some("forest")
        );
        p.category = None;
        assert_eq!(
            t.classify(&p).category.map(|c| c.id.as_str()),
            Some("energy")
        );
        assert_eq!(t.classify(&p).project_type, None);
    }

    #[test]
    fn bad_rows_are_named_with_their_line() {
        let dup = parse("verra,sector,A,forest,,doc\nverra,sector,a ,forest,,doc\n");
        assert!(dup.is_err_and(|e| e.to_string().contains("line 3")));
        let no_source = parse("verra,sector,A,forest,, \n");
        assert!(no_source.is_err_and(|e| e.to_string().contains("no source")));
        let wrong_category = parse("verra,sector,A,energy,redd,doc\n");
        assert!(wrong_category.is_err_and(|e| e.to_string().contains("belongs to")));
        let unknown = parse("verra,sector,A,oceans,,doc\n");
        assert!(unknown.is_err_and(|e| e.to_string().contains("`oceans`")));
        let field = parse("verra,colour,A,forest,,doc\n");
        assert!(field.is_err());
    }

    #[test]
    fn unmapped_sums_what_no_row_covers() {
        let t = parse("verra,sector,AFOLU,forest,,doc\n").expect("valid");
        let v = |raw: &str, n| RawValueCount {
            registry: "verra".into(),
            field: RawField::Sector,
            raw_value: raw.into(),
            projects: n,
        };
        let out = t.unmapped([v("AFOLU", 3), v("Energy", 2), v("Energy", 1), v(" ", 4)]);
        assert_eq!(out, [v("Energy", 3)]);
    }
}
