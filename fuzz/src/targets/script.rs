//! Rhai policy scripts: what a script returns, and how it behaves, comes from
//! the input, and the host's script plugins must contain it.

use kairos_host::scenario::Overrides;
use kairos_host::script::{check_entry, compile, shared_engine};
use kairos_model::ExtensionPoint;

use super::files::{run_scenario, BASE};
use super::{hash, Target};
use crate::oracle::refused;
use crate::Outcome;

/// Args every script entry gets: what the repository's policies read.
const ARGS: &str = "{ step_s: 3600, max_boost: 50, \
    windows: [ { station: Kiruna-Esrange, from: 3600, to: 7200 } ], \
    bands: { NOAA: S, METEOR: S, SENTINEL: X }, exclude: { \"CSS (TIANHE)\": americas }, \
    drains: [ { node: proc-eu-small, from: 7200, to: 10800, announced: 3600 } ] }";

/// The pipeline around the script: the showcase's built-ins, with the script
/// added at each point it serves.
fn pipeline(points: &[ExtensionPoint], on_error: &str) -> String {
    let entry = format!("  - script: fuzz.rhai\n    args: {ARGS}\n    on_error: {on_error}\n");
    let at = |p: ExtensionPoint| if points.contains(&p) { entry.as_str() } else { "" };
    format!(
        "name: fuzz script\norder:\n{}  - plugin: edf\nfilter:\n  - plugin: node-selector\n  - plugin: fit\n{}score:\n  - plugin: best-fit\n{}{}",
        at(ExtensionPoint::Order),
        at(ExtensionPoint::Filter),
        at(ExtensionPoint::Score),
        if points.contains(&ExtensionPoint::Rebalance) { format!("rebalance:\n{entry}") } else { String::new() },
    )
}

/// `script`: a Rhai script at every point it defines an entry for, in the
/// pass-window miniature; `on_error` is chosen by the input's hash.
pub(super) const SCRIPT: Target = Target {
    name: "script",
    about: "Rhai script: compiled, put at every point it serves in a pass-window pipeline, and run",
    binary: false,
    dictionary: &[
        "fn filter(job, node, ctx) { ",
        "fn score(job, node, ctx) { ",
        "fn key(job, ctx) { ",
        "fn before(a, b, ctx) { ",
        "fn rebalance(job, node, run, ctx) { ",
        "}",
        "true",
        "false",
        "()",
        "\"true\"",
        "\"relocate\"",
        "#{}",
        "#{ reason: \"x\", permanent: true }",
        "#{ reason: 5 }",
        "#{ migrate: \"proc-eu-small\" }",
        "#{ migrate: node }",
        "#{ migrate: 99 }",
        "#{ evict: \"\" }",
        "#{ evict: \"drain\" }",
        "[1, 2, 3]",
        "0.0/0.0",
        "1.0/0.0",
        "1e308",
        "-1",
        "101",
        "9223372036854775807",
        "-9223372036854775808",
        "job.deadline",
        "job.release",
        "job.priority",
        "job.labels",
        "node.free",
        "node.used",
        "node.labels.station",
        "node.name",
        "node.running",
        "ctx.now",
        "ctx.args",
        "ctx.total",
        "ctx.share(job.group)",
        "return ",
        "throw \"x\";",
        "let x = ",
        "x += 1;",
        "while x < 100 { x += 1; }",
        "loop { }",
        "for i in 0..1000 { }",
        "sleep(1);",
        "\"a\" * 1000",
        "[0] * 1000",
        "print(job.id);",
        "debug(node);",
        "eval(\"1\")",
        "import \"x\" as y;",
        "fn f(n) { if n > 0 { f(n - 1) } else { 0 } } f(100)",
        ".len()",
        "to_string()",
        "parse_int(\"x\")",
        "job.request.cpu",
        "a.release < b.release",
        "if ",
        " else { ",
        " == ",
        " != ",
        ";",
    ],
    run: |ctx, input| {
        let path = ctx.write("examples/pass-window/fuzz.rhai", input)?;
        let engine = shared_engine();
        let script = match compile(&engine, &path) {
            Ok(s) => s,
            Err(e) => return Ok(refused(&e)),
        };
        let points: Vec<ExtensionPoint> =
            [ExtensionPoint::Order, ExtensionPoint::Filter, ExtensionPoint::Score, ExtensionPoint::Rebalance]
                .into_iter()
                .filter(|&p| check_entry(&script, p).is_ok())
                .collect();
        if points.is_empty() {
            return Ok(Outcome::Refused {
                signature: "refused: no entry point".into(),
                positioned: true,
                message: "the script defines no entry point".into(),
            });
        }
        let on_error = ["reject-node", "skip-plugin", "fail"][(hash(input) % 3) as usize];
        let yaml = pipeline(&points, on_error);
        let pipeline = ctx.write("examples/pass-window/fuzz-script-pipeline.yaml", yaml.as_bytes())?;
        let overrides = Overrides { pipeline: Some(pipeline), ..Overrides::default() };
        let outcome = run_scenario(ctx, &ctx.scratch.path(BASE), &overrides)?;
        Ok(match outcome {
            Outcome::Ran { signature } => {
                let names: Vec<&str> = points.iter().map(|p| p.as_str()).collect();
                Outcome::Ran { signature: format!("{} {on_error}: {signature}", names.join("+")) }
            }
            other => other,
        })
    },
    cli: &[&["check", "{}"], &["run", BASE, "--pipeline", "{}", "--json", "--quiet"]],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_goes_at_every_point_it_serves() {
        let yaml = pipeline(&[ExtensionPoint::Filter, ExtensionPoint::Rebalance], "fail");
        assert_eq!(yaml.matches("script: fuzz.rhai").count(), 2, "{yaml}");
        assert!(yaml.contains("rebalance:\n  - script: fuzz.rhai"), "{yaml}");
        assert!(!yaml.contains("order:\n  - script"), "{yaml}");
    }
}
