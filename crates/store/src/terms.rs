//! The dictionary of repeated strings: registries, project ids, serial namespaces, normalized
//! and raw enumeration values are stored once in `terms` and referenced by number from every
//! row, which keeps rows and their indexes small.
//!
//! A number, once given to a string, never changes and is never reused, so every connection
//! may cache the mapping. Writers add strings inside their own transaction and publish them to
//! the cache only after it commits (a rolled-back number must not be remembered).

use foldhash::HashMap;
use std::sync::{Arc, RwLock};

use crate::db::{Arg, Db};
use crate::{StoreError, StoreResult};

/// The mapping both ways, shared by the readers and the writer of one store.
#[derive(Default)]
pub(crate) struct Terms {
    ids: RwLock<HashMap<Arc<str>, i64>>,
    texts: RwLock<HashMap<i64, Arc<str>>>,
}

/// The statement reading terms by number.
const TERMS_BY_ID: &str = "SELECT id, text FROM terms WHERE id IN";

/// The statement reading terms by text.
const TERMS_BY_TEXT: &str = "SELECT id, text FROM terms WHERE text IN";

/// Terms read per statement.
const CHUNK: usize = 500;

impl Terms {
    /// The number of `text`, if known to this cache.
    pub(crate) fn id(&self, text: &str) -> Option<i64> {
        self.ids.read().ok()?.get(text).copied()
    }

    /// The string numbered `id`, if known to this cache.
    pub(crate) fn text(&self, id: i64) -> Option<Arc<str>> {
        self.texts.read().ok()?.get(&id).cloned()
    }

    /// The string numbered `id`, which must be known (see [`Terms::load_ids`]).
    pub(crate) fn get(&self, id: i64) -> StoreResult<Arc<str>> {
        self.text(id).ok_or_else(|| StoreError::Corrupt {
            column: "terms",
            value: format!("no term numbered {id}"),
        })
    }

    /// Remembers committed terms.
    pub(crate) fn learn(&self, pairs: impl IntoIterator<Item = (i64, Arc<str>)>) {
        let (Ok(mut ids), Ok(mut texts)) = (self.ids.write(), self.texts.write()) else {
            return;
        };
        for (id, text) in pairs {
            ids.insert(text.clone(), id);
            texts.insert(id, text);
        }
    }

    /// Makes sure every number in `ids` is in the cache, reading the unknown ones.
    pub(crate) async fn load_ids(
        &self,
        db: &dyn Db,
        ids: impl IntoIterator<Item = i64>,
    ) -> StoreResult<()> {
        // One read lock for all, and no copy of the texts: readers call this for every term
        // column of every row they decode.
        let mut missing: Vec<i64> = match self.texts.read() {
            Ok(texts) => ids
                .into_iter()
                .filter(|id| !texts.contains_key(id))
                .collect(),
            Err(_) => ids.into_iter().collect(),
        };
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(CHUNK) {
            let sql = format!(
                "{TERMS_BY_ID} ({})",
                crate::db::placeholders(0, chunk.len())
            );
            let rows = db
                .fetch(&sql, chunk.iter().map(|&id| Arg::from(id)).collect())
                .await?;
            self.learn_rows(rows)?;
        }
        Ok(())
    }

    /// The numbers of the known `texts` (unknown ones are left out): for filters, where a
    /// string never stored matches nothing.
    pub(crate) async fn lookup(
        &self,
        db: &dyn Db,
        texts: impl IntoIterator<Item = String>,
    ) -> StoreResult<Vec<i64>> {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for text in texts {
            match self.id(&text) {
                Some(id) => found.push(id),
                None => missing.push(text),
            }
        }
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(CHUNK) {
            let sql = format!(
                "{TERMS_BY_TEXT} ({})",
                crate::db::placeholders(0, chunk.len())
            );
            let rows = db
                .fetch(&sql, chunk.iter().map(|t| Arg::from(t.as_str())).collect())
                .await?;
            found.extend(self.learn_rows(rows)?);
        }
        found.sort_unstable();
        found.dedup();
        Ok(found)
    }

    /// The number of one known string, if stored.
    pub(crate) async fn lookup_one(&self, db: &dyn Db, text: &str) -> StoreResult<Option<i64>> {
        Ok(self
            .lookup(db, std::iter::once(text.to_owned()))
            .await?
            .first()
            .copied())
    }

    fn learn_rows(&self, rows: Vec<crate::db::Row>) -> StoreResult<Vec<i64>> {
        let mut pairs = Vec::with_capacity(rows.len());
        for mut row in rows {
            let id = row.int(0)?;
            let text: Arc<str> = row.take_text(1)?.unwrap_or_default().into();
            pairs.push((id, text));
        }
        let ids = pairs.iter().map(|(id, _)| *id).collect();
        self.learn(pairs);
        Ok(ids)
    }
}
