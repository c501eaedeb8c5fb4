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
    insta::assert_snapshot!(err.to_string(), @"plugin `fixture.panics` (score): native plugin `fixture.panics`: panicked at tests/native-fixture/src/lib.rs:24:9: fixture panic");
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
",
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
    let cases: [(&str, PathBuf, Is); 2] = [
        ("a missing file", dir.0.join("nope.so"), |e| matches!(e, LoadError::Missing { .. })),
        ("a file that is not a library", junk, |e| matches!(e, LoadError::NotAPlugin { .. })),
    ];
    for (name, path, is) in cases {
        let e = native::load(&path).unwrap_err();
        assert!(is(&e), "{name}: {e}");
    }
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
