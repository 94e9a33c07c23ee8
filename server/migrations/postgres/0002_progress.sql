-- The same tables as migrations/sqlite/ (same file names), in PostgreSQL's types: integers are
-- BIGINT (the store reads them as i64), row ids are identity columns.
-- Progress: where every learner is in every lab, what the checks said, what they answered and
-- what they ran.

CREATE TABLE step_states (
    learner_id      TEXT NOT NULL REFERENCES learners(id),
    lab_id          TEXT NOT NULL,
    step_id         TEXT NOT NULL,
    -- 'started' when the learner first reached it, 'done' once its checks passed (never undone).
    state           TEXT NOT NULL CHECK (state IN ('started', 'done')),
    started_at      BIGINT NOT NULL,
    done_at         BIGINT,
    -- Checks run (automatically or on request) while the step was not done.
    attempts        BIGINT NOT NULL DEFAULT 0,
    -- Consecutive failed checks whose reason did not change: "stuck" on the dashboard.
    same_failures   BIGINT NOT NULL DEFAULT 0,
    last_check_at   BIGINT,
    last_passed     BIGINT,
    last_reason     TEXT,
    hints_revealed  BIGINT NOT NULL DEFAULT 0,
    solution_shown  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (learner_id, lab_id, step_id)
);

-- Hint checks that fired (their hints stay revealed).
CREATE TABLE hint_checks_fired (
    learner_id  TEXT NOT NULL REFERENCES learners(id),
    lab_id      TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    hint_index  BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (learner_id, lab_id, step_id, hint_index)
);

-- Check runs that changed something or were asked for (background re-runs with the same
-- outcome only update step_states).
CREATE TABLE check_results (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    learner_id  TEXT NOT NULL REFERENCES learners(id),
    lab_id      TEXT NOT NULL,
    step_id     TEXT NOT NULL,
    passed      BIGINT NOT NULL,
    reason      TEXT NOT NULL,
    took_ms     BIGINT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX check_results_learner ON check_results(learner_id, lab_id, step_id);

CREATE TABLE quiz_answers (
    learner_id   TEXT NOT NULL REFERENCES learners(id),
    question_id  TEXT NOT NULL,
    -- JSON array of chosen answer indexes.
    choices      TEXT NOT NULL,
    correct      BIGINT NOT NULL,
    points       BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 1,
    -- The first answer counts for the grade; later ones are practice.
    first_at     BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (learner_id, question_id)
);

-- Every command a learner ran in a terminal (from the shell integration), for checks that ask
-- "did the learner run ...?".
CREATE TABLE commands (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    learner_id   TEXT NOT NULL REFERENCES learners(id),
    command      TEXT NOT NULL,
    exit_status  BIGINT NOT NULL,
    started_at   BIGINT NOT NULL,
    duration_ms  BIGINT NOT NULL
);
CREATE INDEX commands_learner ON commands(learner_id, id);

CREATE TABLE events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          BIGINT NOT NULL,
    learner_id  TEXT,
    kind        TEXT NOT NULL,
    data        TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events(at);
