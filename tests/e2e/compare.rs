//! `kairos compare`: several pipelines on one scenario, side by side.

use kairos_tests::kairos;
use serde_json::Value;

use crate::{wall_clock_filters, BASELINE, PIPELINE, SCENARIO};

#[test]
fn compare_prints_both_pipeline_names_side_by_side() {
    let out = kairos(&["compare", SCENARIO, PIPELINE, BASELINE]);
    out.expect(0);
    let header = out.stdout.lines().nth(2).expect("a header line");
    let (a, b) = (header.find("tiny (priority, EDF, best-fit)"), header.find("baseline (FIFO, first-fit)"));
    assert!(matches!((a, b), (Some(a), Some(b)) if a < b), "both names, in argument order: {header}");
    insta::with_settings!({ filters => wall_clock_filters() }, {
        insta::assert_snapshot!(out.stdout_redacted());
    });
}

#[test]
fn compare_json_gives_an_array_of_two_reports() {
    let out = kairos(&["compare", SCENARIO, PIPELINE, BASELINE, "--json"]);
    out.expect(0);
    let reports: Vec<Value> = serde_json::from_str(&out.stdout).expect("a JSON array");
    let names: Vec<&str> = reports.iter().map(|r| r["pipeline"].as_str().unwrap()).collect();
    assert_eq!(names, ["tiny (priority, EDF, best-fit)", "baseline (FIFO, first-fit)"]);
    for r in &reports {
        assert_eq!(r["scenario"], "tiny");
        assert_eq!(r["jobs"]["total"], 12);
    }
    // Each column is its own run: the same as `kairos run` with that pipeline.
    for (pipeline, report) in [PIPELINE, BASELINE].iter().zip(&reports) {
        let run = kairos(&["run", SCENARIO, "--pipeline", pipeline, "--json"]);
        let mut alone: Value = serde_json::from_str(&run.stdout).unwrap();
        let mut report = report.clone();
        for r in [&mut alone, &mut report] {
            r["scheduler"]["wall_s"] = Value::Null;
            r["scheduler"]["decisions_per_s"] = Value::Null;
        }
        assert_eq!(alone, report, "{pipeline}");
    }
}

#[test]
fn a_bad_arch_flag_exits_2_naming_the_flag_and_what_was_expected() {
    let out = kairos(&["compare", SCENARIO, PIPELINE, "--arch", "partitioned:by=planet,recovery_percent=150"]);
    out.expect(2);
    insta::assert_snapshot!(out.stderr_redacted());
}

#[test]
fn compare_with_a_bad_pipeline_exits_2() {
    let out = kairos(&["compare", SCENARIO, PIPELINE, "tests/fixtures/bad/parts/unknown-plugin.yaml"]);
    out.expect(2);
    assert!(out.stderr.starts_with("error: tests/fixtures/bad/parts/unknown-plugin.yaml:8:13: "), "{}", out.stderr);
}
