//! The four extension points across the boundary, **frozen at v1**.
//!
//! Each trait mirrors the host's trait of the same point (`kairos_model`): one
//! call per job with a batch of nodes (or, for order, a batch of jobs). A call
//! returns `ROk(())` or `RErr(message)`; the host treats an error like a failed
//! script call (the pipeline entry's `on_error`). Plugin authors do not
//! implement these traits: they implement the plain traits of [`crate::sdk`],
//! whose wrappers add the panic guard.
//!
//! # Why frozen
//! abi_stable refuses a library whose trait object has *fewer* methods than the
//! host expects ("too many fields"), so adding a method here would refuse every
//! plugin built before. New capabilities come as separate, separately
//! versioned optional modules instead (see [`crate::module`]).

use abi_stable::sabi_trait;
use abi_stable::std_types::{RResult, RSlice, RSliceMut, RString, RVec};

use crate::views::{ClusterView, JobView, MoveView, RunningView, Verdict};

/// Order, v1: one key per job, lower first. Keys must be finite.
#[sabi_trait]
pub trait OrderV1: Send + Sync {
    /// Writes one key per job of `jobs` into `keys` (same length).
    fn keys(
        &self,
        jobs: RSlice<'_, JobView<'_>>,
        cluster: &ClusterView<'_>,
        keys: RSliceMut<'_, f64>,
    ) -> RResult<(), RString>;
}

/// Filter, v1: a verdict per node of the batch.
#[sabi_trait]
pub trait FilterV1: Send + Sync {
    /// Writes one verdict per node of `nodes` into `verdicts` (same length,
    /// every entry [`Verdict::PASS`] on entry).
    fn filter(
        &self,
        job: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: RSlice<'_, u32>,
        verdicts: RSliceMut<'_, Verdict>,
    ) -> RResult<(), RString>;
}

/// Score, v1: a score in `0..=100` per node of the batch; higher is better.
#[sabi_trait]
pub trait ScoreV1: Send + Sync {
    /// Writes one score per node of `nodes` into `scores` (same length).
    fn score(
        &self,
        job: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: RSlice<'_, u32>,
        scores: RSliceMut<'_, f64>,
    ) -> RResult<(), RString>;
}

/// Rebalance, v1: proposed moves of running jobs.
#[sabi_trait]
pub trait RebalanceV1: Send + Sync {
    /// Appends proposed moves to `moves`.
    fn rebalance(
        &self,
        cluster: &ClusterView<'_>,
        running: RSlice<'_, RunningView>,
        moves: &mut RVec<MoveView>,
    ) -> RResult<(), RString>;
}
