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
