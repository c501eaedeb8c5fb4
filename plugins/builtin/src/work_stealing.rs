//! `work-stealing` (rebalance): balances pending jobs between the host's
//! parallel scheduler workers.
//!
//! Where other rebalance plugins move *running* work, this one moves *pending*
//! work: it is the [`StealPolicy`] of the host's workers (see
//! `kairos_model::workers`). A pipeline with it runs the `optimistic`
//! architecture with `workers` workers, each holding a Chase-Lev deque of the
//! cycle's pending jobs. When a worker's deque and the global queue are both
//! empty, the host asks this plugin whom to rob, and the idle worker takes up to
//! `steal_batch` jobs — at most half of what the victim holds — from the urgent
//! end of the victim's deque. It proposes no moves of running jobs.
//!
//! Victim choice:
//! 1. `random` (default) — a worker drawn from a hash of `seed`, the thief and
//!    its attempt number: no shared state, no contention between thieves;
//! 2. `busiest` — the worker with the most queued jobs (ties: lowest index);
//! 3. `next` — the workers after the thief in turn (ring order).
//!
//! The host guarantees, whatever the choice, that a worker never takes a job
//! while more than `workers × steal_batch − 1` more urgent jobs wait.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Context, ExtensionPoint, Move, PluginResult, PluginSpec, RebalancePlugin, Running, StealPolicy,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Name in pipeline files.
pub const NAME: &str = "work-stealing";

/// The most workers: far above the cores of the machines kairos runs on.
pub const MAX_WORKERS: usize = 64;

/// Whom an idle worker robs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Victim {
    /// A pseudo-random other worker.
    #[default]
    Random,
    /// The worker with the most queued jobs.
    Busiest,
    /// The other workers in ring order, starting after the thief.
    Next,
}

/// Arguments of `work-stealing`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct WorkStealingConfig {
    /// Scheduler workers deciding at once, 1..=64. Default 2.
    pub workers: usize,
    /// Most jobs one steal (or one refill from the global queue) takes, ≥ 1.
    /// Default 16.
    pub steal_batch: usize,
    /// `random` (default), `busiest` or `next`.
    pub victim: Victim,
    /// Seed of the `random` victim choice. Default 0.
    pub seed: u64,
}

impl Default for WorkStealingConfig {
    fn default() -> Self {
        WorkStealingConfig { workers: 2, steal_batch: 16, victim: Victim::Random, seed: 0 }
    }
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Rebalance,
        summary: "balances pending jobs between parallel scheduler workers (Chase-Lev deques, batch steals)",
        args_schema: schema_of::<WorkStealingConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: WorkStealingConfig = typed_args(args)?;
    if !(1..=MAX_WORKERS).contains(&c.workers) {
        return Err(ArgsError(format!("`workers` must be within 1..={MAX_WORKERS}, got {}", c.workers)));
    }
    if c.steal_batch == 0 {
        return Err(ArgsError("`steal_batch` must be at least 1".into()));
    }
    Ok(Built::Rebalance(Box::new(WorkStealing { c })))
}

/// The plugin.
pub struct WorkStealing {
    c: WorkStealingConfig,
}

impl RebalancePlugin for WorkStealing {
    fn rebalance(&self, _: &Context<'_>, _: &[Running], _: &mut Vec<Move>) -> PluginResult {
        Ok(())
    }

    fn steal_policy(&self) -> Option<&dyn StealPolicy> {
        Some(self)
    }
}

impl StealPolicy for WorkStealing {
    fn workers(&self) -> usize {
        self.c.workers
    }

    fn steal_batch(&self) -> usize {
        self.c.steal_batch
    }

    fn victim(&self, thief: usize, queued: &[usize], attempt: u32) -> Option<usize> {
        let n = queued.len();
        if n < 2 {
            return None;
        }
        // An offset in 1..n from the thief never names the thief itself.
        let offset = match self.c.victim {
            Victim::Random => {
                1 + (mix(self.c.seed ^ ((thief as u64) << 32) ^ u64::from(attempt)) % (n as u64 - 1)) as usize
            }
            Victim::Next => 1 + attempt as usize % (n - 1),
            Victim::Busiest => {
                return (0..n)
                    .filter(|&w| w != thief && queued[w] > 0)
                    .max_by_key(|&w| (queued[w], std::cmp::Reverse(w)));
            }
        };
        Some((thief + offset) % n)
    }
}

/// A 64-bit finalizer (SplitMix64's): spreads a few changing bits over all.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::testutil::Fixture;

    fn plugin(args: Value) -> Box<dyn RebalancePlugin> {
        match Fixture::cpu_mem().build(spec(), args).expect("valid args") {
            Built::Rebalance(r) => r,
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_plugin_offers_its_workers_and_batch_to_the_host_and_proposes_no_moves() {
        let p = plugin(json!({"workers": 4, "steal_batch": 8}));
        let policy = p.steal_policy().expect("work-stealing balances workers");
        assert_eq!((policy.workers(), policy.steal_batch()), (4, 8));
        let defaults = plugin(json!(null));
        let policy = defaults.steal_policy().unwrap();
        assert_eq!((policy.workers(), policy.steal_batch()), (2, 16));
    }

    #[test]
    fn each_victim_choice_names_another_worker() {
        let queued = [0, 3, 9, 9];
        let cases: [(&str, Value, usize, u32, Option<usize>); 5] = [
            ("busiest robs the longest deque, ties to the lowest index", json!({"victim": "busiest"}), 0, 0, Some(2)),
            ("busiest never names the thief", json!({"victim": "busiest"}), 2, 0, Some(3)),
            ("next starts after the thief", json!({"victim": "next"}), 1, 0, Some(2)),
            ("next wraps around and skips the thief", json!({"victim": "next"}), 3, 1, Some(1)),
            ("busiest names nobody when all others are empty", json!({"victim": "busiest"}), 1, 0, None),
        ];
        for (case, args, thief, attempt, want) in cases {
            let q: &[usize] = if want.is_none() { &[0, 5, 0, 0] } else { &queued };
            let p = plugin(args);
            assert_eq!(p.steal_policy().unwrap().victim(thief, q, attempt), want, "{case}");
        }
        let p = plugin(json!({"victim": "random", "seed": 7, "workers": 4}));
        let policy = p.steal_policy().unwrap();
        let mut hit = [false; 4];
        for attempt in 0..64 {
            let v = policy.victim(1, &queued, attempt).expect("random always names someone");
            assert_ne!(v, 1, "random never names the thief");
            hit[v] = true;
        }
        assert_eq!(hit, [true, false, true, true], "random reaches every other worker");
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            ("no workers", json!({"workers": 0}), "`workers` must be within 1..=64, got 0"),
            ("too many workers", json!({"workers": 65}), "`workers` must be within 1..=64, got 65"),
            ("an empty batch", json!({"steal_batch": 0}), "`steal_batch` must be at least 1"),
            ("an unknown victim choice", json!({"victim": "richest"}), "unknown variant `richest`"),
        ];
        for (case, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{case}: {err}");
        }
    }
}
