//! The PostgreSQL store: production, and several carbonmesh instances sharing one database.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};

use crate::sql::Statements;
use crate::store_impl::impl_store;
use crate::{Backend, DatabaseUrl, StoreError, StoreResult};

const BACKEND: Backend = Backend::Postgres;
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// A PostgreSQL database.
pub struct PostgresStore {
    /// PostgreSQL takes row locks, so writers share the one pool.
    writer: PgPool,
    reader: PgPool,
    sql: Statements,
}

impl PostgresStore {
    /// Connects to the database the URL names.
    pub async fn open(url: &DatabaseUrl) -> StoreResult<Self> {
        let DatabaseUrl::Postgres(text) = url else {
            return Err(StoreError::InvalidUrl(format!(
                "{url} is not a PostgreSQL URL"
            )));
        };
        let options = PgConnectOptions::from_str(text)?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        Ok(Self {
            writer: pool.clone(),
            reader: pool,
            sql: Statements::new(BACKEND),
        })
    }
}

async fn begin_write(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    Ok(pool.begin().await?)
}

fn db_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

impl_store!(PostgresStore, PgConnection);
