-- PostgreSQL form of migrations/0004_versions.sql.
-- Every version of every asset, kept: the register as it stood on any date.
--
-- Versions are written by triggers on `assets`, in the transaction of the change, so no
-- write path (an edit, an import, an inspection moving condition) can forget one. Who
-- made the change and why is read from `edit_context`, the one row a writing transaction
-- puts down first and removes before it commits; a write to `assets` without it is
-- refused, so no change is ever anonymous.
--
-- On PostgreSQL the one row also serialises writers to the register: a second
-- transaction's insert of row 1 waits on the first's until that one commits (having
-- deleted it) or rolls back. So versions are numbered in the order their transactions
-- commit, which the change feed relies on (`rowid` below).

-- Delisting: the asset leaves the map, queries, tiles and exports; its row and its
-- history stay.
ALTER TABLE assets ADD COLUMN delisted_at TEXT;
ALTER TABLE assets ADD COLUMN delisted_reason TEXT;
CREATE INDEX assets_listed ON assets (layer, id) WHERE delisted_at IS NULL;

CREATE TABLE edit_context (
    id        BIGINT  PRIMARY KEY CHECK (id = 1),
    at        TEXT    NOT NULL,
    actor     TEXT    NOT NULL,
    role      TEXT,
    action    TEXT    NOT NULL,
    note      TEXT,
    audit_seq BIGINT
);

-- `rowid` stands in for SQLite's implicit rowid of this table, which the change feed
-- reads (`WHERE rowid > $1 ORDER BY rowid`, `max(rowid)`): named so, those queries run
-- unchanged on both databases. It is last, so a version row's other columns keep
-- SQLite's order.
CREATE TABLE asset_versions (
    asset_id              BIGINT  NOT NULL,
    version               BIGINT  NOT NULL,
    at                    TEXT    NOT NULL,
    actor                 TEXT    NOT NULL,
    role                  TEXT,
    action                TEXT    NOT NULL,
    note                  TEXT,
    audit_seq             BIGINT,
    code                  TEXT    NOT NULL,
    layer                 TEXT    NOT NULL,
    kind                  TEXT    NOT NULL,
    name                  TEXT,
    name_bn               TEXT,
    ward                  BIGINT,
    borough               TEXT,
    address               TEXT,
    condition             TEXT    NOT NULL,
    condition_assessed_at TEXT,
    last_maintained_at    TEXT,
    grade                 TEXT,
    year_built            BIGINT,
    owner                 TEXT,
    area_m2               DOUBLE PRECISION,
    status                TEXT,
    protected             BIGINT,
    source                TEXT,
    extra                 TEXT    NOT NULL,
    geom                  geometry(Geometry, 4326) NOT NULL,
    minx                  DOUBLE PRECISION NOT NULL,
    miny                  DOUBLE PRECISION NOT NULL,
    maxx                  DOUBLE PRECISION NOT NULL,
    maxy                  DOUBLE PRECISION NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    delisted_at           TEXT,
    delisted_reason       TEXT,
    rowid                 BIGINT  GENERATED ALWAYS AS IDENTITY UNIQUE,
    PRIMARY KEY (asset_id, version)
);
-- The register as of a date: per layer, each asset's last version at or before it.
CREATE INDEX asset_versions_layer_at ON asset_versions (layer, at);
CREATE INDEX asset_versions_asset_at ON asset_versions (asset_id, at);
-- No GiST index on versions' geometry: nothing reads the history by place (it is read by
-- asset and version, or by layer and date), and one would double the spatial-index work
-- of every import.

CREATE TRIGGER asset_versions_no_update BEFORE UPDATE ON asset_versions
FOR EACH ROW EXECUTE FUNCTION refuse_change('asset versions are append-only');
CREATE TRIGGER asset_versions_no_delete BEFORE DELETE ON asset_versions
FOR EACH ROW EXECUTE FUNCTION refuse_change('asset versions are append-only');
CREATE TRIGGER asset_versions_no_truncate BEFORE TRUNCATE ON asset_versions
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('asset versions are append-only');

-- The versions the register already holds (a database from before versions were kept):
-- each asset's current state, the only one on record, stamped from when the asset was
-- created (to the millisecond, as every version is, so stamps compare as text). As of a
-- date before this migration an asset shows this state, and its note says that changes
-- before versions were kept are not known. (SQLite: strftime('%Y-%m-%dT%H:%M:%fZ', …),
-- which reads a stamp without an offset as UTC; here it is read in the session's time
-- zone. The server writes every stamp with `Z`.)
INSERT INTO asset_versions (
    asset_id, version, at, actor, role, action, note, audit_seq,
    code, layer, kind, name, name_bn, ward, borough, address, condition,
    condition_assessed_at, last_maintained_at, grade, year_built, owner, area_m2, status,
    protected, source, extra, geom, minx, miny, maxx, maxy, created_at, updated_at,
    delisted_at, delisted_reason)
SELECT id, version,
       to_char(created_at::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       'register', NULL, 'recorded',
       'the state on record when versions began to be kept; earlier changes were not kept', NULL,
       code, layer, kind, name, name_bn, ward, borough, address, condition,
       condition_assessed_at, last_maintained_at, grade, year_built, owner, area_m2, status,
       protected, source, extra, geom, minx, miny, maxx, maxy, created_at, updated_at,
       delisted_at, delisted_reason
FROM assets ORDER BY id;

-- SQLite's `WHEN NOT EXISTS (SELECT 1 FROM edit_context)`: PostgreSQL allows no query in
-- a trigger's WHEN, so the function asks.
CREATE FUNCTION assets_need_context() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM edit_context) THEN
        RAISE EXCEPTION 'a change to the register must say who makes it (edit_context)'
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER assets_need_context_insert BEFORE INSERT ON assets
FOR EACH ROW EXECUTE FUNCTION assets_need_context();
CREATE TRIGGER assets_need_context_update BEFORE UPDATE ON assets
FOR EACH ROW EXECUTE FUNCTION assets_need_context();

-- One version row from the asset as it now stands and the change's context (none is
-- written without a context row; the BEFORE triggers have refused that already).
CREATE FUNCTION assets_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO asset_versions (
        asset_id, version, at, actor, role, action, note, audit_seq,
        code, layer, kind, name, name_bn, ward, borough, address, condition,
        condition_assessed_at, last_maintained_at, grade, year_built, owner, area_m2, status,
        protected, source, extra, geom, minx, miny, maxx, maxy, created_at, updated_at,
        delisted_at, delisted_reason)
    SELECT NEW.id, NEW.version, c.at, c.actor, c.role, c.action, c.note, c.audit_seq,
           NEW.code, NEW.layer, NEW.kind, NEW.name, NEW.name_bn, NEW.ward, NEW.borough,
           NEW.address, NEW.condition, NEW.condition_assessed_at, NEW.last_maintained_at,
           NEW.grade, NEW.year_built, NEW.owner, NEW.area_m2, NEW.status, NEW.protected,
           NEW.source, NEW.extra, NEW.geom, NEW.minx, NEW.miny, NEW.maxx, NEW.maxy,
           NEW.created_at, NEW.updated_at, NEW.delisted_at, NEW.delisted_reason
    FROM edit_context c;
    RETURN NULL;
END;
$$;

CREATE TRIGGER assets_version_insert AFTER INSERT ON assets
FOR EACH ROW EXECUTE FUNCTION assets_version();
CREATE TRIGGER assets_version_update AFTER UPDATE ON assets
FOR EACH ROW WHEN (NEW.version <> OLD.version) EXECUTE FUNCTION assets_version();

-- An asset row is never deleted any more (delisting keeps it); refuse it, so history
-- cannot lose its subject.
CREATE TRIGGER assets_no_delete BEFORE DELETE ON assets
FOR EACH ROW EXECUTE FUNCTION refuse_change('assets are delisted, not deleted');
CREATE TRIGGER assets_no_truncate BEFORE TRUNCATE ON assets
FOR EACH STATEMENT EXECUTE FUNCTION refuse_change('assets are delisted, not deleted');
