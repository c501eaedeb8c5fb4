//! Test fixture: plugins that misbehave on purpose, so the host's containment
//! can be tested through a real library.
//!
//! - `fixture.panics` (score): panics on every call;
//! - `fixture.errors` (filter): returns an error on every call;
//! - `fixture.bad-score` (score): writes `args.value` (default NaN) for every node;
//! - `fixture.reject-odd` (filter): rejects odd node ids (`odd`, transient),
//!   and node 1 for good (`one`, permanent);
//! - `fixture.by-priority` (order): key = −priority;
//! - `fixture.build-panics` (score): panics while being built;
//! - `fixture.bad-resource` (filter): rejects every node for a shortfall of
//!   resource 99, which no cluster of the tests has;
//! - `fixture.bad-code` (filter): rejects every node with a code of
//!   `args.length` bytes (default 1000) of `args.char` (default `x`);
//! - `fixture.infinite-key` (order): key = +∞ for every job;
//! - `fixture.bad-moves` (rebalance): proposes, for the running jobs, a move
//!   the host must refuse: `args.what` = `job` (a job index that is not
//!   running), `node` (a target past the node table) or `twice` (the same job
//!   twice).
//!
//! Built with feature `abi-v2` or `changed-layout`, the same library speaks
//! another ABI version or has another `JobView` layout: the host must refuse it.
//! Built with `newer-interface`, it was built against a later minor of the
//! interface (1.1.0) whose root module has a field after the last one this host
//! knows: the host must load it.

use kairos_abi::sdk::{BuildArgs, Fields, Filter, Order, Plugin, PluginDef, Rebalance, Score};
use kairos_abi::{ClusterView, JobView, MoveView, Point, RunningView, Verdict};

struct Panics;
impl Score for Panics {
    fn score(&self, _: &JobView<'_>, _: &ClusterView<'_>, _: &[u32], _: &mut [f64]) -> Result<(), String> {
        panic!("fixture panic")
    }
}

struct Errors;
impl Filter for Errors {
    fn filter(&self, _: &JobView<'_>, _: &ClusterView<'_>, _: &[u32], _: &mut [Verdict]) -> Result<(), String> {
        Err("fixture error".into())
    }
}

struct BadScore(f64);
impl Score for BadScore {
    fn score(&self, _: &JobView<'_>, _: &ClusterView<'_>, _: &[u32], scores: &mut [f64]) -> Result<(), String> {
        scores.fill(self.0);
        Ok(())
    }
}

struct RejectOdd;
impl Filter for RejectOdd {
    fn filter(&self, _: &JobView<'_>, _: &ClusterView<'_>, nodes: &[u32], v: &mut [Verdict]) -> Result<(), String> {
        for (&n, v) in nodes.iter().zip(v) {
            if n == 1 {
                *v = Verdict::permanent("one");
            } else if n % 2 == 1 {
                *v = Verdict::transient("odd");
            }
        }
        Ok(())
    }
}

struct ByPriority;
impl Order for ByPriority {
    fn keys(&self, jobs: &[JobView<'_>], _: &ClusterView<'_>, keys: &mut [f64]) -> Result<(), String> {
        for (j, k) in jobs.iter().zip(keys) {
            *k = -(j.priority as f64);
        }
        Ok(())
    }
}

struct BadResource;
impl Filter for BadResource {
    fn filter(&self, _: &JobView<'_>, _: &ClusterView<'_>, _: &[u32], v: &mut [Verdict]) -> Result<(), String> {
        v.fill(Verdict::shortfall("insufficient", 99, 1, 0, false));
        Ok(())
    }
}

struct BadCode(&'static str);
impl Filter for BadCode {
    fn filter(&self, _: &JobView<'_>, _: &ClusterView<'_>, _: &[u32], v: &mut [Verdict]) -> Result<(), String> {
        v.fill(Verdict::transient(self.0));
        Ok(())
    }
}

struct InfiniteKey;
impl Order for InfiniteKey {
    fn keys(&self, _: &[JobView<'_>], _: &ClusterView<'_>, keys: &mut [f64]) -> Result<(), String> {
        keys.fill(f64::INFINITY);
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum BadMove {
    Job,
    Node,
    Twice,
}
struct BadMoves(BadMove);
impl Rebalance for BadMoves {
    fn rebalance(
        &self,
        cluster: &ClusterView<'_>,
        running: &[RunningView],
        moves: &mut Vec<MoveView>,
    ) -> Result<(), String> {
        let Some(r) = running.first() else { return Ok(()) };
        let evict = |job| MoveView { migrate: false, job, to: 0, reason: "fixture".into() };
        match self.0 {
            BadMove::Job => moves.push(evict(u32::MAX)),
            BadMove::Node => {
                moves.push(MoveView { migrate: true, job: r.job, to: cluster.nodes.len() as u32, reason: "".into() })
            }
            BadMove::Twice => moves.extend([evict(r.job), evict(r.job)]),
        }
        Ok(())
    }
}

const ANY: &str = r#"{"type":"object"}"#;

fn no_args(b: &BuildArgs<'_>) -> Result<(), String> {
    Fields::new(b.args)?.finish()
}

kairos_abi::export_plugins![
    PluginDef {
        name: "fixture.panics",
        point: Point::Score,
        summary: "panics on every call",
        args_schema: ANY,
        build: |b| no_args(b).map(|()| Plugin::Score(Box::new(Panics))),
    },
    PluginDef {
        name: "fixture.errors",
        point: Point::Filter,
        summary: "fails every call",
        args_schema: ANY,
        build: |b| no_args(b).map(|()| Plugin::Filter(Box::new(Errors))),
    },
    PluginDef {
        name: "fixture.bad-score",
        point: Point::Score,
        summary: "writes args.value (default NaN) for every node",
        args_schema: ANY,
        build: |b| {
            let mut f = Fields::new(b.args)?;
            let v = f.number("value")?.unwrap_or(f64::NAN);
            f.finish()?;
            Ok(Plugin::Score(Box::new(BadScore(v))))
        },
    },
    PluginDef {
        name: "fixture.reject-odd",
        point: Point::Filter,
        summary: "rejects odd node ids",
        args_schema: ANY,
        build: |b| no_args(b).map(|()| Plugin::Filter(Box::new(RejectOdd))),
    },
    PluginDef {
        name: "fixture.by-priority",
        point: Point::Order,
        summary: "higher priority first",
        args_schema: ANY,
        build: |b| no_args(b).map(|()| Plugin::Order(Box::new(ByPriority))),
    },
    PluginDef {
        name: "fixture.build-panics",
        point: Point::Score,
        summary: "panics while being built",
        args_schema: ANY,
        build: |_| panic!("fixture build panic"),
    },
    PluginDef {
        name: "fixture.bad-resource",
        point: Point::Filter,
        summary: "rejects every node for a shortfall of resource 99",
        args_schema: ANY,
        build: |b| no_args(b).map(|()| Plugin::Filter(Box::new(BadResource))),
    },
    PluginDef {
        name: "fixture.bad-code",
        point: Point::Filter,
        summary: "rejects every node with a code of args.length bytes",
        args_schema: ANY,
        build: |b| {
            let mut f = Fields::new(b.args)?;
            let length = f.number("length")?.unwrap_or(1000.0) as usize;
            let char = f.string("char")?.unwrap_or("x").to_owned();
            f.finish()?;
            Ok(Plugin::Filter(Box::new(BadCode(char.repeat(length).leak()))))
        },
    },
    PluginDef {
        name: "fixture.infinite-key",
        point: Point::Order,
        summary: "key = +inf for every job",
        args_schema: ANY,
        build: |b| no_args(b).map(|()| Plugin::Order(Box::new(InfiniteKey))),
    },
    PluginDef {
        name: "fixture.bad-moves",
        point: Point::Rebalance,
        summary: "proposes moves the host must refuse (args.what: job, node or twice)",
        args_schema: ANY,
        build: |b| {
            let mut f = Fields::new(b.args)?;
            let what = match f.string("what")? {
                Some("job") | None => BadMove::Job,
                Some("node") => BadMove::Node,
                Some("twice") => BadMove::Twice,
                Some(other) => return Err(format!("`what`: expected job, node or twice, got `{other}`")),
            };
            f.finish()?;
            Ok(Plugin::Rebalance(Box::new(BadMoves(what))))
        },
    },
];
