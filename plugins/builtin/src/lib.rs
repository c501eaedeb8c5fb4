//! The built-in native plugins of kairos, one file per plugin.
//!
//! The host registers them all through [`builtins`]; a pipeline names them in
//! its `order`, `filter`, `score` and `rebalance` lists. Each plugin module has
//! a `NAME`, a typed config (unknown arguments are errors; every argument has a
//! documented default) and a `spec()` whose `build` checks the arguments and
//! resolves resource and label names against the cluster once, so the plugin
//! itself only compares indices and symbols.
//!
//! | name            | point     | what it does                                              |
//! |-----------------|-----------|-----------------------------------------------------------|
//! | `fifo`          | order     | earliest release first                                    |
//! | `priority`      | order     | highest priority first, with aging so nothing starves     |
//! | `edf`           | order     | earliest deadline (or latest start) first                 |
//! | `fair-share`    | order     | group with the lowest weighted dominant share first (DRF) |
//! | `fit`           | filter    | the request fits the node's free allocatable capacity     |
//! | `node-selector` | filter    | the node carries every label the job selects              |
//! | `taints`        | filter    | the job tolerates every taint of the node                 |
//! | `headroom`      | filter    | keeps a share of each resource free                       |
//! | `first-fit`     | score     | earlier nodes in table order                              |
//! | `best-fit`      | score     | fullest node after placement (packs)                      |
//! | `worst-fit`     | score     | emptiest node after placement (spreads load)              |
//! | `spread`        | score     | nodes running fewer jobs                                  |
//! | `drain`         | rebalance | moves jobs off nodes labelled for draining                |
//! | `migration`     | rebalance | moves jobs from the most to the least loaded nodes         |
//! | `work-stealing` | rebalance | balances pending jobs between parallel scheduler workers  |
//!
//! Filters and scores are called once per job with a batch of nodes and read
//! node state from the [`kairos_model::NodeTable`]'s flat arrays; the hot ones
//! (`fit`, `best-fit`, `worst-fit`) allocate nothing.

#![warn(missing_docs)]

pub mod best_fit;
pub mod drain;
pub mod edf;
pub mod fair_share;
pub mod fifo;
pub mod first_fit;
pub mod fit;
pub mod headroom;
pub mod migration;
pub mod node_selector;
pub mod priority;
pub mod spread;
pub mod taints;
pub mod work_stealing;
pub mod worst_fit;

mod args;
mod kernel;
mod packing;
#[cfg(test)]
mod testutil;

use kairos_model::PluginSpec;

/// Every built-in plugin, for the host's registry: order plugins, then
/// filters (cheapest first), scores, rebalancers.
pub fn builtins() -> Vec<PluginSpec> {
    vec![
        fifo::spec(),
        priority::spec(),
        edf::spec(),
        fair_share::spec(),
        node_selector::spec(),
        taints::spec(),
        fit::spec(),
        headroom::spec(),
        first_fit::spec(),
        best_fit::spec(),
        worst_fit::spec(),
        spread::spec(),
        drain::spec(),
        migration::spec(),
        work_stealing::spec(),
    ]
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use kairos_model::{Built, Candidates, ExtensionPoint, Rejections};
    use serde_json::json;

    use super::*;
    use crate::testutil::{job, node, Fixture};

    #[test]
    fn every_builtin_has_a_unique_name_and_builds_with_its_defaults() {
        let mut seen = HashSet::new();
        for spec in builtins() {
            assert!(seen.insert(spec.name), "{} is registered twice", spec.name);
            assert!(!spec.name.contains('.'), "{}: built-in names carry no vendor prefix", spec.name);
            assert!(!spec.summary.is_empty(), "{} has no summary", spec.name);
            let mut fx = Fixture::cpu_mem().with(node("a", &[4, 8]));
            for args in [json!(null), json!({})] {
                let built = fx.build(spec, args.clone());
                assert!(built.is_ok(), "{} with {args}: {:?}", spec.name, built.err());
            }
        }
        assert_eq!(seen.len(), 15);
    }

    #[test]
    fn every_schema_is_a_closed_object() {
        for spec in builtins() {
            let schema = (spec.args_schema)();
            assert_eq!(schema["type"], "object", "{}: {schema}", spec.name);
            assert_eq!(schema["additionalProperties"], false, "{}: {schema}", spec.name);
        }
    }

    #[test]
    fn every_builtin_refuses_an_unknown_argument() {
        for spec in builtins() {
            let mut fx = Fixture::cpu_mem();
            let err = fx.build_err(spec, json!({"no_such_arg": 1}));
            assert!(err.contains("unknown field `no_such_arg`"), "{}: {err}", spec.name);
        }
    }

    #[test]
    fn resources_named_without_a_cluster_are_accepted_and_skipped() {
        // `kairos check` builds a pipeline against no cluster: an undeclared
        // resource resolves to an index past the real dimensions, which the
        // plugins skip instead of indexing out of bounds.
        let args = json!({"resources": ["antenna", "cpu"]});
        // (plugin, what it makes of cpu alone: survivors of a filter, the score
        // of a scorer) on a node with 3 of 4 cpu used, for a job of 1 cpu.
        let cases = [
            (headroom::spec(), 0.0, "3 + 1 cpu reaches into the 10 % headroom"),
            (best_fit::spec(), 100.0, "the node would be full"),
            (worst_fit::spec(), 0.0, "the node would be full"),
        ];
        for (spec, want, why) in cases {
            let mut fx = Fixture::new(&["cpu"]).with(node("a", &[4]).used(&[3]));
            let j = fx.job(job(&[1]));
            let mut bx = kairos_model::BuildContext::open(&fx.resources, &mut fx.symbols);
            let built = (spec.build)(&args, &mut bx).expect("any name resolves in an open context");
            let (cx, mut ids, mut log, mut scores) = (fx.cx(), vec![0], Rejections::default(), [f64::NAN]);
            match built {
                Built::Filter(f) => f.filter(&j, &cx, &mut Candidates::new(&mut ids, &mut log, 0)).unwrap(),
                Built::Score(s) => s.score(&j, &cx, &ids, &mut scores).unwrap(),
                _ => unreachable!(),
            }
            let got = if spec.point == ExtensionPoint::Filter { ids.len() as f64 } else { scores[0] };
            assert_eq!(got, want, "{}: {why}", spec.name);
        }
    }

    #[test]
    fn builtins_are_listed_by_extension_point() {
        let points: Vec<ExtensionPoint> = builtins().iter().map(|s| s.point).collect();
        let mut sorted = points.clone();
        sorted.sort();
        assert_eq!(points, sorted);
    }
}
