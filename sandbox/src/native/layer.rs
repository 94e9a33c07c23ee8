//! The learner's writable layer: an ext4 image file (so a full disk is the learner's problem,
//! not the host's) or, with no disk limit, a plain directory. Each owner also gets a slot: the
//! host uid range their sandbox's root maps to, fixed for the life of their files because the
//! files are owned by it.

use std::collections::BTreeSet;
use std::fs;
use std::io;
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
    slots: Mutex<()>,
}

impl Layers {
    pub fn new(dir: PathBuf, uid_base: u32) -> Self {
        Self { dir, uid_base, slots: Mutex::new(()) }
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
        make_ext4(&image, disk_bytes, uid)?;
        Ok(Layer { kind: LayerKind::Image(image), uid })
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
        let _guard = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let file = self.owner_dir(owner).join("slot");
        if let Ok(text) = fs::read_to_string(&file) {
            return text.trim().parse().map_err(|_| io::Error::other(format!("{} is corrupt", file.display())));
        }
        let used: BTreeSet<u32> = fs::read_dir(&self.dir)?
            .flatten()
            .filter_map(|e| fs::read_to_string(e.path().join("slot")).ok())
            .filter_map(|t| t.trim().parse().ok())
            .collect();
        let max_slots = (u32::MAX - self.uid_base) / IDS_PER_SLOT;
        let slot = (0..max_slots).find(|s| !used.contains(s)).ok_or_else(|| io::Error::other("no free uid slot"))?;
        let tmp = file.with_extension("tmp");
        fs::write(&tmp, slot.to_string())?;
        fs::rename(&tmp, &file)?;
        Ok(slot)
    }
}

/// A sparse ext4 image whose root directory belongs to the sandbox's root, with `upper` and
/// `work` made inside at the first mount (by the helper).
fn make_ext4(image: &Path, bytes: u64, uid: u32) -> io::Result<()> {
    let tmp = image.with_extension("tmp");
    let file = fs::File::create(&tmp)?;
    file.set_len(bytes)?;
    drop(file);
    let output = Command::new("mkfs.ext4")
        .args(["-q", "-F", "-m", "0", "-L", "stacklab-layer"])
        .arg("-E")
        .arg(format!("root_owner={uid}:{uid},lazy_itable_init=1,lazy_journal_init=1,nodiscard"))
        .arg(&tmp)
        .output()
        .map_err(|e| io::Error::new(e.kind(), format!("running mkfs.ext4 (e2fsprogs): {e}")))?;
    if !output.status.success() {
        let _ = fs::remove_file(&tmp);
        return Err(io::Error::other(format!("mkfs.ext4 {} failed: {}", tmp.display(), String::from_utf8_lossy(&output.stderr).trim())));
    }
    fs::rename(&tmp, image)
}
