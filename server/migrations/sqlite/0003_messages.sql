-- Messages from the instructor to one learner or to a whole class.
CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    class_id    TEXT NOT NULL REFERENCES classes(id),
    -- NULL: everyone in the class.
    learner_id  TEXT REFERENCES learners(id),
    body        TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX messages_class ON messages(class_id, id);
