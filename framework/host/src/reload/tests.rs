//! The reloader against real files: each test writes a pipeline and a script in
//! a directory of its own, starts a [`Reloader`] on them, changes the files and
//! waits — up to [`PATIENCE`], polling — for what the change must lead to. The
//! waits are on outcomes (a revision published, an error recorded), never on
//! a count of file-system events, so a slow machine only makes a test slower.

use std::path::Path;
use std::time::{Duration, Instant};

use super::*;
use crate::cluster::Cluster;
use crate::testdir::Dir;

/// How long a test waits for a reload before failing: far above the
/// [`DEBOUNCE`] plus a build, so only a broken watcher hits it.
const PATIENCE: Duration = Duration::from_secs(20);

const CLUSTER: &str = "\
resources: [cpu, mem]
nodes:
  - { name: a, region: east, capacity: { cpu: 4, mem: 8 } }
";

const PIPELINE: &str = "\
name: watched
order: [{ plugin: fifo }]
filter:
  - plugin: fit
  - script: policy.rhai
";

const ACCEPT: &str = "fn filter(job, node, ctx) { true }\n";

/// A fresh directory holding `pipeline.yaml` and `policy.rhai`.
fn watched(name: &str) -> Dir {
    let d = Dir::empty(&format!("reload-{name}"));
    d.write("pipeline.yaml", PIPELINE);
    d.write("policy.rhai", ACCEPT);
    d
}

/// A reloader on the directory's pipeline, started at revision 1.
fn start(dir: &Dir) -> Reloader {
    let c = Cluster::parse(Path::new("c.yaml"), CLUSTER).unwrap();
    let registry = Registry::builtin();
    let def = PipelineDef::load(&dir.path("pipeline.yaml"), &registry).expect("the first revision loads");
    Reloader::new(&def, registry, c.resources.clone(), c.symbols.clone()).expect("the watcher starts")
}

/// Polls `check` until it returns something or [`PATIENCE`] runs out.
#[track_caller]
fn wait<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + PATIENCE;
    loop {
        if let Some(t) = check() {
            return t;
        }
        assert!(Instant::now() < until, "waited {PATIENCE:?} for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn an_edited_script_is_published_as_the_next_revision_once() {
    let dir = watched("edit");
    let r = start(&dir);
    assert!(r.latest().is_none(), "revision 1 is the caller's: nothing newer yet");
    dir.write("policy.rhai", "fn filter(job, node, ctx) { node.name != \"b\" }\n");
    let (revision, pipeline) = wait("revision 2", || r.latest());
    assert_eq!(revision, 2);
    assert_eq!(pipeline.filter.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["fit", "policy.rhai"]);
    assert!(r.latest().is_none(), "a revision is handed out once");
    assert!(r.errors().is_empty());
}

#[test]
fn an_edited_pipeline_file_is_published_too() {
    let dir = watched("pipeline");
    let r = start(&dir);
    dir.write("pipeline.yaml", &PIPELINE.replace("fifo", "edf"));
    let (revision, pipeline) = wait("revision 2", || r.latest());
    assert_eq!((revision, pipeline.order[0].name.as_str()), (2, "edf"));
}

#[test]
fn a_failed_reload_keeps_the_last_good_revision_and_reports_file_line_and_column() {
    let dir = watched("broken");
    let r = start(&dir);
    dir.write("policy.rhai", "fn filter(job, node, ctx) {\n    let x = ;\n    true\n}\n");
    let errors = wait("the syntax error", || Some(r.errors()).filter(|e| !e.is_empty()));
    assert!(r.latest().is_none(), "nothing is published: revision 1 stays in force");
    let e = &errors[0];
    assert_eq!(e.kept, 1);
    let script = dir.path("policy.rhai").display().to_string();
    let message = e.to_string();
    assert!(
        message.starts_with(&format!("pipeline reload failed; still running revision 1: {script}:2:13: syntax error")),
        "{message}"
    );
    assert!(e.error.is_input());
    let dir_text = dir.path("").display().to_string();
    insta::assert_snapshot!("reload_syntax_error", message.replace(dir_text.trim_end_matches('/'), "[dir]"));

    // The next change tries again.
    dir.write("policy.rhai", ACCEPT);
    let (revision, _) = wait("revision 2 after the fix", || r.latest());
    assert_eq!(revision, 2, "a failed attempt uses no revision number");
}

#[test]
fn a_pipeline_naming_an_unknown_plugin_is_refused_with_its_position() {
    let dir = watched("unknown");
    let r = start(&dir);
    dir.write("pipeline.yaml", &PIPELINE.replace("plugin: fit", "plugin: fitt"));
    let errors = wait("the error", || Some(r.errors()).filter(|e| !e.is_empty()));
    let pipeline = dir.path("pipeline.yaml").display().to_string();
    assert!(errors[0].error.to_string().starts_with(&format!("{pipeline}:4:13: unknown filter plugin `fitt`")));
    assert!(r.latest().is_none());
}

#[test]
fn a_deleted_script_keeps_the_last_good_revision_until_it_is_back() {
    let dir = watched("deleted");
    let r = start(&dir);
    std::fs::remove_file(dir.path("policy.rhai")).unwrap();
    let errors = wait("the missing script", || Some(r.errors()).filter(|e| !e.is_empty()));
    assert!(r.latest().is_none(), "revision 1 stays in force");
    let message = errors[0].error.to_string();
    let pipeline = dir.path("pipeline.yaml").display().to_string();
    assert!(message.starts_with(&format!("{pipeline}:5:13: script file ")), "{message}");
    assert!(message.contains("policy.rhai does not exist or cannot be read"), "{message}");
    let dir_text = dir.path("").display().to_string();
    insta::assert_snapshot!(
        "reload_deleted_script",
        errors[0].to_string().replace(dir_text.trim_end_matches('/'), "[dir]")
    );

    // Writing it again is a change like any other.
    dir.write("policy.rhai", ACCEPT);
    let (revision, _) = wait("revision 2 once the script is back", || r.latest());
    assert_eq!(revision, 2);
}

#[test]
fn a_burst_of_writes_is_debounced_into_one_reload() {
    let dir = watched("burst");
    let r = start(&dir);
    for i in 0..5 {
        dir.write("policy.rhai", &format!("fn filter(job, node, ctx) {{ {i} >= 0 }}\n"));
    }
    let (revision, _) = wait("a revision", || r.latest());
    assert_eq!(revision, 2);
    // Well past the debounce: no second reload came from the same burst.
    std::thread::sleep(DEBOUNCE * 5);
    assert!(r.latest().is_none(), "one burst, one revision");
    assert_eq!(r.attempts(), 1);
}

#[test]
fn a_requested_reload_publishes_without_a_change() {
    let dir = watched("request");
    let r = start(&dir);
    r.request_reload();
    assert!(r.wait_for_attempts(1, PATIENCE));
    assert_eq!(r.latest().map(|(rev, _)| rev), Some(2));
}

#[test]
fn load_builds_against_the_cluster_it_is_given() {
    let dir = watched("load");
    dir.write("pipeline.yaml", "filter:\n  - plugin: headroom\n    args: { percent: 10, resources: [gpu] }\n");
    let c = Cluster::parse(Path::new("c.yaml"), CLUSTER).unwrap();
    let err = load(&dir.path("pipeline.yaml"), &Registry::builtin(), &c.resources, &c.symbols).unwrap_err();
    assert!(err.to_string().contains("unknown resource `gpu`"), "{err}");
}
