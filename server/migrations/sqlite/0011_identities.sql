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

ALTER TABLE sessions ADD COLUMN identity_id TEXT REFERENCES identities(id);
