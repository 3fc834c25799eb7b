-- Photos and documents as rows, for PostgreSQL, where several servers share one database
-- and none can read another's disk (migrations-postgres/0012). A SQLite register keeps
-- them as files beside the database (src/blobs.rs): this table stays empty there, and
-- exists so that both databases hold the same tables (`migrate --to` copies into it).
CREATE TABLE blobs (
    store      TEXT    NOT NULL CHECK (store IN ('photos', 'documents')),
    sha256     TEXT    NOT NULL CHECK (length(sha256) = 64),
    bytes      BLOB    NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (store, sha256)
);
