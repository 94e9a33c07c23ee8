//! Size of the release site the browser downloads: wasm raw, gzip and brotli (the build writes
//! the compressed files the server sends).

use std::path::Path;

use anyhow::{Context, bail};

use crate::report::Table;

pub fn run(site: &Path, table: &mut Table) -> anyhow::Result<()> {
    let hashes = std::fs::read_to_string(site.join("hash.txt"))
        .with_context(|| format!("no built site in {} (run scripts/build)", site.display()))?;
    for ext in ["wasm", "js"] {
        let Some(hash) = hashes.lines().find_map(|l| l.strip_prefix(&format!("{ext}: "))) else {
            bail!("hash.txt has no {ext} line");
        };
        let file = site.join("pkg").join(format!("stacklab.{hash}.{ext}"));
        let raw = size(&file)?;
        for (enc, suffix) in [("gzip", "gz"), ("brotli", "br")] {
            let packed = size(&file.with_extension(format!("{ext}.{suffix}")))?;
            table.add(
                &format!("release {ext} size, {enc}"),
                kib(packed),
                &format!("same {ext}, raw"),
                kib(raw),
                packed as f64 / raw as f64,
            );
        }
    }
    Ok(())
}

fn size(path: &Path) -> anyhow::Result<u64> {
    Ok(std::fs::metadata(path).with_context(|| format!("missing {}", path.display()))?.len())
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
