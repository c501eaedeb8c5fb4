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
    let n = |k: &str| jobs[k].as_u64().unwrap_or_else(|| panic!("jobs.{k} in {jobs}"));
    assert_eq!(n("total"), PASS_WINDOW_JOBS, "{jobs}");
    assert_eq!(n("completed") + n("missed") + n("rejected") + n("pending") + n("running"), n("total"), "{jobs}");
}

#[test]
fn every_pass_window_file_checks() {
    let files = ["scenario.yaml", "scenario-outage.yaml", "pipeline.yaml", "baseline.yaml", "cluster.yaml"]
        .map(|f| format!("examples/pass-window/{f}"));
    let args: Vec<&str> = std::iter::once("check").chain(files.iter().map(String::as_str)).collect();
    let out = kairos(&args);
    out.expect(0);
    assert_eq!(out.stdout.lines().filter(|l| l.starts_with("ok  ")).count(), files.len(), "{}", out.stdout);
}

/// The acceptance, as `kairos compare` shows it: at 1,400 contacts a day
/// the kairos pipeline meets ≥ 99.9% of deadlines with Jain's index over the
/// regions ≥ 0.99, while the baseline misses ≥ 3% in the peak hours.
#[test]
fn at_1400_a_day_kairos_meets_the_windows_fairly_and_the_baseline_misses_at_peak() {
    let out = kairos(&[
        "compare",
        "examples/pass-window/scenario.yaml",
        "examples/pass-window/baseline.yaml",
        "examples/pass-window/pipeline.yaml",
        "--json",
    ]);
    out.expect(0);
    let r: Value = serde_json::from_str(&out.stdout).expect("a JSON array of reports");
    let (baseline, kairos) = (&r[0], &r[1]);
    let f =
        |v: &Value, path: &[&str]| path.iter().fold(v, |v, k| &v[*k]).as_f64().unwrap_or_else(|| panic!("{path:?}"));
    assert!(f(kairos, &["deadline_compliance"]) >= 0.999, "kairos: {}", kairos["deadline_compliance"]);
    assert!(f(kairos, &["jain_fairness"]) >= 0.99, "kairos: {}", kairos["jain_fairness"]);
    assert_eq!(kairos["groups"].as_object().map(|g| g.len()), Some(3), "three regions");
    assert!(f(baseline, &["peak", "compliance"]) <= 0.97, "baseline at peak: {}", baseline["peak"]);
}

/// At 2,800 contacts a day both degrade; kairos keeps more deadlines.
#[test]
fn at_2800_a_day_both_degrade_and_kairos_keeps_more_deadlines() {
    let out = kairos(&[
        "compare",
        "examples/pass-window/scenario.yaml",
        "--load",
        "2800",
        "examples/pass-window/baseline.yaml",
        "examples/pass-window/pipeline.yaml",
        "--json",
    ]);
    out.expect(0);
    let r: Value = serde_json::from_str(&out.stdout).expect("a JSON array of reports");
    let c = |i: usize| r[i]["deadline_compliance"].as_f64().unwrap();
    assert_eq!(r[0]["jobs"]["total"].as_u64(), Some(5600));
    assert!(c(0) < 0.9 && c(1) < 0.9, "both degrade: {} {}", c(0), c(1));
    assert!(c(1) > c(0), "kairos keeps more: {} vs {}", c(1), c(0));
}

/// The KTH SP2 log replays whole: every one of its 27,992 jobs is accounted for.
#[test]
fn the_kth_sp2_log_replays_every_job() {
    let out = kairos(&["run", "examples/kth-sp2/scenario.yaml", "--json", "--quiet"]);
    out.expect(0);
    let r: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    let jobs = &r["jobs"];
    let n = |k: &str| jobs[k].as_u64().unwrap();
    assert_eq!((n("total"), r["skipped_rows"].as_u64()), (27_992, Some(0)), "{jobs}");
    assert_eq!(n("completed") + n("missed") + n("rejected") + n("pending") + n("running"), 27_992, "{jobs}");
    assert_eq!(n("rejected"), 0, "the SP2 takes every job of its own log: {jobs}");
}

/// The site policies in Rhai run on the whole day: every job is accounted for,
/// contacts no antenna of their station can receive are rejected for good with
/// the script's reason, and no script call fails.
/// Every policy in `policies/` is used, at every extension point.
#[test]
fn the_site_policies_run_on_the_pass_window_day() {
    let out = kairos(&["run", "examples/pass-window/scenario-sites.yaml", "--json"]);
    out.expect(0);
    let r: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    let jobs = &r["jobs"];
    let n = |k: &str| jobs[k].as_u64().unwrap();
    assert_eq!(n("completed") + n("missed") + n("rejected") + n("pending") + n("running"), n("total"), "{jobs}");
    assert!(n("rejected") > 0, "some contacts need a band their station lacks: {jobs}");
    let reasons = r["reasons"].to_string();
    assert!(reasons.contains("band-mismatch (../../policies/antenna-band.rhai)"), "{reasons}");
    assert!(reasons.contains("tenant-excluded (../../policies/tenant-region.rhai)"), "{reasons}");
    assert!(r["moves"]["migrations"].as_u64() > Some(0), "the drain moves work off proc-eu-small: {}", r["moves"]);
    let errors = r["script_errors"].as_object().expect("script_errors");
    let calls = r["script_calls"].as_object().expect("script_calls");
    // Every policy of policies/ but the drain runs once; the drain twice (filter, rebalance).
    assert_eq!(errors.len(), 7, "{errors:?}");
    assert!(errors.values().all(|v| v.as_u64() == Some(0)), "{errors:?}");
    assert!(calls.values().all(|v| v.as_u64() > Some(0)), "every script is called: {calls:?}");
}

/// The drain policy's rebalance moves the processing still running on
/// proc-eu-small when its maintenance begins, and `explain` says who moved it.
#[test]
fn explain_names_the_rebalance_script_that_moved_a_job() {
    let out = kairos(&["explain", "examples/pass-window/scenario-sites.yaml", "p1096-proc1"]);
    out.expect(0);
    assert!(
        out.stdout.contains(
            "2023-07-05T14:00:13Z migrated from proc-eu-small to proc-eu-large by ../../policies/drain-node.rhai"
        ),
        "{}",
        out.stdout
    );
}

/// Issue 6's regional recovery: Europe's processing site fails from 10:00 to
/// 14:00 while its antennas keep downlinking. Under `partitioned` the other
/// regions take europe-arctic's products within the budgets the global layer
/// grants; the report says how many went abroad, how long recovery took and
/// what was missed.
#[test]
fn the_regional_recovery_example_reports_the_outage_and_its_recovery() {
    let out = kairos(&["run", "examples/regional-recovery/scenario.yaml"]);
    out.expect(0);
    insta::assert_snapshot!(out.stdout_redacted());
    let out = kairos(&["run", "examples/regional-recovery/scenario.yaml", "--json"]);
    out.expect(0);
    let r: Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    let outage = &r["partitions"]["outages"][0];
    assert_eq!(outage["partition"], "europe-arctic", "{outage}");
    assert_eq!((outage["down_at"].as_i64(), outage["up_at"].as_i64()), (Some(36_000), Some(50_400)), "{outage}");
    let absorbed: u64 = outage["absorbed_by"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).sum();
    assert!(absorbed > 0, "the other regions absorb some of europe-arctic's work: {outage}");
    let jobs = &r["jobs"];
    let n = |k: &str| jobs[k].as_u64().unwrap();
    assert_eq!(n("completed") + n("missed") + n("rejected") + n("lost") + n("pending") + n("running"), n("total"));
}

/// The trade-off `kairos compare --arch` shows on that day: lending more of
/// each region's capacity saves more of the failed site's deadlines.
#[test]
fn lending_more_recovers_more_of_the_failed_sites_deadlines() {
    let out = kairos(&[
        "compare",
        "examples/regional-recovery/scenario.yaml",
        "--arch",
        "partitioned:recovery_percent=0",
        "--arch",
        "partitioned:recovery_percent=50",
        "--json",
    ]);
    out.expect(0);
    let r: Vec<Value> = serde_json::from_str(&out.stdout).expect("a JSON array of reports");
    let eu = |i: usize| r[i]["groups"]["europe-arctic"]["compliance"].as_f64().unwrap();
    let abroad = |i: usize| r[i]["partitions"]["partitions"]["europe-arctic"]["placed_abroad"].as_u64().unwrap();
    assert_eq!(abroad(0), 0, "nothing lent, nothing placed abroad");
    assert!(abroad(1) > 0);
    assert!(eu(1) > eu(0) + 0.01, "europe-arctic: {} lending nothing, {} lending half", eu(0), eu(1));
}
