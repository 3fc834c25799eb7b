-- Per-client limits and the login throttle, kept in the database so that every server on
-- it counts the same client once (src/store/limits.rs). State of the moment, not records:
-- rows past their time are swept, and `migrate --to` leaves these tables out.

-- One bucket per (kind, client), as GCRA's theoretical arrival time: the bucket is full
-- once `tat` has passed (a row past it is the same as no row).
CREATE TABLE rate_limits (
    key TEXT NOT NULL PRIMARY KEY,
    tat REAL NOT NULL
) WITHOUT ROWID;

-- Failed logins in a row per key (a user name, a client), when the last one was, and an
-- attempt being checked (`busy_until`: a lease, in case its server dies meanwhile).
CREATE TABLE login_throttle (
    key          TEXT    NOT NULL PRIMARY KEY,
    failures     INTEGER NOT NULL DEFAULT 0,
    last_failure REAL,
    busy_until   REAL
) WITHOUT ROWID;
