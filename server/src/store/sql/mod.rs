//! The store in SQL, one implementation for both databases through sqlx's `Any` driver: SQLite
//! (the embedded default: one file, WAL, `synchronous=FULL`) and PostgreSQL (for a server that
//! runs in a cluster, or beside others). The statements are written once, in the SQL both
//! understand (`$N` parameters, `RETURNING`, `ON CONFLICT`); each database has its own
//! migrations, which make the same tables.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Connection, Executor, Row};

mod lti;
pub mod page_cache;
mod rows;

use super::*;
use rows::*;

/// The longest message, and the longest note on a raised hand.
pub const MESSAGE_CHARS: usize = 2000;
pub const NOTE_CHARS: usize = 500;

/// How often (in a learner's rows of one log table) their oldest rows of it are pruned.
const PRUNE_EVERY: i64 = 128;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Who a new session is for (the role, and the row it names).
#[derive(Default)]
struct SessionOf<'a> {
    role: Role,
    learner_id: Option<&'a str>,
    assistant_id: Option<&'a str>,
    identity_id: Option<&'a str>,
    staff_id: Option<&'a str>,
}

pub struct SqlStore {
    pool: AnyPool,
    dialect: Dialect,
    /// Rows written per (log table, learner) since that log was last pruned (in memory: after
    /// a restart the count starts again, which only prunes a little later).
    since_pruned: std::sync::Mutex<std::collections::HashMap<(&'static str, String), i64>>,
}

/// The SQLite file's settings, for every connection: WAL, and FULL so a commit is on disk
/// before we acknowledge it, power cut included. Each connection's page cache is
/// `SQLITE_CACHE_KIB` (below), not SQLite's 2 MiB.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
/// A connection's page cache. The file sits in the kernel's page cache anyway, and a bigger cache
/// per connection only fills, over hours, with copies of the same pages (a class's database grows
/// all day), which is memory the server never gives back.
const SQLITE_CACHE_KIB: usize = 512;
/// Connections to the SQLite file. Writes take turns whatever the count (one writer in WAL), so a
/// few suffice; each is a thread of its own with its own cache.
const SQLITE_CONNECTIONS: u32 = 4;

impl SqlStore {
    /// Opens the database `url` names (`sqlite://PATH` or `postgres://...`), creating an SQLite
    /// file if needed, and brings its schema up to date.
    pub async fn open_url(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = AnyConnectOptions::from_str(url)?;
            // One connection first: the pool would only say it timed out, this says why
            // (refused, unknown host, password).
            sqlx::AnyConnection::connect_with(&options).await.map_err(classify)?.close().await.map_err(classify)?;
            let pool = AnyPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(classify)?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            return Ok(Self { pool, dialect: Dialect::Postgres, since_pruned: Default::default() });
        }
        let Some(path) = url.strip_prefix("sqlite://") else {
            return Err(StoreError::Invalid(format!("--database {url:?}: use sqlite://PATH or postgres://USER@HOST/DB")));
        };
        Self::open(Path::new(path)).await
    }

    /// Opens (creating if needed) the SQLite database at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(&format!("sqlite://{}?mode=rwc", path.display()))?;
        let pool = AnyPoolOptions::new()
            .max_connections(SQLITE_CONNECTIONS)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute(SQLITE_PRAGMAS).await?;
                    conn.execute(format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB};").as_str()).await.map(|_| ())
                })
            })
            .connect_with(options)
            .await
            .map_err(classify)?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool, dialect: Dialect::Sqlite, since_pruned: Default::default() })
    }

    /// An in-memory SQLite database, for tests.
    pub async fn memory() -> Result<Self> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str("sqlite::memory:")?;
        // One connection: every connection to :memory: is its own database.
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .after_connect(|conn, _| Box::pin(async move { conn.execute("PRAGMA foreign_keys = ON").await.map(|_| ()) }))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        Ok(Self { pool, dialect: Dialect::Sqlite, since_pruned: Default::default() })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}

/// The disk-full case a person must hear about as such: SQLITE_FULL (13), PostgreSQL's
/// disk_full (53100).
fn classify(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && matches!(db.code().as_deref(), Some("13" | "53100"))
    {
        return StoreError::Full(db.message().to_string());
    }
    StoreError::Database(e)
}

fn valid_class_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) {
        return Err(StoreError::Invalid(app::t!("srv-class-name")));
    }
    Ok(name)
}

fn settings_json(settings: &ClassSettings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".into())
}

fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[async_trait]
impl Store for SqlStore {
    async fn create_class(&self, name: &str, code: Option<&str>, settings: &ClassSettings) -> Result<Class> {
        let name = valid_class_name(name)?;
        if let Some(code) = code
            && (code.len() < 4 || code.len() > 12 || !code.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(StoreError::Invalid(app::t!("srv-join-code")));
        }
        // A clash of random codes is unlikely but possible: draw again.
        for _ in 0..5 {
            let join_code = code.map(|c| c.to_ascii_uppercase()).unwrap_or_else(join_code);
            let class = Class {
                id: format!("c{}", learner_id()),
                name: name.to_string(),
                join_code,
                created_at: now(),
                settings: settings.clone(),
            };
            let result = sqlx::query("INSERT INTO classes (id, name, join_code, created_at, settings) VALUES ($1, $2, $3, $4, $5)")
                .bind(&class.id)
                .bind(&class.name)
                .bind(&class.join_code)
                .bind(class.created_at)
                .bind(settings_json(settings))
                .execute(&self.pool)
                .await;
            match result {
                Ok(_) => return Ok(class),
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() && code.is_none() => continue,
                Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                    return Err(StoreError::Invalid(app::t!("srv-join-code-taken")));
                }
                Err(e) => return Err(classify(e)),
            }
        }
        Err(StoreError::Invalid("could not draw a free join code".into()))
    }

    async fn update_class(&self, id: &str, name: &str, settings: &ClassSettings) -> Result<Class> {
        let name = valid_class_name(name)?;
        let done = sqlx::query("UPDATE classes SET name = $1, settings = $2 WHERE id = $3")
            .bind(name)
            .bind(settings_json(settings))
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Invalid(format!("there is no class {id:?}")));
        }
        self.class(id).await?.ok_or_else(|| StoreError::Invalid(format!("there is no class {id:?}")))
    }

    async fn class(&self, id: &str) -> Result<Option<Class>> {
        self.optional(sqlx::query("SELECT * FROM classes WHERE id = $1").bind(id), class_from).await
    }

    async fn classes(&self) -> Result<Vec<Class>> {
        self.all(sqlx::query("SELECT * FROM classes ORDER BY created_at"), class_from).await
    }

    async fn class_by_code(&self, code: &str) -> Result<Option<Class>> {
        let code = code.trim().to_ascii_uppercase();
        self.optional(sqlx::query("SELECT * FROM classes WHERE join_code = $1").bind(code), class_from).await
    }

    async fn create_learner(&self, class_id: &str, display_name: &str, id: Option<&str>) -> Result<Learner> {
        let name = valid_display_name(display_name)?;
        for _ in 0..5 {
            let t = now();
            let learner = Learner {
                id: id.map(str::to_string).unwrap_or_else(learner_id),
                class_id: class_id.to_string(),
                display_name: name.to_string(),
                resume_code: resume_code(),
                created_at: t,
                last_seen: t,
                preferences: Preferences::default(),
            };
            let result = sqlx::query(
                "INSERT INTO learners (id, class_id, display_name, resume_code, created_at, last_seen) VALUES ($1, $2, $3, $4, $5, $6)",
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
        self.optional(sqlx::query("SELECT * FROM learners WHERE id = $1").bind(id), learner_from).await
    }

    async fn set_preferences(&self, learner_id: &str, preferences: &Preferences) -> Result<()> {
        sqlx::query("UPDATE learners SET preferences = $1 WHERE id = $2")
            .bind(preferences.to_json())
            .bind(learner_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn learner_by_resume_code(&self, code: &str) -> Result<Option<Learner>> {
        let code = code.trim().to_ascii_uppercase();
        self.optional(sqlx::query("SELECT * FROM learners WHERE resume_code = $1").bind(code), learner_from).await
    }

    async fn learners(&self, class_id: &str) -> Result<Vec<Learner>> {
        self.all(sqlx::query("SELECT * FROM learners WHERE class_id = $1 ORDER BY created_at").bind(class_id), learner_from).await
    }

    async fn create_session(&self, role: Role, learner_id: Option<&str>, ttl: Duration) -> Result<String> {
        self.insert_session(SessionOf { role, learner_id, ..SessionOf::default() }, ttl).await
    }

    async fn session(&self, token: &str) -> Result<Option<Session>> {
        let row = sqlx::query(
            "SELECT role, learner_id, assistant_id, identity_id, staff_id, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash(token))
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(row.map(|r| Session {
            role: match r.get::<String, _>("role").as_str() {
                "instructor" => Role::Instructor,
                "assistant" => Role::Assistant,
                "staff" => Role::Staff,
                _ => Role::Learner,
            },
            learner_id: r.get("learner_id"),
            assistant_id: r.get("assistant_id"),
            identity_id: r.get("identity_id"),
            staff_id: r.get("staff_id"),
            expires_at: r.get("expires_at"),
        }))
    }

    async fn create_identity_session(&self, identity_id: &str, role: Role, learner_id: Option<&str>, ttl: Duration) -> Result<String> {
        self.insert_session(SessionOf { role, learner_id, identity_id: Some(identity_id), ..SessionOf::default() }, ttl).await
    }

    async fn vouched(&self, who: &Vouched) -> Result<Identity> {
        let name = valid_display_name(&who.display_name)?;
        let t = now();
        // One statement, so two sign-ins of the same person at once make one row.
        let row = sqlx::query(
            "INSERT INTO identities (id, issuer, subject, display_name, email, staff, created_at, last_seen) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (issuer, subject) DO UPDATE SET display_name = $4, email = $5, staff = $6, last_seen = $7 \
             RETURNING *",
        )
        .bind(learner_id())
        .bind(&who.issuer)
        .bind(&who.subject)
        .bind(name)
        .bind(who.email.as_deref())
        .bind(i64::from(who.staff))
        .bind(t)
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        Ok(identity_from(&row))
    }

    async fn identity(&self, id: &str) -> Result<Option<Identity>> {
        self.optional(sqlx::query("SELECT * FROM identities WHERE id = $1").bind(id), identity_from).await
    }

    async fn identity_learner(&self, identity_id: &str, class_id: Option<&str>) -> Result<Option<Learner>> {
        let query = match class_id {
            Some(class) => sqlx::query("SELECT * FROM learners WHERE identity_id = $1 AND class_id = $2").bind(identity_id).bind(class),
            None => sqlx::query("SELECT * FROM learners WHERE identity_id = $1 ORDER BY last_seen DESC, created_at DESC LIMIT 1")
                .bind(identity_id),
        };
        self.optional(query, learner_from).await
    }

    async fn create_staff_account(
        &self,
        name: &str,
        login: Option<&str>,
        password_hash: Option<&str>,
        identity_id: Option<&str>,
    ) -> Result<StaffAccount> {
        let name = valid_display_name(name)?;
        let have: i64 = sqlx::query("SELECT COUNT(*) AS n FROM staff_accounts").fetch_one(&self.pool).await.map_err(classify)?.get("n");
        if have >= MAX_STAFF_ACCOUNTS {
            return Err(StoreError::Invalid(app::t!("srv-max-staff-accounts", max = MAX_STAFF_ACCOUNTS)));
        }
        let account = StaffAccount {
            id: learner_id(),
            name: name.to_string(),
            login: login.map(|l| l.trim().to_lowercase()),
            password_hash: password_hash.map(str::to_string),
            identity_id: identity_id.map(str::to_string),
            created_at: now(),
        };
        let made = sqlx::query(
            "INSERT INTO staff_accounts (id, name, login, password_hash, identity_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&account.id)
        .bind(&account.name)
        .bind(account.login.as_deref())
        .bind(account.password_hash.as_deref())
        .bind(account.identity_id.as_deref())
        .bind(account.created_at)
        .execute(&self.pool)
        .await;
        match made {
            Ok(_) => Ok(account),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(StoreError::Invalid(app::t!("srv-login-taken"))),
            Err(e) => Err(classify(e)),
        }
    }

    async fn staff_account(&self, id: &str) -> Result<Option<StaffAccount>> {
        self.optional(sqlx::query("SELECT * FROM staff_accounts WHERE id = $1").bind(id), staff_account_from).await
    }

    async fn staff_account_by_login(&self, login: &str) -> Result<Option<StaffAccount>> {
        let login = login.trim().to_lowercase();
        self.optional(sqlx::query("SELECT * FROM staff_accounts WHERE login = $1").bind(login), staff_account_from).await
    }

    async fn staff_account_of(&self, identity_id: &str) -> Result<Option<StaffAccount>> {
        self.optional(sqlx::query("SELECT * FROM staff_accounts WHERE identity_id = $1").bind(identity_id), staff_account_from).await
    }

    async fn staff_accounts(&self) -> Result<Vec<StaffAccount>> {
        self.all(sqlx::query("SELECT * FROM staff_accounts ORDER BY created_at, id"), staff_account_from).await
    }

    async fn set_class_role(&self, class_id: &str, staff_id: &str, role: Option<ClassRole>) -> Result<()> {
        let query = match role {
            Some(role) => sqlx::query(
                "INSERT INTO class_staff (class_id, staff_id, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (class_id, staff_id) DO UPDATE SET role = $3",
            )
            .bind(class_id)
            .bind(staff_id)
            .bind(role.as_str()),
            None => sqlx::query("DELETE FROM class_staff WHERE class_id = $1 AND staff_id = $2").bind(class_id).bind(staff_id),
        };
        query.execute(&self.pool).await.map_err(classify)?;
        Ok(())
    }

    async fn roles_of(&self, staff_id: &str) -> Result<Vec<(String, ClassRole)>> {
        self.all(
            sqlx::query("SELECT class_id AS id, role FROM class_staff WHERE staff_id = $1 ORDER BY class_id").bind(staff_id),
            class_role_from,
        )
        .await
    }

    async fn class_staff(&self, class_id: &str) -> Result<Vec<(String, ClassRole)>> {
        self.all(
            sqlx::query("SELECT staff_id AS id, role FROM class_staff WHERE class_id = $1 ORDER BY staff_id").bind(class_id),
            class_role_from,
        )
        .await
    }

    async fn create_staff_session(&self, staff_id: &str, identity_id: Option<&str>, ttl: Duration) -> Result<String> {
        self.insert_session(SessionOf { role: Role::Staff, staff_id: Some(staff_id), identity_id, ..SessionOf::default() }, ttl).await
    }

    async fn link_identity(&self, learner_id: &str, identity_id: &str) -> Result<()> {
        sqlx::query("UPDATE learners SET identity_id = $1 WHERE id = $2")
            .bind(identity_id)
            .bind(learner_id)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn create_one_time_codes(&self, class_id: &str, count: u32) -> Result<Vec<String>> {
        let have: i64 = sqlx::query("SELECT COUNT(*) AS n FROM one_time_codes WHERE class_id = $1")
            .bind(class_id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?
            .get("n");
        if count == 0 || have + i64::from(count) > ONE_TIME_CODES_PER_CLASS {
            let left = (ONE_TIME_CODES_PER_CLASS - have).max(0);
            return Err(StoreError::Invalid(app::t!("srv-max-codes", max = ONE_TIME_CODES_PER_CLASS, have = have, left = left)));
        }
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let mut made = Vec::with_capacity(count as usize);
        let at = now();
        while made.len() < count as usize {
            let code = one_time_code();
            // A clash with a code already made (~39 bits: rare) draws again.
            let done =
                sqlx::query("INSERT INTO one_time_codes (code, class_id, created_at) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING")
                    .bind(code.clone())
                    .bind(class_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
            if done.rows_affected() == 1 {
                made.push(code);
            }
        }
        tx.commit().await.map_err(classify)?;
        Ok(made)
    }

    async fn one_time_codes(&self, class_id: &str) -> Result<Vec<OneTimeCode>> {
        self.all(sqlx::query("SELECT * FROM one_time_codes WHERE class_id = $1 ORDER BY created_at, code").bind(class_id), |r| {
            OneTimeCode { code: r.get("code"), class_id: r.get("class_id"), used_at: r.get("used_at"), used_by: r.get("used_by") }
        })
        .await
    }

    async fn redeem_one_time_code(&self, code: &str) -> Result<Option<String>> {
        // One statement: two learners typing the same code at once cannot both get it.
        let row = sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE code = $2 AND used_at IS NULL RETURNING class_id")
            .bind(now())
            .bind(code)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        if let Some(row) = row {
            return Ok(Some(row.get("class_id")));
        }
        let exists = sqlx::query("SELECT 1 AS one FROM one_time_codes WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        if exists.is_some() {
            return Err(StoreError::Invalid(app::t!("srv-code-used")));
        }
        Ok(None)
    }

    async fn one_time_code_class(&self, code: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT class_id FROM one_time_codes WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        Ok(row.map(|r| r.get("class_id")))
    }

    async fn one_time_code_used_by(&self, code: &str, learner_id: &str) -> Result<()> {
        sqlx::query("UPDATE one_time_codes SET used_by = $1 WHERE code = $2")
            .bind(learner_id)
            .bind(code)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    async fn create_assistant(&self, class_id: &str, name: &str) -> Result<(Assistant, String)> {
        let name = valid_display_name(name)?;
        let token = session_token();
        let assistant = Assistant { id: learner_id(), class_id: class_id.into(), name: name.into(), created_at: now() };
        sqlx::query("INSERT INTO assistants (id, class_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(assistant.id.clone())
            .bind(class_id)
            .bind(name)
            .bind(token_hash(&token))
            .bind(assistant.created_at)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok((assistant, token))
    }

    async fn assistant(&self, id: &str) -> Result<Option<Assistant>> {
        self.optional(sqlx::query("SELECT * FROM assistants WHERE id = $1").bind(id), assistant_from).await
    }

    async fn assistant_by_token(&self, token: &str) -> Result<Option<Assistant>> {
        self.optional(sqlx::query("SELECT * FROM assistants WHERE token_hash = $1").bind(token_hash(token)), assistant_from).await
    }

    async fn assistants(&self, class_id: &str) -> Result<Vec<Assistant>> {
        self.all(sqlx::query("SELECT * FROM assistants WHERE class_id = $1 ORDER BY created_at, id").bind(class_id), assistant_from).await
    }

    async fn remove_assistant(&self, id: &str) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        sqlx::query("DELETE FROM sessions WHERE assistant_id = $1").bind(id).execute(&mut *tx).await.map_err(classify)?;
        sqlx::query("DELETE FROM assistants WHERE id = $1").bind(id).execute(&mut *tx).await.map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(())
    }

    async fn create_assistant_session(&self, assistant_id: &str, ttl: Duration) -> Result<String> {
        self.insert_session(SessionOf { role: Role::Assistant, assistant_id: Some(assistant_id), ..SessionOf::default() }, ttl).await
    }

    async fn delete_session(&self, token: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash(token)).execute(&self.pool).await.map_err(classify)?;
        Ok(())
    }

    async fn purge_expired_sessions(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now()).execute(&self.pool).await.map_err(classify)?;
        Ok(done.rows_affected())
    }

    async fn send_message(&self, class_id: &str, learner_id: Option<&str>, body: &str, author: Author) -> Result<Message> {
        let body = body.trim();
        if body.is_empty() || body.chars().count() > MESSAGE_CHARS {
            return Err(StoreError::Invalid(app::t!("srv-message-length", max = MESSAGE_CHARS)));
        }
        let (from_learner, name) = match author {
            Author::Learner if learner_id.is_none() => {
                return Err(StoreError::Invalid(app::t!("srv-own-thread")));
            }
            Author::Learner => (true, None),
            Author::Staff(name) => (false, name),
        };
        let at = now();
        let id: i64 = sqlx::query(
            "INSERT INTO messages (class_id, learner_id, body, at, from_learner, author) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(class_id)
        .bind(learner_id)
        .bind(body)
        .bind(at)
        .bind(i64::from(from_learner))
        .bind(name.clone())
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?
        .get("id");
        if let Some(learner) = learner_id {
            self.keep_tail("messages", learner, super::THREAD_KEPT).await?;
        }
        Ok(Message {
            id,
            class_id: class_id.into(),
            learner_id: learner_id.map(Into::into),
            body: body.into(),
            at,
            from_learner,
            author: name,
        })
    }

    async fn messages_for(&self, learner_id: &str, after_id: i64, limit: i64) -> Result<Vec<Message>> {
        self.all(
            sqlx::query(
                "SELECT * FROM (SELECT m.* FROM messages m JOIN learners l ON l.class_id = m.class_id \
             WHERE l.id = $1 AND (m.learner_id IS NULL OR m.learner_id = l.id) AND m.id > $2 ORDER BY m.id DESC LIMIT $3) AS newest ORDER BY id",
            )
            .bind(learner_id)
            .bind(after_id)
            .bind(limit),
            message_from,
        )
        .await
    }

    async fn thread(&self, learner_id: &str, limit: i64) -> Result<Vec<Message>> {
        self.all(
            sqlx::query("SELECT * FROM (SELECT * FROM messages WHERE learner_id = $1 ORDER BY id DESC LIMIT $2) AS newest ORDER BY id")
                .bind(learner_id)
                .bind(limit),
            message_from,
        )
        .await
    }

    async fn raise_hand(&self, class_id: &str, learner_id: &str, context: &HelpContext) -> Result<HelpRequest> {
        let note = context.note.trim();
        if note.chars().count() > NOTE_CHARS {
            return Err(StoreError::Invalid(app::t!("srv-note-length", max = NOTE_CHARS)));
        }
        // One open hand per learner (a partial unique index): raising again only changes what
        // it says.
        let row = sqlx::query(
            "INSERT INTO help_requests (class_id, learner_id, note, lab_id, step_id, reason, raised_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (learner_id) WHERE closed_at IS NULL \
             DO UPDATE SET note = excluded.note, lab_id = excluded.lab_id, step_id = excluded.step_id, reason = excluded.reason \
             RETURNING *",
        )
        .bind(class_id)
        .bind(learner_id)
        .bind(note)
        .bind(context.lab_id.clone())
        .bind(context.step_id.clone())
        .bind(context.reason.clone())
        .bind(now())
        .fetch_one(&self.pool)
        .await
        .map_err(classify)?;
        self.keep_tail("help_requests", learner_id, super::HANDS_KEPT).await?;
        Ok(help_request_from(&row))
    }

    async fn change_help(&self, id: i64, change: HelpChange) -> Result<Option<HelpRequest>> {
        let at = now();
        let query = match &change {
            HelpChange::Claim(by) => {
                sqlx::query("UPDATE help_requests SET claimed_by = $1, claimed_at = $2 WHERE id = $3 AND closed_at IS NULL RETURNING *")
                    .bind(by.clone())
                    .bind(at)
                    .bind(id)
            }
            HelpChange::Return => {
                sqlx::query("UPDATE help_requests SET claimed_by = NULL, claimed_at = NULL WHERE id = $1 AND closed_at IS NULL RETURNING *")
                    .bind(id)
            }
            HelpChange::Resolve | HelpChange::Lower => {
                let outcome = if change == HelpChange::Resolve { "resolved" } else { "lowered" };
                sqlx::query("UPDATE help_requests SET closed_at = $1, outcome = $2 WHERE id = $3 AND closed_at IS NULL RETURNING *")
                    .bind(at)
                    .bind(outcome)
                    .bind(id)
            }
        };
        self.optional(query, help_request_from).await
    }

    async fn help_request(&self, id: i64) -> Result<Option<HelpRequest>> {
        self.optional(sqlx::query("SELECT * FROM help_requests WHERE id = $1").bind(id), help_request_from).await
    }

    async fn open_help(&self, learner_id: &str) -> Result<Option<HelpRequest>> {
        self.optional(
            sqlx::query("SELECT * FROM help_requests WHERE learner_id = $1 AND closed_at IS NULL").bind(learner_id),
            help_request_from,
        )
        .await
    }

    async fn help_queue(&self, class_id: &str) -> Result<Vec<HelpRequest>> {
        self.all(
            sqlx::query("SELECT * FROM help_requests WHERE class_id = $1 AND closed_at IS NULL ORDER BY raised_at, id").bind(class_id),
            help_request_from,
        )
        .await
    }

    async fn launch_poll(&self, deck: &str, view: &PollView) -> Result<Poll> {
        let at = now();
        let mut stored = view.clone();
        stored.results = None;
        let json = serde_json::to_string(&stored).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.pool.begin().await.map_err(classify)?;
        sqlx::query("UPDATE polls SET closed_at = $1 WHERE deck_id = $2 AND closed_at IS NULL")
            .bind(at)
            .bind(deck)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let row = sqlx::query("INSERT INTO polls (deck_id, question_id, view, launched_at) VALUES ($1, $2, $3, $4) RETURNING *")
            .bind(deck)
            .bind(view.question.clone())
            .bind(json)
            .bind(at)
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(poll_from(&row))
    }

    async fn poll(&self, id: i64) -> Result<Option<Poll>> {
        self.optional(sqlx::query("SELECT * FROM polls WHERE id = $1").bind(id), poll_from).await
    }

    async fn open_polls(&self) -> Result<Vec<Poll>> {
        self.all(sqlx::query("SELECT * FROM polls WHERE closed_at IS NULL ORDER BY id DESC"), poll_from).await
    }

    async fn change_poll(&self, id: i64, change: PollChange) -> Result<Option<Poll>> {
        let column = match change {
            PollChange::Reveal => "revealed_at",
            PollChange::Close => "closed_at",
        };
        // `column` is one of the two above, never input.
        let sql = format!("UPDATE polls SET {column} = COALESCE({column}, $1) WHERE id = $2 AND closed_at IS NULL RETURNING *");
        self.optional(sqlx::query(&sql).bind(now()).bind(id), poll_from).await
    }

    async fn answer_poll(&self, id: i64, learner_id: &str, answer: &PollAnswer) -> Result<()> {
        let json = serde_json::to_string(answer).map_err(|e| StoreError::Invalid(e.to_string()))?;
        sqlx::query(
            "INSERT INTO poll_answers (poll_id, learner_id, answer, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (poll_id, learner_id) DO UPDATE SET answer = excluded.answer, at = excluded.at",
        )
        .bind(id)
        .bind(learner_id)
        .bind(json)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    async fn poll_answers(&self, id: i64) -> Result<Vec<(String, PollAnswer)>> {
        let rows = sqlx::query("SELECT learner_id, answer FROM poll_answers WHERE poll_id = $1")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        Ok(rows.iter().filter_map(|r| Some((r.get("learner_id"), serde_json::from_str(&r.get::<String, _>("answer")).ok()?))).collect())
    }

    async fn polls_per_deck(&self) -> Result<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT deck_id, COUNT(*) AS n FROM polls GROUP BY deck_id").fetch_all(&self.pool).await.map_err(classify)?;
        Ok(rows.iter().map(|r| (r.get("deck_id"), r.get("n"))).collect())
    }

    async fn polls_answered(&self, class_id: &str, decks: &[String]) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT a.learner_id, p.deck_id, COUNT(*) AS n FROM poll_answers a JOIN polls p ON p.id = a.poll_id \
             JOIN learners l ON l.id = a.learner_id WHERE l.class_id = $1 GROUP BY a.learner_id, p.deck_id",
        )
        .bind(class_id)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let mut per_learner: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
        for row in &rows {
            let deck: String = row.get("deck_id");
            if decks.is_empty() || decks.contains(&deck) {
                *per_learner.entry(row.get("learner_id")).or_default() += row.get::<i64, _>("n");
            }
        }
        Ok(per_learner.into_iter().collect())
    }

    async fn step_states(&self, learner_id: &str, lab_id: &str) -> Result<Vec<StepState>> {
        self.all(
            sqlx::query("SELECT * FROM step_states WHERE learner_id = $1 AND lab_id = $2").bind(learner_id).bind(lab_id),
            step_state_from,
        )
        .await
    }

    async fn class_step_states(&self, class_id: &str) -> Result<Vec<(String, StepState)>> {
        self.all(
            sqlx::query("SELECT s.* FROM step_states s JOIN learners l ON l.id = s.learner_id WHERE l.class_id = $1").bind(class_id),
            |r| (r.get("learner_id"), step_state_from(r)),
        )
        .await
    }

    async fn start_step(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<StepState> {
        sqlx::query(
            "INSERT INTO step_states (learner_id, lab_id, step_id, state, started_at) VALUES ($1, $2, $3, 'started', $4) \
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

    async fn record_check(
        &self,
        learner_id: &str,
        lab_id: &str,
        step_id: &str,
        outcome: &CheckOutcome,
        run: CheckRun,
    ) -> Result<StepState> {
        let before = self.start_step(learner_id, lab_id, step_id).await?;
        let t = now();
        let changed = before.last_passed != Some(outcome.passed) || before.last_reason.as_deref() != Some(outcome.reason.as_str());
        let mut tx = self.pool.begin().await.map_err(classify)?;
        if !before.done {
            let same = match (outcome.passed, run.is_attempt()) {
                (true, _) => 0,
                // The timer re-running a failing check is not the learner failing again.
                (false, false) if changed => 0,
                (false, false) => before.same_failures,
                (false, true) if changed => 1,
                (false, true) => before.same_failures + 1,
            };
            sqlx::query(
                "UPDATE step_states SET attempts = attempts + $1, same_failures = $2, last_check_at = $3, last_passed = $4, last_reason = $5, \
                 state = CASE WHEN $6 THEN 'done' ELSE state END, done_at = CASE WHEN $7 THEN $8 ELSE done_at END, \
                 failures = failures + $12 \
                 WHERE learner_id = $9 AND lab_id = $10 AND step_id = $11",
            )
            .bind(i64::from(run.is_attempt()))
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
            .bind(i64::from(run.is_attempt() && !outcome.passed))
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        } else {
            sqlx::query("UPDATE step_states SET last_check_at = $1, last_passed = $2, last_reason = $3 WHERE learner_id = $4 AND lab_id = $5 AND step_id = $6")
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
        if run == CheckRun::Asked || changed {
            sqlx::query(
                "INSERT INTO check_results (learner_id, lab_id, step_id, passed, reason, took_ms, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
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
        if run == CheckRun::Asked || changed {
            self.keep_tail("check_results", learner_id, super::HISTORY_KEPT).await?;
        }
        self.step_state(learner_id, lab_id, step_id).await
    }

    async fn reveal_hints(&self, learner_id: &str, lab_id: &str, step_id: &str, count: i64) -> Result<StepState> {
        self.start_step(learner_id, lab_id, step_id).await?;
        sqlx::query("UPDATE step_states SET hints_revealed = CASE WHEN hints_revealed < $1 THEN $1 ELSE hints_revealed END WHERE learner_id = $2 AND lab_id = $3 AND step_id = $4")
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
        sqlx::query("UPDATE step_states SET solution_shown = 1 WHERE learner_id = $1 AND lab_id = $2 AND step_id = $3")
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
            "INSERT INTO hint_checks_fired (learner_id, lab_id, step_id, hint_index, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
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
        self.all(
            sqlx::query(
                "SELECT hint_index FROM hint_checks_fired WHERE learner_id = $1 AND lab_id = $2 AND step_id = $3 ORDER BY hint_index",
            )
            .bind(learner_id)
            .bind(lab_id)
            .bind(step_id),
            |r| r.get("hint_index"),
        )
        .await
    }

    async fn answer_quiz(&self, learner_id: &str, question_id: &str, choices: &[usize], correct: bool, points: i64) -> Result<QuizAnswer> {
        let t = now();
        let json = serde_json::to_string(choices).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO quiz_answers (learner_id, question_id, choices, correct, points, attempts, first_at, at) VALUES ($1, $2, $3, $4, $5, 1, $6, $7) \
             ON CONFLICT (learner_id, question_id) DO UPDATE SET attempts = quiz_answers.attempts + 1, at = excluded.at, latest = excluded.choices",
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
        self.log_event(
            Some(learner_id),
            "quiz_answer",
            serde_json::json!({ "question": question_id, "choices": choices, "correct": correct }),
        )
        .await?;
        let row = sqlx::query("SELECT * FROM quiz_answers WHERE learner_id = $1 AND question_id = $2")
            .bind(learner_id)
            .bind(question_id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        Ok(quiz_answer_from(&row))
    }

    async fn quiz_answers(&self, learner_id: &str) -> Result<Vec<QuizAnswer>> {
        self.all(sqlx::query("SELECT * FROM quiz_answers WHERE learner_id = $1 ORDER BY first_at").bind(learner_id), quiz_answer_from).await
    }

    async fn class_quiz_answers(&self, class_id: &str) -> Result<Vec<(String, QuizAnswer)>> {
        self.all(
            sqlx::query("SELECT q.* FROM quiz_answers q JOIN learners l ON l.id = q.learner_id WHERE l.class_id = $1").bind(class_id),
            |r| (r.get("learner_id"), quiz_answer_from(r)),
        )
        .await
    }

    async fn record_command(&self, learner_id: &str, command: &CommandRecord) -> Result<()> {
        sqlx::query("INSERT INTO commands (learner_id, command, exit_status, started_at, duration_ms) VALUES ($1, $2, $3, $4, $5)")
            .bind(learner_id)
            .bind(&command.command)
            .bind(command.exit_status)
            .bind(command.started_at)
            .bind(command.duration_ms)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        self.keep_tail("commands", learner_id, super::COMMANDS_KEPT).await?;
        Ok(())
    }

    async fn commands(&self, learner_id: &str, limit: i64) -> Result<Vec<CommandRecord>> {
        let rows =
            sqlx::query("SELECT * FROM (SELECT * FROM commands WHERE learner_id = $1 ORDER BY id DESC LIMIT $2) AS newest ORDER BY id")
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
        sqlx::query("INSERT INTO events (at, learner_id, kind, data) VALUES ($1, $2, $3, $4)")
            .bind(now())
            .bind(learner_id)
            .bind(kind)
            .bind(data.to_string())
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        if let Some(learner_id) = learner_id {
            self.keep_tail("events", learner_id, super::HISTORY_KEPT).await?;
        }
        Ok(())
    }
}

/// A query with its arguments bound.
type Bound<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

impl SqlStore {
    /// Keeps a learner's rows of a log `table` (one fed by what a learner does, as fast as they
    /// can do it) to about the newest `keep`: every `PRUNE_EVERY` rows of theirs, the older go.
    async fn keep_tail(&self, table: &'static str, learner_id: &str, keep: i64) -> Result<()> {
        let due = {
            let mut counts = self.since_pruned.lock().unwrap_or_else(|p| p.into_inner());
            let count = counts.entry((table, learner_id.to_owned())).or_default();
            *count += 1;
            let due = *count >= PRUNE_EVERY;
            if due {
                *count = 0;
            }
            due
        };
        if due {
            // `table` is one of this file's constants, never input.
            sqlx::query(&format!(
                "DELETE FROM {table} WHERE learner_id = $1 AND id < \
                 (SELECT MIN(id) FROM (SELECT id FROM {table} WHERE learner_id = $1 ORDER BY id DESC LIMIT $2) AS kept)"
            ))
            .bind(learner_id)
            .bind(keep)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        }
        Ok(())
    }

    /// Every row of `query`, each made a value by `row`.
    async fn all<T>(&self, query: Bound<'_>, row: fn(&AnyRow) -> T) -> Result<Vec<T>> {
        Ok(query.fetch_all(&self.pool).await.map_err(classify)?.iter().map(row).collect())
    }

    /// The row of `query`, if there is one, made a value by `row`.
    async fn optional<T>(&self, query: Bound<'_>, row: fn(&AnyRow) -> T) -> Result<Option<T>> {
        Ok(query.fetch_optional(&self.pool).await.map_err(classify)?.as_ref().map(row))
    }

    /// A new session: its token (only the token's hash is stored). A learner's last visit is now.
    async fn insert_session(&self, of: SessionOf<'_>, ttl: Duration) -> Result<String> {
        let token = session_token();
        let t = now();
        sqlx::query(
            "INSERT INTO sessions (token_hash, role, learner_id, assistant_id, identity_id, staff_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(token_hash(&token))
        .bind(of.role.as_str())
        .bind(of.learner_id)
        .bind(of.assistant_id)
        .bind(of.identity_id)
        .bind(of.staff_id)
        .bind(t)
        .bind(t + ttl.as_secs() as i64)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        if let Some(id) = of.learner_id {
            sqlx::query("UPDATE learners SET last_seen = $1 WHERE id = $2").bind(t).bind(id).execute(&self.pool).await.map_err(classify)?;
        }
        Ok(token)
    }

    async fn step_state(&self, learner_id: &str, lab_id: &str, step_id: &str) -> Result<StepState> {
        let row = sqlx::query("SELECT * FROM step_states WHERE learner_id = $1 AND lab_id = $2 AND step_id = $3")
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
mod tests;
