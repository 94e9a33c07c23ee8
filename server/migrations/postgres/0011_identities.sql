-- The same as migrations/sqlite/0011_identities.sql, in PostgreSQL's types.
CREATE TABLE identities (
    id            TEXT PRIMARY KEY,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    email         TEXT,
    staff         BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    UNIQUE (issuer, subject)
);

ALTER TABLE learners ADD COLUMN identity_id TEXT REFERENCES identities(id);
CREATE UNIQUE INDEX learners_identity_class ON learners(identity_id, class_id) WHERE identity_id IS NOT NULL;

ALTER TABLE sessions ADD COLUMN identity_id TEXT REFERENCES identities(id);
