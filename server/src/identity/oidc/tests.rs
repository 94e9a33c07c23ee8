//! ID tokens made here, with RSA keys made here, checked as the provider's would be.

use std::sync::LazyLock;

use openidconnect::core::{CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{Audience, IdToken, IdTokenClaims, PrivateSigningKey, StandardClaims, SubjectIdentifier};

use super::*;

const ISSUER: &str = "https://id.school.test";
const CLIENT: &str = "stacklab";
const NONCE: &str = "nonce-of-this-sign-in";

use crate::identity::refetch::test_key as rsa_key;

/// The provider's key, the key it rotates to, and an impostor's key under the first one's id.
static PROVIDER: LazyLock<CoreRsaPrivateSigningKey> = LazyLock::new(|| rsa_key("2026-a"));
static ROTATED: LazyLock<CoreRsaPrivateSigningKey> = LazyLock::new(|| rsa_key("2026-b"));
static IMPOSTOR: LazyLock<CoreRsaPrivateSigningKey> = LazyLock::new(|| rsa_key("2026-a"));

struct Made<'a> {
    key: &'a CoreRsaPrivateSigningKey,
    issuer: &'a str,
    audience: &'a str,
    lifetime: chrono::Duration,
    nonce: &'a str,
    extra: serde_json::Value,
}

impl Default for Made<'_> {
    fn default() -> Self {
        Made {
            key: &PROVIDER,
            issuer: ISSUER,
            audience: CLIENT,
            lifetime: chrono::Duration::minutes(5),
            nonce: NONCE,
            extra: serde_json::json!({}),
        }
    }
}

/// A signed ID token (custom claims included, as providers send groups and roles).
fn token(made: Made) -> CoreIdToken {
    let now = chrono::Utc::now();
    let extra: AllClaims = serde_json::from_value(made.extra).unwrap();
    let claims = IdTokenClaims::new(
        IssuerUrl::new(made.issuer.into()).unwrap(),
        vec![Audience::new(made.audience.into())],
        now + made.lifetime,
        now,
        StandardClaims::new(SubjectIdentifier::new("ada".into())),
        extra,
    )
    .set_nonce(Some(Nonce::new(made.nonce.into())));
    let signed = IdToken::<AllClaims, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm>::new(
        claims,
        made.key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .unwrap();
    // What the token endpoint sends is a string; read it back as the client reads it.
    serde_json::from_value(serde_json::to_value(&signed).unwrap()).unwrap()
}

/// A verifier that knows `keys`, as discovery gives it the provider's published set.
fn verifier(keys: &[&CoreRsaPrivateSigningKey]) -> CoreIdTokenVerifier<'static> {
    CoreIdTokenVerifier::new_public_client(
        ClientId::new(CLIENT.into()),
        IssuerUrl::new(ISSUER.into()).unwrap(),
        CoreJsonWebKeySet::new(keys.iter().map(|k| k.as_verification_key()).collect()),
    )
}

fn refusal(made: Made) -> Unverified {
    verify(&token(made), &verifier(&[&PROVIDER]), &Nonce::new(NONCE.into())).map(|_| ()).unwrap_err()
}

#[test]
fn a_good_token_gives_its_claims_custom_ones_included() {
    let token = token(Made { extra: serde_json::json!({"groups": ["staff"], "name": "Ada"}), ..Made::default() });
    let claims = verify(&token, &verifier(&[&PROVIDER]), &Nonce::new(NONCE.into())).unwrap();
    assert_eq!(claims.subject().as_str(), "ada");
    let all = payload(&token).unwrap();
    assert_eq!(all["groups"], serde_json::json!(["staff"]));
    let who = vouched(ISSUER, &all, &ClaimRules { staff: Some(("groups".into(), "staff".into())), ..ClaimRules::default() }).unwrap();
    assert_eq!((who.display_name.as_str(), who.staff), ("Ada", true));
}

#[test]
fn expired_misaddressed_replayed_and_forged_tokens_are_refused() {
    assert_eq!(refusal(Made { lifetime: chrono::Duration::hours(-1), ..Made::default() }), Unverified::Because("it has expired"));
    assert_eq!(refusal(Made { audience: "another-app", ..Made::default() }), Unverified::Because("it was issued to another application"));
    assert_eq!(refusal(Made { issuer: "https://evil.test", ..Made::default() }), Unverified::Because("it was issued by another provider"));
    // A token from another sign-in (its nonce) is a replay.
    assert_eq!(refusal(Made { nonce: "another-nonce", ..Made::default() }), Unverified::Because("it belongs to another sign-in"));
    // Signed by someone else under the provider's key id: the signature does not hold.
    assert_eq!(refusal(Made { key: &IMPOSTOR, ..Made::default() }), Unverified::Because("its signature is wrong"));
}

#[test]
fn a_key_not_yet_known_asks_for_the_keys_again() {
    // The provider rotated to a key published after we fetched its set: not a refusal yet.
    assert_eq!(refusal(Made { key: &ROTATED, ..Made::default() }), Unverified::UnknownKey);
    // With the set fetched again, the same token is good.
    let token = token(Made { key: &ROTATED, ..Made::default() });
    assert!(verify(&token, &verifier(&[&PROVIDER, &ROTATED]), &Nonce::new(NONCE.into())).is_ok());
}

#[test]
fn the_state_is_compared_whole() {
    assert!(same(b"abc", b"abc"));
    assert!(!same(b"abc", b"abd"));
    assert!(!same(b"abc", b"abcd"));
}

#[test]
fn settings_that_cannot_work_are_refused_at_start() {
    let settings = OidcSettings {
        issuer: ISSUER.into(),
        client_id: CLIENT.into(),
        client_secret: None,
        redirect_url: "https://lab.school.test/auth/oidc/callback".into(),
        scopes: vec!["openid".into()],
        rules: ClaimRules::default(),
        label: "School".into(),
    };
    assert!(Oidc::new(settings.clone()).is_ok());
    let wrong = Oidc::new(OidcSettings { redirect_url: "https://lab.school.test/callback".into(), ..settings.clone() }).err().unwrap();
    assert!(wrong.to_string().contains("/auth/oidc/callback"), "{wrong}");
    assert!(Oidc::new(OidcSettings { issuer: "not a url".into(), ..settings }).is_err());
}
