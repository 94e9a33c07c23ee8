//! The tool's own keys: what signs the JWTs Stacklab sends an LMS (the client assertion that buys
//! an access token, the deep-linking answer), published at `/lti/jwks` for the LMS to check them.
//! The keys live in the store, so a restart signs with the same key; a rotation makes a new one
//! and keeps the one before it published, so what it signed a moment ago still checks.

use std::sync::{Arc, RwLock};

use base64::Engine;
use openidconnect::core::{CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey};
use serde_json::Value;

use crate::store::Store;
use crate::store::lti::ToolKey;

/// The size of a new key: what the LTI security framework asks for at least.
const KEY_BITS: usize = 2048;

struct Loaded {
    kid: String,
    key: CoreRsaPrivateSigningKey,
}

pub struct ToolKeys {
    store: Arc<dyn Store>,
    /// Newest first: the first signs.
    keys: RwLock<Vec<Arc<Loaded>>>,
}

impl ToolKeys {
    /// The keys in the store; a first one is made when there is none.
    pub async fn load(store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let keys = Self { store, keys: RwLock::new(Vec::new()) };
        if keys.store.lti_keys().await?.is_empty() {
            keys.store.add_lti_key(&new_key(0).await?).await?;
        }
        keys.reload().await?;
        Ok(keys)
    }

    async fn reload(&self) -> anyhow::Result<()> {
        let mut loaded = Vec::new();
        for stored in self.store.lti_keys().await? {
            let key = CoreRsaPrivateSigningKey::from_pem(&stored.private_pem, Some(JsonWebKeyId::new(stored.kid.clone())))
                .map_err(|e| anyhow::anyhow!("the LTI key {} in the store cannot be read: {e}", stored.kid))?;
            loaded.push(Arc::new(Loaded { kid: stored.kid, key }));
        }
        *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = loaded;
        Ok(())
    }

    /// Makes a new key, which signs from now on; the one before it stays published.
    pub async fn rotate(&self) -> anyhow::Result<String> {
        let newest = self.store.lti_keys().await?.first().map_or(0, |k| k.created_at);
        let key = new_key(newest).await?;
        let kid = key.kid.clone();
        self.store.add_lti_key(&key).await?;
        self.reload().await?;
        tracing::info!(kid = %kid, "the LTI tool key was rotated");
        Ok(kid)
    }

    fn current(&self) -> Option<Arc<Loaded>> {
        self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).first().cloned()
    }

    /// The id of the key that signs now.
    pub fn kid(&self) -> Option<String> {
        self.current().map(|k| k.kid.clone())
    }

    /// The public keys, as a JSON Web Key Set (each says its algorithm: some LMSs insist).
    pub fn jwks(&self) -> Value {
        let keys = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let set = CoreJsonWebKeySet::new(keys.iter().map(|k| k.key.as_verification_key()).collect());
        let mut value = serde_json::to_value(&set).unwrap_or_else(|_| serde_json::json!({ "keys": [] }));
        if let Some(Value::Array(keys)) = value.get_mut("keys") {
            for key in keys.iter_mut().filter_map(Value::as_object_mut) {
                key.insert("alg".into(), "RS256".into());
                key.insert("use".into(), "sig".into());
            }
        }
        value
    }

    /// `claims` as a JWT signed (RS256) with the current key.
    pub fn sign(&self, claims: &Value) -> anyhow::Result<String> {
        let current = self.current().ok_or_else(|| anyhow::anyhow!("the LTI tool has no key"))?;
        sign_with(&current.key, &current.kid, claims)
    }
}

/// A compact JWS of `claims`: the crate signs, this only lays out the three parts.
pub fn sign_with(key: &CoreRsaPrivateSigningKey, kid: &str, claims: &Value) -> anyhow::Result<String> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = serde_json::json!({ "alg": "RS256", "typ": "JWT", "kid": kid });
    let signing_input = format!("{}.{}", b64.encode(serde_json::to_vec(&header)?), b64.encode(serde_json::to_vec(claims)?));
    let signature = key
        .sign(&CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256, signing_input.as_bytes())
        .map_err(|e| anyhow::anyhow!("signing with the LTI key: {e}"))?;
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

/// A new RSA key (made in a blocking thread: it takes a while) named by when it was made, which
/// is after `newest` (the keys are ordered by it: two rotations in one second keep their order).
async fn new_key(newest: i64) -> anyhow::Result<ToolKey> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let pem = tokio::task::spawn_blocking(|| {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, KEY_BITS)?;
        anyhow::Ok(private.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)?.to_string())
    })
    .await??;
    let created_at = crate::store::now().max(newest + 1);
    let kid = format!("stacklab-{created_at}-{}", &crate::store::session_token()[..8]);
    Ok(ToolKey { kid, private_pem: pem, created_at })
}

#[cfg(test)]
mod tests {
    use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier};
    use openidconnect::{ClientId, IssuerUrl, Nonce};

    use super::*;

    /// What the tool signs, checked the way an LMS checks it: against the published set.
    fn checks_against(jwks: &Value, token: &str) -> bool {
        let keys: CoreJsonWebKeySet = serde_json::from_value(jwks.clone()).unwrap();
        let token: CoreIdToken = token.parse().unwrap();
        let verifier =
            CoreIdTokenVerifier::new_public_client(ClientId::new("lms".into()), IssuerUrl::new("https://tool.test".into()).unwrap(), keys);
        token.claims(&verifier, &Nonce::new("n".into())).is_ok()
    }

    fn claims() -> Value {
        let now = crate::store::now();
        serde_json::json!({ "iss": "https://tool.test", "aud": "lms", "sub": "tool", "iat": now, "exp": now + 60, "nonce": "n" })
    }

    #[tokio::test]
    async fn the_key_survives_a_restart_and_a_rotation_keeps_the_one_before_published() {
        let store: Arc<dyn Store> = Arc::new(crate::store::SqlStore::memory().await.unwrap());
        let keys = ToolKeys::load(store.clone()).await.unwrap();
        let first = keys.kid().unwrap();
        let before = keys.sign(&claims()).unwrap();
        assert!(checks_against(&keys.jwks(), &before));
        assert_eq!(keys.jwks()["keys"][0]["alg"], "RS256");

        let again = ToolKeys::load(store.clone()).await.unwrap();
        assert_eq!(again.kid().unwrap(), first, "a restart signs with the same key");

        let second = keys.rotate().await.unwrap();
        assert_ne!(second, first);
        let after = keys.sign(&claims()).unwrap();
        let published = keys.jwks();
        assert_eq!(published["keys"].as_array().unwrap().len(), 2);
        assert!(checks_against(&published, &before), "signed just before the rotation, still checks");
        assert!(checks_against(&published, &after));

        keys.rotate().await.unwrap();
        assert!(!checks_against(&keys.jwks(), &before), "two rotations on, the first key is gone");
    }
}
