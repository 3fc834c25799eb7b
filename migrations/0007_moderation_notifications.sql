-- What the public sees of a complaint (moderation, flags from the public), and telling
-- reporters of progress (the language they filed in, their opt-out, the outbox).

-- The language the reporter filed in: messages to them are written in it.
ALTER TABLE complaints ADD COLUMN language TEXT NOT NULL DEFAULT 'en'
    CHECK (language IN ('en', 'bn'));
-- Set when the reporter followed the stop-messages link in one of our messages.
ALTER TABLE complaints ADD COLUMN notify_opt_out_at TEXT;
CREATE INDEX complaints_ward_id ON complaints (ward, id);

-- A piece of a complaint as moderation left it. `item` is `description`,
-- `photo:<sha256>` (a photo of the complaint or of its timeline) or `note:<event id>`.
-- `held`: a photo waiting for review (`serve --moderate-photos`); `hidden`: taken out of
-- public view, with the reason the public is shown; `shown`: reviewed and public. No row:
-- public, never reviewed. The hidden content itself stays where it was, for staff.
CREATE TABLE complaint_moderation (
    complaint_id INTEGER NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    item         TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('held', 'hidden', 'shown')),
    reason       TEXT,
    at           TEXT    NOT NULL,
    actor        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (complaint_id, item)
);
CREATE INDEX complaint_moderation_state ON complaint_moderation (state, at);

-- Someone thinks a public piece of a complaint is inappropriate. One flag per client
-- (a salted hash of its address) and item. A flag newer than the item's last review is
-- open: it puts the item in the staff moderation queue.
CREATE TABLE complaint_flags (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    item         TEXT    NOT NULL,
    client       TEXT    NOT NULL,
    reason       TEXT,
    at           TEXT    NOT NULL,
    UNIQUE (complaint_id, item, client)
);
CREATE INDEX complaint_flags_at ON complaint_flags (at);

-- The outbox: one row per message owed to a reporter, written in the same transaction
-- as the step it tells of. The worker moves it pending → sending (claimed; nothing can
-- have left yet) → committing (past the point of no return: the SMTP DATA was accepted,
-- or the webhook request is on its way) → sent. A row found `sending` at start goes back
-- to pending; one found `committing` becomes `uncertain` and is not sent again unless
-- staff say so: a message is never sent twice.
CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY,
    complaint_id INTEGER NOT NULL REFERENCES complaints (id) ON DELETE CASCADE,
    event_id     INTEGER NOT NULL REFERENCES complaint_events (id) ON DELETE CASCADE,
    channel      TEXT    NOT NULL CHECK (channel IN ('email', 'webhook')),
    state        TEXT    NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'sending', 'committing', 'sent', 'failed',
                                          'uncertain', 'cancelled')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    not_before   TEXT    NOT NULL,
    last_error   TEXT,
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    sent_at      TEXT,
    UNIQUE (event_id, channel)
);
CREATE INDEX notifications_due ON notifications (state, not_before);
CREATE INDEX notifications_complaint ON notifications (complaint_id);
