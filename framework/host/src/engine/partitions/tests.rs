//! The `partitioned` architecture, one behaviour per case: built from the YAML
//! and CSV a user writes, simulated, and checked.

use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::cluster::Cluster;
use crate::pipeline::PipelineDef;
use crate::registry::Registry;
use crate::sim::{simulate, NodeEvent, SimResult};
use crate::workload;

/// Two regions of two nodes, 4 cpu each.
const CLUSTER: &str = "\
resources: [cpu]
nodes:
  - { name: e1, region: east, capacity: { cpu: 4 } }
  - { name: e2, region: east, capacity: { cpu: 4 } }
  - { name: w1, region: west, capacity: { cpu: 4 } }
  - { name: w2, region: west, capacity: { cpu: 4 } }
";

fn pipeline(arch: &str) -> String {
    format!(
        "architecture: {arch}\norder: [{{ plugin: fifo }}]\nfilter: [{{ plugin: node-selector }}, {{ plugin: fit }}]\nscore: [{{ plugin: first-fit }}]\n"
    )
}

fn run(arch: &str, jobs_csv: &str, events: &[NodeEvent]) -> SimResult {
    run_with(arch, jobs_csv, events, crate::engine::workers::MIN_WORK_PER_WORKER)
}

/// [`run`], with partition workers started at `min_work` (job, node)
/// evaluations each (0: whenever two partitions have jobs).
fn run_with(arch: &str, jobs_csv: &str, events: &[NodeEvent], min_work: usize) -> SimResult {
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).expect("cluster parses");
    let w = workload::csv::parse(Path::new("w.csv"), jobs_csv, &mut c).expect("workload parses");
    let r = Registry::builtin();
    let def = PipelineDef::parse(Path::new("p.yaml"), pipeline(arch), &r).expect("pipeline parses");
    let mut symbols = c.symbols.clone();
    let p = def.build(&r, &c.resources, &mut symbols).expect("pipeline builds");
    let mut engine = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    engine.set_min_work_per_worker(min_work);
    simulate(engine, w.jobs, events, |_, _| {}).expect("simulation runs")
}

/// Node ids of `CLUSTER`.
const E1: NodeId = 0;
const E2: NodeId = 1;

fn fail(at: Time, node: NodeId) -> NodeEvent {
    NodeEvent { at, node, up: false }
}

fn recover(at: Time, node: NodeId) -> NodeEvent {
    NodeEvent { at, node, up: true }
}

/// Five 4-cpu jobs of the east region at once: east holds two.
const EAST_FLOOD: &str = "id,group,release,duration,request\n\
a,east,0,1000,cpu=4\nb,east,0,1000,cpu=4\nc,east,0,1000,cpu=4\nd,east,0,1000,cpu=4\ne,east,0,1000,cpu=4\n";

#[test]
fn a_partition_runs_its_jobs_at_home_until_a_round_grants_it_more() {
    struct Case {
        name: &'static str,
        arch: &'static str,
        /// Expected (job, node, start).
        want: &'static [(&'static str, &'static str, Time)],
    }
    let cases = [
        Case {
            name: "centralized spills over at once",
            arch: "{ kind: centralized }",
            want: &[("a", "e1", 0), ("b", "e2", 0), ("c", "w1", 0), ("d", "w2", 0), ("e", "e1", 1000)],
        },
        Case {
            name: "partitioned lends half of west (one node's worth) at the first round",
            arch: "{ kind: partitioned, rebalance_s: 60, recovery_percent: 50 }",
            want: &[("a", "e1", 0), ("b", "e2", 0), ("c", "w1", 60), ("d", "e1", 1000), ("e", "e2", 1000)],
        },
        Case {
            name: "a quarter of west is less than a job asks",
            arch: "{ kind: partitioned, rebalance_s: 60, recovery_percent: 25 }",
            want: &[("a", "e1", 0), ("b", "e2", 0), ("c", "e1", 1000), ("d", "e2", 1000), ("e", "e1", 2000)],
        },
        Case {
            name: "nothing lent, nothing borrowed",
            arch: "{ kind: partitioned, rebalance_s: 60, recovery_percent: 0 }",
            want: &[("a", "e1", 0), ("b", "e2", 0), ("c", "e1", 1000), ("d", "e2", 1000), ("e", "e1", 2000)],
        },
    ];
    for case in cases {
        let sim = run(case.arch, EAST_FLOOD, &[]);
        let got = sim.completed();
        let want: Vec<(String, String, Time)> =
            case.want.iter().map(|&(j, n, t)| (j.to_owned(), n.to_owned(), t)).collect();
        assert_eq!(got, want, "{}", case.name);
    }
}

#[test]
fn a_job_outside_its_budget_is_told_so_as_data() {
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).expect("cluster parses");
    let w = workload::csv::parse(Path::new("w.csv"), EAST_FLOOD, &mut c).expect("workload parses");
    let r = Registry::builtin();
    let def = PipelineDef::parse(Path::new("p.yaml"), pipeline("{ kind: partitioned, recovery_percent: 0 }"), &r)
        .expect("pipeline parses");
    let mut symbols = c.symbols.clone();
    let p = def.build(&r, &c.resources, &mut symbols).expect("pipeline builds");
    let mut engine = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    for spec in w.jobs {
        engine.submit(spec.job, 0).expect("submits");
    }
    engine.schedule(0).expect("schedules");
    let why = engine.describe_reasons(2);
    assert_eq!(why, "0/4 nodes: 2 insufficient cpu (fit), 2 outside-budget cpu (host)");
}

#[test]
fn a_failed_region_is_absorbed_by_the_other_within_its_budget() {
    // East's two jobs run; both east nodes fail at 100 and recover at 5000.
    let jobs = "id,group,release,duration,request\na,east,0,1000,cpu=4\nb,east,0,1000,cpu=4\n";
    let events = [fail(100, E1), fail(100, E2), recover(5000, E1), recover(5000, E2)];
    let sim = run("{ kind: partitioned, rebalance_s: 60, recovery_percent: 50 }", jobs, &events);
    let got = sim.completed();
    // The failure brings a round forward to 100: half of west (4 cpu of 8) is
    // lent at once, one job runs there, the other when the first ends.
    assert_eq!(got, [("a".into(), "w1".into(), 100), ("b".into(), "w1".into(), 1100)]);
    let parts = sim.engine.partitions().expect("partitioned");
    let o = &parts.outages()[0];
    assert_eq!((o.down_at, o.up_at, o.nodes_down, o.displaced), (100, Some(5000), 2, 2));
    assert_eq!(o.first_absorbed_at, Some(100));
    assert_eq!(o.recovered_at, Some(1100), "the last displaced job ran again at 1100");
    assert_eq!(o.absorbed_by.values().sum::<u32>(), 2);
    assert!(o.missed.is_empty());
}

#[test]
fn an_unused_reservation_is_reclaimed_after_its_lease() {
    // East borrows for `c` at the first round; `c` finishes; nothing asks any
    // more, so the grant shrinks back once the lease (120 s) has passed.
    let jobs = "id,group,release,duration,request\n\
a,east,0,500,cpu=4\nb,east,0,500,cpu=4\nc,east,0,100,cpu=4\nw,west,1000,10,cpu=4\n";
    let sim = run("{ kind: partitioned, rebalance_s: 60, recovery_percent: 50, lease_s: 120 }", jobs, &[]);
    let parts = sim.engine.partitions().expect("partitioned");
    assert!(parts.stats.grants >= 1, "{:?}", parts.stats);
    assert_eq!(parts.stats.reclaimed, 1, "{:?}", parts.stats);
    let (east, west) = (0, 1);
    assert_eq!(parts.grant(west, east), [0], "nothing stays reserved");
    assert_eq!(sim.completed()[2], ("c".into(), "w1".into(), 60));
}

#[test]
fn the_repair_loop_fixes_a_leaked_reservation() {
    let jobs = "id,group,release,duration,request\na,east,0,1000,cpu=4\n";
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).expect("cluster parses");
    let w = workload::csv::parse(Path::new("w.csv"), jobs, &mut c).expect("workload parses");
    let r = Registry::builtin();
    let def = PipelineDef::parse(Path::new("p.yaml"), pipeline("{ kind: partitioned }"), &r).expect("parses");
    let mut symbols = c.symbols.clone();
    let p = def.build(&r, &c.resources, &mut symbols).expect("pipeline builds");
    let mut engine = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    for spec in w.jobs {
        engine.submit(spec.job, 0).expect("submits");
    }
    engine.schedule(0).expect("schedules");
    // A leak: east's own usage drifts from what runs there.
    engine.parts.as_mut().unwrap().own[0] += 3;
    engine.budget_round().expect("a round runs");
    let parts = engine.partitions().unwrap();
    assert_eq!(parts.stats.leaks_repaired, 1);
    assert_eq!(parts.own[0], 4, "east holds what runs there, 4 cpu");
}

#[test]
fn jobs_without_a_home_go_wherever_there_is_room() {
    let jobs = "id,group,release,duration,request\nx,nowhere,0,10,cpu=4\ny,nowhere,0,10,cpu=4\nz,,0,10,cpu=4\n";
    let sim = run("{ kind: partitioned }", jobs, &[]);
    let nodes: Vec<String> = sim.completed().into_iter().map(|p| p.1).collect();
    assert_eq!(nodes, ["e1", "e2", "w1"]);
}

#[test]
fn partition_workers_on_threads_decide_what_one_thread_decides() {
    // Both regions busy all along: 60 jobs each of 1-4 cpu and 50-500 s, some
    // with hard deadlines; east fails for a while in two of the cases, so east
    // borrows from west then and the two decide one by one.
    let mut csv = String::from("id,group,release,duration,request,deadline,hard\n");
    for i in 0..120u32 {
        let region = if i % 2 == 0 { "east" } else { "west" };
        let (release, duration, cpu) = (i * 7 % 300, 50 + i * 37 % 450, 1 + i % 4);
        let deadline = if i % 3 == 0 { format!("{},true", release + duration + 400) } else { ",".into() };
        csv.push_str(&format!("j{i},{region},{release},{duration},cpu={cpu},{deadline}\n"));
    }
    let outage = [fail(200, E1), fail(200, E2), recover(2000, E1), recover(2000, E2)];
    let cases: [(&str, &str, &[NodeEvent]); 3] = [
        ("nothing lent", "{ kind: partitioned, rebalance_s: 60, recovery_percent: 0 }", &[]),
        ("east fails, half of west lent", "{ kind: partitioned, rebalance_s: 60, recovery_percent: 50 }", &outage),
        ("east fails, a quarter lent, short leases", "{ kind: partitioned, rebalance_s: 30, lease_s: 30 }", &outage),
    ];
    for (name, arch, events) in cases {
        let one = run_with(arch, &csv, events, usize::MAX);
        let threads = run_with(arch, &csv, events, 0);
        assert_eq!(one.engine.stats().parallel_cycles, 0, "{name}: one thread");
        assert!(threads.engine.stats().parallel_cycles > 0, "{name}: partition workers ran on threads");
        let states = |sim: &SimResult| -> Vec<String> {
            sim.engine.records().iter().map(|r| format!("{:?} {:?}", r.state, r.reasons)).collect()
        };
        assert_eq!(states(&one), states(&threads), "{name}: every job ends the same");
        let (a, b) = (one.engine.partitions().unwrap(), threads.engine.partitions().unwrap());
        assert_eq!(a.outages(), b.outages(), "{name}: the same outages");
        assert_eq!(a.stats, b.stats, "{name}: the same budget rounds");
    }
}

#[test]
fn a_swap_to_partitioned_grants_what_runs_abroad_and_revokes_nothing() {
    // Centralized first: east's flood spills onto west (c, d). Then the host
    // reloads a partitioned pipeline that lends nothing.
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).expect("cluster parses");
    let w = workload::csv::parse(Path::new("w.csv"), EAST_FLOOD, &mut c).expect("workload parses");
    let r = Registry::builtin();
    let build = |arch: &str, symbols: &mut kairos_model::Symbols| {
        let def = PipelineDef::parse(Path::new("p.yaml"), pipeline(arch), &r).expect("pipeline parses");
        Arc::new(def.build(&r, &c.resources, symbols).expect("pipeline builds"))
    };
    let mut symbols = c.symbols.clone();
    let centralized = build("{ kind: centralized }", &mut symbols);
    let partitioned = build("{ kind: partitioned, recovery_percent: 0 }", &mut symbols);
    let mut engine = Engine::new(centralized, c.nodes.clone(), c.resources.clone(), symbols);
    for spec in w.jobs {
        engine.submit(spec.job, 0).expect("submits");
    }
    engine.schedule(0).expect("schedules");
    assert_eq!(engine.running().len(), 4);
    engine.swap_pipeline(partitioned, 2);
    let parts = engine.partitions().expect("partitioned after the swap");
    let (east, west) = (0, 1);
    assert_eq!(parts.lent(west, east), [8], "c and d hold 8 cpu of west");
    assert_eq!(parts.grant(west, east), [8], "and hold a grant of that size");
    assert_eq!(engine.running().len(), 4, "nothing running is revoked");
    engine.schedule(0).expect("schedules");
    assert_eq!(engine.describe_reasons(4), "0/4 nodes: 2 insufficient cpu (fit), 2 outside-budget cpu (host)");
}
