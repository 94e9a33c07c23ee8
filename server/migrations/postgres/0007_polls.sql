-- The same tables as migrations/sqlite/0007_polls.sql, in PostgreSQL's types.
CREATE TABLE polls (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    deck_id      TEXT NOT NULL,
    question_id  TEXT,
    view         TEXT NOT NULL,
    launched_at  BIGINT NOT NULL,
    revealed_at  BIGINT,
    closed_at    BIGINT
);
CREATE INDEX polls_deck ON polls(deck_id, closed_at);

CREATE TABLE poll_answers (
    poll_id     BIGINT NOT NULL REFERENCES polls(id),
    learner_id  TEXT NOT NULL REFERENCES learners(id),
    answer      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (poll_id, learner_id)
);
CREATE INDEX poll_answers_learner ON poll_answers(learner_id);
