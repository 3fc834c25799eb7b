#!/usr/bin/env bash
# Documents: ingest speed, text extraction speed and search latency (not run by CI; the
# markdown it prints on stdout goes in BENCHMARKS.md; progress goes to stderr).
#
#  (a) `documents ingest` of N_SMALL small text PDFs (scripts/documents_bench.py: one
#      Helvetica page each) and of the Chromium corpus (scripts/browser/doc-corpus.mjs:
#      text PDFs and scans); `documents extract` of text PDFs (documents/s) and of the
#      corpus's scans by OCR (pages/min).
#  (b) search latency over N_SEARCH (100,000) documents: generated, ingested (timed),
#      their text read by `documents extract --workers 2` when that can finish within
#      EXTRACT_LIMIT seconds (projected from (a)); otherwise written into the index as
#      the text worker writes it (documents_bench.py fill-text; said so in the output).
#      Then ~50 queries (rare, common, phrases, prefixes, Bengali, references, metadata
#      filters) at concurrency 1 and 16.
#
# Usage: scripts/documents-bench.sh [BIN]   (default: target/release/heritage-atlas, built)
# Environment: N_SMALL=2000 N_SEARCH=100000 REQUESTS=2000 EXTRACT_LIMIT=900 WORK=dir (kept)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
if [ -n "${1:-}" ]; then
  BIN="$(readlink -f "$1")"
else
  cargo build --release --quiet
  BIN="$ROOT/target/release/heritage-atlas"
fi
N_SMALL="${N_SMALL:-2000}"
N_SEARCH="${N_SEARCH:-100000}"
REQUESTS="${REQUESTS:-2000}"
EXTRACT_LIMIT="${EXTRACT_LIMIT:-900}"
if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
  KEEP=1
else
  WORK="$(mktemp -d /tmp/documents-bench.XXXXXX)"
  KEEP=0
fi
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ "$KEEP" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
PY="python3 $ROOT/scripts/documents_bench.py"
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
ratio() { python3 -c "import sys; a, b = map(float, sys.argv[1:3]); print(f'{a / b:{sys.argv[3]}}' if b else 'n/a')" "$@"; }
mb() { du -sb "$1" | python3 -c "import sys; print(f'{int(sys.stdin.read().split()[0]) / 1e6:.1f}')"; }
free_port() { python3 -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }

# A database with the bundled data (loaded on a server's first start).
new_db() {
  local db="$1" port
  port="$(free_port)"
  "$BIN" --db "$db" serve --bind "127.0.0.1:$port" >>"$WORK/server.log" 2>&1 &
  local pid=$!
  until curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; do sleep 0.2; done
  kill "$pid"
  wait "$pid" 2>/dev/null || true
}
# Which way the text of a database's documents was got: "pdf N, ocr M, ...".
sources() {
  python3 - "$1" <<'PY'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute(
    "SELECT coalesce(source, state), count(*) FROM document_text GROUP BY 1 ORDER BY 1").fetchall()
print(", ".join(f"{s} {n}" for s, n in rows))
PY
}
ingest() { # db dir manifest -> prints seconds; the summary goes to the log
  local t0
  t0="$(now)"
  "$BIN" --db "$1" documents ingest "$2" --manifest "$3" >"$WORK/ingest.json" 2>>"$WORK/cli.log" \
    || { log "ingest of $2 failed: $(head -c 600 "$WORK/ingest.json")"; exit 1; }
  since "$t0"
}
extract() { # db workers -> prints seconds; an extract that stops early is run again
  local t0 k
  t0="$(now)"
  local workers="$2"
  for k in 1 2 3 4 5 6; do
    if "$BIN" --db "$1" documents extract --workers "$workers" >>"$WORK/cli.log" 2>&1; then break; fi
    echo "$1" >>"$WORK/extract-failures"
    log "  documents extract --workers $workers on $1 failed ($(tail -1 "$WORK/cli.log" | cut -c1-120)); again with --workers 1"
    workers=1
  done
  since "$t0"
}
failures() { if [ -f "$WORK/extract-failures" ]; then wc -l <"$WORK/extract-failures"; else echo 0; fi; }

log "work directory $WORK; binary $BIN"
CPU="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# --- (a) Ingest and extraction ------------------------------------------------------------
log "generating $N_SMALL small text PDFs and the Chromium corpus (60 documents)"
$PY pdfs "$WORK/small" --n "$N_SMALL" >&2
(cd scripts/browser && node doc-corpus.mjs "$WORK/corpus" --n 60 >&2)
SMALL_MB="$(mb "$WORK/small/files")"
CORPUS_MB="$(mb "$WORK/corpus/files")"

new_db "$WORK/a.db"
log "ingest: $N_SMALL small PDFs"
T_SMALL="$(ingest "$WORK/a.db" "$WORK/small" "$WORK/small/manifest.csv")"
log "ingest: the corpus"
T_CORPUS="$(ingest "$WORK/a.db" "$WORK/corpus" "$WORK/corpus/manifest.csv")"

# Text PDFs: a first 50 tell whether the text layer is read (pdf) or OCR'd (no reader).
new_db "$WORK/t.db"
head -51 "$WORK/small/manifest.csv" >"$WORK/small/first50.csv"
ingest "$WORK/t.db" "$WORK/small" "$WORK/small/first50.csv" >/dev/null
log "extract: 50 small text PDFs"
T_X50="$(extract "$WORK/t.db" 2)"
SRC50="$(sources "$WORK/t.db")"
log "  $T_X50 s; text got by: $SRC50"
# Our small PDFs (references KMC/EH/YYYY/NNNNNNN): all read from their text layer?
ALL_PDF="$(python3 - "$WORK/t.db" <<'PY'
import sqlite3, sys
n, pdf = sqlite3.connect(sys.argv[1]).execute(
    "SELECT count(*), count(*) FILTER (WHERE t.source = 'pdf') FROM documents d "
    "JOIN document_text t ON t.document_id = d.id WHERE d.reference LIKE 'KMC/EH/____/_______'").fetchone()
print(1 if n and n == pdf else 0)
PY
)"
if [ "$ALL_PDF" = 1 ]; then
  READER=1
  ingest "$WORK/t.db" "$WORK/small" "$WORK/small/manifest.csv" >/dev/null
  log "extract: all $N_SMALL small text PDFs"
  T_XSMALL="$(extract "$WORK/t.db" 2)"
  N_XSMALL="$N_SMALL"
else
  READER=0
  T_XSMALL="$T_X50"
  N_XSMALL=50
fi
SRC_SMALL="$(sources "$WORK/t.db")"

# The corpus: its text PDFs, then its scans (one page each), in separate databases.
python3 - "$WORK/corpus" <<'PY'
import csv, json, sys
d = sys.argv[1]
truth = json.load(open(f"{d}/truth.json"))["files"]
rows = list(csv.reader(open(f"{d}/manifest.csv")))
for name, scanned in (("scans", True), ("texts", False)):
    with open(f"{d}/{name}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(rows[0])
        w.writerows(r for r in rows[1:] if truth[r[0][len("files/"):]]["scanned"] == scanned)
PY
N_SCANS=$(($(wc -l <"$WORK/corpus/scans.csv") - 1))
N_TEXTS=$(($(wc -l <"$WORK/corpus/texts.csv") - 1))
new_db "$WORK/s.db"
ingest "$WORK/s.db" "$WORK/corpus" "$WORK/corpus/scans.csv" >/dev/null
log "extract: $N_SCANS scans by OCR"
T_XSCANS="$(extract "$WORK/s.db" 2)"
SRC_SCANS="$(sources "$WORK/s.db")"
if [ "$READER" = 1 ]; then
  new_db "$WORK/c.db"
  ingest "$WORK/c.db" "$WORK/corpus" "$WORK/corpus/texts.csv" >/dev/null
  log "extract: the corpus's $N_TEXTS Chromium text PDFs (English and Bengali)"
  T_XTEXTS="$(extract "$WORK/c.db" 2)"
  SRC_TEXTS="$(sources "$WORK/c.db")"
  ROW_TEXTS="| $N_TEXTS Chromium text PDFs (en, bn) | $SRC_TEXTS | $T_XTEXTS | $(ratio "$N_TEXTS" "$T_XTEXTS" .2f) documents/s |"
else
  ROW_TEXTS="| $N_TEXTS Chromium text PDFs (en, bn) | not run: without a text-layer reader they go to OCR, as the row above | | |"
fi

# --- (b) Search latency over N_SEARCH documents ----------------------------------------------
if [ "$N_SEARCH" = 0 ]; then
  cat <<EOF
## Documents: ingest and text extraction (N_SEARCH=0: no search latency run)

$CPU; $(date -u +%Y-%m-%d). \`documents extract --workers 2\` stopped early with \`database is locked\` $(failures) times (run again each time with \`--workers 1\`; the seconds include that).

| measure | figure |
|---|---|
| ingest $N_SMALL small text PDFs ($SMALL_MB MB) | $T_SMALL s: $(ratio "$N_SMALL" "$T_SMALL" .0f) documents/s, $(ratio "$SMALL_MB" "$T_SMALL" .2f) MB/s |
| ingest 60 corpus documents ($CORPUS_MB MB) | $T_CORPUS s: $(ratio 60 "$T_CORPUS" .0f) documents/s, $(ratio "$CORPUS_MB" "$T_CORPUS" .2f) MB/s |
| extract $N_XSMALL small text PDFs ($SRC_SMALL) | $T_XSMALL s: $(ratio "$N_XSMALL" "$T_XSMALL" .1f) documents/s |
$ROW_TEXTS
| extract $N_SCANS scans by OCR ($SRC_SCANS) | $T_XSCANS s: $(ratio "$(($N_SCANS * 60))" "$T_XSCANS" .1f) pages/min |
EOF
  exit 0
fi
log "generating $N_SEARCH small text PDFs"
T0="$(now)"
$PY pdfs "$WORK/big" --n "$N_SEARCH" >&2
T_GEN="$(since "$T0")"
BIG_MB="$(mb "$WORK/big/files")"
new_db "$WORK/b.db"
log "ingest: $N_SEARCH PDFs"
T_BIG="$(ingest "$WORK/b.db" "$WORK/big" "$WORK/big/manifest.csv")"
log "  $T_BIG s; the corpus too (for Bengali and scans)"
ingest "$WORK/b.db" "$WORK/corpus" "$WORK/corpus/manifest.csv" >/dev/null
# Projected extraction time at the rate measured in (a).
PROJECTED="$(python3 -c "import sys; n, t, k = map(float, sys.argv[1:]); print(int(n * t / k))" "$N_SEARCH" "$T_XSMALL" "$N_XSMALL")"
if [ "$READER" = 1 ] && [ "$PROJECTED" -le "$EXTRACT_LIMIT" ]; then
  log "extract: $N_SEARCH text PDFs with 2 workers (projected $PROJECTED s)"
  T_XBIG="$(extract "$WORK/b.db" 2)"
  HOW_TEXT="read by \`documents extract --workers 2\` in $T_XBIG s ($(ratio "$N_SEARCH" "$T_XBIG" .0f) documents/s)"
else
  log "extract would take ~$PROJECTED s (reader present: $READER): writing the known text into the index instead"
  T0="$(now)"
  $PY fill-text "$WORK/b.db" --corpus "$WORK/corpus" >&2
  T_FILL="$(since "$T0")"
  extract "$WORK/b.db" 2 >/dev/null # the bundled register's own documents, if still queued
  if [ "$READER" = 1 ]; then
    WHY="the text-layer reader would take ~$PROJECTED s at the rate measured above"
  else
    WHY="this build has no PDF text-layer reader (text PDFs would go to OCR: ~$PROJECTED s)"
  fi
  HOW_TEXT="written into the index as the text worker writes it (documents_bench.py fill-text, $T_FILL s; the corpus's from its truth.json), because $WHY"
fi
SRC_BIG="$(sources "$WORK/b.db")"
DB_MB="$(python3 -c "import os, sys; print(f'{sum(os.path.getsize(sys.argv[1] + x) for x in (\"\", \"-wal\") if os.path.exists(sys.argv[1] + x)) / 1e6:.0f}')" "$WORK/b.db")"
PORT="$(free_port)"
"$BIN" --db "$WORK/b.db" serve --bind "127.0.0.1:$PORT" >>"$WORK/server.log" 2>&1 &
PIDS+=($!)
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.2; done
log "latency: ~50 queries, $REQUESTS requests at concurrency 1 and 16"
$PY latency "http://127.0.0.1:$PORT" --concurrency 1,16 --requests "$REQUESTS" >"$WORK/latency.jsonl"
TOTAL_DOCS="$(python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from documents').fetchone()[0])" "$WORK/b.db")"

# --- The report -------------------------------------------------------------------------
cat <<EOF
## Documents: ingest, text extraction, search latency

\`scripts/documents-bench.sh\` on $CPU; $(date -u +%Y-%m-%d); binary \`$(basename "$BIN")\` built with \`--release\`.
Data: small text PDFs written by \`scripts/documents_bench.py pdfs\` (one A4 page of Helvetica, 80–160
words Zipf-drawn from department words and 20,000 made-up rare words, ~$(ratio "$SMALL_MB" "$N_SMALL" .4f | python3 -c "import sys; print(f'{float(sys.stdin.read()) * 1000:.1f}')") KB each);
the Chromium corpus of \`scripts/browser/doc-corpus.mjs\` (60 documents: $N_TEXTS text PDFs, $N_SCANS scans as PNG, JPEG and
image-only PDF at ~240 dpi; English, Bengali and both; $CORPUS_MB MB).

### Ingest (\`documents ingest DIR --manifest\`, one process, into a database with the bundled register)

| files | MB | seconds | documents/s | MB/s |
|---|---|---|---|---|
| $N_SMALL small text PDFs | $SMALL_MB | $T_SMALL | $(ratio "$N_SMALL" "$T_SMALL" .0f) | $(ratio "$SMALL_MB" "$T_SMALL" .2f) |
| 60 corpus documents (40 % of bytes scans) | $CORPUS_MB | $T_CORPUS | $(ratio 60 "$T_CORPUS" .0f) | $(ratio "$CORPUS_MB" "$T_CORPUS" .2f) |
| $N_SEARCH small text PDFs (for (b)) | $BIG_MB | $T_BIG | $(ratio "$N_SEARCH" "$T_BIG" .0f) | $(ratio "$BIG_MB" "$T_BIG" .2f) |

### Text extraction (\`documents extract --workers 2\`)

| documents | text got by | seconds | rate |
|---|---|---|---|
| $N_XSMALL small text PDFs | $SRC_SMALL | $T_XSMALL | $(ratio "$N_XSMALL" "$T_XSMALL" .1f) documents/s |
$ROW_TEXTS
| $N_SCANS scans, one page each (OCR: pdftoppm 300 dpi + Tesseract eng or ben+eng) | $SRC_SCANS | $T_XSCANS | $(ratio "$(($N_SCANS * 60))" "$T_XSCANS" .1f) pages/min |

\`documents extract --workers 2\` stopped early with \`database is locked\` $(failures) times in this run; each time it was run again with \`--workers 1\`, which does not (the seconds include that).

$( [ "$READER" = 1 ] || echo "This build has no PDF text-layer reader (\`documents::pdf\` is a placeholder): text PDFs were read by OCR, which is what the first two rows measure.")

### Search latency over $TOTAL_DOCS documents

$N_SEARCH generated text PDFs ($BIG_MB MB, written in $T_GEN s) plus the 60-document corpus; database $DB_MB MB.
Their text was $HOW_TEXT. Text sources: $SRC_BIG.
Client: \`documents_bench.py latency\` — $(head -1 "$WORK/latency.jsonl" | python3 -c "import json, sys; print(json.load(sys.stdin)['queries'])") queries (common, mid and rare words, phrases, prefixes, Bengali,
references, metadata-only filters, words with filters; \`limit=10\`), one persistent connection per client, $REQUESTS requests per run.

| concurrency | requests | errors | p50 ms | p99 ms | max ms | requests/s |
|---|---|---|---|---|---|---|
$(tail -n +2 "$WORK/latency.jsonl" | python3 -c "
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    print(f\"| {r['concurrency']} | {r['requests']} | {r['errors']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['rps']} |\")
")

Matches per query (numberMatched), to read the latencies by:
$(head -1 "$WORK/latency.jsonl" | python3 -c "
import json, sys, urllib.parse
m = json.load(sys.stdin)['numberMatched']
print('; '.join(f'\`{urllib.parse.unquote(q.replace(\"&limit=10\", \"\"))}\` {n}' for q, n in m.items()))
")
EOF
log "done"
