//! `taints` (filter): the job tolerates every taint of the node.
//!
//! A taint repels every job without a matching toleration (same key, and same
//! value unless the toleration accepts any value). A node with one taint the job
//! does not tolerate is rejected with `untolerated-taint`, unresolvable: the
//! job's tolerations do not change while it waits. Both effects, `NoSchedule`
//! and `NoExecute`, keep new jobs off. Untainted nodes — most of a cluster — pass
//! on one length check.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Candidates, Context, ExtensionPoint, FilterPlugin, Job, PluginResult, PluginSpec, Reason,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "taints";

/// The rejection: some taint of the node is not tolerated.
pub const UNTOLERATED: Reason = Reason::permanent("untolerated-taint");

/// `taints` takes no arguments; any given is an error.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct TaintsConfig {}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Filter,
        summary: "the job tolerates every taint of the node",
        args_schema: schema_of::<TaintsConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let TaintsConfig {} = typed_args(args)?;
    Ok(Built::Filter(Box::new(Taints)))
}

/// Rejects nodes with a taint the job does not tolerate.
#[derive(Debug)]
pub struct Taints;

impl FilterPlugin for Taints {
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult {
        let taints = &cx.nodes.taints;
        let tolerations = &job.tolerations;
        candidates.retain(|n| {
            let tolerated =
                taints[n as usize].iter().all(|t| tolerations.iter().any(|tol| tol.matches(t.key, t.value)));
            (!tolerated).then_some(UNTOLERATED)
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
    fn only_nodes_whose_every_taint_is_tolerated_survive() {
        // a: untainted. b: gpu=a100. c: gpu=a100 and maintenance=soon (NoExecute).
        // d: dedicated=ops.
        let cases: [(&str, JobDef, &[NodeId]); 6] = [
            ("a job without tolerations goes only on untainted nodes", job(&[1, 1]), &[0]),
            ("an exact toleration lets a job onto that taint", job(&[1, 1]).tolerate("gpu", Some("a100")), &[0, 1]),
            ("a toleration of another value does not", job(&[1, 1]).tolerate("gpu", Some("h100")), &[0]),
            ("a toleration without value accepts every value", job(&[1, 1]).tolerate("dedicated", None), &[0, 3]),
            (
                "every taint of a node must be tolerated, NoExecute included",
                job(&[1, 1]).tolerate("gpu", None).tolerate("maintenance", Some("soon")),
                &[0, 1, 2],
            ),
            ("a toleration of a key no node uses changes nothing", job(&[1, 1]).tolerate("spot", None), &[0]),
        ];
        for (name, def, kept) in cases {
            let mut fx = Fixture::cpu_mem()
                .with(node("a", &[4, 8]))
                .with(node("b", &[4, 8]).taint("gpu", "a100"))
                .with(node("c", &[4, 8]).taint("gpu", "a100").taint_no_execute("maintenance", "soon"))
                .with(node("d", &[4, 8]).taint("dedicated", "ops"));
            let j = fx.job(def);
            let (got, log) = fx.filter(spec(), json!(null), &j);
            assert_eq!(got, kept, "{name}");
            assert_eq!(log.rejected_nodes as usize, 4 - kept.len(), "{name}");
            assert!(log.per_node.iter().all(|&(_, _, r)| r == UNTOLERATED), "{name}");
        }
    }
}
