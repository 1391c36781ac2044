//! The PostgreSQL database: production, and several carbonmesh instances sharing one database.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Connection as _;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{Arguments, Column as _, Postgres, Row as _, Transaction, TypeInfo as _, ValueRef};

use crate::db::{Arg, Db, Row, Tx, Val};
use crate::{Backend, DatabaseUrl, StoreError, StoreResult};

pub(crate) static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long opening a database waits for the server's first answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL database. PostgreSQL takes row locks, so writers share the one pool.
pub(crate) struct PgDb {
    pub(crate) pool: PgPool,
}

impl PgDb {
    /// Connects to the database the URL names.
    pub(crate) async fn open(url: &DatabaseUrl) -> StoreResult<Self> {
        let DatabaseUrl::Postgres(text) = url else {
            return Err(StoreError::InvalidUrl(format!(
                "{url} is not a PostgreSQL URL"
            )));
        };
        let options = PgConnectOptions::from_str(text)?;
        // One connection first, so that a server that cannot be reached fails at once with
        // its cause ("connection refused") rather than as a pool timeout.
        let probe = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options))
            .await
            .map_err(|_| {
                StoreError::Unreachable(format!(
                    "no answer from {url} within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ))
            })?
            .map_err(|e| StoreError::Unreachable(format!("cannot connect to {url}: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_lazy_with(options);
        drop(probe);
        Ok(Self { pool })
    }
}

pub(crate) fn arguments(args: Vec<Arg>) -> StoreResult<PgArguments> {
    let mut out = PgArguments::default();
    for arg in args {
        match arg {
            Arg::Int(v) => out.add(v),
            Arg::Text(v) => out.add(v),
            Arg::Bytes(v) => out.add(v),
            Arg::Time(v) | Arg::Instant(v) => out.add(v),
            Arg::Day(v) => out.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(out)
}

pub(crate) fn decode(row: &PgRow) -> StoreResult<Row> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        if row.try_get_raw(i)?.is_null() {
            values.push(Val::Null);
            continue;
        }
        // The column's type was just read from its description: the values are decoded
        // without checking it again.
        let value = match column.type_info().name() {
            "INT8" => Val::Int(row.try_get_unchecked(i)?),
            "INT4" => Val::Int(i64::from(row.try_get_unchecked::<i32, _>(i)?)),
            "INT2" => Val::Int(i64::from(row.try_get_unchecked::<i16, _>(i)?)),
            "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" => Val::Text(row.try_get_unchecked(i)?),
            "BYTEA" => Val::Bytes(row.try_get_unchecked(i)?),
            "TIMESTAMPTZ" => Val::Time(row.try_get_unchecked(i)?),
            "DATE" => Val::Day(row.try_get_unchecked(i)?),
            "NUMERIC" => Val::Decimal(row.try_get_unchecked(i)?),
            "BOOL" => Val::Int(i64::from(row.try_get_unchecked::<bool, _>(i)?)),
            "JSON" | "JSONB" => Val::Text(row.try_get::<serde_json::Value, _>(i)?.to_string()),
            other => {
                return Err(StoreError::Corrupt {
                    column: "postgres value",
                    value: other.to_owned(),
                });
            }
        };
        values.push(value);
    }
    Ok(Row(values))
}

#[async_trait]
impl Db for PgDb {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn execute(&self, sql: &str, args: Vec<Arg>) -> StoreResult<u64> {
        let done = sqlx::query_with(sql, arguments(args)?)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn write_fetch(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        self.fetch(sql, args).await
    }

    async fn fetch(&self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        let rows = sqlx::query_with(sql, arguments(args)?)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode).collect()
    }

    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        &MIGRATOR
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(PgTx {
            tx: self.pool.begin().await?,
        }))
    }
}

/// A write transaction; also what a record load commits through.
pub(crate) struct PgTx {
    tx: Transaction<'static, Postgres>,
}

impl From<Transaction<'static, Postgres>> for PgTx {
    fn from(tx: Transaction<'static, Postgres>) -> Self {
        Self { tx }
    }
}

#[async_trait]
impl Tx for PgTx {
    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<u64> {
        let done = sqlx::query_with(sql, arguments(args)?)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }

    async fn fetch(&mut self, sql: &str, args: Vec<Arg>) -> StoreResult<Vec<Row>> {
        let rows = sqlx::query_with(sql, arguments(args)?)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}
