-- The live classroom: learners write to their instructor (the help thread), and raise hands.

-- Who wrote a message: 0 a member of staff (to a learner or the class), 1 the learner whose
-- thread it is (learner_id). `author` is the staff member's name, NULL for "your instructor".
ALTER TABLE messages ADD COLUMN from_learner INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN author TEXT;
CREATE INDEX messages_learner ON messages(learner_id, id);

-- A raised hand: open until resolved by staff or lowered by the learner.
CREATE TABLE help_requests (
    id          INTEGER PRIMARY KEY,
    class_id    TEXT NOT NULL REFERENCES classes(id),
    learner_id  TEXT NOT NULL REFERENCES learners(id),
    note        TEXT NOT NULL,
    -- Where the learner was, and what their last check there said.
    lab_id      TEXT,
    step_id     TEXT,
    reason      TEXT,
    raised_at   INTEGER NOT NULL,
    claimed_by  TEXT,
    claimed_at  INTEGER,
    closed_at   INTEGER,
    -- 'resolved' (by staff) or 'lowered' (by the learner), once closed.
    outcome     TEXT CHECK (outcome IN ('resolved', 'lowered'))
);
-- One open hand per learner: raising again changes the note of the open one.
CREATE UNIQUE INDEX help_requests_open ON help_requests(learner_id) WHERE closed_at IS NULL;
CREATE INDEX help_requests_class ON help_requests(class_id, closed_at);
CREATE INDEX help_requests_learner_id ON help_requests(learner_id, id);
