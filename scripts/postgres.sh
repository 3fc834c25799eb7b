#!/usr/bin/env bash
# Installs and starts, idempotently, the PostgreSQL the `--db postgres://…` store and its
# tests use: Debian 12's PostgreSQL 15 with PostGIS 3, cluster 15/main on 127.0.0.1:5432,
# a role `atlas` (password `atlas`, CREATEDB: `#[sqlx::test]` makes a database per test)
# owning a database `atlas` with PostGIS in it. Run as root; no systemd needed
# (pg_ctlcluster starts the server itself). Prints the URL to pass as `--db` last.
#
# PostGIS is not a trusted extension, so `atlas` cannot create it: it is created here, as
# the superuser, in `atlas` and in template1 — every database `atlas` creates later (a
# test's, a check's) has it, and the migrations' `CREATE EXTENSION IF NOT EXISTS postgis`
# finds it there.
#
# Text must sort and compare as in SQLite (by code point): the databases are made with
# the C.UTF-8 locale, and a cluster whose template1 sorts otherwise is reported (the
# databases `#[sqlx::test]` makes are copies of template1). See docs/postgres.md.
set -euo pipefail
VERSION=15
CLUSTER=main
PORT=5432
ROLE=atlas
PASSWORD=atlas
DB=atlas

need=()
[ -x "/usr/lib/postgresql/$VERSION/bin/postgres" ] || need+=("postgresql-$VERSION")
[ -f "/usr/share/postgresql/$VERSION/extension/postgis.control" ] || need+=("postgresql-$VERSION-postgis-3")
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Debian makes the main cluster when the server package is installed; an image built with
# create_main_cluster = false has none.
pg_lsclusters -h | awk '{print $1, $2}' | grep -qx "$VERSION $CLUSTER" ||
  pg_createcluster --port "$PORT" --locale C.UTF-8 "$VERSION" "$CLUSTER"
# pg_ctlcluster status: 0 running, 3 not running.
#
# A cluster that was not shut down cleanly (a machine image taken while it ran) first
# recovers, and with the default recovery_init_sync_method it fsyncs every file of every
# database before it takes connections: over a minute on a slow disk, past pg_ctl's
# default 60 s wait, which then reports a failure while the server goes on starting.
# So: wait up to WAIT_S for the start, and poll as long again after a start that says it
# timed out; and set syncfs (one sync per file system, PostgreSQL 14+) for next time.
# A server killed a moment ago can still look running to `status` (its children not yet
# gone), so the start is tried again every 10 s while no connection is taken.
WAIT_S=600
start_if_down() {
  pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1 && return
  pg_ctlcluster "$VERSION" "$CLUSTER" start -- -t "$WAIT_S" ||
    echo "pg_ctlcluster start did not finish; waiting for the server" >&2
}

ready=""
for i in $(seq 0 $((WAIT_S * 10))); do
  if [ $((i % 100)) -eq 0 ]; then start_if_down; fi
  if pg_isready -q -h 127.0.0.1 -p "$PORT"; then ready=1; break; fi
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "PostgreSQL $VERSION/$CLUSTER does not accept connections on 127.0.0.1:$PORT" >&2
  tail -n 20 "/var/log/postgresql/postgresql-$VERSION-$CLUSTER.log" >&2 || true
  exit 1
fi

su_psql() { runuser -u postgres -- psql -p "$PORT" -X -q -v ON_ERROR_STOP=1 "$@"; }

if [ -z "$(su_psql -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" ]; then
  su_psql -d postgres -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
fi
if [ -z "$(su_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  su_psql -d postgres -c "CREATE DATABASE $DB OWNER $ROLE TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'"
fi
collate="$(su_psql -d postgres -tAc "SELECT datcollate FROM pg_database WHERE datname = 'template1'")"
case "$collate" in
  C | POSIX | C.UTF-8 | C.utf8) ;;
  *) echo "warning: template1 sorts text as $collate, not by code point as SQLite does;" \
       "databases made from it (tests') may order names differently" >&2 ;;
esac
for d in template1 "$DB"; do
  su_psql -d "$d" -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS postgis"
done

if [ "$(su_psql -d postgres -tAc "SHOW recovery_init_sync_method")" != syncfs ]; then
  su_psql -d postgres -c "ALTER SYSTEM SET recovery_init_sync_method = syncfs" -c "SELECT pg_reload_conf()" >/dev/null
fi

# The role and its password as this script says, even if someone changed them since.
su_psql -d postgres -c "ALTER ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
PGPASSWORD="$PASSWORD" psql -X -q -h 127.0.0.1 -p "$PORT" -U "$ROLE" -d "$DB" -tAc "SELECT postgis_lib_version()" >/dev/null

echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
