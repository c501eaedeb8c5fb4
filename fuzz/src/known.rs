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

/// The findings the harness reproduces today that are not fixed yet (see
/// fuzz/FINDINGS.md). Every finding of issue 12 is fixed, so none.
pub const KNOWN: &[Known] = &[];

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
