#!/usr/bin/env bash
# The whole test suite, on SQLite and PostgreSQL: the storage contract tests run once per
# backend, the PostgreSQL ones against a throwaway cluster started for the run; the browser
# tests in a headless Chromium (installed from Debian's packages when missing). First, a
# server built with one connector and no demo reads that connector alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/check-one-connector.sh
exec scripts/with-chromium.sh scripts/with-postgres.sh cargo test --workspace --locked --no-fail-fast "$@"
