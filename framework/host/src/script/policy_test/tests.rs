//! Policy tests, table by table.

use super::*;

fn script(src: &str) -> (Arc<rhai::Engine>, Arc<Script>) {
    let engine = super::super::shared_engine();
    let ast = engine.compile(src).unwrap_or_else(|e| panic!("{e}"));
    (engine, Arc::new(Script { path: PathBuf::from("s.rhai"), ast }))
}

fn parse(src: &str, yaml: &str) -> Result<PolicyTests, Error> {
    let (engine, script) = script(src);
    PolicyTests::parse(Path::new("s.test.yaml"), yaml, script, &engine)
}

fn policies() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies")
}

use crate::testdir::Dir;

#[test]
fn an_expectation_matches_only_what_it_describes() {
    let transient = Got::Reject(Reason::transient("maintenance"));
    let permanent = Got::Reject(Reason::permanent("band-mismatch"));
    let reason = |code: &str, permanent| Expect::Reason { code: code.into(), permanent };
    let cases = [
        ("pass matches a node let through", Expect::Pass, Got::Pass, true),
        ("pass does not match a rejection", Expect::Pass, transient.clone(), false),
        ("reject matches any rejection", Expect::Reject, permanent.clone(), true),
        ("reject does not match a node let through", Expect::Reject, Got::Pass, false),
        ("a code matches a rejection with that code", reason("maintenance", None), transient.clone(), true),
        ("a code does not match another code", reason("closed", None), transient.clone(), false),
        ("a permanent code matches a permanent rejection", reason("band-mismatch", Some(true)), permanent, true),
        ("a permanent code does not match a transient one", reason("maintenance", Some(true)), transient, false),
        ("a score matches the same score", Expect::Score(42.0), Got::Score(42.0), true),
        ("a score matches to the last bits", Expect::Score(0.3), Got::Score(0.1 + 0.2), true),
        ("a score does not match another score", Expect::Score(42.0), Got::Score(42.5), false),
        ("a key matches the same key", Expect::Key(-3.0), Got::Key(-3.0), true),
        ("a key does not match a score", Expect::Key(-3.0), Got::Score(-3.0), false),
        (
            "an error matches a message containing its text",
            Expect::Error("line 3".into()),
            Got::Error("s.rhai: line 3: boom".into()),
            true,
        ),
        ("an error does not match another message", Expect::Error("boom".into()), Got::Error("bang".into()), false),
        ("a result never matches an expected error", Expect::Error(String::new()), Got::Pass, false),
    ];
    for (name, expect, got, want) in cases {
        assert_eq!(expect.matches(&got), want, "{name}");
    }
}

#[test]
fn expect_values_read_as_what_they_say_or_list_the_shapes() {
    let cases = [
        ("pass", "pass", Ok(Expect::Pass)),
        ("reject", "reject", Ok(Expect::Reject)),
        ("a bare code", "maintenance", Ok(Expect::Reason { code: "maintenance".into(), permanent: None })),
        (
            "a code with its permanence",
            "{ reason: band-mismatch, permanent: true }",
            Ok(Expect::Reason { code: "band-mismatch".into(), permanent: Some(true) }),
        ),
        ("a score", "{ score: 42 }", Ok(Expect::Score(42.0))),
        ("a negative key", "{ key: -3.5 }", Ok(Expect::Key(-3.5))),
        ("an error", "{ error: too many }", Ok(Expect::Error("too many".into()))),
        ("a number alone", "42", Err("`expect` is one of")),
        ("an unknown key", "{ verdict: pass }", Err("`expect` is one of")),
        ("two keys", "{ score: 1, key: 2 }", Err("`expect` is one of")),
        ("a score that is not a number", "{ score: high }", Err("`score` must be a finite number")),
        (
            "a permanence that is not a bool",
            "{ reason: x, permanent: maybe }",
            Err("`permanent` must be true or false"),
        ),
    ];
    for (name, yaml, want) in cases {
        let v: serde_json::Value = serde_saphyr::from_str(yaml).unwrap();
        match (Expect::parse(&v), want) {
            (Ok(got), Ok(want)) => assert_eq!(got, want, "{name}"),
            (Err(got), Err(want)) => assert!(got.contains(want), "{name}: {got}"),
            (got, _) => panic!("{name}: unexpected {got:?}"),
        }
    }
}

#[test]
fn a_case_runs_through_the_host_plugins_and_is_compared_with_expect() {
    let filter = r#"fn filter(job, node, ctx) {
        if node.labels.closed == "yes" { return #{ reason: "closed", permanent: true }; }
        if ctx.now < ctx.args.open_at { return reject("not-yet"); }
        if node.labels.closed == "computed" { let code = "nope"; return code; }
        node.free.cpu >= job.request.cpu
    }"#;
    let cases = [
        ("a node let through passes", filter, "node: { capacity: { cpu: 2 } }\nexpect: pass", "pass"),
        ("reject(code) is a transient rejection", filter, "now: -5\nexpect: not-yet", "reject `not-yet` (transient)"),
        (
            "a string is not a rejection but an error",
            filter,
            "node: { labels: { closed: computed } }\nexpect: { error: must be explicit }",
            "error: s.rhai: in fn filter: returns the string \"nope\"; a filter's rejection must be explicit: reject(\"nope\") (waiting may help), reject_forever(\"nope\") (it never will) or #{ reason: \"nope\", permanent: BOOL }; true lets the node through",
        ),
        (
            "a map is a rejection with its permanence",
            filter,
            "node: { labels: { closed: \"yes\" } }\nexpect: closed",
            "reject `closed` (permanent)",
        ),
        (
            "false is a rejection with the code `rejected-by-script`",
            filter,
            "job: { request: { cpu: 4 } }\nnode: { capacity: { cpu: 8 }, used: { cpu: 6 } }\nexpect: reject",
            "reject `rejected-by-script` (transient)",
        ),
        (
            "a score comes back as the script returned it",
            "fn score(job, node, ctx) { 10 * node.running }",
            "node: { running: 3 }\nexpect: { score: 30 }",
            "score 30",
        ),
        (
            "an order key comes back as the script returned it",
            "fn key(job, ctx) { job.release - ctx.now }",
            "job: { release: 10 }\nnow: 25\nexpect: { key: -15 }",
            "key -15",
        ),
        (
            "several jobs come back in the order a comparison puts them",
            "fn before(a, b, ctx) { a.priority > b.priority }",
            "jobs: [ { id: low, priority: 1 }, { id: high, priority: 9 }, { id: also-low, priority: 1 } ]\nexpect: { order: [high, low, also-low] }",
            "order [high, low, also-low]",
        ),
        (
            "several jobs come back in the order their keys put them",
            "fn key(job, ctx) { -job.priority }",
            "jobs: [ { id: a, priority: 1 }, { id: b, priority: 2 } ]\nexpect: { order: [b, a] }",
            "order [b, a]",
        ),
        (
            "a rebalance that leaves the job says stay",
            "fn rebalance(job, node, run, ctx) { () }",
            "expect: stay",
            "stay",
        ),
        (
            "a rebalance sees the run and can name another node of the case",
            "fn rebalance(job, node, run, ctx) { if run.expected_end - run.started == 60 { #{ migrate: \"b\" } } }",
            "node: { name: a }\nnodes: [ { name: b } ]\nexpect: { migrate: b }",
            "migrate to `b`",
        ),
        (
            "a rebalance that names a node the case does not have fails",
            "fn rebalance(job, node, run, ctx) { #{ migrate: \"c\" } }",
            "expect: { error: \"does not have\" }",
            "error: s.rhai: in fn rebalance: `migrate` names node `c`, which the cluster does not have",
        ),
        (
            "a score out of range is the host's error, as in a run",
            "fn score(job, node, ctx) { 101 }",
            "expect: { error: \"within 0..=100\" }",
            "error: s.rhai: in fn score: returned 101; a score must be within 0..=100",
        ),
        (
            "a script that throws fails with its position",
            "fn key(job, ctx) {\n  throw \"no\";\n}",
            "expect: { error: \"s.rhai:2:3\" }",
            "error: s.rhai:2:3: in fn key: Runtime error: no",
        ),
    ];
    for (name, src, case, want) in cases {
        let yaml = format!("args: {{ open_at: 0 }}\ncases:\n  - name: {name}\n{}", indent(case));
        let tests = parse(src, &yaml).unwrap_or_else(|e| panic!("{name}: {e}"));
        let results = tests.run();
        assert_eq!(results.len(), 1, "{name}");
        assert_eq!(results[0].got.to_string(), want, "{name}");
        assert!(results[0].passed(), "{name}: expected {}, got {}", results[0].expected, results[0].got);
    }
}

fn indent(case: &str) -> String {
    case.lines().map(|l| format!("    {l}\n")).collect()
}

#[test]
fn a_case_job_and_node_are_built_as_the_loaders_build_them() {
    // The filter throws on the first property that is not as documented.
    let src = r#"
fn check(what, got, want) { if got != want { throw `${what} is ${got}, expected ${want}`; } }
fn filter(job, node, ctx) {
check("job.id", job.id, "job");
check("job.tenant", job.tenant, "default");
check("job.group", job.group, "default");
check("job.class", job.class, "");
check("job.priority", job.priority, 0);
check("job.release", job.release, 30);
check("job.deadline", job.deadline, ());
check("job.estimate", job.estimate, 60);
check("job.request", job.request.cpu, 1);
check("node.name", node.name, "node");
check("node.region", node.region, "eu");
check("node.zone", node.zone, "eu");
check("node.labels.region", node.labels.region, "eu");
check("node.labels.zone", node.labels.zone, "eu");
check("node.capacity", node.capacity.cpu, 8);
check("node.allocatable", node.allocatable.cpu, 6);
check("node.used", node.used.cpu, 4);
check("node.free", node.free.cpu, 2);
check("node.running", node.running, 1);
check("ctx.now", ctx.now, 30);
check("ctx.total", ctx.total.cpu, 6);
check("ctx.args", ctx.args, #{});
check("ctx.share", ctx.share("default"), 0.0);
true
}
"#;
    let yaml = "cases:\n  - name: defaults\n    job: { release: 30, request: { cpu: 1 } }\n    node: { region: eu, capacity: { cpu: 8 }, reserve: { cpu: 2 }, used: { cpu: 4 } }\n    expect: pass\n";
    let results = parse(src, yaml).unwrap().run();
    assert!(results[0].passed(), "{}", results[0].got);
}

#[test]
fn bad_test_files_are_refused_with_their_position() {
    let filter = "fn filter(job, node, ctx) { true }";
    let both = "fn filter(job, node, ctx) { true }\nfn score(job, node, ctx) { 1 }";
    let cases = [
        ("a YAML syntax error", filter, "cases:\n  - name: x\n    node: { labels: { a: b }\n    expect: pass\n", "s.test.yaml:4:5: "),
        ("a misspelt field", filter, "cases:\n  - name: x\n    expcet: pass\n", "s.test.yaml:3:5: unknown field `expcet`"),
        ("a missing expect", filter, "cases:\n  - name: x\n", "missing field `expect`"),
        ("no cases", filter, "cases: []\n", "s.test.yaml:1:8: no cases"),
        (
            "an order that does not list the case's jobs",
            "fn key(job, ctx) { 0 }",
            "cases:\n  - name: x\n    jobs: [ { id: a }, { id: b } ]\n    expect: { order: [a, c] }\n",
            "s.test.yaml:4:13: `order` must list each of the case's job ids once: a, b",
        ),
        (
            "both job and jobs",
            "fn key(job, ctx) { 0 }",
            "cases:\n  - name: x\n    job: { id: a }\n    jobs: [ { id: b } ]\n    expect: { key: 0 }\n",
            "s.test.yaml:4:11: a case gives `job` or `jobs`, not both",
        ),
        (
            "two nodes with one name",
            "fn rebalance(job, node, run, ctx) { () }",
            "cases:\n  - name: x\n    node: { name: a }\n    nodes: [ { name: a } ]\n    expect: stay\n",
            "s.test.yaml:3:11: two nodes are named `a`",
        ),
        (
            "an expectation of another point",
            filter,
            "cases:\n  - name: x\n    expect: { key: 1 }\n",
            "s.test.yaml:3:13: expects key 1, which only an order script returns; this case tests the filter entry point",
        ),
        (
            "a point the script does not define",
            filter,
            "cases:\n  - name: x\n    point: score\n    expect: { score: 1 }\n",
            "s.test.yaml:3:12: s.rhai has no `fn score(job, node, ctx)`",
        ),
        (
            "an unknown point",
            filter,
            "cases:\n  - name: x\n    point: schedule\n    expect: pass\n",
            "s.test.yaml:3:12: unknown variant `schedule`",
        ),
        (
            "a script with several entry points and a case without a point",
            both,
            "cases:\n  - name: x\n    expect: pass\n",
            "s.test.yaml:2:11: the script defines several entry points (filter, score)",
        ),
        (
            "a script with no entry point",
            "fn helper() { 1 }",
            "cases:\n  - name: x\n    expect: pass\n",
            "s.test.yaml: s.rhai defines no entry point to test",
        ),
        (
            "a node using more than it has",
            filter,
            "cases:\n  - name: x\n    node: { capacity: { cpu: 1 }, used: { cpu: 2 } }\n    expect: pass\n",
            "s.test.yaml:3:11: the node uses 2 cpu but only 1 is allocatable",
        ),
        (
            "a node that uses resources but runs nothing",
            filter,
            "cases:\n  - name: x\n    node: { capacity: { cpu: 1 }, used: { cpu: 1 }, running: 0 }\n    expect: pass\n",
            "`running` must be at least 1",
        ),
        (
            "a node running more jobs than a workload may hold (found by fuzzing: it ran for minutes)",
            filter,
            "cases:\n  - name: x\n    node: { running: 4294967295 }\n    expect: pass\n",
            "s.test.yaml:3:11: the node runs 4294967295 jobs; `running` is at most 2000000",
        ),
        (
            "a resource the file does not declare",
            filter,
            "resources: [cpu]\ncases:\n  - name: x\n    node: { capacity: { gpu: 1 } }\n    expect: pass\n",
            "s.test.yaml:4:11: resource `gpu` is not among the file's `resources` (cpu)",
        ),
        (
            "a resource declared twice",
            filter,
            "resources: [cpu, cpu]\ncases:\n  - name: x\n    expect: pass\n",
            "s.test.yaml:1:12: `resources` names each resource once",
        ),
    ];
    for (name, src, yaml, want) in cases {
        let err = parse(src, yaml).expect_err(name);
        assert!(err.is_input(), "{name}: exit 2");
        assert!(err.to_string().contains(want), "{name}:\n got: {err}\nwant: {want}");
    }
    let (engine, _) = script(filter);
    let dir = Dir::with("policy-test", &[("lonely.test.yaml", "cases: []\n")]);
    let err = PolicyTests::load(&dir.path("lonely.test.yaml"), &engine).unwrap_err().to_string();
    assert!(err.contains("no script beside this test file: expected") && err.ends_with("lonely.rhai"), "{err}");
}

#[test]
fn discover_finds_test_files_and_refuses_paths_that_name_none() {
    let dir = Dir::with("policy-test", &[("a.rhai", ""), ("a.test.yaml", ""), ("b.rhai", ""), ("notes.yaml", "")]);
    std::fs::create_dir_all(dir.path("sub")).unwrap();
    std::fs::create_dir_all(dir.path("empty")).unwrap();
    std::fs::write(dir.path("sub/c.test.yaml"), "").unwrap();
    let found = discover(std::slice::from_ref(&dir.0)).unwrap();
    assert_eq!(found, [dir.path("a.test.yaml"), dir.path("sub/c.test.yaml")], "a directory, recursively");
    assert_eq!(discover(&[dir.path("a.rhai")]).unwrap(), [dir.path("a.test.yaml")], "a script's test file");
    assert_eq!(
        discover(&[dir.path("a.test.yaml"), dir.path("sub"), dir.path("a.rhai")]).unwrap(),
        [dir.path("a.test.yaml"), dir.path("sub/c.test.yaml")],
        "a file named twice runs once"
    );
    let cases = [
        ("a script without a test file", dir.path("b.rhai"), "this script has no test file"),
        ("a file that is not a test", dir.path("notes.yaml"), "not a policy test"),
        ("a missing path", dir.path("gone"), "no such file or directory"),
        ("a directory without test files", dir.path("empty"), "no policy test files"),
    ];
    for (name, path, want) in cases {
        let err = discover(&[path]).expect_err(name);
        assert!(err.is_input() && err.to_string().contains(want), "{name}: {err}");
    }
}

#[test]
fn the_policies_shipped_with_kairos_have_tests_and_pass_them() {
    let dir = policies();
    let engine = super::super::strict_engine();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let script = entry.unwrap().path();
        if script.extension().is_some_and(|e| e == "rhai") {
            let files = discover(std::slice::from_ref(&script)).unwrap_or_else(|e| panic!("{e}"));
            let tests = PolicyTests::load(&files[0], &engine).unwrap_or_else(|e| panic!("{e}"));
            let results = tests.run();
            assert!(results.len() >= 5, "{}: several cases", files[0].display());
            for r in results {
                assert!(r.passed(), "{}: {}: expected {}, got {}", files[0].display(), r.name, r.expected, r.got);
            }
        }
    }
}
