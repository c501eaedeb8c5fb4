//! Bad policy scripts: every scenario in `tests/fixtures/scripts/` is good but
//! for the script its pipeline names (in `scripts/parts/`). `kairos check`
//! exits 2 with an error naming the file, line and column — of the script where
//! Rhai knows them, else of the pipeline entry — and what is wrong; one
//! snapshot of stderr per fixture. The ones that fail only when called also
//! stop a run (their entries say `on_error: fail`) with exit 1, naming the
//! script and its function.

use kairos_tests::kairos;

use crate::relative;

#[test]
fn kairos_check_refuses_every_bad_script_with_its_position() {
    insta::glob!("../fixtures/scripts", "*.yaml", |path| {
        let scenario = relative(path);
        let out = kairos(&["check", &scenario]);
        out.expect(2);
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(out.stderr.contains(&format!("tests/fixtures/scripts/parts/{stem}")), "{scenario}: {}", out.stderr);
        insta::assert_snapshot!(out.stderr_redacted());
    });
}

#[test]
fn a_script_that_fails_when_called_stops_a_run_naming_itself() {
    let cases = [
        ("never-returns", "in fn filter: used up its budget of 10,000 operations"),
        ("allocates", "in fn filter: Length of string too large"),
        ("unknown-function", "in fn filter: Function not found: station_of"),
        ("nan-score", "in fn score: returned NaN; a score must be within 0..=100"),
    ];
    for (stem, want) in cases {
        let out = kairos(&["run", &format!("tests/fixtures/scripts/{stem}.yaml")]);
        out.expect(1);
        let script = format!("tests/fixtures/scripts/parts/{stem}.rhai");
        assert!(out.stderr.contains(&script) && out.stderr.contains(want), "{stem}: {}", out.stderr);
    }
}

/// The jobs a report accounts for, by bucket.
fn jobs(report: &serde_json::Value) -> serde_json::Value {
    report["jobs"].clone()
}

#[test]
fn a_runaway_filter_ends_in_quarantine_and_the_day_runs_on() {
    // The pass-window day with a `loop {}` filter that skips on error: the
    // script is called until sixteen calls in a row have failed, then never
    // again, and the day ends as the showcase's does.
    let out = kairos(&[
        "run",
        "examples/pass-window/scenario.yaml",
        "--pipeline",
        "tests/fixtures/quarantine/runaway-pipeline.yaml",
        "--json",
    ]);
    out.expect(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let script = "runaway.rhai";
    assert_eq!(report["script_calls"][script], 16, "called until quarantined, then never");
    assert_eq!(report["script_errors"][script], 16);
    let failure = &report["failures"][script];
    assert_eq!(failure["kind"], "script");
    assert_eq!(failure["watchdog"], 0, "the operation budget ended every call, not the clock");
    assert_eq!(failure["quarantined"][0]["after"], 16);
    assert_eq!(failure["quarantined"][0]["revision"], 1);
    assert!(
        failure["first_error"]["message"].as_str().unwrap().starts_with("used up its budget of 10,000 operations"),
        "{failure}"
    );
    assert!(failure["skipped"].as_u64().unwrap() > 1000, "every later call was skipped: {failure}");
    let showcase = kairos(&["run", "examples/pass-window/scenario.yaml", "--json"]);
    let showcase: serde_json::Value = serde_json::from_str(&showcase.stdout).unwrap();
    assert_eq!(jobs(&report), jobs(&showcase), "skip-plugin: the day runs as without the filter");
    assert_eq!(report["deadline_compliance"], showcase["deadline_compliance"]);
}

#[test]
fn the_report_names_a_quarantined_script_once_with_its_first_error() {
    let out = kairos(&["run", "tests/fixtures/quarantine/tiny-runaway.yaml"]);
    out.expect(0);
    let lines: Vec<&str> = out.stdout.lines().filter(|l| l.contains("runaway.rhai")).collect();
    insta::assert_snapshot!(lines.join("\n"));
    let live = kairos(&["run", "tests/fixtures/quarantine/tiny-runaway.yaml", "--live", "--speed", "100000"]);
    live.expect(0);
    let said: Vec<&str> = live.stderr.lines().filter(|l| l.contains("quarantined script runaway.rhai")).collect();
    assert_eq!(said.len(), 1, "--live says so once:\n{}", live.stderr);
    assert!(said[0].contains("after 16 failed calls in a row (revision 1)"), "{}", said[0]);
}

#[test]
fn a_failed_call_is_shown_with_its_error_in_the_report_and_in_explain() {
    let out = kairos(&["run", "tests/fixtures/quarantine/flaky.yaml", "--json"]);
    out.expect(0);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let first = &report["failures"]["flaky.rhai"]["first_error"];
    assert_eq!(first["at"], "tests/fixtures/quarantine/flaky.rhai:5:9");
    assert_eq!(first["function"], "filter");
    assert_eq!(first["node"], "edge-1");
    assert_eq!(first["message"], "Runtime error: edge-1 has no rack label");
    assert!(report["failures"]["flaky.rhai"]["quarantined"].as_array().unwrap().is_empty(), "it works on other nodes");
    assert!(report["script_output"]["flaky.rhai"].as_u64().unwrap() > 0, "its prints are counted");
    let explain = kairos(&["explain", "tests/fixtures/quarantine/flaky.yaml", "ingest-1"]);
    explain.expect(0);
    assert!(
        explain.stdout.contains("rejected by flaky.rhai: script-error (tests/fixtures/quarantine/flaky.rhai:5:9: in fn filter: Runtime error: edge-1 has no rack label)"),
        "{}",
        explain.stdout
    );
    insta::assert_snapshot!(explain.stdout_redacted());
    let live = kairos(&["run", "tests/fixtures/quarantine/flaky.yaml", "--live", "--speed", "100000"]);
    live.expect(0);
    assert!(
        live.stderr.contains("flaky.rhai (fn filter, job ingest-1, node edge-1): ingest-1 on edge-1"),
        "{}",
        live.stderr
    );
}
