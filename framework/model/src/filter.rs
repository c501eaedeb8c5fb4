//! The **filter** extension point: may this node take this job?
//!
//! # When it runs
//! For the job the order chose, the host builds the candidate list — every node
//! that is up — and runs the pipeline's filters in pipeline order. Each filter
//! sees only the nodes every earlier filter let through, so cheap filters go
//! first. One call covers a batch of candidates of one job ([`Candidates`]):
//! the host may split the nodes into several batches (it does, to keep node
//! state in cache), so **a filter's verdict on a node must not depend on the
//! other candidates in the batch**.
//!
//! # Outcomes
//! For each candidate a filter either lets it through or rejects it with a
//! [`Reason`] — data, not a string: a code, and for resource shortfalls the
//! dimension, the requested and the free quantity. A reason is *unresolvable*
//! when waiting cannot help. If no candidate survives, the job stays pending
//! (some reason is transient) or is rejected (every node's reason is
//! unresolvable), and the aggregated reasons go into the report.
//!
//! A filter cannot place anything: the host alone commits a placement, after
//! re-checking capacity itself.

use crate::context::Context;
use crate::job::Job;
use crate::node::NodeId;
use crate::plugin::PluginResult;
use crate::reason::{Reason, Rejections};

/// The nodes still in the running for one job, and where rejections go.
pub struct Candidates<'a> {
    ids: &'a mut Vec<NodeId>,
    log: &'a mut Rejections,
    plugin: u16,
}

impl<'a> Candidates<'a> {
    /// Wraps the host's buffers for the filter at pipeline position `plugin`.
    pub fn new(ids: &'a mut Vec<NodeId>, log: &'a mut Rejections, plugin: u16) -> Self {
        Candidates { ids, log, plugin }
    }

    /// The surviving candidates, in node order.
    #[inline]
    pub fn ids(&self) -> &[NodeId] {
        self.ids
    }

    /// Number of surviving candidates.
    #[inline]
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no candidate survives.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Keeps the nodes for which `verdict` returns `None` and rejects, with the
    /// returned reason, those for which it returns `Some`. Order is preserved and
    /// nothing is allocated.
    #[inline]
    pub fn retain(&mut self, mut verdict: impl FnMut(NodeId) -> Option<Reason>) {
        let mut kept = 0;
        for i in 0..self.ids.len() {
            let n = self.ids[i];
            match verdict(n) {
                None => {
                    self.ids[kept] = n;
                    kept += 1;
                }
                Some(reason) => self.log.record(self.plugin, n, reason),
            }
        }
        self.ids.truncate(kept);
    }
}

/// Decides which nodes may take a job.
pub trait FilterPlugin: Send + Sync {
    /// Rejects, among `candidates`, every node that may not take `job`.
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult;
}
