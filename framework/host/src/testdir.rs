//! A scratch directory for the host's unit tests (`#[cfg(test)]` only).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory under the system's temporary directory, holding the
/// files a test writes, removed when dropped.
pub(crate) struct Dir(pub(crate) PathBuf);

impl Dir {
    /// An empty directory named after `prefix`, the process and a counter, so
    /// that tests running at once never share one.
    pub(crate) fn empty(prefix: &str) -> Dir {
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "kairos-{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    /// A directory holding `files` (name, text).
    pub(crate) fn with(prefix: &str, files: &[(&str, &str)]) -> Dir {
        let d = Dir::empty(prefix);
        for (name, text) in files {
            d.write(name, text);
        }
        d
    }

    /// The path of `name` in the directory.
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to `name`, and returns its path.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
