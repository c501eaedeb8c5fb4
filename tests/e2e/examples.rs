//! The examples under `examples/`, run as a user would.

use kairos_tests::kairos;
use serde_json::Value;

/// Jobs of the pass-window day at the default load of 1,400 contacts a day:
/// one antenna contact and one processing job per pass.
const PASS_WINDOW_JOBS: u64 = 2 * 1400;

#[test]
fn the_pass_window_example_runs_and_accounts_for_every_job() {
    let out = kairos(&["run", "examples/pass-window/scenario.yaml", "--json"]);
    out.expect(0);
    let r: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    let jobs = &r["jobs"];
    let n = |k: &str| {
        jobs[k]
            .as_u64()
            .unwrap_or_else(|| panic!("jobs.{k} in {jobs}"))
    };
    // Compliance is being calibrated: only the accounting is asserted.
    assert_eq!(n("total"), PASS_WINDOW_JOBS, "{jobs}");
    assert_eq!(
        n("completed") + n("missed") + n("rejected") + n("pending") + n("running"),
        n("total"),
        "{jobs}"
    );
}

#[test]
fn every_pass_window_file_checks() {
    let files = [
        "scenario.yaml",
        "pipeline.yaml",
        "baseline.yaml",
        "cluster.yaml",
    ]
    .map(|f| format!("examples/pass-window/{f}"));
    let args: Vec<&str> = std::iter::once("check")
        .chain(files.iter().map(String::as_str))
        .collect();
    let out = kairos(&args);
    out.expect(0);
    assert_eq!(
        out.stdout.lines().filter(|l| l.starts_with("ok  ")).count(),
        files.len(),
        "{}",
        out.stdout
    );
}
