//! `fit` (filter): the job's request fits the node's free allocatable capacity.
//!
//! A node is rejected when, in some dimension, the job requests more than is
//! free (`allocatable - used`). The rejection names the first such dimension,
//! the quantity requested and the quantity free. It is *unresolvable* when the
//! request exceeds the node's whole allocatable capacity in that dimension —
//! waiting for jobs to finish can never make it fit — and transient otherwise.
//!
//! This is the hottest filter: one tight loop over the node table's flat
//! arrays, allocation-free. Dimensions the job requests nothing of are not
//! skipped: `0 > free` is never true, and a branch per dimension would cost more
//! than the compare it saves at the handful of dimensions clusters declare.
//!
//! The host re-checks capacity itself before committing, so `fit` is what makes
//! the rejection *explainable*, not what keeps capacity safe.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Candidates, Context, ExtensionPoint, FilterPlugin, Job, PluginResult, PluginSpec, Qty, Reason,
};

use crate::kernel::{dims, width};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "fit";

/// Reason code of a rejection.
pub const INSUFFICIENT: &str = "insufficient";

/// `fit` takes no arguments; any given is an error.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FitConfig {}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Filter,
        summary: "the request fits the node's free allocatable capacity",
        args_schema: schema_of::<FitConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let FitConfig {} = typed_args(args)?;
    Ok(Built::Filter(Box::new(Fit)))
}

/// Rejects nodes the request does not fit.
#[derive(Debug)]
pub struct Fit;

impl FilterPlugin for Fit {
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult {
        let dims = cx.nodes.dims();
        dims!(dims, fit(cx.nodes.allocatable_flat(), cx.nodes.used_flat(), &job.request[..dims], candidates));
        Ok(())
    }
}

/// The fit check over flat arrays, `D` dimensions a node (0: `request.len()`).
#[inline]
fn fit<const D: usize>(allocatable: &[Qty], used: &[Qty], request: &[Qty], candidates: &mut Candidates<'_>) {
    let w = width::<D>(request.len());
    candidates.retain(|n| {
        let base = n as usize * w;
        // One bounds check per node, none per dimension.
        let (a, u) = (&allocatable[base..base + w], &used[base..base + w]);
        for d in 0..w {
            let free = a[d].saturating_sub(u[d]);
            if request[d] > free {
                return Some(Reason::resource(INSUFFICIENT, d, request[d], free, request[d] > a[d]));
            }
        }
        None
    });
}

#[cfg(test)]
mod tests {
    use kairos_model::NodeId;
    use serde_json::json;

    use super::*;
    use crate::testutil::{job, node, reasons, Fixture, Rejection};

    /// (case, request, nodes kept, rejections)
    type Case = (&'static str, &'static [u64], &'static [NodeId], &'static [Rejection]);

    #[test]
    fn nodes_without_room_are_rejected_with_the_shortfall() {
        // Node a: 4 cpu, 16 memory, idle. Node b: 8 cpu with 6 used, 32 memory.
        // Node c: 16 cpu of which 4 reserved, 32 memory.
        let cases: [Case; 7] = [
            ("a small job fits everywhere", &[1, 1], &[0, 1, 2], &[]),
            ("a request of exactly what is free fits", &[2, 8], &[0, 1, 2], &[]),
            (
                "a node with too little free cpu is rejected, transiently",
                &[3, 1],
                &[0, 2],
                &[(1, INSUFFICIENT, Some(0), 3, 2, false)],
            ),
            (
                "a request of a busy node's whole allocatable waits for it to empty",
                &[8, 1],
                &[2],
                &[(0, INSUFFICIENT, Some(0), 8, 4, true), (1, INSUFFICIENT, Some(0), 8, 2, false)],
            ),
            (
                "a request above the node's allocatable can never fit",
                &[1, 20],
                &[1, 2],
                &[(0, INSUFFICIENT, Some(1), 20, 16, true)],
            ),
            (
                "the reserve is not allocatable",
                &[13, 1],
                &[],
                &[
                    (0, INSUFFICIENT, Some(0), 13, 4, true),
                    (1, INSUFFICIENT, Some(0), 13, 2, true),
                    (2, INSUFFICIENT, Some(0), 13, 12, true),
                ],
            ),
            (
                "the first short dimension is the one reported",
                &[5, 17],
                &[2],
                &[(0, INSUFFICIENT, Some(0), 5, 4, true), (1, INSUFFICIENT, Some(0), 5, 2, false)],
            ),
        ];
        for (name, request, kept, want) in cases {
            let mut fx = Fixture::cpu_mem()
                .with(node("a", &[4, 16]))
                .with(node("b", &[8, 32]).used(&[6, 0]))
                .with(node("c", &[16, 32]).reserve(&[4, 0]));
            let j = fx.job(job(request));
            let (got, log) = fx.filter(spec(), json!(null), &j);
            assert_eq!(got, kept, "{name}");
            assert_eq!(reasons(&log), want, "{name}");
        }
    }

    #[test]
    fn a_node_with_nothing_allocatable_takes_only_empty_requests() {
        let cases: [(&str, &[u64], bool); 2] = [
            ("a job requesting nothing of the empty dimension fits", &[1, 0], true),
            ("a job requesting any of it never fits", &[1, 1], false),
        ];
        for (name, request, fits) in cases {
            let mut fx = Fixture::cpu_mem().with(node("gpu-less", &[4, 0]));
            let j = fx.job(job(request));
            let (kept, log) = fx.filter(spec(), json!(null), &j);
            assert_eq!(kept.len() == 1, fits, "{name}");
            assert_eq!(log.unresolvable_nodes == 1, !fits, "{name}");
        }
    }
}
