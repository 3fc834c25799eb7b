-- Kept in step with migrations-postgres/0015, which caps the words PostgreSQL's full-text
-- index takes from a document's body (a tsvector holds at most 1 MB). SQLite's FTS5 has
-- no such limit: nothing to change here.
SELECT 1;
