//! Sandboxes start, answer, keep the learner's files, and go away completely.

mod common;

#[allow(unused_imports)]
use sandbox::PtySize;
use sandbox::{Backend, ShellRequest};
use tokio::io::AsyncWriteExt;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn starts_and_runs_commands_as_root_with_its_own_hostname() {
    let Some(h) = common::harness("starts_and_runs") else { return };
    h.start("lab-smoke").await;
    let out = h.ok("lab-smoke", "id -u; hostname; cat /etc/hostname; echo $HOME; pwd").await;
    assert_eq!(out, "0\nlab-smoke\nlab-smoke\n/root\n/root\n");
}

/// A container runtime a check starts moves its container into a group it made in the
/// sandbox's cgroup tree (Podman's crun does, for a lab whose check runs `podman run`): a command
/// the server runs may do that, on cgroup v2 (where the move needs the two groups' common
/// ancestor to be the mover's) as on v1.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_command_moves_a_process_into_a_group_made_inside() {
    let Some(h) = common::harness("command_moves") else { return };
    if common::testing_docker() {
        return; // The engine's cgroups.
    }
    h.start("lab-moves").await;
    let out = h
        .ok(
            "lab-moves",
            r#"g=/sys/fs/cgroup; [ -f $g/cgroup.controllers ] || g=/sys/fs/cgroup/pids
               mkdir $g/runtime && sh -c 'echo $$ > "$0/cgroup.procs" && cat /proc/self/cgroup' $g/runtime"#,
        )
        .await;
    assert!(out.lines().any(|l| l.ends_with(":/runtime")), "not moved into the group made inside:\n{out}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn files_survive_stop_and_start_and_go_on_wipe() {
    let Some(h) = common::harness("files_survive") else { return };
    let spec = h.start("lab-files").await;
    h.ok("lab-files", "echo kept > /root/notes.txt; mkdir -p /srv/app && echo 1 > /srv/app/v").await;
    h.backend.stop("lab-files").await.unwrap();
    h.backend.start(&spec).await.unwrap();
    assert_eq!(h.ok("lab-files", "cat /root/notes.txt /srv/app/v").await, "kept\n1\n");
    // The same owner under another sandbox name gets the same files.
    h.backend.stop("lab-files").await.unwrap();
    let mut renamed = spec.clone();
    renamed.name = "lab-files-2".into();
    h.backend.start(&renamed).await.unwrap();
    assert_eq!(h.ok("lab-files-2", "cat /root/notes.txt").await, "kept\n");
    // A wipe (reset) starts over from the image.
    h.backend.wipe(&spec.owner).await.unwrap();
    h.backend.start(&spec).await.unwrap();
    assert_eq!(h.ok("lab-files", "ls /root/notes.txt 2>&1 || echo gone").await.lines().last(), Some("gone"));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_new_server_adopts_running_sandboxes_and_cleans_dead_ones() {
    let Some(h) = common::harness("adopt") else { return };
    let spec = h.start("lab-adopt").await;
    h.start("lab-dead").await;
    h.ok("lab-adopt", "echo before > /root/f").await;
    // A second backend on the same data dir: what a restarted server does.
    let again = sandbox::native::NativeBackend::open(h.config.clone()).unwrap();
    let running: Vec<String> = again.running().await.unwrap().into_iter().map(|i| i.name).collect();
    assert!(running.contains(&"lab-adopt".to_string()), "{running:?}");
    let out = again.exec("lab-adopt", sandbox::ExecRequest::script("cat /root/f")).await.unwrap();
    assert_eq!(out.stdout_text(), "before\n");
    // Its check agent ends with it; the next server removes the agent's group.
    let check = sandbox::CheckRequest { script: "pass ok".into(), commands: Vec::new(), timeout: std::time::Duration::from_secs(10) };
    assert!(again.check("lab-adopt", check).await.unwrap().success());
    let command_groups = || {
        let v1 = format!("/sys/fs/cgroup/pids/{}/lab-adopt/checks", h.config.cgroup_root);
        let v2 = format!("/sys/fs/cgroup/{}/lab-adopt/learner", h.config.cgroup_root);
        let (dir, prefix) = if std::path::Path::new(&v1).exists() { (v1, "") } else { (v2, ".check-") };
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_dir() && e.file_name().to_string_lossy().starts_with(prefix))
            .count()
    };
    assert_eq!(command_groups(), 1, "the agent's group");
    drop(again);
    // Every process of lab-dead killed from the host (a crash): the next server cleans up, and
    // a fresh start of it works.
    let init = h.backend.processes("lab-dead").await.unwrap();
    assert_eq!(init.first().map(|p| p.pid), Some(1));
    let pids = std::fs::read_to_string(format!("/sys/fs/cgroup/pids/{}/lab-dead/learner/cgroup.procs", h.config.cgroup_root))
        .or_else(|_| std::fs::read_to_string(format!("/sys/fs/cgroup/{}/lab-dead/learner/init.scope/cgroup.procs", h.config.cgroup_root)))
        .unwrap();
    for pid in pids.lines() {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid.parse().unwrap()), nix::sys::signal::Signal::SIGKILL).unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let third = sandbox::native::NativeBackend::open(h.config.clone()).unwrap();
    let running: Vec<String> = third.running().await.unwrap().into_iter().map(|i| i.name).collect();
    assert_eq!(running, vec!["lab-adopt".to_string()]);
    let dead = h.spec("lab-dead", "lab-dead-owner");
    third.start(&dead).await.unwrap();
    assert!(third.exec("lab-dead", sandbox::ExecRequest::script("true")).await.unwrap().success());
    assert_eq!(command_groups(), 0, "the agent's group is left");
    drop(spec);
    third.shutdown_all_blocking();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn shells_have_a_real_terminal_that_resizes() {
    let Some(h) = common::harness("shell_pty") else { return };
    h.start("lab-tty").await;
    // A server started with SIGINT ignored (nohup, the background of a script) must not pass
    // that on: Ctrl-C below has to reach the learner's job anyway.
    // SAFETY: setting a signal disposition; the previous one is put back below.
    let before = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let mut shell = h.backend.open_shell("lab-tty", ShellRequest::default()).await.unwrap();
    // SAFETY: as above.
    unsafe { libc::signal(libc::SIGINT, before) };
    shell.input.write_all(b"tty; stty size; echo marker-$((6*7))\n").await.unwrap();
    let text = common::read_until(&mut shell, "marker-42").await;
    assert!(text.contains("/dev/pts/0"), "{text}");
    assert!(text.contains("24 80"), "{text}");
    shell.control.resize(sandbox::PtySize { cols: 132, rows: 50 }).unwrap();
    shell.input.write_all(b"stty size; echo again-$((6*7))\n").await.unwrap();
    let text = common::read_until(&mut shell, "again-42").await;
    assert!(text.contains("50 132"), "{text}");
    // The shell's waiter hangs below the sandbox's init; the shell is its root, in /root, with
    // the whole capability set there, and readable by it as any process of its own (the entering
    // process was not dumpable: exec made it so again).
    shell.input.write_all(b"grep PPid /proc/$PPID/status; pwd; id -u; grep CapEff /proc/self/status; head -c 1 /proc/$$/environ >/dev/null && echo env-readable-$((6*7))\n").await.unwrap();
    let text = common::read_until(&mut shell, "env-readable-42").await;
    assert!(text.contains("PPid:\t1"), "{text}");
    assert!(text.contains("/root\r\n0\r\n"), "{text}");
    assert!(text.contains("CapEff:\t") && !text.contains("CapEff:\t0000000000000000"), "{text}");
    // Ctrl-C reaches the foreground job, then exit ends the shell. Until bash has handed the
    // terminal to sleep's process group a ^C interrupts bash itself (a race a loaded machine
    // loses), so it is sent again until a fresh prompt shows sleep is gone.
    shell.input.write_all(b"sleep 100\n").await.unwrap();
    common::read_until(&mut shell, "6973;run;").await;
    let mut interrupted = false;
    for _ in 0..30 {
        shell.input.write_all(b"\x03").await.unwrap();
        if common::read_for(&mut shell, "# ", std::time::Duration::from_secs(1)).await {
            interrupted = true;
            break;
        }
    }
    assert!(interrupted, "^C never ended sleep");
    shell.input.write_all(b"echo after-$((6*7))\n").await.unwrap();
    common::read_until(&mut shell, "after-42").await;
    shell.input.write_all(b"exit 3\n").await.unwrap();
    assert_eq!(shell.control.wait().await, 3);
}

/// Tab completes a command's arguments as bash-completion does, though a login no longer loads
/// it: the first Tab does (the image's `completion.sh`; it was most of a login shell's start).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn tab_completes_arguments_though_completion_loads_at_the_first_tab() {
    let Some(h) = common::harness("shell_tab") else { return };
    h.start("lab-tab").await;
    let mut shell = h.backend.open_shell("lab-tab", ShellRequest::default()).await.unwrap();
    shell.input.write_all(b"echo loaded-${BASH_COMPLETION_VERSINFO:-not-yet}\n").await.unwrap();
    common::read_until(&mut shell, "loaded-not-yet").await;
    // bash-completion's `ip` completes "ro" to "route"; bash alone would look for files.
    shell.input.write_all(b"ip ro\t").await.unwrap();
    common::read_until(&mut shell, "ip route ").await;
    shell.input.write_all(b"\x15echo loaded-${BASH_COMPLETION_VERSINFO[0]}\n").await.unwrap();
    common::read_until(&mut shell, "loaded-2").await;
}

/// The learner's shell is in the sandbox's own process tree, below its init, as on a machine
/// (`pstree` shows it; Killercoda scenarios look there), not a process without a parent there.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_shell_sits_in_the_sandboxs_own_process_tree() {
    let Some(h) = common::harness("shell_tree") else { return };
    h.start("lab-tree").await;
    let mut shell = h.backend.open_shell("lab-tree", ShellRequest::default()).await.unwrap();
    shell.input.write_all(b"pstree -A; echo grandparent-$(cut -d' ' -f4 /proc/$PPID/stat); echo done-$((6*7))\n").await.unwrap();
    let text = common::read_until(&mut shell, "done-42").await;
    assert!(text.contains("grandparent-1"), "the shell's waiter is the init's child:\n{text}");
    assert!(text.contains("catatonit---sh---bash---pstree"), "pstree shows the shell below init:\n{text}");
    // The terminal's program is not listed as the learner's.
    let listed = h.backend.processes("lab-tree").await.unwrap();
    assert!(listed.iter().all(|p| !p.command.contains("stacklab-shell")), "{listed:?}");
    assert!(listed.iter().any(|p| p.command == "/bin/bash -l"), "{listed:?}");
    // Killed, the shell ends as one killed does.
    shell.control.kill();
    assert_eq!(shell.control.wait().await, 128 + libc::SIGKILL);
}

/// The learner (root in there) may try to hold the waiter's status pipe open through /proc (a
/// background job opening `/proc/<waiter>/fd/3`); their terminal still ends, with the status
/// the waiter wrote, at the latest `WAITER_GRACE` after no process has the terminal.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_terminal_ends_though_the_learner_holds_its_waiters_pipe() {
    let Some(h) = common::harness("shell_pipe") else { return };
    h.start("lab-pipe").await;
    let mut shell = h.backend.open_shell("lab-pipe", ShellRequest::default()).await.unwrap();
    shell.input.write_all(b"sleep 1000 </dev/null >/dev/null 2>&1 9>/proc/$PPID/fd/3 & echo held-$((6*7))\n").await.unwrap();
    common::read_until(&mut shell, "held-42").await;
    shell.input.write_all(b"exit 5\n").await.unwrap();
    let code = tokio::time::timeout(std::time::Duration::from_secs(30), shell.control.wait()).await;
    assert_eq!(code.ok(), Some(5), "the terminal did not end with its shell");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn processes_are_listed_and_killed_by_their_sandbox_pid() {
    let Some(h) = common::harness("processes") else { return };
    h.start("lab-ps").await;
    let mut shell = h.backend.open_shell("lab-ps", ShellRequest::default()).await.unwrap();
    shell.input.write_all(b"sleep 555 &\n").await.unwrap();
    let mut sleep = None;
    for _ in 0..100 {
        let list = h.backend.processes("lab-ps").await.unwrap();
        sleep = list.into_iter().find(|p| p.command == "sleep 555");
        if sleep.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sleep = sleep.expect("sleep 555 is listed");
    let inside = h.ok("lab-ps", "pgrep -x sleep").await;
    assert_eq!(inside.trim(), sleep.pid.to_string(), "the listed pid is the one the learner sees");
    h.backend.kill("lab-ps", sleep.pid, libc::SIGKILL).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(h.ok("lab-ps", "pgrep -x sleep || echo none").await, "none\n");
    let stats = h.backend.stats("lab-ps").await.unwrap();
    assert!(stats.memory_bytes > 0 && stats.memory_limit_bytes == 512 << 20 && stats.disk_total_bytes > 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn checks_that_hang_flood_or_background_are_bounded() {
    let Some(h) = common::harness("exec_bounds") else { return };
    h.start("lab-exec").await;
    let hang = h
        .backend
        .exec("lab-exec", sandbox::ExecRequest::script("sleep 1000").timeout(std::time::Duration::from_millis(500)))
        .await
        .unwrap();
    assert_eq!(hang.end, sandbox::ExecEnd::TimedOut);
    let flood = h.backend.exec("lab-exec", sandbox::ExecRequest::script("yes")).await.unwrap();
    assert_eq!(flood.end, sandbox::ExecEnd::OutputLimit);
    assert_eq!(flood.stdout.len(), 64 * 1024);
    let background = h.backend.exec("lab-exec", sandbox::ExecRequest::script("sleep 1000 & echo started")).await.unwrap();
    assert_eq!(background.end, sandbox::ExecEnd::Exited(0));
    assert_eq!(h.ok("lab-exec", "pgrep -x sleep || echo none").await, "none\n", "the background job was cleaned up");
    let selfkill = h.backend.exec("lab-exec", sandbox::ExecRequest::script("kill -9 $$")).await.unwrap();
    assert_eq!(selfkill.end, sandbox::ExecEnd::Signaled(9));
}

/// A check as the server runs a step's: in the sandbox, as its root, from /root, with the
/// learner's commands for `ran`. On the native backend a bash kept in the sandbox runs one check
/// after another; the learner, root beside it, may kill it, and a check may leave a daemon
/// behind or hang: each ends that agent with what it started, and the next check gets a new one.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn checks_run_in_the_sandbox_and_outlast_what_the_learner_does_to_their_runner() {
    let Some(h) = common::harness("checks_agent") else { return };
    h.start("lab-checks").await;
    let check = |script: &str, timeout: std::time::Duration| {
        let request = sandbox::CheckRequest {
            script: script.into(),
            commands: b"1\t0\tip netns add red\n".to_vec(),
            timeout: common::scaled(timeout),
        };
        h.any.check("lab-checks", request)
    };
    let ten = std::time::Duration::from_secs(10);
    let first = check("ran 'netns add red' && echo \"$(id -u) $(hostname) $PWD $$\"", ten).await.unwrap();
    assert_eq!(first.end, sandbox::ExecEnd::Exited(0), "{first:?}");
    let words: Vec<String> = first.stdout_text().split_whitespace().map(String::from).collect();
    assert_eq!(words[..3], ["0", "lab-checks", "/root"]);
    let ended = |script: &'static str| async move { check(script, ten).await.unwrap() };
    assert_eq!(ended("fail 'Create it first'").await.stdout_text(), "Create it first\n");
    let flood = ended("yes").await;
    assert_eq!((&flood.end, flood.stdout.len()), (&sandbox::ExecEnd::OutputLimit, sandbox::CHECK_OUTPUT_LIMIT));
    let hang = check("sleep 1000", std::time::Duration::from_millis(500)).await.unwrap();
    assert_eq!(hang.end, sandbox::ExecEnd::TimedOut);
    let daemon = ended("setsid sleep 1001 & echo started").await;
    assert_eq!(daemon.end, sandbox::ExecEnd::Exited(0));
    assert_eq!(ended("kill -9 $BASHPID").await.end, sandbox::ExecEnd::Signaled(9));
    // Nothing a check started is left, the daemon included.
    assert_eq!(h.ok("lab-checks", "pgrep -x sleep || echo none").await, "none\n");
    if common::testing_docker() {
        return; // What follows is the native backend's agent.
    }
    let agent = ended("echo $$").await.stdout_text();
    assert_eq!(ended("echo $$").await.stdout_text(), agent, "one agent runs check after check");
    let listed = h.backend.processes("lab-checks").await.unwrap();
    assert!(listed.iter().all(|p| !p.command.contains("__STACKLAB_AGENT")), "the agent is listed as the learner's: {listed:?}");
    // The learner kills it: this check and the next still run.
    h.ok("lab-checks", &format!("kill -9 {}", agent.trim())).await;
    let after = ended("echo $$; pass ok").await;
    assert_eq!(after.end, sandbox::ExecEnd::Exited(0));
    assert_ne!(after.stdout_text().lines().next(), Some(agent.trim()));
    // The learner writes into its reply pipe: that answer is not taken (the check runs again on
    // its own, where the same words go to its own output).
    let garbled = ended("echo '9 out 99999' > /proc/$$/fd/1; pass honest").await;
    assert_eq!(garbled.end, sandbox::ExecEnd::Exited(0));
    assert_eq!(garbled.stdout_text().lines().last(), Some("honest"));
}

/// A class joining at once: starts overlap (one prepares while another is built), and each
/// sandbox is its learner's alone; one owner never gets two, and a stop meeting a start of the
/// same name waits for it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_class_joining_at_once_gets_a_sandbox_each() {
    let Some(h) = common::harness("joining_at_once") else { return };
    if common::testing_docker() {
        return; // The native backend's own start path.
    }
    let h = std::sync::Arc::new(h);
    let starts: Vec<_> = (0..6)
        .map(|i| {
            let h = h.clone();
            tokio::spawn(async move { h.backend.start(&h.spec(&format!("lab-join{i}"), &format!("join{i}"))).await })
        })
        .collect();
    // The same owner under a second name, and a stop of the first name, race the class.
    let twice = {
        let h = h.clone();
        tokio::spawn(async move { h.backend.start(&h.spec("lab-join0-again", "join0")).await })
    };
    let mut results = Vec::new();
    for start in starts {
        results.push(start.await.unwrap());
    }
    let second = twice.await.unwrap();
    // join0's two starts race: whichever comes first gets the sandbox, the other is refused.
    let first = results.remove(0);
    assert!(first.is_ok() != second.is_ok(), "one of join0's starts, exactly: {first:?} / {second:?}");
    for start in results {
        start.expect("each other learner's start");
    }
    let running: Vec<String> = h.backend.running().await.unwrap().into_iter().map(|i| i.name).collect();
    let join0 = running.iter().filter(|n| n.starts_with("lab-join0")).count();
    assert_eq!(join0, 1, "one owner, one sandbox: {running:?}");
    for i in 0..6 {
        let name = format!("lab-join{i}");
        if running.contains(&name) {
            assert_eq!(h.ok(&name, "hostname").await, format!("{name}\n"));
        }
    }
    let again = h.spec("lab-join1", "join1");
    let (stop, start) = tokio::join!(h.backend.stop("lab-join1"), h.backend.start(&again));
    stop.unwrap();
    start.unwrap();
    // Whichever came second found the other's work finished: running and answering, or stopped.
    if h.backend.running().await.unwrap().iter().any(|i| i.name == "lab-join1") {
        assert_eq!(h.ok("lab-join1", "hostname").await, "lab-join1\n");
    }
}

/// A start's child is a copy (`clone3`) of a process whose other threads may hold a lock at that
/// moment; the child must need none, or it waits for it forever. glibc 2.41 (Debian 13) added one
/// to `sigaction(SIGABRT)` — the lock `abort` and `posix_spawn` take — and a start that reset its
/// signals through the C library stalled in the Debian 13 guest until its time ran out, when
/// starts were copies of the server. Here two threads of the server's keep that lock busy (one
/// asks for SIGABRT's action, one starts programs as `std` does) while commands start in a
/// sandbox. (A C library without such a lock, as on this build machine's Debian 12, cannot fail
/// this; nor can a start copied from the spawner, which has one thread. The test stays as the
/// guard of both.)
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn starts_need_no_lock_the_servers_other_threads_hold() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let Some(h) = common::harness("libc_locks") else { return };
    h.start("lab-locks").await;
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let asking = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                // SAFETY: only reads SIGABRT's action into a zeroed struct.
                unsafe {
                    let mut old: libc::sigaction = std::mem::zeroed();
                    libc::sigaction(libc::SIGABRT, std::ptr::null(), &mut old);
                }
            }
        })
    };
    let spawning = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = std::process::Command::new("true").status();
            }
        })
    };
    let mut failed = None;
    for i in 0..40 {
        match h.backend.exec("lab-locks", sandbox::ExecRequest::script("true")).await {
            Ok(out) if out.success() => {}
            other => {
                failed = Some(format!("start {i}: {other:?}"));
                break;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    asking.join().unwrap();
    spawning.join().unwrap();
    assert_eq!(failed, None);
}

/// The spawner (the small process every start into a sandbox is copied from, not the server)
/// killed between starts is replaced at the next start, which runs as if nothing had happened.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn a_spawner_that_has_gone_is_replaced() {
    // The server's limit on the spawner's answer, shortened (the test waits it out once).
    let limits = sandbox::native::StartLimits { answer: std::time::Duration::from_secs(2), ..Default::default() };
    let Some(h) = common::harness_limited("spawner_gone", limits) else { return };
    if common::testing_docker() {
        return; // The engine starts its processes.
    }
    h.start("lab-spawner").await;
    assert_eq!(h.ok("lab-spawner", "echo one").await, "one\n");
    let spawners = common::own_children_running(b"for-spawner_gone\0spawner\0");
    assert_eq!(spawners.len(), 1, "this test's one spawner, a child of the test process");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(spawners[0]), nix::sys::signal::Signal::SIGKILL).unwrap();
    // Dead (a zombie until the backend reaps it), so its socket is closed before the next start.
    let stat = format!("/proc/{}/stat", spawners[0]);
    while !std::fs::read_to_string(&stat).is_ok_and(|s| common::is_zombie(&s)) {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert_eq!(h.ok("lab-spawner", "echo two").await, "two\n");
    let again = common::own_children_running(b"for-spawner_gone\0spawner\0");
    assert_eq!(again.len(), 1, "a new spawner, and the old one reaped");
    assert_ne!(again, spawners);

    // One that hangs (stopped here) fails the start it holds after its time limit, and is
    // replaced at the next.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(again[0]), nix::sys::signal::Signal::SIGSTOP).unwrap();
    let held = h.backend.exec("lab-spawner", sandbox::ExecRequest::script("echo three")).await;
    let error = held.expect_err("a start through a stopped spawner");
    assert!(error.to_string().contains("the spawner"), "{error}");
    assert_eq!(h.ok("lab-spawner", "echo four").await, "four\n");
    let last = common::own_children_running(b"for-spawner_gone\0spawner\0");
    assert!(last.len() == 1 && last != again, "the stopped spawner killed and replaced: {last:?}");
}
