//! Native plugin verdicts: a library whose every returned value is read from
//! the input (`kairos-fuzz-plugin`), called through the host's adapter.

use std::fmt::Write as _;

use kairos_host::scenario::Overrides;

use super::files::run_scenario;
use super::Target;
use crate::{Finding, Kind, Outcome};

/// The fixture scenario the plugins run in: twelve jobs on four nodes, one of
/// which fails at t=2000.
const SCENARIO: &str = "tests/fixtures/scenario.yaml";

/// The pipeline for a tape. Its first byte says which plugins take part (bit 0:
/// an order plugin, bit 1: the partition-scoped one instead, bit 2: filter,
/// bit 3: score, bit 4: rebalance, bit 5: the built-in `fit` filter too) and,
/// in its top two bits, every entry's `on_error`; the whole tape is every
/// plugin's `tape` arg.
pub fn pipeline(library: &str, tape: &[u8]) -> String {
    let b0 = tape.first().copied().unwrap_or(0xff);
    let on_error = ["reject-node", "skip-plugin", "fail", "reject-node"][usize::from(b0 >> 6)];
    let hex: String = tape.iter().fold(String::with_capacity(tape.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    let entry = |plugin: &str| {
        format!(
            "  - native: {{ library: \"{library}\", plugin: {plugin} }}\n    args: {{ tape: \"{hex}\" }}\n    on_error: {on_error}\n"
        )
    };
    let mut yaml = String::from("name: fuzz native\n");
    if b0 & 1 != 0 {
        yaml.push_str("order:\n");
        yaml.push_str(&entry(if b0 & 2 != 0 { "fuzz.partition" } else { "fuzz.order" }));
    }
    if b0 & 0b10_0100 != 0 {
        yaml.push_str("filter:\n");
        if b0 & 0b10_0000 != 0 {
            yaml.push_str("  - plugin: fit\n");
        }
        if b0 & 0b100 != 0 {
            yaml.push_str(&entry("fuzz.filter"));
        }
    }
    if b0 & 0b1000 != 0 {
        yaml.push_str("score:\n");
        yaml.push_str(&entry("fuzz.score"));
    }
    if b0 & 0b1_0000 != 0 {
        yaml.push_str("rebalance:\n");
        yaml.push_str(&entry("fuzz.rebalance"));
    }
    yaml
}

/// `native`: the tape drives a filter, a score, an order (plain or
/// partition-scoped) and a rebalance plugin in the fixture scenario.
pub(super) const NATIVE: Target = Target {
    name: "native",
    about: "byte tape: every verdict, resource index, score, key and move a native plugin returns",
    binary: true,
    dictionary: &[],
    run: |ctx, input| {
        let Some(library) = &ctx.plugin else {
            return Err(Finding::new(
                Kind::Harness,
                "harness: the fuzz plugin library is missing; build it with `cargo build -p kairos-fuzz-plugin` or set KAIROS_FUZZ_PLUGIN",
            ));
        };
        let yaml = pipeline(&library.display().to_string(), input);
        let path = ctx.write("tests/fixtures/fuzz-native.yaml", yaml.as_bytes())?;
        let overrides = Overrides { pipeline: Some(path), ..Overrides::default() };
        let outcome = run_scenario(ctx, &ctx.scratch.path(SCENARIO), &overrides)?;
        Ok(match outcome {
            Outcome::Ran { signature } => {
                Outcome::Ran { signature: format!("{:06b}: {signature}", input.first().copied().unwrap_or(0xff) & 63) }
            }
            other => other,
        })
    },
    cli: &[&["run", SCENARIO, "--pipeline", "{}", "--json", "--quiet"]],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_byte_picks_the_plugins_and_on_error() {
        // (case, first byte, what the pipeline has, what it has not)
        let cases: [(&str, u8, &[&str], &[&str]); 3] = [
            (
                "every plugin, plain order, reject-node",
                0b0011_1101,
                &["fuzz.order", "fuzz.filter", "fuzz.score", "fuzz.rebalance", "plugin: fit", "on_error: reject-node"],
                &["fuzz.partition"],
            ),
            (
                "partition-scoped order alone, skip-plugin",
                0b0100_0011,
                &["fuzz.partition", "on_error: skip-plugin"],
                &["fuzz.filter", "filter:"],
            ),
            ("score alone, fail", 0b1000_1000, &["fuzz.score", "on_error: fail"], &["order:", "rebalance:"]),
        ];
        for (case, b0, has, has_not) in cases {
            let yaml = pipeline("lib.so", &[b0, 0xab]);
            for h in has {
                assert!(yaml.contains(h), "{case}: {h} missing from\n{yaml}");
            }
            for h in has_not {
                assert!(!yaml.contains(h), "{case}: {h} in\n{yaml}");
            }
            assert!(yaml.contains(&format!("{b0:02x}ab")), "{case}: the tape is every plugin's arg");
        }
    }
}
