//! The **rebalance** extension point: move work after placement.
//!
//! # When it runs
//! At the end of every scheduling cycle, after the cycle's placements, each
//! rebalance plugin in pipeline order sees the running jobs and proposes moves.
//!
//! # Outcomes
//! A proposal is only a proposal. The host validates each [`Move`] against the
//! state as it is when the move is applied — the job is still running, the target
//! is up, the pipeline's filters accept the target and the job's request fits its
//! free capacity — and applies it or records why not. A migrated job keeps its
//! progress; an evicted job goes back to pending and restarts from scratch. Moves
//! are counted in the report.
//!
//! A plugin that knows *which* job should move but not *where* proposes
//! [`Move::Relocate`]: the host then runs the pipeline's filters and scores for
//! the job over every up node but its current one and migrates it to the best
//! that holds it, as it would place a pending job — or leaves it where it is
//! when no node does.

use crate::context::Context;
use crate::job::JobId;
use crate::node::NodeId;
use crate::plugin::PluginResult;
use crate::time::Time;
use crate::workers::StealPolicy;

/// A job running now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Running {
    /// The job.
    pub job: JobId,
    /// Where it runs.
    pub node: NodeId,
    /// When it started there.
    pub started: Time,
    /// When it is expected to end, by its estimate.
    pub expected_end: Time,
}

/// A move proposed by a rebalance plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// Move a running job to another node, keeping its progress.
    Migrate {
        /// The job.
        job: JobId,
        /// Target node.
        to: NodeId,
    },
    /// Move a running job to another node, keeping its progress, at a cost:
    /// the job makes no progress for `pause` seconds (its state is copied), so
    /// it ends that much later. The host refuses the move if that would make it
    /// finish after its deadline.
    MigrateWithPause {
        /// The job.
        job: JobId,
        /// Target node.
        to: NodeId,
        /// Seconds without progress.
        pause: Time,
    },
    /// Move a running job, keeping its progress, to the node the pipeline's
    /// filters and scores choose among the others; stay if none holds it.
    Relocate {
        /// The job.
        job: JobId,
    },
    /// Stop a running job and put it back in the pending queue.
    Evict {
        /// The job.
        job: JobId,
        /// Short reason code, kept in the job's history.
        reason: &'static str,
    },
}

/// Proposes moves of running work, or balances pending work between the
/// host's scheduler workers.
pub trait RebalancePlugin: Send + Sync {
    /// Appends proposed moves to `moves`, given every running job.
    fn rebalance(&self, cx: &Context<'_>, running: &[Running], moves: &mut Vec<Move>) -> PluginResult;

    /// The policy by which this plugin balances *pending* jobs between the
    /// host's parallel scheduler workers, if it does (see [`crate::workers`]).
    /// The host asks once per cycle; at most one plugin of a pipeline may
    /// answer. Defaults to `None`.
    fn steal_policy(&self) -> Option<&dyn StealPolicy> {
        None
    }
}
