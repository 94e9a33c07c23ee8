//! A terminal's screen kept on disk, so that after a server crash or restart the learner's
//! terminal shows what it showed before (the shell itself is new: it died with the server's end
//! of its PTY).
//!
//! Output is appended to `<dir>/<learner>/<tab>.screen` once a second, never from the PTY reader
//! itself, so a slow or full disk costs the saved copy, not a keystroke. The file is rewritten
//! from the scrollback when it grows past twice the scrollback's bound, so it stays bounded. A
//! shell that ends by itself (exit, a reset) takes its file with it: only a screen whose shell
//! was cut off by the server's end is shown again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Weak;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Terminal;

/// How often new output goes to disk: a crash loses at most this much of the screen.
const EVERY: Duration = Duration::from_secs(1);
/// Shown between the old screen and the new shell's prompt: plain colours, the normal screen
/// (a full-screen program may have been open; `?1047l`, not `?1049l`, which would move the
/// cursor back up and write over the old screen), the cursor shown.
const NOTICE: &[u8] = b"\x1b[0m\x1b[?1047l\x1b[?25h\r\n\x1b[2m[the server restarted: this is a new shell; your files are kept]\x1b[0m\r\n";

/// Where terminals' screens are kept.
#[derive(Clone, Debug)]
pub struct SavedScreens {
    dir: PathBuf,
}

impl SavedScreens {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn path(&self, learner: &str, tab: u32) -> PathBuf {
        // Learner ids are the server's own (letters and digits); anything else is kept out of
        // the path all the same.
        let learner: String = learner.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
        self.dir.join(learner).join(format!("{tab}.screen"))
    }

    /// The screen a terminal left behind when the server ended (its last `limit` bytes, then a
    /// notice), if it left one.
    pub fn restore(&self, learner: &str, tab: u32, limit: usize) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.path(learner, tab)).ok().filter(|b| !b.is_empty())?;
        let mut screen = bytes[bytes.len().saturating_sub(limit)..].to_vec();
        screen.extend_from_slice(NOTICE);
        Some(screen)
    }
}

/// Keeps `terminal`'s screen in `path` until its shell ends (`ended`), then removes it. This
/// task alone touches the file, so a write and the removal never cross.
pub async fn keep(terminal: Weak<Terminal>, ended: CancellationToken, path: PathBuf, limit: usize) {
    let mut file = ScreenFile { path, len: 0 };
    // The restored screen is in the scrollback already: start the file from it.
    let mut rewrite = true;
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = ended.cancelled() => {
                let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(&file.path)).await;
                return;
            }
        }
        let Some(terminal) = terminal.upgrade() else { return };
        let (new, whole) = {
            let mut shared = terminal.shared.lock().unwrap_or_else(|p| p.into_inner());
            let new = std::mem::take(&mut shared.unsaved);
            rewrite |= std::mem::take(&mut shared.unsaved_overflowed);
            let whole = (rewrite || file.len + new.len() as u64 > 2 * limit as u64).then(|| shared.scrollback.contents());
            (new, whole)
        };
        drop(terminal);
        if new.is_empty() && whole.is_none() {
            continue;
        }
        let saving = tokio::task::spawn_blocking(move || {
            let result = file.save(&new, whole.as_deref());
            (file, result)
        });
        let Ok((saved, result)) = saving.await else { return };
        file = saved;
        // A full disk loses the saved copy, never the terminal; the next save starts it whole.
        rewrite = result.is_err();
        if let Err(e) = result {
            tracing::debug!(path = %file.path.display(), "saving a terminal's screen: {e}");
        }
    }
}

struct ScreenFile {
    path: PathBuf,
    len: u64,
}

impl ScreenFile {
    /// Appends `new`, or writes `whole` in its place (atomically, through a temporary file).
    fn save(&mut self, new: &[u8], whole: Option<&[u8]>) -> std::io::Result<()> {
        match whole {
            Some(whole) => self.replace(whole),
            None => self.append(new),
        }
    }

    fn replace(&mut self, whole: &[u8]) -> std::io::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        temp.write_all(whole)?;
        temp.persist(&self.path).map_err(|e| e.error)?;
        self.len = whole.len() as u64;
        Ok(())
    }

    fn append(&mut self, new: &[u8]) -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().append(true).open(&self.path)?;
        file.write_all(new)?;
        self.len += new.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_screen_left_behind_comes_back_with_a_notice_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let saved = SavedScreens::new(dir.path().to_path_buf());
        assert!(saved.restore("ada", 1, 100).is_none());
        let mut file = ScreenFile { path: saved.path("ada", 1), len: 0 };
        file.save(b"", Some(b"root@lab:~# ls\r\n")).unwrap();
        file.save(b"notes.txt\r\nroot@lab:~# ", None).unwrap();
        let screen = saved.restore("ada", 1, 1000).unwrap();
        assert!(screen.starts_with(b"root@lab:~# ls\r\nnotes.txt\r\nroot@lab:~# "));
        assert!(screen.ends_with(NOTICE));
        let tail = saved.restore("ada", 1, 5).unwrap();
        assert_eq!(&tail[..5], b"b:~# ");
    }

    #[test]
    fn a_learner_id_cannot_leave_the_folder() {
        let saved = SavedScreens::new(PathBuf::from("/data/terminals"));
        assert_eq!(saved.path("../../etc", 1), PathBuf::from("/data/terminals/etc/1.screen"));
    }
}
