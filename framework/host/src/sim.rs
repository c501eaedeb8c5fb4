//! The discrete-event simulator.
//!
//! The simulator plays a workload against the [`Engine`] as a live host would:
//!
//! 1. Every job is submitted at the start, in workload order (so a job's id is
//!    its position in the workload); the engine holds each one until its release
//!    time, so no plugin sees a job before it is released.
//! 2. The clock jumps to the earliest of: a job completion, a scenario node event
//!    (failure or recovery), an engine timer (release, deadline expiry).
//! 3. At that instant, completions are applied first (freeing capacity), then node
//!    events, then the engine's timers fire and one scheduling cycle runs.
//! 4. Each start the engine reports gets a completion at start + the job's
//!    *actual* duration, which only the simulator knows. A run that is stopped
//!    (eviction, node failure) bumps the job's generation, voiding its planned
//!    completion; a migrated run keeps it, unless the migration paused it, which
//!    moves its completion that much later.
//! 5. The run ends when nothing is left to happen. Jobs still pending then are
//!    reported pending, with their reasons.
//!
//! Given the same input the simulation is deterministic: ties between events are
//! broken by kind and then by the order they were planned.
//!
//! [`simulate`] runs all of it at once. A [`Simulation`] runs it one instant at a
//! time ([`Simulation::step`], [`Simulation::step_until`]), so that a live driver
//! can pace it against a wall clock and swap the engine's pipeline between two
//! instants; both give the same result for the same input.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::{Duration, Instant};

use kairos_model::{JobId, NodeId, Time};

use crate::engine::{Engine, EngineEvent, JobState};
use crate::error::Error;
use crate::workload::JobSpec;

/// A scenario event on a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeEvent {
    /// When.
    pub at: Time,
    /// Which node.
    pub node: NodeId,
    /// Up (`true`, recovery) or down (`false`, failure).
    pub up: bool,
}

/// What a simulation leaves behind.
pub struct SimResult {
    /// The engine, with every job's record and the meters.
    pub engine: Engine,
    /// Actual durations by job id.
    pub durations: Vec<Time>,
    /// Wall-clock seconds the simulation took (measured here, outside the engine).
    pub wall_s: f64,
    /// Simulated time of the first and last event.
    pub span: (Time, Time),
}

#[cfg(test)]
impl SimResult {
    /// `(job, node, start)` of every job that completed, in job order: what
    /// behaviour tests compare.
    pub(crate) fn completed(&self) -> Vec<(String, String, Time)> {
        let e = &self.engine;
        e.jobs()
            .iter()
            .zip(e.records())
            .filter_map(|(j, r)| match &r.state {
                JobState::Done(crate::engine::Outcome::Completed { node, start, .. }) => {
                    Some((j.id.clone(), e.nodes().names[*node as usize].clone(), *start))
                }
                _ => None,
            })
            .collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A run ends: (job, generation).
    Complete(JobId, u32),
    /// A node event, by index into the scenario's list.
    Node(usize),
}

/// Runs `jobs` on `engine` with `events`; `progress(done, total)` is called as
/// jobs settle (for a progress bar).
pub fn simulate(
    engine: Engine,
    jobs: Vec<JobSpec>,
    events: &[NodeEvent],
    mut progress: impl FnMut(usize, usize),
) -> Result<SimResult, Error> {
    let started = Instant::now();
    let mut sim = Simulation::new(engine, jobs, events)?;
    let mut last_report = 0usize;
    while sim.step()? {
        if sim.settled() >= last_report + 1000 {
            last_report = sim.settled();
            progress(last_report, sim.total());
        }
    }
    progress(sim.total(), sim.total());
    let mut result = sim.finish();
    result.wall_s = started.elapsed().as_secs_f64();
    Ok(result)
}

/// A simulation driven one instant at a time: the event loop of [`simulate`]
/// (steps 2–5 of the module docs), with the driver choosing when each instant runs.
pub struct Simulation {
    engine: Engine,
    durations: Vec<Time>,
    /// When each running job's run is planned to end.
    ends: Vec<Time>,
    events: Vec<NodeEvent>,
    heap: BinaryHeap<Reverse<(Time, Kind, u64)>>,
    seq: u64,
    start: Time,
    now: Time,
    /// Whether the first instant (at `start`, even with nothing due) has run.
    begun: bool,
    settled: usize,
    total: usize,
    /// Wall time spent in the engine (submitting and stepping).
    busy: Duration,
}

impl Simulation {
    /// Submits `jobs` to `engine` (step 1 of the module docs) and plans `events`.
    pub fn new(mut engine: Engine, jobs: Vec<JobSpec>, events: &[NodeEvent]) -> Result<Simulation, Error> {
        let started = Instant::now();
        let total = jobs.len();
        let start = jobs.iter().map(|j| j.job.release).chain(events.iter().map(|e| e.at)).min().unwrap_or(0);
        let mut durations = Vec::with_capacity(total);
        for spec in jobs {
            durations.push(spec.duration);
            engine.submit(spec.job, start)?;
        }
        let mut heap = BinaryHeap::new();
        let mut seq = 0u64;
        for (i, e) in events.iter().enumerate() {
            heap.push(Reverse((e.at, Kind::Node(i), seq)));
            seq += 1;
        }
        Ok(Simulation {
            engine,
            ends: vec![0; durations.len()],
            durations,
            events: events.to_vec(),
            heap,
            seq,
            start,
            now: start,
            begun: false,
            settled: 0,
            total,
            busy: started.elapsed(),
        })
    }

    /// The simulated time of the next instant, or `None` when nothing is left to
    /// happen (the simulation is over).
    pub fn next_event_time(&self) -> Option<Time> {
        if !self.begun {
            return Some(self.start);
        }
        let next_event = self.heap.peek().map(|Reverse((t, _, _))| *t);
        let next = match (next_event, self.engine.next_timer()) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => return None,
        };
        Some(next.max(self.now))
    }

    /// Runs the next instant (step 3 of the module docs); returns `false`, doing
    /// nothing, when the simulation is over.
    pub fn step(&mut self) -> Result<bool, Error> {
        let Some(now) = self.next_event_time() else { return Ok(false) };
        let started = Instant::now();
        self.begun = true;
        self.now = now;
        let result = self.run_instant(now);
        self.busy += started.elapsed();
        result.map(|()| true)
    }

    /// Runs every instant up to and including simulated time `t`; returns how
    /// many ran.
    pub fn step_until(&mut self, t: Time) -> Result<usize, Error> {
        let mut n = 0;
        while self.next_event_time().is_some_and(|next| next <= t) {
            self.step()?;
            n += 1;
        }
        Ok(n)
    }

    /// Plans the completion of `job`'s run of `generation` at `end`.
    fn plan_completion(&mut self, job: JobId, end: Time, generation: u32) {
        self.heap.push(Reverse((end, Kind::Complete(job, generation), self.seq)));
        self.seq += 1;
    }

    fn run_instant(&mut self, now: Time) -> Result<(), Error> {
        let engine = &mut self.engine;
        while let Some(Reverse((t, kind, _))) = self.heap.peek().copied() {
            if t > now {
                break;
            }
            self.heap.pop();
            match kind {
                Kind::Complete(j, generation) => {
                    let rec = &engine.records()[j as usize];
                    if rec.generation == generation && matches!(rec.state, JobState::Running { .. }) {
                        engine.complete(j, now)?;
                        self.settled += 1;
                    }
                }
                Kind::Node(i) => {
                    let e = self.events[i];
                    if e.up {
                        engine.recover_node(e.node, now);
                    } else {
                        engine.fail_node(e.node, now);
                    }
                }
            }
        }
        engine.schedule(now)?;
        let planned: Vec<EngineEvent> = engine.drain_events().collect();
        for ev in planned {
            match ev {
                EngineEvent::Started { job, at, generation, .. } => {
                    // Inputs are bounded (`limits`); saturating keeps a
                    // plugin's pauses from wrapping time around all the same.
                    let end = at.saturating_add(self.durations[job as usize]);
                    self.ends[job as usize] = end;
                    self.plan_completion(job, end, generation);
                }
                EngineEvent::Migrated { job, pause, generation, .. } if pause > 0 => {
                    self.ends[job as usize] = self.ends[job as usize].saturating_add(pause);
                    self.plan_completion(job, self.ends[job as usize], generation);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The engine, for reading its state.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, for changes between instants (such as
    /// [`Engine::swap_pipeline`]).
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// The simulated time of the last instant run (the start before the first).
    pub fn now(&self) -> Time {
        self.now
    }

    /// Runs completed so far.
    pub fn settled(&self) -> usize {
        self.settled
    }

    /// Jobs submitted.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Ends the simulation where it is (jobs not yet settled are reported as
    /// they stand). `wall_s` is the wall time spent in the engine.
    pub fn finish(self) -> SimResult {
        SimResult {
            span: (self.start, self.engine.now().max(self.start)),
            wall_s: self.busy.as_secs_f64(),
            engine: self.engine,
            durations: self.durations,
        }
    }
}
