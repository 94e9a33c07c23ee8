-- The same tables as migrations/sqlite/ (same file names), in PostgreSQL's types: integers are
-- BIGINT (the store reads them as i64), row ids are identity columns.
-- Classes, the learners in them, and login sessions (learners' and the instructor's).
CREATE TABLE classes (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    join_code   TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    -- JSON: labs and decks, schedule, sandbox lifetime.
    settings    TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE learners (
    id            TEXT PRIMARY KEY,
    class_id      TEXT NOT NULL REFERENCES classes(id),
    display_name  TEXT NOT NULL,
    -- Lets the same learner continue from another browser or another day.
    resume_code   TEXT NOT NULL UNIQUE,
    created_at    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL
);
CREATE INDEX learners_class ON learners(class_id);

CREATE TABLE sessions (
    -- SHA-256 of the cookie's token: a stolen database opens no session.
    token_hash  TEXT PRIMARY KEY,
    role        TEXT NOT NULL CHECK (role IN ('learner', 'instructor')),
    learner_id  TEXT REFERENCES learners(id),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_learner ON sessions(learner_id);
