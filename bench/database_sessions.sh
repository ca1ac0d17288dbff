#!/usr/bin/env bash
# GET /session with the database strategy against the token strategy, same window: our anonymous
# example three times (AUTH_SESSION_STRATEGY=jwt; database on SQLite; database on PostgreSQL)
# and Auth.js, interleaved round by round (only ratios within one round mean anything here).
# Each server runs pinned to CPU 0, wrk to CPU 1.
#
#   bench/database_sessions.sh PEERS_DIR   PEERS_DIR: a writable copy of ../shared/peers with
#                                          `npm ci` done in authjs/
# Environment: ROUNDS (3), DURATION (10s), WARMUP (3s), LOGS (bench/logs/database_sessions),
# PG_URL (postgres://postgres@127.0.0.1:5432/test). Prints RESULT lines tagged with round and server.
set -euo pipefail
PEERS=$(cd "${1:?usage: bench/database_sessions.sh PEERS_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}; export DURATION=${DURATION:-10s} WARMUP=${WARMUP:-3s}
LOGS=${LOGS:-$HERE/logs/database_sessions}; mkdir -p "$LOGS"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}

(cd "$ROOT" && cargo build --profile bench-server --example anonymous)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/api/auth/csrf" && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

# PostgreSQL: a schema of the bench's own, fresh each run.
psql "$PG_URL" -q -c "DROP SCHEMA IF EXISTS bench_db_sessions CASCADE; CREATE SCHEMA bench_db_sessions;"
PG_SCHEMA_URL="$PG_URL?options=-c%20search_path%3Dbench_db_sessions"
DIR=$(mktemp -d)
start() { # name port strategy database-url
  env PORT="$2" AUTH_SECRET=bench-secret-0123456789abcdef0123456789 RUST_LOG=warn \
    AUTH_SESSION_STRATEGY="$3" DATABASE_URL="$4" \
    AUTH_GUEST_GLOBAL_PER_HOUR=1000000000 AUTH_GUEST_GLOBAL_BURST=1000000000 \
    AUTH_GUEST_LIMIT_PER_HOUR=0 AUTH_GUEST_LIMIT_BURST=0 \
    taskset -c 0 "$TARGET/bench-server/examples/anonymous" >"$LOGS/$1-server.log" 2>&1 &
  PIDS+=("$!")
}
start jwt 3200 jwt "$DIR/jwt.db"; JWT=${PIDS[-1]}
start db-sqlite 3201 database "$DIR/db.db"; DB_SQLITE=${PIDS[-1]}
start db-postgres 3202 database "$PG_SCHEMA_URL"; DB_PG=${PIDS[-1]}
env PORT=3203 taskset -c 0 node "$PEERS/authjs/server.js" >"$LOGS/authjs-server.log" 2>&1 &
AUTHJS=$!; PIDS+=("$AUTHJS")
for port in 3200 3201 3202 3203; do wait_port "$port"; done; sleep 1

{
  echo "# date=$(date -u +%FT%TZ) nproc=$(nproc) cpu='$(lscpu | sed -n 's/^Model name: *//p')'"
  echo "# rustc=$(rustc --version | cut -d' ' -f2) node=$(node --version) $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
} | tee "$LOGS/machine.txt"

for round in $(seq "$ROUNDS"); do
  for run in "jwt|http://127.0.0.1:3200|$JWT" \
             "db-sqlite|http://127.0.0.1:3201|$DB_SQLITE" \
             "db-postgres|http://127.0.0.1:3202|$DB_PG" \
             "authjs|http://127.0.0.1:3203|$AUTHJS"; do
    IFS='|' read -r name url pid <<<"$run"
    PID=$pid "$HERE/http.sh" "$url" session 2>&1 | sed "s/^RESULT /RESULT round=$round server=$name /" | tee -a "$LOGS/results.txt"
  done
done
psql "$PG_URL" -q -c "SELECT COUNT(*) AS postgres_sessions FROM bench_db_sessions.sessions;" | tee -a "$LOGS/results.txt"
