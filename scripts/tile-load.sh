#!/usr/bin/env bash
# Tile load test: this server against martin 1.14 on PostGIS (uncached), and against
# nginx serving the very bytes our server returned as static gzip files (cached), on the
# city synthetic layers, in one run. Not run by CI (martin is a 30-minute build). Results
# go in BENCHMARKS.md ("Tile speed").
#
# Usage: scripts/tile-load.sh [seconds-per-run]     (ROUNDS=2 by default)
#
# Two mixes of tiles, all three layers per tile (`heritage,water_bodies,parks`):
#   coverage: every tile covering central Kolkata (88.28–88.42° E, 22.45–22.65° N) at
#             each zoom 10–16, once each, shuffled: 1,534 tiles, 72 % of them z16, as a
#             map viewer's traffic is;
#   equal:    3,000 seeded random tiles over the city, every zoom 10–16 equally, which
#             weighs the heavy city-wide z10–z12 tiles far more.
# Each server is run ROUNDS times, alternated with its peer: ours, peer, ours, peer.
# `wrk -t2 -c64`, every request with `Accept-Encoding: gzip`.
#
# Needs (installed if missing, Debian): wrk, nginx, gdal-bin (ogr2ogr); PostgreSQL 15
# with PostGIS 3 (scripts/postgres.sh); martin 1.14 on PATH (`cargo install martin@1.14.0
# --locked --no-default-features --features postgres,geojson,metrics`, about 30 minutes on
# 2 cores; its default features also build MapLibre Native, which needs the network).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"
ROUNDS="${ROUNDS:-2}"
WORK="${LOAD_DIR:-/tmp/tileload}"
OURS=18082; MARTIN=18083; NGINX=18084
LAYERS="heritage,water_bodies,parks"
MIXES=(coverage equal)
mkdir -p "$WORK"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v ogr2ogr >/dev/null || need+=(gdal-bin)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
PATH="$PATH:/usr/sbin:$HOME/.cargo/bin"
MARTIN_INSTALL="cargo install martin@1.14.0 --locked --no-default-features --features postgres,geojson,metrics"
command -v martin >/dev/null || { echo "martin not installed: $MARTIN_INSTALL" >&2; exit 1; }
PG_URL="${PG_URL:-$(bash scripts/postgres.sh | tail -1)}"

cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"

if [ ! -f "$WORK/city.db" ]; then
  "$BIN" generate --scale city -o "$WORK" 2>/dev/null
  for l in heritage water_bodies parks; do
    "$BIN" --db "$WORK/city.db" import "$WORK/$l.geojsonl" --layer "$l" 2>&1 | tail -1
  done
fi

# The same layers in PostGIS, in Web Mercator (martin's recommended storage), with GiST
# indexes (ogr2ogr's PostgreSQL driver makes one per geometry column).
PG="PG:$(python3 -c "import sys,urllib.parse as u; p=u.urlparse(sys.argv[1]); print(f'host={p.hostname} port={p.port or 5432} user={p.username} password={p.password} dbname={p.path[1:]}')" "$PG_URL")"
for l in heritage water_bodies parks; do
  ogr2ogr -f PostgreSQL "$PG" "$WORK/$l.geojsonl" -nln "$l" -t_srs EPSG:3857 \
    -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=GIST -overwrite
done
for l in heritage water_bodies parks; do psql -q "$PG_URL" -c "VACUUM ANALYZE $l"; done

# The two lists of tiles, as each server spells them.
python3 - "$WORK" "$LAYERS" <<'PY'
import math, random, sys
work, layers = sys.argv[1], sys.argv[2]
def tile(lon, lat, z):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
r = random.Random(7)
equal = []
for _ in range(3000):
    z = r.randint(10, 16)
    equal.append((z, *tile(r.uniform(88.27, 88.41), r.uniform(22.47, 22.63), z)))
coverage = []
for z in range(10, 17):
    x0, y0 = tile(88.28, 22.65, z)
    x1, y1 = tile(88.42, 22.45, z)
    coverage += [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
random.Random(21).shuffle(coverage)
assert len(coverage) == 1534, len(coverage)
for mix, tiles in (("coverage", coverage), ("equal", equal)):
    with open(f"{work}/ours-{mix}.txt", "w") as f:
        f.writelines(f"/tiles/{layers}/{z}/{x}/{y}.mvt\n" for z, x, y in tiles)
    with open(f"{work}/martin-{mix}.txt", "w") as f:
        f.writelines(f"/{layers}/{z}/{x}/{y}\n" for z, x, y in tiles)
    with open(f"{work}/static-{mix}.txt", "w") as f:
        f.writelines(f"/t/{z}/{x}/{y}.mvt\n" for z, x, y in tiles)
PY

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
wait_up() { until curl -s -o /dev/null "$1"; do sleep 0.1; done; }
stop_last() { kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true; }
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
# run KIND SERVER MIX ROUND PORT PATHS
run() {
  local out
  out="$(WRK_PATHS="$6" wrk -t2 -c64 -d"${SECS}s" --latency -H 'Accept-Encoding: gzip' \
    -s scripts/nearby.lua "http://127.0.0.1:$5")"
  local rps p50 p99 bad
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1 == "50%" {print $2}' <<<"$out")"
  p99="$(awk '$1 == "99%" {print $2}' <<<"$out")"
  bad="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$rps" "$p50" "$p99" "${bad:-0}" | tee -a "$RESULTS"
}
ours() { # ours [extra serve flags…]
  "$BIN" --db "$WORK/city.db" serve --no-bundled-data --bind "127.0.0.1:$OURS" "$@" 2>/dev/null & PIDS+=($!)
  wait_up "http://127.0.0.1:$OURS/health"
  # The web app's files are compressed once (brotli 11) in the background at start: let
  # that finish before measuring.
  sleep 10
}

echo "kind	server	mix	round	req/s	p50	p99	non-2xx"
# Uncached: ours with the tile cache off against martin on PostGIS with its cache off.
for round in $(seq 1 "$ROUNDS"); do
  for mix in "${MIXES[@]}"; do
    ours --tile-cache-mb 0
    run uncached heritage-atlas "$mix" "$round" $OURS "$WORK/ours-$mix.txt"
    stop_last
    martin --cache-size 0 --listen-addresses "127.0.0.1:$MARTIN" "$PG_URL" >"$WORK/martin.log" 2>&1 & PIDS+=($!)
    wait_up "http://127.0.0.1:$MARTIN/catalog"
    run uncached "martin 1.14 PostGIS" "$mix" "$round" $MARTIN "$WORK/martin-$mix.txt"
    stop_last
  done
done

# The bytes our server answers, saved as the static gzip files nginx serves (an empty
# tile, our 204, is an empty file: nginx answers it 200 with no body).
ours
rm -rf "$WORK/static"
for mix in "${MIXES[@]}"; do
  while read -r p; do
    rel="${p#/tiles/$LAYERS/}"
    mkdir -p "$WORK/static/t/$(dirname "$rel")"
    curl -s -H 'Accept-Encoding: gzip' -o "$WORK/static/t/$rel.gz" "http://127.0.0.1:$OURS$p"
    [ -f "$WORK/static/t/$rel.gz" ] || : > "$WORK/static/t/$rel.gz"
  done < "$WORK/ours-$mix.txt"
done
stop_last
echo "static copies: $(find "$WORK/static" -name '*.gz' | wc -l) files, $(du -sh "$WORK/static" | cut -f1)" >&2

# nginx as an operator runs it for pre-compressed tiles: a worker per core, sendfile,
# keep-alive (and enough requests per connection not to reconnect mid-run), the open
# file cache, gzip_static.
cat > "$WORK/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  open_file_cache_valid 60s;
  types { application/vnd.mapbox-vector-tile mvt; }
  server {
    listen 127.0.0.1:$NGINX;
    root $WORK/static;
    gzip_static on;
  }
}
CONF

# Cached: ours warmed by one pass over each list, against nginx.
for round in $(seq 1 "$ROUNDS"); do
  for mix in "${MIXES[@]}"; do
    ours
    while read -r p; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:$OURS$p"; done < "$WORK/ours-$mix.txt"
    run cached heritage-atlas "$mix" "$round" $OURS "$WORK/ours-$mix.txt"
    stop_last
    nginx -c "$WORK/nginx.conf" -g 'daemon off;' & PIDS+=($!)
    wait_up "http://127.0.0.1:$NGINX/"
    run cached "nginx $(nginx -v 2>&1 | sed 's/.*nginx\///')" "$mix" "$round" $NGINX "$WORK/static-$mix.txt"
    stop_last
  done
done

# Ratios: ours over the peer, lowest and highest of the rounds.
python3 - "$RESULTS" <<'PY'
import collections, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
by = collections.defaultdict(list)
for kind, server, mix, rnd, rps, *_ in rows:
    by[(kind, mix, server == "heritage-atlas")].append(float(rps))
print()
print("| kind | mix | heritage-atlas req/s | peer req/s | ratio |")
print("|---|---|---|---|---|")
for kind in ("uncached", "cached"):
    for mix in ("coverage", "equal"):
        o, p = by.get((kind, mix, True)), by.get((kind, mix, False))
        if not o or not p:
            continue
        print(f"| {kind} | {mix} | {min(o):,.0f}–{max(o):,.0f} | {min(p):,.0f}–{max(p):,.0f} "
              f"| {min(o) / max(p):.2f}–{max(o) / min(p):.2f}× |")
PY
