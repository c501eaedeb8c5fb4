//! The health of the plugins a pipeline calls: calls, failures, the first
//! error, and quarantine.
//!
//! Every script entry and every native plugin entry of a built pipeline has one
//! [`Health`], shared between its plugin (which reports each call) and the
//! engine and report (which read it). The protocol, for each call:
//!
//! 1. the plugin asks [`Health::quarantined`]; when it is, the call is not made:
//!    the entry's `on_error` applies at once ([`Health::skipped`] counts it);
//! 2. otherwise the call is counted ([`Health::called`]) and made;
//! 3. a call that returns what the point expects resets the run of consecutive
//!    failures ([`Health::succeeded`]);
//! 4. a failed call ([`Health::failed`]) is counted, as an ordinary error or as
//!    one the wall-clock watchdog ended ([`FailureKind`]); the first failure is
//!    kept with its message, where in the script, the function, the job, the node
//!    and the time ([`CallError`]). The [`QUARANTINE_AFTER`]-th failure in a row
//!    quarantines the plugin: step 1 skips it for the rest of the pipeline
//!    revision, and [`Quarantine`] says when and after which error.
//!
//! A reload builds new plugins with a new `Health`, so the next revision calls
//! the plugin again (the quarantine is lifted); the engine keeps what the old
//! revisions went through ([`HealthSummary`]) for the report.
//!
//! Quarantine turns a runaway plugin (a `loop {}` filter costs its whole
//! operation budget on every call) into one that costs nothing after a few
//! calls: a day's run that would call it a hundred thousand times calls it
//! [`QUARANTINE_AFTER`] times. Decisions stay the same either way: a skipped
//! call is treated as a failed one would be.
//!
//! Under `on_error: fail` the first failure stops the run, so nothing is ever
//! quarantined. Everything here depends on the order of calls only, never on
//! time: a run on one thread quarantines a plugin at the same call every time.
//! (When partition workers call one plugin from several threads at once, which
//! of two interleaved calls counts first can differ between runs; a plugin that
//! fails on every call is quarantined after the same number of calls anyway.)

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use std::collections::BTreeMap;

use kairos_model::Time;
use serde::Serialize;

use crate::pipeline::Pipeline;
use crate::script::log::LogLine;

/// Consecutive failed calls after which a plugin is quarantined for the rest of
/// its revision.
///
/// Large enough that a script which fails on a few unusual jobs or nodes (a
/// missing label) is never quarantined while it still answers the others: that
/// takes sixteen failures without a single success in between, more than the
/// nodes of a batch a typical filter sees. Small enough that a runaway script
/// costs at most sixteen full operation budgets (a few milliseconds each, see
/// `script::budget`) per revision instead of one per call.
pub const QUARANTINE_AFTER: u32 = 16;

/// Calls failed on the job `kairos explain` follows that are kept for it.
const FOCUS_KEPT: usize = 64;

/// How a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The plugin threw, returned a value the point does not accept, or ran out
    /// of its operation budget: deterministic, the same in every run.
    Error,
    /// The wall-clock watchdog ended the call: the one failure that depends on
    /// the machine (see `script::watchdog`).
    Watchdog,
}

/// One failed call, with everything needed to find it again.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallError {
    /// What went wrong.
    pub message: String,
    /// Where: `file:line:column` of a script where Rhai knows it, else the file
    /// (scripts) or the library (native plugins).
    pub at: String,
    /// The function called (`filter`, `score`, `key`, `before`, `rebalance`).
    pub function: String,
    /// The job the call was about (`a, b` for a comparison), if any.
    pub job: Option<String>,
    /// The node the call was about, if one.
    pub node: Option<String>,
    /// Simulated time of the call, seconds.
    pub time: Time,
    /// How it failed.
    pub kind: FailureKind,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: in fn {}: {}", self.at, self.function, self.message)
    }
}

impl CallError {
    /// "job a, node kiruna, t=0s": what the call was about.
    pub fn about(&self) -> String {
        let mut parts = Vec::new();
        if let Some(j) = &self.job {
            parts.push(if j.contains(", ") { format!("jobs {j}") } else { format!("job {j}") });
        }
        if let Some(n) = &self.node {
            parts.push(format!("node {n}"));
        }
        parts.push(format!("t={}s", self.time));
        parts.join(", ")
    }
}

/// When and why a plugin was quarantined.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Quarantine {
    /// The pipeline revision it was quarantined in (set by the engine).
    pub revision: u64,
    /// Simulated time of the failure that quarantined it.
    pub time: Time,
    /// Consecutive failed calls that led to it ([`QUARANTINE_AFTER`]).
    pub after: u32,
    /// The last of them.
    pub error: CallError,
}

/// The health of one plugin entry of one pipeline revision. See the module docs.
#[derive(Debug, Default)]
pub struct Health {
    calls: AtomicU64,
    errors: AtomicU64,
    watchdog: AtomicU64,
    skipped: AtomicU64,
    streak: AtomicU32,
    quarantined: AtomicBool,
    first: OnceLock<CallError>,
    quarantine: OnceLock<Quarantine>,
    /// The job `kairos explain` follows, and the failures of calls about it.
    focus: Mutex<Option<(String, Vec<CallError>)>>,
}

impl Health {
    /// A plugin that has not been called yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the plugin is quarantined: the caller applies `on_error` without
    /// calling it, and says so with [`Health::skipped`].
    #[inline]
    pub fn quarantined(&self) -> bool {
        self.quarantined.load(Ordering::Relaxed)
    }

    /// Counts a call made.
    #[inline]
    pub fn called(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a call not made because the plugin is quarantined.
    #[inline]
    pub fn skipped(&self) {
        self.skipped.fetch_add(1, Ordering::Relaxed);
    }

    /// A call returned what the point expects: the run of failures ends.
    #[inline]
    pub fn succeeded(&self) {
        if self.streak.load(Ordering::Relaxed) != 0 {
            self.streak.store(0, Ordering::Relaxed);
        }
    }

    /// A call failed; `error` describes it (built only when it is kept: the
    /// first failure, the one that quarantines, one about the followed job).
    /// Returns whether this failure quarantined the plugin.
    pub fn failed(&self, kind: FailureKind, error: impl FnOnce() -> CallError) -> bool {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if kind == FailureKind::Watchdog {
            self.watchdog.fetch_add(1, Ordering::Relaxed);
        }
        let mut built: Option<CallError> = None;
        let mut error = Some(error);
        let mut get = || built.get_or_insert_with(|| (error.take().expect("built once"))()).clone();
        if self.first.get().is_none() {
            let _ = self.first.set(get());
        }
        {
            let mut focus = self.focus.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((job, kept)) = focus.as_mut() {
                if kept.len() < FOCUS_KEPT {
                    let e = get();
                    if e.job.as_deref().is_some_and(|j| j.split(", ").any(|x| x == job)) {
                        kept.push(e);
                    }
                }
            }
        }
        let streak = self.streak.fetch_add(1, Ordering::Relaxed) + 1;
        if streak >= QUARANTINE_AFTER && !self.quarantined.swap(true, Ordering::Relaxed) {
            let e = get();
            let _ = self.quarantine.set(Quarantine { revision: 0, time: e.time, after: streak, error: e });
            return true;
        }
        false
    }

    /// Keeps the failures of calls about job `id` (for `kairos explain`).
    pub fn follow(&self, id: &str) {
        *self.focus.lock().unwrap_or_else(|e| e.into_inner()) = Some((id.to_owned(), Vec::new()));
    }

    /// Calls made.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Calls that failed (including those the watchdog ended).
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    /// The first failure.
    pub fn first_error(&self) -> Option<&CallError> {
        self.first.get()
    }

    /// The quarantine, if the plugin is quarantined (its `revision` is 0: the
    /// engine knows the revision).
    pub fn quarantine(&self) -> Option<&Quarantine> {
        self.quarantine.get()
    }

    /// What this revision went through.
    pub fn summary(&self, revision: u64) -> HealthSummary {
        let mut s = HealthSummary::default();
        s.add(self, revision);
        s
    }
}

/// What one plugin went through, over one or more revisions.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct HealthSummary {
    /// Calls made.
    pub calls: u64,
    /// Calls that failed, including those the watchdog ended.
    pub errors: u64,
    /// Calls the wall-clock watchdog ended (also counted in `errors`).
    pub watchdog: u64,
    /// Calls not made because the plugin was quarantined (`on_error` applied).
    pub skipped: u64,
    /// The first failure.
    pub first_error: Option<CallError>,
    /// Each revision in which it was quarantined.
    pub quarantines: Vec<Quarantine>,
    /// Failures of calls about the job `kairos explain` follows.
    #[serde(skip)]
    pub followed: Vec<CallError>,
}

impl HealthSummary {
    /// Adds what `h` went through in `revision`.
    pub fn add(&mut self, h: &Health, revision: u64) {
        self.calls += h.calls();
        self.errors += h.errors();
        self.watchdog += h.watchdog.load(Ordering::Relaxed);
        self.skipped += h.skipped.load(Ordering::Relaxed);
        if self.first_error.is_none() {
            self.first_error = h.first_error().cloned();
        }
        if let Some(q) = h.quarantine() {
            self.quarantines.push(Quarantine { revision, ..q.clone() });
        }
        if let Some((_, kept)) = &*h.focus.lock().unwrap_or_else(|e| e.into_inner()) {
            self.followed.extend(kept.iter().cloned());
        }
    }

    /// Whether anything went wrong.
    pub fn troubled(&self) -> bool {
        self.errors > 0 || !self.quarantines.is_empty()
    }
}

/// What the scripts and native plugins of a run went through, over every
/// pipeline revision run so far, by the name the pipeline gives them. A plugin
/// keeps its figures across a reload as long as the pipeline names it the same
/// way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PluginHealth {
    /// Per script entry (`path`, or `path (POINT)` for a script used at two points).
    pub scripts: BTreeMap<String, HealthSummary>,
    /// Per native plugin.
    pub natives: BTreeMap<String, HealthSummary>,
    /// Lines each script printed.
    pub printed: BTreeMap<String, u64>,
    /// Lines each script printed in calls about the job `kairos explain` follows.
    pub followed_lines: BTreeMap<String, Vec<LogLine>>,
}

impl PluginHealth {
    /// Adds what the plugins of `pipeline`, run as `revision`, went through.
    pub fn add(&mut self, pipeline: &Pipeline, revision: u64) {
        for st in &pipeline.scripts {
            self.scripts.entry(st.name.clone()).or_default().add(&st.health, revision);
            *self.printed.entry(st.name.clone()).or_default() += st.log.printed();
            let lines = st.log.followed();
            if !lines.is_empty() {
                self.followed_lines.entry(st.name.clone()).or_default().extend(lines);
            }
        }
        for st in &pipeline.natives {
            self.natives.entry(st.name.clone()).or_default().add(&st.health, revision);
        }
    }

    /// Every quarantine, in order of time: the plugin's name and when.
    pub fn quarantines(&self) -> Vec<(&str, &Quarantine)> {
        let mut all: Vec<(&str, &Quarantine)> = self
            .scripts
            .iter()
            .chain(&self.natives)
            .flat_map(|(name, s)| s.quarantines.iter().map(move |q| (name.as_str(), q)))
            .collect();
        all.sort_by_key(|(name, q)| (q.revision, q.time, *name));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(time: Time) -> CallError {
        CallError {
            message: "no".into(),
            at: "f.rhai:1:2".into(),
            function: "filter".into(),
            job: Some("a".into()),
            node: Some("n".into()),
            time,
            kind: FailureKind::Error,
        }
    }

    #[test]
    fn a_plugin_is_quarantined_after_a_run_of_failures_and_not_before() {
        let cases: [(&str, &[bool], bool); 4] = [
            ("sixteen failures in a row quarantine it", &[false; 16], true),
            ("fifteen do not", &[false; 15], false),
            (
                "a success in between starts the count again",
                &[[false; 8].as_slice(), &[true], &[false; 15]].concat(),
                false,
            ),
            ("a success before the run does not help", &[[true; 3].as_slice(), &[false; 16]].concat(), true),
        ];
        for (name, calls, want) in cases {
            let h = Health::new();
            for (i, &ok) in calls.iter().enumerate() {
                h.called();
                if ok {
                    h.succeeded();
                } else {
                    h.failed(FailureKind::Error, || error(i as Time));
                }
            }
            assert_eq!(h.quarantined(), want, "{name}");
            if want {
                let q = h.quarantine().unwrap();
                assert_eq!((q.after, q.time), (QUARANTINE_AFTER, calls.len() as Time - 1), "{name}");
            }
        }
    }

    #[test]
    fn the_first_error_is_kept_and_the_watchdog_is_counted_apart() {
        let h = Health::new();
        h.failed(FailureKind::Error, || error(5));
        h.failed(FailureKind::Watchdog, || error(7));
        let s = h.summary(3);
        assert_eq!((s.errors, s.watchdog), (2, 1));
        let first = s.first_error.unwrap();
        assert_eq!(first.time, 5);
        assert_eq!(first.to_string(), "f.rhai:1:2: in fn filter: no");
    }

    #[test]
    fn failures_about_the_followed_job_are_kept_for_explain() {
        let h = Health::new();
        h.follow("b");
        h.failed(FailureKind::Error, || error(1));
        h.failed(FailureKind::Error, || CallError { job: Some("a, b".into()), ..error(2) });
        let s = h.summary(1);
        assert_eq!(s.followed.iter().map(|e| e.time).collect::<Vec<_>>(), [2]);
    }
}
