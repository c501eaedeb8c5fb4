//! Nodes, stored as flat arrays.
//!
//! The filter and score hot paths walk thousands of nodes per job. Keeping node
//! state in a structure of arrays — one `Vec` per attribute, resource vectors laid
//! out `node * dims + dim` — lets a plugin scan a batch of candidates with tight,
//! allocation-free loops. Only the host mutates a [`NodeTable`]; plugins see it
//! through a shared reference in [`crate::Context`].

use crate::resources::Qty;
use crate::symbol::Sym;

/// Index of a node in its [`NodeTable`].
pub type NodeId = u32;

/// What a taint does to jobs that do not tolerate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaintEffect {
    /// New jobs that do not tolerate the taint are not placed on the node.
    NoSchedule,
    /// Like `NoSchedule`, and the `taints` filter also reports it; kept distinct
    /// so that a rebalance plugin may evict intolerant jobs already there.
    NoExecute,
}

/// A taint on a node: repels jobs without a matching toleration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Taint {
    /// Taint key.
    pub key: Sym,
    /// Taint value (may be the empty symbol).
    pub value: Sym,
    /// What the taint does.
    pub effect: TaintEffect,
}

/// The cluster's nodes and their current allocation, as flat arrays.
#[derive(Clone, Debug, Default)]
pub struct NodeTable {
    dims: usize,
    /// Identifies what allocation cannot change — the node set and each node's
    /// capacity and reserve — so plugins can cache data derived from it.
    layout: Layout,
    /// Node names, unique.
    pub names: Vec<String>,
    /// Region of each node.
    pub region: Vec<Sym>,
    /// Zone of each node.
    pub zone: Vec<Sym>,
    /// Labels of each node, sorted by key. Always include `region` and `zone`.
    pub labels: Vec<Vec<(Sym, Sym)>>,
    /// Taints of each node.
    pub taints: Vec<Vec<Taint>>,
    /// Total capacity, `node * dims + dim`.
    capacity: Vec<Qty>,
    /// Headroom reserve the host never allocates, `node * dims + dim`.
    reserve: Vec<Qty>,
    /// `capacity - reserve`, precomputed, `node * dims + dim`.
    allocatable: Vec<Qty>,
    /// `1 / allocatable` (0 where allocatable is 0), precomputed so that packing
    /// scores multiply instead of divide, `node * dims + dim`.
    inv_allocatable: Vec<f64>,
    /// Currently allocated, `node * dims + dim`.
    used: Vec<Qty>,
    /// Whether each node is up (accepting and running work).
    up: Vec<bool>,
    /// Number of jobs running on each node.
    running: Vec<u32>,
}

/// Identifies a [`NodeTable`]'s layout: its node set and their capacities and
/// reserves. Two tables with equal layouts (a table and its clones, unchanged)
/// have the same allocatable capacities; any change of layout gives a new value.
/// A plugin may cache per-node data derived from allocatable capacity (a
/// headroom limit, say) under this key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Layout {
    /// Unique per table created (clones share it).
    pub table: u64,
    /// Bumped on every change of the node set or of a capacity.
    pub version: u64,
}

static NEXT_TABLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Everything needed to add one node.
#[derive(Clone, Debug)]
pub struct NodeSpec {
    /// Unique name.
    pub name: String,
    /// Region.
    pub region: Sym,
    /// Zone.
    pub zone: Sym,
    /// Labels (any order; `region`/`zone` are added by the loader).
    pub labels: Vec<(Sym, Sym)>,
    /// Taints.
    pub taints: Vec<Taint>,
    /// Capacity per dimension.
    pub capacity: Vec<Qty>,
    /// Headroom reserve per dimension; must not exceed capacity.
    pub reserve: Vec<Qty>,
}

impl NodeTable {
    /// An empty table for `dims` resource dimensions.
    pub fn new(dims: usize) -> Self {
        let table = NEXT_TABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        NodeTable { dims, layout: Layout { table, version: 0 }, ..Default::default() }
    }

    /// The table's layout key (see [`Layout`]).
    #[inline]
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Adds a node and returns its id. Panics if the vectors have the wrong
    /// length or the reserve exceeds capacity: loaders validate both first.
    pub fn push(&mut self, mut spec: NodeSpec) -> NodeId {
        assert_eq!(spec.capacity.len(), self.dims, "capacity has the wrong number of dimensions");
        assert_eq!(spec.reserve.len(), self.dims, "reserve has the wrong number of dimensions");
        let id = self.names.len() as NodeId;
        self.layout.version += 1;
        spec.labels.sort();
        self.names.push(spec.name);
        self.region.push(spec.region);
        self.zone.push(spec.zone);
        self.labels.push(spec.labels);
        self.taints.push(spec.taints);
        for d in 0..self.dims {
            assert!(spec.reserve[d] <= spec.capacity[d], "reserve exceeds capacity");
            let a = spec.capacity[d] - spec.reserve[d];
            self.allocatable.push(a);
            self.inv_allocatable.push(if a == 0 { 0.0 } else { 1.0 / a as f64 });
        }
        self.capacity.extend_from_slice(&spec.capacity);
        self.reserve.extend_from_slice(&spec.reserve);
        self.used.extend(std::iter::repeat_n(0, self.dims));
        self.up.push(true);
        self.running.push(0);
        id
    }

    /// Number of resource dimensions.
    #[inline]
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Number of nodes.
    #[inline]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Total capacity of node `n`, one entry per dimension.
    #[inline]
    pub fn capacity(&self, n: NodeId) -> &[Qty] {
        let i = n as usize * self.dims;
        &self.capacity[i..i + self.dims]
    }

    /// Headroom reserve of node `n`.
    #[inline]
    pub fn reserve(&self, n: NodeId) -> &[Qty] {
        let i = n as usize * self.dims;
        &self.reserve[i..i + self.dims]
    }

    /// Allocatable capacity (`capacity - reserve`) of node `n`.
    #[inline]
    pub fn allocatable(&self, n: NodeId) -> &[Qty] {
        let i = n as usize * self.dims;
        &self.allocatable[i..i + self.dims]
    }

    /// Currently allocated on node `n`.
    #[inline]
    pub fn used(&self, n: NodeId) -> &[Qty] {
        let i = n as usize * self.dims;
        &self.used[i..i + self.dims]
    }

    /// Free allocatable quantity of dimension `d` on node `n`.
    #[inline]
    pub fn free(&self, n: NodeId, d: usize) -> Qty {
        let i = n as usize * self.dims + d;
        self.allocatable[i] - self.used[i]
    }

    /// Whether node `n` is up.
    #[inline]
    pub fn is_up(&self, n: NodeId) -> bool {
        self.up[n as usize]
    }

    /// Number of jobs running on node `n`.
    #[inline]
    pub fn running(&self, n: NodeId) -> u32 {
        self.running[n as usize]
    }

    /// The flat allocatable array (`node * dims + dim`), for fused scans.
    #[inline]
    pub fn allocatable_flat(&self) -> &[Qty] {
        &self.allocatable
    }

    /// The flat `1 / allocatable` array (0 where allocatable is 0), for fused
    /// scans that compute fill ratios.
    #[inline]
    pub fn inv_allocatable_flat(&self) -> &[f64] {
        &self.inv_allocatable
    }

    /// The flat used array (`node * dims + dim`), for fused scans.
    #[inline]
    pub fn used_flat(&self) -> &[Qty] {
        &self.used
    }

    /// The flat capacity array (`node * dims + dim`), for views over every node.
    #[inline]
    pub fn capacity_flat(&self) -> &[Qty] {
        &self.capacity
    }

    /// Jobs running on each node, one entry per node.
    #[inline]
    pub fn running_flat(&self) -> &[u32] {
        &self.running
    }

    /// Whether each node is up, one entry per node.
    #[inline]
    pub fn up_flat(&self) -> &[bool] {
        &self.up
    }

    /// The first dimension in which `request` does not fit node `n`'s free
    /// allocatable capacity, as `(dim, requested, free)`.
    #[inline]
    pub fn first_shortfall(&self, n: NodeId, request: &[Qty]) -> Option<(usize, Qty, Qty)> {
        let base = n as usize * self.dims;
        for (d, &r) in request.iter().enumerate() {
            let free = self.allocatable[base + d] - self.used[base + d];
            if r > free {
                return Some((d, r, free));
            }
        }
        None
    }

    /// Whether `request` fits node `n`'s free allocatable capacity.
    #[inline]
    pub fn fits(&self, n: NodeId, request: &[Qty]) -> bool {
        self.first_shortfall(n, request).is_none()
    }

    /// Value of label `key` on node `n`.
    #[inline]
    pub fn label(&self, n: NodeId, key: Sym) -> Option<Sym> {
        let labels = &self.labels[n as usize];
        labels.binary_search_by_key(&key, |&(k, _)| k).ok().map(|i| labels[i].1)
    }

    // ---- mutation: host only -------------------------------------------------

    /// Allocates `request` on node `n`. Returns `false` and changes nothing if it
    /// does not fit: this check is the host's guarantee that allocatable capacity
    /// is never over-committed, whatever a plugin said.
    pub fn allocate(&mut self, n: NodeId, request: &[Qty]) -> bool {
        if !self.up[n as usize] || !self.fits(n, request) {
            return false;
        }
        let base = n as usize * self.dims;
        for (d, &r) in request.iter().enumerate() {
            self.used[base + d] += r;
        }
        self.running[n as usize] += 1;
        true
    }

    /// Returns `request` to node `n`. Panics if more is released than is
    /// allocated: that would be a host bug.
    pub fn release(&mut self, n: NodeId, request: &[Qty]) {
        let base = n as usize * self.dims;
        for (d, &r) in request.iter().enumerate() {
            self.used[base + d] = self.used[base + d].checked_sub(r).expect("released more than was allocated");
        }
        self.running[n as usize] -= 1;
    }

    /// Makes this table's allocation — used capacity, running counts and which
    /// nodes are up — equal to `other`'s. Both must have the same layout (this
    /// table is a replica of `other`, as a scheduler worker keeps). Copies flat
    /// arrays only: nothing is allocated.
    pub fn copy_allocation_from(&mut self, other: &NodeTable) {
        assert_eq!(self.layout, other.layout, "a replica must share its table's layout");
        self.used.copy_from_slice(&other.used);
        self.running.copy_from_slice(&other.running);
        self.up.copy_from_slice(&other.up);
    }

    /// Marks node `n` up or down. A node that goes down must have been emptied
    /// by the host first (its jobs re-queued).
    pub fn set_up(&mut self, n: NodeId, up: bool) {
        self.up[n as usize] = up;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> NodeTable {
        let mut t = NodeTable::new(2);
        t.push(NodeSpec {
            name: "a".into(),
            region: Sym(1),
            zone: Sym(2),
            labels: vec![(Sym(5), Sym(6)), (Sym(3), Sym(4))],
            taints: vec![],
            capacity: vec![10, 100],
            reserve: vec![2, 0],
        });
        t
    }

    #[test]
    fn allocation_never_exceeds_capacity_minus_reserve() {
        let mut t = table();
        assert!(t.allocate(0, &[8, 50]));
        assert_eq!(t.free(0, 0), 0);
        assert!(!t.allocate(0, &[1, 0]), "the reserve is never allocated");
        assert_eq!(t.first_shortfall(0, &[0, 51]), Some((1, 51, 50)));
        t.release(0, &[8, 50]);
        assert_eq!(t.used(0), &[0, 0]);
        assert_eq!(t.running(0), 0);
    }

    #[test]
    fn a_down_node_takes_nothing() {
        let mut t = table();
        t.set_up(0, false);
        assert!(!t.allocate(0, &[1, 1]));
    }

    #[test]
    fn labels_are_looked_up_by_key_whatever_order_they_were_given_in() {
        let t = table();
        assert_eq!(t.label(0, Sym(3)), Some(Sym(4)));
        assert_eq!(t.label(0, Sym(5)), Some(Sym(6)));
        assert_eq!(t.label(0, Sym(7)), None);
    }
}
