//! Killercoda's `details.assets.host01`: files from the scenario's `assets/` folder copied into
//! the sandbox before anything else runs. `file` is a path or a glob (`*` within a folder, `**`
//! across folders) relative to `assets/`; `target` is a folder in the sandbox (`~` is root's
//! home); `chmod` is applied to each file copied. A file keeps its path below the glob's fixed
//! folders (`app1/**/*.json` to `/t` gives `/t/config/app.json`; `app1/readme.md` gives
//! `/t/readme.md`). The files travel inside the setup script, so they are bounded.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

use super::super::course::Script;
use super::super::problem::Problems;

/// What all of a scenario's assets may weigh: they travel in a script.
pub const MAX_BYTES: u64 = 4 << 20;

#[derive(Deserialize)]
pub struct Assets {
    #[serde(default)]
    host01: Vec<Asset>,
}

#[derive(Deserialize)]
struct Asset {
    file: String,
    target: String,
    #[serde(default)]
    chmod: Option<String>,
}

/// The script that puts the assets in place (`None`: there are none); problems at `line` of
/// `index_path`.
pub fn script(assets: &Assets, dir: &Path, index_path: &Path, line: usize, problems: &mut Problems) -> Option<Script> {
    let root = dir.join("assets");
    let all = files_under(&root);
    let mut source = String::from("set -e\n");
    let mut total = 0;
    for asset in &assets.host01 {
        let pattern = asset.file.trim_start_matches("./");
        if pattern.split('/').any(|p| p == "..") || asset.target.is_empty() {
            problems.push(index_path, line, format!("asset {:?} to {:?}: not a file in assets/ and a folder", asset.file, asset.target));
            continue;
        }
        if let Some(mode) = &asset.chmod
            && !mode.bytes().all(|b| b"ugoa+-=rwxXst,01234567".contains(&b))
        {
            problems.push(index_path, line, format!("asset {:?}: chmod {mode:?} is not a mode", asset.file));
            continue;
        }
        let fixed: Vec<&str> = pattern.split('/').take_while(|p| !p.contains('*')).collect();
        // An exact path names one file: its folders are the fixed part.
        let fixed_len = if fixed.len() == pattern.split('/').count() { fixed.len() - 1 } else { fixed.len() };
        let matched: Vec<&PathBuf> = all.iter().filter(|f| glob_match(pattern, &slashed(f))).collect();
        if matched.is_empty() {
            problems.push(index_path, line, format!("asset {:?} matches no file in {}", asset.file, root.display()));
            continue;
        }
        let target = shell_path(&asset.target);
        for file in matched {
            let bytes = match std::fs::read(root.join(file)) {
                Ok(b) => b,
                Err(e) => {
                    problems.push(index_path, line, format!("asset {}: {e}", file.display()));
                    continue;
                }
            };
            total += bytes.len() as u64;
            let below: Vec<String> = file.components().skip(fixed_len).map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            let to = format!("{target}/{}", quote(&below.join("/")));
            source.push_str(&format!("mkdir -p \"$(dirname {to})\"\nbase64 -d > {to} <<'STACKLAB_ASSET'\n"));
            let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
            for chunk in encoded.as_bytes().chunks(76) {
                source.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
                source.push('\n');
            }
            source.push_str("STACKLAB_ASSET\n");
            if let Some(mode) = &asset.chmod {
                source.push_str(&format!("chmod {mode} {to}\n"));
            }
        }
    }
    if total > MAX_BYTES {
        problems.push(
            index_path,
            line,
            format!("the assets weigh {total} bytes: at most {MAX_BYTES} (download bigger files in a background script)"),
        );
        return None;
    }
    (source.len() > "set -e\n".len()).then(|| Script { source, file: index_path.to_path_buf(), line })
}

/// Every file under `root`, as paths relative to it, sorted.
fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&rel)) else { continue };
        for entry in entries.flatten() {
            let path = rel.join(entry.file_name());
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(path),
                Ok(t) if t.is_file() => out.push(path),
                _ => {}
            }
        }
    }
    out.sort();
    out
}

fn slashed(path: &Path) -> String {
    path.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/")
}

/// Whether `path` matches `pattern`: `**` is any number of folders, `*` any part of one name.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    segments_match(&pattern, &path)
}

fn segments_match(pattern: &[&str], path: &[&str]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            // `**` last matches every file below; else it may swallow 0..n folders.
            pattern.len() == 1 && !path.is_empty() || (0..path.len()).any(|skip| segments_match(&pattern[1..], &path[skip..]))
        }
        (Some(p), Some(name)) => name_match(p.as_bytes(), name.as_bytes()) && segments_match(&pattern[1..], &path[1..]),
        _ => false,
    }
}

fn name_match(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|skip| name_match(rest, &name[skip..])),
        Some((b'?', rest)) => !name.is_empty() && name_match(rest, &name[1..]),
        Some((c, rest)) => name.first() == Some(c) && name_match(rest, &name[1..]),
    }
}

/// A target folder as shell words: `~` is the home folder, the rest quoted, no trailing `/`.
fn shell_path(target: &str) -> String {
    let trimmed = target.trim_end_matches('/');
    match trimmed.strip_prefix('~') {
        Some(rest) => format!("\"$HOME\"{}", if rest.is_empty() { String::new() } else { quote(rest) }),
        None if trimmed.is_empty() => String::new(),
        None => quote(trimmed),
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_as_killercoda_writes_them() {
        for (pattern, path, expected) in [
            ("conf.yaml", "conf.yaml", true),
            ("*", "conf.yaml", true),
            ("*", "app1/readme.md", false),
            ("**", "app1/config/app.json", true),
            ("**/*.json", "cnf.json", true),
            ("**/*.json", "app2/cnf/cnf.json", true),
            ("app1/*/*.json", "app1/config/app.json", true),
            ("app1/*/*.json", "app1/etc/app/app.json", false),
            ("app1/**/*.json", "app1/etc/app/app.json", true),
            ("app*/*.*", "app1/readme.md", true),
            ("**/*.*", "run.sh", true),
        ] {
            assert_eq!(glob_match(pattern, path), expected, "{pattern} on {path}");
        }
    }

    #[test]
    fn targets_are_quoted_and_home_is_expanded() {
        assert_eq!(shell_path("~/"), "\"$HOME\"");
        assert_eq!(shell_path("/my/loc ation/"), "'/my/loc ation'");
        assert_eq!(shell_path("~/a'b"), "\"$HOME\"'/a'\\''b'");
    }
}
