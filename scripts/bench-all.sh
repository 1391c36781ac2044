#!/usr/bin/env bash
# Runs every benchmark behind BENCHMARKS.md on this machine, one after the other, and writes
# their figures, the machine and the commands to one report.
#
#   scripts/bench-all.sh [REPORT]        (default target/benchmarks/<UTC time>.md)
#
# In order: serial parsing; the batched upsert on SQLite and PostgreSQL (a throwaway cluster,
# as for the tests); the import of a Verra export beside offsets-db-data's pipeline on the
# same file (with the ratio); webhook intake; matching, with the CAD Trust baseline query on
# the same data; the GraphQL API under load. Sizes are the BENCHMARKS.md ones; the benches'
# own variables shrink them (e.g. ROWS=100000 CARBONMESH_BENCH_RECORDS=50000
# MATCH_BENCH_BLOCKS=1000000 LOAD_RECORDS=100000 LOAD_SECONDS=3 for a quick pass).
# Figures vary with load: run it on a quiet machine. A bench that fails stops the run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPORT="${1:-$ROOT/target/benchmarks/$(date -u +%Y%m%dT%H%M%SZ).md}"
mkdir -p "$(dirname "$REPORT")"

{
    echo "# carbonmesh benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "- $(rustc --version)"
    echo "- load before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$REPORT"

# Runs one bench, echoing its output and appending it to the report under a heading.
bench() {
    local title="$1"
    shift
    echo "== $title: $*" >&2
    {
        echo
        echo "## $title"
        echo
        echo "\`$*\` (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
        echo
        echo '```'
    } >>"$REPORT"
    # Keep the figures, not cargo's build chatter.
    "$@" 2>&1 | grep -vE '^\s*(Compiling|Running|Finished|Downloaded|Downloading|Updating|Blocking|Locking|Adding) ' |
        tee -a "$REPORT"
    local status=${PIPESTATUS[0]}
    echo '```' >>"$REPORT"
    if [ "$status" -ne 0 ]; then
        echo "bench-all: $title failed (exit $status); report so far in $REPORT" >&2
        exit "$status"
    fi
}

bench "Serial parsing" cargo bench -p carbonmesh-serials --bench parse
bench "Storage: batched upsert, and the API's read queries" \
    scripts/with-postgres.sh cargo bench -p carbonmesh-store --bench upsert
bench "Import: Verra export, carbonmesh vs offsets-db-data" scripts/bench-import.sh
bench "Webhook intake" cargo bench -p carbonmesh-webhook --bench intake
bench "Matching, and the CAD Trust baseline query" \
    cargo bench -p carbonmesh-matcher --bench matching
bench "GraphQL API under load" cargo bench -p carbonmesh-api --bench load

echo "bench-all: every figure is in $REPORT" >&2
