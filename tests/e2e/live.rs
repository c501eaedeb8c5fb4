//! `kairos run --live`: the pass-window day against a fast wall clock, its
//! pipeline rewritten mid-run.
//!
//! What is deterministic is asserted on every run: the report accounts for every
//! job, the schedule has one row per job, and every placement names a revision
//! that existed, in the order the revisions came. Whether the rewrite lands
//! before a 100,000× day (about a second) is over depends on the machine, so a
//! run that ended first is repeated once at a slower speed before the test
//! insists on the reload line; the reload mechanics themselves are tested
//! deterministically in `kairos-host` (`reload::tests`).

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use kairos_tests::{exit_code, kairos, kairos_command, repo_root};
use serde_json::Value;

const SCENARIO: &str = "examples/pass-window/scenario.yaml";
const PIPELINE: &str = "examples/pass-window/pipeline.yaml";

/// Jobs of the pass-window day at the scenario's load.
const JOBS: u64 = 2800;

/// What one live run left behind.
struct LiveRun {
    code: i32,
    stderr: String,
    report: Value,
    /// `(start, revision)` of every schedule row (`None` where empty).
    rows: Vec<(Option<i64>, Option<u64>)>,
}

/// Copies the showcase pipeline into a fresh directory, runs the scenario live
/// on the copy at `speed`, and rewrites the copy (best-fit → worst-fit) as soon
/// as the run says it is watching.
fn live_run(speed: &str) -> LiveRun {
    let dir: PathBuf = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("live-{}-{speed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pipeline = dir.join("pipeline.yaml");
    let original = std::fs::read_to_string(repo_root().join(PIPELINE)).unwrap();
    std::fs::write(&pipeline, &original).unwrap();
    let schedule = dir.join("schedule.csv");

    let mut child = kairos_command(&[
        "run",
        "--live",
        "--speed",
        speed,
        SCENARIO,
        "--pipeline",
        pipeline.to_str().unwrap(),
        "--schedule",
        schedule.to_str().unwrap(),
        "--json",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("kairos starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    let mut stderr = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("live: ") {
            // The watcher is up before this line is printed.
            let edited = original.replace("plugin: best-fit", "plugin: worst-fit");
            assert_ne!(edited, original, "the showcase pipeline scores with best-fit");
            std::fs::write(&pipeline, edited).unwrap();
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let code = exit_code(child.wait().unwrap());
    let stdout = reader.join().unwrap();
    assert_eq!(code, 0, "--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("--json prints one JSON object on stdout");
    let csv = std::fs::read_to_string(&schedule).expect("--schedule writes the file");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("job,node,start,end,status,reason,revision"));
    let rows = lines
        .map(|l| {
            let (rest, revision) = l.rsplit_once(',').unwrap();
            let start = rest.split(',').nth(2).unwrap();
            (start.parse().ok(), revision.parse().ok())
        })
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    LiveRun { code, stderr, report, rows }
}

/// The checks that hold however the reload and the run interleave.
#[track_caller]
fn check_accounting(run: &LiveRun) {
    assert_eq!(run.code, 0);
    let jobs = &run.report["jobs"];
    let count = |k: &str| jobs.get(k).and_then(Value::as_u64).unwrap_or(0);
    assert_eq!(count("total"), JOBS, "{jobs}");
    let sum: u64 = ["completed", "missed", "rejected", "pending", "running"].iter().map(|k| count(k)).sum();
    assert_eq!(sum, JOBS, "every job is in exactly one bucket: {jobs}");
    assert_eq!(run.rows.len() as u64, JOBS, "one schedule row per job");
    let reloaded = run.stderr.contains("reloaded pipeline revision 2");
    let newest = if reloaded { 2 } else { 1 };
    for &(start, revision) in &run.rows {
        assert_eq!(start.is_some(), revision.is_some(), "a job has a revision if and only if it ran");
    }
    let mut placed: Vec<(i64, u64)> =
        run.rows.iter().filter_map(|&(start, revision)| Some((start?, revision?))).collect();
    // The scenario fails no node: every job that ran was placed exactly once.
    assert_eq!(run.report["scheduler"]["placements"].as_u64(), Some(placed.len() as u64), "{}", run.report);
    assert!(placed.iter().all(|&(_, r)| (1..=newest).contains(&r)), "revisions 1..={newest} only");
    // A swap happens between two instants: everything placed before it is
    // revision 1, everything after it revision 2.
    placed.sort_unstable();
    assert!(placed.windows(2).all(|w| w[0].1 <= w[1].1), "revisions follow the clock");
}

#[test]
fn a_live_run_reloads_its_rewritten_pipeline_and_accounts_for_every_job() {
    let mut reloaded = None;
    for speed in ["100000", "10000"] {
        let run = live_run(speed);
        check_accounting(&run);
        assert!(!run.stderr.contains("reload failed"), "{}", run.stderr);
        if run.stderr.contains("reloaded pipeline revision 2") {
            reloaded = Some(run);
            break;
        }
        eprintln!("at {speed}× the day ended before the reload; trying slower");
    }
    let run = reloaded.expect("a run at 10,000× (10 s) sees the rewrite");
    assert_eq!(run.stderr.matches("reloaded pipeline revision").count(), 1, "one save, one reload:\n{}", run.stderr);
    assert!(run.rows.iter().any(|r| r.1 == Some(2)), "jobs placed after the reload name revision 2");
    assert_eq!(run.report["pipeline"], "kairos");
}

#[test]
fn live_without_changes_gives_the_same_schedule_as_run() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let (plain, live) = (dir.join("plain-schedule.csv"), dir.join("live-schedule.csv"));
    let plain_out = kairos(&["run", SCENARIO, "--quiet", "--json", "--schedule", plain.to_str().unwrap()]);
    plain_out.expect(0);
    let live_out =
        kairos(&["run", "--live", "--speed", "1000000", SCENARIO, "--json", "--schedule", live.to_str().unwrap()]);
    live_out.expect(0);
    assert!(live_out.stderr.starts_with("live: 2800 jobs from 2023-07-05T00:01:39Z"), "{}", live_out.stderr);
    assert_eq!(std::fs::read_to_string(live).unwrap(), std::fs::read_to_string(plain).unwrap());
    let (a, b): (Value, Value) =
        (serde_json::from_str(&plain_out.stdout).unwrap(), serde_json::from_str(&live_out.stdout).unwrap());
    assert_eq!(a["jobs"], b["jobs"]);
    assert_eq!(a["wait_s"], b["wait_s"]);
}

#[test]
fn a_speed_that_is_not_positive_exits_2() {
    let out = kairos(&["run", "--live", "--speed", "0", SCENARIO]);
    out.expect(2);
    assert!(out.stderr.starts_with("error: --speed must be a number of simulated seconds per second > 0"));
}

#[test]
fn speed_without_live_exits_2() {
    let out = kairos(&["run", "--speed", "10", SCENARIO]);
    out.expect(2);
    assert!(out.stderr.contains("--live"), "{}", out.stderr);
}
