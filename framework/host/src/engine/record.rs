//! What the engine knows about each job: where it is in its life, and how it ended.

use kairos_model::{JobId, NodeId, RejectionCount, Time};

/// Where a job is in its life.
#[derive(Clone, Debug, PartialEq)]
pub enum JobState {
    /// Submitted, not yet released (its release time is in the future).
    Submitted,
    /// Released, but waiting for the job it runs `after` to complete.
    Waiting {
        /// The job it waits for.
        on: JobId,
    },
    /// Released and waiting for a node.
    Pending {
        /// Since when.
        since: Time,
    },
    /// Running.
    Running {
        /// Where.
        node: NodeId,
        /// Since when (on this node or, after a migration, the original start).
        start: Time,
        /// When it is expected to end, by its estimate.
        expected_end: Time,
    },
    /// Finished, one way or another.
    Done(Outcome),
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Ran to completion, by its deadline if it had one.
    Completed {
        /// Node it finished on.
        node: NodeId,
        /// Start of its last run.
        start: Time,
        /// End.
        end: Time,
    },
    /// Missed its deadline.
    Missed {
        /// When it was known missed (the deadline or latest start that passed,
        /// or the late finish).
        at: Time,
        /// Why.
        why: Miss,
    },
    /// No node can ever take it as the cluster is configured; the last
    /// attempt's reasons are in [`JobRecord::reasons`].
    Rejected {
        /// When.
        at: Time,
    },
    /// It was running on a node that failed, and cannot restart
    /// ([`kairos_model::Job::restartable`] is false).
    Lost {
        /// When the node failed.
        at: Time,
        /// The node.
        node: NodeId,
    },
}

/// Why a deadline was missed.
#[derive(Clone, Debug, PartialEq)]
pub enum Miss {
    /// A hard deadline: the job could not start by `deadline - estimate`.
    Expired {
        /// The latest start that passed.
        latest_start: Time,
    },
    /// A soft deadline: the job ran but finished after it.
    Late {
        /// Node it finished on.
        node: NodeId,
        /// Start of its last run.
        start: Time,
        /// End (after the deadline).
        end: Time,
    },
    /// The job it runs `after` was missed or rejected, so it never could run.
    Upstream {
        /// That job.
        job: JobId,
    },
}

/// A rebalance move applied to a running job.
#[derive(Clone, Debug, PartialEq)]
pub struct MoveRecord {
    /// When.
    pub at: Time,
    /// The node it ran on.
    pub from: NodeId,
    /// Where it went: `Some` for a migration, `None` for an eviction.
    pub to: Option<NodeId>,
    /// The eviction's reason code.
    pub reason: Option<&'static str>,
    /// Seconds the migration kept the job from progressing.
    pub pause: Time,
    /// The rebalance plugin (or script) that proposed it.
    pub by: String,
}

/// The engine's record of one job.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRecord {
    /// Current state.
    pub state: JobState,
    /// When it first started, if ever.
    pub first_start: Option<Time>,
    /// Times a run was stopped (eviction, node failure) and restarted.
    pub restarts: u32,
    /// Times it was migrated.
    pub migrations: u32,
    /// The rebalance moves applied to it, in order.
    pub moves: Vec<MoveRecord>,
    /// Scheduling attempts that ran the filters.
    pub attempts: u32,
    /// Aggregated filter rejections of the last attempt that placed nothing.
    pub reasons: Vec<RejectionCount>,
    /// Nodes the cluster had at that attempt.
    pub reasons_of: u32,
    /// Bumped whenever a run is stopped, so a driver can ignore a stale completion.
    pub generation: u32,
    /// The pipeline revision that made the job's last placement — its start, or
    /// a later migration (`None` if it never ran). The first pipeline an engine
    /// runs is revision 1; see [`Engine::swap_pipeline`](super::Engine::swap_pipeline).
    pub revision: Option<u64>,
    /// The pipeline revision whose filters recorded [`JobRecord::reasons`]: the
    /// filter positions in them index that revision's filters.
    pub reasons_revision: u64,
    /// Position in `running` while running.
    pub(crate) slot: u32,
    /// Whether an attempt has shown the job is not unresolvable everywhere.
    pub(crate) resolvable: bool,
}

impl JobRecord {
    pub(crate) fn new() -> Self {
        JobRecord {
            state: JobState::Submitted,
            first_start: None,
            restarts: 0,
            migrations: 0,
            moves: Vec::new(),
            attempts: 0,
            reasons: Vec::new(),
            reasons_of: 0,
            generation: 0,
            revision: None,
            reasons_revision: 0,
            slot: u32::MAX,
            resolvable: false,
        }
    }

    /// The outcome, when the job is done.
    pub fn outcome(&self) -> Option<&Outcome> {
        match &self.state {
            JobState::Done(o) => Some(o),
            _ => None,
        }
    }
}
