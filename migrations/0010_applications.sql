-- Online applications (issue 17): applicants who sign in with a one-time code, their cases
-- from draft to decision, the stages each case passed through (with the clock stopped
-- while the applicant is asked for more), what staff recorded at each, and the meetings
-- of the Heritage Conservation Committee. Every step is also in the audit chain.

-- What a staff member may do on a case: each stage of a type names a duty.
CREATE TABLE staff_duties (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    duty    TEXT    NOT NULL,
    PRIMARY KEY (user_id, duty)
);

-- An applicant is their confirmed contact: an email address or a phone number.
CREATE TABLE applicants (
    id         INTEGER PRIMARY KEY,
    contact    TEXT    NOT NULL UNIQUE,
    channel    TEXT    NOT NULL CHECK (channel IN ('email', 'phone')),
    language   TEXT    NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'bn')),
    created_at TEXT    NOT NULL
);

-- The one code outstanding per contact (its SHA-256), and how often codes were sent.
CREATE TABLE applicant_codes (
    contact      TEXT    PRIMARY KEY,
    code_sha256  TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    tries        INTEGER NOT NULL DEFAULT 0,
    sent_at      TEXT    NOT NULL,
    hour_start   TEXT    NOT NULL,
    hour_count   INTEGER NOT NULL
);

CREATE TABLE applicant_sessions (
    token_sha256 TEXT    PRIMARY KEY,
    applicant_id INTEGER NOT NULL REFERENCES applicants (id) ON DELETE CASCADE,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL
);

-- Numbers are given per prefix and year, without gaps.
CREATE TABLE application_numbers (
    prefix TEXT    NOT NULL,
    year   INTEGER NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (prefix, year)
);

CREATE TABLE applications (
    id            INTEGER PRIMARY KEY,
    draft         TEXT    NOT NULL UNIQUE,
    number        TEXT    UNIQUE,
    type_code     TEXT    NOT NULL,
    type_version  INTEGER NOT NULL,
    applicant_id  INTEGER NOT NULL REFERENCES applicants (id),
    asset_id      INTEGER REFERENCES assets (id),
    work          TEXT,
    fields        TEXT    NOT NULL DEFAULT '{}',
    language      TEXT    NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'bn')),
    state         TEXT    NOT NULL DEFAULT 'draft'
                          CHECK (state IN ('draft', 'open', 'awaiting_applicant', 'decided', 'withdrawn')),
    -- The stages this case passes through, fixed at submission (JSON array).
    path          TEXT,
    stage         TEXT,
    outcome       TEXT    CHECK (outcome IN ('approved', 'refused')),
    -- Who decided (mic, officials), the resolution or order number and its date.
    decided_by    TEXT,
    decision_ref  TEXT,
    decision_date TEXT,
    letter_sha256 TEXT,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    submitted_at  TEXT,
    decided_at    TEXT,
    FOREIGN KEY (type_code, type_version) REFERENCES application_types (code, version),
    CHECK (state = 'draft' OR (number IS NOT NULL AND path IS NOT NULL AND submitted_at IS NOT NULL))
);
CREATE INDEX applications_applicant ON applications (applicant_id);
CREATE INDEX applications_stage ON applications (state, stage);
CREATE INDEX applications_decided ON applications (decided_at) WHERE state = 'decided';

-- The applicant's files, kept in the document store by SHA-256.
CREATE TABLE application_files (
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    doc            TEXT    NOT NULL,
    sha256         TEXT    NOT NULL,
    name           TEXT,
    size           INTEGER NOT NULL,
    media_type     TEXT    NOT NULL,
    added_at       TEXT    NOT NULL,
    request_id     INTEGER,
    PRIMARY KEY (application_id, doc, sha256)
);

-- Each stage a case entered: the clock runs from started_at to ended_at (or now), less
-- the requests to the applicant made meanwhile.
CREATE TABLE application_stages (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    stage          TEXT    NOT NULL,
    limit_days     INTEGER NOT NULL,
    started_at     TEXT    NOT NULL,
    ended_at       TEXT
);
CREATE INDEX application_stages_case ON application_stages (application_id, id);
CREATE UNIQUE INDEX application_stages_one_open ON application_stages (application_id)
    WHERE ended_at IS NULL;

-- Requests for more from the applicant: the clock stops from asked_at to answered_at.
CREATE TABLE application_requests (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    stage          TEXT    NOT NULL,
    what           TEXT    NOT NULL,
    documents      TEXT    NOT NULL DEFAULT '[]',
    asked_at       TEXT    NOT NULL,
    asked_by       INTEGER REFERENCES users (id) ON DELETE SET NULL,
    answered_at    TEXT,
    answer         TEXT
);
CREATE UNIQUE INDEX application_requests_one_open ON application_requests (application_id)
    WHERE answered_at IS NULL;

-- What staff recorded on a case. Internal: never on the tracker or the register.
CREATE TABLE application_steps (
    id             INTEGER PRIMARY KEY,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    stage          TEXT    NOT NULL,
    kind           TEXT    NOT NULL
                           CHECK (kind IN ('scrutiny_note', 'note', 'request', 'answer',
                                           'recommendation', 'resolution', 'decision', 'letter')),
    outcome        TEXT    CHECK (outcome IN ('approve', 'refuse')),
    text           TEXT,
    ref            TEXT,
    ref_date       TEXT,
    meeting_id     INTEGER,
    document       TEXT,
    at             TEXT    NOT NULL,
    actor          INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX application_steps_case ON application_steps (application_id, id);

CREATE TABLE hcc_meetings (
    id         INTEGER PRIMARY KEY,
    date       TEXT    NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'held')),
    minutes    TEXT,
    created_at TEXT    NOT NULL,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL
);

CREATE TABLE hcc_agenda (
    meeting_id     INTEGER NOT NULL REFERENCES hcc_meetings (id) ON DELETE CASCADE,
    application_id INTEGER NOT NULL REFERENCES applications (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    recommendation TEXT    CHECK (recommendation IN ('approve', 'refuse')),
    PRIMARY KEY (meeting_id, application_id)
);
