//! What an operator's host looks like, as opposed to a build machine: a data directory made the
//! careful way (`install -d -m 0700`, systemd's `StateDirectoryMode=0700`, below a parent as
//! closed) and a strict umask. Sandboxes must work all the same: their roots are unprivileged
//! host uids, which can walk none of it. A test of its own, because the umask is the process's.

mod common;

use std::os::unix::fs::PermissionsExt;

use sandbox::Backend;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs root and the lab image: run with --include-ignored (scripts/test does)"]
async fn sandboxes_work_under_a_closed_data_directory_and_a_strict_umask() {
    // SAFETY: umask only sets this process's file creation mask.
    let before = unsafe { libc::umask(0o077) };
    let outer = tempfile::Builder::new().prefix("stacklab-host-").tempdir().unwrap();
    let lib = outer.path().join("var/lib");
    std::fs::create_dir_all(&lib).unwrap();
    let data = tempfile::Builder::new().prefix("stacklab-").tempdir_in(&lib).unwrap();
    for dir in [outer.path(), &lib, data.path()] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let Some(h) = common::harness_in("host-setup", None, data) else {
        // SAFETY: umask only sets the process's mask; this puts back the one read above.
        unsafe { libc::umask(before) };
        return;
    };
    let spec = h.start("careful").await;
    let out = h.ok("careful", "cat /proc/1/comm; id -u; echo kept > /root/notes.txt; mkdir /sys/fs/cgroup/mine && echo made").await;
    assert_eq!(out, "catatonit\n0\nmade\n");
    // The learner's files survive a stop and a start.
    h.backend.stop("careful").await.unwrap();
    h.backend.start(&spec).await.unwrap();
    assert_eq!(h.ok("careful", "cat /root/notes.txt").await, "kept\n");
    drop(h);
    // SAFETY: as above.
    unsafe { libc::umask(before) };
}
