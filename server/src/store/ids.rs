//! Random identifiers and codes. Codes people type use an alphabet without look-alikes.

use rand::Rng;
use rand::distr::Alphanumeric;

/// No 0/O, 1/I/L, U/V: codes are read off a projector.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTWXYZ23456789";

fn code(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())] as char).collect()
}

/// A class's join code: six characters, ~29 bits (codes are also rate-limited at /join).
pub fn join_code() -> String {
    code(6)
}

/// A one-time join code: eight characters (~39 bits), `ABCD-EFGH`; each joins one learner once.
pub fn one_time_code() -> String {
    let c = code(8);
    format!("{}-{}", &c[..4], &c[4..])
}

/// A typed one-time code as stored: upper case, `-` where it belongs, whatever spaces or dashes
/// the learner typed.
pub fn normal_one_time_code(typed: &str) -> Option<String> {
    let c: String = typed.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    (c.len() == 8 && c.bytes().all(|b| CODE_ALPHABET.contains(&b))).then(|| format!("{}-{}", &c[..4], &c[4..]))
}

/// A learner's personal code to continue elsewhere: ten characters (~48 bits), `ABCDE-FGHJK`.
pub fn resume_code() -> String {
    let c = code(10);
    format!("{}-{}", &c[..5], &c[5..])
}

/// A learner's id: 12 characters of `[a-z0-9]` (~62 bits); it also names their sandbox.
pub fn learner_id() -> String {
    let mut rng = rand::rng();
    (0..12)
        .map(|_| {
            let c = rng.sample(Alphanumeric) as char;
            c.to_ascii_lowercase()
        })
        .collect()
}

/// A session token: 256 random bits, URL-safe base64.
pub fn session_token() -> String {
    use base64::Engine;
    let bytes: [u8; 32] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(join_code().len(), 6);
        let r = resume_code();
        assert_eq!(r.len(), 11);
        assert_eq!(&r[5..6], "-");
        let id = learner_id();
        assert!(id.len() == 12 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        assert!(sandbox::valid_name(&format!("lab-{id}")));
        assert_ne!(session_token(), session_token());
    }
}

#[cfg(test)]
mod one_time_tests {
    #[test]
    fn typed_codes_are_read_as_stored() {
        let code = super::one_time_code();
        assert_eq!(super::normal_one_time_code(&code.to_lowercase().replace('-', " ")), Some(code.clone()));
        assert_eq!(super::normal_one_time_code(" abcd-efgh "), Some("ABCD-EFGH".into()));
        assert_eq!(super::normal_one_time_code("ABCD-EFG"), None, "too short");
        assert_eq!(super::normal_one_time_code("ABCD-EFG0"), None, "0 is not in the alphabet");
        assert_eq!(super::normal_one_time_code("TUESDAY1"), None);
    }
}
