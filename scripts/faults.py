#!/usr/bin/env python3
"""Faults a real machine has, against the release binary: the photo disk filling up while
a complaint's photos are written, the database's disk going read-only and filling up,
SIGKILL in the middle of an import and of a backup. Each must give a clear error (503 with
our JSON for a request, a non-zero exit for the CLI), leave nothing half-written, and —
where the fault clears — let the server serve on without a restart.

Small tmpfs mounts stand in for the disks, so this needs root (CI runs as root).
Usage: python3 scripts/faults.py target/release/heritage-atlas
"""
import hashlib
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import uuid
import zlib

import checklib

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "target/release/heritage-atlas")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = tempfile.mkdtemp(prefix="faults-")
PORT = int(os.environ.get("FAULTS_PORT", "18170"))
URL = f"http://127.0.0.1:{PORT}"
VM = (88.3426, 22.5448)  # beside Victoria Memorial, inside the KMC wards
web = checklib.Web(URL, timeout=30)
request, post_json = web.request, web.post_json
checks = checklib.Checks()
check = checks.check
mounts = []
servers = []
rng = random.Random(20261201)


def sh(*args):
    subprocess.run(args, check=True)


def tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    sh("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path)
    mounts.append(path)


def remount(path, opts):
    sh("mount", "-o", f"remount,{opts}", path)


def png(n_bytes):
    """A PNG whose IDAT holds random bytes: its chunks parse (that is all intake checks;
    images are never decoded) and every one has its own SHA-256."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    data = rng.randbytes(n_bytes)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def multipart(fields, files):
    boundary = uuid.uuid4().hex
    out = b""
    for k, v in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
    for name, (fname, data) in files:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{fname}"\r\n'
                f"Content-Type: image/png\r\n\r\n").encode() + data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def complaint_with_photos(n_photos, size):
    body, ct = multipart(
        {"lon": VM[0], "lat": VM[1], "category": "park_maintenance", "description": "Broken bench"},
        [("photo", (f"p{i}.png", png(size))) for i in range(n_photos)])
    return request("POST", "/complaints", body, {"Content-Type": ct})


def plain_complaint(pad=0):
    return post_json("/complaints", {"lon": VM[0], "lat": VM[1], "category": "park_maintenance",
                                     "description": "Broken bench " + "x" * pad})


def is_unavailable(status, headers, body):
    try:
        code = json.loads(body).get("code")
    except ValueError:
        code = None
    return status == 503 and code == "unavailable" and "retry-after" in {k.lower() for k in headers}


class Server:
    def __init__(self, db, photos, *extra):
        self.log = open(os.path.join(WORK, f"server-{os.path.basename(db)}.log"), "ab")
        self.p = subprocess.Popen(
            [BIN, "--db", db, "serve", "--bind", f"127.0.0.1:{PORT}", "--photos-dir", photos,
             "--complaints-per-minute", "0", "--upload-mb-per-hour", "0", *extra],
            stdout=self.log, stderr=self.log)
        servers.append(self.p)
        for _ in range(200):
            try:
                if request("GET", "/health", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise SystemExit("server did not start")

    def alive(self):
        return self.p.poll() is None and request("GET", "/health")[0] == 200

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=20)


def cli(*args, **kw):
    return subprocess.run([BIN, *args], capture_output=True, text=True, **kw)


def photos_disk_fills_up():
    fs = os.path.join(WORK, "photos-fs")
    tmpfs(fs, "600k")
    photos = os.path.join(fs, "p")
    srv = Server(os.path.join(WORK, "a.db"), photos)
    statuses, tickets, refused = [], [], None
    for _ in range(12):
        status, headers, body = complaint_with_photos(2, 100_000)
        statuses.append(status)
        if status == 201:
            tickets.append(json.loads(body))
        elif is_unavailable(status, headers, body):
            refused = json.loads(body)
            break
    check("photo disk full: complaints are filed until the disk is full, then 503 with Retry-After",
          tickets and refused is not None and set(statuses[:-1]) == {201}, statuses)
    check("photo disk full: no half-written photo left in tmp/",
          os.listdir(os.path.join(photos, "tmp")) == [], os.listdir(os.path.join(photos, "tmp")))
    whole = True
    for t in tickets:
        for url in t["photos"]:
            s, _, b = request("GET", url)
            whole &= s == 200 and hashlib.sha256(b).hexdigest() == url.rsplit("/", 1)[1]
    check(f"photo disk full: all {sum(len(t['photos']) for t in tickets)} photos of the "
          f"{len(tickets)} filed complaints read back whole", whole)
    s, _, b = request("GET", "/open311/v2/requests.json")
    stored = {r["service_request_id"] for r in json.loads(b)}
    check("photo disk full: the refused complaint was not stored, the filed ones were",
          {t["ticket"] for t in tickets} <= stored and len(stored) == len(tickets), (len(stored), len(tickets)))
    remount(fs, "size=8m")
    status, _, _ = complaint_with_photos(2, 100_000)
    check("photo disk full: once there is room again, complaints with photos are filed (no restart)",
          status == 201 and srv.alive(), status)
    srv.stop()


def database_disk_fills_up_then_goes_read_only():
    fs = os.path.join(WORK, "db-fs")
    tmpfs(fs, "48m")
    db = os.path.join(fs, "b.db")
    srv = Server(db, os.path.join(WORK, "b.photos"))
    status, _, body = plain_complaint()
    ticket = json.loads(body)["ticket"]
    check("database: a complaint is filed", status == 201, status)
    # Fill the disk the database lives on.
    filler = os.path.join(fs, "filler")
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
    statuses = []
    for _ in range(400):
        status, headers, body = plain_complaint(pad=3000)
        statuses.append(status)
        if status != 201:
            check("database disk full: a complaint is a 503 with Retry-After, not a 500",
                  is_unavailable(status, headers, body), (status, body[:200]))
            break
    else:
        check("database disk full: a write is refused", False, "400 complaints fitted in a full disk")
    filed_before = statuses.count(201)
    os.remove(filler)
    status = None
    for _ in range(20):
        status = plain_complaint()[0]
        if status == 201:
            break
        time.sleep(0.25)
    check("database disk has room again: complaints are filed without a restart",
          status == 201 and srv.alive(), status)
    srv.stop()
    # A read-only disk can only be had with no file open for writing (Linux refuses to
    # remount otherwise), so this one is met at start: a clear refusal, not a crash.
    remount(fs, "ro")
    log = os.path.join(WORK, "ro.log")
    with open(log, "wb") as out:
        p = subprocess.run([BIN, "--db", db, "serve", "--bind", f"127.0.0.1:{PORT}"], stdout=out,
                           stderr=out, timeout=30)
    text = open(log, encoding="utf-8", errors="replace").read()
    check("database read-only: serve exits non-zero, saying so",
          p.returncode != 0 and "read" in text.lower() and "only" in text.lower(), (p.returncode, text[-300:]))
    r = cli("--db", db, "import", os.path.join(ROOT, "tests/fixtures/sample_4326.geojson"), "--layer", "heritage")
    check("database read-only: the import CLI exits non-zero with a message",
          r.returncode != 0 and "error" in r.stderr.lower(), (r.returncode, r.stderr[-300:]))
    remount(fs, "rw")
    srv = Server(db, os.path.join(WORK, "b.photos"))
    check("database writable again: serve starts and files complaints", plain_complaint()[0] == 201)
    srv.stop()
    r = cli("--db", db, "audit", "verify")
    check("database: the audit chain holds after the faults", r.returncode == 0, r.stderr[-300:])
    r = cli("--db", db, "backup", os.path.join(WORK, "b-backup"))
    n = json.loads(r.stdout)["complaints"] if r.returncode == 0 else None
    # 1 + those filed before the disk filled + 1 (after room) + 1 (after the restart).
    check("database: every acknowledged complaint is in the database",
          n is not None and n >= 3 + filed_before, (n, filed_before, r.stderr[-300:]))


def count_layer(db, layer):
    r = cli("--db", db, "export", "--layer", layer, "--format", "geojsonseq")
    return r.stdout.count("\n") if r.returncode == 0 else None


def sigkill_during_import():
    city = os.path.join(WORK, "city")
    cli("generate", "--scale", "city", "-o", city)
    src = os.path.join(city, "water_bodies.geojsonl")
    base = os.path.join(WORK, "import-base.db")
    cli("--db", base, "import", os.path.join(city, "parks.geojsonl"), "--layer", "parks")
    full = os.path.join(WORK, "import-full.db")
    shutil.copy(base, full)
    t = time.time()
    r = cli("--db", full, "import", src, "--layer", "water_bodies")
    took = time.time() - t
    n = count_layer(full, "water_bodies")
    check(f"import: {n} water bodies in {took:.1f} s uninterrupted", r.returncode == 0 and n, r.stderr[-200:])
    parks = count_layer(base, "parks")
    outcomes = []
    for i, share in enumerate((0.15, 0.4, 0.7, 0.9)):
        db = os.path.join(WORK, f"import-{i}.db")
        shutil.copy(base, db)
        p = subprocess.Popen([BIN, "--db", db, "import", src, "--layer", "water_bodies"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(took * share)
        p.send_signal(signal.SIGKILL)
        p.wait()
        got = count_layer(db, "water_bodies")
        outcomes.append((p.returncode, got))
        check(f"SIGKILL at {int(share * 100)}% of an import: all of it or none ({got} of {n}), "
              f"the rest untouched",
              got in (0, n) and count_layer(db, "parks") == parks, got)
        r = cli("--db", db, "audit", "verify")
        check(f"SIGKILL at {int(share * 100)}% of an import: the file opens and its audit chain holds",
              r.returncode == 0, r.stderr[-300:])
        r = cli("--db", db, "import", src, "--layer", "water_bodies")
        check(f"SIGKILL at {int(share * 100)}% of an import: importing again completes",
              r.returncode == 0 and count_layer(db, "water_bodies") == n, r.stderr[-200:])
    check("SIGKILL during import: at least one kill landed mid-import",
          any(code == -9 for code, _ in outcomes), outcomes)


def sigkill_during_backup():
    db = os.path.join(WORK, "import-full.db")
    photos = os.path.join(WORK, "bk-photos")
    for i in range(300):
        data = rng.randbytes(60_000)
        h = hashlib.sha256(data).hexdigest()
        os.makedirs(os.path.join(photos, h[:2]), exist_ok=True)
        with open(os.path.join(photos, h[:2], h), "wb") as f:
            f.write(data)
    t = time.time()
    r = cli("--db", db, "backup", os.path.join(WORK, "bk-full"), "--photos-dir", photos)
    took = time.time() - t
    full = json.loads(r.stdout) if r.returncode == 0 else {}
    check(f"backup: {full.get('files')} files in {took:.2f} s uninterrupted", r.returncode == 0, r.stderr[-300:])
    killed_mid = 0
    for i, share in enumerate((0.1, 0.3, 0.5, 0.7, 0.9)):
        dest = os.path.join(WORK, f"bk-{i}")
        p = subprocess.Popen([BIN, "--db", db, "backup", dest, "--photos-dir", photos],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(took * share)
        p.send_signal(signal.SIGKILL)
        p.wait()
        if p.returncode == -9:
            killed_mid += 1
        whole = True
        if os.path.exists(dest):
            whole = (cli("--db", os.path.join(dest, "heritage-atlas.db"), "audit", "verify").returncode == 0
                     and sum(len(fs) for _, _, fs in os.walk(os.path.join(dest, "heritage-atlas.photos")))
                     == full.get("files"))
        check(f"SIGKILL at {int(share * 100)}% of a backup: no backup directory, or a whole one",
              whole, dest)
        if not os.path.exists(dest):
            r = cli("--db", db, "backup", dest, "--photos-dir", photos)
            check(f"SIGKILL at {int(share * 100)}% of a backup: backing up again completes and clears "
                  "the leftover", r.returncode == 0 and not os.path.exists(os.path.join(WORK, f".bk-{i}.partial")),
                  r.stderr[-300:])
    check("SIGKILL during backup: at least one kill landed mid-backup", killed_mid > 0, killed_mid)
    small = os.path.join(WORK, "small-fs")
    tmpfs(small, "2m")
    r = cli("--db", db, "backup", os.path.join(small, "bk"), "--photos-dir", photos)
    check("backup onto a full disk: non-zero exit, a message, nothing left behind",
          r.returncode != 0 and "error" in r.stderr.lower() and os.listdir(small) == [],
          (r.returncode, r.stderr[-300:], os.listdir(small)))


def text_pdf(text):
    """A one-page PDF with the text in Helvetica (a real text layer)."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for o in offsets:
        out += b"%010d 00000 n \n" % o
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def documents_state(db):
    """(documents, rows missing their file, rows missing their text job or index row)."""
    import sqlite3
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    shas = [r[0] for r in c.execute("SELECT sha256 FROM documents")]
    photos = db[:-3] + ".photos" if db.endswith(".db") else db + ".photos"
    missing = [s for s in shas if not os.path.exists(os.path.join(photos, "documents", s[:2], s))]
    orphans = c.execute("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                        "(SELECT 1 FROM document_text t WHERE t.document_id = d.id) OR NOT EXISTS "
                        "(SELECT 1 FROM documents_fts f WHERE f.rowid = d.id)").fetchone()[0]
    done = c.execute("SELECT count(*) FROM document_text WHERE state = 'done'").fetchone()[0]
    c.close()
    return len(shas), len(missing), orphans, done


def sigkill_during_document_ingest():
    """Bulk ingest and text extraction killed part way: what was acknowledged (each
    committed batch) is whole, files before rows, and running again finishes the job."""
    folder = os.path.join(WORK, "scans")
    os.makedirs(folder, exist_ok=True)
    n = 1500
    with open(os.path.join(WORK, "files.csv"), "w") as m:
        m.write("file,type,reference,date,assets,public\n")
        for i in range(n):
            with open(os.path.join(folder, f"d{i:05}.pdf"), "wb") as f:
                f.write(text_pdf(f"Notice number {i} on the tank at ward {i % 144 + 1} uniqueword{i}"))
            m.write(f"d{i:05}.pdf,notice,KMC/EH/{i},2020-01-0{i % 9 + 1},,true\n")
    manifest = os.path.join(WORK, "files.csv")
    full = os.path.join(WORK, "ingest-full.db")
    t = time.time()
    r = cli("--db", full, "documents", "ingest", folder, "--manifest", manifest)
    took = time.time() - t
    check(f"ingest: {n} documents in {took:.1f} s uninterrupted",
          r.returncode == 0 and documents_state(full)[0] == n, r.stderr[-300:])
    killed_mid = 0
    for i, share in enumerate((0.3, 0.7)):
        db = os.path.join(WORK, f"ingest-{i}.db")
        p = subprocess.Popen([BIN, "--db", db, "documents", "ingest", folder, "--manifest", manifest],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(took * share)
        p.send_signal(signal.SIGKILL)
        p.wait()
        docs, missing, orphans, _ = documents_state(db)
        killed_mid += p.returncode == -9 and 0 < docs < n
        check(f"SIGKILL at {int(share * 100)}% of an ingest: {docs} documents on record, each with "
              f"its file, text job and index row", missing == 0 and orphans == 0, (missing, orphans))
        r = cli("--db", db, "audit", "verify")
        check(f"SIGKILL at {int(share * 100)}% of an ingest: the audit chain holds", r.returncode == 0, r.stderr[-300:])
        r = cli("--db", db, "documents", "ingest", folder, "--manifest", manifest)
        summary = json.loads(r.stdout or "{}")
        check(f"SIGKILL at {int(share * 100)}% of an ingest: ingesting again adds the rest, once",
              r.returncode == 0 and summary.get("added") == n - docs and documents_state(db)[0] == n, summary)
    check("SIGKILL during ingest: at least one kill landed mid-ingest", killed_mid > 0, killed_mid)
    # Reading the text, killed part way: the jobs cut short run again.
    t = time.time()
    p = subprocess.Popen([BIN, "--db", full, "documents", "extract", "--workers", "2"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(3)
    p.send_signal(signal.SIGKILL)
    p.wait()
    before = documents_state(full)[3]
    r = cli("--db", full, "documents", "extract", "--workers", "2")
    after = documents_state(full)[3]
    check(f"SIGKILL during text extraction ({before} of {n} read): running again reads them all",
          r.returncode == 0 and after == n and before < n, (before, after, r.stderr[-300:]))


def main():
    if os.geteuid() != 0:
        print("faults.py mounts small tmpfs disks and needs root; skipped")
        checks.exit()
    try:
        photos_disk_fills_up()
        database_disk_fills_up_then_goes_read_only()
        sigkill_during_import()
        sigkill_during_backup()
        sigkill_during_document_ingest()
    finally:
        for p in servers:
            if p.poll() is None:
                p.kill()
                p.wait()
        for m in reversed(mounts):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(WORK, ignore_errors=True)
    checks.exit()


if __name__ == "__main__":
    main()
