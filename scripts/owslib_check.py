#!/usr/bin/env python3
"""OGC API - Features read by OWSLib, a common Python client, with its own defaults (it
sends `Accept: */*` through requests): the landing page, conformance, collections, items
with bbox and a CQL2 filter, one item, queryables. Answers are checked against our own
GeoJSON (a second reading of the same data, over plain urllib).

Usage: python3 scripts/owslib_check.py http://127.0.0.1:PORT
"""
import sys

from owslib.ogcapi.features import Features

import checklib

BASE = sys.argv[1].rstrip("/")
web = checklib.Web(BASE, timeout=30)
checks = checklib.Checks()
check = checks.check


def ours(path):
    return web.getjson(path, {"Accept": "application/json"})


w = None


def landing():
    global w
    w = Features(BASE + "/")
    rels = {link.get("rel") for link in w.links}
    check("OWSLib reads the landing page (Accept: */*)", {"conformance", "data", "service-desc"} <= rels, rels)


checks.guard("landing page", landing)
if w is None:
    print(f"{checks.passed} passed, {checks.failed + 1} failed")
    sys.exit(1)


def conformance():
    c = w.conformance()["conformsTo"]
    check("conformance lists Features core and CQL2 text",
          any(x.endswith("ogcapi-features-1/1.0/conf/core") for x in c)
          and any(x.endswith("cql2/1.0/conf/cql2-text") for x in c), c)


def collections():
    ids = [c["id"] for c in w.collections()["collections"]]
    check("collections", {"heritage", "water_bodies", "parks", "wards"} <= set(ids), ids)
    check("feature_collections", "heritage" in w.feature_collections(), w.feature_collections())
    check("collection('heritage')", w.collection("heritage")["id"] == "heritage")


def items_bbox():
    bbox = [88.33, 22.53, 88.36, 22.56]
    got = w.collection_items("heritage", bbox=bbox, limit=1000)
    want = ours("/collections/heritage/items?bbox=" + ",".join(map(str, bbox)) + "&limit=1000")
    a = sorted(f["properties"]["code"] for f in got["features"])
    b = sorted(f["properties"]["code"] for f in want["features"])
    check(f"items with bbox: {len(a)} features, as our own GeoJSON says", a == b and len(a) > 0, (a, b))


def items_filter():
    got = w.collection_items("heritage", filter="grade = 'I'", limit=1000)
    grades = {f["properties"].get("grade") for f in got["features"]}
    check(f"items with a CQL2 filter: {len(got['features'])} Grade I", grades == {"I"}, grades)


def one_item():
    first = w.collection_items("water_bodies", limit=1)["features"][0]
    one = w.collection_item("water_bodies", str(first["id"]))
    check("one item by id", one["properties"]["code"] == first["properties"]["code"])


def queryables():
    q = w.collection_queryables("heritage")
    props = set(q.get("properties", {}))
    check("queryables", {"grade", "ward", "condition"} <= props, props)


for name, f in [("conformance", conformance), ("collections", collections),
                ("items bbox", items_bbox), ("items filter", items_filter),
                ("one item", one_item), ("queryables", queryables)]:
    checks.guard(name, f)

checks.exit()
