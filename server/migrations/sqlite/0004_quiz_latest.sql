-- The learner's latest answer to each question (JSON array of answer indexes), which their page
-- shows again; `choices` stays the first answer, the graded one. NULL: only one answer so far.
ALTER TABLE quiz_answers ADD COLUMN latest TEXT;
