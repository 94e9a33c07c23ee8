//! The learner's writable layer: an ext4 image file (so a full disk is the learner's problem,
//! not the host's) or, with no disk limit, a plain directory. Each owner also gets a slot: the
//! host uid range their sandbox's root maps to, fixed for the life of their files because the
//! files are owned by it.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Ids per sandbox (root inside = the first).
pub const IDS_PER_SLOT: u32 = 65536;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LayerKind {
    /// An ext4 image mounted through a loop device; `upper` and `work` live inside it.
    Image(PathBuf),
    /// A directory holding `upper` and `work`.
    Dir(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    pub kind: LayerKind,
    /// Host uid (and gid) of the sandbox's root.
    pub uid: u32,
}

pub struct Layers {
    dir: PathBuf,
    uid_base: u32,
    /// The slots given out, read from the owners' files at the first new owner: a class joining
    /// at once would otherwise read every earlier learner's file for each new one.
    slots: Mutex<Option<BTreeSet<u32>>>,
    templates: Mutex<()>,
}

impl Layers {
    pub fn new(dir: PathBuf, uid_base: u32) -> Self {
        Self { dir, uid_base, slots: Mutex::new(None), templates: Mutex::new(()) }
    }

    fn owner_dir(&self, owner: &str) -> PathBuf {
        self.dir.join(owner)
    }

    /// The owner's layer, made on first use (an ext4 image of `disk_bytes`, or a directory when
    /// `disk_bytes` is 0).
    pub fn prepare(&self, owner: &str, disk_bytes: u64) -> io::Result<Layer> {
        let dir = self.owner_dir(owner);
        fs::create_dir_all(&dir)?;
        let uid = self.uid_base + self.slot(owner)? * IDS_PER_SLOT;
        let image = dir.join("layer.ext4");
        let plain = dir.join("layer");
        if image.exists() {
            return Ok(Layer { kind: LayerKind::Image(image), uid });
        }
        if disk_bytes == 0 || plain.exists() {
            for sub in ["", "upper", "work"] {
                let p = plain.join(sub);
                fs::create_dir_all(&p)?;
                std::os::unix::fs::chown(&p, Some(uid), Some(uid))?;
            }
            return Ok(Layer { kind: LayerKind::Dir(plain), uid });
        }
        let template = self.template(disk_bytes)?;
        let tmp = image.with_extension("tmp");
        copy_sparse(&template, &tmp).and_then(|()| fs::rename(&tmp, &image)).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })?;
        Ok(Layer { kind: LayerKind::Image(image), uid })
    }

    /// An empty ext4 image of `bytes`, formatted once and copied for each new learner: mkfs
    /// takes some 15 ms of a core, the copy of its few written blocks well under one, and a class
    /// joining at once makes one layer after another. The copy's root directory still belongs to
    /// host root; the helper gives it to the learner at its first mount (`builder::mount_layer`).
    /// Every copy shares the template's filesystem UUID, which ext4 does not mind.
    fn template(&self, bytes: u64) -> io::Result<PathBuf> {
        let _guard = self.templates.lock().unwrap_or_else(|p| p.into_inner());
        let template = self.dir.join(format!(".template-{bytes}.ext4"));
        if !template.exists() {
            make_ext4(&template, bytes)?;
        }
        Ok(template)
    }

    /// Deletes the owner's files (the slot stays theirs).
    pub fn wipe(&self, owner: &str) -> io::Result<()> {
        let dir = self.owner_dir(owner);
        for name in ["layer.ext4", "layer"] {
            let path = dir.join(name);
            if path.is_dir() {
                fs::remove_dir_all(&path)?;
            } else if path.exists() {
                fs::remove_file(&path)?;
            }
        }
        Ok(())
    }

    /// The owner's slot, allocated (lowest free) the first time.
    fn slot(&self, owner: &str) -> io::Result<u32> {
        let mut known = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let file = self.owner_dir(owner).join("slot");
        if let Ok(text) = fs::read_to_string(&file) {
            return text.trim().parse().map_err(|_| io::Error::other(format!("{} is corrupt", file.display())));
        }
        let used = match &mut *known {
            Some(used) => used,
            None => known.insert(
                fs::read_dir(&self.dir)?
                    .flatten()
                    .filter_map(|e| fs::read_to_string(e.path().join("slot")).ok())
                    .filter_map(|t| t.trim().parse().ok())
                    .collect(),
            ),
        };
        let max_slots = (u32::MAX - self.uid_base) / IDS_PER_SLOT;
        let slot = (0..max_slots).find(|s| !used.contains(s)).ok_or_else(|| io::Error::other("no free uid slot"))?;
        let tmp = file.with_extension("tmp");
        fs::write(&tmp, slot.to_string())?;
        fs::rename(&tmp, &file)?;
        used.insert(slot);
        Ok(slot)
    }
}

/// A sparse ext4 image of `bytes`; `upper` and `work` are made inside at the first mount (by the
/// helper).
fn make_ext4(image: &Path, bytes: u64) -> io::Result<()> {
    let tmp = image.with_extension("tmp");
    let file = fs::File::create(&tmp)?;
    file.set_len(bytes)?;
    drop(file);
    let output = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-m", "0", "-L", "stacklab-layer"])
        .args(["-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard"])
        .arg(&tmp)
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("running mkfs.ext4 (e2fsprogs): {e}")))?;
    if !output.status.success() {
        let _ = fs::remove_file(&tmp);
        return Err(io::Error::other(format!("mkfs.ext4 {} failed: {}", tmp.display(), String::from_utf8_lossy(&output.stderr).trim())));
    }
    fs::rename(&tmp, image)
}

/// Copies `from` to a new file `to` of the same length, writing only its data and leaving its
/// holes holes (a 4 GiB layer holds a few MiB of metadata).
fn copy_sparse(from: &Path, to: &Path) -> io::Result<()> {
    let source = fs::File::open(from)?;
    let target = fs::OpenOptions::new().write(true).create_new(true).open(to)?;
    let length = source.metadata()?.len();
    target.set_len(length)?;
    let (fd_in, fd_out) = (source.as_raw_fd(), target.as_raw_fd());
    let mut at: i64 = 0;
    while (at as u64) < length {
        // SAFETY: lseek on a file descriptor we own; no memory is passed.
        let data = unsafe { libc::lseek(fd_in, at, libc::SEEK_DATA) };
        if data < 0 {
            let e = io::Error::last_os_error();
            // ENXIO: no data past `at`, the rest is a hole; what was copied is still synced below.
            if e.raw_os_error() == Some(libc::ENXIO) {
                break;
            }
            return Err(e);
        }
        // SAFETY: as above.
        let hole = unsafe { libc::lseek(fd_in, data, libc::SEEK_HOLE) };
        if hole < 0 {
            return Err(io::Error::last_os_error());
        }
        let (mut off_in, mut off_out) = (data, data);
        while off_in < hole {
            // SAFETY: both descriptors are open files we own; the offsets are ours to update.
            let n = unsafe { libc::copy_file_range(fd_in, &mut off_in, fd_out, &mut off_out, (hole - off_in) as usize, 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            if n == 0 {
                return Err(io::Error::other(format!("{} ended while being copied", from.display())));
            }
        }
        at = hole;
    }
    target.sync_data()
}

#[cfg(test)]
mod tests {
    use std::io::{Seek, SeekFrom, Write};
    use std::os::unix::fs::MetadataExt;

    use super::*;

    #[test]
    fn a_sparse_copy_has_the_same_bytes_and_keeps_the_holes() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        let mut file = fs::File::create(&from).unwrap();
        file.set_len(64 << 20).unwrap();
        for (at, text) in [(0, "superblock"), (20 << 20, "a table in the middle"), ((64 << 20) - 5, "tail.")] {
            file.seek(SeekFrom::Start(at)).unwrap();
            file.write_all(text.as_bytes()).unwrap();
        }
        drop(file);
        copy_sparse(&from, &to).unwrap();
        assert_eq!(fs::read(&from).unwrap(), fs::read(&to).unwrap());
        let blocks = fs::metadata(&to).unwrap().blocks();
        assert!(blocks * 512 < 1 << 20, "{blocks} blocks written for 3 short runs of data");
    }

    #[test]
    fn a_copy_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let (from, to) = (dir.path().join("from"), dir.path().join("to"));
        fs::write(&from, "new").unwrap();
        fs::write(&to, "a learner's files").unwrap();
        assert!(copy_sparse(&from, &to).is_err());
        assert_eq!(fs::read_to_string(&to).unwrap(), "a learner's files");
    }

    #[test]
    fn each_new_owner_gets_an_ext4_copied_from_one_template() {
        if Command::new("mkfs.ext4").arg("-V").output().is_err() {
            return eprintln!("skipped: no mkfs.ext4 (e2fsprogs)");
        }
        let dir = tempfile::tempdir().unwrap();
        let layers = Layers::new(dir.path().to_path_buf(), 1_000_000);
        let ada = layers.prepare("ada", 32 << 20).unwrap();
        let bob = layers.prepare("bob", 32 << 20).unwrap();
        let (LayerKind::Image(a), LayerKind::Image(b)) = (&ada.kind, &bob.kind) else { panic!("{ada:?} {bob:?}") };
        let magic = |p: &Path| fs::read(p).unwrap()[1080..1082].to_vec();
        assert_eq!(magic(a), [0x53, 0xef], "ext4's magic in the superblock");
        assert_eq!(fs::read(a).unwrap(), fs::read(b).unwrap());
        assert_ne!(ada.uid, bob.uid);
        let templates: Vec<_> =
            fs::read_dir(dir.path()).unwrap().flatten().filter(|e| e.file_name().to_string_lossy().starts_with(".template")).collect();
        assert_eq!(templates.len(), 1);
        // Made once: the second learner's is the same file, not made again.
        assert_eq!(layers.prepare("ada", 32 << 20).unwrap(), ada);
    }

    #[test]
    fn slots_are_the_lowest_free_and_outlive_the_server() {
        if Command::new("mkfs.ext4").arg("-V").output().is_err() {
            return eprintln!("skipped: no mkfs.ext4 (e2fsprogs)");
        }
        let dir = tempfile::tempdir().unwrap();
        let base = 1_000_000;
        let uid = |layers: &Layers, owner: &str| (layers.prepare(owner, 32 << 20).unwrap().uid - base) / IDS_PER_SLOT;
        let first = Layers::new(dir.path().to_path_buf(), base);
        assert_eq!([uid(&first, "ada"), uid(&first, "bob"), uid(&first, "cy")], [0, 1, 2]);
        // A slot file gone by hand (its owner's folder deleted): the next new owner takes it.
        fs::remove_dir_all(dir.path().join("bob")).unwrap();
        // A new server on the same folder reads the slots given before, once.
        let second = Layers::new(dir.path().to_path_buf(), base);
        assert_eq!(uid(&second, "cy"), 2);
        assert_eq!(uid(&second, "dee"), 1);
        assert_eq!(uid(&second, "eve"), 3);
        assert_eq!(uid(&second, "ada"), 0);
    }
}
