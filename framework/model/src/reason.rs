//! Filter rejections as data.
//!
//! Every node a filter turns away is recorded as a [`Reason`]: a reason code and,
//! for resource shortfalls, the dimension, the quantity requested and the quantity
//! free; the host adds which plugin said it. The host aggregates them per job
//! ("0/12 nodes: 9 wrong-region, 3 insufficient antenna") and `kairos explain`
//! shows them per node. A reason is `Copy` and allocation-free, so recording one
//! costs a counter increment.

use crate::node::NodeId;
use crate::resources::Qty;

/// Why a filter turned a node away.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reason {
    /// Short kebab-case code: `insufficient`, `selector-mismatch`, `untolerated-taint`…
    pub code: &'static str,
    /// Resource dimension concerned, if any.
    pub resource: Option<u16>,
    /// Quantity the job requested of that resource (0 when not a resource reason).
    pub requested: Qty,
    /// Quantity free on the node (0 when not a resource reason).
    pub free: Qty,
    /// True when waiting cannot help: the node can never take this job as the
    /// cluster is configured (label mismatch, request above the node's whole
    /// allocatable capacity, untolerated taint). A job that every node turns away
    /// for such reasons is *rejected*; otherwise it stays *pending* and is retried.
    pub unresolvable: bool,
}

/// Interns a reason code that a script or a native plugin made up at run time,
/// so that a rejection stays a `Copy` value with a `'static` code owned by the
/// host. Distinct codes are capped at [`MAX_INTERNED_CODES`] for the process: a
/// plugin inventing a code per call cannot grow the host without bound, and
/// gets `None` (its caller substitutes a generic code) once the cap is reached.
pub fn intern_code(code: &str) -> Option<&'static str> {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static CODES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = CODES.lock().unwrap_or_else(|e| e.into_inner());
    let codes = guard.get_or_insert_with(HashSet::new);
    if let Some(&c) = codes.get(code) {
        return Some(c);
    }
    if codes.len() >= MAX_INTERNED_CODES {
        return None;
    }
    let c: &'static str = Box::leak(code.to_owned().into_boxed_str());
    codes.insert(c);
    Some(c)
}

/// How many distinct run-time reason codes [`intern_code`] keeps: far more than
/// any site's policies use, and a bounded amount of memory (codes are short).
pub const MAX_INTERNED_CODES: usize = 1024;

impl Reason {
    /// A reason that waiting can resolve (capacity may free up, a node recover).
    pub const fn transient(code: &'static str) -> Self {
        Reason { code, resource: None, requested: 0, free: 0, unresolvable: false }
    }

    /// A reason that waiting cannot resolve.
    pub const fn permanent(code: &'static str) -> Self {
        Reason { code, resource: None, requested: 0, free: 0, unresolvable: true }
    }

    /// A shortfall of resource `dim`.
    pub const fn resource(code: &'static str, dim: usize, requested: Qty, free: Qty, unresolvable: bool) -> Self {
        Reason { code, resource: Some(dim as u16), requested, free, unresolvable }
    }
}

/// One aggregated line of a job's rejections: how many nodes the filter at
/// pipeline position `plugin` turned away with `code` (and `resource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RejectionCount {
    /// Position of the filter in the pipeline's `filter` list (the host maps it
    /// to a name; `u16::MAX` marks the host's own checks such as `node-down`).
    pub plugin: u16,
    /// Reason code.
    pub code: &'static str,
    /// Resource dimension, if any.
    pub resource: Option<u16>,
    /// Whether the reason is unresolvable.
    pub unresolvable: bool,
    /// Number of nodes.
    pub nodes: u32,
}

/// The rejections of one decision. Counts are always kept; per-node reasons only
/// when `detail` is set (for `kairos explain`).
#[derive(Clone, Debug, Default)]
pub struct Rejections {
    /// Keep every node's reason in [`Rejections::per_node`].
    pub detail: bool,
    /// Aggregated counts, in first-seen order.
    pub counts: Vec<RejectionCount>,
    /// `(plugin, node, reason)` for every rejected node, when `detail` is set.
    pub per_node: Vec<(u16, NodeId, Reason)>,
    /// Nodes rejected for a reason that waiting cannot resolve.
    pub unresolvable_nodes: u32,
    /// All nodes rejected.
    pub rejected_nodes: u32,
}

impl Rejections {
    /// Forgets everything recorded, keeping the allocations.
    pub fn clear(&mut self) {
        self.counts.clear();
        self.per_node.clear();
        self.unresolvable_nodes = 0;
        self.rejected_nodes = 0;
    }

    /// Records that the check at position `plugin` turned every node of `nodes`
    /// away for the same `reason`: one counter update, not one per node (per
    /// node only when `detail` is set).
    pub fn record_nodes(&mut self, plugin: u16, nodes: &[NodeId], reason: Reason) {
        let Some((&first, rest)) = nodes.split_first() else { return };
        if self.detail {
            for &n in nodes {
                self.record(plugin, n, reason);
            }
            return;
        }
        self.record(plugin, first, reason);
        let more = rest.len() as u32;
        self.rejected_nodes += more;
        self.unresolvable_nodes += more * reason.unresolvable as u32;
        if let Some(c) = self.counts.iter_mut().rev().find(|c| {
            c.plugin == plugin
                && c.code == reason.code
                && c.resource == reason.resource
                && c.unresolvable == reason.unresolvable
        }) {
            c.nodes += more;
        }
    }

    /// Records that the filter at position `plugin` turned `node` away.
    #[inline]
    pub fn record(&mut self, plugin: u16, node: NodeId, reason: Reason) {
        self.rejected_nodes += 1;
        self.unresolvable_nodes += reason.unresolvable as u32;
        if self.detail {
            self.per_node.push((plugin, node, reason));
        }
        let found = self.counts.iter_mut().find(|c| {
            c.plugin == plugin
                && (std::ptr::eq(c.code, reason.code) || c.code == reason.code)
                && c.resource == reason.resource
                && c.unresolvable == reason.unresolvable
        });
        match found {
            Some(c) => c.nodes += 1,
            None => self.counts.push(RejectionCount {
                plugin,
                code: reason.code,
                resource: reason.resource,
                unresolvable: reason.unresolvable,
                nodes: 1,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_nodes_in_bulk_counts_as_recording_each() {
        let reason = Reason::resource("outside-budget", 1, 4, 0, false);
        for detail in [false, true] {
            let (mut one, mut bulk) =
                (Rejections { detail, ..Default::default() }, Rejections { detail, ..Default::default() });
            for n in [3, 4, 9] {
                one.record(u16::MAX, n, reason);
            }
            bulk.record_nodes(u16::MAX, &[3, 4, 9], reason);
            bulk.record_nodes(u16::MAX, &[], reason);
            assert_eq!(bulk.counts, one.counts, "detail {detail}");
            assert_eq!(bulk.per_node, one.per_node, "detail {detail}");
            assert_eq!((bulk.rejected_nodes, bulk.unresolvable_nodes), (3, 0), "detail {detail}");
        }
    }
}
