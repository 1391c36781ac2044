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
