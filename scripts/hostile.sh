#!/usr/bin/env bash
# The hostile-client suite (scripts/hostile.py) against a fresh release server on
# loopback: an officer and an Open311 key made first, a 3 s header timeout so the
# slow-client checks are quick, the other limits at their defaults. Exits non-zero on
# any failed check.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
WORK="$(mktemp -d)"
PORT="${HOSTILE_PORT:-18095}"
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
export ATLAS_OFFICER_PASSWORD="hostile-$RANDOM-$RANDOM-officer"
echo "$ATLAS_OFFICER_PASSWORD" | "$BIN" --db "$WORK/h.db" user add officer1 --role officer 2>>"$WORK/cli.log"
ATLAS_API_KEY="$("$BIN" --db "$WORK/h.db" apikey add hostile 2>>"$WORK/cli.log")"
export ATLAS_API_KEY
"$BIN" --db "$WORK/h.db" serve --bind "127.0.0.1:$PORT" --header-timeout 3 >>"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 0.1; done
if ! python3 scripts/hostile.py "http://127.0.0.1:$PORT" --pid "$PID" --officer officer1; then
  tail -50 "$WORK/server.log"
  exit 1
fi
# The server is still up, and its audit chain holds.
curl -sf "http://127.0.0.1:$PORT/health" >/dev/null
