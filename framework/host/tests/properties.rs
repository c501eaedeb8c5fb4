//! Properties of the engine and the simulator, on random small clusters and
//! workloads built directly from the model types.
//!
//! 1. **Capacity is never over-committed**: driving the engine one call at a
//!    time, after every call each node's used quantity stays within its
//!    allocatable capacity (capacity minus reserve) in every dimension, equals
//!    the sum of the requests of the jobs running there, and a down node runs
//!    nothing — also under a pipeline without the `fit` filter, where only the
//!    host's own check stands between the plugins and an over-commit.
//! 2. **Every job is accounted for**: after a simulation each job is exactly one
//!    of completed, missed, rejected or pending (none still running), the
//!    report's counts add up to the total, and what each outcome records is
//!    consistent with the job (it ran for its actual duration, after its release
//!    and its predecessor).
//! 3. **Same input, same report**: two simulations of one input give equal
//!    reports (but for the wall-clock fields) and equal schedules.
//! 4. **Jackson's rule**: on one machine, with every job released at 0 and
//!    needing the whole machine, `edf` minimises the maximum lateness — checked
//!    against every permutation.
//! 5. **A pipeline swap loses nothing**: swapping the pipeline between
//!    scheduling cycles (hot reload) leaves the pending and running jobs as they
//!    were, never starts a job that is already running, keeps capacity and
//!    accounting as in 1 and 2, and records on every placement the revision in
//!    force when it was made — also when the swapped-in pipeline changes the
//!    architecture (to `optimistic`, `sampled` or `partitioned`, workers on).
//!
//! 6. **Every architecture keeps 1 and 2**: under `optimistic` with any number
//!    of workers (1–8, every cycle split among them, both conflict checks) and
//!    under `sampled`, capacity is never over-committed, each job is placed at
//!    most once at a time, and every job is accounted for.
//!    Under `partitioned` (any round interval and share lent), moreover, no
//!    partition ever holds more of another's capacity than it was granted.
//! 7. **Seeded sampling and partitioned runs are deterministic, and
//!    `centralized` is today's engine**: two `sampled` runs with one seed give
//!    equal reports and schedules, as do two `partitioned` runs, and a
//!    pipeline saying `architecture: { kind: centralized }` schedules exactly as
//!    one that says nothing.
//! 8. **One decision routine**: every architecture, given one worker and the
//!    whole cluster as its candidates (`optimistic` with one worker, either
//!    conflict check; `sampled` with a sample as large as the cluster), makes
//!    exactly the centralized decisions: the same job on the same node at the
//!    same time, the same outcomes. (Pipelines with a partition-scoped order
//!    key are left out: a parallel cycle keys each group once per cycle, by
//!    design, where a centralized one re-keys it after each placement.)
//!
//! Case counts are kept small so the suite runs in seconds in a debug build.

use std::path::Path;
use std::sync::Arc;

use kairos_host::engine::{Engine, EngineEvent, JobState, Miss, Outcome};
use kairos_host::pipeline::{Pipeline, PipelineDef};
use kairos_host::registry::Registry;
use kairos_host::report::{schedule_rows, Report, Status};
use kairos_host::sim::{simulate, NodeEvent, SimResult};
use kairos_host::workload::JobSpec;
use kairos_model::{Job, JobId, NodeId, NodeSpec, NodeTable, Qty, ResourceSpace, Symbols, Time};
use proptest::prelude::*;
use proptest::sample::Index;

/// Cases per property: enough to find the classic slips, few enough for a
/// debug build to run every property in a few seconds.
const CASES: u32 = 64;

/// The pipelines every property runs under, as `(name, YAML)`.
const PIPELINES: [(&str, &str); 5] = [
    (
        "fifo, fit, first-fit",
        "name: fifo\norder: [{ plugin: fifo }]\nfilter: [{ plugin: fit }]\nscore: [{ plugin: first-fit }]\n",
    ),
    (
        "priority, fair-share, edf, selector, fit, headroom, best-fit",
        "name: full
order:
  - plugin: priority
    args: { aging_interval_s: 60 }
  - plugin: fair-share
    args: { key: group }
  - plugin: edf
filter:
  - plugin: node-selector
  - plugin: fit
  - plugin: headroom
    args: { percent: 20, exempt_priority: 7 }
score:
  - plugin: best-fit
    weight: 2
",
    ),
    // No `fit`: the filters pass nodes the job does not fit, and best-fit ranks
    // them (a node it does not fit counts as full, so it ranks first).
    ("edf, no fit, best-fit", "name: no-fit\norder: [{ plugin: edf }]\nscore: [{ plugin: best-fit }]\n"),
    ("no plugins at all", "name: empty\n"),
    // Work moves between nodes while it runs, pausing 20 s a move.
    (
        "edf, selector, fit, first-fit, migration",
        "name: migrating\norder: [{ plugin: edf }]\nfilter: [{ plugin: node-selector }, { plugin: fit }]\nscore: [{ plugin: first-fit }]\nrebalance: [{ plugin: migration, args: { threshold: 0.2, cost_s: 20, max_moves: 3, interval_s: 50 } }]\n",
    ),
];

/// Architectures a swapped-in pipeline may ask for: a live host may change its
/// coordination with a reload, jobs running and pending.
const SWAPPED_ARCHITECTURES: [&str; 5] = [
    "",
    "architecture: { kind: optimistic, workers: 3 }",
    "architecture: { kind: sampled, sample: 2, seed: 7 }",
    "architecture: { kind: partitioned, rebalance_s: 30, recovery_percent: 50 }",
    "architecture: { kind: partitioned, rebalance_s: 600, recovery_percent: 0 }",
];

/// The two resource dimensions.
const DIMS: [&str; 2] = ["cpu", "memory"];

// ---- random inputs ----------------------------------------------------------------

#[derive(Clone, Debug)]
struct NodeGen {
    capacity: [Qty; 2],
    /// Reserve as a percentage of capacity, 0..=50.
    reserve_pct: [Qty; 2],
    region: u8,
    tier: u8,
}

#[derive(Clone, Debug)]
struct JobGen {
    release: Time,
    duration: Time,
    estimate: Time,
    request: [Qty; 2],
    /// Slack after release, and whether the deadline is hard.
    deadline: Option<(Time, bool)>,
    /// Tier the job selects; tier 2 exists on no node.
    selector: Option<u8>,
    /// An earlier job it runs after (resolved against the job's position).
    after: Option<Index>,
    priority: i32,
    group: u8,
    /// Whether a node failure restarts it or loses it.
    restartable: bool,
}

#[derive(Clone, Debug)]
struct Case {
    nodes: Vec<NodeGen>,
    jobs: Vec<JobGen>,
    /// `(at, node, up)`: node failures and recoveries.
    events: Vec<(Time, Index, bool)>,
}

fn node_gen() -> impl Strategy<Value = NodeGen> {
    ([1..=16u64, 0..=16u64], [0..=50u64, 0..=50u64], 0..2u8, 0..2u8)
        .prop_map(|(capacity, reserve_pct, region, tier)| NodeGen { capacity, reserve_pct, region, tier })
}

fn job_gen() -> impl Strategy<Value = JobGen> {
    (
        (0..300i64, 1..120i64, 1..120i64),
        [0..=12u64, 0..=12u64],
        prop::option::of((0..400i64, any::<bool>())),
        prop::option::weighted(0.3, 0..3u8),
        prop::option::weighted(0.3, any::<Index>()),
        (0..10i32, 0..3u8, prop::bool::weighted(0.8)),
    )
        .prop_map(
            |((release, duration, estimate), request, deadline, selector, after, (priority, group, restartable))| {
                JobGen { release, duration, estimate, request, deadline, selector, after, priority, group, restartable }
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(node_gen(), 1..=6),
        prop::collection::vec(job_gen(), 1..=40),
        prop::collection::vec((0..500i64, any::<Index>(), any::<bool>()), 0..=3),
    )
        .prop_map(|(nodes, jobs, events)| Case { nodes, jobs, events })
}

/// Everything a run needs, built from a case under one pipeline.
struct Input {
    engine: Engine,
    jobs: Vec<JobSpec>,
    events: Vec<NodeEvent>,
}

fn input(case: &Case, pipeline_yaml: &str) -> Input {
    let registry = Registry::builtin();
    let resources = ResourceSpace::new(DIMS);
    let mut symbols = Symbols::default();
    let (region_key, zone_key, tier_key) = (symbols.intern("region"), symbols.intern("zone"), symbols.intern("tier"));
    let regions = [symbols.intern("r0"), symbols.intern("r1")];
    let tiers = [symbols.intern("a"), symbols.intern("b"), symbols.intern("nowhere")];
    // Groups r0 and r1 are regions too: their home under `partitioned`; g2 has none.
    let groups = [symbols.intern("r0"), symbols.intern("r1"), symbols.intern("g2")];

    let mut nodes = NodeTable::new(DIMS.len());
    for (i, n) in case.nodes.iter().enumerate() {
        let region = regions[n.region as usize];
        nodes.push(NodeSpec {
            name: format!("n{i}"),
            region,
            zone: region,
            labels: vec![(region_key, region), (zone_key, region), (tier_key, tiers[n.tier as usize])],
            taints: vec![],
            capacity: n.capacity.to_vec(),
            reserve: (0..DIMS.len()).map(|d| n.capacity[d] * n.reserve_pct[d] / 100).collect(),
        });
    }

    let jobs = case
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| JobSpec {
            job: Job {
                idx: i as JobId,
                id: format!("j{i}"),
                tenant: groups[j.group as usize % 2],
                group: groups[j.group as usize],
                priority_class: Symbols::EMPTY,
                priority: j.priority,
                release: j.release,
                deadline: j.deadline.map(|(slack, _)| j.release + slack),
                hard_deadline: j.deadline.is_some_and(|(_, hard)| hard),
                estimate: j.estimate,
                request: j.request.to_vec(),
                selector: j.selector.map(|t| vec![(tier_key, tiers[t as usize])]).unwrap_or_default(),
                tolerations: vec![],
                labels: vec![],
                after: j.after.filter(|_| i > 0).map(|a| a.index(i) as JobId),
                restartable: j.restartable,
            },
            duration: j.duration,
        })
        .collect();

    let events = case
        .events
        .iter()
        .map(|&(at, node, up)| NodeEvent { at, node: node.index(case.nodes.len()) as NodeId, up })
        .collect();

    let def = PipelineDef::parse(Path::new("pipeline.yaml"), pipeline_yaml.to_owned(), &registry)
        .expect("the pipeline checks");
    let pipeline = def.build(&registry, &resources, &mut symbols).expect("the pipeline builds");
    Input { engine: Engine::new(Arc::new(pipeline), nodes, resources, symbols), jobs, events }
}

/// `input` with `architecture` appended to the pipeline; parallel cycles start
/// every worker there is a job for.
fn input_arch(case: &Case, pipeline_yaml: &str, architecture: &str) -> Input {
    let mut input = input(case, &format!("{pipeline_yaml}{architecture}\n"));
    input.engine.set_min_work_per_worker(0);
    input
}

fn run(case: &Case, pipeline_yaml: &str) -> SimResult {
    let Input { engine, jobs, events } = input(case, pipeline_yaml);
    simulate(engine, jobs, &events, |_, _| {}).expect("the built-in plugins never fault")
}

// ---- 1. capacity ---------------------------------------------------------------------

/// Checks the allocation invariants of `engine`; `after` says which call it follows.
fn check_allocation(engine: &Engine, after: &str) -> Result<(), TestCaseError> {
    let nodes = engine.nodes();
    let dims = nodes.dims();
    let mut used = vec![0; nodes.len() * dims];
    let mut running = vec![0u32; nodes.len()];
    for (job, rec) in engine.jobs().iter().zip(engine.records()) {
        if let JobState::Running { node, .. } = rec.state {
            prop_assert!(nodes.is_up(node), "after {after}: job {} runs on down node {node}", job.id);
            running[node as usize] += 1;
            for d in 0..dims {
                used[node as usize * dims + d] += job.request[d];
            }
        }
    }
    for n in 0..nodes.len() as NodeId {
        for d in 0..dims {
            let (u, a) = (nodes.used(n)[d], nodes.allocatable(n)[d]);
            prop_assert!(u <= a, "after {after}: node {n} uses {u} of {a} allocatable {}", DIMS[d]);
            prop_assert_eq!(
                u,
                used[n as usize * dims + d],
                "after {}: node {} {} is the sum of its jobs' requests",
                after,
                n,
                DIMS[d]
            );
        }
        prop_assert_eq!(nodes.running(n), running[n as usize], "after {}: jobs running on node {}", after, n);
    }
    if let Some(parts) = engine.partitions() {
        for lender in 0..parts.names.len() {
            for borrower in 0..parts.names.len() {
                let (lent, grant) = (parts.lent(lender, borrower), parts.grant(lender, borrower));
                prop_assert!(
                    lent.iter().zip(grant).all(|(l, g)| l <= g),
                    "after {}: partition {} holds {:?} of partition {}, granted {:?}",
                    after,
                    borrower,
                    lent,
                    lender,
                    grant
                );
            }
        }
    }
    Ok(())
}

/// Plays the input against the engine as the simulator does, one engine call at
/// a time, checking the allocation after each.
fn drive_checking_allocation(input: Input) -> Result<(), TestCaseError> {
    let Input { mut engine, jobs, mut events } = input;
    let durations: Vec<Time> = jobs.iter().map(|j| j.duration).collect();
    let start = jobs.iter().map(|j| j.job.release).chain(events.iter().map(|e| e.at)).min().unwrap_or(0);
    for spec in jobs {
        engine.submit(spec.job, start).expect("valid jobs");
    }
    check_allocation(&engine, "submit")?;
    events.sort_by_key(|e| e.at);
    let mut events = events.into_iter().peekable();
    // Planned completions: (time, job, generation of the run).
    let mut completions = std::collections::BTreeSet::<(Time, JobId, u32)>::new();
    let mut ends = vec![0; durations.len()];
    let mut now = start;
    for step in 0.. {
        prop_assert!(step < 100_000, "the run does not end");
        if step > 0 {
            let next = [completions.first().map(|c| c.0), events.peek().map(|e| e.at), engine.next_timer()];
            match next.into_iter().flatten().min() {
                Some(t) => now = t.max(now),
                None => break,
            }
        }
        while let Some(&(t, j, generation)) = completions.first() {
            if t > now {
                break;
            }
            completions.pop_first();
            let rec = &engine.records()[j as usize];
            if rec.generation == generation && matches!(rec.state, JobState::Running { .. }) {
                engine.complete(j, now).expect("the job is running");
                check_allocation(&engine, "complete")?;
            }
        }
        while let Some(e) = events.next_if(|e| e.at <= now) {
            if e.up {
                engine.recover_node(e.node, now);
                check_allocation(&engine, "recover_node")?;
            } else {
                engine.fail_node(e.node, now);
                check_allocation(&engine, "fail_node")?;
            }
        }
        engine.advance(now);
        check_allocation(&engine, "advance")?;
        engine.schedule(now).expect("the built-in plugins never fault");
        check_allocation(&engine, "schedule")?;
        let started: Vec<EngineEvent> = engine.drain_events().collect();
        for ev in started {
            match ev {
                EngineEvent::Started { job, at, generation, .. } => {
                    ends[job as usize] = at + durations[job as usize];
                    completions.insert((ends[job as usize], job, generation));
                }
                EngineEvent::Migrated { job, pause, generation, .. } if pause > 0 => {
                    check_migration_deadline(&engine, job)?;
                    ends[job as usize] += pause;
                    completions.insert((ends[job as usize], job, generation));
                }
                _ => {}
            }
        }
    }
    Ok(())
}

// ---- 5. pipeline swaps -------------------------------------------------------------

/// `yaml` built against `engine`'s resources and a clone of its symbols, as a
/// reload builds a new revision.
/// A migration that pauses a job never makes it late, by its estimate: the
/// host refuses a move whose pause would push the expected end past the deadline.
fn check_migration_deadline(engine: &Engine, job: JobId) -> Result<(), TestCaseError> {
    let (j, rec) = (&engine.jobs()[job as usize], &engine.records()[job as usize]);
    if let (Some(d), JobState::Running { expected_end, .. }) = (j.deadline, &rec.state) {
        prop_assert!(*expected_end <= d, "job {} migrated to end at {expected_end}, after its deadline {d}", j.id);
    }
    Ok(())
}

fn rebuild(engine: &Engine, yaml: &str) -> Arc<Pipeline> {
    let registry = Registry::builtin();
    let def = PipelineDef::parse(Path::new("reloaded.yaml"), yaml.to_owned(), &registry).expect("the pipeline checks");
    Arc::new(def.build(&registry, engine.resources(), &mut engine.symbols().clone()).expect("the pipeline builds"))
}

/// Drives the input as [`drive_checking_allocation`] does, swapping in
/// `swaps[i].1` (as revision `i + 2`) before the scheduling cycle of step
/// `swaps[i].0`; checks each swap and each start. Returns what a simulation
/// would.
fn drive_with_swaps(input: Input, swaps: &[(usize, Arc<Pipeline>)]) -> Result<SimResult, TestCaseError> {
    let Input { mut engine, jobs, mut events } = input;
    let durations: Vec<Time> = jobs.iter().map(|j| j.duration).collect();
    let start = jobs.iter().map(|j| j.job.release).chain(events.iter().map(|e| e.at)).min().unwrap_or(0);
    for spec in jobs {
        engine.submit(spec.job, start).expect("valid jobs");
    }
    events.sort_by_key(|e| e.at);
    let mut events = events.into_iter().peekable();
    let mut completions = std::collections::BTreeSet::<(Time, JobId, u32)>::new();
    let mut ends = vec![0; durations.len()];
    let mut running = std::collections::BTreeSet::<JobId>::new();
    let mut swaps = swaps.iter().enumerate().peekable();
    let mut now = start;
    for step in 0.. {
        prop_assert!(step < 100_000, "the run does not end");
        if step > 0 {
            let next = [completions.first().map(|c| c.0), events.peek().map(|e| e.at), engine.next_timer()];
            match next.into_iter().flatten().min() {
                Some(t) => now = t.max(now),
                None => break,
            }
        }
        while let Some(&(t, j, generation)) = completions.first() {
            if t > now {
                break;
            }
            completions.pop_first();
            let rec = &engine.records()[j as usize];
            if rec.generation == generation && matches!(rec.state, JobState::Running { .. }) {
                engine.complete(j, now).expect("the job is running");
                running.remove(&j);
            }
        }
        while let Some(e) = events.next_if(|e| e.at <= now) {
            if e.up {
                engine.recover_node(e.node, now);
            } else {
                engine.fail_node(e.node, now);
            }
        }
        engine.advance(now);
        while let Some((i, (_, pipeline))) = swaps.next_if(|(_, (at, _))| *at <= step) {
            let sorted = |v: &[JobId]| {
                let mut v = v.to_vec();
                v.sort_unstable();
                v
            };
            let (pending, run) = (sorted(engine.pending()), sorted(engine.running()));
            let records = engine.records().to_vec();
            engine.swap_pipeline(Arc::clone(pipeline), i as u64 + 2);
            prop_assert_eq!(sorted(engine.pending()), pending, "a swap keeps the pending jobs");
            prop_assert_eq!(sorted(engine.running()), run, "a swap keeps the running jobs");
            for (j, (before, after)) in records.iter().zip(engine.records()).enumerate() {
                prop_assert_eq!(&before.state, &after.state, "a swap leaves job {} as it was", j);
            }
            check_allocation(&engine, "swap_pipeline")?;
        }
        engine.schedule(now).expect("the built-in plugins never fault");
        check_allocation(&engine, "schedule")?;
        let happened: Vec<EngineEvent> = engine.drain_events().collect();
        for ev in happened {
            match ev {
                EngineEvent::Started { job, at, generation, .. } => {
                    prop_assert!(running.insert(job), "job {} started while it was running", job);
                    prop_assert_eq!(
                        engine.records()[job as usize].revision,
                        Some(engine.revision()),
                        "job {} records the revision that placed it",
                        job
                    );
                    ends[job as usize] = at + durations[job as usize];
                    completions.insert((ends[job as usize], job, generation));
                }
                EngineEvent::Stopped { job, .. } => {
                    prop_assert!(running.remove(&job), "job {} stopped while it was not running", job);
                }
                EngineEvent::Migrated { job, pause, generation, .. } => {
                    if pause > 0 {
                        check_migration_deadline(&engine, job)?;
                        ends[job as usize] += pause;
                        completions.insert((ends[job as usize], job, generation));
                    }
                }
            }
        }
    }
    Ok(SimResult { span: (start, engine.now().max(start)), engine, durations, wall_s: 0.0 })
}

// ---- 2. accounting -------------------------------------------------------------------

fn check_accounting(sim: &SimResult, specs: &[JobSpec]) -> Result<(), TestCaseError> {
    let e = &sim.engine;
    prop_assert_eq!(e.jobs().len(), specs.len(), "every job was submitted");
    let mut tally = [0usize; 6];
    for ((job, rec), spec) in e.jobs().iter().zip(e.records()).zip(specs) {
        let status = Status::of(rec);
        prop_assert!(status != Status::Running, "job {} still runs after the simulation", job.id);
        let bucket = match status {
            Status::Completed => 0,
            Status::Missed => 1,
            Status::Rejected => 2,
            Status::Pending => 3,
            Status::Running => 4,
            Status::Lost => 5,
        };
        tally[bucket] += 1;
        prop_assert!(job.restartable || rec.restarts == 0, "job {} cannot restart but was restarted", job.id);
        let run = match &rec.state {
            JobState::Done(Outcome::Completed { start, end, .. }) => {
                if let Some(d) = job.deadline {
                    prop_assert!(*end <= d, "job {} completed at {end}, after its deadline {d}", job.id);
                }
                Some((*start, *end))
            }
            JobState::Done(Outcome::Missed { why: Miss::Late { start, end, .. }, .. }) => {
                prop_assert!(
                    job.deadline.is_some_and(|d| *end > d),
                    "job {} is late without a passed deadline",
                    job.id
                );
                Some((*start, *end))
            }
            JobState::Done(Outcome::Missed { why: Miss::Expired { .. }, .. }) => {
                prop_assert!(job.hard_deadline, "job {} expired without a hard deadline", job.id);
                None
            }
            JobState::Done(Outcome::Lost { .. }) => {
                prop_assert!(!job.restartable, "job {} was lost though it can restart", job.id);
                None
            }
            _ => None,
        };
        if let Some((start, end)) = run {
            prop_assert!(start >= job.release, "job {} started at {start}, before its release {}", job.id, job.release);
            let paused: Time = rec.moves.iter().filter(|m| m.at >= start).map(|m| m.pause).sum();
            prop_assert_eq!(end - start, spec.duration + paused, "job {} ran for its actual duration", &job.id);
            if let Some(a) = job.after {
                let done = match e.records()[a as usize].state {
                    JobState::Done(
                        Outcome::Completed { end, .. } | Outcome::Missed { why: Miss::Late { end, .. }, .. },
                    ) => Some(end),
                    _ => None,
                };
                prop_assert!(
                    done.is_some_and(|d| d <= start),
                    "job {} started at {start} before its predecessor ended ({done:?})",
                    job.id
                );
            }
        }
    }
    let report = Report::new("properties", sim, 0);
    let j = report.jobs;
    prop_assert_eq!(j.total, specs.len());
    prop_assert_eq!(
        j.completed + j.missed + j.rejected + j.lost + j.pending + j.running,
        j.total,
        "the buckets add up: {:?}",
        j
    );
    prop_assert_eq!(
        [j.completed, j.missed, j.rejected, j.pending, j.running, j.lost],
        [tally[0], tally[1], tally[2], tally[3], tally[4], tally[5]],
        "the report counts what Status::of says"
    );
    let groups: usize = report.groups.values().map(|g| g.total).sum();
    prop_assert_eq!(groups, j.total, "the groups partition the jobs");
    for (name, g) in &report.groups {
        prop_assert_eq!(g.completed + g.missed + g.rejected + g.lost + g.pending, g.total, "group {}", name);
    }
    Ok(())
}

// ---- 3. determinism -------------------------------------------------------------------

/// The report with its wall-clock fields zeroed.
fn comparable(sim: &SimResult) -> Report {
    let mut r = Report::new("properties", sim, 0);
    r.scheduler.wall_s = 0.0;
    r.scheduler.decisions_per_s = 0.0;
    r
}

// ---- 4. Jackson's rule -----------------------------------------------------------------

/// The smallest maximum lateness over every order of `jobs` (duration, deadline)
/// run back to back from 0.
fn best_max_lateness(jobs: &[(Time, Time)]) -> Time {
    fn go(rest: &mut Vec<(Time, Time)>, t: Time, worst: Time) -> Time {
        if rest.is_empty() {
            return worst;
        }
        let mut best = Time::MAX;
        for i in 0..rest.len() {
            let (p, d) = rest.swap_remove(i);
            best = best.min(go(rest, t + p, worst.max(t + p - d)));
            rest.push((p, d));
            let last = rest.len() - 1;
            rest.swap(i, last);
        }
        best
    }
    go(&mut jobs.to_vec(), 0, Time::MIN)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn capacity_is_never_over_committed(case in case()) {
        for (name, yaml) in PIPELINES {
            drive_checking_allocation(input(&case, yaml)).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
        }
    }

    #[test]
    fn every_job_is_accounted_for(case in case()) {
        for (name, yaml) in PIPELINES {
            let specs = input(&case, yaml).jobs;
            let sim = run(&case, yaml);
            check_accounting(&sim, &specs).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
        }
    }

    #[test]
    fn the_same_input_gives_the_same_report(case in case()) {
        for (name, yaml) in PIPELINES {
            let (a, b) = (run(&case, yaml), run(&case, yaml));
            prop_assert_eq!(comparable(&a), comparable(&b), "{}", name);
            prop_assert_eq!(schedule_rows(&a.engine), schedule_rows(&b.engine), "{}", name);
        }
    }

    #[test]
    fn a_pipeline_swapped_mid_run_loses_no_job_and_places_none_twice(
        case in case(),
        swaps in prop::collection::vec((0..40usize, 0..PIPELINES.len(), 0..SWAPPED_ARCHITECTURES.len()), 1..=4),
    ) {
        let mut swaps = swaps;
        swaps.sort_by_key(|s| s.0);
        for (name, yaml) in PIPELINES {
            let mut input = input(&case, yaml);
            input.engine.set_min_work_per_worker(0);
            let specs = input.jobs.clone();
            let swaps: Vec<(usize, Arc<Pipeline>)> = swaps
                .iter()
                .map(|&(step, p, a)| {
                    (step, rebuild(&input.engine, &format!("{}{}\n", PIPELINES[p].1, SWAPPED_ARCHITECTURES[a])))
                })
                .collect();
            let sim = drive_with_swaps(input, &swaps).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            check_accounting(&sim, &specs).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            for (job, rec) in sim.engine.jobs().iter().zip(sim.engine.records()) {
                let ran = rec.first_start.is_some();
                prop_assert_eq!(rec.revision.is_some(), ran, "{}: job {} has a revision iff it ran", name, &job.id);
                prop_assert!(
                    rec.revision.is_none_or(|r| (1..=swaps.len() as u64 + 1).contains(&r)),
                    "{}: job {} was placed by revision {:?}, which never ran",
                    name, &job.id, rec.revision
                );
            }
        }
    }

    #[test]
    fn every_architecture_never_over_commits_and_accounts_for_every_job(
        case in case(),
        workers in 1..=8usize,
        seed in any::<u64>(),
    ) {
        let archs = [
            format!("architecture: {{ kind: optimistic, workers: {workers} }}"),
            format!("architecture: {{ kind: optimistic, workers: {workers}, conflict: strict }}"),
            format!("architecture: {{ kind: sampled, sample: {}, seed: {seed} }}", workers.min(3)),
            format!(
                "architecture: {{ kind: partitioned, rebalance_s: {}, recovery_percent: {} }}",
                1 + seed % 600,
                seed % 101
            ),
        ];
        for (name, yaml) in PIPELINES {
            for arch in &archs {
                let what = format!("{name}, {arch}");
                drive_checking_allocation(input_arch(&case, yaml, arch))
                    .map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
                let Input { engine, jobs, events } = input_arch(&case, yaml, arch);
                let specs = jobs.clone();
                let sim = simulate(engine, jobs, &events, |_, _| {}).expect("the built-in plugins never fault");
                check_accounting(&sim, &specs).map_err(|e| TestCaseError::fail(format!("{what}: {e}")))?;
                let stats = sim.engine.stats();
                prop_assert!(
                    stats.commits >= stats.conflicts,
                    "{}: every conflict is a refused commit: {:?}", what, stats
                );
            }
        }
    }

    #[test]
    fn seeded_sampling_repeats_itself_and_centralized_is_the_engine_as_before(case in case(), seed in any::<u64>()) {
        for (name, yaml) in PIPELINES {
            let sampled = format!("architecture: {{ kind: sampled, sample: 2, seed: {seed} }}");
            let run_arch = |arch: &str| {
                let Input { engine, jobs, events } = input_arch(&case, yaml, arch);
                simulate(engine, jobs, &events, |_, _| {}).expect("the built-in plugins never fault")
            };
            let (a, b) = (run_arch(&sampled), run_arch(&sampled));
            prop_assert_eq!(comparable(&a), comparable(&b), "{}: sampled, seed {}", name, seed);
            prop_assert_eq!(schedule_rows(&a.engine), schedule_rows(&b.engine), "{}: sampled, seed {}", name, seed);
            let partitioned = format!("architecture: {{ kind: partitioned, rebalance_s: {} }}", 1 + seed % 600);
            let (a, b) = (run_arch(&partitioned), run_arch(&partitioned));
            prop_assert_eq!(comparable(&a), comparable(&b), "{}: {}", name, partitioned);
            prop_assert_eq!(schedule_rows(&a.engine), schedule_rows(&b.engine), "{}: {}", name, partitioned);
            let (implicit, explicit) = (run(&case, yaml), run_arch("architecture: { kind: centralized }"));
            prop_assert_eq!(comparable(&implicit), comparable(&explicit), "{}: centralized", name);
            prop_assert_eq!(schedule_rows(&implicit.engine), schedule_rows(&explicit.engine), "{}: centralized", name);
        }
    }

    #[test]
    fn every_architecture_with_one_worker_and_every_node_decides_as_centralized(case in case(), seed in any::<u64>()) {
        let archs = [
            "architecture: { kind: optimistic, workers: 1 }".to_owned(),
            "architecture: { kind: optimistic, workers: 1, conflict: strict }".to_owned(),
            format!("architecture: {{ kind: sampled, sample: {}, seed: {seed} }}", case.nodes.len()),
        ];
        let outcomes = |sim: &SimResult| -> Vec<String> {
            sim.engine.records().iter().map(|r| format!("{:?}", r.state)).collect()
        };
        for (name, yaml) in PIPELINES.iter().filter(|(_, y)| !y.contains("fair-share")) {
            let central = {
                let Input { engine, jobs, events } = input_arch(&case, yaml, "architecture: { kind: centralized }");
                simulate(engine, jobs, &events, |_, _| {}).expect("the built-in plugins never fault")
            };
            for arch in &archs {
                let Input { engine, jobs, events } = input_arch(&case, yaml, arch);
                let sim = simulate(engine, jobs, &events, |_, _| {}).expect("the built-in plugins never fault");
                prop_assert_eq!(schedule_rows(&sim.engine), schedule_rows(&central.engine), "{}, {}", name, arch);
                prop_assert_eq!(outcomes(&sim), outcomes(&central), "{}, {}", name, arch);
            }
        }
    }

    #[test]
    fn edf_minimises_the_maximum_lateness_on_one_machine(
        jobs in prop::collection::vec((1..50i64, 0..200i64), 1..=6),
    ) {
        let case = Case {
            nodes: vec![NodeGen { capacity: [4, 8], reserve_pct: [0, 0], region: 0, tier: 0 }],
            jobs: jobs
                .iter()
                .map(|&(duration, deadline)| JobGen {
                    release: 0,
                    duration,
                    estimate: duration,
                    request: [4, 8],
                    deadline: Some((deadline, false)),
                    selector: None,
                    after: None,
                    priority: 0,
                    group: 0,
                    restartable: true,
                })
                .collect(),
            events: vec![],
        };
        let sim = run(&case, "name: edf\norder: [{ plugin: edf }]\nfilter: [{ plugin: fit }]\n");
        let mut worst = Time::MIN;
        for (job, rec) in sim.engine.jobs().iter().zip(sim.engine.records()) {
            let end = match &rec.state {
                JobState::Done(Outcome::Completed { end, .. } | Outcome::Missed { why: Miss::Late { end, .. }, .. }) => *end,
                other => return Err(TestCaseError::fail(format!("job {} did not run: {other:?}", job.id))),
            };
            worst = worst.max(end - job.deadline.expect("every job has a deadline"));
        }
        prop_assert_eq!(worst, best_max_lateness(&jobs));
    }
}

// ---- regressions ---------------------------------------------------------------------

/// Regression (fixed): a job with a hard deadline left its expiry timer (at latest start + 1)
/// in the engine after it completed or was rejected. The simulator then runs on
/// to that timer although nothing is left to happen, so the report's span
/// stretches to it and utilization is averaged over the idle tail. Here one job
/// runs 0..10 on a node it fills, but the run ends at 991 and utilization reads
/// 1% instead of 100%.
#[test]
fn a_finished_hard_deadline_jobs_expiry_timer_does_not_stretch_the_run() {
    let case = Case {
        nodes: vec![NodeGen { capacity: [4, 8], reserve_pct: [0, 0], region: 0, tier: 0 }],
        jobs: vec![JobGen {
            release: 0,
            duration: 10,
            estimate: 10,
            request: [4, 8],
            deadline: Some((1000, true)),
            selector: None,
            after: None,
            priority: 0,
            group: 0,
            restartable: true,
        }],
        events: vec![],
    };
    let sim = run(&case, PIPELINES[0].1);
    let report = Report::new("regression", &sim, 0);
    assert_eq!(report.jobs.completed, 1);
    assert_eq!(sim.span, (0, 10), "the run ends when the last job does");
    assert_eq!(report.utilization["cpu"], 1.0, "the job filled the node for the whole run");
}
