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

/// Regression: `kairos check` said "ok pipeline" for an empty file and for a
/// scenario cut to `name:`.
#[test]
fn check_refuses_a_file_it_cannot_tell_the_kind_of_with_its_position() {
    let out = kairos(&["check", "tests/fixtures/check/empty.yaml", "tests/fixtures/check/cut-to-name.yaml"]);
    out.expect(2);
    assert!(out.stdout.is_empty(), "nothing is ok:\n{}", out.stdout);
    insta::assert_snapshot!(out.stderr_redacted());
}

/// Regression: CR-only line endings (old Mac files) were refused by `check`
/// and accepted by `run`; both now read the same lines.
#[test]
fn check_and_run_read_cr_only_line_endings_alike() {
    let root = kairos_tests::repo_root().join("tests/fixtures");
    let dir = std::env::temp_dir().join(format!("kairos-cr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = dir.join("scenario.yaml");
    let text = format!(
        "name: cr only\rpipeline: {}\rcluster: {}\rworkload:\r  path: {}\r",
        root.join("pipeline.yaml").display(),
        root.join("cluster.yaml").display(),
        root.join("jobs.csv").display()
    );
    std::fs::write(&scenario, text).unwrap();
    let scenario = scenario.display().to_string();
    let check = kairos(&["check", &scenario]);
    let run = kairos(&["run", &scenario, "--json"]);
    let _ = std::fs::remove_dir_all(&dir);
    check.expect(0);
    run.expect(0);
    assert!(check.stdout.contains("scenario `cr only`: 4 nodes, 12 jobs"), "{}", check.stdout);
    assert!(run.stdout.contains("\"scenario\": \"cr only\""), "{}", run.stdout);
}

/// Regression: `check` never called `before`, so an order comparison that
/// always throws passed check (and, with `on_error: reject-node`, a run
/// ordered every job as if the script did not exist).
#[test]
fn check_calls_an_order_comparison_and_refuses_one_that_throws() {
    let out = kairos(&["check", "tests/fixtures/check/before-throws.yaml"]);
    out.expect(2);
    insta::assert_snapshot!(out.stderr_redacted());
}

/// Regression: `check` never called native plugins, so one that fails on
/// every call passed check whatever its `on_error`.
#[test]
fn check_calls_native_plugins_and_refuses_one_that_fails() {
    let lib_dir = kairos_tests::build_library("kairos-fixture-plugin");
    let lib = lib_dir.join(format!(
        "{}kairos_fixture_plugin.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    ));
    let dir = std::env::temp_dir().join(format!("kairos-check-native-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pipeline = dir.join("p.yaml");
    std::fs::write(
        &pipeline,
        format!(
            "filter:\n  - plugin: fit\n  - native: {{ library: {}, plugin: fixture.errors }}\n    on_error: skip-plugin\n",
            lib.display()
        ),
    )
    .unwrap();
    let out = kairos(&["check", &pipeline.display().to_string()]);
    let _ = std::fs::remove_dir_all(&dir);
    out.expect(2);
    let stderr = out.stderr.replace(&pipeline.display().to_string(), "[DIR]/p.yaml");
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("error: [DIR]/p.yaml:3:"), "the error is at the entry: {first}");
    assert!(
        first.ends_with(": native plugin `fixture.errors` fails on a sample job `sample-job` and node `sample-node`: native plugin `fixture.errors`: fixture error"),
        "{first}"
    );
}

/// The label contract: a selector no node matches and an arg naming a node
/// the cluster lacks are warnings naming the nearest existing value; the run
/// still works; `--strict` makes them errors (exit 2).
#[test]
fn check_warns_of_a_misspelt_label_and_node_and_strict_refuses_them() {
    let out = kairos(&["check", "tests/fixtures/check/misspelt.yaml"]);
    out.expect(0);
    assert!(out.stdout.starts_with("ok  tests/fixtures/check/misspelt.yaml: "), "{}", out.stdout);
    let strict = kairos(&["check", "--strict", "tests/fixtures/check/misspelt.yaml"]);
    strict.expect(2);
    assert!(strict.stdout.is_empty(), "{}", strict.stdout);
    insta::assert_snapshot!(format!("{}\n--- with --strict\n{}", out.stderr_redacted(), strict.stderr_redacted()));
}
