#!/usr/bin/env python3
"""The pieces of scripts/documents-bench.sh that are easier in Python (standard library
only): many small text PDFs written directly, a manifest for them, and the search-latency
client.

    documents_bench.py pdfs OUTDIR --n 2000 [--seed 1] [--start 0]
        Writes OUTDIR/files/bench-NNNNNNN.pdf (one A4 page of Helvetica text, 80-160
        words drawn Zipf-wise from a fixed vocabulary, with a reference number and a title)
        and OUTDIR/manifest.csv. Deterministic: the same seed gives the same bytes.
    documents_bench.py fill-text DB [--corpus DIR]
        For when extraction cannot be run at this size (no PDF text-layer reader, or it
        would take hours): writes each queued document's known text into the index the
        way the text worker does (store::finish_text_job: the FTS row, the job done,
        source 'pdf'): ours by their reference, a doc-corpus.mjs corpus's from its
        truth.json by SHA-256. Labelled as such in the bench's output.
    documents_bench.py latency URL --concurrency 1,16 --requests 1000 [--queries FILE]
        Asks GET /documents with a mix of ~50 queries over persistent connections and
        prints p50/p99/max latency and requests/s per concurrency as JSON lines.
"""
import argparse
import hashlib
import http.client
import json
import math
import os
import random
import sqlite3
import sys
import threading
import time
import unicodedata
import urllib.parse
import zlib

# --- A vocabulary: department words, and made-up words for the long tail --------------------

CORE = """heritage building water body pond tank lake canal wetland notice order certificate
objection repair repairs restoration conservation facade cornice parapet balustrade verandah
roof plaster lime mortar teak louvres railing staircase ward borough engineer committee meeting
minutes survey inspection report photograph owner premises filling encroachment desiltation
hyacinth sewage embankment fisheries cooperative lease estimate maintenance waterproofing crack
cracks dampness vegetation monsoon structure structural stability demolition construction
permission hearing objection councillor municipal corporation kolkata department commission
grade listed register archive drawing elevation plan measurement depth silt garbage debris
fencing ghat steps bank banks garage shed drain drains effluent complaint residents caretaker
scaffolding stucco beam beams ceiling wall walls floor courtyard temple mosque church cathedral
synagogue memorial museum library college hall palace bridge market hotel cinema cemetery
""".split()
COMMON = """the of and to in a is be shall by for on at with this from as that or are has
been was an it not any its within under all which no may be before after during""".split()


def syllable_words(rng, n):
    """Pronounceable made-up words (deterministic): the long tail of rare terms."""
    onsets = ["b", "d", "g", "k", "l", "m", "n", "p", "r", "s", "t", "ch", "sh", "bh", "dh", "kh"]
    vowels = ["a", "e", "i", "o", "u", "ai", "au"]
    codas = ["", "n", "r", "l", "m", "t", "k"]
    out, seen = [], set()
    while len(out) < n:
        w = "".join(rng.choice(onsets) + rng.choice(vowels) + rng.choice(codas) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def vocabulary(seed=1):
    rng = random.Random(seed)
    tail = syllable_words(rng, 20000)
    return COMMON, CORE, tail


class Zipf:
    """Draws index i in [0, n) with weight 1/(i+1)^s (inverse CDF by bisection)."""

    def __init__(self, n, s=1.07):
        acc, self.cdf = 0.0, []
        for i in range(n):
            acc += 1.0 / (i + 1) ** s
            self.cdf.append(acc)
        self.total = acc

    def draw(self, rng):
        x = rng.random() * self.total
        lo, hi = 0, len(self.cdf) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.cdf[mid] < x:
                lo = mid + 1
            else:
                hi = mid
        return lo


KINDS = ["notice", "order", "noc", "minutes", "survey", "inspection_report", "photograph", "other"]
PHRASES = ["lime mortar", "water hyacinth", "heritage conservation committee", "filling of ponds",
           "structural stability", "teak louvres", "borough executive engineer", "no objection"]


def document(i, seed, common, core, tail, zipf):
    """Title, reference, date, kind, assets and text of synthetic document i."""
    rng = random.Random(seed * 1_000_003 + i)
    kind = KINDS[i % len(KINDS)]
    year = 2000 + rng.randint(0, 25)
    date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    reference = f"KMC/EH/{year}/{i:07d}"
    words = []
    for _ in range(rng.randint(80, 160)):
        r = rng.random()
        if r < 0.35:
            words.append(rng.choice(common))
        elif r < 0.75:
            words.append(core[zipf[0].draw(rng)])
        else:
            words.append(tail[zipf[1].draw(rng)])
        if rng.random() < 0.01:
            words.extend(rng.choice(PHRASES).split())
    title = f"{kind.replace('_', ' ').capitalize()} on {core[zipf[0].draw(rng)]} {tail[zipf[1].draw(rng)]}"
    assets = [f"HER-{rng.randint(1, 30):04d}"] if rng.random() < 0.7 else [f"WAT-{rng.randint(1, 12):04d}"]
    return {"title": title, "reference": reference, "date": date, "kind": kind, "assets": assets,
            "lines": [title, f"Ref. No.: {reference}", f"Date: {date}"] + wrap(words, 12)}


def wrap(words, per_line):
    return [" ".join(words[k:k + per_line]) for k in range(0, len(words), per_line)]


def pdf_bytes(lines):
    """A one-page PDF (A4) showing `lines` in Helvetica: the smallest honest text PDF,
    with a text layer any reader (pdftotext, pdf-extract) can read."""
    def esc(s):
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    ops = ["BT", "/F1 11 Tf", "14 TL", "56 790 Td"]
    for ln in lines:
        ops.append(f"({esc(ln)}) Tj T*")
    ops.append("ET")
    content = zlib.compress("\n".join(ops).encode("latin-1"))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for k, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % k + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def cmd_pdfs(args):
    common, core, tail = vocabulary(args.seed)
    zipf = (Zipf(len(core), 0.8), Zipf(len(tail), 1.0))
    files = os.path.join(args.out, "files")
    os.makedirs(files, exist_ok=True)
    t0 = time.time()
    size = 0
    with open(os.path.join(args.out, "manifest.csv"), "w") as m:
        m.write("file,type,reference,date,assets,public,title,language\n")
        for i in range(args.start, args.start + args.n):
            d = document(i, args.seed, common, core, tail, zipf)
            name = f"files/bench-{i:07d}.pdf"
            b = pdf_bytes(d["lines"])
            size += len(b)
            with open(os.path.join(args.out, name), "wb") as f:
                f.write(b)
            m.write(f"{name},{d['kind']},{d['reference']},{d['date']},{';'.join(d['assets'])},true,"
                    f"{d['title']},en\n")
    print(json.dumps({"files": args.n, "bytes": size, "seconds": round(time.time() - t0, 1)}))


def cmd_fill_text(args):
    """The text the worker would have written, for each queued document whose reference
    is one of ours (KMC/EH/YYYY/NNNNNNN, numbered by document)."""
    common, core, tail = vocabulary(args.seed)
    zipf = (Zipf(len(core), 0.8), Zipf(len(tail), 1.0))
    con = sqlite3.connect(args.db)
    con.execute("PRAGMA busy_timeout = 30000")
    known = {}
    if args.corpus:
        with open(os.path.join(args.corpus, "truth.json")) as f:
            for name, t in json.load(f)["files"].items():
                with open(os.path.join(args.corpus, "files", name), "rb") as g:
                    # documents::fold, as the worker writes it: NFC, Bengali digits as ASCII.
                    text = unicodedata.normalize("NFC", t["text"]).translate(
                        {ord(c): str(k) for k, c in enumerate("০১২৩৪৫৬৭৮৯")})
                    known[hashlib.sha256(g.read()).hexdigest()] = text
    rows = con.execute(
        "SELECT d.id, d.title, d.reference, d.sha256 FROM documents d JOIN document_text t ON t.document_id = d.id "
        "WHERE t.state = 'queued'").fetchall()
    t0 = time.time()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    filled = 0
    with con:
        for doc_id, title, ref, sha in rows:
            if sha in known:
                text = known[sha]
            elif ref and len(ref) == 19 and ref.startswith("KMC/EH/") and ref[-7:].isdigit():
                d = document(int(ref[-7:]), args.seed, common, core, tail, zipf)
                text = "\n".join(d["lines"])
            else:
                continue
            filled += 1
            con.execute("DELETE FROM documents_fts WHERE rowid = ?", (doc_id,))
            fold = lambda x: unicodedata.normalize("NFC", x or "")  # noqa: E731 - as documents::fold
            con.execute("INSERT INTO documents_fts (rowid, title, reference, body) VALUES (?, ?, ?, ?)",
                        (doc_id, fold(title), fold(ref), text))
            con.execute("UPDATE document_text SET state = 'done', source = 'pdf', pages = 1, pages_done = 1, "
                        "error = NULL, not_before = NULL, updated_at = ? WHERE document_id = ?", (now, doc_id))
    print(json.dumps({"filled": filled, "left_queued": len(rows) - filled, "seconds": round(time.time() - t0, 1)}))


def default_queries(seed):
    """~50 queries: rare and common words, phrases, prefixes, Bengali, references,
    metadata-only filters and words with filters."""
    common, core, tail = vocabulary(seed)
    q = []
    q += [f"q={w}" for w in core[:6]]                              # common department words
    q += [f"q={w}" for w in core[60:64]]                           # mid-frequency
    q += [f"q={w}" for w in tail[:4]]                              # frequent made-up words
    q += [f"q={w}" for w in tail[2000:2004] + tail[15000:15004]]   # rare made-up words
    q += [f"q={urllib.parse.quote(chr(34) + p + chr(34))}" for p in PHRASES[:5]]
    q += [f"q={urllib.parse.quote(w)}" for w in ["herit*", "conserv*", "desilt*", tail[10][:4] + "*"]]
    q += [f"q={urllib.parse.quote(w)}" for w in ["heritage repairs", "pond filling notice", "water -hyacinth",
                                                 "lime mortar cornice", f"{core[3]} {tail[50]}"]]
    q += [f"q={urllib.parse.quote(w)}" for w in ["পুকুর", "কলকাতায়", "জলাশয়ের ভরাট", "ঐতিহ্য"]]
    q += [f"q={urllib.parse.quote(w)}" for w in ["KMC/EH/2013/0012345", "KMC/EH/2020/0099999"]]
    q += ["type=noc", "type=minutes&from=2010-01-01&to=2012-12-31", "asset=HER-0001", "asset=WAT-0003",
          "from=2024-06-01", "to=2001-01-31"]
    q += [f"q=heritage&type=order", f"q=pond&asset=WAT-0005", f"q={core[20]}&from=2015-01-01&to=2016-12-31"]
    return [x + "&limit=10" for x in q]


def cmd_latency(args):
    u = urllib.parse.urlsplit(args.url)
    host, port = u.hostname, u.port or 80
    queries = default_queries(args.seed)
    # Check every query once (and warm the cache as a real server would be).
    matched = {}
    for q in queries:
        c = http.client.HTTPConnection(host, port, timeout=120)
        c.request("GET", "/documents?" + q)
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            print(f"query {q} answered {r.status}: {body[:200]!r}", file=sys.stderr)
            sys.exit(1)
        matched[q] = json.loads(body)["numberMatched"]
        c.close()
    print(json.dumps({"queries": len(queries), "numberMatched": matched}), flush=True)
    for conc in [int(x) for x in args.concurrency.split(",")]:
        lat, lock, errors = [], threading.Lock(), []
        per = max(1, args.requests // conc)

        def worker(k):
            rng = random.Random(k)
            c = http.client.HTTPConnection(host, port, timeout=120)
            mine = []
            for _ in range(per):
                q = rng.choice(queries)
                t = time.perf_counter()
                try:
                    c.request("GET", "/documents?" + q)
                    r = c.getresponse()
                    r.read()
                    if r.status != 200:
                        errors.append(r.status)
                except (OSError, http.client.HTTPException) as e:
                    errors.append(str(e))
                    c.close()
                    c = http.client.HTTPConnection(host, port, timeout=120)
                mine.append(time.perf_counter() - t)
            with lock:
                lat.extend(mine)

        t0 = time.perf_counter()
        ts = [threading.Thread(target=worker, args=(k,)) for k in range(conc)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = time.perf_counter() - t0
        lat.sort()
        pct = lambda p: lat[min(len(lat) - 1, math.ceil(p * len(lat)) - 1)] * 1000  # noqa: E731
        print(json.dumps({"concurrency": conc, "requests": len(lat), "errors": len(errors),
                          "p50_ms": round(pct(0.50), 1), "p99_ms": round(pct(0.99), 1),
                          "max_ms": round(lat[-1] * 1000, 1), "rps": round(len(lat) / wall, 1)}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pdfs")
    p.add_argument("out")
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--start", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("fill-text")
    p.add_argument("db")
    p.add_argument("--corpus")
    p.add_argument("--seed", type=int, default=1)
    p = sub.add_parser("latency")
    p.add_argument("url")
    p.add_argument("--concurrency", default="1,16")
    p.add_argument("--requests", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    {"pdfs": cmd_pdfs, "fill-text": cmd_fill_text, "latency": cmd_latency}[args.cmd](args)


if __name__ == "__main__":
    main()
