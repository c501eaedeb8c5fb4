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
#[inline]
fn fill(a: &[Qty], u: &[Qty], request: &[Qty], dims: impl Iterator<Item = usize>) -> Option<f64> {
    let (mut sum, mut k) = (0.0, 0u32);
    for d in dims {
        if a[d] == 0 {
            continue;
        }
        let after = u[d].saturating_add(request[d]);
        sum += (after as f64 / a[d] as f64).min(1.0);
        k += 1;
    }
    (k > 0).then(|| sum / f64::from(k))
}

/// Writes `score(fill)` for each node of `nodes` into `scores`, 0 where there
/// is no fill; clamps to `0..=100`.
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
    let allocatable = cx.nodes.allocatable_flat();
    let used = cx.nodes.used_flat();
    let request = &job.request[..dims];
    for (s, &n) in scores.iter_mut().zip(nodes) {
        let base = n as usize * dims;
        let (a, u) = (&allocatable[base..base + dims], &used[base..base + dims]);
        let f = match dims_of {
            Dims::Requested => fill(a, u, request, (0..dims).filter(|&d| request[d] > 0)),
            // Indices past the table come from checking a pipeline without a
            // cluster (`BuildContext::open`).
            Dims::Listed(list) => fill(a, u, request, list.iter().copied().filter(|&d| d < dims)),
        };
        *s = f.map_or(0.0, |f| score(f).clamp(0.0, MAX_SCORE));
    }
}
