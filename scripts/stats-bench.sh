#!/usr/bin/env bash
# Monitoring figures at scale (issue 18): the india-scale layer (2,424,540 water bodies)
# with 1,000,000 synthetic complaints and the 144 wards; each /stats answer timed with
# curl, 20 runs, median and worst. Not run by CI (the data takes minutes). Usage:
#   scripts/stats-bench.sh [WORKDIR]   (needs WORKDIR/india.db from scripts/india-memory.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/tmp/india}"
PORT="${PORT:-18091}"
BIN="$PWD/target/release/heritage-atlas"
DB="$WORK/stats.db"
if [ ! -f "$DB" ]; then
  cp "$WORK/india.db" "$DB"
  /usr/bin/time -f "wards import: %e s" "$BIN" --db "$DB" import data/wards.geojson --layer wards
  /usr/bin/time -f "generate-complaints: %e s, peak RSS %M KiB" "$BIN" --db "$DB" generate-complaints --count 1000000 --seed 7 --months 24
fi
t0=$(date +%s%N)
"$BIN" --db "$DB" serve --no-bundled-data --bind "127.0.0.1:$PORT" >"$WORK/stats-serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.5; done
echo "start-up to first answer: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
ps -o rss= -p "$PID" | awk '{printf "RSS while serving: %.0f MiB\n", $1/1024}'
bench() {
  local times
  times=$(for _ in $(seq 1 20); do curl -s -o /dev/null -w "%{time_total}\n" "http://127.0.0.1:$PORT$1"; done | sort -n)
  printf "%-70s median %6.1f ms  max %6.1f ms  (%s)\n" "$1" \
    "$(echo "$times" | sed -n 10p | awk '{print $1*1000}')" \
    "$(echo "$times" | tail -1 | awk '{print $1*1000}')" \
    "$(curl -s -o /dev/null -w '%{http_code} %{size_download} B' "http://127.0.0.1:$PORT$1")"
}
bench "/stats/complaints?by=ward"
bench "/stats/complaints?by=month"
bench "/stats/complaints?by=category&from=2026-01-01&to=2026-06-30"
bench "/stats/complaints?by=borough&f=csv"
bench "/stats/complaints?by=status&ward=79"
bench "/stats/wards"
bench "/stats/ward-report?ward=79&month=2026-11"
bench "/stats/register?by=ward&layers=water_bodies"
bench "/stats/register?by=grade"
bench "/stats/inspections-due"
bench "/stats/water?by=status"
bench "/stats/water-loss?by=month"
bench "/stats/maintenance?by=year"
