//! The image recipe (`sandbox/image/recipe.toml` and `files/`), compiled into the binary so the
//! server and `stacklab image build` agree on what a current image is.

use serde::Deserialize;

const RECIPE: &str = include_str!("../../image/recipe.toml");
/// Every file the recipe can name, by its name in `files/`.
const FILES: &[(&str, &str)] = &[
    ("motd", include_str!("../../image/files/motd")),
    ("profile.sh", include_str!("../../image/files/profile.sh")),
    ("completion.sh", include_str!("../../image/files/completion.sh")),
    ("login.sh", include_str!("../../image/files/login.sh")),
    ("shell-integration.bash", include_str!("../../image/files/shell-integration.bash")),
    ("checks.sh", include_str!("../../image/files/checks.sh")),
    ("bashrc-append", include_str!("../../image/files/bashrc-append")),
    ("lab-vm", include_str!("../../image/files/lab-vm")),
    ("guest/inittab", include_str!("../../image/files/guest/inittab")),
    ("guest/rcS", include_str!("../../image/files/guest/rcS")),
    ("guest/lab-agent", include_str!("../../image/files/guest/lab-agent")),
    ("guest/profile", include_str!("../../image/files/guest/profile")),
    ("guest/kvm-unknown", include_str!("../../image/files/guest/kvm-unknown")),
    ("build-guest.sh", include_str!("../../image/files/build-guest.sh")),
    ("lab-cluster", include_str!("../../image/files/lab-cluster")),
    ("cluster/containerd.toml", include_str!("../../image/files/cluster/containerd.toml")),
    ("cluster/cni.conflist", include_str!("../../image/files/cluster/cni.conflist")),
    ("cluster/kubelet.yaml", include_str!("../../image/files/cluster/kubelet.yaml")),
    ("cluster/kubelet-ns", include_str!("../../image/files/cluster/kubelet-ns")),
    ("oci-archive.py", include_str!("../../image/files/oci-archive.py")),
    ("build-cluster.sh", include_str!("../../image/files/build-cluster.sh")),
    ("containers/storage.conf", include_str!("../../image/files/containers/storage.conf")),
    ("containers/registries.conf", include_str!("../../image/files/containers/registries.conf")),
    ("containers/nodocker", include_str!("../../image/files/containers/nodocker")),
    ("build-containers.sh", include_str!("../../image/files/build-containers.sh")),
    ("systemd.sh", include_str!("../../image/files/systemd.sh")),
];

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    pub suite: String,
    pub mirror: String,
    pub variant: String,
    pub packages: Vec<String>,
    #[serde(default)]
    pub files: Vec<RecipeFile>,
    /// Shell scripts from `files/` run inside the image (chroot), in order, after the files.
    #[serde(default)]
    pub run: Vec<RecipeRun>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeRun {
    pub script: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipeFile {
    pub path: String,
    pub source: String,
    pub mode: u32,
    /// Add to the end of the file the packages installed instead of replacing it.
    #[serde(default)]
    pub append: bool,
}

impl Recipe {
    pub fn load() -> Self {
        toml::from_str(RECIPE).expect("sandbox/image/recipe.toml is valid (a unit test parses it)")
    }

    /// The content of `files/<source>`.
    pub fn file(source: &str) -> Option<&'static str> {
        FILES.iter().find(|(name, _)| *name == source).map(|(_, content)| *content)
    }
}

/// A short, stable hash of the recipe and every file it ships (FNV-1a, 64 bits: a cache key,
/// not a security boundary).
pub fn recipe_hash() -> String {
    let mut hash = crate::hash::Fnv::default();
    hash.eat(RECIPE.as_bytes());
    for (name, content) in FILES {
        hash.eat(name.as_bytes()).eat(content.as_bytes());
    }
    let hash = hash.finish();
    format!("{hash:016x}")
}

/// The check helper library, as shipped in the image (the server loads it into every check).
pub const CHECK_LIBRARY: &str = include_str!("../../image/files/checks.sh");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipe_parses_and_names_existing_files() {
        let recipe = Recipe::load();
        assert!(recipe.packages.iter().any(|p| p == "catatonit"), "the init must be in the image");
        for file in &recipe.files {
            assert!(Recipe::file(&file.source).is_some(), "files/{} is not compiled in", file.source);
        }
        for run in &recipe.run {
            assert!(Recipe::file(&run.script).is_some(), "files/{} is not compiled in", run.script);
        }
        assert_eq!(recipe_hash().len(), 16);
    }
}
