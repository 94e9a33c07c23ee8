//! What Stacklab asks of an LMS: access tokens (the OAuth 2 client credentials grant with a JWT
//! signed by the tool's key, as the LTI security framework has it), scores posted to a line item
//! (Assignment and Grade Services) and the course roster (Names and Role Provisioning).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};

use super::Lti;
use crate::store::lti::{Platform, ScoreOut};

pub const SCORE_SCOPE: &str = "https://purl.imsglobal.org/spec/lti-ags/scope/score";
pub const ROSTER_SCOPE: &str = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";
/// Members read from one course's roster at most (pages followed until then).
pub const ROSTER_MAX: usize = 2000;
const ROSTER_PAGES: usize = 50;

/// Access tokens per (platform, scope), until shortly before they expire.
#[derive(Default)]
pub struct Tokens(Mutex<HashMap<(String, String), (String, Instant)>>);

/// Why a call to the LMS did not work, as the dashboard shows it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("the LMS cannot be reached ({0})")]
    Unreachable(String),
    #[error("the LMS answered {0}")]
    Refused(String),
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// A short account of an HTTP answer that was not a success: its status and the start of what
/// it said.
async fn refusal(answer: reqwest::Response) -> CallError {
    let status = answer.status();
    let body = answer.text().await.unwrap_or_default();
    let said: String = body.chars().filter(|c| !c.is_control()).take(200).collect();
    CallError::Refused(if said.trim().is_empty() { status.to_string() } else { format!("{status}: {}", said.trim()) })
}

fn unreachable(e: &reqwest::Error) -> CallError {
    let why = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection refused or no route"
    } else {
        "the connection failed"
    };
    CallError::Unreachable(why.into())
}

impl Lti {
    /// An access token for `scope` at `platform`.
    async fn access_token(&self, platform: &Platform, scope: &str) -> Result<String, CallError> {
        let key = (platform.id.clone(), scope.to_string());
        if let Some((token, until)) = self.tokens.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key)
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let now = crate::store::now();
        let assertion = self
            .keys
            .sign(&json!({
                "iss": platform.client_id,
                "sub": platform.client_id,
                "aud": platform.token_url,
                "iat": now,
                "exp": now + 300,
                "jti": crate::store::session_token(),
            }))
            .map_err(|e| {
                tracing::error!("LTI: {e}");
                CallError::Unreachable("the tool could not sign its request".into())
            })?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
            ("client_assertion", assertion.as_str()),
            ("scope", scope),
        ];
        let answer = self.http.post(&platform.token_url).form(&form).send().await.map_err(|e| unreachable(&e))?;
        if !answer.status().is_success() {
            return Err(refusal(answer).await);
        }
        let token: TokenAnswer =
            answer.json().await.map_err(|_| CallError::Refused("a token answer that is not the JSON OAuth 2 describes".into()))?;
        // A minute early: a token must not expire between here and the LMS.
        let lifetime = Duration::from_secs(token.expires_in.unwrap_or(3600).saturating_sub(60).max(10));
        self.tokens
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key, (token.access_token.clone(), Instant::now() + lifetime));
        Ok(token.access_token)
    }

    fn forget_token(&self, platform: &Platform, scope: &str) {
        self.tokens.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&(platform.id.clone(), scope.to_string()));
    }

    /// Posts a score to its line item's `/scores` endpoint.
    pub async fn post_score(&self, platform: &Platform, score: &ScoreOut) -> Result<(), CallError> {
        let url = scores_url(&score.lineitem).ok_or_else(|| CallError::Refused("a line item that is not a URL".into()))?;
        let token = self.access_token(platform, SCORE_SCOPE).await?;
        let timestamp = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(score.version) * 1_000_000)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default();
        let body = json!({
            "userId": score.user_id,
            "scoreGiven": score.earned,
            "scoreMaximum": score.possible,
            "activityProgress": score.activity,
            "gradingProgress": score.grading,
            "timestamp": timestamp,
        });
        let answer = self
            .http
            .post(url)
            .bearer_auth(token)
            .header(reqwest::header::CONTENT_TYPE, "application/vnd.ims.lis.v1.score+json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        if answer.status() == reqwest::StatusCode::UNAUTHORIZED {
            // The LMS forgot the token (restarted, or revoked it): the next try asks for another.
            self.forget_token(platform, SCORE_SCOPE);
        }
        if answer.status().is_success() { Ok(()) } else { Err(refusal(answer).await) }
    }

    /// The course's members: (user id, name, email, course role), active ones only, at most
    /// `ROSTER_MAX`.
    pub async fn roster(&self, platform: &Platform, memberships_url: &str) -> Result<Vec<Member>, CallError> {
        let token = self.access_token(platform, ROSTER_SCOPE).await?;
        let mut members = Vec::new();
        let mut next = Some(memberships_url.to_string());
        for _ in 0..ROSTER_PAGES {
            let Some(url) = next.take() else { break };
            let answer = self
                .http
                .get(&url)
                .bearer_auth(&token)
                .header(reqwest::header::ACCEPT, "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
                .send()
                .await
                .map_err(|e| unreachable(&e))?;
            if !answer.status().is_success() {
                return Err(refusal(answer).await);
            }
            next = next_link(answer.headers());
            let page: Value = answer.json().await.map_err(|_| CallError::Refused("a roster that is not JSON".into()))?;
            members.extend(page.get("members").and_then(Value::as_array).into_iter().flatten().filter_map(Member::of));
            if members.len() >= ROSTER_MAX {
                members.truncate(ROSTER_MAX);
                break;
            }
        }
        Ok(members)
    }
}

/// One member of a course roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub user_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: super::CourseRole,
}

impl Member {
    fn of(value: &Value) -> Option<Member> {
        let active = value.get("status").and_then(Value::as_str).is_none_or(|s| s == "Active");
        let user_id = value.get("user_id").and_then(Value::as_str)?.to_string();
        let roles: Vec<String> = serde_json::from_value(value.get("roles")?.clone()).ok()?;
        let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string).filter(|s| !s.trim().is_empty());
        // A name as the store takes it (an LMS may send anything): no control characters, 60
        // characters at most; none left, and the learner is "Learner".
        let name = text("name").map(|n| super::launch::short(&n, 60)).filter(|n| !n.is_empty());
        active.then(|| Member { user_id, name, email: text("email"), role: super::launch::course_role(&roles) })
    }
}

/// The `/scores` endpoint of a line item: its path with `/scores` added (its query kept).
pub fn scores_url(lineitem: &str) -> Option<reqwest::Url> {
    let mut url = reqwest::Url::parse(lineitem).ok()?;
    let path = format!("{}/scores", url.path().trim_end_matches('/'));
    url.set_path(&path);
    Some(url)
}

/// The `next` page of a `Link` header.
fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    headers.get_all(reqwest::header::LINK).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"))
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_go_to_the_line_items_path_with_its_query() {
        assert_eq!(scores_url("https://lms.test/li/7?type=1").unwrap().as_str(), "https://lms.test/li/7/scores?type=1");
        assert_eq!(scores_url("https://lms.test/li/7/").unwrap().as_str(), "https://lms.test/li/7/scores");
        assert!(scores_url("not a url").is_none());
    }

    #[test]
    fn the_next_roster_page_comes_from_the_link_header() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::LINK,
            "<https://lms.test/m?p=2>; rel=\"next\", <https://lms.test/m?p=9>; rel=\"last\"".parse().unwrap(),
        );
        assert_eq!(next_link(&headers).as_deref(), Some("https://lms.test/m?p=2"));
        headers.insert(reqwest::header::LINK, "<https://lms.test/m?p=9>; rel=\"last\"".parse().unwrap());
        assert_eq!(next_link(&headers), None);
    }

    #[test]
    fn a_roster_keeps_active_members_with_their_course_role() {
        let member = |status: &str, role: &str| json!({ "user_id": "u1", "name": "Ada", "status": status, "roles": [format!("http://purl.imsglobal.org/vocab/lis/v2/membership#{role}")] });
        assert_eq!(Member::of(&member("Active", "Learner")).unwrap().role, crate::lti::CourseRole::Learner);
        assert!(Member::of(&member("Inactive", "Learner")).is_none());
        let mut odd = member("Active", "Learner");
        odd["name"] = json!(format!("\u{7}Ada\n{}", "x".repeat(100)));
        assert_eq!(Member::of(&odd).unwrap().name.unwrap().chars().count(), 60, "control characters out, 60 at most");
        odd["name"] = json!("\u{1b}\u{7}");
        assert_eq!(Member::of(&odd).unwrap().name, None);
        assert_eq!(
            Member::of(&member("Active", "Instructor")).unwrap().role,
            crate::lti::CourseRole::Staff(crate::store::ClassRole::Instructor)
        );
    }
}
