//! `first-fit` (score): prefers nodes earlier in table order.
//!
//! Node `n` of a table of `N` nodes scores `100 × (1 − n / N)`: the first node
//! 100, the last `100 / N`, whatever the batch. With it, a pipeline places each
//! job on the first feasible node, as classic first-fit does; weighted lightly
//! next to another score, it breaks that score's ties towards the front.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Context, ExtensionPoint, Job, NodeId, PluginResult, PluginSpec, ScorePlugin, MAX_SCORE,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "first-fit";

/// `first-fit` takes no arguments; any given is an error.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FirstFitConfig {}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Score,
        summary: "prefers nodes earlier in table order",
        args_schema: schema_of::<FirstFitConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let FirstFitConfig {} = typed_args(args)?;
    Ok(Built::Score(Box::new(FirstFit)))
}

/// Scores nodes by their position in the table.
#[derive(Debug)]
pub struct FirstFit;

impl ScorePlugin for FirstFit {
    fn score(&self, _job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
        let len = cx.nodes.len().max(1) as f64;
        for (s, &n) in scores.iter_mut().zip(nodes) {
            *s = (MAX_SCORE * (1.0 - f64::from(n) / len)).clamp(0.0, MAX_SCORE);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testutil::{job, node, Fixture};

    #[test]
    fn earlier_nodes_score_higher() {
        let cases: [(&str, usize, &[NodeId], &[f64]); 4] = [
            ("the only node scores 100", 1, &[0], &[100.0]),
            ("scores fall evenly along the table", 4, &[0, 1, 2, 3], &[100.0, 75.0, 50.0, 25.0]),
            ("a node's score does not depend on the batch", 4, &[2, 3], &[50.0, 25.0]),
            ("an empty batch scores nothing", 4, &[], &[]),
        ];
        for (name, len, batch, want) in cases {
            let mut fx = Fixture::cpu_mem();
            for _ in 0..len {
                fx.add(node("n", &[1, 1]));
            }
            let j = fx.job(job(&[1, 1]));
            assert_eq!(fx.score_on(spec(), json!(null), &j, batch), want, "{name}");
        }
    }
}
