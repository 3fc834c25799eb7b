-- Photos and documents as rows, keyed by store and SHA-256 of their bytes (src/blobs.rs):
-- several servers share this database and none can read another's disk. Written (and
-- committed) before the row naming them, as files are on SQLite.
CREATE TABLE blobs (
    store      TEXT   NOT NULL CHECK (store IN ('photos', 'documents')),
    sha256     TEXT   NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    bytes      BYTEA  NOT NULL,
    size       BIGINT NOT NULL,
    created_at TEXT   NOT NULL,
    PRIMARY KEY (store, sha256)
);
-- JPEG and PDF do not compress: kept out of line and uncompressed (no CPU spent on pglz).
ALTER TABLE blobs ALTER COLUMN bytes SET STORAGE EXTERNAL;
