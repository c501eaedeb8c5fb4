//! The work queues alone (conservation, the order bound) and whole parallel
//! runs under stress (capacity, accounting, each job placed once).

use std::path::Path;
use std::sync::{Arc, Mutex};

use kairos_model::StealPolicy;

use super::*;
use crate::cluster::Cluster;
use crate::pipeline::PipelineDef;
use crate::registry::Registry;
use crate::report::{Report, Status};
use crate::sim::Simulation;
use crate::workload;

/// A steal policy for the queue tests: `victim` picks as the built-ins do.
struct Policy {
    workers: usize,
    batch: usize,
    victim: Choose,
}

impl StealPolicy for Policy {
    fn workers(&self) -> usize {
        self.workers
    }
    fn steal_batch(&self) -> usize {
        self.batch
    }
    fn victim(&self, thief: usize, queued: &[usize], attempt: u32) -> Option<usize> {
        (self.victim)(thief, queued, attempt)
    }
}

/// A victim choice: (thief, queued per worker, attempt) → victim.
type Choose = fn(usize, &[usize], u32) -> Option<usize>;

/// Victim choices: the busiest, the next in ring order, and none at all (the
/// host then falls back to the busiest).
const VICTIMS: [(&str, Choose); 3] = [
    ("busiest", |t, q, _| busiest(q, t)),
    ("next", |t, q, a| Some((t + 1 + a as usize % (q.len() - 1).max(1)) % q.len())),
    ("none", |_, _, _| None),
];

/// Takes every job with `workers` threads; worker 0 is slowed down so the
/// others run dry and steal. Calls `taken(worker, slot)` as each is taken.
fn take_all(jobs: usize, policy: &Policy, taken: &(dyn Fn(usize, u32) + Sync)) -> Vec<u64> {
    let (queues, locals) = Queues::new(jobs, policy.workers, policy);
    let queues = &queues;
    std::thread::scope(|scope| {
        let handles: Vec<_> = locals
            .into_iter()
            .enumerate()
            .map(|(w, local)| {
                scope.spawn(move || {
                    let mut t = Taker::default();
                    while let Some(slot) = queues.next(w, &local, &mut t) {
                        taken(w, slot);
                        if w == 0 {
                            std::thread::yield_now();
                        }
                    }
                    t.steals
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn every_job_is_taken_exactly_once_whatever_the_workers_batch_and_victim_choice() {
    for (victim_name, victim) in VICTIMS {
        for (workers, batch, jobs) in [(1, 1, 10), (2, 16, 1_000), (4, 3, 997), (8, 1, 500), (8, 64, 5_000), (3, 5, 0)]
        {
            let policy = Policy { workers, batch, victim };
            let count = Mutex::new(vec![0u32; jobs]);
            take_all(jobs, &policy, &|_, slot| count.lock().unwrap()[slot as usize] += 1);
            let count = count.into_inner().unwrap();
            assert!(
                count.iter().all(|&c| c == 1),
                "{victim_name}, {workers} workers, batch {batch}: every job pushed is popped or stolen exactly once"
            );
        }
    }
}

#[test]
fn no_worker_runs_more_than_w_times_b_jobs_ahead_of_the_order() {
    for (victim_name, victim) in VICTIMS {
        for (workers, batch) in [(2, 16), (4, 4), (8, 2), (3, 1)] {
            let jobs = 3_000;
            let policy = Policy { workers, batch, victim };
            // Jobs taken so far, and the most more-urgent jobs seen waiting when
            // one was taken.
            let state = Mutex::new((vec![false; jobs], 0usize));
            let steals = take_all(jobs, &policy, &|_, slot| {
                let mut s = state.lock().unwrap();
                let waiting = s.0[..slot as usize].iter().filter(|&&t| !t).count();
                s.0[slot as usize] = true;
                s.1 = s.1.max(waiting);
            });
            let worst = state.into_inner().unwrap().1;
            // The bound is W·B − 1 at the moment a job leaves a deque; a job
            // another thread has taken but not yet logged here adds up to W − 1.
            let bound = workers * batch - 1 + (workers - 1);
            assert!(
                worst <= bound,
                "{victim_name}, {workers} workers, batch {batch}: a job was taken while {worst} more urgent ones waited (bound {bound}; {steals:?} steals)"
            );
        }
    }
}

// ---- whole runs -------------------------------------------------------------------------

/// 40 nodes of 8 cpu and 16 memory in two regions; 20 of them carry `tier=fast`.
fn cluster() -> String {
    let mut s = String::from("resources: [cpu, memory]\nnodes:\n");
    for i in 0..40 {
        let region = if i % 2 == 0 { "east" } else { "west" };
        let tier = if i < 20 { "fast" } else { "slow" };
        s.push_str(&format!(
            "  - {{ name: n{i}, region: {region}, labels: {{ tier: {tier} }}, capacity: {{ cpu: 8, memory: 16 }} }}\n"
        ));
    }
    s
}

/// `n` jobs released in waves, with small random requests and some selectors.
fn jobs(n: usize) -> String {
    let mut s = String::from("id,release,duration,request,selector,group\n");
    let mut x = 12345u64;
    for i in 0..n {
        let r = crate::engine::decision::split_mix(&mut x);
        let selector = if r % 7 == 0 { "tier=fast" } else { "" };
        s.push_str(&format!(
            "j{i},{},{},cpu={};memory={},{selector},g{}\n",
            (i / 500) * 30,
            20 + r % 50,
            1 + r % 4,
            1 + (r >> 8) % 6,
            r % 3
        ));
    }
    s
}

/// The pipeline of the stress runs: best-fit packs, so workers all want the
/// same fullest node — the worst case for conflicts.
fn pipeline(architecture: &str) -> String {
    format!(
        "name: stress\norder: [{{ plugin: priority }}, {{ plugin: fair-share }}, {{ plugin: fifo }}]\n\
         filter: [{{ plugin: node-selector }}, {{ plugin: fit }}, {{ plugin: headroom, args: {{ percent: 10 }} }}]\n\
         score: [{{ plugin: best-fit }}]\n{architecture}"
    )
}

/// Runs `pipeline` over `jobs` one instant at a time, checking after each that
/// every node's use is the sum of its jobs' requests and within its allocatable
/// capacity, and that no job starts twice without stopping.
fn run_checked(pipeline_yaml: &str, jobs_csv: &str) -> crate::sim::SimResult {
    let headroom = pipeline_yaml.contains("headroom");
    let mut c = Cluster::parse(Path::new("c.yaml"), &cluster()).expect("cluster parses");
    let w = workload::csv::parse(Path::new("w.csv"), jobs_csv, &mut c).expect("workload parses");
    let r = Registry::builtin();
    let def = PipelineDef::parse(Path::new("p.yaml"), pipeline_yaml.to_owned(), &r).expect("pipeline parses");
    let mut symbols = c.symbols.clone();
    let p = def.build(&r, &c.resources, &mut symbols).expect("pipeline builds");
    let mut engine = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    // Every cycle with two jobs or more runs on several workers.
    engine.set_min_work_per_worker(0);
    let mut sim = Simulation::new(engine, w.jobs, &[]).expect("jobs submit");
    while sim.step().expect("the built-ins never fault") {
        let e = sim.engine();
        let dims = e.nodes().dims();
        let mut used = vec![0; e.nodes().len() * dims];
        for &j in e.running() {
            if let JobState::Running { node, .. } = e.records()[j as usize].state {
                for d in 0..dims {
                    used[node as usize * dims + d] += e.jobs()[j as usize].request[d];
                }
            }
        }
        for n in 0..e.nodes().len() as NodeId {
            for d in 0..dims {
                assert_eq!(e.nodes().used(n)[d], used[n as usize * dims + d], "node {n}: use is its jobs' sum");
                assert!(e.nodes().used(n)[d] <= e.nodes().allocatable(n)[d], "node {n} over-committed");
                if headroom {
                    // The headroom filter keeps 10 % free; revalidation re-checks it.
                    let cap = e.nodes().allocatable(n)[d];
                    assert!(e.nodes().used(n)[d] <= cap - cap / 10, "node {n}: headroom broken");
                }
            }
        }
    }
    sim.finish()
}

#[test]
fn many_workers_never_over_commit_and_place_every_job_exactly_once() {
    let jobs_csv = jobs(1_500);
    for arch in [
        "architecture: { kind: optimistic, workers: 8 }",
        "architecture: { kind: optimistic, workers: 8, conflict: strict }",
        "architecture: { kind: optimistic, workers: 3 }\nrebalance: [{ plugin: work-stealing, args: { workers: 3, steal_batch: 2, victim: next } }]",
        "rebalance: [{ plugin: work-stealing, args: { workers: 5, victim: random, seed: 9 } }]",
    ] {
        let sim = run_checked(&pipeline(arch), &jobs_csv);
        let e = &sim.engine;
        let stats = e.stats();
        for (job, rec) in e.jobs().iter().zip(e.records()) {
            assert_eq!(Status::of(rec), Status::Completed, "{arch}: job {} completed", job.id);
            assert!(rec.first_start.is_some());
        }
        assert_eq!(stats.placements, 1_500, "{arch}: each job was placed exactly once");
        assert!(stats.parallel_cycles > 0, "{arch}: some cycles ran in parallel");
        assert!(stats.commits >= stats.placements + stats.conflicts, "{arch}: {stats:?}");
        let report = Report::new("stress", &sim, 0);
        let arch_report = report.scheduler.architecture.expect("a parallel run reports its architecture");
        assert_eq!(arch_report.conflicts, stats.conflicts);
    }
}

#[test]
fn one_optimistic_worker_decides_as_the_centralized_engine_without_partition_keys() {
    // With one worker and no partition-scoped key, the order and the view are
    // the centralized ones, so the schedule is the same.
    let jobs_csv = jobs(400);
    let base = "name: p\norder: [{ plugin: priority }, { plugin: fifo }]\nfilter: [{ plugin: node-selector }, { plugin: fit }]\nscore: [{ plugin: best-fit }]\n";
    let central = run_checked(base, &jobs_csv);
    let one = run_checked(&format!("{base}architecture: {{ kind: optimistic, workers: 1 }}\n"), &jobs_csv);
    assert_eq!(
        crate::report::schedule_rows(&central.engine),
        crate::report::schedule_rows(&one.engine),
        "one worker places as the centralized engine does"
    );
    assert_eq!(one.engine.stats().conflicts, 0, "one worker never conflicts with itself");
}
