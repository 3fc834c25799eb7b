#!/usr/bin/env bash
# Start-up, measured as an operator sees it: from launching `serve` to the first 200 from
# /health/ready, alternating starts that read the register from the database
# (--no-index-snapshot) with starts from the index snapshot beside it.
#
#   scripts/start-bench.sh DB [ROUNDS]
#
# DB is a register already holding data (e.g. the india-scale one: `heritage-atlas --db
# /tmp/india/india.db generate --scale india`, see BENCHMARKS.md). The first start writes
# the snapshot if there is none, and is not counted. A PostgreSQL URL works too: its
# snapshot file is SNAPSHOT (there is no file beside the database to put it by).
set -euo pipefail
DB=${1:?usage: scripts/start-bench.sh DB [ROUNDS]}
ROUNDS=${2:-4}
BIN=${BIN:-target/release/heritage-atlas}
PORT=${PORT:-18095}
LOG=$(mktemp -d)
snap=()
[ -n "${SNAPSHOT:-}" ] && snap=(--index-snapshot "$SNAPSHOT")
trap 'rm -rf "$LOG"' EXIT

ready() {
    for _ in $(seq 1 1200); do
        curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# A start that leaves a fresh snapshot behind (written in the background after it).
"$BIN" --db "$DB" serve --bind "127.0.0.1:$PORT" --no-bundled-data "${snap[@]}" >"$LOG/first.log" 2>&1 &
pid=$!
ready
for _ in $(seq 1 240); do
    grep -q "snapshot written\|snapshot not written" "$LOG/first.log" && break
    grep -q "index loaded from its snapshot" "$LOG/first.log" && break
    sleep 0.5
done
kill -INT "$pid"; wait "$pid" || true

for k in $(seq 1 "$ROUNDS"); do
    for mode in database snapshot; do
        extra=("${snap[@]}")
        [ "$mode" = database ] && extra=(--no-index-snapshot)
        s=$(date +%s.%N)
        "$BIN" --db "$DB" serve --bind "127.0.0.1:$PORT" --no-bundled-data "${extra[@]}" >"$LOG/$mode.log" 2>&1 &
        pid=$!
        ready
        e=$(date +%s.%N)
        printf '%s %d %.2f s\n' "$mode" "$k" "$(echo "$e - $s" | bc)"
        kill -9 "$pid"; wait "$pid" 2>/dev/null || true
        sleep 3
    done
done
