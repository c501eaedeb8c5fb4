//! `fair-share` (order): the group furthest below its fair share goes first.
//!
//! Jobs are grouped by `key` — the job's group (`region` is an alias), tenant,
//! priority class, or the value of one of its labels. A group's *dominant share*
//! is the largest fraction of any resource's total allocatable capacity that its
//! running jobs hold (dominant resource fairness, DRF); the key of a job is its
//! group's dominant share divided by the group's weight, so the group with the
//! smallest weighted share goes first, and a group of weight 2 may hold twice the
//! share of a group of weight 1 before it yields.
//!
//! The key depends only on the group and on current usage, so the plugin
//! declares [`OrderScope::Partition`]: the host keeps [`GroupUsage`] for this key,
//! one queue per group, and asks again for the heads of the groups after every
//! placement (see [`kairos_model::order`]).
//!
//! [`GroupUsage`]: kairos_model::GroupUsage

use std::collections::BTreeMap;

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Context, ExtensionPoint, Job, OrderKey, OrderPlugin, OrderScope, PartitionKey, PluginResult,
    PluginSpec, Sym,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "fair-share";

/// Arguments of `fair-share`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct FairShareConfig {
    /// What jobs are grouped by: `group` (default), `region` (an alias of
    /// `group`), `tenant`, `priority-class`, or `label:<name>` for the value of
    /// the job's label `<name>` (jobs without it form one group).
    pub key: String,
    /// Weight of each group, by name (> 0); groups not listed weigh 1.0.
    /// Default: every group weighs 1.0.
    pub weights: BTreeMap<String, f64>,
}

impl Default for FairShareConfig {
    fn default() -> Self {
        FairShareConfig { key: "group".into(), weights: BTreeMap::new() }
    }
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Order,
        summary: "group with the lowest weighted dominant share first (DRF)",
        args_schema: schema_of::<FairShareConfig>,
        build,
    }
}

/// Parses a `key` argument.
fn partition_key(key: &str, bx: &mut BuildContext<'_>) -> Result<PartitionKey, ArgsError> {
    match key {
        "group" | "region" => Ok(PartitionKey::Group),
        "tenant" => Ok(PartitionKey::Tenant),
        "priority-class" => Ok(PartitionKey::PriorityClass),
        _ => match key.strip_prefix("label:") {
            Some("") => Err(ArgsError("`key: label:<name>` needs a label name after `label:`".into())),
            Some(label) => Ok(PartitionKey::Label(bx.sym(label))),
            None => Err(ArgsError(format!(
                "unknown `key` `{key}`; expected `group`, `region`, `tenant`, `priority-class` or `label:<name>`"
            ))),
        },
    }
}

fn build(args: &serde_json::Value, bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: FairShareConfig = typed_args(args)?;
    let key = partition_key(&c.key, bx)?;
    let mut weights = Vec::with_capacity(c.weights.len());
    for (group, &w) in &c.weights {
        if !(w > 0.0 && w.is_finite()) {
            return Err(ArgsError(format!("the weight of group `{group}` must be a finite number > 0, got {w}")));
        }
        weights.push((bx.sym(group), w));
    }
    weights.sort_by_key(|&(g, _)| g);
    Ok(Built::Order(Box::new(FairShare { key, weights })))
}

/// Orders jobs by their group's weighted dominant share.
#[derive(Debug)]
pub struct FairShare {
    key: PartitionKey,
    /// `(group, weight)`, sorted by group.
    weights: Vec<(Sym, f64)>,
}

impl FairShare {
    #[inline]
    fn weight(&self, group: Sym) -> f64 {
        self.weights.binary_search_by_key(&group, |&(g, _)| g).map_or(1.0, |i| self.weights[i].1)
    }
}

impl OrderPlugin for FairShare {
    fn keys(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        debug_assert_eq!(cx.usage.key, Some(self.key), "the host tracks usage for another key than `fair-share` asked");
        for (key, job) in keys.iter_mut().zip(jobs) {
            let group = self.key.of(job);
            *key = cx.usage.dominant_share(group) / self.weight(group);
        }
        Ok(())
    }

    fn scope(&self) -> OrderScope {
        OrderScope::Partition(self.key)
    }
}

#[cfg(test)]
mod tests {
    use kairos_model::GroupUsage;
    use serde_json::json;

    use super::*;
    use crate::testutil::{job, ranked, Fixture, JobDef};

    /// A cluster of 10 cpu and 100 memory where, grouped by `key` (as in the
    /// `key` argument), `a` holds 5 cpu and 10 memory (share 0.5), `b` 1 cpu and
    /// 60 memory (share 0.6) and `c` nothing; and one pending job per group,
    /// made by `def`.
    fn cluster(key: &str, def: fn(&'static str) -> JobDef) -> (Fixture, [Job; 3]) {
        let mut fx = Fixture::cpu_mem();
        let key = match key {
            "group" | "region" => PartitionKey::Group,
            "tenant" => PartitionKey::Tenant,
            "priority-class" => PartitionKey::PriorityClass,
            label => PartitionKey::Label(fx.sym(label.strip_prefix("label:").expect("a label key"))),
        };
        fx.usage = GroupUsage::new(Some(key), 2);
        fx.usage.total = vec![10, 100];
        for (g, req) in [("a", [5, 10]), ("b", [1, 60])] {
            let holder = fx.job(def(g).with_request(&req));
            fx.usage.account(&holder, 1);
        }
        let pending = ["a", "b", "c"].map(|g| fx.job(def(g)));
        (fx, pending)
    }

    #[test]
    fn the_group_with_the_lowest_weighted_dominant_share_goes_first() {
        let by_group: fn(&'static str) -> JobDef = |g| job(&[1, 1]).group(g);
        let by_tenant: fn(&'static str) -> JobDef = |t| job(&[1, 1]).tenant(t);
        let by_class: fn(&'static str) -> JobDef = |c| job(&[1, 1]).class(c);
        let by_team: fn(&'static str) -> JobDef = |v| job(&[1, 1]).label("team", v);
        let cases = [
            ("an idle group goes first, then the smaller dominant share", "group", json!({}), by_group, [2, 0, 1]),
            ("`region` is an alias of `group`", "region", json!({}), by_group, [2, 0, 1]),
            ("a heavier weight lets a group hold more", "group", json!({"weights": {"b": 2.0}}), by_group, [2, 1, 0]),
            (
                "a lighter weight makes a group yield sooner",
                "group",
                json!({"weights": {"a": 0.5}}),
                by_group,
                [2, 1, 0],
            ),
            ("jobs can be grouped by tenant", "tenant", json!({}), by_tenant, [2, 0, 1]),
            ("jobs can be grouped by priority class", "priority-class", json!({}), by_class, [2, 0, 1]),
            ("jobs can be grouped by a label", "label:team", json!({}), by_team, [2, 0, 1]),
        ];
        for (name, key, mut args, def, want) in cases {
            let (mut fx, jobs) = cluster(key, def);
            args["key"] = json!(key);
            let keys = fx.order(spec(), args, &jobs);
            assert_eq!(ranked(&keys), want, "{name}: {keys:?}");
        }
    }

    #[test]
    fn keys_are_dominant_share_over_weight() {
        let (mut fx, jobs) = cluster("group", |g| job(&[1, 1]).group(g));
        let keys = fx.order(spec(), json!({"weights": {"a": 2.0, "b": 0.5}}), &jobs);
        assert_eq!(keys, [0.25, 1.2, 0.0]);
    }

    #[test]
    fn the_scope_is_the_partition_key() {
        let cases = [
            ("the default groups by group", json!(null), "group"),
            ("region is the group", json!({"key": "region"}), "group"),
            ("tenant", json!({"key": "tenant"}), "tenant"),
            ("priority class", json!({"key": "priority-class"}), "priority-class"),
            ("a label", json!({"key": "label:team"}), "label"),
        ];
        for (name, args, want) in cases {
            let mut fx = Fixture::cpu_mem();
            let Ok(Built::Order(o)) = fx.build(spec(), args) else { panic!("{name}: did not build") };
            let team = fx.sym("team");
            let got = match o.scope() {
                OrderScope::Partition(PartitionKey::Group) => "group",
                OrderScope::Partition(PartitionKey::Tenant) => "tenant",
                OrderScope::Partition(PartitionKey::PriorityClass) => "priority-class",
                OrderScope::Partition(PartitionKey::Label(k)) if k == team => "label",
                other => panic!("{name}: {other:?}"),
            };
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            (
                "an unknown key",
                json!({"key": "zone"}),
                "unknown `key` `zone`; expected `group`, `region`, `tenant`, `priority-class` or `label:<name>`",
            ),
            ("a label key without a name", json!({"key": "label:"}), "needs a label name after `label:`"),
            (
                "a zero weight",
                json!({"weights": {"a": 0.0}}),
                "the weight of group `a` must be a finite number > 0, got 0",
            ),
            (
                "a negative weight",
                json!({"weights": {"a": -1.0}}),
                "the weight of group `a` must be a finite number > 0, got -1",
            ),
            (
                "a weight that is not a number",
                json!({"weights": {"a": "heavy"}}),
                "`weights.a`: invalid type: string \"heavy\", expected a number",
            ),
        ];
        for (name, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
