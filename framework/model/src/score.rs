//! The **score** extension point: how good is a feasible node?
//!
//! # When it runs
//! After the filters, with the surviving nodes of one job, once per score
//! plugin, in pipeline order. One call covers every survivor.
//!
//! # Outcomes
//! A plugin writes one score per node, a finite number in `0..=100`
//! ([`MAX_SCORE`]); higher is better. The host range-checks every score — NaN or
//! out of range stops the run with the plugin's name — multiplies it by the
//! pipeline weight of that plugin (> 0) and sums. The node with the highest total
//! wins; ties go to the lowest node index, so decisions are deterministic. With no
//! score plugin the first feasible node wins. Each plugin's contribution is
//! recorded when a decision is explained.

use crate::context::Context;
use crate::job::Job;
use crate::node::NodeId;
use crate::plugin::PluginResult;

/// The top of the score range; the bottom is 0.
pub const MAX_SCORE: f64 = 100.0;

/// Ranks the feasible nodes for a job.
pub trait ScorePlugin: Send + Sync {
    /// Writes a score in `0..=100` for each node of `nodes` into `scores`
    /// (same length).
    fn score(&self, job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult;
}
