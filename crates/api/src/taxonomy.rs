//! Harmonized project categories and types as the API serves them, and the raw values no
//! mapping covers. Mappings apply as projects are read (see `carbonmesh_taxonomy`).

use async_graphql::{Result, SimpleObject};
use carbonmesh_model::Project;
use carbonmesh_store::{RawKind, Store, StoreResult};
use carbonmesh_taxonomy::{RawField, RawValueCount, Taxonomy};

use crate::error::{bad_input, internal};

/// A harmonized project category of carbonmesh's one list.
#[derive(SimpleObject, Clone)]
pub struct HarmonizedCategory {
    /// Stable id, e.g. `forestry-land-use`.
    pub id: String,
    /// Display name, e.g. `Forestry & Land Use`.
    pub name: String,
    /// Where the category comes from.
    pub source: String,
    /// The types within it.
    pub types: Vec<HarmonizedType>,
}

/// A harmonized project type; it belongs to one category.
#[derive(SimpleObject, Clone)]
pub struct HarmonizedType {
    /// Stable id, e.g. `redd-plus`.
    pub id: String,
    /// Display name, e.g. `REDD+`.
    pub name: String,
    /// The id of its category.
    pub category: String,
}

impl HarmonizedType {
    pub(crate) fn of(t: &carbonmesh_taxonomy::ProjectType) -> Self {
        HarmonizedType {
            id: t.id.clone(),
            name: t.name.clone(),
            category: t.category.clone(),
        }
    }
}

impl HarmonizedCategory {
    pub(crate) fn of(taxonomy: &Taxonomy, c: &carbonmesh_taxonomy::Category) -> Self {
        HarmonizedCategory {
            id: c.id.clone(),
            name: c.name.clone(),
            source: c.source.clone(),
            types: taxonomy
                .types()
                .iter()
                .filter(|t| t.category == c.id)
                .map(HarmonizedType::of)
                .collect(),
        }
    }
}

/// A raw value stored projects carry that no mapping covers.
#[derive(SimpleObject, Clone)]
pub struct UnmappedValue {
    /// The registry id.
    pub registry: String,
    /// The project field: `sector`, `category` or `project_type`.
    pub field: String,
    /// The value as the registry published it.
    pub raw_value: String,
    /// How many current projects carry it.
    pub projects: u64,
}

/// The raw values of the stored projects that no mapping of the built-in taxonomy covers,
/// by registry, field and value.
pub async fn unmapped_vocabulary(store: &dyn Store) -> StoreResult<Vec<RawValueCount>> {
    let found = store.project_vocabulary().await?;
    Ok(
        Taxonomy::embedded().unmapped(found.into_iter().filter_map(|v| {
            Some(RawValueCount {
                registry: v.registry.as_str().to_owned(),
                field: RawField::from_name(v.field)?,
                raw_value: v.value,
                projects: v.projects,
            })
        })),
    )
}

/// The stored combinations of registry and raw words that map to a harmonized category and
/// type (either may be absent; `None` when both are): classified here, at read time, the same
/// way each project is, so a filter and the projects it returns agree.
pub async fn harmonized_kinds(
    store: &dyn Store,
    category: Option<&str>,
    project_type: Option<&str>,
) -> Result<Option<Vec<RawKind>>> {
    if category.is_none() && project_type.is_none() {
        return Ok(None);
    }
    let taxonomy = Taxonomy::embedded();
    if let Some(c) = category.filter(|c| taxonomy.category(c).is_none()) {
        return Err(bad_input(format!(
            "`{c}` is not a harmonized category (see harmonizedCategories)"
        )));
    }
    if let Some(t) = project_type.filter(|t| taxonomy.project_type(t).is_none()) {
        return Err(bad_input(format!(
            "`{t}` is not a harmonized type (see harmonizedCategories)"
        )));
    }
    let kinds = store.project_kinds().await.map_err(internal)?;
    Ok(Some(
        kinds
            .into_iter()
            .map(|(kind, _)| kind)
            .filter(|kind| {
                let mut p = Project::new(kind.registry, "-", "-");
                p.sector = kind.sector.clone();
                p.category = kind.category.clone();
                p.project_type = kind.project_type.clone();
                let c = taxonomy.classify(&p);
                category.is_none_or(|id| c.category.is_some_and(|x| x.id == id))
                    && project_type.is_none_or(|id| c.project_type.is_some_and(|x| x.id == id))
            })
            .collect(),
    ))
}
