//! The checks a run must pass, whatever its input.
//!
//! [`run_twice`] builds an engine from the input twice and simulates each one
//! instant at a time ([`Simulation::step`]), checking:
//!
//! 1. **no job id twice**: the workload's ids are unique (a duplicate would be
//!    scheduled twice under one name);
//! 2. **capacity** after every instant: on each node and in each dimension,
//!    used ≤ allocatable and used = the sum of the requests of the jobs running
//!    there; nothing runs on a down node; no partition holds more of another's
//!    capacity than it was granted;
//! 3. **the lists** after every instant, and after a run error: the running
//!    list holds each running job once and nothing else; the pending list holds
//!    each pending job once (a job pending but in no list is lost to a live host);
//! 4. **accounting** at the end: every job is completed, missed, rejected, lost
//!    or pending — none still running — the report's counts add up to the total
//!    and agree with the jobs, and a completed run lasted its actual duration
//!    (plus migration pauses), after its release, by its deadline;
//! 5. **determinism**: the two runs give the same report (but for wall-clock
//!    fields) and the same schedule.
//!
//! Arithmetic here is checked or saturating: the oracle itself must not panic on
//! the extreme times the inputs carry.

use std::collections::HashSet;

use kairos_host::engine::{Engine, JobState, Miss, Outcome as JobOutcome};
use kairos_host::report::{schedule_rows, Report, Status};
use kairos_host::sim::{NodeEvent, SimResult, Simulation};
use kairos_host::workload::JobSpec;
use kairos_host::Error;
use kairos_model::Time;

use crate::{fold, Finding, Kind, Outcome};

/// Jobs a target simulates at most: the loaders read the whole input, but the
/// run takes the first this many jobs (an `after` only names an earlier job, so
/// a prefix is a valid workload). Keeps one execution in milliseconds.
pub const MAX_SIM_JOBS: usize = 400;

/// What one simulation needs.
pub struct RunInput {
    /// The engine, with its pipeline built.
    pub engine: Engine,
    /// The jobs, in workload order.
    pub jobs: Vec<JobSpec>,
    /// Node events.
    pub events: Vec<NodeEvent>,
}

/// Builds the run twice with `build`, simulates and checks both (module docs).
/// A `build` that fails is the loader refusing the input.
pub fn run_twice(build: impl Fn() -> Result<RunInput, Error>) -> Result<Outcome, Finding> {
    let first = match build() {
        Ok(input) => input,
        Err(e) => return Ok(refused(&e)),
    };
    let (print_a, signature) = run_checked(first)?;
    let second = build().map_err(|e| {
        Finding::new(Kind::Nondeterminism, format!("the input built once, then failed: {}", first_line(&e)))
    })?;
    let (print_b, _) = run_checked(second)?;
    if print_a != print_b {
        let at = print_a.bytes().zip(print_b.bytes()).position(|(a, b)| a != b).unwrap_or(0);
        let from = at.saturating_sub(60);
        return Err(Finding::new(
            Kind::Nondeterminism,
            format!(
                "two runs of one input differ\n  first:  …{}\n  second: …{}",
                excerpt(&print_a, from),
                excerpt(&print_b, from)
            ),
        ));
    }
    Ok(Outcome::Ran { signature })
}

fn excerpt(s: &str, from: usize) -> String {
    s.get(from..).unwrap_or("").chars().take(160).collect()
}

/// The outcome of a loader's error.
pub fn refused(e: &Error) -> Outcome {
    let errors = e.input_errors();
    let positioned = !errors.is_empty() && errors.iter().all(|x| x.pos.line > 0);
    let message = first_line(e);
    // The message without the file name, which is the scratch directory's.
    let what = errors.first().map(|x| x.message.clone()).unwrap_or_else(|| message.clone());
    Outcome::Refused { signature: format!("refused: {}", fold(&what)), positioned, message }
}

/// The first line of an error.
pub fn first_line(e: &Error) -> String {
    e.to_string().lines().next().unwrap_or("").to_owned()
}

/// Simulates `input` checking 1–4; returns the run's fingerprint (for 5) and
/// the shape of its result.
pub fn run_checked(input: RunInput) -> Result<(String, String), Finding> {
    let RunInput { engine, mut jobs, events } = input;
    jobs.truncate(MAX_SIM_JOBS);
    let mut ids = HashSet::new();
    for spec in &jobs {
        if !ids.insert(spec.job.id.as_str()) {
            return Err(accounting(format!("two jobs have one id\njob id `{}` is given to two jobs", spec.job.id)));
        }
    }
    let specs: Vec<(Time, Time)> = jobs.iter().map(|s| (s.job.release, s.duration)).collect();
    let mut sim = match Simulation::new(engine, jobs, &events) {
        Ok(sim) => sim,
        Err(e) => return Ok((format!("submit error: {e}"), format!("submit error: {}", fold(&first_line(&e))))),
    };
    let mut run_error = None;
    loop {
        match sim.step() {
            Ok(true) => {
                check_capacity(sim.engine())?;
                check_lists(sim.engine())?;
            }
            Ok(false) => break,
            Err(e) => {
                check_lists(sim.engine())?;
                run_error = Some(e);
                break;
            }
        }
    }
    let result = sim.finish();
    if run_error.is_none() {
        check_accounting(&result, &specs)?;
    }
    let mut report = Report::new("fuzz", &result, 0);
    report.scheduler.wall_s = 0.0;
    report.scheduler.decisions_per_s = 0.0;
    let print = format!(
        "{}\n{}\n{}",
        serde_json::to_string(&report).unwrap_or_default(),
        serde_json::to_string(&schedule_rows(&result.engine)).unwrap_or_default(),
        run_error.as_ref().map(|e| e.to_string()).unwrap_or_default()
    );
    let j = report.jobs;
    let signature = match &run_error {
        Some(e) => format!("run error: {}", fold(&first_line(e))),
        None => {
            let flags = [
                ("completed", j.completed > 0),
                ("missed", j.missed > 0),
                ("rejected", j.rejected > 0),
                ("lost", j.lost > 0),
                ("pending", j.pending > 0),
                ("moved", report.moves.migrations + report.moves.evictions > 0),
                ("refused-moves", report.moves.refused > 0),
                ("script-errors", report.script_errors.values().any(|&n| n > 0)),
                ("native-errors", report.native_errors.values().any(|&n| n > 0)),
            ];
            let on: Vec<&str> = flags.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect();
            format!("ran: {}", on.join(" "))
        }
    };
    Ok((print, signature))
}

fn accounting(message: String) -> Finding {
    Finding::new(Kind::Accounting, message)
}

/// Check 2.
pub fn check_capacity(engine: &Engine) -> Result<(), Finding> {
    let nodes = engine.nodes();
    let dims = nodes.dims();
    let mut used = vec![0u64; nodes.len() * dims];
    let mut running = vec![0u32; nodes.len()];
    for (job, rec) in engine.jobs().iter().zip(engine.records()) {
        if let JobState::Running { node, .. } = rec.state {
            let n = node as usize;
            if n >= nodes.len() {
                return Err(accounting(format!(
                    "a job runs on a node that does not exist\njob {} runs on node {node}",
                    job.id
                )));
            }
            if !nodes.is_up(node) {
                return Err(accounting(format!(
                    "a job runs on a down node\njob {} runs on {}",
                    job.id, nodes.names[n]
                )));
            }
            running[n] += 1;
            for (d, q) in job.request.iter().enumerate().take(dims) {
                used[n * dims + d] = used[n * dims + d].saturating_add(*q);
            }
        }
    }
    for n in 0..nodes.len() {
        let id = n as u32;
        for d in 0..dims {
            let (u, a) = (nodes.used(id)[d], nodes.allocatable(id)[d]);
            if u > a {
                return Err(accounting(format!(
                    "capacity over-committed\nnode {} uses {u} of {a} allocatable in dimension {d}",
                    nodes.names[n]
                )));
            }
            if u != used[n * dims + d] {
                return Err(accounting(format!(
                    "a node's used capacity is not what its jobs hold\nnode {} says {u} used in dimension {d}, its running jobs hold {}",
                    nodes.names[n],
                    used[n * dims + d]
                )));
            }
        }
        if nodes.running(id) != running[n] {
            return Err(accounting(format!(
                "a node's running count is wrong\nnode {} says {} jobs run there, {} do",
                nodes.names[n],
                nodes.running(id),
                running[n]
            )));
        }
    }
    if let Some(parts) = engine.partitions() {
        for lender in 0..parts.names.len() {
            for borrower in 0..parts.names.len() {
                let (lent, grant) = (parts.lent(lender, borrower), parts.grant(lender, borrower));
                if lent.iter().zip(grant).any(|(l, g)| l > g) {
                    return Err(accounting(format!(
                        "a partition holds more than it was granted\npartition {borrower} holds {lent:?} of partition {lender}, granted {grant:?}"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Check 3.
pub fn check_lists(engine: &Engine) -> Result<(), Finding> {
    let records = engine.records();
    let jobs = engine.jobs();
    for (list, name) in [(engine.running(), "running"), (engine.pending(), "pending")] {
        let mut seen = HashSet::new();
        for &j in list {
            if !seen.insert(j) {
                return Err(accounting(format!("a job is twice in the {name} list\njob {}", jobs[j as usize].id)));
            }
            let ok = match records.get(j as usize).map(|r| &r.state) {
                Some(JobState::Running { .. }) => name == "running",
                Some(JobState::Pending { .. }) => name == "pending",
                _ => false,
            };
            if !ok {
                let state = records.get(j as usize).map(|r| format!("{:?}", Status::of(r)));
                return Err(accounting(format!(
                    "the {name} list holds a job that is not {name}\njob {j}, whose state is {state:?}"
                )));
            }
        }
        let count = records
            .iter()
            .filter(|r| match r.state {
                JobState::Running { .. } => name == "running",
                JobState::Pending { .. } => name == "pending",
                _ => false,
            })
            .count();
        if count != seen.len() {
            let missing = records
                .iter()
                .enumerate()
                .find(|(j, r)| {
                    let listed = seen.contains(&(*j as u32));
                    !listed
                        && match r.state {
                            JobState::Running { .. } => name == "running",
                            JobState::Pending { .. } => name == "pending",
                            _ => false,
                        }
                })
                .map(|(j, _)| jobs[j].id.clone())
                .unwrap_or_default();
            return Err(accounting(format!(
                "a {name} job is in no list\n{count} jobs are {name} but the {name} list holds {}: job {missing} is in none",
                seen.len()
            )));
        }
    }
    Ok(())
}

/// Check 4; `specs` holds each job's `(release, actual duration)`.
pub fn check_accounting(sim: &SimResult, specs: &[(Time, Time)]) -> Result<(), Finding> {
    let e = &sim.engine;
    if e.jobs().len() != specs.len() {
        return Err(accounting(format!(
            "jobs were lost\n{} jobs were given, the engine holds {}",
            specs.len(),
            e.jobs().len()
        )));
    }
    let mut tally = [0usize; 6];
    for ((job, rec), &(_, duration)) in e.jobs().iter().zip(e.records()).zip(specs) {
        let status = Status::of(rec);
        tally[status as usize] += 1;
        if status == Status::Running {
            return Err(accounting(format!("a job still runs after the simulation ended\njob {}", job.id)));
        }
        let run = match &rec.state {
            JobState::Done(JobOutcome::Completed { start, end, .. }) => {
                if let Some(d) = job.deadline {
                    if *end > d {
                        return Err(accounting(format!(
                            "a job completed after its deadline\njob {} completed at {end}, after its deadline {d}",
                            job.id
                        )));
                    }
                }
                Some((*start, *end))
            }
            JobState::Done(JobOutcome::Missed { why: Miss::Late { start, end, .. }, .. }) => Some((*start, *end)),
            _ => None,
        };
        if let Some((start, end)) = run {
            if start < job.release {
                return Err(accounting(format!(
                    "a job started before its release\njob {} started at {start}, before its release {}",
                    job.id, job.release
                )));
            }
            let paused = rec.moves.iter().filter(|m| m.at >= start).fold(0i64, |a, m| a.saturating_add(m.pause));
            let ran = end.checked_sub(start);
            let want = duration.checked_add(paused);
            if ran != want || ran.is_none() {
                return Err(accounting(format!(
                    "a completed run did not last the job's duration\njob {} ran from {start} to {end}, not for its duration {duration} (+{paused} s paused)",
                    job.id
                )));
            }
        }
    }
    let report = Report::new("fuzz", sim, 0);
    let j = report.jobs;
    let sum = j.completed + j.missed + j.rejected + j.lost + j.pending + j.running;
    if j.total != specs.len() || sum != j.total {
        return Err(accounting(format!("the report's counts do not add up\n{} jobs: {j:?}", specs.len())));
    }
    let by_status = [j.completed, j.missed, j.rejected, j.lost, j.pending, j.running];
    let tallied = [
        tally[Status::Completed as usize],
        tally[Status::Missed as usize],
        tally[Status::Rejected as usize],
        tally[Status::Lost as usize],
        tally[Status::Pending as usize],
        tally[Status::Running as usize],
    ];
    if by_status != tallied {
        return Err(accounting(format!(
            "the report's counts are not the jobs'\nthe report counts {by_status:?}, the jobs say {tallied:?}"
        )));
    }
    let groups: usize = report.groups.values().map(|g| g.total).sum();
    if groups != j.total {
        return Err(accounting(format!(
            "the groups do not hold every job\nthe groups hold {groups} jobs of {}",
            j.total
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kairos_host::registry::Registry;
    use kairos_host::scenario::{Overrides, Scenario};

    fn fixture() -> (crate::scratch::Scratch, Scenario, Registry) {
        let scratch = crate::scratch::Scratch::new().expect("a scratch directory");
        let registry = Registry::builtin();
        let scenario = Scenario::load(&scratch.path("tests/fixtures/scenario.yaml"), &Overrides::default(), &registry)
            .expect("the fixture scenario loads");
        (scratch, scenario, registry)
    }

    #[test]
    fn the_fixture_scenario_passes_every_check() {
        let (_scratch, s, registry) = fixture();
        let outcome = run_twice(|| {
            Ok(RunInput { engine: s.engine(&s.pipeline, &registry)?, jobs: s.jobs.clone(), events: s.events.clone() })
        });
        match outcome {
            Ok(Outcome::Ran { signature }) => assert!(signature.starts_with("ran: completed"), "{signature}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn two_jobs_with_one_id_are_an_accounting_finding() {
        let (_scratch, s, registry) = fixture();
        let mut jobs = s.jobs.clone();
        let mut twin = jobs[0].clone();
        twin.job.idx = jobs.len() as u32;
        jobs.push(twin);
        let found =
            run_checked(RunInput { engine: s.engine(&s.pipeline, &registry).unwrap(), jobs, events: Vec::new() });
        match found {
            Err(f) => assert_eq!(
                (f.kind, f.message.as_str()),
                (Kind::Accounting, "two jobs have one id\njob id `ingest-1` is given to two jobs")
            ),
            Ok(_) => panic!("a duplicate id went through"),
        }
    }

    #[test]
    fn a_loaders_error_is_a_refusal_that_says_whether_it_has_a_position() {
        let registry = Registry::builtin();
        let bad = kairos_host::pipeline::PipelineDef::parse(
            std::path::Path::new("p.yaml"),
            "name: x\nscore:\n  - plugin: best-fit\n    weight: 0\n".into(),
            &registry,
        )
        .expect_err("a zero weight is refused");
        match refused(&bad) {
            Outcome::Refused { positioned, signature, .. } => {
                assert!(positioned);
                assert!(signature.starts_with("refused: a score weight"), "{signature}");
            }
            other => panic!("{other:?}"),
        }
    }
}
