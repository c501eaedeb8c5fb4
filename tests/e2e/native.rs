//! Native plugins from the command line: `kairos plugins list`, and the
//! pass-window day with the example plugin loaded from its library.

use kairos_tests::{build_library, kairos, kairos_command, Output};

fn vendor_library() -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = build_library("vendor-link-budget");
    let lib =
        dir.join(format!("{}vendor_link_budget.{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_EXTENSION));
    (dir, lib)
}

#[test]
fn plugins_list_shows_each_plugin_a_library_offers_with_its_args_schema() {
    let (dir, lib) = vendor_library();
    let out = kairos(&["plugins", "list", &lib.display().to_string()]);
    out.expect(0);
    insta::assert_snapshot!(out.stdout.replace(&dir.display().to_string(), "[PROFILE]"));
}

#[test]
fn plugins_list_refuses_a_file_that_is_not_a_plugin_and_exits_2() {
    let out = kairos(&["plugins", "list", "README.md", "no-such-library.so"]);
    out.expect(2);
    insta::assert_snapshot!(out.stderr_redacted());
}

#[test]
fn the_pass_window_day_with_the_native_link_budget_meets_the_showcase_numbers() {
    let (dir, _) = vendor_library();
    let out = kairos_command(&[
        "compare",
        "examples/pass-window/scenario.yaml",
        "examples/pass-window/pipeline.yaml",
        "examples/pass-window/pipeline-native.yaml",
        "--json",
    ])
    .env("KAIROS_PLUGIN_PATH", &dir)
    .output()
    .expect("kairos runs");
    let out = Output {
        code: kairos_tests::exit_code(out.status),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    out.expect(0);
    let reports: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let (native, builtin) = (&reports[1], &reports[0]);
    assert_eq!(native["pipeline"], "kairos + vendor link budget");
    // Every antenna of a station carries the same bands: the link budget ties
    // among a contact's antennas and best-fit decides, as in the showcase.
    assert_eq!(native["jobs"], builtin["jobs"]);
    assert_eq!(native["native_errors"]["vendor.link-budget"], 0);
    assert!(native["native_calls"]["vendor.link-budget"].as_u64().unwrap() > 0);
}
