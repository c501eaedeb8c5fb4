//! Partition workers: under `partitioned`, the partitions that share nothing
//! this cycle decide their jobs at once, one worker per partition.
//!
//! # A partitioned cycle
//! 1. The partitions that neither lend nor borrow ([`Partitions::isolated`])
//!    are the *isolated* ones: their jobs may use only their own nodes, and no
//!    other partition's job may use those. Each isolated partition's pending
//!    jobs are ordered by their order keys (computed once, at the start of the
//!    cycle) and the free-capacity bound settles those that cannot fit.
//! 2. The partitions' workers run on up to as many threads as the machine has
//!    cores (at least two). A thread takes the next partition with work, resets
//!    its replica of the node table to the cycle's starting state, and decides
//!    the partition's jobs in order on it, exactly as the engine decides a job:
//!    the host's budget reasons, the filters on the candidate nodes, the scores,
//!    and the best node whose capacity and budget still hold the request. The
//!    worker keeps its own copy of its partition's usage, so it never spends
//!    more than its budget.
//! 3. The engine applies the placements partition by partition, in each
//!    worker's order (the table and the budget ledger check each again), and
//!    records the reasons of the jobs no node took.
//! 4. The jobs of partitions that lend or borrow, and jobs without a home, are
//!    then decided one by one on the engine's thread, as in a centralized cycle.
//!
//! A worker sees only its own placements of the cycle, never another
//! partition's; a plugin that reads nodes outside the candidates (none of the
//! built-in ones does) sees them as they were when the cycle began. Which
//! thread runs which partition changes nothing, so partitioned runs are
//! deterministic.
//!
//! A cycle runs this way only when at least two isolated partitions have jobs
//! and the cycle offers [`MIN_WORK_PER_WORKER`](crate::engine::workers::MIN_WORK_PER_WORKER)
//! (job, node) evaluations per thread (see [`Engine::set_min_work_per_worker`]);
//! otherwise it is an ordinary cycle with the budgets as candidates.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use kairos_model::{Context, JobId, NodeId, NodeTable, Qty, RejectionCount, Rejections};

use super::{Book, Partitions, NO_HOME};
use crate::engine::decision::{self, Committed, Scratch, Site};
use crate::engine::{Engine, JobState};
use crate::error::Error;

/// What one partition's worker did in a cycle.
#[derive(Default)]
struct PartitionOut {
    /// Placements, in the order the worker made them.
    placed: Vec<(JobId, NodeId)>,
    /// Jobs no node took: the job, its rejection counts, whether every node's
    /// reason is unresolvable.
    unplaced: Vec<(JobId, Vec<RejectionCount>, bool)>,
    error: Option<Error>,
}

impl Engine {
    /// One partitioned scheduling cycle (see the module docs); an ordinary
    /// cycle when fewer than two isolated partitions have enough work.
    pub(in crate::engine) fn run_partitioned_cycle(&mut self) -> Result<(), Error> {
        let Some(parts) = self.parts.as_ref() else { return self.run_cycle() };
        let isolated = parts.isolated();
        let np = isolated.len();
        // Step 1: which jobs are an isolated partition's.
        let mut mine = Vec::new();
        let mut rest = Vec::new();
        let mut work = vec![0usize; np];
        for &j in &self.pending {
            let h = parts.home(j);
            // A job asking for nothing passes every budget, so it could go abroad.
            let asks = self.jobs[j as usize].request.iter().any(|&r| r > 0);
            if h != NO_HOME && isolated[h as usize] && asks {
                mine.push(j);
                work[h as usize] += parts.up_of[h as usize].len().max(1);
            } else {
                rest.push(j);
            }
        }
        let busy = work.iter().filter(|&&w| w > 0).count();
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get()).max(2);
        let threads = busy.min(cores).min(work.iter().sum::<usize>() / self.min_work_per_worker.max(1));
        if threads < 2 {
            return self.run_cycle();
        }
        let ordered = self.static_order(&mine)?;
        self.stats.parallel_cycles += 1;
        // The cycle's jobs are in `mine` and `rest` now; what becomes pending
        // while the placements are applied is kept (see step 4).
        self.pending.clear();
        let mut lists: Vec<Vec<JobId>> = vec![Vec::new(); np];
        let mut skipped = Vec::new();
        let homes: Vec<u16> = ordered.iter().map(|&j| parts.home(j)).collect();
        for (j, h) in ordered.into_iter().zip(homes) {
            if self.worth_deciding(j) {
                lists[h as usize].push(j);
            } else {
                skipped.push(j);
            }
        }
        let parts = self.parts.as_ref().expect("checked above");
        // Step 2: the workers, biggest partition first.
        let mut todo: Vec<usize> = (0..np).filter(|&p| !lists[p].is_empty()).collect();
        todo.sort_by_key(|&p| std::cmp::Reverse(lists[p].len() * parts.up_of[p].len()));
        let threads = threads.min(todo.len()).max(1);
        let mut replicas = self.take_replicas(threads);
        let next = AtomicUsize::new(0);
        let abort = AtomicBool::new(false);
        let mut outs: Vec<(usize, PartitionOut)> = {
            let (engine, lists, todo, next, abort) = (&*self, &lists, &todo, &next, &abort);
            std::thread::scope(|scope| {
                let mut mine = replicas[..threads].iter_mut();
                let (nodes0, s0) = mine.next().expect("at least one thread");
                let handles: Vec<_> = mine
                    .map(|(nodes, s)| scope.spawn(move || engine.partition_thread(lists, todo, next, abort, nodes, s)))
                    .collect();
                let mut outs = engine.partition_thread(lists, todo, next, abort, nodes0, s0);
                for h in handles {
                    outs.extend(h.join().expect("a partition worker panicked"));
                }
                outs
            })
        };
        self.replicas = replicas;
        // Step 3: apply, partition by partition.
        outs.sort_by_key(|o| o.0);
        let mut error = None;
        for (_, out) in outs {
            for (j, node) in out.placed {
                assert!(
                    self.start_run(j, node),
                    "a partition worker placed job {j} on node {node}, which the host refuses"
                );
            }
            for (j, reasons, unresolvable) in out.unplaced {
                self.record_unplaced(j, &reasons, unresolvable);
            }
            error = error.or(out.error);
        }
        // Step 4: the others, one by one.
        let decided: Vec<JobId> = lists.into_iter().flatten().chain(skipped).collect();
        rest.append(&mut self.pending);
        self.pending = rest;
        let result = match error {
            Some(e) => Err(e),
            None => self.run_cycle(),
        };
        self.pending
            .extend(decided.into_iter().filter(|&j| matches!(self.recs[j as usize].state, JobState::Pending { .. })));
        result
    }

    /// One thread's share of step 2: partitions from `todo`, taken in turn.
    fn partition_thread(
        &self,
        lists: &[Vec<JobId>],
        todo: &[usize],
        next: &AtomicUsize,
        abort: &AtomicBool,
        nodes: &mut NodeTable,
        s: &mut Scratch,
    ) -> Vec<(usize, PartitionOut)> {
        let parts = self.parts.as_ref().expect("a partitioned cycle has partitions");
        let mut outs = Vec::new();
        let mut own = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(&p) = todo.get(i) else { break };
            if abort.load(Ordering::Relaxed) {
                break;
            }
            nodes.copy_allocation_from(&self.nodes);
            own.clear();
            own.extend_from_slice(&parts.own);
            let mut out = PartitionOut::default();
            for &j in &lists[p] {
                if abort.load(Ordering::Relaxed) {
                    break;
                }
                if let Err(e) = self.decide_in_partition(parts, j, nodes, &mut own, s, &mut out) {
                    abort.store(true, Ordering::Relaxed);
                    out.error = Some(e);
                    break;
                }
            }
            outs.push((p, out));
        }
        outs
    }

    /// Decides job `j` of an isolated partition on the worker's replica
    /// `nodes`, with the partitions' own usage `own` (step 2).
    fn decide_in_partition(
        &self,
        parts: &Partitions,
        j: JobId,
        nodes: &mut NodeTable,
        own: &mut [Qty],
        s: &mut Scratch,
        out: &mut PartitionOut,
    ) -> Result<(), Error> {
        let mut site = InPartition { engine: self, parts, own, nodes };
        let chosen = decision::decide(&self.pipeline, j, &self.up_nodes, &mut site, None, s, None);
        s.tally = Default::default();
        match chosen? {
            Some(node) => out.placed.push((j, node)),
            None => {
                let (reasons, unresolvable) = decision::unplaced(site.nodes, s);
                out.unplaced.push((j, reasons.to_vec(), unresolvable));
            }
        }
        Ok(())
    }
}

/// A partition worker's [`Site`]: its replica of the node table, its
/// partition's nodes within the budget as the candidates, and the budget as
/// part of the commit.
struct InPartition<'w> {
    engine: &'w Engine,
    parts: &'w Partitions,
    own: &'w mut [Qty],
    nodes: &'w mut NodeTable,
}

impl Site for InPartition<'_> {
    fn view(&self) -> Context<'_> {
        let e = self.engine;
        Context {
            now: e.now,
            nodes: self.nodes,
            resources: &e.resources,
            symbols: &e.symbols,
            usage: &e.usage,
            jobs: &e.jobs,
        }
    }
    fn candidates<'s>(
        &'s self,
        j: JobId,
        _: &'s [NodeId],
        buf: &'s mut Vec<NodeId>,
        rejections: &mut Rejections,
    ) -> &'s [NodeId] {
        self.parts.candidates_in(self.own, j, &self.engine.jobs[j as usize].request, buf, rejections);
        buf
    }
    fn commit(&mut self, j: JobId, node: NodeId) -> Committed {
        let request = &self.engine.jobs[j as usize].request;
        if !(self.parts.admits_in(self.own, j, node, request) && self.nodes.allocate(node, request)) {
            return Committed::NoRoom;
        }
        // An isolated partition's job runs at home: its own book.
        let (book, at) = self.parts.book_of(j, node);
        debug_assert_eq!(book, Book::Own, "an isolated partition places only at home");
        for (d, &r) in request.iter().enumerate() {
            self.own[at + d] += r;
        }
        Committed::Placed
    }
}
