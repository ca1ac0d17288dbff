#!/usr/bin/env bash
# Right password sign-ins per second on the shop (examples/guest_checkout.rs, release build), with
# the Credentials attempt limits on (the default) and off, alternated, on SQLite and PostgreSQL.
# One client, one identifier, 4 connections: every sign-in is charged and given back.
#
#   CARGO_TARGET_DIR=/work/cache/target-release cargo build --release -p auth-suite --example guest_checkout
#   BIN=${BIN:?the shop's release binary} bench/attempt_limits.sh
#
# Needs wrk, curl, psql and PostgreSQL on 127.0.0.1:5432 (database `test`, schema bench_attempts).
set -u
BIN=${BIN:?the shop's release binary}
run_one() { # label db extra-env...
  local label=$1 db=$2; shift 2
  rm -rf /tmp/bench-shop; mkdir -p /tmp/bench-shop
  if [ "$db" = pg ]; then
    psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA IF EXISTS bench_attempts CASCADE; CREATE SCHEMA bench_attempts;" >/dev/null 2>&1
    dburl="postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3Dbench_attempts"
  else
    dburl=/tmp/bench-shop/shop.db
  fi
  env "$@" PORT=3999 AUTH_URL=http://127.0.0.1:3999/api/auth AUTH_SECRET=bench-secret-0123456789abcdef0123 \
    DATABASE_URL="$dburl" SHOP_CLEANUP_SECS=off AUTH_GUEST_LIMIT_PER_HOUR=off AUTH_GUEST_GLOBAL_PER_HOUR=off \
    RUST_LOG=warn taskset -c 0 "$BIN" > /tmp/bench-shop/log 2>&1 &
  local pid=$!
  for i in $(seq 1 50); do curl -sf -o /dev/null http://127.0.0.1:3999/api/auth/csrf && break; sleep 0.2; done
  local out
  out=$(PROVIDER=password FORM_EXTRA='username=alice&password=alice-password' CONNECTIONS=4 THREADS=1 DURATION=10s WARMUP=2s \
    bench/http.sh http://127.0.0.1:3999 callback 2>&1 | grep RESULT)
  echo "$db $label $out"
  kill -TERM $pid; wait $pid 2>/dev/null
}
for round in 1 2; do
  for db in sqlite pg; do
    run_one "limits-on " $db X=1
    run_one "limits-off" $db AUTH_CREDENTIALS_LIMIT_PER_HOUR=off AUTH_CREDENTIALS_IDENTIFIER_PER_HOUR=off
  done
done
