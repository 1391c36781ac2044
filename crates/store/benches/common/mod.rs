//! What the store's benches share: their size, their runtime, and the line they print when no
//! PostgreSQL server was given.

/// Records (or rows) a bench writes: `CARBONMESH_BENCH_RECORDS`, default 500,000.
pub fn records() -> u64 {
    std::env::var("CARBONMESH_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

pub fn postgres_not_measured() {
    println!("postgres   not measured: run under scripts/with-postgres.sh to include it");
}

/// A new, empty database `name` on the PostgreSQL server of `url` (dropped first if a run left
/// it behind).
pub async fn fresh_postgres(
    url: &carbonmesh_store::DatabaseUrl,
    name: &str,
) -> carbonmesh_store::DatabaseUrl {
    use sqlx::Connection as _;
    let carbonmesh_store::DatabaseUrl::Postgres(text) = url else {
        panic!("not a PostgreSQL URL");
    };
    let mut admin = sqlx::PgConnection::connect(text).await.expect("connect");
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("CREATE DATABASE {name}"),
    ] {
        sqlx::query(&statement)
            .execute(&mut admin)
            .await
            .expect("create database");
    }
    let (base, _) = text.rsplit_once('/').expect("a database in the URL");
    carbonmesh_store::DatabaseUrl::parse(&format!("{base}/{name}")).expect("url")
}
