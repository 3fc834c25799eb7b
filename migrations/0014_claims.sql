-- Who holds a claimed message or text job (src/store/notifications.rs, documents.rs): the
-- name of the server that claimed it. A server starting again takes back only its own
-- claims from its last run, never those of another replica still at work on them; a claim
-- left untouched for 15 minutes (its server gone for good) is taken back by any server.
ALTER TABLE notifications ADD COLUMN claimed_by TEXT;
ALTER TABLE document_text ADD COLUMN claimed_by TEXT;
