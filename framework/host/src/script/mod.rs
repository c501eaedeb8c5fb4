//! Policy scripts in Rhai, at every extension point.
//!
//! A pipeline entry may name a script instead of a built-in plugin:
//!
//! ```yaml
//! filter:
//!   - script: ../../policies/station-maintenance.rhai   # relative to the pipeline file
//!     args: { windows: [ { station: Kiruna-Esrange, from: 36000, to: 43200 } ] }
//!     on_error: reject-node      # reject-node (default) | skip-plugin | fail
//! ```
//!
//! # Entry points
//! A script defines the function of the extension point it is used at:
//!
//! | point | function | returns |
//! |---|---|---|
//! | filter | `fn filter(job, node, ctx)` | `true` to let the node through; `reject("code")` to reject it (waiting may help); `reject_forever("code")` to reject it for good; `#{ reason: "code", permanent: BOOL }` for either; `false` to reject it with [`verdict::REJECTED_BY_SCRIPT`]. A bare string is refused ([`lint`], [`verdict`]) |
//! | score | `fn score(job, node, ctx)` | a number in `0..=100`, higher is better; the entry's `weight` applies |
//! | order, by key | `fn key(job, ctx)` | a number; lower goes first |
//! | order, by comparison | `fn before(a, b, ctx)` | `true` when job `a` should go before job `b` |
//! | rebalance | `fn rebalance(job, node, run, ctx)` | for a running `job` on `node`: `()`, `false` or `"stay"` to leave it; `"relocate"` to move it where the pipeline's filters and scores would place it now; `#{ migrate: NODE }` (a name or a node) to move it there; `#{ evict: "code" }` to stop it and queue it again |
//!
//! An order script defines `key` or `before`, not both. With `key` the host
//! asks for one number per pending job each cycle; with `before` it sorts the
//! pending jobs with the script as the comparison (a binary insertion sort that
//! stays total and deterministic whatever the script answers: about
//! `n·log2(n) + n` calls for `n` pending jobs, so prefer `key` when a number
//! will do) and gives equal keys to the jobs the script ranks neither way.
//!
//! A rebalance script is called each cycle once per running job; `run` holds
//! `started` and `expected_end` (seconds). A migrated job keeps its progress, an
//! evicted one restarts; the host validates every move against the state as it
//! is applied (the target is up, passes the pipeline's filters, holds the
//! request) and counts refused moves in the report.
//!
//! The objects are described in [`views`]. A script cannot change host state:
//! its only effect is what it returns. Scripts run in the sandbox of
//! [`sandbox::engine`].
//!
//! # Errors
//! A script that throws, exceeds a limit, or returns the wrong type or a score
//! out of range fails *that call*; the error names the script, the line and
//! column where Rhai knows them, and the function. The entry's `on_error` decides
//! what the host does with the node (or job) at hand:
//!
//! | `on_error` | filter | score | order | rebalance |
//! |---|---|---|---|---|
//! | `reject-node` (default) | the node is rejected (`script-error`, transient) | the node scores 0 | the job goes last (`before`: the comparison counts as `false`) | the job stays |
//! | `skip-plugin` | the node passes this filter | the node scores 0 | the job's key is 0 (`before`: `false`) | the job stays |
//! | `fail` | the run stops with the error | the run stops | the run stops | the run stops |
//!
//! Every error is counted per script, and the first one is shown, with where it
//! happened and on which job and node, in the report and in `kairos explain`.
//! A script whose calls keep failing is quarantined for the rest of its revision
//! ([`crate::health`]). Calls are bounded by an operation budget, never by time
//! ([`budget`]); the wall-clock [`watchdog`] is a last resort reported apart.
//! What scripts print goes to their [`log`].
//!
//! # Tests
//! A script may carry test cases beside it (`NAME.test.yaml` beside
//! `NAME.rhai`), which `kairos policy test` runs; `kairos check` calls every
//! script of a pipeline once on a sample job and node. See [`policy_test`].

pub mod budget;
pub mod lint;
pub mod log;
pub mod policy_test;
pub mod sandbox;
pub mod verdict;
pub mod views;

mod plugin;
pub mod watchdog;

pub(crate) use plugin::Common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kairos_model::ExtensionPoint;
use rhai::{Engine, EvalAltResult, Position, AST};
use serde::Deserialize;

pub use plugin::{ScriptFilter, ScriptOrder, ScriptRebalance, ScriptScore};

/// What the host does when a script call fails.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnError {
    /// Safe default: reject the node (filter), score it 0 (score), order the job last (order).
    #[default]
    RejectNode,
    /// Act as if the plugin were not there for this call.
    SkipPlugin,
    /// Stop the run with the error.
    Fail,
}

/// A compiled script.
pub struct Script {
    /// The file.
    pub path: PathBuf,
    /// Its compiled form.
    pub ast: AST,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script").field("path", &self.path).finish()
    }
}

/// A function a script may define to serve an extension point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryPoint {
    /// The function's name.
    pub name: &'static str,
    /// Its number of parameters.
    pub arity: usize,
    /// Its signature, as the documentation writes it.
    pub signature: &'static str,
}

const FILTER: EntryPoint = EntryPoint { name: "filter", arity: 3, signature: "fn filter(job, node, ctx)" };
const SCORE: EntryPoint = EntryPoint { name: "score", arity: 3, signature: "fn score(job, node, ctx)" };
/// The order entry point by key.
pub const KEY: EntryPoint = EntryPoint { name: "key", arity: 2, signature: "fn key(job, ctx)" };
/// The order entry point by comparison.
pub const BEFORE: EntryPoint = EntryPoint { name: "before", arity: 3, signature: "fn before(a, b, ctx)" };
const REBALANCE: EntryPoint =
    EntryPoint { name: "rebalance", arity: 4, signature: "fn rebalance(job, node, run, ctx)" };

/// The functions a script may define to serve `point`; it defines exactly one.
pub fn entry_points(point: ExtensionPoint) -> &'static [EntryPoint] {
    match point {
        ExtensionPoint::Filter => &[FILTER],
        ExtensionPoint::Score => &[SCORE],
        ExtensionPoint::Order => &[KEY, BEFORE],
        ExtensionPoint::Rebalance => &[REBALANCE],
    }
}

/// A script error as a message: `path:line:col: in fn NAME: what` (without
/// line and column when Rhai does not know them).
pub fn describe(path: &Path, function: &str, err: &EvalAltResult) -> String {
    let (at, msg) = location(path, err);
    format!("{at}: in fn {function}: {msg}")
}

/// Where a script error happened (`path:line:col`, or less where Rhai does not
/// know), and what it says.
pub(crate) fn location(path: &Path, err: &EvalAltResult) -> (String, String) {
    let pos = err.position();
    let mut msg = match budget::stop_of(err) {
        // The operation budget and the watchdog end a call with their own message.
        Some(stop) => stop.to_string(),
        None => err.to_string(),
    };
    // Rhai appends " (line L, position C)" to messages; the location says it already.
    if let Some(i) = msg.rfind(" (line ") {
        msg.truncate(i);
    }
    let at = match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}", path.display()),
        (Some(l), None) => format!("{}:{l}", path.display()),
        _ => path.display().to_string(),
    };
    (at, msg)
}

/// Compiles the script at `path`. A syntax error, and whatever [`lint`] refuses
/// (a call of `sleep`, a filter returning a bare string), is returned with its
/// position; every finding is reported.
pub fn compile(engine: &Engine, path: &Path) -> Result<Script, crate::Error> {
    let source = crate::yaml::read(path)?;
    match engine.compile(&source) {
        Ok(ast) => {
            let findings = lint::check(&ast);
            let errors = findings
                .into_iter()
                .map(|f| {
                    let p = crate::Pos::new(f.line as u64, f.column as u64);
                    crate::error::input_error(path, Some(&source), p, f.message)
                })
                .collect();
            crate::Error::collect(errors)?;
            Ok(Script { path: path.to_owned(), ast })
        }
        Err(e) => {
            let pos: Position = e.position();
            let p = crate::Pos::new(pos.line().unwrap_or(0) as u64, pos.position().unwrap_or(0) as u64);
            Err(crate::Error::at(path, Some(&source), p, format!("syntax error: {}", e.err_type())))
        }
    }
}

/// Checks that `script` defines one entry point of `point` with the right
/// arity, and returns it.
pub fn check_entry(script: &Script, point: ExtensionPoint) -> Result<EntryPoint, String> {
    let arities = |name: &str| -> Vec<usize> {
        script.ast.iter_functions().filter(|f| f.name == name).map(|f| f.params.len()).collect()
    };
    let wanted = entry_points(point);
    let found: Vec<EntryPoint> = wanted.iter().copied().filter(|e| arities(e.name).contains(&e.arity)).collect();
    let path = script.path.display();
    let a = if point == ExtensionPoint::Order { "an" } else { "a" };
    match found.as_slice() {
        [one] => return Ok(*one),
        [first, second, ..] => {
            return Err(format!(
                "{path} defines both `{}` and `{}`; {a} {point} script defines one of them",
                first.signature, second.signature
            ))
        }
        [] => {}
    }
    // Name the first function with a right name but a wrong arity, if any.
    for e in wanted {
        if let Some(n) = arities(e.name).first() {
            return Err(format!(
                "{path} defines `{}` with {n} parameter{}; {a} {point} script needs `{}`",
                e.name,
                if *n == 1 { "" } else { "s" },
                e.signature
            ));
        }
    }
    let signatures: Vec<String> = wanted.iter().map(|e| format!("`{}`", e.signature)).collect();
    Err(format!("{path} has no {}, which {a} {point} script needs", signatures.join(" or ")))
}

/// One engine for all scripts of a pipeline, from the one constructor.
pub fn shared_engine() -> Arc<Engine> {
    Arc::new(sandbox::engine(sandbox::Limits::default()))
}

/// The same sandbox, strict about comparing values of different types: for
/// `kairos check` and `kairos policy test` (see [`sandbox::strict_engine`]).
pub fn strict_engine() -> Arc<Engine> {
    Arc::new(sandbox::strict_engine(sandbox::Limits::default()))
}

#[cfg(test)]
mod tests;
