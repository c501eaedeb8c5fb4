//! The script plugins: a compiled script behind each extension-point trait.
//!
//! Every call goes through [`Common::call`], in one place: it skips a
//! quarantined script (see [`crate::health`]), runs the call within its
//! operation budget with its prints going to the script's log, reads the value
//! at the boundary ([`super::verdict`]) and reports the outcome to the script's
//! [`Health`]. What a failed or skipped call means for the node or job at hand
//! is the entry's `on_error` ([`Common::fallback`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kairos_model::{
    Candidates, Context, FilterPlugin, Job, JobId, Layout, Move, NodeId, OrderKey, OrderPlugin, PluginError,
    PluginResult, Reason, RebalancePlugin, Running, ScorePlugin, Time,
};
use rhai::{CallFnOptions, Dynamic, Engine, ImmutableString, Scope};

use super::budget::{stop_of, Stop};
use super::log::{self, ScriptLog};
use super::sandbox::{end_call, start_call};
use super::verdict::{self, Proposal};
use super::views::{begin_reads, end_reads, CtxView, JobView, JobViews, NodeViews, Prop, RunView};
use super::{location, OnError, Script};
use crate::health::{CallError, FailureKind, Health};

/// What every script plugin holds.
pub(crate) struct Common {
    pub(crate) engine: Arc<Engine>,
    pub(crate) script: Arc<Script>,
    pub(crate) args: Dynamic,
    pub(crate) on_error: OnError,
    /// Calls, failures and quarantine of this entry in this revision.
    pub(crate) health: Arc<Health>,
    /// What the script printed.
    pub(crate) log: Arc<ScriptLog>,
    /// Views of the jobs the plugin was called about.
    pub(crate) jobs: JobViews,
}

/// What a call is about: for its error, and for the lines it prints.
pub(crate) struct Site {
    pub(crate) now: Time,
    pub(crate) job: Option<ImmutableString>,
    /// The second job of a comparison.
    pub(crate) other: Option<ImmutableString>,
    pub(crate) node: Option<ImmutableString>,
}

/// A call that gave no usable value.
pub(crate) enum Failed {
    /// The script is quarantined: it was not called.
    Skipped,
    /// It failed; the message names the script, where, and the function.
    Error(String),
}

impl Common {
    /// Calls `function` with `args` about `site`, and reads what it returned
    /// with `read` (see the module docs). The caller collects what the call
    /// read with `end_reads` (for the memo).
    fn call<T>(
        &self,
        function: &'static str,
        site: Site,
        args: impl rhai::FuncArgs,
        read: impl FnOnce(&Dynamic) -> Result<T, String>,
    ) -> Result<T, Failed> {
        if self.health.quarantined() {
            self.health.skipped();
            return Err(Failed::Skipped);
        }
        self.health.called();
        start_call();
        begin_reads();
        let options = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let current = log::Current {
            log: Arc::clone(&self.log),
            function,
            now: site.now,
            job: site.job,
            other: site.other,
            node: site.node,
        };
        let (result, current) = log::within(current, || {
            self.engine.call_fn_with_options::<Dynamic>(options, &mut Scope::new(), &self.script.ast, function, args)
        });
        end_call();
        let (kind, at, message) = match result.map(|v| read(&v)) {
            Ok(Ok(value)) => {
                self.health.succeeded();
                return Ok(value);
            }
            Ok(Err(m)) => (FailureKind::Error, self.script.path.display().to_string(), m),
            Err(e) => {
                let kind = match stop_of(&e) {
                    Some(Stop::Watchdog(_)) => FailureKind::Watchdog,
                    _ => FailureKind::Error,
                };
                let (at, message) = location(&self.script.path, &e);
                (kind, at, message)
            }
        };
        let error = CallError {
            message,
            at,
            function: function.to_owned(),
            job: current.job(),
            node: current.node.as_ref().map(|n| n.to_string()),
            time: current.now,
            kind,
        };
        let text = error.to_string();
        self.health.failed(kind, || error);
        Err(Failed::Error(text))
    }

    /// What a failed or skipped call means, by the entry's `on_error`: `reject`
    /// (`reject-node`), `skip` (`skip-plugin`), or the error that stops the run
    /// (`fail`; a script under `fail` is never quarantined, it stops first).
    fn fallback<T>(&self, failed: Failed, reject: T, skip: T) -> Result<T, String> {
        match (self.on_error, failed) {
            (OnError::Fail, Failed::Error(e)) => Err(e),
            (OnError::SkipPlugin, _) => Ok(skip),
            _ => Ok(reject),
        }
    }
}

/// The reason a node gets when a filter call fails or is skipped (`reject-node`).
const SCRIPT_ERROR: &str = "script-error";

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
            let site = Site { now: cx.now, job: Some(job_view.id()), other: None, node: Some(node.name_str()) };
            let ctx = ctx.get_or_insert_with(|| CtxView::new(cx, &self.c.args)).clone();
            let outcome = self.c.call("filter", site, (job_view.clone(), node, ctx), verdict::filter);
            let reads = end_reads();
            match outcome {
                Ok(r) => {
                    if !reads.dynamic {
                        memo.keep(&mut tables, &self.nodes, cx, &job_view, n, &reads.props, r);
                    }
                    r
                }
                Err(f) => match self.c.fallback(f, Some(Reason::transient(SCRIPT_ERROR)), None) {
                    Ok(r) => r,
                    Err(e) => {
                        fatal = Some(e);
                        None
                    }
                },
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
        for (&n, s) in nodes.iter().zip(scores.iter_mut()) {
            if let Some(kept) = memo.lookup(&tables, n) {
                *s = kept;
                continue;
            }
            let view = self.nodes.view(cx, n);
            let site = Site { now: cx.now, job: Some(job_view.id()), other: None, node: Some(view.name_str()) };
            let ctx = ctx.get_or_insert_with(|| CtxView::new(cx, &self.c.args)).clone();
            let outcome = self.c.call("score", site, (job_view.clone(), view, ctx), verdict::score);
            let reads = end_reads();
            *s = match outcome {
                Ok(x) => {
                    if !reads.dynamic {
                        memo.keep(&mut tables, &self.nodes, cx, &job_view, n, &reads.props, x);
                    }
                    x
                }
                Err(f) => match self.c.fallback(f, 0.0, 0.0) {
                    Ok(x) => x,
                    Err(e) => {
                        memo.put_tables(tables);
                        return Err(PluginError(e));
                    }
                },
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
            let view = self.c.jobs.view(job, cx);
            let site = Site { now: cx.now, job: Some(view.id()), other: None, node: None };
            let outcome = self.c.call("key", site, (view, ctx.clone()), verdict::key);
            end_reads();
            *k = match outcome {
                Ok(x) => x,
                Err(f) => self.c.fallback(f, f64::MAX, 0.0).map_err(PluginError)?,
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
        let mut fatal: Option<String> = None;
        let mut before = |a: usize, b: usize| -> bool {
            if fatal.is_some() {
                return false;
            }
            let site = Site { now: cx.now, job: Some(views[a].id()), other: Some(views[b].id()), node: None };
            let outcome =
                self.c.call("before", site, (views[a].clone(), views[b].clone(), ctx.clone()), verdict::before);
            end_reads();
            match outcome {
                Ok(x) => x,
                Err(f) => self.c.fallback(f, false, false).unwrap_or_else(|e| {
                    fatal = Some(e);
                    false
                }),
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
    pub(crate) memo: Mutex<Memo<Proposal>>,
}

impl Proposal {
    fn to_move(self, job: JobId) -> Option<Move> {
        match self {
            Proposal::Stay => None,
            Proposal::Relocate => Some(Move::Relocate { job }),
            Proposal::Migrate(to) => Some(Move::Migrate { job, to }),
            Proposal::Evict(reason) => Some(Move::Evict { job, reason }),
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
            let site = Site { now: cx.now, job: Some(job.id()), other: None, node: Some(node.name_str()) };
            let ctx = ctx.get_or_insert_with(|| CtxView::new(cx, &self.c.args)).clone();
            let outcome = self.c.call("rebalance", site, (job.clone(), node, run, ctx), |v| verdict::rebalance(v, cx));
            let reads = end_reads();
            match outcome {
                Ok(v) => {
                    if !reads.dynamic {
                        memo.keep(&mut tables, &self.nodes, cx, &job, r.node, &reads.props, v);
                    }
                    moves.extend(v.to_move(r.job));
                }
                Err(f) => {
                    if let Err(e) = self.c.fallback(f, (), ()) {
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
