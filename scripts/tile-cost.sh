#!/usr/bin/env bash
# What a cached tile costs the server: CPU time (user + system, from /proc/PID/stat) per
# tile over a `wrk -t2 -c64` run, ours (warmed by one pass) against nginx serving the same
# bytes, on both mixes. Less swayed by a noisy machine than tiles/s. Results go in
# BENCHMARKS.md ("Tile speed, raised").
#
# Usage: scripts/tile-cost.sh [seconds-per-run]
#   OURS_FLAGS="--tile-sendfile-kb 0"   extra `serve` flags for our server
#   PEER=none                          ours only (to compare two of our configurations)
#
# Needs what scripts/tile-load.sh leaves in $LOAD_DIR (default /tmp/tileload): the city
# database, the tile lists, the static copies and nginx.conf. Run that first.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
WORK="${LOAD_DIR:-/tmp/tileload}"
PEER="${PEER:-nginx}"
read -r -a EXTRA <<<"${OURS_FLAGS:-}"
for f in city.db ours-coverage.txt static-equal.txt nginx.conf; do
  [ -e "$WORK/$f" ] || { echo "$WORK/$f missing: run scripts/tile-load.sh first" >&2; exit 1; }
done
PATH="$PATH:/usr/sbin"
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
TICK="$(getconf CLK_TCK)"

cpu() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
wait_up() { until curl -s -o /dev/null "$1"; do sleep 0.1; done; }
# measure NAME PORT LIST PID…
measure() {
  local name=$1 port=$2 list=$3; shift 3
  local c0 out c1
  c0="$(cpu "$@")"
  out="$(WRK_PATHS="$list" wrk -t2 -c64 -d"${SECS}s" -H 'Accept-Encoding: gzip' -s scripts/nearby.lua "http://127.0.0.1:$port")"
  c1="$(cpu "$@")"
  python3 - "$name" "$out" "$c0" "$c1" "$TICK" <<'PY'
import re, sys
name, out, c0, c1, tick = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
n = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
print(f"{name}\t{rps:,.0f} tiles/s\t{(c1 - c0) / tick / n * 1e6:.1f} µs server CPU per tile")
PY
}

for mix in coverage equal; do
  "$BIN" --db "$WORK/city.db" serve --no-bundled-data --bind 127.0.0.1:18082 "${EXTRA[@]}" 2>/dev/null &
  ours=$!
  wait_up http://127.0.0.1:18082/health
  sleep 10 # the web app's files are compressed in the background at start
  while read -r p; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "http://127.0.0.1:18082$p"; done <"$WORK/ours-$mix.txt"
  measure "heritage-atlas $mix" 18082 "$WORK/ours-$mix.txt" "$ours"
  kill "$ours"; wait "$ours" 2>/dev/null || true
  [ "$PEER" = nginx ] || continue
  nginx -c "$WORK/nginx.conf" -g 'daemon off;' &
  peer=$!
  wait_up http://127.0.0.1:18084/
  # shellcheck disable=SC2046
  measure "nginx $mix" 18084 "$WORK/static-$mix.txt" "$peer" $(pgrep -P "$peer")
  kill "$peer"; wait "$peer" 2>/dev/null || true
done
