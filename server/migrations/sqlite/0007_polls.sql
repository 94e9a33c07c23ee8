-- Live polls from the presenter, and each learner's answer (one per poll, changeable while open).
CREATE TABLE polls (
    id           INTEGER PRIMARY KEY,
    deck_id      TEXT NOT NULL,
    -- The quiz question it asks; NULL for an ad-hoc poll.
    question_id  TEXT,
    -- The poll as pages show it (app::poll::PollView without results), JSON.
    view         TEXT NOT NULL,
    launched_at  INTEGER NOT NULL,
    revealed_at  INTEGER,
    closed_at    INTEGER
);
CREATE INDEX polls_deck ON polls(deck_id, closed_at);

CREATE TABLE poll_answers (
    poll_id     INTEGER NOT NULL REFERENCES polls(id),
    learner_id  TEXT NOT NULL REFERENCES learners(id),
    -- app::poll::PollAnswer, JSON.
    answer      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (poll_id, learner_id)
);
CREATE INDEX poll_answers_learner ON poll_answers(learner_id);
