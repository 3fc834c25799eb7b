-- Citizens' complaints, their photos and public timeline; staff users, their sessions;
-- Open311 API keys.

-- One complaint. `ticket` is what the citizen holds (EH-2026-000123); `seq` numbers the
-- year's complaints. The reporter's name, phone and email are private: no public
-- endpoint, tile or export reads those columns.
CREATE TABLE complaints (
    id             INTEGER PRIMARY KEY,
    ticket         TEXT    NOT NULL UNIQUE,
    year           INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    category       TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'submitted'
                           CHECK (status IN ('submitted', 'acknowledged', 'in_progress',
                                             'resolved', 'rejected', 'duplicate')),
    lon            REAL    NOT NULL,
    lat            REAL    NOT NULL,
    ward           INTEGER,
    asset_id       INTEGER REFERENCES assets (id) ON DELETE SET NULL,
    description    TEXT    NOT NULL,
    attributes     TEXT    NOT NULL DEFAULT '{}',
    address        TEXT,
    reporter_name  TEXT,
    reporter_phone TEXT,
    reporter_email TEXT,
    source         TEXT    NOT NULL DEFAULT 'web',
    token          TEXT    NOT NULL UNIQUE,
    assigned_to    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    duplicate_of   TEXT,
    supporters     INTEGER NOT NULL DEFAULT 0,
    deadline       TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    updated_at     TEXT    NOT NULL,
    UNIQUE (year, seq)
);
CREATE INDEX complaints_status ON complaints (status, ward, category);
CREATE INDEX complaints_created ON complaints (created_at);

-- Photos: bytes live in the photo directory under their SHA-256 (EXIF stripped first).
CREATE TABLE complaint_photos (
    complaint_id INTEGER NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    sha256       TEXT    NOT NULL CHECK (length(sha256) = 64),
    media_type   TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    PRIMARY KEY (complaint_id, position)
);
CREATE INDEX complaint_photos_sha ON complaint_photos (sha256);

-- The timeline: every status change and note. `public = 0` notes are for staff only.
CREATE TABLE complaint_events (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    at           TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    note         TEXT,
    public       INTEGER NOT NULL DEFAULT 1,
    actor        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    photo_sha256 TEXT
);
CREATE INDEX complaint_events_complaint ON complaint_events (complaint_id, id);

-- One row per client that supported a complaint (a salted hash, not the address).
CREATE TABLE complaint_supports (
    complaint_id INTEGER NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    client       TEXT    NOT NULL,
    at           TEXT    NOT NULL,
    PRIMARY KEY (complaint_id, client)
);

-- Department staff. Passwords as argon2id PHC strings.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('field_staff', 'officer', 'admin')),
    ward          INTEGER,
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0
);

-- Bearer tokens, stored as the SHA-256 of the token: a stolen database holds no usable token.
CREATE TABLE sessions (
    token_sha256 TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Open311 API keys (for POSTing requests), stored hashed like tokens.
CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    key_sha256 TEXT    NOT NULL UNIQUE,
    label      TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    revoked_at TEXT
);
