//! Test databases: a temporary SQLite file, or a fresh PostgreSQL database per test.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use carbonmesh_store::{DatabaseUrl, Store};
use sqlx::Connection;

/// The environment variable naming a PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "CARBONMESH_TEST_POSTGRES_URL";

/// Opens another independent store (its own connection pool) on the same database.
pub type Opener =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Arc<dyn Store>> + Send>> + Send + Sync>;

/// A database that exists for one test.
pub struct TestDb {
    url: DatabaseUrl,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A new SQLite file in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = DatabaseUrl::Sqlite(dir.path().join("carbonmesh.db"));
        Self {
            url,
            admin_url: None,
            name: String::new(),
            _dir: Some(dir),
        }
    }

    /// A new, empty database on the PostgreSQL server named by `CARBONMESH_TEST_POSTGRES_URL`.
    pub async fn postgres() -> Self {
        let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VAR} is not set: the PostgreSQL storage tests need a server. \
                 Run scripts/test.sh, which starts a throwaway cluster and sets it."
            )
        });
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "carbonmesh_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to the PostgreSQL test server");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create test database");
        let (base, _) = admin_url
            .rsplit_once('/')
            .expect("URL with a database name");
        let url = DatabaseUrl::parse(&format!("{base}/{name}")).expect("test URL");
        Self {
            url,
            admin_url: Some(admin_url),
            name,
            _dir: None,
        }
    }

    /// The database's URL.
    #[allow(dead_code)] // the migration test's only
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> Arc<dyn Store> {
        open(self.url.clone()).await
    }

    /// Opens independent stores on this database.
    pub fn opener(&self) -> Opener {
        let url = self.url.clone();
        Box::new(move || Box::pin(open(url.clone())))
    }

    /// Drops a PostgreSQL test database (a failed test leaves it behind for a look).
    pub async fn drop_database(&self) {
        if let Some(admin_url) = &self.admin_url {
            let mut admin = sqlx::PgConnection::connect(admin_url)
                .await
                .expect("connect");
            sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await
            .expect("drop test database");
        }
    }
}

async fn open(url: DatabaseUrl) -> Arc<dyn Store> {
    let store = carbonmesh_store::connect(&url).await.expect("open store");
    store.migrate().await.expect("migrate");
    Arc::from(store)
}

/// Expands each test once per backend, as `sqlite::name` and `postgres::name`: a `store` test
/// takes a migrated store, an `opener` test opens stores of its own on one database. A
/// PostgreSQL test database is dropped when its test passes; a failed one is left for a look.
macro_rules! per_backend {
    (store: [$($store:ident),* $(,)?] $(, opener: [$($opener:ident),* $(,)?])? $(,)?) => {
        per_backend!(@in sqlite, [$($store),*], [$($($opener),*)?]);
        per_backend!(@in postgres, [$($store),*], [$($($opener),*)?]);
    };
    (@in $backend:ident, [$($store:ident),*], [$($opener:ident),*]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $store() {
                    let db = crate::support::TestDb::$backend().await;
                    super::$store(db.store().await).await;
                    db.drop_database().await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $opener() {
                    let db = crate::support::TestDb::$backend().await;
                    super::$opener(db.opener()).await;
                    db.drop_database().await;
                }
            )*
        }
    };
}
