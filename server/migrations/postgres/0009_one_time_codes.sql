-- The same table as migrations/sqlite/0009_one_time_codes.sql, in PostgreSQL's types.
CREATE TABLE one_time_codes (
    code        TEXT PRIMARY KEY,
    class_id    TEXT NOT NULL REFERENCES classes(id),
    created_at  BIGINT NOT NULL,
    used_at     BIGINT,
    used_by     TEXT REFERENCES learners(id)
);
CREATE INDEX one_time_codes_class ON one_time_codes(class_id);
