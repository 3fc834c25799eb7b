-- The asset register: one row per heritage site, water body, park or ward.
-- Geometry is WKB in WGS84 (EPSG:4326, lon/lat); the bounding box columns let SQL
-- pre-filter without decoding it.
CREATE TABLE assets (
    id                    INTEGER PRIMARY KEY,
    code                  TEXT    NOT NULL UNIQUE,
    layer                 TEXT    NOT NULL CHECK (layer IN ('heritage', 'water_bodies', 'parks', 'wards')),
    kind                  TEXT    NOT NULL,
    name                  TEXT,
    name_bn               TEXT,
    ward                  INTEGER,
    borough               TEXT,
    address               TEXT,
    condition             TEXT    NOT NULL DEFAULT 'unknown'
                                  CHECK (condition IN ('good', 'fair', 'poor', 'critical', 'unknown')),
    condition_assessed_at TEXT,
    last_maintained_at    TEXT,
    grade                 TEXT    CHECK (grade IS NULL OR grade IN ('I', 'IIA', 'IIB', 'III')),
    year_built            INTEGER,
    owner                 TEXT,
    area_m2               REAL,
    status                TEXT    CHECK (status IS NULL OR status IN ('active', 'encroached', 'filled')),
    protected             INTEGER,
    source                TEXT,
    extra                 TEXT    NOT NULL DEFAULT '{}',
    geom                  BLOB    NOT NULL,
    minx                  REAL    NOT NULL,
    miny                  REAL    NOT NULL,
    maxx                  REAL    NOT NULL,
    maxy                  REAL    NOT NULL,
    created_at            TEXT    NOT NULL,
    updated_at            TEXT    NOT NULL,
    version               INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX assets_layer ON assets (layer, id);

-- Field inspections of an asset's condition.
CREATE TABLE inspections (
    id           INTEGER PRIMARY KEY,
    asset_id     INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    inspected_at TEXT    NOT NULL,
    condition    TEXT    NOT NULL CHECK (condition IN ('good', 'fair', 'poor', 'critical', 'unknown')),
    notes        TEXT,
    inspector    TEXT,
    created_at   TEXT    NOT NULL
);
CREATE INDEX inspections_asset ON inspections (asset_id, inspected_at);

-- Maintenance works carried out on an asset.
CREATE TABLE maintenance (
    id           INTEGER PRIMARY KEY,
    asset_id     INTEGER NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
    started_on   TEXT,
    completed_on TEXT,
    description  TEXT    NOT NULL,
    contractor   TEXT,
    cost_inr     INTEGER,
    created_at   TEXT    NOT NULL
);
CREATE INDEX maintenance_asset ON maintenance (asset_id, started_on);

-- Documents (notices, NOCs, reports), addressed by the SHA-256 of their bytes.
CREATE TABLE documents (
    sha256     TEXT    PRIMARY KEY CHECK (length(sha256) = 64),
    asset_id   INTEGER REFERENCES assets (id) ON DELETE SET NULL,
    title      TEXT    NOT NULL,
    media_type TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    public     INTEGER NOT NULL DEFAULT 1,
    created_at TEXT    NOT NULL
);
CREATE INDEX documents_asset ON documents (asset_id);

-- Small facts about the database itself (e.g. whether the bundled data was loaded).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
