#!/usr/bin/env bash
# Peak memory and start-up of the server holding the india-scale layer (2,424,540 water
# bodies). Not run by CI (the import alone takes minutes). Usage:
#   scripts/india-memory.sh [WORKDIR]   (reuses WORKDIR/india.db when present)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/tmp/india}"
PORT="${PORT:-18090}"
mkdir -p "$WORK"
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
if [ ! -f "$WORK/india.db" ]; then
  "$BIN" generate --scale india -o "$WORK"
  /usr/bin/time -f "import: %e s, peak RSS %M KiB" "$BIN" --db "$WORK/india.db" import "$WORK/water_bodies_india.geojsonl" --layer water_bodies
fi
t0=$(date +%s%N)
/usr/bin/time -v -o "$WORK/serve.time" "$BIN" --db "$WORK/india.db" serve --no-bundled-data --bind "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
TIME_PID=$!
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.2; done
t1=$(date +%s%N)
echo "start-up to first answer: $(( (t1 - t0) / 1000000 )) ms"
q() { curl -s -o /dev/null -w "%{http_code} %{time_total}s %{size_download}B  $1\n" "http://127.0.0.1:$PORT$1"; }
q "/nearby?lon=78.48&lat=17.38&radius_m=20000&limit=10"
q "/at?lon=88.36&lat=22.57"
q "/search?q=water%20body%201234567"
for t in 0/0/0 4/11/6 5/23/13 6/46/27 8/184/111 10/736/445 12/2944/1781 14/11778/7124 16/47112/28497; do q "/tiles/water_bodies/$t.mvt"; done
ps -o rss= -p "$(pgrep -P "$TIME_PID")" | awk '{printf "RSS while serving: %.0f MiB\n", $1/1024}'
kill -TERM "$(pgrep -P "$TIME_PID")"
wait "$TIME_PID" || true
grep -E "Maximum resident|Elapsed" "$WORK/serve.time"
