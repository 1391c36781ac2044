#!/usr/bin/env bash
# End-to-end import throughput on a Verra VCU transactions export: carbonmesh against
# CarbonPlan's offsets-db-data pipeline, on the same file, in the same run.
#
#   ROWS=1000000 SEED=1 scripts/bench-import.sh
#
# Steps:
#   1. build `carbonmesh` and the simulator's `write_verra_csv` example (release);
#   2. write ROWS + ROWS/10 rows of a Verra export (the column layout of Verra's own VCU
#      export): the first ROWS rows are the export, the last ROWS/10 rows an export of new
#      records;
#   3. carbonmesh: `carbonmesh --database FRESH.db import --registry verra --kind transactions`,
#      which parses every serial into an integer range, validates and normalizes each row,
#      hashes it, checks it for double counting and stores it with provenance and version
#      history into SQLite; the summary line must say `ROWS rows read` and `rejected 0`;
#   4. the same export again into that database (every record unchanged), then the ROWS/10
#      new records into it (a load small beside the table: the indexes stay live);
#   5. the same export into PostgreSQL (the throwaway cluster of scripts/with-postgres.sh);
#   6. offsets-db-data (in a virtualenv kept under target/bench-venv): pd.read_csv, then
#      process_vcs_credits (aggregation and schema validation of a DataFrame in memory),
#      then the gzip parquet write of the credits table that its own pipeline ends with;
#   7. a table of all, and the ratio of records per second.
#
# Environment: ROWS (default 1000000), SEED (default 1), OFFSETS_DB_DATA_VERSION (default
# 2026.5.6), STEP_TIMEOUT seconds for each timed step (default 3600), PIP_ARGS (extra
# arguments for pip install). Everything but the virtualenv lives in a temporary directory
# that is removed at the end.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROWS="${ROWS:-1000000}"
SEED="${SEED:-1}"
OFFSETS_DB_DATA_VERSION="${OFFSETS_DB_DATA_VERSION:-2026.5.6}"
STEP_TIMEOUT="${STEP_TIMEOUT:-3600}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$ROOT/target/bench-venv"

case "$ROWS" in '' | *[!0-9]* | 0)
    echo "bench-import: ROWS must be a positive integer, got '$ROWS'" >&2
    exit 2
    ;;
esac
case "$SEED" in '' | *[!0-9]*)
    echo "bench-import: SEED must be a non-negative integer, got '$SEED'" >&2
    exit 2
    ;;
esac

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-import.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log() { printf '== %s\n' "$*" >&2; }
die() {
    printf 'bench-import: %s\n' "$*" >&2
    exit 1
}

# Seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

# Runs "$@" under a timeout, recording peak RSS with GNU time when it is installed.
# Wall time goes to $WORK/$name.wall, peak RSS (KiB, or "") to $WORK/$name.rss,
# standard output to $WORK/$name.out and standard error to $WORK/$name.err.
timed() {
    local name="$1" start end status=0
    shift
    local -a wrap=(timeout "$STEP_TIMEOUT")
    if [[ -x /usr/bin/time ]]; then
        wrap=(/usr/bin/time -v -o "$WORK/$name.time" "${wrap[@]}")
    fi
    start="$(now)"
    "${wrap[@]}" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || status=$?
    end="$(now)"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }' >"$WORK/$name.wall"
    if [[ -f "$WORK/$name.time" ]]; then
        awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/$name.time" >"$WORK/$name.rss"
    else
        : >"$WORK/$name.rss"
    fi
    if [[ "$status" -ne 0 ]]; then
        echo "bench-import: '$name' failed (exit $status); its output:" >&2
        tail -n 40 "$WORK/$name.out" "$WORK/$name.err" >&2 || true
        exit 1
    fi
}

# KiB to "N MiB", or "-" when not measured.
mib() { if [[ -n "$1" ]]; then awk -v k="$1" 'BEGIN { printf "%.0f MiB", k / 1024 }'; else echo "-"; fi; }
# Records per second for ROWS over $1 seconds.
rate() { awk -v n="$ROWS" -v s="$1" 'BEGIN { if (s > 0) printf "%.0f", n / s; else print 0 }'; }
# The value of key $2 in a line of key=value pairs $1.
field() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2 }'; }

load_before="$(uptime)"

log "building carbonmesh and the Verra export writer (release)"
(
    cd "$ROOT"
    cargo build --release --quiet -p carbonmesh-server --bin carbonmesh
    cargo build --release --quiet -p carbonmesh-simulator --example write_verra_csv
) || die "build failed"
CARBONMESH="$TARGET_DIR/release/carbonmesh"
WRITER="$TARGET_DIR/release/examples/write_verra_csv"
[[ -x "$CARBONMESH" && -x "$WRITER" ]] || die "built binaries not found under $TARGET_DIR/release"

log "preparing the offsets-db-data $OFFSETS_DB_DATA_VERSION virtualenv in $VENV"
venv_ready() {
    [[ -x "$VENV/bin/python" ]] &&
        "$VENV/bin/python" -c 'import sys; from importlib.metadata import version
sys.exit(version("offsets-db-data") != sys.argv[1])' "$OFFSETS_DB_DATA_VERSION" 2>/dev/null
}
if ! venv_ready; then
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" || die "cannot create $VENV"
    # shellcheck disable=SC2086 # PIP_ARGS is a list of words on purpose
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check ${PIP_ARGS:-} \
        "offsets-db-data==$OFFSETS_DB_DATA_VERSION" || die "pip install offsets-db-data failed"
    venv_ready || die "offsets-db-data $OFFSETS_DB_DATA_VERSION not importable after install"
fi

CSV="$WORK/verra-transactions.csv"
MORE="$WORK/verra-new.csv"
NEW_ROWS=$((ROWS / 10))
log "writing $((ROWS + NEW_ROWS)) rows (seed $SEED): $ROWS to $CSV, $NEW_ROWS to $MORE"
timed generate "$WRITER" --rows "$((ROWS + NEW_ROWS))" --seed "$SEED" "$WORK/all.csv"
head -n "$((ROWS + 1))" "$WORK/all.csv" >"$CSV"
{ head -n 1 "$WORK/all.csv"; tail -n "$NEW_ROWS" "$WORK/all.csv"; } >"$MORE"
rm -f "$WORK/all.csv"
lines="$(wc -l <"$CSV")"
[[ "$lines" -eq $((ROWS + 1)) ]] || die "expected $((ROWS + 1)) lines in the export, found $lines"
csv_mib="$(du -m "$CSV" | cut -f1)"

log "carbonmesh import into a fresh SQLite file"
# Run from the temporary directory, so no carbonmesh.toml of the caller is picked up.
(
    cd "$WORK"
    unset CARBONMESH_CONFIG CARBONMESH_DATABASE__URL
    timed carbonmesh "$CARBONMESH" --database "$WORK/carbonmesh.db" \
        import --registry verra --kind transactions "$CSV"
)
summary="$(grep -E ': [0-9]+ rows read; records new [0-9]+, changed [0-9]+, unchanged [0-9]+; rejected [0-9]+$' \
    "$WORK/carbonmesh.out" | tail -n 1 || true)"
[[ -n "$summary" ]] || die "no summary line from carbonmesh import: $(cat "$WORK/carbonmesh.out")"
summary="${summary##*: }"
[[ "$summary" == "$ROWS rows read;"* ]] || die "carbonmesh read ${summary%% *} rows, expected $ROWS"
[[ "$summary" == *"; rejected 0" ]] || die "carbonmesh rejected records: $summary"
cm_s="$(cat "$WORK/carbonmesh.wall")"
cm_rss="$(cat "$WORK/carbonmesh.rss")"
# The file as it stands once the import has ended (the WAL is checkpointed when it exits).
db_bytes="$(du -cb "$WORK"/carbonmesh.db* | tail -n 1 | cut -f1)"
db_mib=$((db_bytes / 1048576))

# The summary's counts, as "new N, changed N, unchanged N; rejected N".
counts() { grep -oE 'new [0-9]+, changed [0-9]+, unchanged [0-9]+; rejected [0-9]+' "$1" | tail -n 1; }

log "carbonmesh import of the same export again (every record unchanged)"
(
    cd "$WORK"
    unset CARBONMESH_CONFIG CARBONMESH_DATABASE__URL
    timed again "$CARBONMESH" --database "$WORK/carbonmesh.db" \
        import --registry verra --kind transactions "$CSV"
)
[[ "$(counts "$WORK/again.out")" == "new 0, changed 0, unchanged $ROWS; rejected 0" ]] ||
    die "re-import: $(counts "$WORK/again.out")"

log "carbonmesh import of $NEW_ROWS new records into the database of $ROWS"
(
    cd "$WORK"
    unset CARBONMESH_CONFIG CARBONMESH_DATABASE__URL
    timed more "$CARBONMESH" --database "$WORK/carbonmesh.db" \
        import --registry verra --kind transactions "$MORE"
)
[[ "$(counts "$WORK/more.out")" == "new $NEW_ROWS, changed 0, unchanged 0; rejected 0" ]] ||
    die "new records: $(counts "$WORK/more.out")"

log "carbonmesh import into PostgreSQL"
# Timed inside the cluster's lifetime: its start and stop are not the import's.
(
    cd "$WORK"
    unset CARBONMESH_CONFIG CARBONMESH_DATABASE__URL
    "$ROOT/scripts/with-postgres.sh" bash -c '
        start=$(date +%s.%N)
        /usr/bin/time -v -o "$3/postgres.time" "$1" --database "$CARBONMESH_TEST_POSTGRES_URL" \
            import --registry verra --kind transactions "$2" >"$3/postgres.out" 2>"$3/postgres.err"
        end=$(date +%s.%N)
        awk -v s="$start" -v e="$end" "BEGIN { printf \"%.3f\\n\", e - s }" >"$3/postgres.wall"
    ' import "$CARBONMESH" "$CSV" "$WORK" >/dev/null 2>&1 ||
        { tail -n 20 "$WORK/postgres.err" >&2; die "the PostgreSQL import failed"; }
    awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/postgres.time" >"$WORK/postgres.rss"
)
[[ "$(counts "$WORK/postgres.out")" == "new $ROWS, changed 0, unchanged 0; rejected 0" ]] ||
    die "PostgreSQL import: $(counts "$WORK/postgres.out")"

log "offsets-db-data: pd.read_csv + process_vcs_credits + to_parquet"
timed offsets "$VENV/bin/python" "$ROOT/scripts/bench/offsets_db_vcs.py" "$CSV" \
    --parquet "$WORK/credits.parquet"
py="$(tail -n 1 "$WORK/offsets.out")"
[[ "$(field "$py" rows_in)" == "$ROWS" ]] || die "offsets-db-data read $(field "$py" rows_in) rows, expected $ROWS"
py_total="$(field "$py" total_s)"
py_pipeline="$(field "$py" pipeline_s)"
py_process="$(cat "$WORK/offsets.wall")"
py_rss="$(cat "$WORK/offsets.rss")"
[[ -n "$py_rss" ]] || py_rss="$(field "$py" peak_rss_kib)"
pq_mib="$(du -m "$WORK/credits.parquet" | cut -f1)"

load_after="$(uptime)"

cm_rate="$(rate "$cm_s")"
py_total_rate="$(rate "$py_total")"
py_pipeline_rate="$(rate "$py_pipeline")"

echo
echo "Verra VCU transactions export: $ROWS records (seed $SEED), $csv_mib MiB CSV"
revision="not a git checkout"
if rev="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"; then
    revision="$rev"
    git -C "$ROOT" diff --quiet HEAD -- || revision="$rev with uncommitted changes"
fi
echo "carbonmesh $revision; offsets-db-data $(field "$py" offsets_db_data), pandas $(field "$py" pandas); $(nproc) cores"
echo
printf '%-58s %9s %12s %10s\n' "tool" "seconds" "records/s" "peak RSS"
printf '%-58s %9s %12s %10s\n' "carbonmesh import into a new SQLite file" \
    "$cm_s" "$cm_rate" "$(mib "$cm_rss")"
printf '%-58s %9s %12s %10s\n' "carbonmesh import of the same export again (unchanged)" \
    "$(cat "$WORK/again.wall")" "$(rate "$(cat "$WORK/again.wall")")" "$(mib "$(cat "$WORK/again.rss")")"
printf '%-58s %9s %12s %10s\n' "carbonmesh import of $NEW_ROWS new records into it" \
    "$(cat "$WORK/more.wall")" "$(awk -v n="$NEW_ROWS" -v s="$(cat "$WORK/more.wall")" 'BEGIN { printf "%.0f", n / s }')" \
    "$(mib "$(cat "$WORK/more.rss")")"
printf '%-58s %9s %12s %10s\n' "carbonmesh import into PostgreSQL" \
    "$(cat "$WORK/postgres.wall")" "$(rate "$(cat "$WORK/postgres.wall")")" "$(mib "$(cat "$WORK/postgres.rss")")"
printf '%-58s %9s %12s %10s\n' "offsets-db-data read_csv + process_vcs_credits + parquet" \
    "$py_total" "$py_total_rate" "$(mib "$py_rss")"
printf '%-58s %9s %12s %10s\n' "offsets-db-data process_vcs_credits only" \
    "$py_pipeline" "$py_pipeline_rate" "-"
echo
echo "carbonmesh: $summary; SQLite files $db_mib MiB ($((db_bytes / ROWS)) bytes a record)"
echo "offsets-db-data: $(field "$py" rows_out) credit rows out ($(field "$py" issuances_out) issuances" \
    "after aggregation, $(field "$py" retirements_out) retirements); read_csv $(field "$py" read_s) s," \
    "parquet $(field "$py" parquet_s) s ($pq_mib MiB); process wall time with interpreter start" \
    "and imports $py_process s"
awk -v c="$cm_rate" -v t="$py_total_rate" -v p="$py_pipeline_rate" 'BEGIN {
    printf "ratio carbonmesh / offsets-db-data, records/s: %.2f (total), %.2f (pipeline only)\n",
        (t > 0 ? c / t : 0), (p > 0 ? c / p : 0)
}'
echo "load before: ${load_before##*load average: }; after: ${load_after##*load average: }"
