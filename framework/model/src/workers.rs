//! How the host's parallel scheduler workers share pending jobs.
//!
//! With more than one scheduler worker (the `optimistic` architecture), the
//! host splits a cycle's pending jobs among workers, each holding its own
//! Chase-Lev deque. A worker whose deque runs dry first takes a batch from the
//! cycle's global queue (in order-key order), then steals from the other
//! workers. A [`StealPolicy`] — offered by a rebalance plugin through
//! [`crate::RebalancePlugin::steal_policy`], as the built-in `work-stealing`
//! does — decides how many workers there are, how many jobs one steal may take
//! and whom an idle worker robs.
//!
//! # When it runs
//! [`StealPolicy::victim`] is called from the worker threads themselves, while
//! they decide, whenever a worker has nothing queued and the global queue is
//! empty; so it must be cheap and may be called concurrently.
//!
//! # Outcomes
//! A victim index makes the worker try to steal up to [`StealPolicy::steal_batch`]
//! jobs from that worker's deque (the most urgent ones first); `None`, or a
//! steal that finds nothing, makes it try again until every deque is empty.
//! Nothing a policy returns can lose or duplicate a job: the deques only move
//! jobs between workers.

/// Decides how pending jobs are shared among scheduler workers.
pub trait StealPolicy: Send + Sync {
    /// Number of workers (≥ 1).
    fn workers(&self) -> usize;

    /// Most jobs one steal (or one refill from the global queue) may take (≥ 1).
    /// Smaller batches keep workers closer to the order; larger ones steal less often.
    fn steal_batch(&self) -> usize;

    /// The worker that idle worker `thief` should rob, given `queued[w]`, the
    /// number of jobs in worker `w`'s deque now; `attempt` counts the thief's
    /// steal attempts in this cycle, from 0. Returning `thief` itself or `None`
    /// skips this attempt.
    fn victim(&self, thief: usize, queued: &[usize], attempt: u32) -> Option<usize>;
}
