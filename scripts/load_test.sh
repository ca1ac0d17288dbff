#!/usr/bin/env bash
# Loopback load test: 30 s of mixed traffic (session reads, guest sign-ins, hostile requests)
# against the release build of examples/anonymous.rs. Reports requests, status counts (per
# request kind, from a second pass with curl), server errors in the log and RSS over time.
#
#   scripts/load_test.sh            # needs wrk (apt-get install -y wrk) and curl
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/cache/target}"
PORT="${PORT:-3917}"
DURATION="${DURATION:-30}"
BASE="http://127.0.0.1:$PORT/api/auth"
WORK="$(mktemp -d)"
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

cargo build --release --example anonymous --quiet
# The guest store's creation limits stay on: past the budget, sign-ins are refused with 401
# RateLimited, which is part of what this test looks at.
AUTH_SECRET="load-test-secret-0123456789abcdef0123" PORT="$PORT" RUST_LOG=info \
  GUESTS_DB="$WORK/load.db" \
  "$CARGO_TARGET_DIR/release/examples/anonymous" >"$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do curl -s -o /dev/null "$BASE/csrf" && break; sleep 0.1; done

# A signed-in guest and a CSRF pair, as a browser would hold them.
JAR="$WORK/jar"
CSRF_TOKEN=$(curl -s -c "$JAR" "$BASE/csrf" | sed -E 's/.*"csrfToken":"([0-9a-f]+)".*/\1/')
curl -s -b "$JAR" -c "$JAR" -o /dev/null -d "csrfToken=$CSRF_TOKEN&json=true" "$BASE/callback/anon"
export CSRF_TOKEN
export CSRF_COOKIE="next-auth.csrf-token=$(awk '$6=="next-auth.csrf-token"{print $7}' "$JAR")"
export SESSION_COOKIE="next-auth.session-token=$(awk '$6=="next-auth.session-token"{print $7}' "$JAR")"

rss() { awk '/VmRSS/{print $2}' "/proc/$SERVER/status"; }
echo "RSS before load: $(rss) kB"
( for t in $(seq 0 5 "$DURATION"); do echo "t=${t}s rss=$(rss) kB"; sleep 5; done ) > "$WORK/rss" &
SAMPLER=$!
wrk -t2 -c32 -d"${DURATION}s" -s scripts/load_test.lua "http://127.0.0.1:$PORT" | tee "$WORK/wrk"
wait "$SAMPLER" || true
cat "$WORK/rss"
echo "RSS after load: $(rss) kB"

# Status of each request kind (the same requests, one at a time): only 2xx/4xx are expected.
echo "== status per request kind"
check() { printf '%-42s %s\n' "$1" "$(curl -s -o /dev/null -w '%{http_code}' "${@:2}")"; }
check "GET session (signed in)" -H "Cookie: $SESSION_COOKIE" "$BASE/session"
check "POST callback/anon (guest sign-in)" -H "Cookie: $CSRF_COOKIE" -d "csrfToken=$CSRF_TOKEN&json=true" "$BASE/callback/anon"
check "GET signin?callbackUrl=javascript:" "$BASE/signin?callbackUrl=javascript:alert(1)"
check "GET session (alg none token, evil cookie)" -H "Cookie: next-auth.session-token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.; next-auth.callback-url=%2F%2Fevil.example" "$BASE/session"
check "POST callback/anon (forged CSRF)" -d "csrfToken=forged&json=true" "$BASE/callback/anon"
check "POST session (malformed JSON)" -H "Content-Type: application/json" -d '{"data":' "$BASE/session"
head -c 70000 /dev/zero | tr '\0' x > "$WORK/big"
check "POST signout (70 kB text/plain)" -H "Content-Type: text/plain" --data-binary "@$WORK/big" "$BASE/signout"

echo "== server log: lines at ERROR or WARN level"
grep -cE "ERROR|WARN" "$WORK/server.log" || true
grep -E "ERROR|panicked" "$WORK/server.log" | head -5 || true
