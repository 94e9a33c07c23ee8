//! Loop devices for the learners' layer images, attached with LOOP_CONFIGURE and AUTOCLEAR: the
//! device lets go of its file by itself when the last mount of it goes away (when the sandbox's
//! mount namespace dies), so nothing needs cleaning up after a crash.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

// linux/loop.h
const LOOP_CTL_GET_FREE: libc::c_ulong = 0x4C82;
const LOOP_CONFIGURE: libc::c_ulong = 0x4C0A;
const LO_FLAGS_AUTOCLEAR: u32 = 4;
const LO_NAME_SIZE: usize = 64;
const LO_KEY_SIZE: usize = 32;

#[repr(C)]
struct LoopInfo64 {
    lo_device: u64,
    lo_inode: u64,
    lo_rdevice: u64,
    lo_offset: u64,
    lo_sizelimit: u64,
    lo_number: u32,
    lo_encrypt_type: u32,
    lo_encrypt_key_size: u32,
    lo_flags: u32,
    lo_file_name: [u8; LO_NAME_SIZE],
    lo_crypt_name: [u8; LO_NAME_SIZE],
    lo_encrypt_key: [u8; LO_KEY_SIZE],
    lo_init: [u64; 2],
}

#[repr(C)]
struct LoopConfig {
    fd: u32,
    block_size: u32,
    info: LoopInfo64,
    reserved: [u64; 8],
}

/// Attaches `image` to a free loop device and returns the device's path. The returned file
/// must stay open until the device is mounted (AUTOCLEAR detaches an unused, unopened device).
pub fn attach(image: &Path) -> io::Result<(PathBuf, File)> {
    let backing = open(image)?;
    let control = open(Path::new("/dev/loop-control"))?;
    // Another process may take the device between GET_FREE and CONFIGURE: try again then.
    for _ in 0..16 {
        // SAFETY: LOOP_CTL_GET_FREE takes no argument and returns a device number.
        let number = unsafe { libc::ioctl(control.as_raw_fd(), LOOP_CTL_GET_FREE) };
        if number < 0 {
            return Err(io::Error::last_os_error());
        }
        let (path, device) = open_device(number as u64)?;
        let mut name = [0u8; LO_NAME_SIZE];
        let bytes = image.as_os_str().as_encoded_bytes();
        let n = bytes.len().min(LO_NAME_SIZE - 1);
        name[..n].copy_from_slice(&bytes[..n]);
        let config = LoopConfig {
            fd: backing.as_raw_fd() as u32,
            block_size: 0,
            info: LoopInfo64 {
                lo_device: 0,
                lo_inode: 0,
                lo_rdevice: 0,
                lo_offset: 0,
                lo_sizelimit: 0,
                lo_number: 0,
                lo_encrypt_type: 0,
                lo_encrypt_key_size: 0,
                lo_flags: LO_FLAGS_AUTOCLEAR,
                lo_file_name: name,
                lo_crypt_name: [0; LO_NAME_SIZE],
                lo_encrypt_key: [0; LO_KEY_SIZE],
                lo_init: [0; 2],
            },
            reserved: [0; 8],
        };
        // SAFETY: LOOP_CONFIGURE reads one `loop_config`, laid out as in linux/loop.h.
        let rc = unsafe { libc::ioctl(device.as_raw_fd(), LOOP_CONFIGURE, &config as *const LoopConfig) };
        if rc == 0 {
            return Ok((path, device));
        }
        let err = io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EBUSY) {
            return Err(err);
        }
    }
    Err(io::Error::other("no free loop device after 16 attempts"))
}

/// Opens `/dev/loopN`, making the node first where `/dev` lacks it: a container's `/dev` (the
/// server's image run `--privileged`) holds only the devices there when it started, while the
/// kernel adds loop devices as LOOP_CTL_GET_FREE asks for them.
fn open_device(number: u64) -> io::Result<(PathBuf, File)> {
    use nix::sys::stat::{Mode, SFlag, makedev, mknod};
    const LOOP_MAJOR: u64 = 7;
    let path = PathBuf::from(format!("/dev/loop{number}"));
    if !path.exists() {
        match mknod(&path, SFlag::S_IFBLK, Mode::from_bits_truncate(0o660), makedev(LOOP_MAJOR, number)) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(io::Error::other(format!("making {}: {e}", path.display()))),
        }
    }
    Ok((path.clone(), open(&path)?))
}

/// Opens `path` to read and write; an error names it.
fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).open(path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))
}

/// Whether a loop device may still hold `image` (a layer still attached from a sandbox whose
/// mount namespace is being torn down must not be mounted a second time). A device holds its
/// backing file open for writing, and the kernel grants a write lease only on a file nobody
/// else has open: granted, no device has it, found in a few microseconds. Otherwise (the lease
/// refused, or leases unsupported there) every loop device is asked, which reads a sysfs file
/// per device — milliseconds once a class has a few hundred, and it was at every start.
pub fn in_use(image: &Path) -> bool {
    match nobody_else_has_open(image) {
        Ok(true) => false,
        Ok(false) | Err(_) => !users_of(image).is_empty(),
    }
}

/// Whether `path` is open nowhere but here: a write lease taken (and given back at once).
fn nobody_else_has_open(path: &Path) -> io::Result<bool> {
    let file = File::open(path)?;
    // SAFETY: fcntl on our own descriptor with integer arguments.
    let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_WRLCK) };
    if rc == 0 {
        // SAFETY: as above; closing the file would give the lease back too.
        unsafe { libc::fcntl(file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK) };
        return Ok(true);
    }
    match io::Error::last_os_error() {
        e if e.raw_os_error() == Some(libc::EAGAIN) => Ok(false),
        e => Err(e),
    }
}

/// The loop devices whose backing file is `image`.
pub fn users_of(image: &Path) -> Vec<String> {
    let Ok(canonical) = image.canonicalize() else { return Vec::new() };
    let mut devices = Vec::new();
    for entry in std::fs::read_dir("/sys/block").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("loop") {
            continue;
        }
        if let Ok(backing) = std::fs::read_to_string(entry.path().join("loop/backing_file"))
            && Path::new(backing.trim()) == canonical
        {
            devices.push(name);
        }
    }
    devices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_open_for_writing_elsewhere_refuses_the_lease() {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("layer.img");
        std::fs::write(&image, b"ext4").unwrap();
        assert!(nobody_else_has_open(&image).unwrap(), "a file nobody has open");
        // As a loop device holds its backing file.
        let held = OpenOptions::new().read(true).write(true).open(&image).unwrap();
        assert!(!nobody_else_has_open(&image).unwrap(), "held open for writing");
        drop(held);
        assert!(nobody_else_has_open(&image).unwrap(), "let go");
        assert!(!in_use(&image));
    }

    #[test]
    fn struct_sizes_match_the_kernel() {
        assert_eq!(std::mem::size_of::<LoopInfo64>(), 232);
        assert_eq!(std::mem::size_of::<LoopConfig>(), 304);
    }
}
