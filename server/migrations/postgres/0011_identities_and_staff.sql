-- The same as migrations/sqlite/0011_identities_and_staff.sql, in PostgreSQL's types.
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

CREATE TABLE staff_accounts (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    login          TEXT UNIQUE,
    password_hash  TEXT,
    identity_id    TEXT UNIQUE REFERENCES identities(id),
    created_at     BIGINT NOT NULL
);

CREATE TABLE class_staff (
    class_id  TEXT NOT NULL REFERENCES classes(id),
    staff_id  TEXT NOT NULL REFERENCES staff_accounts(id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'instructor', 'assistant')),
    PRIMARY KEY (class_id, staff_id)
);
CREATE INDEX class_staff_account ON class_staff(staff_id);

ALTER TABLE sessions DROP CONSTRAINT IF EXISTS sessions_role_check;
ALTER TABLE sessions ADD CONSTRAINT sessions_role_check CHECK (role IN ('learner', 'instructor', 'assistant', 'staff'));
ALTER TABLE sessions ADD COLUMN identity_id TEXT REFERENCES identities(id);
ALTER TABLE sessions ADD COLUMN staff_id TEXT REFERENCES staff_accounts(id);
CREATE INDEX sessions_staff ON sessions(staff_id);
