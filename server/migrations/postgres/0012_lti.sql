-- The same as migrations/sqlite/0012_lti.sql, in PostgreSQL's types.

CREATE TABLE lti_platforms (
    id           TEXT PRIMARY KEY,
    label        TEXT NOT NULL,
    issuer       TEXT NOT NULL,
    client_id    TEXT NOT NULL,
    login_url    TEXT NOT NULL,
    token_url    TEXT NOT NULL,
    jwks_url     TEXT NOT NULL,
    deployments  TEXT NOT NULL,
    from_file    BIGINT NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    UNIQUE (issuer, client_id)
);

CREATE TABLE lti_keys (
    kid          TEXT PRIMARY KEY,
    private_pem  TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE lti_pending (
    token       TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX lti_pending_created ON lti_pending(created_at);

CREATE TABLE lti_contexts (
    platform_id      TEXT NOT NULL REFERENCES lti_platforms(id) ON DELETE CASCADE,
    context_id       TEXT NOT NULL,
    class_id         TEXT NOT NULL REFERENCES classes(id),
    memberships_url  TEXT,
    PRIMARY KEY (platform_id, context_id)
);

CREATE TABLE lti_links (
    platform_id  TEXT NOT NULL REFERENCES lti_platforms(id) ON DELETE CASCADE,
    link_id      TEXT NOT NULL,
    class_id     TEXT NOT NULL REFERENCES classes(id),
    lab_id       TEXT NOT NULL,
    lineitem     TEXT,
    PRIMARY KEY (platform_id, link_id)
);
CREATE INDEX lti_links_class ON lti_links(class_id);

CREATE TABLE lti_scores (
    learner_id    TEXT NOT NULL REFERENCES learners(id),
    lineitem      TEXT NOT NULL,
    platform_id   TEXT NOT NULL REFERENCES lti_platforms(id) ON DELETE CASCADE,
    lab_id        TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    earned        BIGINT NOT NULL,
    possible      BIGINT NOT NULL,
    activity      TEXT NOT NULL,
    grading       TEXT NOT NULL,
    version       BIGINT NOT NULL,
    sent_version  BIGINT,
    sent_at       BIGINT,
    attempts      BIGINT NOT NULL DEFAULT 0,
    next_at       BIGINT NOT NULL,
    last_error    TEXT,
    PRIMARY KEY (learner_id, lineitem)
);
CREATE INDEX lti_scores_due ON lti_scores(next_at);
