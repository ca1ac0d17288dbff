#!/usr/bin/env bash
# What device cookies and the per-client connection cap cost: the shop (examples/guest_checkout.rs,
# release build, SQLite) built before them and after, alternated in one window, ROUNDS rounds (3).
# Password sign-ins (alice's right password, 4 connections, limits on) without and with a device
# cookie, session reads on kept-alive connections (32) and on a new connection each (8, `Connection:
# close`, so every request is accepted and counted by the cap).
#
#   git worktree add /tmp/before <commit before>; (cd /tmp/before && cargo build --release --example guest_checkout)
#   cargo build --release --example guest_checkout
#   BEFORE=/path/to/before/guest_checkout AFTER=/path/to/after/guest_checkout bench/lockout_costs.sh
#
# Needs wrk and curl. Servers on CPU 0, wrk on CPU 1.
set -u
BEFORE=${BEFORE:?the shop built before} AFTER=${AFTER:?the shop built after}
ROUNDS=${ROUNDS:-3}
PORT=3998 ORIGIN=http://127.0.0.1:3998
start() { # binary
  rm -rf /tmp/bench-lockout; mkdir -p /tmp/bench-lockout
  PORT=$PORT AUTH_URL=$ORIGIN/api/auth AUTH_SECRET=bench-secret-0123456789abcdef0123 \
    DATABASE_URL=/tmp/bench-lockout/shop.db SHOP_CLEANUP_SECS=off AUTH_GUEST_LIMIT_PER_HOUR=off \
    AUTH_GUEST_GLOBAL_PER_HOUR=off RUST_LOG=warn taskset -c 0 "$1" > /tmp/bench-lockout/log 2>&1 &
  PID=$!
  for _ in $(seq 1 50); do curl -sf -o /dev/null $ORIGIN/api/auth/csrf && break; sleep 0.2; done
}
# A device cookie for alice, from one right sign-in (empty before device cookies existed).
device_cookie() {
  local jar; jar=$(mktemp)
  local csrf; csrf=$(curl -sf -c "$jar" -b "$jar" $ORIGIN/api/auth/csrf | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrfToken"])')
  curl -sf -o /dev/null -c "$jar" -b "$jar" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "csrfToken=$csrf&username=alice&password=alice-password&json=true" $ORIGIN/api/auth/callback/password
  awk -F'\t' 'NF==7 && $6 ~ /\.device$/ {printf "%s=%s", $6, $7}' "$jar"; rm -f "$jar"
}
# The server's CPU time so far (user + system), in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' /proc/"$PID"/stat; }
# Runs bench/http.sh with the given environment and prints its RESULT line with the server's CPU
# time per request (µs): steal and scheduling noise move throughput more than CPU per request.
run() { # label env...
  local label=$1; shift
  local before after result requests
  before=$(cpu_ticks)
  result=$(env "$@" bench/http.sh $ORIGIN "$SCENARIO" 2>&1 | grep RESULT)
  after=$(cpu_ticks)
  requests=$(echo "$result" | sed -n 's/.* requests=\([0-9]*\).*/\1/p')
  # The warm-up's requests are not counted but its CPU is: WARMUP=0 below.
  echo "$label $result cpu_us_per_request=$(python3 -c "print(round(($after - $before) * 1e6 / $(getconf CLK_TCK) / max($requests, 1), 1))")"
}
measure() { # label
  local sign_in=(PROVIDER=password FORM_EXTRA='username=alice&password=alice-password' CONNECTIONS=4 THREADS=1 DURATION=8s WARMUP=0)
  SCENARIO=callback run "$1 signin       " "${sign_in[@]}"
  local device; device=$(device_cookie)
  SCENARIO=callback run "$1 signin+device" "${sign_in[@]}" COOKIE_EXTRA="$device"
  SCENARIO=session run "$1 session      " DURATION=8s WARMUP=0
  SCENARIO=session run "$1 session-close" CLOSE=1 CONNECTIONS=8 THREADS=1 DURATION=8s WARMUP=0
}
for round in $(seq 1 "$ROUNDS"); do
  # The order alternates (before-after, after-before, ...) so that a drift of the machine's load
  # over the window does not favour one side.
  sides="before after"; [ $((round % 2)) = 0 ] && sides="after before"
  for side in $sides; do
    bin=$BEFORE; [ $side = after ] && bin=$AFTER
    start "$bin"; measure "round$round $side"; kill -TERM $PID; wait $PID 2>/dev/null
  done
done
