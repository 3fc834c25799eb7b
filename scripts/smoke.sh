#!/usr/bin/env bash
# End-to-end check with clients we did not write: start the release server on a fresh
# database, read its answers with GDAL, export and re-import through GDAL, restart and
# check nothing was lost. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="$PWD/target/release/heritage-atlas"
WORK="$(mktemp -d)"
PORT="${SMOKE_PORT:-18080}"
URL="http://127.0.0.1:$PORT"
PID=""
DASH_PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; [ -n "$DASH_PID" ] && kill "$DASH_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
passed=0; failed=0
check() { # check NAME EXPECTED ACTUAL (with the seconds since the start, so a slow check shows)
  if [ "$2" == "$3" ]; then passed=$((passed + 1)); echo "ok   [${SECONDS}s] $1"; else failed=$((failed + 1)); echo "FAIL [${SECONDS}s] $1: expected [$2], got [$3]"; fi
}
start() {
  # Python and the browser both file complaints from 127.0.0.1: room for both, still a limit.
  # --codes-to-log: applicants' one-time codes go to server.log, where the browser test reads them.
  "$BIN" --db "$WORK/atlas.db" serve --bind "127.0.0.1:$PORT" --complaints-per-minute 60 --codes-to-log >>"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 100); do curl -sf "$URL/health" >/dev/null 2>&1 && return 0; sleep 0.1; done
  cat "$WORK/server.log"; echo "server did not start"; exit 1
}
count() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# Each browser suite is given a time limit, so a page that waits for an event that never
# comes fails its suite instead of holding CI until its own limit (the web app takes
# 7–8 minutes on a 2-core machine).
browser() { timeout --kill-after=10 "${BROWSER_LIMIT_S:-1200}" node "$@"; }

# Complaints need an Open311 API key and an officer: made with the CLI before the first
# start (on a fresh file that only creates the tables; the start still loads the bundled data).
api_key="$("$BIN" --db "$WORK/atlas.db" apikey add smoke 2>>"$WORK/cli.log")" || cat "$WORK/cli.log"
check "apikey add prints a 64-hex key" 1 "$([[ "$api_key" =~ ^[0-9a-f]{64}$ ]] && echo 1 || echo 0)"
officer_password="smoke-officer-$RANDOM-$RANDOM"
# officer1 holds every duty of an application's path, so the browser test can take one to its decision.
check "user add officer1" 0 "$(echo "$officer_password" | "$BIN" --db "$WORK/atlas.db" user add officer1 --role officer \
  --duty eh_scrutiny --duty building_scrutiny --duty hcc_secretary --duty mic_clerk --duty eh_decision >>"$WORK/cli.log" 2>&1; echo $?)"
field_password="smoke-field-$RANDOM-$RANDOM"
check "user add field79" 0 "$(echo "$field_password" | "$BIN" --db "$WORK/atlas.db" user add field79 --role field_staff --ward 79 >>"$WORK/cli.log" 2>&1; echo $?)"

start
health="$(curl -sf "$URL/health")"
check "bundled heritage loaded" 62 "$(echo "$health" | count "d['layers']['heritage']")"
check "synthetic wards loaded" 144 "$(echo "$health" | count "d['layers']['wards']")"

# GDAL reads our GeoJSON answers over HTTP.
q="nearby?lon=88.3426&lat=22.5448&radius_m=2000&limit=25"
ours="$(curl -sf "$URL/$q" | count "len(d['features'])")"
gdal="$(ogrinfo -ro -al -so "GeoJSON:$URL/$q" | sed -n 's/^Feature Count: //p')"
check "ogrinfo reads /nearby" "$ours" "$gdal"
check "Victoria Memorial is 0 m from itself" "Victoria Memorial 0.0" "$(curl -sf "$URL/$q" | count "d['features'][0]['properties']['name'] + ' ' + str(d['features'][0]['properties']['distance_m'])")"
check "search in Bengali" "Victoria Memorial" "$(curl -sf "$URL/search?q=%E0%A6%AD%E0%A6%BF%E0%A6%95%E0%A7%8D%E0%A6%9F%E0%A7%8B%E0%A6%B0%E0%A6%BF%E0%A7%9F%E0%A6%BE" | count "d['features'][0]['properties']['name']")"
check "bad coordinates are a 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/nearby?lon=NaN&lat=22")"

# Export, convert with GDAL to FlatGeobuf, import that into a fresh database.
"$BIN" --db "$WORK/atlas.db" export --layer water_bodies -o "$WORK/water.geojson" 2>/dev/null
check "ogrinfo counts the export" 12 "$(ogrinfo -ro -al -so "$WORK/water.geojson" | sed -n 's/^Feature Count: //p')"
ogr2ogr -f FlatGeobuf "$WORK/water.fgb" "$WORK/water.geojson" -nlt PROMOTE_TO_MULTI
"$BIN" --db "$WORK/copy.db" import "$WORK/water.fgb" --layer water_bodies 2>/dev/null
"$BIN" --db "$WORK/copy.db" export --layer water_bodies -o "$WORK/water2.geojson" 2>/dev/null
check "FlatGeobuf from GDAL re-imports whole" 12 "$(count "len(d['features'])" < "$WORK/water2.geojson")"
check "Bengali names survive the round trip" "$(count "sorted(f['properties']['name_bn'] for f in d['features'])" < "$WORK/water.geojson")" "$(count "sorted(f['properties']['name_bn'] for f in d['features'])" < "$WORK/water2.geojson")"

# Tiles decoded by mapbox-vector-tile and GDAL, areas checked against shapely.
if python3 scripts/tiles_check.py "$URL" > "$WORK/tiles_check.txt" 2>&1; then
  check "tiles: $(tail -1 "$WORK/tiles_check.txt")" 0 0
else
  cat "$WORK/tiles_check.txt"; check "tiles_check.py" 0 1
fi

# Complaints and Open311 read with urllib, ElementTree and mapbox-vector-tile: filing, the
# public views (no reporter details), the complaints tile, an officer resolving one. Sends
# 4 of the default 10 complaints a minute per client.
if ATLAS_API_KEY="$api_key" ATLAS_OFFICER_PASSWORD="$officer_password" \
  python3 scripts/complaints_check.py "$URL" --officer officer1 > "$WORK/complaints_check.txt" 2>&1; then
  check "complaints: $(tail -1 "$WORK/complaints_check.txt")" 0 0
else
  cat "$WORK/complaints_check.txt"; check "complaints_check.py" 0 1
fi

# OGC API - Features read by GDAL's OAPIF driver (collections, counts, fields, Bengali names,
# following our next links), our FlatGeobuf/GeoJSON/CSV downloads read back by ogr2ogr, a
# GDAL bbox read against shapely's brute force, /api validated by openapi-spec-validator and
# every path it lists asked, crs= output against gdaltransform, 400s for bad input.
if python3 scripts/ogc_check.py "$URL" > "$WORK/ogc_check.txt" 2>&1; then
  check "OGC API: $(tail -1 "$WORK/ogc_check.txt")" 0 0
else
  cat "$WORK/ogc_check.txt"; check "ogc_check.py" 0 1
fi

# OWSLib, a common Python OGC API client, with its own defaults (Accept: */*).
if python3 scripts/owslib_check.py "$URL" > "$WORK/owslib_check.txt" 2>&1; then
  check "OWSLib: $(tail -1 "$WORK/owslib_check.txt")" 0 0
else
  cat "$WORK/owslib_check.txt"; check "owslib_check.py" 0 1
fi

# The map page in Chromium: loads, renders our layers, no console errors, no off-site requests.
mkdir -p "${ARTIFACTS:-target/screenshots}"
if browser scripts/browser/map.mjs "$URL" "${ARTIFACTS:-target/screenshots}/map-1280.png" > "$WORK/browser.txt" 2>&1; then
  check "browser: $(tail -1 "$WORK/browser.txt")" 0 0
else
  cat "$WORK/browser.txt"; check "browser map check" 0 1
fi

# The dashboard and the monthly ward report in Chromium, on a second server over a fresh
# database of 3,000 synthetic complaints: headline figures and charts' tables against
# /stats/complaints, each choropleth metric's shading of known wards against /stats/wards,
# filters kept in the URL across a reload, a ward's report printed to PDF (pdftotext finds
# its overdue ticket), a borough's a sheet per ward, axe at 360 and 1280 px in EN and BN.
DASH_PORT=$((PORT + 1))
DASH_URL="http://127.0.0.1:$DASH_PORT"
check "generate-complaints --count 3000 --seed 7" 0 "$("$BIN" --db "$WORK/dash.db" generate-complaints --count 3000 --seed 7 >>"$WORK/cli.log" 2>&1; echo $?)"
"$BIN" --db "$WORK/dash.db" serve --bind "127.0.0.1:$DASH_PORT" >>"$WORK/dash-server.log" 2>&1 &
DASH_PID=$!
for _ in $(seq 1 100); do curl -sf "$DASH_URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
# Run beside the web app's checks below (a server and database of its own), so that the two
# browsers share the two cores; its verdict is read after the screening check.
browser scripts/browser/dashboard.mjs "$DASH_URL" "${ARTIFACTS:-target/screenshots}" > "$WORK/dashboard.txt" 2>&1 &
DASH_NODE=$!

# The web app in Chromium: panel, search (EN/BN), report, track, XSS as text, export read
# by GDAL, staff sign-in and resolve, language switch, screenshots at 360 and 1280 px.
if STAFF_USER=officer1 STAFF_PASSWORD="$officer_password" FIELD_USER=field79 FIELD_PASSWORD="$field_password" \
  browser scripts/browser/app.mjs "$URL" "${ARTIFACTS:-target/screenshots}" > "$WORK/app.txt" 2>&1; then
  check "web app: $(tail -1 "$WORK/app.txt")" 0 0
  grep "^info" "$WORK/app.txt" || true
else
  cat "$WORK/app.txt"; check "web app (scripts/browser/app.mjs)" 0 1
fi

# Online applications in Chromium: an applicant signs in with the code from server.log, picks
# HER-0001 on the map, sees demolition refused, uploads the documents, resumes the draft after
# a reload, submits and tracks it; officer1 forwards it from the desk and takes it through the
# HCC and the MIC to the letter and the register of decisions. Screenshots at 360 and 1280 px.
if SERVER_LOG="$WORK/server.log" STAFF_USER=officer1 STAFF_PASSWORD="$officer_password" \
  browser scripts/browser/apply.mjs "$URL" "${ARTIFACTS:-target/screenshots}" > "$WORK/apply.txt" 2>&1; then
  check "applications: $(tail -1 "$WORK/apply.txt")" 0 0
else
  cat "$WORK/apply.txt"; check "applications (scripts/browser/apply.mjs)" 0 1
fi

# Heritage-impact screening in Chromium: a line drawn past Victoria Memorial by mouse clicks
# (and one by keyboard), a GeoJSON and a CSV file uploaded, each list equal to POST /screening's
# for the same geometry; the CSV and GeoJSON downloads (ogrinfo), the printed report (pdftotext,
# pdfimages: the nearest place, its distance, the map's picture); axe at 360 and 1280 px.
if browser scripts/browser/screening.mjs "$URL" "${ARTIFACTS:-target/screenshots}" > "$WORK/screening.txt" 2>&1; then
  check "screening: $(tail -1 "$WORK/screening.txt")" 0 0
else
  cat "$WORK/screening.txt"; check "screening (scripts/browser/screening.mjs)" 0 1
fi

# Offline field mode in Chromium (after app.mjs: it adds an inspection to HER-0001): officer1
# keeps ward 79 offline, the network goes, the page reloads from the service worker, search,
# the asset panel and Near me answer from the saved ward, an inspection waits in the outbox
# and is sent once when the network returns; sent again with its Idempotency-Key, still once.
if STAFF_USER=officer1 STAFF_PASSWORD="$officer_password" \
  browser scripts/browser/offline.mjs "$URL" "${ARTIFACTS:-target/screenshots}" > "$WORK/offline.txt" 2>&1; then
  check "offline field mode: $(tail -1 "$WORK/offline.txt")" 0 0
  grep "^info" "$WORK/offline.txt" || true
else
  cat "$WORK/offline.txt"; check "offline field mode (scripts/browser/offline.mjs)" 0 1
fi

if wait "$DASH_NODE"; then
  check "dashboard: $(tail -1 "$WORK/dashboard.txt")" 0 0
else
  cat "$WORK/dashboard.txt"; check "dashboard (scripts/browser/dashboard.mjs)" 0 1
fi
kill "$DASH_PID"; wait "$DASH_PID" 2>/dev/null || true; DASH_PID=""

# The street basemap and a built archive, on the second port: synthetic streets in the
# Protomaps schema (generate-basemap), the register drawn into a PMTiles archive by
# `tiles build` (each tile read back by mapbox-vector-tile and compared with the server's),
# then in Chromium: streets and their names under our layers at z15 over Victoria Memorial
# (a screenshot), OSM credited, Bengali names after the switch, and the archive read through
# MapLibre's pmtiles:// protocol.
check "styles/basemap/layers.json is what scripts/basemap-layers.mjs makes, and valid" 0 "$(node scripts/basemap-layers.mjs --check >>"$WORK/cli.log" 2>&1; echo $?)"
check "generate-basemap" 0 "$("$BIN" generate-basemap -o "$WORK/streets.pmtiles" >>"$WORK/cli.log" 2>&1; echo $?)"
check "tiles build z0–16" 0 "$("$BIN" --db "$WORK/atlas.db" tiles build -o "$WORK/city.pmtiles" --maxzoom 16 >>"$WORK/cli.log" 2>&1; echo $?)"
archive_check="$(python3 - "$WORK/city.pmtiles" "$URL" << 'PY' 2>&1
import gzip, sys, urllib.request
import mapbox_vector_tile
from pmtiles.reader import Reader, MmapSource, all_tiles
n = 0
with open(sys.argv[1], "rb") as f:
    for (z, x, y), data in all_tiles(MmapSource(f)):
        if z < 14:
            continue
        req = urllib.request.Request(f"{sys.argv[2]}/tiles/heritage,water_bodies,parks,wards/{z}/{x}/{y}.mvt",
                                     headers={"Accept-Encoding": "identity"})
        ours = urllib.request.urlopen(req).read()
        if gzip.decompress(data) != ours:
            print(f"tile {z}/{x}/{y} differs"); sys.exit(1)
        mapbox_vector_tile.decode(ours)
        n += 1
print("ok" if n > 50 else f"only {n} tiles at z14+")
PY
)"
check "every z14–16 tile of the archive is the server's (read by mapbox-vector-tile)" ok "$archive_check"
"$BIN" --db "$WORK/dash.db" serve --bind "127.0.0.1:$DASH_PORT" --basemap "$WORK/streets.pmtiles" \
  --archive "city=$WORK/city.pmtiles" >>"$WORK/dash-server.log" 2>&1 &
DASH_PID=$!
for _ in $(seq 1 100); do curl -sf "$DASH_URL/health" >/dev/null 2>&1 && break; sleep 0.1; done
if browser scripts/browser/basemap.mjs "$DASH_URL" "${ARTIFACTS:-target/screenshots}" > "$WORK/basemap.txt" 2>&1; then
  check "basemap and archives: $(tail -1 "$WORK/basemap.txt")" 0 0
else
  cat "$WORK/basemap.txt"; check "basemap and archives (scripts/browser/basemap.mjs)" 0 1
fi
kill "$DASH_PID"; wait "$DASH_PID" 2>/dev/null || true; DASH_PID=""

# /metrics read by the Prometheus project's own Python parser: every family parses, and the
# requests made above are counted.
metrics_check="$(curl -sf "$URL/metrics" | python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(sys.stdin.read())}
tiles = sum(s.value for s in fams["heritage_atlas_http_requests"].samples
            if s.labels.get("route", "").startswith("/tiles/{layers}/") and s.name.endswith("_total"))
hist = fams["heritage_atlas_http_request_duration_seconds"].type
print("ok" if tiles > 0 and hist == "histogram" and "heritage_atlas_tile_cache_hits" in fams else f"tiles {tiles} hist {hist} {sorted(fams)}")
' 2>&1)"
check "/metrics parses with prometheus_client and counts the tiles asked" ok "$metrics_check"

# Restart: the same file, nothing lost, nothing loaded twice.
requests="$(curl -sf "$URL/open311/v2/requests.json")"
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
before_restart="$(wc -l < "$WORK/server.log")"
start
check "restart keeps every asset" "$health" "$(curl -sf "$URL/health")"
# The clean stop above wrote the index snapshot (atlas.index); this start read it.
check "restart reads the index snapshot written at the stop" 1 \
  "$(tail -n +"$((before_restart + 1))" "$WORK/server.log" | grep -c "index loaded from its snapshot")"
check "the snapshot lies beside the database" 1 "$([ -s "$WORK/atlas.index" ] && echo 1 || echo 0)"
check "restart keeps all $(echo "$requests" | count "len(d)") complaints" "$requests" "$(curl -sf "$URL/open311/v2/requests.json")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
