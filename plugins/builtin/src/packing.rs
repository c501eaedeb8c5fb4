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
    let inv = cx.nodes.inv_allocatable_flat();
    let used = cx.nodes.used_flat();
    let request = &job.request[..dims];
    // The considered dimensions, once per job. Indices past the table come from
    // checking a pipeline without a cluster (`BuildContext::open`).
    let considered: Vec<usize> = match dims_of {
        Dims::Requested => (0..dims).filter(|&d| request[d] > 0).collect(),
        Dims::Listed(list) => list.iter().copied().filter(|&d| d < dims).collect(),
    };
    for (s, &n) in scores.iter_mut().zip(nodes) {
        let base = n as usize * dims;
        let (mut sum, mut k) = (0.0, 0u32);
        for &d in &considered {
            let i = inv[base + d];
            if i == 0.0 {
                continue;
            }
            // Quantities stay far below 2^63: the signed conversion is one instruction.
            let after = used[base + d].saturating_add(request[d]) as i64 as f64;
            sum += (after * i).min(1.0);
            k += 1;
        }
        *s = if k == 0 { 0.0 } else { score(sum / f64::from(k)).clamp(0.0, MAX_SCORE) };
    }
}
