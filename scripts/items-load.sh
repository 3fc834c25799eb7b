#!/usr/bin/env bash
# Load test of OGC API - Features items (not run by CI; results go in BENCHMARKS.md):
# `items?bbox=…&limit=100` over the city-scale synthetic layers, 64 connections.
# Needs wrk. Usage: scripts/items-load.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"
PORT="${LOAD_PORT:-18085}"
WORK="${LOAD_DIR:-/tmp/tileload}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
mkdir -p "$WORK"
if [ ! -f "$WORK/city.db" ]; then
  "$BIN" generate --scale city -o "$WORK" 2>/dev/null
  for l in heritage water_bodies parks; do "$BIN" --db "$WORK/city.db" import "$WORK/$l.geojsonl" --layer "$l" 2>&1 | tail -1; done
fi
python3 - "$WORK/items.txt" <<'PY'
import random, sys
r = random.Random(42)
with open(sys.argv[1], "w") as f:
    for _ in range(5000):
        layer = r.choice(["heritage", "water_bodies", "parks"])
        lon, lat = r.uniform(88.27, 88.41), r.uniform(22.47, 22.63)
        half = r.choice([0.0025, 0.005, 0.01])
        f.write(f"/collections/{layer}/items?bbox={lon-half:.5f},{lat-half:.5f},{lon+half:.5f},{lat+half:.5f}&limit=100\n")
PY
"$BIN" --db "$WORK/city.db" serve --no-bundled-data --bind "127.0.0.1:$PORT" 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.05; done
echo "wrk: items?bbox&limit=100 over city layers, 64 connections, 2 threads, ${SECS}s"
WRK_PATHS="$WORK/items.txt" wrk -t2 -c64 -d"${SECS}s" --latency -s scripts/nearby.lua "http://127.0.0.1:$PORT" | grep -E "Requests/sec|Latency  |50%|90%|99%|Non-2xx|Socket errors|requests in"
