//! Which commands are attempts at a step.
//!
//! The dashboard flags a learner when "the same check failed 3 times in a row": it should mean
//! they keep trying and keep missing. A check runs after every command, but most commands only
//! look around (`ls`, `cat notes.txt`, `man ip`, `ip link show`) and cannot change what a check
//! sees; counting those flagged learners who were only reading. So an attempt is:
//!
//! - pressing "Check";
//! - a command the learner typed that may change something: anything not known to only look.
//!
//! Not attempts: commands that only look (below; a redirection into a file makes any command a
//! change), commands the instructor typed while taking over, and the background timer. Those
//! checks still run, and a pass still counts: only the failure count ignores them. Unknown
//! commands count, so a learner who really tries is never missed.

/// Programs that only read, whatever their arguments.
const LOOKING: &[&str] = &[
    "ls",
    "ll",
    "la",
    "dir",
    "cat",
    "less",
    "more",
    "head",
    "tail",
    "man",
    "info",
    "help",
    "pwd",
    "cd",
    "echo",
    "printf",
    "clear",
    "reset",
    "history",
    "which",
    "type",
    "whereis",
    "whoami",
    "id",
    "groups",
    "file",
    "stat",
    "tree",
    "wc",
    "grep",
    "egrep",
    "fgrep",
    "find",
    "lsns",
    "lsblk",
    "lscpu",
    "lsmod",
    "lspci",
    "lsof",
    "ps",
    "pstree",
    "top",
    "htop",
    "free",
    "df",
    "du",
    "uptime",
    "date",
    "uname",
    "printenv",
    "readlink",
    "realpath",
    "basename",
    "dirname",
    "diff",
    "cmp",
    "md5sum",
    "sha256sum",
    "dmesg",
    "journalctl",
    "ss",
    "netstat",
    "nproc",
    "w",
    "who",
    "last",
    "true",
    "test",
    "[",
    "sort",
    "uniq",
    "cut",
    "column",
    "jq",
    "yq",
    "xxd",
    "hexdump",
    "od",
    "strings",
    "getent",
    "vmstat",
    "iostat",
    "findmnt",
    "tty",
    "locale",
    "sleep",
    "watch",
];

/// Programs with subcommands, and the subcommands that only read.
const LOOKING_SUBCOMMANDS: &[(&str, &[&str])] = &[
    (
        "kubectl",
        &["get", "describe", "logs", "explain", "api-resources", "api-versions", "version", "top", "cluster-info", "config", "events"],
    ),
    ("crictl", &["ps", "pods", "images", "img", "inspect", "inspectp", "inspecti", "logs", "info", "version", "stats", "statsp"]),
    ("podman", &["ps", "images", "inspect", "logs", "version", "info", "history", "top", "port", "search"]),
    ("docker", &["ps", "images", "inspect", "logs", "version", "info", "history", "top", "port", "search"]),
    ("systemctl", &["status", "show", "list-units", "list-unit-files", "is-active", "is-enabled", "is-failed", "cat"]),
    ("git", &["status", "log", "diff", "show", "blame", "shortlog", "grep", "ls-files"]),
    ("ctr", &["version", "info"]),
];

/// `ip` reads unless one of these verbs appears (`ip link show`, `ip -br a` and `ip netns list`
/// read; `ip link add`, `ip netns exec NS …` do things).
const IP_CHANGING: &[&str] = &[
    "add", "del", "delete", "set", "change", "replace", "flush", "exec", "attach", "append", "prepend", "save", "restore", "monitor",
    "identify", "pids",
];

/// Redirections that throw output away rather than write a file.
const DISCARDING: &[&str] = &["2>&1", "2>/dev/null", ">/dev/null", "&>/dev/null"];

/// Whether `command` (a line as the learner ran it) only looks around.
pub fn only_looks(command: &str) -> bool {
    let mut command = command.trim().to_string();
    for discard in DISCARDING {
        command = command.replace(discard, " ");
    }
    // A redirection writes a file (`cat > x`, `echo 1 > /sys/...`); a here-document feeds one.
    if command.is_empty() || command.contains('>') || command.contains("<<") || command.contains('`') || command.contains("$(") {
        return false;
    }
    command.split(['|', ';', '&']).map(str::trim).filter(|part| !part.is_empty()).all(simple_command_looks)
}

/// Words that run the command after them (with options of their own).
const WRAPPERS: &[&str] = &["sudo", "command", "time", "env", "nohup"];

fn simple_command_looks(part: &str) -> bool {
    let mut words = part.split_whitespace().skip_while(|w| is_assignment(w) || WRAPPERS.contains(w) || w.starts_with('-'));
    let Some(program) = words.next() else { return true };
    let program = program.rsplit('/').next().unwrap_or(program);
    let rest: Vec<&str> = words.collect();
    if LOOKING.contains(&program) {
        // `find` deletes and runs things too.
        return !(program == "find" && rest.iter().any(|w| w.starts_with("-exec") || *w == "-delete" || w.starts_with("-ok")));
    }
    if program == "mount" {
        // Alone it lists; with arguments it mounts.
        return rest.is_empty();
    }
    if program == "ip" {
        return !rest.iter().any(|w| IP_CHANGING.contains(w));
    }
    match LOOKING_SUBCOMMANDS.iter().find(|(p, _)| *p == program) {
        Some((_, verbs)) => subcommand(&rest).is_some_and(|verb| verbs.contains(&verb)),
        None => false,
    }
}

/// Global options that take the next word as their value (`kubectl -n NS get`, `git -C DIR log`).
const OPTIONS_WITH_VALUES: &[&str] = &[
    "-n",
    "--namespace",
    "--context",
    "--kubeconfig",
    "--cluster",
    "--user",
    "-r",
    "--runtime-endpoint",
    "-i",
    "--image-endpoint",
    "--config",
    "-C",
    "-c",
];

/// The first word that is neither an option nor an option's value.
fn subcommand<'a>(words: &[&'a str]) -> Option<&'a str> {
    let mut words = words.iter();
    while let Some(word) = words.next() {
        if OPTIONS_WITH_VALUES.contains(word) {
            words.next();
        } else if !word.starts_with('-') {
            return Some(word);
        }
    }
    None
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::only_looks;

    #[test]
    fn reading_is_not_an_attempt() {
        for command in [
            "ls",
            "ls -la /sys/fs/cgroup",
            "cat /proc/self/status | grep -i cap",
            "man ip-netns",
            "ip a",
            "ip -br link show",
            "ip netns list",
            "sudo lsns -t net",
            "kubectl get pods -o wide",
            "kubectl -n kube-system describe pod x",
            "git -C /root/myapp log --oneline",
            "crictl ps -a",
            "history | tail",
            "LANG=C ls",
            "/usr/bin/cat notes.txt",
            "clear; pwd",
            "ls /nope 2>/dev/null",
            "mount",
            "env",
        ] {
            assert!(only_looks(command), "{command} only looks");
        }
    }

    #[test]
    fn doing_is_an_attempt() {
        for command in [
            "ip netns add demo",
            "ip link set veth0 up",
            "ip netns exec demo ip link set lo up",
            "unshare --pid --fork --mount-proc bash",
            "echo 50M > memory.max",
            "cat > Dockerfile",
            "cat <<EOF > x",
            "ls && mkdir /sys/fs/cgroup/demo",
            "kubectl run web --image=nginx",
            "kubectl apply -f pod.yaml",
            "kubectl -n default delete pod web",
            "crictl pull busybox",
            "podman build -t app .",
            "echo $(id -u)",
            "some-script.sh",
            "git commit -m x",
            "crictl",
            "find /tmp -name x -delete",
            "mount -t tmpfs none /mnt",
            "env X=1 ./run.sh",
            "",
        ] {
            assert!(!only_looks(command), "{command:?} is an attempt");
        }
    }
}
