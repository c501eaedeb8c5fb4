//! Policy-test files (`NAME.test.yaml`), run as `kairos policy test` runs them.

use kairos_host::script::policy_test::PolicyTests;
use kairos_host::script::strict_engine;

use super::{hash, Target};
use crate::oracle::refused;
use crate::scratch::Scratch;
use crate::{Finding, Kind, Outcome};

/// The scripts a test file may test, by name: the repository's policies and the
/// two fixture policies.
const SCRIPTS: [&str; 8] = [
    "policies/antenna-band.rhai",
    "policies/drain-node.rhai",
    "policies/prefer-warm.rhai",
    "policies/site-aging.rhai",
    "policies/station-maintenance.rhai",
    "policies/tenant-region.rhai",
    "tests/fixtures/policy/score.rhai",
    "tests/fixtures/policy/window.rhai",
];

/// The script an input tests: `# script: NAME` on its first line (NAME as in
/// [`SCRIPTS`], or its file stem), else one chosen by the input's hash.
fn script_for(input: &[u8]) -> &'static str {
    let first = input.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let first = String::from_utf8_lossy(first);
    if let Some(name) = first.trim().strip_prefix("# script:").map(str::trim) {
        if let Some(s) = SCRIPTS.iter().find(|s| **s == name || s.rsplit('/').next() == Some(&format!("{name}.rhai"))) {
            return s;
        }
    }
    SCRIPTS[(hash(input) % SCRIPTS.len() as u64) as usize]
}

/// `policy-test`: a test file beside one of the known scripts, loaded in the
/// strict sandbox and every case run twice (same results both times).
pub(super) const POLICY_TEST: Target = Target {
    name: "policy-test",
    about: "policy-test YAML (first line `# script: NAME` picks the script): loaded, every case run twice",
    binary: false,
    dictionary: &[
        "args:",
        "cases:",
        "- name: c\n",
        "point:",
        "filter",
        "score",
        "order",
        "rebalance",
        "now:",
        "job:",
        "jobs:",
        "node:",
        "nodes:",
        "run:",
        "started:",
        "expected_end:",
        "expect:",
        "pass",
        "reject",
        "stay",
        "relocate",
        "{ reason: maintenance, permanent: true }",
        "{ score: 50 }",
        "{ key: 1 }",
        "{ order: [a, b] }",
        "{ migrate: n2 }",
        "{ evict: drain }",
        "{ error: x }",
        "id:",
        "tenant:",
        "group:",
        "class:",
        "priority:",
        "release:",
        "deadline:",
        "hard:",
        "estimate:",
        "request:",
        "labels:",
        "selector:",
        "name:",
        "region:",
        "zone:",
        "capacity:",
        "reserve:",
        "used:",
        "running:",
        "station: Kiruna-Esrange",
        "{ cpu: 4 }",
        "windows:",
        "from:",
        "to:",
        "bands:",
        "drains:",
    ],
    run: |ctx, input| {
        let script = script_for(input);
        let source = Scratch::original(script).unwrap_or("");
        ctx.write("policies/fuzz.rhai", source.as_bytes())?;
        let path = ctx.write("policies/fuzz.test.yaml", input)?;
        let engine = strict_engine();
        let tests = match PolicyTests::load(&path, &engine) {
            Ok(t) => t,
            Err(e) => return Ok(refused(&e)),
        };
        let results = tests.run();
        let (a, b) = (format!("{results:?}"), format!("{:?}", tests.run()));
        if a != b {
            return Err(Finding::new(
                Kind::Nondeterminism,
                format!("two runs of the cases differ:\n  {a:.300}\n  {b:.300}"),
            ));
        }
        let passed = results.iter().filter(|r| r.passed()).count();
        let errors =
            results.iter().filter(|r| matches!(r.got, kairos_host::script::policy_test::Got::Error(_))).count();
        Ok(Outcome::Ran {
            signature: format!("cases: passed={} failed={} errors={}", passed > 0, passed < results.len(), errors > 0),
        })
    },
    cli: &[&["policy", "test", "{}"]],
};
