//! `drain` (rebalance): moves running jobs off nodes labelled for draining.
//!
//! A node is *drained* when it carries label `label` with value `value`
//! (`drain=true` by default). Each cycle, for every job running on a drained
//! node, in the order the host lists them:
//!
//! 1. among the nodes that are up and not drained, find those whose free
//!    capacity — minus what earlier proposals of this call already sent there —
//!    holds the job's request;
//! 2. propose migrating the job to the roomiest of them: the one with the
//!    largest free share of the cluster, `Σ_d free(n, d) / total(d)` over the
//!    dimensions (totals over the nodes that are up), ties to the lowest index;
//! 3. if none holds it, propose evicting it (reason `drain`) when `action` is
//!    `evict`; with `migrate` (the default) leave it running, to be tried again
//!    next cycle, when capacity may have freed up.
//!
//! Migration is tried first with either action: it keeps the job's progress,
//! eviction restarts it. The host validates each proposal against the state as
//! it is applied (filters, capacity) and may refuse it; the plugin only
//! proposes.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Context, ExtensionPoint, Move, NodeId, NodeTable, PluginResult, PluginSpec, Qty, RebalancePlugin,
    Running, Sym,
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Name in pipeline files.
pub const NAME: &str = "drain";

/// Reason code of the evictions `drain` proposes.
pub const EVICT_REASON: &str = "drain";

/// What to do with a job no other node can take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Only migrate: a job no other node can take keeps running where it is
    /// and is tried again next cycle.
    #[default]
    Migrate,
    /// Migrate when possible, else evict: the job goes back to pending and
    /// restarts from scratch.
    Evict,
}

/// Arguments of `drain`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct DrainConfig {
    /// Label key that marks a node for draining. Default `drain`.
    pub label: String,
    /// Value of that label that marks it. Default `true`.
    pub value: String,
    /// `migrate` (default): only migrate; `evict`: migrate, or evict the jobs
    /// that fit nowhere else.
    pub action: Action,
}

impl Default for DrainConfig {
    fn default() -> Self {
        DrainConfig { label: "drain".into(), value: "true".into(), action: Action::Migrate }
    }
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Rebalance,
        summary: "moves running jobs off nodes labelled for draining",
        args_schema: schema_of::<DrainConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: DrainConfig = typed_args(args)?;
    if c.label.is_empty() {
        return Err(ArgsError("`label` must not be empty".into()));
    }
    Ok(Built::Rebalance(Box::new(Drain { label: bx.sym(&c.label), value: bx.sym(&c.value), action: c.action })))
}

/// Proposes moving jobs off drained nodes.
#[derive(Debug)]
pub struct Drain {
    label: Sym,
    value: Sym,
    action: Action,
}

impl Drain {
    #[inline]
    fn drained(&self, nodes: &NodeTable, n: NodeId) -> bool {
        nodes.label(n, self.label) == Some(self.value)
    }
}

impl RebalancePlugin for Drain {
    fn rebalance(&self, cx: &Context<'_>, running: &[Running], moves: &mut Vec<Move>) -> PluginResult {
        let nodes = cx.nodes;
        // Most cycles drain nothing: decide that before allocating anything.
        if !running.iter().any(|r| self.drained(nodes, r.node)) {
            return Ok(());
        }
        let dims = nodes.dims();
        let allocatable = nodes.allocatable_flat();
        let targets: Vec<NodeId> =
            (0..nodes.len() as NodeId).filter(|&n| nodes.is_up(n) && !self.drained(nodes, n)).collect();
        let mut total = vec![0 as Qty; dims];
        for n in (0..nodes.len() as NodeId).filter(|&n| nodes.is_up(n)) {
            for (t, &a) in total.iter_mut().zip(nodes.allocatable(n)) {
                *t += a;
            }
        }
        // What the table says is used, plus the migrations proposed so far.
        let mut planned = nodes.used_flat().to_vec();

        for r in running.iter().filter(|r| self.drained(nodes, r.node)) {
            let request = &cx.jobs[r.job as usize].request[..dims];
            let mut best: Option<(NodeId, f64)> = None;
            for &n in &targets {
                let base = n as usize * dims;
                let (a, u) = (&allocatable[base..base + dims], &planned[base..base + dims]);
                let fits = request.iter().zip(a).zip(u).all(|((&q, &a), &u)| q <= a.saturating_sub(u));
                if !fits {
                    continue;
                }
                let room: f64 = a
                    .iter()
                    .zip(u)
                    .zip(&total)
                    .filter(|&(_, &t)| t > 0)
                    .map(|((&a, &u), &t)| a.saturating_sub(u) as f64 / t as f64)
                    .sum();
                if best.is_none_or(|(_, b)| room > b) {
                    best = Some((n, room));
                }
            }
            match best {
                Some((to, _)) => {
                    let base = to as usize * dims;
                    for (p, &q) in planned[base..base + dims].iter_mut().zip(request) {
                        *p += q;
                    }
                    moves.push(Move::Migrate { job: r.job, to });
                }
                None if self.action == Action::Evict => moves.push(Move::Evict { job: r.job, reason: EVICT_REASON }),
                None => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use kairos_model::Move::{Evict, Migrate};
    use serde_json::{json, Value};

    use super::*;
    use crate::testutil::{job, node, Fixture};

    /// Nodes: a (drain=true), b (half full), c, d (down), e (drain=true, big),
    /// f (drain=false, maintenance=yes). Jobs: 0 and 1 on a, 2 on b, 3 on f.
    fn cluster(request_1: &[u64]) -> (Fixture, Vec<Running>) {
        let mut fx = Fixture::cpu_mem();
        let a = fx.add(node("a", &[16, 32]).label("drain", "true"));
        let b = fx.add(node("b", &[4, 16]).used(&[2, 0]));
        fx.add(node("c", &[8, 32]));
        fx.add(node("d", &[16, 64]).down());
        fx.add(node("e", &[16, 64]).label("drain", "true"));
        let f = fx.add(node("f", &[8, 32]).label("drain", "false").label("maintenance", "yes"));
        let placed = [(job(&[2, 4]), a), (job(request_1), a), (job(&[1, 1]), b), (job(&[1, 1]), f)];
        let mut running = Vec::new();
        for (def, n) in placed {
            let id = fx.submit(def);
            running.push(fx.start(id, n));
        }
        (fx, running)
    }

    #[test]
    fn jobs_on_drained_nodes_move_to_the_roomiest_node_that_holds_them() {
        let (c, e, f) = (2, 4, 5);
        let cases: [(&str, Value, &[u64], &[Move]); 6] = [
            (
                "each job goes to the roomiest node, counting the moves proposed before it",
                json!(null),
                &[4, 8],
                &[Migrate { job: 0, to: c }, Migrate { job: 1, to: f }],
            ),
            ("a job that fits nowhere else stays put by default", json!(null), &[8, 8], &[Migrate { job: 0, to: c }]),
            (
                "with `evict` a job that fits nowhere else is evicted",
                json!({"action": "evict"}),
                &[8, 8],
                &[Migrate { job: 0, to: c }, Evict { job: 1, reason: EVICT_REASON }],
            ),
            (
                "with `evict` a job that fits elsewhere is still migrated",
                json!({"action": "evict"}),
                &[4, 8],
                &[Migrate { job: 0, to: c }, Migrate { job: 1, to: f }],
            ),
            (
                "the label can be another; down nodes are never targets",
                json!({"label": "maintenance", "value": "yes"}),
                &[4, 8],
                &[Migrate { job: 3, to: e }],
            ),
            ("the value can be another", json!({"value": "false"}), &[4, 8], &[Migrate { job: 3, to: e }]),
        ];
        for (name, args, request_1, want) in cases {
            let (mut fx, running) = cluster(request_1);
            assert_eq!(fx.rebalance(spec(), args, &running), want, "{name}");
        }
    }

    #[test]
    fn nothing_is_proposed_when_no_job_runs_on_a_drained_node() {
        let cases = [
            ("no node carries the label", json!({"label": "decommission"})),
            ("the label's value differs", json!({"value": "soon"})),
        ];
        for (name, args) in cases {
            let (mut fx, running) = cluster(&[1, 1]);
            assert_eq!(fx.rebalance(spec(), args, &running), [], "{name}");
        }
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            ("an empty label", json!({"label": ""}), "`label` must not be empty"),
            ("an unknown action", json!({"action": "kill"}), "unknown variant `kill`, expected `migrate` or `evict`"),
        ];
        for (name, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
