//! crictl's output shapes: its tables (Go's tabwriter with a minimum width of 20 and a padding
//! of 3, ids cut to 13 characters, "N minutes ago"), its JSON (camelCase, 2-space indent), and
//! container logs in the CRI log format.

use std::io::{BufRead, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_cri::v1::{Container, ContainerState, Image, PodSandbox, PodSandboxState};
use serde_json::Value;

const TRUNCATED_ID: usize = 13;

pub fn pods(pods: Vec<PodSandbox>, quiet: bool, no_trunc: bool) {
    if quiet {
        pods.iter().for_each(|p| println!("{}", p.id));
        return;
    }
    let mut rows = vec![row(&["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"])];
    for p in pods {
        let meta = p.metadata.unwrap_or_default();
        let state = match PodSandboxState::try_from(p.state) {
            Ok(PodSandboxState::SandboxReady) => "Ready",
            _ => "NotReady",
        };
        let runtime = if p.runtime_handler.is_empty() { "(default)".to_string() } else { p.runtime_handler };
        rows.push(vec![id(&p.id, no_trunc), ago(p.created_at), state.into(), meta.name, meta.namespace, meta.attempt.to_string(), runtime]);
    }
    table(rows);
}

pub fn containers(containers: Vec<Container>, quiet: bool, no_trunc: bool) {
    if quiet {
        containers.iter().for_each(|c| println!("{}", c.id));
        return;
    }
    let mut rows = vec![row(&["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID"])];
    for c in containers {
        let meta = c.metadata.unwrap_or_default();
        let image = c.image.map(|i| i.image).unwrap_or_default();
        let image = match image.strip_prefix("sha256:") {
            Some(digest) if !no_trunc => digest.chars().take(TRUNCATED_ID).collect(),
            _ => image,
        };
        let state = match ContainerState::try_from(c.state) {
            Ok(ContainerState::ContainerCreated) => "Created",
            Ok(ContainerState::ContainerRunning) => "Running",
            Ok(ContainerState::ContainerExited) => "Exited",
            _ => "Unknown",
        };
        rows.push(vec![
            id(&c.id, no_trunc),
            image,
            ago(c.created_at),
            state.into(),
            meta.name,
            meta.attempt.to_string(),
            id(&c.pod_sandbox_id, no_trunc),
        ]);
    }
    table(rows);
}

pub fn images(images: Vec<Image>, quiet: bool, no_trunc: bool) {
    if quiet {
        images.iter().for_each(|i| println!("{}", i.id));
        return;
    }
    let mut rows = vec![row(&["IMAGE", "TAG", "IMAGE ID", "SIZE"])];
    for image in images {
        let digest = image.id.strip_prefix("sha256:").unwrap_or(&image.id).to_string();
        let short = if no_trunc { image.id.clone() } else { digest.chars().take(TRUNCATED_ID).collect() };
        let tags: Vec<(String, String)> = if image.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            image.repo_tags.iter().map(|t| split_tag(t)).collect()
        };
        for (repo, tag) in tags {
            rows.push(vec![repo, tag, short.clone(), human_size(image.size)]);
        }
    }
    table(rows);
}

/// `{"status": STATUS, KEY: VALUE, ...}` the way crictl writes it: status first, then the
/// runtime's info entries sorted by key, each JSON document kept as the runtime wrote it (key
/// order included: containerd puts a container's `pid` before its config), then indented.
pub fn status_and_info(status: &Value, info: std::collections::HashMap<String, String>) -> String {
    let mut raw = format!("{{\"status\":{}", serde_json::to_string(status).unwrap_or_default());
    let mut keys: Vec<&String> = info.keys().collect();
    keys.sort();
    for key in keys {
        let text = &info[key];
        let value = if serde_json::from_str::<Value>(text).is_ok() { text.clone() } else { Value::String(text.clone()).to_string() };
        raw.push_str(&format!(",{}:{value}", Value::String(key.clone())));
    }
    raw.push('}');
    indent(&raw)
}

/// Go's `json.Indent(src, "", "  ")`: a newline and indentation after `{`, `[` and `,`, a space
/// after `:`, empty objects and arrays left as `{}` and `[]`, everything else as written.
fn indent(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    let (mut depth, mut in_string, mut escaped, mut pending) = (0usize, false, false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    for c in raw.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        if c.is_ascii_whitespace() {
            continue;
        }
        if pending {
            pending = false;
            if c == '}' || c == ']' {
                // An empty object or array stays on its line.
                depth -= 1;
                out.push(c);
                continue;
            }
            newline(&mut out, depth);
        }
        match c {
            '{' | '[' => {
                out.push(c);
                depth += 1;
                pending = true;
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            '"' => {
                out.push(c);
                in_string = true;
            }
            _ => out.push(c),
        }
    }
    out
}

/// Prints a container's log: each CRI log line is `TIME STREAM P|F TEXT`, P marking a line the
/// runtime split; stderr lines go to stderr.
pub fn logs(path: &str, tail: Option<usize>) -> anyhow::Result<()> {
    let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let mut lines: Vec<(bool, String)> = Vec::new();
    let mut partial = String::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        let mut parts = line.splitn(4, ' ');
        let (_time, stream, tag, text) = (parts.next(), parts.next(), parts.next(), parts.next().unwrap_or(""));
        partial.push_str(text);
        if tag == Some("P") {
            continue;
        }
        lines.push((stream == Some("stderr"), std::mem::take(&mut partial)));
    }
    let skip = tail.map_or(0, |n| lines.len().saturating_sub(n));
    let (mut out, mut err) = (std::io::stdout().lock(), std::io::stderr().lock());
    for (is_err, text) in lines.into_iter().skip(skip) {
        if is_err {
            writeln!(err, "{text}")?;
        } else {
            writeln!(out, "{text}")?;
        }
    }
    Ok(())
}

/// serde's snake_case field names as crictl's (protobuf JSON) camelCase ones, all the way down.
pub fn camel(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (camel_name(&k), camel(v))).collect()),
        Value::Array(items) => Value::Array(items.into_iter().map(camel).collect()),
        other => other,
    }
}

fn camel_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn id(id: &str, no_trunc: bool) -> String {
    if no_trunc { id.to_string() } else { id.chars().take(TRUNCATED_ID).collect() }
}

fn split_tag(reference: &str) -> (String, String) {
    // The tag is after the last ':' that comes after the last '/' (a registry may have a port).
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[slash..].rfind(':') {
        Some(i) => (reference[..slash + i].to_string(), reference[slash + i + 1..].to_string()),
        None => (reference.to_string(), "<none>".into()),
    }
}

/// Go's tabwriter as crictl sets it up: columns at least 20 wide, 3 spaces of padding.
fn table(rows: Vec<Vec<String>>) {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..columns).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count() + 3).max().unwrap_or(0).max(20)).collect();
    let mut out = std::io::stdout().lock();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < r.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count()));
            }
        }
        let _ = writeln!(out, "{line}");
    }
}

/// "2 minutes ago", as Go's `units.HumanDuration` says it.
fn ago(created_ns: i64) -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let created = Duration::from_nanos(created_ns.max(0) as u64);
    format!("{} ago", human_duration(now.saturating_sub(created)))
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    let (m, h) = (s / 60, s / 3600);
    match () {
        _ if s < 1 => "Less than a second".into(),
        _ if s == 1 => "1 second".into(),
        _ if s < 60 => format!("{s} seconds"),
        _ if m == 1 => "About a minute".into(),
        _ if m < 60 => format!("{m} minutes"),
        _ if h == 1 => "About an hour".into(),
        _ if h < 48 => format!("{h} hours"),
        _ if h < 24 * 7 * 2 => format!("{} days", h / 24),
        _ if h < 24 * 30 * 3 => format!("{} weeks", h / 24 / 7),
        _ if h < 24 * 365 * 2 => format!("{} months", h / 24 / 30),
        _ => format!("{} years", h / 24 / 365),
    }
}

/// Decimal units with 3 significant digits, as Go's `units.HumanSizeWithPrecision(n, 3)`.
fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < units.len() {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", significant(size, 3), units[unit])
}

/// `%.3g`: three significant digits, no trailing zeros.
fn significant(value: f64, digits: i32) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_string() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_durations_and_names_read_as_crictl_prints_them() {
        assert_eq!(human_size(706_560), "707kB");
        assert_eq!(human_size(2_140_160), "2.14MB");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_duration(Duration::from_secs(0)), "Less than a second");
        assert_eq!(human_duration(Duration::from_secs(61)), "About a minute");
        assert_eq!(human_duration(Duration::from_secs(150)), "2 minutes");
        assert_eq!(human_duration(Duration::from_secs(3 * 86400)), "3 days");
        assert_eq!(split_tag("localhost/web:1.0"), ("localhost/web".into(), "1.0".into()));
        assert_eq!(split_tag("registry:5000/x"), ("registry:5000/x".into(), "<none>".into()));
        assert_eq!(camel_name("log_path"), "logPath");
        assert_eq!(
            indent(r#"{"a":{},"b":[1, "x,\"y"],"c":{"d":[]}}"#),
            "{\n  \"a\": {},\n  \"b\": [\n    1,\n    \"x,\\\"y\"\n  ],\n  \"c\": {\n    \"d\": []\n  }\n}"
        );
        assert_eq!(
            camel(serde_json::json!({"pod_sandbox_id": [{"created_at": 1}]})),
            serde_json::json!({"podSandboxId": [{"createdAt": 1}]})
        );
    }
}
