-- The logs a learner feeds (check results, events) keep each learner's newest rows; these
-- indexes find a learner's tail without reading everyone's.
CREATE INDEX check_results_learner_id ON check_results(learner_id, id);
CREATE INDEX events_learner ON events(learner_id, id);
