//! Who claimed what: credit records found by their beneficiary (harmonized, see
//! [`carbonmesh_model::beneficiary_key`]), account, reason or note, and beneficiaries grouped
//! across registries by their harmonized name.
//!
//! Beneficiaries, accounts and reasons are terms, so a search first reads the terms that
//! match (a scan of the distinct texts, not of the records), then the records that name them.

use std::collections::BTreeMap;

use carbonmesh_model::{RegistryId, beneficiary_key, beneficiary_matches};
use rust_decimal::Decimal;

use crate::db::Arg;
use crate::queries::{Select, contains_pattern, folded};
use crate::records::encode::registry;
use crate::store::SqlStore;
use crate::{Backend, Beneficiary, StoreResult};

/// The terms a claim search matches.
pub(crate) struct ClaimTerms {
    /// Beneficiaries whose harmonized name holds the search's words.
    pub beneficiaries: Vec<i64>,
    /// Texts holding the search (accounts, reasons), case-insensitive.
    pub texts: Vec<i64>,
    /// `LIKE` pattern of the search, for notes.
    pub pattern: String,
    pub backend: Backend,
}

/// The terms whose text holds one word of `search` (case-insensitive), with their text.
async fn candidates(store: &SqlStore, search: &str) -> StoreResult<Vec<(i64, String)>> {
    // The longest word narrows the scan most; every match is checked again in full.
    let word = search
        .split(|c: char| !c.is_alphanumeric())
        .max_by_key(|w| w.chars().count())
        .unwrap_or("");
    if word.is_empty() {
        return Ok(Vec::new());
    }
    let rows = store
        .db
        .fetch(
            "SELECT id, text FROM terms WHERE lower(text) LIKE $1 ESCAPE '\\'",
            vec![Arg::from(contains_pattern(word).as_str())],
        )
        .await?;
    rows.iter().map(|r| Ok((r.int(0)?, r.text(1)?))).collect()
}

pub(crate) async fn claim_terms(store: &SqlStore, search: &str) -> StoreResult<ClaimTerms> {
    let candidates = candidates(store, search).await?;
    let needle = folded(search);
    let mut out = ClaimTerms {
        beneficiaries: Vec::new(),
        texts: Vec::new(),
        pattern: contains_pattern(search),
        backend: store.db.backend(),
    };
    for (id, text) in candidates {
        if beneficiary_key(&text).is_some_and(|key| beneficiary_matches(&key, search)) {
            out.beneficiaries.push(id);
        }
        if text.to_lowercase().contains(&needle) {
            out.texts.push(id);
        }
    }
    Ok(out)
}

/// `(SELECT …)` of the numbers in `ids`, bound as one JSON array: a search may match more
/// terms than a statement takes parameters.
fn id_set(q: &mut Select, backend: Backend, ids: &[i64]) -> String {
    let json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
    let p = q.arg(Arg::from(json.as_str()));
    crate::db::json_id_set(backend, &p)
}

/// The condition on credit records `c` of a claim search.
pub(crate) fn claim_condition(terms: &ClaimTerms, q: &mut Select) -> String {
    let beneficiaries = id_set(q, terms.backend, &terms.beneficiaries);
    let texts = id_set(q, terms.backend, &terms.texts);
    let pattern = q.arg(terms.pattern.as_str());
    format!(
        "(c.beneficiary IN {beneficiaries} OR c.account IN {texts} OR c.reason IN {texts} \
         OR lower(c.note) LIKE {pattern} ESCAPE '\\')"
    )
}

/// Beneficiaries whose harmonized name holds the words of `search`, grouped by that name
/// across registries, most units first, at most `limit`.
pub(crate) async fn beneficiaries(
    store: &SqlStore,
    search: &str,
    limit: u32,
) -> StoreResult<Vec<Beneficiary>> {
    let mut names: BTreeMap<i64, (String, String)> = BTreeMap::new();
    for (id, text) in candidates(store, search).await? {
        if let Some(key) = beneficiary_key(&text).filter(|k| beneficiary_matches(k, search)) {
            names.insert(id, (key, text));
        }
    }
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = names.keys().copied().collect();
    let mut q = Select::default();
    let set = id_set(&mut q, store.db.backend(), &ids);
    q.text = format!(
        "SELECT c.beneficiary, c.registry, COUNT(*), SUM(c.quantity) FROM credits c \
         WHERE c.beneficiary IN {set} GROUP BY c.beneficiary, c.registry"
    );
    let rows = store.db.fetch(&q.text, q.args.clone()).await?;
    q.text = format!(
        "SELECT c.beneficiary, c.quantity_text FROM credits c \
         WHERE c.beneficiary IN {set} AND c.quantity_text IS NOT NULL"
    );
    let text_rows = store.db.fetch(&q.text, q.args).await?;
    store
        .terms
        .load_ids(
            store.db.as_ref(),
            rows.iter()
                .map(|r| r.int(1))
                .collect::<StoreResult<Vec<_>>>()?,
        )
        .await?;

    let mut groups: BTreeMap<String, Beneficiary> = BTreeMap::new();
    fn group<'a>(
        groups: &'a mut BTreeMap<String, Beneficiary>,
        names: &BTreeMap<i64, (String, String)>,
        id: i64,
    ) -> Option<&'a mut Beneficiary> {
        let (key, text) = names.get(&id)?;
        let b = groups.entry(key.clone()).or_insert_with(|| Beneficiary {
            name: key.clone(),
            ..Beneficiary::default()
        });
        if !b.spellings.contains(text) {
            b.spellings.push(text.clone());
        }
        Some(b)
    }
    for row in &rows {
        let registry_id: RegistryId = registry(&store.terms.get(row.int(1)?)?)?;
        let records: u64 = row.int(2)?.max(0) as u64;
        let units = row.units_of_kilograms(3)?;
        if let Some(b) = group(&mut groups, &names, row.int(0)?) {
            b.records += records;
            b.units += units;
            if !b.registries.contains(&registry_id) {
                b.registries.push(registry_id);
            }
        }
    }
    for row in &text_rows {
        // Exact decimal text: a corrupt one is an error naming the value.
        let units: Decimal = row.decimal(1)?;
        if let Some(b) = group(&mut groups, &names, row.int(0)?) {
            b.units += units;
        }
    }
    let mut out: Vec<Beneficiary> = groups
        .into_values()
        .filter(|b| b.records > 0)
        .map(|mut b| {
            b.units = b.units.normalize();
            b.spellings.sort();
            b.registries.sort();
            b
        })
        .collect();
    out.sort_by(|a, b| b.units.cmp(&a.units).then_with(|| a.name.cmp(&b.name)));
    out.truncate(limit as usize);
    Ok(out)
}
