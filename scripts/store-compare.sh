#!/usr/bin/env bash
# One replica on SQLite and on PostgreSQL, measured in one run (issue 19; not run by CI,
# results go in BENCHMARKS.md). For each store in turn, alternated ROUNDS times: a fresh
# database with the bundled Kolkata data, the release server (rate limit off), then with
# wrk -t2 -c64 for SECS seconds each: 5,000 seeded /nearby requests, the 252 z15 tiles of
# central Kolkata (cache off: every tile drawn), and complaint intake (POST /complaints,
# scripts/complaints.lua, each answered after its durable commit).
# Usage: scripts/store-compare.sh [seconds] [rounds]. Needs wrk; starts PostgreSQL
# (scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
ROUNDS="${2:-2}"
PORT="${LOAD_PORT:-18083}"
URL="http://127.0.0.1:$PORT"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
PG="$(bash scripts/postgres.sh | tail -1)"
WORK="$(mktemp -d)"
PID=""
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$WORK"' EXIT
python3 - "$WORK" <<'PY'
import math, random, sys
work = sys.argv[1]
r = random.Random(42)
with open(f"{work}/nearby.txt", "w") as f:
    for _ in range(5000):
        lon, lat = r.uniform(88.27, 88.41), r.uniform(22.47, 22.63)
        f.write(f"/nearby?lon={lon:.6f}&lat={lat:.6f}&radius_m={r.choice([250, 500, 1000, 2000])}&limit=10\n")
def tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
(x0, y0), (x1, y1) = tile(88.30, 22.62, 15), tile(88.40, 22.50, 15)
with open(f"{work}/tiles.txt", "w") as f:
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            f.write(f"/tiles/heritage,water_bodies,parks/15/{x}/{y}.mvt\n")
PY
echo "tiles: $(wc -l < "$WORK/tiles.txt") z15 paths"
run() { # run STORE DB
  "$BIN" --db "$2" serve --bind "127.0.0.1:$PORT" --complaints-per-minute 0 --tile-cache-mb 0 \
    --photos-dir "$WORK/photos" --no-index-snapshot >"$WORK/server-$1.log" 2>&1 &
  PID=$!
  until curl -sf "$URL/health/ready" >/dev/null 2>&1; do sleep 0.05; done
  for what in nearby tiles; do
    out="$(WRK_PATHS="$WORK/$what.txt" wrk -t2 -c64 -d"${SECS}s" --latency -s scripts/nearby.lua "$URL")"
    echo "$1 $what: $(echo "$out" | awk '/Requests\/sec/ {print $2}') req/s, p50 $(echo "$out" | awk '$1=="50%" {print $2}'), p99 $(echo "$out" | awk '$1=="99%" {print $2}')"
  done
  out="$(wrk -t2 -c64 -d"${SECS}s" --latency -s scripts/complaints.lua "$URL")"
  echo "$1 intake: $(echo "$out" | awk '/Requests\/sec/ {print $2}') complaints/s, p50 $(echo "$out" | awk '$1=="50%" {print $2}'), p99 $(echo "$out" | awk '$1=="99%" {print $2}'); $(echo "$out" | grep -E '201 Created' | tr '\n' ' ')"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}
for round in $(seq 1 "$ROUNDS"); do
  rm -f "$WORK"/atlas.db*
  run sqlite "$WORK/atlas.db"
  psql "$PG" -q -c "DROP DATABASE IF EXISTS store_compare WITH (FORCE)" -c "CREATE DATABASE store_compare"
  run postgres "${PG%/*}/store_compare"
done
