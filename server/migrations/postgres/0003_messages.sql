-- The same tables as migrations/sqlite/ (same file names), in PostgreSQL's types: integers are
-- BIGINT (the store reads them as i64), row ids are identity columns.
-- Messages from the instructor to one learner or to a whole class.
CREATE TABLE messages (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    class_id    TEXT NOT NULL REFERENCES classes(id),
    -- NULL: everyone in the class.
    learner_id  TEXT REFERENCES learners(id),
    body        TEXT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX messages_class ON messages(class_id, id);
