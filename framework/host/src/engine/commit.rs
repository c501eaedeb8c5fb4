//! The one authoritative commit of parallel scheduler workers.
//!
//! Workers decide on their own replica of the node table and commit here. The
//! [`Ledger`] holds, for the length of one scheduling cycle, the authoritative
//! free capacity of every node, a version per node (bumped by every commit on
//! it), which jobs are placed, and the log of commits in commit order.
//!
//! # The protocol
//! 1. A worker's replica is the cycle's starting allocation plus a prefix of the
//!    commit log; it knows the version of each node in that prefix
//!    ([`Replica`]).
//! 2. The worker decides a job on its replica and calls [`Ledger::commit`] with
//!    the chosen node and the version it saw.
//! 3. Under the ledger's lock, in this order:
//!    - a job already placed is refused ([`Commit::Taken`]): no job is placed twice;
//!    - a node whose version moved on since the worker saw it is refused
//!      ([`Commit::Stale`]): someone else committed there, so the decision was
//!      made on state that no longer holds — a *conflict*;
//!    - a request that does not fit the node's authoritative free capacity is
//!      refused ([`Commit::NoRoom`]) — whatever the worker's plugins said;
//!    - otherwise the capacity is taken, the version bumped, the commit logged
//!      ([`Commit::Placed`]).
//! 4. Whatever the answer, the worker then replays the log entries it has not
//!    seen into its replica ([`Ledger::sync`]), so its next decision (or the
//!    re-decision of a conflicting job) sees every commit made so far.
//!
//! Free capacity only ever decreases by a commit that fits, under the lock, so
//! it never goes below zero: capacity is never over-committed, whatever the
//! interleaving. The loom model test below checks it for every interleaving of
//! small cases (`RUSTFLAGS="--cfg loom" cargo test -p kairos-host --release --lib loom`).

#[cfg(loom)]
use loom::sync::Mutex;
#[cfg(not(loom))]
use std::sync::Mutex;

use kairos_model::Qty;

/// What [`Ledger::commit`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Commit {
    /// Committed: the job holds the capacity. `seq` is its place in the log.
    Placed {
        /// Position in the commit log.
        seq: usize,
    },
    /// The node changed since the worker's view (`now` is its version): decide again.
    Stale {
        /// The node's version now.
        now: u64,
    },
    /// The node's free capacity does not hold the request.
    NoRoom,
    /// The job was already placed by another commit.
    Taken,
}

/// One logged commit: job slot and node.
pub type Entry = (u32, u32);

struct State {
    dims: usize,
    /// Free allocatable capacity, `node * dims + dim`.
    free: Vec<Qty>,
    /// Commits per node so far.
    version: Vec<u64>,
    /// Whether each job slot is placed.
    taken: Vec<bool>,
    /// Every commit, in commit order.
    log: Vec<Entry>,
}

/// The authoritative allocation of one parallel cycle. See the module docs.
pub struct Ledger {
    state: Mutex<State>,
}

impl Ledger {
    /// A ledger over nodes with `free` capacity (`node * dims + dim`) and `jobs`
    /// job slots, none placed.
    pub fn new(dims: usize, free: Vec<Qty>, jobs: usize) -> Ledger {
        let nodes = free.len().checked_div(dims).unwrap_or(0);
        Ledger {
            state: Mutex::new(State {
                dims,
                free,
                version: vec![0; nodes],
                taken: vec![false; jobs],
                log: Vec::with_capacity(jobs),
            }),
        }
    }

    /// Commits job slot `job` (asking `request`) on `node`, decided on a view in
    /// which `node` had version `seen` (step 3 of the protocol).
    pub fn commit(&self, job: u32, request: &[Qty], node: u32, seen: u64) -> Commit {
        let mut s = self.state.lock().unwrap();
        if s.taken[job as usize] {
            return Commit::Taken;
        }
        let now = s.version[node as usize];
        if now != seen {
            return Commit::Stale { now };
        }
        let base = node as usize * s.dims;
        if request.iter().enumerate().any(|(d, &r)| r > s.free[base + d]) {
            return Commit::NoRoom;
        }
        for (d, &r) in request.iter().enumerate() {
            s.free[base + d] -= r;
        }
        s.version[node as usize] += 1;
        s.taken[job as usize] = true;
        s.log.push((job, node));
        Commit::Placed { seq: s.log.len() - 1 }
    }

    /// Replays into `replica` every commit it has not seen (step 4), calling
    /// `apply(job, node)` for each, in commit order.
    pub fn sync(&self, replica: &mut Replica, mut apply: impl FnMut(u32, u32)) {
        let s = self.state.lock().unwrap();
        for &(job, node) in &s.log[replica.cursor..] {
            replica.version[node as usize] += 1;
            apply(job, node);
        }
        replica.cursor = s.log.len();
    }

    /// The commits, in commit order, and the free capacity left (for checks).
    pub fn into_parts(self) -> (Vec<Entry>, Vec<Qty>) {
        let s = self.state.into_inner().unwrap();
        (s.log, s.free)
    }
}

/// What a worker knows of the ledger: how much of the log its replica holds and
/// the version of each node in that prefix.
#[derive(Clone, Debug, Default)]
pub struct Replica {
    cursor: usize,
    version: Vec<u64>,
}

impl Replica {
    /// A replica of the cycle's starting state, over `nodes` nodes.
    pub fn new(nodes: usize) -> Replica {
        Replica { cursor: 0, version: vec![0; nodes] }
    }

    /// The version of `node` this replica has seen.
    #[inline]
    pub fn version(&self, node: u32) -> u64 {
        self.version[node as usize]
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_commit_is_refused_when_the_job_is_placed_the_node_moved_on_or_the_request_does_not_fit() {
        let ledger = Ledger::new(1, vec![3, 3], 3);
        let mut r = Replica::new(2);
        let cases = [
            ("the first commit on a node is placed", 0, 2, 0, 0, Commit::Placed { seq: 0 }),
            ("the same job again is taken", 0, 1, 1, 0, Commit::Taken),
            ("a commit on the old version is stale", 1, 1, 0, 0, Commit::Stale { now: 1 }),
            ("a commit on the new version that does not fit has no room", 1, 2, 0, 1, Commit::NoRoom),
            ("a commit on the new version that fits is placed", 1, 1, 0, 1, Commit::Placed { seq: 1 }),
        ];
        for (case, job, req, node, seen, want) in cases {
            assert_eq!(ledger.commit(job, &[req], node, seen), want, "{case}");
        }
        let mut replayed = Vec::new();
        ledger.sync(&mut r, |j, n| replayed.push((j, n)));
        assert_eq!(replayed, [(0, 0), (1, 0)]);
        assert_eq!(r.version(0), 2);
        ledger.sync(&mut r, |_, _| panic!("nothing new"));
        let (log, free) = ledger.into_parts();
        assert_eq!((log.len(), free), (2, vec![0, 3]));
    }

    #[test]
    fn many_threads_committing_at_once_never_over_commit_nor_place_a_job_twice() {
        // 8 threads each try every one of 200 jobs of 1..=3 units on 5 nodes of 40,
        // re-deciding on a fresh version after each stale answer.
        let (nodes, jobs) = (5u32, 200u32);
        let ledger = Ledger::new(1, vec![40; nodes as usize], jobs as usize);
        let request = |j: u32| Qty::from(j % 3 + 1);
        std::thread::scope(|scope| {
            for t in 0..8u32 {
                let ledger = &ledger;
                scope.spawn(move || {
                    let mut replica = Replica::new(nodes as usize);
                    for k in 0..jobs {
                        let j = (k + t * 25) % jobs;
                        let mut node = (j + t) % nodes;
                        for _ in 0..nodes * 4 {
                            match ledger.commit(j, &[request(j)], node, replica.version(node)) {
                                Commit::Placed { .. } | Commit::Taken => break,
                                Commit::Stale { .. } => ledger.sync(&mut replica, |_, _| {}),
                                Commit::NoRoom => node = (node + 1) % nodes,
                            }
                        }
                    }
                });
            }
        });
        let (log, free) = ledger.into_parts();
        let mut seen = vec![false; jobs as usize];
        let mut used = vec![0; nodes as usize];
        for &(j, n) in &log {
            assert!(!std::mem::replace(&mut seen[j as usize], true), "job {j} placed twice");
            used[n as usize] += request(j);
        }
        for n in 0..nodes as usize {
            assert_eq!(used[n] + free[n], 40, "node {n}: the log and the free capacity agree");
        }
        assert!(used.iter().all(|&u| u <= 40));
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// A worker: commits `job` on node 0, re-deciding on stale answers, as the
    /// engine's workers do. Returns whether it placed the job.
    fn worker(ledger: &Ledger, job: u32, request: Qty) -> bool {
        let mut replica = Replica::new(1);
        loop {
            match ledger.commit(job, &[request], 0, replica.version(0)) {
                Commit::Placed { .. } => return true,
                Commit::Taken | Commit::NoRoom => return false,
                Commit::Stale { .. } => ledger.sync(&mut replica, |_, _| {}),
            }
        }
    }

    #[test]
    fn loom_two_workers_never_sell_the_last_unit_twice() {
        loom::model(|| {
            let ledger = Arc::new(Ledger::new(1, vec![1], 2));
            let other = Arc::clone(&ledger);
            let t = loom::thread::spawn(move || worker(&other, 1, 1));
            let a = worker(&ledger, 0, 1);
            let b = t.join().unwrap();
            assert!(a ^ b, "exactly one of two one-unit jobs fits one unit");
            let ledger = Arc::try_unwrap(ledger).ok().expect("both workers are done");
            let (log, free) = ledger.into_parts();
            assert_eq!((log.len(), free), (1, vec![0]));
        });
    }

    #[test]
    fn loom_two_workers_holding_the_same_job_place_it_once() {
        loom::model(|| {
            let ledger = Arc::new(Ledger::new(1, vec![5], 1));
            let other = Arc::clone(&ledger);
            let t = loom::thread::spawn(move || worker(&other, 0, 2));
            let a = worker(&ledger, 0, 2);
            let b = t.join().unwrap();
            assert!(a ^ b, "one worker places the job, the other finds it taken");
            let ledger = Arc::try_unwrap(ledger).ok().expect("both workers are done");
            assert_eq!(ledger.into_parts(), (vec![(0, 0)], vec![3]));
        });
    }

    #[test]
    fn loom_concurrent_commits_that_both_fit_both_land_after_a_retry() {
        loom::model(|| {
            let ledger = Arc::new(Ledger::new(1, vec![4], 2));
            let other = Arc::clone(&ledger);
            let t = loom::thread::spawn(move || worker(&other, 1, 2));
            let a = worker(&ledger, 0, 2);
            let b = t.join().unwrap();
            assert!(a && b);
            let ledger = Arc::try_unwrap(ledger).ok().expect("both workers are done");
            let (log, free) = ledger.into_parts();
            assert_eq!((log.len(), free), (2, vec![0]));
        });
    }
}
