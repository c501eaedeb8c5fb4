//! Native plugins through real libraries: the example plugin, the misbehaving
//! fixture, the C example, and deliberately incompatible builds. Every library
//! is built by the test itself (see `build.rs`).

mod build;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kairos_host::native::{self, LoadError};
use kairos_host::pipeline::PipelineDef;
use kairos_host::registry::Registry;
use kairos_host::report::{schedule_rows, Report};
use kairos_host::scenario::{Overrides, Scenario};
use kairos_model::ExtensionPoint;

/// A fresh directory for one test's pipeline files.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = build::fixtures_dir().join(format!("t-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }

    fn write(&self, file: &str, text: &str) -> PathBuf {
        let p = self.0.join(file);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `text` with this directory and the fixtures directory replaced by placeholders.
    fn redact(&self, text: &str) -> String {
        text.replace(&self.0.display().to_string(), "[DIR]")
            .replace(&build::fixtures_dir().display().to_string(), "[FIXTURES]")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lib(p: &Path) -> String {
    p.display().to_string()
}

/// Runs the tiny end-to-end fixture scenario with `pipeline`.
fn run(pipeline: &Path) -> Result<(Report, kairos_host::sim::SimResult), kairos_host::Error> {
    let registry = Registry::builtin();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/scenario.yaml");
    let sc = Scenario::load(&root, &Overrides::default(), &registry)?;
    let def = PipelineDef::load(pipeline, &registry)?;
    let sim = sc.simulate(&def, &registry, |_, _| {})?;
    Ok((Report::new(&sc.name, &sim, sc.skipped.len()), sim))
}

const HEAD: &str = "name: native\norder: [{ plugin: priority }]\nfilter:\n  - plugin: node-selector\n  - plugin: fit\n";

#[test]
fn the_example_plugin_s_manifest_lists_its_score_plugin() {
    let l = native::load(&build::vendor()).expect("the example plugin loads");
    let names: Vec<_> = l.plugins.iter().map(|p| (p.name.as_str(), p.point)).collect();
    assert_eq!(
        names,
        [
            ("vendor.link-budget", ExtensionPoint::Score),
            ("vendor.packing", ExtensionPoint::Score),
            ("vendor.fair-share", ExtensionPoint::Order)
        ]
    );
    assert!(l.abi().starts_with("kairos-abi 1."), "{}", l.abi());
}

#[test]
fn loading_the_same_library_twice_gives_the_library_already_loaded() {
    let a = native::load(&build::vendor()).unwrap();
    let b = native::load(&build::vendor()).unwrap();
    assert!(std::sync::Arc::ptr_eq(&a, &b));
}

#[test]
fn a_pipeline_with_a_native_score_runs_and_counts_its_calls() {
    let dir = Dir::new("runs");
    let p = dir.write(
        "p.yaml",
        &format!("{HEAD}score:\n  - plugin: best-fit\n  - native: {{ library: {}, plugin: vendor.link-budget }}\n    weight: 2\n", lib(&build::vendor())),
    );
    let (report, _) = run(&p).expect("runs");
    assert_eq!(report.native_errors.get("vendor.link-budget"), Some(&0));
    assert!(report.native_calls["vendor.link-budget"] > 0);
    assert!(report.jobs.completed > 0);
}

#[test]
fn a_plugin_named_without_a_library_is_found_in_the_plugin_dirs() {
    let dir = Dir::new("dirs");
    let plugins = dir.0.join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(build::vendor(), plugins.join("libvendor_link_budget.so")).unwrap();
    std::fs::write(plugins.join("libjunk.so"), "not a library").unwrap();
    let p = dir.write(
        "p.yaml",
        &format!("plugin_dirs: [plugins]\n{HEAD}score:\n  - native: {{ plugin: vendor.link-budget }}\n"),
    );
    let def = PipelineDef::load(&p, &Registry::builtin()).expect("found by name");
    let found = def.entries.iter().find_map(|e| e.native.as_ref()).expect("a native entry");
    assert!(found.path.ends_with("plugins/libvendor_link_budget.so"), "{}", found.path.display());
}

#[test]
fn a_panic_inside_a_plugin_is_caught_counted_and_handled_by_on_error() {
    let dir = Dir::new("panic");
    let f = lib(&build::fixture());
    // reject-node (default): the nodes score 0 and the run goes on.
    let p = dir.write("p.yaml", &format!("{HEAD}score:\n  - native: {{ library: {f}, plugin: fixture.panics }}\n"));
    let (report, _) = run(&p).expect("the run survives the panic");
    let errors = report.native_errors["fixture.panics"];
    assert!(errors > 0 && errors == report.native_calls["fixture.panics"], "{errors} errors");
    assert!(report.render().contains("fixture.panics: "), "the text report names the plugin");
    // fail: the run stops, naming the plugin and the panic.
    let p = dir.write(
        "p.yaml",
        &format!("{HEAD}score:\n  - native: {{ library: {f}, plugin: fixture.panics }}\n    on_error: fail\n"),
    );
    let err = run(&p).map(|_| ()).unwrap_err();
    assert!(!err.is_input());
    insta::assert_snapshot!(err.to_string(), @"plugin `fixture.panics` (score): native plugin `fixture.panics`: panicked at tests/native-fixture/src/lib.rs:33:9: fixture panic");
}

#[test]
fn out_of_range_scores_and_failed_filters_follow_on_error() {
    let dir = Dir::new("bad-values");
    let f = lib(&build::fixture());
    let cases = [
        ("a NaN score stops a run that says fail", "score:\n  - native: { library: F, plugin: fixture.bad-score }\n    on_error: fail\n",
         Some("plugin `fixture.bad-score` (score): native plugin `fixture.bad-score`: returned NaN for node edge-1; a score must be within 0..=100")),
        ("a score above 100 stops a run that says fail", "score:\n  - native: { library: F, plugin: fixture.bad-score }\n    args: { value: 150 }\n    on_error: fail\n",
         Some("plugin `fixture.bad-score` (score): native plugin `fixture.bad-score`: returned 150 for node edge-1; a score must be within 0..=100")),
        ("a score above 100 scores 0 by default", "score:\n  - native: { library: F, plugin: fixture.bad-score }\n    args: { value: 150 }\n", None),
        ("a failing filter rejects by default", "filter:\n  - native: { library: F, plugin: fixture.errors }\n", None),
        ("a failing filter lets nodes through with skip-plugin", "filter:\n  - native: { library: F, plugin: fixture.errors }\n    on_error: skip-plugin\n", None),
    ];
    for (name, entries, want) in cases {
        let text = format!(
            "name: t\norder: [{{ plugin: fifo }}]\n{}",
            entries.replace("library: F", &format!("library: {f}"))
        );
        let p = dir.write("p.yaml", &text);
        match (run(&p), want) {
            (Err(e), Some(w)) => assert!(e.to_string().starts_with(w), "{name}: {e}"),
            (Ok((r, _)), None) => assert!(r.native_errors.values().sum::<u64>() > 0, "{name}: errors are counted"),
            (Ok(_), Some(w)) => panic!("{name}: expected {w}"),
            (Err(e), None) => panic!("{name}: {e}"),
        }
    }
    // Rejected by default: every job ends rejected or pending, none ran.
    let p = dir.write("p.yaml", &format!("{HEAD}  - native: {{ library: {f}, plugin: fixture.errors }}\n"));
    let (r, _) = run(&p).unwrap();
    assert_eq!(r.jobs.completed, 0, "a filter that always fails rejects every node");
}

#[test]
fn every_value_a_plugin_returns_is_validated_and_a_bad_one_follows_on_error() {
    let dir = Dir::new("validated");
    let f = lib(&build::fixture());
    let c = lib(&build::c_plugin("least_loaded_bad_code", &["-DKAIROS_FIXTURE_BAD_CODE"]));
    let head = "name: t\norder: [{ plugin: fifo }]\n";
    // (name, entries, on fail: the error's message after the plugin's name; or,
    // with another policy: whether any job completes)
    let cases: [(&str, &str, Result<bool, &str>); 14] = [
        ("a verdict naming resource 99 stops a run that says fail",
         "filter:\n  - native: { library: F, plugin: fixture.bad-resource }\n    on_error: fail\n",
         Err("its verdict on node `edge-1` names resource 99, but the cluster has 2 resources (cpu, memory: indices 0..2)")),
        ("a verdict naming resource 99 rejects the node by default",
         "filter:\n  - native: { library: F, plugin: fixture.bad-resource }\n", Ok(false)),
        ("a verdict naming resource 99 lets the node through with skip-plugin",
         "filter:\n  - native: { library: F, plugin: fixture.bad-resource }\n    on_error: skip-plugin\n", Ok(true)),
        ("a reason code of 1000 bytes is refused",
         "filter:\n  - native: { library: F, plugin: fixture.bad-code }\n    on_error: fail\n",
         Err("its verdict on node `edge-1` has a reason code of 1000 bytes (\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"…); at most 64 are allowed")),
        ("a reason code with a space is refused",
         "filter:\n  - native: { library: F, plugin: fixture.bad-code }\n    args: { length: 1, char: 'a b' }\n    on_error: fail\n",
         Err("its verdict on node `edge-1` has the reason code \"a b\"; a code is made of ASCII letters, digits, `-`, `_`, `.`, `:` and `/`")),
        ("an empty reason code is refused",
         "filter:\n  - native: { library: F, plugin: fixture.bad-code }\n    args: { length: 0 }\n    on_error: fail\n",
         Err("its verdict on node `edge-1` has an empty reason code")),
        ("a C plugin's bad reason code is refused",
         "filter:\n  - native: { library: C, plugin: vendor.c-spare }\n    args: { spare: 1000 }\n    on_error: fail\n",
         Err("its rejection of node `edge-1` has the reason code \"no spare!\"; a code is made of")),
        ("a C plugin's bad reason code rejects the node by default",
         "filter:\n  - native: { library: C, plugin: vendor.c-spare }\n    args: { spare: 1000 }\n", Ok(false)),
        ("an infinite order key stops a run that says fail",
         "order:\n  - native: { library: F, plugin: fixture.infinite-key }\n    on_error: fail\n",
         Err("returned inf; an order key must be a finite number")),
        ("an infinite order key puts the job last by default",
         "order:\n  - native: { library: F, plugin: fixture.infinite-key }\n", Ok(true)),
        ("a move of a job that is not running stops a run that says fail",
         "rebalance:\n  - native: { library: F, plugin: fixture.bad-moves }\n    on_error: fail\n",
         Err("its move #0 (job index 4294967295) names a job that is not among the running jobs it was given")),
        ("a migration past the node table is refused",
         "rebalance:\n  - native: { library: F, plugin: fixture.bad-moves }\n    args: { what: node }\n    on_error: fail\n",
         Err("its move #0 (job index 0) migrates it to node 4, but the table has 4 nodes (indices 0..4)")),
        ("two moves of one job are refused",
         "rebalance:\n  - native: { library: F, plugin: fixture.bad-moves }\n    args: { what: twice }\n    on_error: fail\n",
         Err("its move #1 (job index 0) moves a job another move of the same call already moves")),
        ("a refused proposal moves nothing by default",
         "rebalance:\n  - native: { library: F, plugin: fixture.bad-moves }\n    args: { what: twice }\n", Ok(true)),
    ];
    for (name, entries, want) in cases {
        let text = format!(
            "{head}{}",
            entries.replace("library: F", &format!("library: {f}")).replace("library: C", &format!("library: {c}"))
        );
        let text =
            if text.contains("order:\n  -") { text.replacen("order: [{ plugin: fifo }]\n", "", 1) } else { text };
        let p = dir.write("p.yaml", &text);
        match (run(&p), want) {
            (Err(e), Err(w)) => {
                assert!(!e.is_input(), "{name}: a plugin's bad value is a run failure, not an input error");
                let e = e.to_string();
                let plugin = e.split('`').nth(1).unwrap_or_default().to_owned();
                let msg = e.split_once(&format!("native plugin `{plugin}`: ")).map(|(_, m)| m).unwrap_or(&e);
                assert!(msg.starts_with(w), "{name}:\n got: {msg}\nwant: {w}");
            }
            (Ok((r, _)), Ok(completes)) => {
                let errors: u64 = r.native_errors.values().sum();
                assert!(errors > 0, "{name}: the bad values are counted as failed calls");
                assert_eq!(r.jobs.completed > 0, completes, "{name}: {:?}", r.jobs);
                assert_eq!(r.moves.evictions + r.moves.migrations, 0, "{name}: no refused move is applied");
            }
            (Ok(_), Err(w)) => panic!("{name}: expected the run to stop with {w}"),
            (Err(e), Ok(_)) => panic!("{name}: {e}"),
        }
    }
}

#[test]
fn a_native_filter_s_verdicts_become_rejections_as_data() {
    let dir = Dir::new("verdicts");
    let p = dir.write(
        "p.yaml",
        &format!(
            "{HEAD}  - native: {{ library: {}, plugin: fixture.reject-odd }}\nscore: [{{ plugin: first-fit }}]\n",
            lib(&build::fixture())
        ),
    );
    let (_, sim) = run(&p).expect("runs");
    // Nodes 1 (edge-2) and 3 (accel) are odd: nothing runs there.
    for row in schedule_rows(&sim.engine) {
        assert!(row.node != "edge-2" && row.node != "accel", "{} ran on {}", row.job, row.node);
    }
}

#[test]
fn a_native_order_plugin_sets_the_order() {
    let dir = Dir::new("order");
    let p = dir.write(
        "p.yaml",
        &format!("name: t\norder:\n  - native: {{ library: {}, plugin: fixture.by-priority }}\nfilter: [{{ plugin: fit }}]\n", lib(&build::fixture())),
    );
    let (r, _) = run(&p).expect("runs");
    assert_eq!(r.native_errors["fixture.by-priority"], 0);
}

#[test]
fn the_c_example_filters_and_scores_through_the_c_abi() {
    let dir = Dir::new("c");
    let c = lib(&build::c_plugin("least_loaded", &[]));
    let l = native::load(Path::new(&c)).expect("the C plugin loads");
    assert_eq!(l.abi(), "C ABI 1");
    let names: Vec<_> = l.plugins.iter().map(|p| (p.name.as_str(), p.point)).collect();
    assert_eq!(names, [("vendor.c-spare", ExtensionPoint::Filter), ("vendor.c-idle", ExtensionPoint::Score)]);
    let p = dir.write(
        "p.yaml",
        &format!(
            "{HEAD}  - native: {{ library: {c}, plugin: vendor.c-spare }}\n    args: {{ spare: 1 }}\nscore:\n  - native: {{ library: {c}, plugin: vendor.c-idle }}\n"
        ),
    );
    let (r, sim) = run(&p).expect("runs");
    assert_eq!((r.native_errors["vendor.c-spare"], r.native_errors["vendor.c-idle"]), (0, 0));
    assert!(r.jobs.completed > 0);
    assert!(schedule_rows(&sim.engine).iter().any(|row| !row.node.is_empty()));
}

#[test]
fn every_refused_plugin_of_a_pipeline_is_reported_with_its_position() {
    let dir = Dir::new("refusals");
    let junk = dir.write("libjunk.so", "this is not a library\n");
    let text = format!(
        "name: refusals\nscore:
  - native: {{ library: missing.so, plugin: vendor.x }}
  - native: {{ library: {junk}, plugin: vendor.x }}
  - native: {{ library: {v2}, plugin: fixture.panics }}
  - native: {{ library: {layout}, plugin: fixture.panics }}
  - native: {{ library: {cbad}, plugin: vendor.c-idle }}
  - native:
      library: {vendor}
      plugin: vendor.link-budgt
  - native: {{ library: {vendor}, plugin: vendor.link-budget }}
    args: {{ gain: 3 }}
  - native:
      library: {fixture}
      plugin: fixture.build-panics
  - native: {{ plugin: vendor.nowhere }}
filter:
  - native: {{ library: {c}, plugin: vendor.c-spare }}
    args: {{ spare: -1 }}
  - native: {{ library: {here}, plugin: vendor.c-spare }}
",
        here = dir.0.display(),
        junk = lib(&junk),
        v2 = lib(&build::rust_plugin("kairos-fixture-plugin", Some("abi-v2"))),
        layout = lib(&build::rust_plugin("kairos-fixture-plugin", Some("changed-layout"))),
        cbad = lib(&build::c_plugin("least_loaded_v99", &["-DKAIROS_FIXTURE_BAD_VERSION"])),
        vendor = lib(&build::vendor()),
        fixture = lib(&build::fixture()),
        c = lib(&build::c_plugin("least_loaded", &[])),
    );
    let p = dir.write("refusals.yaml", &text);
    let err = PipelineDef::load(&p, &Registry::builtin()).unwrap_err();
    assert!(err.is_input(), "refusals are input errors (exit code 2)");
    // Columns are counted in the redacted pipeline text, so that they do not
    // depend on where the checkout and its target directory are.
    let source: Vec<&str> = text.lines().collect();
    let column = |line: u64, col: u64| {
        let before: String = source[line as usize - 1].chars().take(col as usize - 1).collect();
        dir.redact(&before).chars().count() + 1
    };
    let lines: Vec<String> = err
        .input_errors()
        .iter()
        .map(|e| format!("{}:{}: {}", e.pos.line, column(e.pos.line, e.pos.col), e.message))
        .collect();
    let text = dir.redact(&lines.join("\n\n"));
    // The version and C entries name the library; the layout entry shows the
    // end of abi_stable's report (checked apart: its wording is abi_stable's).
    let (layout, rest): (Vec<&str>, Vec<&str>) = text.split("\n\n").partition(|l| l.contains("layout mismatch"));
    assert_eq!(layout.len(), 1, "{text}");
    assert!(
        layout[0].starts_with(
            "6:24: [FIXTURES]/libkairos_fixture_plugin_changed_layout.so: its plugin interface does not match"
        ),
        "{}",
        layout[0]
    );
    assert!(
        layout[0].contains("JobView.priority") && layout[0].contains("Expected: i32 Found: i64"),
        "the end of the report names the field and the mismatch:\n{}",
        layout[0]
    );
    insta::assert_snapshot!(rest.join("\n\n"));
}

#[test]
fn an_old_plugin_still_loads_after_the_host_grows_an_optional_module() {
    use abi_stable::std_types::RStr;
    use abi_stable::StableAbi;

    /// A capability a later host might add: a new, separately versioned module.
    #[repr(C)]
    #[derive(StableAbi)]
    struct ExplainV1 {
        explain: extern "C" fn(RStr<'_>) -> u32,
    }

    // The example plugin was written before `kairos.explain.v1` existed.
    let l = native::load(&build::vendor()).unwrap();
    assert!(l.extension::<ExplainV1>("kairos.explain.v1").is_none(), "the old plugin offers nothing new");
    let (resources, mut symbols) = (kairos_model::ResourceSpace::new(["cpu"]), kairos_model::Symbols::default());
    let mut cx = kairos_model::plugin::BuildContext::new(&resources, &mut symbols);
    let built =
        l.build(ExtensionPoint::Score, "vendor.link-budget", &serde_json::Value::Null, &mut cx, Default::default());
    assert!(built.is_ok(), "and its v1 plugins still build");
}

#[test]
fn a_native_fair_share_through_kairos_partition_v1_orders_as_the_built_in_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pass-window");
    let builtin = std::fs::read_to_string(root.join("pipeline.yaml")).unwrap();
    let fair_share = "  - plugin: fair-share\n    args: { key: region }\n";
    assert!(builtin.contains(fair_share), "the showcase pipeline orders by fair share of regions");
    let native = builtin.replace(
        fair_share,
        &format!(
            "  - native: {{ library: {}, plugin: vendor.fair-share }}\n    args: {{ key: region }}\n",
            lib(&build::vendor())
        ),
    );
    let dir = Dir::new("fair-share");
    let registry = Registry::builtin();
    let sc = Scenario::load(&root.join("scenario.yaml"), &Overrides::default(), &registry).unwrap();
    let day = |p: &Path| {
        let def = PipelineDef::load(p, &registry).unwrap_or_else(|e| panic!("{e}"));
        let sim = sc.simulate(&def, &registry, |_, _| {}).unwrap_or_else(|e| panic!("{e}"));
        (Report::new(&sc.name, &sim, sc.skipped.len()), schedule_rows(&sim.engine))
    };
    let (want, want_rows) = day(&dir.write("builtin.yaml", &builtin));
    let (got, got_rows) = day(&dir.write("native.yaml", &native));
    assert_eq!(got.native_errors["vendor.fair-share"], 0);
    assert!(got.native_calls["vendor.fair-share"] > 0);
    assert_eq!(got.jobs, want.jobs, "the same day");
    assert!(got_rows == want_rows, "every job on the same node at the same time");
    // Partition-scoped like the built-in: the two cannot share a pipeline.
    let both = native.replace("order:\n", &format!("order:\n{fair_share}"));
    let err = PipelineDef::load(&dir.write("both.yaml", &both), &registry)
        .and_then(|d| d.build(&registry, &sc.cluster.resources, &mut sc.cluster.symbols.clone()))
        .map(|_| ())
        .unwrap_err();
    assert!(err.to_string().contains("only one partition-scoped order plugin"), "{err}");
}

#[test]
fn a_newer_plugin_whose_root_module_grew_a_trailing_field_loads_in_this_host() {
    // Built against kairos-abi 1.1.0, whose root module has a field after
    // `extension`: a plugin from a later host's SDK, in this (older) host.
    let newer = build::rust_plugin("kairos-fixture-plugin", Some("newer-interface"));
    let l = native::load(&newer).expect("an older host loads a newer plugin of the same major");
    assert_eq!(l.abi(), "kairos-abi 1.1.0");
    assert!(l.get(ExtensionPoint::Filter, "fixture.reject-odd").is_some(), "its manifest is read");
    // Its v1 plugins build and run like any other.
    let dir = Dir::new("newer");
    let p = dir.write(
        "p.yaml",
        &format!(
            "{HEAD}  - native: {{ library: {}, plugin: fixture.reject-odd }}\nscore: [{{ plugin: first-fit }}]\n",
            lib(&newer)
        ),
    );
    let (r, sim) = run(&p).expect("runs");
    assert_eq!(r.native_errors["fixture.reject-odd"], 0);
    assert!(r.native_calls["fixture.reject-odd"] > 0);
    for row in schedule_rows(&sim.engine) {
        assert!(row.node != "edge-2" && row.node != "accel", "{} ran on {}", row.job, row.node);
    }
}

#[test]
fn reloading_a_pipeline_that_names_a_new_library_swaps_to_it() {
    use kairos_host::cluster::Cluster;
    use kairos_host::reload::Reloader;

    let dir = Dir::new("reload");
    // Version 1 and version 2 of the plugin, each under its own path.
    let v1 = dir.0.join("v1/libvendor_link_budget.so");
    let v2 = dir.0.join("v2/libvendor_link_budget.so");
    for v in [&v1, &v2] {
        std::fs::create_dir_all(v.parent().unwrap()).unwrap();
        std::fs::copy(build::vendor(), v).unwrap();
    }
    let pipeline = |v: &str| {
        format!("name: live\nfilter: [{{ plugin: fit }}]\nscore:\n  - native: {{ library: {v}/libvendor_link_budget.so, plugin: vendor.link-budget }}\n")
    };
    let p = dir.write("pipeline.yaml", &pipeline("v1"));
    let c = Cluster::parse(
        Path::new("c.yaml"),
        "resources: [cpu]\nnodes:\n  - { name: a, region: r, capacity: { cpu: 4 } }\n",
    )
    .unwrap();
    let registry = Registry::builtin();
    let def = PipelineDef::load(&p, &registry).unwrap();
    assert!(def.entries[1].native.as_ref().unwrap().path.ends_with("v1/libvendor_link_budget.so"));
    let r = Reloader::new(&def, registry, c.resources.clone(), c.symbols.clone()).expect("the watcher starts");
    dir.write("pipeline.yaml", &pipeline("v2"));
    let until = Instant::now() + Duration::from_secs(20);
    let (revision, published) = loop {
        if let Some(x) = r.latest() {
            break x;
        }
        assert!(r.errors().is_empty(), "{:?}", r.errors().iter().map(|e| e.to_string()).collect::<Vec<_>>());
        assert!(Instant::now() < until, "waited 20 s for revision 2");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert_eq!(revision, 2);
    assert_eq!(published.score[0].name, "vendor.link-budget");
    assert_eq!(published.natives.len(), 1);
    // The new revision's library is v2's; v1 stays loaded (never unloaded).
    let v2_lib = native::load(&v2).unwrap();
    assert!(v2_lib.path.ends_with("v2/libvendor_link_budget.so"));
    assert!(native::load(&v1).is_ok());
}

#[test]
fn load_errors_say_what_is_wrong_with_the_file() {
    let dir = Dir::new("load-errors");
    let junk = dir.write("libjunk.so", "junk");
    type Is = fn(&LoadError) -> bool;
    let libs = dir.0.join("libs");
    std::fs::create_dir_all(&libs).unwrap();
    std::fs::write(libs.join("libb.so"), "").unwrap();
    std::fs::write(libs.join("liba.so"), "").unwrap();
    let empty = dir.0.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let wrong = build::c_plugin("least_loaded_wrong_manifest", &["-DKAIROS_FIXTURE_WRONG_MANIFEST"]);
    let cases: [(&str, PathBuf, Is, &str); 5] = [
        ("a missing file", dir.0.join("nope.so"), |e| matches!(e, LoadError::Missing { .. }), "native library [DIR]/nope.so does not exist"),
        ("a file that is not a library", junk, |e| matches!(e, LoadError::NotAPlugin { .. }), "[DIR]/libjunk.so is not a kairos plugin: it cannot be opened as a library ([DIR]/libjunk.so: file too short)"),
        ("a directory of libraries", libs, |e| matches!(e, LoadError::Directory { .. }), "[DIR]/libs is a directory; name the library file inside it, e.g. [DIR]/libs/liba.so (or libb.so)"),
        ("a directory without libraries", empty, |e| matches!(e, LoadError::Directory { .. }), "[DIR]/empty is a directory, with no library (*.so) in it; name a library file"),
        ("a library whose manifest disagrees with its plugin list", wrong, |e| matches!(e, LoadError::Other { .. }), "cannot load native library [FIXTURES]/libleast_loaded_wrong_manifest.so: its embedded manifest lists vendor.c-other (filter), but the library offers vendor.c-spare (filter), vendor.c-idle (score): the file was not built in one piece"),
    ];
    for (name, path, is, want) in cases {
        let e = native::load(&path).unwrap_err();
        assert!(is(&e), "{name}: {e}");
        assert_eq!(dir.redact(&e.to_string()), want, "{name}");
    }
}

/// Lines a constructor log holds (0 when it does not exist).
fn runs(log: &Path) -> usize {
    std::fs::read_to_string(log).map_or(0, |t| t.lines().count())
}

/// A C library's constructor log in the fixtures directory, emptied.
fn fresh_log(name: &str) -> PathBuf {
    let log = build::fixtures_dir().join(format!("{name}-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    log
}

/// Issue 12, defect 10: a C library was opened (as an abi_stable library),
/// closed, and opened again (as a C library), so its constructors ran twice.
#[test]
fn a_c_library_is_opened_once_and_its_constructor_runs_once() {
    let log = fresh_log("opened-once");
    // Without a manifest: the loader has to open it to tell what it is.
    let c =
        build::c_plugin("least_loaded_opened_once", &[&build::constructor_log(&log), "-DKAIROS_FIXTURE_NO_MANIFEST"]);
    assert_eq!(runs(&log), 0, "compiling runs nothing");
    let first = native::load(&c).expect("the C plugin loads");
    assert_eq!(runs(&log), 1, "its constructor ran once");
    let again = c.parent().unwrap().join(".").join(c.file_name().unwrap());
    let second = native::load(&again).expect("and loads again");
    assert!(std::sync::Arc::ptr_eq(&first, &second), "the same library, by its canonical path");
    let dir = Dir::new("opened-once");
    let p =
        dir.write("p.yaml", &format!("{HEAD}score:\n  - native: {{ library: {}, plugin: vendor.c-idle }}\n", lib(&c)));
    let (r, _) = run(&p).expect("runs");
    assert!(r.native_calls["vendor.c-idle"] > 0);
    assert_eq!(runs(&log), 1, "loading and running it again opened nothing");
}

/// Issue 12, defect 10: searching a plugin directory by plugin name opened
/// every library in it, running code of libraries that were not asked for.
#[test]
fn finding_a_plugin_by_name_runs_no_code_of_the_libraries_not_asked_for() {
    let (log_a, log_b, log_c) = (fresh_log("found-a"), fresh_log("found-b"), fresh_log("found-c"));
    let dir = Dir::new("found");
    let (one, two) = (dir.0.join("one"), dir.0.join("two"));
    for d in [&one, &two] {
        std::fs::create_dir_all(d).unwrap();
    }
    // In `one`, sorted before the vendor library: a C library with a manifest,
    // one without (built before manifests), and a file that is no library.
    let copy = |from: PathBuf, to: &Path| std::fs::copy(from, to).unwrap();
    copy(build::c_plugin("found_a", &[&build::constructor_log(&log_a)]), &one.join("liba_counted.so"));
    copy(
        build::c_plugin("found_b", &[&build::constructor_log(&log_b), "-DKAIROS_FIXTURE_NO_MANIFEST"]),
        &one.join("libb_legacy.so"),
    );
    copy(build::vendor(), &one.join("libvendor_link_budget.so"));
    std::fs::write(one.join("libjunk.so"), "not a library").unwrap();
    // In `two`, only a library without a manifest.
    copy(
        build::c_plugin("found_c", &[&build::constructor_log(&log_c), "-DKAIROS_FIXTURE_NO_MANIFEST"]),
        &two.join("libc_legacy.so"),
    );
    let dirs = [one.clone(), two.clone()];

    let l = native::find_plugin(&dirs, ExtensionPoint::Score, "vendor.link-budget").expect("found by its manifest");
    assert!(l.path.ends_with("one/libvendor_link_budget.so"), "{}", l.path.display());
    assert_eq!((runs(&log_a), runs(&log_b), runs(&log_c)), (0, 0, 0), "no other library was opened");

    let l = native::find_plugin(&dirs, ExtensionPoint::Filter, "vendor.c-spare").expect("found by its manifest");
    assert!(l.path.ends_with("one/liba_counted.so"), "{}", l.path.display());
    assert_eq!((runs(&log_a), runs(&log_b), runs(&log_c)), (1, 0, 0), "only the library asked for ran its constructor");

    // A library without a manifest is opened only when no library of its
    // directory that has one offers the plugin: here, in the second directory.
    let l = native::find_plugin(std::slice::from_ref(&two), ExtensionPoint::Score, "vendor.c-idle")
        .expect("found by opening it");
    assert!(l.path.ends_with("two/libc_legacy.so"), "{}", l.path.display());
    assert_eq!((runs(&log_a), runs(&log_b), runs(&log_c)), (1, 0, 1));

    let err = native::find_plugin(std::slice::from_ref(&one), ExtensionPoint::Score, "vendor.nowhere").unwrap_err();
    assert_eq!(
        dir.redact(&err),
        "no library in the plugin directories offers score plugin `vendor.nowhere` (searched: [DIR]/one; set `plugin_dirs` \
         in the pipeline or $KAIROS_PLUGIN_PATH); score plugins found: vendor.c-idle, vendor.link-budget, vendor.packing; \
         refused: libjunk.so (not a library)"
    );
    assert_eq!(runs(&log_b), 1, "asking every library, at last, opened the one without a manifest");
}

/// Child side of the next test: loads the library bypassing the host's check,
/// and makes one of its plugins panic while it is built.
const ABORT_CHILD: &str = "KAIROS_TEST_PANIC_ABORT_LIBRARY";

/// Issue 12, defect 9: a plugin built with `panic = "abort"` killed the host
/// with SIGABRT and no message.
#[test]
fn a_library_built_with_panic_abort_is_refused_at_load_and_a_panic_in_it_is_said_before_the_abort() {
    use abi_stable::std_types::RStr;
    if let Some(path) = std::env::var_os(ABORT_CHILD) {
        let header = abi_stable::library::lib_header_from_path(Path::new(&path)).expect("a kairos-abi library");
        let module = header.init_root_module::<kairos_abi::PluginModule_Ref>().expect("this host's ABI");
        let _ = (module.build())(RStr::from_str("fixture.build-panics"), RStr::from_str("null"), Default::default());
        unreachable!("the panic aborts the process");
    }
    let aborting = build::rust_plugin_with_profile("kairos-fixture-plugin", "fixture-abort");
    let err = native::load(&aborting).unwrap_err();
    assert!(matches!(err, LoadError::PanicAbort { .. }), "{err}");
    let dir = Dir::new("panic-abort");
    insta::assert_snapshot!(dir.redact(&err.to_string()), @r#"[FIXTURES]/libkairos_fixture_plugin_default_fixture_abort.so was built with panic = "abort": a panic in one of its plugins would abort this process, which the host cannot prevent. Rebuild it with panic = "unwind" (the default: remove `panic = "abort"` from the profile of the Cargo.toml it is built with)"#);
    // In a pipeline: refused at the entry's position, an input error.
    let p = dir.write(
        "p.yaml",
        &format!("{HEAD}score:\n  - native: {{ library: {}, plugin: fixture.panics }}\n", lib(&aborting)),
    );
    let err = PipelineDef::load(&p, &Registry::builtin()).unwrap_err();
    assert!(err.is_input() && err.to_string().contains("panic = \"abort\""), "{err}");

    // Loaded anyway (in a child process), its panic is said before the abort.
    let me = std::env::current_exe().unwrap();
    let test = "a_library_built_with_panic_abort_is_refused_at_load_and_a_panic_in_it_is_said_before_the_abort";
    let out = std::process::Command::new(me)
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(ABORT_CHILD, &aborting)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(6), "SIGABRT: {stderr}");
    }
    assert!(
        stderr.contains("kairos plugin `fixture.build-panics` panicked at tests/native-fixture/src/lib.rs:")
            && stderr.contains(": fixture build panic\nits library was built with panic = \"abort\""),
        "{stderr}"
    );
}

#[test]
fn a_plugin_that_fails_on_every_call_is_quarantined_with_its_first_error() {
    let dir = Dir::new("quarantine");
    let f = lib(&build::fixture());
    let p = dir.write("p.yaml", &format!("{HEAD}score:\n  - native: {{ library: {f}, plugin: fixture.panics }}\n"));
    // Forty small jobs, one after another: forty placements, each scored.
    let rows: String = (0..40).map(|i| format!("j{i},{},5,cpu=1;memory=1\n", i * 10)).collect();
    let jobs = dir.write("jobs.csv", &format!("id,release,duration,request\n{rows}"));
    let registry = Registry::builtin();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/scenario.yaml");
    let overrides = Overrides { pipeline: Some(p), workload: Some(jobs), load: None };
    let sc = Scenario::load(&root, &overrides, &registry).unwrap();
    let sim = sc.simulate(&sc.pipeline, &registry, |_, _| {}).expect("the run survives");
    let report = Report::new(&sc.name, &sim, 0);
    let name = "fixture.panics";
    assert_eq!(report.jobs.completed, 40, "its nodes score 0, and the jobs run");
    assert_eq!(report.native_calls[name], 16, "called until sixteen calls in a row failed, then never");
    let failure = &report.failures[name];
    assert_eq!(failure.kind, "native");
    assert_eq!(failure.quarantined.len(), 1);
    assert_eq!(failure.skipped, 24, "the other placements did not call it");
    let first = failure.first_error.as_ref().expect("the first error is kept");
    assert!(first.message.contains("fixture panic") && first.function == "score", "{first:?}");
    assert_eq!(first.job.as_deref(), Some("j0"));
    assert!(report.render().contains("fixture.panics: quarantined at t="), "{}", report.render());
}
