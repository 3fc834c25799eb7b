-- PostgreSQL form of migrations/0009_heritage_locks.sql.
-- The heritage lock: a graded heritage building is locked (the Building department may
-- not process a plan for it) unless this table says otherwise — cleared for one
-- application, or released. Every change is also in the audit chain.
-- (`asset_id` is SQLite's INTEGER PRIMARY KEY but always an asset's id, never made here:
-- a plain key, not an identity.)
CREATE TABLE heritage_locks (
    asset_id    BIGINT  PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    state       TEXT    NOT NULL CHECK (state IN ('locked', 'cleared', 'released')),
    application TEXT,
    reason      TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    actor       BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    CHECK (state != 'cleared' OR application IS NOT NULL)
);
