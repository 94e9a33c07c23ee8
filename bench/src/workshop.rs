//! The workshop's content, as the benches that type or check its labs read it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use labs::load::{Course, Lab};

/// The checkout's workshop, unless `STACKLAB_LABS` names another (a test host has its own copy).
pub fn course() -> anyhow::Result<Course> {
    let content = std::env::var_os("STACKLAB_LABS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../labs/workshop"));
    labs::load::load_course(&content).map_err(|e| anyhow::anyhow!("{}: {e:?}", content.display()))
}

/// One of its labs.
pub fn lab<'a>(course: &'a Course, id: &str) -> anyhow::Result<&'a Lab> {
    Ok(course.lab(id).with_context(|| format!("the workshop has no {id} lab"))?.1)
}
