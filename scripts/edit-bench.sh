#!/usr/bin/env bash
# Register edits under load (not run by CI; results go in BENCHMARKS.md): the city
# synthetic register (8,000 ponds, 1,400 heritage footprints, 750 parks) imported, then
# the water bodies imported again twelve times, each from another seed (same codes, other
# outlines: an import that changes nothing writes no version), so the register holds over 100,000
# versions, with an instant in the middle to ask `as_of` for. Then scripts/edit_bench.py:
# PATCH edits/s at 16 clients with durable commits, edit -> tile latency, as_of answers.
# Usage: scripts/edit-bench.sh [seconds] [clients]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-15}"
CLIENTS="${2:-16}"
PORT="${LOAD_PORT:-18085}"
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
WORK="$(mktemp -d)"
trap 'kill ${PID:-0} 2>/dev/null || true; rm -rf "$WORK"' EXIT
DB="$WORK/city.db"
"$BIN" generate --scale city -o "$WORK" 2>/dev/null
for l in heritage water_bodies parks; do
  "$BIN" --db "$DB" import "$WORK/$l.geojsonl" --layer "$l" 2>&1 | tail -1
done
AS_OF=""
for round in $(seq 1 12); do
  "$BIN" generate --scale city --seed "$((100 + round))" -o "$WORK/r$round" 2>/dev/null
  "$BIN" --db "$DB" import "$WORK/r$round/water_bodies.geojsonl" --layer water_bodies >/dev/null 2>&1
  if [ "$round" = 6 ]; then
    sleep 0.01
    AS_OF="$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)"
    sleep 0.01
  fi
done
python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print("versions on record:", db.execute("select count(*) from asset_versions").fetchone()[0],
      "assets:", db.execute("select count(*) from assets").fetchone()[0])
PY
echo "bench password 123" | "$BIN" --db "$DB" user add bench --role officer >/dev/null
"$BIN" --db "$DB" serve --no-bundled-data --bind "127.0.0.1:$PORT" 2>"$WORK/server.log" &
PID=$!
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.05; done
echo "as_of instant: $AS_OF (after the sixth of twelve re-imports); database on $(df --output=source,fstype "$WORK" | tail -1)"
python3 scripts/edit_bench.py "http://127.0.0.1:$PORT" bench "bench password 123" "$AS_OF" "$CLIENTS" "$SECS"
