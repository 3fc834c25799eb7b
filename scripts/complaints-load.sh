#!/usr/bin/env bash
# Load test of complaint intake (not run by CI; results go in BENCHMARKS.md): 64
# connections POSTing JSON complaints (no photos) with durable group commits
# (synchronous=FULL), rate limit off (PER_MINUTE=N sets one, kept on this server and in the
# database; DB=URL for another database). Needs wrk. Usage: scripts/complaints-load.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"
PORT="${LOAD_PORT:-18082}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
WORK="$(mktemp -d)"
"$BIN" --db "${DB:-$WORK/atlas.db}" serve --bind "127.0.0.1:$PORT" --complaints-per-minute "${PER_MINUTE:-0}" 2>"$WORK/server.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.05; done
echo "wrk: POST /complaints, 64 connections, 2 threads, ${SECS}s, database on $(df --output=source,fstype "$WORK" | tail -1)"
wrk -t2 -c64 -d"${SECS}s" --latency -s scripts/complaints.lua "http://127.0.0.1:$PORT"
if [ -z "${DB:-}" ]; then
  n=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from complaints').fetchone()[0])" "$WORK/atlas.db")
  echo "complaints in the database afterwards: $n"
fi
