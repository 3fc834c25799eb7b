#!/usr/bin/env bash
# Tile load test: this server against martin 1.14's GeoJSON source on the same
# city-scale GeoJSON files, and our cache against nginx serving the same tile bytes as
# static files. Not run by CI (it needs a long `cargo install martin`). Results go in
# BENCHMARKS.md. Usage: scripts/tile-load.sh [seconds-per-run]
#
# Needs: wrk, nginx (apt-get), martin (cargo install martin@1.14.0 --locked
# --no-default-features --features geojson).
#
# Optionally martin on PostGIS, its fast path: set PG_URL to a PostGIS database (e.g.
# postgresql://atlas:atlas@127.0.0.1/atlas; Debian: postgresql-15-postgis-3) and
# MARTIN_PG to a martin built with `--features postgres,geojson`. The same layers are
# loaded into it with ogr2ogr in EPSG:3857 (martin's recommended storage) with GiST indexes.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"
WORK="${LOAD_DIR:-/tmp/tileload}"
OURS=18082; MARTIN=18083; NGINX=18084
mkdir -p "$WORK"
command -v martin >/dev/null || { echo "martin not installed"; exit 1; }
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
LAYERS="heritage,water_bodies,parks"

if [ ! -f "$WORK/city.db" ]; then
  "$BIN" generate --scale city -o "$WORK" 2>/dev/null
  for l in heritage water_bodies parks; do
    "$BIN" --db "$WORK/city.db" import "$WORK/$l.geojsonl" --layer "$l" 2>&1 | tail -1
    # martin's GeoJSON source reads FeatureCollections.
    python3 -c "import sys; print('{\"type\":\"FeatureCollection\",\"features\":['+','.join(l.strip() for l in open(sys.argv[1]) if l.strip())+']}')" \
      "$WORK/$l.geojsonl" > "$WORK/$l.geojson"
  done
fi

# A fixed list of tiles, z10-z16, over Kolkata: seeded random points, every zoom equally.
python3 - "$WORK" <<'PY'
import math, random, sys
work = sys.argv[1]
r = random.Random(7)
tiles = []
for _ in range(3000):
    z = r.randint(10, 16)
    lon, lat = r.uniform(88.27, 88.41), r.uniform(22.47, 22.63)
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    tiles.append((z, x, y))
with open(f"{work}/ours.txt", "w") as f:
    for z, x, y in tiles: f.write(f"/tiles/heritage,water_bodies,parks/{z}/{x}/{y}.mvt\n")
with open(f"{work}/martin.txt", "w") as f:
    for z, x, y in tiles: f.write(f"/heritage,water_bodies,parks/{z}/{x}/{y}\n")
with open(f"{work}/static.txt", "w") as f:
    for z, x, y in tiles: f.write(f"/t/{z}/{x}/{y}.mvt\n")
PY

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_up() { until curl -s -o /dev/null "$1"; do sleep 0.1; done; }
run() { # run NAME PORT PATHS
  echo "== $1"
  WRK_PATHS="$3" wrk -t2 -c64 -d"${SECS}s" --latency -s scripts/nearby.lua "http://127.0.0.1:$2" | grep -E "Requests/sec|Latency  |50%|90%|99%|Non-2xx|Socket errors|requests in"
}

# 1. Ours, cache off.
"$BIN" --db "$WORK/city.db" serve --no-bundled-data --tile-cache-mb 0 --bind "127.0.0.1:$OURS" 2>/dev/null & PIDS+=($!)
wait_up "http://127.0.0.1:$OURS/health"
run "heritage-atlas, uncached (--tile-cache-mb 0)" $OURS "$WORK/ours.txt"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

# 2. martin, GeoJSON source, cache off.
martin --cache-size 0 --listen-addresses "127.0.0.1:$MARTIN" "$WORK/heritage.geojson" "$WORK/water_bodies.geojson" "$WORK/parks.geojson" >"$WORK/martin.log" 2>&1 & PIDS+=($!)
wait_up "http://127.0.0.1:$MARTIN/catalog"
run "martin 1.14 GeoJSON source, uncached (--cache-size 0)" $MARTIN "$WORK/martin.txt"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

# 2b. martin on PostGIS (ST_AsMVT), cache off.
if [ -n "${PG_URL:-}" ] && [ -x "${MARTIN_PG:-}" ]; then
  PG="PG:$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(f'host={p.hostname} port={p.port or 5432} user={p.username} password={p.password} dbname={p.path[1:]}')" "$PG_URL")"
  for l in heritage water_bodies parks; do
    ogr2ogr -f PostgreSQL "$PG" "$WORK/$l.geojson" -nln "$l" -t_srs EPSG:3857 -lco GEOMETRY_NAME=geom -lco FID=fid -overwrite
  done
  "$MARTIN_PG" --cache-size 0 --listen-addresses "127.0.0.1:$MARTIN" "$PG_URL" >"$WORK/martin-pg.log" 2>&1 & PIDS+=($!)
  wait_up "http://127.0.0.1:$MARTIN/catalog"
  run "martin 1.14 on PostGIS (ST_AsMVT), uncached (--cache-size 0)" $MARTIN "$WORK/martin.txt"
  kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
fi

# 3. Ours, cached (one warm-up pass over the list first).
"$BIN" --db "$WORK/city.db" serve --no-bundled-data --bind "127.0.0.1:$OURS" 2>/dev/null & PIDS+=($!)
wait_up "http://127.0.0.1:$OURS/health"
rm -rf "$WORK/static"; mkdir -p "$WORK/static"
while read -r p; do
  rel="${p#/tiles/heritage,water_bodies,parks/}"
  mkdir -p "$WORK/static/t/$(dirname "$rel")"
  curl -s -o "$WORK/static/t/$rel" "http://127.0.0.1:$OURS$p"
done < "$WORK/ours.txt"
run "heritage-atlas, cached" $OURS "$WORK/ours.txt"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

# 4. nginx serving the same bytes as static files (no gzip either side: wrk asks none).
cat > "$WORK/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  open_file_cache max=10000;
  types { application/vnd.mapbox-vector-tile mvt; }
  server { listen 127.0.0.1:$NGINX; root $WORK/static; }
}
CONF
nginx -c "$WORK/nginx.conf" -g 'daemon off;' & PIDS+=($!)
wait_up "http://127.0.0.1:$NGINX/"
run "nginx 1.22, same tile bytes as static files" $NGINX "$WORK/static.txt"
