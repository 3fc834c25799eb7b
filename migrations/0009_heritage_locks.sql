-- The heritage lock: a graded heritage building is locked (the Building department may
-- not process a plan for it) unless this table says otherwise — cleared for one
-- application, or released. Every change is also in the audit chain.
CREATE TABLE heritage_locks (
    asset_id    INTEGER PRIMARY KEY REFERENCES assets (id) ON DELETE CASCADE,
    state       TEXT    NOT NULL CHECK (state IN ('locked', 'cleared', 'released')),
    application TEXT,
    reason      TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    actor       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    CHECK (state != 'cleared' OR application IS NOT NULL)
);
