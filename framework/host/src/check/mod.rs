//! `kairos check`: what a run would refuse or fail on, found before the run.
//!
//! [`file()`] checks one file in four steps:
//!
//! 1. **What it is**, told from its top-level keys ([`kind_of`]): a scenario
//!    (`pipeline`, `cluster`, `workload`, `events`), a cluster (`resources`,
//!    `nodes`, `priority_classes`) or a pipeline (`order`, `filter`, `score`,
//!    `rebalance`, `plugin_dirs`, `architecture`). An empty file, or one with
//!    none of these keys (a scenario cut to `name:`), is an error: there is
//!    nothing to say "ok" about. Workload files are checked through the
//!    scenario that names them.
//! 2. **Loaded as a run loads it**: every error of the file and of everything
//!    it references, each with `file:line:column`.
//! 3. **Its plugins called** ([`probe()`]): every entry point of the pipeline —
//!    built-in, script or native — on sample jobs and nodes of the scenario's
//!    own cluster and workload ([`samples`]), or on a synthetic sample for a
//!    pipeline checked alone. A failing call is an error at its entry.
//! 4. **The label contract** ([`labels`], scenarios only): a job selector that
//!    no node of the cluster matches, and a plugin arg naming a node, station
//!    or region the cluster does not have, are warnings, each naming the
//!    nearest existing value (`--strict` makes them errors).

pub mod labels;
pub mod probe;
pub mod samples;

use std::collections::BTreeMap;
use std::path::Path;

use kairos_model::ExtensionPoint;

use crate::cluster::Cluster;
use crate::error::{Error, InputError, Pos};
use crate::pipeline::PipelineDef;
use crate::registry::Registry;
use crate::scenario::{Overrides, Scenario};

pub use probe::{probe, Probed};
pub use samples::Samples;

/// What a checked file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A pipeline file.
    Pipeline,
    /// A scenario file.
    Scenario,
    /// A cluster file.
    Cluster,
}

/// Top-level keys that make a file a scenario.
const SCENARIO_KEYS: [&str; 4] = ["pipeline", "cluster", "workload", "events"];
/// Top-level keys that make a file a cluster.
const CLUSTER_KEYS: [&str; 3] = ["resources", "nodes", "priority_classes"];
/// Top-level keys that make a file a pipeline.
const PIPELINE_KEYS: [&str; 6] = ["order", "filter", "score", "rebalance", "plugin_dirs", "architecture"];

/// What the YAML `text` of `path` is, told from its top-level keys (step 1 of
/// the module docs).
pub fn kind_of(path: &Path, text: &str) -> Result<Kind, Error> {
    let keys: Option<BTreeMap<String, serde::de::IgnoredAny>> = crate::yaml::parse(path, text)?;
    let keys = keys.unwrap_or_default();
    let has = |set: &[&str]| set.iter().any(|k| keys.contains_key(*k));
    if has(&SCENARIO_KEYS) {
        return Ok(Kind::Scenario);
    }
    if has(&CLUSTER_KEYS) {
        return Ok(Kind::Cluster);
    }
    if has(&PIPELINE_KEYS) {
        return Ok(Kind::Pipeline);
    }
    const EXPECTED: &str = "expected a pipeline (`order`, `filter`, `score`, `rebalance`), a scenario (`pipeline`, `cluster`, `workload`) or a cluster (`resources`, `nodes`)";
    let message = if keys.contains_key("jobs") {
        "a workload is checked against its cluster: run `kairos check` on a scenario that names it".to_owned()
    } else if keys.is_empty() {
        format!("empty file: {EXPECTED}")
    } else {
        let found: Vec<String> = keys.keys().map(|k| format!("`{k}`")).collect();
        format!("cannot tell what this file is from its keys {}: {EXPECTED}", found.join(", "))
    };
    Err(Error::at(path, Some(text), first_key(text), message))
}

/// Where the first top-level key of a YAML text is (1:1 when it has none).
fn first_key(text: &str) -> Pos {
    text.lines()
        .position(|l| !l.starts_with([' ', '\t', '#', '-']) && l.contains(':'))
        .map_or(Pos::new(1, 1), |i| Pos::new(i as u64 + 1, 1))
}

/// What checking a file found, when it found no error.
#[derive(Debug)]
pub struct Checked {
    /// What the file is.
    pub kind: Kind,
    /// One line about it: "scenario `tiny`: 4 nodes, 12 jobs, …".
    pub summary: String,
    /// Things that are not errors but probably mistakes (the label contract);
    /// `--strict` makes them errors.
    pub warnings: Vec<InputError>,
    /// What the check could not do (an entry no sample reached).
    pub notes: Vec<InputError>,
}

/// Checks the file at `path` (see the module docs).
pub fn file(path: &Path, registry: &Registry) -> Result<Checked, Error> {
    let name = path.to_string_lossy().to_lowercase();
    if [".csv", ".swf", ".gz"].iter().any(|x| name.ends_with(x)) {
        return Err(Error::at(
            path,
            None,
            Pos::default(),
            "a workload is checked against its cluster: run `kairos check` on a scenario that names it",
        ));
    }
    let text = crate::yaml::read(path)?;
    match kind_of(path, &text)? {
        Kind::Scenario => scenario(path, registry),
        Kind::Cluster => {
            let c = Cluster::parse(path, &text)?;
            let summary =
                format!("cluster: {}, resources {}", plural(c.nodes.len(), "node"), c.resources.names().join(", "));
            Ok(Checked { kind: Kind::Cluster, summary, warnings: Vec::new(), notes: Vec::new() })
        }
        Kind::Pipeline => {
            let p = PipelineDef::parse(path, text, registry)?;
            let probed = probe(&p, registry, &Samples::synthetic(&p.resources_named(registry)))?;
            let count = |pt| p.entries(pt).count();
            let summary = format!(
                "pipeline `{}`: {} order, {} filter, {} score, {} rebalance plugins{}",
                p.name,
                count(ExtensionPoint::Order),
                count(ExtensionPoint::Filter),
                count(ExtensionPoint::Score),
                count(ExtensionPoint::Rebalance),
                called(&p, &probed, "a synthetic sample (2 jobs, 1 node)")
            );
            Ok(Checked { kind: Kind::Pipeline, summary, warnings: Vec::new(), notes: probed.notes })
        }
    }
}

fn scenario(path: &Path, registry: &Registry) -> Result<Checked, Error> {
    let sc = Scenario::load(path, &Overrides::default(), registry)?;
    let samples = Samples::of(&sc.cluster, &sc.jobs);
    let probed = probe(&sc.pipeline, registry, &samples)?;
    let skipped =
        if sc.skipped.is_empty() { String::new() } else { format!(", {} trace rows skipped", sc.skipped.len()) };
    let summary = format!(
        "scenario `{}`: {}, {}{skipped}, pipeline `{}`, {}{}",
        sc.name,
        plural(sc.cluster.nodes.len(), "node"),
        plural(sc.jobs.len(), "job"),
        sc.pipeline.name,
        plural(sc.events.len(), "node event"),
        called(&sc.pipeline, &probed, &samples.origin)
    );
    let warnings = labels::check(&sc);
    Ok(Checked { kind: Kind::Scenario, summary, warnings, notes: probed.notes })
}

/// "; 6 plugins called on 3 sample jobs and 4 nodes of the scenario" (nothing
/// for a pipeline without plugins).
fn called(p: &PipelineDef, probed: &Probed, on: &str) -> String {
    match (p.entries.len(), probed.entries) {
        (0, _) => String::new(),
        (all, n) if n == all => format!("; {} called on {on}", plural(all, "plugin")),
        (all, n) => format!("; {n} of {} called on {on}", plural(all, "plugin")),
    }
}

/// "1 node", "3 nodes".
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests;
