#!/usr/bin/env bash
# FlatGeobuf export of the india-scale layer (2,424,540 water bodies) through
# `/collections/water_bodies/items?f=fgb`: features/s and the server's memory growth
# while exporting, against `ogr2ogr -f FlatGeobuf` converting the same features from
# GeoJSONSeq in the same run. Not run by CI. Usage: scripts/export-bench.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/tmp/india}"
PORT="${PORT:-18091}"
mkdir -p "$WORK"
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
if [ ! -f "$WORK/india.db" ]; then
  "$BIN" generate --scale india -o "$WORK"
  "$BIN" --db "$WORK/india.db" import "$WORK/water_bodies_india.geojsonl" --layer water_bodies 2>&1 | tail -1
fi
[ -f "$WORK/water_bodies_india.geojsonl" ] || "$BIN" generate --scale india -o "$WORK"
"$BIN" --db "$WORK/india.db" serve --no-bundled-data --bind "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.2; done
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
base=$(rss)
peak=$base
t0=$(date +%s%N)
curl -s -o "$WORK/export.fgb" "http://127.0.0.1:$PORT/collections/water_bodies/items?f=fgb" &
CURL=$!
# Meanwhile: does the server still answer other requests?
slow=0
while kill -0 $CURL 2>/dev/null; do
  r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
  t=$(curl -s -o /dev/null -w "%{time_total}" "http://127.0.0.1:$PORT/nearby?lon=88.36&lat=22.57&limit=5")
  awk -v t="$t" 'BEGIN { exit !(t > 0.5) }' && slow=$((slow + 1))
  sleep 0.2
done
t1=$(date +%s%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
n=$(ogrinfo -ro -so "$WORK/export.fgb" water_bodies | sed -n 's/^Feature Count: //p')
echo "heritage-atlas f=fgb: $n features in ${secs} s ($(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') features/s), $(du -m "$WORK/export.fgb" | cut -f1) MB"
echo "server RSS before $((base / 1024)) MiB, peak during export $((peak / 1024)) MiB: growth $(((peak - base) / 1024)) MiB; /nearby answers slower than 0.5 s meanwhile: $slow"
/usr/bin/time -f "ogr2ogr -f FlatGeobuf from GeoJSONSeq: %e s, peak RSS %M KiB" \
  ogr2ogr -f FlatGeobuf "$WORK/gdal.fgb" "$WORK/water_bodies_india.geojsonl" -nln water_bodies 2>&1 | tail -1
echo "ogr2ogr wrote $(ogrinfo -ro -so "$WORK/gdal.fgb" water_bodies | sed -n 's/^Feature Count: //p') features"
