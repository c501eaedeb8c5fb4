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

/// The file name of library `stem` on this platform (`libstem.so`).
fn dll(stem: &str) -> String {
    format!("{}{stem}.{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_EXTENSION)
}

/// A fresh directory for one test's files, under cargo's temporary directory.
fn scratch(name: &str) -> std::path::PathBuf {
    let d = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("native-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Issue 12, defect 8: a filter verdict naming resource index 99 panicked the
/// host (exit 101) in `run` and in `explain`. It is now the plugin's error,
/// handled by `on_error`, and named by plugin.
#[test]
fn a_native_verdict_naming_a_resource_the_cluster_lacks_is_the_plugin_s_error_not_a_panic() {
    let lib = build_library("kairos-fixture-plugin").join(dll("kairos_fixture_plugin"));
    let dir = scratch("bad-resource");
    let pipeline = |on_error: &str| {
        let p = dir.join(format!("bad-resource-{on_error}.yaml"));
        std::fs::write(
            &p,
            format!(
                "name: bad resource\norder: [{{ plugin: priority }}]\nfilter:\n  - plugin: fit\n  - native: {{ library: {}, plugin: fixture.bad-resource }}\n    on_error: {on_error}\nscore: [{{ plugin: best-fit }}]\n",
                lib.display()
            ),
        )
        .unwrap();
        p.display().to_string()
    };
    let reject = pipeline("reject-node");
    let out = kairos(&["run", crate::SCENARIO, "--pipeline", &reject]);
    out.expect(0);
    assert!(
        out.stdout.contains("fixture.bad-resource: "),
        "the report counts the plugin's failed calls:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("plugin-error (fixture.bad-resource)"),
        "and says why jobs did not run:\n{}",
        out.stdout
    );
    let out = kairos(&["explain", crate::SCENARIO, "ingest-1", "--pipeline", &reject]);
    out.expect(0);
    assert!(out.stdout.contains("plugin-error"), "explain shows the verdict the host gave instead:\n{}", out.stdout);
    let fail = pipeline("fail");
    for args in [
        vec!["run", crate::SCENARIO, "--pipeline", &fail],
        vec!["explain", crate::SCENARIO, "ingest-1", "--pipeline", &fail],
    ] {
        let out = kairos(&args);
        out.expect(1);
        assert!(
            out.stderr.contains("native plugin `fixture.bad-resource`: its verdict on node `edge-1` names resource 99, but the cluster has 2 resources (cpu, memory: indices 0..2)"),
            "{}: {}",
            args[0],
            out.stderr
        );
    }
}

#[test]
fn version_says_which_plugin_abis_the_host_speaks() {
    let out = kairos(&["--version"]);
    out.expect(0);
    insta::assert_snapshot!(out.stdout.trim_end(), @"kairos 0.1.0 (plugin ABI: kairos-abi 1.0.0, C ABI 1)");
}

/// Issue 12 (for authors): `kairos plugins new NAME` writes a crate that
/// builds against this workspace's kairos-abi, passes its own tests, and loads.
#[test]
fn plugins_new_writes_a_crate_that_builds_passes_its_tests_and_loads() {
    let dir = scratch("new");
    let run_cargo = |subcommand: &str, krate: &std::path::Path, args: &[&str]| {
        let (mut cmd, profile) = kairos_tests::cargo(subcommand, &krate.join("Cargo.toml"), args);
        let out = cmd.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "cargo {subcommand} {}:\n{}",
            krate.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        profile
    };
    for point in ["score", "filter", "order", "rebalance"] {
        let krate = dir.join(format!("e2e-{point}"));
        let out = kairos(&["plugins", "new", &format!("e2e-{point}"), &krate.display().to_string(), "--point", point]);
        out.expect(0);
        assert!(out.stdout.contains(&format!("{point} plugin `vendor.e2e-{point}`")), "{}", out.stdout);
        // This workspace's lock file: the crate builds offline, with the
        // versions (and the artifacts) the workspace already has.
        std::fs::copy(kairos_tests::repo_root().join("Cargo.lock"), krate.join("Cargo.lock")).unwrap();
        run_cargo("test", &krate, &["--offline"]);
    }
    let krate = dir.join("e2e-score");
    let profile = run_cargo("build", &krate, &["--offline", "--lib"]);
    let lib = profile.join(dll("e2e_score")).display().to_string();
    let out = kairos(&["plugins", "list", &lib]);
    out.expect(0);
    assert!(
        out.stdout.contains("(kairos-abi 1.0.0)") && out.stdout.contains("score      vendor.e2e-score"),
        "{}",
        out.stdout
    );

    // A run with it, by library path and by name from a plugin directory.
    let pipeline = krate.join("with-plugin.yaml");
    for entry in [format!("{{ library: {lib}, plugin: vendor.e2e-score }}"), "{ plugin: vendor.e2e-score }".to_owned()]
    {
        std::fs::write(
            &pipeline,
            format!("name: generated\nfilter: [{{ plugin: fit }}]\nscore:\n  - native: {entry}\n    args: {{ per_job: 5 }}\n"),
        )
        .unwrap();
        let out = kairos_command(&["run", crate::SCENARIO, "--pipeline", &pipeline.display().to_string(), "--json"])
            .env("KAIROS_PLUGIN_PATH", &profile)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["native_errors"]["vendor.e2e-score"], 0, "{entry}");
        assert!(report["native_calls"]["vendor.e2e-score"].as_u64().unwrap() > 0, "{entry}");
    }

    // What it refuses, with exit code 2.
    let existing = krate.display().to_string();
    let cases = [
        (
            "a directory that is not empty",
            vec!["plugins", "new", "again", &existing],
            "already exists and is not an empty directory",
        ),
        ("a name that is no crate name", vec!["plugins", "new", "My Score"], "`My Score` cannot be a crate's name"),
        (
            "an abi path that is not kairos-abi",
            vec!["plugins", "new", "x", "--abi-path", "examples"],
            "--abi-path examples: neither kairos-abi's directory nor a kairos checkout",
        ),
    ];
    for (name, args, want) in cases {
        let out = kairos(&args);
        out.expect(2);
        assert!(out.stderr.contains(want), "{name}: {}", out.stderr);
    }
    let out = kairos(&[
        "plugins",
        "new",
        "from-checkout",
        &dir.join("from-checkout").display().to_string(),
        "--abi-path",
        ".",
    ]);
    out.expect(0);
    assert!(out.stdout.contains("framework/abi"), "a kairos checkout stands for its framework/abi: {}", out.stdout);
}
