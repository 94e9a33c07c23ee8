-- Failed checks the learner asked for (or caused by a command) before the step passed: the
-- grades export's "failed checks" and the replay's attempts.
ALTER TABLE step_states ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
