//! The embedded store: one SQLite file, WAL, migrations applied at open.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Row;

use super::*;

pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before we acknowledge it, power cut included.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(8).connect_with(options).await.map_err(classify)?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }

    /// An in-memory database, for tests.
    pub async fn memory() -> Result<Self> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        // One connection: every connection to :memory: is its own database.
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

/// SQLITE_FULL (13) is the disk-full case a person must hear about as such.
fn classify(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.code().as_deref() == Some("13") {
            return StoreError::Full(db.message().to_string());
        }
    }
    StoreError::Database(e)
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn class_from(row: &sqlx::sqlite::SqliteRow) -> Class {
    Class { id: row.get("id"), name: row.get("name"), join_code: row.get("join_code"), created_at: row.get("created_at") }
}

fn learner_from(row: &sqlx::sqlite::SqliteRow) -> Learner {
    Learner {
        id: row.get("id"),
        class_id: row.get("class_id"),
        display_name: row.get("display_name"),
        resume_code: row.get("resume_code"),
        created_at: row.get("created_at"),
        last_seen: row.get("last_seen"),
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_class(&self, name: &str, code: Option<&str>) -> Result<Class> {
        if let Some(code) = code {
            if code.len() < 4 || code.len() > 12 || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(StoreError::Invalid("a join code has 4 to 12 letters and digits".into()));
            }
        }
        // A clash of random codes is unlikely but possible: draw again.
        for _ in 0..5 {
            let join_code = code.map(|c| c.to_ascii_uppercase()).unwrap_or_else(join_code);
            let class = Class { id: format!("c{}", learner_id()), name: name.to_string(), join_code, created_at: now() };
            let result = sqlx::query("INSERT INTO classes (id, name, join_code, created_at) VALUES (?, ?, ?, ?)")
                .bind(&class.id)
                .bind(&class.name)
                .bind(&class.join_code)
                .bind(class.created_at)
                .execute(&self.pool)
                .await;
            match result {
                Ok(_) => return Ok(class),
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() && code.is_none() => continue,
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    return Err(StoreError::Invalid("another class has this join code".into()));
                }
                Err(e) => return Err(classify(e)),
            }
        }
        Err(StoreError::Invalid("could not draw a free join code".into()))
    }

    async fn classes(&self) -> Result<Vec<Class>> {
        let rows = sqlx::query("SELECT * FROM classes ORDER BY created_at").fetch_all(&self.pool).await.map_err(classify)?;
        Ok(rows.iter().map(class_from).collect())
    }

    async fn class_by_code(&self, code: &str) -> Result<Option<Class>> {
        let code = code.trim().to_ascii_uppercase();
        let row = sqlx::query("SELECT * FROM classes WHERE join_code = ?").bind(code).fetch_optional(&self.pool).await.map_err(classify)?;
        Ok(row.as_ref().map(class_from))
    }

    async fn create_learner(&self, class_id: &str, display_name: &str) -> Result<Learner> {
        let name = display_name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(StoreError::Invalid("a display name has 1 to 60 characters".into()));
        }
        for _ in 0..5 {
            let t = now();
            let learner = Learner {
                id: learner_id(),
                class_id: class_id.to_string(),
                display_name: name.to_string(),
                resume_code: resume_code(),
                created_at: t,
                last_seen: t,
            };
            let result = sqlx::query(
                "INSERT INTO learners (id, class_id, display_name, resume_code, created_at, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
            )
            .bind(&learner.id)
            .bind(&learner.class_id)
            .bind(&learner.display_name)
            .bind(&learner.resume_code)
            .bind(learner.created_at)
            .bind(learner.last_seen)
            .execute(&self.pool)
            .await;
            match result {
                Ok(_) => return Ok(learner),
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => continue,
                Err(e) => return Err(classify(e)),
            }
        }
        Err(StoreError::Invalid("could not draw a free learner id".into()))
    }

    async fn learner(&self, id: &str) -> Result<Option<Learner>> {
        let row = sqlx::query("SELECT * FROM learners WHERE id = ?").bind(id).fetch_optional(&self.pool).await.map_err(classify)?;
        Ok(row.as_ref().map(learner_from))
    }

    async fn learner_by_resume_code(&self, code: &str) -> Result<Option<Learner>> {
        let code = code.trim().to_ascii_uppercase();
        let row = sqlx::query("SELECT * FROM learners WHERE resume_code = ?").bind(code).fetch_optional(&self.pool).await.map_err(classify)?;
        Ok(row.as_ref().map(learner_from))
    }

    async fn learners(&self, class_id: &str) -> Result<Vec<Learner>> {
        let rows = sqlx::query("SELECT * FROM learners WHERE class_id = ? ORDER BY created_at")
            .bind(class_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.iter().map(learner_from).collect())
    }

    async fn create_session(&self, role: Role, learner_id: Option<&str>, ttl: Duration) -> Result<String> {
        let token = session_token();
        let t = now();
        sqlx::query("INSERT INTO sessions (token_hash, role, learner_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
            .bind(token_hash(&token))
            .bind(role.as_str())
            .bind(learner_id)
            .bind(t)
            .bind(t + ttl.as_secs() as i64)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        if let Some(id) = learner_id {
            sqlx::query("UPDATE learners SET last_seen = ? WHERE id = ?").bind(t).bind(id).execute(&self.pool).await.map_err(classify)?;
        }
        Ok(token)
    }

    async fn session(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query("SELECT role, learner_id, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?")
            .bind(token_hash(token))
            .bind(now())
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row.map(|r| Session {
            role: if r.get::<String, _>("role") == "instructor" { Role::Instructor } else { Role::Learner },
            learner_id: r.get("learner_id"),
            expires_at: r.get("expires_at"),
        }))
    }

    async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?").bind(token_hash(token)).execute(&self.pool).await.map_err(classify)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn classes_learners_and_sessions() {
        let store = SqliteStore::memory().await.unwrap();
        let class = store.create_class("Morning class", None).await.unwrap();
        assert_eq!(store.class_by_code(&class.join_code.to_lowercase()).await.unwrap(), Some(class.clone()));
        let ada = store.create_learner(&class.id, "  Ada  ").await.unwrap();
        assert_eq!(ada.display_name, "Ada");
        assert!(store.create_learner(&class.id, "   ").await.is_err());
        assert_eq!(store.learner_by_resume_code(&ada.resume_code).await.unwrap().unwrap().id, ada.id);
        let token = store.create_session(Role::Learner, Some(&ada.id), Duration::from_secs(60)).await.unwrap();
        let session = store.session(&token).await.unwrap().unwrap();
        assert_eq!(session.learner_id.as_deref(), Some(ada.id.as_str()));
        assert!(store.session("forged").await.unwrap().is_none());
        store.delete_session(&token).await.unwrap();
        assert!(store.session(&token).await.unwrap().is_none());
        let expired = store.create_session(Role::Learner, Some(&ada.id), Duration::ZERO).await.unwrap();
        assert!(store.session(&expired).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn file_database_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stacklab.db");
        let class = {
            let store = SqliteStore::open(&path).await.unwrap();
            store.create_class("Kept", None).await.unwrap()
        };
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(store.classes().await.unwrap(), vec![class]);
    }
}
