-- Documents become records of their own: a type, a reference, an issuing office, dates,
-- a language, a ward, any number of linked assets, a status (current / superseded /
-- revoked), versions of their metadata, their text (extracted from the PDF's text layer
-- or read by OCR) in a full-text index, and the queue of text jobs.

ALTER TABLE documents RENAME TO documents_v1;
DROP INDEX documents_asset;

CREATE TABLE documents (
    -- A stable row id: the full-text index's rowid.
    id            INTEGER PRIMARY KEY,
    sha256        TEXT    NOT NULL UNIQUE CHECK (length(sha256) = 64),
    title         TEXT    NOT NULL,
    kind          TEXT    NOT NULL DEFAULT 'other'
                          CHECK (kind IN ('notice', 'order', 'noc', 'minutes', 'survey',
                                          'inspection_report', 'photograph', 'other')),
    reference     TEXT,
    issuer        TEXT,
    issued_on     TEXT,
    valid_until   TEXT,
    -- 'bn', 'en', or 'bn+en'.
    language      TEXT,
    ward          INTEGER,
    public        INTEGER NOT NULL DEFAULT 1,
    status        TEXT    NOT NULL DEFAULT 'current'
                          CHECK (status IN ('current', 'superseded', 'revoked')),
    status_reason TEXT,
    superseded_by TEXT,
    media_type    TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX documents_issued ON documents (issued_on);
CREATE INDEX documents_kind ON documents (kind, issued_on);
CREATE INDEX documents_ward ON documents (ward);

INSERT INTO documents (sha256, title, media_type, size, public, created_at, updated_at)
SELECT sha256, title, media_type, size, public, created_at, created_at
FROM documents_v1 ORDER BY created_at, sha256;

-- Which assets a document concerns (one document may concern several).
CREATE TABLE document_assets (
    document_id INTEGER NOT NULL REFERENCES documents (id),
    asset_id    INTEGER NOT NULL REFERENCES assets (id),
    PRIMARY KEY (document_id, asset_id)
) WITHOUT ROWID;
CREATE INDEX document_assets_asset ON document_assets (asset_id, document_id);

INSERT INTO document_assets (document_id, asset_id)
SELECT d.id, v.asset_id FROM documents_v1 v JOIN documents d ON d.sha256 = v.sha256
WHERE v.asset_id IS NOT NULL;

DROP TABLE documents_v1;

-- Every state of a document's record: the first as put on record, then one per change
-- (metadata, links, status). Append-only.
CREATE TABLE document_versions (
    document_id INTEGER NOT NULL REFERENCES documents (id),
    version     INTEGER NOT NULL,
    at          TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    note        TEXT,
    audit_seq   INTEGER,
    -- The record as of this version, as JSON (linked assets by code).
    record      TEXT    NOT NULL,
    PRIMARY KEY (document_id, version)
) WITHOUT ROWID;

CREATE TRIGGER document_versions_append_only_u BEFORE UPDATE ON document_versions
BEGIN SELECT RAISE(ABORT, 'document versions are append-only'); END;
CREATE TRIGGER document_versions_append_only_d BEFORE DELETE ON document_versions
BEGIN SELECT RAISE(ABORT, 'document versions are append-only'); END;

INSERT INTO document_versions (document_id, version, at, actor, action, note, record)
SELECT d.id, 1, d.created_at, 'system', 'document.add',
       'on record before document versions were kept',
       json_object('title', d.title, 'type', d.kind, 'public', json(CASE d.public WHEN 0 THEN 'false' ELSE 'true' END),
                   'status', d.status,
                   'assets', (SELECT json_group_array(a.code) FROM document_assets da
                              JOIN assets a ON a.id = da.asset_id WHERE da.document_id = d.id))
FROM documents d;

-- The text of each document, got in the background: from the PDF's text layer, or by
-- OCR for scans and images. A job is claimed by setting it running; one found running at
-- start was cut short by a stop and is queued again.
CREATE TABLE document_text (
    document_id INTEGER PRIMARY KEY REFERENCES documents (id),
    state       TEXT    NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    source      TEXT    CHECK (source IN ('pdf', 'ocr', 'none')),
    pages       INTEGER,
    pages_done  INTEGER NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    -- Not before this instant (RFC 3339): a failed attempt backs off.
    not_before  TEXT,
    queued_at   TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX document_text_queue ON document_text (state, document_id);

INSERT INTO document_text (document_id, state, queued_at, updated_at)
SELECT id, 'queued', created_at, created_at FROM documents;

-- The full-text index: rowid = documents.id. Text is folded before it is written here
-- (NFKC, no joiners, Bengali digits as ASCII: documents::fold); the tokenizer keeps
-- letters, digits and combining marks in words (unicode61's default leaves marks out and
-- would cut কলকাতা into কলক and ত at its vowel signs), splits at spaces and punctuation
-- (the danda too), folds case and Latin diacritics, and stems English.
CREATE VIRTUAL TABLE documents_fts USING fts5 (
    title, reference, body,
    tokenize = "porter unicode61 remove_diacritics 2 categories 'L* N* Co Mc Mn'"
);

INSERT INTO documents_fts (rowid, title, reference, body)
SELECT id, title, coalesce(reference, ''), '' FROM documents;
