-- Per-client limits and the login throttle, kept in the database so that every replica
-- counts the same client once (src/store/limits.rs). State of the moment, not records:
-- UNLOGGED (no WAL, not sent to a standby, emptied after a crash, which only forgives
-- the clients of that minute); rows past their time are swept; `migrate --to` leaves
-- these tables out.

-- One bucket per (kind, client), as GCRA's theoretical arrival time (seconds since
-- 1970): the bucket is full once `tat` has passed.
CREATE UNLOGGED TABLE rate_limits (
    key TEXT             NOT NULL PRIMARY KEY,
    tat DOUBLE PRECISION NOT NULL
);

-- Failed logins in a row per key (a user name, a client), when the last one was, and an
-- attempt being checked (`busy_until`: a lease, in case its replica dies meanwhile).
CREATE UNLOGGED TABLE login_throttle (
    key          TEXT             NOT NULL PRIMARY KEY,
    failures     BIGINT           NOT NULL DEFAULT 0,
    last_failure DOUBLE PRECISION,
    busy_until   DOUBLE PRECISION
);
