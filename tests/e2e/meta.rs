//! `kairos schema`, `kairos plugins`, `--help`, and how the CLI treats its
//! output stream.

use std::collections::BTreeSet;

use kairos_host::registry::Registry;
use kairos_tests::{exit_code, kairos, kairos_command};
use serde_json::Value;

/// `(extension point, name)` of every built-in plugin, from the registry.
fn builtins() -> BTreeSet<(String, String)> {
    Registry::builtin().specs().map(|s| (s.point.as_str().to_owned(), s.name.to_owned())).collect()
}

#[test]
fn schema_prints_valid_json_naming_every_builtin_plugin_at_its_extension_point() {
    let out = kairos(&["schema"]);
    out.expect(0);
    let schema: Value = serde_json::from_str(&out.stdout).expect("the schema is JSON");
    let mut listed = BTreeSet::new();
    for point in ["order", "filter", "score", "rebalance"] {
        let entries = schema["$defs"][format!("{point}_entry")]["oneOf"]
            .as_array()
            .unwrap_or_else(|| panic!("no {point} entries"));
        for e in entries {
            if e["properties"].get("native").is_some() || e["properties"].get("script").is_some() {
                continue; // native plugins and policy scripts: one entry each for all of them
            }
            let name = e["properties"]["plugin"]["const"].as_str().expect("each entry names its plugin");
            listed.insert((point.to_owned(), name.to_owned()));
        }
    }
    assert_eq!(listed, builtins());
}

#[test]
fn every_schema_kind_is_valid_json() {
    for kind in ["pipeline", "scenario", "cluster"] {
        let out = kairos(&["schema", kind]);
        out.expect(0);
        let v: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(v["type"], "object", "{kind}");
    }
    kairos(&["schema", "no-such-kind"]).expect(2);
}

#[test]
fn plugins_lists_every_builtin() {
    let out = kairos(&["plugins"]);
    out.expect(0);
    let listed: BTreeSet<(String, String)> = out
        .stdout
        .lines()
        .map(|l| {
            let mut w = l.split_whitespace();
            (w.next().unwrap().to_owned(), w.next().unwrap().to_owned())
        })
        .collect();
    assert_eq!(listed, builtins());
}

#[test]
fn help_mentions_the_exit_codes() {
    for args in
        [&["--help"][..], &["run", "--help"], &["check", "--help"], &["explain", "--help"], &["compare", "--help"]]
    {
        let out = kairos(args);
        out.expect(0);
        let h = &out.stdout;
        assert!(h.contains("Exit codes:"), "{args:?}:\n{h}");
        for code in ["  0  success", "  1  a run failed", "  2  bad input"] {
            assert!(h.contains(code), "{args:?} mentions `{code}`:\n{h}");
        }
    }
}

#[test]
fn no_arguments_exits_2_with_the_usage() {
    let out = kairos(&[]);
    out.expect(2);
    assert!(out.stderr.contains("Usage: kairos <COMMAND>"), "{}", out.stderr);
}

/// Regression (fixed): `println!` panicked when stdout was closed (`kairos schema | head -1`),
/// so the CLI exited 101 with a panic message and a backtrace instead of
/// stopping quietly as ripgrep and other Unix tools do.
#[cfg(unix)]
#[test]
fn writing_to_a_closed_pipe_stops_quietly() {
    use std::process::Stdio;
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader); // every write now fails with EPIPE
    let out = kairos_command(&["schema"]).stdout(writer).stderr(Stdio::piped()).output().expect("kairos runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_ne!(exit_code(out.status), 101);
}
