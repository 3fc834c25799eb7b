#!/usr/bin/env python3
"""Load test of register edits against a running server (scripts/edit-bench.sh runs it).

1. Edits/s: N threads, each with its own keep-alive connection and its own assets,
   PATCH a property (JSON Merge Patch, If-Match from the last answer) for S seconds.
   Every answer is committed with synchronous=FULL before it is sent.
2. Edit -> tile: one client moves an asset (PATCH geometry) and at once asks for the z16
   tile over its new place; the time from sending the PATCH to holding a tile that shows
   the move (its ETag differs from the one before), and whether it ever did not.
3. as_of: GET /assets/{code}?as_of=T for random assets; GET items?as_of=T (the first
   builds the register at T, later ones reuse it); a tile ?as_of=T.

Usage: edit_bench.py BASE_URL USER PASSWORD AS_OF [threads] [seconds]
"""

import http.client
import json
import math
import random
import statistics
import sys
import threading
import time
import urllib.parse

BASE, USER, PASSWORD, AS_OF = sys.argv[1:5]
THREADS = int(sys.argv[5]) if len(sys.argv) > 5 else 16
SECS = float(sys.argv[6]) if len(sys.argv) > 6 else 15
HOST = urllib.parse.urlparse(BASE).netloc


def conn():
    return http.client.HTTPConnection(HOST, timeout=30)


def call(c, method, path, body=None, headers=None):
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    return r.status, r.headers, raw  # case-insensitive header lookup


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(math.ceil(p / 100 * len(xs))) - 1)]


c = conn()
s, _, raw = call(c, "POST", "/auth/login", {"name": USER, "password": PASSWORD},
                 {"Content-Type": "application/json"})
assert s == 200, raw
TOKEN = json.loads(raw)["token"]
AUTH = {"Authorization": f"Bearer {TOKEN}"}

s, _, raw = call(c, "GET", "/collections/heritage/items?limit=2000")
features = json.loads(raw)["features"]
assert len(features) >= THREADS * 4, len(features)
ids = [f["id"] for f in features]

# 1. Edits/s.
done = []
refused = []
lat = []
lock = threading.Lock()
stop = time.monotonic() + SECS


def editor(k):
    c = conn()
    mine = ids[k::THREADS][:50]
    tags = {}
    for i in mine:
        s, h, _ = call(c, "GET", f"/collections/heritage/items/{i}")
        tags[i] = h["ETag"]
    n, bad, ls = 0, 0, []
    while time.monotonic() < stop:
        i = mine[n % len(mine)]
        t0 = time.perf_counter()
        s, h, raw = call(c, "PATCH", f"/collections/heritage/items/{i}",
                         {"properties": {"owner": f"load test {k}-{n}"}},
                         {**AUTH, "Content-Type": "application/merge-patch+json",
                          "If-Match": tags[i]})
        ls.append(time.perf_counter() - t0)
        if s == 200:
            tags[i] = h["ETag"]
        else:
            bad += 1
        n += 1
    with lock:
        done.append(n - bad)
        refused.append(bad)
        lat.extend(ls)


threads = [threading.Thread(target=editor, args=(k,)) for k in range(THREADS)]
t0 = time.monotonic()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - t0
total = sum(done)
print(f"edits: {THREADS} clients, {elapsed:.1f} s: {total} PATCH 200 ({total / elapsed:,.0f}/s), "
      f"{sum(refused)} other; latency p50 {pct(lat, 50) * 1e3:.1f} ms, p90 {pct(lat, 90) * 1e3:.1f} ms, "
      f"p99 {pct(lat, 99) * 1e3:.1f} ms, p99.9 {pct(lat, 99.9) * 1e3:.1f} ms")


# 2. Edit -> tile.
def tile_of(lon, lat_, z=16):
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat_))) / math.pi) / 2 * n)
    return z, x, y


rng = random.Random(14)
c = conn()
times, stale = [], 0
for k in range(200):
    i = rng.choice(ids)
    s, h, raw = call(c, "GET", f"/collections/heritage/items/{i}")
    f = json.loads(raw)
    g = f["geometry"]
    # 5 to 20 m east or west: always more than a z16 tile unit (0.15 m).
    dx = rng.choice([-1, 1]) * rng.uniform(5e-5, 2e-4)

    def move(v):
        if isinstance(v[0], (int, float)):
            return [v[0] + dx, v[1]]
        return [move(x) for x in v]

    g2 = {"type": g["type"], "coordinates": move(g["coordinates"])}
    first = g2["coordinates"]
    while not isinstance(first[0], (int, float)):
        first = first[0]
    z, x, y = tile_of(first[0], first[1])
    path = f"/tiles/heritage/{z}/{x}/{y}.mvt"
    _, th, _ = call(c, "GET", path, headers={"Accept-Encoding": "gzip"})
    before = th.get("ETag")
    t0 = time.perf_counter()
    s, h, raw = call(c, "PATCH", f"/collections/heritage/items/{i}", {"geometry": g2},
                     {**AUTH, "Content-Type": "application/merge-patch+json",
                      "If-Match": h["ETag"]})
    assert s == 200, raw
    _, th, _ = call(c, "GET", path, headers={"Accept-Encoding": "gzip"})
    times.append(time.perf_counter() - t0)
    if th.get("ETag") == before:
        stale += 1
print(f"edit -> tile: {len(times)} moves; PATCH then the z16 tile: p50 {pct(times, 50) * 1e3:.1f} ms, "
      f"p90 {pct(times, 90) * 1e3:.1f} ms, p99 {pct(times, 99) * 1e3:.1f} ms; "
      f"tiles not yet showing the move: {stale}")

# 3. as_of.
q = urllib.parse.quote(AS_OF)
s, _, raw = call(c, "GET", "/collections/water_bodies/items?limit=2000")
codes = [f["properties"]["code"] for f in json.loads(raw)["features"]]
one = []
for code in rng.sample(codes, min(300, len(codes))):
    t0 = time.perf_counter()
    s, _, raw = call(c, "GET", f"/assets/{code}?as_of={q}")
    one.append(time.perf_counter() - t0)
    assert s in (200, 404, 410), raw
print(f"as_of one asset (/assets/{{code}}?as_of): {len(one)} random assets: p50 {pct(one, 50) * 1e3:.2f} ms, "
      f"p99 {pct(one, 99) * 1e3:.2f} ms, max {max(one) * 1e3:.2f} ms")
page = []
for k in range(21):
    t0 = time.perf_counter()
    s, _, raw = call(c, "GET", f"/collections/water_bodies/items?as_of={q}&limit=100&offset={k * 100}")
    page.append(time.perf_counter() - t0)
    assert s == 200, raw
print(f"as_of items page: first (builds the register at T) {page[0] * 1e3:.1f} ms; "
      f"next 20: p50 {statistics.median(page[1:]) * 1e3:.2f} ms, max {max(page[1:]) * 1e3:.2f} ms")
tl = []
for k in range(50):
    lon, lat_ = 88.28 + rng.random() * 0.14, 22.45 + rng.random() * 0.2
    z, x, y = tile_of(lon, lat_, 15)
    t0 = time.perf_counter()
    s, _, _ = call(c, "GET", f"/tiles/heritage,water_bodies,parks/{z}/{x}/{y}.mvt?as_of={q}",
                   headers={"Accept-Encoding": "gzip"})
    tl.append(time.perf_counter() - t0)
    assert s in (200, 204)
print(f"as_of tiles (z15, three layers, drawn per request): p50 {pct(tl, 50) * 1e3:.2f} ms, "
      f"p99 {pct(tl, 99) * 1e3:.2f} ms")
