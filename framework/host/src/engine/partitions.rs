//! The `partitioned` architecture: one worker per partition, budgets granted by
//! a global layer, and how a partition recovers when its nodes fail.
//!
//! # Partitions and homes
//! Nodes fall into partitions by region (or zone: the architecture's `by`). A
//! job's *home* is the partition named by its group; a job whose group names
//! no partition has none and may go anywhere a home job of that partition
//! could.
//!
//! # What a decision sees
//! A job is decided on the up nodes of its home partition, plus the up nodes of
//! each other partition whose *grant* to its home still holds the request. The
//! others are turned away as data, by the host: `outside-budget` (a foreign
//! partition that granted too little), `reserved-for-recovery` (a home
//! partition whose capacity is lent out). The host checks the budget again when
//! it commits, so a partition never holds more of another's capacity than it
//! was granted.
//!
//! # The budget ledger, per resource
//! For each partition `q`: `own[q]`, what jobs at home (and jobs without a home)
//! hold on its nodes; for each pair `q → p`: `lent[q→p]`, what `p`'s jobs hold on
//! `q`'s nodes, and `grant[q→p]`, what `q` granted `p` (never below `lent`). The
//! unused part of a grant is a *reservation*: `q`'s own jobs may use at most
//! `allocatable(q) − Σₚ max(grant, lent)[q→p]`.
//!
//! # The global layer (every `rebalance_s`)
//! 1. **Repair.** `own` and `lent` are recomputed from the running jobs; any
//!    difference from the incrementally kept figures is a leaked reservation,
//!    fixed and counted.
//! 2. **Demand.** For each pending job with a home `p` (the first
//!    [`DEMAND_JOBS`] per partition, in pending order), each other partition `q`
//!    with an up node that passes the job's filters now is asked for the job's
//!    request.
//! 3. **Spare.** A partition lends at most `recovery_percent` of its up
//!    allocatable capacity in all, and never what its own pending jobs ask for
//!    or its jobs hold.
//! 4. **Grants.** Each lender's spare is shared among the partitions asking, in
//!    proportion to what they ask; a grant is what the borrower holds plus its
//!    share.
//! 5. **Expiry.** A grant whose borrower has not asked for `lease_s` seconds
//!    shrinks back to what the borrower holds: the reservation is reclaimed.
//!    Nothing running is ever revoked.
//!
//! A round runs when a timer fires, `rebalance_s` after the last, while jobs are
//! pending or reservations are held, and at once when a node fails: the failed
//! partition's stopped jobs are weighed in the same instant, and go abroad as
//! far as the lenders' spare allows. The recovery report shows how long the
//! rest took.
//!
//! # Workers and determinism
//! A partition that neither lends nor borrows this cycle (no grant to or from
//! it has room left) shares nothing with the others: its worker decides its
//! jobs on a thread of its own, at the same time as the other such partitions
//! (`partitions/workers.rs`). The jobs of partitions that lend or borrow, and jobs
//! without a home, are decided after them, one by one, on the engine's
//! thread. Runs are deterministic: a worker sees the cycle's starting state
//! and its own placements only, whichever thread runs it, and its placements
//! are applied in partition order.

use std::collections::BTreeMap;

use kairos_model::{Job, JobId, NodeId, NodeTable, Qty, Reason, Rejections, Sym, Time};
use serde::Serialize;

use super::decision::{filter_nodes, Scratch};
use super::{Engine, JobState, Outcome, FILTER_CHUNK, HOST_PLUGIN};
use crate::architecture::{Architecture, PartitionBy};

/// No home partition.
pub const NO_HOME: u16 = u16::MAX;

/// Pending jobs per partition whose demand a budget round weighs: the round
/// runs filters over other partitions' nodes for each, so it is bounded.
pub const DEMAND_JOBS: usize = 1_000;

/// The partitions' state: who is where, the budget ledger, and the outages.
#[derive(Clone, Debug)]
pub struct Partitions {
    /// Partition names (regions or zones), in order of first node.
    pub names: Vec<Sym>,
    of_node: Vec<u16>,
    up_of: Vec<Vec<NodeId>>,
    nodes_of: Vec<u32>,
    /// Home partition of each job ([`NO_HOME`] for none).
    home: Vec<u16>,
    dims: usize,
    alloc_up: Vec<Qty>,
    own: Vec<Qty>,
    lent: Vec<Qty>,
    grant: Vec<Qty>,
    last_asked: Vec<Time>,
    rebalance_s: Time,
    recovery_percent: u32,
    lease_s: Time,
    /// When the next round of the global layer is due.
    pub(super) next_round: Option<Time>,
    /// Counters, for the report.
    pub stats: BudgetStats,
    per: Vec<PartitionCounts>,
    outages: Vec<Outage>,
    open: Vec<Option<usize>>,
}

/// The two books of the budget ledger (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Book {
    /// `own[q]`: what runs on partition `q`'s nodes on its own account.
    Own,
    /// `lent[q→p]`: what `p`'s jobs hold on `q`'s nodes.
    Lent,
}

/// What the global layer did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BudgetStats {
    /// Rounds run.
    pub rounds: u64,
    /// Grants raised for a borrower that asked (a pair and a round each).
    pub grants: u64,
    /// Reservations reclaimed because their borrower stopped asking.
    pub reclaimed: u64,
    /// Usage figures the repair found wrong and fixed.
    pub leaks_repaired: u64,
}

/// One partition's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PartitionCounts {
    /// Nodes in it.
    pub nodes: u32,
    /// Jobs whose home it is.
    pub jobs: u32,
    /// Placements of its jobs on its own nodes.
    pub placed_home: u64,
    /// Placements of its jobs on other partitions' nodes.
    pub placed_abroad: u64,
    /// Placements of other partitions' jobs on its nodes.
    pub hosted: u64,
}

/// A stretch of time during which some node of a partition was down.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outage {
    /// The partition (index into [`Partitions::names`]).
    pub partition: u16,
    /// When its first node failed.
    pub down_at: Time,
    /// When its last node came back, if it did.
    pub up_at: Option<Time>,
    /// Nodes down at the worst moment.
    pub nodes_down: u32,
    /// Running jobs the failures stopped (re-queued or lost).
    pub displaced: u32,
    /// Of those, lost (they cannot restart).
    pub lost: u32,
    /// Placements of the partition's jobs abroad during the outage, by lender.
    pub absorbed_by: BTreeMap<u16, u32>,
    /// The first of them.
    pub first_absorbed_at: Option<Time>,
    /// When every displaced job that could restart was running again (or had
    /// ended): the outage's recovery time is this minus `down_at`.
    pub recovered_at: Option<Time>,
    /// The partition's jobs the outage overlapped that ended missed —
    /// released before it ended, missed after it began — with when.
    pub missed: Vec<(JobId, Time)>,
    #[serde(skip)]
    waiting: Vec<JobId>,
}

impl Partitions {
    /// Partitions of `nodes` under `arch`, or `None` when it is not `partitioned`.
    pub fn new(arch: Architecture, nodes: &NodeTable) -> Option<Partitions> {
        let Architecture::Partitioned { by, rebalance_s, recovery_percent, lease_s } = arch else { return None };
        let attr = match by {
            PartitionBy::Region => &nodes.region,
            PartitionBy::Zone => &nodes.zone,
        };
        let mut names: Vec<Sym> = Vec::new();
        let of_node: Vec<u16> = attr
            .iter()
            .map(|&s| match names.iter().position(|&n| n == s) {
                Some(i) => i as u16,
                None => {
                    names.push(s);
                    (names.len() - 1) as u16
                }
            })
            .collect();
        let np = names.len();
        let dims = nodes.dims();
        let mut nodes_of = vec![0; np];
        for &p in &of_node {
            nodes_of[p as usize] += 1;
        }
        let mut parts = Partitions {
            names,
            of_node,
            up_of: vec![Vec::new(); np],
            nodes_of,
            home: Vec::new(),
            dims,
            alloc_up: vec![0; np * dims],
            own: vec![0; np * dims],
            lent: vec![0; np * np * dims],
            grant: vec![0; np * np * dims],
            last_asked: vec![Time::MIN; np * np],
            rebalance_s,
            recovery_percent,
            lease_s,
            next_round: None,
            stats: BudgetStats::default(),
            per: vec![PartitionCounts::default(); np],
            outages: Vec::new(),
            open: vec![None; np],
        };
        for (p, c) in parts.per.iter_mut().enumerate() {
            c.nodes = parts.nodes_of[p];
        }
        parts.refresh(nodes);
        Some(parts)
    }

    fn pair(&self, lender: usize, borrower: usize) -> usize {
        lender * self.names.len() + borrower
    }

    /// The partition of node `n`.
    pub fn of_node(&self, n: NodeId) -> u16 {
        self.of_node[n as usize]
    }

    /// The home partition of job `j`.
    pub fn home(&self, j: JobId) -> u16 {
        self.home.get(j as usize).copied().unwrap_or(NO_HOME)
    }

    /// Records a submitted job's home.
    pub(super) fn on_submit(&mut self, job: &Job) {
        let h = self.names.iter().position(|&n| n == job.group).map_or(NO_HOME, |p| p as u16);
        if h != NO_HOME {
            self.per[h as usize].jobs += 1;
        }
        self.home.push(h);
    }

    /// Re-reads which nodes are up and the partitions' up capacity.
    pub(super) fn refresh(&mut self, nodes: &NodeTable) {
        let dims = self.dims;
        self.up_of.iter_mut().for_each(Vec::clear);
        self.alloc_up.iter_mut().for_each(|a| *a = 0);
        for n in 0..nodes.len() as NodeId {
            if nodes.is_up(n) {
                let p = self.of_node[n as usize] as usize;
                self.up_of[p].push(n);
                for (d, &a) in nodes.allocatable(n).iter().enumerate() {
                    self.alloc_up[p * dims + d] += a;
                }
            }
        }
    }

    /// What `j`'s run on `node` holds: on the node's partition's own account or
    /// on the lender's account to the job's home.
    fn account(&mut self, j: JobId, node: NodeId, request: &[Qty], sign: i64) {
        let (book, at) = self.book_of(j, node);
        let book = match book {
            Book::Own => &mut self.own,
            Book::Lent => &mut self.lent,
        };
        for (d, &r) in request.iter().enumerate() {
            book[at + d] = (book[at + d] as i64 + sign * r as i64).max(0) as Qty;
        }
    }

    /// Where a run of `j` on `node` is kept: in the node's partition's own
    /// usage (a job at home, or without a home) or in the loan of the node's
    /// partition to the job's home; and at which offset of that book.
    fn book_of(&self, j: JobId, node: NodeId) -> (Book, usize) {
        let (h, q) = (self.home(j), self.of_node(node) as usize);
        if h == NO_HOME || h as usize == q {
            (Book::Own, q * self.dims)
        } else {
            (Book::Lent, self.pair(q, h as usize) * self.dims)
        }
    }

    /// What partition `q` has granted the others in resource `d`: its nodes'
    /// capacity its own jobs may not use.
    fn reserved(&self, q: usize, d: usize) -> Qty {
        (0..self.names.len()).map(|p| self.grant[self.pair(q, p) * self.dims + d]).sum()
    }

    /// Counts a run that was already going when the partitions were built.
    pub(super) fn account_running(&mut self, j: JobId, node: NodeId, request: &[Qty]) {
        self.account(j, node, request, 1);
    }

    /// Raises every grant to what its borrower holds (after
    /// [`Partitions::account_running`]): runs that went abroad before the
    /// partitions were built hold a grant of that size.
    pub(super) fn grant_what_is_held(&mut self) {
        for (g, &l) in self.grant.iter_mut().zip(&self.lent) {
            *g = (*g).max(l);
        }
    }

    /// Carries the counters and outages of the partitions this replaces (a
    /// pipeline swap), when the partitions are the same.
    pub(super) fn keep_history(&mut self, stats: BudgetStats, outages: Vec<Outage>) {
        if outages.iter().all(|o| (o.partition as usize) < self.names.len()) {
            self.stats = stats;
            for o in outages {
                if o.up_at.is_none() {
                    self.open[o.partition as usize] = Some(self.outages.len());
                }
                self.outages.push(o);
            }
        }
    }

    /// A run of `j` started on `node` at `now`.
    pub(super) fn on_start(&mut self, j: JobId, node: NodeId, request: &[Qty], now: Time) {
        self.account(j, node, request, 1);
        let (h, q) = (self.home(j), self.of_node(node));
        if h == NO_HOME {
            return;
        }
        if h == q {
            self.per[h as usize].placed_home += 1;
        } else {
            self.per[h as usize].placed_abroad += 1;
            self.per[q as usize].hosted += 1;
            if let Some(o) = self.open[h as usize] {
                let o = &mut self.outages[o];
                *o.absorbed_by.entry(q).or_default() += 1;
                o.first_absorbed_at.get_or_insert(now);
            }
        }
        self.settle(j, now);
    }

    /// A run of `j` on `node` stopped (completed, evicted, moved or failed).
    pub(super) fn on_stop(&mut self, j: JobId, node: NodeId, request: &[Qty]) {
        self.account(j, node, request, -1);
    }

    /// `j`, released at `release`, ended (any outcome) at `now`. A miss of a
    /// job the partition's last outage overlapped (released before it ended,
    /// missed after it began) is that outage's.
    pub(super) fn on_finish(&mut self, j: JobId, release: Time, outcome: &Outcome, now: Time) {
        let h = self.home(j);
        if let (true, Outcome::Missed { at, .. }) = (h != NO_HOME, outcome) {
            if let Some(o) = self.outages.iter_mut().rev().find(|o| o.partition == h) {
                if *at >= o.down_at && o.up_at.is_none_or(|up| release <= up) {
                    o.missed.push((j, *at));
                }
            }
        }
        self.settle(j, now);
    }

    /// `j` no longer waits for a place: an outage waiting on it may be over.
    fn settle(&mut self, j: JobId, now: Time) {
        for o in self.outages.iter_mut().filter(|o| o.recovered_at.is_none() && !o.waiting.is_empty()) {
            if let Some(i) = o.waiting.iter().position(|&w| w == j) {
                o.waiting.swap_remove(i);
                if o.waiting.is_empty() {
                    o.recovered_at = Some(now);
                }
            }
        }
    }

    /// Node `n` failed at `now`: `requeued` jobs were stopped and wait for a
    /// place again, `lost` more could not restart; `nodes` is the table after
    /// the failure.
    pub(super) fn on_fail(&mut self, n: NodeId, requeued: &[JobId], lost: u32, now: Time, nodes: &NodeTable) {
        let p = self.of_node(n) as usize;
        let o = match self.open[p] {
            Some(o) => o,
            None => {
                self.outages.push(Outage { partition: p as u16, down_at: now, ..Default::default() });
                self.open[p] = Some(self.outages.len() - 1);
                self.outages.len() - 1
            }
        };
        self.refresh(nodes);
        let down = self.nodes_of[p] - self.up_of[p].len() as u32;
        let o = &mut self.outages[o];
        o.nodes_down = o.nodes_down.max(down);
        o.displaced += requeued.len() as u32 + lost;
        o.lost += lost;
        o.recovered_at = None;
        o.waiting.extend_from_slice(requeued);
        if o.waiting.is_empty() {
            o.recovered_at = Some(now);
        }
    }

    /// Node `n` is back at `now`; `nodes` is the table after it.
    pub(super) fn on_recover(&mut self, n: NodeId, now: Time, nodes: &NodeTable) {
        self.refresh(nodes);
        let p = self.of_node(n) as usize;
        if self.up_of[p].len() as u32 == self.nodes_of[p] {
            if let Some(o) = self.open[p].take() {
                self.outages[o].up_at = Some(now);
            }
        }
    }

    /// The nodes job `j` (asking `request`) may be decided on, into `out`; the
    /// others' reasons into `rejections`.
    pub(super) fn candidates(&self, j: JobId, request: &[Qty], out: &mut Vec<NodeId>, rejections: &mut Rejections) {
        self.candidates_in(&self.own, j, request, out, rejections);
    }

    /// [`Partitions::candidates`] with the partitions' own usage taken from
    /// `own` (a partition worker's copy) instead of the ledger.
    fn candidates_in(
        &self,
        own: &[Qty],
        j: JobId,
        request: &[Qty],
        out: &mut Vec<NodeId>,
        rejections: &mut Rejections,
    ) {
        out.clear();
        let h = self.home(j);
        let dims = self.dims;
        for q in 0..self.names.len() {
            let up = &self.up_of[q];
            if up.is_empty() {
                continue;
            }
            let short = if h == NO_HOME || h as usize == q {
                (0..dims).find_map(|d| {
                    let reserved = self.reserved(q, d);
                    // Only a shortfall the reservations cause: a plain lack of
                    // capacity is the filters' to report.
                    let free = self.alloc_up[q * dims + d].saturating_sub(own[q * dims + d]);
                    let room = free.saturating_sub(reserved);
                    (request[d] > room && request[d] <= free)
                        .then(|| Reason::resource("reserved-for-recovery", d, request[d], room, false))
                })
            } else {
                let at = self.pair(q, h as usize) * dims;
                (0..dims).find_map(|d| {
                    let room = self.grant[at + d].saturating_sub(self.lent[at + d]);
                    (request[d] > room).then(|| Reason::resource("outside-budget", d, request[d], room, false))
                })
            };
            match short {
                None => out.extend_from_slice(up),
                Some(r) => rejections.record_nodes(HOST_PLUGIN, up, r),
            }
        }
    }

    /// Whether job `j` may still commit `request` on `node` under the budgets.
    pub(super) fn admits(&self, j: JobId, node: NodeId, request: &[Qty]) -> bool {
        self.admits_in(&self.own, j, node, request)
    }

    /// [`Partitions::admits`] with the partitions' own usage taken from `own`.
    fn admits_in(&self, own: &[Qty], j: JobId, node: NodeId, request: &[Qty]) -> bool {
        let (h, q) = (self.home(j), self.of_node(node) as usize);
        let dims = self.dims;
        if h == NO_HOME || h as usize == q {
            (0..dims).all(|d| {
                own[q * dims + d] + self.reserved(q, d) + request[d] <= self.alloc_up[q * dims + d] || request[d] == 0
            })
        } else {
            let at = self.pair(q, h as usize) * dims;
            (0..dims).all(|d| self.lent[at + d] + request[d] <= self.grant[at + d] || request[d] == 0)
        }
    }

    /// Which partitions no other can reach this cycle: no grant to or from
    /// them has room left, so their jobs go only to their own nodes and no
    /// other partition's job goes there. Their workers can decide at once.
    pub(super) fn isolated(&self) -> Vec<bool> {
        let (np, dims) = (self.names.len(), self.dims);
        let mut isolated = vec![true; np];
        for q in 0..np {
            for p in (0..np).filter(|&p| p != q) {
                let at = self.pair(q, p) * dims;
                if (0..dims).any(|d| self.grant[at + d] > self.lent[at + d]) {
                    isolated[q] = false;
                    isolated[p] = false;
                }
            }
        }
        isolated
    }

    /// Whether some grant holds an unused reservation.
    fn holds_reservations(&self) -> bool {
        self.grant.iter().zip(&self.lent).any(|(g, l)| g > l)
    }

    /// Each partition's figures, with its name.
    pub fn counts(&self) -> impl Iterator<Item = (Sym, &PartitionCounts)> {
        self.names.iter().copied().zip(&self.per)
    }

    /// The outages seen so far, in order.
    pub fn outages(&self) -> &[Outage] {
        &self.outages
    }

    /// What `borrower`'s jobs hold on `lender`'s nodes now, per resource.
    pub fn lent(&self, lender: usize, borrower: usize) -> &[Qty] {
        let at = self.pair(lender, borrower) * self.dims;
        &self.lent[at..at + self.dims]
    }

    /// What `lender` has granted `borrower` now, per resource.
    pub fn grant(&self, lender: usize, borrower: usize) -> &[Qty] {
        let at = self.pair(lender, borrower) * self.dims;
        &self.grant[at..at + self.dims]
    }
}

impl Engine {
    /// One round of the global layer (see the module docs), at `self.now`.
    pub(super) fn budget_round(&mut self) -> Result<(), super::Error> {
        let Some(mut parts) = self.parts.take() else { return Ok(()) };
        let result = self.budget_round_with(&mut parts);
        self.parts = Some(parts);
        result
    }

    fn budget_round_with(&mut self, parts: &mut Partitions) -> Result<(), super::Error> {
        let (np, dims, now) = (parts.names.len(), parts.dims, self.now);
        parts.stats.rounds += 1;
        parts.next_round = None;
        // 1. Repair.
        let (mut own, mut lent) = (vec![0 as Qty; np * dims], vec![0 as Qty; np * np * dims]);
        for &j in &self.running {
            let JobState::Running { node, .. } = self.recs[j as usize].state else { continue };
            let (book, at) = match parts.book_of(j, node) {
                (Book::Own, at) => (&mut own, at),
                (Book::Lent, at) => (&mut lent, at),
            };
            for (d, &r) in self.jobs[j as usize].request.iter().enumerate() {
                book[at + d] += r;
            }
        }
        let wrong = |a: &[Qty], b: &[Qty]| a.chunks(dims).zip(b.chunks(dims)).filter(|(x, y)| x != y).count();
        parts.stats.leaks_repaired += (wrong(&own, &parts.own) + wrong(&lent, &parts.lent)) as u64;
        parts.own = own;
        parts.lent = lent;
        parts.grant_what_is_held();
        // 2. Demand: asked[(lender, borrower)], and each partition's own pending.
        let mut asked = vec![0 as Qty; np * np * dims];
        let mut own_pending = vec![0 as Qty; np * dims];
        let mut weighed = vec![0usize; np];
        let mut s = Scratch::default();
        let pipeline = std::sync::Arc::clone(&self.pipeline);
        for &j in &self.pending {
            let h = parts.home(j);
            if h == NO_HOME || weighed[h as usize] >= DEMAND_JOBS {
                continue;
            }
            weighed[h as usize] += 1;
            let job = &self.jobs[j as usize];
            for (d, &r) in job.request.iter().enumerate() {
                own_pending[h as usize * dims + d] += r;
            }
            for q in (0..np).filter(|&q| q != h as usize) {
                let mut passes = false;
                for chunk in parts.up_of[q].chunks(FILTER_CHUNK) {
                    s.cands.clear();
                    s.rejections.clear();
                    filter_nodes(&pipeline, job, &self.context(), chunk, &mut s)?;
                    if !s.cands.is_empty() {
                        passes = true;
                        break;
                    }
                }
                if passes {
                    let at = parts.pair(q, h as usize) * dims;
                    for (d, &r) in job.request.iter().enumerate() {
                        asked[at + d] += r;
                    }
                    let pair = parts.pair(q, h as usize);
                    parts.last_asked[pair] = now;
                }
            }
        }
        // 3–5. Spare, grants, expiry, lender by lender.
        for q in 0..np {
            let mut spare = vec![0 as Qty; dims];
            for (d, sp) in spare.iter_mut().enumerate() {
                let alloc = parts.alloc_up[q * dims + d];
                let lent_out: Qty = (0..np).map(|p| parts.lent[parts.pair(q, p) * dims + d]).sum();
                let cap = alloc * parts.recovery_percent as Qty / 100;
                let free = alloc.saturating_sub(parts.own[q * dims + d] + lent_out + own_pending[q * dims + d]);
                *sp = cap.saturating_sub(lent_out).min(free);
            }
            let total: Vec<Qty> =
                (0..dims).map(|d| (0..np).map(|p| asked[parts.pair(q, p) * dims + d]).sum()).collect();
            for p in (0..np).filter(|&p| p != q) {
                let pair = parts.pair(q, p);
                let at = pair * dims;
                if asked[at..at + dims].iter().any(|&a| a > 0) {
                    let mut raised = false;
                    for d in 0..dims {
                        let share = if total[d] == 0 {
                            0
                        } else {
                            let fair = (spare[d] as u128 * asked[at + d] as u128 / total[d] as u128) as Qty;
                            fair.min(asked[at + d])
                        };
                        let g = parts.lent[at + d] + share;
                        raised |= g > parts.grant[at + d];
                        parts.grant[at + d] = g;
                    }
                    parts.stats.grants += raised as u64;
                } else if now.saturating_sub(parts.last_asked[pair]) >= parts.lease_s {
                    let held = (0..dims).any(|d| parts.grant[at + d] > parts.lent[at + d]);
                    if held {
                        parts.stats.reclaimed += 1;
                        parts.grant[at..at + dims].copy_from_slice(&parts.lent[at..at + dims]);
                    }
                }
            }
        }
        Ok(())
    }

    /// Arms the global layer's timer when something needs a round: pending
    /// jobs, or reservations to reclaim. Rounds stop after
    /// [`super::RETRY_IDLE_LIMIT_S`] without progress (no release, start or
    /// completion), so a job no budget will ever let run ends the run pending,
    /// with its reasons, instead of keeping it going for ever.
    pub(super) fn arm_budget_round(&mut self) {
        let idle = self.now.saturating_sub(self.last_progress) >= super::RETRY_IDLE_LIMIT_S;
        let Some(parts) = &mut self.parts else { return };
        if parts.next_round.is_none() && !idle && (!self.pending.is_empty() || parts.holds_reservations()) {
            let at = self.now.saturating_add(parts.rebalance_s);
            parts.next_round = Some(at);
            self.timers.insert((at, super::TIMER_BUDGET, JobId::MAX));
        }
    }
}

#[cfg(test)]
mod tests;
mod workers;
