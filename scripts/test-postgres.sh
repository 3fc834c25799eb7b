#!/usr/bin/env bash
# The Rust test suite against PostgreSQL + PostGIS: starts (and if need be installs) the
# server with scripts/postgres.sh, then runs `cargo test` with HERITAGE_ATLAS_TEST_POSTGRES
# set, so that every test's database is a fresh PostgreSQL database of its own
# (tests/common: open_store) instead of a SQLite file. Extra arguments go to `cargo test`
# (e.g. `--test suite complaints::`). Tests that exercise SQLite's own file (backup's VACUUM INTO,
# the faults of a full or read-only disk) are listed in SQLITE_ONLY and skipped here.
set -euo pipefail
cd "$(dirname "$0")/.."
url="$(bash scripts/postgres.sh | tail -1)"
export HERITAGE_ATLAS_TEST_POSTGRES="$url"
skip=()
for t in ${SQLITE_ONLY:-}; do skip+=(--skip "$t"); done
exec cargo test "$@" -- "${skip[@]}"
