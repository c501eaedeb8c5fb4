//! The kernel `best-fit` and `worst-fit` share: how full a node would be after
//! placing a job.
//!
//! The *fill* of a node is the mean, over the considered dimensions, of
//! `(used + request) / allocatable` after placement, each term clamped to
//! `[0, 1]` (a node the request does not fit counts as full, not fuller).
//! Dimensions the node has nothing allocatable of are ignored. The considered
//! dimensions are the `resources` argument when given, else every dimension the
//! job requests some of. When none is left, there is no fill: both plugins then
//! score 0, which ranks nothing above anything.
//!
//! Scoring a batch allocates nothing: one pass over the node table's flat
//! arrays, the dimension set chosen once per job.

use kairos_model::{ArgsError, BuildContext, Context, Job, NodeId, Qty, MAX_SCORE};

use crate::args;
use crate::kernel::{dims, width};

/// Which dimensions are considered.
#[derive(Debug)]
pub(crate) enum Dims {
    /// Every dimension the job requests some of.
    Requested,
    /// These dimensions, whatever the job requests.
    Listed(Box<[usize]>),
}

impl Dims {
    /// Resolves an optional `resources` argument.
    pub(crate) fn resolve(names: Option<&[String]>, bx: &mut BuildContext<'_>) -> Result<Dims, ArgsError> {
        Ok(match names {
            None => Dims::Requested,
            Some(names) => Dims::Listed(args::resources(names, bx)?),
        })
    }
}

/// Mean fill of one node's dimensions `dims`, or `None` when no dimension counts.
/// Writes `score(fill)` for each node of `nodes` into `scores`, 0 where there
/// is no fill; clamps to `0..=100`. The fill of a node is the mean over the
/// considered dimensions of `min(1, (used + request) / allocatable)`, skipping
/// dimensions the node has none of.
#[inline]
pub(crate) fn score_by_fill(
    dims_of: &Dims,
    job: &Job,
    cx: &Context<'_>,
    nodes: &[NodeId],
    scores: &mut [f64],
    score: impl Fn(f64) -> f64,
) {
    let dims = cx.nodes.dims();
    let request = &job.request[..dims];
    // The considered dimensions, once per job. Indices past the table come from
    // checking a pipeline without a cluster (`BuildContext::open`).
    let mut considered = vec![false; dims];
    match dims_of {
        Dims::Requested => (0..dims).for_each(|d| considered[d] = request[d] > 0),
        Dims::Listed(list) => list.iter().filter(|&&d| d < dims).for_each(|&d| considered[d] = true),
    }
    let (inv, used) = (cx.nodes.inv_allocatable_flat(), cx.nodes.used_flat());
    dims!(dims, fill(inv, used, request, &considered, nodes, scores, &score));
}

/// The fill loop over flat arrays, `D` dimensions a node (0: `request.len()`).
#[inline]
fn fill<const D: usize>(
    inv: &[f64],
    used: &[Qty],
    request: &[Qty],
    considered: &[bool],
    nodes: &[NodeId],
    scores: &mut [f64],
    score: &impl Fn(f64) -> f64,
) {
    let w = width::<D>(request.len());
    let (request, considered) = (&request[..w], &considered[..w]);
    for (s, &n) in scores.iter_mut().zip(nodes) {
        let base = n as usize * w;
        let (i, u) = (&inv[base..base + w], &used[base..base + w]);
        let (mut sum, mut k) = (0.0, 0u32);
        for d in 0..w {
            if considered[d] && i[d] != 0.0 {
                // Quantities stay far below 2^63: the signed conversion is one instruction.
                let after = u[d].saturating_add(request[d]) as i64 as f64;
                sum += (after * i[d]).min(1.0);
                k += 1;
            }
        }
        *s = if k == 0 { 0.0 } else { score(sum / f64::from(k)).clamp(0.0, MAX_SCORE) };
    }
}
