#!/usr/bin/env bash
# The whole test suite, on SQLite and PostgreSQL: the storage contract tests run once per
# backend, the PostgreSQL ones against a throwaway cluster started for the run; the browser
# tests in a headless Chromium (installed from Debian's packages when missing). First, a
# server built with one connector and no demo still compiles (each connector and the demo are
# Cargo features).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo check --locked -p carbonmesh-server --no-default-features --features verra
exec scripts/with-chromium.sh scripts/with-postgres.sh cargo test --workspace --locked --no-fail-fast "$@"
