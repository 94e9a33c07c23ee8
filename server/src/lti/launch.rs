//! An LTI launch message: the ID token the platform posts to `/lti/launch`, checked by the
//! `openidconnect` crate (signature against the platform's published keys, issuer, audience,
//! expiry, nonce) and then read for what LTI adds: the message type, the deployment, the roles,
//! the course (context), the link and the grade and roster services.

use openidconnect::core::{CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet};
use openidconnect::{ClientId, IssuerUrl, Nonce};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::identity::oidc::{Unverified, payload, verify};
use crate::store::ClassRole;
use crate::store::lti::Platform;

const CLAIM: &str = "https://purl.imsglobal.org/spec/lti/claim/";
const DEEP_LINKING: &str = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings";
const AGS: &str = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint";
const NRPS: &str = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice";
const MEMBERSHIP: &str = "http://purl.imsglobal.org/vocab/lis/v2/membership";

/// What a launch is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Open a link: a lab.
    ResourceLink { id: String, title: Option<String> },
    /// The teacher chooses what a new link opens; the answer goes back to `return_url` with
    /// `data` as it came (JSON text: platforms send a string or an object).
    DeepLinking { return_url: String, data: Option<String> },
}

/// Who launched, as the course sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CourseRole {
    Learner,
    Staff(ClassRole),
}

/// A checked launch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launch {
    pub deployment_id: String,
    pub message: Message,
    /// The person's id at the platform.
    pub subject: String,
    pub name: String,
    pub email: Option<String>,
    pub role: CourseRole,
    /// The course: its id and a title for the class made from it.
    pub context: Option<(String, String)>,
    /// The lab the link was made for (a custom parameter the deep-linking answer set).
    pub lab: Option<String>,
    /// The gradebook column of the link, when the platform gives one.
    pub lineitem: Option<String>,
    /// The course's roster endpoint (Names and Role Provisioning).
    pub memberships_url: Option<String>,
}

/// Why a launch was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Signed with a key the platform's published set lacks (perhaps rotated since we looked).
    UnknownKey,
    Because(String),
}

impl From<Unverified> for Refused {
    fn from(u: Unverified) -> Self {
        match u {
            Unverified::UnknownKey => Refused::UnknownKey,
            Unverified::Because(why) => Refused::Because(why.into()),
        }
    }
}

fn because(why: &str) -> Refused {
    Refused::Because(why.into())
}

#[derive(Deserialize)]
struct Context {
    id: String,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    label: Option<String>,
}

#[derive(Deserialize)]
struct ResourceLink {
    id: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize)]
struct DeepLinkingSettings {
    deep_link_return_url: String,
    #[serde(default)]
    data: Option<Value>,
}

#[derive(Deserialize)]
struct Endpoint {
    #[serde(default)]
    lineitem: Option<String>,
}

#[derive(Deserialize)]
struct NamesRoles {
    context_memberships_url: String,
}

/// Checks `id_token` as a launch from `platform` for the login that had `nonce`, against the
/// platform's keys `keys`.
pub fn check(id_token: &str, platform: &Platform, nonce: &str, keys: CoreJsonWebKeySet) -> Result<Launch, Refused> {
    let token: CoreIdToken = id_token.parse().map_err(|_| because("it is not a signed token"))?;
    let issuer = IssuerUrl::new(platform.issuer.clone()).map_err(|_| because("the registration's issuer is not a URL"))?;
    let verifier = CoreIdTokenVerifier::new_public_client(ClientId::new(platform.client_id.clone()), issuer, keys);
    let claims = verify(&token, &verifier, &Nonce::new(nonce.to_string()))?;
    let subject = claims.subject().to_string();
    let all = payload(&token).ok_or_else(|| because("it is malformed"))?;
    read(&all, platform, subject)
}

fn lti<T: serde::de::DeserializeOwned>(all: &Map<String, Value>, name: &str) -> Option<T> {
    let value = all.get(&format!("{CLAIM}{name}")).or_else(|| all.get(name))?;
    serde_json::from_value(value.clone()).ok()
}

fn claim<T: serde::de::DeserializeOwned>(all: &Map<String, Value>, name: &str) -> Option<T> {
    serde_json::from_value(all.get(name)?.clone()).ok()
}

/// The LTI claims of a token already checked.
pub fn read(all: &Map<String, Value>, platform: &Platform, subject: String) -> Result<Launch, Refused> {
    let version: Option<String> = lti(all, "version");
    if version.as_deref() != Some("1.3.0") {
        return Err(because("it is not an LTI 1.3 launch"));
    }
    let deployment_id: String = lti(all, "deployment_id").ok_or_else(|| because("it names no deployment"))?;
    if !platform.deployments.contains(&deployment_id) {
        return Err(Refused::Because(format!("its deployment ({deployment_id}) is not registered with Stacklab")));
    }
    let message_type: Option<String> = lti(all, "message_type");
    let message = match message_type.as_deref() {
        Some("LtiResourceLinkRequest") => {
            let link: ResourceLink = lti(all, "resource_link").ok_or_else(|| because("it names no resource link"))?;
            Message::ResourceLink { id: link.id, title: link.title }
        }
        Some("LtiDeepLinkingRequest") => {
            let settings: DeepLinkingSettings = claim(all, DEEP_LINKING).ok_or_else(|| because("it has no deep-linking settings"))?;
            Message::DeepLinking { return_url: settings.deep_link_return_url, data: settings.data.map(|d| d.to_string()) }
        }
        _ => return Err(because("it is a kind of LTI message Stacklab does not take")),
    };
    let roles: Vec<String> = lti(all, "roles").unwrap_or_default();
    let context = lti::<Context>(all, "context").map(|c| {
        let title = c.title.or(c.label).filter(|t| !t.trim().is_empty()).unwrap_or_else(|| platform.label.clone());
        (c.id, title)
    });
    let custom: Map<String, Value> = lti(all, "custom").unwrap_or_default();
    let name = ["name", "given_name", "preferred_username"]
        .iter()
        .find_map(|n| claim::<String>(all, n).map(|s| short(&s, 60)).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "Learner".into());
    Ok(Launch {
        deployment_id,
        message,
        name,
        email: claim(all, "email"),
        role: course_role(&roles),
        context,
        lab: custom.get("lab").and_then(Value::as_str).map(str::to_string),
        lineitem: claim::<Endpoint>(all, AGS).and_then(|e| e.lineitem),
        memberships_url: claim::<NamesRoles>(all, NRPS).map(|n| n.context_memberships_url),
        subject,
    })
}

/// At most `chars` characters, no control characters (a display name).
pub fn short(text: &str, chars: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(chars).collect::<String>().trim().to_string()
}

/// What LTI roles make of someone in the class: the course's teachers and designers teach it (an
/// administrator of the platform too), its teaching assistants and mentors assist, everyone else
/// learns. An institution role alone (faculty taking a course) does not make a teacher. Short
/// names (`Instructor`) are the deprecated form some platforms still send.
pub fn course_role(roles: &[String]) -> CourseRole {
    let in_course = |name: &str| roles.iter().any(|r| *r == name || *r == format!("{MEMBERSHIP}#{name}"));
    let administrator = roles
        .iter()
        .any(|r| r.starts_with("http://purl.imsglobal.org/vocab/lis/v2/") && r.ends_with("#Administrator") || r == "Administrator");
    let assistant = roles.iter().any(|r| r.starts_with(MEMBERSHIP) && r.ends_with("#TeachingAssistant"))
        || in_course("TeachingAssistant")
        || in_course("Mentor");
    if assistant && !administrator {
        CourseRole::Staff(ClassRole::Assistant)
    } else if in_course("Instructor") || in_course("ContentDeveloper") || administrator {
        CourseRole::Staff(ClassRole::Instructor)
    } else {
        CourseRole::Learner
    }
}

#[cfg(test)]
mod tests;
