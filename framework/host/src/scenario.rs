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
//!   - { at: 36000, node: kiruna-1, action: fail }      # seconds since time 0
//!   - { at: "11:00", node: kiruna-1, action: recover } # or a time of day, or
//!   - { at: "2023-07-05T12:00:00Z", node: kiruna-2, action: fail } # a timestamp (passes)
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
    at: Spanned<EventTime>,
    node: Spanned<String>,
    action: Spanned<Action>,
}

/// When an event happens, as written: seconds since time 0, a time of day
/// (`"10:00"`, `"10:00:30"`; hours past 23 run into the next days), or an
/// RFC 3339 timestamp (`"2023-07-05T10:00:00Z"`) when the workload has a
/// start time.
/// What an event's `at:` may be, for errors.
const EVENT_TIME: &str = "seconds since time 0, a time of day (`10:00`, `10:00:30`) or an RFC 3339 time";

#[derive(Debug)]
enum EventTime {
    Seconds(Time),
    Text(String),
}

impl<'de> Deserialize<'de> for EventTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = EventTime;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(EVENT_TIME)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<EventTime, E> {
                Ok(EventTime::Seconds(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<EventTime, E> {
                Time::try_from(v).map(EventTime::Seconds).map_err(|_| E::custom(format!("{v} seconds is too far")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<EventTime, E> {
                Ok(EventTime::Text(v.to_owned()))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl EventTime {
    /// Seconds since time 0; `origin` is the workload's start time, if any.
    fn seconds(&self, origin: Option<jiff::Timestamp>) -> Result<Time, String> {
        let t = self.unbounded_seconds(origin)?;
        kairos_model::limits::time(t).map_err(|_| {
            format!(
                "an event time must be within {} seconds (100 years) of time 0, got {t}",
                kairos_model::limits::MAX_TIME
            )
        })
    }

    fn unbounded_seconds(&self, origin: Option<jiff::Timestamp>) -> Result<Time, String> {
        let text = match self {
            EventTime::Seconds(s) if *s >= 0 => return Ok(*s),
            EventTime::Seconds(s) => return Err(format!("an event time cannot be negative, got {s}")),
            EventTime::Text(t) => t.trim(),
        };
        let parts: Vec<&str> = text.split(':').collect();
        if (2..=3).contains(&parts.len())
            && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            let n: Vec<i64> = parts.iter().map(|p| p.parse().unwrap_or(i64::MAX)).collect();
            let (h, m, sec) = (n[0], n[1], n.get(2).copied().unwrap_or(0));
            if m >= 60 || sec >= 60 || h > 24 * 366 {
                return Err(format!("`{text}` is not a time of day: minutes and seconds run 0–59"));
            }
            return Ok(h * 3600 + m * 60 + sec);
        }
        match text.parse::<jiff::Timestamp>() {
            Ok(ts) => {
                let Some(o) = origin else {
                    return Err(format!(
                        "`{text}` is a timestamp, but this workload has no start time (only `format: passes` has one); give seconds or a time of day"
                    ));
                };
                let s = ts.duration_since(o).as_secs();
                if s < 0 {
                    return Err(format!("`{text}` is before the workload's start, {o}"));
                }
                Ok(s)
            }
            Err(_) => Err(format!("expected {EVENT_TIME}, got `{text}`")),
        }
    }
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
            let problem = if !p.exists() {
                "does not exist"
            } else if !crate::input::is_regular_file(p) {
                "is not a regular file (a directory, a device or a pipe)"
            } else {
                continue;
            };
            if overridden {
                errors.push(input_error(
                    p,
                    None,
                    Pos::default(),
                    format!("{what} file given on the command line {problem}"),
                ));
            } else {
                errors.push(at(pos, format!("{what} file {} {problem}", p.display())));
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
        if let Some(l) = overrides.load.filter(|&l| l > kairos_model::limits::MAX_LOAD_PER_DAY) {
            return Err(Error::Usage(format!(
                "--load must be at most {} contacts a day, got {l}",
                kairos_model::limits::MAX_LOAD_PER_DAY
            )));
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
            let when = e.at.value.seconds(origin).map_err(|m| errors.push(at(Pos::of(&e.at), m)));
            match cluster.nodes.names.iter().position(|n| *n == e.node.value) {
                Some(n) => {
                    if let Ok(t) = when {
                        events.push(NodeEvent { at: t, node: n as u32, up: e.action.value == Action::Recover })
                    }
                }
                None => errors.push(at(Pos::of(&e.node), format!("unknown node `{}` in events", e.node.value))),
            }
        }
        Error::collect(errors)?;

        let pipeline = PipelineDef::load(&pipeline_path, registry)?;
        // Build once now so that resource names in args are checked against the cluster.
        pipeline.build(registry, &cluster.resources, &mut cluster.symbols.clone())?;
        let name = file
            .name
            .unwrap_or_else(|| path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned()));
        Ok(Scenario {
            name: title(name, path, overrides),
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

    /// Simulates with the trace of one job recorded (for `explain`), with the
    /// failed calls and printed lines of scripts and plugins about it.
    pub fn simulate_traced(&self, def: &PipelineDef, registry: &Registry, job: u32) -> Result<SimResult, Error> {
        let mut engine = self.engine(def, registry)?;
        engine.trace(job);
        if let Some(spec) = self.jobs.get(job as usize) {
            engine.follow(&spec.job.id);
        }
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

/// The name a run of scenario `name` (file `path`) goes by: a workload given
/// on the command line replaces the scenario's own, whose name (often a date)
/// would then say something that was not run.
fn title(name: String, path: &Path, overrides: &Overrides) -> String {
    let mut title = match &overrides.workload {
        Some(w) => format!("{} with workload {}", path.display(), w.display()),
        None => name,
    };
    if let Some(load) = overrides.load {
        title.push_str(&format!(", {load} contacts/day"));
    }
    title
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workload_or_load_from_the_command_line_renames_the_run() {
        let path = Path::new("ex/scenario.yaml");
        let with =
            |workload: Option<&str>, load| Overrides { workload: workload.map(PathBuf::from), load, pipeline: None };
        let cases = [
            ("no override keeps the scenario's name", with(None, None), "pass-window 2023-07-05"),
            (
                "another workload names the scenario file and the workload, not the scenario's date",
                with(Some("other/passes_2024-01-01.csv"), None),
                "ex/scenario.yaml with workload other/passes_2024-01-01.csv",
            ),
            ("a load is added to the name", with(None, Some(2800)), "pass-window 2023-07-05, 2800 contacts/day"),
            ("both are said", with(Some("w.csv"), Some(800)), "ex/scenario.yaml with workload w.csv, 800 contacts/day"),
        ];
        for (case, overrides, want) in cases {
            assert_eq!(title("pass-window 2023-07-05".into(), path, &overrides), want, "{case}");
        }
    }

    #[test]
    fn an_event_time_reads_as_seconds_a_time_of_day_or_a_timestamp() {
        let origin: jiff::Timestamp = "2023-07-05T00:00:00Z".parse().unwrap();
        let text = |t: &str| EventTime::Text(t.to_owned());
        /// (case, what is written, the workload's start, seconds or the error's start)
        type Case = (&'static str, EventTime, Option<jiff::Timestamp>, Result<Time, &'static str>);
        let cases: [Case; 12] = [
            ("seconds", EventTime::Seconds(36_000), None, Ok(36_000)),
            ("hours and minutes", text("10:00"), None, Ok(36_000)),
            ("with seconds", text("10:00:30"), None, Ok(36_030)),
            ("past midnight, into the next day", text("26:15"), None, Ok(94_500)),
            ("a timestamp from the workload's start", text("2023-07-05T14:00:00Z"), Some(origin), Ok(50_400)),
            ("a timestamp with an offset", text("2023-07-05T16:00:00+02:00"), Some(origin), Ok(50_400)),
            ("negative seconds", EventTime::Seconds(-5), None, Err("an event time cannot be negative, got -5")),
            (
                "seconds past a century",
                EventTime::Seconds(i64::MAX),
                None,
                Err("an event time must be within 3155760000 seconds (100 years) of time 0, got 9223372036854775807"),
            ),
            (
                "a timestamp a thousand years on",
                text("3023-07-05T14:00:00Z"),
                Some(origin),
                Err("an event time must be within"),
            ),
            ("sixty minutes", text("10:60"), None, Err("`10:60` is not a time of day: minutes and seconds run 0–59")),
            (
                "a timestamp without a start time",
                text("2023-07-05T14:00:00Z"),
                None,
                Err("`2023-07-05T14:00:00Z` is a timestamp, but this workload has no start time"),
            ),
            (
                "words",
                text("noon"),
                None,
                Err("expected seconds since time 0, a time of day (`10:00`, `10:00:30`) or an RFC 3339 time, got `noon`"),
            ),
        ];
        for (case, at, origin, want) in cases {
            match (at.seconds(origin), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{case}"),
                (Err(got), Err(want)) => assert!(got.starts_with(want), "{case}: {got}"),
                (got, want) => panic!("{case}: got {got:?}, want {want:?}"),
            }
        }
    }
}
