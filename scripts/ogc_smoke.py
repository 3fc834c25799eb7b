#!/usr/bin/env python3
"""OGC API - Features checked by clients we did not write: GDAL's OAPIF driver, ogr2ogr
reading our FlatGeobuf / GeoJSON / CSV downloads, shapely for a brute-force bbox answer,
and openapi-spec-validator for /api. Usage: scripts/ogc_smoke.py URL
Prints one line per check and "N checks passed"; exits 1 on any failure."""

import json
import os
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request

from shapely.geometry import box, shape

URL = sys.argv[1].rstrip("/")
passed, failed = 0, 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def get(path, accept="application/json"):
    req = urllib.request.Request(URL + path, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=60) as r:
        # Header names are case-insensitive on the message object, not in a dict of it.
        return r.status, r.headers, r.read()


def getjson(path):
    return json.loads(get(path)[2])


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def count_of(ogrinfo_out):
    for line in ogrinfo_out.splitlines():
        if line.startswith("Feature Count:"):
            return int(line.split(":")[1])
    return None


def codes_of(geojson_path):
    with open(geojson_path, encoding="utf-8") as f:
        d = json.load(f)
    return {f["properties"]["code"]: f for f in d["features"]}


work = tempfile.mkdtemp()
oapif = f"OAPIF:{URL}"

# 1. GDAL lists every collection.
r = run("ogrinfo", "-ro", "-q", oapif)
names = [line.split(":", 1)[1].split("(")[0].strip() for line in r.stdout.splitlines() if ":" in line]
check("ogrinfo OAPIF lists the 5 collections", names == ["heritage", "water_bodies", "parks", "wards", "complaints"], r.stdout + r.stderr)

# 2. Counts and fields through OAPIF equal numberMatched.
for c in ["heritage", "water_bodies", "parks", "wards"]:
    matched = getjson(f"/collections/{c}/items?limit=0")["numberMatched"]
    r = run("ogrinfo", "-ro", "-so", oapif, c)
    check(f"OAPIF {c}: {matched} features, with name and name_bn", count_of(r.stdout) == matched and "name_bn:" in r.stdout, r.stdout[-400:] + r.stderr)

# 3. All heritage features read through OAPIF, Bengali intact.
out = os.path.join(work, "oapif_heritage.geojson")
r = run("ogr2ogr", "-f", "GeoJSON", out, oapif, "heritage")
got = codes_of(out) if r.returncode == 0 else {}
check("ogr2ogr reads heritage over OAPIF with Bengali names", got.get("HER-0001", {}).get("properties", {}).get("name_bn") == "ভিক্টোরিয়া মেমোরিয়াল", r.stderr)

# 4. Downloads read by GDAL: same features, same geometries as the paged GeoJSON.
for c in ["heritage", "water_bodies"]:
    ref = {f["properties"]["code"]: f for f in getjson(f"/collections/{c}/items?limit=10000")["features"]}
    for fmt, query in [("fgb", "f=fgb"), ("json", "f=json&download=true"), ("csv", "f=csv")]:
        path = os.path.join(work, f"{c}.{fmt}")
        with open(path, "wb") as f:
            f.write(get(f"/collections/{c}/items?{query}")[2])
        conv = os.path.join(work, f"{c}-{fmt}.geojson")
        r = run("ogr2ogr", "-f", "GeoJSON", conv, path, "-oo", "KEEP_GEOM_COLUMNS=NO") if fmt == "csv" else run("ogr2ogr", "-f", "GeoJSON", conv, path)
        if r.returncode != 0:
            check(f"ogr2ogr reads {c} as {fmt}", False, r.stderr)
            continue
        back = codes_of(conv)
        same_codes = set(back) == set(ref)
        worst = 0.0
        for code, f in back.items():
            if code in ref and f["geometry"]:
                a, b = shape(f["geometry"]), shape(ref[code]["geometry"])
                worst = max(worst, a.hausdorff_distance(b))
        check(f"ogr2ogr reads {c} as {fmt}: {len(back)} features, geometries within 1e-6°", same_codes and len(back) == len(ref) and worst < 1e-6, f"codes equal {same_codes}, {len(back)} vs {len(ref)}, worst {worst}")

# 5. A bbox read through GDAL equals brute force.
bb = (88.33, 22.53, 88.36, 22.57)
allh = getjson("/collections/heritage/items?limit=10000")["features"]
want = {f["properties"]["code"] for f in allh if shape(f["geometry"]).intersects(box(*bb))}
out = os.path.join(work, "bbox.geojson")
r = run("ogr2ogr", "-f", "GeoJSON", "-spat", *map(str, bb), out, oapif, "heritage")
got = set(codes_of(out)) if r.returncode == 0 else set()
check(f"GDAL bbox read = brute force ({len(want)} of {len(allh)})", got == want and 0 < len(want) < len(allh), f"{sorted(got ^ want)} {r.stderr}")

# 6. The OpenAPI document validates, and every path it lists answers as it says.
status, headers, body = get("/api")
api = json.loads(body)
try:
    from openapi_spec_validator import validate

    validate(api)
    ct = headers.get("Content-Type", "")
    check("/api validates (openapi-spec-validator)", ct.startswith("application/vnd.oai.openapi+json"), ct)
except Exception as e:  # noqa: BLE001 - any validation error is the failure
    check("/api validates (openapi-spec-validator)", False, str(e)[:300])
fill = {"lon": "88.3426", "lat": "22.5448", "q": "Victoria"}
for path, ops in api["paths"].items():
    op = ops.get("get")
    if not op:
        continue
    concrete = [path]
    if "{collectionId}" in path:
        concrete = [path.replace("{collectionId}", c) for c in ["heritage", "water_bodies", "parks", "wards", "complaints"]]
    if "{layers}" in path:
        concrete = [path.replace("{layers}", "heritage")]
    for p in concrete:
        if "{featureId}" in p:
            items = getjson(p.split("/items/")[0] + "/items?limit=1")["features"]
            if not items:
                continue
            p = p.replace("{featureId}", urllib.parse.quote(str(items[0]["id"])))
        params = {q["name"]: fill[q["name"]] for q in op.get("parameters", []) if isinstance(q, dict) and q.get("required") and q.get("in") == "query" and q["name"] in fill}
        url = p + ("?" + urllib.parse.urlencode(params) if params else "")
        try:
            st, h, _ = get(url)
            listed = list(op["responses"]["200"].get("content", {}).keys())
            ct = h.get("Content-Type", "").split(";")[0]
            ok = st == 200 and any(ct == t.split(";")[0] for t in listed)
            check(f"GET {url} answers 200 as listed", ok, f"{st} {ct} not in {listed}")
        except urllib.error.HTTPError as e:
            check(f"GET {url} answers 200 as listed", False, f"{e.code}")

# 7. Bad input is a 400 saying where.
for path, needle in [("/collections/heritage/items?colour=red", "unknown parameter"), ("/collections/heritage/items?filter=grade%20%3D%3D%20'I'", "character")]:
    try:
        get(path)
        check(f"{path} is refused", False, "200")
    except urllib.error.HTTPError as e:
        d = json.loads(e.read())
        check(f"{path} → 400 naming the problem", e.code == 400 and needle in d.get("description", ""), str(d))

print(f"{passed} checks passed" + (f", {failed} FAILED" if failed else ""))
sys.exit(1 if failed else 0)
