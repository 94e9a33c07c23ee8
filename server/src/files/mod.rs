//! The editor's files: a learner's file read, saved and listed inside their sandbox, through the
//! backend's exec (so every backend does it the same way, and the server never reaches into a
//! sandbox's files from the host). Each operation is a short script run as root in the sandbox,
//! with the path passed as an argument, never spliced into the script.
//!
//! A file is opened with a version (the SHA-256 of its bytes) and saved only when it is still at
//! that version: a change made meanwhile in the terminal (`vim`, `sed -i`, a build) is reported
//! as a conflict instead of being overwritten. A save writes a temporary file beside the
//! original, gives it the original's mode and owner, and renames it over the original.

use sandbox::{ExecEnd, ExecOutput, ExecRequest};
use sha2::{Digest, Sha256};
use std::time::Duration;

use crate::sandboxes::Sandboxes;

/// The largest file the editor opens or saves; bigger ones are the terminal's.
pub const MAX_BYTES: u64 = 1 << 20;
/// Entries a folder listing shows at most.
pub const MAX_ENTRIES: usize = 1000;
const LIMIT: Duration = Duration::from_secs(15);

const READ: &str = r#"f=$1
[ -e "$f" ] || { echo missing; exit 3; }
[ -f "$f" ] || { echo not-a-file; exit 4; }
size=$(stat -c %s -- "$f") || exit 6
[ "$size" -le "$2" ] || { echo "$size"; exit 5; }
stat -c '%a %U %G' -- "$f" || exit 6
exec cat -- "$f""#;

const SAVE: &str = r#"f=$1 expected=$2
if [ -e "$f" ]; then
  [ -f "$f" ] || { echo not-a-file; exit 4; }
  current=$(sha256sum -- "$f") || exit 6
  [ "${current%% *}" = "$expected" ] || { echo conflict; exit 3; }
else
  [ -z "$expected" ] || { echo conflict; exit 3; }
fi
tmp=$(mktemp -- "$(dirname -- "$f")/.stacklab-save.XXXXXX") || { echo no-folder; exit 7; }
if ! cat > "$tmp"; then rm -f -- "$tmp"; echo write-failed; exit 6; fi
if [ -e "$f" ]; then
  chmod --reference="$f" -- "$tmp" && chown --reference="$f" -- "$tmp" || { rm -f -- "$tmp"; exit 6; }
else
  chmod 644 -- "$tmp"
fi
mv -f -- "$tmp" "$f" || { rm -f -- "$tmp"; echo write-failed; exit 6; }"#;

const LIST: &str = r#"cd -- "$1" 2>/dev/null || { echo not-a-folder; exit 4; }
find . -mindepth 1 -maxdepth 1 -printf '%y\t%s\t%P\0' 2>/dev/null | head -z -n "$2""#;

/// The file each learner last opened in the editor, for the instructor's panel (in memory: it
/// says what they look at now, not a history).
#[derive(Debug, Default)]
pub struct OpenFiles(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl OpenFiles {
    pub fn opened(&self, learner: &str, path: &str) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).insert(learner.to_string(), path.to_string());
    }

    pub fn of(&self, learner: &str) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(learner).cloned()
    }
}

/// A file as the editor gets it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OpenedFile {
    pub path: String,
    pub text: String,
    /// What a save must name to overwrite it (see the module's comment).
    pub version: String,
    /// Octal permissions, owner and group, as `stat` prints them in the sandbox.
    pub mode: String,
    pub owner: String,
    pub group: String,
}

/// One entry of a folder.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Entry {
    pub name: String,
    pub folder: bool,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{0}")]
    BadPath(String),
    #[error("{0} does not exist")]
    Missing(String),
    #[error("{0} is not a regular file")]
    NotAFile(String),
    #[error("{0} is not a folder")]
    NotAFolder(String),
    #[error("{path} has {size} bytes: the editor opens files up to 1 MiB; use the terminal for this one")]
    TooLarge { path: String, size: u64 },
    #[error("{0} is not text (it holds bytes that are not UTF-8): use the terminal for it")]
    Binary(String),
    #[error("{0} changed since you opened it (in the terminal?): reopen it to see the change, or save under another name")]
    Conflict(String),
    #[error("{0}: its folder does not exist")]
    NoFolder(String),
    #[error("{0} could not be written: is the sandbox's disk full?")]
    WriteFailed(String),
    #[error("the sandbox: {0}")]
    Sandbox(#[from] sandbox::Error),
    #[error("{what}: the sandbox answered {answer}")]
    Unexpected { what: String, answer: String },
}

/// A path the editor works with: absolute, without NUL, of a sane length. (Anything inside the
/// learner's own sandbox is theirs to edit: they are root there.)
pub fn checked_path(path: &str) -> Result<&str, FileError> {
    if !path.starts_with('/') {
        return Err(FileError::BadPath(format!("{path:?}: give the file's full path, from /")));
    }
    if path.contains('\0') || path.len() > 4096 {
        return Err(FileError::BadPath("that path is not one a file can have".into()));
    }
    Ok(path)
}

/// The version of `bytes`: their SHA-256, in hex (as `sha256sum` prints it).
pub fn version(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn request(script: &str, args: &[&str], stdin: Vec<u8>, output_limit: usize) -> ExecRequest {
    let mut argv = vec!["/bin/bash".to_string(), "-c".into(), script.into(), "stacklab-files".into()];
    argv.extend(args.iter().map(|a| a.to_string()));
    let mut request = ExecRequest::script("");
    request.argv = argv;
    request.stdin = stdin;
    request.timeout = LIMIT;
    request.output_limit = output_limit;
    request
}

fn unexpected(what: &str, out: &ExecOutput) -> FileError {
    let answer = match &out.end {
        ExecEnd::Exited(code) => format!("exit {code}: {}", String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(200)]).trim()),
        other => format!("{other:?}"),
    };
    FileError::Unexpected { what: what.into(), answer }
}

pub async fn open(sandboxes: &Sandboxes, learner: &str, path: &str) -> Result<OpenedFile, FileError> {
    let path = checked_path(path)?;
    let out = sandboxes.exec(learner, request(READ, &[path, &MAX_BYTES.to_string()], Vec::new(), MAX_BYTES as usize + 4096)).await?;
    match out.end {
        ExecEnd::Exited(0) => {}
        ExecEnd::Exited(3) => return Err(FileError::Missing(path.into())),
        ExecEnd::Exited(4) => return Err(FileError::NotAFile(path.into())),
        ExecEnd::Exited(5) => {
            let size = out.stdout_text().trim().parse().unwrap_or(MAX_BYTES + 1);
            return Err(FileError::TooLarge { path: path.into(), size });
        }
        _ => return Err(unexpected(&format!("reading {path}"), &out)),
    }
    // "MODE OWNER GROUP\n" then the bytes.
    let newline = out.stdout.iter().position(|b| *b == b'\n').ok_or_else(|| unexpected(&format!("reading {path}"), &out))?;
    let head = String::from_utf8_lossy(&out.stdout[..newline]).to_string();
    let bytes = &out.stdout[newline + 1..];
    let mut fields = head.split_whitespace();
    let (mode, owner, group) =
        (fields.next().unwrap_or("").to_string(), fields.next().unwrap_or("").to_string(), fields.next().unwrap_or("").to_string());
    if bytes.len() as u64 > MAX_BYTES {
        return Err(FileError::TooLarge { path: path.into(), size: bytes.len() as u64 });
    }
    let text = std::str::from_utf8(bytes).ok().filter(|t| !t.contains('\0')).ok_or_else(|| FileError::Binary(path.into()))?;
    Ok(OpenedFile { path: path.into(), text: text.into(), version: version(bytes), mode, owner, group })
}

/// Saves `text` to `path` if the file is still at `expected` (`None`: it must not exist yet);
/// the new version.
pub async fn save(sandboxes: &Sandboxes, learner: &str, path: &str, text: &str, expected: Option<&str>) -> Result<String, FileError> {
    let path = checked_path(path)?;
    if text.len() as u64 > MAX_BYTES {
        return Err(FileError::TooLarge { path: path.into(), size: text.len() as u64 });
    }
    let out = sandboxes.exec(learner, request(SAVE, &[path, expected.unwrap_or("")], text.as_bytes().to_vec(), 4096)).await?;
    match out.end {
        ExecEnd::Exited(0) => Ok(version(text.as_bytes())),
        ExecEnd::Exited(3) => Err(FileError::Conflict(path.into())),
        ExecEnd::Exited(4) => Err(FileError::NotAFile(path.into())),
        ExecEnd::Exited(6) => Err(FileError::WriteFailed(path.into())),
        ExecEnd::Exited(7) => Err(FileError::NoFolder(path.into())),
        _ => Err(unexpected(&format!("saving {path}"), &out)),
    }
}

/// The folder's entries, folders first, then by name; at most [`MAX_ENTRIES`].
pub async fn list(sandboxes: &Sandboxes, learner: &str, folder: &str) -> Result<Vec<Entry>, FileError> {
    let folder = checked_path(folder)?;
    let out = sandboxes.exec(learner, request(LIST, &[folder, &MAX_ENTRIES.to_string()], Vec::new(), 512 * 1024)).await?;
    match out.end {
        ExecEnd::Exited(0) => Ok(entries(&out.stdout)),
        ExecEnd::Exited(4) => Err(FileError::NotAFolder(folder.into())),
        _ => Err(unexpected(&format!("listing {folder}"), &out)),
    }
}

/// `find -printf '%y\t%s\t%P\0'`'s records as entries (a name may hold anything but NUL and /).
fn entries(listing: &[u8]) -> Vec<Entry> {
    let mut entries: Vec<Entry> = listing
        .split(|b| *b == 0)
        .filter_map(|record| {
            let record = String::from_utf8_lossy(record);
            let mut fields = record.splitn(3, '\t');
            let kind = fields.next()?;
            let size = fields.next()?.parse().ok()?;
            let name = fields.next().filter(|n| !n.is_empty() && !n.contains('/'))?.to_string();
            Some(Entry { name, folder: kind == "d", size })
        })
        .take(MAX_ENTRIES)
        .collect();
    entries.sort_by(|a, b| b.folder.cmp(&a.folder).then_with(|| a.name.cmp(&b.name)));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_absolute_and_sane() {
        assert!(checked_path("/root/myapp/Dockerfile").is_ok());
        assert!(checked_path("root/x").unwrap_err().to_string().contains("full path"));
        assert!(checked_path("/a\0b").is_err());
        assert!(checked_path(&format!("/{}", "a".repeat(5000))).is_err());
    }

    #[test]
    fn versions_are_sha256sums() {
        // `printf 'hello\n' | sha256sum`
        assert_eq!(version(b"hello\n"), "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    }

    #[test]
    fn listings_put_folders_first_and_skip_what_is_not_a_record() {
        let listing = b"f\t12\tmain.go\0d\t4096\tcmd\0f\t0\tname\twith tab\0junk\0f\tx\tbad-size\0d\t4096\t.git\0";
        let names: Vec<(String, bool)> = entries(listing).into_iter().map(|e| (e.name, e.folder)).collect();
        assert_eq!(names, [(".git".into(), true), ("cmd".into(), true), ("main.go".into(), false), ("name\twith tab".into(), false)]);
    }
}
