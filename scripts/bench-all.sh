#!/usr/bin/env bash
# Regenerates BENCHMARKS.md from scratch on this machine: runs every benchmark, one after the
# other, and writes the machine, each command, what it measures, its target and its figures.
#
#   scripts/bench-all.sh [OUTPUT]        (default BENCHMARKS.md)
#
# In order: serial parsing; the batched upsert on SQLite and PostgreSQL (a throwaway cluster,
# as for the tests), and the engines' own insert rate on the same rows; the import's write path
# alone; the import of a Verra export beside offsets-db-data's pipeline on the same file
# (with the ratio); webhook intake; matching, with the CAD Trust baseline query on
# the same data; the GraphQL API under load; the probes under expensive load; the review
# console's first render in headless Chromium. The benches'
# own variables shrink the sizes
# (e.g. ROWS=100000 CARBONMESH_BENCH_RECORDS=50000 MATCH_BENCH_BLOCKS=1000000
# LOAD_RECORDS=100000 LOAD_SECONDS=3 for a quick pass; the output then says so).
# Figures vary with load: run it on a quiet machine. The output is written only when every
# bench passed; a failing bench stops the run and leaves OUTPUT as it was.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUTPUT="${1:-$ROOT/BENCHMARKS.md}"
DRAFT="$(mktemp "${TMPDIR:-/tmp}/benchmarks.XXXXXX")"
trap 'rm -f "$DRAFT"' EXIT

# Sizes other than the defaults, named in the output so that nobody mistakes a quick pass.
SIZE_VARS=(CARBONMESH_BENCH_RECORDS CARBONMESH_BENCH_QUERY_RECORDS ROWS SEED
    WEBHOOK_BENCH_DELIVERIES WEBHOOK_BENCH_SENDERS MATCH_BENCH_BLOCKS MATCH_BENCH_NAMESPACES
    MATCH_BENCH_ENGINE_BLOCKS MATCH_BENCH_CADT_PROJECTS LOAD_RECORDS LOAD_CLIENTS
    LOAD_PAGE_CLIENTS LOAD_SECONDS LOAD_DB)
overrides=""
for var in "${SIZE_VARS[@]}"; do
    if [ -n "${!var:-}" ]; then overrides+=" $var=${!var}"; fi
done

{
    echo "# Benchmarks"
    echo
    echo "Written by \`scripts/bench-all.sh\`, which ran every benchmark below on this machine, one"
    echo "after the other, on $(date -u '+%Y-%m-%d at %H:%M UTC'). Run it again to regenerate this file."
    echo "How the figures evolved and where the time goes: [docs/performance.md](docs/performance.md)."
    echo
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "- machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
    echo "- $(rustc --version), benches in cargo's \`bench\` profile (release optimisations)"
    echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    if [ -n "$overrides" ]; then
        echo "- **sizes changed from the defaults:**$overrides"
    else
        echo "- sizes: every bench's defaults"
    fi
} >"$DRAFT"

# Runs one bench: a heading, the command, the description read from standard input, then the
# bench's output (figures, targets, verdicts) as printed.
bench() {
    local title="$1"
    shift
    echo "== $title: $*" >&2
    {
        echo
        echo "## $title"
        echo
        echo "Command: \`$*\` (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
        echo
        cat
        echo
        echo '```'
    } >>"$DRAFT"
    # Keep the figures: not cargo's build chatter, nor criterion's progress lines and its
    # comparison with whatever run this machine made before.
    "$@" 2>&1 |
        grep --line-buffered -vE '^\s*(Compiling|Running|Finished|Downloaded|Downloading|Updating|Blocking|Locking|Adding|Building|Checking) |^\s*$|^Benchmarking |^\s*change:|^\s*time:\s+\[[−+-]|^\s*thrpt:\s+\[[−+-]|^\s*(Performance has|No change in performance|Change within noise)' |
        tee -a "$DRAFT"
    local status=${PIPESTATUS[0]}
    echo '```' >>"$DRAFT"
    if [ "$status" -ne 0 ]; then
        echo "bench-all: $title failed (exit $status); $OUTPUT left as it was" >&2
        exit "$status"
    fi
}

bench "Serial parsing" cargo bench -p carbonmesh-serials --bench parse <<'EOF'
A mix of 22 real serials covering every grammar (Verra in all four eras, Gold Standard, Kyoto
CER, ACR, CAR CRT and ROC, ART and FCPF, BioCarbon BCR and PCR, Puro current and legacy, and
Cercarbono batch serials with positions), each parsed in full into an integer range.
Target: at least 2 M serials per second on one core.
EOF

bench "Storage: batched upsert, and the API's read queries" \
    scripts/with-postgres.sh cargo bench -p carbonmesh-store --bench upsert <<'EOF'
Verra-style credit records written with `Store::upsert_credits`, in three passes: **new**
(every record inserted; in batches of 10,000 with live indexes, then as one bulk load that
builds the indexes after), **unchanged** (the same records again: hashed, compared, nothing
written), **changed** (one field differs in every record: the old version kept, the current
row overwritten). Records per second over each whole pass, commits included. SQLite is a file
(WAL, `synchronous=NORMAL`); PostgreSQL the throwaway cluster of `scripts/with-postgres.sh`
(bulk loads through `COPY` and one merge). Then the API's read queries on that data,
`statistics` (answered from maintained rollups) among them.
Targets: at least 150,000 new records/s on SQLite and 100,000 on PostgreSQL; `statistics`
p99 at most 50 ms on both.
EOF

bench "Storage: what the database engine alone inserts" \
    scripts/with-postgres.sh cargo bench -p carbonmesh-store --bench ceiling <<'EOF'
The bound on the write figures: rows of the same shape, built by the database itself
beforehand, copied into `credits` (the compact layout) by `INSERT ... SELECT`, with no client
work at all; on a fresh database with the five credit indexes live (transactions of 10,000),
then with the indexes dropped and built after the load (the bulk path). The store does these
inserts and more (parsing, hashing, binding), so it cannot exceed these figures.
EOF

bench "Import: the write path alone" \
    scripts/with-postgres.sh cargo bench -p carbonmesh-ingest --bench import <<'EOF'
`import_file` on a 1M-row Verra export written by the simulator, without the double-counting
check: read, normalized and written in three stages over the two cores; into a fresh
database (one bulk load), the same export again (every row known by its raw hash, counted
unchanged without being normalized), then 100,000 new records into the 1M (indexes live). SQLite, then PostgreSQL. Records per second, CPU seconds and peak RSS.
EOF

bench "Import: Verra export, carbonmesh vs offsets-db-data" scripts/bench-import.sh <<'EOF'
One Verra VCU transactions export written by the registry simulator (the column layout of
Verra's own export), read by both tools in the same run: `carbonmesh import` parses every row
and serial into an integer range, normalizes, hashes and stores each block with provenance
and history into a new SQLite file, and runs the matcher; then the same file again (all
unchanged: rows stored before are known by their raw hash), 100,000 new records into the 1M,
and the same import into PostgreSQL.
offsets-db-data (from PyPI, in a virtualenv) reads the file with pandas, runs
`process_vcs_credits` and writes its parquet file.
Targets: at least 5x the peer's records/s and 200,000 records/s into a fresh SQLite file,
peak RSS at most 250 MiB, the file at most 350 MiB; re-import at least 500,000 records/s;
100,000 new into 1M at least 100,000 records/s; PostgreSQL at least 100,000 records/s. The
engine's own bounds beside these targets, and what was tried: docs/performance.md.
EOF

bench "Webhook intake" cargo bench -p carbonmesh-webhook --bench intake <<'EOF'
Concurrent senders post signed `common_format` deliveries (HMAC-SHA256) to
`POST /webhooks/verra` on loopback; each is verified and written to the SQLite inbox before
the 202, while the inbox worker applies them on the same database. Then ids are replayed.
Target: at least 2,000 deliveries/s acknowledged, p99 at most 50 ms, none lost or duplicated.
EOF

bench "Matching, and the CAD Trust baseline query" \
    cargo bench -p carbonmesh-matcher --bench matching <<'EOF'
Four parts, each in its own process: the serial interval index on 10 M blocks (build, sweep,
incremental inserts and queries, bytes per block), the whole engine (`Matcher::full`) on 1 M
credit records, and the CAD Trust baseline conflict query (a SQLite self-join on sector,
country and issuance dates) beside carbonmesh on the same generated projects with injected
duplicate listings and serial overlaps. Injected cases missed fail the run.
Targets: a full match of 10 M blocks in at most 3 s; 10,000 incremental inserts and queries
in at most 200 ms; at most 48 bytes of index per block.
EOF

bench "GraphQL API under load" cargo bench -p carbonmesh-api --bench load <<'EOF'
1,000,000 credit records and 20,000 projects in SQLite, the API served by axum in the bench
process on 127.0.0.1, clients as `reqwest` tasks sharing the 2 cores with the server. Every
answer's body is checked; a wrong answer fails the run.
Targets: `project(id)` and `serialLookup` at least 3,000 requests/s with p99 at most 20 ms; a
filtered `creditRecords(first: 100)` page with p99 at most 60 ms.
EOF

bench "Probes under expensive load" cargo bench -p carbonmesh-server --bench probes <<'EOF'
30 concurrent `statistics` callers on a SQLite store of 300,000 credit records, while
`/healthz` is asked every 10 ms and `/readyz` every 100 ms, all on loopback in one process
sharing the 2 cores. The probes answer from the last database check, never queued behind the
queries; expensive operations share 4 slots.
Target: `/healthz` p99 at most 50 ms.
EOF

bench "Bulk download snapshots" \
    scripts/with-postgres.sh cargo bench -p carbonmesh-server --bench snapshot <<'EOF'
A Verra VCU export of 1,000,000 rows written by the registry simulator is imported into a
fresh database; then `export --what credits` as Parquet and as CSV, each alone, and the whole
snapshot `serve` publishes at `/downloads/` (projects, credits and runs, each as Parquet and
CSV, with the manifest), as `serve` writes it. SQLite, then PostgreSQL.
Target: the snapshot of 1M credit records in at most 10 s.
EOF

bench "Review console: first render" scripts/with-chromium.sh cargo bench -p carbonmesh-server --bench console <<'EOF'
10,000 alerts in SQLite (three in ten needing action), `carbonmesh serve` on loopback, and a
headless Chromium (installed by the script when missing) signed in as a reviewer, loading the
queue 20 times after one warm-up. The time runs from navigation start to the queue drawn, as
the page marks it: the page and its scripts, the viewer and queue queries, the table.
Targets: first render at most 300 ms; the console's files at most 300 KB in all.
EOF

chmod 644 "$DRAFT"
mv "$DRAFT" "$OUTPUT"
trap - EXIT
echo "bench-all: every figure is in $OUTPUT" >&2
