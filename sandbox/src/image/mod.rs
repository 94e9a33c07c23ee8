//! The lab image: a read-only Debian root filesystem every sandbox starts from, built by the
//! project from Debian's packages (`build`), and checked before use (`LabImage::open`).
//!
//! An image folder holds `rootfs/` and `image.json`; `image.json` is written last, so a folder
//! without it is an interrupted build, and it lists essential files with their sizes so a
//! damaged image is refused with a clear message instead of failing inside a sandbox.

mod build;
mod recipe;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::backend::{Error, Result};
pub use build::{BuildOptions, Outcome, build};
pub use recipe::{CHECK_LIBRARY, Recipe, recipe_hash};

/// Files a sandbox cannot work without, checked at every server start.
const ESSENTIAL: &[&str] = &[
    "/usr/bin/bash",
    "/usr/bin/env",
    "/usr/bin/catatonit",
    "/usr/bin/unshare",
    "/usr/bin/lsns",
    "/usr/bin/nsenter",
    "/usr/bin/ip",
    "/usr/bin/ping",
    "/usr/bin/python3",
    "/usr/bin/ps",
    "/usr/bin/qemu-system-x86_64",
    "/usr/lib/lab-vm/vmlinuz",
    "/usr/lib/lab-vm/initrd.gz",
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub recipe_hash: String,
    pub suite: String,
    /// The Kubernetes build in the image (the cluster tier), "" for none.
    #[serde(default)]
    pub kubernetes: String,
    pub built_at: String,
    /// (path in the image, size in bytes or symlink target)
    pub essential: Vec<(String, String)>,
}

#[derive(Clone, Debug)]
pub struct LabImage {
    dir: PathBuf,
    pub manifest: Manifest,
}

impl LabImage {
    /// The image's name in Docker or a registry, as the scripts import it:
    /// `stacklab/lab:<recipe hash>`.
    pub fn tag(&self) -> String {
        format!("stacklab/lab:{}", self.manifest.recipe_hash)
    }

    /// Opens and checks the image in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let rebuild = "build it with `stacklab image build` (scripts/run and scripts/test do)";
        let manifest_path = dir.join("image.json");
        let text = std::fs::read_to_string(&manifest_path).map_err(|e| {
            if dir.exists() {
                Error::Image(format!("{} is missing or unreadable ({e}): an interrupted build? {rebuild}", manifest_path.display()))
            } else {
                Error::Image(format!("there is no lab image at {}: {rebuild}", dir.display()))
            }
        })?;
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| Error::Image(format!("{} is corrupt ({e}): {rebuild}", manifest_path.display())))?;
        let image = Self { dir: dir.to_path_buf(), manifest };
        image.check()?;
        for (path, expected) in &image.manifest.essential {
            let found = describe(&image.rootfs(), path);
            if found.as_deref() != Some(expected.as_str()) {
                return Err(Error::Image(format!(
                    "{path} in {} is {} (expected {expected}): the image is damaged; {rebuild}",
                    image.rootfs().display(),
                    found.unwrap_or_else(|| "missing".into())
                )));
            }
        }
        if image.manifest.recipe_hash != recipe_hash() {
            tracing::warn!(
                image = %dir.display(),
                "the lab image was built from an older recipe; `stacklab image build` makes a current one"
            );
        }
        Ok(image)
    }

    /// The quick check before each sandbox start: the image is still there.
    pub fn check(&self) -> Result<()> {
        let init = self.init_path(crate::Init::Minimal);
        if !init.exists() {
            return Err(Error::Image(format!("{} is missing: the image was removed or damaged", init.display())));
        }
        Ok(())
    }

    /// Whether the image has `init` (an image built before systemd was in the recipe has not).
    pub fn has_init(&self, init: crate::Init) -> bool {
        self.init_path(init).exists()
    }

    fn init_path(&self, init: crate::Init) -> PathBuf {
        self.rootfs().join(init.argv()[0].trim_start_matches('/'))
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }
}

/// What an essential file looks like: its size, or `-> target` for a symlink.
fn describe(rootfs: &Path, path: &str) -> Option<String> {
    let full = rootfs.join(path.trim_start_matches('/'));
    let meta = std::fs::symlink_metadata(&full).ok()?;
    if meta.file_type().is_symlink() {
        Some(format!("-> {}", std::fs::read_link(&full).ok()?.display()))
    } else {
        Some(meta.len().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(dir: &Path) -> String {
        LabImage::open(dir).expect_err("refused").to_string()
    }

    #[test]
    fn a_missing_or_damaged_image_is_refused_clearly() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("image");
        assert!(error(&dir).contains("there is no lab image at"), "{}", error(&dir));
        std::fs::create_dir_all(dir.join("rootfs/usr/bin")).unwrap();
        assert!(error(&dir).contains("an interrupted build?"), "{}", error(&dir));
        std::fs::write(dir.join("image.json"), "{ not json").unwrap();
        assert!(error(&dir).contains("is corrupt"), "{}", error(&dir));
        let manifest = Manifest {
            recipe_hash: recipe_hash(),
            suite: "bookworm".into(),
            kubernetes: String::new(),
            built_at: "now".into(),
            essential: vec![("/usr/bin/catatonit".into(), "10".into())],
        };
        std::fs::write(dir.join("image.json"), serde_json::to_vec(&manifest).unwrap()).unwrap();
        assert!(error(&dir).contains("catatonit is missing"), "{}", error(&dir));
        std::fs::write(dir.join("rootfs/usr/bin/catatonit"), "truncated").unwrap();
        let e = error(&dir);
        assert!(e.contains("/usr/bin/catatonit in") && e.contains("is 9 (expected 10): the image is damaged"), "{e}");
        std::fs::write(dir.join("rootfs/usr/bin/catatonit"), "0123456789").unwrap();
        assert!(LabImage::open(&dir).is_ok());
    }
}
