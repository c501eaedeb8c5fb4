//! The script plugins: a compiled script behind each extension-point trait.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kairos_model::{
    Candidates, Context, FilterPlugin, Job, NodeId, OrderKey, OrderPlugin, PluginError, PluginResult, Reason,
    ScorePlugin, MAX_SCORE,
};
use rhai::{CallFnOptions, Dynamic, Engine, Scope};

use super::sandbox::start_call;
use super::views::{CtxView, JobView, NodeViews};
use super::{describe, OnError, Script};

/// What every script plugin holds.
pub(crate) struct Common {
    pub(crate) engine: Arc<Engine>,
    pub(crate) script: Arc<Script>,
    pub(crate) args: Dynamic,
    pub(crate) on_error: OnError,
    pub(crate) errors: Arc<AtomicU64>,
}

impl Common {
    /// Calls `function` with `args`; an error becomes a message naming the script.
    fn call(&self, function: &str, args: impl rhai::FuncArgs) -> Result<Dynamic, String> {
        start_call();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        self.engine
            .call_fn_with_options::<Dynamic>(options, &mut Scope::new(), &self.script.ast, function, args)
            .map_err(|e| describe(&self.script.path, function, &e))
    }

    fn failed(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Reason codes scripts return are interned once and kept, so a rejection stays
/// a `Copy` value. Distinct codes are capped: a script that makes up a new code
/// every call cannot grow the host without bound.
fn intern(code: &str) -> &'static str {
    const MAX_CODES: usize = 1024;
    static CODES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = CODES.lock().unwrap_or_else(|e| e.into_inner());
    let codes = guard.get_or_insert_with(HashSet::new);
    if let Some(&c) = codes.get(code) {
        return c;
    }
    if codes.len() >= MAX_CODES {
        return "script-reason";
    }
    let c: &'static str = Box::leak(code.to_owned().into_boxed_str());
    codes.insert(c);
    c
}

/// A filter script's verdict on one node.
fn verdict(v: &Dynamic) -> Result<Option<Reason>, String> {
    if let Ok(pass) = v.as_bool() {
        return Ok((!pass).then(|| Reason::transient("script")));
    }
    if let Some(code) = v.read_lock::<rhai::ImmutableString>() {
        return Ok(Some(Reason::transient(intern(&code))));
    }
    if let Some(m) = v.read_lock::<rhai::Map>() {
        let code = m.get("reason").and_then(|r| r.read_lock::<rhai::ImmutableString>().map(|s| s.to_string()));
        let permanent = m.get("permanent").and_then(|p| p.as_bool().ok()).unwrap_or(false);
        return match code {
            Some(c) if permanent => Ok(Some(Reason::permanent(intern(&c)))),
            Some(c) => Ok(Some(Reason::transient(intern(&c)))),
            None => Err("a rejection map needs a string `reason`".to_owned()),
        };
    }
    Err(format!("returned {} from filter; expected a bool, a reason string or #{{ reason, permanent }}", v.type_name()))
}

/// A number a script returned, as `f64`.
fn number(v: &Dynamic) -> Option<f64> {
    v.as_float().ok().or_else(|| v.as_int().ok().map(|i| i as f64))
}

/// A filter written in Rhai.
pub struct ScriptFilter {
    pub(crate) c: Common,
    pub(crate) nodes: NodeViews,
}

impl FilterPlugin for ScriptFilter {
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult {
        let job_view = JobView::new(job, cx);
        let ctx = CtxView::new(cx, &self.c.args);
        let views = self.nodes.views(cx, candidates.ids());
        let mut fatal = None;
        let mut i = 0;
        candidates.retain(|_| {
            let node = views[i].clone();
            i += 1;
            if fatal.is_some() {
                return None;
            }
            let outcome = self
                .c
                .call("filter", (job_view.clone(), node, ctx.clone()))
                .and_then(|v| verdict(&v).map_err(|m| format!("{}: in fn filter: {m}", self.c.script.path.display())));
            match outcome {
                Ok(r) => r,
                Err(e) => {
                    self.c.failed();
                    match self.c.on_error {
                        OnError::RejectNode => Some(Reason::transient("script-error")),
                        OnError::SkipPlugin => None,
                        OnError::Fail => {
                            fatal = Some(e);
                            None
                        }
                    }
                }
            }
        });
        fatal.map_or(Ok(()), |e| Err(PluginError(e)))
    }
}

/// A score written in Rhai.
pub struct ScriptScore {
    pub(crate) c: Common,
    pub(crate) nodes: NodeViews,
}

impl ScorePlugin for ScriptScore {
    fn score(&self, job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
        let job_view = JobView::new(job, cx);
        let ctx = CtxView::new(cx, &self.c.args);
        for (view, s) in self.nodes.views(cx, nodes).into_iter().zip(scores.iter_mut()) {
            let outcome = self.c.call("score", (job_view.clone(), view, ctx.clone())).and_then(|v| match number(&v) {
                Some(x) if (0.0..=MAX_SCORE).contains(&x) => Ok(x),
                Some(x) => Err(format!(
                    "{}: in fn score: returned {x}; a score must be within 0..=100",
                    self.c.script.path.display()
                )),
                None => Err(format!(
                    "{}: in fn score: returned {}; expected a number",
                    self.c.script.path.display(),
                    v.type_name()
                )),
            });
            *s = match outcome {
                Ok(x) => x,
                Err(e) => {
                    self.c.failed();
                    if self.c.on_error == OnError::Fail {
                        return Err(PluginError(e));
                    }
                    0.0
                }
            };
        }
        Ok(())
    }
}

/// An order key written in Rhai.
pub struct ScriptOrder {
    pub(crate) c: Common,
}

impl OrderPlugin for ScriptOrder {
    fn keys(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        let ctx = CtxView::new(cx, &self.c.args);
        for (job, k) in jobs.iter().zip(keys.iter_mut()) {
            let outcome = self.c.call("key", (JobView::new(job, cx), ctx.clone())).and_then(|v| match number(&v) {
                Some(x) if x.is_finite() => Ok(x),
                _ => Err(format!(
                    "{}: in fn key: returned {}; expected a finite number",
                    self.c.script.path.display(),
                    v
                )),
            });
            *k = match outcome {
                Ok(x) => x,
                Err(e) => {
                    self.c.failed();
                    match self.c.on_error {
                        OnError::RejectNode => f64::MAX,
                        OnError::SkipPlugin => 0.0,
                        OnError::Fail => return Err(PluginError(e)),
                    }
                }
            };
        }
        Ok(())
    }
}
