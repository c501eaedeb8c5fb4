//! A tiny cluster for the plugins' unit tests.
//!
//! A [`Fixture`] owns everything a [`Context`] borrows. Nodes and jobs are
//! described with names ([`node`], [`job`]) and interned when added, so a test
//! reads like the scenario it sets up:
//!
//! ```ignore
//! let mut fx = Fixture::new(&["cpu", "memory"])
//!     .with(node("a", &[4, 16]).label("disk", "ssd"))
//!     .with(node("b", &[8, 32]).used(&[6, 0]));
//! let j = fx.job(job(&[2, 4]).selector("disk", "ssd"));
//! let (kept, why) = fx.filter(node_selector::spec(), json!(null), &j);
//! ```
//!
//! Every helper builds the plugin through its [`PluginSpec`], so the tests
//! exercise argument parsing too, and [`Fixture::score`] checks that every score
//! is finite and within `0..=100` before returning it.

use kairos_model::{
    ArgsError, BuildContext, Built, Candidates, Context, GroupUsage, Job, JobId, Move, NodeId, NodeSpec, NodeTable,
    Qty, Rejections, ResourceSpace, Running, Sym, Symbols, Taint, TaintEffect, Time, Toleration,
};
use serde_json::Value;

/// A node to add, by name.
pub struct NodeDef {
    name: &'static str,
    capacity: Vec<Qty>,
    reserve: Option<Vec<Qty>>,
    labels: Vec<(&'static str, &'static str)>,
    taints: Vec<(&'static str, &'static str, TaintEffect)>,
    used: Option<Vec<Qty>>,
    running: u32,
    down: bool,
}

/// A node called `name` with `capacity`, no reserve, idle and up.
pub fn node(name: &'static str, capacity: &[Qty]) -> NodeDef {
    NodeDef {
        name,
        capacity: capacity.to_vec(),
        reserve: None,
        labels: Vec::new(),
        taints: Vec::new(),
        used: None,
        running: 0,
        down: false,
    }
}

impl NodeDef {
    /// Adds label `key=value`.
    pub fn label(mut self, key: &'static str, value: &'static str) -> Self {
        self.labels.push((key, value));
        self
    }

    /// Adds a `NoSchedule` taint `key=value`.
    pub fn taint(mut self, key: &'static str, value: &'static str) -> Self {
        self.taints.push((key, value, TaintEffect::NoSchedule));
        self
    }

    /// Adds a `NoExecute` taint `key=value`.
    pub fn taint_no_execute(mut self, key: &'static str, value: &'static str) -> Self {
        self.taints.push((key, value, TaintEffect::NoExecute));
        self
    }

    /// Sets the reserve (allocatable = capacity - reserve).
    pub fn reserve(mut self, reserve: &[Qty]) -> Self {
        self.reserve = Some(reserve.to_vec());
        self
    }

    /// Allocates `used` as one running job.
    pub fn used(mut self, used: &[Qty]) -> Self {
        self.used = Some(used.to_vec());
        self
    }

    /// Adds `k` running jobs that request nothing.
    pub fn running(mut self, k: u32) -> Self {
        self.running += k;
        self
    }

    /// Marks the node down.
    pub fn down(mut self) -> Self {
        self.down = true;
        self
    }
}

/// A job to add, by name.
#[derive(Clone)]
pub struct JobDef {
    request: Vec<Qty>,
    priority: i32,
    release: Time,
    deadline: Option<Time>,
    estimate: Time,
    group: &'static str,
    tenant: &'static str,
    priority_class: &'static str,
    selector: Vec<(&'static str, &'static str)>,
    tolerations: Vec<(&'static str, Option<&'static str>)>,
    labels: Vec<(&'static str, &'static str)>,
}

/// A job requesting `request`, priority 0, released at 0, estimated at 60 s,
/// no deadline, no constraints.
pub fn job(request: &[Qty]) -> JobDef {
    JobDef {
        request: request.to_vec(),
        priority: 0,
        release: 0,
        deadline: None,
        estimate: 60,
        group: "",
        tenant: "",
        priority_class: "",
        selector: Vec::new(),
        tolerations: Vec::new(),
        labels: Vec::new(),
    }
}

impl JobDef {
    /// Replaces the request.
    pub fn with_request(mut self, request: &[Qty]) -> Self {
        self.request = request.to_vec();
        self
    }

    /// Sets the priority.
    pub fn priority(mut self, p: i32) -> Self {
        self.priority = p;
        self
    }

    /// Sets the release time.
    pub fn release(mut self, t: Time) -> Self {
        self.release = t;
        self
    }

    /// Sets the deadline.
    pub fn deadline(mut self, t: Time) -> Self {
        self.deadline = Some(t);
        self
    }

    /// Sets the estimated run time.
    pub fn estimate(mut self, s: Time) -> Self {
        self.estimate = s;
        self
    }

    /// Sets the group.
    pub fn group(mut self, g: &'static str) -> Self {
        self.group = g;
        self
    }

    /// Sets the tenant.
    pub fn tenant(mut self, t: &'static str) -> Self {
        self.tenant = t;
        self
    }

    /// Sets the priority class name.
    pub fn class(mut self, c: &'static str) -> Self {
        self.priority_class = c;
        self
    }

    /// Requires node label `key=value`.
    pub fn selector(mut self, key: &'static str, value: &'static str) -> Self {
        self.selector.push((key, value));
        self
    }

    /// Tolerates taint `key` with `value` (`None`: any value).
    pub fn tolerate(mut self, key: &'static str, value: Option<&'static str>) -> Self {
        self.tolerations.push((key, value));
        self
    }

    /// Adds job label `key=value`.
    pub fn label(mut self, key: &'static str, value: &'static str) -> Self {
        self.labels.push((key, value));
        self
    }
}

/// Everything a [`Context`] borrows.
pub struct Fixture {
    pub symbols: Symbols,
    pub resources: ResourceSpace,
    pub nodes: NodeTable,
    pub usage: GroupUsage,
    pub jobs: Vec<Job>,
    pub now: Time,
}

impl Fixture {
    /// A cluster with the given resource dimensions and no nodes, at time 0.
    pub fn new(resources: &[&str]) -> Self {
        let resources = ResourceSpace::new(resources.iter().copied());
        let dims = resources.dims();
        Fixture {
            symbols: Symbols::default(),
            nodes: NodeTable::new(dims),
            usage: GroupUsage::new(None, dims),
            resources,
            jobs: Vec::new(),
            now: 0,
        }
    }

    /// `cpu` and `memory`.
    pub fn cpu_mem() -> Self {
        Fixture::new(&["cpu", "memory"])
    }

    /// Sets the current time.
    pub fn at(mut self, now: Time) -> Self {
        self.now = now;
        self
    }

    /// Adds a node.
    pub fn with(mut self, n: NodeDef) -> Self {
        self.add(n);
        self
    }

    /// Adds a node and returns its id.
    pub fn add(&mut self, n: NodeDef) -> NodeId {
        let dims = self.nodes.dims();
        let labels = n.labels.iter().map(|&(k, v)| (self.sym(k), self.sym(v))).collect();
        let taints =
            n.taints.iter().map(|&(k, v, effect)| Taint { key: self.sym(k), value: self.sym(v), effect }).collect();
        let id = self.nodes.push(NodeSpec {
            name: n.name.to_owned(),
            region: Symbols::EMPTY,
            zone: Symbols::EMPTY,
            labels,
            taints,
            capacity: n.capacity,
            reserve: n.reserve.unwrap_or_else(|| vec![0; dims]),
        });
        if let Some(used) = n.used {
            assert!(self.nodes.allocate(id, &used), "fixture: `used` does not fit node {}", n.name);
        }
        for _ in 0..n.running {
            assert!(self.nodes.allocate(id, &vec![0; dims]));
        }
        if n.down {
            self.nodes.set_up(id, false);
        }
        id
    }

    /// Interns `name`.
    pub fn sym(&mut self, name: &str) -> Sym {
        self.symbols.intern(name)
    }

    /// Turns a [`JobDef`] into a [`Job`] (not submitted: `idx` is 0).
    pub fn job(&mut self, j: JobDef) -> Job {
        let mut selector: Vec<_> = j.selector.iter().map(|&(k, v)| (self.sym(k), self.sym(v))).collect();
        selector.sort();
        let mut labels: Vec<_> = j.labels.iter().map(|&(k, v)| (self.sym(k), self.sym(v))).collect();
        labels.sort();
        let tolerations = j
            .tolerations
            .iter()
            .map(|&(k, v)| Toleration { key: self.sym(k), value: v.map(|v| self.sym(v)) })
            .collect();
        Job {
            idx: 0,
            id: String::new(),
            tenant: self.sym(j.tenant),
            group: self.sym(j.group),
            priority_class: self.sym(j.priority_class),
            priority: j.priority,
            release: j.release,
            deadline: j.deadline,
            hard_deadline: false,
            estimate: j.estimate,
            request: j.request,
            selector,
            tolerations,
            labels,
            after: None,
            restartable: true,
        }
    }

    /// Adds a job to the job table and returns its id.
    pub fn submit(&mut self, j: JobDef) -> JobId {
        let mut job = self.job(j);
        let idx = self.jobs.len() as JobId;
        job.idx = idx;
        job.id = format!("j{idx}");
        self.jobs.push(job);
        idx
    }

    /// Starts submitted job `id` on `node` (allocating its request) and returns
    /// it as a [`Running`].
    pub fn start(&mut self, id: JobId, node: NodeId) -> Running {
        let job = &self.jobs[id as usize];
        assert!(self.nodes.allocate(node, &job.request), "fixture: job {id} does not fit node {node}");
        self.usage.account(job, 1);
        Running { job: id, node, started: self.now, expected_end: self.now + job.estimate }
    }

    /// The context plugins see.
    pub fn cx(&self) -> Context<'_> {
        Context {
            now: self.now,
            nodes: &self.nodes,
            resources: &self.resources,
            symbols: &self.symbols,
            usage: &self.usage,
            jobs: &self.jobs,
        }
    }

    /// Builds the plugin of `spec` with `args` against this cluster.
    pub fn build(&mut self, spec: kairos_model::PluginSpec, args: Value) -> Result<Built, ArgsError> {
        let mut bx = BuildContext::new(&self.resources, &mut self.symbols);
        let built = (spec.build)(&args, &mut bx)?;
        assert_eq!(built.point(), spec.point, "{} built a plugin for the wrong point", spec.name);
        Ok(built)
    }

    /// The error building `spec` with `args` gives.
    pub fn build_err(&mut self, spec: kairos_model::PluginSpec, args: Value) -> String {
        match self.build(spec, args) {
            Ok(_) => panic!("{} accepted bad args", spec.name),
            Err(e) => e.0,
        }
    }

    /// Runs filter `spec` for `job` over every node (up or not); returns the
    /// survivors and the rejections, per node.
    pub fn filter(&mut self, spec: kairos_model::PluginSpec, args: Value, job: &Job) -> (Vec<NodeId>, Rejections) {
        let Built::Filter(f) = self.build(spec, args).expect("valid args") else { unreachable!() };
        let mut ids: Vec<NodeId> = (0..self.nodes.len() as NodeId).collect();
        let mut log = Rejections { detail: true, ..Default::default() };
        f.filter(job, &self.cx(), &mut Candidates::new(&mut ids, &mut log, 0)).expect("built-ins do not fail");
        (ids, log)
    }

    /// Runs score `spec` for `job` over every node, checking every score is
    /// finite and within `0..=100`.
    pub fn score(&mut self, spec: kairos_model::PluginSpec, args: Value, job: &Job) -> Vec<f64> {
        let ids: Vec<NodeId> = (0..self.nodes.len() as NodeId).collect();
        self.score_on(spec, args, job, &ids)
    }

    /// Runs score `spec` for `job` over `ids`, checking the range.
    pub fn score_on(&mut self, spec: kairos_model::PluginSpec, args: Value, job: &Job, ids: &[NodeId]) -> Vec<f64> {
        let Built::Score(s) = self.build(spec, args).expect("valid args") else { unreachable!() };
        let mut scores = vec![f64::NAN; ids.len()];
        s.score(job, &self.cx(), ids, &mut scores).expect("built-ins do not fail");
        for (n, &x) in ids.iter().zip(&scores) {
            assert!(x.is_finite() && (0.0..=100.0).contains(&x), "{}: node {n} scored {x}", spec.name);
        }
        scores
    }

    /// Runs order `spec` over `jobs`; returns the keys, checking none is NaN
    /// or infinite.
    pub fn order(&mut self, spec: kairos_model::PluginSpec, args: Value, jobs: &[Job]) -> Vec<f64> {
        let Built::Order(o) = self.build(spec, args).expect("valid args") else { unreachable!() };
        let refs: Vec<&Job> = jobs.iter().collect();
        let mut keys = vec![f64::NAN; jobs.len()];
        o.keys(&refs, &self.cx(), &mut keys).expect("built-ins do not fail");
        for &k in &keys {
            assert!(k.is_finite(), "{}: key {k}", spec.name);
        }
        keys
    }

    /// Runs rebalance `spec` over `running`; returns the proposed moves.
    pub fn rebalance(&mut self, spec: kairos_model::PluginSpec, args: Value, running: &[Running]) -> Vec<Move> {
        let Built::Rebalance(r) = self.build(spec, args).expect("valid args") else { unreachable!() };
        let mut moves = Vec::new();
        r.rebalance(&self.cx(), running, &mut moves).expect("built-ins do not fail");
        moves
    }
}

/// Indices of `keys` from first to last (stable: ties keep input order, as the
/// host breaks them by job id).
pub fn ranked(keys: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]));
    order
}

/// `(node, code, resource, requested, free, unresolvable)` of a rejection.
pub type Rejection = (NodeId, &'static str, Option<u16>, Qty, Qty, bool);

/// The rejections of `log` as [`Rejection`]s, for compact assertions.
pub fn reasons(log: &Rejections) -> Vec<Rejection> {
    log.per_node.iter().map(|&(_, n, r)| (n, r.code, r.resource, r.requested, r.free, r.unresolvable)).collect()
}

/// `scores` rounded to six decimals, so expected values can be written exactly.
pub fn rounded(scores: &[f64]) -> Vec<f64> {
    scores.iter().map(|s| (s * 1e6).round() / 1e6).collect()
}
