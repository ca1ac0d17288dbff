#!/usr/bin/env bash
# HTTP benchmark of any server that speaks NextAuth v4's REST API with a Credentials provider.
#
#   bench/http.sh BASE_URL [SCENARIO ...]      scenarios: session csrf callback signin (default: all),
#                                              and create (new guests; needs SECRET, the server's AUTH_SECRET)
#
# Environment: DURATION (10s), CONNECTIONS (32), THREADS (2), WARMUP (3s), WRK_CPU (1: pin wrk to
# that CPU; start the server under `taskset -c 0`), PID (the server's pid: its peak RSS is sampled),
# PROVIDER (the callback's provider, default anon), FORM_EXTRA (more callback fields, e.g.
# `username=alice&password=alice-password` for a password provider), COOKIE_EXTRA (more cookies
# for callback and signin, e.g. a device cookie), CLOSE=1 (session reads on a new connection
# each: `Connection: close`).
# Prints one `RESULT` line per scenario. Needs wrk (apt-get install -y wrk), curl and python3.
set -euo pipefail
BASE=${1:?usage: bench/http.sh BASE_URL [SCENARIO ...]}; BASE=${BASE%/}; shift
SCENARIOS=("$@"); [ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(session csrf callback signin)
DURATION=${DURATION:-10s} CONNECTIONS=${CONNECTIONS:-32} THREADS=${THREADS:-2} WARMUP=${WARMUP:-3s}
WRK_CPU=${WRK_CPU:-1} PID=${PID:-}
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=$(mktemp); PAIRS_FILE=$(mktemp); trap 'rm -f "$JAR" "$PAIRS_FILE"' EXIT

# A browser's first steps: a csrf pair, then a signed-in session.
jar_cookies() { awk -F'\t' 'NF==7 && $7!="" {printf "%s%s=%s", (n++?"; ":""), $6, $7}' "$JAR"; }
# A server without a csrf endpoint (the bare baseline) gets a dummy token.
CSRF=$(curl -sf -c "$JAR" -b "$JAR" "$BASE/api/auth/csrf" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["csrfToken"])' 2>/dev/null || echo none)
CSRF_COOKIE=$(jar_cookies)
FORM="csrfToken=$CSRF&callbackUrl=$(python3 -c 'import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=""))' "$BASE/")&json=true"
curl -sf -o /dev/null -c "$JAR" -b "$JAR" -H 'X-Auth-Return-Redirect: 1' \
  -H 'Content-Type: application/x-www-form-urlencoded' --data "$FORM" "$BASE/api/auth/callback/anon"
SESSION_COOKIE=$(jar_cookies)
FORM="$FORM${FORM_EXTRA:+&$FORM_EXTRA}"
echo "# $BASE session: $(curl -sf -H "Cookie: $SESSION_COOKIE" "$BASE/api/auth/session" | head -c 200)"

peak_rss_during() { # seconds -> peak RSS (KiB) of $PID, sampled each second
  local peak=0 r
  for ((s = 0; s < $1; s++)); do
    r=$(ps -o rss= -p "$PID" 2>/dev/null | tr -d ' '); [ "${r:-0}" -gt "$peak" ] && peak=$r; sleep 1
  done
  echo "$peak"
}

for scenario in "${SCENARIOS[@]}"; do
  case $scenario in
    session) cookie=$SESSION_COOKIE ;; callback | signin) cookie=$CSRF_COOKIE${COOKIE_EXTRA:+; $COOKIE_EXTRA} ;;
    csrf | create) cookie= ;;
    *) echo "unknown scenario $scenario" >&2; exit 2 ;;
  esac
  run() {
    # A fresh CSRF pair per callback, each used once: every request creates a guest.
    [ "$scenario" != create ] || python3 "$HERE/csrf_pairs.py" "${SECRET:?create needs SECRET}" \
      "${PAIRS_COUNT:-600000}" "$PAIRS_FILE"
    PAIRS=$PAIRS_FILE THREADS=$THREADS SCENARIO=$scenario COOKIE=$cookie FORM=$FORM taskset -c "$WRK_CPU" \
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" --timeout 5s -s "$HERE/scenarios.lua" "$BASE"
  }
  [ "$WARMUP" = 0 ] || run "$WARMUP" >/dev/null
  if [ -n "$PID" ]; then
    rss_file=$(mktemp); (peak_rss_during "${DURATION%s}" >"$rss_file") &
    out=$(run "$DURATION"); wait; rss=$(cat "$rss_file"); rm -f "$rss_file"
  else
    out=$(run "$DURATION"); rss=none
  fi
  echo "$out" | sed -n "s/^RESULT /RESULT $scenario /p" | sed "s/\$/ peak_rss_kb=$rss/"
  echo "$out" | grep '^FIRST_WRONG' || true
done
