#!/usr/bin/env bash
# Installs, idempotently, the outside programs the real-client suites need: GDAL
# (ogrinfo/ogr2ogr), Debian's Chromium, Tesseract with its Bengali model, Poppler, zbar,
# Bengali fonts, Python's mapbox-vector-tile, shapely and
# openapi-spec-validator, prometheus-client (its parser reads /metrics), OWSLib, aiosmtpd
# and openssl (a real SMTP server and its test CA for tests/suite/notify_smtp.rs), and
# playwright-core (npm ci, pinned by scripts/browser/package-lock.json).
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v ogrinfo >/dev/null 2>&1 || need+=(gdal-bin)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v node >/dev/null 2>&1 || need+=(nodejs npm)
# Documents: OCR of scans in Bengali and English, PDF pages rendered for it, QR codes read
# back in tests, and Bengali fonts for the scans the tests make.
command -v tesseract >/dev/null 2>&1 || need+=(tesseract-ocr)
[ -f /usr/share/tesseract-ocr/5/tessdata/ben.traineddata ] || need+=(tesseract-ocr-ben)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v zbarimg >/dev/null 2>&1 || need+=(zbar-tools)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# Two replicas behind a reverse proxy (scripts/replicas_check.py, deploy/nginx.conf).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)
fc-list :lang=bn 2>/dev/null | grep -q . || need+=(fonts-beng fonts-noto-core)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
python3 -c "import mapbox_vector_tile, shapely, numpy" 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check "mapbox-vector-tile==2.2.0" "shapely==2.2.0"
python3 -c "import prometheus_client" 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check "prometheus-client==0.26.0"
python3 -c "import owslib" 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check "OWSLib==0.35.0"
python3 -c "import openapi_spec_validator" 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check "openapi-spec-validator==0.9.0"
# Notifications are checked against a real SMTP server (aiosmtpd) and feeds read by feedparser.
python3 -c "import aiosmtpd, feedparser" 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check "aiosmtpd==1.4.6" "feedparser==6.0.14"
python3 -c 'import pmtiles' 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check "pmtiles==3.8.1"
(cd scripts/browser && npm ci --no-audit --no-fund --silent)
# The basemap style generator and the style-spec validator (scripts/basemap-layers.mjs).
(cd scripts/basemap && npm ci --no-audit --no-fund --silent)
ogrinfo --version
chromium --version
