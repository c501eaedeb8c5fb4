//! Policy tests without Rust.
//!
//! # Test files
//! A script may carry test cases beside it: `policies/NAME.test.yaml` holds the
//! cases of `policies/NAME.rhai`.
//!
//! ```yaml
//! args: { windows: [ { station: Kiruna-Esrange, from: 100, to: 200 } ] }  # every case's, unless it has its own
//! resources: [antenna, cpu]  # the cluster's resources; default: every resource the cases name
//! cases:
//!   - name: a contact that would overlap the window is turned away
//!     point: filter          # filter | score | order | rebalance; default: the script's only entry point
//!     now: 60                # seconds; default: the job's release
//!     job: { estimate: 50 }
//!     node: { labels: { station: Kiruna-Esrange } }
//!     expect: maintenance
//! ```
//!
//! A case's `job` has the fields `id`, `tenant`, `group`, `class`, `priority`,
//! `release`, `deadline`, `hard`, `estimate` (default 60), `request`, `labels` and
//! `selector`; its `node` has `name`, `region`, `zone` (default: the region),
//! `labels`, `capacity`, `reserve`, `used` and `running` (default: 1 when `used`
//! is not all zero, else 0). Names default to `default` (`job` and `node` for the
//! ids), numbers to 0, maps to empty. The resources are those of `resources:`,
//! as a cluster declares them: a job or node that names none of one reads 0 for
//! it, as in a run (a resource not declared reads `()`, as in a run). Without
//! `resources:` they are every resource the file's cases name. `ctx.total` is
//! the allocatable capacity of the case's nodes and `ctx.share(g)` is 0. The
//! README ("Testing a policy without Rust") documents the format for authors.
//!
//! An order case may give several `jobs:` instead of one `job:` and expect the
//! order their keys put them in (`{ order: [ID, …] }`, ties in the order
//! written, as the engine breaks them) — the way to test a `before(a, b, ctx)`
//! script. A rebalance case asks about its `job` running on its `node` (from
//! `run: { started, expected_end }`, default `now` and `now + estimate`); more
//! nodes, which a script may name as targets, go in `nodes:`.
//!
//! | `expect` | the case passes when the script |
//! |---|---|
//! | `pass` | lets the node through (filter) |
//! | `reject` | rejects the node, for any reason (filter) |
//! | `CODE` | rejects it with reason code `CODE` (filter) |
//! | `{ reason: CODE, permanent: true }` | rejects it with `CODE`, for good (`false`: waiting may help) |
//! | `{ score: N }` | scores the node `N` (score; equal to 1e-9) |
//! | `{ key: N }` | gives the job the key `N` (order; equal to 1e-9) |
//! | `{ order: [ID, …] }` | puts the case's `jobs` in this order (order) |
//! | `stay` | leaves the running job where it is (rebalance) |
//! | `relocate` | asks the host to move it where the pipeline would place it (rebalance) |
//! | `{ migrate: NODE }` | moves it to node `NODE` (rebalance) |
//! | `{ evict: CODE }` | evicts it with reason `CODE` (rebalance) |
//! | `{ error: TEXT }` | fails, with an error message that contains `TEXT` (any point) |
//!
//! # How a case runs
//! A case goes through the code a run goes through, so that a passing test means
//! the host will see the same result:
//!
//! 1. loading the test file builds each case's job and node into a [`Job`] and a
//!    [`NodeTable`] of its nodes (every problem with file:line:column);
//! 2. a one-entry pipeline is built around the compiled script, with the case's
//!    `args` and `on_error: fail`, by [`PipelineDef::build`];
//! 3. its stage is called once, as the engine calls it (a candidate batch for a
//!    filter, a node slice for a score, a job slice for an order, the job's run
//!    for a rebalance), and what
//!    it returned is compared with `expect`.
//!
//! Cases run scripts in the strict engine ([`super::strict_engine`]): comparing
//! values of two different types (`node.labels.tier == 2`, a string with a
//! number), which a run answers `false`, is an error there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kairos_model::{
    Candidates, Context, ExtensionPoint, GroupUsage, Job, Move, NodeId, NodeSpec, NodeTable, Qty, Reason, Rejections,
    ResourceSpace, Running, Sym, Symbols, Time,
};
use serde::Deserialize;

use super::{check_entry, OnError, Script};
use crate::error::{input_error, Error, InputError, Pos};
use crate::limits;
use crate::pipeline::{EntryDef, Pipeline, PipelineDef};
use crate::registry::Registry;
use crate::yaml::{self, Spanned};

/// The suffix that marks a test file; the script is the same name with `.rhai`.
pub const TEST_SUFFIX: &str = ".test.yaml";

/// Relative tolerance when comparing scores and keys: scripts compute in
/// floating point, and a test should not fail on the last bit.
const TOLERANCE: f64 = 1e-9;

/// Estimate of a test job that gives none: a minute, the order of a short contact.
const DEFAULT_ESTIMATE: Time = 60;

// ---- the file as written ------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDef {
    #[serde(default)]
    args: Option<serde_json::Value>,
    /// The resources the cluster declares (default: every resource the cases name).
    #[serde(default)]
    resources: Option<Spanned<Vec<String>>>,
    cases: Spanned<Vec<CaseDef>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseDef {
    name: Spanned<String>,
    #[serde(default)]
    point: Option<Spanned<PointName>>,
    #[serde(default)]
    args: Option<serde_json::Value>,
    #[serde(default)]
    job: Option<JobDef>,
    /// Several jobs instead of `job`, for an order case (`expect: { order }`).
    #[serde(default)]
    jobs: Option<Spanned<Vec<JobDef>>>,
    #[serde(default)]
    node: Option<Spanned<NodeDef>>,
    /// More nodes, after `node` (targets a rebalance script may name).
    #[serde(default)]
    nodes: Vec<NodeDef>,
    /// The run of the job on `node`, for a rebalance case.
    #[serde(default)]
    run: RunDef,
    #[serde(default)]
    now: Option<Time>,
    expect: Spanned<serde_json::Value>,
}

impl CaseDef {
    /// The resources the case's jobs and nodes name.
    fn resources_named(&self) -> impl Iterator<Item = &str> {
        let jobs = self.job.iter().chain(self.jobs.iter().flat_map(|j| j.value.iter()));
        let nodes = self.node.iter().map(|n| &n.value).chain(self.nodes.iter());
        jobs.flat_map(|j| j.request.keys())
            .chain(nodes.flat_map(|n| n.capacity.keys().chain(n.reserve.keys()).chain(n.used.keys())))
            .map(String::as_str)
    }
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RunDef {
    started: Option<Time>,
    expected_end: Option<Time>,
}

/// The extension points a script can be tested at, as spelled in test files.
#[derive(Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PointName {
    Filter,
    Score,
    Order,
    Rebalance,
}

impl From<PointName> for ExtensionPoint {
    fn from(p: PointName) -> Self {
        match p {
            PointName::Filter => ExtensionPoint::Filter,
            PointName::Score => ExtensionPoint::Score,
            PointName::Order => ExtensionPoint::Order,
            PointName::Rebalance => ExtensionPoint::Rebalance,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct JobDef {
    id: String,
    tenant: String,
    group: String,
    class: String,
    priority: i32,
    release: Time,
    deadline: Option<Time>,
    hard: bool,
    estimate: Time,
    request: BTreeMap<String, Qty>,
    labels: BTreeMap<String, String>,
    selector: BTreeMap<String, String>,
}

impl Default for JobDef {
    fn default() -> Self {
        JobDef {
            id: "job".into(),
            tenant: "default".into(),
            group: "default".into(),
            class: String::new(),
            priority: 0,
            release: 0,
            deadline: None,
            hard: false,
            estimate: DEFAULT_ESTIMATE,
            request: BTreeMap::new(),
            labels: BTreeMap::new(),
            selector: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct NodeDef {
    name: String,
    region: String,
    zone: Option<String>,
    labels: BTreeMap<String, String>,
    capacity: BTreeMap<String, Qty>,
    reserve: BTreeMap<String, Qty>,
    used: BTreeMap<String, Qty>,
    running: Option<u32>,
}

impl Default for NodeDef {
    fn default() -> Self {
        NodeDef {
            name: "node".into(),
            region: "default".into(),
            zone: None,
            labels: BTreeMap::new(),
            capacity: BTreeMap::new(),
            reserve: BTreeMap::new(),
            used: BTreeMap::new(),
            running: None,
        }
    }
}

// ---- expectations and results ---------------------------------------------------

/// What a case expects the script to return.
#[derive(Clone, Debug, PartialEq)]
pub enum Expect {
    /// The filter lets the node through.
    Pass,
    /// The filter rejects the node, for any reason.
    Reject,
    /// The filter rejects the node with this code (and, when given, this permanence).
    Reason {
        /// The reason code.
        code: String,
        /// Whether the rejection must be permanent (`None`: either).
        permanent: Option<bool>,
    },
    /// The score.
    Score(f64),
    /// The order key.
    Key(f64),
    /// The order of the case's `jobs`, by id.
    Order(Vec<String>),
    /// The rebalance script leaves the job where it runs.
    Stay,
    /// It proposes this move.
    Move(Proposal),
    /// The call fails with an error containing this text.
    Error(String),
}

/// A move a rebalance script proposes, by names.
#[derive(Clone, Debug, PartialEq)]
pub enum Proposal {
    /// Wherever the pipeline would place the job now.
    Relocate,
    /// To the node of this name.
    Migrate(String),
    /// Stop it and queue it again, with this reason code.
    Evict(String),
}

/// What one call of a script entry returned.
#[derive(Clone, Debug, PartialEq)]
pub enum Got {
    /// The filter let the node through.
    Pass,
    /// The filter rejected the node.
    Reject(Reason),
    /// The score.
    Score(f64),
    /// The order key.
    Key(f64),
    /// The jobs' ids in the order their keys put them.
    Order(Vec<String>),
    /// No move.
    Stay,
    /// A proposed move.
    Move(Proposal),
    /// The call failed (the message names the script, and the line and column
    /// where Rhai knows them).
    Error(String),
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOLERANCE * a.abs().max(b.abs()).max(1.0)
}

impl Expect {
    /// Whether `got` is what was expected.
    pub fn matches(&self, got: &Got) -> bool {
        match (self, got) {
            (Expect::Pass, Got::Pass) | (Expect::Reject, Got::Reject(_)) => true,
            (Expect::Reason { code, permanent }, Got::Reject(r)) => {
                r.code == code && permanent.is_none_or(|p| p == r.unresolvable)
            }
            (Expect::Score(want), Got::Score(x)) | (Expect::Key(want), Got::Key(x)) => close(*want, *x),
            (Expect::Order(want), Got::Order(got)) => want == got,
            (Expect::Stay, Got::Stay) => true,
            (Expect::Move(want), Got::Move(got)) => want == got,
            (Expect::Error(text), Got::Error(msg)) => msg.contains(text.as_str()),
            _ => false,
        }
    }

    /// The points this expectation makes sense at (`None`: every point).
    fn point(&self) -> Option<ExtensionPoint> {
        match self {
            Expect::Pass | Expect::Reject | Expect::Reason { .. } => Some(ExtensionPoint::Filter),
            Expect::Score(_) => Some(ExtensionPoint::Score),
            Expect::Key(_) | Expect::Order(_) => Some(ExtensionPoint::Order),
            Expect::Stay | Expect::Move(_) => Some(ExtensionPoint::Rebalance),
            Expect::Error(_) => None,
        }
    }

    /// Reads an `expect` value; `Err` says what an `expect` may be.
    fn parse(v: &serde_json::Value) -> Result<Expect, String> {
        use serde_json::Value as J;
        const SHAPES: &str =
            "`expect` is one of: pass, reject, a reason code, { reason: CODE, permanent: BOOL }, { score: N }, { key: N }, { order: [JOB, …] }, stay, relocate, { migrate: NODE }, { evict: CODE }, { error: TEXT }";
        let number = |v: &J, what: &str| {
            v.as_f64().filter(|x| x.is_finite()).ok_or_else(|| format!("`{what}` must be a finite number, got {v}"))
        };
        match v {
            J::String(s) if s == "pass" => Ok(Expect::Pass),
            J::String(s) if s == "reject" => Ok(Expect::Reject),
            J::String(s) if s == "stay" => Ok(Expect::Stay),
            J::String(s) if s == "relocate" => Ok(Expect::Move(Proposal::Relocate)),
            J::String(s) if !s.trim().is_empty() => Ok(Expect::Reason { code: s.clone(), permanent: None }),
            J::Object(m) => {
                let keys: Vec<&str> = m.keys().map(String::as_str).collect();
                match keys.as_slice() {
                    ["score"] => number(&m["score"], "score").map(Expect::Score),
                    ["key"] => number(&m["key"], "key").map(Expect::Key),
                    ["order"] => match &m["order"] {
                        J::Array(ids) if ids.iter().all(J::is_string) => {
                            Ok(Expect::Order(ids.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()))
                        }
                        other => Err(format!("`order` must be the list of the case's job ids, got {other}")),
                    },
                    ["migrate"] => match &m["migrate"] {
                        J::String(n) if !n.trim().is_empty() => Ok(Expect::Move(Proposal::Migrate(n.clone()))),
                        other => Err(format!("`migrate` must be a node name, got {other}")),
                    },
                    ["evict"] => match &m["evict"] {
                        J::String(c) if !c.trim().is_empty() => Ok(Expect::Move(Proposal::Evict(c.clone()))),
                        other => Err(format!("`evict` must be a reason code, got {other}")),
                    },
                    ["error"] => match &m["error"] {
                        J::String(s) => Ok(Expect::Error(s.clone())),
                        other => Err(format!("`error` must be the text the error contains, got {other}")),
                    },
                    ["permanent", "reason"] | ["reason"] => {
                        let code = match &m["reason"] {
                            J::String(s) if !s.trim().is_empty() => s.clone(),
                            other => return Err(format!("`reason` must be a reason code, got {other}")),
                        };
                        let permanent = match m.get("permanent") {
                            None => None,
                            Some(J::Bool(b)) => Some(*b),
                            Some(other) => return Err(format!("`permanent` must be true or false, got {other}")),
                        };
                        Ok(Expect::Reason { code, permanent })
                    }
                    _ => Err(SHAPES.to_owned()),
                }
            }
            _ => Err(SHAPES.to_owned()),
        }
    }
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Pass => write!(f, "pass"),
            Expect::Reject => write!(f, "reject"),
            Expect::Reason { code, permanent: None } => write!(f, "reject `{code}`"),
            Expect::Reason { code, permanent: Some(true) } => write!(f, "reject `{code}` (permanent)"),
            Expect::Reason { code, permanent: Some(false) } => write!(f, "reject `{code}` (transient)"),
            Expect::Score(x) => write!(f, "score {x}"),
            Expect::Key(x) => write!(f, "key {x}"),
            Expect::Order(ids) => write!(f, "order [{}]", ids.join(", ")),
            Expect::Stay => write!(f, "stay"),
            Expect::Move(m) => write!(f, "{m}"),
            Expect::Error(text) => write!(f, "an error containing {text:?}"),
        }
    }
}

impl std::fmt::Display for Got {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Got::Pass => write!(f, "pass"),
            Got::Reject(r) => {
                write!(f, "reject `{}` ({})", r.code, if r.unresolvable { "permanent" } else { "transient" })
            }
            Got::Score(x) => write!(f, "score {x}"),
            Got::Key(x) => write!(f, "key {x}"),
            Got::Order(ids) => write!(f, "order [{}]", ids.join(", ")),
            Got::Stay => write!(f, "stay"),
            Got::Move(m) => write!(f, "{m}"),
            Got::Error(msg) => write!(f, "error: {msg}"),
        }
    }
}

impl std::fmt::Display for Proposal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Proposal::Relocate => write!(f, "relocate"),
            Proposal::Migrate(n) => write!(f, "migrate to `{n}`"),
            Proposal::Evict(c) => write!(f, "evict `{c}`"),
        }
    }
}

// ---- a world of one job and some nodes --------------------------------------------

/// What a script call sees: the jobs, the nodes, the time.
struct World {
    resources: ResourceSpace,
    symbols: Symbols,
    nodes: NodeTable,
    /// The job under test first (`idx` 0), then the other jobs of an order case.
    jobs: Vec<Job>,
    now: Time,
    usage: GroupUsage,
    /// For a rebalance case: when the job under test started on node 0, and
    /// when it is expected to end.
    run: (Time, Time),
}

impl World {
    fn new(resources: ResourceSpace, symbols: Symbols, nodes: NodeTable, mut jobs: Vec<Job>, now: Time) -> World {
        for (i, job) in jobs.iter_mut().enumerate() {
            job.idx = i as u32;
        }
        let run = (now, now + jobs[0].estimate);
        let dims = resources.dims();
        // As the engine keeps it: allocatable capacity of the up nodes.
        let mut usage = GroupUsage::new(None, dims);
        for n in (0..nodes.len() as NodeId).filter(|&n| nodes.is_up(n)) {
            for (t, a) in usage.total.iter_mut().zip(nodes.allocatable(n)) {
                *t += a;
            }
        }
        World { resources, symbols, nodes, jobs, now, usage, run }
    }

    fn context(&self) -> Context<'_> {
        Context {
            now: self.now,
            nodes: &self.nodes,
            resources: &self.resources,
            symbols: &self.symbols,
            usage: &self.usage,
            jobs: &self.jobs,
        }
    }

    /// Builds a one-entry pipeline around `script` at `point`, as a run builds
    /// one, with `on_error: fail` so that a failing call is seen, not absorbed.
    fn pipeline(
        &self,
        engine: &Arc<rhai::Engine>,
        script: &Arc<Script>,
        point: ExtensionPoint,
        args: &serde_json::Value,
    ) -> Result<Pipeline, Error> {
        let def = PipelineDef {
            path: script.path.clone(),
            source: String::new(),
            name: script.path.display().to_string(),
            description: None,
            entries: vec![EntryDef {
                point,
                plugin: script.path.display().to_string(),
                script: Some(Arc::clone(script)),
                native: None,
                on_error: OnError::Fail,
                pos: Pos::default(),
                weight: 1.0,
                args: args.clone(),
                args_pos: Pos::default(),
            }],
            engine: Arc::clone(engine),
            architecture: None,
        };
        let mut symbols = self.symbols.clone();
        def.build(&Registry::new(), &self.resources, &mut symbols)
    }

    /// Calls the first stage of `pipeline` at `point` once, on the job and `node`.
    fn call(&self, pipeline: &Pipeline, point: ExtensionPoint, node: NodeId) -> Got {
        let cx = self.context();
        let job = &self.jobs[0];
        let outcome = match point {
            ExtensionPoint::Filter => {
                let mut ids = vec![node];
                let mut log = Rejections { detail: true, ..Rejections::default() };
                let r = pipeline.filter[0].plugin.filter(job, &cx, &mut Candidates::new(&mut ids, &mut log, 0));
                r.map(|()| match log.per_node.first() {
                    Some(&(_, _, reason)) => Got::Reject(reason),
                    None => Got::Pass,
                })
            }
            ExtensionPoint::Score => {
                let mut scores = [0.0];
                let r = pipeline.score[0].plugin.score(job, &cx, &[node], &mut scores);
                r.map(|()| Got::Score(scores[0]))
            }
            ExtensionPoint::Order => {
                let jobs: Vec<&Job> = self.jobs.iter().collect();
                let mut keys = vec![0.0; jobs.len()];
                let r = pipeline.order[0].plugin.keys(&jobs, &cx, &mut keys);
                r.map(|()| {
                    if jobs.len() == 1 {
                        return Got::Key(keys[0]);
                    }
                    // As the engine sorts: by key, ties in submission order.
                    let mut idx: Vec<usize> = (0..jobs.len()).collect();
                    idx.sort_by(|&a, &b| keys[a].total_cmp(&keys[b]).then(a.cmp(&b)));
                    Got::Order(idx.into_iter().map(|i| jobs[i].id.clone()).collect())
                })
            }
            ExtensionPoint::Rebalance => {
                let (started, expected_end) = self.run;
                let running = [Running { job: 0, node, started, expected_end }];
                let mut moves = Vec::new();
                let r = pipeline.rebalance[0].plugin.rebalance(&cx, &running, &mut moves);
                r.map(|()| match moves.first() {
                    None => Got::Stay,
                    Some(Move::Relocate { .. }) => Got::Move(Proposal::Relocate),
                    Some(&Move::Migrate { to, .. } | &Move::MigrateWithPause { to, .. }) => {
                        Got::Move(Proposal::Migrate(self.nodes.names[to as usize].clone()))
                    }
                    Some(Move::Evict { reason, .. }) => Got::Move(Proposal::Evict(reason.to_string())),
                })
            }
        };
        outcome.unwrap_or_else(|e| Got::Error(e.0))
    }

    /// Runs `script` at `point` with `args` on the job and `node`, and gives
    /// what it printed too.
    fn run_printing(
        &self,
        engine: &Arc<rhai::Engine>,
        script: &Arc<Script>,
        point: ExtensionPoint,
        args: &serde_json::Value,
        node: NodeId,
    ) -> (Got, Vec<String>) {
        match self.pipeline(engine, script, point, args) {
            Ok(p) => {
                let got = self.call(&p, point, node);
                let printed = p.scripts.iter().flat_map(|st| st.log.drain().0).map(|l| l.to_string()).collect();
                (got, printed)
            }
            Err(e) => (Got::Error(e.to_string()), Vec::new()),
        }
    }
}

// ---- loading a test file ------------------------------------------------------------

/// One case of a test file, ready to run.
struct Case {
    name: String,
    point: ExtensionPoint,
    args: serde_json::Value,
    world: World,
    expect: Expect,
    /// Where `expect` is.
    pos: Pos,
}

/// A loaded test file: its script, compiled, and its cases, checked.
pub struct PolicyTests {
    /// The test file.
    pub path: PathBuf,
    /// The script it tests.
    pub script: Arc<Script>,
    engine: Arc<rhai::Engine>,
    cases: Vec<Case>,
}

impl std::fmt::Debug for PolicyTests {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyTests").field("path", &self.path).field("cases", &self.cases.len()).finish()
    }
}

/// The result of one case.
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// The extension point it tested.
    pub point: ExtensionPoint,
    /// Where its `expect` is in the test file.
    pub pos: Pos,
    /// What it expected.
    pub expected: Expect,
    /// What the script returned.
    pub got: Got,
    /// What it printed (`print`, `debug`) during the case, line by line.
    pub printed: Vec<String>,
}

impl CaseResult {
    /// Whether the script returned what the case expected.
    pub fn passed(&self) -> bool {
        self.expected.matches(&self.got)
    }
}

/// The script tested by the test file `path`: `NAME.rhai` beside `NAME.test.yaml`.
pub fn script_of(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(TEST_SUFFIX)?;
    Some(path.with_file_name(format!("{stem}.rhai")))
}

/// The test files named by `paths`: a test file itself, the test file beside a
/// script, or every test file under a directory (recursively, sorted), each
/// once. A path that names none is an input error; every such error is reported.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Error> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(TEST_SUFFIX)) {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let problem = |p: &Path, m: String| input_error(p, None, Pos::default(), m);
    for p in paths {
        let name = p.to_string_lossy();
        if p.is_dir() {
            let before = files.len();
            if let Err(e) = walk(p, &mut files) {
                errors.push(problem(p, format!("cannot read the directory: {e}")));
            } else if files.len() == before {
                errors.push(problem(p, format!("no policy test files (*{TEST_SUFFIX}) in this directory")));
            }
        } else if name.ends_with(TEST_SUFFIX) {
            files.push(p.clone());
        } else if let Some(stem) = name.strip_suffix(".rhai") {
            let test = PathBuf::from(format!("{stem}{TEST_SUFFIX}"));
            if test.is_file() {
                files.push(test);
            } else {
                errors.push(problem(p, format!("this script has no test file: expected {}", test.display())));
            }
        } else if !p.exists() {
            errors.push(problem(p, "no such file or directory".into()));
        } else {
            errors.push(problem(
                p,
                format!("not a policy test: expected a *{TEST_SUFFIX} file, a .rhai script or a directory"),
            ));
        }
    }
    Error::collect(errors)?;
    // A file named twice (itself and through its directory) runs once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    Ok(files)
}

impl PolicyTests {
    /// Reads the test file at `path` and compiles the script beside it.
    pub fn load(path: &Path, engine: &Arc<rhai::Engine>) -> Result<PolicyTests, Error> {
        let text = yaml::read(path)?;
        let Some(script_path) = script_of(path) else {
            return Err(Error::at(
                path,
                None,
                Pos::default(),
                format!("a policy test file's name ends in {TEST_SUFFIX}"),
            ));
        };
        if !script_path.is_file() {
            return Err(Error::at(
                path,
                None,
                Pos::default(),
                format!("no script beside this test file: expected {}", script_path.display()),
            ));
        }
        let script = Arc::new(super::compile(engine, &script_path)?);
        Self::parse(path, &text, script, engine)
    }

    /// Checks the test file `text`, read from `path`, for `script`: every
    /// problem is reported, each with its position.
    pub fn parse(path: &Path, text: &str, script: Arc<Script>, engine: &Arc<rhai::Engine>) -> Result<Self, Error> {
        let file: FileDef = yaml::parse(path, text)?;
        let mut errors: Vec<InputError> = Vec::new();
        let mut err = |pos: Pos, m: String| errors.push(input_error(path, Some(text), pos, m));
        let points = [ExtensionPoint::Filter, ExtensionPoint::Score, ExtensionPoint::Order, ExtensionPoint::Rebalance];
        let defined: Vec<ExtensionPoint> = points.into_iter().filter(|&p| check_entry(&script, p).is_ok()).collect();
        if defined.is_empty() {
            err(
                Pos::default(),
                format!(
                    "{} defines no entry point to test: `fn filter(job, node, ctx)`, `fn score(job, node, ctx)`, `fn key(job, ctx)`, `fn before(a, b, ctx)` or `fn rebalance(job, node, run, ctx)`",
                    script.path.display()
                ),
            );
        }
        if file.cases.value.is_empty() {
            err(Pos::of(&file.cases), "no cases: a test file needs at least one".into());
        }
        // The resources every case's maps hold, as a cluster declares them: a
        // resource a job or node lacks reads 0, as in a run.
        let resources: Vec<String> = match &file.resources {
            Some(declared) => {
                let mut seen = std::collections::HashSet::new();
                for r in &declared.value {
                    if r.trim().is_empty() || !seen.insert(r.as_str()) {
                        err(
                            Pos::of(declared),
                            format!("`resources` names each resource once, by a name; got {r:?} twice or empty"),
                        );
                    }
                }
                declared.value.clone()
            }
            None => {
                let mut names: Vec<String> = Vec::new();
                for c in &file.cases.value {
                    for r in c.resources_named() {
                        if !names.iter().any(|n| n == r) {
                            names.push(r.to_owned());
                        }
                    }
                }
                names
            }
        };
        let mut cases = Vec::with_capacity(file.cases.value.len());
        for c in file.cases.value {
            let name_pos = Pos::of(&c.name);
            let point = match (&c.point, defined.as_slice()) {
                (Some(p), _) => {
                    let point = ExtensionPoint::from(p.value);
                    if let Err(m) = check_entry(&script, point) {
                        err(Pos::of(p), m);
                    }
                    point
                }
                (None, [only]) => *only,
                (None, []) => continue,
                (None, several) => {
                    let names: Vec<&str> = several.iter().map(|p| p.as_str()).collect();
                    err(
                        name_pos,
                        format!(
                            "the script defines several entry points ({}); say which this case tests with `point:`",
                            names.join(", ")
                        ),
                    );
                    continue;
                }
            };
            let expect_pos = Pos::of(&c.expect);
            let expect = match Expect::parse(&c.expect.value) {
                Ok(e) => e,
                Err(m) => {
                    err(expect_pos, m);
                    continue;
                }
            };
            if let Some(p) = expect.point().filter(|&p| p != point) {
                err(
                    expect_pos,
                    format!(
                        "expects {expect}, which only {} {p} script returns; this case tests the {point} entry point",
                        if p == ExtensionPoint::Order { "an" } else { "a" }
                    ),
                );
                continue;
            }
            let node_pos = c.node.as_ref().map_or(name_pos, Pos::of);
            let jobs = match (c.job, c.jobs) {
                (Some(_), Some(jobs)) => {
                    err(Pos::of(&jobs), "a case gives `job` or `jobs`, not both".into());
                    continue;
                }
                (_, Some(jobs)) if jobs.value.is_empty() => {
                    err(Pos::of(&jobs), "`jobs` needs at least one job".into());
                    continue;
                }
                (_, Some(jobs)) => jobs.value,
                (job, None) => vec![job.unwrap_or_default()],
            };
            if let Expect::Order(ids) = &expect {
                let mut want = ids.clone();
                let mut have: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
                want.sort();
                have.sort();
                if want != have {
                    err(expect_pos, format!("`order` must list each of the case's job ids once: {}", have.join(", ")));
                    continue;
                }
            }
            let mut nodes = vec![c.node.map(|n| n.value).unwrap_or_default()];
            nodes.extend(c.nodes);
            let world = match case_world(jobs, nodes, c.now, c.run, &resources) {
                Ok(w) => w,
                Err(m) => {
                    err(node_pos, m);
                    continue;
                }
            };
            let args = c.args.or_else(|| file.args.clone()).unwrap_or(serde_json::Value::Null);
            cases.push(Case { name: c.name.value, point, args, world, expect, pos: expect_pos });
        }
        Error::collect(errors)?;
        Ok(PolicyTests { path: path.to_owned(), script, engine: Arc::clone(engine), cases })
    }

    /// Runs every case, in file order.
    pub fn run(&self) -> Vec<CaseResult> {
        self.cases
            .iter()
            .map(|c| {
                let (got, printed) = c.world.run_printing(&self.engine, &self.script, c.point, &c.args, 0);
                CaseResult {
                    name: c.name.clone(),
                    point: c.point,
                    pos: c.pos,
                    expected: c.expect.clone(),
                    got,
                    printed,
                }
            })
            .collect()
    }
}

/// The world of a case: its jobs (the one under test first) and its nodes (the
/// one under test first); `Err` says what is wrong with a node.
fn case_world(
    jobs: Vec<JobDef>,
    nodes: Vec<NodeDef>,
    now: Option<Time>,
    run: RunDef,
    resources: &[String],
) -> Result<World, String> {
    let resources = ResourceSpace::new(resources.iter().map(String::as_str));
    let used_names = jobs
        .iter()
        .flat_map(|j| j.request.keys())
        .chain(nodes.iter().flat_map(|n| n.capacity.keys().chain(n.reserve.keys()).chain(n.used.keys())));
    for k in used_names {
        if !resources.names().iter().any(|r| r == k) {
            return Err(format!(
                "resource `{k}` is not among the file's `resources` ({}); a cluster declares every resource it has",
                resources.names().join(", ")
            ));
        }
    }
    let vector = |m: &BTreeMap<String, Qty>| -> Vec<Qty> {
        resources.names().iter().map(|r| m.get(r).copied().unwrap_or(0)).collect()
    };
    let mut symbols = Symbols::default();
    let mut table = NodeTable::new(resources.dims());
    let several = nodes.len() > 1;
    for node in &nodes {
        let whose = if several { format!("node `{}`", node.name) } else { "the node".to_owned() };
        let (capacity, reserve, used) = (vector(&node.capacity), vector(&node.reserve), vector(&node.used));
        for (d, r) in resources.names().iter().enumerate() {
            if reserve[d] > capacity[d] {
                return Err(format!("{whose} reserves {} {r} but its capacity is only {}", reserve[d], capacity[d]));
            }
            if used[d] > capacity[d] - reserve[d] {
                return Err(format!(
                    "{whose} uses {} {r} but only {} is allocatable (capacity minus reserve)",
                    used[d],
                    capacity[d] - reserve[d]
                ));
            }
        }
        let busy = used.iter().any(|&u| u > 0);
        let running = node.running.unwrap_or(u32::from(busy));
        if busy && running == 0 {
            return Err(format!("{whose} uses resources, so it runs at least one job: `running` must be at least 1"));
        }
        // The host books every running job: no node runs more jobs than a
        // workload may hold (found by the fuzz harness: 4294967295 ran for minutes).
        if running as usize > limits::MAX_JOBS {
            return Err(format!(
                "{whose} runs {running} jobs; `running` is at most {} (the most jobs a workload may hold)",
                limits::MAX_JOBS
            ));
        }
        if table.names.contains(&node.name) {
            return Err(format!("two nodes are named `{}`", node.name));
        }
        // As the cluster loader does: `region` and `zone` labels on every node.
        let zone = node.zone.clone().unwrap_or_else(|| node.region.clone());
        let mut labels = pairs(&node.labels, &mut symbols);
        for (key, value) in [("region", &node.region), ("zone", &zone)] {
            let k = symbols.intern(key);
            if !labels.iter().any(|&(l, _)| l == k) {
                labels.push((k, symbols.intern(value)));
            }
        }
        let id = table.push(NodeSpec {
            name: node.name.clone(),
            region: symbols.intern(&node.region),
            zone: symbols.intern(&zone),
            labels,
            taints: Vec::new(),
            capacity,
            reserve,
        });
        // The host's own bookkeeping: the first job holds `used`, the others nothing.
        let zero = vec![0; resources.dims()];
        for i in 0..running {
            let ok = table.allocate(id, if i == 0 { &used } else { &zero });
            debug_assert!(ok, "checked above: `used` fits the allocatable capacity");
        }
    }

    let jobs: Vec<Job> = jobs
        .iter()
        .map(|job| Job {
            idx: 0,
            id: job.id.clone(),
            tenant: symbols.intern(&job.tenant),
            group: symbols.intern(&job.group),
            priority_class: symbols.intern(&job.class),
            priority: job.priority,
            release: job.release,
            deadline: job.deadline,
            hard_deadline: job.hard,
            estimate: job.estimate,
            request: vector(&job.request),
            selector: pairs(&job.selector, &mut symbols),
            tolerations: Vec::new(),
            labels: pairs(&job.labels, &mut symbols),
            after: None,
            restartable: true,
        })
        .collect();
    let now = now.unwrap_or(jobs[0].release);
    let mut world = World::new(resources, symbols, table, jobs, now);
    let started = run.started.unwrap_or(now);
    world.run = (started, run.expected_end.unwrap_or(started + world.jobs[0].estimate));
    Ok(world)
}

/// Interned `key: value` pairs, sorted by key as the model keeps them.
fn pairs(m: &BTreeMap<String, String>, symbols: &mut Symbols) -> Vec<(Sym, Sym)> {
    let mut v: Vec<(Sym, Sym)> = m.iter().map(|(k, v)| (symbols.intern(k), symbols.intern(v))).collect();
    v.sort();
    v
}

#[cfg(test)]
mod tests;
