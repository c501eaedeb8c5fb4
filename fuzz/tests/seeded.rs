//! The seeded pass of the fuzz harness that `cargo test --workspace` runs.
//!
//! Each target runs [`ITERATIONS`] inputs from a fixed seed (its seed corpus,
//! then mutations), through the real `kairos-fuzz` binary and its worker
//! process, with every [`CLI_EVERY`]-th input also run through the `kairos`
//! binary. The pass is bounded by the iteration count, never by time; the
//! per-input time limit only turns a real hang into a finding. A test fails
//! when its target reports a finding that fuzz/src/known.rs does not name (a
//! known one is printed and tolerated until its stream fixes it), or when the
//! harness itself failed.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Inputs per target: a few seconds each in a debug build.
const ITERATIONS: u64 = 300;
/// Seed of the mutations.
const SEED: &str = "12";
/// Every this many inputs also go through the `kairos` binary.
const CLI_EVERY: &str = "30";

/// The fuzz plugin library, built once per test process.
fn plugin() -> &'static PathBuf {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = kairos_tests::build_library("kairos-fuzz-plugin");
        let name = format!("{}kairos_fuzz_plugin.{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_EXTENSION);
        dir.join(name)
    })
}

/// Runs `kairos-fuzz run TARGET` with the pass's settings and `seed`; returns
/// its stdout and exit code.
fn fuzz(target: &str, seed: &str, extra: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_kairos-fuzz"))
        .args(["run", target, "--iterations", &ITERATIONS.to_string(), "--seed", seed, "--quiet", "--no-artifacts"])
        .args(["--timeout", "60", "--plugin"])
        .arg(plugin())
        .args(extra)
        .output()
        .expect("kairos-fuzz runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}{stderr}");
    (stdout, out.status.code().unwrap_or(-1))
}

fn seeded_pass(target: &str) {
    let kairos = kairos_tests::kairos_bin().display().to_string();
    let (stdout, code) = fuzz(target, SEED, &["--cli", &kairos, "--cli-every", CLI_EVERY]);
    assert!(stdout.starts_with(&format!("{target}: {ITERATIONS} executions")), "{target} ran every input:\n{stdout}");
    assert!(!stdout.contains("harness:"), "the harness failed:\n{stdout}");
    assert_eq!(code, 0, "{target} found something new (see fuzz/FINDINGS.md for the known ones):\n{stdout}");
}

macro_rules! seeded {
    ($($test:ident => $target:literal),+ $(,)?) => {$(
        #[test]
        fn $test() {
            seeded_pass($target);
        }
    )+};
}

seeded! {
    pipeline_files_pass_a_seeded_run => "pipeline",
    scenario_files_pass_a_seeded_run => "scenario",
    cluster_files_pass_a_seeded_run => "cluster",
    csv_workloads_pass_a_seeded_run => "csv",
    yaml_workloads_pass_a_seeded_run => "yaml-workload",
    swf_traces_pass_a_seeded_run => "swf",
    pass_csvs_pass_a_seeded_run => "passes",
    policy_test_files_pass_a_seeded_run => "policy-test",
    scripts_pass_a_seeded_run => "script",
    native_verdicts_pass_a_seeded_run => "native",
}

/// The part of a summary that must not depend on the machine: what ran, what
/// was refused, how the corpus grew, which findings (not the timings).
fn shape(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .map(|l| match (l.find(" executions in "), l.find("): ")) {
            (Some(a), Some(b)) => format!("{}{}", &l[..a], &l[b..]),
            _ => l.to_owned(),
        })
        .collect()
}

#[test]
fn one_seed_gives_one_run() {
    let (a, _) = fuzz("csv", SEED, &[]);
    let (b, _) = fuzz("csv", SEED, &[]);
    assert_eq!(shape(&a), shape(&b));
    let (c, _) = fuzz("csv", "13", &[]);
    assert_ne!(shape(&a), shape(&c), "another seed makes other inputs");
}
