//! `worst-fit` (score): prefers the node the job would leave emptiest (spreads
//! load).
//!
//! A node scores `100 × (1 − fill)`: the mean free fraction after placement
//! over the considered dimensions, with `fill` exactly as in [`crate::best_fit`]
//! (so the two scores add up to 100 wherever a dimension counts; with no
//! dimension left to count, the node scores 0). Spreading keeps every node's load low, which
//! leaves room for jobs to grow and limits what one node failure takes down.
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
pub const NAME: &str = "worst-fit";

/// Arguments of `worst-fit`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct WorstFitConfig {
    /// Resources whose free fraction is averaged, by name. Default: every
    /// resource the job requests some of.
    pub resources: Option<Vec<String>>,
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Score,
        summary: "prefers the node the job would leave emptiest (spreads load)",
        args_schema: schema_of::<WorstFitConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: WorstFitConfig = typed_args(args)?;
    Ok(Built::Score(Box::new(WorstFit { dims: Dims::resolve(c.resources.as_deref(), bx)? })))
}

/// Scores nodes by how empty they would stay.
#[derive(Debug)]
pub struct WorstFit {
    dims: Dims,
}

impl ScorePlugin for WorstFit {
    fn score(&self, job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
        score_by_fill(&self.dims, job, cx, nodes, scores, |fill| MAX_SCORE * (1.0 - fill));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::testutil::{job, node, rounded, Fixture};

    #[test]
    fn the_emptiest_node_after_placement_scores_highest() {
        // a: 10 cpu, 100 memory, idle. b: the same, half used. c: 4 cpu, 100
        // memory. d: nothing allocatable at all.
        let cases: [(&str, Value, &[u64], [f64; 4]); 5] = [
            ("only requested dimensions count by default", json!(null), &[2, 0], [80.0, 30.0, 50.0, 0.0]),
            (
                "the free fraction of every requested dimension is averaged",
                json!(null),
                &[2, 20],
                [80.0, 30.0, 65.0, 0.0],
            ),
            ("a job requesting nothing scores 0 everywhere", json!(null), &[0, 0], [0.0; 4]),
            (
                "listed resources count even when not requested",
                json!({"resources": ["memory"]}),
                &[2, 0],
                [100.0, 50.0, 100.0, 0.0],
            ),
            ("a request that does not fit leaves nothing free, not less", json!(null), &[8, 0], [20.0, 0.0, 0.0, 0.0]),
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
    fn worst_fit_mirrors_best_fit_where_a_dimension_counts() {
        let mut fx = Fixture::cpu_mem()
            .with(node("a", &[7, 30]).used(&[1, 2]))
            .with(node("b", &[13, 64]).used(&[12, 3]))
            .with(node("c", &[3, 1]));
        let j = fx.job(job(&[1, 1]));
        let best = fx.score(crate::best_fit::spec(), json!(null), &j);
        let worst = fx.score(spec(), json!(null), &j);
        for (b, w) in best.iter().zip(&worst) {
            assert!((b + w - 100.0).abs() < 1e-9, "best {b} + worst {w} should be 100");
        }
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
        ];
        for (name, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
