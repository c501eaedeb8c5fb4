//! Bad input: every file in `tests/fixtures/bad/` is a scenario that is good
//! but for one part (in `bad/parts/`, or the scenario itself). `kairos run`
//! must exit 2 with an error naming the bad file, line and column, and never
//! panic. One snapshot of stderr per fixture.

use kairos_tests::{kairos, repo_root};

use crate::{error_positions, relative};

#[test]
fn every_bad_input_exits_2_with_an_error_naming_file_line_and_column() {
    insta::glob!("../fixtures/bad", "*.yaml", |path| {
        let scenario = relative(path);
        let out = kairos(&["run", &scenario]);
        out.expect(2);
        assert!(out.stdout.is_empty(), "{scenario}: no report on failure:\n{}", out.stdout);

        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (file, line, col) in error_positions(&out.stderr) {
            // The error points into the file that is bad: the scenario or its
            // part named like it (`zero-capacity` → `parts/zero-capacity-cluster.yaml`).
            let name = file.rsplit('/').next().unwrap();
            assert!(name.starts_with(&stem), "{scenario}: the error names {file}, not the bad file");
            let text = std::fs::read_to_string(repo_root().join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            let at = text.lines().nth(line as usize - 1).unwrap_or_else(|| panic!("{file} has no line {line}"));
            assert!(col >= 1 && col as usize <= at.chars().count() + 1, "{file}:{line}:{col} is past the line `{at}`");
        }
        insta::assert_snapshot!(out.stderr_redacted());
    });
}

#[test]
fn a_bad_pipeline_given_on_the_command_line_is_reported_like_one_named_by_the_scenario() {
    let direct =
        kairos(&["run", "tests/fixtures/scenario.yaml", "--pipeline", "tests/fixtures/bad/parts/zero-weight.yaml"]);
    let named = kairos(&["run", "tests/fixtures/bad/zero-weight.yaml"]);
    direct.expect(2);
    assert_eq!(direct.stderr, named.stderr);
}

#[test]
fn a_bad_workload_given_on_the_command_line_is_reported_like_one_named_by_the_scenario() {
    let direct = kairos(&[
        "run",
        "tests/fixtures/scenario.yaml",
        "--workload",
        "tests/fixtures/bad/parts/negative-duration.csv",
    ]);
    let named = kairos(&["run", "tests/fixtures/bad/negative-duration.yaml"]);
    direct.expect(2);
    assert_eq!(direct.stderr, named.stderr);
}

#[test]
fn a_missing_scenario_file_exits_2_naming_it() {
    let out = kairos(&["run", "tests/fixtures/no-such-scenario.yaml"]);
    out.expect(2);
    assert!(out.stderr.starts_with("error: cannot read tests/fixtures/no-such-scenario.yaml: "), "{}", out.stderr);
}

/// Regression (fixed): `Error::Io` and `Error::Write` put their source in their own message
/// *and* expose it as `source()`, and the CLI prints the whole source chain, so
/// the cause was printed twice:
///
/// ```text
/// error: cannot read x.yaml: No such file or directory (os error 2)
///   caused by: No such file or directory (os error 2)
/// ```
#[test]
fn an_io_error_prints_its_cause_once() {
    let out = kairos(&["run", "tests/fixtures/no-such-scenario.yaml"]);
    out.expect(2);
    assert_eq!(out.stderr.matches("No such file or directory").count(), 1, "{}", out.stderr);
}
