//! Where a process that should have moved on waits, for the log: its state, where in the kernel,
//! and where in user space — the program counter of its system call, the address that call was
//! given (a futex's is the lock's), and the words at the top of its stack that point into code,
//! each as `file+0xoffset` (`addr2line -e file` reads them back). Read from `/proc` as the
//! server's root; best effort: whatever cannot be read is left out.

use std::fmt::Write as _;
use std::os::unix::fs::FileExt;

/// How much of the stack's top is searched for return addresses.
const STACK_BYTES: usize = 4096;

/// One mapping of `/proc/PID/maps`: its addresses, file offset, whether it is code, its file.
struct Mapping {
    start: u64,
    end: u64,
    offset: u64,
    code: bool,
    file: String,
}

fn mappings(maps: &str) -> Vec<Mapping> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (range, perms, offset) = (fields.next()?, fields.next()?, fields.next()?);
            let file = fields.nth(2).unwrap_or("[anonymous]").to_string();
            let (start, end) = range.split_once('-')?;
            Some(Mapping {
                start: u64::from_str_radix(start, 16).ok()?,
                end: u64::from_str_radix(end, 16).ok()?,
                offset: u64::from_str_radix(offset, 16).ok()?,
                code: perms.contains('x'),
                file,
            })
        })
        .collect()
}

/// The mapping that holds `addr`.
fn mapping(maps: &[Mapping], addr: u64) -> Option<&Mapping> {
    maps.iter().find(|m| (m.start..m.end).contains(&addr))
}

impl Mapping {
    /// `addr`, which this mapping holds, as `file+0xoffset`.
    fn place(&self, addr: u64) -> String {
        format!("{}+{:#x}", self.file, addr - self.start + self.offset)
    }
}

/// `addr` as `file+0xoffset` if a mapping holds it.
fn place(maps: &[Mapping], addr: u64) -> Option<String> {
    mapping(maps, addr).map(|m| m.place(addr))
}

fn hex(field: &str) -> Option<u64> {
    u64::from_str_radix(field.trim_start_matches("0x"), 16).ok()
}

/// Everything this module tells about process `pid`, on one line.
pub fn describe(pid: i32) -> String {
    let read = |file: &str| std::fs::read_to_string(format!("/proc/{pid}/{file}")).unwrap_or_default();
    let state = super::sys::stat_field(pid, 3).unwrap_or_else(|_| "?".into());
    let stack = read("stack");
    let kernel: Vec<&str> = stack.lines().filter_map(|l| l.split_whitespace().nth(1)).collect();
    let mut out = format!("state {state}, wchan {}, kernel stack {}", read("wchan"), kernel.join(" < "));
    out.push_str(&user_space(pid, &read("syscall"), &read("maps")));
    out
}

/// The user-space part of `describe`: `syscall` is `/proc/PID/syscall` ("nr a1 … a6 sp pc"
/// while in a system call), `maps` its `/proc/PID/maps`.
fn user_space(pid: i32, syscall: &str, maps: &str) -> String {
    let fields: Vec<&str> = syscall.split_whitespace().collect();
    let maps = mappings(maps);
    let [nr, arg1, .., sp, pc] = fields.as_slice() else {
        return format!("; not in a system call ({})", syscall.trim());
    };
    let mut out = format!("; system call {nr}");
    let _ = write!(out, ", first argument {arg1} ({})", hex(arg1).and_then(|a| place(&maps, a)).unwrap_or_default());
    let _ = write!(out, ", at {}", hex(pc).and_then(|a| place(&maps, a)).unwrap_or_else(|| pc.to_string()));
    let (Some(sp), Ok(mem)) = (hex(sp), std::fs::File::open(format!("/proc/{pid}/mem"))) else {
        return out;
    };
    let mut stack = vec![0u8; STACK_BYTES];
    let Ok(got) = mem.read_at(&mut stack, sp) else {
        return out;
    };
    let returns: Vec<String> = stack[..got]
        .chunks_exact(8)
        .filter_map(|w| {
            let addr = u64::from_ne_bytes(w.try_into().ok()?);
            mapping(&maps, addr).filter(|m| m.code).map(|m| m.place(addr))
        })
        .collect();
    let _ = write!(out, "; code addresses on its stack, top first: {}", returns.join(" "));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
55d0c0000000-55d0c0100000 r--p 00000000 fd:01 1234 /usr/bin/stacklab
55d0c0100000-55d0c0500000 r-xp 00100000 fd:01 1234 /usr/bin/stacklab
7f0000000000-7f0000021000 rw-p 00000000 00:00 0
7f1000000000-7f1000100000 r-xp 00028000 fd:01 99 /usr/lib/x86_64-linux-gnu/libc.so.6
";

    #[test]
    fn addresses_are_told_as_file_and_offset() {
        let maps = mappings(MAPS);
        assert_eq!(maps.len(), 4);
        assert_eq!(place(&maps, 0x55d0c0100010).as_deref(), Some("/usr/bin/stacklab+0x100010"));
        assert_eq!(place(&maps, 0x7f1000000100).as_deref(), Some("/usr/lib/x86_64-linux-gnu/libc.so.6+0x28100"));
        assert_eq!(place(&maps, 0x7f0000000008).as_deref(), Some("[anonymous]+0x8"));
        assert_eq!(place(&maps, 0x10), None);
    }

    #[test]
    fn a_process_outside_a_system_call_says_so() {
        assert!(user_space(1, "running", MAPS).contains("not in a system call (running)"));
        let told = user_space(-1, "202 0x7f0000000010 0x80 0x2 0x0 0x0 0x0 0x7ffd00000000 0x7f1000000100", MAPS);
        assert!(told.contains("system call 202, first argument 0x7f0000000010 ([anonymous]+0x10)"), "{told}");
        assert!(told.contains("at /usr/lib/x86_64-linux-gnu/libc.so.6+0x28100"), "{told}");
    }

    #[test]
    fn a_sleeping_child_is_found_in_its_system_call() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        // Until it sleeps it may still be loading: wait for its clock_nanosleep (230).
        let mut told = String::new();
        for _ in 0..1000 {
            told = describe(child.id() as i32);
            if told.contains("system call 230,") {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(told.contains("system call 230,"), "{told}");
        assert!(told.contains("at /") && told.contains("libc.so.6+0x"), "{told}");
        assert!(told.contains("sleep+0x"), "the caller in sleep is on its stack: {told}");
    }
}
