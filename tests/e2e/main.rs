//! End-to-end tests of the `kairos` CLI: the real binary, run from the
//! repository root on the fixtures in `tests/fixtures/` and on `examples/`.
//!
//! Snapshots live in `snapshots/` beside this file; review changes with
//! `cargo insta review` (or run with `INSTA_UPDATE=always` and read the diff).
//! Wall-clock numbers (`decisions/s`, `wall_s`) are filtered out of every
//! snapshot by [`wall_clock_filters`].

mod bad_input;
mod check;
mod compare;
mod examples;
mod explain;
mod live;
mod meta;
mod native;
mod pipes;
mod policy;
mod run;
mod scripts;

/// The good scenario: 12 jobs on 4 nodes, one node failing for good.
pub const SCENARIO: &str = "tests/fixtures/scenario.yaml";
/// The scenario's own pipeline.
pub const PIPELINE: &str = "tests/fixtures/pipeline.yaml";
/// A second, simpler pipeline to compare against.
pub const BASELINE: &str = "tests/fixtures/baseline.yaml";
/// The scenario's cluster.
pub const CLUSTER: &str = "tests/fixtures/cluster.yaml";
/// The scenario's workload.
pub const JOBS: &str = "tests/fixtures/jobs.csv";

/// insta filters for numbers that depend on the wall clock.
pub fn wall_clock_filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"(?m)^decisions/s\b.*$", "decisions/s [wall clock]"),
        (r#""(wall_s|decisions_per_s)": [-0-9.e+]+"#, r#""$1": "[wall clock]""#),
    ]
}

/// The ids of the fixture workload, in file order.
pub fn fixture_job_ids() -> Vec<String> {
    let text = std::fs::read_to_string(kairos_tests::repo_root().join(JOBS)).expect("the fixture workload exists");
    text.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.split(',').next().unwrap().to_owned()).collect()
}

/// `path` relative to the repository root, with `/` separators, for command lines
/// and messages.
pub fn relative(path: &std::path::Path) -> String {
    let root = kairos_tests::repo_root();
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// The `file:line:column` every error headline starts with, for each error in
/// `stderr` (the CLI prints `error: ` before the first one and a blank line
/// between several). Panics if the first line is not such a headline.
#[track_caller]
pub fn error_positions(stderr: &str) -> Vec<(String, u64, u64)> {
    let mut found = Vec::new();
    let mut headline = true;
    for line in stderr.lines() {
        if line.is_empty() {
            headline = true;
            continue;
        }
        if !headline {
            continue;
        }
        headline = false;
        let line = line.strip_prefix("error: ").unwrap_or(line);
        let mut parts = line.splitn(4, ':');
        let (Some(file), Some(l), Some(c), Some(_)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        if let (Ok(l), Ok(c)) = (l.parse(), c.parse()) {
            found.push((file.to_owned(), l, c));
        }
    }
    assert!(!found.is_empty(), "no `file:line:column:` error headline in:\n{stderr}");
    found
}
