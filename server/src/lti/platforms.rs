//! LMS registrations: checked the same whether they come from the registrations file
//! (`--lti-platforms`, TOML, read at each start) or from the administrator's page.
//!
//! ```toml
//! [[platform]]
//! label = "Moodle"
//! issuer = "https://moodle.school.edu"
//! client_id = "nWq8rYm2Qk3ZsXe"
//! login_url = "https://moodle.school.edu/mod/lti/auth.php"
//! token_url = "https://moodle.school.edu/mod/lti/token.php"
//! jwks_url = "https://moodle.school.edu/mod/lti/certs.php"
//! deployments = ["1"]
//! ```

use std::path::Path;

use serde::Deserialize;

use crate::store::lti::NewPlatform;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    platform: Vec<NewPlatform>,
}

/// The registrations in `path`, each checked; an error names the file and the entry.
pub fn read_file(path: &Path) -> anyhow::Result<Vec<NewPlatform>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("--lti-platforms {}: {e}", path.display()))?;
    parse(&text).map_err(|e| anyhow::anyhow!("--lti-platforms {}: {e}", path.display()))
}

pub fn parse(text: &str) -> anyhow::Result<Vec<NewPlatform>> {
    let file: File = toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim()))?;
    file.platform
        .into_iter()
        .enumerate()
        .map(|(i, p)| checked(p).map_err(|e| anyhow::anyhow!("[[platform]] number {}: {e}", i + 1)))
        .collect()
}

/// A registration with its fields trimmed, or what is wrong with it (naming the field).
pub fn checked(mut p: NewPlatform) -> Result<NewPlatform, String> {
    for (name, value) in [("label", &mut p.label), ("issuer", &mut p.issuer), ("client_id", &mut p.client_id)] {
        *value = value.trim().to_string();
        if value.is_empty() {
            return Err(format!("{name} is empty"));
        }
        if value.chars().count() > 200 || value.chars().any(char::is_control) {
            return Err(format!("{name} has more than 200 characters, or control characters"));
        }
    }
    for (name, value) in [("login_url", &mut p.login_url), ("token_url", &mut p.token_url), ("jwks_url", &mut p.jwks_url)] {
        *value = value.trim().to_string();
        match reqwest::Url::parse(value) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && value.len() <= 2000 => {}
            _ => return Err(format!("{name} must be an http(s) URL, not {value:?}")),
        }
    }
    p.deployments = p.deployments.iter().map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).collect();
    p.deployments.dedup();
    if p.deployments.is_empty() {
        return Err("deployments is empty: give the deployment id the LMS shows for Stacklab".into());
    }
    if p.deployments.len() > 100 || p.deployments.iter().any(|d| d.len() > 255) {
        return Err("deployments has more than 100 ids, or one longer than 255 characters".into());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOODLE: &str = r#"
[[platform]]
label = " Moodle "
issuer = "https://moodle.school.edu"
client_id = "abc"
login_url = "https://moodle.school.edu/mod/lti/auth.php"
token_url = "https://moodle.school.edu/mod/lti/token.php"
jwks_url = "https://moodle.school.edu/mod/lti/certs.php"
deployments = ["1", " 2 "]
"#;

    #[test]
    fn a_registration_file_is_read_and_trimmed() {
        let platforms = parse(MOODLE).unwrap();
        assert_eq!(platforms.len(), 1);
        assert_eq!(platforms[0].label, "Moodle");
        assert_eq!(platforms[0].deployments, vec!["1", "2"]);
    }

    #[test]
    fn a_bad_entry_is_named_with_its_field() {
        let no_deployment = MOODLE.replace(r#"deployments = ["1", " 2 "]"#, "deployments = []");
        let e = parse(&no_deployment).unwrap_err().to_string();
        assert!(e.contains("number 1") && e.contains("deployments is empty"), "{e}");
        let bad_url = MOODLE.replace("https://moodle.school.edu/mod/lti/token.php", "moodle/token");
        assert!(parse(&bad_url).unwrap_err().to_string().contains("token_url must be an http(s) URL"));
        let unknown = format!("{MOODLE}\nsecret = 1\n");
        assert!(parse(&unknown).is_err());
        let typo = MOODLE.replace("[[platform]]", "[[platforms]]");
        assert!(parse(&typo).unwrap_err().to_string().contains("platforms"), "an unknown table is named");
    }
}
