#!/usr/bin/env bash
# Soak test (not run by CI by default; the figures go in BENCHMARKS.md): a release server on
# a fresh copy of the bundled data, an officer and an Open311 key made first with the CLI,
# the complaint limit off, 20,000 complaints filed to give it a city's register; then
# MINUTES of mixed traffic at 64 connections from scripts/soak_client.py — tiles z10–z16
# over Kolkata, /nearby, /search (English and Bengali), OGC items with CQL2 filters,
# complaint intake (JSON and Open311) triaged by the officer with PATCH, FlatGeobuf and CSV
# exports. Fails on any error (5xx, connection error, unexpected status), on RSS growing
# more than 10% after the first minute, on a broken audit chain (HTTP and `heritage-atlas
# audit verify`), or on a panic in the server log. Prints p50/p99 per route class and
# requests/s as Markdown.
#
# Usage: scripts/soak.sh [MINUTES]   (default 10, or $SOAK_MINUTES; 2 is the CI version)
# Also: SOAK_PORT (18090), SOAK_CONNECTIONS (64), SOAK_INTAKE (complaints a second, 1),
# SOAK_SEED (complaints filed first, 20000). The server inherits the environment, so
# `MALLOC_ARENA_MAX=2 scripts/soak.sh` tells glibc's arena retention from a leak.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES="${1:-${SOAK_MINUTES:-10}}"
[[ "$MINUTES" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "MINUTES must be a number, not $MINUTES"; exit 2; }
PORT="${SOAK_PORT:-18090}"
CONNECTIONS="${SOAK_CONNECTIONS:-64}"
URL="http://127.0.0.1:$PORT"
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
WORK="$(mktemp -d)"
PID=""
CLIENT=""
cleanup() {
  if [ -n "$CLIENT" ]; then kill "$CLIENT" 2>/dev/null || true; wait "$CLIENT" 2>/dev/null || true; fi
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if curl -s -o /dev/null "$URL/health" 2>/dev/null; then echo "port $PORT is in use (set SOAK_PORT)"; exit 1; fi

# The officer and the key before the first start (on a fresh file that only creates the
# tables; the start then loads the bundled data).
password="soak-officer-$RANDOM-$RANDOM-$RANDOM"
echo "$password" | "$BIN" --db "$WORK/atlas.db" user add officer1 --role officer >>"$WORK/cli.log" 2>&1
api_key="$("$BIN" --db "$WORK/atlas.db" apikey add soak 2>>"$WORK/cli.log")"

"$BIN" --db "$WORK/atlas.db" serve --bind "127.0.0.1:$PORT" --complaints-per-minute 0 \
  --photos-dir "$WORK/photos" >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "$URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "$URL/health" >/dev/null || { cat "$WORK/server.log"; echo "server did not start"; exit 1; }

status=0
: > "$WORK/client.txt"
# In the background with `wait`, so that a signal reaches the trap at once; the output is
# shown as it comes, the client's own "N passed, M failed" held back for the total below.
ATLAS_OFFICER_PASSWORD="$password" ATLAS_API_KEY="$api_key" \
  timeout $(( ${MINUTES%.*} * 60 + 240 )) python3 scripts/soak_client.py "$URL" --pid "$PID" \
  --seconds "$(python3 -c "print($MINUTES * 60)")" --connections "$CONNECTIONS" --officer officer1 \
  --intake-per-s "${SOAK_INTAKE:-1}" --seed "${SOAK_SEED:-20000}" \
  > "$WORK/client.txt" 2>&1 &
CLIENT=$!
tail -n +1 -f --pid="$CLIENT" "$WORK/client.txt" 2>/dev/null | grep --line-buffered -v '^[0-9]* passed, [0-9]* failed$' &
SHOW=$!
wait "$CLIENT" || status=$?
CLIENT=""
wait "$SHOW" || true
passed="$(sed -n 's/^\([0-9]*\) passed, [0-9]* failed$/\1/p' "$WORK/client.txt")"
failed="$(sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p' "$WORK/client.txt")"
passed="${passed:-0}"; failed="${failed:-0}"
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && { echo "FAIL soak_client.py exited $status"; failed=$((failed + 1)); }

check() { # check NAME OK(0/1) DETAIL
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1: $3"; fi
}
alive=0; kill -0 "$PID" 2>/dev/null || alive=1
check "the server is still running" "$alive" "it exited; log: $(tail -5 "$WORK/server.log")"
vs=0; verify="$("$BIN" --db "$WORK/atlas.db" audit verify 2>&1)" || vs=$?
check "heritage-atlas audit verify (CLI, while serving): exit 0" "$vs" "$verify"
panics="$(grep -ciE 'panicked|internal error' "$WORK/server.log" || true)"
check "no panic or internal error in the server log" "$([ "$panics" -eq 0 ] && echo 0 || echo 1)" \
  "$panics lines, e.g. $(grep -iE 'panicked|internal error' "$WORK/server.log" | head -3)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
