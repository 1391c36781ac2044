//! One list of harmonized project categories and types, and the mappings from each registry's
//! own words onto it.
//!
//! The list and the mappings are data files anyone can correct (`data/*.csv`, documented in
//! `data/README.md`), built into the binary. Registries publish sector, category and project
//! type in their own words; carbonmesh keeps those raw values on the [`Project`] and maps them
//! here when a project is read, so a corrected mapping applies to every stored project without
//! an import. A raw value no row covers stays unmapped and is listed by [`Taxonomy::unmapped`],
//! never hidden under an "unknown" category.
//!
//! [`Project`]: carbonmesh_model::Project

mod list;
mod mapping;

pub use list::{Category, ProjectType};
pub use mapping::{Classification, Mapping, RawField, RawValueCount, Taxonomy, TaxonomyError};
