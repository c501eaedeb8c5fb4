//! The engine: an incremental scheduler shared by the simulator and a live host.
//!
//! The engine is told what happens, one thing at a time, each with the current
//! time — it never reads a clock or a file:
//!
//! - [`Engine::submit`] a job (it becomes pending at its release time, or when
//!   the job it runs `after` completes);
//! - [`Engine::complete`] a running job;
//! - [`Engine::fail_node`] / [`Engine::recover_node`];
//! - [`Engine::advance`] to a time, firing timers (releases, deadline expiries);
//! - [`Engine::schedule`] to run one scheduling cycle.
//!
//! # A scheduling cycle
//! 1. Every pending job gets its order keys; the queue is sorted by them
//!    (lexicographically, lower first, ties by submission order). With a
//!    partition-scoped plugin (fair share), each group is sorted apart and the
//!    next job is the best of the group heads, re-keyed after every placement.
//! 2. For each job in that order: if some resource dimension has less free on
//!    every node than the job asks, it is skipped cheaply. Otherwise every up node
//!    is a candidate; the filters narrow the candidates, recording each rejection;
//!    the scores rank the survivors (range-checked, weighted, summed); the best
//!    node wins (ties: lowest index). How one job is decided is in one place,
//!    `decision.rs`, the routine every architecture runs: they differ only in
//!    where the candidates come from and where a placement is committed.
//! 3. The host commits the placement only if the request fits the node's free
//!    allocatable capacity — whatever the plugins said — so capacity (minus the
//!    headroom reserve) is never over-committed.
//! 4. A job no node takes stays pending with its reasons, or — when every node's
//!    reason is unresolvable — is rejected.
//! 5. Rebalance plugins propose moves; the host validates and applies them.
//!
//! Every job ends in exactly one [`Outcome`] or is still pending or running;
//! nothing is dropped.
//!
//! # Swapping pipelines (hot reload)
//! The engine is single-threaded: [`Engine::swap_pipeline`] called between two
//! [`Engine::schedule`] calls is atomic with respect to decisions — every
//! decision runs wholly under one revision.
//! 1. Pending jobs stay pending and running jobs keep running on their nodes;
//!    no job is dropped, re-queued or placed a second time by the swap.
//! 2. What the engine derived from the outgoing pipeline is rebuilt: the
//!    fair-share usage (recomputed from the running jobs when the partition key
//!    changes) and whether pending jobs are retried on a timer (the pipeline has
//!    scripts). Pending jobs are evaluated by the new filters at least once
//!    before the free-capacity bound may skip them again.
//! 3. Each placement records the revision that made it ([`JobRecord::revision`]);
//!    rejection reasons keep the revision whose filters recorded them, so they
//!    are described with the right plugin names after later swaps.

pub mod commit;
mod decision;
pub mod partitions;
mod record;
mod trace;
pub mod workers;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kairos_model::{
    limits, Context, ExtensionPoint, GroupUsage, Job, JobId, Move, NodeId, NodeTable, OrderKey, Qty, RejectionCount,
    Rejections, ResourceSpace, Running, Symbols, Time,
};

pub use partitions::{BudgetStats, Outage, PartitionCounts, Partitions};
pub use record::{JobRecord, JobState, Miss, MoveRecord, Outcome};
pub use trace::{Attempt, Trace};

use crate::architecture::Architecture;
use crate::error::Error;
use crate::health::PluginHealth;
use crate::pipeline::Pipeline;
use decision::{fault, Committed, Sampling, Scratch, Site};

/// Nodes per filter call: small enough that a chunk's node state (a few
/// dozen bytes a node) stays in the core's cache from one filter to the next.
pub const FILTER_CHUNK: usize = 512;

/// Rounds of `sample` random nodes a sampled decision probes before it falls
/// back to a full scan: with d = 2 that is 16 nodes, against thousands, so a
/// sampled decision stays cheap, yet a cluster where one node in eight passes
/// the filters still finds d feasible nodes most of the time.
pub const SAMPLE_ROUNDS: usize = 8;

/// Plugin position used for the host's own rejections (a node that is down).
pub const HOST_PLUGIN: u16 = u16::MAX;

/// Something the driver must act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineEvent {
    /// A job started on a node: the driver arranges its completion.
    Started {
        /// The job.
        job: JobId,
        /// Where.
        node: NodeId,
        /// When.
        at: Time,
        /// The run's generation, which its completion must carry.
        generation: u32,
    },
    /// A running job was stopped (evicted or its node failed) and is pending again;
    /// any completion the driver planned for it is void.
    Stopped {
        /// The job.
        job: JobId,
        /// When.
        at: Time,
        /// Why (`node-failed`, or the evicting plugin's reason).
        reason: &'static str,
    },
    /// A running job moved to another node, keeping its progress.
    Migrated {
        /// The job.
        job: JobId,
        /// From.
        from: NodeId,
        /// To.
        to: NodeId,
        /// When.
        at: Time,
        /// Seconds the move kept the job from progressing: its end moves that
        /// much later. When it is not 0 the job's generation was bumped, so a
        /// driver plans the completion anew.
        pause: Time,
        /// The run's generation after the move.
        generation: u32,
    },
}

/// Counters of the engine's work.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    /// Scheduling cycles run.
    pub cycles: u64,
    /// Decisions: jobs taken from the order and evaluated against the nodes.
    pub decisions: u64,
    /// Of those, decisions settled by the free-capacity bound without running filters.
    pub quick_skips: u64,
    /// Placements committed.
    pub placements: u64,
    /// Migrations applied.
    pub migrations: u64,
    /// Evictions applied (by rebalance plugins).
    pub evictions: u64,
    /// Runs stopped because their node failed (restarted or lost).
    pub node_failures_stopped: u64,
    /// Of those, jobs lost because they cannot restart.
    pub lost: u64,
    /// Proposed moves the host refused.
    pub moves_refused: u64,
    /// Sampled decisions whose probes placed nothing, so every node was scanned.
    pub sample_fallbacks: u64,
    /// Parallel cycles: those run by more than one worker.
    pub parallel_cycles: u64,
    /// Commits tried at the authoritative commit (parallel cycles).
    pub commits: u64,
    /// Commits refused because the node changed since the worker's view.
    pub conflicts: u64,
    /// Conflicting jobs decided again from scratch.
    pub retries: u64,
    /// Conflicting commits accepted after the node alone was re-checked.
    pub revalidated: u64,
    /// Batches of jobs stolen from another worker's deque.
    pub steals: u64,
}

/// Resource-time integrals, for utilization.
#[derive(Clone, Debug, Default)]
pub struct Meter {
    last: Option<Time>,
    /// First time seen.
    pub start: Option<Time>,
    used_now: Vec<Qty>,
    cap_now: Vec<Qty>,
    /// ∫ used dt per dimension.
    pub used_integral: Vec<f64>,
    /// ∫ capacity of up nodes dt per dimension.
    pub capacity_integral: Vec<f64>,
}

impl Meter {
    fn tick(&mut self, now: Time) {
        if let Some(last) = self.last {
            let dt = (now - last).max(0) as f64;
            for d in 0..self.used_now.len() {
                self.used_integral[d] += self.used_now[d] as f64 * dt;
                self.capacity_integral[d] += self.cap_now[d] as f64 * dt;
            }
        }
        self.start.get_or_insert(now);
        self.last = Some(now.max(self.last.unwrap_or(now)));
    }

    /// Used share of capacity per dimension over the metered span (0 when no
    /// time has passed).
    pub fn utilization(&self) -> Vec<f64> {
        self.used_integral
            .iter()
            .zip(&self.capacity_integral)
            .map(|(&u, &c)| if c > 0.0 { u / c } else { 0.0 })
            .collect()
    }
}

/// Timer kinds, in the order they fire at the same instant.
const TIMER_RELEASE: u8 = 0;
const TIMER_EXPIRE: u8 = 1;
const TIMER_RETRY: u8 = 2;
const TIMER_BUDGET: u8 = 3;

/// Evictions a job may undergo; the host refuses (and counts) any further
/// eviction proposal for it, so that a rebalance plugin that keeps evicting a
/// job its pipeline keeps placing back cannot stall a run.
pub const MAX_EVICTIONS_PER_JOB: usize = 10;

/// How often pending jobs are tried again when the pipeline has policy scripts,
/// whose verdicts may change with time alone (a maintenance window ends), not
/// only when capacity frees up.
pub const RETRY_INTERVAL_S: Time = 60;

/// Retries stop after this long without progress (no release, start or
/// completion), so that a job no window will ever open for does not keep a
/// simulation running for ever: it ends pending, with its reasons.
pub const RETRY_IDLE_LIMIT_S: Time = 86_400;

/// Retired revisions whose filter names are kept before the engine looks for
/// the ones no job's reasons refer to any more: the scan reads every record, so
/// it runs once per this many swaps, not on each.
const RETIRED_FILTERS_KEPT: usize = 64;

/// Makes the plugins of `pipeline` keep what concerns job `id`.
fn follow(pipeline: &Pipeline, id: &str) {
    for st in &pipeline.scripts {
        st.health.follow(id);
        st.log.follow(id);
    }
    for st in &pipeline.natives {
        st.health.follow(id);
    }
}

/// The incremental scheduler. See the module docs for the protocol.
pub struct Engine {
    pipeline: Arc<Pipeline>,
    nodes: NodeTable,
    resources: ResourceSpace,
    symbols: Symbols,
    jobs: Vec<Job>,
    recs: Vec<JobRecord>,
    pending: Vec<JobId>,
    running: Vec<JobId>,
    dependents: Vec<Vec<JobId>>,
    timers: BTreeSet<(Time, u8, JobId)>,
    usage: GroupUsage,
    meter: Meter,
    stats: Stats,
    events: Vec<EngineEvent>,
    up_nodes: Vec<NodeId>,
    max_free: Vec<Qty>,
    now: Time,
    scratch: Scratch,
    trace: Option<Trace>,
    /// Pending jobs are retried on a timer (the pipeline has time-dependent plugins).
    retry: bool,
    /// When a retry timer is set.
    retry_at: Option<Time>,
    /// Last release, start or completion.
    last_progress: Time,
    /// The revision of `pipeline` (1 for the pipeline the engine was made with).
    revision: u64,
    /// Filter names of the revisions swapped out, for describing the reasons
    /// they recorded.
    retired_filters: Vec<(u64, Vec<String>)>,
    /// What the scripts and native plugins of the revisions swapped out went
    /// through, by name.
    retired_health: PluginHealth,
    /// The job `kairos explain` follows (see [`Engine::follow`]).
    followed: Option<String>,
    /// State of the generator that draws sampled nodes.
    rng: u64,
    /// Parallel workers' replicas of `nodes` and their scratch buffers, kept
    /// from cycle to cycle (see `workers`).
    replicas: Vec<(NodeTable, Scratch)>,
    /// See [`Engine::set_min_work_per_worker`].
    min_work_per_worker: usize,
    /// Partitions, homes and budgets under the `partitioned` architecture.
    parts: Option<Partitions>,
}

impl Engine {
    /// An engine over `nodes` running `pipeline`.
    pub fn new(pipeline: Arc<Pipeline>, nodes: NodeTable, resources: ResourceSpace, symbols: Symbols) -> Self {
        let dims = resources.dims();
        let key = pipeline.partition.map(|(_, k)| k);
        let mut e = Engine {
            pipeline,
            up_nodes: Vec::new(),
            max_free: vec![0; dims],
            usage: GroupUsage::new(key, dims),
            meter: Meter {
                used_now: vec![0; dims],
                cap_now: vec![0; dims],
                used_integral: vec![0.0; dims],
                capacity_integral: vec![0.0; dims],
                ..Default::default()
            },
            nodes,
            resources,
            symbols,
            jobs: Vec::new(),
            recs: Vec::new(),
            pending: Vec::new(),
            running: Vec::new(),
            dependents: Vec::new(),
            timers: BTreeSet::new(),
            stats: Stats::default(),
            events: Vec::new(),
            now: Time::MIN,
            scratch: Scratch::default(),
            trace: None,
            retry: false,
            retry_at: None,
            last_progress: Time::MIN,
            revision: 1,
            retired_filters: Vec::new(),
            retired_health: PluginHealth::default(),
            followed: None,
            rng: 0,
            replicas: Vec::new(),
            min_work_per_worker: workers::MIN_WORK_PER_WORKER,
            parts: None,
        };
        e.rng = e.seed();
        e.retry = !e.pipeline.scripts.is_empty();
        e.refresh_capacity();
        e.parts = Partitions::new(e.pipeline.architecture, &e.nodes);
        e
    }

    /// Records every attempt to place `job` (for `kairos explain`).
    pub fn trace(&mut self, job: JobId) {
        self.trace = Some(Trace { job, attempts: Vec::new() });
    }

    /// Keeps, for `kairos explain`, the failed calls and the printed lines of
    /// scripts and native plugins about the job `id`, in this revision and the
    /// next ([`PluginHealth::followed_lines`], [`crate::health::HealthSummary::followed`]).
    pub fn follow(&mut self, id: &str) {
        self.followed = Some(id.to_owned());
        follow(&self.pipeline, id);
    }

    /// The recorded trace, if one was asked for.
    pub fn take_trace(&mut self) -> Option<Trace> {
        self.trace.take()
    }

    /// Runs `pipeline`, as revision `revision`, from the next decision on (see
    /// "Swapping pipelines" in the module docs). Call it between two
    /// [`Engine::schedule`] calls; revisions should increase, so that a job's
    /// [`JobRecord::revision`] says which pipeline placed it. The pipeline must be
    /// built against this engine's resources and a clone of its symbols.
    pub fn swap_pipeline(&mut self, pipeline: Arc<Pipeline>, revision: u64) {
        let names = self.pipeline.filter.iter().map(|s| s.name.clone()).collect();
        self.retired_filters.retain(|(r, _)| *r != self.revision);
        self.retired_filters.push((self.revision, names));
        if self.retired_filters.len() > RETIRED_FILTERS_KEPT {
            // Keep only the revisions some job's reasons still refer to.
            let used: BTreeSet<u64> =
                self.recs.iter().filter(|r| !r.reasons.is_empty()).map(|r| r.reasons_revision).collect();
            self.retired_filters.retain(|(r, _)| used.contains(r));
        }
        self.retired_health.add(&self.pipeline, self.revision);
        self.pipeline = pipeline;
        self.revision = revision;
        if let Some(id) = &self.followed {
            follow(&self.pipeline, id);
        }
        self.rng = self.seed();
        let key = self.pipeline.partition.map(|(_, k)| k);
        if key != self.usage.key {
            let mut usage = GroupUsage::new(key, self.resources.dims());
            usage.total = std::mem::take(&mut self.usage.total);
            for &j in &self.running {
                usage.account(&self.jobs[j as usize], 1);
            }
            self.usage = usage;
        }
        self.retry = !self.pipeline.scripts.is_empty();
        if self.parts.is_some() || matches!(self.pipeline.architecture, Architecture::Partitioned { .. }) {
            self.rebuild_partitions();
        }
        // The free-capacity bound skips jobs an attempt has shown some node may
        // take; that was the old filters' verdict, so the new ones judge again.
        for &j in &self.pending {
            self.recs[j as usize].resolvable = false;
        }
    }

    /// Builds the partitions anew for the pipeline's architecture (after a
    /// swap): homes of every job, and what the running ones hold. Grants start
    /// at what the running jobs hold abroad (nothing running is revoked, and no
    /// partition holds more than it was granted); the next round of the global
    /// layer makes the rest.
    fn rebuild_partitions(&mut self) {
        let before = self.parts.as_ref().map(|p| (p.stats.clone(), p.outages().to_vec()));
        self.parts = Partitions::new(self.pipeline.architecture, &self.nodes);
        if let Some(parts) = &mut self.parts {
            for job in &self.jobs {
                parts.on_submit(job);
            }
            for &j in &self.running {
                if let JobState::Running { node, .. } = self.recs[j as usize].state {
                    parts.account_running(j, node, &self.jobs[j as usize].request);
                }
            }
            parts.grant_what_is_held();
            if let Some((stats, outages)) = before {
                parts.keep_history(stats, outages);
            }
        }
    }

    /// The partitions, under the `partitioned` architecture.
    pub fn partitions(&self) -> Option<&Partitions> {
        self.parts.as_ref()
    }

    /// The seed of the sampled architecture's generator (0 for the others).
    fn seed(&self) -> u64 {
        match self.pipeline.architecture {
            Architecture::Sampled { seed, .. } => seed,
            _ => 0,
        }
    }

    // ---- read access ---------------------------------------------------------

    /// The pipeline being run.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }
    /// Calls and failed calls per policy script, over every revision run so
    /// far: a script keeps its counts across a reload as long as the pipeline
    /// names it the same way.
    pub fn script_counts(&self) -> BTreeMap<String, (u64, u64)> {
        self.plugin_health().scripts.into_iter().map(|(k, s)| (k, (s.calls, s.errors))).collect()
    }

    /// What every script and native plugin went through, over every revision
    /// run so far: calls, failures, first errors, quarantines, printed lines.
    pub fn plugin_health(&self) -> PluginHealth {
        let mut h = self.retired_health.clone();
        h.add(&self.pipeline, self.revision);
        h
    }
    /// The revision of the pipeline being run (1 until the first swap).
    pub fn revision(&self) -> u64 {
        self.revision
    }
    /// The nodes and their allocation.
    pub fn nodes(&self) -> &NodeTable {
        &self.nodes
    }
    /// The cluster's resource dimensions.
    pub fn resources(&self) -> &ResourceSpace {
        &self.resources
    }
    /// Interned names.
    pub fn symbols(&self) -> &Symbols {
        &self.symbols
    }
    /// Every submitted job, by id.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }
    /// The record of every submitted job, by id.
    pub fn records(&self) -> &[JobRecord] {
        &self.recs
    }
    /// Work counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
    /// Resource-time integrals.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }
    /// Jobs pending now.
    pub fn pending(&self) -> &[JobId] {
        &self.pending
    }
    /// Jobs running now.
    pub fn running(&self) -> &[JobId] {
        &self.running
    }
    /// The engine's current time.
    pub fn now(&self) -> Time {
        self.now
    }
    /// Takes the events the driver has not yet seen.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, EngineEvent> {
        self.events.drain(..)
    }
    /// The next time a timer (release, deadline expiry) fires, if any.
    pub fn next_timer(&self) -> Option<Time> {
        self.timers.first().map(|&(t, _, _)| t)
    }

    // ---- inputs ----------------------------------------------------------------

    fn set_now(&mut self, now: Time) {
        debug_assert!(now >= self.now, "time went backwards: {now} < {}", self.now);
        self.meter.tick(now);
        self.now = self.now.max(now);
    }

    /// Submits a job; returns its id. The job's `idx` is overwritten with the id;
    /// its `after`, if set, must name an already-submitted job.
    pub fn submit(&mut self, mut job: Job, now: Time) -> Result<JobId, Error> {
        self.set_now(now);
        if job.request.len() != self.resources.dims() {
            return Err(Error::Usage(format!(
                "job `{}` requests {} resource dimensions; the cluster has {}",
                job.id,
                job.request.len(),
                self.resources.dims()
            )));
        }
        if let Some(a) = job.after {
            if a as usize >= self.jobs.len() {
                return Err(Error::Usage(format!("job `{}` runs after unknown job #{a}", job.id)));
            }
        }
        // The loaders bound what they read; a job handed in another way (a
        // live host's API) is held to the same bounds, so that no timer or
        // expected end can overflow.
        let times = limits::time(job.release)
            .and_then(|_| job.deadline.map_or(Ok(0), limits::time))
            .and_then(|_| limits::duration(job.estimate));
        if let Err(m) = times {
            return Err(Error::Usage(format!("job `{}`: {m}", job.id)));
        }
        let id = self.jobs.len() as JobId;
        job.idx = id;
        let release = job.release;
        if let Some(p) = &mut self.parts {
            p.on_submit(&job);
        }
        self.jobs.push(job);
        self.recs.push(JobRecord::new());
        self.dependents.push(Vec::new());
        if release > self.now {
            self.timers.insert((release, TIMER_RELEASE, id));
        } else {
            self.release(id);
        }
        Ok(id)
    }

    /// A released job: wait for its predecessor, or become pending.
    fn release(&mut self, j: JobId) {
        if let Some(a) = self.jobs[j as usize].after {
            match &self.recs[a as usize].state {
                JobState::Done(Outcome::Completed { .. })
                | JobState::Done(Outcome::Missed { why: Miss::Late { .. }, .. }) => {}
                JobState::Done(_) => {
                    self.finish(j, Outcome::Missed { at: self.now, why: Miss::Upstream { job: a } });
                    return;
                }
                _ => {
                    self.recs[j as usize].state = JobState::Waiting { on: a };
                    self.dependents[a as usize].push(j);
                    return;
                }
            }
        }
        self.make_pending(j);
    }

    fn make_pending(&mut self, j: JobId) {
        let job = &self.jobs[j as usize];
        if job.hard_deadline {
            if let Some(ls) = job.latest_start() {
                if self.now > ls {
                    self.finish(j, Outcome::Missed { at: self.now, why: Miss::Expired { latest_start: ls } });
                    return;
                }
                self.timers.insert((ls + 1, TIMER_EXPIRE, j));
            }
        }
        self.recs[j as usize].state = JobState::Pending { since: self.now };
        self.pending.push(j);
        self.last_progress = self.now;
    }

    /// Ends a job that is not running (pending, waiting or submitted) or whose run
    /// has already been released, and settles the jobs waiting on it.
    fn finish(&mut self, j: JobId, outcome: Outcome) {
        let ok = matches!(outcome, Outcome::Completed { .. } | Outcome::Missed { why: Miss::Late { .. }, .. });
        if let Some(p) = &mut self.parts {
            p.on_finish(j, self.jobs[j as usize].release, &outcome, self.now);
        }
        self.recs[j as usize].state = JobState::Done(outcome);
        let waiting = std::mem::take(&mut self.dependents[j as usize]);
        for d in waiting {
            if ok {
                if self.jobs[d as usize].release > self.now {
                    self.recs[d as usize].state = JobState::Submitted;
                    self.timers.insert((self.jobs[d as usize].release, TIMER_RELEASE, d));
                } else {
                    self.make_pending(d);
                }
            } else {
                self.finish(d, Outcome::Missed { at: self.now, why: Miss::Upstream { job: j } });
            }
        }
    }

    /// Fires every timer due at or before `now`: releases, then deadline expiries.
    pub fn advance(&mut self, now: Time) {
        self.set_now(now);
        while let Some(&(t, kind, j)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            match kind {
                TIMER_RETRY => self.retry_at = None,
                TIMER_BUDGET => {} // the round runs in `schedule`, when due
                TIMER_RELEASE => {
                    if self.recs[j as usize].state == JobState::Submitted {
                        self.release(j);
                    }
                }
                _ => {
                    if matches!(self.recs[j as usize].state, JobState::Pending { .. }) {
                        let ls = self.jobs[j as usize].latest_start().unwrap_or(t);
                        self.remove_pending(j);
                        self.finish(j, Outcome::Missed { at: ls + 1, why: Miss::Expired { latest_start: ls } });
                    }
                }
            }
        }
    }

    fn remove_pending(&mut self, j: JobId) {
        if let Some(i) = self.pending.iter().position(|&p| p == j) {
            self.pending.swap_remove(i);
        }
    }

    /// A running job finished at `now`.
    pub fn complete(&mut self, j: JobId, now: Time) -> Result<(), Error> {
        self.set_now(now);
        let JobState::Running { node, start, .. } =
            self.recs.get(j as usize).map(|r| r.state.clone()).ok_or_else(|| Error::Usage(format!("no job #{j}")))?
        else {
            return Err(Error::Usage(format!("job `{}` is not running", self.jobs[j as usize].id)));
        };
        self.stop_run(j, node);
        self.last_progress = self.now;
        let end = self.now;
        let outcome = match self.jobs[j as usize].deadline {
            Some(d) if end > d => Outcome::Missed { at: end, why: Miss::Late { node, start, end } },
            _ => Outcome::Completed { node, start, end },
        };
        self.finish(j, outcome);
        Ok(())
    }

    /// Node `n` failed at `now`: its running jobs are stopped and pending again
    /// (they restart from scratch); the node takes nothing until it recovers.
    pub fn fail_node(&mut self, n: NodeId, now: Time) {
        self.set_now(now);
        if !self.nodes.is_up(n) {
            return;
        }
        let victims: Vec<JobId> = self
            .running
            .iter()
            .copied()
            .filter(|&j| matches!(self.recs[j as usize].state, JobState::Running { node, .. } if node == n))
            .collect();
        let (mut requeued, mut lost) = (Vec::new(), 0);
        for j in victims {
            self.stop_run(j, n);
            self.stats.node_failures_stopped += 1;
            if self.jobs[j as usize].restartable {
                self.requeue(j, "node-failed");
                requeued.push(j);
            } else {
                lost += 1;
                self.stats.lost += 1;
                self.recs[j as usize].generation += 1;
                self.events.push(EngineEvent::Stopped { job: j, at: now, reason: "node-failed" });
                self.finish(j, Outcome::Lost { at: now, node: n });
            }
        }
        self.nodes.set_up(n, false);
        self.refresh_capacity();
        if let Some(p) = &mut self.parts {
            p.on_fail(n, &requeued, lost, now, &self.nodes);
            // The global layer weighs the failed partition's jobs at once,
            // not after the rest of its period.
            if p.next_round.is_none_or(|t| t > now) {
                p.next_round = Some(now);
                self.timers.insert((now, TIMER_BUDGET, JobId::MAX));
            }
        }
    }

    /// Node `n` is back at `now`.
    pub fn recover_node(&mut self, n: NodeId, now: Time) {
        self.set_now(now);
        if self.nodes.is_up(n) {
            return;
        }
        self.nodes.set_up(n, true);
        self.refresh_capacity();
        if let Some(p) = &mut self.parts {
            p.on_recover(n, now, &self.nodes);
        }
    }

    /// Looks a node up by name.
    pub fn node_id(&self, name: &str) -> Option<NodeId> {
        self.nodes.names.iter().position(|n| n == name).map(|i| i as NodeId)
    }

    fn refresh_capacity(&mut self) {
        self.up_nodes = (0..self.nodes.len() as NodeId).filter(|&n| self.nodes.is_up(n)).collect();
        let dims = self.resources.dims();
        let mut cap = vec![0; dims];
        let mut alloc = vec![0; dims];
        for &n in &self.up_nodes {
            for d in 0..dims {
                cap[d] += self.nodes.capacity(n)[d];
                alloc[d] += self.nodes.allocatable(n)[d];
            }
        }
        self.meter.cap_now = cap;
        self.usage.total = alloc;
        self.recompute_max_free();
    }

    fn recompute_max_free(&mut self) {
        let dims = self.resources.dims();
        self.max_free.iter_mut().for_each(|m| *m = 0);
        for &n in &self.up_nodes {
            for d in 0..dims {
                self.max_free[d] = self.max_free[d].max(self.nodes.free(n, d));
            }
        }
    }

    /// Releases a run's resources (the job's state is set by the caller).
    fn stop_run(&mut self, j: JobId, node: NodeId) {
        let job = &self.jobs[j as usize];
        self.nodes.release(node, &job.request);
        if let Some(p) = &mut self.parts {
            p.on_stop(j, node, &job.request);
        }
        for (d, &r) in job.request.iter().enumerate() {
            self.meter.used_now[d] -= r;
            self.max_free[d] = self.max_free[d].max(self.nodes.free(node, d));
        }
        self.usage.account(job, -1);
        let slot = self.recs[j as usize].slot as usize;
        self.running.swap_remove(slot);
        if let Some(&moved) = self.running.get(slot) {
            self.recs[moved as usize].slot = slot as u32;
        }
        self.recs[j as usize].slot = u32::MAX;
    }

    fn requeue(&mut self, j: JobId, reason: &'static str) {
        let r = &mut self.recs[j as usize];
        r.restarts += 1;
        r.generation += 1;
        self.events.push(EngineEvent::Stopped { job: j, at: self.now, reason });
        self.make_pending(j);
    }

    /// Drops the expiry timer of a job that leaves the pending state, so a run
    /// never waits on a timer that can no longer matter.
    fn cancel_expiry(&mut self, j: JobId) {
        let job = &self.jobs[j as usize];
        if let (true, Some(ls)) = (job.hard_deadline, job.latest_start()) {
            self.timers.remove(&(ls + 1, TIMER_EXPIRE, j));
        }
    }

    fn start_run(&mut self, j: JobId, node: NodeId) -> bool {
        let job = &self.jobs[j as usize];
        if self.parts.as_ref().is_some_and(|p| !p.admits(j, node, &job.request)) {
            return false;
        }
        if !self.nodes.allocate(node, &job.request) {
            return false;
        }
        if let Some(p) = &mut self.parts {
            p.on_start(j, node, &job.request, self.now);
        }
        self.cancel_expiry(j);
        let job = &self.jobs[j as usize];
        for (d, &r) in job.request.iter().enumerate() {
            self.meter.used_now[d] += r;
        }
        self.usage.account(job, 1);
        let now = self.now;
        let r = &mut self.recs[j as usize];
        r.state = JobState::Running { node, start: now, expected_end: now.saturating_add(job.estimate) };
        r.first_start.get_or_insert(now);
        r.revision = Some(self.revision);
        r.slot = self.running.len() as u32;
        r.reasons.clear();
        self.running.push(j);
        self.last_progress = self.now;
        self.stats.placements += 1;
        let generation = r.generation;
        self.events.push(EngineEvent::Started { job: j, node, at: now, generation });
        true
    }

    // ---- the scheduling cycle ---------------------------------------------------

    /// Runs one scheduling cycle at `now` (see the module docs). Fails only when a
    /// plugin misbehaves (NaN key, score out of range).
    ///
    /// A failed cycle loses nothing: every job stays pending, running or
    /// finished as it was when the plugin failed, and the timers that retry
    /// pending jobs are armed as after any cycle, so a caller that carries on
    /// (a live host) can call `schedule` again.
    pub fn schedule(&mut self, now: Time) -> Result<(), Error> {
        let result = self.schedule_at(now);
        if self.retry
            && !self.pending.is_empty()
            && self.retry_at.is_none()
            && now - self.last_progress < RETRY_IDLE_LIMIT_S
        {
            let at = now + RETRY_INTERVAL_S;
            self.retry_at = Some(at);
            self.timers.insert((at, TIMER_RETRY, JobId::MAX));
        }
        self.arm_budget_round();
        result
    }

    /// The work of [`Engine::schedule`]: the global layer's round when due,
    /// the cycle, the rebalance.
    fn schedule_at(&mut self, now: Time) -> Result<(), Error> {
        self.advance(now);
        if self.parts.as_ref().and_then(|p| p.next_round).is_some_and(|t| t <= now) {
            self.budget_round()?;
        }
        if !self.pending.is_empty() {
            self.stats.cycles += 1;
            self.recompute_max_free();
            // A cycle in which no pending job fits the free-capacity bound places
            // nothing: settle it without computing order keys.
            let any_fits = self.pending.iter().any(|&j| self.fits_bound(j) || !self.recs[j as usize].resolvable);
            if any_fits {
                match self.pipeline.architecture {
                    // A traced job is explained decision by decision: centralized.
                    Architecture::Optimistic { workers, conflict } if self.trace.is_none() => {
                        self.run_parallel_cycle(workers, conflict)?
                    }
                    Architecture::Partitioned { .. } if self.trace.is_none() => self.run_partitioned_cycle()?,
                    _ => self.run_cycle()?,
                }
            } else {
                self.stats.decisions += self.pending.len() as u64;
                self.stats.quick_skips += self.pending.len() as u64;
                if let Some(t) = &self.trace {
                    if self.pending.contains(&t.job) {
                        let at = self.now;
                        let of = self.pending.len();
                        self.trace.as_mut().unwrap().attempts.push(Attempt {
                            at,
                            of,
                            quick_skip: true,
                            ..Default::default()
                        });
                    }
                }
            }
        }
        if !self.pipeline.rebalance.is_empty() && !self.running.is_empty() {
            self.rebalance()?;
        }
        Ok(())
    }

    #[inline]
    fn fits_bound(&self, j: JobId) -> bool {
        self.jobs[j as usize].request.iter().zip(&self.max_free).all(|(&r, &m)| r <= m)
    }

    fn context(&self) -> Context<'_> {
        Context {
            now: self.now,
            nodes: &self.nodes,
            resources: &self.resources,
            symbols: &self.symbols,
            usage: &self.usage,
            jobs: &self.jobs,
        }
    }

    /// Computes the static order keys of `queue` (partition column left 0) into
    /// `keys` (`queue.len() * k`).
    fn order_keys(&self, queue: &[JobId], keys: &mut Vec<OrderKey>) -> Result<(), Error> {
        let k = self.pipeline.order.len();
        keys.clear();
        keys.resize(queue.len() * k, 0.0);
        if k == 0 || queue.is_empty() {
            return Ok(());
        }
        let jobs: Vec<&Job> = queue.iter().map(|&j| &self.jobs[j as usize]).collect();
        let mut col = vec![0.0; queue.len()];
        for p in 0..k {
            if self.pipeline.partition.is_some_and(|(i, _)| i == p) {
                continue;
            }
            self.stage_keys(p, &jobs, &mut col)?;
            for (i, &v) in col.iter().enumerate() {
                keys[i * k + p] = v;
            }
        }
        Ok(())
    }

    /// The keys of order stage `p` for `jobs` into `out`; a NaN key is the
    /// plugin's fault.
    fn stage_keys(&self, p: usize, jobs: &[&Job], out: &mut [OrderKey]) -> Result<(), Error> {
        let stage = &self.pipeline.order[p];
        stage.plugin.keys(jobs, &self.context(), out).map_err(|e| fault(ExtensionPoint::Order, &stage.name, e.0))?;
        match out.iter().position(|v| v.is_nan()) {
            Some(i) => Err(fault(
                ExtensionPoint::Order,
                &stage.name,
                format!("returned NaN as the order key of job `{}`", jobs[i].id),
            )),
            None => Ok(()),
        }
    }

    /// The partition-scoped order key (fair share) of `job`'s group now.
    fn group_key(&self, job: &Job) -> Result<OrderKey, Error> {
        let (p, _) = self.pipeline.partition.expect("the pipeline has a partition-scoped key");
        let mut v = [0.0];
        self.stage_keys(p, &[job], &mut v)?;
        Ok(v[0])
    }

    /// One centralized cycle over every pending job. The jobs leave
    /// `self.pending` for the cycle; whatever happens, each one that is still
    /// pending at the end goes back, so a plugin that fails mid-cycle (an
    /// error the caller may carry on from, as a live host does) loses no job.
    fn run_cycle(&mut self) -> Result<(), Error> {
        let queue = std::mem::take(&mut self.pending);
        let mut still_pending = Vec::with_capacity(queue.len());
        let result = self.run_cycle_over(&queue, &mut still_pending);
        if result.is_err() {
            // The cycle stopped part-way: the jobs it decided and those it never
            // reached are alike still pending.
            still_pending.clear();
            still_pending.extend(
                queue.iter().copied().filter(|&j| matches!(self.recs[j as usize].state, JobState::Pending { .. })),
            );
        }
        // Jobs that became pending during the cycle (the dependents of a
        // rejected job) are kept too.
        still_pending.append(&mut self.pending);
        self.pending = still_pending;
        result
    }

    /// The decisions of [`Engine::run_cycle`] over `queue`; the jobs decided
    /// and still pending are pushed to `still_pending`, in decision order.
    fn run_cycle_over(&mut self, queue: &[JobId], still_pending: &mut Vec<JobId>) -> Result<(), Error> {
        let k = self.pipeline.order.len();
        let mut keys = Vec::new();
        self.order_keys(queue, &mut keys)?;
        let cmp = |a: &[OrderKey], b: &[OrderKey]| {
            a.iter().zip(b).map(|(x, y)| x.total_cmp(y)).find(|o| o.is_ne()).unwrap_or(std::cmp::Ordering::Equal)
        };
        // Indices into `queue`, grouped by partition (one group without one),
        // each group sorted by its static keys, then submission order.
        let partition = self.pipeline.partition;
        let mut idx: Vec<usize> = (0..queue.len()).collect();
        let group_of =
            |i: usize| partition.map_or(kairos_model::Sym(0), |(_, key)| key.of(&self.jobs[queue[i] as usize]));
        idx.sort_by(|&a, &b| {
            group_of(a)
                .cmp(&group_of(b))
                .then_with(|| cmp(&keys[a * k..(a + 1) * k], &keys[b * k..(b + 1) * k]))
                .then(queue[a].cmp(&queue[b]))
        });
        let mut groups: Vec<(usize, usize)> = Vec::new(); // [start, end) in idx
        for (pos, &i) in idx.iter().enumerate() {
            match groups.last_mut() {
                Some((s, e)) if group_of(idx[*s]) == group_of(i) => *e = pos + 1,
                _ => groups.push((pos, pos + 1)),
            }
        }
        let mut cursor: Vec<usize> = groups.iter().map(|g| g.0).collect();
        let mut group_key: Vec<Option<OrderKey>> = vec![None; groups.len()];
        let total = queue.len();
        let mut ahead: Option<usize> = None;
        let mut head_keys = vec![0.0; k];
        let mut best_keys = vec![0.0; k];
        for rank in 1..=total {
            // Pick the best group head.
            let mut best: Option<(usize, usize)> = None; // (group, queue index)
            for (g, &(_, end)) in groups.iter().enumerate() {
                if cursor[g] >= end {
                    continue;
                }
                let i = idx[cursor[g]];
                head_keys.copy_from_slice(&keys[i * k..(i + 1) * k]);
                if let Some((p, _)) = partition {
                    // A partition key depends only on the group and its usage,
                    // which changes only when the group places a job.
                    let v = match group_key[g] {
                        Some(v) => v,
                        None => *group_key[g].insert(self.group_key(&self.jobs[queue[i] as usize])?),
                    };
                    head_keys[p] = v;
                    keys[i * k + p] = v;
                }
                let better = match best {
                    None => true,
                    Some((_, bi)) => cmp(&head_keys, &best_keys).then(queue[i].cmp(&queue[bi])).is_lt(),
                };
                if better {
                    best = Some((g, i));
                    best_keys.copy_from_slice(&head_keys);
                }
            }
            let Some((g, i)) = best else { break };
            cursor[g] += 1;
            let j = queue[i];
            let tracing = self.trace.as_ref().is_some_and(|t| t.job == j);
            if tracing {
                let a = Attempt {
                    at: self.now,
                    rank,
                    of: total,
                    keys: keys[i * k..(i + 1) * k].to_vec(),
                    ahead: ahead.map(|a| (queue[a], keys[a * k..(a + 1) * k].to_vec())),
                    ..Default::default()
                };
                self.trace.as_mut().unwrap().attempts.push(a);
            }
            ahead = Some(i);
            if self.decide(j, tracing)? {
                group_key[g] = None;
            } else if matches!(self.recs[j as usize].state, JobState::Pending { .. }) {
                still_pending.push(j);
            }
        }
        Ok(())
    }

    /// Counts a decision on job `j`; false when the free-capacity bound settles
    /// it without running the filters (an attempt has shown some node may take
    /// it, and no node has the free capacity now).
    fn worth_deciding(&mut self, j: JobId) -> bool {
        self.stats.decisions += 1;
        if self.recs[j as usize].resolvable && !self.fits_bound(j) {
            self.stats.quick_skips += 1;
            return false;
        }
        self.recs[j as usize].attempts += 1;
        true
    }

    /// Tries to place job `j` now, on the engine's own node table (see
    /// [`decision`]). Returns whether it was placed; a job that can never be
    /// placed is rejected here.
    fn decide(&mut self, j: JobId, tracing: bool) -> Result<bool, Error> {
        if !self.worth_deciding(j) {
            if tracing {
                self.trace.as_mut().unwrap().attempts.last_mut().unwrap().quick_skip = true;
            }
            return Ok(false);
        }
        let mut s = std::mem::take(&mut self.scratch);
        let up = std::mem::take(&mut self.up_nodes);
        let mut trace = if tracing { self.trace.take() } else { None };
        let pipeline = Arc::clone(&self.pipeline);
        let mut rng = self.rng;
        let sampling = match pipeline.architecture {
            Architecture::Sampled { sample, .. } => Some(Sampling { d: sample, rng: &mut rng }),
            _ => None,
        };
        let attempt = trace.as_mut().and_then(|t| t.attempts.last_mut());
        let result = decision::decide(&pipeline, j, &up, &mut Central(self), sampling, &mut s, attempt);
        self.rng = rng;
        self.up_nodes = up;
        if tracing {
            self.trace = trace;
        }
        self.stats.sample_fallbacks += std::mem::take(&mut s.tally).sample_fallbacks;
        let placed = match result {
            Ok(p) => p,
            Err(e) => {
                self.scratch = s;
                return Err(e);
            }
        };
        if placed.is_none() {
            let (reasons, unresolvable) = decision::unplaced(&self.nodes, &s);
            self.record_unplaced(j, reasons, unresolvable);
        }
        self.scratch = s;
        Ok(placed.is_some())
    }

    /// Records why no node took job `j`; a job every node's reason rules out
    /// for good is rejected.
    pub(super) fn record_unplaced(&mut self, j: JobId, reasons: &[RejectionCount], unresolvable: bool) {
        let rec = &mut self.recs[j as usize];
        rec.reasons.clear();
        rec.reasons.extend_from_slice(reasons);
        rec.reasons_of = self.nodes.len() as u32;
        rec.reasons_revision = self.revision;
        if unresolvable {
            self.cancel_expiry(j);
            self.finish(j, Outcome::Rejected { at: self.now });
        } else {
            rec.resolvable = true;
        }
    }

    // ---- rebalance ----------------------------------------------------------------

    fn rebalance(&mut self) -> Result<(), Error> {
        let running: Vec<Running> = self
            .running
            .iter()
            .filter_map(|&j| match self.recs[j as usize].state {
                JobState::Running { node, start, expected_end } => {
                    Some(Running { job: j, node, started: start, expected_end })
                }
                _ => None,
            })
            .collect();
        let pipeline = Arc::clone(&self.pipeline);
        for stage in &pipeline.rebalance {
            let mut moves = Vec::new();
            stage
                .plugin
                .rebalance(&self.context(), &running, &mut moves)
                .map_err(|e| fault(ExtensionPoint::Rebalance, &stage.name, e.0))?;
            for m in moves {
                if !self.apply(m, &stage.name) {
                    self.stats.moves_refused += 1;
                }
            }
        }
        Ok(())
    }

    /// Validates a move `by` a rebalance plugin against the current state and
    /// applies it.
    fn apply(&mut self, m: Move, by: &str) -> bool {
        match m {
            Move::Migrate { job: j, to } => self.apply(Move::MigrateWithPause { job: j, to, pause: 0 }, by),
            Move::MigrateWithPause { job: j, to, pause } => {
                let JobState::Running { node: from, start, expected_end } =
                    self.recs.get(j as usize).map_or(JobState::Submitted, |r| r.state.clone())
                else {
                    return false;
                };
                let pause = pause.max(0);
                if let Some(d) = self.jobs[j as usize].deadline {
                    if pause > 0 && expected_end.saturating_add(pause) > d {
                        // The move would make it late.
                        return false;
                    }
                }
                if to == from || to as usize >= self.nodes.len() || !self.nodes.is_up(to) || !self.filters_accept(j, to)
                {
                    return false;
                }
                if !self.nodes.fits(to, &self.jobs[j as usize].request) {
                    return false;
                }
                if self.parts.as_ref().is_some_and(|p| !p.admits(j, to, &self.jobs[j as usize].request)) {
                    // Outside the budget of the target's partition.
                    return false;
                }
                self.stop_run(j, from);
                let ok = self.start_run(j, to);
                debug_assert!(ok, "checked above");
                self.stats.placements -= 1;
                self.events.pop(); // start_run's Started: this is a migration, not a start
                let r = &mut self.recs[j as usize];
                r.state = JobState::Running { node: to, start, expected_end: expected_end.saturating_add(pause) };
                if pause > 0 {
                    r.generation += 1;
                }
                r.migrations += 1;
                r.moves.push(MoveRecord { at: self.now, from, to: Some(to), reason: None, pause, by: by.to_owned() });
                self.stats.migrations += 1;
                let generation = r.generation;
                self.events.push(EngineEvent::Migrated { job: j, from, to, at: self.now, pause, generation });
                true
            }
            Move::Relocate { job: j } => {
                let JobState::Running { node: from, .. } =
                    self.recs.get(j as usize).map_or(JobState::Submitted, |r| r.state.clone())
                else {
                    return false;
                };
                match self.relocation_target(j, from) {
                    Some(to) => self.apply(Move::Migrate { job: j, to }, by),
                    None => false,
                }
            }
            Move::Evict { job: j, reason } => {
                let JobState::Running { node, .. } =
                    self.recs.get(j as usize).map_or(JobState::Submitted, |r| r.state.clone())
                else {
                    return false;
                };
                if !self.jobs[j as usize].restartable {
                    // An eviction restarts the job from scratch, which it cannot do.
                    return false;
                }
                let evicted = self.recs[j as usize].moves.iter().filter(|m| m.to.is_none()).count();
                if evicted >= MAX_EVICTIONS_PER_JOB {
                    // A pipeline whose filters let an evicted job back onto the
                    // node it was evicted from would evict it forever.
                    return false;
                }
                self.stop_run(j, node);
                let at = self.now;
                self.recs[j as usize].moves.push(MoveRecord {
                    at,
                    from: node,
                    to: None,
                    reason: Some(reason),
                    pause: 0,
                    by: by.to_owned(),
                });
                self.stats.evictions += 1;
                self.requeue(j, reason);
                true
            }
        }
    }

    /// Where the pipeline would put running job `j` if it were not on `from`:
    /// the node the decision routine picks for it among the other up nodes,
    /// committing nothing (see [`Probe`]). A filter or score that fails, or a
    /// score out of range, vouches for nothing: the job stays.
    fn relocation_target(&mut self, j: JobId, from: NodeId) -> Option<NodeId> {
        let mut s = std::mem::take(&mut self.scratch);
        let pipeline = Arc::clone(&self.pipeline);
        let chosen =
            decision::decide(&pipeline, j, &self.up_nodes, &mut Probe { engine: self, from }, None, &mut s, None);
        s.tally = Default::default();
        self.scratch = s;
        chosen.ok().flatten()
    }

    fn filters_accept(&mut self, j: JobId, node: NodeId) -> bool {
        let mut s = std::mem::take(&mut self.scratch);
        let ok = decision::filters_accept(&self.pipeline, &self.jobs[j as usize], &self.context(), node, &mut s);
        self.scratch = s;
        ok
    }

    /// The reasons of a job's last failed attempt as "0/12 nodes: 9 selector-mismatch
    /// (node-selector), 3 insufficient antenna (fit)".
    pub fn describe_reasons(&self, j: JobId) -> String {
        let r = &self.recs[j as usize];
        if r.reasons_revision == self.revision || r.reasons.is_empty() {
            return describe(&r.reasons, r.reasons_of, &self.pipeline, &self.resources);
        }
        let names = self.retired_filters.iter().find(|(rev, _)| *rev == r.reasons_revision).map(|(_, n)| n);
        describe_with(&r.reasons, r.reasons_of, |p| names.and_then(|n| n.get(p)).map(String::as_str), &self.resources)
    }
}

/// The engine's own node table, as a decision [`Site`]: centralized decisions,
/// and partitioned ones on the engine's thread (the candidates are then the
/// partition's nodes within its budget).
struct Central<'e>(&'e mut Engine);

impl Site for Central<'_> {
    fn view(&self) -> Context<'_> {
        self.0.context()
    }
    fn candidates<'s>(
        &'s self,
        j: JobId,
        up: &'s [NodeId],
        buf: &'s mut Vec<NodeId>,
        rejections: &mut Rejections,
    ) -> &'s [NodeId] {
        match &self.0.parts {
            Some(p) => {
                p.candidates(j, &self.0.jobs[j as usize].request, buf, rejections);
                buf
            }
            None => up,
        }
    }
    fn commit(&mut self, j: JobId, node: NodeId) -> Committed {
        if self.0.start_run(j, node) {
            Committed::Placed
        } else {
            Committed::NoRoom
        }
    }
}

/// A [`Site`] that commits nothing: where a running job would go if it were
/// not on `from` (every up node but that one, holding the request, within
/// the partitions' budgets).
struct Probe<'e> {
    engine: &'e Engine,
    from: NodeId,
}

impl Site for Probe<'_> {
    fn view(&self) -> Context<'_> {
        self.engine.context()
    }
    fn candidates<'s>(
        &'s self,
        _: JobId,
        up: &'s [NodeId],
        buf: &'s mut Vec<NodeId>,
        _: &mut Rejections,
    ) -> &'s [NodeId] {
        buf.clear();
        buf.extend(up.iter().copied().filter(|&n| n != self.from));
        buf
    }
    fn commit(&mut self, j: JobId, node: NodeId) -> Committed {
        let e = self.engine;
        let request = &e.jobs[j as usize].request;
        if e.nodes.fits(node, request) && e.parts.as_ref().is_none_or(|p| p.admits(j, node, request)) {
            Committed::Placed
        } else {
            Committed::NoRoom
        }
    }
}

/// Renders aggregated rejection counts for people.
pub fn describe(reasons: &[RejectionCount], of: u32, pipeline: &Pipeline, resources: &ResourceSpace) -> String {
    describe_with(reasons, of, |p| pipeline.filter.get(p).map(|s| s.name.as_str()), resources)
}

/// [`describe`], with the name of the filter at each position from `filter_name`.
fn describe_with<'a>(
    reasons: &[RejectionCount],
    of: u32,
    filter_name: impl Fn(usize) -> Option<&'a str>,
    resources: &ResourceSpace,
) -> String {
    if reasons.is_empty() {
        return String::new();
    }
    let mut parts: Vec<(u32, String)> = reasons
        .iter()
        .map(|c| {
            let plugin = if c.plugin == HOST_PLUGIN { "host" } else { filter_name(c.plugin as usize).unwrap_or("?") };
            let what = match c.resource {
                Some(d) => format!("{} {}", c.code, resources.name(d as usize)),
                None => c.code.to_owned(),
            };
            (c.nodes, format!("{} {what} ({plugin})", c.nodes))
        })
        .collect();
    parts.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    format!("0/{of} nodes: {}", parts.into_iter().map(|p| p.1).collect::<Vec<_>>().join(", "))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod failed_cycle_tests;
