//! Scripts at every supported extension point, run through the real engine.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cluster::Cluster;
use crate::engine::{Engine, RETRY_INTERVAL_S};
use crate::pipeline::PipelineDef;
use crate::registry::Registry;
use crate::report::{Report, Status};
use crate::sim::{simulate, SimResult};
use crate::workload;

const CLUSTER: &str = "\
resources: [antenna, cpu]
nodes:
  - { name: kiruna, region: eu, labels: { station: Kiruna-Esrange, band: \"S,X\" }, capacity: { antenna: 1 } }
  - { name: svalbard, region: eu, labels: { station: Svalbard-SvalSat, band: S }, capacity: { antenna: 1 } }
";

use crate::testdir::Dir;

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

fn load(dir: &Dir) -> Result<PipelineDef, crate::Error> {
    PipelineDef::load(&dir.path("p.yaml"), &Registry::builtin())
}

fn run(dir: &Dir, jobs: &str) -> Result<SimResult, crate::Error> {
    let def = load(dir)?;
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).unwrap();
    let w = workload::csv::parse(Path::new("w.csv"), jobs, &mut c).unwrap();
    let r = Registry::builtin();
    let mut symbols = c.symbols.clone();
    let p = def.build(&r, &c.resources, &mut symbols)?;
    let engine = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    simulate(engine, w.jobs, &[], |_, _| {})
}

#[test]
fn the_maintenance_policy_keeps_contacts_off_a_station_in_maintenance() {
    let pipeline = format!(
        "filter:\n  - plugin: node-selector\n  - plugin: fit\n  - script: {}/station-maintenance.rhai\n    args: {{ windows: [ {{ station: Kiruna-Esrange, from: 100, to: 200 }} ] }}\nscore: [{{ plugin: first-fit }}]\n",
        policies().display()
    );
    let dir = Dir::with("script", &[("p.yaml", &pipeline)]);
    // a: before the window, on kiruna (first); b: would overlap it, goes to svalbard;
    // c: only kiruna may take it (selector): waits until the window is over, and
    // is placed at the first retry after it (released at 150, retried every 60 s).
    let jobs = "id,release,duration,request,selector\na,0,50,antenna=1,\nb,90,50,antenna=1,\nc,150,10,antenna=1,station=Kiruna-Esrange\n";
    let sim = run(&dir, jobs).unwrap();
    let got = sim.completed();
    assert_eq!(
        got,
        [
            ("a".into(), "kiruna".into(), 0),
            ("b".into(), "svalbard".into(), 90),
            ("c".into(), "kiruna".into(), 150 + RETRY_INTERVAL_S)
        ]
    );
}

#[test]
fn the_band_policy_rejects_for_good_what_no_antenna_can_receive() {
    let pipeline = format!(
        "filter:\n  - plugin: node-selector\n  - script: {}/antenna-band.rhai\n    args: {{ bands: {{ SENTINEL: X, NOAA: S }} }}\n",
        policies().display()
    );
    let dir = Dir::with("script", &[("p.yaml", &pipeline)]);
    let jobs = "id,release,duration,request,labels,selector\n\
                sentinel,0,10,antenna=1,satellite=SENTINEL-2A,\n\
                noaa,0,10,antenna=1,satellite=NOAA 19,\n\
                stuck,0,10,antenna=1,satellite=SENTINEL-1A,station=Svalbard-SvalSat\n";
    let sim = run(&dir, jobs).unwrap();
    let p = sim.completed();
    assert_eq!(p[0], ("sentinel".into(), "kiruna".into(), 0), "only kiruna carries X");
    assert_eq!(p[1].0, "noaa");
    let rec = &sim.engine.records()[2];
    assert_eq!(Status::of(rec), Status::Rejected, "svalbard lacks X and the selector excludes kiruna");
    let want = format!(
        "0/2 nodes: 1 band-mismatch ({}/antenna-band.rhai), 1 selector-mismatch (node-selector)",
        policies().display()
    );
    assert_eq!(sim.engine.describe_reasons(2), want);
}

#[test]
fn scores_and_order_keys_come_from_scripts() {
    let dir = Dir::with(
        "script",
        &[
            ("p.yaml", "order:\n  - script: key.rhai\nscore:\n  - script: score.rhai\n    weight: 2\n"),
            ("key.rhai", "fn key(job, ctx) { -job.estimate }   // longest first"),
            ("score.rhai", "fn score(job, node, ctx) { if node.name == \"svalbard\" { 100 } else { 10 } }"),
        ],
    );
    let sim = run(&dir, "id,release,duration,request\nshort,0,10,antenna=1\nlong,0,30,antenna=1\nmid,0,20,antenna=1\n")
        .unwrap();
    let p = sim.completed();
    assert_eq!(p[1], ("long".into(), "svalbard".into(), 0), "the longest job goes first, to the best-scored node");
    assert_eq!(p[2], ("mid".into(), "kiruna".into(), 0));
    assert_eq!(p[0], ("short".into(), "kiruna".into(), 20), "then the next node to free up");
}

#[test]
fn a_comparison_script_orders_the_queue() {
    let cases = [
        (
            "by comparison: the longest job first",
            "fn before(a, b, ctx) { a.estimate > b.estimate }",
            ["long", "mid", "short", "tie"],
        ),
        (
            "jobs the comparison ranks neither way keep submission order",
            "fn before(a, b, ctx) { false }",
            ["short", "long", "mid", "tie"],
        ),
        (
            "an inconsistent comparison gives some order, without a panic",
            "fn before(a, b, ctx) { true }",
            ["tie", "short", "mid", "long"],
        ),
    ];
    // One antenna: jobs run one after another, in the order the script sets.
    let jobs = "id,release,duration,request,selector\nshort,0,10,antenna=1,station=Kiruna-Esrange\nlong,0,30,antenna=1,station=Kiruna-Esrange\nmid,0,20,antenna=1,station=Kiruna-Esrange\ntie,0,10,antenna=1,station=Kiruna-Esrange\n";
    for (name, src, want) in cases {
        let dir = Dir::with(
            "script",
            &[("p.yaml", "order:\n  - script: o.rhai\nfilter: [{ plugin: node-selector }]\n"), ("o.rhai", src)],
        );
        let sim = run(&dir, jobs).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut p = sim.completed();
        p.sort_by_key(|(_, _, start)| *start);
        let got: Vec<&str> = p.iter().map(|(id, _, _)| id.as_str()).collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn a_comparison_that_is_not_a_bool_fails_naming_the_script() {
    let dir = Dir::with(
        "script",
        &[("p.yaml", "order:\n  - script: o.rhai\n    on_error: fail\n"), ("o.rhai", "fn before(a, b, ctx) { 1 }")],
    );
    let err =
        run(&dir, "id,release,duration,request\nx,0,10,antenna=1\ny,0,10,antenna=1\n").err().expect("the run fails");
    assert!(err.to_string().contains("o.rhai: in fn before: returned 1 (i64); expected true or false"), "{err}");
}

#[test]
fn an_order_script_defines_a_key_or_a_comparison_not_both() {
    let dir = Dir::with(
        "script",
        &[
            ("p.yaml", "order:\n  - script: o.rhai\n"),
            ("o.rhai", "fn key(job, ctx) { 0 }\nfn before(a, b, ctx) { false }"),
        ],
    );
    let err = load(&dir).unwrap_err().to_string();
    assert!(err.contains("defines both `fn key(job, ctx)` and `fn before(a, b, ctx)`"), "{err}");
}

#[test]
fn a_rebalance_script_moves_running_jobs_and_the_host_validates_each_move() {
    // `x` starts at 0 on kiruna (first-fit, then the only free antenna is
    // svalbard). At 5 `y` is released: its cycle runs the rebalance script.
    let cases = [
        ("a relocated job moves where the pipeline places it", "\"relocate\"", "svalbard", 1, 0),
        ("a job migrated to a named node moves there", "#{ migrate: \"svalbard\" }", "svalbard", 1, 0),
        ("a job migrated to a name from args moves there", "#{ migrate: ctx.args.to }", "svalbard", 1, 0),
        ("a move to its own node, given as a view, is refused", "#{ migrate: node }", "kiruna", 0, 0),
        ("an evicted job restarts", "#{ evict: \"drain\" }", "kiruna", 0, 0),
        ("a move to its own node is refused", "#{ migrate: \"kiruna\" }", "kiruna", 0, 0),
    ];
    for (name, ret, x_node, migrations, errors) in cases {
        let script = format!(
            "fn rebalance(job, node, run, ctx) {{\n  if job.id == \"x\" && node.name == \"kiruna\" && ctx.now == 5 {{ return {ret}; }}\n  ()\n}}\n"
        );
        let dir = Dir::with("script", &[
            (
                "p.yaml",
                "filter: [{ plugin: node-selector }, { plugin: fit }]\nscore: [{ plugin: first-fit }]\nrebalance:\n  - script: r.rhai\n    args: { to: svalbard }\n",
            ),
            ("r.rhai", &script),
        ]);
        let sim = run(&dir, "id,release,duration,request\nx,0,100,antenna=1\ny,5,1,cpu=0\n")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let report = Report::new("t", &sim, 0);
        let x = sim.completed().into_iter().find(|(id, _, _)| id == "x");
        assert_eq!(x.map(|x| x.1), Some(x_node.to_owned()), "{name}");
        assert_eq!(sim.engine.stats().migrations, migrations, "{name}");
        assert_eq!(report.script_errors.values().copied().sum::<u64>(), errors, "{name}");
        if ret.contains("evict") {
            assert_eq!(sim.engine.stats().evictions, 1, "{name}");
        }
    }
}

#[test]
fn a_rebalance_script_that_returns_nonsense_fails_naming_itself() {
    let cases = [
        ("a number", "3", "returned i64; expected (), false, \"stay\", \"relocate\""),
        ("an unknown word", "\"move\"", "returned \"move\""),
        ("an unknown node", "#{ migrate: \"nowhere\" }", "names node `nowhere`, which the cluster does not have"),
        ("an empty reason", "#{ evict: \"\" }", "`evict`: a reason code must have a word in it"),
        ("a map of the wrong shape", "#{ to: 1 }", "returned a map with keys [\"to\"]"),
    ];
    for (name, ret, want) in cases {
        let script = format!("fn rebalance(job, node, run, ctx) {{ {ret} }}");
        let dir = Dir::with(
            "script",
            &[("p.yaml", "rebalance:\n  - script: r.rhai\n    on_error: fail\n"), ("r.rhai", &script)],
        );
        let err = run(&dir, "id,release,duration,request\nx,0,100,antenna=1\ny,5,1,cpu=0\n")
            .err()
            .unwrap_or_else(|| panic!("{name}: ran"))
            .to_string();
        assert!(err.contains("r.rhai: in fn rebalance: ") && err.contains(want), "{name}: {err}");
    }
}

#[test]
fn a_failing_script_follows_its_on_error_policy_and_is_counted() {
    let script = "fn filter(job, node, ctx) {\n  if node.name == \"kiruna\" { loop {} }\n  true\n}\n";
    let cases = [
        ("reject-node rejects the node the script failed on", "reject-node", Ok(("svalbard", 1u64))),
        ("skip-plugin lets the node through", "skip-plugin", Ok(("kiruna", 1))),
        (
            "fail stops the run naming the script",
            "fail",
            Err("f.rhai: in fn filter: used up its budget of 10,000 operations"),
        ),
    ];
    for (name, policy, want) in cases {
        let dir = Dir::with(
            "script",
            &[
                (
                    "p.yaml",
                    &format!("filter:\n  - script: f.rhai\n    on_error: {policy}\nscore: [{{ plugin: first-fit }}]\n"),
                ),
                ("f.rhai", script),
            ],
        );
        match (run(&dir, "id,release,duration,request\nx,0,10,antenna=1\n"), want) {
            (Ok(sim), Ok((node, errors))) => {
                assert_eq!(sim.completed()[0].1, node, "{name}");
                let report = Report::new("t", &sim, 0);
                assert_eq!(report.script_errors.values().copied().collect::<Vec<_>>(), [errors], "{name}");
            }
            (Err(e), Err(text)) => {
                let msg = e.to_string();
                assert!(msg.starts_with("plugin `f.rhai` (filter): ") && msg.contains(text), "{name}: {msg}");
                assert!(!e.is_input(), "{name}: a run failure, exit 1");
            }
            (got, _) => panic!("{name}: unexpected {:?}", got.err()),
        }
    }
}

#[test]
fn wrong_results_are_errors_not_silent_values() {
    let cases = [
        (
            "a NaN score",
            "score",
            "fn score(job, node, ctx) { 0.0 / 0.0 }",
            "returned NaN; a score must be within 0..=100",
        ),
        (
            "a score above 100",
            "score",
            "fn score(job, node, ctx) { 130 }",
            "returned 130; a score must be within 0..=100",
        ),
        (
            "a score of the wrong type",
            "score",
            "fn score(job, node, ctx) { \"high\" }",
            "returned string; expected a number",
        ),
        (
            "a filter verdict of the wrong type",
            "filter",
            "fn filter(job, node, ctx) { 3 }",
            "returned i64; a filter returns true, false, reject(\"code\")",
        ),
        (
            "a filter that returns a string it computed",
            "filter",
            "fn filter(job, node, ctx) { let code = \"busy\"; code }",
            "in fn filter: returns the string \"busy\"; a filter's rejection must be explicit",
        ),
        ("a script that throws", "filter", "fn filter(job, node, ctx) { throw \"no\" }", "in fn filter"),
    ];
    for (name, point, src, want) in cases {
        let dir = Dir::with(
            "script",
            &[("p.yaml", &format!("{point}:\n  - script: s.rhai\n    on_error: fail\n")), ("s.rhai", src)],
        );
        let err =
            run(&dir, "id,release,duration,request\nx,0,10,antenna=1\n").err().unwrap_or_else(|| panic!("{name}: ran"));
        assert!(err.to_string().contains(want), "{name}: {err}");
    }
}

#[test]
fn bad_scripts_are_refused_at_load_with_their_position() {
    let cases = [
        ("a syntax error", "fn filter(job, node, ctx) { let = 1; }", "s.rhai:1:"),
        (
            "a missing entry point",
            "fn other(job) { true }",
            "has no `fn filter(job, node, ctx)`, which a filter script needs",
        ),
        (
            "the wrong arity",
            "fn filter(job) { true }",
            "defines `filter` with 1 parameter; a filter script needs `fn filter(job, node, ctx)`",
        ),
    ];
    for (name, src, want) in cases {
        let dir = Dir::with("script", &[("p.yaml", "filter:\n  - script: s.rhai\n"), ("s.rhai", src)]);
        let err = load(&dir).unwrap_err().to_string();
        assert!(err.contains(want), "{name}: {err}");
    }
    let dir = Dir::with("script", &[("p.yaml", "filter:\n  - script: gone.rhai\n")]);
    let err = load(&dir).unwrap_err().to_string();
    assert!(err.contains("p.yaml:2:13: script file") && err.contains("gone.rhai does not exist"), "{err}");
    let dir = Dir::with(
        "script",
        &[("p.yaml", "filter:\n  - plugin: fit\n    script: s.rhai\n"), ("s.rhai", "fn filter(a, b, c) { true }")],
    );
    assert!(load(&dir).unwrap_err().to_string().contains("either a `plugin` or a `script`, not both"));
    let dir = Dir::with("script", &[("p.yaml", "filter:\n  - plugin: fit\n    on_error: fail\n")]);
    assert!(load(&dir).unwrap_err().to_string().contains("`on_error` applies only to `script:` and `native:` entries"));
}

#[test]
fn a_script_reads_every_documented_property() {
    // The filter throws (and the run fails) on the first property that is not
    // what the job, the node and the context say.
    let script = r#"
fn check(what, got, want) { if got != want { throw `${what} is ${got}, expected ${want}`; } }
fn filter(job, node, ctx) {
    check("job.id", job.id, "x");
    check("job.tenant", job.tenant, "acme");
    check("job.group", job.group, "g1");
    check("job.priority", job.priority, 7);
    check("job.release", job.release, 5);
    check("job.deadline", job.deadline, 100);
    check("job.hard", job.hard, true);
    check("job.estimate", job.estimate, 20);
    check("job.request", job.request.antenna, 1);
    check("job.labels", job.labels.satellite, "NOAA 19");
    check("job.selector", job.selector.station, "Kiruna-Esrange");
    check("node.name", node.name, "kiruna");
    check("node.region", node.region, "eu");
    check("node.zone", node.zone, "eu");
    check("node.labels", node.labels.band, "S,X");
    check("node.capacity", node.capacity.antenna, 1);
    check("node.allocatable", node.allocatable.antenna, 1);
    check("node.free", node.free.antenna, 1);
    check("node.used", node.used.antenna, 0);
    check("node.running", node.running, 0);
    check("ctx.now", ctx.now, 5);
    check("ctx.args", ctx.args.limit, 3);
    check("ctx.total", ctx.total.antenna, 2);
    check("ctx.share", ctx.share("nobody"), 0.0);
    true
}
"#;
    let dir = Dir::with(
        "script",
        &[
            (
                "p.yaml",
                "filter:\n  - plugin: node-selector\n  - script: s.rhai\n    args: { limit: 3 }\n    on_error: fail\n",
            ),
            ("s.rhai", script),
        ],
    );
    let jobs = "id,tenant,group,priority,release,deadline,hard,duration,request,labels,selector\n\
                x,acme,g1,7,5,100,true,20,antenna=1,satellite=NOAA 19,station=Kiruna-Esrange\n";
    let sim = run(&dir, jobs).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sim.completed(), [("x".into(), "kiruna".into(), 5)]);
}

#[test]
fn a_verdict_that_read_free_capacity_is_never_reused() {
    // No `fit` filter: the script alone decides, from free capacity. If its first
    // verdict on kiruna were kept, the second job would be offered a full node.
    let dir = Dir::with(
        "script",
        &[
            ("p.yaml", "filter:\n  - plugin: node-selector\n  - script: s.rhai\nscore: [{ plugin: first-fit }]\n"),
            ("s.rhai", "fn filter(job, node, ctx) { if node.free.antenna >= 1 { true } else { reject(\"busy\") } }"),
        ],
    );
    let jobs = "id,release,duration,request,selector\na,0,10,antenna=1,station=Kiruna-Esrange\nb,0,10,antenna=1,station=Kiruna-Esrange\n";
    let sim = run(&dir, jobs).unwrap();
    assert_eq!(sim.completed(), [("a".into(), "kiruna".into(), 0), ("b".into(), "kiruna".into(), 10)]);
}

#[test]
fn static_verdicts_are_reused_across_jobs_and_nodes_with_the_same_values() {
    // Many identical jobs and nodes: the band policy reads only static values,
    // so its verdicts are reused, and they are the same as when computed afresh.
    let cluster_nodes: String = (0..40)
        .map(|i| {
            format!(
                "  - {{ name: n{i}, region: eu, labels: {{ station: S{}, band: {} }}, capacity: {{ antenna: 1 }} }}\n",
                i % 4,
                if i % 2 == 0 { "X" } else { "S" }
            )
        })
        .collect();
    let cluster = format!("resources: [antenna, cpu]\nnodes:\n{cluster_nodes}");
    let pipeline = format!("filter:\n  - plugin: fit\n  - script: {}/antenna-band.rhai\n    args: {{ bands: {{ SENTINEL: X }} }}\nscore: [{{ plugin: first-fit }}]\n", policies().display());
    let dir = Dir::with("script", &[("p.yaml", &pipeline)]);
    let jobs: String =
        std::iter::once("id,release,duration,request,labels\n".to_owned())
            .chain((0..30).map(|i| {
                format!("j{i},0,10,antenna=1,satellite={}\n", if i % 3 == 0 { "SENTINEL-2A" } else { "NOAA 19" })
            }))
            .collect();
    let def = load(&dir).unwrap();
    let mut c = Cluster::parse(Path::new("c.yaml"), &cluster).unwrap();
    let w = workload::csv::parse(Path::new("w.csv"), &jobs, &mut c).unwrap();
    let r = Registry::builtin();
    let mut symbols = c.symbols.clone();
    let p = def.build(&r, &c.resources, &mut symbols).unwrap();
    let engine = Engine::new(Arc::new(p), c.nodes.clone(), c.resources.clone(), symbols);
    let sim = simulate(engine, w.jobs, &[], |_, _| {}).unwrap();
    for (job, node, _) in sim.completed() {
        let i: usize = job[1..].parse().unwrap();
        let n: usize = node[1..].parse().unwrap();
        if i % 3 == 0 {
            assert_eq!(n % 2, 0, "{job} needs X and got {node}");
        }
    }
    assert_eq!(sim.completed().len(), 30);
    // 30 jobs × up to 40 nodes would be up to 1,200 calls. The script reads the
    // job's labels (2 distinct) and the node's labels (4 distinct: a label map is
    // one value, and nodes differ in station and band), so 2 × 4 calls suffice.
    let calls = Report::new("t", &sim, 0).script_calls.values().sum::<u64>();
    assert_eq!(calls, 8);
}

#[test]
fn a_resource_a_node_lacks_reads_0_in_a_policy_test_as_in_a_run() {
    use super::policy_test::PolicyTests;
    // The cluster declares antenna and cpu; its nodes have antennas only.
    let script = "fn filter(job, node, ctx) { if node.capacity.cpu == 0 && node.free.cpu == 0 { true } else { reject(`cpu reads ${node.capacity.cpu}`) } }";
    let dir =
        Dir::with("script", &[("p.yaml", "filter:\n  - script: s.rhai\n    on_error: fail\n"), ("s.rhai", script)]);
    let sim = run(&dir, "id,release,duration,request\nx,0,10,antenna=1\n").unwrap();
    assert_eq!(sim.completed().len(), 1, "in a run, cpu reads 0 on a node without cpu");
    let engine = super::strict_engine();
    let compiled = Arc::new(super::compile(&engine, &dir.path("s.rhai")).unwrap());
    let cases = [
        ("a test that declares the cluster's resources sees what a run sees", "resources: [antenna, cpu]\n", "pass"),
        (
            "a resource no case names and none declared is not there, in a test as in a run",
            "",
            "reject `cpu reads ` (transient)",
        ),
    ];
    for (name, head, want) in cases {
        let yaml = format!("{head}cases:\n  - name: n\n    node: {{ capacity: {{ antenna: 1 }} }}\n    expect: pass\n");
        let tests = PolicyTests::parse(&dir.path("s.test.yaml"), &yaml, Arc::clone(&compiled), &engine).unwrap();
        assert_eq!(tests.run()[0].got.to_string(), want, "{name}");
    }
}

#[test]
fn a_quarantine_lasts_until_the_next_revision() {
    use crate::sim::Simulation;
    // A filter that never returns, asked about both nodes for every job.
    let dir = Dir::with(
        "script",
        &[
            ("p.yaml", "filter:\n  - script: f.rhai\n    on_error: skip-plugin\nscore: [{ plugin: first-fit }]\n"),
            ("f.rhai", "fn filter(job, node, ctx) { loop {} }"),
        ],
    );
    let def = load(&dir).unwrap();
    let mut c = Cluster::parse(Path::new("c.yaml"), CLUSTER).unwrap();
    let jobs: String = (0..40).map(|i| format!("j{i},{},5,antenna=1\n", i * 10)).collect();
    let w = workload::csv::parse(Path::new("w.csv"), &format!("id,release,duration,request\n{jobs}"), &mut c).unwrap();
    let r = Registry::builtin();
    let build = |symbols: &mut kairos_model::Symbols| Arc::new(def.build(&r, &c.resources, symbols).unwrap());
    let mut symbols = c.symbols.clone();
    let engine = Engine::new(build(&mut symbols), c.nodes.clone(), c.resources.clone(), symbols);
    let mut sim = Simulation::new(engine, w.jobs, &[]).unwrap();
    sim.step_until(200).unwrap();
    let h = sim.engine().plugin_health();
    let f = &h.scripts["f.rhai"];
    assert_eq!((f.calls, f.errors), (16, 16), "quarantined after sixteen failed calls in a row");
    assert_eq!(f.quarantines.iter().map(|q| q.revision).collect::<Vec<_>>(), [1]);
    let skipped = f.skipped;
    assert!(skipped > 0, "later calls are skipped");
    // A reload builds the plugins again: the script is called again, from the
    // new revision on, until it is quarantined again.
    let mut symbols = sim.engine().symbols().clone();
    let next = build(&mut symbols);
    sim.engine_mut().swap_pipeline(next, 2);
    sim.step_until(400).unwrap();
    let h = sim.engine().plugin_health();
    let f = &h.scripts["f.rhai"];
    assert_eq!((f.calls, f.errors), (32, 32), "sixteen more calls in revision 2");
    assert_eq!(f.quarantines.iter().map(|q| q.revision).collect::<Vec<_>>(), [1, 2]);
    assert!(f.first_error.as_ref().is_some_and(|e| e.message.starts_with("used up its budget")), "{f:?}");
    let report = Report::new("t", &sim.finish(), 0);
    assert_eq!(report.jobs.completed, 40, "skip-plugin: every job runs");
    assert_eq!(report.failures["f.rhai"].quarantined.len(), 2);
}

#[test]
fn args_a_script_could_not_hold_are_refused_when_the_pipeline_is_built() {
    let windows: Vec<String> = (0..600).map(|i| format!("{i}")).collect();
    let pipeline = format!("filter:\n  - script: s.rhai\n    args: {{ windows: [{}] }}\n", windows.join(", "));
    let dir = Dir::with(
        "script",
        &[("p.yaml", &pipeline), ("s.rhai", "fn filter(job, node, ctx) { ctx.args.windows.len() > 0 }")],
    );
    let err = run(&dir, "id,release,duration,request\nx,0,10,antenna=1\n").err().expect("refused").to_string();
    assert!(err.contains("p.yaml:3:11: the args of script `s.rhai` are larger than a script may hold (Size of array/BLOB too large): at most 1024 bytes of strings, 512 array elements and 128 map entries in all"), "{err}");
}
