//! The fuzz harness of kairos: every parser and boundary a user's input reaches,
//! driven by mutated inputs on the stable toolchain.
//!
//! # How a run works
//! 1. A **target** ([`targets`]) takes one input — a YAML or CSV file, an SWF
//!    trace, a policy-test file, a Rhai script, or a byte tape that a native
//!    plugin's return values are read from — and puts it through the host the
//!    way the CLI would: the loader, then, when it loads, a small simulation.
//! 2. The **driver** ([`driver`]) keeps a corpus (the seeds in `fuzz/corpus/`
//!    plus every input that did something new), picks one, mutates it
//!    ([`mutate`], seeded, so a run is repeatable) and sends it to a **worker**
//!    ([`worker`]): a child process of the same binary, so that an abort (an
//!    allocation failure, a plugin built with `panic = "abort"`) or a hang kills
//!    or stalls the worker, not the driver. The driver restarts it and records
//!    the input.
//! 3. The worker runs the target under `catch_unwind` and applies the
//!    **checks** ([`oracle`]): no panic; every job accounted for after the run
//!    (completed + missed + rejected + lost + pending + running = total, no job
//!    id twice, none running after the end); capacity never over-committed at any
//!    instant; the pending list holds every pending job, also after a run error;
//!    and the same input gives the same report twice.
//! 4. Each problem is a [`Finding`]; the driver saves the input that caused it
//!    under `fuzz/artifacts/TARGET/`, folds findings with the same signature, and
//!    tells the ones the issue already names ([`known`]) from new ones.
//!
//! Feedback is by behaviour, not coverage: an input is kept when its outcome
//! (the loader's error with digits folded, or the shape of the run's result)
//! has not been seen before. Coverage-guided engines (libFuzzer through
//! cargo-fuzz, AFL) need compiler instrumentation and extra tools; this harness
//! needs only `cargo`.

#![warn(missing_docs)]

pub mod driver;
pub mod known;
pub mod mutate;
pub mod oracle;
pub mod scratch;
pub mod targets;
pub mod worker;

use std::fmt;

/// What an input did when it did nothing wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A loader refused it, as it should refuse bad input.
    Refused {
        /// The error's first line, with digits folded (what is new about it).
        signature: String,
        /// Whether every error named a line of the file.
        positioned: bool,
        /// The error, as the CLI would print it (first line).
        message: String,
    },
    /// It loaded, and ran when the target runs what it loads.
    Ran {
        /// The shape of the result (what is new about it).
        signature: String,
    },
}

impl Outcome {
    /// What makes this outcome new to the corpus.
    pub fn signature(&self) -> &str {
        match self {
            Outcome::Refused { signature, .. } | Outcome::Ran { signature } => signature,
        }
    }
}

/// The kinds of problem the harness looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The host panicked (caught in the worker).
    Panic,
    /// The worker process died: an abort, a signal, an allocation failure.
    Abort,
    /// The input ran past the per-input time limit.
    Hang,
    /// A job was lost, placed twice, or capacity over-committed.
    Accounting,
    /// The same input gave two different reports.
    Nondeterminism,
    /// The `kairos` binary, run on the input, panicked or exited oddly.
    Cli,
    /// The harness itself failed (a file it could not write, a binary it could
    /// not start): not a finding about kairos, but it stops the run counting.
    Harness,
}

impl Kind {
    /// Lower-case name, used in artifact names and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Panic => "panic",
            Kind::Abort => "abort",
            Kind::Hang => "hang",
            Kind::Accounting => "accounting",
            Kind::Nondeterminism => "nondeterminism",
            Kind::Cli => "cli",
            Kind::Harness => "harness",
        }
    }

    /// The kind named `s`.
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Panic, Kind::Abort, Kind::Hang, Kind::Accounting, Kind::Nondeterminism, Kind::Cli, Kind::Harness]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A problem an input caused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// What kind.
    pub kind: Kind,
    /// What happened, in one or a few lines.
    pub message: String,
}

impl Finding {
    /// A finding of `kind`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Finding {
        Finding { kind, message: message.into() }
    }

    /// Findings with the same signature are one problem: the kind and the
    /// message's first line with numbers folded (so `index 99` and `index 7`
    /// of one bounds check count once).
    pub fn signature(&self) -> String {
        format!("{}: {}", self.kind.as_str(), fold(self.message.lines().next().unwrap_or("")))
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

/// `text` with every run of digits replaced by `N` and cut to 160 characters:
/// messages that differ only in numbers fold together.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('N');
            }
            in_digits = true;
        } else {
            in_digits = false;
            out.push(c);
        }
        if out.len() >= 160 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_fold_in_a_signature() {
        let cases = [
            ("index 99 is out of range for 4", "index N is out of range for N"),
            ("p.yaml:3:13: a weight", "p.yaml:N:N: a weight"),
            ("no digits", "no digits"),
        ];
        for (text, want) in cases {
            assert_eq!(fold(text), want, "{text}");
        }
    }

    #[test]
    fn findings_that_differ_only_in_numbers_have_one_signature() {
        let a = Finding::new(
            Kind::Panic,
            "panicked at src/x.rs:10:5: index out of bounds: the len is 4 but the index is 99",
        );
        let b = Finding::new(
            Kind::Panic,
            "panicked at src/x.rs:10:5: index out of bounds: the len is 2 but the index is 7",
        );
        assert_eq!(a.signature(), b.signature());
        assert_ne!(a.signature(), Finding::new(Kind::Hang, a.message.clone()).signature());
    }
}
