#!/usr/bin/env python3
"""Checks OGC API - Features with clients we did not write.

Against a running server (URL as the first argument):

1. GDAL's OAPIF driver (`ogrinfo OAPIF:URL`) lists exactly the five collections.
2. For each asset collection, `ogrinfo -so` reports as many features as `numberMatched`
   (itself compared with /health and with the features `ogr2ogr` actually reads through
   OAPIF, following our `next` links), with `name` and `name_bn` among the fields; every
   Bengali name read through OAPIF equals ours (HER-0001: ভিক্টোরিয়া মেমোরিয়াল).
3. `ogr2ogr` reads our downloads (`f=fgb`, `f=json&download=true`, `f=csv`) of heritage
   and water_bodies: the same count, the same `code`s, geometries within 1e-6 degrees
   (shapely: Hausdorff distance of the shapes and of their boundaries, so a lost hole
   shows) and the same values in every column the download has, as the paged GeoJSON.
4. A bbox read through GDAL (`ogr2ogr -spat`), and our own `bbox=`, return exactly the
   heritage codes shapely's brute force finds in a box over central Kolkata.
5. /api validates with openapi-spec-validator, and every GET path it lists answers 200
   with a content type it lists for 200 (path parameters filled in: each collection, the
   first feature of each, `heritage` for tiles; required query parameters too).
6. `crs=` EPSG:32645 (also 3857, 7755, and 4326 latitude first) is echoed in
   Content-Crs, and the first feature's vertices agree with `gdaltransform` from the
   CRS84 answer to within 0.01 m.
7. An unknown parameter and a bad CQL2 filter are 400s with a JSON {code, description};
   the filter's names the character where it went wrong.

    ogc_check.py URL

Needs ogrinfo, ogr2ogr, gdaltransform (GDAL >= 3.6), shapely and openapi-spec-validator
(scripts/install-deps.sh). Read-only: it files nothing, so it can run at any point.

Prints one line per check and a closing 'N checks passed'; exits non-zero on failure.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

from shapely.geometry import box, shape

import checklib
from checklib import short

if len(sys.argv) != 2:
    sys.exit("usage: ogc_check.py URL")
BASE = sys.argv[1].rstrip("/")
web = checklib.Web(BASE, timeout=60)
get, getjson = web.get, web.getjson
OAPIF = f"OAPIF:{BASE}"
COLLECTIONS = ["heritage", "water_bodies", "parks", "wards", "complaints"]
ASSETS = ["heritage", "water_bodies", "parks", "wards"]
# Central Kolkata, Maidan to Dalhousie: some of the heritage register, not all of it.
BOX = (88.33, 22.53, 88.36, 22.57)
DEG_TOL = 1e-6  # degrees, about 0.1 m
M_TOL = 0.01  # metres
FILL = {"lon": "88.3426", "lat": "22.5448", "q": "Victoria", "from": "1"}

checks = checklib.Checks()
check, attempt = checks.check, checks.attempt


def run(*args, stdin=None):
    return subprocess.run(args, capture_output=True, text=True, timeout=300, input=stdin)


def media(ct):
    """'text/csv; charset=utf-8' -> ('text/csv', {'charset': 'utf-8'})."""
    parts = [p.strip() for p in (ct or "").split(";")]
    params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
    return parts[0].lower(), {k.strip().lower(): v.strip() for k, v in params.items()}


def media_listed(got, listed):
    """Whether a response's Content-Type is one the document lists: the same type, and
    every parameter the listed one names (version=3.0) with the same value."""
    t, p = media(got)
    for want in listed:
        wt, wp = media(want)
        if t == wt and all(p.get(k) == v for k, v in wp.items()):
            return True
    return False


def paged(collection, limit=25, max_pages=10000):
    """Every item, following `next` links from ?limit=`limit`; raises on a loop."""
    url, seen_urls, feats, matched = f"/collections/{collection}/items?limit={limit}", set(), [], None
    while url:
        if url in seen_urls or len(seen_urls) >= max_pages:
            raise ValueError(f"next links loop at {url}")
        seen_urls.add(url)
        d = getjson(url)
        matched = d["numberMatched"]
        if d["numberReturned"] != len(d["features"]):
            raise ValueError(f"{url}: numberReturned {d['numberReturned']} != {len(d['features'])}")
        feats += d["features"]
        url = next((l["href"] for l in d.get("links", []) if l.get("rel") == "next"), None)
        if url and not d["features"]:
            raise ValueError(f"{url}: a next link from an empty page")
    return matched, feats


def by_code(features):
    return {f["properties"]["code"]: f for f in features}


def read_geojson(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["features"]


def ogr_count(text):
    m = re.search(r"^Feature Count: (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def ogr_fields(text):
    # Field lines look like "name_bn: String (0.0)" or "protected: Integer(Boolean) (0.0)".
    return re.findall(r"^([^\s:]+): \w+(?:\(\w+\))? \(\d+\.\d+\)$", text, re.M)


def single(g):
    """A MultiX of one part as that part: a writer may promote, the shape is the same."""
    return g.geoms[0] if g.geom_type.startswith("Multi") and len(g.geoms) == 1 else g


def geom_gap(a, b):
    """How far apart two shapes are, in their units: the Hausdorff distance of the shapes
    and of their boundaries (a polygon that lost a hole is near the shape, not the
    boundary); infinite for different types or an emptiness on one side only."""
    a, b = single(a), single(b)
    if a.geom_type != b.geom_type or a.is_empty != b.is_empty:
        return float("inf")
    if a.is_empty:
        return 0.0
    d = a.hausdorff_distance(b)
    if a.geom_type not in ("Point", "MultiPoint"):
        d = max(d, a.boundary.hausdorff_distance(b.boundary))
    return d


def norm(v):
    """A property value as text, so GDAL's CSV strings and FlatGeobuf's typed columns
    compare with our JSON: None/'' alike, true/1, 1921.0/1921."""
    if v is None or v == "":
        return None
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v)
    return {"true": "1", "false": "0"}.get(s.lower(), s)


work = tempfile.mkdtemp(prefix="ogc_check.")

# --- 1. GDAL lists the collections -----------------------------------------------------


def gdal_lists():
    r = run("ogrinfo", "-ro", OAPIF)
    names = re.findall(r"^\d+: (\S+)", r.stdout, re.M)
    ids = [c["id"] for c in getjson("/collections")["collections"]]
    ok = r.returncode == 0 and names == ids and sorted(names) == sorted(COLLECTIONS)
    return ok, f"rc {r.returncode}, ogrinfo {names}, /collections {ids}, {short(r.stderr)}"


attempt(f"ogrinfo OAPIF lists exactly the {len(COLLECTIONS)} collections", gdal_lists)

# --- 2. Counts, fields and Bengali names through OAPIF ----------------------------------

health = {}
try:
    health = getjson("/health")["layers"]
except Exception as e:  # noqa: BLE001 - the checks below then fail, saying so
    print(f"# /health unreadable: {e}")
reference = {}  # collection -> {code: feature} from the paged GeoJSON


def oapif_collection(c):
    def fn():
        matched = getjson(f"/collections/{c}/items?limit=0")["numberMatched"]
        paged_matched, feats = paged(c)
        reference[c] = by_code(feats)
        r = run("ogrinfo", "-ro", "-so", OAPIF, c)
        count, fields = ogr_count(r.stdout), ogr_fields(r.stdout)
        out = os.path.join(work, f"oapif-{c}.geojson")
        r2 = run("ogr2ogr", "-f", "GeoJSON", out, OAPIF, c)
        read = read_geojson(out) if r2.returncode == 0 else []
        read_codes = [f["properties"].get("code") for f in read]
        ok = (r.returncode == 0 and r2.returncode == 0 and count == matched
              and matched == health.get(c) == paged_matched == len(feats) == len(read)
              and len(set(read_codes)) == len(read_codes) and set(read_codes) == set(reference[c])
              and "name" in fields and "name_bn" in fields)
        return ok, (f"ogrinfo count {count}, numberMatched {matched}, /health {health.get(c)}, "
                    f"paged {paged_matched}/{len(feats)}, ogr2ogr read {len(read)} "
                    f"({len(set(read_codes))} codes, same as ours: {set(read_codes) == set(reference.get(c, {}))}), "
                    f"fields {fields}; {short(r.stderr + r2.stderr)}")
    return fn


for c in ASSETS:
    attempt(f"OAPIF {c}: ogrinfo's count = numberMatched = /health = features ogr2ogr reads; "
            f"fields include name, name_bn", oapif_collection(c))


def bengali():
    read = by_code(read_geojson(os.path.join(work, "oapif-heritage.geojson")))
    vm = read.get("HER-0001", {}).get("properties", {}).get("name_bn")
    ours = reference["heritage"]
    differ = [k for k, f in ours.items()
              if read.get(k, {}).get("properties", {}).get("name_bn") != f["properties"]["name_bn"]]
    ok = vm == "ভিক্টোরিয়া মেমোরিয়াল" and not differ and len(read) == len(ours)
    return ok, f"HER-0001 name_bn {vm!r}, {len(differ)} differ: {differ[:5]}"


attempt("ogr2ogr over OAPIF: HER-0001 is ভিক্টোরিয়া মেমোরিয়াল, every name_bn as served",
        bengali)

# --- 3. Our downloads read by ogr2ogr ---------------------------------------------------

DOWNLOADS = [
    ("fgb", "f=fgb", "application/flatgeobuf", []),
    ("geojson", "f=json&download=true", "application/geo+json", []),
    # GDAL's CSV driver takes the WKT column as the geometry by itself.
    ("csv", "f=csv", "text/csv", ["-oo", "KEEP_GEOM_COLUMNS=NO"]),
]


def download(c, ext, query, ctype, oo):
    def fn():
        ref = reference.get(c) or by_code(paged(c)[1])
        status, h, body = get(f"/collections/{c}/items?{query}")
        path = os.path.join(work, f"{c}.{ext}")
        with open(path, "wb") as f:
            f.write(body)
        disp = h.get("Content-Disposition", "")
        if status != 200 or media(h.get("Content-Type"))[0] != ctype or "attachment" not in disp:
            return False, f"status {status}, type {h.get('Content-Type')}, disposition {disp!r}, {short(body)}"
        conv = os.path.join(work, f"{c}-{ext}.geojson")
        r = run("ogr2ogr", "-f", "GeoJSON", conv, path, *oo)
        if r.returncode != 0:
            return False, f"ogr2ogr: {short(r.stderr)}"
        feats = read_geojson(conv)
        back = by_code(feats)
        worst, worst_code, missing_geom = 0.0, None, []
        for code, f in back.items():
            if code not in ref:
                continue
            if not f.get("geometry"):
                missing_geom.append(code)
                continue
            d = geom_gap(shape(f["geometry"]), shape(ref[code]["geometry"]))
            if d > worst:
                worst, worst_code = d, code
        # Every column the download has holds what the GeoJSON item says (GDAL drops a
        # FlatGeobuf column that is null in a feature, so absent there means null).
        columns = set().union(*(f["properties"] for f in feats)) if feats else set()
        wrong = [(code, k, p["properties"].get(k), back[code]["properties"].get(k))
                 for code, p in ref.items() if code in back
                 for k in p["properties"] if k in columns
                 and norm(p["properties"].get(k)) != norm(back[code]["properties"].get(k))]
        ok = (len(feats) == len(ref) and set(back) == set(ref) and not missing_geom
              and worst < DEG_TOL and not wrong)
        return ok, (f"{len(feats)} features vs {len(ref)}, codes equal {set(back) == set(ref)} "
                    f"(only ours {sorted(set(ref) - set(back))[:5]}, only theirs {sorted(set(back) - set(ref))[:5]}), "
                    f"no geometry {missing_geom[:5]}, worst gap {worst:.3g}° at {worst_code}, "
                    f"{len(wrong)} values differ {wrong[:3]}")
    return fn


for c in ["water_bodies", "heritage"]:
    for ext, query, ctype, oo in DOWNLOADS:
        attempt(f"ogr2ogr reads {c} ?{query} ({ctype}): same count, codes, geometries "
                f"within {DEG_TOL:g}°, values as the paged GeoJSON", download(c, ext, query, ctype, oo))

# --- 4. A bbox read through GDAL against brute force ------------------------------------

brute = set()


def brute_force():
    global brute
    d = getjson("/collections/heritage/items?limit=1000")
    feats = d["features"]
    brute = {f["properties"]["code"] for f in feats if shape(f["geometry"]).intersects(box(*BOX))}
    ok = len(feats) == d["numberMatched"] and 0 < len(brute) < len(feats)
    return ok, f"{len(feats)} of {d['numberMatched']} fetched, {len(brute)} in the box"


attempt(f"brute force (shapely): the box {BOX} holds some, not all, heritage", brute_force)


def gdal_bbox():
    out = os.path.join(work, "bbox.geojson")
    r = run("ogr2ogr", "-f", "GeoJSON", "-spat", *map(str, BOX), out, OAPIF, "heritage")
    got = {f["properties"]["code"] for f in read_geojson(out)} if r.returncode == 0 else set()
    ok = r.returncode == 0 and bool(brute) and got == brute
    return ok, f"only GDAL {sorted(got - brute)}, only brute force {sorted(brute - got)}; {short(r.stderr)}"


attempt("ogr2ogr -spat over OAPIF: exactly the brute-force heritage codes", gdal_bbox)


def our_bbox():
    # GDAL filters what it is sent once more itself, so our own bbox= answer is asked too.
    _, feats = paged_bbox()
    got = {f["properties"]["code"] for f in feats}
    ok = bool(brute) and got == brute and len(feats) == len(got)
    return ok, f"{len(feats)} features; only ours {sorted(got - brute)}, only brute force {sorted(brute - got)}"


def paged_bbox():
    d = getjson("/collections/heritage/items?limit=1000&bbox=" + ",".join(map(str, BOX)))
    return d["numberMatched"], d["features"]


attempt("items?bbox=: exactly the brute-force heritage codes", our_bbox)

# --- 5. The OpenAPI document -------------------------------------------------------------

api = {}


def api_validates():
    global api
    from openapi_spec_validator import validate

    status, h, body = get("/api")
    api = json.loads(body)
    validate(api)
    ct = h.get("Content-Type", "")
    ok = status == 200 and media(ct) == ("application/vnd.oai.openapi+json", {"version": "3.0"})
    return ok, f"status {status}, Content-Type {ct}"


attempt("/api validates (openapi-spec-validator), served as application/vnd.oai.openapi+json;version=3.0",
        api_validates)


def resolve(obj):
    """Follows a local $ref (#/components/...)."""
    while isinstance(obj, dict) and "$ref" in obj:
        node = api
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def concrete_paths(path, op):
    """What to ask for one templated path: ("url", url, problem) per concrete URL, or
    ("none", collection, None) for a {featureId} in a collection with no features."""
    paths = [path]
    if "{collectionId}" in path:
        paths = [path.replace("{collectionId}", c) for c in COLLECTIONS]
    paths = [p.replace("{layers}", "heritage").replace("{id}", "HER-0001").replace("{n}", "1")
             for p in paths]
    paths = [p.replace("{code}", "heritage_sanction") for p in paths]
    if "{ticket}" in path:
        reqs = getjson("/open311/v2/requests.json")
        paths = [p.replace("{ticket}", reqs[0]["service_request_id"]) for p in paths] if reqs else paths
    if "{sha256}" in path:
        docs = getjson("/assets/HER-0001")["documents"]
        paths = [p.replace("{sha256}", docs[0]["sha256"]) for p in paths] if docs else paths
    params = [resolve(p) for p in op.get("parameters", [])]
    query = {p["name"]: FILL[p["name"]] for p in params
             if p.get("in") == "query" and p.get("required") and p["name"] in FILL}
    unfillable = [p["name"] for p in params if p.get("required") and p.get("in") == "query"
                  and p["name"] not in FILL]
    out = []
    for p in paths:
        if "{featureId}" in p:
            collection = p.split("/")[2]
            items = getjson(f"/collections/{collection}/items?limit=1")["features"]
            if not items:
                out.append(("none", collection, None))
                continue
            p = p.replace("{featureId}", urllib.parse.quote(str(items[0]["id"]), safe=""))
        problem = None
        if "{key}" in p:
            # An application number: none on a fresh database, so one that cannot exist
            # must be a JSON 404.
            out.append(("missing", p.replace("{key}", "HS-1999-999999"), None))
            continue
        if re.search(r"\{[^}]*\}", p):
            problem = f"no value for a path parameter in {p}"
        elif unfillable:
            problem = f"no value for required query parameters {unfillable}"
        out.append(("url", p + ("?" + urllib.parse.urlencode(query) if query else ""), problem))
    return out


def ask_path(url, listed, problem):
    def fn():
        if problem:
            return False, problem
        status, h, body = get(url)
        ct = h.get("Content-Type", "")
        ok = status == 200 and media_listed(ct, listed)
        if ok and "json" in media(ct)[0]:
            json.loads(body)  # a JSON type must carry JSON
        return ok, f"status {status}, Content-Type {ct!r}, listed {listed}, {short(body, 200)}"
    return fn


def json_404(url):
    def fn():
        status, h, body = get(url)
        ok = (status == 404 and media(h.get("Content-Type"))[0] == "application/json"
              and {"code", "description"} <= set(json.loads(body)))
        return ok, f"status {status}, Content-Type {h.get('Content-Type')}, {short(body)}"
    return fn


def no_such_feature(c):
    def fn():
        status, h, body = get(f"/collections/{c}/items/NO-SUCH-FEATURE-0")
        d = json.loads(body)
        ok = (status == 404 and media(h.get("Content-Type"))[0] == "application/json"
              and {"code", "description"} <= set(d))
        return ok, f"status {status}, Content-Type {h.get('Content-Type')}, {short(body)}"
    return fn


if api:
    for path, ops in api.get("paths", {}).items():
        op = ops.get("get")
        if not op or op.get("security"):
            continue  # staff-only answers are checked by the Rust tests, with tokens
        listed = list(resolve(op.get("responses", {}).get("200", {})).get("content", {}))
        try:
            targets = concrete_paths(path, op)
        except Exception as e:  # noqa: BLE001 - a path we cannot fill is a failure
            check(f"GET {path} can be asked", False, f"{type(e).__name__}: {e}")
            continue
        for kind, target, problem in targets:
            if kind == "missing":
                attempt(f"GET {target} (from {path}, nothing on record): JSON 404", json_404(target))
            elif kind == "none":
                # No feature to ask for (complaints on a fresh database): one that cannot
                # exist must then be a JSON 404.
                attempt(f"GET /collections/{target}/items/NO-SUCH-FEATURE-0 (from {path}, "
                        f"no features): JSON 404", no_such_feature(target))
            else:
                attempt(f"GET {target} (from {path}): 200 as {', '.join(listed) or '(nothing listed)'}",
                        ask_path(target, listed, problem))
else:
    check("/api lists paths to ask", False, "no OpenAPI document")

# --- 6. Output CRS against GDAL's own transform -----------------------------------------

CRS_URI = "http://www.opengis.net/def/crs/EPSG/0/{}"


def vertices(geom):
    """Every position of a GeoJSON geometry, in order."""
    def walk(c):
        if c and isinstance(c[0], (int, float)):
            yield c[:2]
        else:
            for x in c:
                yield from walk(x)
    return list(walk(geom["coordinates"]))


def crs_check(epsg, lat_first=False):
    def fn():
        _, _, body = get("/collections/heritage/items?limit=1")
        base = json.loads(body)["features"][0]
        status, h, body = get(f"/collections/heritage/items?limit=1&crs={urllib.parse.quote(CRS_URI.format(epsg), safe='')}")
        got = json.loads(body)["features"][0] if status == 200 else None
        header = h.get("Content-Crs", "")
        if got is None or got.get("id") != base.get("id"):
            return False, f"status {status}, feature {got and got.get('id')} vs {base.get('id')}, {short(body)}"
        src = vertices(base["geometry"])
        if lat_first:
            want = [(lat, lon) for lon, lat in src]
            tol, unit = DEG_TOL, "°"
        else:
            r = run("gdaltransform", "-s_srs", "+proj=longlat +datum=WGS84", "-t_srs", f"EPSG:{epsg}",
                    stdin="".join(f"{x!r} {y!r}\n" for x, y in src))
            want = [tuple(map(float, line.split()[:2])) for line in r.stdout.splitlines() if line.strip()]
            tol, unit = M_TOL, " m"
        ours = vertices(got["geometry"])
        errs = [max(abs(a - c), abs(b - d)) for (a, b), (c, d) in zip(ours, want)]
        worst = max(errs) if errs else float("inf")
        ok = (header == f"<{CRS_URI.format(epsg)}>" and len(ours) == len(src) == len(want)
              and errs and errs[0] <= tol and worst <= tol)
        return ok, (f"Content-Crs {header!r}, {len(ours)}/{len(src)}/{len(want)} vertices, first ours "
                    f"{ours[:1]} vs GDAL {want[:1]}, worst {worst:.3g}{unit}")
    return fn


attempt("crs=EPSG:32645: Content-Crs <…/EPSG/0/32645>, vertices within 0.01 m of gdaltransform",
        crs_check(32645))
attempt("crs=EPSG:3857: Content-Crs <…/EPSG/0/3857>, vertices within 0.01 m of gdaltransform",
        crs_check(3857))
attempt("crs=EPSG:7755: Content-Crs <…/EPSG/0/7755>, vertices within 0.01 m of gdaltransform",
        crs_check(7755))
attempt("crs=EPSG:4326: Content-Crs <…/EPSG/0/4326>, latitude first", crs_check(4326, lat_first=True))

# --- 7. Bad requests ---------------------------------------------------------------------


def refused(query, needle):
    def fn():
        status, h, body = get(f"/collections/heritage/items?{query}")
        d = json.loads(body)
        ok = (status == 400 and media(h.get("Content-Type"))[0] == "application/json"
              and isinstance(d.get("code"), str) and needle in d.get("description", ""))
        return ok, f"status {status}, Content-Type {h.get('Content-Type')}, body {short(body)}"
    return fn


attempt("items?colour=red: 400, JSON {code, description} naming colour",
        refused("colour=red", '"colour"'))
# The second '=' of "grade == 'I'" is character 8.
attempt("items?filter=grade == 'I': 400, JSON {code, description} saying which character",
        refused(urllib.parse.urlencode({"filter": "grade == 'I'"}), "character"))
attempt("items?filter=grade == 'I': the character named is the second '=' (8)",
        refused(urllib.parse.urlencode({"filter": "grade == 'I'"}), "character 8"))

shutil.rmtree(work, ignore_errors=True)
checks.exit(checks_passed=True)
