#!/usr/bin/env bash
# `heritage-atlas export --format fgb` of the india-scale layer (2,424,540 water bodies)
# from the command line: time and peak memory (/usr/bin/time), against
# `ogr2ogr -f FlatGeobuf` converting the same features from GeoJSONSeq in the same run.
# Not run by CI. Usage: scripts/cli-export-bench.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/tmp/india}"
mkdir -p "$WORK"
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/heritage-atlas"
[ -f "$WORK/water_bodies_india.geojsonl" ] || "$BIN" generate --scale india -o "$WORK"
if [ ! -f "$WORK/india.db" ]; then
  "$BIN" --db "$WORK/india.db" import "$WORK/water_bodies_india.geojsonl" --layer water_bodies 2>&1 | tail -1
fi
measure() { # measure NAME CMD...: prints seconds and peak RSS
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/err.txt" || { cat "$WORK/err.txt"; exit 1; }
  read -r secs kib < "$WORK/time.txt"
  echo "$name: ${secs} s, peak RSS $((kib / 1024)) MiB"
}
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
measure "heritage-atlas export --format fgb" "$BIN" --db "$WORK/india.db" export --layer water_bodies --format fgb -o "$WORK/cli.fgb"
echo "  $(ogrinfo -ro -so "$WORK/cli.fgb" water_bodies | sed -n 's/^Feature Count: //p') features, $(du -m "$WORK/cli.fgb" | cut -f1) MB"
rm -f "$WORK/ogr.fgb"
measure "ogr2ogr -f FlatGeobuf from GeoJSONSeq" ogr2ogr -f FlatGeobuf "$WORK/ogr.fgb" "$WORK/water_bodies_india.geojsonl"
measure "heritage-atlas export --format csv" "$BIN" --db "$WORK/india.db" export --layer water_bodies --format csv -o "$WORK/cli.csv"
