-- The audit log: one row per change staff make (inspections, maintenance, documents,
-- complaint triage), appended in the same transaction as the change. Each entry's hash
-- covers its fields and the previous entry's hash, so editing or removing a past entry
-- breaks every hash after it (`heritage-atlas audit verify`, `GET /audit/verify`).
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    role       TEXT,
    action     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    public     INTEGER NOT NULL,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash       TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64)
);
CREATE INDEX audit_subject ON audit_log (subject, seq);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
