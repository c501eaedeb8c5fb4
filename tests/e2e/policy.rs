//! `kairos policy test` (the test cases beside policy scripts) and the smoke
//! test `kairos check` runs on every script of a pipeline.
//!
//! Fixtures are in `tests/fixtures/policy/`: `window` and `score` carry
//! deliberately failing cases, `broken/` holds test files that cannot run, and
//! `check/` holds pipelines whose scripts fail on a sample job and node.

use kairos_tests::kairos;

use crate::{error_positions, relative};

#[test]
fn policy_test_passes_on_every_policy_shipped_in_policies() {
    for args in [&["policy", "test"][..], &["policy", "test", "policies/"]] {
        let out = kairos(args);
        out.expect(0);
        assert_eq!(out.stderr, "", "{args:?}");
        let lines: Vec<&str> = out.stdout.lines().filter(|l| !l.is_empty()).collect();
        let (summary, files) = lines.split_last().expect("some output");
        assert!(summary.ends_with(" passed, 0 failed"), "{args:?}: {}", out.stdout);
        for script in ["antenna-band", "prefer-warm", "site-aging", "station-maintenance", "tenant-region"] {
            let want = format!("ok    policies/{script}.test.yaml: ");
            assert!(files.iter().any(|l| l.starts_with(&want)), "{args:?}: no `{want}` in\n{}", out.stdout);
        }
    }
}

#[test]
fn policy_test_of_a_script_runs_the_test_file_beside_it() {
    let out = kairos(&["policy", "test", "policies/tenant-region.rhai"]);
    out.expect(0);
    assert!(out.stdout.starts_with("ok    policies/tenant-region.test.yaml: "), "{}", out.stdout);
}

#[test]
fn a_failing_case_exits_1_with_its_file_line_column_what_it_expected_and_what_it_got() {
    let window = "tests/fixtures/policy/window.test.yaml";
    let score = "tests/fixtures/policy/score.test.yaml";
    let out = kairos(&["policy", "test", window, score]);
    out.expect(1);
    assert_eq!(out.stderr, "error: 5 of 7 policy test cases failed\n");
    // Every failure line points at the `expect:` of its case.
    for line in out.stdout.lines().filter(|l| l.starts_with("  tests/")) {
        let (file, l, c) = error_positions(line.trim_start()).remove(0);
        let text = std::fs::read_to_string(kairos_tests::repo_root().join(&file)).unwrap();
        let at = text.lines().nth(l as usize - 1).unwrap();
        assert!(at[..c as usize - 1].trim_end().ends_with("expect:"), "{file}:{l}:{c} is not an `expect:`: {at}");
    }
    insta::assert_snapshot!(out.stdout_redacted());
}

#[test]
fn a_broken_test_file_exits_2_with_an_error_naming_its_position() {
    insta::glob!("../fixtures/policy/broken", "*.test.yaml", |path| {
        let file = relative(path);
        let out = kairos(&["policy", "test", &file]);
        out.expect(2);
        // The error names the test file, or the script beside it that does not compile.
        let stem = file.strip_suffix(".test.yaml").unwrap();
        assert!(
            out.stderr.starts_with(&format!("error: {stem}.")),
            "{file}: the error names the file:\n{}",
            out.stderr
        );
        insta::assert_snapshot!(out.stderr_redacted());
    });
}

#[test]
fn policy_test_of_a_path_with_no_tests_exits_2() {
    let cases = [
        ("a missing path", "tests/fixtures/policy/nothing-here", "no such file or directory"),
        ("a directory without test files", "tests/fixtures/policy/check", "no policy test files"),
        ("a script without a test file", "tests/fixtures/policy/check/tier.rhai", "this script has no test file"),
    ];
    for (name, path, want) in cases {
        let out = kairos(&["policy", "test", path]);
        out.expect(2);
        assert!(
            out.stderr.starts_with(&format!("error: {path}: ")) && out.stderr.contains(want),
            "{name}: {}",
            out.stderr
        );
    }
}

#[test]
fn check_calls_every_plugin_and_script_on_sample_jobs_and_nodes() {
    let out =
        kairos(&["check", "examples/pass-window/scenario-sites.yaml", "examples/pass-window/pipeline-sites.yaml"]);
    out.expect(0);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(lines[0].ends_with("; 13 plugins called on 33 sample jobs and 13 nodes of the scenario"), "{}", lines[0]);
    assert!(lines[1].ends_with("; 13 plugins called on a synthetic sample (2 jobs, 1 node)"), "{}", lines[1]);
}

#[test]
fn check_exits_2_naming_a_script_that_fails_on_the_sample() {
    // The scenario's first job and node make the script throw; checked alone,
    // the pipeline's script sees a synthetic node without the label and passes.
    let scenario = kairos(&["check", "tests/fixtures/policy/check/scenario.yaml"]);
    scenario.expect(2);
    let alone = kairos(&["check", "tests/fixtures/policy/check/pipeline.yaml"]);
    alone.expect(0);
    // A script whose args lack what it reads fails whatever its `on_error`.
    let no_args = kairos(&["check", "tests/fixtures/policy/check/no-args.yaml"]);
    no_args.expect(2);
    insta::assert_snapshot!(format!("{}\n{}", scenario.stderr_redacted(), no_args.stderr_redacted()));
}
