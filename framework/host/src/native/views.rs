//! Building the ABI views from the host's model, without copying per node.
//!
//! The node table's *static* part — names, regions, zones, labels and resource
//! names as strings — is built once per node layout and kept
//! ([`NodeCache`]); its strings are interned for the life of the process (they
//! are few: one per distinct name or label). The dynamic part — capacity,
//! allocatable, used, running, up — is the host's own flat arrays, lent as
//! slices. A job's view is built once per call, borrowing the host's symbols.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use arc_swap::{ArcSwapOption, Guard};

use kairos_abi::abi_stable::std_types::{ROption, RStr};
use kairos_abi::{ClusterView, JobView, Label, NodeTableView};
use kairos_model::{Context, Job, Layout, Sym, Symbols};

/// `s`, stored for the life of the process; equal strings share storage.
fn forever(s: &str) -> &'static str {
    static STRINGS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut g = STRINGS.lock().unwrap_or_else(|e| e.into_inner());
    let set = g.get_or_insert_with(HashSet::new);
    if let Some(&k) = set.get(s) {
        return k;
    }
    let k: &'static str = Box::leak(s.to_owned().into_boxed_str());
    set.insert(k);
    k
}

/// The static part of the node table, for one layout.
pub(crate) struct NodeStatic {
    layout: Layout,
    resources: Vec<RStr<'static>>,
    names: Vec<RStr<'static>>,
    regions: Vec<RStr<'static>>,
    zones: Vec<RStr<'static>>,
    label_start: Vec<u32>,
    labels: Vec<Label<'static>>,
    /// Node names as C strings, for the C ABI (built on first use).
    pub(crate) c_names: std::sync::OnceLock<(Vec<std::ffi::CString>, Vec<*const std::ffi::c_char>)>,
}

// SAFETY: the raw pointers in `c_names` point into the `CString`s beside them,
// which are never mutated or dropped while the `NodeStatic` lives.
unsafe impl Send for NodeStatic {}
// SAFETY: as above; the pointers are only read.
unsafe impl Sync for NodeStatic {}

impl NodeStatic {
    fn new(cx: &Context<'_>) -> NodeStatic {
        let t = cx.nodes;
        let s = |sym: Sym| RStr::from_str(forever(cx.symbols.name(sym)));
        let mut label_start = Vec::with_capacity(t.len() + 1);
        let mut labels = Vec::new();
        for l in &t.labels {
            let start = labels.len();
            label_start.push(start as u32);
            labels.extend(l.iter().map(|&(k, v)| Label { key: s(k), value: s(v) }));
            sort_by_key(&mut labels[start..]);
        }
        label_start.push(labels.len() as u32);
        NodeStatic {
            layout: t.layout(),
            resources: cx.resources.names().iter().map(|r| RStr::from_str(forever(r))).collect(),
            names: t.names.iter().map(|n| RStr::from_str(forever(n))).collect(),
            regions: t.region.iter().map(|&r| s(r)).collect(),
            zones: t.zone.iter().map(|&z| s(z)).collect(),
            label_start,
            labels,
            c_names: std::sync::OnceLock::new(),
        }
    }
}

/// The static node view of the current layout, rebuilt when it changes.
///
/// Read on every call of every native plugin, by every worker: a lock-free load
/// while the layout is current (it changes only when nodes come, go or change
/// capacity), so that workers never contend on it.
#[derive(Default)]
pub(crate) struct NodeCache(ArcSwapOption<NodeStatic>);

impl NodeCache {
    pub(crate) fn get(&self, cx: &Context<'_>) -> Current {
        let cached = self.0.load();
        if cached.as_ref().is_some_and(|st| st.layout == cx.nodes.layout()) {
            return Current::Cached(cached);
        }
        // Two callers may both build it after a layout change: equal values, the
        // last store wins.
        let st = Arc::new(NodeStatic::new(cx));
        self.0.store(Some(Arc::clone(&st)));
        Current::Built(st)
    }
}

/// The static node view a call uses: the cached one, or one just built.
pub(crate) enum Current {
    Cached(Guard<Option<Arc<NodeStatic>>>),
    Built(Arc<NodeStatic>),
}

impl std::ops::Deref for Current {
    type Target = NodeStatic;

    fn deref(&self) -> &NodeStatic {
        match self {
            Current::Cached(g) => g.as_deref().expect("a cached view is checked present"),
            Current::Built(st) => st,
        }
    }
}

/// The cluster view of one call.
pub(crate) fn cluster<'a>(st: &'a NodeStatic, cx: &'a Context<'a>) -> ClusterView<'a> {
    let t = cx.nodes;
    ClusterView {
        now: cx.now,
        nodes: NodeTableView {
            layout: (st.layout.table << 32) ^ st.layout.version,
            dims: t.dims() as u32,
            resources: st.resources.as_slice().into(),
            names: st.names.as_slice().into(),
            regions: st.regions.as_slice().into(),
            zones: st.zones.as_slice().into(),
            label_start: st.label_start.as_slice().into(),
            labels: st.labels.as_slice().into(),
            capacity: t.capacity_flat().into(),
            allocatable: t.allocatable_flat().into(),
            used: t.used_flat().into(),
            running: t.running_flat().into(),
            up: t.up_flat().into(),
        },
        total: cx.usage.total.as_slice().into(),
    }
}

/// A job's labels (or selector) as ABI labels.
pub(crate) fn label_iter<'a>(pairs: &'a [(Sym, Sym)], symbols: &'a Symbols) -> impl Iterator<Item = Label<'a>> + 'a {
    pairs.iter().map(|&(k, v)| Label { key: RStr::from_str(symbols.name(k)), value: RStr::from_str(symbols.name(v)) })
}

/// A job's labels (or selector) as ABI labels, into `out` (one entry per pair),
/// sorted by key.
pub(crate) fn labels<'a>(pairs: &'a [(Sym, Sym)], symbols: &'a Symbols, out: &mut [Label<'a>]) {
    for (o, l) in out.iter_mut().zip(label_iter(pairs, symbols)) {
        *o = l;
    }
    sort_by_key(out);
}

/// Sorts labels by key, as the views promise (the host sorts them by symbol,
/// that is, in the order the strings were first seen).
pub(crate) fn sort_by_key(labels: &mut [Label<'_>]) {
    labels.sort_unstable_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
}

/// The view of `job`, whose labels and selector are already in `labels` and
/// `selector` (see [`labels`]).
pub(crate) fn job<'a>(
    job: &'a Job,
    symbols: &'a Symbols,
    labels: &'a [Label<'a>],
    selector: &'a [Label<'a>],
) -> JobView<'a> {
    JobView {
        index: job.idx,
        id: RStr::from_str(&job.id),
        tenant: RStr::from_str(symbols.name(job.tenant)),
        group: RStr::from_str(symbols.name(job.group)),
        priority_class: RStr::from_str(symbols.name(job.priority_class)),
        priority: job.priority,
        release: job.release,
        deadline: job.deadline.map_or(ROption::RNone, ROption::RSome),
        hard_deadline: job.hard_deadline,
        estimate: job.estimate,
        request: job.request.as_slice().into(),
        selector: selector.into(),
        labels: labels.into(),
    }
}
