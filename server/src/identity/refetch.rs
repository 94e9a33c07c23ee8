//! When to fetch someone's published keys again: a token signed with a key we do not know may be
//! a rotation (fetch now), or a forgery (which must not make the server hammer the issuer). So at
//! most once a minute per issuer.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A forced refetch per issuer at most this often.
pub const AT_MOST_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
pub struct Refetches(Mutex<HashMap<String, Instant>>);

impl Refetches {
    /// Whether `issuer`'s keys may be fetched again now (and, if so, that they were).
    pub fn allowed(&self, issuer: &str) -> bool {
        let mut last = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let allowed = last.get(issuer).is_none_or(|at| at.elapsed() >= AT_MOST_EVERY);
        if allowed {
            last.insert(issuer.to_string(), Instant::now());
        }
        allowed
    }
}

/// An RSA key made for a test, as an issuer's would be, under `kid`.
#[cfg(test)]
pub fn test_key(kid: &str) -> openidconnect::core::CoreRsaPrivateSigningKey {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let pem = private.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).unwrap();
    openidconnect::core::CoreRsaPrivateSigningKey::from_pem(&pem, Some(openidconnect::JsonWebKeyId::new(kid.into()))).unwrap()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_refetch_is_allowed_once_a_minute_per_issuer() {
        let refetches = super::Refetches::default();
        assert!(refetches.allowed("https://a.test"));
        assert!(!refetches.allowed("https://a.test"));
        assert!(refetches.allowed("https://b.test"));
    }
}
