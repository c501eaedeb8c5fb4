//! What a native plugin sees: `#[repr(C)]` views of a job, of the node table
//! (flat arrays) and of the cluster, borrowed from the host for one call.
//!
//! Every view borrows: the host builds a job's view once per job (not per node)
//! and the node table's static part (names, labels) once per node layout, so a
//! call over a batch of nodes allocates nothing per (job, node) pair. Views are
//! valid only during the call; copy what you need to keep.
//!
//! Resource vectors are laid out `node * dims + dim`, in the cluster's
//! declaration order ([`NodeTableView::resources`]).

use abi_stable::std_types::{ROption, RSlice, RStr};
use abi_stable::StableAbi;

/// A `key=value` label.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label<'a> {
    /// The key.
    pub key: RStr<'a>,
    /// The value.
    pub value: RStr<'a>,
}

/// Finds `key` in `labels`.
#[inline]
fn find<'a>(labels: &[Label<'a>], key: &str) -> Option<&'a str> {
    labels.iter().find(|l| l.key.as_str() == key).map(|l| l.value.as_str())
}

/// One job, as the scheduler sees it (its actual run time is not known).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct JobView<'a> {
    /// Dense index of the job in the host (submission order).
    pub index: u32,
    /// External id.
    pub id: RStr<'a>,
    /// Tenant.
    pub tenant: RStr<'a>,
    /// Group (in the pass-window example: the region).
    pub group: RStr<'a>,
    /// Priority class name (empty when none).
    pub priority_class: RStr<'a>,
    /// Numeric priority: higher goes first.
    #[cfg(not(feature = "__fixture-changed-layout"))]
    pub priority: i32,
    /// Test fixture build only: a deliberately different layout.
    #[cfg(feature = "__fixture-changed-layout")]
    pub priority: i64,
    /// Earliest start, seconds.
    pub release: i64,
    /// Deadline, seconds, if any.
    pub deadline: ROption<i64>,
    /// Whether the deadline is hard (a late job never starts).
    pub hard_deadline: bool,
    /// Estimated run time, seconds (> 0).
    pub estimate: i64,
    /// Requested quantity per resource dimension.
    pub request: RSlice<'a, u64>,
    /// Node labels the job requires, sorted by key.
    pub selector: RSlice<'a, Label<'a>>,
    /// The job's own labels, sorted by key.
    pub labels: RSlice<'a, Label<'a>>,
}

impl<'a> JobView<'a> {
    /// The value of the job's label `key`.
    #[inline]
    pub fn label(&self, key: &str) -> Option<&'a str> {
        find(self.labels.as_slice(), key)
    }
}

/// Every node of the cluster as flat arrays, one entry per node (or
/// `node * dims + dim` for resources). A node id is an index into them.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct NodeTableView<'a> {
    /// Changes whenever the node set or a node's capacity changes: a plugin
    /// may cache per-node data derived from names, labels or capacities under it.
    pub layout: u64,
    /// Number of resource dimensions.
    pub dims: u32,
    /// Names of the resource dimensions, in order.
    pub resources: RSlice<'a, RStr<'a>>,
    /// Node names.
    pub names: RSlice<'a, RStr<'a>>,
    /// Region of each node.
    pub regions: RSlice<'a, RStr<'a>>,
    /// Zone of each node.
    pub zones: RSlice<'a, RStr<'a>>,
    /// Node `n`'s labels are `labels[label_start[n]..label_start[n + 1]]`
    /// (`len + 1` entries), sorted by key; `region` and `zone` are among them.
    pub label_start: RSlice<'a, u32>,
    /// Every node's labels, node after node.
    pub labels: RSlice<'a, Label<'a>>,
    /// Total capacity.
    pub capacity: RSlice<'a, u64>,
    /// Allocatable capacity (capacity minus the headroom reserve).
    pub allocatable: RSlice<'a, u64>,
    /// Allocated now.
    pub used: RSlice<'a, u64>,
    /// Jobs running on each node.
    pub running: RSlice<'a, u32>,
    /// Whether each node is up.
    pub up: RSlice<'a, bool>,
}

impl<'a> NodeTableView<'a> {
    /// Number of nodes.
    #[inline]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when there is no node.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Node `n`'s labels.
    #[inline]
    pub fn labels_of(&self, n: u32) -> &'a [Label<'a>] {
        let (a, b) = (self.label_start[n as usize] as usize, self.label_start[n as usize + 1] as usize);
        &self.labels.as_slice()[a..b]
    }

    /// The value of node `n`'s label `key`.
    #[inline]
    pub fn label(&self, n: u32, key: &str) -> Option<&'a str> {
        find(self.labels_of(n), key)
    }

    /// Node `n`'s allocatable capacity, one entry per dimension.
    #[inline]
    pub fn allocatable(&self, n: u32) -> &'a [u64] {
        let i = n as usize * self.dims as usize;
        &self.allocatable.as_slice()[i..i + self.dims as usize]
    }

    /// Node `n`'s allocated quantities.
    #[inline]
    pub fn used(&self, n: u32) -> &'a [u64] {
        let i = n as usize * self.dims as usize;
        &self.used.as_slice()[i..i + self.dims as usize]
    }

    /// Free allocatable quantity of dimension `d` on node `n`.
    #[inline]
    pub fn free(&self, n: u32, d: usize) -> u64 {
        let i = n as usize * self.dims as usize + d;
        self.allocatable[i].saturating_sub(self.used[i])
    }

    /// Position of resource dimension `name`.
    #[inline]
    pub fn resource(&self, name: &str) -> Option<usize> {
        self.resources.iter().position(|r| r.as_str() == name)
    }
}

/// The cluster at the time of a call.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct ClusterView<'a> {
    /// Current time, seconds.
    pub now: i64,
    /// All nodes.
    pub nodes: NodeTableView<'a>,
    /// Allocatable capacity of the up nodes, per dimension.
    pub total: RSlice<'a, u64>,
}

/// A filter's verdict on one node: pass, or a rejection as data.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The node may take the job.
    pub pass: bool,
    /// Waiting cannot help: the node can never take this job as configured.
    pub permanent: bool,
    /// Short kebab-case reason code (ignored when `pass`).
    pub code: RStr<'static>,
    /// Resource dimension concerned, if any.
    pub resource: ROption<u32>,
    /// Quantity requested of that resource.
    pub requested: u64,
    /// Quantity free on the node.
    pub free: u64,
}

impl Verdict {
    /// The node passes.
    pub const PASS: Verdict = Verdict {
        pass: true,
        permanent: false,
        code: RStr::from_str(""),
        resource: ROption::RNone,
        requested: 0,
        free: 0,
    };

    /// Rejected; waiting may help.
    pub const fn transient(code: &'static str) -> Verdict {
        Verdict { pass: false, code: RStr::from_str(code), ..Verdict::PASS }
    }

    /// Rejected for good.
    pub const fn permanent(code: &'static str) -> Verdict {
        Verdict { pass: false, permanent: true, code: RStr::from_str(code), ..Verdict::PASS }
    }

    /// Rejected for a shortfall of resource `dim`.
    pub const fn shortfall(code: &'static str, dim: u32, requested: u64, free: u64, permanent: bool) -> Verdict {
        Verdict { pass: false, permanent, code: RStr::from_str(code), resource: ROption::RSome(dim), requested, free }
    }
}

/// A job running now, for rebalance plugins.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunningView {
    /// The job's index.
    pub job: u32,
    /// Its node.
    pub node: u32,
    /// When it started there.
    pub started: i64,
    /// When it should end, by its estimate.
    pub expected_end: i64,
}

/// A move a rebalance plugin proposes; the host validates it.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct MoveView {
    /// True: migrate the job to `to`, keeping its progress. False: evict it.
    pub migrate: bool,
    /// The job's index.
    pub job: u32,
    /// Target node (migrations only).
    pub to: u32,
    /// Reason code (evictions only).
    pub reason: RStr<'static>,
}
