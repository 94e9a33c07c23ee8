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

    async fn step_states(&self, learner_id: &str, lab_id: &str) -> Result<Vec<StepState>> {
        let rows = sqlx::query("SELECT * FROM step_states WHERE learner_id = ? AND lab_id = ?")
            .bind(learner_id)
            .bind(lab_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.iter().map(step_state_from).collect())
    }

    async fn class_step_states(&self, class_id: &str) -> Result<Vec<(String, StepState)>> {
        let rows = sqlx::query(
            "SELECT s.* FROM step_states s JOIN learners l ON l.id = s.learner_id WHERE l.class_id = ?",
        )
        .bind(class_id)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows.iter().map(|r| (r.get("learner_id"), step_state_from(r))).collect())
    }

    async fn start_step(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<StepState> {
        sqlx::query(
            "INSERT INTO step_states (learner_id, lab_id, step_id, state, started_at) VALUES (?, ?, ?, 'started', ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(learner_id)
        .bind(lab_id)
        .bind(step_id)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        self.step_state(learner_id, lab_id, step_id).await
    }

    async fn record_check(&self, learner_id: &str, lab_id: &str, step_id: &str, outcome: &CheckOutcome, log: bool) -> Result<StepState> {
        let before = self.start_step(learner_id, lab_id, step_id).await?;
        let t = now();
        let changed = before.last_passed != Some(outcome.passed) || before.last_reason.as_deref() != Some(outcome.reason.as_str());
        let mut tx = self.pool.begin().await.map_err(classify)?;
        if !before.done {
            let same = if !outcome.passed && !changed { before.same_failures + 1 } else if outcome.passed { 0 } else { 1 };
            sqlx::query(
                "UPDATE step_states SET attempts = attempts + 1, same_failures = ?, last_check_at = ?, last_passed = ?, last_reason = ?, \
                 state = CASE WHEN ? THEN 'done' ELSE state END, done_at = CASE WHEN ? THEN ? ELSE done_at END \
                 WHERE learner_id = ? AND lab_id = ? AND step_id = ?",
            )
            .bind(same)
            .bind(t)
            .bind(outcome.passed as i64)
            .bind(&outcome.reason)
            .bind(outcome.passed)
            .bind(outcome.passed)
            .bind(t)
            .bind(learner_id)
            .bind(lab_id)
            .bind(step_id)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        } else {
            sqlx::query("UPDATE step_states SET last_check_at = ?, last_passed = ?, last_reason = ? WHERE learner_id = ? AND lab_id = ? AND step_id = ?")
                .bind(t)
                .bind(outcome.passed as i64)
                .bind(&outcome.reason)
                .bind(learner_id)
                .bind(lab_id)
                .bind(step_id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        if log || changed {
            sqlx::query("INSERT INTO check_results (learner_id, lab_id, step_id, passed, reason, took_ms, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
                .bind(learner_id)
                .bind(lab_id)
                .bind(step_id)
                .bind(outcome.passed as i64)
                .bind(&outcome.reason)
                .bind(outcome.took_ms)
                .bind(t)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        self.step_state(learner_id, lab_id, step_id).await
    }

    async fn reveal_hints(&self, learner_id: &str, lab_id: &str, step_id: &str, count: i64) -> Result<StepState> {
        self.start_step(learner_id, lab_id, step_id).await?;
        sqlx::query("UPDATE step_states SET hints_revealed = MAX(hints_revealed, ?) WHERE learner_id = ? AND lab_id = ? AND step_id = ?")
            .bind(count)
            .bind(learner_id)
            .bind(lab_id)
            .bind(step_id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        self.step_state(learner_id, lab_id, step_id).await
    }

    async fn show_solution(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<StepState> {
        self.start_step(learner_id, lab_id, step_id).await?;
        sqlx::query("UPDATE step_states SET solution_shown = 1 WHERE learner_id = ? AND lab_id = ? AND step_id = ?")
            .bind(learner_id)
            .bind(lab_id)
            .bind(step_id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        self.step_state(learner_id, lab_id, step_id).await
    }

    async fn fire_hint_check(&self, learner_id: &str, lab_id: &str, step_id: &str, index: i64) -> Result<bool> {
        let result = sqlx::query(
            "INSERT INTO hint_checks_fired (learner_id, lab_id, step_id, hint_index, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(learner_id)
        .bind(lab_id)
        .bind(step_id)
        .bind(index)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(result.rows_affected() == 1)
    }

    async fn fired_hint_checks(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT hint_index FROM hint_checks_fired WHERE learner_id = ? AND lab_id = ? AND step_id = ? ORDER BY hint_index")
            .bind(learner_id)
            .bind(lab_id)
            .bind(step_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.iter().map(|r| r.get("hint_index")).collect())
    }

    async fn answer_quiz(&self, learner_id: &str, question_id: &str, choices: &[usize], correct: bool, points: i64) -> Result<QuizAnswer> {
        let t = now();
        let json = serde_json::to_string(choices).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO quiz_answers (learner_id, question_id, choices, correct, points, attempts, first_at, at) VALUES (?, ?, ?, ?, ?, 1, ?, ?) \
             ON CONFLICT (learner_id, question_id) DO UPDATE SET attempts = attempts + 1, at = excluded.at",
        )
        .bind(learner_id)
        .bind(question_id)
        .bind(&json)
        .bind(correct as i64)
        .bind(points)
        .bind(t)
        .bind(t)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        self.log_event(Some(learner_id), "quiz_answer", serde_json::json!({ "question": question_id, "choices": choices, "correct": correct }))
            .await?;
        let row = sqlx::query("SELECT * FROM quiz_answers WHERE learner_id = ? AND question_id = ?")
            .bind(learner_id)
            .bind(question_id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        Ok(quiz_answer_from(&row))
    }

    async fn quiz_answers(&self, learner_id: &str) -> Result<Vec<QuizAnswer>> {
        let rows = sqlx::query("SELECT * FROM quiz_answers WHERE learner_id = ? ORDER BY first_at")
            .bind(learner_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.iter().map(quiz_answer_from).collect())
    }

    async fn record_command(&self, learner_id: &str, command: &CommandRecord) -> Result<()> {
        sqlx::query("INSERT INTO commands (learner_id, command, exit_status, started_at, duration_ms) VALUES (?, ?, ?, ?, ?)")
            .bind(learner_id)
            .bind(&command.command)
            .bind(command.exit_status)
            .bind(command.started_at)
            .bind(command.duration_ms)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn commands(&self, learner_id: &str, limit: i64) -> Result<Vec<CommandRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM (SELECT * FROM commands WHERE learner_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
        )
        .bind(learner_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows
            .iter()
            .map(|r| CommandRecord {
                command: r.get("command"),
                exit_status: r.get("exit_status"),
                started_at: r.get("started_at"),
                duration_ms: r.get("duration_ms"),
            })
            .collect())
    }

    async fn log_event(&self, learner_id: Option<&str>, kind: &str, data: serde_json::Value) -> Result<()> {
        sqlx::query("INSERT INTO events (at, learner_id, kind, data) VALUES (?, ?, ?, ?)")
            .bind(now())
            .bind(learner_id)
            .bind(kind)
            .bind(data.to_string())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }
}

fn quiz_answer_from(row: &sqlx::sqlite::SqliteRow) -> QuizAnswer {
    QuizAnswer {
        question_id: row.get("question_id"),
        choices: serde_json::from_str(&row.get::<String, _>("choices")).unwrap_or_default(),
        correct: row.get::<i64, _>("correct") != 0,
        points: row.get("points"),
        attempts: row.get("attempts"),
    }
}

fn step_state_from(row: &sqlx::sqlite::SqliteRow) -> StepState {
    StepState {
        lab_id: row.get("lab_id"),
        step_id: row.get("step_id"),
        done: row.get::<String, _>("state") == "done",
        started_at: row.get("started_at"),
        done_at: row.get("done_at"),
        attempts: row.get("attempts"),
        same_failures: row.get("same_failures"),
        last_check_at: row.get("last_check_at"),
        last_passed: row.get::<Option<i64>, _>("last_passed").map(|v| v != 0),
        last_reason: row.get("last_reason"),
        hints_revealed: row.get("hints_revealed"),
        solution_shown: row.get::<i64, _>("solution_shown") != 0,
    }
}

impl SqliteStore {
    async fn step_state(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<StepState> {
        let row = sqlx::query("SELECT * FROM step_states WHERE learner_id = ? AND lab_id = ? AND step_id = ?")
            .bind(learner_id)
            .bind(lab_id)
            .bind(step_id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        Ok(step_state_from(&row))
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
    async fn progress_is_recorded() {
        let store = SqliteStore::memory().await.unwrap();
        let class = store.create_class("C", None).await.unwrap();
        let ada = store.create_learner(&class.id, "Ada").await.unwrap();
        let s = store.start_step(&ada.id, "lab", "one").await.unwrap();
        assert!(!s.done && s.attempts == 0);
        let fail = CheckOutcome { passed: false, reason: "not yet".into(), took_ms: 5 };
        store.record_check(&ada.id, "lab", "one", &fail, false).await.unwrap();
        let s = store.record_check(&ada.id, "lab", "one", &fail, false).await.unwrap();
        assert_eq!((s.attempts, s.same_failures), (2, 2));
        let pass = CheckOutcome { passed: true, reason: "done".into(), took_ms: 5 };
        let s = store.record_check(&ada.id, "lab", "one", &pass, true).await.unwrap();
        assert!(s.done && s.done_at.is_some());
        // Done is for good, whatever later checks say.
        let s = store.record_check(&ada.id, "lab", "one", &fail, false).await.unwrap();
        assert!(s.done);
        assert_eq!(store.class_step_states(&class.id).await.unwrap().len(), 1);

        let first = store.answer_quiz(&ada.id, "q", &[0], false, 0).await.unwrap();
        let again = store.answer_quiz(&ada.id, "q", &[1], true, 1).await.unwrap();
        assert_eq!((first.points, again.points, again.attempts, again.choices.clone()), (0, 0, 2, vec![0]), "the first answer is graded");

        assert!(store.fire_hint_check(&ada.id, "lab", "one", 0).await.unwrap());
        assert!(!store.fire_hint_check(&ada.id, "lab", "one", 0).await.unwrap());
        for i in 0..5 {
            let c = CommandRecord { command: format!("echo {i}"), exit_status: 0, started_at: i, duration_ms: 1 };
            store.record_command(&ada.id, &c).await.unwrap();
        }
        let last: Vec<String> = store.commands(&ada.id, 2).await.unwrap().into_iter().map(|c| c.command).collect();
        assert_eq!(last, ["echo 3", "echo 4"]);
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
