//! The **order** extension point: which pending job is considered next.
//!
//! # When it runs
//! At the start of every scheduling cycle the host asks each order plugin of the
//! pipeline, in pipeline order, for a key per pending, released job. Keys compare
//! lexicographically in pipeline order — the first plugin's key decides, the next
//! breaks its ties, and so on — and **lower goes first**. Remaining ties are broken
//! by submission order (the job's [`crate::JobId`]), so the order is total and
//! deterministic.
//!
//! # Partition-scoped keys (fair share)
//! A key that depends on what has been placed — a group's dominant share — would
//! go stale after every placement. Such a plugin declares
//! [`OrderScope::Partition`]: its key must depend only on the job's group under the
//! given [`PartitionKey`] and on [`crate::GroupUsage`]. The host then keeps one
//! queue per group, sorted by the other keys, and after each placement asks the
//! plugin again only for the heads of the groups. At most one partition-scoped
//! plugin may appear in a pipeline.
//!
//! # Outcomes
//! A key is any finite `f64`. NaN is an error: the host stops the run and names
//! the plugin.

use crate::context::Context;
use crate::job::Job;
use crate::plugin::PluginResult;
use crate::symbol::Sym;

/// A sort key; lower goes first.
pub type OrderKey = f64;

/// What a job attribute groups jobs by, for fair share and per-group reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PartitionKey {
    /// The job's group (for the pass-window showcase, its region).
    Group,
    /// The job's tenant.
    Tenant,
    /// The job's priority class.
    PriorityClass,
    /// The value of one of the job's labels.
    Label(Sym),
}

impl PartitionKey {
    /// The group `job` falls into.
    #[inline]
    pub fn of(self, job: &Job) -> Sym {
        match self {
            PartitionKey::Group => job.group,
            PartitionKey::Tenant => job.tenant,
            PartitionKey::PriorityClass => job.priority_class,
            PartitionKey::Label(k) => job.label(k).unwrap_or_default(),
        }
    }
}

/// What an order key depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderScope {
    /// The key depends on the job and the time at the start of the cycle.
    Job,
    /// The key depends only on the job's group under this key and on current
    /// usage: it is recomputed after every placement.
    Partition(PartitionKey),
}

/// Decides which pending job goes next.
pub trait OrderPlugin: Send + Sync {
    /// Writes one key per job of `jobs` into `keys` (same length). Called once per
    /// cycle with every pending job, and — for partition-scoped plugins — again
    /// with the head of each group after a placement.
    fn keys(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult;

    /// What the key depends on. Defaults to [`OrderScope::Job`].
    fn scope(&self) -> OrderScope {
        OrderScope::Job
    }
}
