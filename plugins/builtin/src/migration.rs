//! `migration` (rebalance): moves running jobs from the most to the least
//! loaded nodes, within a disruption budget.
//!
//! A node's *load* is its dominant utilisation: the largest share, over the
//! resources it has, of its allocatable capacity in use. Each cycle:
//!
//! 1. the budget: at most `max_moves` proposals in any `interval_s` seconds
//!    (counted over this plugin's proposals; a proposal the host refuses still
//!    spends it, so a refused move cannot be retried in a tight loop);
//! 2. source nodes are taken from the most loaded down; on each, jobs are taken
//!    from the largest dominant request down (ties to the lowest job id);
//! 3. a job moves to the least loaded other up node that selects it (the job's
//!    node selector), holds its request (free capacity minus what earlier
//!    proposals of this call sent there) and whose load is more than
//!    `threshold` below the source's, provided the target's load after the move
//!    stays below the source's load before it — so a move never just swaps
//!    which node is the hot one;
//! 4. a job is never moved when the move would make it miss its deadline:
//!    `expected_end + cost_s > deadline`; nor when it carries the label
//!    `<label>=false` (default `migratable=false`).
//!
//! The move costs the job `cost_s` seconds without progress (its state is
//! copied): the host delays its end by that much ([`Move::MigrateWithPause`]).
//! With `cost_s: 0` the migration is live ([`Move::Migrate`]). The host
//! validates each proposal against the pipeline's filters and the capacity as
//! it is applied, and may refuse it.

use std::collections::VecDeque;
use std::sync::Mutex;

use kairos_model::limits;
use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Context, ExtensionPoint, Move, NodeId, NodeTable, PluginResult, PluginSpec, Qty, RebalancePlugin,
    Running, Sym, Time,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "migration";

/// Arguments of `migration`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct MigrationConfig {
    /// Load gap (0..1) between a source and a target above which work moves.
    /// Default 0.30.
    pub threshold: f64,
    /// Seconds a migrated job makes no progress. Default 30.
    pub cost_s: Time,
    /// Proposals allowed per `interval_s` (the disruption budget). Default 2.
    pub max_moves: u32,
    /// Length of the budget's window, seconds. Default 600.
    pub interval_s: Time,
    /// Job label that opts a job out when its value is `false`. Default `migratable`.
    pub label: String,
}

impl Default for MigrationConfig {
    fn default() -> Self {
        MigrationConfig { threshold: 0.30, cost_s: 30, max_moves: 2, interval_s: 600, label: "migratable".into() }
    }
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Rebalance,
        summary: "moves running jobs from the most to the least loaded nodes, within a disruption budget",
        args_schema: schema_of::<MigrationConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: MigrationConfig = typed_args(args)?;
    if !(c.threshold.is_finite() && (0.0..1.0).contains(&c.threshold)) {
        return Err(ArgsError(format!("`threshold` must be in 0..1, got {}", c.threshold)));
    }
    if c.cost_s < 0 {
        return Err(ArgsError(format!("`cost_s` must be >= 0, got {}", c.cost_s)));
    }
    if c.interval_s <= 0 {
        return Err(ArgsError(format!("`interval_s` must be > 0, got {}", c.interval_s)));
    }
    for (what, s) in [("cost_s", c.cost_s), ("interval_s", c.interval_s)] {
        limits::span(s).map_err(|m| ArgsError(format!("`{what}` {m}")))?;
    }
    if c.label.is_empty() {
        return Err(ArgsError("`label` must not be empty".into()));
    }
    Ok(Built::Rebalance(Box::new(Migration {
        label: bx.sym(&c.label),
        no: bx.sym("false"),
        recent: Mutex::new(VecDeque::new()),
        c,
    })))
}

/// Moves work from hot nodes to cold ones.
#[derive(Debug)]
pub struct Migration {
    c: MigrationConfig,
    label: Sym,
    no: Sym,
    /// Times of the proposals still inside the budget's window.
    recent: Mutex<VecDeque<Time>>,
}

/// Dominant utilisation of a node whose allocatable and used are `a` and `u`.
fn load(a: &[Qty], u: &[Qty]) -> f64 {
    a.iter().zip(u).filter(|&(&a, _)| a > 0).map(|(&a, &u)| u as f64 / a as f64).fold(0.0, f64::max)
}

impl Migration {
    fn selects(&self, nodes: &NodeTable, n: NodeId, selector: &[(Sym, Sym)]) -> bool {
        selector.iter().all(|&(k, v)| nodes.label(n, k) == Some(v))
    }
}

impl RebalancePlugin for Migration {
    fn rebalance(&self, cx: &Context<'_>, running: &[Running], moves: &mut Vec<Move>) -> PluginResult {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        while recent.front().is_some_and(|&t| t <= cx.now - self.c.interval_s) {
            recent.pop_front();
        }
        let mut budget = (self.c.max_moves as usize).saturating_sub(recent.len());
        if budget == 0 || running.is_empty() {
            return Ok(());
        }
        let nodes = cx.nodes;
        let dims = nodes.dims();
        let allocatable = nodes.allocatable_flat();
        let mut planned = nodes.used_flat().to_vec();
        let row = |v: &[Qty], n: NodeId| v[n as usize * dims..(n as usize + 1) * dims].to_vec();
        let up: Vec<NodeId> = (0..nodes.len() as NodeId).filter(|&n| nodes.is_up(n)).collect();
        let loads: Vec<f64> = up.iter().map(|&n| load(&row(allocatable, n), &row(&planned, n))).collect();
        let coldest = loads.iter().copied().fold(f64::INFINITY, f64::min);
        let mut sources: Vec<(NodeId, f64)> =
            up.iter().copied().zip(loads).filter(|&(_, l)| l - coldest > self.c.threshold).collect();
        if sources.is_empty() {
            return Ok(());
        }
        sources.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

        for (source, _) in sources {
            // Jobs on it, the largest dominant request first.
            let a_src = row(allocatable, source);
            let mut jobs: Vec<(&Running, f64)> = running
                .iter()
                .filter(|r| r.node == source)
                .map(|r| (r, load(&a_src, &cx.jobs[r.job as usize].request)))
                .collect();
            jobs.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.job.cmp(&b.0.job)));
            for (r, _) in jobs {
                if budget == 0 {
                    return Ok(());
                }
                let job = &cx.jobs[r.job as usize];
                if job.label(self.label) == Some(self.no) {
                    continue;
                }
                if job.deadline.is_some_and(|d| r.expected_end + self.c.cost_s > d) {
                    continue;
                }
                let request = &job.request[..dims];
                let source_load = load(&a_src, &row(&planned, source));
                let mut best: Option<(NodeId, f64)> = None;
                for &t in up.iter().filter(|&&t| t != source) {
                    let (a, u) = (row(allocatable, t), row(&planned, t));
                    let fits = request.iter().zip(&a).zip(&u).all(|((&q, &a), &u)| q <= a.saturating_sub(u));
                    let target_load = load(&a, &u);
                    if !fits || source_load - target_load <= self.c.threshold || !self.selects(nodes, t, &job.selector)
                    {
                        continue;
                    }
                    let after: Vec<Qty> = u.iter().zip(request).map(|(&u, &q)| u + q).collect();
                    if load(&a, &after) >= source_load {
                        continue;
                    }
                    if best.is_none_or(|(_, l)| target_load < l) {
                        best = Some((t, target_load));
                    }
                }
                let Some((to, _)) = best else { continue };
                for (d, &q) in request.iter().enumerate() {
                    planned[source as usize * dims + d] -= q;
                    planned[to as usize * dims + d] += q;
                }
                moves.push(if self.c.cost_s == 0 {
                    Move::Migrate { job: r.job, to }
                } else {
                    Move::MigrateWithPause { job: r.job, to, pause: self.c.cost_s }
                });
                recent.push_back(cx.now);
                budget -= 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use kairos_model::Move::{Migrate, MigrateWithPause};
    use serde_json::{json, Value};

    use super::*;
    use crate::testutil::{job, node, Fixture, JobDef};

    /// Changes the `i`-th job of the fixture.
    type Tweak<'a> = &'a dyn Fn(usize, JobDef) -> JobDef;

    /// Nodes: hot (16 cpu, runs 14), warm (16 cpu, runs 6), cold (16 cpu, idle),
    /// gpu (16 cpu, idle, labelled gpu=yes). Jobs on hot: 8, 4 and 2 cpu.
    fn cluster(extra: impl Fn(usize, JobDef) -> JobDef) -> (Fixture, Vec<Running>) {
        let mut fx = Fixture::cpu_mem();
        let hot = fx.add(node("hot", &[16, 64]));
        let warm = fx.add(node("warm", &[16, 64]));
        fx.add(node("cold", &[16, 64]));
        fx.add(node("gpu", &[16, 64]).label("gpu", "yes"));
        let placed = [(job(&[8, 8]), hot), (job(&[4, 4]), hot), (job(&[2, 2]), hot), (job(&[6, 6]), warm)];
        let mut running = Vec::new();
        for (i, (def, n)) in placed.into_iter().enumerate() {
            let id = fx.submit(extra(i, def.estimate(100)));
            running.push(fx.start(id, n));
        }
        (fx, running)
    }

    #[test]
    fn work_moves_from_the_hottest_node_to_the_coldest_that_takes_it() {
        let (cold, gpu, warm) = (2, 3, 1);
        let none = |_: usize, d| d;
        let cases: [(&str, Value, Tweak, Vec<Move>); 6] = [
            (
                "the largest job moves first, to the coldest node, with the default cost",
                json!(null),
                &none,
                vec![MigrateWithPause { job: 0, to: cold, pause: 30 }, MigrateWithPause { job: 1, to: gpu, pause: 30 }],
            ),
            (
                "a budget of one move moves one job",
                json!({"max_moves": 1, "cost_s": 0}),
                &none,
                vec![Migrate { job: 0, to: cold }],
            ),
            ("a threshold above every gap moves nothing", json!({"threshold": 0.9}), &none, vec![]),
            (
                "a job whose deadline the pause would break stays; the next one moves",
                json!({"max_moves": 1}),
                &|i, d: JobDef| if i == 0 { d.deadline(110) } else { d },
                vec![MigrateWithPause { job: 1, to: cold, pause: 30 }],
            ),
            (
                "a job labelled migratable=false stays",
                json!({"max_moves": 1}),
                &|i, d: JobDef| if i == 0 { d.label("migratable", "false") } else { d },
                vec![MigrateWithPause { job: 1, to: cold, pause: 30 }],
            ),
            (
                "a job goes only where its selector allows",
                json!({"max_moves": 3, "cost_s": 0}),
                &|_, d: JobDef| d.selector("gpu", "yes"),
                vec![Migrate { job: 0, to: gpu }],
            ),
        ];
        let _ = warm;
        for (name, args, extra, want) in cases {
            let (mut fx, running) = cluster(extra);
            assert_eq!(fx.rebalance(spec(), args, &running), want, "{name}");
        }
    }

    #[test]
    fn the_disruption_budget_spans_calls() {
        let (mut fx, running) = cluster(|_, d| d);
        let Built::Rebalance(plugin) =
            fx.build(spec(), json!({"max_moves": 1, "interval_s": 100, "cost_s": 0})).expect("valid args")
        else {
            unreachable!()
        };
        let mut calls = Vec::new();
        for now in [0, 50, 100] {
            fx.now = now;
            let mut moves = Vec::new();
            plugin.rebalance(&fx.cx(), &running, &mut moves).unwrap();
            calls.push(moves.len());
        }
        assert_eq!(calls, [1, 0, 1], "one move per 100 s window");
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            ("a threshold of 1", json!({"threshold": 1.0}), "`threshold` must be in 0..1, got 1"),
            ("a negative cost", json!({"cost_s": -1}), "`cost_s` must be >= 0, got -1"),
            ("an empty window", json!({"interval_s": 0}), "`interval_s` must be > 0, got 0"),
            (
                "a pause longer than ten years",
                json!({"cost_s": i64::MAX}),
                "`cost_s` must be within 0..=315576000 seconds (10 years)",
            ),
            (
                "a window longer than ten years",
                json!({"interval_s": i64::MAX}),
                "`interval_s` must be within 0..=315576000 seconds (10 years)",
            ),
            ("an unknown argument", json!({"budget": 3}), "unknown field `budget`"),
        ];
        for (name, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
