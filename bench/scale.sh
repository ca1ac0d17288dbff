#!/usr/bin/env bash
# Scale: the shop (examples/guest_checkout.rs, release build) on a guest store holding 1,000,000
# guests against the same store empty, in one run, on SQLite and on PostgreSQL: guest sign-ins
# that each create a guest (`create`: a CSRF pair of its own per callback) and a guest's session
# reads; then the cleanup of the 900,000 idle ones while guest sign-ins go on, with the sign-in
# latency during it.
#
#   cargo build --release --example guest_checkout && bench/scale.sh
#
# Environment: BIN (the example's binary; default $CARGO_TARGET_DIR/release/examples/guest_checkout),
# GUESTS (1000000), IDLE (900000, not seen for 60 days: cleanup removes them), DURATION (10s per
# measurement), CLEANUP_CONNECTIONS (4: the sign-in load while the latency is read), DBS
# ("sqlite postgres"), PGURL (postgres://postgres@127.0.0.1:5432, where the
# database `scale_bench` is created afresh). Server on CPU 0, wrk on CPU 1 (bench/http.sh).
# Needs wrk, curl, python3, psql. Prints `RESULT` lines; RELIABILITY.md has a run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/guest_checkout}
GUESTS=${GUESTS:-1000000} IDLE=${IDLE:-900000} DURATION=${DURATION:-10s}
DBS=${DBS:-sqlite postgres} PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-3210}
WORK=$(mktemp -d); PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$WORK"' EXIT
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release --example guest_checkout" >&2; exit 2; }

export SECRET=scale-bench-secret-0123456789abcdef
start() { # DATABASE_URL, SHOP_CLEANUP_SECS
  DATABASE_URL=$1 SHOP_CLEANUP_SECS=$2 PORT=$PORT AUTH_SECRET=$SECRET \
    AUTH_GUEST_LIMIT_BURST=off AUTH_GUEST_LIMIT_PER_HOUR=off AUTH_GUEST_GLOBAL_BURST=off \
    AUTH_GUEST_GLOBAL_PER_HOUR=off RUST_LOG=info taskset -c 0 "$BIN" >>"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/auth/csrf" && return; sleep 0.1; done
  echo "the shop did not start:" >&2; tail -5 "$WORK/server.log" >&2; exit 1
}
stop() { kill -TERM "$PID"; wait "$PID" || true; PID=; }
measure() { # label: a guest's session reads, then new guests (one CSRF pair per callback)
  PID=$PID DURATION=$DURATION "$ROOT/bench/http.sh" "http://127.0.0.1:$PORT" session create |
    sed -n "s/^RESULT /RESULT $1 /p"
}
# Sign-in latency is read at a load the server can carry (CLEANUP_CONNECTIONS, default 4, in a
# closed loop), without and then during the cleanup: at full saturation p99 is queueing alone.
latency() { # label, seconds
  PID=$PID DURATION=$2s WARMUP=0 PAIRS_COUNT=200000 CONNECTIONS=${CLEANUP_CONNECTIONS:-4} \
    "$ROOT/bench/http.sh" "http://127.0.0.1:$PORT" create | sed -n "s/^RESULT /RESULT $1 /p"
}

# Fills the store: $GUESTS guests, ids as the store makes them (ms prefix + 80 random bits);
# the first $IDLE last seen 60 days ago, the rest within the last minutes.
fill_sqlite() {
  python3 - "$1" "$GUESTS" "$IDLE" <<'PY'
import os, sqlite3, sys, time
path, total, idle = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
now = int(time.time() * 1000)
def rows():
    for i in range(total):
        seen = now - (60 * 86400 * 1000 + i if i < idle else i)
        yield ("%012x" % seen + os.urandom(10).hex(), seen, seen)
c = sqlite3.connect(path)
c.execute("BEGIN")
c.executemany("INSERT INTO auth_guests (id, created_at, last_seen_at) VALUES (?, ?, ?)", rows())
c.execute("COMMIT")
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
PY
}
fill_postgres() {
  psql -q "$1" <<SQL
INSERT INTO auth_guests (id, created_at, last_seen_at)
SELECT lpad(to_hex(seen), 12, '0') || substr(md5(random()::text || g::text), 1, 20), seen, seen
FROM (SELECT g, (extract(epoch FROM now()) * 1000)::bigint
        - CASE WHEN g <= $IDLE THEN 5184000000 + g ELSE g END AS seen
      FROM generate_series(1, $GUESTS) g) s;
VACUUM ANALYZE auth_guests;
CHECKPOINT;
SQL
}
idle_left() { # db kind, url
  local cutoff=$(( $(date +%s) * 1000 - 30 * 86400 * 1000 ))
  if [ "$1" = sqlite ]; then
    python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM auth_guests WHERE upgraded_to IS NULL AND last_seen_at < ?', (int(sys.argv[2]),)).fetchone()[0])" "$2" "$cutoff"
  else
    psql -tAq "$2" -c "SELECT count(*) FROM auth_guests WHERE upgraded_to IS NULL AND last_seen_at < $cutoff"
  fi
}

echo "# $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD) guests=$GUESTS idle=$IDLE duration=$DURATION"
for db in $DBS; do
  if [ "$db" = sqlite ]; then
    url=$WORK/scale.db
  else
    psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS scale_bench" -c "CREATE DATABASE scale_bench"
    url=$PGURL/scale_bench
  fi
  start "$url" off; measure "$db empty"; stop
  echo "# filling $db with $GUESTS guests"; SECONDS=0
  if [ "$db" = sqlite ]; then fill_sqlite "$url"; else fill_postgres "$url"; fi
  echo "# filled in ${SECONDS}s"
  start "$url" off; measure "$db full"; latency "$db before-cleanup" 10; stop

  # Cleanup every second (50,000 guests per run at most: 250 batches of 200) while sign-ins go on.
  echo "# cleanup of $(idle_left "$db" "$url") idle guests under sign-in load"
  start "$url" 1; SECONDS=0
  while :; do
    latency "$db during-cleanup t=${SECONDS}s" 5
    left=$(idle_left "$db" "$url"); echo "# idle guests left: $left"
    [ "$left" -eq 0 ] || [ "$SECONDS" -gt 600 ] && break
  done
  echo "# cleanup done in about ${SECONDS}s; $(grep -c 'scheduled guest cleanup ran' "$WORK/server.log") runs logged"
  stop
done
