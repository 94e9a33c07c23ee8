-- What a learner chose for themselves (screen reader mode for their terminal, ...), as JSON:
-- app/src/preferences.rs is its shape; a field it does not know is dropped at the next save.
ALTER TABLE learners ADD COLUMN preferences TEXT NOT NULL DEFAULT '{}';
