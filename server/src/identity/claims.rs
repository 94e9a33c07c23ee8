//! What the provider's claims make of someone: their name as the class sees it, and whether they
//! are staff. Providers differ (Keycloak puts roles under `realm_access.roles`, Entra ID sends
//! `groups` as ids, Google sends no groups at all), so both are read by a configurable claim path.

use serde_json::{Map, Value};

use crate::store::Vouched;

/// Which claims say what, from the server's settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRules {
    /// The claim holding the display name (a dotted path into nested objects).
    pub name: String,
    /// The claim, and the value in it, that make someone staff; `None`: nobody is.
    pub staff: Option<(String, String)>,
}

impl Default for ClaimRules {
    fn default() -> Self {
        Self { name: "name".into(), staff: None }
    }
}

/// The longest display name the class shows (the store's limit).
const NAME_CHARS: usize = 60;

/// Someone the provider vouched for, from their verified claims. `Err` says which claim is
/// missing, in words for the operator.
pub fn vouched(issuer: &str, claims: &Map<String, Value>, rules: &ClaimRules) -> Result<Vouched, String> {
    let subject = claims.get("sub").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or("the token names nobody (no `sub`)")?;
    let email = claims.get("email").and_then(Value::as_str).map(str::to_string);
    // The configured claim first; then what most providers send; at worst the subject, so that
    // a provider that shares no profile still lets people in.
    let name = [rules.name.as_str(), "name", "preferred_username"]
        .iter()
        .filter_map(|path| at(claims, path).and_then(Value::as_str))
        .chain(email.as_deref().and_then(|e| e.split('@').next()))
        .map(clean_name)
        .find(|n| !n.is_empty())
        .unwrap_or_else(|| clean_name(subject));
    let staff = rules.staff.as_ref().is_some_and(|(path, wanted)| at(claims, path).is_some_and(|v| holds(v, wanted)));
    Ok(Vouched { issuer: issuer.to_string(), subject: subject.to_string(), display_name: name, email, staff })
}

/// The value at a dotted path (`realm_access.roles`); a claim whose own name has dots
/// (`https://example.com/roles`) is found whole first.
fn at<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    at(claims.get(head)?.as_object()?, rest)
}

/// Whether a claim's value is, or lists, `wanted` (a group or role claim is a string, a list of
/// strings, or a space-separated string).
fn holds(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted || s.split_whitespace().any(|w| w == wanted),
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some(wanted)),
        Value::Bool(b) => *b && wanted == "true",
        _ => false,
    }
}

/// A provider's name made one the class can show: no control characters, at most 60 characters.
fn clean_name(name: &str) -> String {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).collect();
    cleaned.trim().chars().take(NAME_CHARS).collect::<String>().trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: Value) -> Map<String, Value> {
        json.as_object().unwrap().clone()
    }

    #[test]
    fn the_name_comes_from_the_configured_claim_then_the_usual_ones() {
        let rules = ClaimRules { name: "display".into(), staff: None };
        let who = vouched("https://id", &claims(serde_json::json!({"sub": "1", "display": "Ada L.", "name": "Ada"})), &rules).unwrap();
        assert_eq!((who.display_name.as_str(), who.subject.as_str()), ("Ada L.", "1"));
        let who = vouched("https://id", &claims(serde_json::json!({"sub": "1", "preferred_username": "ada"})), &rules).unwrap();
        assert_eq!(who.display_name, "ada");
        let who = vouched("https://id", &claims(serde_json::json!({"sub": "1", "email": "ada@school.test"})), &rules).unwrap();
        assert_eq!((who.display_name.as_str(), who.email.as_deref()), ("ada", Some("ada@school.test")));
        let who = vouched("https://id", &claims(serde_json::json!({"sub": "u-42", "name": "  \u{7}  "})), &rules).unwrap();
        assert_eq!(who.display_name, "u-42");
        let long = "x".repeat(200);
        assert_eq!(vouched("https://id", &claims(serde_json::json!({"sub": "1", "name": long})), &rules).unwrap().display_name.len(), 60);
        assert!(vouched("https://id", &claims(serde_json::json!({"name": "Ada"})), &rules).unwrap_err().contains("sub"));
    }

    #[test]
    fn staff_is_a_value_in_a_claim_at_any_depth() {
        let keycloak = ClaimRules { staff: Some(("realm_access.roles".into(), "teacher".into())), ..ClaimRules::default() };
        let token = claims(serde_json::json!({"sub": "1", "realm_access": {"roles": ["offline_access", "teacher"]}}));
        assert!(vouched("i", &token, &keycloak).unwrap().staff);
        let token = claims(serde_json::json!({"sub": "1", "realm_access": {"roles": ["student"]}}));
        assert!(!vouched("i", &token, &keycloak).unwrap().staff);

        let groups = ClaimRules { staff: Some(("groups".into(), "staff".into())), ..ClaimRules::default() };
        assert!(vouched("i", &claims(serde_json::json!({"sub": "1", "groups": "students staff"})), &groups).unwrap().staff);
        assert!(!vouched("i", &claims(serde_json::json!({"sub": "1", "groups": "staffroom"})), &groups).unwrap().staff);
        assert!(!vouched("i", &claims(serde_json::json!({"sub": "1"})), &groups).unwrap().staff);

        let dotted = ClaimRules { staff: Some(("https://school.test/roles".into(), "teacher".into())), ..ClaimRules::default() };
        assert!(vouched("i", &claims(serde_json::json!({"sub": "1", "https://school.test/roles": ["teacher"]})), &dotted).unwrap().staff);
        // Without a rule nobody is staff, whatever the token says.
        assert!(!vouched("i", &claims(serde_json::json!({"sub": "1", "groups": ["staff"]})), &ClaimRules::default()).unwrap().staff);
    }
}
