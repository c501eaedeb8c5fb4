//! `kairos check`, table by table: what a file is, its plugins called on
//! samples, the label contract.

use std::path::{Path, PathBuf};

use super::*;

use crate::testdir::Dir;

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

#[test]
fn a_file_is_told_by_its_top_level_keys_and_one_without_them_is_an_error_at_its_position() {
    let cases: [(&str, &str, Result<Kind, &str>); 10] = [
        ("a pipeline", "name: p\norder: [{ plugin: fifo }]\n", Ok(Kind::Pipeline)),
        ("a pipeline with only an architecture", "architecture: { kind: sampled }\n", Ok(Kind::Pipeline)),
        ("a cluster", "resources: [cpu]\nnodes: []\n", Ok(Kind::Cluster)),
        ("a scenario", "name: s\npipeline: p.yaml\ncluster: c.yaml\n", Ok(Kind::Scenario)),
        (
            "a scenario with old Mac line endings is still a scenario",
            "name: s\rpipeline: p.yaml\rcluster: c.yaml\r",
            Ok(Kind::Scenario),
        ),
        (
            "an empty file",
            "",
            Err("f.yaml:1:1: empty file: expected a pipeline (`order`, `filter`, `score`, `rebalance`), a scenario"),
        ),
        ("a file of comments", "# nothing yet\n", Err("f.yaml:1:1: empty file")),
        (
            "a scenario cut to `name:`",
            "# a scenario\nname:\n",
            Err("f.yaml:2:1: cannot tell what this file is from its keys `name`: expected a pipeline"),
        ),
        ("a YAML workload", "jobs: []\n", Err("f.yaml:1:1: a workload is checked against its cluster")),
        ("a list, not a mapping", "- plugin: fifo\n", Err("f.yaml:1:1: ")),
    ];
    for (case, text, want) in cases {
        let text = crate::input::one_kind_of_line_break(text.to_owned());
        match (kind_of(Path::new("f.yaml"), &text), want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{case}"),
            (Err(e), Err(want)) => {
                assert!(e.is_input(), "{case}");
                assert!(e.to_string().starts_with(want), "{case}: {e}");
            }
            (got, want) => panic!("{case}: got {got:?}, want {want:?}"),
        }
    }
}

/// Scripts for the probe cases.
const SCRIPTS: [(&str, &str); 9] = [
    ("good.rhai", "fn score(job, node, ctx) { node.free.cpu * 10 }"),
    ("bad.rhai", "fn score(job, node, ctx) {\n  node.labels.band.split(\",\")\n}"),
    ("high.rhai", "fn score(job, node, ctx) { 130 }"),
    ("types.rhai", "fn filter(job, node, ctx) { node.region == 3 }"),
    ("needs.rhai", "fn score(job, node, ctx) { ctx.args.factor * 10 }"),
    ("before.rhai", "fn before(a, b, ctx) { throw \"cannot compare\" }"),
    ("nan.rhai", "fn key(job, ctx) { 0.0 / 0.0 }"),
    ("stay.rhai", "fn rebalance(job, node, run, ctx) { throw `no rule for ${node.name}` }"),
    ("none.rhai", "fn filter(job, node, ctx) { false }"),
];

#[test]
fn every_entry_point_is_called_on_the_synthetic_sample_and_a_failure_is_an_error_at_its_entry() {
    let maintenance = policies().join("station-maintenance.rhai");
    let cases = [
        (
            "built-ins alone are all called",
            "filter:\n  - plugin: fit\nscore:\n  - plugin: best-fit\n".to_owned(),
            Ok(2),
        ),
        (
            "scripts run with their args",
            format!(
                "filter:\n  - script: {}\n    args: {{ windows: [] }}\nscore:\n  - script: good.rhai\n",
                maintenance.display()
            ),
            Ok(2),
        ),
        (
            "a script that throws is an error at its entry, whatever its on_error",
            "score:\n  - plugin: best-fit\n  - script: bad.rhai\n    on_error: skip-plugin\n".to_owned(),
            Err("p.yaml:3:13: script `bad.rhai` fails on a sample job `sample-job` and node `sample-node`: "),
        ),
        (
            "a `before` comparison that always throws is called, and fails",
            "order:\n  - script: before.rhai\n    on_error: reject-node\n".to_owned(),
            Err("p.yaml:2:13: script `before.rhai` fails on the sample jobs `sample-job`, `sample-job-2`: "),
        ),
        (
            "a NaN order key is an error",
            "order:\n  - script: nan.rhai\n".to_owned(),
            Err("p.yaml:2:13: script `nan.rhai` "),
        ),
        (
            "a rebalance script is asked about a running sample job",
            "rebalance:\n  - script: stay.rhai\n".to_owned(),
            Err("p.yaml:2:13: script `stay.rhai` fails on a sample job `sample-job` running on node `sample-node`: "),
        ),
        (
            "a script whose args lack what it reads is an error",
            "score:\n  - script: needs.rhai\n".to_owned(),
            Err("needs.rhai:1:"),
        ),
        (
            "a score out of range is an error",
            "score:\n  - script: high.rhai\n".to_owned(),
            Err("returned 130; a score must be within 0..=100"),
        ),
        (
            "comparing a string with a number is an error, not a silent false",
            "filter:\n  - script: types.rhai\n".to_owned(),
            Err("`==` compares a string with an integer, which is never true"),
        ),
    ];
    for (case, pipeline, want) in cases {
        let mut files = SCRIPTS.to_vec();
        files.push(("p.yaml", &pipeline));
        let dir = Dir::with("check", &files);
        let registry = Registry::builtin();
        let def = PipelineDef::load(&dir.path("p.yaml"), &registry).unwrap_or_else(|e| panic!("{case}: {e}"));
        match (probe(&def, &registry, &Samples::synthetic(&[])), want) {
            (Ok(p), Ok(n)) => {
                assert_eq!(p.entries, n, "{case}");
                assert!(p.notes.is_empty(), "{case}: {:?}", p.notes);
            }
            (Err(e), Err(text)) => {
                assert!(e.is_input(), "{case}: exit 2");
                assert!(e.to_string().contains(text), "{case}: {e}");
            }
            (got, _) => panic!("{case}: unexpected {got:?}"),
        }
    }
}

#[test]
fn an_entry_no_sample_reaches_is_a_note_not_an_error() {
    let dir = Dir::with(
        "check",
        &[SCRIPTS[0], SCRIPTS[8], ("p.yaml", "filter:\n  - script: none.rhai\nscore:\n  - script: good.rhai\n")],
    );
    let registry = Registry::builtin();
    let def = PipelineDef::load(&dir.path("p.yaml"), &registry).unwrap();
    let p = probe(&def, &registry, &Samples::synthetic(&[])).unwrap();
    assert_eq!(p.entries, 1, "the filter is called, the score never");
    let notes: Vec<String> = p.notes.iter().map(|n| format!("{}:{}: {}", n.pos.line, n.pos.col, n.message)).collect();
    assert_eq!(
        notes,
        ["4:13: script `good.rhai` was not called on a synthetic sample (2 jobs, 1 node): no sample node passed the filters before it"]
    );
}

const CLUSTER: &str = "\
resources: [antenna, cpu]
priority_classes: { normal: 0 }
nodes:
  - { name: kiruna, count: 2, region: europe, labels: { station: Kirna-Esrange }, capacity: { antenna: 1 } }
  - { name: proc-eu, region: europe, labels: { role: processing }, capacity: { cpu: 8 } }
";

const PASSES: &str = "\
pass_id,satellite,norad_id,station,region,aos_utc,los_utc,max_elevation_deg,duration_s
1,NOAA 19,1,Kiruna-Esrange,europe,2023-07-05T00:10:00Z,2023-07-05T00:20:00Z,40,600
2,NOAA 18,2,Kiruna-Esrange,europe,2023-07-05T01:10:00Z,2023-07-05T01:20:00Z,40,600
3,METOP-B,3,Kirna-Esrange,europe,2023-07-05T02:10:00Z,2023-07-05T02:20:00Z,40,600
";

/// A pass-window scenario over [`CLUSTER`] (whose station is misspelt) with
/// the pipeline `pipeline`.
fn scenario(pipeline: &str) -> (Dir, Scenario) {
    let dir = Dir::with("check", &[
        ("cluster.yaml", CLUSTER),
        ("passes.csv", PASSES),
        ("p.yaml", pipeline),
        ("who.rhai", "fn filter(job, node, ctx) { if job.id == \"p1-c1\" && node.name == \"kiruna-1\" { throw \"seen\" } true }"),
        ("s.yaml", "name: s\npipeline: p.yaml\ncluster: cluster.yaml\nworkload: { path: passes.csv, format: passes, passes: { processing: { request: { cpu: 4 } } } }\n"),
    ]);
    let sc = Scenario::load(&dir.path("s.yaml"), &Overrides::default(), &Registry::builtin())
        .unwrap_or_else(|e| panic!("{e}"));
    (dir, sc)
}

#[test]
fn a_scenario_s_plugins_meet_its_first_job_and_node_first() {
    let (_dir, sc) = scenario("filter:\n  - script: who.rhai\n");
    let samples = Samples::of(&sc.cluster, &sc.jobs);
    let err = probe(&sc.pipeline, &Registry::builtin(), &samples).unwrap_err().to_string();
    assert!(
        err.contains("script `who.rhai` fails on a sample job `p1-c1` and node `kiruna-1`: ") && err.contains("seen"),
        "{err}"
    );
}

#[test]
fn a_selector_no_node_matches_is_a_warning_naming_the_nearest_value_where_the_cluster_writes_it() {
    let (_dir, sc) = scenario("filter:\n  - plugin: node-selector\n");
    let warnings: Vec<String> = labels::check(&sc)
        .iter()
        .map(|w| {
            let file = w.path.file_name().unwrap().to_string_lossy();
            format!("{file}:{}:{}: {}", w.pos.line, w.pos.col, w.message)
        })
        .collect();
    assert_eq!(
        warnings,
        [
            "cluster.yaml:4:66: 2 jobs select `station=Kiruna-Esrange` (the first: `p1-c1`), but no node has `station=Kiruna-Esrange`; the nearest value of `station` in the cluster is `Kirna-Esrange`, here"
        ],
        "one warning for the two contacts of the passes spelt otherwise; the third spells the station as the cluster does"
    );
}

#[test]
fn a_selector_whose_terms_each_exist_but_never_together_is_a_warning() {
    let (_dir, mut sc) = scenario("filter:\n  - plugin: node-selector\n");
    // Processing that selects the antennas' station as well: each term is on
    // some node, both on none.
    let station = sc.cluster.symbols.intern("station");
    let kiruna = sc.cluster.symbols.intern("Kirna-Esrange");
    sc.jobs[1].job.selector.push((station, kiruna));
    sc.jobs[1].job.selector.sort();
    let warnings: Vec<String> = labels::check(&sc).iter().map(|w| w.message.clone()).collect();
    assert_eq!(
        warnings.last().map(String::as_str),
        Some("1 job selects `station=Kirna-Esrange, region=europe, role=processing` (the first: `p1-proc1`), but no node has all of them")
    );
}

#[test]
fn an_arg_naming_a_node_station_or_region_the_cluster_lacks_is_a_warning_at_the_arg() {
    let (_dir, sc) = scenario(
        "filter:\n  - plugin: fit\n  - script: who.rhai\n    args:\n      windows: [ { station: Kirna-Esrange }, { station: Kiruna } ]\n      drains: [ { node: proc-eu }, { node: proc-us } ]\n      regions: [europe, eruope]\n",
    );
    let mut warnings: Vec<String> =
        labels::check(&sc).iter().map(|w| format!("{}:{}: {}", w.pos.line, w.pos.col, w.message)).collect();
    warnings.retain(|w| w.contains("args"));
    assert_eq!(
        warnings,
        [
            "5:57: the args of script `who.rhai` name station `Kiruna`, which the cluster does not have; the nearest station is `Kirna-Esrange`",
            "6:44: the args of script `who.rhai` name node `proc-us`, which the cluster does not have; the nearest node is `proc-eu`",
            "7:25: the args of script `who.rhai` name region `eruope`, which the cluster does not have; the nearest region is `europe`",
        ]
    );
}
