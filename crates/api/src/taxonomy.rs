//! Harmonized project categories and types as the API serves them, and the raw values no
//! mapping covers. Mappings apply as projects are read (see `carbonmesh_taxonomy`).

use async_graphql::SimpleObject;
use carbonmesh_store::{Store, StoreResult};
use carbonmesh_taxonomy::{RawField, RawValueCount, Taxonomy};

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
