//! The built-in data files are consistent: every row names a listed category and type, no
//! registry, field and value is mapped twice, every row has a source.

use carbonmesh_taxonomy::{RawField, Taxonomy};

#[test]
fn the_built_in_files_are_valid() {
    let [(_, categories), (_, types), (_, mappings)] = Taxonomy::embedded_files();
    let taxonomy = Taxonomy::parse(categories, types, mappings).unwrap_or_else(|e| panic!("{e}"));
    // Every data line is a row: nothing skipped.
    let lines = |text: &str| text.lines().filter(|l| !l.trim().is_empty()).count() - 1;
    assert_eq!(taxonomy.categories().len(), lines(categories));
    assert_eq!(taxonomy.types().len(), lines(types));
    assert!(taxonomy.mappings().len() <= lines(mappings));
    for m in taxonomy.mappings() {
        assert!(!m.source.trim().is_empty(), "{m:?}");
        if let Some(c) = &m.category {
            assert!(taxonomy.category(c).is_some(), "{m:?}");
        }
        if let Some(t) = &m.project_type {
            let listed = taxonomy.project_type(t).expect("listed type");
            assert_eq!(Some(&listed.category), m.category.as_ref(), "{m:?}");
        }
        assert_eq!(
            taxonomy
                .lookup(&m.registry, m.field, &m.raw_value.to_uppercase())
                .map(|found| found as *const _),
            Some(m as *const _),
            "each row is found by its own key, case aside: {m:?}"
        );
    }
}

#[test]
fn every_type_belongs_to_a_listed_category_and_ids_are_unique() {
    let t = Taxonomy::embedded();
    let mut ids: Vec<&str> = t.categories().iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), t.categories().len());
    for ty in t.types() {
        assert!(t.category(&ty.category).is_some(), "{ty:?}");
    }
    assert_eq!(RawField::ALL.len(), 3);
}
