-- A tsvector holds at most 1 MB: a long document's body (an OCR'd register of a few
-- hundred pages of distinct words) made `documents_fts.tsv` fail, and with it the text
-- job, so none of the document's words could be found. The body's words now come from its
-- first 250,000 characters (about 100 pages; at most about 0.9 MB of tsvector for
-- Bengali, measured); title and reference whole. SQLite's FTS5 has no such limit
-- (migrations/0015 is empty). `body` itself stays whole, for snippets.
ALTER TABLE documents_fts DROP COLUMN tsv;
ALTER TABLE documents_fts ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
       setweight(to_tsvector('atlas_text', fts_words(title)), 'A')
    || setweight(to_tsvector('atlas_text', fts_words(reference)), 'B')
    || setweight(to_tsvector('atlas_text', fts_words(left(body, 250000))), 'C')
) STORED;
CREATE INDEX documents_fts_tsv ON documents_fts USING gin (tsv);
