//! The ABI trait objects behind the host's extension-point traits, so that the
//! engine calls a native plugin exactly as it calls a built-in.
//!
//! Each adapter builds the call's views ([`super::views`]), calls across the
//! boundary once per batch, and turns what comes back into the model's types,
//! checking every value on the way ([`super::validate`]). A failed call — an
//! error the plugin returned, a panic its SDK caught, a value the host refuses
//! (a verdict naming a resource the cluster lacks, a NaN or out-of-range score,
//! a key that is not finite, a move of a job that is not running) — is counted
//! and handled by the entry's `on_error`, as for scripts:
//!
//! | `on_error` | filter | score | order |
//! |---|---|---|---|
//! | `reject-node` (default) | every node of the batch is rejected (`plugin-error`; a bad verdict: that node) | the nodes score 0 (a bad value: that node) | the jobs go last (a bad key: that job) |
//! | `skip-plugin` | every node passes this filter (a bad verdict: that node) | the nodes score 0 | the keys are 0 |
//! | `fail` | the run stops with the error | the run stops | the run stops |
//!
//! A rebalance plugin that fails, or proposes one invalid move, proposes
//! nothing (or, with `fail`, stops the run).
//!
//! Failures are counted per call (a batch), and a plugin whose calls keep
//! failing is quarantined as a script is ([`crate::health`]): each adapter first
//! asks [`Shared::skip`], and a quarantined plugin is not called, its `on_error`
//! applying at once.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kairos_abi::abi_stable::std_types::{RBox, RResult, RStr, RString, RVec};
use kairos_abi::partition::{GroupUsageView, PartitionOrderV1_TO};
use kairos_abi::traits::{FilterV1_TO, OrderV1_TO, RebalanceV1_TO, ScoreV1_TO};
use kairos_abi::{JobView, Label, MoveView, RunningView, Verdict};
use kairos_model::{
    Candidates, Context, FilterPlugin, Job, Move, NodeId, OrderKey, OrderPlugin, OrderScope, PartitionKey, PluginError,
    PluginResult, Reason, RebalancePlugin, Running, ScorePlugin, Time, MAX_SCORE,
};

use super::load::NativeLibrary;
use super::validate;
use super::views::{self, NodeCache};
use super::NativeStats;
use crate::health::{CallError, FailureKind, Health};
use crate::script::OnError;

/// What every native adapter holds.
pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) on_error: OnError,
    health: Arc<Health>,
    /// Whether the current call has failed already (a call counts once).
    failing: AtomicBool,
    pub(crate) nodes: NodeCache,
    /// Keeps the library's record alive (the library itself is never unloaded).
    library: Arc<NativeLibrary>,
}

/// What the native call running on this thread is about: function, time, job.
struct Site {
    function: &'static str,
    now: Time,
    job: Option<String>,
}

thread_local! {
    static SITE: RefCell<Site> = const { RefCell::new(Site { function: "", now: 0, job: None }) };
}

impl Shared {
    pub(crate) fn new(name: &str, on_error: OnError, stats: &NativeStats, library: Arc<NativeLibrary>) -> Shared {
        Shared {
            name: name.to_owned(),
            on_error,
            health: Arc::clone(&stats.health),
            failing: AtomicBool::new(false),
            nodes: NodeCache::default(),
            library,
        }
    }

    /// Notes what the call about to be made is about, and whether to skip it:
    /// `true` when the plugin is quarantined, and the caller applies `on_error`
    /// without calling.
    pub(crate) fn skip(&self, function: &'static str, now: Time, job: Option<&Job>) -> bool {
        if self.health.quarantined() {
            self.health.skipped();
            return true;
        }
        SITE.with_borrow_mut(|s| {
            s.function = function;
            s.now = now;
            match (job, &mut s.job) {
                (Some(j), Some(buf)) => {
                    buf.clear();
                    buf.push_str(&j.id);
                }
                (Some(j), none) => *none = Some(j.id.clone()),
                (None, some) => *some = None,
            }
        });
        false
    }

    /// Counts a call made; the previous one, if it did not fail, ended a run of
    /// failures.
    pub(crate) fn called(&self) {
        if !self.failing.swap(false, Ordering::Relaxed) {
            self.health.succeeded();
        }
        self.health.called();
    }

    /// Counts a failed call (an error the plugin returned, or a value
    /// [`validate`] refused; once per call, however many bad values it
    /// returned); `Err` when the policy is to stop the run.
    pub(crate) fn failed(&self, what: &str) -> PluginResult {
        if !self.failing.swap(true, Ordering::Relaxed) {
            self.health.failed(FailureKind::Error, || {
                SITE.with_borrow(|s| CallError {
                    message: validate::message(what),
                    at: format!("{} ({})", self.name, self.library.path.display()),
                    function: s.function.to_owned(),
                    job: s.job.clone(),
                    node: None,
                    time: s.now,
                    kind: FailureKind::Error,
                })
            });
        }
        match self.on_error {
            OnError::Fail => Err(PluginError(format!("native plugin `{}`: {}", self.name, validate::message(what)))),
            _ => Ok(()),
        }
    }
}

/// Reason codes are interned once and kept
/// ([`kairos_model::reason::intern_code`]), so that a code is owned by the host,
/// not by the library; past its cap, `native-reason`.
pub(crate) fn intern(code: &str) -> &'static str {
    kairos_model::reason::intern_code(code).unwrap_or("native-reason")
}

thread_local! {
    /// Verdict buffer reused across filter calls on this thread.
    static VERDICTS: RefCell<Vec<Verdict>> = const { RefCell::new(Vec::new()) };
}

/// Calls `f` with the view of `job`. Its labels and selector go into a buffer
/// on the stack when they are few (the common case), so that a call allocates
/// nothing.
pub(super) fn with_job<R>(job: &Job, cx: &Context<'_>, f: impl FnOnce(&JobView<'_>) -> R) -> R {
    const ON_STACK: usize = 16;
    let (nl, ns) = (job.labels.len(), job.selector.len());
    let empty = Label { key: RStr::from_str(""), value: RStr::from_str("") };
    let mut stack = [empty; ON_STACK];
    let mut heap = Vec::new();
    let buf: &mut [Label<'_>] = if nl + ns <= ON_STACK {
        &mut stack[..nl + ns]
    } else {
        heap.resize(nl + ns, empty);
        &mut heap
    };
    let (labels, selector) = buf.split_at_mut(nl);
    views::labels(&job.labels, cx.symbols, labels);
    views::labels(&job.selector, cx.symbols, selector);
    f(&views::job(job, cx.symbols, labels, selector))
}

/// A native filter.
pub(crate) struct NativeFilter {
    s: Shared,
    obj: FilterV1_TO<'static, RBox<()>>,
}

impl NativeFilter {
    pub(crate) fn new(s: Shared, obj: FilterV1_TO<'static, RBox<()>>) -> Self {
        NativeFilter { s, obj }
    }
}

impl FilterPlugin for NativeFilter {
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult {
        if self.s.skip("filter", cx.now, Some(job)) {
            if self.s.on_error == OnError::RejectNode {
                candidates.retain(|_| Some(Reason::transient("plugin-error")));
            }
            return Ok(());
        }
        let st = self.s.nodes.get(cx);
        let cluster = views::cluster(&st, cx);
        self.s.called();
        VERDICTS.with_borrow_mut(|verdicts| {
            verdicts.clear();
            verdicts.resize(candidates.len(), Verdict::PASS);
            let outcome = with_job(job, cx, |j| {
                self.obj.filter(j, &cluster, candidates.ids().into(), verdicts.as_mut_slice().into())
            });
            match outcome {
                RResult::ROk(()) => {
                    // A verdict the host cannot use is the plugin's error on that
                    // node: `on_error` decides the node (the others keep theirs),
                    // and the call counts as one failed call.
                    let on_bad = match self.s.on_error {
                        OnError::SkipPlugin => None,
                        _ => Some(Reason::transient("plugin-error")),
                    };
                    let mut first_bad = None;
                    let mut i = 0;
                    candidates.retain(|n| {
                        let v = &verdicts[i];
                        i += 1;
                        validate::verdict(v, &cx.nodes.names[n as usize], cx.resources).unwrap_or_else(|e| {
                            first_bad.get_or_insert(e);
                            on_bad
                        })
                    });
                    match first_bad {
                        Some(e) => self.s.failed(&e),
                        None => Ok(()),
                    }
                }
                RResult::RErr(e) => {
                    self.s.failed(&e)?;
                    if self.s.on_error == OnError::RejectNode {
                        candidates.retain(|_| Some(Reason::transient("plugin-error")));
                    }
                    Ok(())
                }
            }
        })
    }
}

/// A native score.
pub(crate) struct NativeScore {
    s: Shared,
    obj: ScoreV1_TO<'static, RBox<()>>,
}

impl NativeScore {
    pub(crate) fn new(s: Shared, obj: ScoreV1_TO<'static, RBox<()>>) -> Self {
        NativeScore { s, obj }
    }
}

/// Checks the scores a plugin wrote: a NaN or out-of-range score is a failed
/// call, and the node scores 0 unless the policy stops the run.
pub(crate) fn check_scores(s: &Shared, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
    // The common case first, without a branch per node (so it vectorizes).
    if scores.iter().fold(true, |ok, v| ok & (*v >= 0.0) & (*v <= MAX_SCORE)) {
        return Ok(());
    }
    for (&n, v) in nodes.iter().zip(scores.iter_mut()) {
        if let Err(what) = validate::score(*v, &cx.nodes.names[n as usize]) {
            *v = 0.0;
            s.failed(&what)?;
        }
    }
    Ok(())
}

impl ScorePlugin for NativeScore {
    fn score(&self, job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
        if self.s.skip("score", cx.now, Some(job)) {
            scores.fill(0.0);
            return Ok(());
        }
        let st = self.s.nodes.get(cx);
        let cluster = views::cluster(&st, cx);
        self.s.called();
        match with_job(job, cx, |j| self.obj.score(j, &cluster, nodes.into(), (&mut *scores).into())) {
            RResult::ROk(()) => check_scores(&self.s, cx, nodes, scores),
            RResult::RErr(e) => {
                scores.fill(0.0);
                self.s.failed(&e)
            }
        }
    }
}

/// A native order plugin whose keys depend on the job alone (v1).
pub(crate) struct NativeOrder {
    s: Shared,
    obj: OrderV1_TO<'static, RBox<()>>,
}

impl NativeOrder {
    pub(crate) fn new(s: Shared, obj: OrderV1_TO<'static, RBox<()>>) -> Self {
        NativeOrder { s, obj }
    }
}

impl OrderPlugin for NativeOrder {
    fn keys(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        if self.s.skip("keys", cx.now, None) {
            keys.fill(key_fallback(&self.s));
            return Ok(());
        }
        let st = self.s.nodes.get(cx);
        let cluster = views::cluster(&st, cx);
        let outcome = with_job_views(jobs, cx, |views| {
            self.s.called();
            self.obj.keys(views.into(), &cluster, (&mut *keys).into())
        });
        check_keys(&self.s, outcome, keys)
    }
}

/// Calls `f` with the views of `jobs`: every job's labels in one buffer, then
/// the views over it.
fn with_job_views<R>(jobs: &[&Job], cx: &Context<'_>, f: impl FnOnce(&[JobView<'_>]) -> R) -> R {
    let mut all: Vec<Label<'_>> = Vec::new();
    let mut spans = Vec::with_capacity(jobs.len());
    for j in jobs {
        let a = all.len();
        all.extend(views::label_iter(&j.labels, cx.symbols));
        let b = all.len();
        all.extend(views::label_iter(&j.selector, cx.symbols));
        let c = all.len();
        views::sort_by_key(&mut all[a..b]);
        views::sort_by_key(&mut all[b..c]);
        spans.push((a, b, c));
    }
    let views: Vec<JobView<'_>> =
        jobs.iter().zip(&spans).map(|(j, &(a, b, c))| views::job(j, cx.symbols, &all[a..b], &all[b..c])).collect();
    f(&views)
}

/// Checks the keys an order plugin wrote: a failed call or a key that is not
/// finite is counted, and the jobs concerned go last (`reject-node`) or get
/// key 0 (`skip-plugin`) unless the policy stops the run.
fn check_keys(s: &Shared, outcome: RResult<(), RString>, keys: &mut [f64]) -> PluginResult {
    let fallback = key_fallback(s);
    match outcome {
        RResult::ROk(()) => {
            for k in keys.iter_mut() {
                if let Err(what) = validate::key(*k) {
                    s.failed(&what)?;
                    *k = fallback;
                }
            }
            Ok(())
        }
        RResult::RErr(e) => {
            keys.fill(fallback);
            s.failed(&e)
        }
    }
}

/// The key of a job whose key could not be had: last (`reject-node`), or 0
/// (`skip-plugin`).
fn key_fallback(s: &Shared) -> f64 {
    if s.on_error == OnError::SkipPlugin {
        0.0
    } else {
        f64::MAX
    }
}

/// A native partition-scoped order plugin (`kairos.partition.v1`): its key
/// depends on the job's group and on what the group holds, which it receives
/// with every call.
pub(crate) struct NativePartitionOrder {
    s: Shared,
    obj: PartitionOrderV1_TO<'static, RBox<()>>,
    key: PartitionKey,
}

impl NativePartitionOrder {
    pub(crate) fn new(s: Shared, obj: PartitionOrderV1_TO<'static, RBox<()>>, key: PartitionKey) -> Self {
        NativePartitionOrder { s, obj, key }
    }
}

impl OrderPlugin for NativePartitionOrder {
    fn keys(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        debug_assert_eq!(cx.usage.key, Some(self.key), "the host tracks usage for another key than the plugin's");
        if self.s.skip("keys", cx.now, None) {
            keys.fill(key_fallback(&self.s));
            return Ok(());
        }
        let st = self.s.nodes.get(cx);
        let cluster = views::cluster(&st, cx);
        let none = vec![0; cx.nodes.dims()];
        let groups: Vec<GroupUsageView<'_>> = jobs
            .iter()
            .map(|j| {
                let g = self.key.of(j);
                GroupUsageView {
                    group: RStr::from_str(cx.symbols.name(g)),
                    used: cx.usage.used(g).unwrap_or(&none).into(),
                    running: cx.usage.running(g),
                }
            })
            .collect();
        let outcome = with_job_views(jobs, cx, |views| {
            self.s.called();
            self.obj.keys(views.into(), groups.as_slice().into(), &cluster, (&mut *keys).into())
        });
        check_keys(&self.s, outcome, keys)
    }

    fn scope(&self) -> OrderScope {
        OrderScope::Partition(self.key)
    }
}

/// A native rebalance plugin.
pub(crate) struct NativeRebalance {
    s: Shared,
    obj: RebalanceV1_TO<'static, RBox<()>>,
}

impl NativeRebalance {
    pub(crate) fn new(s: Shared, obj: RebalanceV1_TO<'static, RBox<()>>) -> Self {
        NativeRebalance { s, obj }
    }
}

impl RebalancePlugin for NativeRebalance {
    fn rebalance(&self, cx: &Context<'_>, running_jobs: &[Running], moves: &mut Vec<Move>) -> PluginResult {
        if self.s.skip("rebalance", cx.now, None) {
            return Ok(());
        }
        let st = self.s.nodes.get(cx);
        let cluster = views::cluster(&st, cx);
        let running: Vec<RunningView> = running_jobs
            .iter()
            .map(|r| RunningView { job: r.job, node: r.node, started: r.started, expected_end: r.expected_end })
            .collect();
        let mut proposed: RVec<MoveView> = RVec::new();
        self.s.called();
        match self.obj.rebalance(&cluster, running.as_slice().into(), &mut proposed) {
            // A proposal with one bad move is refused whole: it proposes nothing.
            RResult::ROk(()) => match validate::moves(&proposed, running_jobs, cx.nodes.len()) {
                Ok(valid) => {
                    moves.extend(valid);
                    Ok(())
                }
                Err(e) => self.s.failed(&e),
            },
            RResult::RErr(e) => self.s.failed(&e),
        }
    }
}
