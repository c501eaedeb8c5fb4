//! The sample jobs and nodes `kairos check` calls a pipeline's plugins on.
//!
//! A scenario's samples come from its own cluster and workload, so that a
//! plugin meets the jobs and nodes a run will give it:
//!
//! - **nodes**: the first node of each distinct shape, in cluster order — the
//!   same capacity, reserve, labels (keys and values) and taints; nodes that
//!   differ only by name (the antennas of one station) are one shape;
//! - **jobs**: the first job of each distinct kind, in workload order — the
//!   same group, priority class, request, selector, tolerations and label
//!   keys; label values (a satellite, a pass) are left out, or every job would
//!   be a kind of its own.
//!
//! Both are capped ([`MAX_SAMPLE_NODES`], [`MAX_SAMPLE_JOBS`]) so that a check
//! stays quick on any cluster and workload. A pipeline checked alone has no
//! cluster: it gets a synthetic one ([`Samples::synthetic`]).

use std::collections::HashSet;

use kairos_model::{Job, NodeId, NodeSpec, NodeTable, Qty, ResourceSpace, Sym, Symbols, Time};

use crate::cluster::Cluster;
use crate::workload::JobSpec;

/// At most this many sample nodes: every node shape of the pass-window
/// cluster (13) and of any hand-written one, yet a bounded number of calls on
/// a cluster of a million generated nodes.
pub const MAX_SAMPLE_NODES: usize = 256;

/// At most this many sample jobs (the pass-window day has 18 kinds).
pub const MAX_SAMPLE_JOBS: usize = 64;

/// Jobs and nodes to call plugins on, with the cluster they belong to.
#[derive(Clone, Debug)]
pub struct Samples {
    /// The cluster's dimensions.
    pub resources: ResourceSpace,
    /// Its names, the samples' included.
    pub symbols: Symbols,
    /// Every node of the cluster (plugins may name any of them), all up and idle.
    pub nodes: NodeTable,
    /// The sample nodes, in cluster order.
    pub sample_nodes: Vec<NodeId>,
    /// The sample jobs, in workload order; `jobs[i].idx == i`, and none runs
    /// `after` another.
    pub jobs: Vec<Job>,
    /// What the samples were taken from, for messages ("12 jobs and 4 nodes of
    /// the scenario", "a synthetic job and node").
    pub origin: String,
}

impl Samples {
    /// Samples of a scenario's cluster and workload (see the module docs).
    pub fn of(cluster: &Cluster, workload: &[JobSpec]) -> Samples {
        let nodes = &cluster.nodes;
        let mut shapes = HashSet::new();
        let sample_nodes: Vec<NodeId> = (0..nodes.len() as NodeId)
            .filter(|&n| {
                let shape = (
                    nodes.capacity(n).to_vec(),
                    nodes.reserve(n).to_vec(),
                    nodes.labels[n as usize].clone(),
                    nodes.taints[n as usize].iter().map(|t| (t.key, t.value, t.effect as u8)).collect::<Vec<_>>(),
                );
                shapes.insert(shape)
            })
            .take(MAX_SAMPLE_NODES)
            .collect();
        let mut kinds = HashSet::new();
        let mut jobs: Vec<Job> = workload
            .iter()
            .map(|s| &s.job)
            .filter(|j| {
                let kind = (
                    j.group,
                    j.priority_class,
                    j.request.clone(),
                    j.selector.clone(),
                    j.tolerations.iter().map(|t| (t.key, t.value)).collect::<Vec<_>>(),
                    j.labels.iter().map(|&(k, _)| k).collect::<Vec<Sym>>(),
                );
                kinds.insert(kind)
            })
            .take(MAX_SAMPLE_JOBS)
            .cloned()
            .collect();
        let mut symbols = cluster.symbols.clone();
        if jobs.is_empty() {
            jobs.push(synthetic_job("sample-job", vec![0; cluster.resources.dims()], &mut symbols));
        }
        for (i, j) in jobs.iter_mut().enumerate() {
            j.idx = i as u32;
            j.after = None;
        }
        let origin = format!(
            "{} and {} of the scenario",
            super::plural(jobs.len(), "sample job"),
            super::plural(sample_nodes.len(), "node")
        );
        Samples { resources: cluster.resources.clone(), symbols, nodes: nodes.clone(), sample_nodes, jobs, origin }
    }

    /// The samples of a pipeline checked alone: one node `sample-node` (4 cpu,
    /// 16 memory, 16 of each resource in `more`, region `sample-region`) and
    /// two jobs asking for 1 cpu and 1 memory, `sample-job` and `sample-job-2`
    /// (two, so that an order comparison runs).
    pub fn synthetic(more: &[String]) -> Samples {
        let mut names = vec!["cpu".to_owned(), "memory".to_owned()];
        names.extend(more.iter().filter(|m| !names.contains(m)).cloned().collect::<Vec<_>>());
        let resources = ResourceSpace::new(names);
        let mut symbols = Symbols::default();
        let region = symbols.intern("sample-region");
        let labels = vec![(symbols.intern("region"), region), (symbols.intern("zone"), region)];
        let mut nodes = NodeTable::new(resources.dims());
        nodes.push(NodeSpec {
            name: "sample-node".into(),
            region,
            zone: region,
            labels,
            taints: Vec::new(),
            capacity: (0..resources.dims()).map(|d| if d == 0 { 4 } else { 16 }).collect(),
            reserve: vec![0; resources.dims()],
        });
        let request: Vec<Qty> = (0..resources.dims()).map(|d| u64::from(d < 2)).collect();
        let mut jobs = vec![
            synthetic_job("sample-job", request.clone(), &mut symbols),
            synthetic_job("sample-job-2", request, &mut symbols),
        ];
        jobs[1].idx = 1;
        Samples {
            resources,
            symbols,
            nodes,
            sample_nodes: vec![0],
            jobs,
            origin: "a synthetic sample (2 jobs, 1 node)".into(),
        }
    }

    /// The latest release of the sample jobs: when they are all pending.
    pub fn now(&self) -> Time {
        self.jobs.iter().map(|j| j.release).max().unwrap_or(0)
    }
}

/// A job of group and tenant `default`, released at 0, requesting `request`.
fn synthetic_job(id: &str, request: Vec<Qty>, symbols: &mut Symbols) -> Job {
    let default = symbols.intern("default");
    Job {
        idx: 0,
        id: id.into(),
        tenant: default,
        group: default,
        priority_class: Symbols::EMPTY,
        priority: 0,
        release: 0,
        deadline: None,
        hard_deadline: false,
        estimate: 60,
        request,
        selector: Vec::new(),
        tolerations: Vec::new(),
        labels: Vec::new(),
        after: None,
        restartable: true,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn samples_take_the_first_node_of_each_shape_and_the_first_job_of_each_kind() {
        let mut cluster = Cluster::parse(
            Path::new("c.yaml"),
            "resources: [antenna, cpu]\nnodes:\n  - { name: kiruna, count: 3, region: eu, labels: { station: Kiruna }, capacity: { antenna: 1 } }\n  - { name: svalbard, count: 2, region: eu, labels: { station: Svalbard }, capacity: { antenna: 1 } }\n  - { name: proc, count: 2, region: eu, labels: { role: processing }, capacity: { cpu: 8 } }\n",
        )
        .unwrap();
        let csv = "id,group,release,duration,request,selector,labels\nc1,eu,10,5,antenna=1,station=Kiruna,sat=A\nc2,eu,20,5,antenna=1,station=Kiruna,sat=B\np1,eu,30,5,cpu=4,role=processing,sat=A\nc3,eu,40,5,antenna=1,station=Svalbard,sat=C\n";
        let w = crate::workload::csv::parse(Path::new("w.csv"), csv, &mut cluster).unwrap();
        let s = Samples::of(&cluster, &w.jobs);
        let names: Vec<&str> = s.sample_nodes.iter().map(|&n| s.nodes.names[n as usize].as_str()).collect();
        assert_eq!(names, ["kiruna-1", "svalbard-1", "proc-1"], "one node per shape; a station is part of it");
        let ids: Vec<(&str, u32)> = s.jobs.iter().map(|j| (j.id.as_str(), j.idx)).collect();
        assert_eq!(ids, [("c1", 0), ("p1", 1), ("c3", 2)], "label values do not make a kind; a selector does");
        assert_eq!(s.now(), 40);
        assert_eq!(s.origin, "3 sample jobs and 3 nodes of the scenario");
    }

    #[test]
    fn a_pipeline_alone_gets_two_jobs_on_one_synthetic_node() {
        let s = Samples::synthetic(&["storage".to_owned()]);
        assert_eq!(
            s.jobs.iter().map(|j| (j.id.as_str(), j.idx)).collect::<Vec<_>>(),
            [("sample-job", 0), ("sample-job-2", 1)]
        );
        assert_eq!(s.nodes.names, ["sample-node"]);
        assert!(s.nodes.fits(0, &s.jobs[0].request));
        assert_eq!(s.resources.names(), ["cpu", "memory", "storage"], "what the pipeline's args name is declared");
        assert_eq!((s.nodes.capacity(0), s.jobs[0].request.as_slice()), (&[4, 16, 16][..], &[1, 1, 0][..]));
    }
}
