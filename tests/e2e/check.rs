//! `kairos check`: validates pipelines, scenarios and clusters without running.

use kairos_tests::kairos;

use crate::{error_positions, relative, BASELINE, CLUSTER, PIPELINE, SCENARIO};

#[test]
fn check_accepts_the_good_scenario_pipelines_and_cluster() {
    let out = kairos(&["check", SCENARIO, PIPELINE, BASELINE, CLUSTER]);
    out.expect(0);
    insta::assert_snapshot!(out.stdout_redacted(), @r"
    ok  tests/fixtures/scenario.yaml: scenario `tiny`: 4 nodes, 12 jobs, pipeline `tiny (priority, EDF, best-fit)`, 1 node event; 6 plugins called on 8 sample jobs and 3 nodes of the scenario
    ok  tests/fixtures/pipeline.yaml: pipeline `tiny (priority, EDF, best-fit)`: 2 order, 2 filter, 2 score, 0 rebalance plugins; 6 plugins called on a synthetic sample (2 jobs, 1 node)
    ok  tests/fixtures/baseline.yaml: pipeline `baseline (FIFO, first-fit)`: 1 order, 2 filter, 1 score, 0 rebalance plugins; 4 plugins called on a synthetic sample (2 jobs, 1 node)
    ok  tests/fixtures/cluster.yaml: cluster: 4 nodes, resources cpu, memory
    ");
    // The fixture's `quantum-1` selects a tier no node has, on purpose (it
    // ends pending): a warning, not an error.
    assert!(out.stderr.starts_with("warning: tests/fixtures/cluster.yaml:8:51: 1 job selects `tier=quantum` (the first: `quantum-1`), but no node has `tier=quantum`; the nearest value of `tier` in the cluster is `accel`, here\n"), "{}", out.stderr);
    assert_eq!(out.stderr.matches("warning: ").count(), 1, "{}", out.stderr);
}

#[test]
fn check_exits_2_on_every_bad_scenario_with_the_errors_run_reports() {
    insta::glob!("../fixtures/bad", "*.yaml", |path| {
        let scenario = relative(path);
        let check = kairos(&["check", &scenario]);
        check.expect(2);
        let run = kairos(&["run", &scenario]);
        assert_eq!(check.stderr, run.stderr, "{scenario}: check finds what run would fail on");
    });
}

#[test]
fn check_exits_2_on_every_bad_pipeline_and_cluster_file() {
    insta::glob!("../fixtures/bad/parts", "*.yaml", |path| {
        let file = relative(path);
        let out = kairos(&["check", &file]);
        out.expect(2);
        assert!(out.stdout.is_empty(), "{file}: nothing is ok:\n{}", out.stdout);
        for (named, _, _) in error_positions(&out.stderr) {
            assert_eq!(named, file, "the error names the checked file");
        }
    });
}

#[test]
fn check_reports_every_error_of_a_pipeline_with_two_bad_entries() {
    let out = kairos(&["check", "tests/fixtures/bad/parts/two-bad-entries.yaml"]);
    out.expect(2);
    let file = "tests/fixtures/bad/parts/two-bad-entries.yaml".to_owned();
    assert_eq!(error_positions(&out.stderr), [(file.clone(), 4, 13), (file, 9, 13)], "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown order plugin `fifoo`; did you mean `fifo`; known order plugins"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("a score weight must be a finite number > 0, got -1"), "{}", out.stderr);
}

#[test]
fn check_reports_every_bad_file_and_still_lists_the_good_ones() {
    let zero = "tests/fixtures/bad/parts/zero-weight.yaml";
    let unknown = "tests/fixtures/bad/parts/unknown-plugin.yaml";
    let out = kairos(&["check", zero, PIPELINE, unknown]);
    out.expect(2);
    assert!(out.stdout.starts_with(&format!("ok  {PIPELINE}: ")), "{}", out.stdout);
    let files: Vec<String> = error_positions(&out.stderr).into_iter().map(|p| p.0).collect();
    assert_eq!(files, [zero, unknown]);
}

#[test]
fn check_of_a_missing_file_exits_2_naming_it() {
    let out = kairos(&["check", "tests/fixtures/no-such-file.yaml", PIPELINE]);
    out.expect(2);
    assert!(out.stdout.starts_with(&format!("ok  {PIPELINE}: ")), "the other file is still checked: {}", out.stdout);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: ")
            && first.contains("tests/fixtures/no-such-file.yaml")
            && first.contains("cannot read"),
        "{}",
        out.stderr
    );
}
