//! Launch messages made here, signed with keys made here (by the same code that signs the tool's
//! own JWTs), checked as a platform's would be: the good one is read, every forgery refused.

use std::sync::LazyLock;

use openidconnect::PrivateSigningKey;
use openidconnect::core::CoreRsaPrivateSigningKey;
use serde_json::json;

use super::*;
use crate::lti::keys::sign_with;

const ISSUER: &str = "https://lms.school.test";
const CLIENT: &str = "stacklab-tool";
const NONCE: &str = "nonce-of-this-launch";

use crate::identity::refetch::test_key as rsa_key;

static PLATFORM_KEY: LazyLock<CoreRsaPrivateSigningKey> = LazyLock::new(|| rsa_key("lms-1"));
static IMPOSTOR: LazyLock<CoreRsaPrivateSigningKey> = LazyLock::new(|| rsa_key("lms-1"));

fn platform() -> Platform {
    Platform {
        id: "p1".into(),
        label: "School LMS".into(),
        issuer: ISSUER.into(),
        client_id: CLIENT.into(),
        login_url: format!("{ISSUER}/auth"),
        token_url: format!("{ISSUER}/token"),
        jwks_url: format!("{ISSUER}/jwks"),
        deployments: vec!["d-1".into()],
        from_file: false,
        created_at: 0,
    }
}

fn keys() -> CoreJsonWebKeySet {
    CoreJsonWebKeySet::new(vec![PLATFORM_KEY.as_verification_key()])
}

fn claims(role: &str) -> Value {
    let now = crate::store::now();
    json!({
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "user-ada",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "name": "Ada Lovelace",
        "email": "ada@school.test",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/deployment_id": "d-1",
        "https://purl.imsglobal.org/spec/lti/claim/roles": [format!("http://purl.imsglobal.org/vocab/lis/v2/membership#{role}")],
        "https://purl.imsglobal.org/spec/lti/claim/context": { "id": "course-7", "title": "Linux from the bottom up" },
        "https://purl.imsglobal.org/spec/lti/claim/resource_link": { "id": "link-3", "title": "Network namespaces" },
        "https://purl.imsglobal.org/spec/lti/claim/custom": { "lab": "netns" },
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": {
            "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            "lineitem": "https://lms.school.test/lineitems/9"
        },
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": "https://lms.school.test/memberships/7",
            "service_versions": ["2.0"]
        }
    })
}

fn signed(claims: &Value) -> String {
    sign_with(&PLATFORM_KEY, "lms-1", claims).unwrap()
}

fn refused(token: &str) -> String {
    match check(token, &platform(), NONCE, keys()) {
        Err(Refused::Because(why)) => why,
        other => panic!("not refused with a reason: {other:?}"),
    }
}

#[test]
fn a_launch_is_read_for_who_what_and_where() {
    let launch = check(&signed(&claims("Learner")), &platform(), NONCE, keys()).unwrap();
    assert_eq!(launch.subject, "user-ada");
    assert_eq!(launch.name, "Ada Lovelace");
    assert_eq!(launch.role, CourseRole::Learner);
    assert_eq!(launch.message, Message::ResourceLink { id: "link-3".into(), title: Some("Network namespaces".into()) });
    assert_eq!(launch.context, Some(("course-7".into(), "Linux from the bottom up".into())));
    assert_eq!(launch.lab.as_deref(), Some("netns"));
    assert_eq!(launch.lineitem.as_deref(), Some("https://lms.school.test/lineitems/9"));
    assert_eq!(launch.memberships_url.as_deref(), Some("https://lms.school.test/memberships/7"));
}

#[test]
fn a_name_of_control_characters_is_no_name() {
    let mut odd = claims("Learner");
    odd["name"] = json!("\u{1b}[2J\u{7}");
    odd["given_name"] = json!("Ada");
    assert_eq!(check(&signed(&odd), &platform(), NONCE, keys()).unwrap().name, "[2J", "control characters go, the rest stays text");
    odd["name"] = json!("\u{7}");
    odd.as_object_mut().unwrap().remove("given_name");
    assert_eq!(check(&signed(&odd), &platform(), NONCE, keys()).unwrap().name, "Learner");
}

#[test]
fn forged_launches_are_refused() {
    let good = claims("Learner");
    let wrongly_signed = sign_with(&IMPOSTOR, "lms-1", &good).unwrap();
    assert!(refused(&wrongly_signed).contains("signature"));
    let mut other_tool = good.clone();
    other_tool["aud"] = json!("another-tool");
    assert!(refused(&signed(&other_tool)).contains("another application"));
    let mut expired = good.clone();
    expired["exp"] = json!(crate::store::now() - 3600);
    assert!(refused(&signed(&expired)).contains("expired"));
    let mut other_issuer = good.clone();
    other_issuer["iss"] = json!("https://evil.test");
    assert!(refused(&signed(&other_issuer)).contains("another provider"));
    // A token from another launch (its nonce) replayed against this one.
    assert!(
        matches!(check(&signed(&good), &platform(), "the-nonce-of-another-launch", keys()), Err(Refused::Because(why)) if why.contains("another sign-in"))
    );
    let mut unknown_deployment = good.clone();
    unknown_deployment["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = json!("d-99");
    assert!(refused(&signed(&unknown_deployment)).contains("deployment (d-99) is not registered"));
    let mut old = good.clone();
    old["https://purl.imsglobal.org/spec/lti/claim/version"] = json!("1.1");
    assert!(refused(&signed(&old)).contains("not an LTI 1.3 launch"));
    let mut no_link = good;
    no_link.as_object_mut().unwrap().remove("https://purl.imsglobal.org/spec/lti/claim/resource_link");
    assert!(refused(&signed(&no_link)).contains("no resource link"));
    assert!(refused("not.a.token").contains("not a signed token") || refused("not.a.token").contains("malformed"));
}

#[test]
fn a_key_the_platform_does_not_publish_asks_for_its_keys_again() {
    let other = rsa_key("lms-2");
    let token = sign_with(&other, "lms-2", &claims("Learner")).unwrap();
    assert_eq!(check(&token, &platform(), NONCE, keys()), Err(Refused::UnknownKey));
    let rotated = CoreJsonWebKeySet::new(vec![PLATFORM_KEY.as_verification_key(), other.as_verification_key()]);
    assert!(check(&token, &platform(), NONCE, rotated).is_ok());
}

#[test]
fn a_deep_linking_request_carries_its_return_address_and_data() {
    let mut request = claims("Instructor");
    request["https://purl.imsglobal.org/spec/lti/claim/message_type"] = json!("LtiDeepLinkingRequest");
    request.as_object_mut().unwrap().remove("https://purl.imsglobal.org/spec/lti/claim/resource_link");
    request["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] =
        json!({ "deep_link_return_url": "https://lms.school.test/dl/return", "accept_types": ["ltiResourceLink"], "data": "opaque-7" });
    let launch = check(&signed(&request), &platform(), NONCE, keys()).unwrap();
    assert_eq!(launch.role, CourseRole::Staff(ClassRole::Instructor));
    assert_eq!(
        launch.message,
        Message::DeepLinking { return_url: "https://lms.school.test/dl/return".into(), data: Some("\"opaque-7\"".into()) }
    );
}

#[test]
fn roles_make_teachers_assistants_and_learners() {
    let role = |roles: &[&str]| course_role(&roles.iter().map(|r| r.to_string()).collect::<Vec<_>>());
    let m = |n: &str| format!("{MEMBERSHIP}#{n}");
    assert_eq!(role(&[&m("Instructor")]), CourseRole::Staff(ClassRole::Instructor));
    assert_eq!(role(&[&m("ContentDeveloper")]), CourseRole::Staff(ClassRole::Instructor));
    assert_eq!(role(&["Instructor"]), CourseRole::Staff(ClassRole::Instructor), "the deprecated short form");
    assert_eq!(
        role(&[&m("Instructor"), "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"]),
        CourseRole::Staff(ClassRole::Assistant)
    );
    assert_eq!(role(&[&m("Mentor")]), CourseRole::Staff(ClassRole::Assistant));
    assert_eq!(role(&["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"]), CourseRole::Staff(ClassRole::Instructor));
    assert_eq!(role(&[&m("Learner")]), CourseRole::Learner);
    assert_eq!(
        role(&[&m("Learner"), "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor"]),
        CourseRole::Learner,
        "faculty taking a course learn in it"
    );
    assert_eq!(role(&[]), CourseRole::Learner);
}
