//! What scripts print: `print(…)` and `debug(…)` go to the log of the script
//! that printed, with the call they came from.
//!
//! A line records the simulated time, the function, the job and node of the
//! call, and the text (cut at [`LINE_MAX`] characters); `debug` lines also say
//! where in the script they are. Nothing depends on the wall clock, so a run
//! prints the same lines every time. The log is bounded, whatever a script
//! prints:
//!
//! - the most recent lines not yet shown, up to [`RECENT_KEPT`], for
//!   `kairos run --live`, which drains them as it runs ([`ScriptLog::drain`]);
//!   lines beyond that are counted, not kept;
//! - the lines printed by calls about one job, up to [`FOLLOWED_KEPT`], for
//!   `kairos explain` ([`ScriptLog::follow`]);
//! - the number of lines printed.
//!
//! A line that is not kept costs a lock and an increment, so a script that
//! prints on every call does not slow a run down noticeably. A call whose
//! result is reused from the memo (see `plugin.rs`) is not made, so it prints
//! nothing.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use kairos_model::Time;
use rhai::{ImmutableString, Position};
use serde::Serialize;

/// Characters of a printed line that are kept.
pub const LINE_MAX: usize = 240;

/// Lines kept for `--live` between two drains.
pub const RECENT_KEPT: usize = 64;

/// Lines kept about the job `kairos explain` follows.
pub const FOLLOWED_KEPT: usize = 200;

/// One line a script printed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogLine {
    /// Simulated time of the call, seconds.
    pub time: Time,
    /// The function that printed.
    pub function: &'static str,
    /// The job the call was about (`a, b` for a comparison).
    pub job: Option<String>,
    /// The node the call was about.
    pub node: Option<String>,
    /// `line:column` of a `debug(…)` in the script (`None` for `print`).
    pub at: Option<String>,
    /// What was printed, cut at [`LINE_MAX`] characters.
    pub text: String,
}

impl std::fmt::Display for LogLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut about = vec![format!("fn {}", self.function)];
        if let Some(j) = &self.job {
            about.push(format!("job {j}"));
        }
        if let Some(n) = &self.node {
            about.push(format!("node {n}"));
        }
        if let Some(a) = &self.at {
            about.push(format!("debug at {a}"));
        }
        write!(f, "({}): {}", about.join(", "), self.text)
    }
}

/// The log of one script entry of one pipeline revision.
#[derive(Debug, Default)]
pub struct ScriptLog {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    printed: u64,
    recent: VecDeque<LogLine>,
    not_kept: u64,
    follow: Option<String>,
    followed: Vec<LogLine>,
}

impl ScriptLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Lines printed so far.
    pub fn printed(&self) -> u64 {
        self.lock().printed
    }

    /// The lines printed since the last drain (at most [`RECENT_KEPT`]), and how
    /// many more were printed but not kept.
    pub fn drain(&self) -> (Vec<LogLine>, u64) {
        let mut g = self.lock();
        let lines = g.recent.drain(..).collect();
        (lines, std::mem::take(&mut g.not_kept))
    }

    /// Keeps the lines of calls about job `id` (for `kairos explain`).
    pub fn follow(&self, id: &str) {
        let mut g = self.lock();
        g.follow = Some(id.to_owned());
        g.followed.clear();
    }

    /// The lines kept about the followed job.
    pub fn followed(&self) -> Vec<LogLine> {
        self.lock().followed.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, call: &Current, text: &str, at: Option<Position>) {
        let mut g = self.lock();
        g.printed += 1;
        let followed = g.follow.as_deref().is_some_and(|f| call.is_about(f)) && g.followed.len() < FOLLOWED_KEPT;
        let recent = g.recent.len() < RECENT_KEPT;
        if !recent {
            g.not_kept += 1;
        }
        if !(recent || followed) {
            return;
        }
        let cut = text.chars().nth(LINE_MAX).is_some();
        let mut text: String = text.chars().take(LINE_MAX).collect();
        if cut {
            text.push('…');
        }
        let line = LogLine {
            time: call.now,
            function: call.function,
            job: call.job(),
            node: call.node.as_ref().map(|n| n.to_string()),
            at: at.and_then(|p| Some(format!("{}:{}", p.line()?, p.position().unwrap_or(0)))),
            text,
        };
        if followed {
            g.followed.push(line.clone());
        }
        if recent {
            g.recent.push_back(line);
        }
    }
}

/// The script call running on this thread: where its prints go.
pub(crate) struct Current {
    pub(crate) log: Arc<ScriptLog>,
    pub(crate) function: &'static str,
    pub(crate) now: Time,
    pub(crate) job: Option<ImmutableString>,
    pub(crate) other: Option<ImmutableString>,
    pub(crate) node: Option<ImmutableString>,
}

impl Current {
    /// The job (or both jobs of a comparison) as text.
    pub(crate) fn job(&self) -> Option<String> {
        match (&self.job, &self.other) {
            (Some(a), Some(b)) => Some(format!("{a}, {b}")),
            (Some(a), None) => Some(a.to_string()),
            _ => None,
        }
    }

    fn is_about(&self, id: &str) -> bool {
        self.job.as_deref() == Some(id) || self.other.as_deref() == Some(id)
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
}

/// Runs `f` with `call` as the call whose prints go to its log; gives `call`
/// back.
pub(crate) fn within<R>(call: Current, f: impl FnOnce() -> R) -> (R, Current) {
    CURRENT.with(|c| *c.borrow_mut() = Some(call));
    let r = f();
    let call = CURRENT.with(|c| c.borrow_mut().take()).expect("set above, and calls do not nest");
    (r, call)
}

/// The engine's `print` and `debug` hook: the line goes to the log of the call
/// running on this thread (none outside a call, as in a test of the sandbox).
pub(crate) fn print(text: &str, at: Option<Position>) {
    CURRENT.with(|c| {
        if let Some(call) = &*c.borrow() {
            call.log.push(call, text, at);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(log: &Arc<ScriptLog>, job: &str) -> Current {
        Current { log: Arc::clone(log), function: "filter", now: 7, job: Some(job.into()), other: None, node: None }
    }

    #[test]
    fn the_log_keeps_what_live_and_explain_show_and_counts_the_rest() {
        let log = Arc::new(ScriptLog::new());
        log.follow("b");
        for i in 0..100 {
            let job = if i % 10 == 0 { "b" } else { "a" };
            within(call(&log, job), || print(&format!("line {i}"), None));
        }
        assert_eq!(log.printed(), 100);
        let (lines, more) = log.drain();
        assert_eq!((lines.len(), more), (RECENT_KEPT, 100 - RECENT_KEPT as u64));
        assert_eq!(lines[0].to_string(), "(fn filter, job b): line 0");
        assert_eq!(log.followed().len(), 10, "every line about the followed job");
        assert_eq!(log.drain(), (vec![], 0), "a drain takes what it shows");
    }

    #[test]
    fn a_long_line_is_cut_and_a_print_outside_a_call_goes_nowhere() {
        let log = Arc::new(ScriptLog::new());
        within(call(&log, "a"), || print(&"x".repeat(1000), None));
        print("nobody's", None);
        let (lines, _) = log.drain();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text.chars().count(), LINE_MAX + 1);
        assert!(lines[0].text.ends_with('…'));
    }
}
