#!/usr/bin/env bash
# Cold start and /search over the india-scale layer (issue 19): start-up to first answer
# and to the name index being built, then 2,000 seeded /search requests as people type
# them (one keep-alive connection), with their latency distribution. Not run by CI (the
# data takes minutes). Usage:
#   scripts/search-bench.sh [WORKDIR]   (needs WORKDIR/india.db from scripts/india-memory.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="${1:-/tmp/india}"
PORT="${PORT:-18094}"
BIN="$PWD/target/release/heritage-atlas"
DB="$WORK/search.db"
[ -f "$DB" ] || cp "$WORK/india.db" "$DB"
# Once, so that migrations run before the timed start.
"$BIN" --db "$DB" audit verify >/dev/null
LOG="$WORK/search-serve.log"
t0=$(date +%s%N)
RUST_LOG=info "$BIN" --db "$DB" serve --no-bundled-data --bind "127.0.0.1:$PORT" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.1; done
echo "start-up to first answer: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
until grep -aq "name index built.*water_bodies" "$LOG"; do sleep 0.2; done
echo "start-up to the name index built: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
ps -o rss= -p "$PID" | awk '{printf "RSS while serving: %.0f MiB\n", $1/1024}'
python3 - "$PORT" <<'PY'
import http.client, random, sys, time, urllib.parse
port = int(sys.argv[1])
rng = random.Random(11)
N = 2424540
bn = lambda n: "".join(chr(0x09E6 + int(c)) for c in str(n))
def cut(s): return s[: rng.randint(1, len(s))]
def inside(s):
    a = rng.randrange(len(s)); return s[a: rng.randint(a + 1, len(s))]
kinds = {
  "whole name": lambda i: f"Synthetic water body {i}",
  "name typed so far": lambda i: cut(f"Synthetic water body {i}"),
  "words from the middle": lambda i: f"water body {cut(str(i))}",
  "digits inside the number": lambda i: inside(str(i)),
  "Bengali name typed so far": lambda i: cut(f"কৃত্রিম জলাশয় {bn(i)}"),
  "Bengali digits inside": lambda i: inside(bn(i)),
  "code typed so far": lambda i: cut(f"SYN-IN-{i:07d}"),
  "one or two letters": lambda i: cut(rng.choice(["b", "w", "জ", "7", "q", "zx", "কৃ", "dy"])),
  "no such name": lambda i: rng.choice(["victoria memorial", "lal dighi", "zzq", "body water", "রবীন্দ্র সরোবর"]),
}
c = http.client.HTTPConnection("127.0.0.1", port)
times, names = [], list(kinds)
for n in range(2000):
    q = kinds[names[n % len(names)]](rng.randint(1, N))
    t = time.perf_counter()
    c.request("GET", "/search?" + urllib.parse.urlencode({"q": q}))
    r = c.getresponse(); r.read()
    times.append(time.perf_counter() - t)
    assert r.status == 200, (q, r.status)
times.sort()
p = lambda f: times[min(len(times) - 1, int(len(times) * f))] * 1000
print(f"/search, 2,000 requests: p50 {p(0.5):.2f} ms, p90 {p(0.9):.2f} ms, p99 {p(0.99):.2f} ms, max {times[-1]*1000:.2f} ms")
PY
