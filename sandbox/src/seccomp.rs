//! The system calls a sandbox is refused. A learner is root in their user namespace, where the
//! kernel allows much that no lab needs and that has been the door of many escapes: BPF
//! programs, io_uring, userfaultfd, the kernel keyring, perf events, AF_VSOCK sockets (on a VM
//! host they reach the hypervisor's services). Everything else stays allowed, as the labs need
//! it (unshare, setns, mount in the user namespace, clone of namespaces, KVM's ioctls, ptrace
//! in the sandbox's own pid namespace). Like Docker's default profile, but a deny list: the
//! workshop's demos are the kernel's own namespace and cgroup tools.
//!
//! One list serves both backends: the native one installs it as a classic BPF filter on the
//! sandbox's init and on every process the server starts inside; the Docker backend hands the
//! engine the same list as a seccomp profile.

use std::io;

/// `socket(2)`'s address family refused.
const AF_VSOCK: u32 = 40;

/// A refused call: its name (for Docker's profile) and number, and the errno it gets.
#[derive(Clone, Copy, Debug)]
pub struct Refused {
    pub name: &'static str,
    pub nr: libc::c_long,
    pub errno: i32,
}

const fn refuse(name: &'static str, nr: libc::c_long) -> Refused {
    Refused { name, nr, errno: libc::EPERM }
}

/// The kernel keyring answers "not implemented", as on a kernel built without keys: container
/// runtimes inside a sandbox (Podman's crun, the cluster's runc) go on without a session keyring
/// then, while a refusal stops them.
const fn absent(name: &'static str, nr: libc::c_long) -> Refused {
    Refused { name, nr, errno: libc::ENOSYS }
}

/// The refused calls.
pub fn refused() -> Vec<Refused> {
    let mut list = vec![
        refuse("bpf", libc::SYS_bpf),
        refuse("userfaultfd", libc::SYS_userfaultfd),
        refuse("io_uring_setup", libc::SYS_io_uring_setup),
        refuse("io_uring_enter", libc::SYS_io_uring_enter),
        refuse("io_uring_register", libc::SYS_io_uring_register),
        refuse("perf_event_open", libc::SYS_perf_event_open),
        refuse("kexec_load", libc::SYS_kexec_load),
        refuse("kexec_file_load", libc::SYS_kexec_file_load),
        refuse("init_module", libc::SYS_init_module),
        refuse("finit_module", libc::SYS_finit_module),
        refuse("delete_module", libc::SYS_delete_module),
        refuse("open_by_handle_at", libc::SYS_open_by_handle_at),
        refuse("fanotify_init", libc::SYS_fanotify_init),
        refuse("acct", libc::SYS_acct),
        refuse("swapon", libc::SYS_swapon),
        refuse("swapoff", libc::SYS_swapoff),
        refuse("syslog", libc::SYS_syslog),
        refuse("quotactl", libc::SYS_quotactl),
        absent("add_key", libc::SYS_add_key),
        absent("keyctl", libc::SYS_keyctl),
        absent("request_key", libc::SYS_request_key),
    ];
    #[cfg(target_arch = "x86_64")]
    list.extend([
        refuse("uselib", libc::SYS_uselib),
        refuse("iopl", libc::SYS_iopl),
        refuse("ioperm", libc::SYS_ioperm),
        refuse("lookup_dcookie", libc::SYS_lookup_dcookie),
    ]);
    list
}

#[cfg(target_arch = "x86_64")]
const ARCH: u32 = 0xc000_003e; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const ARCH: u32 = 0xc000_00b7; // AUDIT_ARCH_AARCH64
#[cfg(target_arch = "x86_64")]
const DOCKER_ARCH: &str = "SCMP_ARCH_X86_64";
#[cfg(target_arch = "aarch64")]
const DOCKER_ARCH: &str = "SCMP_ARCH_AARCH64";

// Classic BPF, as seccomp(2) takes it.
const LD_W_ABS: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const JEQ_K: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const JGE_K: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const RET_K: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
// Offsets in `struct seccomp_data`: nr, arch, then (after the instruction pointer) the
// arguments; the low half of an argument comes first on little-endian machines.
const NR: u32 = 0;
const ARCH_AT: u32 = 4;
const ARG0_LOW: u32 = 16;

fn stmt(code: u16, k: u32) -> libc::sock_filter {
    libc::sock_filter { code, jt: 0, jf: 0, k }
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code, jt, jf, k }
}

fn ret_errno(errno: i32) -> libc::sock_filter {
    stmt(RET_K, libc::SECCOMP_RET_ERRNO | (errno as u32 & libc::SECCOMP_RET_DATA))
}

/// The filter, made once before any fork (installing it then allocates nothing).
pub struct Filter(Vec<libc::sock_filter>);

impl Filter {
    pub fn new() -> Self {
        let mut program = vec![
            // Another architecture's calls (i386's int 0x80 on x86_64) have other numbers: none.
            stmt(LD_W_ABS, ARCH_AT),
            jump(JEQ_K, ARCH, 1, 0),
            ret_errno(libc::ENOSYS),
            stmt(LD_W_ABS, NR),
        ];
        #[cfg(target_arch = "x86_64")]
        program.extend([
            // The x32 ABI's numbers (bit 30 set) would be the same calls under other numbers.
            jump(JGE_K, 0x4000_0000, 0, 1),
            ret_errno(libc::ENOSYS),
        ]);
        for call in refused() {
            program.extend([jump(JEQ_K, call.nr as u32, 0, 1), ret_errno(call.errno)]);
        }
        program.extend([
            jump(JEQ_K, libc::SYS_socket as u32, 0, 3),
            stmt(LD_W_ABS, ARG0_LOW),
            jump(JEQ_K, AF_VSOCK, 0, 1),
            ret_errno(libc::EPERM),
            stmt(RET_K, libc::SECCOMP_RET_ALLOW),
        ]);
        Self(program)
    }

    /// Installs the filter on this process (and so on everything it starts). Async-signal-safe:
    /// one `prctl`. Needs CAP_SYS_ADMIN in the current user namespace (the sandbox's root has
    /// it there; the server has it on the host), so `no_new_privs` stays off and `sudo` works.
    pub fn install(&self) -> io::Result<()> {
        let program = libc::sock_fprog { len: self.0.len() as u16, filter: self.0.as_ptr().cast_mut() };
        // SAFETY: the kernel copies the program during the call; `program` points into `self`.
        let rc = unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program as *const libc::sock_fprog) };
        if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
    }
}

impl Default for Filter {
    fn default() -> Self {
        Self::new()
    }
}

/// The filter, built once: every command the server starts in a sandbox installs it.
pub fn filter() -> &'static Filter {
    static FILTER: std::sync::OnceLock<Filter> = std::sync::OnceLock::new();
    FILTER.get_or_init(Filter::new)
}

/// The same refusals as a Docker seccomp profile (the engine's JSON format).
pub fn docker_profile() -> String {
    let mut rules: Vec<serde_json::Value> = Vec::new();
    for errno in [libc::EPERM, libc::ENOSYS] {
        let names: Vec<&str> = refused().iter().filter(|c| c.errno == errno).map(|c| c.name).collect();
        rules.push(serde_json::json!({ "names": names, "action": "SCMP_ACT_ERRNO", "errnoRet": errno }));
    }
    rules.push(serde_json::json!({
        "names": ["socket"],
        "action": "SCMP_ACT_ERRNO",
        "errnoRet": libc::EPERM,
        "args": [{ "index": 0, "value": AF_VSOCK, "op": "SCMP_CMP_EQ" }],
    }));
    serde_json::json!({ "defaultAction": "SCMP_ACT_ALLOW", "architectures": [DOCKER_ARCH], "syscalls": rules }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the filter over `data` as the kernel would (the few instructions it uses).
    fn verdict(filter: &Filter, data: [u32; 6]) -> u32 {
        let mut acc = 0u32;
        let mut pc = 0usize;
        loop {
            let i = filter.0[pc];
            pc += 1;
            match i.code {
                LD_W_ABS => acc = data[i.k as usize / 4],
                JEQ_K => pc += usize::from(if acc == i.k { i.jt } else { i.jf }),
                JGE_K => pc += usize::from(if acc >= i.k { i.jt } else { i.jf }),
                RET_K => return i.k,
                other => panic!("instruction {other:#x}"),
            }
        }
    }

    /// seccomp_data as words: nr, arch, ip (2 words), arg0 (low, high).
    fn call(nr: libc::c_long, arg0: u32) -> [u32; 6] {
        [nr as u32, ARCH, 0, 0, arg0, 0]
    }

    #[test]
    fn refuses_the_list_and_allows_the_rest() {
        let f = Filter::new();
        let allow = libc::SECCOMP_RET_ALLOW;
        let eperm = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!(verdict(&f, call(libc::SYS_bpf, 0)), eperm);
        assert_eq!(verdict(&f, call(libc::SYS_io_uring_setup, 0)), eperm);
        assert_eq!(verdict(&f, call(libc::SYS_keyctl, 0)), enosys);
        for nr in [libc::SYS_unshare, libc::SYS_setns, libc::SYS_mount, libc::SYS_clone, libc::SYS_ioctl, libc::SYS_ptrace] {
            assert_eq!(verdict(&f, call(nr, 0)), allow, "syscall {nr}");
        }
        assert_eq!(verdict(&f, call(libc::SYS_socket, AF_VSOCK)), eperm);
        assert_eq!(verdict(&f, call(libc::SYS_socket, libc::AF_INET as u32)), allow);
        assert_eq!(verdict(&f, [libc::SYS_getpid as u32, 0x4000_0003, 0, 0, 0, 0]), enosys, "another architecture");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(verdict(&f, call(0x4000_0000 | libc::SYS_bpf, 0)), enosys, "the x32 ABI");
    }

    #[test]
    fn jumps_stay_in_the_program() {
        let f = Filter::new();
        for (at, i) in f.0.iter().enumerate().filter(|(_, i)| i.code != RET_K) {
            assert!(at + 1 + usize::from(i.jt.max(i.jf)) < f.0.len(), "instruction {at}");
        }
        assert!(f.0.len() < 4096);
        assert_eq!(f.0.last().unwrap().code, RET_K, "the program ends in a verdict");
    }

    #[test]
    fn the_docker_profile_names_every_call() {
        let profile: serde_json::Value = serde_json::from_str(&docker_profile()).unwrap();
        let named = profile["syscalls"].as_array().unwrap().iter().flat_map(|r| r["names"].as_array().unwrap().clone()).count();
        assert_eq!(named, refused().len() + 1);
    }
}
