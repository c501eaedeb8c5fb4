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
//!    completion; a migrated run keeps it.
//! 5. The run ends when nothing is left to happen. Jobs still pending then are
//!    reported pending, with their reasons.
//!
//! Given the same input the simulation is deterministic: ties between events are
//! broken by kind and then by the order they were planned.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

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
    mut engine: Engine,
    jobs: Vec<JobSpec>,
    events: &[NodeEvent],
    mut progress: impl FnMut(usize, usize),
) -> Result<SimResult, Error> {
    let started = Instant::now();
    let total = jobs.len();
    let start = jobs.iter().map(|j| j.job.release).chain(events.iter().map(|e| e.at)).min().unwrap_or(0);
    let mut durations = Vec::with_capacity(total);
    for spec in jobs {
        durations.push(spec.duration);
        engine.submit(spec.job, start)?;
    }
    let mut heap: BinaryHeap<Reverse<(Time, Kind, u64)>> = BinaryHeap::new();
    let mut seq = 0u64;
    for (i, e) in events.iter().enumerate() {
        heap.push(Reverse((e.at, Kind::Node(i), seq)));
        seq += 1;
    }
    let mut now = start;
    let mut settled = 0usize;
    let mut last_report = 0usize;
    let mut first = true;
    loop {
        if !first {
            let next_event = heap.peek().map(|Reverse((t, _, _))| *t);
            now = match (next_event, engine.next_timer()) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => break,
            }
            .max(now);
        }
        first = false;
        while let Some(Reverse((t, kind, _))) = heap.peek().copied() {
            if t > now {
                break;
            }
            heap.pop();
            match kind {
                Kind::Complete(j, generation) => {
                    let rec = &engine.records()[j as usize];
                    if rec.generation == generation && matches!(rec.state, JobState::Running { .. }) {
                        engine.complete(j, now)?;
                        settled += 1;
                    }
                }
                Kind::Node(i) => {
                    let e = events[i];
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
            if let EngineEvent::Started { job, at, .. } = ev {
                let generation = engine.records()[job as usize].generation;
                heap.push(Reverse((at + durations[job as usize], Kind::Complete(job, generation), seq)));
                seq += 1;
            }
        }
        if settled >= last_report + 1000 {
            last_report = settled;
            progress(settled, total);
        }
    }
    progress(total, total);
    Ok(SimResult { span: (start, engine.now().max(start)), engine, durations, wall_s: started.elapsed().as_secs_f64() })
}
