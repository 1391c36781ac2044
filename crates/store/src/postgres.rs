//! The PostgreSQL store: production, and several carbonmesh instances sharing one database.

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{Arguments, Connection, PgConnection, Postgres, Transaction};

use crate::batch::Value;
use crate::sql::{Kind, Statement, Statements};
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
    /// Distinguishes this opened store from every other in the process.
    instance: u64,
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
            sql: Statements::new(),
            instance: crate::next_instance(),
        })
    }
}

async fn begin_write(pool: &PgPool) -> StoreResult<Transaction<'static, Postgres>> {
    Ok(pool.begin().await?)
}

fn db_time(at: DateTime<Utc>) -> DateTime<Utc> {
    at
}

fn db_date(date: chrono::NaiveDate) -> chrono::NaiveDate {
    date
}

/// Exact sums of the quantities of [`crate::select::statistics_source`] rows, by group and
/// transaction type: `SUM` over `numeric` is exact.
async fn quantity_sums(
    pool: &PgPool,
    source: &crate::select::Select,
) -> StoreResult<Vec<crate::stats::QuantitySum>> {
    let text = format!(
        "SELECT k, t, COUNT(*), SUM(q) FROM ({}) s GROUP BY k, t",
        source.text
    );
    let rows: Vec<(Option<String>, String, i64, rust_decimal::Decimal)> =
        sqlx::query_as_with(&text, arguments(&source.args)?)
            .fetch_all(pool)
            .await?;
    Ok(rows
        .into_iter()
        .map(
            |(key, transaction_type, n, quantity)| crate::stats::QuantitySum {
                key,
                transaction_type,
                records: n as u64,
                quantity,
            },
        )
        .collect())
}

/// One column of a chunk, bound as one array.
enum Array<'a> {
    Text(Vec<Option<Cow<'a, str>>>),
    Int(Vec<Option<i64>>),
}

/// Writes a chunk's rows (flat, `statement.kinds.len()` values each) as one statement, one
/// array per column, and returns the rows the statement returns.
async fn write_rows<R>(
    conn: &mut PgConnection,
    statement: &Statement,
    rows: Vec<Value<'_>>,
) -> StoreResult<Vec<R>>
where
    R: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    let width = statement.kinds.len();
    let n = rows.len() / width;
    if n == 0 {
        return Ok(Vec::new());
    }
    let mut arrays: Vec<Array<'_>> = statement
        .kinds
        .iter()
        .map(|kind| match kind {
            Kind::Text => Array::Text(Vec::with_capacity(n)),
            Kind::Int => Array::Int(Vec::with_capacity(n)),
        })
        .collect();
    for (i, value) in rows.into_iter().enumerate() {
        match (&mut arrays[i % width], value) {
            (Array::Text(a), Value::Text(text)) => a.push(Some(text)),
            (Array::Text(a), Value::Null) => a.push(None),
            (Array::Int(a), Value::Int(int)) => a.push(Some(int)),
            (Array::Int(a), Value::Null) => a.push(None),
            (_, value) => {
                return Err(StoreError::Corrupt {
                    column: "batch",
                    value: format!("{value:?} in column {} of the wrong type", i % width),
                });
            }
        }
    }
    let mut args = PgArguments::default();
    for array in arrays {
        match array {
            Array::Text(a) => args.add(a),
            Array::Int(a) => args.add(a),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(sqlx::query_as_with(&statement.text, args)
        .fetch_all(conn)
        .await?)
}

/// Upserts a chunk's rows (`write`, positions in the chunk with their versions) and returns
/// the positions that were not written: records another writer inserted after they were
/// classified as new.
async fn upsert_rows<T: crate::batch::Versioned>(
    conn: &mut PgConnection,
    statement: &Statement,
    chunk: &crate::batch::Chunk<'_, T>,
    write: &[(usize, i64)],
    now: &str,
) -> StoreResult<Vec<usize>> {
    let written: Vec<(String, String)> =
        write_rows(conn, statement, chunk.rows(write, now)).await?;
    if written.len() == write.len() {
        return Ok(Vec::new());
    }
    let mut done = vec![false; chunk.len()];
    for (registry, key) in written {
        done[chunk.position(&registry, &key)?] = true;
    }
    Ok(write
        .iter()
        .map(|&(ord, _)| ord)
        .filter(|&ord| !done[ord])
        .collect())
}

/// Inserts the records of `write` classified as new (version 1) with the plain insert, and
/// returns how many it wrote: all of them, or none when another writer inserted one of them
/// after they were classified. The insert then fails on the key; it runs inside a savepoint,
/// so the failure undoes only the insert, and the caller writes those records with the
/// conflict-aware upsert instead.
async fn insert_new<T: crate::batch::Versioned>(
    tx: &mut PgConnection,
    statement: &Statement,
    chunk: &crate::batch::Chunk<'_, T>,
    write: &[(usize, i64)],
    now: &str,
) -> StoreResult<u64> {
    let new: Vec<(usize, i64)> = write.iter().copied().filter(|&(_, v)| v == 1).collect();
    if new.is_empty() {
        return Ok(0);
    }
    let mut savepoint = tx.begin().await?;
    match write_rows::<(i64,)>(&mut savepoint, statement, chunk.rows(&new, now)).await {
        Ok(_) => {
            savepoint.commit().await?;
            Ok(new.len() as u64)
        }
        Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
            savepoint.rollback().await?;
            Ok(0)
        }
        Err(e) => Err(e),
    }
}

impl PostgresStore {
    /// Writes a batch chunk by chunk in one transaction (see `sql.rs` for the three
    /// statements per chunk).
    async fn upsert<T: crate::batch::Versioned>(
        &self,
        sql: &crate::sql::Upsert,
        batch: &[crate::Stamped<T>],
    ) -> crate::StoreResult<carbonmesh_model::RunCounts> {
        let prepared = crate::batch::prepare(batch)?;
        let now = crate::batch::timestamp(::chrono::Utc::now());
        let mut counts = carbonmesh_model::RunCounts {
            seen: batch.len() as u64,
            rejected: prepared.rejected.len() as u64,
            ..Default::default()
        };
        let mut tx = begin_write(&self.writer).await?;
        for chunk in &prepared.chunks {
            // Positions in the chunk still to classify and write, ascending.
            let mut todo: Vec<usize> = (0..chunk.len()).collect();
            let mut attempts = 0;
            while !todo.is_empty() {
                // A record is classified again only when another writer inserted it
                // after this one found it missing; it exists from then on, so a
                // second attempt settles it.
                attempts += 1;
                if attempts > 3 {
                    return Err(crate::StoreError::Corrupt {
                        column: "version",
                        value: format!("{} records kept changing", todo.len()),
                    });
                }
                let mut same = vec![None; chunk.len()];
                let found: Vec<(i64, bool)> =
                    write_rows(&mut tx, &sql.classify, chunk.key_rows(&todo)).await?;
                for (ord, equal) in found {
                    if let Some(slot) = same.get_mut(ord as usize) {
                        *slot = Some(equal);
                    }
                }
                let mut write: Vec<(usize, i64)> = Vec::with_capacity(todo.len());
                let mut differ = Vec::new();
                for &ord in &todo {
                    match same[ord] {
                        None => write.push((ord, 1)),
                        Some(true) => counts.unchanged += 1,
                        Some(false) => differ.push(ord),
                    }
                }
                if !differ.is_empty() {
                    let moved: Vec<(String, String, i64)> =
                        write_rows(&mut tx, &sql.supersede, chunk.key_rows(&differ)).await?;
                    // Another writer may have stored this content meanwhile.
                    counts.unchanged += (differ.len() - moved.len()) as u64;
                    for (registry, key, version) in moved {
                        write.push((chunk.position(&registry, &key)?, version + 1));
                    }
                    write.sort_unstable();
                }
                let inserted = insert_new(&mut tx, &sql.insert, chunk, &write, &now).await?;
                if inserted > 0 {
                    write.retain(|&(_, version)| version > 1);
                    counts.new += inserted;
                }
                if write.is_empty() {
                    break;
                }
                todo = upsert_rows(&mut tx, &sql.upsert, chunk, &write, &now).await?;
                for &(ord, version) in &write {
                    if todo.binary_search(&ord).is_err() {
                        if version == 1 {
                            counts.new += 1;
                        } else {
                            counts.changed += 1;
                        }
                    }
                }
            }
        }
        insert_rejected(&mut tx, &prepared.rejected).await?;
        tx.commit().await?;
        Ok(counts)
    }
}

impl_store!(PostgresStore, PgConnection);

#[cfg(test)]
mod tests {
    //! The plain insert's fallback, which needs two writers racing between the classification
    //! and the insert: reproduced here by inserting a record the chunk classified as new.

    use super::*;
    use crate::Store as _;
    use carbonmesh_model::{CreditRecord, Normalized, Provenance, RegistryId, TransactionType};
    use carbonmesh_model::{UnitStatus, sha256_hex};

    fn stamped(key: &str) -> crate::Stamped<CreditRecord> {
        crate::Stamped {
            record: CreditRecord {
                registry: RegistryId::Verra,
                record_key: key.into(),
                registry_project_id: "VCS1".into(),
                transaction_type: Normalized::new(TransactionType::Issuance, "Issuance"),
                quantity: 10.into(),
                serial: None,
                serial_range: None,
                vintage: Some(2020),
                monitoring_period: None,
                event_date: None,
                status: Normalized::new(UnitStatus::Active, "Active"),
                account: None,
                beneficiary: None,
                reason: None,
                note: None,
            },
            provenance: Provenance {
                source: "test".into(),
                raw_hash: sha256_hex(key.as_bytes()),
                fetched_at: Utc::now(),
                run_id: None,
            },
        }
    }

    #[tokio::test]
    async fn a_key_inserted_meanwhile_falls_back_to_the_upsert() {
        let admin_url = std::env::var("CARBONMESH_TEST_POSTGRES_URL").expect(
            "CARBONMESH_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts a \
             throwaway PostgreSQL cluster and sets it",
        );
        let name = format!("carbonmesh_fallback_{}", std::process::id());
        let mut admin = PgConnection::connect(&admin_url).await.expect("connect");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create database");
        let (base, _) = admin_url.rsplit_once('/').expect("a database in the URL");
        let url = DatabaseUrl::parse(&format!("{base}/{name}")).expect("url");
        let store = PostgresStore::open(&url).await.expect("open");
        store.migrate().await.expect("migrate");

        let batch = [stamped("a"), stamped("b")];
        let prepared = crate::batch::prepare(&batch).expect("prepare");
        let chunk = &prepared.chunks[0];
        // Both classified as new; then another writer stores "b".
        let write = [(0, 1), (1, 1)];
        store
            .upsert_credits(&batch[1..])
            .await
            .expect("the other writer");
        let now = crate::batch::timestamp(Utc::now());
        let mut tx = begin_write(&store.writer).await.expect("begin");
        let inserted = insert_new(&mut tx, &store.sql.credits.insert, chunk, &write, &now)
            .await
            .expect("a key violation is not an error");
        assert_eq!(inserted, 0);
        // The transaction goes on: the upsert writes "a" and leaves "b" to classify again.
        let left = upsert_rows(&mut tx, &store.sql.credits.upsert, chunk, &write, &now)
            .await
            .expect("upsert after the failed insert");
        assert_eq!(left, vec![1]);
        tx.commit().await.expect("commit");
        let a = store.credit(RegistryId::Verra, "a").await.expect("read");
        assert_eq!(a.map(|c| c.record_key), Some("a".to_owned()));

        drop(store);
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop database");
    }
}
