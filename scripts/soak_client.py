#!/usr/bin/env python3
"""The soak's load generator: mixed traffic over keep-alive connections for a fixed time,
every answer checked, latencies kept per route class, the server's RSS read every 10 s.

    soak_client.py URL --pid PID --seconds S [--connections 64] [--processes 2]
                   [--officer NAME] [--password PW] [--api-key KEY] [--intake-per-s 1]

Run by scripts/soak.sh, which starts the server; the password and the key default to
$ATLAS_OFFICER_PASSWORD and $ATLAS_API_KEY. Python 3 standard library only (checklib.py,
beside it, is too).

The mix, per request a connection sends (weights): tiles z10-z16 over Kolkata (88.25-88.45 E,
22.45-22.65 N; the map's four layers, or the complaints layer) 45; /nearby 12; /search in
English and Bengali 8; OGC items with CQL2 filters 10; /at 5; a complaint's public page 5;
whole-layer exports of water_bodies as FlatGeobuf or CSV 1. Besides, complaints are filed at
a steady --intake-per-s (half as POST /complaints JSON, half Open311 form POSTs with the
key), and each is triaged by the officer with a bearer token from POST /auth/login: PATCH
acknowledge, assign, an internal note, start, resolve — intake is paced, not a share of the
mix. Before the measured run --seed complaints (20,000) are filed as fast as the connections
go, so the register has a city's few years of complaints and SQLite's page caches fill
before the first minute's RSS sample (on an empty database they grow with the file).

An error is any 5xx, any connection error or timeout, and any status other than the one
the request must get (200, 204 for an empty tile, 201 for a complaint): a soak of valid
requests has no expected 4xx. The load runs in --processes processes (asyncio, one event
loop each) so that the client's own Python does not set the latency figures alone; they
still share the machine with the server, so read throughput as a floor.

Checks, each printed as `ok   ...` / `FAIL ...: why`, ending with `N passed, M failed`:
no errors; the RSS at the end is within 10% of the RSS after the first minute; GET
/audit/verify is ok. Then a Markdown section for BENCHMARKS.md: p50/p99/max per route
class, requests/s, the RSS series. Exits non-zero on any failure.
"""
import argparse
import array
import asyncio
import json
import multiprocessing as mp
import os
import queue
import random
import signal
import sys
import time
import urllib.parse

import checklib
from checklib import rss_kib, tile_of

BBOX = (88.25, 22.45, 88.45, 22.65)
# Inside the register's wards (the synthetic grid covers 88.26-88.42 E, 22.46-22.64 N): the
# service area complaints are accepted in.
WARDS = (88.265, 22.465, 88.415, 22.635)
WEIGHTS = [("tile", 45), ("nearby", 12), ("search", 8), ("items", 10), ("at", 5),
           ("complaint_get", 5), ("export", 1)]
CLASSES = ["tile", "nearby", "search", "items", "at", "complaint_get", "export",
           "complaint_post", "open311_post", "triage_patch"]
LABELS = {
    "tile": "`GET /tiles/{layers}/{z}/{x}/{y}.mvt` z10–16",
    "nearby": "`GET /nearby`",
    "search": "`GET /search` (EN, BN)",
    "items": "`GET /collections/{id}/items?filter=` (CQL2)",
    "at": "`GET /at`",
    "complaint_get": "`GET /complaints/{ticket}`",
    "export": "`…/water_bodies/items?f=fgb`, `f=csv` (whole layer)",
    "complaint_post": "`POST /complaints` (JSON, durable)",
    "open311_post": "`POST /open311/v2/requests.json` (form, durable)",
    "triage_patch": "`PATCH /complaints/{ticket}` (officer, durable + audit)",
}
TILE_LAYERS = ["heritage,water_bodies,parks,wards"] * 4 + ["complaints"]
SEARCHES = ["Victoria", "victoria memorial", "ভিক্টোরিয়া", "মহাকরণ", "Sarobar", "সরোবর",
            "Lal Dighi", "লালদিঘি", "park", "পার্ক", "Marble Palace", "St. Paul", "canal",
            "খাল", "Maidan", "ময়দান", "Writers", "HER-0001", "Town Hall", "টাউন হল"]
FILTERS = [
    ("heritage", "grade = 'I'"),
    ("heritage", "condition IN ('poor','critical') OR ward BETWEEN 40 AND 90"),
    ("heritage", "S_DWITHIN(geometry, POINT({lon} {lat}), 1500, meters)"),
    ("water_bodies", "kind IN ('pond','lake','tank')"),
    ("water_bodies", "S_INTERSECTS(geometry, BBOX({lon0}, {lat0}, {lon1}, {lat1}))"),
    ("parks", "name LIKE '%Park%' OR name LIKE '%Square%'"),
    ("wards", "ward < 40 AND NOT (borough = 'I')"),
    ("complaints", "status = 'submitted' AND S_DWITHIN(geometry, POINT({lon} {lat}), 2000, meters)"),
]
CATEGORIES = [
    ("park_maintenance", {}),
    ("water_body_pollution", {"pollution_source": "garbage"}),
    ("heritage_damage", {"damage_type": "vandalism"}),
    ("water_body_filling", {"filling_in_progress": "yes"}),
    ("tree_felling", {"felling_in_progress": "no"}),
    ("heritage_unauthorized_construction", {"construction_in_progress": "yes"}),
    ("other", {}),
]
TRIAGE = ["acknowledge", "assign", "note", "start", "resolve"]


class Closed(Exception):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.r = self.w = None

    async def open(self):
        self.r, self.w = await asyncio.open_connection(self.host, self.port)

    def close(self):
        if self.w:
            self.w.close()
        self.r = self.w = None

    async def send(self, method, path, body=b"", headers=()):
        if self.w is None:
            await self.open()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in headers]
        if body or method in ("POST", "PATCH"):
            head.append(f"Content-Length: {len(body)}")
        self.w.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        r = self.r
        try:
            raw = await r.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as e:
            raise Closed(f"closed before an answer ({len(e.partial)} bytes)") from e
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        chunked = close = False
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k = k.lower()
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
            elif k == "connection" and "close" in v.lower():
                close = True
        if status in (204, 304) or 100 <= status < 200 or method == "HEAD":
            body = b""
        elif chunked:
            parts = []
            while True:
                size = int((await r.readuntil(b"\r\n")).split(b";")[0], 16)
                data = await r.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(data[:-2])
            body = b"".join(parts)
        elif length is not None:
            body = await r.readexactly(length) if length else b""
        else:
            body = await r.read()
            close = True
        if close:
            self.close()
        return status, body


class Worker:
    """One process's share of the load."""

    def __init__(self, a, index, tickets, token):
        self.a = a
        self.index = index
        self.rng = random.Random(20261201 + index)
        self.lat = {c: array.array("d") for c in CLASSES}
        self.count = {c: 0 for c in CLASSES}
        self.errors = {}
        self.failures = 0
        self.examples = []
        self.tickets = list(tickets)
        self.triage = []  # (ticket, next step index)
        self.token = token
        self.intake_due = 0.0
        self.parent = os.getppid()

    def error(self, cls, what):
        self.failures += 1
        key = f"{cls}: {what}"[:80]
        self.errors[key] = self.errors.get(key, 0) + 1
        if len(self.examples) < 20:
            self.examples.append(f"{cls}: {what}"[:400])

    def point(self, box=BBOX):
        return (round(self.rng.uniform(box[0], box[2]), 6), round(self.rng.uniform(box[1], box[3]), 6))

    def read_request(self):
        cls = self.rng.choices([c for c, _ in WEIGHTS], [w for _, w in WEIGHTS])[0]
        rng = self.rng
        lon, lat = self.point()
        if cls == "tile":
            z = rng.randint(10, 16)
            x, y = tile_of(lon, lat, z)
            return cls, "GET", f"/tiles/{rng.choice(TILE_LAYERS)}/{z}/{x}/{y}.mvt", b"", (200, 204)
        if cls == "nearby":
            r = rng.choice([250, 500, 1000, 2000])
            return cls, "GET", f"/nearby?lon={lon}&lat={lat}&radius_m={r}&limit=10", b"", (200,)
        if cls == "search":
            return cls, "GET", "/search?" + urllib.parse.urlencode({"q": rng.choice(SEARCHES)}), b"", (200,)
        if cls == "items":
            coll, f = rng.choice(FILTERS)
            f = f.format(lon=lon, lat=lat, lon0=lon - 0.02, lat0=lat - 0.02, lon1=lon + 0.02, lat1=lat + 0.02)
            q = urllib.parse.urlencode({"filter": f, "limit": 50})
            return cls, "GET", f"/collections/{coll}/items?{q}", b"", (200,)
        if cls == "at":
            return cls, "GET", f"/at?lon={lon}&lat={lat}", b"", (200,)
        if cls == "complaint_get":
            return cls, "GET", f"/complaints/{rng.choice(self.tickets)}", b"", (200,)
        return cls, "GET", f"/collections/water_bodies/items?f={rng.choice(['fgb', 'csv'])}", b"", (200,)

    def intake_request(self):
        cat, attrs = self.rng.choice(CATEGORIES)
        lon, lat = self.point(WARDS)
        desc = f"Soak test complaint {self.rng.randrange(10**9)}: {cat.replace('_', ' ')} reported near this point."
        if self.a.api_key and self.rng.random() < 0.5:
            form = [("api_key", self.a.api_key), ("service_code", cat), ("lat", str(lat)),
                    ("long", str(lon)), ("description", desc)]
            form += [(f"attribute[{k}]", v) for k, v in attrs.items()]
            return ("open311_post", "POST", "/open311/v2/requests.json", urllib.parse.urlencode(form).encode(),
                    (201,), [("Content-Type", "application/x-www-form-urlencoded")])
        body = {"lon": lon, "lat": lat, "category": cat, "description": desc, "attributes": attrs,
                "name": "Soak Tester", "phone": "+91 98300 00000"}
        return ("complaint_post", "POST", "/complaints", json.dumps(body).encode(), (201,),
                [("Content-Type", "application/json")])

    def triage_request(self):
        ticket, step = self.triage.pop(0)
        action = TRIAGE[step]
        body = {"action": action}
        if action == "assign":
            body["assignee"] = self.a.officer
        elif action == "note":
            body.update(note="Soak: inspector visited, photos on file.", public=False)
        elif action == "resolve":
            body["note"] = "Soak: resolved on site."
        return (("triage_patch", "PATCH", f"/complaints/{ticket}", json.dumps(body).encode(), (200,),
                 [("Content-Type", "application/json"), ("Authorization", f"Bearer {self.token}")]),
                ticket, step)

    async def connection(self, host, port, deadline, interval):
        conn = Conn(host, port)
        # Stops at the deadline, when the parent is gone, or once the run has plainly
        # failed (a dead server must not be hammered with reconnects until the end).
        while time.monotonic() < deadline and os.getppid() == self.parent and self.failures < 1000:
            now = time.monotonic()
            follow = None
            if self.triage and self.token:
                req, ticket, step = self.triage_request()
                follow = (ticket, step)
            elif self.a.intake_per_s > 0 and now >= self.intake_due:
                # At most a second of missed intake is made up at once.
                self.intake_due = max(self.intake_due, now - 1) + interval
                req = self.intake_request()
            else:
                req = self.read_request() + ([],)
            cls, method, path, body, oks, headers = req
            t = time.perf_counter()
            try:
                status, answer = await asyncio.wait_for(conn.send(method, path, body, headers), 30)
            except (OSError, Closed, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as e:
                conn.close()
                self.error(cls, f"{type(e).__name__}: {e} ({method} {path[:120]})")
                await asyncio.sleep(0.05)
                continue
            took = time.perf_counter() - t
            self.lat[cls].append(took)
            self.count[cls] += 1
            if status not in oks:
                self.error(cls, f"status {status} for {method} {path[:120]}: {answer[:200]!r}")
                continue
            if cls in ("complaint_post", "open311_post"):
                try:
                    v = json.loads(answer)
                    t_ = v["ticket"] if cls == "complaint_post" else v[0]["service_request_id"]
                except (ValueError, KeyError, IndexError, TypeError):
                    self.error(cls, f"no ticket in {answer[:200]!r}")
                    continue
                self.tickets.append(t_)
                self.triage.append((t_, 0))
            elif follow and follow[1] + 1 < len(TRIAGE):
                self.triage.append((follow[0], follow[1] + 1))
        conn.close()

    async def run(self, host, port, seconds, conns):
        deadline = time.monotonic() + seconds
        # Each process files its share of the intake; spread over its connections by one
        # shared due time.
        interval = (self.a.processes / self.a.intake_per_s) if self.a.intake_per_s else 0
        self.intake_due = time.monotonic()
        await asyncio.gather(*(self.connection(host, port, deadline, interval) for _ in range(conns)))


async def seed(a, n, conns):
    """Files `n` complaints as fast as `conns` connections go: the register a city would hold
    after a year or two, before the measured run. Returns (tickets, seconds, errors)."""
    u = urllib.parse.urlsplit(a.url)
    w = Worker(a, 1000, [], None)
    w.a = argparse.Namespace(**{**vars(a), "api_key": ""})  # JSON only: the web form's path
    todo = iter(range(n))
    tickets, errors = [], []

    async def one_connection():
        conn = Conn(u.hostname, u.port or 80)
        for _ in todo:
            _, method, path, body, oks, headers = w.intake_request()
            try:
                status, answer = await asyncio.wait_for(conn.send(method, path, body, headers), 30)
            except (OSError, Closed, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as e:
                conn.close()
                errors.append(f"{type(e).__name__}: {e}")
                continue
            if status in oks:
                tickets.append(json.loads(answer)["ticket"])
            else:
                errors.append(f"status {status}: {answer[:200]!r}")
        conn.close()

    t = time.monotonic()
    await asyncio.gather(*(one_connection() for _ in range(conns)))
    return tickets, time.monotonic() - t, errors


def process_main(a, index, conns, tickets, token, out):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # stopped by the parent: just stop
    w = Worker(a, index, tickets, token)
    u = urllib.parse.urlsplit(a.url)
    asyncio.run(w.run(u.hostname, u.port or 80, a.seconds, conns))
    out.put({"index": index, "lat": {c: w.lat[c].tobytes() for c in CLASSES}, "count": w.count,
             "errors": w.errors, "examples": w.examples, "triage_left": len(w.triage)})


# --- the parent: set-up, RSS, the report ---------------------------------------------------------

def request(a, method, path, body=None, headers=None):
    u = urllib.parse.urlsplit(a.url)
    status, _, answer = checklib.raw_request(u.hostname, u.port or 80, method, path, body, headers, timeout=60)
    return status, answer


def server_counts(a):
    """Tile cache entries and bytes, and complaints held, from GET /metrics: what the
    server legitimately holds more of as a soak goes on."""
    st, body = request(a, "GET", "/metrics")
    out = {"tile_entries": 0, "tile_bytes": 0, "complaints": 0}
    for line in body.decode().splitlines():
        if line.startswith("heritage_atlas_tile_cache_entries "):
            out["tile_entries"] = int(float(line.split()[-1]))
        elif line.startswith("heritage_atlas_tile_cache_bytes "):
            out["tile_bytes"] = int(float(line.split()[-1]))
        elif line.startswith("heritage_atlas_complaints{"):
            out["complaints"] += int(float(line.split()[-1]))
    return out


def pct(sorted_vals, q):
    if not sorted_vals:
        return float("nan")
    return sorted_vals[min(len(sorted_vals) - 1, int(q * len(sorted_vals)))] * 1000


def main():
    # SIGTERM as an exit, so that the daemonic load processes are stopped with us.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("url")
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--processes", type=int, default=2)
    checklib.staff_options(ap)
    # One a second is 3,600 complaints an hour, years of a city's complaints in a working
    # day. Each one the server holds adds about 1 KiB (its pin, and SQLite's page caches as
    # the file grows, up to 2 MiB per pooled connection) and glibc's per-thread arenas keep
    # more than that; much faster intake turns the "no leak" band into a measure of how
    # many complaints were filed.
    ap.add_argument("--intake-per-s", type=float, default=1.0,
                    help="complaints filed a second (each then triaged with 5 PATCHes)")
    # A fresh database is a few MiB; each of SQLite's pooled connections (8 + 2) keeps a
    # page cache of up to 2 MiB of it, so on an empty register RSS climbs with the file for
    # many minutes — warm-up, not a leak. Seeding a register's worth of complaints first
    # lets those caches fill before the first minute's sample, which the end is held to.
    ap.add_argument("--seed", type=int, default=20000,
                    help="complaints filed before the measured run (0: none)")
    ap.add_argument("--rss-growth", type=float, default=0.10,
                    help="largest growth of RSS from the first minute to the end")
    a = ap.parse_args()
    a.url = a.url.rstrip("/")
    u = urllib.parse.urlsplit(a.url)
    if u.scheme != "http" or not u.hostname.startswith("127."):
        sys.exit("soak_client.py sends load: give it an http://127.x.x.x URL")

    checks = checklib.Checks()
    check = checks.check

    # Set-up: a token, a first complaint to track, every request class once.
    st, body = request(a, "POST", "/auth/login", json.dumps({"name": a.officer, "password": a.password}).encode(),
                       {"Content-Type": "application/json"})
    token = json.loads(body).get("token") if st == 200 else None
    if not check(f"officer {a.officer} signs in (POST /auth/login)", bool(token), f"status {st}, {body[:200]!r}"):
        checks.exit()
    st, body = request(a, "POST", "/complaints", json.dumps({
        "lon": 88.3426, "lat": 22.5448, "category": "heritage_damage", "description": "Soak: first complaint",
        "attributes": {"damage_type": "vandalism"}}).encode(), {"Content-Type": "application/json"})
    first = json.loads(body).get("ticket") if st == 201 else None
    if not check("a first complaint is filed (POST /complaints)", bool(first), f"status {st}, {body[:200]!r}"):
        checks.exit()
    tickets = [first]
    if a.seed:
        seeded, took, errs = asyncio.run(seed(a, a.seed, a.connections))
        tickets += random.Random(7).sample(seeded, min(len(seeded), 5000))
        check(f"seeded {len(seeded):,} complaints in {took:.1f} s ({len(seeded) / took:,.0f}/s, "
              f"{a.connections} connections, durable)", not errs and len(seeded) == a.seed,
              f"{len(errs)} errors: {errs[:3]}")
    probe = Worker(a, 999, tickets, token)
    bad = []
    for cls, *_ in WEIGHTS:
        for _ in range(3):
            while True:
                c, method, path, b, oks = probe.read_request()
                if c == cls:
                    break
            st, body = request(a, method, path, b or None)
            if st not in oks:
                bad.append(f"{method} {path}: {st} {body[:160]!r}")
    check("every request class answers as expected before the load starts", not bad, "; ".join(bad[:5]))

    rss = []  # (seconds since start, KiB)
    t0 = time.monotonic()
    rss.append((0.0, rss_kib(a.pid)[0]))
    out = mp.Queue()
    per = [a.connections // a.processes + (1 if i < a.connections % a.processes else 0) for i in range(a.processes)]
    # Daemonic: a parent stopped by SIGTERM (soak.sh's trap, timeout) takes them along.
    procs = [mp.Process(target=process_main, args=(a, i, per[i], tickets, token, out), daemon=True)
             for i in range(a.processes)]
    for p in procs:
        p.start()
    print(f"info {a.connections} connections in {a.processes} processes for {a.seconds:.0f} s; "
          f"intake {a.intake_per_s:g} complaints/s, each triaged with {len(TRIAGE)} PATCHes", flush=True)
    next_sample = 10.0
    m1_counts = None
    results = []
    # Until every process has reported (a process cannot exit before its report is read
    # from the queue), or well past the end.
    while len(results) < len(procs) and time.monotonic() - t0 < a.seconds + 120:
        try:
            results.append(out.get(timeout=0.5))
        except queue.Empty:
            pass
        el = time.monotonic() - t0
        if el >= next_sample and el <= a.seconds + 1:
            try:
                rss.append((round(el), rss_kib(a.pid)[0]))
            except OSError as e:
                check("the server is still running", False, str(e))
                break
            if int(el) % 60 < 10:
                counts = server_counts(a)
                if m1_counts is None:
                    m1_counts = counts
                print(f"info {el:.0f} s: RSS {rss[-1][1] / 1024:.1f} MiB, tile cache {counts['tile_entries']} "
                      f"tiles {counts['tile_bytes'] / 1048576:.1f} MiB, {counts['complaints']} complaints", flush=True)
            next_sample += 10
    for p in procs:
        p.join(timeout=10)
        if p.is_alive():
            p.terminate()
    wall = time.monotonic() - t0
    end_rss, hwm = rss_kib(a.pid)
    rss.append((round(wall), end_rss))
    end_counts = server_counts(a)
    m1_counts = m1_counts or end_counts

    lat = {c: array.array("d") for c in CLASSES}
    count = {c: 0 for c in CLASSES}
    errors = {}
    examples = []
    for r in results:
        for c in CLASSES:
            arr = array.array("d")
            arr.frombytes(r["lat"][c])
            lat[c].extend(arr)
            count[c] += r["count"][c]
        for k, v in r["errors"].items():
            errors[k] = errors.get(k, 0) + v
        examples += r["examples"]
    total = sum(count.values())
    n_err = sum(errors.values())
    check(f"all {len(procs)} load processes reported", len(results) == len(procs), f"{len(results)} reported")
    check(f"{total:,} requests, 0 errors (5xx, connection errors, unexpected statuses)", n_err == 0 and total > 0,
          f"{n_err} errors: {sorted(errors.items(), key=lambda kv: -kv[1])[:8]}; e.g. {examples[:3]}")
    filed = count["complaint_post"] + count["open311_post"]
    check(f"{filed} complaints filed and {count['triage_patch']} triage PATCHes made",
          filed > 0 and count["triage_patch"] > 0, "no complaints filed or triaged")

    # RSS after the first minute (the sample nearest 60 s) against the end.
    m1 = min(rss, key=lambda s: abs(s[0] - 60))
    growth = (end_rss - m1[1]) / m1[1]
    check(f"RSS at the end {end_rss / 1024:.1f} MiB within {a.rss_growth:.0%} of {m1[1] / 1024:.1f} MiB at {m1[0]} s "
          f"({growth:+.1%})", growth <= a.rss_growth and a.seconds >= 90,
          "the soak must run at least 90 s" if a.seconds < 90 else
          f"grew {growth:+.1%} (to tell allocator retention from a leak, run again with "
          f"MALLOC_ARENA_MAX=2 in the server's environment: a leak grows either way)")
    st, body = request(a, "GET", "/audit/verify")
    v = json.loads(body) if st == 200 else {}
    check(f"GET /audit/verify: ok over {v.get('entries')} entries", v.get("ok") is True, f"status {st}, {body[:200]!r}")
    st, body = request(a, "GET", "/health")
    check("GET /health after the soak: 200", st == 200, f"status {st}")

    # The report.
    secs = a.seconds
    try:
        with open(f"/proc/{a.pid}/environ", "rb") as f:
            env = [e.decode() for e in f.read().split(b"\0") if e.startswith(b"MALLOC_")]
    except OSError:
        env = []
    print()
    print(f"#### Soak: {secs / 60:g} min of mixed traffic, {a.connections} connections — {time.strftime('%Y-%m-%d')}")
    print()
    print(f"`scripts/soak.sh {secs / 60:g}` — release server on a fresh copy of the bundled data, "
          f"`--complaints-per-minute 0`; load from `scripts/soak_client.py` ({a.processes} asyncio processes, "
          f"keep-alive, on the same 2 cores). {a.seed:,} complaints filed first; then intake "
          f"{a.intake_per_s:g} complaints/s (JSON and Open311), each triaged by an officer (5 PATCHes). "
          f"Server allocator: glibc malloc" + (f" with {', '.join(env)}." if env else ", default arenas."))
    print()
    print("| route class | requests | req/s | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    all_lat = array.array("d")
    for c in CLASSES:
        v = sorted(lat[c])
        all_lat.extend(lat[c])
        if not v:
            continue
        print(f"| {LABELS[c]} | {len(v):,} | {len(v) / secs:,.1f} | {pct(v, 0.5):.2f} | {pct(v, 0.99):.2f} | {v[-1] * 1000:.1f} |")
    v = sorted(all_lat)
    print(f"| **all** | **{total:,}** | **{total / secs:,.0f}** | {pct(v, 0.5):.2f} | {pct(v, 0.99):.2f} | "
          f"{(v[-1] * 1000 if v else float('nan')):.1f} |")
    print()
    print(f"Errors: {n_err} (5xx, connection errors, unexpected statuses). Server RSS: "
          f"{rss[0][1] / 1024:.0f} MiB at start, {m1[1] / 1024:.1f} MiB after {m1[0]} s, "
          f"{end_rss / 1024:.1f} MiB at the end ({growth:+.1%}), peak (VmHWM) {hwm / 1024:.1f} MiB; "
          f"every 10 s: " + ", ".join(f"{kib / 1024:.0f}" for _, kib in rss) + " MiB. "
          f"Held by the server after the first minute / at the end: tile cache {m1_counts['tile_entries']:,} / "
          f"{end_counts['tile_entries']:,} tiles ({m1_counts['tile_bytes'] / 1048576:.1f} / "
          f"{end_counts['tile_bytes'] / 1048576:.1f} MiB), complaints {m1_counts['complaints']:,} / "
          f"{end_counts['complaints']:,}.")
    print()
    checks.exit()


if __name__ == "__main__":
    main()
