//! Parallel scheduler workers: the `optimistic` architecture.
//!
//! # A parallel cycle
//! 1. The pending jobs are ordered once, by their order keys. A
//!    partition-scoped key (fair share) is computed once per group at the start
//!    of the cycle, not again after every placement as a centralized cycle does:
//!    with several workers placing at once there is no "after".
//! 2. Jobs the free-capacity bound rules out are settled at once, as in a
//!    centralized cycle.
//! 3. The others go, in order, into a global [`Injector`]. Each of the W
//!    workers (threads; the first is the calling thread) owns a FIFO Chase-Lev
//!    deque ([`Worker`]). A worker pops the front of its own deque; when it is
//!    empty, it takes up to B jobs from the front of the injector; when that is
//!    empty too, it steals up to B jobs — at most half of the victim's — from
//!    the front of the deque of the worker the [`StealPolicy`] names (the
//!    `work-stealing` plugin's, or [`Busiest`]). Fronts hold the most urgent
//!    jobs, so what is stolen is what the victim would have decided next.
//! 4. A worker decides a job on its own replica of the node table (filters and
//!    scores, exactly as a centralized decision) and commits the best node at
//!    the [`Ledger`]: placed, or the next best when the node has no room, or —
//!    when another worker committed on that node since this replica saw it — a
//!    *conflict*: with `conflict: revalidate` the node alone is re-checked
//!    against the filters on the refreshed replica and committed again if it
//!    still passes; otherwise (and always with `strict`) the job is decided again
//!    from scratch (a *retry*). After every commit the replica replays the
//!    commits of the others, so it lags the truth by about one decision per
//!    other worker.
//! 5. When every deque and the injector are empty the workers stop; the engine
//!    applies the commits in commit order (each one checked again by the node
//!    table itself) and records the reasons of the jobs no node took.
//!
//! # The order bound
//! When a worker takes a job, at most W·B − 1 jobs earlier in the order are
//! still waiting to be taken. Because the injector hands jobs out in order,
//! every job earlier than the one taken has already left it, so the waiting
//! ones sit in the workers' deques; a deque is refilled or stolen into only
//! when it is empty, and then with at most B jobs, so the deques hold at most
//! W·B jobs, one of which is the job being taken. With the defaults (B = 16)
//! and two workers, a job never overtakes more than 31 more urgent ones. The
//! test `no_worker_runs_more_than_w_times_b_jobs_ahead_of_the_order` checks it.
//!
//! # Determinism
//! Which worker commits first depends on the threads' timing, so a parallel run
//! may differ from run to run; every invariant (capacity, every job accounted
//! for, each placed once) holds for any interleaving. `kairos explain` runs
//! centralized cycles for the job it traces.

use std::sync::atomic::{AtomicBool, Ordering};

use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use kairos_model::{
    Context, GroupUsage, Job, JobId, NodeId, NodeTable, OrderKey, RejectionCount, Rejections, ResourceSpace,
    StealPolicy, Symbols, Time,
};

use super::commit::{Commit, Ledger, Replica};
use super::decision::{self, Committed, Scratch, Site};
use super::{Engine, JobState};
use crate::architecture::ConflictCheck;
use crate::error::Error;
use crate::pipeline::Pipeline;

/// Jobs a worker takes at once, from the injector or from a victim, when no
/// plugin says otherwise: small enough to keep the order bound tight (2 × 16 − 1
/// = 31 jobs with two workers), large enough that refills are rare against
/// decisions of microseconds.
pub const DEFAULT_STEAL_BATCH: usize = 16;

/// (job, node) evaluations a cycle must offer each worker before another is
/// started: 50,000 take about a quarter of a millisecond at ~5 ns each, ten
/// times what starting a thread costs. Small cycles on small clusters (the
/// pass-window day: 29 nodes) so stay on one worker, where threads would cost
/// more than they save; on 10,000 nodes five jobs are enough for a second
/// worker. See [`Engine::set_min_work_per_worker`].
pub const MIN_WORK_PER_WORKER: usize = 50_000;

/// The steal policy when the pipeline has no `work-stealing` plugin: rob the
/// worker with the most queued jobs.
pub struct Busiest {
    /// Number of workers.
    pub workers: usize,
}

impl StealPolicy for Busiest {
    fn workers(&self) -> usize {
        self.workers
    }
    fn steal_batch(&self) -> usize {
        DEFAULT_STEAL_BATCH
    }
    fn victim(&self, thief: usize, queued: &[usize], _attempt: u32) -> Option<usize> {
        busiest(queued, thief)
    }
}

/// The worker other than `thief` with the most queued jobs (ties: lowest index).
fn busiest(queued: &[usize], thief: usize) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (w, &q) in queued.iter().enumerate() {
        if w != thief && q > 0 && best.is_none_or(|b| q > queued[b]) {
            best = Some(w);
        }
    }
    best
}

/// The cycle's jobs (as slots into its order) and how workers share them.
pub(crate) struct Queues<'a> {
    injector: Injector<u32>,
    stealers: Vec<Stealer<u32>>,
    policy: &'a dyn StealPolicy,
    batch: usize,
}

/// One worker's counters and buffers for [`Queues::next`].
#[derive(Default)]
pub(crate) struct Taker {
    queued: Vec<usize>,
    attempt: u32,
    /// Successful steals from another worker.
    pub steals: u64,
}

impl<'a> Queues<'a> {
    /// Queues for `jobs` slots (0..jobs, in order) and `workers` deques; returns
    /// the deques, one per worker, each to be used by its own thread only.
    pub(crate) fn new(jobs: usize, workers: usize, policy: &'a dyn StealPolicy) -> (Queues<'a>, Vec<Worker<u32>>) {
        let injector = Injector::new();
        for slot in 0..jobs as u32 {
            injector.push(slot);
        }
        let locals: Vec<Worker<u32>> = (0..workers).map(|_| Worker::new_fifo()).collect();
        let stealers = locals.iter().map(Worker::stealer).collect();
        (Queues { injector, stealers, policy, batch: policy.steal_batch().max(1) }, locals)
    }

    /// The next job for worker `w`, whose deque is `local` (step 3 of the
    /// module docs); `None` when every deque and the injector are empty.
    pub(crate) fn next(&self, w: usize, local: &Worker<u32>, t: &mut Taker) -> Option<u32> {
        loop {
            if let Some(j) = local.pop() {
                return Some(j);
            }
            match self.injector.steal_batch_with_limit_and_pop(local, self.batch) {
                Steal::Success(j) => return Some(j),
                Steal::Retry => continue,
                Steal::Empty => {}
            }
            t.queued.clear();
            t.queued.extend(self.stealers.iter().map(Stealer::len));
            if t.queued.iter().all(|&q| q == 0) {
                // Jobs in flight between deques belong to the thief moving them.
                return None;
            }
            let named = self.policy.victim(w, &t.queued, t.attempt).filter(|&v| v != w && v < t.queued.len());
            t.attempt = t.attempt.wrapping_add(1);
            let Some(v) = named.or_else(|| busiest(&t.queued, w)) else { continue };
            if let Steal::Success(j) = self.stealers[v].steal_batch_with_limit_and_pop(local, self.batch) {
                t.steals += 1;
                return Some(j);
            }
        }
    }
}

/// What one worker did in a cycle.
#[derive(Default)]
struct WorkerOut {
    /// (commit sequence, job, node).
    placed: Vec<(usize, JobId, NodeId)>,
    /// Jobs no node took: the job, its rejection counts, whether every node's
    /// reason is unresolvable.
    unplaced: Vec<(JobId, Vec<RejectionCount>, bool)>,
    commits: u64,
    conflicts: u64,
    retries: u64,
    revalidated: u64,
    steals: u64,
    error: Option<Error>,
}

/// What every worker reads, shared.
struct Shared<'a> {
    pipeline: &'a Pipeline,
    jobs: &'a [Job],
    todo: &'a [JobId],
    up_nodes: &'a [NodeId],
    ledger: &'a Ledger,
    queues: &'a Queues<'a>,
    conflict: ConflictCheck,
    abort: &'a AtomicBool,
    now: Time,
    resources: &'a ResourceSpace,
    symbols: &'a Symbols,
    usage: &'a GroupUsage,
}

impl Shared<'_> {
    /// What the plugins see, over a worker's replica.
    fn cx<'b>(&'b self, nodes: &'b NodeTable) -> Context<'b> {
        Context {
            now: self.now,
            nodes,
            resources: self.resources,
            symbols: self.symbols,
            usage: self.usage,
            jobs: self.jobs,
        }
    }
}

impl Engine {
    /// Sets the (job, node) evaluations a cycle must offer each worker before
    /// another is started ([`MIN_WORK_PER_WORKER`] by default; 0 starts every
    /// worker there is a job for — for tests).
    pub fn set_min_work_per_worker(&mut self, evaluations: usize) {
        self.min_work_per_worker = evaluations;
    }

    /// One parallel scheduling cycle with `workers` workers (see the module docs).
    pub(super) fn run_parallel_cycle(&mut self, workers: usize, conflict: ConflictCheck) -> Result<(), Error> {
        let queue = std::mem::take(&mut self.pending);
        let ordered = match self.static_order(&queue) {
            Ok(o) => o,
            Err(e) => {
                self.pending = queue;
                return Err(e);
            }
        };
        // Step 2: the free-capacity bound.
        let mut still_pending = Vec::with_capacity(ordered.len());
        let mut todo = Vec::with_capacity(ordered.len());
        for j in ordered {
            if self.worth_deciding(j) {
                todo.push(j);
            } else {
                still_pending.push(j);
            }
        }
        let work = todo.len().saturating_mul(self.up_nodes.len().max(1));
        let workers = workers.min(work / self.min_work_per_worker.max(1)).min(todo.len()).max(1);
        if workers > 1 {
            self.stats.parallel_cycles += 1;
        }
        // Replicas, kept from cycle to cycle: only their allocation is copied.
        let mut replicas = self.take_replicas(workers);
        for (r, _) in &mut replicas[..workers] {
            r.copy_allocation_from(&self.nodes);
        }
        let dims = self.nodes.dims();
        let free: Vec<_> = (0..self.nodes.len() as NodeId)
            .flat_map(|n| (0..dims).map(move |d| (n, d)))
            .map(|(n, d)| self.nodes.free(n, d))
            .collect();
        let ledger = Ledger::new(dims, free, todo.len());
        let fallback = Busiest { workers };
        let pipeline = std::sync::Arc::clone(&self.pipeline);
        let policy: &dyn StealPolicy =
            pipeline.rebalance.iter().find_map(|s| s.plugin.steal_policy()).unwrap_or(&fallback);
        let (queues, locals) = Queues::new(todo.len(), workers, policy);
        let abort = AtomicBool::new(false);
        let outs: Vec<WorkerOut> = {
            let shared = Shared {
                pipeline: &pipeline,
                jobs: &self.jobs,
                todo: &todo,
                up_nodes: &self.up_nodes,
                ledger: &ledger,
                queues: &queues,
                conflict,
                abort: &abort,
                now: self.now,
                resources: &self.resources,
                symbols: &self.symbols,
                usage: &self.usage,
            };
            let shared = &shared;
            std::thread::scope(|scope| {
                let mut work = replicas[..workers].iter_mut().zip(locals).enumerate();
                let (_, first) = work.next().expect("at least one worker");
                let handles: Vec<_> = work
                    .map(|(w, ((nodes, s), local))| scope.spawn(move || run_worker(shared, w, &local, nodes, s)))
                    .collect();
                let ((nodes, s), local) = first;
                let mut outs = vec![run_worker(shared, 0, &local, nodes, s)];
                outs.extend(handles.into_iter().map(|h| h.join().expect("a scheduler worker panicked")));
                outs
            })
        };
        self.replicas = replicas;
        // Step 5: apply.
        let mut placed = Vec::new();
        let mut error = None;
        for mut out in outs {
            self.stats.commits += out.commits;
            self.stats.conflicts += out.conflicts;
            self.stats.retries += out.retries;
            self.stats.revalidated += out.revalidated;
            self.stats.steals += out.steals;
            placed.append(&mut out.placed);
            error = error.or(out.error);
            for (j, reasons, unresolvable) in out.unplaced {
                self.record_unplaced(j, &reasons, unresolvable);
            }
        }
        placed.sort_unstable_by_key(|p| p.0);
        for &(_, j, node) in &placed {
            assert!(self.start_run(j, node), "the ledger admitted job {j} on node {node}, which the table refuses");
        }
        for j in todo {
            if matches!(self.recs[j as usize].state, JobState::Pending { .. }) {
                still_pending.push(j);
            }
        }
        still_pending.append(&mut self.pending);
        self.pending = still_pending;
        error.map_or(Ok(()), Err)
    }

    /// At least `n` replicas of the node table with their scratch buffers, kept
    /// from cycle to cycle (put them back in `self.replicas` after the cycle).
    pub(super) fn take_replicas(&mut self, n: usize) -> Vec<(NodeTable, Scratch)> {
        let mut replicas = std::mem::take(&mut self.replicas);
        replicas.retain(|(r, _)| r.layout() == self.nodes.layout());
        while replicas.len() < n {
            replicas.push((self.nodes.clone(), Scratch::default()));
        }
        replicas
    }

    /// The pending jobs in order-key order, ties by submission order; a
    /// partition-scoped key is computed once per group (step 1).
    pub(super) fn static_order(&self, queue: &[JobId]) -> Result<Vec<JobId>, Error> {
        let k = self.pipeline.order.len();
        let mut keys = Vec::new();
        self.order_keys(queue, &mut keys)?;
        if let Some((p, key)) = self.pipeline.partition {
            let mut group_keys: Vec<(kairos_model::Sym, OrderKey)> = Vec::new();
            for (i, &j) in queue.iter().enumerate() {
                let job = &self.jobs[j as usize];
                let g = key.of(job);
                let v = match group_keys.iter().find(|(h, _)| *h == g) {
                    Some(&(_, v)) => v,
                    None => {
                        let v = self.group_key(job)?;
                        group_keys.push((g, v));
                        v
                    }
                };
                keys[i * k + p] = v;
            }
        }
        let mut idx: Vec<usize> = (0..queue.len()).collect();
        idx.sort_by(|&a, &b| {
            keys[a * k..(a + 1) * k]
                .iter()
                .zip(&keys[b * k..(b + 1) * k])
                .map(|(x, y)| x.total_cmp(y))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(queue[a].cmp(&queue[b]))
        });
        Ok(idx.into_iter().map(|i| queue[i]).collect())
    }
}

/// One worker's loop (steps 3 and 4 of the module docs).
fn run_worker(sh: &Shared<'_>, w: usize, local: &Worker<u32>, nodes: &mut NodeTable, s: &mut Scratch) -> WorkerOut {
    let mut out = WorkerOut::default();
    let mut taker = Taker::default();
    let mut replica = Replica::new(nodes.len());
    while let Some(slot) = sh.queues.next(w, local, &mut taker) {
        if sh.abort.load(Ordering::Relaxed) {
            break;
        }
        if let Err(e) = decide(sh, slot, nodes, &mut replica, s, &mut out) {
            sh.abort.store(true, Ordering::Relaxed);
            out.error = Some(e);
            break;
        }
    }
    out.steals = taker.steals;
    let t = std::mem::take(&mut s.tally);
    (out.commits, out.conflicts, out.retries, out.revalidated) = (t.commits, t.conflicts, t.retries, t.revalidated);
    out
}

/// Brings a worker's replica up to date with the ledger.
fn sync(sh: &Shared<'_>, nodes: &mut NodeTable, replica: &mut Replica) {
    sh.ledger.sync(replica, |slot, node| {
        let ok = nodes.allocate(node, &sh.jobs[sh.todo[slot as usize] as usize].request);
        debug_assert!(ok, "a replica replays commits the ledger admitted");
    });
}

/// An optimistic worker's [`Site`]: its replica of the node table, and the
/// cycle's [`Ledger`] as the commit (step 4).
struct Optimistic<'w, 'a> {
    sh: &'w Shared<'a>,
    slot: u32,
    nodes: &'w mut NodeTable,
    replica: &'w mut Replica,
    /// The commit's place in the log, once placed.
    seq: usize,
}

impl Site for Optimistic<'_, '_> {
    fn view(&self) -> Context<'_> {
        self.sh.cx(self.nodes)
    }
    fn candidates<'s>(
        &'s self,
        _: JobId,
        up: &'s [NodeId],
        _: &'s mut Vec<NodeId>,
        _: &mut Rejections,
    ) -> &'s [NodeId] {
        up
    }
    fn commit(&mut self, j: JobId, node: NodeId) -> Committed {
        let request = &self.sh.jobs[j as usize].request;
        let answer = self.sh.ledger.commit(self.slot, request, node, self.replica.version(node));
        sync(self.sh, self.nodes, self.replica);
        match answer {
            Commit::Placed { seq } => {
                self.seq = seq;
                Committed::Placed
            }
            Commit::NoRoom => Committed::NoRoom,
            Commit::Stale { .. } => Committed::Stale { revalidate: self.sh.conflict == ConflictCheck::Revalidate },
            Commit::Taken => unreachable!("a job slot is taken from the queues once"),
        }
    }
}

/// Decides the job in `slot` on the worker's replica and commits it (step 4).
fn decide(
    sh: &Shared<'_>,
    slot: u32,
    nodes: &mut NodeTable,
    replica: &mut Replica,
    s: &mut Scratch,
    out: &mut WorkerOut,
) -> Result<(), Error> {
    let j = sh.todo[slot as usize];
    let mut site = Optimistic { sh, slot, nodes, replica, seq: 0 };
    match decision::decide(sh.pipeline, j, sh.up_nodes, &mut site, None, s, None)? {
        Some(node) => out.placed.push((site.seq, j, node)),
        None => {
            let (reasons, unresolvable) = decision::unplaced(site.nodes, s);
            out.unplaced.push((j, reasons.to_vec(), unresolvable));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
