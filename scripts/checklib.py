"""The harness the Python checkers in scripts/ share: the check counter with its
`ok   NAME` / `FAIL NAME: DETAIL` lines and closing summary, HTTP through urllib (as an
ordinary client asks) or through one raw http.client connection (exactly what is given),
and the few sums more than one checker needs (tile of a point, a process's memory).

The checkers import it as `import checklib`: Python puts a script's own directory first
on sys.path, so that works from the repository root (`python3 scripts/ogc_check.py URL`)
and from scripts/*.sh alike. Standard library only, as soak_client.py promises.
"""
import http.client
import json
import math
import os
import re
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request


class Checks:
    """Counts checks and prints one line for each, flushed and under a lock, so that
    lines from threads stay whole and keep their place among a subprocess's output."""

    def __init__(self, fail_sep=": "):
        # tiles_check.py has always printed `FAIL NAME DETAIL`, without the colon.
        self.fail_sep = fail_sep
        self.passed = self.failed = 0
        self._lock = threading.Lock()

    def check(self, name, ok, detail=""):
        with self._lock:
            if ok:
                self.passed += 1
                print(f"ok   {name}", flush=True)
            else:
                self.failed += 1
                print(f"FAIL {name}{self.fail_sep}{detail}", flush=True)
        return ok

    def attempt(self, name, fn, show=False):
        """Runs one check whose body may raise (a refused connection, bad JSON or XML, a
        tool that is missing): `fn` returns (ok, detail); an exception is that check's
        failure, not the script's. With `show`, the detail (figures) goes on the ok line
        too."""
        try:
            ok, detail = fn()
        except Exception as e:  # noqa: BLE001 - any surprise is a failed check
            ok, detail = False, f"{type(e).__name__}: {e}"
        return self.check(f"{name} — {detail}" if ok and show else name, ok, detail)

    def guard(self, name, fn):
        """Runs `fn`, which makes its own checks; an exception from it (a client library
        giving up) is one failed check under `name`, and the suite goes on."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - any surprise is a failed check
            self.check(name, False, f"{type(e).__name__}: {e}")

    def skip(self, name, why):
        """A check that cannot run here: printed, counted neither way."""
        with self._lock:
            print(f"skip {name}: {why}", flush=True)

    def summary(self, checks_passed=False):
        """The closing line: `N passed, M failed`, which smoke.sh and soak.sh read; or,
        with `checks_passed` (ogc_check.py, complaints_check.py), `N checks passed` and
        `, M FAILED` after it when any failed."""
        if not checks_passed:
            return f"{self.passed} passed, {self.failed} failed"
        return f"{self.passed} checks passed" + (f", {self.failed} FAILED" if self.failed else "")

    def exit(self, checks_passed=False):
        """Prints the closing line and exits, non-zero if any check failed."""
        print(self.summary(checks_passed), flush=True)
        sys.exit(1 if self.failed else 0)


class Web:
    """HTTP through urllib against one server, as an ordinary client asks (redirects
    followed). Every method answers (status, headers, body bytes): a 4xx or 5xx is
    returned, not raised, since so many checks are about one."""

    def __init__(self, base, timeout=60):
        self.base = base.rstrip("/")
        self.timeout = timeout

    def request(self, method, path, body=None, headers=None, timeout=None):
        """`path` from the server's root, or a whole URL (a `next` link, Open311's base)."""
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def get(self, path, headers=None, timeout=None):
        return self.request("GET", path, headers=headers, timeout=timeout)

    def post_json(self, path, obj, headers=None):
        return self.request("POST", path, json.dumps(obj).encode(),
                            {"Content-Type": "application/json", **(headers or {})})

    def post_form(self, path, pairs):
        return self.request("POST", path, urllib.parse.urlencode(pairs).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def getjson(self, path, headers=None):
        """The JSON of a 200 answer; anything else raises, saying what came instead."""
        status, _, body = self.get(path, headers)
        if status != 200:
            raise ValueError(f"GET {path}: {status} {short(body)}")
        return json.loads(body)


def raw_request(host, port, method, path, body=None, headers=None, timeout=30):
    """One request on a fresh http.client connection, sent as given (no redirects, the
    caller's Host if it names one): (status, headers with lower-case names, body)."""
    c = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def staff_options(ap, officer="officer1"):
    """--officer, --password and --api-key on an argparse parser. The password and the
    key default to $ATLAS_OFFICER_PASSWORD and $ATLAS_API_KEY so that they need not appear
    on a command line (nor in `ps`); the officer's name to $ATLAS_OFFICER, else `officer`."""
    ap.add_argument("--officer", default=os.environ.get("ATLAS_OFFICER", officer))
    ap.add_argument("--password", default=os.environ.get("ATLAS_OFFICER_PASSWORD", ""))
    ap.add_argument("--api-key", default=os.environ.get("ATLAS_API_KEY", ""))


def short(b, n=300):
    """The start of a body, as text, for a FAIL line."""
    return (b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b))[:n]


def tile_of(lon, lat, z):
    """(x, y) of the standard slippy-map tile holding (lon, lat) at zoom z."""
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def rss_kib(pid):
    """(VmRSS, VmHWM) of process `pid` in KiB, from /proc/PID/status."""
    with open(f"/proc/{pid}/status") as f:
        text = f.read()
    return (int(re.search(r"^VmRSS:\s+(\d+)", text, re.M).group(1)),
            int(re.search(r"^VmHWM:\s+(\d+)", text, re.M).group(1)))
