//! `headroom` (filter): keeps a share of each resource free.
//!
//! For each listed resource (all by default) a node may be filled only up to
//!
//! ```text
//! limit = floor(allocatable × (100 − percent) / 100)
//! ```
//!
//! and is rejected with `headroom` when `used + request > limit`. The reason
//! carries the quantity still free below the limit, and is unresolvable when the
//! request alone exceeds the limit. Dimensions the job requests nothing of are
//! not checked: such a job does not eat into that headroom, even when others
//! already have. Jobs whose priority is at least `exempt_priority` skip the filter
//! and may use the headroom — the point of keeping it: room for urgent work.
//!
//! Limits are exact integer arithmetic: `percent` is taken in hundredths of a
//! percent (basis points) and `limit = allocatable × (10000 − basis points) /
//! 10000` is computed in 128 bits, so whole percentages give exact limits
//! (`100 × 0.29` in floating point would be 28.999…, floored to 28). A limit
//! depends only on a node's allocatable capacity, so the plugin computes every
//! node's limits once and keeps them for as long as the node table's
//! [`Layout`] is unchanged; the per-node check is then one compare a dimension.
//! This is on top of the node's own reserve, which allocatable already excludes.

use std::sync::{Arc, RwLock};

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Candidates, Context, ExtensionPoint, FilterPlugin, Job, Layout, NodeTable, PluginResult,
    PluginSpec, Qty, Reason,
};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::args;
use crate::kernel::{dims, width};

/// Name in pipeline files.
pub const NAME: &str = "headroom";

/// Reason code of a rejection.
pub const HEADROOM: &str = "headroom";

/// Arguments of `headroom`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct HeadroomConfig {
    /// Share of each resource's allocatable capacity kept free, in percent,
    /// in `[0, 100)`. Default 10.
    #[schemars(range(min = 0), extend("exclusiveMaximum" = 100))]
    pub percent: f64,
    /// Resources to keep headroom in, by name. Default: every dimension.
    pub resources: Option<Vec<String>>,
    /// Jobs with at least this priority may use the headroom. Default: none may.
    pub exempt_priority: Option<i32>,
}

impl Default for HeadroomConfig {
    fn default() -> Self {
        HeadroomConfig { percent: 10.0, resources: None, exempt_priority: None }
    }
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Filter,
        summary: "keeps a share of each resource free for high-priority jobs",
        args_schema: schema_of::<HeadroomConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: HeadroomConfig = typed_args(args)?;
    if !(0.0..100.0).contains(&c.percent) {
        return Err(ArgsError(format!("`percent` must be in [0, 100), got {}", c.percent)));
    }
    let resources = c.resources.as_deref().map(|names| args::resources(names, bx)).transpose()?;
    Ok(Built::Filter(Box::new(Headroom {
        keep_bp: BASIS as u64 - (c.percent * 100.0).round() as u64,
        resources,
        exempt_priority: c.exempt_priority,
        limits: RwLock::new(None),
    })))
}

/// Rejects nodes a job would fill into their headroom.
#[derive(Debug)]
pub struct Headroom {
    /// `10000 - percent × 100`: the share that may be used, in basis points.
    keep_bp: u64,
    /// Dimensions checked; `None`: all.
    resources: Option<Box<[usize]>>,
    exempt_priority: Option<i32>,
    /// Every node's limit per dimension, flat like the node table, for the
    /// table layout it was computed from: limits depend only on allocatable
    /// capacity, so they are computed once, not once per job and node.
    limits: RwLock<Option<(Layout, Arc<[Qty]>)>>,
}

/// Basis points in a whole.
const BASIS: u128 = 10_000;

impl Headroom {
    /// How much of `allocatable` may be used: exact, in 128-bit integers.
    #[inline]
    fn limit(&self, allocatable: Qty) -> Qty {
        (allocatable as u128 * self.keep_bp as u128 / BASIS) as Qty
    }

    /// The limits of every node of `nodes`, from the cache when its layout is
    /// the one they were computed for.
    fn limits(&self, nodes: &NodeTable) -> Arc<[Qty]> {
        let layout = nodes.layout();
        if let Some((l, limits)) = &*self.limits.read().unwrap_or_else(|e| e.into_inner()) {
            if *l == layout {
                return Arc::clone(limits);
            }
        }
        let limits: Arc<[Qty]> = nodes.allocatable_flat().iter().map(|&a| self.limit(a)).collect();
        *self.limits.write().unwrap_or_else(|e| e.into_inner()) = Some((layout, Arc::clone(&limits)));
        limits
    }
}

impl FilterPlugin for Headroom {
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult {
        if self.exempt_priority.is_some_and(|p| job.priority >= p) {
            return Ok(());
        }
        let dims = cx.nodes.dims();
        let request = &job.request[..dims];
        // The dimensions to check, once per job: listed (or all) and requested.
        // Indices past the table come from checking a pipeline without a
        // cluster (`BuildContext::open`); there is nothing to check for them.
        let mut checked = vec![false; dims];
        match &self.resources {
            None => (0..dims).for_each(|d| checked[d] = request[d] > 0),
            Some(list) => list.iter().filter(|&&d| d < dims).for_each(|&d| checked[d] = request[d] > 0),
        }
        if !checked.contains(&true) {
            return Ok(());
        }
        let limits = self.limits(cx.nodes);
        dims!(dims, headroom(&limits, cx.nodes.used_flat(), request, &checked, candidates));
        Ok(())
    }
}

/// The headroom check over flat arrays, `D` dimensions a node (0: `request.len()`).
#[inline]
fn headroom<const D: usize>(
    limits: &[Qty],
    used: &[Qty],
    request: &[Qty],
    checked: &[bool],
    candidates: &mut Candidates<'_>,
) {
    let w = width::<D>(request.len());
    let (request, checked) = (&request[..w], &checked[..w]);
    candidates.retain(|n| {
        let base = n as usize * w;
        let (l, u) = (&limits[base..base + w], &used[base..base + w]);
        for d in 0..w {
            if checked[d] && u[d].saturating_add(request[d]) > l[d] {
                return Some(Reason::resource(HEADROOM, d, request[d], l[d].saturating_sub(u[d]), request[d] > l[d]));
            }
        }
        None
    });
}

#[cfg(test)]
mod tests {
    use kairos_model::NodeId;
    use serde_json::{json, Value};

    use super::*;
    use crate::testutil::{job, node, reasons, Fixture, Rejection};

    /// (case, args, priority, request, nodes kept, rejections)
    type Case = (&'static str, Value, i32, &'static [u64], &'static [NodeId], &'static [Rejection]);

    #[test]
    fn nodes_are_filled_only_up_to_their_headroom() {
        // Both nodes: 10 cpu, 100 memory. a is idle; b uses 8 cpu and 95 memory,
        // already past the default 90 % of memory.
        let cases: [Case; 8] = [
            (
                "a job up to the default 90 % fits; one reaching into the headroom is rejected, transiently",
                json!(null),
                0,
                &[9, 90],
                &[0],
                &[(1, HEADROOM, Some(0), 9, 1, false)],
            ),
            (
                "a request above the limit itself can never pass",
                json!(null),
                0,
                &[10, 0],
                &[],
                &[(0, HEADROOM, Some(0), 10, 9, true), (1, HEADROOM, Some(0), 10, 1, true)],
            ),
            (
                "a node already past its headroom reports nothing free",
                json!(null),
                0,
                &[1, 1],
                &[0],
                &[(1, HEADROOM, Some(1), 1, 0, false)],
            ),
            ("a job requesting none of a full resource is not held back", json!(null), 0, &[1, 0], &[0, 1], &[]),
            ("only the listed resources are checked", json!({"resources": ["cpu"]}), 0, &[1, 1], &[0, 1], &[]),
            ("a zero percent headroom only asks the request to fit", json!({"percent": 0}), 0, &[2, 5], &[0, 1], &[]),
            (
                "a job at the exempt priority may use the headroom",
                json!({"exempt_priority": 5}),
                5,
                &[2, 1],
                &[0, 1],
                &[],
            ),
            (
                "a job below the exempt priority may not",
                json!({"exempt_priority": 5}),
                4,
                &[2, 1],
                &[0],
                &[(1, HEADROOM, Some(0), 2, 1, false)],
            ),
        ];
        for (name, args, priority, request, kept, want) in cases {
            let mut fx = Fixture::cpu_mem().with(node("a", &[10, 100])).with(node("b", &[10, 100]).used(&[8, 95]));
            let j = fx.job(job(request).priority(priority));
            let (got, log) = fx.filter(spec(), args, &j);
            assert_eq!(got, kept, "{name}");
            assert_eq!(reasons(&log), want, "{name}");
        }
    }

    #[test]
    fn whole_percentages_give_exact_limits() {
        let cases: [(&str, f64, u64, u64); 4] = [
            ("71 % kept free of 100 leaves exactly 29", 71.0, 100, 29),
            ("10 % kept free of 10 leaves 9", 10.0, 10, 9),
            ("a fraction of a unit is not usable", 10.0, 15, 13),
            ("nothing allocatable leaves nothing", 10.0, 0, 0),
        ];
        for (name, percent, allocatable, limit) in cases {
            let mut fx = Fixture::new(&["cpu"]).with(node("a", &[allocatable]));
            let at_limit = fx.job(job(&[limit]));
            let above = fx.job(job(&[limit + 1]));
            let args = json!({ "percent": percent });
            if limit > 0 {
                assert_eq!(fx.filter(spec(), args.clone(), &at_limit).0, [0], "{name}: the limit itself fits");
            }
            assert!(fx.filter(spec(), args, &above).0.is_empty(), "{name}: one more does not");
        }
    }

    #[test]
    fn cached_limits_follow_the_node_table_they_were_computed_for() {
        // One plugin instance, three tables: a first, a clone of it (same
        // layout), another with other capacities, and the first grown by a node.
        let Built::Filter(f) = Fixture::new(&["cpu"]).build(spec(), json!({ "percent": 50 })).unwrap() else {
            unreachable!()
        };
        let survivors = |fx: &mut Fixture, request: u64| {
            let j = fx.job(job(&[request]));
            let mut ids: Vec<NodeId> = (0..fx.nodes.len() as NodeId).collect();
            let mut log = kairos_model::Rejections::default();
            f.filter(&j, &fx.cx(), &mut Candidates::new(&mut ids, &mut log, 0)).unwrap();
            ids
        };
        let mut small = Fixture::new(&["cpu"]).with(node("a", &[10]));
        let mut big = Fixture::new(&["cpu"]).with(node("a", &[100]));
        assert_eq!(survivors(&mut small, 6), Vec::<NodeId>::new(), "limit 5 of 10");
        let mut clone = Fixture::new(&["cpu"]);
        clone.nodes = small.nodes.clone();
        assert_eq!(clone.nodes.layout(), small.nodes.layout());
        assert_eq!(survivors(&mut clone, 5), [0], "a clone shares the cached limits");
        assert_eq!(survivors(&mut big, 50), [0], "another table gets its own limits (50 of 100)");
        small.add(node("b", &[100]));
        assert_eq!(survivors(&mut small, 50), [1], "a grown table is recomputed");
    }

    #[test]
    fn the_schema_states_the_default_and_the_bounds_of_percent() {
        let schema = (spec().args_schema)();
        let percent = &schema["properties"]["percent"];
        assert_eq!(
            (&percent["default"], &percent["minimum"], &percent["exclusiveMaximum"]),
            (&json!(10.0), &json!(0), &json!(100)),
            "{percent}"
        );
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            ("a full headroom", json!({"percent": 100}), "`percent` must be in [0, 100), got 100"),
            ("a negative headroom", json!({"percent": -1}), "`percent` must be in [0, 100), got -1"),
            (
                "an unknown resource",
                json!({"resources": ["gpu"]}),
                "unknown resource `gpu`; the cluster declares: cpu, memory",
            ),
            ("an empty resource list", json!({"resources": []}), "`resources` lists no resource"),
            ("a priority that is not a number", json!({"exempt_priority": "high"}), "invalid type: string \"high\""),
        ];
        for (name, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
