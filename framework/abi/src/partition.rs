//! `kairos.partition.v1`: partition-scoped native order plugins (fair share).
//!
//! A v1 order plugin gives a key per job from the job alone. A fair-share key
//! depends instead on what the job's *group* holds now, and goes stale after
//! every placement. This optional module (see the evolution rule in
//! [`crate::module`]) lets a library's order plugin declare what jobs are
//! grouped by ([`PartitionKeyV1`]) and receive the usage of each job's group
//! with every call, as the host's built-in `fair-share` does.
//!
//! # Protocol
//! 1. When a pipeline names a native order plugin, the host asks the library
//!    for the module [`PARTITION_V1`] (`extension`) and checks its layout.
//! 2. If the library offers it, the host builds the plugin with
//!    [`PartitionV1::build`]. `RNone` means the plugin is job-scoped: the host
//!    builds it through the root module as usual.
//! 3. Otherwise the host reads the plugin's key ([`PartitionBuiltV1::key`]),
//!    keeps the running usage of every group under that key, one queue per
//!    group, and calls [`PartitionOrderV1::keys`] with every pending job at the
//!    start of a cycle and again with the head of each group after every
//!    placement. A key must depend only on the job's group and its usage.
//! 4. A host that does not know the module builds the plugin through the root
//!    module, and the SDK refuses: a partition-scoped plugin needs this module.
//!
//! At most one partition-scoped order plugin may run in a pipeline (built-in or
//! native). Plugin authors implement [`crate::sdk::PartitionOrder`].

use abi_stable::sabi_trait;
use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RSliceMut, RStr, RString};
use abi_stable::StableAbi;

use crate::views::{ClusterView, JobView};

/// The module's name, as the host asks for it.
pub const PARTITION_V1: &str = "kairos.partition.v1";

/// What jobs are grouped by.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionBy {
    /// The job's group (in the pass-window example, its region).
    Group,
    /// The job's tenant.
    Tenant,
    /// The job's priority class.
    PriorityClass,
    /// The value of one of the job's labels (jobs without it form one group).
    Label,
}

/// A partition key: [`PartitionBy`], and the label's key for
/// [`PartitionBy::Label`] (empty otherwise).
#[repr(C)]
#[derive(StableAbi, Clone, Debug, PartialEq, Eq)]
pub struct PartitionKeyV1 {
    /// What jobs are grouped by.
    pub by: PartitionBy,
    /// The label's key, for [`PartitionBy::Label`].
    pub label: RString,
}

/// What one group holds now.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupUsageView<'a> {
    /// The group's name under the key (empty: jobs without the label).
    pub group: RStr<'a>,
    /// Resources its running jobs hold, per dimension (the cluster's order).
    pub used: RSlice<'a, u64>,
    /// Its running jobs.
    pub running: u32,
}

/// A partition-scoped order plugin, v1.
#[sabi_trait]
pub trait PartitionOrderV1: Send + Sync {
    /// Writes one key per job into `keys` (lower goes first; finite numbers
    /// only). `groups[i]` is what job `i`'s group holds now.
    fn keys(
        &self,
        jobs: RSlice<'_, JobView<'_>>,
        groups: RSlice<'_, GroupUsageView<'_>>,
        cluster: &ClusterView<'_>,
        keys: RSliceMut<'_, f64>,
    ) -> RResult<(), RString>;
}

/// A built partition-scoped order plugin, and its key.
#[repr(C)]
#[derive(StableAbi)]
pub struct PartitionBuiltV1 {
    /// What the plugin groups jobs by.
    pub key: PartitionKeyV1,
    /// The plugin.
    pub order: PartitionOrderV1_TO<'static, RBox<()>>,
}

/// The module `kairos.partition.v1` (frozen; a later version is another module).
#[repr(C)]
#[derive(StableAbi)]
pub struct PartitionV1 {
    /// Builds order plugin `name` from its args (as the root module's `build`)
    /// if it is partition-scoped; `RNone` when it is not (the host then builds
    /// it through the root module).
    pub build: extern "C" fn(
        name: RStr<'_>,
        args: RStr<'_>,
        resources: RSlice<'_, RStr<'_>>,
    ) -> ROption<RResult<PartitionBuiltV1, RString>>,
}
