//! Findings the issue already names, so that a run tells them from new ones.
//!
//! Each entry matches a finding by target, kind and a piece of its message, and
//! names the defect of issue 12 it belongs to. A run exits 1 only for findings
//! no entry matches. When a stream fixes a defect, its entries here go: a known
//! finding that no longer occurs is harmless, but an entry left behind would
//! hide a regression.

use crate::{Finding, Kind};

/// A known finding: `(target or "*", kind, a piece of the message, what it is)`.
pub type Known = (&'static str, Kind, &'static str, &'static str);

/// The findings of issue 12 the harness reproduces today (see fuzz/FINDINGS.md).
pub const KNOWN: &[Known] = &[];

/// The known finding `finding` of `target` is, if any.
pub fn classify(target: &str, finding: &Finding) -> Option<&'static str> {
    KNOWN
        .iter()
        .find(|(t, kind, piece, _)| (*t == "*" || *t == target) && *kind == finding.kind && finding.message.contains(piece))
        .map(|(_, _, _, what)| *what)
}
