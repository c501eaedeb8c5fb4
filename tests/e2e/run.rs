//! `kairos run`: the report, as text and JSON, and the per-job schedule.

use kairos_tests::kairos;
use serde_json::Value;

use crate::{fixture_job_ids, wall_clock_filters, SCENARIO};

/// The value at a dotted `path` of `v`, or a panic naming the path.
#[track_caller]
fn field<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, key| v.get(key).unwrap_or_else(|| panic!("the report has no `{path}`:\n{v:#}")))
}

#[track_caller]
fn count(v: &Value, path: &str) -> u64 {
    field(v, path).as_u64().unwrap_or_else(|| panic!("`{path}` is not a count: {}", field(v, path)))
}

#[test]
fn run_prints_the_text_report_of_the_fixture_scenario() {
    let out = kairos(&["run", SCENARIO]);
    out.expect(0);
    assert_eq!(out.stderr, "", "a small run prints nothing on stderr");
    insta::with_settings!({ filters => wall_clock_filters() }, {
        insta::assert_snapshot!(out.stdout_redacted());
    });
}

#[test]
fn run_json_has_every_documented_field_and_the_jobs_add_up() {
    let out = kairos(&["run", SCENARIO, "--json"]);
    out.expect(0);
    let r: Value = serde_json::from_str(&out.stdout).expect("--json prints one JSON object");

    for path in ["jobs.total", "jobs.completed", "jobs.missed", "jobs.rejected", "jobs.pending", "scheduler.decisions"]
    {
        count(&r, path);
    }
    for path in [
        "deadline_compliance",
        "jain_fairness",
        "wait_s.mean",
        "wait_s.p50",
        "wait_s.p95",
        "wait_s.p99",
        "bounded_slowdown.mean",
        "scheduler.wall_s",
        "scheduler.decisions_per_s",
    ] {
        assert!(field(&r, path).is_f64(), "`{path}` is a number: {}", field(&r, path));
    }
    let utilization = field(&r, "utilization").as_object().expect("utilization is an object");
    assert_eq!(utilization.keys().collect::<Vec<_>>(), ["cpu", "memory"], "one entry per resource of the cluster");
    assert!(utilization.values().all(|u| (0.0..=1.0).contains(&u.as_f64().unwrap())), "{utilization:?}");

    let total = count(&r, "jobs.total");
    let parts = ["completed", "missed", "rejected", "pending", "running"];
    let sum: u64 = parts.iter().map(|p| field(&r, "jobs").get(*p).and_then(Value::as_u64).unwrap_or(0)).sum();
    assert_eq!(sum, total, "every job is in exactly one bucket: {}", field(&r, "jobs"));
    assert_eq!(total as usize, fixture_job_ids().len(), "every row of the workload is a job");

    let groups = field(&r, "groups").as_object().expect("groups is an object");
    assert_eq!(groups.keys().collect::<Vec<_>>(), ["north", "south"]);
    let group_total: u64 = groups.values().map(|g| count(g, "total")).sum();
    assert_eq!(group_total, total, "the groups partition the jobs");
    for (name, g) in groups {
        let sum: u64 = ["completed", "missed", "rejected", "pending"].iter().map(|p| count(g, p)).sum();
        assert_eq!(sum, count(g, "total"), "group {name}: {g}");
    }
}

#[test]
fn run_schedule_writes_one_row_per_job_in_workload_order() {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("run-schedule.csv");
    let _ = std::fs::remove_file(&path);
    let out = kairos(&["run", SCENARIO, "--json", "--schedule", path.to_str().unwrap()]);
    out.expect(0);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let csv = std::fs::read_to_string(&path).expect("--schedule writes the file");

    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("job,node,start,end,status,reason,revision"));
    // The reason is the only column that may be quoted, so the revision splits
    // off the end and the first five split on commas.
    let rows: Vec<Vec<&str>> = lines
        .map(|l| {
            let (rest, revision) = l.rsplit_once(',').unwrap();
            rest.splitn(6, ',').chain([revision]).collect()
        })
        .collect();
    assert!(rows.iter().all(|r| r.len() == 7), "seven columns in every row:\n{csv}");
    for r in &rows {
        let ran = !r[2].is_empty();
        assert_eq!(r[6], if ran { "1" } else { "" }, "a job that ran was placed by revision 1: {r:?}");
    }
    let ids: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(ids, fixture_job_ids(), "one row per job, in workload order");
    for status in ["completed", "missed", "rejected", "pending"] {
        let rows_with = rows.iter().filter(|r| r[4] == status).count() as u64;
        assert_eq!(rows_with, count(&report, &format!("jobs.{status}")), "{status} rows match the report");
    }
    insta::assert_snapshot!(csv);
}

#[test]
fn a_schedule_that_cannot_be_written_exits_1() {
    let out = kairos(&["run", SCENARIO, "--quiet", "--schedule", "tests/fixtures/no-such-dir/schedule.csv"]);
    out.expect(1);
    assert!(out.stderr.starts_with("error: cannot write tests/fixtures/no-such-dir/schedule.csv: "), "{}", out.stderr);
}

#[test]
fn an_unknown_flag_exits_2() {
    let out = kairos(&["run", SCENARIO, "--no-such-flag"]);
    out.expect(2);
    assert!(out.stderr.contains("unexpected argument '--no-such-flag'"), "{}", out.stderr);
}

/// A job that cannot restart is lost with its node; the one that runs after it
/// is missed; the report and `explain` say so.
#[test]
fn a_job_that_cannot_restart_is_reported_lost_with_its_node() {
    let out = kairos(&["run", "tests/fixtures/scenario-lost.yaml"]);
    out.expect(0);
    insta::assert_snapshot!(out.stdout);
    let explain = kairos(&["explain", "tests/fixtures/scenario-lost.yaml", "render-long"]);
    explain.expect(0);
    assert!(
        explain.stdout.contains("outcome: lost — its node `accel` failed at t=2000s, and it cannot restart"),
        "{}",
        explain.stdout
    );
}

/// Regression: Jain's index was 1.0000 ("perfectly fair") when every group met
/// 0% of its deadlines.
#[test]
fn fairness_is_undefined_when_every_group_meets_nothing() {
    let out = kairos(&["run", "tests/fixtures/report/nothing-met.yaml"]);
    out.expect(0);
    assert!(out.stdout.contains("\nfairness  Jain — over 2 groups\n"), "{}", out.stdout);
    let json = kairos(&["run", "tests/fixtures/report/nothing-met.yaml", "--json"]);
    let r: Value = serde_json::from_str(&json.stdout).expect("a JSON report");
    assert_eq!(r["jain_fairness"], Value::Null);
    assert_eq!(r["deadline_compliance"].as_f64(), Some(0.0));
}

/// Regression: `--workload` kept the scenario's name (often a date) in the
/// report, which then described a run that did not happen.
#[test]
fn a_workload_from_the_command_line_names_the_run() {
    let out = kairos(&["run", SCENARIO, "--workload", "tests/fixtures/report/nothing-met.csv"]);
    out.expect(0);
    let first = out.stdout.lines().next().unwrap_or_default();
    assert_eq!(first, "scenario  tests/fixtures/scenario.yaml with workload tests/fixtures/report/nothing-met.csv");
    let json = kairos(&["run", SCENARIO, "--workload", "tests/fixtures/report/nothing-met.csv", "--json"]);
    let r: Value = serde_json::from_str(&json.stdout).expect("a JSON report");
    assert_eq!(r["scenario"], "tests/fixtures/scenario.yaml with workload tests/fixtures/report/nothing-met.csv");
}
