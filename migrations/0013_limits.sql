-- Per-client limits and the login throttle, kept in the database so that every server on
-- it counts the same client once (src/store/limits.rs). State of the moment, not records:
-- rows past their time are swept, and `migrate --to` leaves these tables out. A database
-- file keeps them in a file of their own beside it (NAME.limits, made with this very file:
-- hence IF NOT EXISTS), so that taking from a bucket never waits for the register's
-- writer; these are used by a database in memory, and keep the two dialects' tables the
-- same.

-- One bucket per (kind, client), as GCRA's theoretical arrival time: the bucket is full
-- once `tat` has passed (a row past it is the same as no row).
CREATE TABLE IF NOT EXISTS rate_limits (
    key TEXT NOT NULL PRIMARY KEY,
    tat REAL NOT NULL
) WITHOUT ROWID;

-- Failed logins in a row per key (a user name, a client), when the last one was, and an
-- attempt being checked (`busy_until`: a lease, in case its server dies meanwhile).
CREATE TABLE IF NOT EXISTS login_throttle (
    key          TEXT    NOT NULL PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    last_failure REAL,
    busy_until   REAL
) WITHOUT ROWID;
