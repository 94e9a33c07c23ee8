-- Teaching assistants: logins the instructor makes for one class each (a name and a login link;
-- only the link's hash is kept), and their sessions.
CREATE TABLE assistants (
    id          TEXT PRIMARY KEY,
    class_id    TEXT NOT NULL REFERENCES classes(id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);
CREATE INDEX assistants_class ON assistants(class_id);

-- Sessions gain the assistant role (SQLite cannot change a CHECK: the table is made again).
CREATE TABLE sessions_new (
    token_hash    TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('learner', 'instructor', 'assistant')),
    learner_id    TEXT REFERENCES learners(id),
    assistant_id  TEXT REFERENCES assistants(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
INSERT INTO sessions_new (token_hash, role, learner_id, created_at, expires_at)
    SELECT token_hash, role, learner_id, created_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_learner ON sessions(learner_id);
CREATE INDEX sessions_assistant ON sessions(assistant_id);
