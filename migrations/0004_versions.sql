-- Every version of every asset, kept: the register as it stood on any date.
--
-- Versions are written by triggers on `assets`, in the transaction of the change, so no
-- write path (an edit, an import, an inspection moving condition) can forget one. Who
-- made the change and why is read from `edit_context`, the one row a writing transaction
-- puts down first and removes before it commits; a write to `assets` without it is
-- refused, so no change is ever anonymous.

-- Delisting: the asset leaves the map, queries, tiles and exports; its row and its
-- history stay.
ALTER TABLE assets ADD COLUMN delisted_at TEXT;
ALTER TABLE assets ADD COLUMN delisted_reason TEXT;
CREATE INDEX assets_listed ON assets (layer, id) WHERE delisted_at IS NULL;

CREATE TABLE edit_context (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    role      TEXT,
    action    TEXT    NOT NULL,
    note      TEXT,
    audit_seq INTEGER
);

CREATE TABLE asset_versions (
    asset_id              INTEGER NOT NULL,
    version               INTEGER NOT NULL,
    at                    TEXT    NOT NULL,
    actor                 TEXT    NOT NULL,
    role                  TEXT,
    action                TEXT    NOT NULL,
    note                  TEXT,
    audit_seq             INTEGER,
    code                  TEXT    NOT NULL,
    layer                 TEXT    NOT NULL,
    kind                  TEXT    NOT NULL,
    name                  TEXT,
    name_bn               TEXT,
    ward                  INTEGER,
    borough               TEXT,
    address               TEXT,
    condition             TEXT    NOT NULL,
    condition_assessed_at TEXT,
    last_maintained_at    TEXT,
    grade                 TEXT,
    year_built            INTEGER,
    owner                 TEXT,
    area_m2               REAL,
    status                TEXT,
    protected             INTEGER,
    source                TEXT,
    extra                 TEXT    NOT NULL,
    geom                  BLOB    NOT NULL,
    minx                  REAL    NOT NULL,
    miny                  REAL    NOT NULL,
    maxx                  REAL    NOT NULL,
    maxy                  REAL    NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    delisted_at           TEXT,
    delisted_reason       TEXT,
    PRIMARY KEY (asset_id, version)
);
-- The register as of a date: per layer, each asset's last version at or before it.
CREATE INDEX asset_versions_layer_at ON asset_versions (layer, at);
CREATE INDEX asset_versions_asset_at ON asset_versions (asset_id, at);

CREATE TRIGGER asset_versions_no_update BEFORE UPDATE ON asset_versions
BEGIN SELECT RAISE(ABORT, 'asset versions are append-only'); END;
CREATE TRIGGER asset_versions_no_delete BEFORE DELETE ON asset_versions
BEGIN SELECT RAISE(ABORT, 'asset versions are append-only'); END;

-- The versions the register already holds (a database from before versions were kept):
-- each asset's current state, the only one on record, stamped from when the asset was
-- created (to the millisecond, as every version is, so stamps compare as text). As of a
-- date before this migration an asset shows this state, and its note says that changes
-- before versions were kept are not known.
INSERT INTO asset_versions
SELECT id, version, strftime('%Y-%m-%dT%H:%M:%fZ', created_at), 'register', NULL, 'recorded',
       'the state on record when versions began to be kept; earlier changes were not kept', NULL,
       code, layer, kind, name, name_bn, ward, borough, address, condition,
       condition_assessed_at, last_maintained_at, grade, year_built, owner, area_m2, status,
       protected, source, extra, geom, minx, miny, maxx, maxy, created_at, updated_at,
       delisted_at, delisted_reason
FROM assets;

CREATE TRIGGER assets_need_context_insert BEFORE INSERT ON assets
WHEN NOT EXISTS (SELECT 1 FROM edit_context)
BEGIN SELECT RAISE(ABORT, 'a change to the register must say who makes it (edit_context)'); END;
CREATE TRIGGER assets_need_context_update BEFORE UPDATE ON assets
WHEN NOT EXISTS (SELECT 1 FROM edit_context)
BEGIN SELECT RAISE(ABORT, 'a change to the register must say who makes it (edit_context)'); END;

CREATE TRIGGER assets_version_insert AFTER INSERT ON assets
BEGIN
    INSERT INTO asset_versions
    SELECT NEW.id, NEW.version, c.at, c.actor, c.role, c.action, c.note, c.audit_seq,
           NEW.code, NEW.layer, NEW.kind, NEW.name, NEW.name_bn, NEW.ward, NEW.borough,
           NEW.address, NEW.condition, NEW.condition_assessed_at, NEW.last_maintained_at,
           NEW.grade, NEW.year_built, NEW.owner, NEW.area_m2, NEW.status, NEW.protected,
           NEW.source, NEW.extra, NEW.geom, NEW.minx, NEW.miny, NEW.maxx, NEW.maxy,
           NEW.created_at, NEW.updated_at, NEW.delisted_at, NEW.delisted_reason
    FROM edit_context c;
END;

CREATE TRIGGER assets_version_update AFTER UPDATE ON assets
WHEN NEW.version <> OLD.version
BEGIN
    INSERT INTO asset_versions
    SELECT NEW.id, NEW.version, c.at, c.actor, c.role, c.action, c.note, c.audit_seq,
           NEW.code, NEW.layer, NEW.kind, NEW.name, NEW.name_bn, NEW.ward, NEW.borough,
           NEW.address, NEW.condition, NEW.condition_assessed_at, NEW.last_maintained_at,
           NEW.grade, NEW.year_built, NEW.owner, NEW.area_m2, NEW.status, NEW.protected,
           NEW.source, NEW.extra, NEW.geom, NEW.minx, NEW.miny, NEW.maxx, NEW.maxy,
           NEW.created_at, NEW.updated_at, NEW.delisted_at, NEW.delisted_reason
    FROM edit_context c;
END;

-- An asset row is never deleted any more (delisting keeps it); refuse it, so history
-- cannot lose its subject.
CREATE TRIGGER assets_no_delete BEFORE DELETE ON assets
BEGIN SELECT RAISE(ABORT, 'assets are delisted, not deleted'); END;
