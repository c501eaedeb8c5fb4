//! Scenarios: a pipeline, a cluster and a workload, tied together.
//!
//! ```yaml
//! name: pass-window at 1,400 passes/day
//! pipeline: pipeline.yaml          # paths are relative to this file
//! cluster: cluster.yaml
//! workload:
//!   path: data/passes_2023-07-05.csv
//!   format: passes                 # csv | yaml | swf | passes; default from the extension
//!   passes: { load_per_day: 1400 } # options of the `passes` format
//!   swf: { cpu_resource: cpu }     # options of the `swf` format
//! events:                          # optional node failures and recoveries
//!   - { at: 36000, node: kiruna-1, action: fail }
//!   - { at: 39600, node: kiruna-1, action: recover }
//! ```
//!
//! Loading order: the cluster (resources, priority classes, nodes), then the
//! workload checked against it, then the pipeline built against both.

use std::path::{Path, PathBuf};

use kairos_model::Time;
use serde::Deserialize;

use crate::cluster::Cluster;
use crate::engine::Engine;
use crate::error::{input_error, Error, InputError, Pos};
use crate::pipeline::PipelineDef;
use crate::registry::Registry;
use crate::sim::{simulate, NodeEvent, SimResult};
use crate::workload::passes::{self, PassOptions};
use crate::workload::{self, JobSpec, Skipped, WorkloadSource};
use crate::yaml::{self, Spanned};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    pipeline: Spanned<String>,
    cluster: Spanned<String>,
    workload: WorkloadFile,
    #[serde(default)]
    events: Vec<EventFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadFile {
    path: Spanned<String>,
    #[serde(default)]
    format: Option<Spanned<FormatName>>,
    #[serde(default)]
    passes: Option<Spanned<PassOptions>>,
    #[serde(default)]
    swf: Option<Spanned<serde_json::Value>>,
}

/// Workload formats a scenario may name.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FormatName {
    /// The project's CSV.
    Csv,
    /// The project's YAML.
    Yaml,
    /// Standard Workload Format.
    Swf,
    /// Satellite pass windows.
    Passes,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventFile {
    at: Spanned<Time>,
    node: Spanned<String>,
    action: Spanned<Action>,
}

/// What happens to a node.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The node fails: its jobs are re-queued.
    Fail,
    /// The node recovers.
    Recover,
}

/// Command-line overrides of a scenario.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Run this pipeline instead of the scenario's.
    pub pipeline: Option<PathBuf>,
    /// Read this workload file instead (same format and options).
    pub workload: Option<PathBuf>,
    /// Contacts a day, for a `passes` workload.
    pub load: Option<u32>,
}

/// A loaded and checked scenario.
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// The scenario file.
    pub path: PathBuf,
    /// The pipeline (the scenario's, or the override).
    pub pipeline: PipelineDef,
    /// The cluster, with the workload's names interned.
    pub cluster: Cluster,
    /// The jobs, in workload order.
    pub jobs: Vec<JobSpec>,
    /// Trace rows that could not become jobs.
    pub skipped: Vec<Skipped>,
    /// Node events.
    pub events: Vec<NodeEvent>,
    /// The workload file.
    pub workload_path: PathBuf,
    /// The wall-clock time of simulated time 0, when the workload has one.
    pub origin: Option<jiff::Timestamp>,
}

impl Scenario {
    /// Loads the scenario at `path` and everything it references.
    pub fn load(path: &Path, overrides: &Overrides, registry: &Registry) -> Result<Scenario, Error> {
        let (file, text): (ScenarioFile, String) = yaml::load(path)?;
        let at = |p: Pos, m: String| input_error(path, Some(&text), p, m);
        let mut errors: Vec<InputError> = Vec::new();

        let cluster_path = yaml::resolve(path, &file.cluster.value);
        let pipeline_path = match &overrides.pipeline {
            Some(p) => p.clone(),
            None => yaml::resolve(path, &file.pipeline.value),
        };
        let workload_path = match &overrides.workload {
            Some(p) => p.clone(),
            None => yaml::resolve(path, &file.workload.path.value),
        };
        // Missing files are reported at the line that names them.
        for (what, p, pos, overridden) in [
            ("cluster", &cluster_path, Pos::of(&file.cluster), false),
            ("pipeline", &pipeline_path, Pos::of(&file.pipeline), overrides.pipeline.is_some()),
            ("workload", &workload_path, Pos::of(&file.workload.path), overrides.workload.is_some()),
        ] {
            if !p.exists() {
                let m = format!("{what} file {} does not exist", p.display());
                if overridden {
                    errors.push(input_error(
                        p,
                        None,
                        Pos::default(),
                        format!("{what} file given on the command line does not exist"),
                    ));
                } else {
                    errors.push(at(pos, m));
                }
            }
        }
        Error::collect(std::mem::take(&mut errors))?;

        let mut cluster = Cluster::load(&cluster_path)?;
        let format = match &file.workload.format {
            Some(f) => f.value,
            None => match workload::detect(&workload_path)? {
                workload::Format::Csv => FormatName::Csv,
                workload::Format::Yaml => FormatName::Yaml,
                workload::Format::Swf => FormatName::Swf,
            },
        };
        if file.workload.passes.is_some() && format != FormatName::Passes {
            let p = file.workload.passes.as_ref().map(Pos::of).unwrap_or_default();
            return Err(Error::Input(at(p, "`passes:` options apply only to `format: passes`".into())));
        }
        if overrides.load.is_some() && format != FormatName::Passes {
            return Err(Error::Usage("--load applies only to scenarios whose workload has `format: passes`".into()));
        }
        let mut origin = None;
        let (jobs, skipped) = match format {
            FormatName::Passes => {
                let (mut opts, pos) = match &file.workload.passes {
                    Some(o) => (o.value.clone(), Pos::of(o)),
                    None => (PassOptions::default(), Pos::of(&file.workload.path)),
                };
                if let Some(l) = overrides.load {
                    opts.load_per_day = Some(l);
                }
                let (list, t0) = passes::read_passes(&workload_path)?;
                origin = Some(t0);
                (passes::to_jobs(&list, &opts, &mut cluster, pos, path, Some(&text))?, Vec::new())
            }
            other => {
                let source = match other {
                    FormatName::Csv => WorkloadSource::Csv { path: workload_path.clone() },
                    FormatName::Yaml => WorkloadSource::Yaml { path: workload_path.clone() },
                    _ => {
                        let options = match &file.workload.swf {
                            Some(v) => serde_json::from_value(v.value.clone())
                                .map_err(|e| Error::Input(at(Pos::of(v), format!("invalid `swf` options: {e}"))))?,
                            None => Default::default(),
                        };
                        WorkloadSource::Swf { path: workload_path.clone(), options }
                    }
                };
                // Option errors (not tied to a line of the trace) point at the
                // scenario's `swf:` options.
                let swf_pos = file.workload.swf.as_ref().map_or(Pos::of(&file.workload.path), Pos::of);
                let w = workload::load(&source, &mut cluster).map_err(|e| match e {
                    Error::Usage(m) => Error::Input(at(swf_pos, m)),
                    other => other,
                })?;
                (w.jobs, w.skipped)
            }
        };

        let mut events = Vec::new();
        for e in &file.events {
            match cluster.nodes.names.iter().position(|n| *n == e.node.value) {
                Some(n) => {
                    events.push(NodeEvent { at: e.at.value, node: n as u32, up: e.action.value == Action::Recover })
                }
                None => errors.push(at(Pos::of(&e.node), format!("unknown node `{}` in events", e.node.value))),
            }
        }
        Error::collect(errors)?;

        let pipeline = PipelineDef::load(&pipeline_path, registry)?;
        // Build once now so that resource names in args are checked against the cluster.
        pipeline.build(registry, &cluster.resources, &mut cluster.symbols.clone())?;
        Ok(Scenario {
            name: file
                .name
                .unwrap_or_else(|| path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned())),
            description: file.description,
            path: path.to_owned(),
            pipeline,
            cluster,
            jobs,
            skipped,
            events,
            workload_path,
            origin,
        })
    }

    /// A fresh engine for `def` over this scenario's cluster.
    pub fn engine(&self, def: &PipelineDef, registry: &Registry) -> Result<Engine, Error> {
        let mut symbols = self.cluster.symbols.clone();
        let pipeline = def.build(registry, &self.cluster.resources, &mut symbols)?;
        Ok(Engine::new(
            std::sync::Arc::new(pipeline),
            self.cluster.nodes.clone(),
            self.cluster.resources.clone(),
            symbols,
        ))
    }

    /// Simulates this scenario with `def`.
    pub fn simulate(
        &self,
        def: &PipelineDef,
        registry: &Registry,
        progress: impl FnMut(usize, usize),
    ) -> Result<SimResult, Error> {
        let engine = self.engine(def, registry)?;
        simulate(engine, self.jobs.clone(), &self.events, progress)
    }

    /// Simulates with the trace of one job recorded (for `explain`).
    pub fn simulate_traced(&self, def: &PipelineDef, registry: &Registry, job: u32) -> Result<SimResult, Error> {
        let mut engine = self.engine(def, registry)?;
        engine.trace(job);
        simulate(engine, self.jobs.clone(), &self.events, |_, _| {})
    }

    /// Formats simulated time `t` as a UTC time when the workload has an origin.
    pub fn clock(&self, t: Time) -> String {
        match self.origin {
            Some(o) => match o.checked_add(jiff::SignedDuration::from_secs(t)) {
                Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
                Err(_) => format!("t={t}s"),
            },
            None => format!("t={t}s"),
        }
    }
}
