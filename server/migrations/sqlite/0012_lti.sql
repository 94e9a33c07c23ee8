-- LTI 1.3: the platforms (LMSs) Stacklab is registered in, the tool's own signing keys, launches
-- on their way, which class an LMS course is and which lab a link in it is, and the outbox of
-- scores for the LMS's gradebook.

CREATE TABLE lti_platforms (
    id           TEXT PRIMARY KEY,
    label        TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    login_url    TEXT NOT NULL,
    token_url    TEXT NOT NULL,
    jwks_url     TEXT NOT NULL,
    -- A JSON array of the deployment ids launches may name.
    deployments  TEXT NOT NULL,
    -- Read from --lti-platforms at start (read again at each start), else made in the UI.
    from_file    INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    UNIQUE (issuer, client_id)
);

-- The tool's RSA keys (PKCS#1 PEM). The newest signs; the one before it stays published for a
-- while after a rotation, so what was signed just before still checks.
CREATE TABLE lti_keys (
    kid          TEXT PRIMARY KEY,
    private_pem  TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

-- Launches begun (login initiation: the nonce each must carry) and deep-linking choices on their
-- way: single use, ten minutes, bounded in number.
CREATE TABLE lti_pending (
    token       TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX lti_pending_created ON lti_pending(created_at);

-- A course (context) of a platform is a class.
CREATE TABLE lti_contexts (
    platform_id      TEXT NOT NULL REFERENCES lti_platforms(id) ON DELETE CASCADE,
    context_id       TEXT NOT NULL,
    class_id         TEXT NOT NULL REFERENCES classes(id),
    -- The Names and Role Provisioning endpoint of the course, from the last launch naming it.
    memberships_url  TEXT,
    PRIMARY KEY (platform_id, context_id)
);

-- A resource link is a lab of that class, with the gradebook column (line item) its scores go to.
CREATE TABLE lti_links (
    platform_id  TEXT NOT NULL REFERENCES lti_platforms(id) ON DELETE CASCADE,
    link_id      TEXT NOT NULL,
    class_id     TEXT NOT NULL REFERENCES classes(id),
    lab_id       TEXT NOT NULL,
    lineitem     TEXT,
    PRIMARY KEY (platform_id, link_id)
);
CREATE INDEX lti_links_class ON lti_links(class_id);

-- The outbox: each learner's latest score for each line item, until the LMS has it. `version`
-- grows with every change (milliseconds, the score's timestamp); a send marks `sent_version`.
CREATE TABLE lti_scores (
    learner_id    TEXT NOT NULL REFERENCES learners(id),
    lineitem      TEXT NOT NULL,
    platform_id   TEXT NOT NULL REFERENCES lti_platforms(id) ON DELETE CASCADE,
    lab_id        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    earned        INTEGER NOT NULL,
    possible      INTEGER NOT NULL,
    activity      TEXT NOT NULL,
    grading       TEXT NOT NULL,
    version       INTEGER NOT NULL,
    sent_version  INTEGER,
    sent_at       INTEGER,
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_at       INTEGER NOT NULL,
    last_error    TEXT,
    PRIMARY KEY (learner_id, lineitem)
);
CREATE INDEX lti_scores_due ON lti_scores(next_at);
