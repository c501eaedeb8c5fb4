//! Recording one job's decisions for `kairos explain`.
//!
//! The engine records nothing per node in normal runs: it keeps only aggregated
//! rejection counts. To explain a job, the driver re-runs the same deterministic
//! input with a [`Trace`] set on that job; every attempt to place it then records
//! its place in the order, every node's filter verdict and every score.

use kairos_model::{JobId, NodeId, OrderKey, Reason, Time};

/// One attempt to place the traced job.
#[derive(Clone, Debug, Default)]
pub struct Attempt {
    /// When.
    pub at: Time,
    /// 1-based position in this cycle's order.
    pub rank: usize,
    /// Jobs in the cycle's order.
    pub of: usize,
    /// The job's order keys, one per order plugin.
    pub keys: Vec<OrderKey>,
    /// The job just ahead of it in the order and its keys, if any.
    pub ahead: Option<(JobId, Vec<OrderKey>)>,
    /// Nodes that were down, so never offered to the filters.
    pub down: Vec<NodeId>,
    /// Every rejected node: filter position, node, reason.
    pub rejected: Vec<(u16, NodeId, Reason)>,
    /// Every feasible node: raw score per score plugin, and the weighted total.
    pub scores: Vec<(NodeId, Vec<f64>, f64)>,
    /// Nodes the host turned away at commit because the request did not fit
    /// (only possible when the pipeline has no `fit` filter).
    pub over_capacity: Vec<NodeId>,
    /// Where it was placed, if it was.
    pub chosen: Option<NodeId>,
    /// True when the attempt was skipped without running the filters because no
    /// node had enough free capacity in some dimension.
    pub quick_skip: bool,
}

/// The attempts recorded for one job.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The traced job.
    pub job: JobId,
    /// Its attempts, in time order.
    pub attempts: Vec<Attempt>,
}
