//! Policy scripts in Rhai, at the order, filter and score extension points.
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
//! | filter | `fn filter(job, node, ctx)` | `true` to let the node through; `false` or a string reason code to reject it (waiting may help); `#{ reason: "code", permanent: true }` to reject it for good |
//! | score | `fn score(job, node, ctx)` | a number in `0..=100`, higher is better; the entry's `weight` applies |
//! | order | `fn key(job, ctx)` | a number; lower goes first |
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
//! | `on_error` | filter | score | order |
//! |---|---|---|---|
//! | `reject-node` (default) | the node is rejected (`script-error`, transient) | the node scores 0 | the job goes last |
//! | `skip-plugin` | the node passes this filter | the node scores 0 | the job's key is 0 |
//! | `fail` | the run stops with the error | the run stops | the run stops |
//!
//! Every error is counted per script and shown in the report.
//!
//! # Tests
//! A script may carry test cases beside it (`NAME.test.yaml` beside
//! `NAME.rhai`), which `kairos policy test` runs; `kairos check` calls every
//! script of a pipeline once on a sample job and node. See [`policy_test`].

pub mod policy_test;
pub mod sandbox;
pub mod views;

mod plugin;

pub(crate) use plugin::Common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kairos_model::ExtensionPoint;
use rhai::{Engine, EvalAltResult, Position, AST};
use serde::Deserialize;

pub use plugin::{ScriptFilter, ScriptOrder, ScriptScore};

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

/// The function a script must define at `point`, and its arity; `None` where
/// scripts are not supported.
pub fn entry_point(point: ExtensionPoint) -> Option<(&'static str, usize, &'static str)> {
    match point {
        ExtensionPoint::Filter => Some(("filter", 3, "fn filter(job, node, ctx)")),
        ExtensionPoint::Score => Some(("score", 3, "fn score(job, node, ctx)")),
        ExtensionPoint::Order => Some(("key", 2, "fn key(job, ctx)")),
        ExtensionPoint::Rebalance => None,
    }
}

/// A script error as a message: `path:line:col: in fn NAME: what` (without
/// line and column when Rhai does not know them).
pub fn describe(path: &Path, function: &str, err: &EvalAltResult) -> String {
    let pos = err.position();
    let mut msg = match err {
        // The sandbox's time budget ends a call with its own message.
        EvalAltResult::ErrorTerminated(reason, _) if reason.is_string() => reason.to_string(),
        _ => err.to_string(),
    };
    // Rhai appends " (line L, position C)" to messages; the prefix says it already.
    if let Some(i) = msg.rfind(" (line ") {
        msg.truncate(i);
    }
    match (pos.line(), pos.position()) {
        (Some(l), Some(c)) => format!("{}:{l}:{c}: in fn {function}: {msg}", path.display()),
        (Some(l), None) => format!("{}:{l}: in fn {function}: {msg}", path.display()),
        _ => format!("{}: in fn {function}: {msg}", path.display()),
    }
}

/// Compiles the script at `path`; a syntax error is returned with its position.
pub fn compile(engine: &Engine, path: &Path) -> Result<Script, crate::Error> {
    let source = crate::yaml::read(path)?;
    match engine.compile(&source) {
        Ok(ast) => Ok(Script { path: path.to_owned(), ast }),
        Err(e) => {
            let pos: Position = e.position();
            let p = crate::Pos::new(pos.line().unwrap_or(0) as u64, pos.position().unwrap_or(0) as u64);
            Err(crate::Error::at(path, Some(&source), p, format!("syntax error: {}", e.err_type())))
        }
    }
}

/// Checks that `script` defines the entry point of `point` with the right arity.
pub fn check_entry(script: &Script, point: ExtensionPoint) -> Result<(), String> {
    let Some((name, arity, signature)) = entry_point(point) else {
        return Err(format!("scripts are not supported at the {point} extension point yet"));
    };
    let found: Vec<usize> = script.ast.iter_functions().filter(|f| f.name == name).map(|f| f.params.len()).collect();
    if found.contains(&arity) {
        return Ok(());
    }
    Err(match found.first() {
        Some(n) => format!(
            "{} defines `{name}` with {n} parameter{}; a {point} script needs `{signature}`",
            script.path.display(),
            if *n == 1 { "" } else { "s" }
        ),
        None => format!("{} has no `{signature}`, which a {point} script needs", script.path.display()),
    })
}

/// One engine for all scripts of a pipeline, from the one constructor.
pub fn shared_engine() -> Arc<Engine> {
    Arc::new(sandbox::engine(sandbox::Limits::default()))
}

#[cfg(test)]
mod tests;
