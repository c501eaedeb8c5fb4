//! A plugin that fails mid-cycle (`on_error: fail`, or a NaN key) stops the
//! cycle with an error; a live host carries on. No job may be lost on the way:
//! every job is still pending (and in the pending list exactly once), running
//! or finished, and a later cycle places what the failure left.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use kairos_model::{Candidates, Context, FilterPlugin, Job, PluginError, PluginResult};

use super::*;
use crate::cluster::Cluster;
use crate::pipeline::{PipelineDef, Stage};
use crate::registry::Registry;
use crate::workload;

const CLUSTER: &str = "\
resources: [cpu]
nodes:
  - { name: a, region: east, capacity: { cpu: 4 } }
  - { name: b, region: west, capacity: { cpu: 4 } }
";

/// Four jobs in FIFO order; `c` is the one the flaky filter fails on, after
/// `a` and `b` are placed; `d` is never reached in the failing cycle.
const JOBS: &str = "id,release,duration,request,group\na,0,100,cpu=1,east\nb,0,100,cpu=1,west\nc,0,100,cpu=1,east\nd,0,100,cpu=1,west\n";

/// A filter that fails on job `c` while `broken` is set, as a script or a
/// native plugin with `on_error: fail` does.
struct Flaky {
    broken: Arc<AtomicBool>,
}

impl FilterPlugin for Flaky {
    fn filter(&self, job: &Job, _cx: &Context<'_>, _candidates: &mut Candidates<'_>) -> PluginResult {
        if job.id == "c" && self.broken.load(Ordering::Relaxed) {
            return Err(PluginError("the backend is down".into()));
        }
        Ok(())
    }
}

/// An engine over [`CLUSTER`] with [`JOBS`] submitted, running FIFO, fit,
/// first-fit and the flaky filter under `architecture`.
fn engine(architecture: &str) -> (Engine, Arc<AtomicBool>) {
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).expect("cluster parses");
    let w = workload::csv::parse(Path::new("w.csv"), JOBS, &mut c).expect("workload parses");
    let r = Registry::builtin();
    let text = format!(
        "order: [{{ plugin: fifo }}]\nfilter: [{{ plugin: fit }}]\nscore: [{{ plugin: first-fit }}]\n{architecture}\n"
    );
    let def = PipelineDef::parse(Path::new("p.yaml"), text, &r).expect("pipeline parses");
    let mut symbols = c.symbols.clone();
    let mut p = def.build(&r, &c.resources, &mut symbols).expect("pipeline builds");
    let broken = Arc::new(AtomicBool::new(true));
    p.filter.push(Stage { name: "flaky".into(), weight: 1.0, plugin: Box::new(Flaky { broken: Arc::clone(&broken) }) });
    let mut e = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    e.set_min_work_per_worker(0); // threads even for four jobs
    for spec in w.jobs {
        e.submit(spec.job, 0).expect("submits");
    }
    (e, broken)
}

/// Every job is accounted for: a pending job is in the pending list exactly
/// once, a running one in the running list, and nothing else is in either.
fn assert_accounted(e: &Engine, case: &str) {
    for (j, rec) in e.records().iter().enumerate() {
        let j = j as JobId;
        let in_pending = e.pending().iter().filter(|&&p| p == j).count();
        let in_running = e.running().iter().filter(|&&r| r == j).count();
        let want = match rec.state {
            JobState::Pending { .. } => (1, 0),
            JobState::Running { .. } => (0, 1),
            _ => (0, 0),
        };
        assert_eq!((in_pending, in_running), want, "{case}: job `{}` is {:?}", e.jobs()[j as usize].id, rec.state);
    }
}

#[test]
fn a_cycle_that_fails_part_way_keeps_every_job_and_a_later_cycle_places_them() {
    let cases = [
        ("centralized", ""),
        ("sampled", "architecture: { kind: sampled, sample: 1, seed: 3 }"),
        ("optimistic, two workers", "architecture: { kind: optimistic, workers: 2 }"),
        ("partitioned by region", "architecture: { kind: partitioned, by: region }"),
    ];
    for (case, architecture) in cases {
        let (mut e, broken) = engine(architecture);
        let err = e.schedule(0).expect_err(case);
        assert!(err.to_string().contains("the backend is down"), "{case}: {err}");
        assert_accounted(&e, case);
        let c = e.jobs().iter().position(|j| j.id == "c").unwrap();
        assert!(matches!(e.records()[c].state, JobState::Pending { .. }), "{case}: the job the filter failed on waits");

        broken.store(false, Ordering::Relaxed);
        e.schedule(1).unwrap_or_else(|err| panic!("{case}: {err}"));
        assert_accounted(&e, case);
        assert_eq!(e.running().len(), 4, "{case}: every job runs once the plugin works again");
        assert!(e.pending().is_empty(), "{case}");
    }
}

#[test]
fn a_failed_cycle_still_arms_the_retry_of_pending_jobs() {
    // With a script in the pipeline the engine retries pending jobs on a timer;
    // a failure must not leave them without one.
    let (mut e, _broken) = engine("");
    e.retry = true;
    e.schedule(0).expect_err("the flaky filter fails");
    assert_eq!(e.next_timer(), Some(RETRY_INTERVAL_S), "pending jobs are tried again");
}
