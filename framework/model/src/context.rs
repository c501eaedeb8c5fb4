//! What a plugin sees of the world.

use crate::job::Job;
use crate::node::NodeTable;
use crate::order::PartitionKey;
use crate::resources::{Qty, ResourceSpace};
use crate::symbol::{Sym, Symbols};
use crate::time::Time;

/// Read-only view of the host's state handed to every plugin call.
///
/// Plugins cannot change host state through it: the only effect a plugin has is
/// what it returns (keys, verdicts, scores, proposed moves).
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// Current simulated (or live) time, seconds.
    pub now: Time,
    /// All nodes, their capacity and current allocation.
    pub nodes: &'a NodeTable,
    /// The cluster's resource dimensions.
    pub resources: &'a ResourceSpace,
    /// Interned names (regions, labels, tenants…).
    pub symbols: &'a Symbols,
    /// Resource usage per fair-share group.
    pub usage: &'a GroupUsage,
    /// Every job the host knows, indexed by [`crate::JobId`].
    pub jobs: &'a [Job],
}

/// Resources held by running jobs, per group of a [`PartitionKey`].
///
/// The host keeps it up to date on every start, completion, migration and
/// eviction; a fair-share order plugin reads it to compute dominant shares.
#[derive(Clone, Debug, Default)]
pub struct GroupUsage {
    /// The key jobs are grouped by (None when no plugin asked for one).
    pub key: Option<PartitionKey>,
    dims: usize,
    groups: Vec<Sym>,
    used: Vec<Qty>,
    running: Vec<u32>,
    /// Allocatable capacity of all up nodes, per dimension.
    pub total: Vec<Qty>,
}

impl GroupUsage {
    /// Usage tracking for `key` over `dims` dimensions.
    pub fn new(key: Option<PartitionKey>, dims: usize) -> Self {
        GroupUsage { key, dims, total: vec![0; dims], ..Default::default() }
    }

    fn slot(&mut self, group: Sym) -> usize {
        match self.groups.iter().position(|&g| g == group) {
            Some(i) => i,
            None => {
                self.groups.push(group);
                self.used.extend(std::iter::repeat_n(0, self.dims));
                self.running.push(0);
                self.groups.len() - 1
            }
        }
    }

    /// The group `job` belongs to under this usage's key.
    pub fn group_of(&self, job: &Job) -> Option<Sym> {
        self.key.map(|k| k.of(job))
    }

    /// Adds (`sign = 1`) or removes (`sign = -1`) a running job's request.
    pub fn account(&mut self, job: &Job, sign: i8) {
        let Some(g) = self.group_of(job) else { return };
        let i = self.slot(g);
        let base = i * self.dims;
        for (d, &r) in job.request.iter().enumerate() {
            if sign > 0 {
                self.used[base + d] += r;
            } else {
                self.used[base + d] -= r;
            }
        }
        if sign > 0 {
            self.running[i] += 1;
        } else {
            self.running[i] -= 1;
        }
    }

    /// Resources currently held by `group` (all zeros if it holds none).
    pub fn used(&self, group: Sym) -> Option<&[Qty]> {
        self.groups.iter().position(|&g| g == group).map(|i| &self.used[i * self.dims..(i + 1) * self.dims])
    }

    /// Jobs of `group` running now.
    pub fn running(&self, group: Sym) -> u32 {
        self.groups.iter().position(|&g| g == group).map_or(0, |i| self.running[i])
    }

    /// The dominant share of `group`: the largest fraction of any dimension's
    /// total allocatable capacity that its running jobs hold (DRF).
    pub fn dominant_share(&self, group: Sym) -> f64 {
        let Some(used) = self.used(group) else { return 0.0 };
        used.iter().zip(&self.total).filter(|(_, &t)| t > 0).map(|(&u, &t)| u as f64 / t as f64).fold(0.0, f64::max)
    }

    /// Groups seen so far.
    pub fn groups(&self) -> &[Sym] {
        &self.groups
    }
}
