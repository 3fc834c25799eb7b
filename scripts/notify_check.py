#!/usr/bin/env python3
"""Reporters kept informed, as real mail and webhook clients see it; areas followed by a
real feed reader.

    python3 scripts/notify_check.py BIN [--work DIR] [--bench N [--workers W]]

Starts, in this process, a real SMTP server (aiosmtpd) that demands STARTTLS and AUTH,
with a certificate from a test CA made by openssl, and a webhook receiver (http.server)
that checks each request's Standard Webhooks signature (HMAC-SHA256) with Python's own
hmac. Then serves a fresh register with `--smtp-url … --smtp-ca … --notify-webhook …`
and, as an officer, walks complaints through every step a reporter is told of:

- one email per step (acknowledge, assign, start, resolve with its note, reject with its
  reason, duplicate), in the language the reporter filed in (Bengali subject and body
  for a Bengali filing), with the ticket link and the stop-messages link, and
  List-Unsubscribe headers; no email for an internal note; a phone-only reporter gets the
  webhook alone; every webhook's signature verifies;
- the stop-messages link: the page asks, POST stops, nothing more is sent;
- a webhook answered 503 is tried again and delivered once, with the same webhook-id;
- SIGKILL between send and mark: the SMTP server kills our server after it received the
  message and before it answers the final dot; restarted, the server does not send it
  again (the outbox says `uncertain`); killed earlier (at RCPT, before the point of no
  return), the restarted server sends it, once;
- `/complaints.atom?ward=` and `?lon=&lat=&radius_m=` parsed by feedparser: well formed,
  the entries and links expected, GeoRSS points where the complaints are.

With `--bench N`: N complaints acknowledged by N concurrent requests, and the time until
the SMTP server and the webhook receiver have every message: notifications per second.
"""
import argparse
import base64
import concurrent.futures
import email
import email.header
import email.policy
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import warnings

from checklib import Checks, Web, short

try:
    import asyncio

    import feedparser
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError as e:  # pragma: no cover - install-deps.sh installs them
    print(f"FAIL imports: {e} (run scripts/install-deps.sh)")
    sys.exit(1)

VM = (88.3426, 22.5448)  # beside Victoria Memorial, ward 79
SMTP_USER, SMTP_PASSWORD = "atlas", "s3cret-relay"
SECRET_BYTES = b"heritage-atlas-test-webhook-key!"
SECRET = "whsec_" + base64.b64encode(SECRET_BYTES).decode()
PASSWORD = "check-officer-password"

checks = Checks()
# aiosmtpd warns about its own API as our authenticator is called.
warnings.filterwarnings("ignore", message="Session.login_data")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- The SMTP server -----------------------------------------------------------------------

class Mailbox:
    """What the SMTP server received, and when to kill our server (a test's fault)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []  # email.message.EmailMessage, with .tls
        self.kill_at = None  # "rcpt" or "data": SIGKILL the server there, once
        self.server_pid = None
        self.killed = threading.Event()

    def maybe_kill(self, stage):
        with self.lock:
            if self.kill_at != stage or self.server_pid is None:
                return False
            self.kill_at = None
            pid = self.server_pid
        os.kill(pid, signal.SIGKILL)
        self.killed.set()
        return True

    def of(self, ticket):
        with self.lock:
            return [m for m in self.messages if ticket in m["Subject"]]


class Handler:
    def __init__(self, box):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.box.maybe_kill("rcpt"):
            return "451 4.3.0 the server went away"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        msg.tls = bool(server.transport.get_extra_info("ssl_object"))
        with self.box.lock:
            self.box.messages.append(msg)
        # Received, and the server killed before it hears "250": between send and mark.
        self.box.maybe_kill("data")
        return "250 OK queued"


def make_certs(d):
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for args in (
        ["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=notify_check CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign"],
        ["req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", "/CN=localhost"],
        ["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "leaf.ext"],
    ):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    return os.path.join(d, "ca.pem"), os.path.join(d, "leaf.pem"), os.path.join(d, "leaf.key")


def start_smtp(box, cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    def auth(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword) and data.login == SMTP_USER.encode()
              and data.password == SMTP_PASSWORD.encode())
        return AuthResult(success=ok, auth_data=data)

    class Ctl(Controller):
        def factory(self):
            return SMTP(self.handler, hostname="sink.test", tls_context=ctx,
                        require_starttls=True, authenticator=auth, auth_required=True,
                        auth_require_tls=True)

    port = free_port()
    ctl = Ctl(Handler(box), hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl, port


# --- The webhook receiver --------------------------------------------------------------------

class Hooks:
    def __init__(self):
        self.lock = threading.Lock()
        self.received = []  # (webhook-id, signature ok, body json)
        self.fail_next = 0  # answer this many requests 503

    def of(self, ticket):
        with self.lock:
            return [r for r in self.received if r[2].get("data", {}).get("ticket") == ticket]


def start_hooks(hooks):
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_POST(self):
            n = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(n)
            wid = self.headers.get("webhook-id", "")
            ts = self.headers.get("webhook-timestamp", "")
            sigs = self.headers.get("webhook-signature", "")
            want = base64.b64encode(hmac.new(SECRET_BYTES, f"{wid}.{ts}.".encode() + body,
                                             hashlib.sha256).digest()).decode()
            ok = any(s.split(",", 1) == ["v1", want] for s in sigs.split())
            ok = ok and abs(time.time() - int(ts or 0)) < 300
            with hooks.lock:
                if hooks.fail_next > 0:
                    hooks.fail_next -= 1
                    hooks.received.append((wid, ok, {"refused": True, **json.loads(body)}))
                    self.send_response(503)
                    self.end_headers()
                    return
                hooks.received.append((wid, ok, json.loads(body)))
            self.send_response(204)
            self.end_headers()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, srv.server_address[1]


# --- Our server --------------------------------------------------------------------------------

class Server:
    def __init__(self, binary, work, smtp_port, hook_port, ca, box, extra=()):
        self.binary, self.work, self.box = binary, work, box
        self.db = os.path.join(work, "notify.db")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.args = [
            "--bind", f"127.0.0.1:{self.port}", "--public-url", self.base,
            "--smtp-url", f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@localhost:{smtp_port}",
            "--smtp-from", "KMC Environment & Heritage <noreply@kmc.example>",
            "--smtp-ca", ca,
            "--notify-webhook", f"http://127.0.0.1:{hook_port}/hook",
            "--notify-webhook-secret", SECRET,
            "--notify-retry-s", "1",
            "--complaints-per-minute", "0",
            *extra,
        ]
        p = subprocess.run([binary, "--db", self.db, "user", "add", "officer1", "--role", "officer"],
                           input=PASSWORD + "\n", text=True, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError(f"user add: {p.stderr}")
        self.proc = None
        self.start()

    def start(self):
        log = open(os.path.join(self.work, "server.log"), "ab")
        self.proc = subprocess.Popen([self.binary, "--db", self.db, "serve", *self.args],
                                     stdout=log, stderr=log)
        self.box.server_pid = self.proc.pid
        web = Web(self.base, timeout=5)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}); see server.log")
            try:
                if web.get("/health")[0] == 200:
                    self.web = Web(self.base, timeout=30)
                    self.token = None
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the server did not answer in 120 s")

    def staff(self):
        if self.token is None:
            s, _, b = self.web.post_json("/auth/login", {"name": "officer1", "password": PASSWORD})
            if s != 200:
                raise RuntimeError(f"login: {s} {short(b)}")
            self.token = json.loads(b)["token"]
        return {"Authorization": f"Bearer {self.token}"}

    def file(self, description, lang="en", email_addr=None, phone=None, lon=VM[0], lat=VM[1]):
        body = {"lon": lon, "lat": lat, "category": "park_maintenance",
                "description": description, "language": lang}
        if email_addr:
            body["email"] = email_addr
            body["name"] = "Ananya Sen"
        if phone:
            body["phone"] = phone
        s, _, b = self.web.post_json("/complaints", body)
        if s != 201:
            raise RuntimeError(f"filing: {s} {short(b)}")
        return json.loads(b)["ticket"]

    def act(self, ticket, **body):
        s, _, b = self.web.request("PATCH", f"/complaints/{ticket}", json.dumps(body).encode(),
                                   {"Content-Type": "application/json", **self.staff()})
        if s != 200:
            raise RuntimeError(f"{body}: {s} {short(b)}")
        return json.loads(b)

    def outbox(self, ticket):
        s, _, b = self.web.get(f"/notifications?ticket={ticket}", self.staff())
        if s != 200:
            raise RuntimeError(f"outbox: {s} {short(b)}")
        return json.loads(b)["notifications"]

    def kill_wait(self):
        self.proc.wait(30)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def wait_for(fn, timeout=20, step=0.1):
    deadline = time.time() + timeout
    while True:
        v = fn()
        if v or time.time() > deadline:
            return v
        time.sleep(step)


def has_bengali(s):
    return bool(re.search("[\u0980-\u09ff]", s))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--work")
    ap.add_argument("--bench", type=int, default=0)
    ap.add_argument("--workers", type=int, help="serve --notify-workers (default: the server's)")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="notify-check-")
    os.makedirs(work, exist_ok=True)
    ca, cert, key = make_certs(work)
    box, hooks = Mailbox(), Hooks()
    smtp, smtp_port = start_smtp(box, cert, key)
    hook_srv, hook_port = start_hooks(hooks)
    extra = ["--notify-workers", str(a.workers)] if a.workers else []
    srv = Server(os.path.abspath(a.binary), work, smtp_port, hook_port, ca, box, extra)
    try:
        if a.bench:
            bench(srv, box, hooks, a.bench)
        else:
            run_checks(srv, box, hooks)
    finally:
        srv.stop()
        smtp.stop()
        hook_srv.shutdown()
        if not a.work:
            shutil.rmtree(work, ignore_errors=True)
    checks.exit()


def run_checks(srv, box, hooks):
    base = srv.base
    bn = srv.file("দোলনা ভাঙা, আলো নেই", lang="bn", email_addr="ananya@example.org")
    en = srv.file("Swings broken, no lights", lang="en", email_addr="ravi@example.org")
    phone_only = srv.file("Gate left open", lang="en", phone="+91 98300 11111")

    # --- A Bengali reporter, acknowledged: an email in Bengali and a signed webhook.
    srv.act(bn, action="acknowledge")

    def bn_email():
        ms = wait_for(lambda: box.of(bn))
        if len(ms) != 1:
            return False, f"{len(ms)} emails"
        m = ms[0]
        text = m.get_content()
        ok = (has_bengali(m["Subject"]) and has_bengali(text) and m["Content-Language"] == "bn"
              and f"{base}/#track/{bn}" in text and f"{base}/complaints/{bn}/optout?t=" in text
              and m.tls and m["List-Unsubscribe"].startswith(f"<{base}/complaints/{bn}/optout")
              and m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
              and m["To"].addresses[0].addr_spec == "ananya@example.org")
        return ok, f"subject {m['Subject']!r}, tls {m.tls}, headers {dict(m.items())}"
    checks.attempt("acknowledged: one email in Bengali over STARTTLS+AUTH, ticket and stop links", bn_email)

    def bn_hook():
        rs = wait_for(lambda: hooks.of(bn))
        if len(rs) != 1:
            return False, f"{len(rs)} webhooks"
        wid, ok, body = rs[0]
        d = body["data"]
        good = (ok and body["type"] == "complaint.updated" and d["action"] == "acknowledge"
                and d["status"] == "acknowledged" and d["language"] == "bn"
                and has_bengali(d["message"]["text"]) and d["reporter"]["email"] == "ananya@example.org"
                and wid.startswith("ntf_"))
        return good, f"signature ok {ok}, body {short(json.dumps(body, ensure_ascii=False).encode())}"
    checks.attempt("acknowledged: one webhook, its HMAC-SHA256 signature verified by Python's hmac", bn_hook)

    # --- An English reporter, through every step.
    steps = [dict(action="assign", assignee="officer1"), dict(action="note", note="internal only", public=False),
             dict(action="start"), dict(action="resolve", note="New swings fitted and lamps replaced")]
    for st in steps:
        srv.act(en, **st)

    def en_emails():
        ms = wait_for(lambda: len(box.of(en)) >= 3 and box.of(en))
        time.sleep(1.5)  # room for a wrong fourth (the internal note) to arrive
        ms = box.of(en)
        subjects = [m["Subject"] for m in ms]
        texts = [m.get_content() for m in ms]
        ids = {m["Message-ID"] for m in ms}
        ok = (len(ms) == 3 and len(ids) == 3 and not any(has_bengali(s) for s in subjects)
              and "New swings fitted" in texts[-1] and "internal only" not in "".join(texts)
              and "officer1" not in "".join(texts))
        return ok, f"{len(ms)} emails: {subjects}"
    checks.attempt("assigned, started, resolved: three English emails (the note in the last; none for an internal note; no staff name)", en_emails)

    rej = srv.file("Bench missing", email_addr="ravi@example.org")
    srv.act(rej, action="reject", note="The bench was removed for the new footpath")
    dup = srv.file("Swings broken again", email_addr="mita@example.org")
    srv.act(dup, action="duplicate", duplicate_of=en)

    def reject_dup():
        r = wait_for(lambda: box.of(rej))
        d = wait_for(lambda: box.of(dup))
        ok = (len(r) == 1 and "new footpath" in r[0].get_content() and len(d) == 1
              and en in d[0].get_content())
        return ok, f"reject {[m['Subject'] for m in r]}, duplicate {[m['Subject'] for m in d]}"
    checks.attempt("rejected (with the reason) and duplicate (naming the original): one email each", reject_dup)

    srv.act(phone_only, action="acknowledge")

    def phone():
        rs = wait_for(lambda: hooks.of(phone_only))
        time.sleep(1)
        ok = len(rs) == 1 and rs[0][1] and rs[0][2]["data"]["reporter"]["phone"] == "+91 98300 11111" \
            and not box.of(phone_only)
        return ok, f"{len(rs)} webhooks, {len(box.of(phone_only))} emails"
    checks.attempt("a phone-only reporter: the webhook (for the SMS gateway), no email", phone)

    def all_signed_once():
        with hooks.lock:
            rs = [r for r in hooks.received if "refused" not in r[2]]
        ids = [r[0] for r in rs]
        ok = all(r[1] for r in rs) and len(ids) == len(set(ids)) and len(rs) >= 6
        return ok, f"{len(rs)} webhooks, {len(set(ids))} distinct ids, all signed: {all(r[1] for r in rs)}"
    checks.attempt("every webhook signed, none delivered twice", all_signed_once)

    # --- Stop messages.
    def optout():
        link = re.search(rf"{re.escape(base)}/complaints/{bn}/optout\?t=[0-9a-f]+", box.of(bn)[0].get_content())
        url = link.group(0)
        s1, _, page = srv.web.get(url)
        s2, _, _ = srv.web.post_form(url, [("List-Unsubscribe", "One-Click")])
        before = (len(box.of(bn)), len(hooks.of(bn)))
        srv.act(bn, action="start")
        time.sleep(2.5)
        after = (len(box.of(bn)), len(hooks.of(bn)))
        ok = s1 == 200 and b"<form method=\"post\"" in page and s2 == 200 and before == after
        return ok, f"page {s1}, post {s2}, messages before {before} after {after}"
    checks.attempt("the stop-messages link: a page that asks, a one-click POST, then no more messages", optout)

    # --- A webhook refused once is tried again, and delivered once.
    def retried():
        t = srv.file("Railings rusted", phone="+91 98300 22222")
        with hooks.lock:
            hooks.fail_next = 1
        srv.act(t, action="acknowledge")
        rs = wait_for(lambda: [r for r in hooks.of(t) if "refused" not in r[2]], timeout=30)
        all_rs = hooks.of(t)
        row = [n for n in srv.outbox(t) if n["channel"] == "webhook"]
        ok = (len(rs) == 1 and len(all_rs) == 2 and all_rs[0][0] == all_rs[1][0]
              and row and row[0]["state"] == "sent" and row[0]["attempts"] == 2)
        return ok, f"{len(all_rs)} requests ({len(rs)} accepted), outbox {row}"
    checks.attempt("a webhook answered 503 is sent again after the backoff, with the same webhook-id, once", retried)

    # --- SIGKILL between send and mark, and before the point of no return.
    def killed_at(stage, description, address, want_state):
        """Files a complaint, has the SMTP server SIGKILL our server at `stage` of its
        acknowledgement email, restarts it, and checks the email arrived once and how
        the outbox ended."""
        def run():
            t = srv.file(description, email_addr=address)
            box.kill_at = stage
            srv.act(t, action="acknowledge")
            if not box.killed.wait(20):
                return False, "the server was not killed"
            box.killed.clear()
            srv.kill_wait()
            srv.start()
            # Room for the restarted workers to send it (or, wrongly, send it again).
            wait_for(lambda: box.of(t), timeout=20)
            time.sleep(2)
            ms = box.of(t)
            row = [n for n in srv.outbox(t) if n["channel"] == "email"]
            ok = len(ms) == 1 and row and row[0]["state"] == want_state
            return ok, f"{len(ms)} emails after the restart, outbox {row}"
        return run

    checks.attempt("SIGKILL after the SMTP server took the message, before it was marked: not sent twice (uncertain)",
                   killed_at("data", "Lamp post leaning", "kill@example.org", "uncertain"))
    checks.attempt("SIGKILL before the point of no return (at RCPT): sent after the restart, once",
                   killed_at("rcpt", "Pond railing broken", "early@example.org", "sent"))

    def staff_retry():
        rows = json.loads(srv.web.get("/notifications?state=uncertain", srv.staff())[2])["notifications"]
        # The email killed between send and mark (a webhook in flight then is uncertain too).
        rows = [r for r in rows if r["channel"] == "email"]
        if not rows:
            return False, "no uncertain message"
        s, _, b = srv.web.request("POST", f"/notifications/{rows[0]['id']}/retry", b"", srv.staff())
        t = rows[0]["ticket"]
        ms = wait_for(lambda: len(box.of(t)) == 2 and box.of(t), timeout=40)
        ok = s == 200 and ms and ms[0]["Message-ID"] == ms[1]["Message-ID"]
        return ok, (f"retry {s}, {len(box.of(t))} copies, Message-IDs {[m['Message-ID'] for m in box.of(t)]}, "
                    f"outbox {[n for n in srv.outbox(t) if n['channel'] == 'email']}")
    checks.attempt("staff resend an uncertain message: the same Message-ID (a mail store can drop the copy)", staff_retry)

    # --- The area feed, read by feedparser.
    far = srv.file("Across the city", lon=88.3700, lat=22.5800)

    def feed_ward():
        s, h, body = srv.web.get("/complaints.atom?ward=79")
        d = feedparser.parse(body)
        tickets = {e.link.rsplit("/", 1)[-1] for e in d.entries}
        ok = (s == 200 and h["Content-Type"].startswith("application/atom+xml") and not d.bozo
              and d.version == "atom10" and {bn, en, phone_only} <= tickets and far not in tickets
              and all(e.get("where") or e.get("georss_point") for e in d.entries))
        return ok, f"status {s}, bozo {d.bozo} {d.get('bozo_exception')}, version {d.get('version')}, {len(d.entries)} entries, far in: {far in tickets}"
    checks.attempt("/complaints.atom?ward=79 parsed by feedparser: Atom 1.0, the ward's complaints, GeoRSS points", feed_ward)

    def feed_circle():
        s, _, body = srv.web.get(f"/complaints.atom?lon={VM[0]}&lat={VM[1]}&radius_m=300")
        d = feedparser.parse(body)
        tickets = {e.link.rsplit("/", 1)[-1] for e in d.entries}
        titles = [e.title for e in d.entries if e.link.endswith(en)]
        ok = (s == 200 and not d.bozo and en in tickets and far not in tickets
              and any("resolved" in t for t in titles) and any("filed" in t for t in titles)
              and d.feed.links[0]["rel"] == "self")
        return ok, f"{len(d.entries)} entries, titles of {en}: {titles}"
    checks.attempt("/complaints.atom?lon=&lat=&radius_m=300: the steps of complaints in the circle, none outside", feed_circle)


def bench(srv, box, hooks, n):
    tickets = [srv.file(f"Bench complaint {i}", email_addr=f"r{i}@example.org") for i in range(n)]
    srv.staff()
    t0 = time.time()
    with concurrent.futures.ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda t: srv.act(t, action="acknowledge"), tickets))
    t_changes = time.time() - t0
    want = set(tickets)

    def done():
        with box.lock:
            mails = {t for m in box.messages for t in re.findall(r"EH-\d{4}-\d{6}", m["Subject"])}
        with hooks.lock:
            hk = {r[2]["data"]["ticket"] for r in hooks.received}
        return want <= mails and want <= hk
    ok = wait_for(done, timeout=600, step=0.05)
    t_all = time.time() - t0
    total = 2 * n
    checks.check(f"bench: {n} concurrent status changes in {t_changes:.2f} s; all {total} messages "
                 f"(email + webhook) delivered {t_all:.2f} s after the first change: "
                 f"{total / t_all:.0f} notifications/s", bool(ok), "not all delivered")


if __name__ == "__main__":
    main()
