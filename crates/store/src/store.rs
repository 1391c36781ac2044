//! The one [`Store`] implementation: the domain traits are written once against the
//! backend's [`Db`], the record writes go to the backend's own [`Writer`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::db::Db;
use crate::postgres::PgDb;
use crate::records::{PgWriter, SqliteWriter, Writer};
use crate::sqlite::SqliteDb;
use crate::terms::Terms;
use crate::{Backend, DatabaseUrl, Store, StoreResult};

/// A store on one database.
pub(crate) struct SqlStore {
    pub(crate) db: Arc<dyn Db>,
    pub(crate) terms: Arc<Terms>,
    pub(crate) writer: Writer,
}

impl SqlStore {
    /// Opens the database a URL names (creating a SQLite file on first use). Does not migrate.
    pub(crate) async fn open(url: &DatabaseUrl) -> StoreResult<Self> {
        let terms = Arc::new(Terms::default());
        Ok(match url.backend() {
            Backend::Sqlite => {
                let path = crate::sqlite::path(url)?;
                let db = Arc::new(SqliteDb::open(path).await?);
                let writer = SqliteWriter::open(path, Arc::clone(&db), Arc::clone(&terms)).await?;
                Self {
                    db,
                    terms,
                    writer: Writer::Sqlite(writer),
                }
            }
            Backend::Postgres => {
                let db = Arc::new(PgDb::open(url).await?);
                let writer = PgWriter::new(db.pool.clone(), Arc::clone(&terms));
                Self {
                    db,
                    terms,
                    writer: Writer::Postgres(writer),
                }
            }
        })
    }

    /// Whether the tables of the layout before 0009 are still there, waiting to be carried
    /// over.
    async fn has_legacy_records(&self) -> StoreResult<bool> {
        let sql = match self.db.backend() {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name = 'legacy_credit_records'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() \
                 AND tablename = 'legacy_credit_records'"
            }
        };
        Ok(self.db.fetch_one(sql, Vec::new()).await?.int(0)? > 0)
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.db.backend()
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.db.run_migrations().await?;
        if self.has_legacy_records().await? {
            crate::records::legacy::carry_over(self).await?;
        }
        Ok(())
    }

    async fn writable(&self) -> StoreResult<bool> {
        self.writer.writable().await
    }

    async fn pending_migrations(&self) -> StoreResult<u64> {
        let has_table = match self.db.backend() {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' \
                 AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema() \
                 AND tablename = '_sqlx_migrations'"
            }
        };
        let applied: Vec<i64> = if self.db.fetch_one(has_table, Vec::new()).await?.int(0)? == 0 {
            Vec::new()
        } else {
            self.db
                .fetch(
                    "SELECT version FROM _sqlx_migrations WHERE success",
                    Vec::new(),
                )
                .await?
                .iter()
                .map(|r| r.int(0))
                .collect::<StoreResult<_>>()?
        };
        let pending = self
            .db
            .migrator()
            .iter()
            .filter(|m| !m.migration_type.is_down_migration())
            .filter(|m| !applied.contains(&m.version))
            .count() as u64;
        // Records waiting to be carried over count as one more step.
        let legacy = pending == 0 && self.has_legacy_records().await?;
        Ok(pending + u64::from(legacy))
    }
}
