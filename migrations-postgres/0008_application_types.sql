-- PostgreSQL form of migrations/0008_application_types.sql.
-- Online applications: every version of every application type, as loaded from
-- data/application_types/. A row never changes: a case keeps the version it was
-- submitted under, and a changed definition must come as a new version.
CREATE TABLE application_types (
    code       TEXT    NOT NULL,
    version    BIGINT  NOT NULL CHECK (version >= 1),
    digest     TEXT    NOT NULL CHECK (length(digest) = 64),
    definition TEXT    NOT NULL,
    loaded_at  TEXT    NOT NULL,
    PRIMARY KEY (code, version)
);

CREATE TRIGGER application_types_never_change BEFORE UPDATE ON application_types
FOR EACH ROW EXECUTE FUNCTION
    refuse_change('an application type version never changes; load a new version');
