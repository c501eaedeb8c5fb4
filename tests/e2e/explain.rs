//! `kairos explain`: one job's place in the order, every node's verdict, the
//! scores and the decision.

use kairos_tests::kairos;

use crate::SCENARIO;

#[test]
fn explain_shows_the_order_every_node_s_verdict_the_scores_and_the_decision() {
    let out = kairos(&["explain", SCENARIO, "report-1"]);
    out.expect(0);
    let s = &out.stdout;
    assert!(s.contains("order: 1st of 3 pending; keys priority="), "the order rank and keys:\n{s}");
    for node in ["edge-1", "edge-2", "core", "accel"] {
        let verdict = s
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{node} ")))
            .unwrap_or_else(|| panic!("no verdict for {node}:\n{s}"));
        assert!(
            verdict.contains("feasible: best-fit ") && verdict.contains("(weight 2)") && verdict.contains(" → total "),
            "{node}'s scores:\n{s}"
        );
    }
    assert!(s.contains("decision: placed on edge-1"), "{s}");
    insta::assert_snapshot!(out.stdout_redacted());
}

#[test]
fn explain_shows_why_each_node_turned_a_waiting_job_away() {
    let out = kairos(&["explain", SCENARIO, "train-2"]);
    out.expect(0);
    assert!(out.stdout.contains("rejected by fit: insufficient cpu (requested 12, free 2)"), "{}", out.stdout);
    insta::assert_snapshot!(out.stdout_redacted());
}

#[test]
fn explain_all_shows_every_attempt() {
    let short = kairos(&["explain", SCENARIO, "train-2"]);
    let all = kairos(&["explain", SCENARIO, "train-2", "--all"]);
    all.expect(0);
    let count = |s: &str| s.lines().filter(|l| l.starts_with("attempt ")).count();
    let total: usize = all
        .stdout
        .lines()
        .find_map(|l| l.strip_suffix(" attempts to place it"))
        .and_then(|n| n.parse().ok())
        .expect("the number of attempts");
    assert_eq!(count(&all.stdout), total);
    assert_eq!(count(&short.stdout), 2, "the first and the last");
    assert!(short.stdout.contains(&format!("… {} more attempts (use --all to see them)", total - 2)));
}

#[test]
fn explain_of_an_unknown_job_exits_2() {
    let out = kairos(&["explain", SCENARIO, "no-such-job"]);
    out.expect(2);
    assert_eq!(out.stdout, "");
    insta::assert_snapshot!(out.stderr_redacted(), @"error: no job `no-such-job` in tests/fixtures/jobs.csv");
}
