//! Jobs as the scheduler sees them.
//!
//! A [`Job`] carries what a scheduler may know before running it: its request,
//! constraints, release time, deadline and the *estimated* run time. The actual
//! run time is not here: the simulator keeps it apart (as a live host would learn
//! it only when the job ends), so no plugin can peek at the future.

use crate::resources::Qty;
use crate::symbol::Sym;
use crate::time::Time;

/// Index of a job in the engine's job table (dense, in submission order).
pub type JobId = u32;

/// A toleration: lets a job onto nodes with a matching taint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Toleration {
    /// Taint key this tolerates.
    pub key: Sym,
    /// Value to match; `None` tolerates any value of the key (`operator: Exists`).
    pub value: Option<Sym>,
}

impl Toleration {
    /// Whether this toleration matches a taint's key and value.
    #[inline]
    pub fn matches(&self, key: Sym, value: Sym) -> bool {
        self.key == key && self.value.is_none_or(|v| v == value)
    }
}

/// One unit of work to place.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Dense index, assigned by the engine on submission.
    pub idx: JobId,
    /// External id, unique within a workload.
    pub id: String,
    /// Tenant that owns the job.
    pub tenant: Sym,
    /// Group the job belongs to (for the pass-window showcase: its region).
    pub group: Sym,
    /// Name of the priority class (empty symbol when none was given).
    pub priority_class: Sym,
    /// Numeric priority of the class: higher goes first under `priority`.
    pub priority: i32,
    /// Earliest time the job may start.
    pub release: Time,
    /// Time by which the job should have finished, if any.
    pub deadline: Option<Time>,
    /// When true the deadline is hard: a job that can no longer finish by it is
    /// reported missed and never starts (a satellite pass that has set). When false
    /// a late job still runs and is reported missed when it finishes late.
    pub hard_deadline: bool,
    /// Estimated run time the scheduler plans with, in seconds (> 0).
    pub estimate: Time,
    /// Requested quantity per resource dimension of the cluster.
    pub request: Vec<Qty>,
    /// Node labels the job requires (all must match), sorted by key.
    pub selector: Vec<(Sym, Sym)>,
    /// Taints the job tolerates.
    pub tolerations: Vec<Toleration>,
    /// The job's own labels, sorted by key.
    pub labels: Vec<(Sym, Sym)>,
    /// A job that must complete before this one may start. The job still counts
    /// as released (and waiting) from its `release` time.
    pub after: Option<JobId>,
    /// Whether a run stopped by a node failure starts again from scratch
    /// (`true`) or the job is lost with it (`false`: a contact whose data
    /// cannot be received twice, a job with side effects that must not be
    /// repeated). A job that cannot restart is never evicted either.
    pub restartable: bool,
}

impl Job {
    /// Latest start time that still meets the deadline with the estimate.
    #[inline]
    pub fn latest_start(&self) -> Option<Time> {
        self.deadline.map(|d| d.saturating_sub(self.estimate))
    }

    /// Value of the job's label `key`.
    pub fn label(&self, key: Sym) -> Option<Sym> {
        self.labels.binary_search_by_key(&key, |&(k, _)| k).ok().map(|i| self.labels[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toleration_without_value_matches_every_value_of_its_key() {
        let any = Toleration { key: Sym(1), value: None };
        let exact = Toleration { key: Sym(1), value: Some(Sym(2)) };
        let cases = [
            ("any value, same key", any, Sym(1), Sym(9), true),
            ("any value, other key", any, Sym(3), Sym(2), false),
            ("exact value matches", exact, Sym(1), Sym(2), true),
            ("exact value differs", exact, Sym(1), Sym(3), false),
        ];
        for (name, t, k, v, want) in cases {
            assert_eq!(t.matches(k, v), want, "{name}");
        }
    }
}
