#!/usr/bin/env bash
# Load test of the query API on city-scale synthetic data (not run by CI; results go in
# BENCHMARKS.md). Needs wrk (apt-get install wrk). Usage: scripts/load.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"
PORT="${LOAD_PORT:-18081}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
WORK="${LOAD_DIR:-$(mktemp -d)}"
DB="$WORK/city.db"
if [ ! -f "$DB" ]; then
  "$BIN" generate --scale city -o "$WORK" 2>/dev/null
  for l in heritage water_bodies parks; do "$BIN" --db "$DB" import "$WORK/$l.geojsonl" --layer "$l" 2>&1 | tail -1; done
  "$BIN" --db "$DB" import data/wards.geojson --layer wards 2>&1 | tail -1
fi

# Start-up: process start to first successful answer.
t0=$(date +%s%N)
"$BIN" --db "$DB" serve --no-bundled-data --bind "127.0.0.1:$PORT" 2>"$WORK/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.005; done
t1=$(date +%s%N)
echo "start-up to first answer: $(( (t1 - t0) / 1000000 )) ms  ($(curl -s "http://127.0.0.1:$PORT/health"))"

# A fixed, seeded list of /nearby requests over Kolkata.
python3 - "$WORK/nearby.txt" <<'PY'
import random, sys
r = random.Random(42)
with open(sys.argv[1], "w") as f:
    for _ in range(5000):
        lon, lat = r.uniform(88.27, 88.41), r.uniform(22.47, 22.63)
        radius = r.choice([250, 500, 1000, 2000])
        f.write(f"/nearby?lon={lon:.6f}&lat={lat:.6f}&radius_m={radius}&limit=10\n")
PY
echo "wrk: /nearby, 64 connections, 2 threads, ${SECS}s"
WRK_PATHS="$WORK/nearby.txt" wrk -t2 -c64 -d"${SECS}s" --latency -s scripts/nearby.lua "http://127.0.0.1:$PORT"
