//! Hot reload: a pipeline and its scripts, watched, reloaded off the scheduling
//! path, and handed to the engine between decisions.
//!
//! # The reload protocol
//! 1. [`Reloader::new`] is given the pipeline the engine was started with
//!    (revision 1) and the cluster's resources and symbols (cloned: every
//!    revision is built against them, as the first one was). It starts one
//!    background thread, which watches the *directories* of the pipeline file
//!    and of every script the pipeline references — not the files themselves,
//!    so that an editor that saves by writing a new file and renaming it over
//!    the old one, or a script deleted and written again, is still seen.
//! 2. A change to one of those files (writes, creations, deletions, renames; not
//!    reads) starts a debounce: the thread waits until [`DEBOUNCE`] passes with
//!    no further change (at most [`DEBOUNCE_MAX`]), so that the burst of events
//!    one save makes gives one reload. [`Reloader::request_reload`] reloads at
//!    once.
//! 3. The thread then loads the pipeline file, compiles and checks every script
//!    ([`PipelineDef::load`]) and builds the plugins against the cluster
//!    ([`PipelineDef::build`]) — all on its own thread, never on the scheduling
//!    path.
//! 4. On success it publishes `(revision, Arc<Pipeline>)` with the next revision
//!    number through an [`ArcSwapOption`] and from then on watches the scripts of
//!    the new revision.
//! 5. On failure — a YAML or script syntax error, an unknown plugin, a missing
//!    or deleted script — nothing is published: the last good revision stays in
//!    force. The error (with file:line:column) is queued for
//!    [`Reloader::errors`], and the next change tries again.
//! 6. The scheduling side calls [`Reloader::latest`] between decisions: one
//!    atomic load and a compare. It returns a pipeline only when a revision newer
//!    than the last one it handed out was published; the caller passes it to
//!    [`Engine::swap_pipeline`](crate::engine::Engine::swap_pipeline), which
//!    keeps every queued and running job.
//!
//! Dropping the [`Reloader`] stops the thread and the watcher.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use kairos_model::{ResourceSpace, Symbols};
use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::Error;
use crate::pipeline::{Pipeline, PipelineDef};
use crate::registry::Registry;
use crate::yaml;

/// Quiet time after a change before reloading: an editor's save is a burst of
/// events (truncate, write, close, sometimes a rename and a chmod) over a few
/// milliseconds; 100 ms covers it and is still immediate for a person.
pub const DEBOUNCE: Duration = Duration::from_millis(100);

/// Longest wait for the burst to end: a file written without pause (a log
/// redirected into a script by mistake) still gets a reload this often.
pub const DEBOUNCE_MAX: Duration = Duration::from_secs(1);

/// A reload that failed; the last good revision stays in force.
#[derive(Debug)]
pub struct ReloadError {
    /// The revision still in force.
    pub kept: u64,
    /// What was wrong: an input error names file:line:column.
    pub error: Error,
}

impl std::fmt::Display for ReloadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pipeline reload failed; still running revision {}: {}", self.kept, self.error)
    }
}

impl std::error::Error for ReloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// A published revision.
type Published = (u64, Arc<Pipeline>);

/// What the reloading thread and the handle share.
struct Shared {
    /// The newest good revision built by the thread (`None` until the first).
    published: ArcSwapOption<Published>,
    /// Failed reloads not yet drained.
    errors: Mutex<Vec<ReloadError>>,
    /// Reload attempts finished (good or not), for callers that wait on one.
    attempts: Mutex<u64>,
    finished: Condvar,
}

/// What the thread is told.
enum Msg {
    /// A file-system event.
    Fs(notify::Result<notify::Event>),
    /// Reload now, as if a watched file had changed.
    Reload,
    /// Stop.
    Stop,
}

/// Watches a pipeline and its scripts and builds new revisions in the
/// background (see the module docs).
///
/// The handle is meant for the scheduling thread: [`Reloader::latest`] is cheap
/// enough to call between any two decisions.
pub struct Reloader {
    shared: Arc<Shared>,
    /// The revision [`Reloader::latest`] last handed out (1: the initial one).
    seen: AtomicU64,
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl Reloader {
    /// Starts watching `def` — the pipeline the engine runs as revision 1 — and
    /// the scripts it references. New revisions are built with `registry`
    /// against `resources` and a clone of `symbols`: pass the engine's own, so
    /// that names the first revision interned keep their symbols.
    ///
    /// Fails only when the file watcher cannot be set up.
    pub fn new(
        def: &PipelineDef,
        registry: Registry,
        resources: ResourceSpace,
        symbols: Symbols,
    ) -> Result<Reloader, Error> {
        let shared = Arc::new(Shared {
            published: ArcSwapOption::empty(),
            errors: Mutex::new(Vec::new()),
            attempts: Mutex::new(0),
            finished: Condvar::new(),
        });
        let (tx, rx) = mpsc::channel();
        let events = tx.clone();
        let watcher = notify::recommended_watcher(move |e| {
            // The receiver is gone only when the thread has stopped.
            let _ = events.send(Msg::Fs(e));
        })
        .map_err(|e| watch_error(&def.path, e))?;
        let mut worker = Worker {
            path: def.path.clone(),
            registry,
            resources,
            symbols,
            shared: Arc::clone(&shared),
            revision: 1,
            good_files: files_of(def),
            files: BTreeSet::new(),
            dirs: BTreeSet::new(),
            watcher,
        };
        worker.rewatch(worker.good_files.clone());
        let thread = std::thread::Builder::new()
            .name("kairos-reload".into())
            .spawn(move || worker.run(rx))
            .map_err(|source| Error::Io { path: def.path.clone(), source })?;
        Ok(Reloader { shared, seen: AtomicU64::new(1), tx, thread: Some(thread) })
    }

    /// The newest good revision, if it is newer than the one this call last
    /// returned (revision 1, the initial pipeline, is never returned). One
    /// atomic load when nothing changed.
    pub fn latest(&self) -> Option<(u64, Arc<Pipeline>)> {
        let guard = self.shared.published.load();
        let (revision, pipeline) = guard.as_deref()?;
        if *revision <= self.seen.load(Ordering::Relaxed) {
            return None;
        }
        self.seen.store(*revision, Ordering::Relaxed);
        Some((*revision, Arc::clone(pipeline)))
    }

    /// Takes the failed reloads recorded since the last call, oldest first.
    pub fn errors(&self) -> Vec<ReloadError> {
        std::mem::take(&mut *self.shared.errors.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Asks for a reload now, as a change to a watched file would but without
    /// the debounce (a server's "reload" command; benchmarks; tests).
    pub fn request_reload(&self) {
        let _ = self.tx.send(Msg::Reload);
    }

    /// Reload attempts finished so far, good or failed.
    pub fn attempts(&self) -> u64 {
        *self.shared.attempts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until at least `n` reload attempts have finished, or `timeout`
    /// passes; returns whether they had.
    pub fn wait_for_attempts(&self, n: u64, timeout: Duration) -> bool {
        let guard = self.shared.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = self
            .shared
            .finished
            .wait_timeout_while(guard, timeout, |done| *done < n)
            .unwrap_or_else(|e| e.into_inner());
        *guard >= n
    }
}

impl Drop for Reloader {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The reloading thread's state.
struct Worker {
    path: PathBuf,
    registry: Registry,
    resources: ResourceSpace,
    symbols: Symbols,
    shared: Arc<Shared>,
    /// The last good revision.
    revision: u64,
    /// The files of the last good revision.
    good_files: BTreeSet<PathBuf>,
    /// Files whose changes trigger a reload, as seen through their watched
    /// directory (canonical directory + file name).
    files: BTreeSet<PathBuf>,
    /// Directories watched.
    dirs: BTreeSet<PathBuf>,
    watcher: RecommendedWatcher,
}

impl Worker {
    fn run(mut self, rx: Receiver<Msg>) {
        loop {
            // Wait for a change; a requested reload needs no debounce.
            match rx.recv() {
                Ok(Msg::Fs(e)) if self.relevant(&e) => {}
                Ok(Msg::Reload) => {
                    self.reload();
                    continue;
                }
                Ok(Msg::Fs(_)) => continue,
                Ok(Msg::Stop) | Err(_) => return,
            }
            // Let the burst end: every further change restarts the quiet time.
            let give_up = Instant::now() + DEBOUNCE_MAX;
            let mut quiet_until = Instant::now() + DEBOUNCE;
            loop {
                let now = Instant::now();
                let deadline = quiet_until.min(give_up);
                if now >= deadline {
                    break;
                }
                match rx.recv_timeout(deadline - now) {
                    Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => return,
                    Ok(Msg::Reload) => break,
                    Ok(Msg::Fs(e)) if !self.relevant(&e) => {}
                    Ok(Msg::Fs(_)) => quiet_until = Instant::now() + DEBOUNCE,
                    Err(RecvTimeoutError::Timeout) => break,
                }
            }
            self.reload();
        }
    }

    /// Whether `e` changes a watched file (reads do not).
    fn relevant(&self, e: &notify::Result<notify::Event>) -> bool {
        let Ok(e) = e else {
            // The watcher lost events (an overflowing queue): reload to be sure.
            return true;
        };
        let counts = match e.kind {
            EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
            EventKind::Access(_) => false,
            _ => true,
        };
        counts && e.paths.iter().any(|p| self.files.contains(p))
    }

    /// Loads, compiles, checks and builds the pipeline; publishes it or records
    /// why not.
    fn reload(&mut self) {
        match load(&self.path, &self.registry, &self.resources, &self.symbols) {
            Ok((def, pipeline)) => {
                self.revision += 1;
                self.good_files = files_of(&def);
                self.rewatch(self.good_files.clone());
                self.shared.published.store(Some(Arc::new((self.revision, Arc::new(pipeline)))));
            }
            Err(error) => {
                // Keep watching what the last good revision used, and any script
                // the broken file names, so that creating it triggers a reload.
                let mut files = self.good_files.clone();
                files.extend(scripts_named(&self.path));
                self.rewatch(files);
                let e = ReloadError { kept: self.revision, error };
                self.shared.errors.lock().unwrap_or_else(|e| e.into_inner()).push(e);
            }
        }
        *self.shared.attempts.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.shared.finished.notify_all();
    }

    /// Watches the directories of `files` (and only those).
    fn rewatch(&mut self, files: BTreeSet<PathBuf>) {
        let mut dirs = BTreeSet::new();
        self.files.clear();
        for f in files {
            let (Some(dir), Some(name)) = (f.parent(), f.file_name()) else { continue };
            let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
            // A directory that does not exist cannot be watched; the reload that
            // needs a file in it fails and says so.
            let Ok(dir) = dir.canonicalize() else { continue };
            self.files.insert(dir.join(name));
            dirs.insert(dir);
        }
        for gone in self.dirs.difference(&dirs) {
            let _ = self.watcher.unwatch(gone);
        }
        for new in dirs.difference(&self.dirs) {
            // A directory removed since it was listed cannot be watched either.
            let _ = self.watcher.watch(new, RecursiveMode::NonRecursive);
        }
        self.dirs = dirs;
    }
}

/// Loads, compiles and checks the pipeline at `path` and builds it against
/// `resources` and a clone of `symbols`: everything a reload does before it
/// publishes.
pub fn load(
    path: &Path,
    registry: &Registry,
    resources: &ResourceSpace,
    symbols: &Symbols,
) -> Result<(PipelineDef, Pipeline), Error> {
    let def = PipelineDef::load(path, registry)?;
    let pipeline = def.build(registry, resources, &mut symbols.clone())?;
    Ok((def, pipeline))
}

/// The pipeline file and every script it references.
fn files_of(def: &PipelineDef) -> BTreeSet<PathBuf> {
    let scripts = def.entries.iter().filter(|e| e.script.is_some()).map(|e| yaml::resolve(&def.path, &e.plugin));
    std::iter::once(def.path.clone()).chain(scripts).collect()
}

/// The scripts a pipeline file names, read loosely (the file may not load):
/// every `script:` of an entry under `order`, `filter`, `score` or `rebalance`.
fn scripts_named(path: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let Ok(doc) = yaml::parse::<serde_json::Value>(path, &text) else { return Vec::new() };
    ["order", "filter", "score", "rebalance"]
        .iter()
        .filter_map(|point| doc.get(point)?.as_array())
        .flatten()
        .filter_map(|entry| entry.get("script")?.as_str())
        .map(|s| yaml::resolve(path, s))
        .collect()
}

fn watch_error(path: &Path, e: notify::Error) -> Error {
    let source = match e.kind {
        notify::ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("{other:?}")),
    };
    Error::Io { path: path.to_owned(), source }
}

#[cfg(test)]
mod tests;
