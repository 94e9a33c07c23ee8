//! A throwaway content tree in /dev/shm holding the fuzzer's input, loaded with the real loader.
//! The loader must never panic, and whatever it refuses must say where (`file:line` or `file`).

use std::path::PathBuf;

pub struct Tree(PathBuf);

impl Tree {
    /// A course with one session and one lab folder `lab`, whose files are `files`.
    pub fn new(files: &[(&str, &[u8])]) -> Self {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let root = PathBuf::from(format!("/dev/shm/stacklab-fuzz-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let lab = root.join("s1/labs/lab");
        std::fs::create_dir_all(&lab).unwrap();
        std::fs::write(root.join("course.toml"), "title = \"Fuzz\"\nsummary = \"x\"\nsessions = [\"s1\"]\n").unwrap();
        std::fs::write(root.join("s1/session.md"), "+++\ntitle = \"S\"\nsummary = \"x\"\n+++\nIntro.\n").unwrap();
        for (name, bytes) in files {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        Tree(root)
    }

    pub fn load_and_check(&self) {
        if let Err(problems) = labs::load::load_course(&self.0) {
            assert!(!problems.is_empty(), "refused without saying why");
            for p in problems.iter() {
                assert!(p.file.starts_with(&self.0), "a problem outside the tree: {p}");
                assert!(!p.message.is_empty(), "a problem without a message at {}", p.file.display());
            }
        }
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The input cut at NUL bytes into `n` parts (missing ones empty).
pub fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = data.splitn(n, |b| *b == 0).collect();
    parts.resize(n, b"");
    parts
}
