//! `kairos`: run scheduling pipelines against workloads, compare them, explain
//! their decisions, check their files.

mod explain;
mod live;
mod new_plugin;
mod output;
mod policy;
mod render;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kairos_host::architecture::ArchitectureDef;
use kairos_host::pipeline::PipelineDef;
use kairos_host::registry::Registry;
use kairos_host::report::{schedule_rows, Report};
use kairos_host::scenario::{Overrides, Scenario};
use kairos_host::Error;
use output::{err_line, out};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a run failed: a plugin misbehaved (NaN key, score out of range) or output could not be written
  2  bad input: a file is missing or malformed, a flag is wrong, a name is unknown,
     a number is out of its bounds (see Limits in the README)
A reader that goes away (`kairos check x.yaml | head -1`) ends kairos quietly, with
the exit code it would have had.";

/// `kairos --version`: the release and the plugin ABIs this host speaks
/// (`0.1.0 (plugin ABI: kairos-abi 1.0.0, C ABI 1)`).
fn version() -> &'static str {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(|| format!("{} ({})", env!("CARGO_PKG_VERSION"), kairos_host::native::abi_versions()))
}

/// kairos — a scheduling framework: order, filter, score and rebalance plugins
/// in YAML pipelines, simulated against real workloads.
#[derive(Parser)]
#[command(name = "kairos", version = version(), after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct ScenarioArgs {
    /// The scenario file (pipeline + cluster + workload).
    scenario: PathBuf,
    /// Run this pipeline instead of the scenario's.
    #[arg(long, value_name = "FILE")]
    pipeline: Option<PathBuf>,
    /// Read this workload file instead of the scenario's (same format and options).
    #[arg(long, value_name = "FILE")]
    workload: Option<PathBuf>,
    /// Contacts booked per day, for pass-window scenarios (e.g. 800, 1400, 2800).
    #[arg(long, value_name = "N")]
    load: Option<u32>,
}

impl ScenarioArgs {
    fn overrides(&self) -> Overrides {
        Overrides { pipeline: self.pipeline.clone(), workload: self.workload.clone(), load: self.load }
    }
}

/// File formats with a schema.
#[derive(Clone, Copy, clap::ValueEnum)]
enum SchemaKind {
    /// Pipeline files.
    Pipeline,
    /// Scenario files.
    Scenario,
    /// Cluster files.
    Cluster,
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario and print its report.
    #[command(after_help = EXIT_CODES)]
    Run {
        #[command(flatten)]
        args: ScenarioArgs,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
        /// Write one CSV row per job (job,node,start,end,status,reason,revision) to FILE.
        #[arg(long, value_name = "FILE")]
        schedule: Option<PathBuf>,
        /// Never show a progress bar.
        #[arg(long)]
        quiet: bool,
        /// Play the scenario against a scaled wall clock, reloading the pipeline
        /// and its scripts when they change; reloads, status, what scripts print
        /// and scripts or plugins quarantined go to stderr.
        #[arg(long)]
        live: bool,
        /// With --live: simulated seconds per wall second.
        #[arg(long, value_name = "N", default_value_t = live::DEFAULT_SPEED, requires = "live")]
        speed: f64,
    },
    /// Validate pipelines, scenarios or clusters and everything they reference,
    /// call every plugin of the pipeline on sample jobs and nodes, and warn of
    /// job selectors and plugin args that name what the cluster does not have.
    #[command(after_help = EXIT_CODES)]
    Check {
        /// Files to check; the kind is told from their keys.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Treat warnings (a job selector no node matches, an arg naming a
        /// node, station or region the cluster does not have) as errors.
        #[arg(long)]
        strict: bool,
    },
    /// Explain one job: its place in the order, every node's filter verdict,
    /// every score, the decision; the failed calls of scripts and plugins about
    /// it, and what scripts printed about it.
    #[command(after_help = EXIT_CODES)]
    Explain {
        #[command(flatten)]
        args: ScenarioArgs,
        /// The job's id.
        job: String,
        /// Show every attempt, not only the first and the last.
        #[arg(long)]
        all: bool,
    },
    /// Run several pipelines on one scenario and show them side by side.
    #[command(after_help = EXIT_CODES)]
    Compare {
        /// The scenario file.
        scenario: PathBuf,
        /// Pipelines to compare (default with --arch: the scenario's).
        #[arg(required_unless_present = "arch")]
        pipelines: Vec<PathBuf>,
        /// Run each pipeline under this coordination architecture, one column
        /// each: `centralized`, `optimistic[:workers=N,conflict=strict]`,
        /// `sampled[:sample=D,seed=S]`. Repeatable.
        #[arg(long, value_name = "KIND[:K=V,…]")]
        arch: Vec<String>,
        /// Read this workload file instead of the scenario's.
        #[arg(long, value_name = "FILE")]
        workload: Option<PathBuf>,
        /// Contacts booked per day, for pass-window scenarios.
        #[arg(long, value_name = "N")]
        load: Option<u32>,
        /// Print a JSON array of reports.
        #[arg(long)]
        json: bool,
    },
    /// Print a JSON Schema of a file format, for editors.
    #[command(after_help = EXIT_CODES)]
    Schema {
        /// Which format.
        #[arg(value_enum, default_value = "pipeline")]
        kind: SchemaKind,
    },
    /// List the built-in plugins, or (`plugins list PATH…`) what native plugin
    /// libraries offer, or (`plugins new NAME`) start a native plugin crate.
    #[command(after_help = EXIT_CODES)]
    Plugins {
        #[command(subcommand)]
        command: Option<PluginsCommand>,
    },
    /// Work with policy scripts: `kairos policy test` runs their test cases.
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCommand,
    },
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Show the plugins native libraries offer: name, extension point, summary
    /// and args schema. A directory stands for every library in it.
    List {
        /// Library files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Write a native plugin crate that builds and loads: Cargo.toml, a plugin
    /// with its tests, a README and an example pipeline.
    New {
        /// The crate's name (lower-case, e.g. `my-score`); the plugin is
        /// `vendor.NAME` unless --plugin says otherwise.
        name: String,
        /// Where to write it (default `./NAME`); must not exist or be empty.
        dir: Option<PathBuf>,
        /// The plugin's extension point.
        #[arg(long, value_enum, default_value = "score")]
        point: new_plugin::Point,
        /// The plugin's name in pipelines.
        #[arg(long, value_name = "NAME")]
        plugin: Option<String>,
        /// kairos-abi's directory (framework/abi of a kairos checkout, or the
        /// checkout). Default: the kairos-abi this kairos was built from.
        #[arg(long, value_name = "DIR")]
        abi_path: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = e.to_string();
            err_line(&format!("error: {message}"));
            // Print the rest of the chain, skipping causes the message already says.
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                let cause = s.to_string();
                if !message.contains(&cause) {
                    err_line(&format!("  caused by: {cause}"));
                }
                source = s.source();
            }
            ExitCode::from(if e.is_input() { 2 } else { 1 })
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let registry = Registry::builtin();
    match cli.command {
        Command::Run { args, json, schedule, quiet, live, speed } => {
            let sc = Scenario::load(&args.scenario, &args.overrides(), &registry)?;
            let sim = if live {
                live::run(&sc, &registry, speed, err_line)?
            } else {
                let bar = render::progress(sc.jobs.len(), quiet || json);
                let sim = sc.simulate(&sc.pipeline, &registry, |done, _| bar.set_position(done as u64))?;
                bar.finish_and_clear();
                sim
            };
            let report = Report::new(&sc.name, &sim, sc.skipped.len());
            if let Some(path) = schedule {
                write_schedule(&path, &sim, &sc)?;
            }
            if json {
                out(&format!("{}\n", serde_json::to_string_pretty(&report).expect("reports serialize")));
            } else {
                out(&report.render());
            }
            Ok(())
        }
        Command::Check { files, strict } => check(&files, &registry, strict),
        Command::Explain { args, job, all } => {
            let sc = Scenario::load(&args.scenario, &args.overrides(), &registry)?;
            let idx = sc
                .jobs
                .iter()
                .position(|j| j.job.id == job)
                .ok_or_else(|| Error::Usage(format!("no job `{job}` in {}", sc.workload_path.display())))?;
            let mut sim = sc.simulate_traced(&sc.pipeline, &registry, idx as u32)?;
            out(&explain::render(&sc, &mut sim, idx as u32, all));
            Ok(())
        }
        Command::Compare { scenario, pipelines, arch, workload, load, json } => {
            let overrides = Overrides { pipeline: None, workload, load };
            let sc = Scenario::load(&scenario, &overrides, &registry)?;
            let archs = arch.iter().map(|a| ArchitectureDef::parse_flag(a)).collect::<Result<Vec<_>, _>>()?;
            let mut defs = Vec::new();
            for p in &pipelines {
                defs.push(PipelineDef::load(p, &registry)?);
            }
            if defs.is_empty() {
                defs.push(sc.pipeline.clone());
            }
            let mut runs = Vec::new();
            for def in &defs {
                if archs.is_empty() {
                    runs.push((def.name.clone(), def.clone()));
                }
                for a in &archs {
                    let mut def = def.clone();
                    def.architecture = Some(a.clone());
                    let name = if defs.len() == 1 {
                        a.architecture.label()
                    } else {
                        format!("{} [{}]", def.name, a.architecture.label())
                    };
                    runs.push((name, def));
                }
            }
            let mut reports = Vec::new();
            let mut names = Vec::new();
            for (name, def) in runs {
                let bar = render::progress(sc.jobs.len(), json);
                let sim = sc.simulate(&def, &registry, |done, _| bar.set_position(done as u64))?;
                bar.finish_and_clear();
                reports.push(Report::new(&sc.name, &sim, sc.skipped.len()));
                names.push(name);
            }
            if json {
                out(&format!("{}\n", serde_json::to_string_pretty(&reports).expect("reports serialize")));
            } else {
                out(&render::compare(&sc.name, &names, &reports));
            }
            Ok(())
        }
        Command::Schema { kind } => {
            let schema = serde_json::to_string_pretty(&kairos_host::schema::schema(
                match kind {
                    SchemaKind::Pipeline => kairos_host::schema::Kind::Pipeline,
                    SchemaKind::Scenario => kairos_host::schema::Kind::Scenario,
                    SchemaKind::Cluster => kairos_host::schema::Kind::Cluster,
                },
                &registry,
            ))
            .expect("schemas serialize");
            out(&format!("{schema}\n"));
            Ok(())
        }
        Command::Policy { command } => policy::run(command),
        Command::Plugins { command: None } => {
            for spec in registry.specs() {
                out(&format!("{:<10} {:<14} {}\n", spec.point.as_str(), spec.name, spec.summary));
            }
            Ok(())
        }
        Command::Plugins { command: Some(PluginsCommand::List { paths }) } => plugins_list(&paths),
        Command::Plugins { command: Some(PluginsCommand::New { name, dir, point, plugin, abi_path }) } => {
            out(&new_plugin::run(&new_plugin::Options { name, dir, point, plugin, abi_path })?);
            Ok(())
        }
    }
}

fn write_schedule(path: &Path, sim: &kairos_host::sim::SimResult, _sc: &Scenario) -> Result<(), Error> {
    let werr = |e: std::io::Error| Error::Write { path: path.to_owned(), source: e };
    let mut out = String::from("job,node,start,end,status,reason,revision\n");
    for r in schedule_rows(&sim.engine) {
        let field = |s: &str| {
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_owned()
            }
        };
        let t = |t: Option<i64>| t.map_or(String::new(), |t| t.to_string());
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            field(&r.job),
            field(&r.node),
            t(r.start),
            t(r.end),
            r.status,
            field(&r.reason),
            r.revision.map_or(String::new(), |r| r.to_string())
        ));
    }
    std::fs::write(path, out).map_err(werr)
}

/// `kairos check`: each file checked by [`kairos_host::check::file`]; an
/// `ok` line on stdout for each good one, its warnings and notes on stderr,
/// and every error of every bad one. With `strict`, warnings are errors.
fn check(files: &[PathBuf], registry: &Registry, strict: bool) -> Result<(), Error> {
    let mut failed: Vec<Error> = Vec::new();
    for f in files {
        match kairos_host::check::file(f, registry) {
            Ok(c) => {
                for n in &c.notes {
                    err_line(&format!("note: {n}"));
                }
                if strict && !c.warnings.is_empty() {
                    failed.push(Error::Many(c.warnings));
                    continue;
                }
                for w in &c.warnings {
                    err_line(&format!("warning: {w}"));
                }
                out(&format!("ok  {}: {}\n", f.display(), c.summary));
            }
            Err(e) => failed.push(e),
        }
    }
    if failed.iter().any(|e| !e.is_input()) {
        return Err(failed.remove(0));
    }
    let errors: Vec<_> = failed
        .iter()
        .flat_map(|e| {
            let v = e.input_errors();
            if v.is_empty() {
                vec![kairos_host::error::input_error(Path::new("-"), None, Default::default(), e.to_string())]
            } else {
                v
            }
        })
        .collect();
    Error::collect(errors)
}

/// `kairos plugins list`: every library named (or found in a directory named),
/// what it offers; every library that is refused is reported, not only the first.
fn plugins_list(paths: &[PathBuf]) -> Result<(), Error> {
    use kairos_host::native;
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|source| Error::Io { path: p.clone(), source })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == std::env::consts::DLL_EXTENSION))
                .collect();
            found.sort();
            if found.is_empty() {
                errors.push(kairos_host::error::input_error(p, None, Default::default(), "no plugin library here"));
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    for f in &files {
        match native::load(f) {
            Ok(lib) => {
                let mut text = format!("{} ({})\n", f.display(), lib.abi());
                for p in &lib.plugins {
                    text.push_str(&format!("  {:<10} {:<22} {}\n", p.point.as_str(), p.name, p.summary));
                    let schema = serde_json::from_str::<serde_json::Value>(&p.args_schema)
                        .map_or_else(|_| p.args_schema.clone(), |v| v.to_string());
                    text.push_str(&format!("  {:<10} args: {schema}\n", ""));
                }
                out(&text);
            }
            Err(e) => errors.push(kairos_host::error::input_error(f, None, Default::default(), e.to_string())),
        }
    }
    Error::collect(errors)
}

/// "1 node", "3 nodes".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
