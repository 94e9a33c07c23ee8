//! Building the lab image with debootstrap from Debian's archive, showing progress as it goes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use super::recipe::{Recipe, recipe_hash};
use super::{ESSENTIAL, LabImage, Manifest, describe};
use crate::backend::{Error, Result};

#[derive(Clone, Debug)]
pub struct BuildOptions {
    /// The image folder to (re)build.
    pub out: PathBuf,
    /// Rebuild even if the image there is current.
    pub force: bool,
    /// Where debootstrap keeps downloaded packages between builds.
    pub cache_dir: Option<PathBuf>,
    /// Kubernetes binaries for the cluster tier (`scripts/build-kubernetes`: a folder with the
    /// binaries and a `.done` file naming their version), copied into the image.
    pub kubernetes: Option<PathBuf>,
}

impl BuildOptions {
    /// The Kubernetes build going into the image: its `.done` line, or "" for none.
    fn kubernetes_version(&self) -> Result<String> {
        match &self.kubernetes {
            None => Ok(String::new()),
            Some(dir) => std::fs::read_to_string(dir.join(".done"))
                .map(|s| s.trim().to_string())
                .map_err(|e| Error::Image(format!("{}/.done: {e}: is the Kubernetes build finished?", dir.display()))),
        }
    }
}

pub enum Outcome {
    /// The image there was built from this recipe and checks out.
    Current(LabImage),
    Built(LabImage),
}

/// Builds the image unless a current one is there. `progress` receives one line per step.
pub fn build(options: &BuildOptions, mut progress: impl FnMut(&str)) -> Result<Outcome> {
    let hash = recipe_hash();
    let kubernetes = options.kubernetes_version()?;
    if !options.force
        && let Ok(image) = LabImage::open(&options.out)
    {
        if image.manifest.recipe_hash == hash && image.manifest.kubernetes == kubernetes {
            return Ok(Outcome::Current(image));
        }
        progress(&format!("the image at {} is from another recipe or Kubernetes build; rebuilding", options.out.display()));
    }
    let recipe = Recipe::load();
    let started = Instant::now();
    let io = |what: &str, e: std::io::Error| Error::io(what.to_string(), e);
    let work = options.out.with_extension("building");
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| io("removing an interrupted build", e))?;
    }
    std::fs::create_dir_all(&work).map_err(|e| io("creating the build folder", e))?;
    let rootfs = work.join("rootfs");

    let mut cmd = Command::new("debootstrap");
    cmd.arg(format!("--variant={}", recipe.variant)).arg(format!("--include={}", recipe.packages.join(","))).arg("--components=main");
    if let Some(cache) = &options.cache_dir {
        std::fs::create_dir_all(cache).map_err(|e| io("creating the package cache", e))?;
        cmd.arg(format!("--cache-dir={}", cache.display()));
    }
    cmd.arg(&recipe.suite).arg(&rootfs).arg(&recipe.mirror).stdout(Stdio::piped()).stderr(Stdio::piped());
    progress(&format!("debootstrap {} ({} packages asked for) into {}", recipe.suite, recipe.packages.len(), rootfs.display()));
    let mut child = cmd.spawn().map_err(|e| io("running debootstrap (apt install debootstrap)", e))?;
    let stderr = child.stderr.take();
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(s) = stderr {
            for line in BufReader::new(s).lines().map_while(|l| l.ok()) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    });
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            // debootstrap says what it does on "I:" lines: that is the progress display.
            if let Some(step) = line.strip_prefix("I: ") {
                progress(&format!("[{:>4}s] {step}", started.elapsed().as_secs()));
            }
        }
    }
    let status = child.wait().map_err(|e| io("waiting for debootstrap", e))?;
    let errors = errors.join().unwrap_or_default();
    if !status.success() {
        let log = rootfs.join("debootstrap/debootstrap.log");
        let tail: String = std::fs::read_to_string(&log)
            .map(|t| t.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n"))
            .unwrap_or_default();
        return Err(Error::Image(format!("debootstrap failed ({status}):\n{}\n{tail}", errors.trim())));
    }

    for file in &recipe.files {
        let content = Recipe::file(&file.source)
            .ok_or_else(|| Error::Image(format!("recipe names files/{} which is not compiled in", file.source)))?;
        let target = rootfs.join(file.path.trim_start_matches('/'));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io("writing recipe files", e))?;
        }
        if file.append {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).create(true).open(&target).map_err(|e| io("writing recipe files", e))?;
            f.write_all(content.as_bytes()).map_err(|e| io("writing recipe files", e))?;
        } else {
            std::fs::write(&target, content).map_err(|e| io("writing recipe files", e))?;
        }
        std::fs::set_permissions(&target, std::os::unix::fs::PermissionsExt::from_mode(file.mode))
            .map_err(|e| io("writing recipe files", e))?;
    }
    if let Some(dir) = &options.kubernetes {
        progress(&format!("[{:>4}s] copying Kubernetes ({kubernetes}) from {}", started.elapsed().as_secs(), dir.display()));
        copy_kubernetes(dir, &rootfs)?;
    }
    for run in &recipe.run {
        let script =
            Recipe::file(&run.script).ok_or_else(|| Error::Image(format!("recipe runs files/{} which is not compiled in", run.script)))?;
        progress(&format!("[{:>4}s] running {} in the image", started.elapsed().as_secs(), run.script));
        run_in_image(&rootfs, &run.script, script)?;
    }
    // Downloaded packages and index files are dead weight in every sandbox.
    for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
        clear_files(&rootfs.join(dir));
    }

    let mut essential = Vec::new();
    for path in ESSENTIAL {
        let found = describe(&rootfs, path)
            .ok_or_else(|| Error::Image(format!("{path} is missing from the built image: is its package in the recipe?")))?;
        essential.push((path.to_string(), found));
    }
    let manifest = Manifest {
        recipe_hash: hash,
        suite: recipe.suite.clone(),
        kubernetes,
        built_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        essential,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Image(e.to_string()))?;
    std::fs::write(work.join("image.json"), json).map_err(|e| io("writing image.json", e))?;
    replace(&work, &options.out).map_err(|e| io("putting the image in place", e))?;
    progress(&format!("lab image ready in {} ({}s)", options.out.display(), started.elapsed().as_secs()));
    Ok(Outcome::Built(LabImage::open(&options.out)?))
}

/// The cluster tier's binaries go to /usr/local/lib/kubernetes/bin, the commands learners type
/// (kubectl, kubeadm) also to /usr/local/bin.
fn copy_kubernetes(dir: &Path, rootfs: &Path) -> Result<()> {
    let io = |what: String, e: std::io::Error| Error::io(what, e);
    let bin = rootfs.join("usr/local/lib/kubernetes/bin");
    std::fs::create_dir_all(&bin).map_err(|e| io(bin.display().to_string(), e))?;
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir.display().to_string(), e))? {
        let entry = entry.map_err(|e| io(dir.display().to_string(), e))?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        std::fs::copy(entry.path(), bin.join(&name)).map_err(|e| io(format!("copying {}", entry.path().display()), e))?;
    }
    for command in ["kubectl", "kubeadm"] {
        let link = rootfs.join("usr/local/bin").join(command);
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(format!("/usr/local/lib/kubernetes/bin/{command}"), &link)
            .map_err(|e| io(format!("linking {}", link.display()), e))?;
    }
    Ok(())
}

/// Runs `script` with /bin/sh inside `rootfs` (chroot, with the host's resolver for apt).
fn run_in_image(rootfs: &Path, name: &str, script: &str) -> Result<()> {
    use std::io::Write;
    let resolv = rootfs.join("etc/resolv.conf");
    let had_resolv = resolv.exists();
    if !had_resolv {
        let _ = std::fs::copy("/etc/resolv.conf", &resolv);
    }
    let mut child = Command::new("chroot")
        .arg(rootfs)
        .args(["/bin/sh", "-s"])
        .env_clear()
        .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(format!("running {name} in the image (chroot)"), e))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(script.as_bytes()).map_err(|e| Error::io(format!("feeding {name}"), e))?;
    }
    let output = child.wait_with_output().map_err(|e| Error::io(format!("waiting for {name}"), e))?;
    if !had_resolv {
        let _ = std::fs::remove_file(&resolv);
    }
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        return Err(Error::Image(format!("files/{name} failed in the image ({}):\n{}", output.status, said.trim())));
    }
    Ok(())
}

/// Moves `built` to `out`. A previous image is kept as `<out>.previous`, not deleted: running
/// sandboxes still read their files from it.
fn replace(built: &Path, out: &Path) -> std::io::Result<()> {
    if out.exists() {
        let previous = out.with_extension("previous");
        if previous.exists() {
            std::fs::remove_dir_all(&previous)?;
        }
        std::fs::rename(out, &previous)?;
    }
    std::fs::rename(built, out)
}

fn clear_files(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().map(|t| t.is_file()).unwrap_or(false) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
