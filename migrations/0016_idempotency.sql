-- POSTs made with an `Idempotency-Key` header and the answers they got, so that a client
-- retrying one (the web app's offline queue after a lost answer) gets the first answer
-- again instead of filing twice (src/http/idempotency.rs). Kept a day, then swept;
-- `migrate --to` leaves them out.
CREATE TABLE idempotency_keys (
    -- Who asked (a hash of the credentials sent, or of none) and the client's key.
    scope       TEXT NOT NULL,
    key         TEXT NOT NULL,
    -- A hash of the request (method, target, body): the same key sent with another
    -- request is refused.
    fingerprint TEXT NOT NULL,
    -- Seconds since 1970: when the first request began (or a stale one was taken over).
    created_at  REAL NOT NULL,
    -- The answer, once made; NULL while the first request is still being answered.
    status      INTEGER,
    headers     TEXT,
    body        BLOB,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
