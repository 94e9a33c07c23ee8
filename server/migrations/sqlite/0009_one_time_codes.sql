-- One-time join codes: each joins one learner to its class, once.
CREATE TABLE one_time_codes (
    code        TEXT PRIMARY KEY,
    class_id    TEXT NOT NULL REFERENCES classes(id),
    created_at  INTEGER NOT NULL,
    used_at     INTEGER,
    used_by     TEXT REFERENCES learners(id)
);
CREATE INDEX one_time_codes_class ON one_time_codes(class_id);
