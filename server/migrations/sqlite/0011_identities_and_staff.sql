-- People the school's OpenID Connect provider vouched for: one row per (issuer, subject), with
-- what the provider last said of them. A learner row may belong to one (at most one learner per
-- class and identity, so signing in again continues the same work), and so may a session.
CREATE TABLE identities (
    id            TEXT PRIMARY KEY,
    issuer        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    email         TEXT,
    -- The provider's claim made them staff at their last sign-in.
    staff         INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    UNIQUE (issuer, subject)
);

ALTER TABLE learners ADD COLUMN identity_id TEXT REFERENCES identities(id);
CREATE UNIQUE INDEX learners_identity_class ON learners(identity_id, class_id) WHERE identity_id IS NOT NULL;

-- Staff accounts: signed in through the provider (identity_id) or with a login and a password
-- (an argon2id hash), each with a role per class.
CREATE TABLE staff_accounts (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    login          TEXT UNIQUE,
    password_hash  TEXT,
    identity_id    TEXT UNIQUE REFERENCES identities(id),
    created_at     INTEGER NOT NULL
);

CREATE TABLE class_staff (
    class_id  TEXT NOT NULL REFERENCES classes(id),
    staff_id  TEXT NOT NULL REFERENCES staff_accounts(id),
    role      TEXT NOT NULL CHECK (role IN ('owner', 'instructor', 'assistant')),
    PRIMARY KEY (class_id, staff_id)
);
CREATE INDEX class_staff_account ON class_staff(staff_id);

-- Sessions gain the staff role, the account, and who signed in at the provider (SQLite cannot
-- change a CHECK: the table is made again).
CREATE TABLE sessions_new (
    token_hash    TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('learner', 'instructor', 'assistant', 'staff')),
    learner_id    TEXT REFERENCES learners(id),
    assistant_id  TEXT REFERENCES assistants(id),
    identity_id   TEXT REFERENCES identities(id),
    staff_id      TEXT REFERENCES staff_accounts(id),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL
);
INSERT INTO sessions_new (token_hash, role, learner_id, assistant_id, created_at, expires_at)
    SELECT token_hash, role, learner_id, assistant_id, created_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_learner ON sessions(learner_id);
CREATE INDEX sessions_assistant ON sessions(assistant_id);
CREATE INDEX sessions_staff ON sessions(staff_id);
