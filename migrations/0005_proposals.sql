-- Changes to the register proposed by field staff, for an officer to approve or reject
-- (maker-checker). A proposal is made against a version of the asset; one whose asset
-- has changed since is rebased or rejected, never applied blindly.
CREATE TABLE proposals (
    id             INTEGER PRIMARY KEY,
    layer          TEXT    NOT NULL,
    -- NULL: a new asset, until it is approved.
    asset_id       INTEGER REFERENCES assets (id),
    -- The version proposed against (NULL for a new asset).
    base_version   INTEGER,
    action         TEXT    NOT NULL CHECK (action IN ('create', 'replace', 'update', 'delist')),
    -- The proposed whole state, a GeoJSON Feature (NULL for a delisting).
    feature        TEXT,
    -- For an update: the merge patch as sent, so it can be applied again on a newer version.
    patch          TEXT,
    -- The proposer's note; for a delisting, the reason.
    note           TEXT,
    ward           INTEGER,
    proposer       TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'pending'
                           CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at     TEXT    NOT NULL,
    decided_at     TEXT,
    decided_by     TEXT,
    decision_note  TEXT,
    -- The asset's version the approval wrote.
    result_version INTEGER,
    CHECK ((base_version IS NULL) = (action = 'create')),
    CHECK ((feature IS NULL) = (action = 'delist'))
);
CREATE INDEX proposals_queue ON proposals (status, ward, id);
CREATE INDEX proposals_asset ON proposals (asset_id, id);
