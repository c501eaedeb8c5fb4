//! Workloads: the project's CSV and YAML, SWF traces, and pass CSVs.

use kairos_host::cluster::Cluster;
use kairos_host::pipeline::PipelineDef;
use kairos_host::scenario::Overrides;
use kairos_host::workload::{self, SwfEstimate, SwfOptions, WorkloadSource};

use super::files::{engine_for, run_scenario, BASE};
use super::{Ctx, Target};
use crate::oracle::{refused, run_twice};
use crate::{Finding, Outcome};

/// Words shared by the CSV and YAML workloads: columns and values.
const JOB_WORDS: &[&str] = &[
    "id",
    "tenant",
    "group",
    "priority",
    "release",
    "deadline",
    "hard",
    "duration",
    "estimate",
    "request",
    "selector",
    "labels",
    "tolerations",
    "after",
    "restartable",
    "high",
    "normal",
    "true",
    "false",
    "cpu=4;memory=8",
    "cpu=",
    "memory=",
    "gpu=1",
    "tier=edge",
    "tier=accel",
    "tier=quantum",
    "ingest-1",
    "train-1",
    "north",
    "south",
    ";",
    "=",
    ",",
    "\"",
    "\"\"",
];

/// Loads `source` against the fixture cluster and runs it under the fixture
/// pipeline.
fn run_fixture_workload(
    ctx: &Ctx,
    source: WorkloadSource,
    cluster_rel: &str,
    pipeline_rel: &str,
) -> Result<Outcome, Finding> {
    let cluster = match Cluster::load(&ctx.scratch.path(cluster_rel)) {
        Ok(c) => c,
        Err(e) => return Ok(refused(&e)),
    };
    let def = match PipelineDef::load(&ctx.scratch.path(pipeline_rel), &ctx.registry) {
        Ok(d) => d,
        Err(e) => return Ok(refused(&e)),
    };
    let mut probe = cluster.clone();
    if let Err(e) = workload::load(&source, &mut probe) {
        return Ok(refused(&e));
    }
    run_twice(|| {
        let mut c = cluster.clone();
        let w = workload::load(&source, &mut c)?;
        engine_for(&def, ctx, c, w.jobs)
    })
}

/// `csv`: the project's CSV workload.
pub(super) const CSV: Target = Target {
    name: "csv",
    about: "CSV workload: loaded against the fixture cluster and run under the fixture pipeline",
    binary: false,
    dictionary: JOB_WORDS,
    run: |ctx, input| {
        let path = ctx.write("tests/fixtures/fuzz-jobs.csv", input)?;
        run_fixture_workload(
            ctx,
            WorkloadSource::Csv { path },
            "tests/fixtures/cluster.yaml",
            "tests/fixtures/pipeline.yaml",
        )
    },
    cli: &[&["run", "tests/fixtures/scenario.yaml", "--workload", "{}", "--json", "--quiet"]],
};

/// `yaml-workload`: the project's YAML workload.
pub(super) const YAML: Target = Target {
    name: "yaml-workload",
    about: "YAML workload: loaded against the fixture cluster and run under the fixture pipeline",
    binary: false,
    dictionary: JOB_WORDS,
    run: |ctx, input| {
        let path = ctx.write("tests/fixtures/fuzz-jobs.yaml", input)?;
        run_fixture_workload(
            ctx,
            WorkloadSource::Yaml { path },
            "tests/fixtures/cluster.yaml",
            "tests/fixtures/pipeline.yaml",
        )
    },
    cli: &[],
};

/// `swf`: an SWF trace, plain or gzip (told by the gzip magic number).
pub(super) const SWF: Target = Target {
    name: "swf",
    about: "SWF trace (plain or gzip): loaded against the KTH cluster and run under fair-edf",
    binary: false,
    dictionary: &[
        "; Version: 2.2\n",
        "; MaxJobs: 1\n",
        "; UnixStartTime: 0\n",
        " -1",
        "   -1  ",
        " 0 ",
        "\t",
        "\n;",
        "1e9",
        "4294967296",
    ],
    run: |ctx, input| {
        let gz = input.starts_with(&[0x1f, 0x8b]);
        let rel = if gz { "examples/kth-sp2/fuzz.swf.gz" } else { "examples/kth-sp2/fuzz.swf" };
        let path = ctx.write(rel, input)?;
        let options = SwfOptions {
            cpu_resource: "cpu".into(),
            estimate: SwfEstimate::Requested,
            deadline_factor: Some(3.0),
            limit: None,
        };
        run_fixture_workload(
            ctx,
            WorkloadSource::Swf { path, options },
            "examples/kth-sp2/cluster.yaml",
            "examples/kth-sp2/fair-edf.yaml",
        )
    },
    cli: &[&["run", "examples/kth-sp2/scenario.yaml", "--workload", "{}", "--json", "--quiet"]],
};

/// `passes`: a pass CSV, booked as the pass-window miniature books its own.
pub(super) const PASSES: Target = Target {
    name: "passes",
    about: "pass CSV: read, turned into contact and processing jobs on the pass-window cluster, and run",
    binary: false,
    dictionary: &[
        "pass_id",
        "satellite",
        "norad_id",
        "station",
        "region",
        "aos_utc",
        "los_utc",
        "max_elevation_deg",
        "duration_s",
        "ISS (ZARYA)",
        "CSS (TIANHE)",
        "NOAA 19",
        "Svalbard-SvalSat",
        "Kiruna-Esrange",
        "Nowhere",
        "europe-arctic",
        "americas",
        "atlantis",
        "2023-07-05T00:00:36Z",
        "2023-07-05T23:59:59Z",
        "2023-07-06T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2023-07-05T00:00:36+02:00",
        "\r",
    ],
    run: |ctx, input| {
        let path = ctx.write("examples/pass-window/data/fuzz-passes.csv", input)?;
        let overrides = Overrides { workload: Some(path), ..Overrides::default() };
        run_scenario(ctx, &ctx.scratch.path(BASE), &overrides)
    },
    cli: &[&["run", BASE, "--workload", "{}", "--json", "--quiet"]],
};
