#!/usr/bin/env bash
# Same-window comparison: our anonymous example (in each token format: nextauth-v4, the default,
# then authjs-v5 and jws), the bare axum + jsonwebtoken server and Auth.js,
# interleaved round by round (the machine drifts by 10-60% within minutes, so only ratios measured
# in the same round mean anything). Each server runs pinned to CPU 0, wrk to CPU 1.
#
#   bench/compare.sh PEERS_DIR            PEERS_DIR: a writable copy of ../shared/peers with
#                                         `npm ci` done in authjs/ and `cargo build --release` in
#                                         axum-limit/
# Environment: ROUNDS (3), DURATION (10s), WARMUP (3s), LOGS (bench/logs).
# Builds our example in release mode first. Prints RESULT lines tagged with round and server.
set -euo pipefail
PEERS=$(cd "${1:?usage: bench/compare.sh PEERS_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3}; export DURATION=${DURATION:-10s} WARMUP=${WARMUP:-3s}
LOGS=${LOGS:-$HERE/logs}; mkdir -p "$LOGS"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

# Built as the bare baseline is: fat LTO, one codegen unit (the `bench-server` profile).
(cd "$ROOT" && cargo build --profile bench-server --example anonymous)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/api/auth/csrf" && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }

DB=$(mktemp -d)/guests.db
# Every sign-in creates a guest; the global budget (10,000/h by default) is raised and the
# per-client limit (30/h, every wrk connection is 127.0.0.1) turned off, so that
# the load test measures creations, not refusals.
env PORT=3100 AUTH_SECRET=bench-secret-0123456789abcdef0123456789 GUESTS_DB="$DB" RUST_LOG=warn \
  AUTH_GUEST_GLOBAL_PER_HOUR=1000000000 AUTH_GUEST_GLOBAL_BURST=1000000000 \
  AUTH_GUEST_LIMIT_PER_HOUR=0 AUTH_GUEST_LIMIT_BURST=0 \
  taskset -c 0 "$TARGET/bench-server/examples/anonymous" >"$LOGS/ours-server.log" 2>&1 &
OURS=$!; PIDS+=("$OURS")
# The same example in the other token formats, for GET /session only.
for spec in "3103|authjs-v5" "3104|jws"; do
  IFS='|' read -r port format <<<"$spec"
  env PORT=$port AUTH_SECRET=bench-secret-0123456789abcdef0123456789 GUESTS_DB="$DB.$format" \
    RUST_LOG=warn AUTH_TOKEN_FORMAT=$format AUTH_GUEST_GLOBAL_PER_HOUR=1000000000 \
    AUTH_GUEST_GLOBAL_BURST=1000000000 AUTH_GUEST_LIMIT_PER_HOUR=0 AUTH_GUEST_LIMIT_BURST=0 \
    taskset -c 0 "$TARGET/bench-server/examples/anonymous" >"$LOGS/ours-$format-server.log" 2>&1 &
  PIDS+=("$!")
done
OURS_V5=${PIDS[-2]}; OURS_JWS=${PIDS[-1]}
env PORT=3101 SESSION_REISSUE=0 taskset -c 0 "$PEERS/axum-limit/target/release/axum-limit" >"$LOGS/axum-server.log" 2>&1 &
AXUM=$!; PIDS+=("$AXUM")
env PORT=3102 taskset -c 0 node "$PEERS/authjs/server.js" >"$LOGS/authjs-server.log" 2>&1 &
AUTHJS=$!; PIDS+=("$AUTHJS")
wait_port 3100; wait_port 3102; wait_port 3103; wait_port 3104; sleep 1  # the bare server has no csrf endpoint; it starts in ms

{
  echo "# date=$(date -u +%FT%TZ) nproc=$(nproc) cpu='$(lscpu | sed -n 's/^Model name: *//p')'"
  echo "# rustc=$(rustc --version | cut -d' ' -f2) node=$(node --version) $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
} | tee "$LOGS/machine.txt"

# Within a round the three session runs come one after the other, then the two sign-in runs, so
# that the ratios compare runs minutes apart at most.
for round in $(seq "$ROUNDS"); do
  for run in "ours|http://127.0.0.1:3100|$OURS|session" \
             "ours-authjs-v5|http://127.0.0.1:3103|$OURS_V5|session" \
             "ours-jws|http://127.0.0.1:3104|$OURS_JWS|session" \
             "axum|http://127.0.0.1:3101|$AXUM|session" \
             "authjs|http://127.0.0.1:3102|$AUTHJS|session" \
             "ours|http://127.0.0.1:3100|$OURS|signin" \
             "authjs|http://127.0.0.1:3102|$AUTHJS|signin"; do
    IFS='|' read -r name url pid scenario <<<"$run"
    PID=$pid "$HERE/http.sh" "$url" "$scenario" 2>&1 | sed "s/^RESULT /RESULT round=$round server=$name /" | tee -a "$LOGS/results.txt"
  done
done
echo "# idle RSS after the rounds: ours $(ps -o rss= -p "$OURS") KiB, axum $(ps -o rss= -p "$AXUM") KiB, authjs $(ps -o rss= -p "$AUTHJS") KiB" | tee -a "$LOGS/results.txt"
