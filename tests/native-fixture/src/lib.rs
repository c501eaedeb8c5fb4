//! Test fixture: plugins that misbehave on purpose, so the host's containment
//! can be tested through a real library.
//!
//! - `fixture.panics` (score): panics on every call;
//! - `fixture.errors` (filter): returns an error on every call;
//! - `fixture.bad-score` (score): writes `args.value` (default NaN) for every node;
//! - `fixture.reject-odd` (filter): rejects odd node ids (`odd`, transient),
//!   and node 1 for good (`one`, permanent);
//! - `fixture.by-priority` (order): key = −priority;
//! - `fixture.build-panics` (score): panics while being built.
//!
//! Built with feature `abi-v2` or `changed-layout`, the same library speaks
//! another ABI version or has another `JobView` layout: the host must refuse it.
//! Built with `newer-interface`, it was built against a later minor of the
//! interface (1.1.0) whose root module has a field after the last one this host
//! knows: the host must load it.

use kairos_abi::sdk::{BuildArgs, Fields, Filter, Order, Plugin, PluginDef, Score};
use kairos_abi::{ClusterView, JobView, Point, Verdict};

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
];
