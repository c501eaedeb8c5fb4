//! The script plugins: a compiled script behind each extension-point trait.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use kairos_model::{
    Candidates, Context, FilterPlugin, Job, JobId, Layout, Move, NodeId, OrderKey, OrderPlugin, PluginError,
    PluginResult, Reason, RebalancePlugin, Running, ScorePlugin, MAX_SCORE,
};
use rhai::{CallFnOptions, Dynamic, Engine, Scope};

use super::sandbox::start_call;
use super::views::{begin_reads, end_reads, CtxView, JobView, JobViews, NodeView, NodeViews, Prop, RunView};
use super::{describe, OnError, Script};

/// What every script plugin holds.
pub(crate) struct Common {
    pub(crate) engine: Arc<Engine>,
    pub(crate) script: Arc<Script>,
    pub(crate) args: Dynamic,
    pub(crate) on_error: OnError,
    pub(crate) errors: Arc<AtomicU64>,
    pub(crate) calls: Arc<AtomicU64>,
    /// Views of the jobs the plugin was called about.
    pub(crate) jobs: JobViews,
}

impl Common {
    /// Calls `function` with `args`; an error becomes a message naming the script.
    fn call(&self, function: &str, args: impl rhai::FuncArgs) -> Result<Dynamic, String> {
        start_call();
        begin_reads();
        self.calls.fetch_add(1, Ordering::Relaxed);
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

/// Remembered results of script calls that read only static properties.
///
/// Most site rules read only what cannot change during a run — the station,
/// band and labels of a node; the satellite, tenant and class of a job — so
/// their result for one (job, node) holds for every job and node with the same
/// values of what was read (Borg's equivalence classes). After each call the
/// plugin knows what it read (the views log it):
///
/// 1. if it read anything dynamic (free capacity, the time, shares), the result
///    is not kept;
/// 2. otherwise the set of properties it read is a *signature*; the nodes of the
///    table fall into classes with equal values of the signature's node
///    properties, and the result is kept for (signature, the job's values of the
///    signature's job properties, the node's class).
///
/// A later pair whose job values and node class match a kept entry of any
/// signature gets the kept result without a call: the script, being
/// deterministic (the sandbox offers no clock or randomness), would read the same
/// properties with the same values and return the same thing. Everything is
/// forgotten when the node table's layout changes or the pipeline is rebuilt
/// (a reload builds new plugins).
pub(crate) struct Memo<T> {
    layout: Option<Layout>,
    sigs: Vec<Sig>,
    results: HashMap<(usize, String), Vec<Option<T>>>,
}

struct Sig {
    /// Job properties read, sorted.
    job: Vec<Prop>,
    /// Node properties read, sorted.
    node: Vec<Prop>,
    /// Class of every node of the table under `node`.
    classes: Vec<u32>,
    /// Number of classes.
    count: usize,
}

/// Job-value entries kept before the memo starts afresh (bounds its memory when
/// a script reads something unique per job, such as its id).
const MEMO_MAX_ENTRIES: usize = 65_536;

impl<T: Clone> Default for Memo<T> {
    fn default() -> Self {
        Memo { layout: None, sigs: Vec::new(), results: HashMap::new() }
    }
}

impl<T: Clone> Memo<T> {
    /// Forgets everything if the node table is not the one remembered.
    fn check_layout(&mut self, layout: Layout) {
        if self.layout != Some(layout) {
            *self = Memo { layout: Some(layout), ..Default::default() };
        }
    }

    /// Takes out, for each known signature, the results kept for this job's values.
    fn take_tables(&mut self, job: &JobView) -> Vec<(String, Vec<Option<T>>)> {
        let sigs = &self.sigs;
        let results = &mut self.results;
        sigs.iter()
            .enumerate()
            .map(|(i, sig)| {
                let key: String = sig.job.iter().map(|&p| job.value(p) + "\u{1f}").collect();
                let table = results.remove(&(i, key.clone())).unwrap_or_else(|| vec![None; sig.count]);
                (key, table)
            })
            .collect()
    }

    /// Puts the tables back after a call.
    fn put_tables(&mut self, tables: Vec<(String, Vec<Option<T>>)>) {
        if self.results.len() > MEMO_MAX_ENTRIES {
            self.results.clear();
        }
        for (i, (key, table)) in tables.into_iter().enumerate() {
            self.results.insert((i, key), table);
        }
    }

    /// A kept result for node `n`, from any signature.
    #[inline]
    fn lookup(&self, tables: &[(String, Vec<Option<T>>)], n: NodeId) -> Option<T> {
        self.sigs.iter().zip(tables).find_map(|(sig, (_, t))| t[sig.classes[n as usize] as usize].clone())
    }

    /// Keeps `value` for node `n`, which a call that read only the static
    /// properties `read` returned.
    #[allow(clippy::too_many_arguments)] // one call site, each argument a different piece of the call
    fn keep(
        &mut self,
        tables: &mut Vec<(String, Vec<Option<T>>)>,
        views: &NodeViews,
        cx: &Context<'_>,
        job: &JobView,
        n: NodeId,
        read: &[Prop],
        value: T,
    ) {
        let mut job_props: Vec<Prop> = read.iter().copied().filter(|p| !p.is_node()).collect();
        let mut node_props: Vec<Prop> = read.iter().copied().filter(|p| p.is_node()).collect();
        job_props.sort();
        node_props.sort();
        let i = match self.sigs.iter().position(|s| s.job == job_props && s.node == node_props) {
            Some(i) => i,
            None => {
                let classes = views.classes(cx, &node_props);
                let count = classes.iter().max().map_or(0, |&m| m as usize + 1);
                let key: String = job_props.iter().map(|&p| job.value(p) + "\u{1f}").collect();
                self.sigs.push(Sig { job: job_props, node: node_props, classes, count });
                tables.push((key, vec![None; count]));
                self.sigs.len() - 1
            }
        };
        let class = self.sigs[i].classes[n as usize] as usize;
        tables[i].1[class] = Some(value);
    }
}

/// A filter written in Rhai.
pub struct ScriptFilter {
    pub(crate) c: Common,
    pub(crate) nodes: NodeViews,
    pub(crate) memo: Mutex<Memo<Option<Reason>>>,
}

impl FilterPlugin for ScriptFilter {
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult {
        let job_view = self.c.jobs.view(job, cx);
        // Built on the first call only: memoized verdicts need no context.
        let mut ctx: Option<CtxView> = None;
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        memo.check_layout(cx.nodes.layout());
        let mut tables = memo.take_tables(&job_view);
        let mut fatal = None;
        candidates.retain(|n| {
            if fatal.is_some() {
                return None;
            }
            if let Some(kept) = memo.lookup(&tables, n) {
                return kept;
            }
            let node = self.nodes.view(cx, n);
            let outcome = self
                .c
                .call(
                    "filter",
                    (job_view.clone(), node, ctx.get_or_insert_with(|| CtxView::new(cx, &self.c.args)).clone()),
                )
                .and_then(|v| verdict(&v).map_err(|m| format!("{}: in fn filter: {m}", self.c.script.path.display())));
            let reads = end_reads();
            match outcome {
                Ok(r) => {
                    if !reads.dynamic {
                        memo.keep(&mut tables, &self.nodes, cx, &job_view, n, &reads.props, r);
                    }
                    r
                }
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
        memo.put_tables(tables);
        fatal.map_or(Ok(()), |e| Err(PluginError(e)))
    }
}

/// A score written in Rhai.
pub struct ScriptScore {
    pub(crate) c: Common,
    pub(crate) nodes: NodeViews,
    pub(crate) memo: Mutex<Memo<f64>>,
}

impl ScorePlugin for ScriptScore {
    fn score(&self, job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
        let job_view = self.c.jobs.view(job, cx);
        // Built on the first call only: memoized scores need no context.
        let mut ctx: Option<CtxView> = None;
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        memo.check_layout(cx.nodes.layout());
        let mut tables = memo.take_tables(&job_view);
        let path = self.c.script.path.display();
        for (&n, s) in nodes.iter().zip(scores.iter_mut()) {
            if let Some(kept) = memo.lookup(&tables, n) {
                *s = kept;
                continue;
            }
            let view = self.nodes.view(cx, n);
            let ctx = ctx.get_or_insert_with(|| CtxView::new(cx, &self.c.args)).clone();
            let outcome = self.c.call("score", (job_view.clone(), view, ctx)).and_then(|v| match number(&v) {
                Some(x) if (0.0..=MAX_SCORE).contains(&x) => Ok(x),
                Some(x) => Err(format!("{path}: in fn score: returned {x}; a score must be within 0..=100")),
                None => Err(format!("{path}: in fn score: returned {}; expected a number", v.type_name())),
            });
            let reads = end_reads();
            *s = match outcome {
                Ok(x) => {
                    if !reads.dynamic {
                        memo.keep(&mut tables, &self.nodes, cx, &job_view, n, &reads.props, x);
                    }
                    x
                }
                Err(e) => {
                    self.c.failed();
                    if self.c.on_error == OnError::Fail {
                        memo.put_tables(tables);
                        return Err(PluginError(e));
                    }
                    0.0
                }
            };
        }
        memo.put_tables(tables);
        Ok(())
    }
}

/// An order written in Rhai: a key per job, or a comparison of two jobs.
pub struct ScriptOrder {
    pub(crate) c: Common,
    /// The script defines `before(a, b, ctx)` rather than `key(job, ctx)`.
    pub(crate) compare: bool,
}

impl OrderPlugin for ScriptOrder {
    fn keys(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        if self.compare {
            return self.ranks(jobs, cx, keys);
        }
        let ctx = CtxView::new(cx, &self.c.args);
        for (job, k) in jobs.iter().zip(keys.iter_mut()) {
            let outcome = self.c.call("key", (self.c.jobs.view(job, cx), ctx.clone()));
            end_reads();
            let outcome = outcome.and_then(|v| match number(&v) {
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

impl ScriptOrder {
    /// Keys from the comparison `before(a, b, ctx)`: the jobs' ranks after
    /// sorting them with it, equal for jobs it ranks neither way.
    ///
    /// A binary insertion sort: it asks about `log2(i)` pairs to insert the
    /// `i`-th job and never relies on the script being a consistent order, so an
    /// inconsistent script gives some order, the same every time, instead of a
    /// panic (the standard library's sorts may panic on one). A failed call
    /// counts as `false`, unless `on_error` is `fail`.
    fn ranks(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        let ctx = CtxView::new(cx, &self.c.args);
        let views: Vec<JobView> = jobs.iter().map(|j| self.c.jobs.view(j, cx)).collect();
        let path = self.c.script.path.display();
        let mut fatal: Option<String> = None;
        let mut before = |a: usize, b: usize| -> bool {
            if fatal.is_some() {
                return false;
            }
            let outcome = self.c.call("before", (views[a].clone(), views[b].clone(), ctx.clone()));
            end_reads();
            let outcome = outcome.and_then(|v| {
                v.as_bool().map_err(|t| format!("{path}: in fn before: returned {v} ({t}); expected true or false"))
            });
            match outcome {
                Ok(x) => x,
                Err(e) => {
                    self.c.failed();
                    if self.c.on_error == OnError::Fail {
                        fatal = Some(e);
                    }
                    false
                }
            }
        };
        let mut sorted: Vec<usize> = Vec::with_capacity(jobs.len());
        for i in 0..jobs.len() {
            // After every job `i` does not go before: stable for ties.
            let (mut lo, mut hi) = (0, sorted.len());
            while lo < hi {
                let mid = (lo + hi) / 2;
                if before(i, sorted[mid]) {
                    hi = mid;
                } else {
                    lo = mid + 1;
                }
            }
            sorted.insert(lo, i);
        }
        let mut rank = 0.0;
        for pos in 0..sorted.len() {
            if pos > 0 && before(sorted[pos - 1], sorted[pos]) {
                rank += 1.0;
            }
            keys[sorted[pos]] = rank;
        }
        fatal.map_or(Ok(()), |e| Err(PluginError(e)))
    }
}

/// A rebalance written in Rhai: asked about each running job, every cycle.
///
/// Most running jobs stay where they are, for a reason that reads only static
/// properties (a drain policy compares the node's name with its list first), so
/// results are memoized as a filter's are: a call that read nothing dynamic (the
/// time, the run, free capacity) is not repeated for a job and node with the
/// same values of what it read.
pub struct ScriptRebalance {
    pub(crate) c: Common,
    pub(crate) nodes: NodeViews,
    pub(crate) memo: Mutex<Memo<Verdict>>,
}

/// What a rebalance script says about one running job.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Verdict {
    Stay,
    Relocate,
    Migrate(NodeId),
    Evict(&'static str),
}

impl Verdict {
    fn to_move(self, job: JobId) -> Option<Move> {
        match self {
            Verdict::Stay => None,
            Verdict::Relocate => Some(Move::Relocate { job }),
            Verdict::Migrate(to) => Some(Move::Migrate { job, to }),
            Verdict::Evict(reason) => Some(Move::Evict { job, reason }),
        }
    }
}

impl RebalancePlugin for ScriptRebalance {
    fn rebalance(&self, cx: &Context<'_>, running: &[Running], moves: &mut Vec<Move>) -> PluginResult {
        if running.is_empty() {
            return Ok(());
        }
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        memo.check_layout(cx.nodes.layout());
        let mut ctx: Option<CtxView> = None;
        let path = self.c.script.path.display();
        for r in running {
            let job = self.c.jobs.view(&cx.jobs[r.job as usize], cx);
            let mut tables = memo.take_tables(&job);
            if let Some(kept) = memo.lookup(&tables, r.node) {
                memo.put_tables(tables);
                moves.extend(kept.to_move(r.job));
                continue;
            }
            let node = self.nodes.view(cx, r.node);
            let run = RunView::new(r.started, r.expected_end);
            let ctx = ctx.get_or_insert_with(|| CtxView::new(cx, &self.c.args)).clone();
            let outcome = self
                .c
                .call("rebalance", (job.clone(), node, run, ctx))
                .and_then(|v| proposal(&v, cx).map_err(|m| format!("{path}: in fn rebalance: {m}")));
            let reads = end_reads();
            match outcome {
                Ok(v) => {
                    if !reads.dynamic {
                        memo.keep(&mut tables, &self.nodes, cx, &job, r.node, &reads.props, v);
                    }
                    moves.extend(v.to_move(r.job));
                }
                Err(e) => {
                    self.c.failed();
                    if self.c.on_error == OnError::Fail {
                        memo.put_tables(tables);
                        return Err(PluginError(e));
                    }
                }
            }
            memo.put_tables(tables);
        }
        Ok(())
    }
}

/// What a rebalance script returned, read.
fn proposal(v: &Dynamic, cx: &Context<'_>) -> Result<Verdict, String> {
    const SHAPES: &str = "expected (), false, \"relocate\", #{ migrate: NODE } or #{ evict: \"code\" }";
    if v.is_unit() || v.as_bool() == Ok(false) {
        return Ok(Verdict::Stay);
    }
    if let Some(s) = v.read_lock::<rhai::ImmutableString>() {
        return match s.as_str() {
            "relocate" => Ok(Verdict::Relocate),
            "stay" => Ok(Verdict::Stay),
            other => Err(format!("returned \"{other}\"; {SHAPES}")),
        };
    }
    if let Some(m) = v.read_lock::<rhai::Map>() {
        let keys: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
        return match keys.as_slice() {
            ["migrate"] => {
                let target = &m["migrate"];
                let name = if let Some(n) = target.read_lock::<NodeView>() {
                    n.name().to_string()
                } else if let Some(s) = target.read_lock::<rhai::ImmutableString>() {
                    s.to_string()
                } else {
                    return Err(format!("`migrate` must be a node or a node name, got {}", target.type_name()));
                };
                match cx.nodes.names.iter().position(|n| *n == name) {
                    Some(to) => Ok(Verdict::Migrate(to as NodeId)),
                    None => Err(format!("`migrate` names node `{name}`, which the cluster does not have")),
                }
            }
            ["evict"] => match m["evict"].read_lock::<rhai::ImmutableString>() {
                Some(code) if !code.trim().is_empty() => Ok(Verdict::Evict(intern(&code))),
                _ => Err(format!("`evict` must be a reason code, got {}", m["evict"])),
            },
            _ => Err(format!("returned a map with keys {keys:?}; {SHAPES}")),
        };
    }
    Err(format!("returned {}; {SHAPES}", v.type_name()))
}
