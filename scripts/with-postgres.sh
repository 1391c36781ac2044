#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: installs PostgreSQL from Debian's
# packages when it is missing, starts a cluster in a temporary directory on a free loopback
# port, exports CARBONMESH_TEST_POSTGRES_URL, runs the command, and stops and deletes the
# cluster whatever the outcome.
#
#   scripts/with-postgres.sh COMMAND [ARGS...]
set -euo pipefail

find_pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

if ! PG_BIN=$(find_pg_bin); then
  # shellcheck source=scripts/debian.sh
  source "$(dirname "$0")/debian.sh"
  install_from_debian with-postgres postgresql
  PG_BIN=$(find_pg_bin) || { echo "with-postgres: PostgreSQL install failed" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/carbonmesh-pg.XXXXXX)
# PostgreSQL refuses to run as root: run the cluster as an unprivileged user.
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
  id -u postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$WORK"
  RUN_AS=(runuser -u postgres --)
fi

# A loopback port nothing listens on (bash's /dev/tcp connect fails on a free port).
PORT=
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then PORT=$candidate; break; fi
done
[ -n "$PORT" ] || { echo "with-postgres: no free loopback port found" >&2; exit 1; }

cleanup() {
  "${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"${RUN_AS[@]}" "$PG_BIN/initdb" -D "$WORK/data" -U carbonmesh --auth=trust -E UTF8 --no-locale >/dev/null
"${RUN_AS[@]}" "$PG_BIN/pg_ctl" -D "$WORK/data" -l "$WORK/postgres.log" -w -t 60 \
  -o "-h 127.0.0.1 -p $PORT -k $WORK -c fsync=off -c max_connections=200 -c shared_buffers=256MB" \
  start >/dev/null

export PATH="$PG_BIN:$PATH"
export CARBONMESH_TEST_POSTGRES_URL="postgres://carbonmesh@127.0.0.1:$PORT/postgres"
echo "with-postgres: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2
"$@"
