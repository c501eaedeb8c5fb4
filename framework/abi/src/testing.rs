//! Test helpers for plugin authors: describe a small cluster and a few jobs in
//! plain Rust, and call a plugin on them, without assembling views by hand.
//!
//! The views are built as the kairos host builds them: node labels sorted by
//! key with `region` and `zone` among them (the zone defaults to the region;
//! a label the node sets itself wins), allocatable capacity equal to the
//! capacity unless set, the cluster total summed over the up nodes, and
//! resource vectors in the cluster's order.
//!
//! ```
//! use kairos_abi::sdk::Score;
//! use kairos_abi::testing::{TestCluster, TestJob, TestNode};
//! use kairos_abi::{ClusterView, JobView};
//!
//! /// Prefers nodes with fewer running jobs.
//! struct Quiet;
//! impl Score for Quiet {
//!     fn score(&self, _: &JobView<'_>, c: &ClusterView<'_>, nodes: &[u32], scores: &mut [f64]) -> Result<(), String> {
//!         for (&n, s) in nodes.iter().zip(scores) {
//!             *s = 100.0 / (1.0 + c.nodes.running[n as usize] as f64);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! let cluster = TestCluster::new(["cpu", "memory"])
//!     .node(TestNode::new("busy").region("europe").capacity([("cpu", 16), ("memory", 64)]).running(3))
//!     .node(TestNode::new("idle").region("europe").capacity([("cpu", 16), ("memory", 64)]));
//! let job = TestJob::new("j1").request([("cpu", 4)]);
//! assert_eq!(cluster.score(&Quiet, &job).unwrap(), [25.0, 100.0]);
//! ```
//!
//! A plugin built from its [`PluginDef`] and JSON args, as the host would:
//!
//! ```
//! # use kairos_abi::sdk::{BuildArgs, Fields, Plugin, PluginDef, Score};
//! # use kairos_abi::testing::{TestCluster, TestJob, TestNode};
//! # use kairos_abi::{ClusterView, JobView, Point};
//! # struct Flat(f64);
//! # impl Score for Flat {
//! #     fn score(&self, _: &JobView<'_>, _: &ClusterView<'_>, _: &[u32], s: &mut [f64]) -> Result<(), String> {
//! #         s.fill(self.0);
//! #         Ok(())
//! #     }
//! # }
//! # const FLAT: PluginDef = PluginDef { name: "vendor.flat", point: Point::Score, summary: "", args_schema: "{}",
//! #     build: |b| { let mut f = Fields::new(b.args)?; let v = f.number("value")?.unwrap_or(50.0); f.finish()?;
//! #                  Ok(Plugin::Score(Box::new(Flat(v)))) } };
//! let cluster = TestCluster::new(["cpu"]).node(TestNode::new("a").capacity([("cpu", 4)]));
//! let plugin = cluster.build(&FLAT, r#"{ "value": 7 }"#).unwrap();
//! let score = plugin.as_score().expect("a score plugin");
//! assert_eq!(cluster.score(score, &TestJob::new("j")).unwrap(), [7.0]);
//! assert!(cluster.build(&FLAT, r#"{ "valeu": 7 }"#).is_err(), "unknown args are refused");
//! ```

use abi_stable::std_types::{ROption, RStr};

use crate::json;
use crate::partition::GroupUsageView;
use crate::sdk::{BuildArgs, Filter, Order, PartitionOrder, Plugin, PluginDef, Rebalance, Score};
use crate::views::{ClusterView, JobView, Label, MoveView, NodeTableView, RunningView, Verdict};

/// A node of a [`TestCluster`].
#[derive(Clone, Debug)]
pub struct TestNode {
    name: String,
    region: String,
    zone: Option<String>,
    labels: Vec<(String, String)>,
    capacity: Vec<(String, u64)>,
    allocatable: Option<Vec<(String, u64)>>,
    used: Vec<(String, u64)>,
    running: u32,
    up: bool,
}

impl TestNode {
    /// A node named `name`, in region `default`, up, with nothing.
    pub fn new(name: &str) -> TestNode {
        TestNode {
            name: name.to_owned(),
            region: "default".to_owned(),
            zone: None,
            labels: Vec::new(),
            capacity: Vec::new(),
            allocatable: None,
            used: Vec::new(),
            running: 0,
            up: true,
        }
    }

    /// Its region (also its zone, unless [`TestNode::zone`] says otherwise).
    pub fn region(mut self, region: &str) -> Self {
        self.region = region.to_owned();
        self
    }

    /// Its zone.
    pub fn zone(mut self, zone: &str) -> Self {
        self.zone = Some(zone.to_owned());
        self
    }

    /// A label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.push((key.to_owned(), value.to_owned()));
        self
    }

    /// Its capacity, by resource name (resources not named: 0).
    pub fn capacity<'a>(mut self, quantities: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        self.capacity = owned(quantities);
        self
    }

    /// Its allocatable capacity (default: its capacity).
    pub fn allocatable<'a>(mut self, quantities: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        self.allocatable = Some(owned(quantities));
        self
    }

    /// What is allocated on it now.
    pub fn used<'a>(mut self, quantities: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        self.used = owned(quantities);
        self
    }

    /// The jobs running on it.
    pub fn running(mut self, jobs: u32) -> Self {
        self.running = jobs;
        self
    }

    /// The node is down.
    pub fn down(mut self) -> Self {
        self.up = false;
        self
    }
}

/// A job, as a plugin sees it.
#[derive(Clone, Debug)]
pub struct TestJob {
    index: Option<u32>,
    id: String,
    tenant: String,
    group: String,
    priority_class: String,
    priority: i32,
    release: i64,
    deadline: Option<i64>,
    hard_deadline: bool,
    estimate: i64,
    request: Vec<(String, u64)>,
    selector: Vec<(String, String)>,
    labels: Vec<(String, String)>,
}

impl TestJob {
    /// A job with id `id`, released at 0, an estimate of 60 s, no deadline,
    /// requesting nothing. Its index is its position in the call.
    pub fn new(id: &str) -> TestJob {
        TestJob {
            index: None,
            id: id.to_owned(),
            tenant: String::new(),
            group: String::new(),
            priority_class: String::new(),
            priority: 0,
            release: 0,
            deadline: None,
            hard_deadline: false,
            estimate: 60,
            request: Vec::new(),
            selector: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// Its index in the host (default: its position among the call's jobs).
    pub fn index(mut self, index: u32) -> Self {
        self.index = Some(index);
        self
    }

    /// Its tenant.
    pub fn tenant(mut self, tenant: &str) -> Self {
        self.tenant = tenant.to_owned();
        self
    }

    /// Its group.
    pub fn group(mut self, group: &str) -> Self {
        self.group = group.to_owned();
        self
    }

    /// Its priority class and the class's priority.
    pub fn class(mut self, name: &str, priority: i32) -> Self {
        self.priority_class = name.to_owned();
        self.priority = priority;
        self
    }

    /// Its priority.
    pub fn priority(mut self, priority: i32) -> Self {
        self.priority = priority;
        self
    }

    /// Its release time, seconds.
    pub fn release(mut self, at: i64) -> Self {
        self.release = at;
        self
    }

    /// A soft deadline, seconds.
    pub fn deadline(mut self, at: i64) -> Self {
        self.deadline = Some(at);
        self.hard_deadline = false;
        self
    }

    /// A hard deadline, seconds.
    pub fn hard_deadline(mut self, at: i64) -> Self {
        self.deadline = Some(at);
        self.hard_deadline = true;
        self
    }

    /// Its estimated run time, seconds.
    pub fn estimate(mut self, seconds: i64) -> Self {
        self.estimate = seconds;
        self
    }

    /// What it requests, by resource name (resources not named: 0).
    pub fn request<'a>(mut self, quantities: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        self.request = owned(quantities);
        self
    }

    /// A node label it requires.
    pub fn selector(mut self, key: &str, value: &str) -> Self {
        self.selector.push((key.to_owned(), value.to_owned()));
        self
    }

    /// A label of its own.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// What a group holds, for a partition-scoped order plugin
/// ([`TestCluster::partition_keys`]).
#[derive(Clone, Debug, Default)]
pub struct TestGroup {
    name: String,
    used: Vec<(String, u64)>,
    running: u32,
}

impl TestGroup {
    /// Group `name`, holding nothing.
    pub fn new(name: &str) -> TestGroup {
        TestGroup { name: name.to_owned(), ..TestGroup::default() }
    }

    /// What its running jobs hold, by resource name.
    pub fn used<'a>(mut self, quantities: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        self.used = owned(quantities);
        self
    }

    /// Its running jobs.
    pub fn running(mut self, jobs: u32) -> Self {
        self.running = jobs;
        self
    }
}

/// A cluster to call plugins on: resource dimensions, nodes, and the time.
#[derive(Clone, Debug)]
pub struct TestCluster {
    resources: Vec<String>,
    nodes: Vec<TestNode>,
    now: i64,
}

impl TestCluster {
    /// A cluster with these resource dimensions, in order, and no node; the
    /// time is 0.
    pub fn new<'a>(resources: impl IntoIterator<Item = &'a str>) -> TestCluster {
        TestCluster { resources: resources.into_iter().map(str::to_owned).collect(), nodes: Vec::new(), now: 0 }
    }

    /// Adds a node (its id is its position).
    pub fn node(mut self, node: TestNode) -> Self {
        self.nodes.push(node);
        self
    }

    /// Sets the time of the calls, seconds.
    pub fn now(mut self, now: i64) -> Self {
        self.now = now;
        self
    }

    /// Builds plugin `def` from `args` (JSON text; `null` for none) against
    /// this cluster's resources, as the host does.
    pub fn build(&self, def: &PluginDef, args: &str) -> Result<Plugin, String> {
        let args = json::parse(args).map_err(|e| e.to_string())?;
        let names: Vec<&str> = self.resources.iter().map(String::as_str).collect();
        (def.build)(&BuildArgs { args: &args, resources: &names })
    }

    /// Calls `f` with the views of `jobs` and of the cluster.
    ///
    /// # Panics
    /// When a job or node names a resource the cluster does not declare.
    pub fn with_views<R>(&self, jobs: &[TestJob], f: impl FnOnce(&[JobView<'_>], &ClusterView<'_>) -> R) -> R {
        let dims = self.resources.len();
        let resources: Vec<RStr<'_>> = self.resources.iter().map(|r| RStr::from_str(r)).collect();
        let vector = |of: &str, quantities: &[(String, u64)]| {
            let mut v = vec![0u64; dims];
            for (name, q) in quantities {
                let d = self.resources.iter().position(|r| r == name).unwrap_or_else(|| {
                    panic!("{of} names resource `{name}`, which the cluster does not declare ({:?})", self.resources)
                });
                v[d] = *q;
            }
            v
        };
        let (mut capacity, mut allocatable, mut used) = (Vec::new(), Vec::new(), Vec::new());
        let mut node_labels: Vec<Vec<(&str, &str)>> = Vec::new();
        for n in &self.nodes {
            let of = format!("node `{}`", n.name);
            capacity.extend(vector(&of, &n.capacity));
            allocatable.extend(vector(&of, n.allocatable.as_ref().unwrap_or(&n.capacity)));
            used.extend(vector(&of, &n.used));
            let mut labels: Vec<(&str, &str)> = n.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let zone = n.zone.as_deref().unwrap_or(&n.region);
            for (key, value) in [("region", n.region.as_str()), ("zone", zone)] {
                if !labels.iter().any(|(k, _)| *k == key) {
                    labels.push((key, value));
                }
            }
            labels.sort_by_key(|(k, _)| *k);
            node_labels.push(labels);
        }
        let mut label_start = Vec::with_capacity(self.nodes.len() + 1);
        let mut labels = Vec::new();
        for l in &node_labels {
            label_start.push(labels.len() as u32);
            labels.extend(l.iter().map(|(k, v)| Label { key: RStr::from_str(k), value: RStr::from_str(v) }));
        }
        label_start.push(labels.len() as u32);
        let mut total = vec![0u64; dims];
        for (n, _) in self.nodes.iter().enumerate().filter(|(_, node)| node.up) {
            for (d, t) in total.iter_mut().enumerate() {
                *t += allocatable[n * dims + d];
            }
        }
        let names: Vec<RStr<'_>> = self.nodes.iter().map(|n| RStr::from_str(&n.name)).collect();
        let regions: Vec<RStr<'_>> = self.nodes.iter().map(|n| RStr::from_str(&n.region)).collect();
        let zones: Vec<RStr<'_>> =
            self.nodes.iter().map(|n| RStr::from_str(n.zone.as_deref().unwrap_or(&n.region))).collect();
        let running: Vec<u32> = self.nodes.iter().map(|n| n.running).collect();
        let up: Vec<bool> = self.nodes.iter().map(|n| n.up).collect();
        let cluster = ClusterView {
            now: self.now,
            nodes: NodeTableView {
                layout: 1,
                dims: dims as u32,
                resources: resources.as_slice().into(),
                names: names.as_slice().into(),
                regions: regions.as_slice().into(),
                zones: zones.as_slice().into(),
                label_start: label_start.as_slice().into(),
                labels: labels.as_slice().into(),
                capacity: capacity.as_slice().into(),
                allocatable: allocatable.as_slice().into(),
                used: used.as_slice().into(),
                running: running.as_slice().into(),
                up: up.as_slice().into(),
            },
            total: total.as_slice().into(),
        };
        let requests: Vec<Vec<u64>> = jobs.iter().map(|j| vector(&format!("job `{}`", j.id), &j.request)).collect();
        let job_labels: Vec<(Vec<Label<'_>>, Vec<Label<'_>>)> =
            jobs.iter().map(|j| (sorted(&j.labels), sorted(&j.selector))).collect();
        let views: Vec<JobView<'_>> = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| JobView {
                index: j.index.unwrap_or(i as u32),
                id: RStr::from_str(&j.id),
                tenant: RStr::from_str(&j.tenant),
                group: RStr::from_str(&j.group),
                priority_class: RStr::from_str(&j.priority_class),
                priority: j.priority as _,
                release: j.release,
                deadline: j.deadline.map_or(ROption::RNone, ROption::RSome),
                hard_deadline: j.hard_deadline,
                estimate: j.estimate,
                request: requests[i].as_slice().into(),
                selector: job_labels[i].1.as_slice().into(),
                labels: job_labels[i].0.as_slice().into(),
            })
            .collect();
        f(&views, &cluster)
    }

    /// Every node's id, in order.
    fn all(&self) -> Vec<u32> {
        (0..self.nodes.len() as u32).collect()
    }

    /// Calls `plugin` on `job` with every node of the cluster; its verdicts,
    /// node by node.
    pub fn filter(&self, plugin: &dyn Filter, job: &TestJob) -> Result<Vec<Verdict>, String> {
        let nodes = self.all();
        let mut verdicts = vec![Verdict::PASS; nodes.len()];
        self.with_views(std::slice::from_ref(job), |jobs, c| plugin.filter(&jobs[0], c, &nodes, &mut verdicts))?;
        Ok(verdicts)
    }

    /// Calls `plugin` on `job` with every node of the cluster; its scores,
    /// node by node.
    pub fn score(&self, plugin: &dyn Score, job: &TestJob) -> Result<Vec<f64>, String> {
        let nodes = self.all();
        let mut scores = vec![0.0; nodes.len()];
        self.with_views(std::slice::from_ref(job), |jobs, c| plugin.score(&jobs[0], c, &nodes, &mut scores))?;
        Ok(scores)
    }

    /// Calls `plugin` on `jobs`; their keys, job by job.
    pub fn keys(&self, plugin: &dyn Order, jobs: &[TestJob]) -> Result<Vec<f64>, String> {
        let mut keys = vec![0.0; jobs.len()];
        self.with_views(jobs, |views, c| plugin.keys(views, c, &mut keys))?;
        Ok(keys)
    }

    /// Calls the partition-scoped `plugin` on `jobs`, each with what its group
    /// holds; their keys, job by job.
    pub fn partition_keys(
        &self,
        plugin: &dyn PartitionOrder,
        jobs: &[(TestJob, TestGroup)],
    ) -> Result<Vec<f64>, String> {
        let (jobs, groups): (Vec<TestJob>, Vec<TestGroup>) = jobs.iter().cloned().unzip();
        let used: Vec<Vec<u64>> = groups
            .iter()
            .map(|g| {
                let mut v = vec![0u64; self.resources.len()];
                for (name, q) in &g.used {
                    let d = self.resources.iter().position(|r| r == name).unwrap_or_else(|| {
                        panic!("group `{}` names resource `{name}`, which the cluster does not declare", g.name)
                    });
                    v[d] = *q;
                }
                v
            })
            .collect();
        let views: Vec<GroupUsageView<'_>> = groups
            .iter()
            .zip(&used)
            .map(|(g, u)| GroupUsageView {
                group: RStr::from_str(&g.name),
                used: u.as_slice().into(),
                running: g.running,
            })
            .collect();
        let mut keys = vec![0.0; jobs.len()];
        self.with_views(&jobs, |j, c| plugin.keys(j, &views, c, &mut keys))?;
        Ok(keys)
    }

    /// Calls `plugin` with the running jobs `running`; the moves it proposes.
    pub fn rebalance(&self, plugin: &dyn Rebalance, running: &[RunningView]) -> Result<Vec<MoveView>, String> {
        let mut moves = Vec::new();
        self.with_views(&[], |_, c| plugin.rebalance(c, running, &mut moves))?;
        Ok(moves)
    }
}

/// `pairs` as labels, sorted by key.
fn sorted(pairs: &[(String, String)]) -> Vec<Label<'_>> {
    let mut v: Vec<Label<'_>> =
        pairs.iter().map(|(k, v)| Label { key: RStr::from_str(k), value: RStr::from_str(v) }).collect();
    v.sort_by(|a, b| a.key.as_str().cmp(b.key.as_str()));
    v
}

/// Quantities by resource name, owned.
fn owned<'a>(quantities: impl IntoIterator<Item = (&'a str, u64)>) -> Vec<(String, u64)> {
    quantities.into_iter().map(|(n, q)| (n.to_owned(), q)).collect()
}

impl Plugin {
    /// The plugin, if it is a filter.
    pub fn as_filter(&self) -> Option<&dyn Filter> {
        match self {
            Plugin::Filter(p) => Some(p.as_ref()),
            _ => None,
        }
    }

    /// The plugin, if it is a score.
    pub fn as_score(&self) -> Option<&dyn Score> {
        match self {
            Plugin::Score(p) => Some(p.as_ref()),
            _ => None,
        }
    }

    /// The plugin, if it is a (job-scoped) order plugin.
    pub fn as_order(&self) -> Option<&dyn Order> {
        match self {
            Plugin::Order(p) => Some(p.as_ref()),
            _ => None,
        }
    }

    /// The plugin, if it is a partition-scoped order plugin.
    pub fn as_partition_order(&self) -> Option<&dyn PartitionOrder> {
        match self {
            Plugin::PartitionOrder(p) => Some(p.as_ref()),
            _ => None,
        }
    }

    /// The plugin, if it is a rebalance plugin.
    pub fn as_rebalance(&self) -> Option<&dyn Rebalance> {
        match self {
            Plugin::Rebalance(p) => Some(p.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records what it was given, as a score of 0 for every node.
    struct Seen;
    impl Score for Seen {
        fn score(&self, job: &JobView<'_>, c: &ClusterView<'_>, nodes: &[u32], s: &mut [f64]) -> Result<(), String> {
            assert_eq!(nodes, [0, 1]);
            assert_eq!(job.request.as_slice(), [2, 0], "the request, in the cluster's resource order");
            assert_eq!(job.labels.iter().map(|l| l.key.as_str()).collect::<Vec<_>>(), ["a", "z"], "sorted");
            let t = &c.nodes;
            assert_eq!(t.label(0, "region"), Some("eu"));
            assert_eq!(t.label(0, "zone"), Some("eu"), "the zone defaults to the region");
            assert_eq!(t.label(1, "zone"), Some("rack-7"), "a label the node sets wins");
            assert_eq!(t.labels_of(1).iter().map(|l| l.key.as_str()).collect::<Vec<_>>(), ["band", "region", "zone"]);
            assert_eq!((t.allocatable(0), t.used(0)), (&[4, 16][..], &[1, 0][..]));
            assert_eq!(t.allocatable(1), [6, 8], "allocatable as set");
            assert_eq!(t.free(0, 0), 3);
            assert_eq!(c.total.as_slice(), [4, 16], "the total counts up nodes only");
            assert_eq!(c.now, 3600);
            s.fill(0.0);
            Ok(())
        }
    }

    #[test]
    fn the_views_are_built_as_the_host_builds_them() {
        let cluster = TestCluster::new(["cpu", "memory"])
            .now(3600)
            .node(TestNode::new("a").region("eu").capacity([("cpu", 4), ("memory", 16)]).used([("cpu", 1)]))
            .node(
                TestNode::new("b")
                    .region("eu")
                    .label("zone", "rack-7")
                    .label("band", "S")
                    .capacity([("cpu", 8), ("memory", 8)])
                    .allocatable([("cpu", 6), ("memory", 8)])
                    .down(),
            );
        let job = TestJob::new("j").request([("cpu", 2)]).label("z", "1").label("a", "2");
        assert_eq!(cluster.score(&Seen, &job).unwrap(), [0.0, 0.0]);
    }

    #[test]
    #[should_panic(expected = "job `j` names resource `gpu`, which the cluster does not declare")]
    fn a_resource_the_cluster_lacks_is_a_mistake_of_the_test() {
        let cluster = TestCluster::new(["cpu"]).node(TestNode::new("a"));
        let _ = cluster.score(&Seen, &TestJob::new("j").request([("gpu", 1)]));
    }
}
