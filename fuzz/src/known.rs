//! Findings the issue already names, so that a run tells them from new ones.
//!
//! Each entry matches a finding by target, kind and a piece of its message, and
//! names the defect of issue 12 it belongs to. A run exits 1 only for findings
//! no entry matches. When a stream fixes a defect, its entries here go: a known
//! finding that no longer occurs is harmless, but an entry left behind would
//! hide a regression.

use crate::{Finding, Kind};

/// A known finding: the target (`"*"`: any), the kind, a piece of the
/// message, a piece of the input (`""`: any), and what it is.
pub type Known = (&'static str, Kind, &'static str, &'static str, &'static str);

/// The findings of issue 12 the harness reproduces today (see fuzz/FINDINGS.md).
pub const KNOWN: &[Known] = &[
    // TODO(defect 8, native stream): a verdict's resource index is not checked
    // at the boundary; index 99 panics in the model.
    ("native", Kind::Panic, "index out of bounds", "", "defect 8: a native verdict's resource index is not validated"),
    // TODO(defect 13, inputs stream): a plugin or script error in a cycle drops
    // the cycle's pending jobs from the pending list.
    ("*", Kind::Accounting, "job is in no list", "", "defect 13: a run error drops pending jobs from the pending list"),
    // TODO(defect 16, inputs stream): two identical rows of a pass CSV give
    // two jobs of one id.
    ("passes", Kind::Accounting, "two jobs have one id", "", "defect 16: duplicate pass rows give duplicate job ids"),
    // TODO(defects 12 and 16, inputs stream): a duration of i64::MAX (a CSV,
    // YAML or SWF duration, `seconds_per_contact_second: 1e308`, a migration's
    // `cost_s`) overflows: the run "completes" at its start.
    ("*", Kind::Accounting, "did not last the job's duration", "", "defects 12/16: durations have no upper bound"),
    // TODO(defect 16, inputs stream): `count: 1000000000` in a cluster,
    // `load_per_day: 2147483648` in a scenario abort on allocation.
    ("*", Kind::Abort, "memory allocation of", "", "defect 16: node counts and loads have no bound (allocation abort)"),
    // TODO(defect 16, inputs stream): a large `load_per_day` makes millions of
    // jobs, loaded and sorted past the time limit.
    ("scenario", Kind::Hang, "", "load_per_day", "defect 16: load_per_day has no bound"),
    // TODO(defect 1, scripts stream): `sleep(n)` blocks a script call for n s.
    ("script", Kind::Hang, "", "sleep(", "defect 1: sleep() escapes the per-call budget"),
    // TODO(defect 3, scripts stream): a runaway filter costs its whole budget on
    // every call; under `on_error: reject-node` the run takes minutes.
    ("script", Kind::Hang, "", "loop", "defect 3: a runaway script is not quarantined"),
];

/// The known finding `finding` of `target` on `input` is, if any.
pub fn classify(target: &str, finding: &Finding, input: &[u8]) -> Option<&'static str> {
    let text = String::from_utf8_lossy(input);
    KNOWN
        .iter()
        .find(|(t, kind, piece, in_input, _)| {
            (*t == "*" || *t == target)
                && *kind == finding.kind
                && finding.message.contains(piece)
                && text.contains(in_input)
        })
        .map(|(_, _, _, _, what)| *what)
}
