//! The tier devices (kvm, tun, fuse) as the sandbox's root can open them. The host's nodes are
//! often `root:kvm 0660`, which the sandbox's root (an unprivileged host uid) cannot open, and
//! the server must not loosen the host's own `/dev`. So it makes its own nodes for the same
//! devices, mode 0666, in a directory only root can enter (`<data>/native/devices`, 0700), and
//! sandboxes get those bound at the usual path. Where the data directory is mounted `nodev`,
//! nodes there cannot be opened and the host's are used as they are.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{Mode, SFlag, mknod};

use crate::spec::Device;

const ALL: [Device; 3] = [Device::Kvm, Device::Tun, Device::Fuse];

/// Each device this host has, with the node sandboxes get for it.
pub fn prepare(dir: &Path) -> std::io::Result<Vec<(Device, PathBuf)>> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    let nodev = nix::sys::statvfs::statvfs(dir).map(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_NODEV)).unwrap_or(true);
    let mut nodes = Vec::new();
    for device in ALL {
        let host = Path::new(device.path());
        let Ok(meta) = std::fs::metadata(host) else { continue };
        if nodev {
            nodes.push((device, host.to_path_buf()));
            continue;
        }
        let ours = dir.join(host.file_name().unwrap_or_default());
        let current = std::fs::metadata(&ours).is_ok_and(|m| m.rdev() == meta.rdev() && m.mode() & 0o7777 == 0o666);
        if !current {
            let _ = std::fs::remove_file(&ours);
            mknod(&ours, SFlag::S_IFCHR, Mode::from_bits_truncate(0o666), meta.rdev())?;
            // mknod's mode passed through the umask.
            std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o666))?;
        }
        nodes.push((device, ours));
    }
    Ok(nodes)
}
