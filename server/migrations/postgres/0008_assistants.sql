-- The same as migrations/sqlite/0008_assistants.sql, in PostgreSQL's types.
CREATE TABLE assistants (
    id          TEXT PRIMARY KEY,
    class_id    TEXT NOT NULL REFERENCES classes(id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);
CREATE INDEX assistants_class ON assistants(class_id);

ALTER TABLE sessions DROP CONSTRAINT IF EXISTS sessions_role_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_role_check CHECK (role IN ('learner', 'instructor', 'assistant'));
ALTER TABLE sessions ADD COLUMN assistant_id TEXT REFERENCES assistants(id);
CREATE INDEX sessions_assistant ON sessions(assistant_id);
