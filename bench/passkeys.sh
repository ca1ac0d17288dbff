#!/usr/bin/env bash
# Passkey sign-ins per second: our `passkeys` example against Auth.js with its Passkey provider
# (bench/authjs-passkey), interleaved round by round (ours, then Auth.js, in each round: only
# ratios measured in the same round mean anything on this machine). Each server runs pinned to
# CPU 0, the load driver (bench/passkey_signins.mjs, Node) to CPU 1.
#
#   bench/passkeys.sh
#
# In each round and for each server: USERS new passkey users are registered (not timed), then
# DRIVERS driver processes run together, CONNECTIONS virtual browsers in all, each doing whole
# sign-ins (GET /csrf, GET /webauthn-options/passkey?action=authenticate, the authenticator's
# ES256 signature, POST /callback/passkey) for WARMUP then DURATION seconds; only successes
# (a session cookie set, a url without `error=`) are counted. The server's and the drivers' CPU
# use over the measured seconds are printed, so that a driver-bound run shows itself.
#
# Environment: ROUNDS (3), DURATION (10), WARMUP (3), CONNECTIONS (64), DRIVERS (2), USERS (1000),
# LOGS (bench/logs), CARGO_TARGET_DIR, BASELINE (the path of an earlier build of the example: it
# is measured too, as server `before`, for a before/after ratio in the same rounds). Needs node
# (20+), npm, curl, taskset.
# Prints RESULT lines tagged with round and server, then the ratio per round.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd); ROOT=$(cd "$HERE/.." && pwd)
ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-10} WARMUP=${WARMUP:-3} CONNECTIONS=${CONNECTIONS:-64}
DRIVERS=${DRIVERS:-2} USERS=${USERS:-1000}
LOGS=${LOGS:-$HERE/logs}; mkdir -p "$LOGS"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SECRET=bench-secret-0123456789abcdef0123456789
OURS_PORT=3200 AUTHJS_PORT=3202 BEFORE_PORT=3204 BASELINE=${BASELINE:-}

# Built as bench/compare.sh builds the examples: fat LTO, one codegen unit.
(cd "$ROOT" && cargo build --profile bench-server --example passkeys)
[ -d "$HERE/authjs-passkey/node_modules" ] || (cd "$HERE/authjs-passkey" && npm ci --no-audit --no-fund)

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
wait_port() { for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/api/auth/csrf" && return 0; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
cpu_ticks() { # pid... -> utime + stime of them all, in clock ticks
  local total=0 p f
  for p in "$@"; do
    f=$(cut -d')' -f2- "/proc/$p/stat" 2>/dev/null) || continue
    set -- $f; total=$((total + ${12} + ${13}))
  done
  echo "$total"
}
HZ=$(getconf CLK_TCK)

WORK=$(mktemp -d)
# Ours: users, accounts, passkeys and the ceremonies' challenges in an SQLite file (WAL), the
# example's default store; sessions are tokens (JWE cookies), the default strategy.
env PORT=$OURS_PORT AUTH_SECRET=$SECRET PASSKEYS_DB="$WORK/passkeys.db" RUST_LOG=warn \
  taskset -c 0 "$TARGET/bench-server/examples/passkeys" >"$LOGS/passkeys-ours-server.log" 2>&1 &
OURS=$!; PIDS+=("$OURS")
# Auth.js: the same in an in-memory adapter (Maps), JWT sessions (JWE cookies).
env PORT=$AUTHJS_PORT AUTH_SECRET=$SECRET SESSION_STRATEGY=jwt \
  taskset -c 0 node "$HERE/authjs-passkey/server.js" >"$LOGS/passkeys-authjs-server.log" 2>&1 &
AUTHJS=$!; PIDS+=("$AUTHJS")
if [ -n "$BASELINE" ]; then
  env PORT=$BEFORE_PORT AUTH_SECRET=$SECRET PASSKEYS_DB="$WORK/before.db" RUST_LOG=warn \
    taskset -c 0 "$BASELINE" >"$LOGS/passkeys-before-server.log" 2>&1 &
  BEFORE=$!; PIDS+=("$BEFORE")
  wait_port $BEFORE_PORT
fi
wait_port $OURS_PORT; wait_port $AUTHJS_PORT; sleep 1

{
  echo "# date=$(date -u +%FT%TZ) nproc=$(nproc) cpu='$(lscpu | sed -n 's/^Model name: *//p')' load='$(cut -d' ' -f1-3 /proc/loadavg)'"
  echo "# rustc=$(rustc --version | cut -d' ' -f2) node=$(node --version) commit=$(git -C "$ROOT" rev-parse --short HEAD)"
  echo "# rounds=$ROUNDS duration=${DURATION}s warmup=${WARMUP}s connections=$CONNECTIONS drivers=$DRIVERS users=$USERS"
} | tee "$LOGS/passkeys-machine.txt"

measure() { # name port pid -> one RESULT line
  local name=$1 port=$2 pid=$3 users="$WORK/users-$1-$round.json" k drivers=() outs=()
  taskset -c 1 node "$HERE/passkey_signins.mjs" register "http://localhost:$port" "$users" \
    >"$LOGS/passkeys-register-$name-$round.log" 2>&1 \
    || { cat "$LOGS/passkeys-register-$name-$round.log" >&2; exit 1; }
  for ((k = 0; k < DRIVERS; k++)); do
    outs+=("$WORK/run-$name-$round-$k.out")
    # The connections split between the drivers (the first ones take the remainder).
    local c=$((CONNECTIONS / DRIVERS + (k < CONNECTIONS % DRIVERS ? 1 : 0)))
    SLICE="$k/$DRIVERS" CONNECTIONS=$c DURATION=$DURATION WARMUP=$WARMUP taskset -c 1 \
      node "$HERE/passkey_signins.mjs" run "http://localhost:$port" "$users" >"${outs[-1]}" 2>&1 &
    drivers+=("$!")
  done
  sleep "$WARMUP"
  local s0 d0 s1 d1
  s0=$(cpu_ticks "$pid"); d0=$(cpu_ticks "${drivers[@]}")
  sleep "$DURATION"
  s1=$(cpu_ticks "$pid"); d1=$(cpu_ticks "${drivers[@]}")
  local failed=0
  for k in "${!drivers[@]}"; do wait "${drivers[$k]}" || failed=1; done
  cat "${outs[@]}" >>"$LOGS/passkeys-driver.log"
  [ "$failed" = 0 ] || { cat "${outs[@]}" >&2; exit 1; }
  cat "${outs[@]}" | awk -v round="$round" -v name="$name" -v d="$DURATION" -v hz="$HZ" \
    -v scpu=$((s1 - s0)) -v dcpu=$((d1 - d0)) -v rss="$(ps -o rss= -p "$pid" | tr -d ' ')" '
    /^RESULT/ { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] += kv[2]; if (kv[1] ~ /p50|p99/ && kv[2] > m[kv[1]]) m[kv[1]] = kv[2] } }
    /^FIRST_FAILURE/ && !first { first = $0 }
    END {
      printf "RESULT round=%s server=%s signins_per_s=%.1f signins=%d failures=%d failures_short_signature=%d p50_ms=%s p99_ms=%s server_cpu=%.0f%% driver_cpu=%.0f%% server_rss_kb=%s\n",
        round, name, v["signins"] / d, v["signins"], v["failures"], v["failures_short_signature"], m["p50_ms"], m["p99_ms"],
        100 * scpu / hz / d, 100 * dcpu / hz / d, rss
      if (first) print "# " name " " first
    }' | tee -a "$LOGS/passkeys-results.txt"
}

: >"$LOGS/passkeys-driver.log"
for round in $(seq "$ROUNDS"); do
  [ -z "$BASELINE" ] || measure before $BEFORE_PORT "$BEFORE"
  measure ours $OURS_PORT "$OURS"
  measure authjs $AUTHJS_PORT "$AUTHJS"
done

echo "# ratio per round (ours / Auth.js sign-ins per second; goal >= 10)"
SERVERS=$([ -z "$BASELINE" ] && echo 2 || echo 3)
grep "^RESULT" "$LOGS/passkeys-results.txt" | tail -n $((SERVERS * ROUNDS)) | awk '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] } r[f["round"], f["server"]] = f["signins_per_s"]; n = f["round"] > n ? f["round"] : n }
  END { for (i = 1; i <= n; i++) {
    printf "RATIO round=%d ours=%.1f authjs=%.1f ratio=%.2f", i, r[i, "ours"], r[i, "authjs"], r[i, "ours"] / r[i, "authjs"]
    if ((i, "before") in r) printf " before=%.1f before_ratio=%.2f ours_over_before=%.2f", r[i, "before"], r[i, "before"] / r[i, "authjs"], r[i, "ours"] / r[i, "before"]
    printf "\n" } }' \
  | tee -a "$LOGS/passkeys-results.txt"
rm -rf "$WORK"
