-- PostgreSQL form of migrations/0003_audit.sql.
-- The audit log: one row per change staff make (inspections, maintenance, documents,
-- complaint triage), appended in the same transaction as the change. Each entry's hash
-- covers its fields and the previous entry's hash, so editing or removing a past entry
-- breaks every hash after it (`heritage-atlas audit verify`, `GET /audit/verify`).
--
-- `seq` is always given by the writer (the last entry's seq + 1, read under a lock that
-- serialises appends: see docs/postgres.md), so it is a plain key here, not an identity.
CREATE TABLE audit_log (
    seq        BIGINT  PRIMARY KEY,
    at         TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    role       TEXT,
    action     TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    public     BIGINT  NOT NULL,
    detail     TEXT    NOT NULL,
    prev_hash  TEXT    NOT NULL CHECK (length(prev_hash) = 64),
    hash       TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64)
);
CREATE INDEX audit_subject ON audit_log (subject, seq);

-- SQLite's `RAISE(ABORT, msg)` in a BEFORE trigger: the statement fails with `msg` and
-- the transaction can go on (or roll back), as here. One function serves every
-- append-only table; its message is the trigger's argument.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
FOR EACH ROW EXECUTE FUNCTION refuse_change('the audit log is append-only');
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION refuse_change('the audit log is append-only');
-- SQLite has no TRUNCATE; PostgreSQL's skips row triggers, so it is refused on its own.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('the audit log is append-only');
