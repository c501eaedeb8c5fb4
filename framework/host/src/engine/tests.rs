//! Engine behaviour, one scenario per case: built from YAML and CSV text the way
//! a user writes them, simulated, and checked job by job.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::cluster::Cluster;
use crate::pipeline::PipelineDef;
use crate::registry::Registry;
use crate::report::Status;
use crate::sim::{simulate, NodeEvent, SimResult};
use crate::workload;

const CLUSTER: &str = "\
resources: [cpu, mem]
priority_classes: { high: 100, low: 0 }
nodes:
  - { name: a, region: east, capacity: { cpu: 4, mem: 8 } }
  - { name: b, region: west, capacity: { cpu: 2, mem: 8 }, reserve: { cpu: 1 } }
";

const FIFO: &str =
    "order: [{ plugin: fifo }]\nfilter: [{ plugin: node-selector }, { plugin: fit }]\nscore: [{ plugin: first-fit }]\n";
const EDF: &str =
    "order: [{ plugin: edf }]\nfilter: [{ plugin: node-selector }, { plugin: fit }]\nscore: [{ plugin: first-fit }]\n";

fn run_with(cluster: &str, pipeline: &str, jobs_csv: &str, events: &[NodeEvent]) -> SimResult {
    let mut c = Cluster::parse(Path::new("c.yaml"), cluster).expect("cluster parses");
    let w = workload::csv::parse(Path::new("w.csv"), jobs_csv, &mut c).expect("workload parses");
    let r = Registry::builtin();
    let def = PipelineDef::parse(Path::new("p.yaml"), pipeline.to_owned(), &r).expect("pipeline parses");
    let mut symbols = c.symbols.clone();
    let p = def.build(&r, &c.resources, &mut symbols).expect("pipeline builds");
    let engine = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    simulate(engine, w.jobs, events, |_, _| {}).expect("simulation runs")
}

fn run(pipeline: &str, jobs_csv: &str) -> SimResult {
    run_with(CLUSTER, pipeline, jobs_csv, &[])
}

/// `(id, status, node, start)` of every job.
fn outcomes(sim: &SimResult) -> Vec<(String, &'static str, String, Option<Time>)> {
    let e = &sim.engine;
    e.jobs()
        .iter()
        .zip(e.records())
        .map(|(j, r)| {
            let (node, start) = match &r.state {
                JobState::Done(Outcome::Completed { node, start, .. })
                | JobState::Done(Outcome::Missed { why: Miss::Late { node, start, .. }, .. }) => {
                    (e.nodes().names[*node as usize].clone(), Some(*start))
                }
                _ => (String::new(), None),
            };
            (j.id.clone(), Status::of(r).as_str(), node, start)
        })
        .collect()
}

fn get<'a>(
    o: &'a [(String, &'static str, String, Option<Time>)],
    id: &str,
) -> &'a (String, &'static str, String, Option<Time>) {
    o.iter().find(|x| x.0 == id).unwrap_or_else(|| panic!("no job {id}"))
}

#[test]
fn jobs_wait_for_capacity_instead_of_over_committing() {
    // Node a has 4 cpu: two 3-cpu jobs cannot share it; b has 2 - 1 reserved.
    let sim = run(FIFO, "id,release,duration,request\nx,0,10,cpu=3\ny,0,10,cpu=3\n");
    let o = outcomes(&sim);
    assert_eq!(get(&o, "x").2, "a");
    assert_eq!((get(&o, "y").2.as_str(), get(&o, "y").3), ("a", Some(10)), "y waits for x, never squeezes in");
}

#[test]
fn the_headroom_reserve_is_never_allocated() {
    // b has cpu 2 with 1 reserved: a 2-cpu job can only ever run on a.
    let sim = run(FIFO, "id,release,duration,request,selector\nx,0,10,cpu=2,region=west\n");
    let o = outcomes(&sim);
    assert_eq!(get(&o, "x").1, "rejected");
    let why = sim.engine.describe_reasons(0);
    assert_eq!(why, "0/2 nodes: 1 insufficient cpu (fit), 1 selector-mismatch (node-selector)");
}

#[test]
fn a_hard_deadline_that_cannot_be_met_is_missed_at_its_latest_start() {
    let sim = run(FIFO, "id,release,duration,request,deadline,hard\nlong,0,100,cpu=4,,\nurgent,0,10,cpu=4,30,true\n");
    let rec = &sim.engine.records()[1];
    assert_eq!(rec.state, JobState::Done(Outcome::Missed { at: 21, why: Miss::Expired { latest_start: 20 } }));
}

#[test]
fn edf_meets_the_deadline_fifo_misses() {
    let jobs = "id,release,duration,request,deadline\nlong,0,100,cpu=4,1000\nurgent,0,10,cpu=4,30\n";
    let fifo = outcomes(&run(FIFO, jobs));
    let edf = outcomes(&run(EDF, jobs));
    assert_eq!(get(&fifo, "urgent").1, "missed", "FIFO runs the long job first");
    assert_eq!(get(&edf, "urgent").1, "completed", "EDF runs the urgent job first");
    assert_eq!(get(&edf, "long").1, "completed");
}

#[test]
fn a_soft_deadline_runs_late_and_is_reported_missed_with_its_finish() {
    let sim = run(FIFO, "id,release,duration,request,deadline\nfirst,0,50,cpu=4,\nlate,0,10,cpu=4,30\n");
    let rec = &sim.engine.records()[1];
    let a = sim.engine.node_id("a").unwrap();
    assert_eq!(rec.state, JobState::Done(Outcome::Missed { at: 60, why: Miss::Late { node: a, start: 50, end: 60 } }));
}

#[test]
fn a_job_after_a_missed_job_is_missed_too_and_says_why() {
    let sim = run(FIFO, "id,release,duration,request,deadline,hard,after\nblock,0,100,cpu=4,,,\nfirst,0,10,cpu=4,20,true,\nthen,0,10,cpu=1,,,first\n");
    let o = outcomes(&sim);
    assert_eq!(get(&o, "first").1, "missed");
    assert_eq!(get(&o, "then").1, "missed");
    assert_eq!(crate::report::explain_outcome(&sim.engine, 2), "the job it runs after, `first`, did not complete");
}

#[test]
fn a_job_after_another_starts_only_when_it_completes() {
    let sim = run(FIFO, "id,release,duration,request,after\nfirst,0,10,cpu=1,\nthen,0,10,cpu=1,first\n");
    assert_eq!(get(&outcomes(&sim), "then").3, Some(10));
}

#[test]
fn a_failed_node_requeues_its_jobs_and_they_finish_elsewhere() {
    let a = 0;
    let events = [NodeEvent { at: 5, node: a, up: false }, NodeEvent { at: 50, node: a, up: true }];
    let sim = run_with(CLUSTER, FIFO, "id,release,duration,request\nx,0,20,cpu=1\n", &events);
    let o = outcomes(&sim);
    assert_eq!((o[0].1, o[0].2.as_str(), o[0].3), ("completed", "b", Some(5)), "restarted on b at the failure");
    assert_eq!(sim.engine.records()[0].restarts, 1);
    assert_eq!(sim.engine.stats().node_failures_stopped, 1);
}

#[test]
fn a_job_that_cannot_restart_is_lost_with_its_node_and_so_are_its_dependents() {
    let events = [NodeEvent { at: 5, node: 0, up: false }];
    let jobs =
        "id,release,duration,request,restartable,after\nx,0,20,cpu=1,false,\ny,0,20,cpu=1,true,\nz,0,5,cpu=1,,x\n";
    let sim = run_with(CLUSTER, FIFO, jobs, &events);
    let o = outcomes(&sim);
    assert_eq!(get(&o, "x").1, "lost", "x ran on a when it failed and cannot restart");
    assert_eq!(get(&o, "z").1, "missed", "z ran after x, which never completed");
    let x = &sim.engine.records()[0];
    assert_eq!(x.restarts, 0);
    assert!(matches!(x.state, JobState::Done(Outcome::Lost { at: 5, node: 0 })), "{:?}", x.state);
    assert_eq!(sim.engine.stats().lost, 1);
    let report = crate::report::Report::new("t", &sim, 0);
    assert_eq!((report.jobs.lost, report.jobs.completed), (1, 1), "{:?}", report.jobs);
    assert!(report.render().contains(", 1 lost,"), "{}", report.render());
}

#[test]
fn a_job_that_cannot_restart_is_never_evicted() {
    let drain = "filter: [{ plugin: fit }]\nscore: [{ plugin: first-fit }]\nrebalance: [{ plugin: drain, args: { action: evict, label: role, value: small } }]\n";
    let cluster =
        "resources: [cpu]\nnodes:\n  - { name: a, region: r, labels: { role: small }, capacity: { cpu: 1 } }\n";
    let jobs = "id,release,duration,request,restartable\nx,0,20,cpu=1,false\nkick,1,1,cpu=0,\n";
    let sim = run_with(cluster, drain, jobs, &[]);
    assert!(sim.engine.stats().moves_refused > 0, "the drain proposed it, the host refused");
    assert_eq!(get(&outcomes(&sim), "x").1, "completed");
    // `kick` can restart, and the pipeline puts it back on the drained node
    // every time: it is evicted at most MAX_EVICTIONS_PER_JOB times, then left
    // to run, so the run ends.
    assert_eq!(sim.engine.stats().evictions, MAX_EVICTIONS_PER_JOB as u64);
    assert_eq!(get(&outcomes(&sim), "kick").1, "completed");
}

#[test]
fn a_migration_pauses_the_job_and_never_breaks_its_deadline() {
    let cluster = "resources: [cpu]\nnodes:\n  - { name: a, region: r, capacity: { cpu: 4 } }\n  - { name: b, region: r, capacity: { cpu: 4 } }\n";
    let pipeline = "order: [{ plugin: fifo }]\nfilter: [{ plugin: fit }]\nscore: [{ plugin: first-fit }]\nrebalance: [{ plugin: migration, args: { max_moves: 1, cost_s: 30 } }]\n";
    let cases = [
        ("the largest job moves to the idle node and ends 30 s later", "", ("x", "b", 130), ("y", "a", 100)),
        ("a job the pause would make late stays; the other moves", "110", ("x", "a", 100), ("y", "b", 130)),
    ];
    for (name, deadline, x, y) in cases {
        let jobs = format!("id,release,duration,request,deadline\nx,0,100,cpu=3,{deadline}\ny,0,100,cpu=1,\n");
        let sim = run_with(cluster, pipeline, &jobs, &[]);
        let o = outcomes(&sim);
        let ended = |id: &str| {
            let r = &sim.engine.records()[sim.engine.jobs().iter().position(|j| j.id == id).unwrap()];
            match r.state {
                JobState::Done(Outcome::Completed { node, end, .. }) => {
                    (sim.engine.nodes().names[node as usize].clone(), end)
                }
                ref s => panic!("{name}: {id} is {s:?}"),
            }
        };
        for (id, node, end) in [x, y] {
            assert_eq!(ended(id), (node.to_owned(), end), "{name}: {id}");
        }
        assert_eq!(get(&o, "x").1, "completed", "{name}");
        assert_eq!(sim.engine.stats().migrations, 1, "{name}");
    }
}

#[test]
fn without_a_fit_filter_the_host_still_refuses_to_over_commit() {
    let no_fit = "order: [{ plugin: fifo }]\nscore: [{ plugin: first-fit }]\n";
    let sim = run(no_fit, "id,release,duration,request\nx,0,10,cpu=4\ny,0,10,cpu=4\n");
    let o = outcomes(&sim);
    assert_eq!((get(&o, "y").2.as_str(), get(&o, "y").3), ("a", Some(10)));
}

#[test]
fn fair_share_serves_the_group_with_the_smaller_dominant_share_first() {
    // Node a runs two 2-cpu jobs at once; b (1 cpu allocatable) runs none.
    // Tenant t1 submitted three jobs before t2's one.
    let jobs = "id,tenant,release,duration,request\n\
                a1,t1,0,10,cpu=2\na2,t1,0,10,cpu=2\na3,t1,0,10,cpu=2\nb1,t2,0,10,cpu=2\n";
    let starts = |pipeline: &str| {
        let o = outcomes(&run(pipeline, jobs));
        ["a1", "a2", "a3", "b1"].map(|id| get(&o, id).3.unwrap())
    };
    let fair = "order: [{ plugin: fair-share, args: { key: tenant } }, { plugin: fifo }]\nfilter: [{ plugin: fit }]\n";
    let fifo = "order: [{ plugin: fifo }]\nfilter: [{ plugin: fit }]\n";
    assert_eq!(starts(fifo), [0, 0, 10, 10], "FIFO lets t1 take both slots");
    assert_eq!(starts(fair), [0, 10, 10, 0], "t2's share is 0 after a1 starts, so b1 gets the second slot");
}

#[test]
fn priority_with_aging_lets_an_old_low_priority_job_overtake() {
    let prio = "order: [{ plugin: priority, args: { aging_interval_s: 10, aging_step: 50 } }, { plugin: fifo }]\nfilter: [{ plugin: fit }]\n";
    // `old` (low, released at 0) waits behind `blocker`; by t=30 it has aged
    // +150 and beats `new` (high = 100, released at 25).
    let jobs =
        "id,priority,release,duration,request\nblocker,high,0,30,cpu=4\nold,low,0,10,cpu=4\nnew,high,25,10,cpu=4\n";
    let o = outcomes(&run(prio, jobs));
    assert_eq!(get(&o, "old").3, Some(30));
    assert_eq!(get(&o, "new").3, Some(40));
}

#[test]
fn drain_migrates_running_work_off_a_drained_node_keeping_its_progress() {
    let cluster = "resources: [cpu]\nnodes:\n  - { name: old, region: r, labels: { drain: \"true\" }, capacity: { cpu: 4 } }\n  - { name: new, region: r, capacity: { cpu: 4 } }\n";
    // first-fit puts the job on `old`; drain moves it to `new` in the same cycle.
    let p = "order: [{ plugin: fifo }]\nfilter: [{ plugin: fit }]\nscore: [{ plugin: first-fit }]\nrebalance: [{ plugin: drain }]\n";
    let sim = run_with(cluster, p, "id,release,duration,request\nx,0,20,cpu=2\n", &[]);
    let rec = &sim.engine.records()[0];
    let new = sim.engine.node_id("new").unwrap();
    assert_eq!(rec.state, JobState::Done(Outcome::Completed { node: new, start: 0, end: 20 }));
    assert_eq!((rec.migrations, sim.engine.stats().migrations), (1, 1));
}

#[test]
fn explaining_a_job_records_every_nodes_verdict_and_score() {
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).unwrap();
    let w = workload::csv::parse(Path::new("w.csv"), "id,release,duration,request\nx,0,10,cpu=2\n", &mut c).unwrap();
    let r = Registry::builtin();
    let def = PipelineDef::parse(Path::new("p.yaml"), FIFO.to_owned(), &r).unwrap();
    let mut symbols = c.symbols.clone();
    let p = def.build(&r, &c.resources, &mut symbols).unwrap();
    let mut engine = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    engine.trace(0);
    let mut sim = simulate(engine, w.jobs, &[], |_, _| {}).unwrap();
    let t = sim.engine.take_trace().unwrap();
    assert_eq!(t.attempts.len(), 1);
    let a = &t.attempts[0];
    assert_eq!((a.rank, a.of, a.chosen), (1, 1, Some(0)));
    assert_eq!(a.rejected.len(), 1, "b cannot fit 2 cpu with 1 reserved");
    assert_eq!(a.rejected[0].2.code, "insufficient");
    assert_eq!(a.scores.len(), 1);
}

#[test]
fn a_nan_order_key_stops_the_run_naming_the_plugin() {
    struct Nan;
    impl kairos_model::OrderPlugin for Nan {
        fn keys(&self, _: &[&Job], _: &Context<'_>, keys: &mut [OrderKey]) -> kairos_model::PluginResult {
            keys.fill(f64::NAN);
            Ok(())
        }
    }
    let c = Cluster::parse(Path::new("c.yaml"), CLUSTER).unwrap();
    let p = Pipeline {
        name: "nan".into(),
        path: "p.yaml".into(),
        order: vec![crate::pipeline::Stage { name: "nan".into(), weight: 1.0, plugin: Box::new(Nan) }],
        filter: vec![],
        score: vec![],
        rebalance: vec![],
        partition: None,
        scripts: vec![],
        architecture: Default::default(),
        natives: vec![],
    };
    let mut e = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), c.symbols.clone());
    let job = Job {
        idx: 0,
        id: "x".into(),
        tenant: Default::default(),
        group: Default::default(),
        priority_class: Default::default(),
        priority: 0,
        release: 0,
        deadline: None,
        hard_deadline: false,
        estimate: 1,
        request: vec![1, 1],
        selector: vec![],
        tolerations: vec![],
        labels: vec![],
        after: None,
        restartable: true,
    };
    e.submit(job, 0).unwrap();
    let err = e.schedule(0).unwrap_err();
    assert_eq!(err.to_string(), "plugin `nan` (order): returned NaN as the order key of job `x`");
    assert!(!err.is_input());
}

// ---- swapping pipelines (hot reload) ----------------------------------------------

/// A simulation of `jobs_csv` on [`CLUSTER`] under `pipeline`, not yet started.
fn simulation(pipeline: &str, jobs_csv: &str) -> (crate::sim::Simulation, Cluster) {
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).expect("cluster parses");
    let w = workload::csv::parse(Path::new("w.csv"), jobs_csv, &mut c).expect("workload parses");
    let p = build(pipeline, &c.resources, &mut c.symbols.clone());
    let engine = Engine::new(p, c.nodes.clone(), c.resources.clone(), c.symbols.clone());
    (crate::sim::Simulation::new(engine, w.jobs, &[]).expect("jobs submit"), c)
}

fn build(pipeline: &str, resources: &ResourceSpace, symbols: &mut Symbols) -> Arc<Pipeline> {
    let r = Registry::builtin();
    let def = PipelineDef::parse(Path::new("p.yaml"), pipeline.to_owned(), &r).expect("pipeline parses");
    Arc::new(def.build(&r, resources, symbols).expect("pipeline builds"))
}

#[test]
fn each_placement_records_the_revision_of_the_pipeline_that_made_it() {
    // x starts at 0 under revision 1; y is released at 100, after the swap.
    let (mut sim, c) = simulation(FIFO, "id,release,duration,request\nx,0,500,cpu=1\ny,100,10,cpu=1\n");
    assert_eq!(sim.step_until(0).unwrap(), 1);
    assert_eq!(sim.engine().revision(), 1, "an engine starts at revision 1");
    let edf = build(EDF, &c.resources, &mut sim.engine().symbols().clone());
    sim.engine_mut().swap_pipeline(edf, 2);
    while sim.step().unwrap() {}
    let e = sim.engine();
    assert_eq!(e.revision(), 2);
    assert_eq!(e.pipeline().order[0].name, "edf", "the new pipeline runs");
    assert_eq!(e.records()[0].revision, Some(1), "x was placed before the swap");
    assert_eq!(e.records()[1].revision, Some(2), "y was placed after it");
    let o = outcomes(&sim.finish());
    assert_eq!((get(&o, "x").1, get(&o, "y").1), ("completed", "completed"), "x ran through the swap");
}

#[test]
fn a_swap_keeps_pending_and_running_jobs_and_places_nothing_by_itself() {
    // a fits one 3-cpu job at a time (b's allocatable cpu is 1): x runs, y waits.
    let (mut sim, c) = simulation(FIFO, "id,release,duration,request\nx,0,50,cpu=3\ny,0,50,cpu=3\n");
    sim.step_until(0).unwrap();
    let before = (sim.engine().pending().to_vec(), sim.engine().running().to_vec(), sim.engine().stats().clone());
    let edf = build(EDF, &c.resources, &mut sim.engine().symbols().clone());
    sim.engine_mut().swap_pipeline(edf, 2);
    let e = sim.engine();
    assert_eq!((e.pending().to_vec(), e.running().to_vec(), e.stats().clone()), before);
    while sim.step().unwrap() {}
    let result = sim.finish();
    let o = outcomes(&result);
    assert_eq!((get(&o, "x").3, get(&o, "y").3), (Some(0), Some(50)), "y starts once x is done, once");
    assert_eq!(result.engine.stats().placements, 2, "each job was placed exactly once");
    assert_eq!(result.engine.records()[1].revision, Some(2));
}

#[test]
fn a_swap_to_another_fair_share_key_recomputes_usage_from_the_running_jobs() {
    let by_tenant = "order: [{ plugin: fair-share, args: { key: tenant } }]\nfilter: [{ plugin: fit }]\n";
    let by_group = "order: [{ plugin: fair-share, args: { key: group } }]\nfilter: [{ plugin: fit }]\n";
    let jobs = "id,release,duration,request,tenant,group\nx,0,50,cpu=1,t1,g1\ny,0,50,cpu=2,t2,g1\n";
    let (mut sim, c) = simulation(by_tenant, jobs);
    sim.step_until(0).unwrap();
    assert_eq!(sim.engine().running().len(), 2);
    let sym = |s: &str| c.symbols.get(s).expect("interned by the workload");
    assert_eq!(sim.engine().usage.used(sym("t2")), Some(&[2, 0][..]));
    let p = build(by_group, &c.resources, &mut sim.engine().symbols().clone());
    sim.engine_mut().swap_pipeline(p, 2);
    let usage = &sim.engine().usage;
    assert_eq!(usage.key, Some(kairos_model::PartitionKey::Group));
    assert_eq!(usage.used(sym("g1")), Some(&[3, 0][..]), "both running jobs count for their group");
    assert_eq!(usage.running(sym("g1")), 2);
    assert_eq!(usage.used(sym("t2")), None, "the old key's groups are gone");
    while sim.step().unwrap() {}
    assert!(sim.engine().usage.groups().iter().all(|&g| sim.engine().usage.running(g) == 0), "all released");
}

#[test]
fn rejection_reasons_keep_the_filter_names_of_the_revision_that_recorded_them() {
    // z asks for more cpu than any node has: `fit` (filter 1) rejects it for good.
    let two = "order: [{ plugin: fifo }]\nfilter: [{ plugin: node-selector }, { plugin: fit }]\n";
    let swapped = "order: [{ plugin: fifo }]\nfilter: [{ plugin: fit }, { plugin: node-selector }]\n";
    let (mut sim, c) = simulation(two, "id,release,duration,request\nz,0,10,cpu=9\n");
    sim.step_until(0).unwrap();
    let why = sim.engine().describe_reasons(0);
    assert!(why.contains("(fit)"), "{why}");
    let p = build(swapped, &c.resources, &mut sim.engine().symbols().clone());
    sim.engine_mut().swap_pipeline(p, 2);
    assert_eq!(sim.engine().describe_reasons(0), why, "filter 1 of revision 2 is node-selector");
}

#[test]
fn a_job_handed_in_with_times_out_of_bounds_is_refused_not_overflowed() {
    let (mut sim, _cluster) = simulation(FIFO, "id,release,duration,request\nx,0,10,cpu=1\n");
    let job = sim.engine().jobs()[0].clone();
    let cases = [
        ("an estimate of i64::MAX", Job { estimate: i64::MAX, ..job.clone() }, "a duration must be within"),
        ("a release at i64::MIN", Job { release: i64::MIN, ..job.clone() }, "a time must be within"),
        (
            "a deadline at i64::MAX",
            Job { deadline: Some(i64::MAX), hard_deadline: true, ..job.clone() },
            "a time must be within",
        ),
    ];
    for (case, job, want) in cases {
        let err = sim.engine_mut().submit(job, 0).expect_err(case);
        assert!(err.to_string().contains(want), "{case}: {err}");
    }
    assert_eq!(sim.engine().jobs().len(), 1, "nothing was submitted");
}
