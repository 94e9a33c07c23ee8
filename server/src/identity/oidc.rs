//! Stacklab as an OpenID Connect relying party: the authorization code flow with PKCE against the
//! school's provider, found by discovery. Every ID token is checked by the `openidconnect` crate
//! (signature against the provider's published keys, issuer, audience, expiry, nonce, and the
//! access token's hash); none of that is written here. What is ours: when to fetch the provider's
//! keys again (a key we do not know may be a rotation), and what each refusal tells the person.

use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreProviderMetadata,
    CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, AdditionalClaims, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::{ClaimRules, vouched};
use crate::store::Vouched;

/// The client as discovery makes it: an authorization endpoint, maybe a token and a user info one.
type Client = CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The provider and how Stacklab is registered there (`--oidc-*`).
#[derive(Clone, Debug)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    /// `None` for a public client (PKCE alone).
    pub client_secret: Option<String>,
    /// Where the provider sends people back: `https://HOST/auth/oidc/callback`.
    pub redirect_url: String,
    pub scopes: Vec<String>,
    pub rules: ClaimRules,
    /// How the sign-in button names the provider ("Sign in with …").
    pub label: String,
}

/// Provider metadata (and the keys with it) is fetched again after this long.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// A sign-in not finished within this long is refused (the browser keeps it in a cookie as long).
pub const PENDING_TTL: Duration = Duration::from_secs(600);
/// Each request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// A sign-in on its way: what the browser carries to the provider and back, in a signed cookie
/// (so the server keeps nothing per half-finished sign-in).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub state: String,
    pub nonce: String,
    pub verifier: String,
    /// The page to land on afterwards.
    pub next: String,
    /// The class code typed before signing in, to join that class.
    #[serde(default)]
    pub class_code: Option<String>,
    /// When it began, in seconds since the epoch.
    pub began: i64,
}

/// Why nobody was signed in, in words for the person at the browser (never the provider's or
/// the host's internals: those go to the log).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    #[error("The sign-in service cannot be reached right now; try again in a minute.")]
    Unreachable,
    #[error("The sign-in service did not sign you in: {0}")]
    Refused(String),
    #[error("This sign-in was begun more than ten minutes ago, or in another browser or tab: start again.")]
    Stale,
    #[error("The sign-in service's answer could not be trusted ({0}), so nobody was signed in. If it happens again, tell your instructor.")]
    Untrusted(String),
}

/// Why an ID token was not accepted.
#[derive(Debug, PartialEq, Eq)]
pub enum Unverified {
    /// Signed with a key the provider's published set lacks (perhaps rotated since we looked).
    UnknownKey,
    Because(&'static str),
}

/// Every claim, standard or not (groups, roles), as the provider sent it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
struct AllClaims {
    #[serde(flatten)]
    claims: Map<String, Value>,
}

impl AdditionalClaims for AllClaims {}

struct Provider {
    metadata: CoreProviderMetadata,
    fetched: Instant,
}

pub struct Oidc {
    settings: OidcSettings,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    http: reqwest::Client,
    provider: tokio::sync::Mutex<Option<Provider>>,
    refetches: super::refetch::Refetches,
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        use anyhow::Context;
        let issuer =
            IssuerUrl::new(settings.issuer.clone()).with_context(|| format!("--oidc-issuer {:?} is not a URL", settings.issuer))?;
        let redirect = RedirectUrl::new(settings.redirect_url.clone())
            .with_context(|| format!("--oidc-redirect-url {:?} is not a URL", settings.redirect_url))?;
        anyhow::ensure!(
            redirect.url().path().ends_with("/auth/oidc/callback"),
            "--oidc-redirect-url must end in /auth/oidc/callback (the path Stacklab answers on), not {:?}",
            redirect.url().path()
        );
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer send us elsewhere (SSRF).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()?;
        Ok(Self { settings, issuer, redirect, http, provider: tokio::sync::Mutex::new(None), refetches: Default::default() })
    }

    pub fn label(&self) -> &str {
        &self.settings.label
    }

    /// Fetches the provider's metadata once, to say at start whether the configuration works.
    pub async fn probe(&self) {
        match self.client(false).await {
            Ok(_) => tracing::info!(issuer = %self.issuer.as_str(), "OpenID Connect provider found"),
            Err(_) => {
                tracing::warn!(issuer = %self.issuer.as_str(), "the OpenID Connect provider cannot be reached yet: sign-in waits for it")
            }
        }
    }

    /// The client for the provider as last discovered; `refetch` asks for fresh keys (at most
    /// once a minute).
    async fn client(&self, refetch: bool) -> Result<Client, SignInError> {
        let mut provider = self.provider.lock().await;
        let forced = refetch && self.refetches.allowed(self.issuer.as_str());
        if forced || provider.as_ref().is_none_or(|p| p.fetched.elapsed() >= METADATA_TTL) {
            match CoreProviderMetadata::discover_async(self.issuer.clone(), &self.http).await {
                Ok(metadata) => *provider = Some(Provider { metadata, fetched: Instant::now() }),
                // Stale metadata still signs people in while the provider is briefly away.
                Err(e) => tracing::warn!(issuer = %self.issuer.as_str(), "OpenID Connect discovery: {}", chain(&e)),
            }
        }
        let Some(provider) = provider.as_ref() else { return Err(SignInError::Unreachable) };
        Ok(CoreClient::from_provider_metadata(
            provider.metadata.clone(),
            ClientId::new(self.settings.client_id.clone()),
            self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect.clone()))
    }

    /// Where to send the browser to sign in, and what it must bring back.
    pub async fn begin(&self, next: String, class_code: Option<String>) -> Result<(String, Pending), SignInError> {
        let client = self.client(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        // The crate asks for `openid` itself.
        for scope in self.settings.scopes.iter().filter(|s| s.as_str() != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            next,
            class_code,
            began: crate::store::now(),
        };
        Ok((url.to_string(), pending))
    }

    /// The person the provider's answer (`state` and `code` on the redirect) vouches for.
    pub async fn finish(&self, pending: &Pending, state: &str, code: &str) -> Result<Vouched, SignInError> {
        let expired = crate::store::now() > pending.began + PENDING_TTL.as_secs() as i64;
        if expired || !same(state.as_bytes(), pending.state.as_bytes()) {
            return Err(SignInError::Stale);
        }
        let client = self.client(false).await?;
        let exchange = client.exchange_code(AuthorizationCode::new(code.to_string())).map_err(|e| {
            tracing::error!("the OpenID Connect provider has no token endpoint: {e}");
            SignInError::Unreachable
        })?;
        let tokens = exchange.set_pkce_verifier(PkceCodeVerifier::new(pending.verifier.clone())).request_async(&self.http).await.map_err(
            |e| match e {
                RequestTokenError::ServerResponse(answer) => {
                    SignInError::Refused(answer.error_description().cloned().unwrap_or_else(|| answer.error().to_string()))
                }
                e => {
                    tracing::warn!("OpenID Connect token request: {}", chain(&e));
                    SignInError::Unreachable
                }
            },
        )?;
        let nonce = Nonce::new(pending.nonce.clone());
        let (client, claims) = match checked(&client, &tokens, &nonce) {
            Err(Unverified::UnknownKey) => {
                let client = self.client(true).await?;
                let claims = checked(&client, &tokens, &nonce);
                (client, claims)
            }
            claims => (client, claims),
        };
        let mut claims = claims.map_err(|why| {
            let why = match why {
                Unverified::UnknownKey => "it is signed with a key the provider does not publish",
                Unverified::Because(why) => why,
            };
            tracing::warn!(issuer = %self.issuer.as_str(), "an ID token was refused: {why}");
            SignInError::Untrusted(why.into())
        })?;
        self.add_user_info(&client, &tokens, &mut claims).await;
        vouched(self.issuer.as_str(), &claims, &self.settings.rules).map_err(|why| {
            tracing::warn!(issuer = %self.issuer.as_str(), "an ID token lacks a claim: {why}");
            SignInError::Untrusted(why)
        })
    }

    /// Claims only the user info endpoint has (many providers keep groups or names there) are
    /// added to the token's; the token's own win. Without the endpoint, or when it fails, the
    /// token's claims are enough.
    async fn add_user_info(&self, client: &Client, tokens: &CoreTokenResponse, claims: &mut Map<String, Value>) {
        let Ok(request) = client.user_info(tokens.access_token().clone(), None) else { return };
        let answer: Result<UserInfoClaims<AllClaims, CoreGenderClaim>, _> = request.request_async(&self.http).await;
        match answer {
            Ok(info) => {
                // The endpoint must speak of the token's subject.
                let Ok(Value::Object(more)) = serde_json::to_value(&info) else { return };
                if more.get("sub") != claims.get("sub") {
                    tracing::warn!("the user info endpoint spoke of another subject: ignored");
                    return;
                }
                for (name, value) in more {
                    claims.entry(name).or_insert(value);
                }
            }
            Err(e) => tracing::warn!("OpenID Connect user info: {}", chain(&e)),
        }
    }
}

/// The ID token in `tokens` checked against `client`'s keys and `nonce`, and its claims.
fn checked(client: &Client, tokens: &CoreTokenResponse, nonce: &Nonce) -> Result<Map<String, Value>, Unverified> {
    let token = tokens.id_token().ok_or(Unverified::Because("the provider sent no ID token"))?;
    let verifier = client.id_token_verifier();
    let claims = verify(token, &verifier, nonce)?;
    // An access token swapped in from another sign-in would be used for the user info.
    if let Some(expected) = claims.access_token_hash() {
        let matches =
            token.signing_alg().ok().zip(token.signing_key(&verifier).ok()).is_some_and(|(alg, key)| {
                AccessTokenHash::from_token(tokens.access_token(), alg, key).is_ok_and(|actual| actual == *expected)
            });
        if !matches {
            return Err(Unverified::Because("its access token belongs to another sign-in"));
        }
    }
    payload(token).ok_or(Unverified::Because("it is malformed"))
}

/// Checks an ID token's signature and claims (issuer, audience, expiry, nonce).
pub fn verify<'t>(token: &'t CoreIdToken, verifier: &CoreIdTokenVerifier<'_>, nonce: &Nonce) -> Result<&'t CoreIdTokenClaims, Unverified> {
    token.claims(verifier, nonce).map_err(|e| match e {
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey) => Unverified::UnknownKey,
        ClaimsVerificationError::SignatureVerification(_) => Unverified::Because("its signature is wrong"),
        ClaimsVerificationError::Expired(_) => Unverified::Because("it has expired"),
        ClaimsVerificationError::InvalidAudience(_) => Unverified::Because("it was issued to another application"),
        ClaimsVerificationError::InvalidIssuer(_) => Unverified::Because("it was issued by another provider"),
        ClaimsVerificationError::InvalidNonce(_) => Unverified::Because("it belongs to another sign-in"),
        _ => Unverified::Because("it is malformed"),
    })
}

/// All the claims of a token already verified, custom ones included (the crate's types keep
/// only the standard ones).
pub fn payload(token: &CoreIdToken) -> Option<Map<String, Value>> {
    use base64::Engine;
    let Value::String(compact) = serde_json::to_value(token).ok()? else { return None };
    let body = compact.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(body.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Constant-time equality, for the state parameter.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An error with its causes, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
