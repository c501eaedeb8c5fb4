//! The YAML files a user writes: pipelines, scenarios, clusters.

use std::sync::Arc;

use kairos_host::cluster::Cluster;
use kairos_host::engine::Engine;
use kairos_host::pipeline::PipelineDef;
use kairos_host::scenario::{Overrides, Scenario};
use kairos_host::workload;
use kairos_host::Error;

use super::{Ctx, Target};
use crate::oracle::{refused, run_twice, RunInput};
use crate::scratch::Scratch;
use crate::{Finding, Outcome};

/// The pass-window miniature as a scenario: its 40 passes, each booked once
/// (no `load_per_day`: the pass-window scenario's 1,400 a day would make 35
/// contacts of each of the 40 passes). The `pipeline`, `script` and `passes`
/// targets run their input in it.
pub(super) const BASE: &str = "examples/pass-window/fuzz-base.yaml";

const BASE_TEXT: &str = "\
name: fuzz base
pipeline: pipeline.yaml
cluster: cluster.yaml
workload:
  path: data/passes_2023-07-05.csv
  format: passes
  passes:
    contact: { fraction: 0.6, min_s: 120 }
    processing:
      seconds_per_contact_second: 8
      request: { cpu: 4, memory: 16, storage: 50 }
      latency_s: { critical: 3600, high: 3600 }
      default_latency_s: 21600
    classes:
      critical: [\"ISS\", \"CSS\"]
      high: [\"NOAA\", \"METOP\", \"SUOMI\", \"FENGYUN\", \"METEOR\", \"DMSP\", \"GCOM\"]
    default_class: normal
events:
  - { at: \"10:00\", node: svalbard-1, action: fail }
  - { at: \"10:30\", node: svalbard-1, action: recover }
";

/// Writes the files the targets share into the scratch miniature.
pub(super) fn prepare(scratch: &Scratch) -> std::io::Result<()> {
    scratch.write(BASE, BASE_TEXT.as_bytes())?;
    Ok(())
}

/// Loads `scenario` with `overrides` and runs it twice, checked.
pub(super) fn run_scenario(ctx: &Ctx, scenario: &std::path::Path, overrides: &Overrides) -> Result<Outcome, Finding> {
    let loaded = match Scenario::load(scenario, overrides, &ctx.registry) {
        Ok(s) => s,
        Err(e) => return Ok(refused(&e)),
    };
    run_twice(|| {
        Ok(RunInput {
            engine: loaded.engine(&loaded.pipeline, &ctx.registry)?,
            jobs: loaded.jobs.clone(),
            events: loaded.events.clone(),
        })
    })
}

/// Words of the pipeline format: keys, plugin names, args, architectures.
const PIPELINE_WORDS: &[&str] = &[
    "name:",
    "order:",
    "filter:",
    "score:",
    "rebalance:",
    "plugin:",
    "script:",
    "native:",
    "args:",
    "weight:",
    "on_error:",
    "architecture:",
    "kind:",
    "workers:",
    "sample:",
    "seed:",
    "by:",
    "rebalance_s:",
    "recovery_percent:",
    "lease_s:",
    "conflict:",
    "plugin_dirs:",
    "library:",
    "fifo",
    "priority",
    "edf",
    "fair-share",
    "fit",
    "node-selector",
    "taints",
    "headroom",
    "first-fit",
    "best-fit",
    "worst-fit",
    "spread",
    "drain",
    "migration",
    "work-stealing",
    "centralized",
    "optimistic",
    "sampled",
    "partitioned",
    "region",
    "zone",
    "reject-node",
    "skip-plugin",
    "fail",
    "aging_interval_s:",
    "aging_step:",
    "max_boost:",
    "late: last",
    "no_deadline: first",
    "key: group",
    "key: label:station",
    "weights:",
    "percent:",
    "resources: [cpu]",
    "exempt_priority:",
    "threshold:",
    "cost_s:",
    "max_moves:",
    "interval_s:",
    "steal_batch:",
    "victim: busiest",
    "action: evict",
    "- plugin: fit\n",
    "- { plugin: spread }\n",
    "[]",
    "{}",
    "- {}",
    "&a",
    "*a",
    "<<: *a",
    "!!str",
    "../../policies/site-aging.rhai",
    "../../policies/drain-node.rhai",
    "../../policies/prefer-warm.rhai",
];

/// `pipeline`: a pipeline file, run on the pass-window miniature.
pub(super) const PIPELINE: Target = Target {
    name: "pipeline",
    about: "pipeline YAML: loaded, built against the pass-window cluster, and run",
    binary: false,
    dictionary: PIPELINE_WORDS,
    run: |ctx, input| {
        let path = ctx.write("examples/pass-window/fuzz-pipeline.yaml", input)?;
        let overrides = Overrides { pipeline: Some(path), ..Overrides::default() };
        run_scenario(ctx, &ctx.scratch.path(BASE), &overrides)
    },
    cli: &[&["check", "{}"]],
};

/// Where a scenario input asks to be written: `# at: DIR` on its first line,
/// else the pass-window example's directory.
fn scenario_dir(input: &[u8]) -> String {
    let first = input.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let first = String::from_utf8_lossy(first);
    let dir = first.trim().strip_prefix("# at:").map(str::trim).unwrap_or("examples/pass-window");
    // Only directories of the miniature: a path out of it would write anywhere.
    match dir {
        "tests/fixtures" | "examples/kth-sp2" | "examples/regional-recovery" => dir.to_owned(),
        _ => "examples/pass-window".to_owned(),
    }
}

/// `scenario`: a scenario file and everything it references.
pub(super) const SCENARIO: Target = Target {
    name: "scenario",
    about: "scenario YAML (first line `# at: DIR` picks its directory): loaded with all it references, and run",
    binary: false,
    dictionary: &[
        "name:",
        "pipeline:",
        "cluster:",
        "workload:",
        "path:",
        "format:",
        "passes:",
        "swf:",
        "events:",
        "at:",
        "node:",
        "action: fail",
        "action: recover",
        "load_per_day:",
        "contact:",
        "fraction:",
        "min_s:",
        "processing:",
        "seconds_per_contact_second:",
        "request:",
        "latency_s:",
        "default_latency_s:",
        "anywhere: true",
        "classes:",
        "default_class:",
        "cpu_resource:",
        "deadline_factor:",
        "estimate: actual",
        "limit:",
        "csv",
        "yaml",
        "swf",
        "passes",
        "pipeline.yaml",
        "baseline.yaml",
        "cluster.yaml",
        "jobs.csv",
        "jobs-lost.csv",
        "data/passes_2023-07-05.csv",
        "data/KTH-SP2-1996-2.1-cln.swf.gz",
        "fifo.yaml",
        "fair-edf.yaml",
        "../pass-window/cluster.yaml",
        "/dev/null",
        "/dev/zero",
        ".",
        "\"10:00\"",
        "\"26:15\"",
        "\"2023-07-05T12:00:00Z\"",
        "svalbard-1",
        "kiruna-1",
        "accel",
        "edge-1",
        "sp2",
    ],
    run: |ctx, input| {
        let dir = scenario_dir(input);
        let path = ctx.write(&format!("{dir}/fuzz-scenario.yaml"), input)?;
        run_scenario(ctx, &path, &Overrides::default())
    },
    cli: &[&["check", "{}"], &["run", "{}", "--json", "--quiet"]],
};

/// `cluster`: a cluster file, with twelve jobs of one unit of its first
/// resource each (generated, so they fit any resource names) under the
/// fixture's baseline pipeline.
pub(super) const CLUSTER: Target = Target {
    name: "cluster",
    about: "cluster YAML: loaded, then twelve generated jobs run on it",
    binary: false,
    dictionary: &[
        "resources:",
        "priority_classes:",
        "nodes:",
        "name:",
        "count:",
        "region:",
        "zone:",
        "labels:",
        "taints:",
        "capacity:",
        "reserve:",
        "key:",
        "value:",
        "effect: NoSchedule",
        "effect: NoExecute",
        "cpu",
        "memory",
        "antenna",
        "{ cpu: 4 }",
        "[cpu, memory]",
        "- { name: n, capacity: { cpu: 1 } }\n",
        "count: 1000000000",
        "station: Kiruna",
        "tier: edge",
    ],
    run: |ctx, input| {
        let path = ctx.write("tests/fixtures/fuzz-cluster.yaml", input)?;
        let cluster = match Cluster::load(&path) {
            Ok(c) => c,
            Err(e) => return Ok(refused(&e)),
        };
        let pipeline_path = ctx.scratch.path("tests/fixtures/baseline.yaml");
        let def = match PipelineDef::load(&pipeline_path, &ctx.registry) {
            Ok(d) => d,
            Err(e) => return Ok(refused(&e)),
        };
        let first = cluster.resources.names().first().map(|s| s.to_string());
        let mut csv = String::from("id,release,duration,deadline,request\n");
        for i in 0..12 {
            let request = first.as_ref().map(|r| format!("{r}=1")).unwrap_or_default();
            csv.push_str(&format!(
                "j{i},{},{},{},{request}\n",
                i * 20,
                30 + i * 7,
                if i % 3 == 0 { "400" } else { "" }
            ));
        }
        let jobs_path = ctx
            .scratch
            .write("tests/fixtures/fuzz-cluster-jobs.csv", csv.as_bytes())
            .map_err(|e| Finding::new(crate::Kind::Harness, format!("harness: {e}")))?;
        run_twice(|| {
            let mut c = cluster.clone();
            let w = workload::load(&workload::WorkloadSource::Csv { path: jobs_path.clone() }, &mut c)?;
            engine_for(&def, ctx, c, w.jobs)
        })
    },
    cli: &[&["check", "{}"]],
};

/// An engine running `def` on `cluster`, with `jobs`.
pub(super) fn engine_for(
    def: &PipelineDef,
    ctx: &Ctx,
    cluster: Cluster,
    jobs: Vec<workload::JobSpec>,
) -> Result<RunInput, Error> {
    let mut symbols = cluster.symbols.clone();
    let pipeline = def.build(&ctx.registry, &cluster.resources, &mut symbols)?;
    let engine = Engine::new(Arc::new(pipeline), cluster.nodes, cluster.resources, symbols);
    Ok(RunInput { engine, jobs, events: Vec::new() })
}
