//! Deep Linking: a teacher adding Stacklab to a course in the LMS chooses a lab, and Stacklab
//! answers the LMS with a link to it — a resource link whose custom parameter names the lab, and
//! a gradebook column (line item) worth the lab's points — in a JWT signed with the tool's key.
//! Between the request and the choice, what the answer needs waits in the store under a token
//! the choosing page carries (the page may be in the LMS's frame, where cookies do not go).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{LaunchError, Lti};
use crate::store::lti::Platform;

/// A deep-linking request waiting for the teacher's choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choosing {
    pub platform_id: String,
    pub deployment_id: String,
    pub return_url: String,
    /// The request's `data`, as JSON text, to send back as it came.
    pub data: Option<String>,
}

/// The lab chosen, as the link to it is described to the LMS.
pub struct Chosen<'a> {
    pub lab_id: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    /// The lab's points: the line item's maximum.
    pub points: i64,
}

impl Lti {
    /// Keeps a deep-linking request for the choice; the token names it.
    pub async fn begin_choice(&self, choosing: &Choosing) -> Result<String, LaunchError> {
        let payload = serde_json::to_string(choosing).map_err(|_| LaunchError::Stale)?;
        self.store().put_lti_pending("deep-link", &payload).await.map_err(|e| self.store_failed(e))
    }

    /// The request a choosing page's token names (once).
    pub async fn take_choice(&self, token: &str) -> Result<(Platform, Choosing), LaunchError> {
        let kept = self.store().take_lti_pending(token, "deep-link").await.map_err(|e| self.store_failed(e))?;
        let choosing: Choosing = kept.and_then(|k| serde_json::from_str(&k).ok()).ok_or(LaunchError::Stale)?;
        let platform =
            self.store().lti_platform(&choosing.platform_id).await.map_err(|e| self.store_failed(e))?.ok_or(LaunchError::Stale)?;
        Ok((platform, choosing))
    }

    /// The signed answer for the LMS: a link to `chosen`, or nothing (the teacher cancelled).
    pub fn answer(&self, platform: &Platform, choosing: &Choosing, chosen: Option<&Chosen<'_>>) -> anyhow::Result<String> {
        let now = crate::store::now();
        let items: Vec<Value> = chosen
            .map(|lab| {
                json!({
                    "type": "ltiResourceLink",
                    "title": lab.title,
                    "text": lab.summary,
                    "url": self.url("/lti/launch"),
                    "custom": { "lab": lab.lab_id },
                    "lineItem": {
                        "scoreMaximum": lab.points,
                        "label": lab.title,
                        "resourceId": lab.lab_id,
                        "tag": "stacklab"
                    }
                })
            })
            .into_iter()
            .collect();
        let mut claims = json!({
            "iss": platform.client_id,
            "aud": [platform.issuer],
            "iat": now,
            "exp": now + 600,
            "nonce": crate::store::session_token(),
            "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiDeepLinkingResponse",
            "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
            "https://purl.imsglobal.org/spec/lti/claim/deployment_id": choosing.deployment_id,
            "https://purl.imsglobal.org/spec/lti-dl/claim/content_items": items,
        });
        if let Some(data) = choosing.data.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()) {
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] = data;
        }
        if let Some(lab) = chosen {
            claims["https://purl.imsglobal.org/spec/lti-dl/claim/msg"] = json!(format!("Added the Stacklab lab “{}”.", lab.title));
        }
        self.keys.sign(&claims)
    }
}
