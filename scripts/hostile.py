#!/usr/bin/env python3
"""A hostile client against a running release server: every way a client on the network
could once crash, exhaust or mislead the server, each checked for its status code and our
JSON error shape, with /health polled and the server's memory read throughout.

    hostile.py URL --pid PID [--officer NAME --password PW --api-key KEY]
               [--header-timeout 3] [--max-connections-per-client 128]
               [--upload-mb-per-hour 200] [--rss-limit-mb 512]

The password and the key default to $ATLAS_OFFICER_PASSWORD and $ATLAS_API_KEY (so they
need not appear on a command line). Start the server for the suite on loopback, without
--trust-proxy, with the default complaint limit (10 a minute) and a short header timeout
so the slow-client checks are quick; an officer and an Open311 key made first:

    B=target/release/heritage-atlas
    echo "$PW" | $B --db /tmp/h.db user add officer1 --role officer
    KEY=$($B --db /tmp/h.db apikey add hostile)
    $B --db /tmp/h.db serve --bind 127.0.0.1:18095 --header-timeout 3 &
    scripts/hostile.py http://127.0.0.1:18095 --pid $! --officer officer1 --password "$PW" --api-key "$KEY"

What it sends (every loop bounded in count and time; traffic only to the URL given, which
must be on loopback — the held connections come from 127.0.0.2-127.0.0.5 so that the
per-address connection cap does not refuse the /health poller on 127.0.0.1):
  - deep CQL2 nesting (2,000 parentheses; NOT x 10,000) on every collection as json, csv
    and fgb: 400 naming the limit or 414, never a dropped connection;
  - 100 parallel wrong-password logins: mostly 429 with Retry-After before any argon2,
    memory bounded; then the right password after the wait signs in;
  - a 50 MB JSON complaint: 413 from Content-Length before a byte of body; the same body
    chunked, cut with 413 while streaming; Content-Length: 999999999999 on four routes;
  - Host, X-Forwarded-Proto and X-Forwarded-Host naming evil.example: never in TileJSON,
    the style, /collections, the landing page, /api or Open311 discovery;
  - X-Forwarded-For (and Forwarded, X-Real-IP) rotated on each complaint: the complaint
    limit still holds; Open311 POST and "me too" share it (429 + Retry-After);
  - slowloris (a header line every 2 s): cut within the header timeout;
  - 300 half-sent requests held open: /health still answers, all are closed by the
    header timeout; one address past the per-address cap: 429 JSON and closed;
  - uploads past the hourly budget: a 20 MB document checked, then more announced (the
    budget is charged from Content-Length) until a 429 with a Retry-After in minutes; a
    multipart complaint from the same client is then refused by the same budget;
  - 405/413/414/431 as our JSON; security headers on the page, /health, a tile, errors;
    `application/jsonfoo` is 415; unknown query parameters are 400;
  - odd inputs, each a 4xx: JSON nested thousands deep, a 1 MB password, Content-Length
    with Transfer-Encoding, a negative or doubled Content-Length, a NUL in a header, NaN
    and overflowing numbers, path traversal, a forged bearer token; 50 pipelined requests;
  - floods of each public endpoint (2,000 requests at 48 connections each): no 5xx, no
    connection errors, nothing but the expected status;
  - at the end: GET /audit/verify is ok.

Throughout, a thread asks GET /health every 0.5 s (each must be a 200 within 2 s) and
reads VmRSS and VmHWM from /proc/PID/status; the peak must stay under --rss-limit-mb.

Prints one line per check (`ok   ...` / `FAIL ...: why`; `skip ...` when an option it needs
was not given) and a closing `N passed, M failed`; exits non-zero on any failure. About
25 s on 2 cores.
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import random
import select
import socket
import sys
import threading
import time
import urllib.parse

import checklib
from checklib import short, tile_of

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("url")
ap.add_argument("--pid", type=int, required=True, help="the server's process id, for its RSS")
checklib.staff_options(ap, officer="")
ap.add_argument("--header-timeout", type=float, default=3.0,
                help="the server's --header-timeout, seconds (start it with 3)")
ap.add_argument("--max-connections-per-client", type=int, default=128,
                help="the server's --max-connections-per-client")
ap.add_argument("--upload-mb-per-hour", type=int, default=200,
                help="the server's --upload-mb-per-hour")
# The bundled data serves in ~40 MiB. What may legitimately add to that: the tile cache
# (256 MiB by default, and the floods here fill a few MiB of it), two argon2 hashes at
# 19 MiB each, buffers of a few hundred connections (~8 KiB each) and allocator slack.
# 512 MiB is that with room to spare; a login flood hashed without a bound (100 x 19 MiB)
# or a body buffered past its limit (50 MB) would still pass it at once.
ap.add_argument("--rss-limit-mb", type=int, default=512)
ap.add_argument("--flood", type=int, default=2000, help="requests per flooded endpoint")
ap.add_argument("--concurrency", type=int, default=48)
args = ap.parse_args()

BASE = urllib.parse.urlsplit(args.url.rstrip("/"))
HOST, PORT = BASE.hostname, BASE.port or 80
if BASE.scheme != "http" or not HOST.startswith("127."):
    sys.exit("hostile.py sends load and malformed requests: give it an http://127.x.x.x URL")
EVIL = "evil.example"
VM_LON, VM_LAT = 88.3426, 22.5448
T0 = time.monotonic()

checks = checklib.Checks()
check, attempt, skip = checks.check, checks.attempt, checks.skip


# --- HTTP ------------------------------------------------------------------------------------


def request(method, path, body=None, headers=None, timeout=30):
    """(status, headers with lower-case names, body); one fresh connection."""
    return checklib.raw_request(HOST, PORT, method, path, body, headers, timeout)


def get(path, headers=None, timeout=30):
    return request("GET", path, headers=headers, timeout=timeout)


def post_json(path, obj, headers=None):
    return request("POST", path, json.dumps(obj).encode(),
                   {"Content-Type": "application/json", **(headers or {})})


def connect(src=None, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((HOST, PORT))
    return s


class Closed(Exception):
    """The server closed the connection before a whole answer."""


class Reader:
    """Answers read one after another from one socket (pipelined or kept alive)."""

    def __init__(self, s):
        self.s = s
        self.buf = b""

    def _more(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no whole answer in time")
        self.s.settimeout(left)
        chunk = self.s.recv(65536)
        if not chunk:
            raise Closed(f"closed after {len(self.buf)} bytes: {short(self.buf, 120)!r}")
        self.buf += chunk

    def _take(self, n):
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def answer(self, timeout=10):
        """(status, headers with lower-case names, body). Raises Closed if the connection
        ends first, socket.timeout if nothing whole comes within `timeout`."""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            self._more(deadline)
        i = self.buf.index(b"\r\n\r\n")
        lines = self._take(i + 4)[:-4].decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._more(deadline)
            return status, headers, self._take(n)
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._more(deadline)
                size = int(self.buf[:self.buf.index(b"\r\n")].split(b";")[0], 16)
                self._take(self.buf.index(b"\r\n") + 2)
                while len(self.buf) < size + 2:
                    self._more(deadline)
                body += self._take(size + 2)[:size]
                if size == 0:
                    return status, headers, body
        try:
            while True:
                self._more(deadline)
        except Closed:
            return status, headers, self._take(len(self.buf))


def read_answer(s, timeout=10):
    """One answer from a socket (see Reader.answer)."""
    return Reader(s).answer(timeout)


def raw(data, timeout=10, src=None):
    """Sends raw bytes on a fresh connection and reads the answer: (status, headers, body,
    seconds). A connection closed without an answer is status 0."""
    t = time.monotonic()
    s = connect(src, timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            # Refused before all of it arrived (a 413 on Content-Length alone): the answer
            # may already be waiting; read it.
            pass
        try:
            st, h, b = read_answer(s, timeout)
        except (Closed, ConnectionResetError) as e:
            st, h, b = 0, {}, str(e).encode()
        return st, h, b, time.monotonic() - t
    finally:
        s.close()


def json_error(status, headers, body, want, code=None):
    """Is this our JSON error with status `want` (an int or a set)? -> (ok, detail)."""
    wants = want if isinstance(want, (set, tuple)) else {want}
    detail = f"status {status}, content-type {headers.get('content-type')}, body {short(body)}"
    if status not in wants:
        return False, detail
    if not headers.get("content-type", "").startswith("application/json"):
        return False, detail
    try:
        v = json.loads(body)
    except ValueError:
        return False, detail
    ok = (isinstance(v, dict) and isinstance(v.get("code"), str) and v["code"]
          and isinstance(v.get("description"), str) and v["description"]
          and (code is None or v["code"] == code))
    return bool(ok), detail


# --- The monitor: /health every 0.5 s, and the server's memory ---------------------------------

def rss_kib():
    """(VmRSS, VmHWM) of the server in KiB."""
    return checklib.rss_kib(args.pid)


class Monitor(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.phase = "start"
        self.polls = 0
        self.slowest = 0.0
        self.failures = []  # (seconds since start, phase, detail)
        self.peak_rss = 0
        self.peak_by_phase = {}
        self.samples = []

    def run(self):
        while not self.stop.is_set():
            t = time.monotonic()
            phase = self.phase
            try:
                st, _, body = get("/health", {"Connection": "close"}, timeout=2)
                took = time.monotonic() - t
                self.slowest = max(self.slowest, took)
                if st != 200 or took > 2:
                    self.failures.append((t - T0, phase, f"status {st} in {took:.2f} s: {short(body, 100)}"))
            except Exception as e:  # noqa: BLE001 - every failure to answer is recorded
                self.failures.append((t - T0, phase, f"{type(e).__name__}: {e} after {time.monotonic() - t:.2f} s"))
            self.polls += 1
            try:
                rss, _ = rss_kib()
                self.peak_rss = max(self.peak_rss, rss)
                self.peak_by_phase[phase] = max(self.peak_by_phase.get(phase, 0), rss)
                self.samples.append((t - T0, rss))
            except OSError as e:
                self.failures.append((t - T0, phase, f"cannot read /proc/{args.pid}/status: {e}"))
            self.stop.wait(max(0.0, 0.5 - (time.monotonic() - t)))


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


# --- The checks ------------------------------------------------------------------------------

monitor = Monitor()


def phase(name):
    monitor.phase = name


def preflight():
    st, _, body = get("/health")
    v = json.loads(body)
    rss, _ = rss_kib()
    return st == 200 and v.get("status") == "ok", f"status {st}, body {short(body)}; RSS {mib(rss)}"


if not attempt("server answers /health and its RSS is readable", preflight):
    checks.exit()
BASELINE_RSS, _ = rss_kib()
monitor.start()

# --- Security headers, unknown parameters, content types ----------------------------------------

phase("headers")


VM_TILE = "/tiles/heritage/14/%d/%d.mvt" % tile_of(VM_LON, VM_LAT, 14)


def security_headers(path, want_status):
    def run():
        st, h, body = get(path, {"Accept": "text/html"})
        missing = []
        if h.get("x-content-type-options") != "nosniff":
            missing.append(f"x-content-type-options={h.get('x-content-type-options')}")
        if h.get("x-frame-options") != "DENY":
            missing.append(f"x-frame-options={h.get('x-frame-options')}")
        if h.get("referrer-policy") != "no-referrer":
            missing.append(f"referrer-policy={h.get('referrer-policy')}")
        if "frame-ancestors 'none'" not in h.get("content-security-policy", ""):
            missing.append(f"content-security-policy={h.get('content-security-policy')}")
        return st == want_status and not missing, f"status {st}, wrong {missing}"
    return run


for path, want in [("/", 200), ("/health", 200), (VM_TILE, 200), ("/no/such/thing", 404),
                   ("/collections/heritage/items?filter=(((", 400)]:
    attempt(f"security headers on GET {path} ({want})", security_headers(path, want))

COMPLAINT = {"lon": VM_LON, "lat": VM_LAT, "category": "heritage_damage",
             "description": "Hostile suite: a loose railing at the east gate.",
             "attributes": {"damage_type": "vandalism"}}
ticket = None


def file_one():
    global ticket
    st, h, body = post_json("/complaints", COMPLAINT)
    ticket = json.loads(body).get("ticket") if st == 201 else None
    return st == 201 and bool(ticket), f"status {st}, body {short(body)}"


attempt("POST /complaints (JSON): 201 with a ticket, for what follows", file_one)
TICKET = ticket or "EH-2026-000001"

attempt(f"GET /complaints/{{ticket}}?x=1: 400 JSON",
        lambda: json_error(*get(f"/complaints/{TICKET}?x=1"), 400))
for path in ["/health?x=1", "/nearby?lon=88.35&lat=22.55&x=1", f"{VM_TILE}?x=1",
             "/collections/heritage/items?x=1", "/audit/verify?x=1"]:
    attempt(f"GET {path}: 400 JSON (unknown parameter)", lambda p=path: json_error(*get(p), 400))


def jsonfoo():
    st, h, body = request("POST", "/complaints", json.dumps(COMPLAINT).encode(),
                          {"Content-Type": "application/jsonfoo"})
    return json_error(st, h, body, 415, "unsupported_media_type")


attempt("POST /complaints with Content-Type: application/jsonfoo: 415 JSON", jsonfoo)

# --- Odd inputs: each a clear 4xx, never a 5xx or a dropped connection --------------------------

phase("odd inputs")


def req_bytes(method, path, body=b"", ct="application/json", extra=""):
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\n{extra}"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


NESTED_ARRAYS = b"[" * 30_000 + b"]" * 30_000
ODD = [
    # (label, raw request, statuses allowed, our JSON required)
    ("JSON nested 5,000 deep to POST /complaints", req_bytes("POST", "/complaints", b'{"a":' * 5_000 + b"1" + b"}" * 5_000), {400}, True),
    ("JSON arrays nested 30,000 deep to POST /auth/login", req_bytes("POST", "/auth/login", NESTED_ARRAYS), {400}, True),
    ("JSON arrays nested 30,000 deep to POST /documents/verify", req_bytes("POST", "/documents/verify", NESTED_ARRAYS), {400}, True),
    ("a 60 KB password to POST /auth/login", req_bytes("POST", "/auth/login", json.dumps({"name": "officer1", "password": "p" * 60_000}).encode()), {401}, True),
    ("a 1 MB password to POST /auth/login", req_bytes("POST", "/auth/login", json.dumps({"name": "x", "password": "p" * 1_000_000}).encode()), {413}, True),
    ("Content-Length and Transfer-Encoding both (smuggling)",
     b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n"
     b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n", {400}, False),
    ("Content-Length: -1", b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", {400}, False),
    ("two different Content-Lengths", b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", {400}, False),
    ("a garbage request line", b"GARBAGE\r\n\r\n", {400}, False),
    ("a NUL in a header value", b"GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", {400}, False),
    ("tile z 99", b"GET /tiles/heritage/99/1/1.mvt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("tile x past u64", b"GET /tiles/heritage/4/99999999999999999999/1.mvt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("/nearby lon=NaN lat=inf", b"GET /nearby?lon=NaN&lat=inf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("/nearby radius_m=1e308 limit=-1", b"GET /nearby?lon=88.3&lat=22.5&radius_m=1e308&limit=-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("items limit past u64, offset -1", b"GET /collections/heritage/items?limit=99999999999999999999999&offset=-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("items bbox of 3 numbers", b"GET /collections/heritage/items?bbox=1,2,3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("items datetime garbage", b"GET /collections/heritage/items?datetime=yesterday/.. HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("CQL2 POLYGON of 500 points, unclosed", ("GET /collections/parks/items?filter=" + urllib.parse.quote(
        "S_INTERSECTS(geometry, POLYGON((" + ",".join(f"88.{i:04d} 22.5" for i in range(500)) + ")))")
        + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode(), {400}, True),
    ("path traversal in /assets", b"GET /assets/%2e%2e%2f%2e%2e%2fCargo.toml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400, 404}, True),
    ("path traversal in /styles", b"GET /styles/..%2f..%2fCargo.toml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400, 404}, True),
    ("path traversal in /documents", b"GET /documents/..%2f..%2fCargo.toml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400, 404}, True),
    ("flag JSON nested 5,000 deep", req_bytes("POST", f"/complaints/{TICKET}/flag", b'{"item":' * 5_000 + b"1" + b"}" * 5_000), {400}, True),
    ("flag an item that is no piece", req_bytes("POST", f"/complaints/{TICKET}/flag", b'{"item":"photo:../../../etc/passwd"}'), {400}, True),
    ("flag a note id past i64", req_bytes("POST", f"/complaints/{TICKET}/flag", b'{"item":"note:99999999999999999999999"}'), {400}, True),
    ("flag with a 2 MB reason", req_bytes("POST", f"/complaints/{TICKET}/flag", json.dumps({"item": "description", "reason": "r" * 2_000_000}).encode()), {413}, True),
    ("moderation without a token", req_bytes("POST", f"/complaints/{TICKET}/moderation", b'{"item":"description","decision":"hide","reason":"x"}'), {401}, True),
    ("feed lon=NaN radius_m=1e308", b"GET /complaints.atom?lon=NaN&lat=22.5&radius_m=1e308 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("feed ward past i64", b"GET /complaints.atom?ward=99999999999999999999999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("opt-out with a 6 KB token", ("GET /complaints/" + TICKET + "/optout?t=" + "a" * 6_000 + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode(), {400, 414}, True),
    ("opt-out with a forged token", ("POST /complaints/" + TICKET + "/optout?t=" + "0" * 32 + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").encode(), {403}, True),
    ("a code for a 10 KB contact", req_bytes("POST", "/applicants/code", json.dumps({"contact": "a" * 10_000 + "@x.org"}).encode()), {400}, True),
    ("a code for a contact with a NUL", req_bytes("POST", "/applicants/code", b'{"contact":"a\\u0000b@x.org"}'), {400}, True),
    ("a code for a phone number of 40 digits", req_bytes("POST", "/applicants/code", json.dumps({"contact": "+" + "9" * 40}).encode()), {400}, True),
    ("sign in with a 7-digit code", req_bytes("POST", "/applicants/session", b'{"contact":"9830012345","code":"1234567"}'), {400}, True),
    ("sign in with no code sent", req_bytes("POST", "/applicants/session", b'{"contact":"9830012345","code":"123456"}'), {401}, True),
    ("an application with an applicant token never issued", req_bytes("POST", "/applications", b'{"type":"heritage_sanction"}',
                                                                      extra="Authorization: Bearer ap_" + "0" * 64 + "\r\n"), {401}, True),
    ("an application's file without a token", req_bytes("PUT", "/applications/D0000000000000000/files/drawings", b"%PDF-1.4", ct="application/pdf"), {401}, True),
    ("an action on an application with a forged staff token", req_bytes("POST", "/applications/HS-2026-000001/actions", b'{"action":"issue"}',
                                                                        extra="Authorization: Bearer " + "A" * 64 + "\r\n"), {401}, True),
    ("the tracker of a number past i64", b"GET /applications/HS-2026-99999999999999999999999/track HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {404}, True),
    ("the register with limit past u64", b"GET /register/decisions?limit=99999999999999999999999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400}, True),
    ("an HCC meeting id past i64", b"GET /hcc/meetings/99999999999999999999999 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {400, 401}, True),
    ("PATCH /complaints/{t} with a forged bearer token", req_bytes("PATCH", f"/complaints/{TICKET}", b'{"action":"resolve","note":"x"}',
                                                                     extra="Authorization: Bearer " + "A" * 64 + "\r\n"), {401}, True),
]


def odd_inputs():
    bad = []
    for label, data, wants, want_json in ODD:
        try:
            st, h, body, _ = raw(data, timeout=10)
        except Exception as e:  # noqa: BLE001
            bad.append(f"{label}: {type(e).__name__}: {e}")
            continue
        if want_json:
            ok, detail = json_error(st, h, body, wants)
        else:
            ok, detail = st in wants, f"status {st}, body {short(body, 120)}"
        if ok and b"[package]" in body:
            ok, detail = False, "served a file from outside its directory"
        if not ok:
            bad.append(f"{label}: {detail}")
    return not bad, f"{len(bad)} of {len(ODD)} wrong: " + " | ".join(bad)


attempt(f"{len(ODD)} odd inputs (nested JSON, smuggling, NUL, NaN, overflow, traversal, forged token): each a 4xx",
        odd_inputs)


def pipelined():
    s = connect(timeout=10)
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 50)
        r = Reader(s)
        got = [r.answer(10)[0] for _ in range(50)]
        return got == [200] * 50, f"statuses {got}"
    finally:
        s.close()


attempt("50 pipelined GET /health on one connection: 50 answers, all 200", pipelined)

# --- Bodies: announced too large, streamed too large ------------------------------------------

phase("bodies")
FIFTY_MB = 50 * 1024 * 1024


def declared_50mb():
    # Only the head goes out: a 413 must come back without the server waiting for the body.
    st, h, body, took = raw(
        b"POST /complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {FIFTY_MB}\r\n\r\n".encode() + b'{"description":"', timeout=5)
    ok, detail = json_error(st, h, body, 413, "payload_too_large")
    return ok and took < 1.0, f"{detail}, in {took:.2f} s"


attempt("50 MB JSON body to POST /complaints: 413 JSON from Content-Length, body unread",
        declared_50mb)


def chunked_50mb():
    """The same 50 MB, chunked: cut with a 413 once past 64 KiB. Sends 16 KiB chunks and
    looks for the answer between them, so it is read before the server closes."""
    s = connect(timeout=10)
    sent = 0
    t = time.monotonic()
    try:
        s.sendall(b"POST /complaints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b" " * (16 << 10)
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        answered = False
        while sent < FIFTY_MB and time.monotonic() - t < 20:
            r, _, _ = select.select([s], [], [], 0.002)
            if r:
                answered = True
                break
            try:
                s.sendall(framed)
            except (BrokenPipeError, ConnectionResetError):
                answered = True
                break
            sent += len(chunk)
        if not answered:
            return False, f"no answer after {sent} bytes in {time.monotonic() - t:.1f} s"
        try:
            st, h, body = read_answer(s, 5)
        except (Closed, ConnectionResetError) as e:
            return False, f"connection dropped without an answer after {sent} bytes: {e}"
        ok, detail = json_error(st, h, body, 413, "payload_too_large")
        # Socket buffers on both sides hold a few MB at most before the server answers.
        return ok and sent < 8 << 20, f"{detail}, after {sent} bytes sent"
    finally:
        s.close()


attempt("50 MB JSON body chunked to POST /complaints: cut with 413 JSON while streaming",
        chunked_50mb, show=True)


def huge_length(path, ct):
    def run():
        st, h, body, took = raw(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ct}\r\n"
            "Content-Length: 999999999999\r\n\r\n".encode(), timeout=5)
        ok, detail = json_error(st, h, body, 413, "payload_too_large")
        return ok and took < 1.0, f"{detail}, in {took:.2f} s"
    return run


for path, ct in [("/complaints", "application/json"),
                 ("/complaints", "multipart/form-data; boundary=x"),
                 ("/auth/login", "application/json"),
                 ("/documents/verify", "application/octet-stream")]:
    attempt(f"Content-Length: 999999999999 to POST {path} ({ct.split(';')[0]}): 413 JSON at once",
            huge_length(path, ct))

# --- 405 / 413 / 414 / 431 as our JSON -----------------------------------------------------------

phase("statuses")


def method_not_allowed():
    st, h, body = request("DELETE", "/health")
    ok, detail = json_error(st, h, body, 405, "method_not_allowed")
    return ok and "GET" in h.get("allow", ""), f"{detail}, allow {h.get('allow')}"


attempt("DELETE /health: 405 JSON with Allow", method_not_allowed)
attempt("GET /search?q=<20,000 a>: 414 JSON",
        lambda: json_error(*get("/search?q=" + "a" * 20_000), 414, "uri_too_long"))
attempt("GET /health with a 40 KB header: 431 JSON",
        lambda: json_error(*get("/health", {"X-Padding": "a" * 40_000}), 431, "headers_too_large"))


def huge_head():
    st, h, body, _ = raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 70_000 + b"\r\n\r\n")
    # Past hyper's own 64 KiB buffer the answer may be hyper's (empty) 431; a 431 it must be.
    return st == 431, f"status {st}, body {short(body)}"


attempt("GET /health with a 70 KB header: 431", huge_head)
attempt("PUT /complaints: 405 JSON",
        lambda: json_error(*request("PUT", "/complaints", b"{}", {"Content-Type": "application/json"}),
                           405, "method_not_allowed"))

# --- Links: never from Host or X-Forwarded-* (no --trust-proxy) ---------------------------------

phase("host")
EVIL_HEADERS = {"Host": EVIL, "X-Forwarded-Proto": "https", "X-Forwarded-Host": EVIL,
                "Forwarded": f"host={EVIL};proto=https", "X-Forwarded-For": "203.0.113.66"}


def links_are_ours(path):
    def run():
        st, _, evil = get(path, EVIL_HEADERS)
        st2, _, plain = get(path)
        text = evil.decode("utf-8", "replace")
        same = evil == plain
        return (st == 200 and st2 == 200 and EVIL not in text and "http" in text and same,
                f"status {st}/{st2}, evil.example in answer: {EVIL in text}, "
                f"same as without the headers: {same}, {short(evil, 200)}")
    return run


for path in ["/tiles/heritage.json", "/styles/heritage.json", "/collections", "/?f=json", "/api",
             "/open311/v2/discovery.json"]:
    attempt(f"GET {path} with Host/X-Forwarded-Host evil.example: our links, unchanged",
            links_are_ours(path))

# --- Deep CQL2 -----------------------------------------------------------------------------------

phase("cql2")
COLLECTIONS = ["heritage", "water_bodies", "parks", "wards", "complaints"]
DEEP = [("2,000 parentheses", "(" * 2000 + "ward=1" + ")" * 2000),
        ("NOT x 10,000", "NOT " * 10_000 + "ward=1")]


def deep_filters():
    bad = []
    n = 0
    for label, f in DEEP:
        for coll in COLLECTIONS:
            for fmt in ["json", "csv", "fgb"]:
                n += 1
                path = (f"/collections/{coll}/items?"
                        + urllib.parse.urlencode({"filter": f, "f": fmt}, quote_via=urllib.parse.quote))
                try:
                    st, h, body = get(path, timeout=15)
                except Exception as e:  # noqa: BLE001 - a dropped connection is the failure
                    bad.append(f"{label} {coll} f={fmt}: {type(e).__name__}: {e}")
                    continue
                ok, detail = json_error(st, h, body, {400, 414})
                if ok and st == 400 and "64" not in json.loads(body)["description"]:
                    ok, detail = False, f"400 not naming the limit: {detail}"
                if not ok:
                    bad.append(f"{label} {coll} f={fmt}: {detail}")
    return not bad and n == 30, f"{len(bad)} of {n} wrong: {bad[:3]}"


attempt("deep CQL2 (2,000 '(' and NOT x 10,000) on 5 collections x json/csv/fgb: 400 naming 64 or 414 JSON",
        deep_filters)

# --- A login flood ------------------------------------------------------------------------------

phase("login")


def login(name, password):
    return post_json("/auth/login", {"name": name, "password": password})


token = None
LOGIN_HWM = []


def login_flood():
    global token
    name = args.officer or "officer1"
    before, _ = rss_kib()
    results = []

    def one(i):
        try:
            st, h, body = login(name, f"wrong guess {i}")
            return st, h.get("retry-after"), body
        except Exception as e:  # noqa: BLE001
            return 0, None, str(e).encode()

    t = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(100) as ex:
        results = list(ex.map(one, range(100)))
    took = time.monotonic() - t
    after_peak = monitor.peak_by_phase.get("login", 0)
    _, hwm = rss_kib()
    LOGIN_HWM.append(hwm)
    counts = {}
    for st, _, _ in results:
        counts[st] = counts.get(st, 0) + 1
    waits = [int(ra) for st, ra, _ in results if st == 429 and ra and ra.isdigit()]
    no_retry = sum(1 for st, ra, _ in results if st == 429 and not (ra and ra.isdigit()))
    ok = (set(counts) <= {401, 429} and counts.get(429, 0) >= 90 and no_retry == 0
          and all(1 <= w <= 60 for w in waits))
    return ok, (f"statuses {counts}, 429 without Retry-After {no_retry}, waits {sorted(set(waits))}, "
                f"{took:.1f} s, RSS before {mib(before)}, peak polled {mib(after_peak)}, HWM {mib(hwm)}")


attempt("100 parallel wrong-password logins: 401/429 only, >= 90 refused with Retry-After", login_flood, show=True)


def login_rss():
    # 100 argon2 hashes at once would need ~1.9 GiB; two at a time ~40 MiB. VmHWM is the
    # process's peak so far, so a spike between two polls still counts.
    peak = max([monitor.peak_by_phase.get("login", 0)] + LOGIN_HWM)
    return peak - BASELINE_RSS < 160 * 1024, f"peak {mib(peak)} against {mib(BASELINE_RSS)} at start"


attempt("login flood: RSS stays within 160 MiB of the start", login_rss, show=True)


def right_password_after_wait():
    global token
    deadline = time.monotonic() + 70
    seen = []
    while time.monotonic() < deadline:
        st, h, body = login(args.officer, args.password)
        seen.append(st)
        if st == 200:
            token = json.loads(body).get("token")
            return bool(token), f"statuses {seen}"
        if st != 429:
            return False, f"statuses {seen}, body {short(body)}"
        time.sleep(min(float(h.get("retry-after", "1")), deadline - time.monotonic()) + 0.05)
    return False, f"still refused after 70 s: {seen}"


if args.officer and args.password:
    attempt("after Retry-After the right password signs in", right_password_after_wait)
else:
    skip("after Retry-After the right password signs in", "no --officer/--password")

# --- The complaint rate limit: X-Forwarded-For rotation does not escape it -----------------------

phase("ratelimit")


def o311_post(extra_headers=None):
    form = urllib.parse.urlencode([
        ("api_key", args.api_key), ("service_code", "park_maintenance"),
        ("lat", "22.5448"), ("long", "88.3426"), ("description", "Hostile suite: broken bench"),
    ]).encode()
    return request("POST", "/open311/v2/requests.json", form,
                   {"Content-Type": "application/x-www-form-urlencoded", **(extra_headers or {})})


def open311_accepted():
    st, _, body = o311_post()
    return st == 201, f"status {st}, body {short(body)}"


if args.api_key:
    attempt("Open311 POST requests.json with the key: 201 (before the limit is reached)", open311_accepted)
else:
    skip("Open311 POST requests.json with the key: 201", "no --api-key")


def xff_rotation():
    statuses = []
    first_429 = None
    for i in range(150):
        spoof = f"198.51.{i // 250}.{i % 250 + 1}"
        st, h, body = post_json("/complaints", COMPLAINT, {
            "X-Forwarded-For": spoof, "X-Real-IP": spoof, "Forwarded": f"for={spoof}"})
        statuses.append(st)
        if st == 429:
            first_429 = i
            break
        if st != 201:
            return False, f"attempt {i}: status {st}, body {short(body)}"
    if first_429 is None:
        return False, ("150 complaints with rotated X-Forwarded-For all accepted "
                       "(is the server started with --complaints-per-minute 0 or --trust-proxy?)")
    after = []
    for i in range(5):
        spoof = f"203.0.113.{i + 1}"
        st, h, body = post_json("/complaints", COMPLAINT, {"X-Forwarded-For": spoof})
        ok, _ = json_error(st, h, body, 429, "too_many_requests")
        after.append((st, h.get("retry-after")) if ok else (st, short(body, 80)))
    ok = all(st == 429 and ra and ra.isdigit() for st, ra in after)
    return ok, f"{len(statuses) - 1} accepted before the first 429; then {after}"


attempt("rotating X-Forwarded-For/X-Real-IP/Forwarded: the complaint limit still holds (429 JSON + Retry-After)",
        xff_rotation, show=True)


def open311_limited():
    if not args.api_key:
        st, h, body = o311_post()
    else:
        st, h, body = o311_post({"X-Forwarded-For": "192.0.2.77"})
    try:
        v = json.loads(body)
        shape = isinstance(v, list) and v and v[0].get("code") == 429 and v[0].get("description")
    except ValueError:
        shape = False
    ra = h.get("retry-after", "")
    return st == 429 and ra.isdigit() and bool(shape), f"status {st}, retry-after {ra!r}, body {short(body)}"


attempt("Open311 POST requests.json shares the limit: 429 + Retry-After, [{code: 429, description}]",
        open311_limited)


def support_limited():
    st, h, body = request("POST", f"/complaints/{TICKET}/support")
    ok, detail = json_error(st, h, body, 429, "too_many_requests")
    return ok and h.get("retry-after", "").isdigit(), detail


attempt("POST /complaints/{ticket}/support shares the limit: 429 JSON + Retry-After", support_limited)

# --- Upload budget -------------------------------------------------------------------------------

phase("uploads")


def upload_budget():
    """Documents to POST /documents/verify (an anonymous upload route with no complaint
    limit in the way), 20 MB each: the first sent whole (and checked: not on record), the
    rest only announced, since the budget is charged from Content-Length before a byte of
    body is read. Past the hourly budget: 429 with a Retry-After of minutes, not seconds."""
    size = 20_000_000
    budget = args.upload_mb_per_hour << 20
    expect_refused_at = budget // size  # 0-based index of the first that cannot fit
    head = (b"POST /documents/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
            + f"Content-Length: {size}\r\n\r\n".encode())
    seen = []
    for i in range(expect_refused_at + 2):
        s = connect(timeout=10)
        try:
            if i == 0:
                s.sendall(head + os.urandom(1 << 20) * (size >> 20) + b"\0" * (size % (1 << 20)))
                st, h, body = read_answer(s, 30)
                v = json.loads(body) if st == 200 else {}
                if st != 200 or v.get("on_record") is not False:
                    return False, f"a whole 20 MB document: status {st}, body {short(body)}"
                seen.append(st)
                continue
            s.sendall(head + b"%PDF-1.7\n")
            r, _, _ = select.select([s], [], [], 0.5)
            if not r:
                seen.append("reading")  # admitted: the server waits for the rest
                continue
            try:
                st, h, body = read_answer(s, 5)
            except (Closed, ConnectionResetError) as e:
                seen.append(f"closed: {e}")
                continue
            if st == 429:
                ok, detail = json_error(st, h, body, 429, "too_many_requests")
                wait = h.get("retry-after", "")
                ok = ok and wait.isdigit() and int(wait) > 60
                return ok and i == expect_refused_at, (
                    f"upload {i + 1}: {detail}, retry-after {wait!r}; before it {seen}")
            seen.append(st)
        finally:
            s.close()
    return False, f"no 429 after {len(seen)} announced 20 MB uploads: {seen}"


attempt(f"uploads past {args.upload_mb_per_hour} MB an hour (20 MB documents to /documents/verify): 429 JSON, Retry-After in minutes",
        upload_budget, show=True)


def complaint_upload_refused():
    # The budget is the client's, across routes: a multipart complaint announcing 40 MB is
    # now refused by it too, before the complaint limit is asked.
    st, h, body, took = raw(
        b"POST /complaints HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        b"Content-Length: 40000000\r\n\r\n--b\r\n", timeout=5)
    ok, detail = json_error(st, h, body, 429, "too_many_requests")
    wait = h.get("retry-after", "")
    return ok and wait.isdigit() and int(wait) > 60 and took < 1, f"{detail}, retry-after {wait!r}"


attempt("then a 40 MB multipart complaint: 429 from the same budget (Retry-After in minutes)",
        complaint_upload_refused)

# --- Slow clients --------------------------------------------------------------------------------

phase("slowloris")
HT = args.header_timeout


def slowloris():
    s = connect(timeout=5)
    t = time.monotonic()
    lines = 0
    try:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        while time.monotonic() - t < HT + 10:
            r, _, _ = select.select([s], [], [], 2.0)
            if r:
                data = s.recv(4096)
                took = time.monotonic() - t
                # Cut off: closed, or told 408 and closed; never a 200 for a trickle.
                ok = (not data or data.startswith(b"HTTP/1.1 408")) and took <= HT + 1.5
                return ok, f"closed after {took:.1f} s, {lines} slow lines, got {short(data, 80)!r}"
            try:
                s.sendall(f"X-Slow-{lines}: 1\r\n".encode())
                lines += 1
            except (BrokenPipeError, ConnectionResetError):
                took = time.monotonic() - t
                return took <= HT + 2.5, f"write failed after {took:.1f} s"
        return False, f"still open after {time.monotonic() - t:.1f} s and {lines} lines"
    finally:
        s.close()


attempt(f"slowloris (a header line every 2 s): cut within the {HT:g} s header timeout", slowloris, show=True)


def half_sent():
    """300 connections, each with a request line and one header and no end, from three
    loopback addresses (100 each, under the per-address cap)."""
    held = []
    try:
        for i in range(300):
            s = connect(src=f"127.0.0.{2 + i // 100}", timeout=5)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        t_open = time.monotonic()
        # /health from 127.0.0.1 while they are held.
        answers = []
        for _ in range(5):
            t = time.monotonic()
            st, _, _ = get("/health", timeout=2)
            answers.append((st, round(time.monotonic() - t, 3)))
            time.sleep(0.1)
        healthy = all(st == 200 and took < 1 for st, took in answers)
        # Every one must be closed by the server once the header timeout passes.
        open_ = set(range(len(held)))
        deadline = t_open + HT + 5
        while open_ and time.monotonic() < deadline:
            r, _, _ = select.select([held[i] for i in open_], [], [], 0.5)
            for s in r:
                i = held.index(s)
                try:
                    data = s.recv(4096)
                except ConnectionResetError:
                    data = b""
                if not data or data.startswith(b"HTTP/1.1 408"):
                    open_.discard(i)
        took = time.monotonic() - t_open
        return (healthy and not open_,
                f"/health while held {answers}; {300 - len(open_)} of 300 closed within {took:.1f} s")
    finally:
        for s in held:
            s.close()


attempt(f"300 half-sent requests held: /health answers, all closed by the {HT:g} s header timeout", half_sent, show=True)


def per_client_cap():
    cap = args.max_connections_per_client
    held = []
    try:
        for _ in range(cap):
            held.append(connect(src="127.0.0.5", timeout=5))
        time.sleep(0.3)
        st, h, body, took = raw(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5, src="127.0.0.5")
        ok, detail = json_error(st, h, body, 429, "too_many_requests")
        st2, _, _ = get("/health", timeout=2)
        return ok and "retry-after" in h and st2 == 200, f"connection {cap + 1}: {detail}; 127.0.0.1 meanwhile {st2}"
    finally:
        for s in held:
            s.close()


if args.max_connections_per_client > 0:
    attempt(f"connection {args.max_connections_per_client + 1} from one address: 429 JSON, others still served",
            per_client_cap)
else:
    skip("connections past the per-address cap", "--max-connections-per-client 0")

# --- Floods of the public endpoints --------------------------------------------------------------

rng = random.Random(20261201)
KOLKATA = (88.25, 22.45, 88.45, 22.65)


def rand_point():
    return (round(rng.uniform(KOLKATA[0], KOLKATA[2]), 6), round(rng.uniform(KOLKATA[1], KOLKATA[3]), 6))


def tile_paths(n):
    out = []
    for _ in range(n):
        z = rng.randint(12, 16)
        lon, lat = rand_point()
        x, y = tile_of(lon, lat, z)
        out.append(f"/tiles/heritage,water_bodies,parks,wards/{z}/{x}/{y}.mvt")
    return out


SEARCHES = ["Victoria", "victoria memorial", "ভিক্টোরিয়া", "মহাকরণ", "Sarobar", "সরোবর", "Lal Dighi",
            "park", "পার্ক", "Marble", "St. Paul", "HER-0001", "canal", "খাল", "maidan", "ময়দান"]
FILTERS = [
    ("heritage", "grade = 'I'"),
    ("heritage", "condition IN ('poor','critical') OR ward BETWEEN 40 AND 90"),
    ("heritage", "S_DWITHIN(geometry, POINT(88.3426 22.5448), 1500, meters)"),
    ("water_bodies", "kind = 'pond' OR kind = 'lake'"),
    ("water_bodies", "S_INTERSECTS(geometry, BBOX(88.30, 22.50, 88.40, 22.60))"),
    ("parks", "name LIKE '%Park%'"),
    ("wards", "ward < 40 AND NOT (borough = 'I')"),
    ("complaints", "status = 'submitted'"),
]


def flood_paths(kind, n):
    if kind == "health":
        return ["/health"] * n
    if kind == "nearby":
        return [f"/nearby?lon={p[0]}&lat={p[1]}&radius_m={rng.choice([250, 500, 1000, 2000])}&limit=10"
                for p in (rand_point() for _ in range(n))]
    if kind == "at":
        return [f"/at?lon={p[0]}&lat={p[1]}" for p in (rand_point() for _ in range(n))]
    if kind == "search":
        return ["/search?" + urllib.parse.urlencode({"q": rng.choice(SEARCHES)}) for _ in range(n)]
    if kind == "tiles":
        return tile_paths(n)
    if kind == "items":
        return [f"/collections/{c}/items?" + urllib.parse.urlencode({"filter": f, "limit": 50})
                for c, f in (rng.choice(FILTERS) for _ in range(n))]
    if kind == "complaint":
        return [f"/complaints/{TICKET}"] * n
    if kind == "open311":
        return [rng.choice(["/open311/v2/requests.json", f"/open311/v2/requests/{TICKET}.json",
                            "/open311/v2/services.json"]) for _ in range(n)]
    if kind == "metadata":
        return [rng.choice(["/collections", "/tiles/heritage.json", "/styles/heritage.json",
                            "/collections/heritage", "/conformance"]) for _ in range(n)]
    raise ValueError(kind)


def flood(kind, n, conc, ok_statuses=(200,)):
    paths = flood_paths(kind, n)
    lock = threading.Lock()
    counts = {}
    errors = []
    lat = []
    idx = iter(range(n))

    def worker():
        c = http.client.HTTPConnection(HOST, PORT, timeout=15)
        try:
            while True:
                with lock:
                    i = next(idx, None)
                if i is None:
                    return
                t = time.monotonic()
                try:
                    c.request("GET", paths[i])
                    r = c.getresponse()
                    r.read()
                    st = r.status
                    if r.getheader("connection", "").lower() == "close":
                        c.close()
                except Exception as e:  # noqa: BLE001 - counted: a dropped connection fails the flood
                    c.close()
                    c = http.client.HTTPConnection(HOST, PORT, timeout=15)
                    with lock:
                        errors.append(f"{paths[i]}: {type(e).__name__}: {e}")
                    continue
                took = time.monotonic() - t
                with lock:
                    counts[st] = counts.get(st, 0) + 1
                    lat.append(took)
                    if st not in ok_statuses and len(errors) < 1000:
                        errors.append(f"{paths[i]}: status {st}")
        finally:
            c.close()

    t = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(conc)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    took = time.monotonic() - t
    lat.sort()
    p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: float("nan"))
    ok = not errors and sum(counts.values()) == n
    return ok, (f"{n} in {took:.1f} s ({n / took:.0f}/s), p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
                f"statuses {counts}, {len(errors)} bad: {errors[:3]}")


phase("floods")
FLOODS = [("health", "/health", (200,)),
          ("nearby", "/nearby", (200,)),
          ("at", "/at", (200,)),
          ("search", "/search (English and Bengali)", (200,)),
          ("tiles", "/tiles/.../{z12-16}/{x}/{y}.mvt", (200, 204)),
          ("items", "/collections/*/items with CQL2 filters", (200,)),
          ("complaint", "/complaints/{ticket}", (200,)),
          ("open311", "/open311/v2/requests.json, requests/{id}.json, services.json", (200,)),
          ("metadata", "/collections, TileJSON, style, conformance", (200,))]
for kind, label, oks in FLOODS:
    phase(f"flood {kind}")
    try:
        ok, detail = flood(kind, args.flood, args.concurrency, oks)
    except Exception as e:  # noqa: BLE001 - any surprise is a failed check
        ok, detail = False, f"{type(e).__name__}: {e}"
    # The figures go on the ok line too.
    check(f"flood {label}: {args.flood} at {args.concurrency} connections, no 5xx or dropped connection"
          + (f" — {detail.split(', statuses')[0]}" if ok else ""), ok, detail)

# --- The end: still healthy, audit chain intact, memory within bounds ----------------------------

phase("end")


def audit_ok():
    st, _, body = get("/audit/verify")
    v = json.loads(body)
    return st == 200 and v.get("ok") is True and v.get("broken_at") is None, f"status {st}, {short(body)}"


attempt("GET /audit/verify: ok, nothing broken", audit_ok)
time.sleep(0.6)
monitor.stop.set()
monitor.join(timeout=5)


def health_throughout():
    f = monitor.failures
    return (not f and monitor.polls > 10,
            f"{monitor.polls} polls, slowest {monitor.slowest:.2f} s, {len(f)} failed: "
            + "; ".join(f"{t:.1f}s [{p}] {d}" for t, p, d in f[:5]))


check(f"/health answered 200 within 2 s at every poll ({monitor.polls} polls, slowest {monitor.slowest * 1000:.0f} ms)",
      *health_throughout())
_, hwm = rss_kib()
peak = max(monitor.peak_rss, hwm)
phases = ", ".join(f"{p} {mib(r)}" for p, r in sorted(monitor.peak_by_phase.items(), key=lambda kv: -kv[1])[:4])
check(f"server RSS: start {mib(BASELINE_RSS)}, peak {mib(peak)} (VmHWM {mib(hwm)}), bound {args.rss_limit_mb} MiB",
      peak <= args.rss_limit_mb * 1024, f"peak {mib(peak)} > {args.rss_limit_mb} MiB; by phase: {phases}")
print(f"info peak RSS polled by phase: {phases}; ran {time.monotonic() - T0:.0f} s")
checks.exit()
