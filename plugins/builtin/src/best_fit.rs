//! `best-fit` (score): prefers the node the job would fill most (packs).
//!
//! A node scores `100 × fill`, where fill is the mean over the considered
//! dimensions of `(used + request) / allocatable` after placement:
//!
//! - the considered dimensions are the `resources` argument when given, else
//!   every dimension the job requests some of;
//! - a dimension the node has nothing allocatable of is ignored;
//! - each term is clamped to `[0, 1]`: a node the request does not fit counts
//!   as full, not fuller (the `fit` filter normally removed it already);
//! - with no dimension left to count, the node scores 0.
//!
//! Packing jobs tightly leaves whole nodes free for large jobs and lets idle
//! nodes be powered down; its opposite is [`crate::worst_fit`].
//!
//! This is a hot path: one allocation-free pass over the node table's flat
//! arrays per job.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Context, ExtensionPoint, Job, NodeId, PluginResult, PluginSpec, ScorePlugin, MAX_SCORE,
};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::packing::{score_by_fill, Dims};

/// Name in pipeline files.
pub const NAME: &str = "best-fit";

/// Arguments of `best-fit`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct BestFitConfig {
    /// Resources whose fill is averaged, by name. Default: every resource the
    /// job requests some of.
    pub resources: Option<Vec<String>>,
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Score,
        summary: "prefers the node the job would fill most (packs)",
        args_schema: schema_of::<BestFitConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: BestFitConfig = typed_args(args)?;
    Ok(Built::Score(Box::new(BestFit { dims: Dims::resolve(c.resources.as_deref(), bx)? })))
}

/// Scores nodes by how full they would be.
#[derive(Debug)]
pub struct BestFit {
    dims: Dims,
}

impl ScorePlugin for BestFit {
    fn score(&self, job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
        score_by_fill(&self.dims, job, cx, nodes, scores, |fill| MAX_SCORE * fill);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::testutil::{job, node, rounded, Fixture};

    #[test]
    fn the_fullest_node_after_placement_scores_highest() {
        // a: 10 cpu, 100 memory, idle. b: the same, half used. c: 4 cpu, 100
        // memory. d: nothing allocatable at all.
        let cases: [(&str, Value, &[u64], [f64; 4]); 6] = [
            ("only requested dimensions count by default", json!(null), &[2, 0], [20.0, 70.0, 50.0, 0.0]),
            ("the fill of every requested dimension is averaged", json!(null), &[2, 20], [20.0, 70.0, 35.0, 0.0]),
            ("a job requesting nothing scores 0 everywhere", json!(null), &[0, 0], [0.0; 4]),
            (
                "listed resources count even when not requested",
                json!({"resources": ["memory"]}),
                &[2, 0],
                [0.0, 50.0, 0.0, 0.0],
            ),
            ("a request that does not fit counts as full, no more", json!(null), &[8, 0], [80.0, 100.0, 100.0, 0.0]),
            (
                "listing every resource averages them all",
                json!({"resources": ["cpu", "memory"]}),
                &[4, 0],
                [20.0, 70.0, 50.0, 0.0],
            ),
        ];
        for (name, args, request, want) in cases {
            let mut fx = Fixture::cpu_mem()
                .with(node("a", &[10, 100]))
                .with(node("b", &[10, 100]).used(&[5, 50]))
                .with(node("c", &[4, 100]))
                .with(node("d", &[0, 0]));
            let j = fx.job(job(request));
            assert_eq!(rounded(&fx.score(spec(), args, &j)), want, "{name}");
        }
    }

    #[test]
    fn a_zero_allocatable_dimension_is_ignored_not_divided_by() {
        let mut fx = Fixture::cpu_mem().with(node("cpu-only", &[10, 0])).with(node("none", &[0, 0]));
        let j = fx.job(job(&[5, 5]));
        assert_eq!(rounded(&fx.score(spec(), json!(null), &j)), [50.0, 0.0]);
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            (
                "an unknown resource",
                json!({"resources": ["gpu"]}),
                "unknown resource `gpu`; the cluster declares: cpu, memory",
            ),
            ("an empty list", json!({"resources": []}), "`resources` lists no resource"),
            ("a resource listed twice", json!({"resources": ["cpu", "cpu"]}), "`resources` lists `cpu` twice"),
            (
                "a single name instead of a list",
                json!({"resources": "cpu"}),
                "invalid type: string \"cpu\", expected a sequence",
            ),
        ];
        for (name, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
