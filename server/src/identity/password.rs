//! Staff accounts' passwords: kept only as argon2id hashes (PHC strings, salt and parameters
//! inside), checked in a blocking thread (a check costs tens of milliseconds of CPU on purpose).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password a staff account may have.
pub const MIN_CHARS: usize = 12;

/// Why a new password or login is refused, in words for the administrator.
pub fn check_new(login: &str, password: &str) -> Result<(), String> {
    let login_ok = (2..=40).contains(&login.trim().len())
        && login.trim().chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if !login_ok {
        return Err(app::t!("srv-login-shape"));
    }
    if password.chars().count() < MIN_CHARS {
        return Err(app::t!("srv-password-length", min = MIN_CHARS));
    }
    if password.chars().count() > 200 {
        return Err(app::t!("srv-password-too-long", max = 200));
    }
    Ok(())
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?
        .to_string())
}

/// Whether `password` is the one `hash` was made from. Without a hash (no such account) a check
/// is made all the same, against a hash of nothing anyone can type, so the time taken does not
/// tell which logins exist.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stand_in = stand_in();
        let known = hash.is_some();
        let hash = hash.unwrap_or(stand_in);
        let Ok(parsed) = PasswordHash::new(&hash) else { return false };
        argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok() && known
    })
    .await
    .unwrap_or(false)
}

fn stand_in() -> String {
    static STAND_IN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    STAND_IN.get_or_init(|| hash("\u{0}no account has this password\u{0}").unwrap_or_default()).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_is_checked_against_its_hash_only() {
        let kept = hash("correct horse battery").unwrap();
        assert!(kept.starts_with("$argon2id$"), "{kept}");
        assert!(verify("correct horse battery".into(), Some(kept.clone())).await);
        assert!(!verify("correct horse batter".into(), Some(kept)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(!verify("anything".into(), Some("not a hash".into())).await);
    }

    #[test]
    fn new_logins_and_passwords_are_checked() {
        assert!(check_new("grace", "twelve chars").is_ok());
        assert!(check_new("grace", "short").unwrap_err().contains("12"));
        assert!(check_new("g", "twelve chars").is_err());
        assert!(check_new("grace hopper", "twelve chars").is_err());
    }
}
