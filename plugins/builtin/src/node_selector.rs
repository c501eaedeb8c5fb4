//! `node-selector` (filter): the node carries every label the job selects.
//!
//! Each `(key, value)` of the job's selector must equal the node's label `key`;
//! a node missing the label or carrying another value is rejected with
//! `selector-mismatch`, which is unresolvable (node labels do not change while
//! the job waits). A job with an empty selector returns at once, without
//! touching a node. Keys and values are interned symbols, so each test is a
//! binary search over the node's sorted labels and a `u32` compare.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Candidates, Context, ExtensionPoint, FilterPlugin, Job, PluginResult, PluginSpec, Reason,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "node-selector";

/// The rejection: a selected label is missing or different.
pub const MISMATCH: Reason = Reason::permanent("selector-mismatch");

/// `node-selector` takes no arguments; any given is an error.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct NodeSelectorConfig {}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Filter,
        summary: "the node carries every label the job selects",
        args_schema: schema_of::<NodeSelectorConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let NodeSelectorConfig {} = typed_args(args)?;
    Ok(Built::Filter(Box::new(NodeSelector)))
}

/// Rejects nodes whose labels do not match the job's selector.
#[derive(Debug)]
pub struct NodeSelector;

impl FilterPlugin for NodeSelector {
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult {
        if job.selector.is_empty() {
            return Ok(());
        }
        let nodes = cx.nodes;
        candidates.retain(|n| {
            let matches = job.selector.iter().all(|&(key, value)| nodes.label(n, key) == Some(value));
            (!matches).then_some(MISMATCH)
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use kairos_model::NodeId;
    use serde_json::json;

    use super::*;
    use crate::testutil::{job, node, Fixture, JobDef};

    #[test]
    fn only_nodes_with_every_selected_label_survive() {
        let cases: [(&str, JobDef, &[NodeId]); 6] = [
            ("an empty selector keeps every node", job(&[1, 1]), &[0, 1, 2, 3]),
            ("one matching label keeps the nodes that carry it", job(&[1, 1]).selector("disk", "ssd"), &[0, 2]),
            ("another value of the key is a mismatch", job(&[1, 1]).selector("disk", "hdd"), &[1]),
            ("every selected label must match", job(&[1, 1]).selector("disk", "ssd").selector("arch", "arm"), &[2]),
            ("a label no node carries rejects every node", job(&[1, 1]).selector("gpu", "a100"), &[]),
            ("a value used under another key does not match", job(&[1, 1]).selector("arch", "ssd"), &[]),
        ];
        for (name, def, kept) in cases {
            let mut fx = Fixture::cpu_mem()
                .with(node("a", &[4, 8]).label("disk", "ssd").label("arch", "x86"))
                .with(node("b", &[4, 8]).label("disk", "hdd"))
                .with(node("c", &[4, 8]).label("arch", "arm").label("disk", "ssd"))
                .with(node("d", &[4, 8]));
            let j = fx.job(def);
            let (got, log) = fx.filter(spec(), json!(null), &j);
            assert_eq!(got, kept, "{name}");
            assert_eq!(log.rejected_nodes as usize, 4 - kept.len(), "{name}");
            assert_eq!(log.unresolvable_nodes, log.rejected_nodes, "{name}: a mismatch is unresolvable");
            assert!(log.per_node.iter().all(|&(_, _, r)| r == MISMATCH), "{name}");
        }
    }
}
