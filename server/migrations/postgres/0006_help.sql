-- The same tables as migrations/sqlite/0006_help.sql, in PostgreSQL's types.

ALTER TABLE messages ADD COLUMN from_learner BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN author TEXT;
CREATE INDEX messages_learner ON messages(learner_id, id);

CREATE TABLE help_requests (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class_id    TEXT NOT NULL REFERENCES classes(id),
    learner_id  TEXT NOT NULL REFERENCES learners(id),
    note        TEXT NOT NULL,
    lab_id      TEXT,
    step_id     TEXT,
    reason      TEXT,
    raised_at   BIGINT NOT NULL,
    claimed_by  TEXT,
    claimed_at  BIGINT,
    closed_at   BIGINT,
    outcome     TEXT CHECK (outcome IN ('resolved', 'lowered'))
);
CREATE UNIQUE INDEX help_requests_open ON help_requests(learner_id) WHERE closed_at IS NULL;
CREATE INDEX help_requests_class ON help_requests(class_id, closed_at);
CREATE INDEX help_requests_learner_id ON help_requests(learner_id, id);
