//! The LTI tables in SQL (migration 0012).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, classify};
use crate::store::lti::*;
use crate::store::{Result, StoreError, learner_id, now, session_token};

fn platform_from(row: &AnyRow) -> Platform {
    let deployments: String = row.get("deployments");
    Platform {
        id: row.get("id"),
        label: row.get("label"),
        issuer: row.get("issuer"),
        client_id: row.get("client_id"),
        login_url: row.get("login_url"),
        token_url: row.get("token_url"),
        jwks_url: row.get("jwks_url"),
        deployments: serde_json::from_str(&deployments).unwrap_or_default(),
        from_file: row.get::<i64, _>("from_file") != 0,
        created_at: row.get("created_at"),
    }
}

fn key_from(row: &AnyRow) -> ToolKey {
    ToolKey { kid: row.get("kid"), private_pem: row.get("private_pem"), created_at: row.get("created_at") }
}

fn link_from(row: &AnyRow) -> LtiLink {
    LtiLink {
        platform_id: row.get("platform_id"),
        link_id: row.get("link_id"),
        class_id: row.get("class_id"),
        lab_id: row.get("lab_id"),
        lineitem: row.get("lineitem"),
    }
}

fn score_from(row: &AnyRow) -> ScoreOut {
    ScoreOut {
        learner_id: row.get("learner_id"),
        lineitem: row.get("lineitem"),
        platform_id: row.get("platform_id"),
        lab_id: row.get("lab_id"),
        user_id: row.get("user_id"),
        earned: row.get("earned"),
        possible: row.get("possible"),
        activity: row.get("activity"),
        grading: row.get("grading"),
        version: row.get("version"),
        sent_version: row.get("sent_version"),
        sent_at: row.get("sent_at"),
        attempts: row.get("attempts"),
        next_at: row.get("next_at"),
        last_error: row.get("last_error"),
    }
}

fn context_from(row: &AnyRow) -> (String, Option<String>) {
    (row.get("class_id"), row.get("memberships_url"))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

#[async_trait]
impl LtiStore for SqlStore {
    async fn lti_platforms(&self) -> Result<Vec<Platform>> {
        self.all(sqlx::query("SELECT * FROM lti_platforms ORDER BY created_at, id"), platform_from).await
    }

    async fn lti_platform(&self, id: &str) -> Result<Option<Platform>> {
        self.optional(sqlx::query("SELECT * FROM lti_platforms WHERE id = $1").bind(id), platform_from).await
    }

    async fn lti_platforms_of(&self, issuer: &str) -> Result<Vec<Platform>> {
        self.all(sqlx::query("SELECT * FROM lti_platforms WHERE issuer = $1 ORDER BY created_at").bind(issuer), platform_from).await
    }

    async fn save_lti_platform(&self, p: &NewPlatform, from_file: bool) -> Result<Platform> {
        let have: i64 = sqlx::query("SELECT COUNT(*) AS n FROM lti_platforms WHERE NOT (issuer = $1 AND client_id = $2)")
            .bind(&p.issuer)
            .bind(&p.client_id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?
            .get("n");
        if have >= MAX_PLATFORMS {
            return Err(StoreError::Invalid(app::t!("srv-max-platforms", max = MAX_PLATFORMS)));
        }
        let deployments = serde_json::to_string(&p.deployments).unwrap_or_else(|_| "[]".into());
        let row = sqlx::query(
            "INSERT INTO lti_platforms (id, label, issuer, client_id, login_url, token_url, jwks_url, deployments, from_file, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (issuer, client_id) DO UPDATE SET label = $2, login_url = $5, token_url = $6, jwks_url = $7, \
             deployments = $8, from_file = $9 \
             RETURNING *",
        )
        .bind(format!("p{}", learner_id()))
        .bind(&p.label)
        .bind(&p.issuer)
        .bind(&p.client_id)
        .bind(&p.login_url)
        .bind(&p.token_url)
        .bind(&p.jwks_url)
        .bind(deployments)
        .bind(i64::from(from_file))
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(platform_from(&row))
    }

    async fn remove_lti_platform(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        // Not every database this runs on enforces the cascade (SQLite needs foreign keys on).
        for table in ["lti_scores", "lti_links", "lti_contexts"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE platform_id = $1")).bind(id).execute(&mut *tx).await.map_err(classify)?;
        }
        let gone = sqlx::query("DELETE FROM lti_platforms WHERE id = $1").bind(id).execute(&mut *tx).await.map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(gone.rows_affected() > 0)
    }

    async fn lti_keys(&self) -> Result<Vec<ToolKey>> {
        self.all(sqlx::query("SELECT * FROM lti_keys ORDER BY created_at DESC, kid DESC"), key_from).await
    }

    async fn add_lti_key(&self, key: &ToolKey) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        sqlx::query("INSERT INTO lti_keys (kid, private_pem, created_at) VALUES ($1, $2, $3)")
            .bind(&key.kid)
            .bind(&key.private_pem)
            .bind(key.created_at)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        // The new key and the one before it; older ones are gone from the published set.
        sqlx::query(
            "DELETE FROM lti_keys WHERE kid NOT IN (SELECT kid FROM (SELECT kid FROM lti_keys ORDER BY created_at DESC, kid DESC LIMIT 2) AS kept)",
        )
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn put_lti_pending(&self, kind: &str, payload: &str) -> Result<String> {
        let t = now();
        sqlx::query("DELETE FROM lti_pending WHERE created_at < $1").bind(t - PENDING_SECS).execute(&self.pool).await.map_err(classify)?;
        let have: i64 = sqlx::query("SELECT COUNT(*) AS n FROM lti_pending").fetch_one(&self.pool).await.map_err(classify)?.get("n");
        if have >= MAX_PENDING {
            return Err(StoreError::Invalid(app::t!("srv-too-many-launches")));
        }
        let token = session_token();
        sqlx::query("INSERT INTO lti_pending (token, kind, payload, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&token)
            .bind(kind)
            .bind(payload)
            .bind(t)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(token)
    }

    async fn take_lti_pending(&self, token: &str, kind: &str) -> Result<Option<String>> {
        let row = sqlx::query("DELETE FROM lti_pending WHERE token = $1 AND kind = $2 AND created_at >= $3 RETURNING payload")
            .bind(token)
            .bind(kind)
            .bind(now() - PENDING_SECS)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row.map(|r| r.get("payload")))
    }

    async fn lti_context(&self, platform_id: &str, context_id: &str) -> Result<Option<(String, Option<String>)>> {
        let query = sqlx::query("SELECT class_id, memberships_url FROM lti_contexts WHERE platform_id = $1 AND context_id = $2")
            .bind(platform_id)
            .bind(context_id);
        self.optional(query, context_from).await
    }

    async fn set_lti_context(&self, platform_id: &str, context_id: &str, class_id: &str, memberships_url: Option<&str>) -> Result<()> {
        sqlx::query(
            "INSERT INTO lti_contexts (platform_id, context_id, class_id, memberships_url) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (platform_id, context_id) DO UPDATE SET memberships_url = COALESCE($4, lti_contexts.memberships_url)",
        )
        .bind(platform_id)
        .bind(context_id)
        .bind(class_id)
        .bind(memberships_url)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn lti_contexts_of_class(&self, class_id: &str) -> Result<Vec<(String, Option<String>)>> {
        let query = sqlx::query("SELECT platform_id, memberships_url FROM lti_contexts WHERE class_id = $1").bind(class_id);
        self.all(query, |row| (row.get("platform_id"), row.get("memberships_url"))).await
    }

    async fn lti_user(&self, learner_id: &str) -> Result<Option<(String, String)>> {
        let query = sqlx::query("SELECT i.issuer, i.subject FROM learners l JOIN identities i ON i.id = l.identity_id WHERE l.id = $1")
            .bind(learner_id);
        self.optional(query, |row| (row.get("issuer"), row.get("subject"))).await
    }

    async fn lti_link(&self, platform_id: &str, link_id: &str) -> Result<Option<LtiLink>> {
        let query = sqlx::query("SELECT * FROM lti_links WHERE platform_id = $1 AND link_id = $2").bind(platform_id).bind(link_id);
        self.optional(query, link_from).await
    }

    async fn save_lti_link(&self, link: &LtiLink) -> Result<()> {
        sqlx::query(
            "INSERT INTO lti_links (platform_id, link_id, class_id, lab_id, lineitem) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (platform_id, link_id) DO UPDATE SET lab_id = $4, lineitem = COALESCE($5, lti_links.lineitem)",
        )
        .bind(&link.platform_id)
        .bind(&link.link_id)
        .bind(&link.class_id)
        .bind(&link.lab_id)
        .bind(link.lineitem.as_deref())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn lti_links_of_class(&self, class_id: &str) -> Result<Vec<LtiLink>> {
        self.all(sqlx::query("SELECT * FROM lti_links WHERE class_id = $1 ORDER BY link_id").bind(class_id), link_from).await
    }

    async fn queue_lti_score(&self, s: &NewScore<'_>) -> Result<bool> {
        let (t, ms) = (now(), now_ms());
        // Unchanged scores are not sent again; a change is due at once, and its version (the
        // timestamp the LMS orders scores by) always grows.
        let done = sqlx::query(
            "INSERT INTO lti_scores (learner_id, lineitem, platform_id, lab_id, user_id, earned, possible, activity, grading, version, attempts, next_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11) \
             ON CONFLICT (learner_id, lineitem) DO UPDATE SET platform_id = $3, lab_id = $4, user_id = $5, earned = $6, possible = $7, \
             activity = $8, grading = $9, attempts = 0, next_at = $11, \
             version = CASE WHEN $10 > lti_scores.version THEN $10 ELSE lti_scores.version + 1 END \
             WHERE lti_scores.earned <> $6 OR lti_scores.possible <> $7 OR lti_scores.activity <> $8 OR lti_scores.grading <> $9 \
             OR lti_scores.user_id <> $5",
        )
        .bind(s.learner_id)
        .bind(s.lineitem)
        .bind(s.platform_id)
        .bind(s.lab_id)
        .bind(s.user_id)
        .bind(s.earned)
        .bind(s.possible)
        .bind(s.activity)
        .bind(s.grading)
        .bind(ms)
        .bind(t)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() > 0)
    }

    async fn due_lti_scores(&self, now: i64, limit: i64) -> Result<Vec<ScoreOut>> {
        let query = sqlx::query(
            "SELECT * FROM lti_scores WHERE (sent_version IS NULL OR sent_version <> version) AND next_at <= $1 \
             ORDER BY next_at, version LIMIT $2",
        )
        .bind(now)
        .bind(limit);
        self.all(query, score_from).await
    }

    async fn lti_score_sent(&self, learner_id: &str, lineitem: &str, version: i64) -> Result<()> {
        sqlx::query(
            "UPDATE lti_scores SET sent_version = $3, sent_at = $4, last_error = NULL, attempts = 0 \
             WHERE learner_id = $1 AND lineitem = $2",
        )
        .bind(learner_id)
        .bind(lineitem)
        .bind(version)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn lti_score_failed(&self, learner_id: &str, lineitem: &str, version: i64, next_at: i64, error: &str) -> Result<()> {
        // A score changed meanwhile is due at once, not after this one's delay.
        sqlx::query(
            "UPDATE lti_scores SET attempts = attempts + 1, next_at = $4, last_error = $5 \
             WHERE learner_id = $1 AND lineitem = $2 AND version = $3",
        )
        .bind(learner_id)
        .bind(lineitem)
        .bind(version)
        .bind(next_at)
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn lti_scores_of_class(&self, class_id: &str) -> Result<Vec<ScoreOut>> {
        let query = sqlx::query(
            "SELECT s.* FROM lti_scores s JOIN learners l ON l.id = s.learner_id WHERE l.class_id = $1 ORDER BY s.learner_id, s.lab_id",
        )
        .bind(class_id);
        self.all(query, score_from).await
    }
}
