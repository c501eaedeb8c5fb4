//! `spread` (score): prefers nodes running fewer jobs.
//!
//! With `max` the largest number of jobs running on any node of the batch, node
//! `n` scores `100 × (1 − running(n) / (max + 1))`: an idle node 100, the
//! busiest `100 / (max + 1)`. Unlike [`crate::worst_fit`] it counts jobs, not
//! resources, so it spreads many small jobs — and the blast radius of a node
//! failure — evenly.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Context, ExtensionPoint, Job, NodeId, PluginResult, PluginSpec, ScorePlugin, MAX_SCORE,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "spread";

/// `spread` takes no arguments; any given is an error.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct SpreadConfig {}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Score,
        summary: "prefers nodes running fewer jobs",
        args_schema: schema_of::<SpreadConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let SpreadConfig {} = typed_args(args)?;
    Ok(Built::Score(Box::new(Spread)))
}

/// Scores nodes by how few jobs they run.
#[derive(Debug)]
pub struct Spread;

impl ScorePlugin for Spread {
    fn score(&self, _job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
        let max = nodes.iter().map(|&n| cx.nodes.running(n)).max().unwrap_or(0);
        let denominator = f64::from(max) + 1.0;
        for (s, &n) in scores.iter_mut().zip(nodes) {
            *s = (MAX_SCORE * (1.0 - f64::from(cx.nodes.running(n)) / denominator)).clamp(0.0, MAX_SCORE);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use kairos_model::NodeId;
    use serde_json::json;

    use super::*;
    use crate::testutil::{job, node, rounded, Fixture};

    #[test]
    fn nodes_running_fewer_jobs_score_higher() {
        // Nodes a, b, c, d run 0, 1, 3 and 4 jobs.
        let cases: [(&str, &[NodeId], &[f64]); 4] = [
            ("scores fall with the jobs running, relative to the busiest", &[0, 1, 2, 3], &[100.0, 80.0, 40.0, 20.0]),
            ("the busiest node of the batch sets the scale", &[1, 2], &[75.0, 25.0]),
            ("a batch of idle nodes scores 100 throughout", &[0, 0], &[100.0, 100.0]),
            ("an empty batch scores nothing", &[], &[]),
        ];
        for (name, batch, want) in cases {
            let mut fx = Fixture::cpu_mem()
                .with(node("a", &[8, 8]))
                .with(node("b", &[8, 8]).running(1))
                .with(node("c", &[8, 8]).running(3))
                .with(node("d", &[8, 8]).running(4));
            let j = fx.job(job(&[1, 1]));
            assert_eq!(rounded(&fx.score_on(spec(), json!(null), &j, batch)), want, "{name}");
        }
    }
}
