//! What a script sees: read-only views of the job, a node and the context.
//!
//! | object | property | type |
//! |---|---|---|
//! | `job` | `id`, `tenant`, `group`, `class` | string |
//! | | `priority`, `release`, `estimate` | int (seconds for times) |
//! | | `deadline` | int, or `()` when none |
//! | | `hard` | bool: the deadline is hard |
//! | | `request`, `labels`, `selector` | map (resource → quantity, key → value) |
//! | `node` | `name`, `region`, `zone` | string |
//! | | `labels` | map |
//! | | `capacity`, `allocatable`, `used`, `free` | map, resource → quantity |
//! | | `running` | int: jobs running on it |
//! | `run` (rebalance) | `started`, `expected_end` | int, seconds |
//! | `ctx` | `now` | int, seconds |
//! | | `args` | map: the pipeline entry's `args` |
//! | | `share(group)` | float: the group's dominant share under the pipeline's fair-share key (0 without one) |
//! | | `total` | map: allocatable capacity of the up nodes |
//!
//! Views are snapshots: changing one changes nothing in the host. Node
//! attributes that cannot change while the node table's layout stays the same
//! (name, region, zone, labels, capacity) are built once per node and shared;
//! `used` and `free` read a snapshot taken once per plugin call.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use kairos_model::{Context, Job, Layout, NodeId, NodeTable, Qty, ResourceSpace, Symbols};
use rhai::{Dynamic, Engine, ImmutableString, Map};

/// A static property a script read: one whose value cannot change while the
/// node table's layout and the job stay the same. What a call read decides
/// whether its result may be reused (see `plugin.rs`, memoization).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Prop {
    JobId,
    JobTenant,
    JobGroup,
    JobClass,
    JobPriority,
    JobRelease,
    JobDeadline,
    JobHard,
    JobEstimate,
    JobRequest,
    JobLabels,
    JobSelector,
    NodeName,
    NodeRegion,
    NodeZone,
    NodeLabels,
    NodeCapacity,
    NodeAllocatable,
}

impl Prop {
    /// Whether the property belongs to the node (else to the job).
    pub(crate) fn is_node(self) -> bool {
        self >= Prop::NodeName
    }
}

/// What the current call on this thread has read.
#[derive(Default)]
pub(crate) struct Reads {
    /// Static properties read, in first-read order, without repeats.
    pub(crate) props: Vec<Prop>,
    /// Whether anything that changes over time was read (free or used capacity,
    /// running jobs, the time, shares, totals).
    pub(crate) dynamic: bool,
}

thread_local! {
    static READS: RefCell<Reads> = RefCell::new(Reads::default());
}

/// Starts recording what a call reads.
pub(crate) fn begin_reads() {
    READS.with(|r| {
        let mut r = r.borrow_mut();
        r.props.clear();
        r.dynamic = false;
    });
}

/// What the call read since [`begin_reads`].
pub(crate) fn end_reads() -> Reads {
    READS.with(|r| std::mem::take(&mut *r.borrow_mut()))
}

fn read(p: Prop) {
    READS.with(|r| {
        let mut r = r.borrow_mut();
        if !r.props.contains(&p) {
            r.props.push(p);
        }
    });
}

fn read_dynamic() {
    READS.with(|r| r.borrow_mut().dynamic = true);
}

/// The job as a script sees it.
#[derive(Clone)]
pub struct JobView(Arc<JobData>);

struct JobData {
    id: ImmutableString,
    tenant: ImmutableString,
    group: ImmutableString,
    class: ImmutableString,
    priority: i64,
    release: i64,
    deadline: Dynamic,
    hard: bool,
    estimate: i64,
    request: Map,
    labels: Map,
    selector: Map,
}

fn quantities(resources: &ResourceSpace, q: &[Qty]) -> Map {
    q.iter().enumerate().map(|(d, &v)| (resources.name(d).into(), Dynamic::from_int(v as i64))).collect()
}

fn pairs(symbols: &Symbols, p: &[(kairos_model::Sym, kairos_model::Sym)]) -> Map {
    p.iter().map(|(k, v)| (symbols.name(*k).into(), Dynamic::from(ImmutableString::from(symbols.name(*v))))).collect()
}

impl JobView {
    /// The view of `job`.
    pub fn new(job: &Job, cx: &Context<'_>) -> Self {
        let s = cx.symbols;
        JobView(Arc::new(JobData {
            id: job.id.as_str().into(),
            tenant: s.name(job.tenant).into(),
            group: s.name(job.group).into(),
            class: s.name(job.priority_class).into(),
            priority: i64::from(job.priority),
            release: job.release,
            deadline: job.deadline.map_or(Dynamic::UNIT, Dynamic::from_int),
            hard: job.hard_deadline,
            estimate: job.estimate,
            request: quantities(cx.resources, &job.request),
            labels: pairs(s, &job.labels),
            selector: pairs(s, &job.selector),
        }))
    }
}

/// Job views, built once per job and kept: a job does not change while it is
/// in the engine, and building a view (its maps) costs more than a short call.
///
/// The cache belongs to one plugin, which one engine calls at a time; it starts
/// afresh when the engine's job table moves (it grew, or another engine calls),
/// and a kept view is used only for the job with the same index and id.
#[derive(Default)]
pub struct JobViews {
    cache: RwLock<(usize, Vec<Option<JobView>>)>,
}

impl JobViews {
    /// The view of `job`, from the cache when it holds it.
    pub fn view(&self, job: &Job, cx: &Context<'_>) -> JobView {
        let table = cx.jobs.as_ptr() as usize;
        let i = job.idx as usize;
        {
            let c = self.cache.read().unwrap_or_else(|e| e.into_inner());
            if c.0 == table {
                if let Some(Some(v)) = c.1.get(i) {
                    if v.0.id.as_str() == job.id.as_str() {
                        return v.clone();
                    }
                }
            }
        }
        let v = JobView::new(job, cx);
        let mut c = self.cache.write().unwrap_or_else(|e| e.into_inner());
        if c.0 != table {
            *c = (table, Vec::new());
        }
        if c.1.len() <= i {
            c.1.resize(i + 1, None);
        }
        c.1[i] = Some(v.clone());
        v
    }
}

impl JobView {
    /// The job's id.
    pub(crate) fn id(&self) -> ImmutableString {
        self.0.id.clone()
    }

    /// The value of a job property, as text that is equal exactly when the
    /// values are.
    pub(crate) fn value(&self, p: Prop) -> String {
        let j = &self.0;
        match p {
            Prop::JobId => format!("{:?}", j.id),
            Prop::JobTenant => format!("{:?}", j.tenant),
            Prop::JobGroup => format!("{:?}", j.group),
            Prop::JobClass => format!("{:?}", j.class),
            Prop::JobPriority => j.priority.to_string(),
            Prop::JobRelease => j.release.to_string(),
            Prop::JobDeadline => format!("{:?}", j.deadline),
            Prop::JobHard => j.hard.to_string(),
            Prop::JobEstimate => j.estimate.to_string(),
            Prop::JobRequest => format!("{:?}", j.request),
            Prop::JobLabels => format!("{:?}", j.labels),
            Prop::JobSelector => format!("{:?}", j.selector),
            _ => String::new(),
        }
    }
}

/// What a node cannot change while the table's layout stays the same.
struct NodeStatic {
    name: ImmutableString,
    region: ImmutableString,
    zone: ImmutableString,
    labels: Map,
    capacity: Map,
    allocatable: Map,
}

/// The node as a script sees it.
#[derive(Clone)]
pub struct NodeView {
    s: Arc<NodeStatic>,
    /// Allocatable and used of the call's nodes, flat, snapshotted once per call.
    live: Arc<Live>,
    /// Position of this node in the snapshot.
    at: usize,
}

/// Per-call snapshot of the dynamic state of the call's nodes.
pub struct Live {
    dims: usize,
    names: Arc<[ImmutableString]>,
    allocatable: Vec<Qty>,
    used: Vec<Qty>,
    running: Vec<u32>,
}

impl Live {
    /// Snapshots the dynamic state of `nodes` (only those: a script after the
    /// native filters sees few survivors, and copying the whole table would cost
    /// more than the calls).
    fn of(table: &NodeTable, resources: &ResourceSpace, nodes: &[NodeId]) -> Arc<Live> {
        let mut live = Live {
            dims: table.dims(),
            names: resources.names().iter().map(|n| ImmutableString::from(n.as_str())).collect(),
            allocatable: Vec::with_capacity(nodes.len() * table.dims()),
            used: Vec::with_capacity(nodes.len() * table.dims()),
            running: Vec::with_capacity(nodes.len()),
        };
        for &n in nodes {
            live.allocatable.extend_from_slice(table.allocatable(n));
            live.used.extend_from_slice(table.used(n));
            live.running.push(table.running(n));
        }
        Arc::new(live)
    }

    /// A map of `f(allocatable, used)` per resource for the `i`-th snapshotted node.
    fn map(&self, i: usize, f: impl Fn(Qty, Qty) -> Qty) -> Map {
        let base = i * self.dims;
        (0..self.dims)
            .map(|d| {
                (
                    self.names[d].clone().into(),
                    Dynamic::from_int(f(self.allocatable[base + d], self.used[base + d]) as i64),
                )
            })
            .collect()
    }
}

impl NodeStatic {
    /// The value of a node property, as text that is equal exactly when the
    /// values are.
    fn value(&self, p: Prop) -> String {
        match p {
            Prop::NodeName => format!("{:?}", self.name),
            Prop::NodeRegion => format!("{:?}", self.region),
            Prop::NodeZone => format!("{:?}", self.zone),
            Prop::NodeLabels => format!("{:?}", self.labels),
            Prop::NodeCapacity => format!("{:?}", self.capacity),
            Prop::NodeAllocatable => format!("{:?}", self.allocatable),
            _ => String::new(),
        }
    }
}

impl NodeView {
    /// The node's name.
    pub fn name(&self) -> &str {
        &self.s.name
    }

    /// The node's name, shared.
    pub(crate) fn name_str(&self) -> ImmutableString {
        self.s.name.clone()
    }
}

/// Builds node views, keeping each node's static part for as long as the node
/// table's layout is unchanged.
#[derive(Default)]
pub struct NodeViews {
    cache: RwLock<Option<(Layout, Statics)>>,
}

/// Every node's static part, by node id.
type Statics = Arc<[Arc<NodeStatic>]>;

impl NodeViews {
    fn statics(&self, cx: &Context<'_>) -> Statics {
        let layout = cx.nodes.layout();
        if let Some((l, v)) = &*self.cache.read().unwrap_or_else(|e| e.into_inner()) {
            if *l == layout {
                return Arc::clone(v);
            }
        }
        let nodes = cx.nodes;
        let s = cx.symbols;
        let v: Statics = (0..nodes.len() as NodeId)
            .map(|n| {
                Arc::new(NodeStatic {
                    name: nodes.names[n as usize].as_str().into(),
                    region: s.name(nodes.region[n as usize]).into(),
                    zone: s.name(nodes.zone[n as usize]).into(),
                    labels: pairs(s, &nodes.labels[n as usize]),
                    capacity: quantities(cx.resources, nodes.capacity(n)),
                    allocatable: quantities(cx.resources, nodes.allocatable(n)),
                })
            })
            .collect();
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = Some((layout, Arc::clone(&v)));
        v
    }

    /// Equivalence classes of every node of the table under `props` (node
    /// properties): nodes whose values of `props` are all equal share a class.
    /// Returns the class of each node, by node id.
    pub(crate) fn classes(&self, cx: &Context<'_>, props: &[Prop]) -> Vec<u32> {
        let statics = self.statics(cx);
        let mut ids: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        statics
            .iter()
            .map(|st| {
                let key: String = props.iter().map(|&p| st.value(p) + "\u{1f}").collect();
                let next = ids.len() as u32;
                *ids.entry(key).or_insert(next)
            })
            .collect()
    }

    /// The view of node `n` alone, with its dynamic state snapshotted.
    pub fn view(&self, cx: &Context<'_>, n: NodeId) -> NodeView {
        let statics = self.statics(cx);
        NodeView { s: Arc::clone(&statics[n as usize]), live: Live::of(cx.nodes, cx.resources, &[n]), at: 0 }
    }

    /// Views of `nodes`, with dynamic state from one snapshot.
    pub fn views(&self, cx: &Context<'_>, nodes: &[NodeId]) -> Vec<NodeView> {
        let statics = self.statics(cx);
        let live = Live::of(cx.nodes, cx.resources, nodes);
        nodes
            .iter()
            .enumerate()
            .map(|(at, &n)| NodeView { s: Arc::clone(&statics[n as usize]), live: Arc::clone(&live), at })
            .collect()
    }
}

/// The call context as a script sees it (cheap to clone: one per call batch).
#[derive(Clone)]
pub struct CtxView(Arc<CtxData>);

struct CtxData {
    now: i64,
    args: Dynamic,
    shares: BTreeMap<String, f64>,
    total: Map,
}

impl CtxView {
    /// The context of one call, with the entry's `args`.
    pub fn new(cx: &Context<'_>, args: &Dynamic) -> Self {
        let shares =
            cx.usage.groups().iter().map(|&g| (cx.symbols.name(g).to_owned(), cx.usage.dominant_share(g))).collect();
        CtxView(Arc::new(CtxData {
            now: cx.now,
            args: args.clone(),
            shares,
            total: quantities(cx.resources, &cx.usage.total),
        }))
    }
}

/// A running job's run, as a rebalance script sees it.
#[derive(Clone)]
pub struct RunView {
    started: i64,
    expected_end: i64,
}

impl RunView {
    /// The run that started at `started` and is expected to end at `expected_end`.
    pub fn new(started: i64, expected_end: i64) -> Self {
        RunView { started, expected_end }
    }
}

/// Registers the view types and their properties.
pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<JobView>("Job")
        .register_get("id", |j: &mut JobView| {
            read(Prop::JobId);
            j.0.id.clone()
        })
        .register_get("tenant", |j: &mut JobView| {
            read(Prop::JobTenant);
            j.0.tenant.clone()
        })
        .register_get("group", |j: &mut JobView| {
            read(Prop::JobGroup);
            j.0.group.clone()
        })
        .register_get("class", |j: &mut JobView| {
            read(Prop::JobClass);
            j.0.class.clone()
        })
        .register_get("priority", |j: &mut JobView| {
            read(Prop::JobPriority);
            j.0.priority
        })
        .register_get("release", |j: &mut JobView| {
            read(Prop::JobRelease);
            j.0.release
        })
        .register_get("deadline", |j: &mut JobView| {
            read(Prop::JobDeadline);
            j.0.deadline.clone()
        })
        .register_get("hard", |j: &mut JobView| {
            read(Prop::JobHard);
            j.0.hard
        })
        .register_get("estimate", |j: &mut JobView| {
            read(Prop::JobEstimate);
            j.0.estimate
        })
        .register_get("request", |j: &mut JobView| {
            read(Prop::JobRequest);
            j.0.request.clone()
        })
        .register_get("labels", |j: &mut JobView| {
            read(Prop::JobLabels);
            j.0.labels.clone()
        })
        .register_get("selector", |j: &mut JobView| {
            read(Prop::JobSelector);
            j.0.selector.clone()
        });
    e.register_type_with_name::<NodeView>("Node")
        .register_get("name", |n: &mut NodeView| {
            read(Prop::NodeName);
            n.s.name.clone()
        })
        .register_get("region", |n: &mut NodeView| {
            read(Prop::NodeRegion);
            n.s.region.clone()
        })
        .register_get("zone", |n: &mut NodeView| {
            read(Prop::NodeZone);
            n.s.zone.clone()
        })
        .register_get("labels", |n: &mut NodeView| {
            read(Prop::NodeLabels);
            n.s.labels.clone()
        })
        .register_get("capacity", |n: &mut NodeView| {
            read(Prop::NodeCapacity);
            n.s.capacity.clone()
        })
        .register_get("allocatable", |n: &mut NodeView| {
            read(Prop::NodeAllocatable);
            n.s.allocatable.clone()
        })
        .register_get("used", |n: &mut NodeView| {
            read_dynamic();
            n.live.map(n.at, |_, u| u)
        })
        .register_get("free", |n: &mut NodeView| {
            read_dynamic();
            n.live.map(n.at, |a, u| a.saturating_sub(u))
        })
        .register_get("running", |n: &mut NodeView| {
            read_dynamic();
            i64::from(n.live.running[n.at])
        });
    e.register_type_with_name::<RunView>("Run")
        .register_get("started", |r: &mut RunView| {
            read_dynamic();
            r.started
        })
        .register_get("expected_end", |r: &mut RunView| {
            read_dynamic();
            r.expected_end
        });
    e.register_type_with_name::<CtxView>("Ctx")
        .register_get("now", |c: &mut CtxView| {
            read_dynamic();
            c.0.now
        })
        .register_get("args", |c: &mut CtxView| c.0.args.clone())
        .register_get("total", |c: &mut CtxView| {
            read_dynamic();
            c.0.total.clone()
        })
        .register_fn("share", |c: &mut CtxView, group: &str| {
            read_dynamic();
            c.0.shares.get(group).copied().unwrap_or(0.0)
        });
}
