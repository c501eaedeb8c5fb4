//! `kairos-fuzz`: runs the fuzz targets of kairos.
//!
//! ```sh
//! cargo build --release -p kairos-fuzz -p kairos-fuzz-plugin -p kairos-cli
//! target/release/kairos-fuzz run all --minutes 30 --cli target/release/kairos
//! target/release/kairos-fuzz run native --iterations 5000 --seed 7
//! target/release/kairos-fuzz repro native fuzz/artifacts/native/panic-….in
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use kairos_fuzz::driver::{self, Options};
use kairos_fuzz::targets::{self, Ctx, Target};
use kairos_fuzz::worker::{self, WorkerOptions};
use kairos_fuzz::Outcome;

/// The fuzz harness of kairos (see fuzz/README in the repository's README, "Reliability").
#[derive(Parser)]
#[command(name = "kairos-fuzz", version, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

const EXIT_CODES: &str = "\
Exit codes:
  0  no new finding (findings the issue already names are reported, not counted)
  1  a new finding
  2  bad usage (an unknown target, a missing plugin library)";

#[derive(Subcommand)]
enum Cmd {
    /// Lists the targets.
    List,
    /// Fuzzes targets (`all` for every one, one after another).
    Run {
        /// Targets, or `all`.
        #[arg(required = true)]
        targets: Vec<String>,
        /// Minutes per target.
        #[arg(long, conflicts_with_all = ["seconds", "iterations"])]
        minutes: Option<f64>,
        /// Seconds per target.
        #[arg(long, conflicts_with = "iterations")]
        seconds: Option<f64>,
        /// Executions per target (seeds included): a repeatable run.
        #[arg(long)]
        iterations: Option<u64>,
        /// Seed of the mutations.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Time limit of one input, seconds: past it the input is a hang.
        #[arg(long, default_value_t = 10.0)]
        timeout: f64,
        /// Seed corpus root (a directory per target).
        #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus"))]
        corpus: PathBuf,
        /// Save inputs with new outcomes under DIR/TARGET.
        #[arg(long, value_name = "DIR")]
        save_corpus: Option<PathBuf>,
        /// Save inputs that cause findings under DIR/TARGET.
        #[arg(long, value_name = "DIR", default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/artifacts"))]
        artifacts: PathBuf,
        /// Do not save inputs that cause findings.
        #[arg(long)]
        no_artifacts: bool,
        /// A `kairos` binary: also run it on some inputs (see --cli-every).
        #[arg(long, value_name = "KAIROS")]
        cli: Option<PathBuf>,
        /// With --cli: run the binary on every N-th input.
        #[arg(long, default_value_t = 25)]
        cli_every: u64,
        /// The kairos-fuzz-plugin library (default: $KAIROS_FUZZ_PLUGIN, or beside this binary).
        #[arg(long)]
        plugin: Option<PathBuf>,
        /// Address-space limit of the worker, MiB.
        #[arg(long, default_value_t = 4096)]
        mem_limit_mb: u64,
        /// Longest input the mutator makes, bytes.
        #[arg(long, default_value_t = 64 * 1024)]
        max_len: usize,
        /// No progress lines on stderr.
        #[arg(long)]
        quiet: bool,
    },
    /// Runs inputs (files) through a target once each and prints what happened.
    Repro {
        /// The target.
        target: String,
        /// Input files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// The kairos-fuzz-plugin library.
        #[arg(long)]
        plugin: Option<PathBuf>,
        /// A `kairos` binary to run on each input too.
        #[arg(long, value_name = "KAIROS")]
        cli: Option<PathBuf>,
        /// Address-space limit of this process, MiB (an input that allocates
        /// without bound aborts here, as in a worker).
        #[arg(long, default_value_t = 4096)]
        mem_limit_mb: u64,
    },
    /// The worker process (started by `run`; see the worker module).
    #[command(hide = true)]
    Worker {
        target: String,
        #[arg(long)]
        plugin: Option<PathBuf>,
        #[arg(long)]
        cli: Option<PathBuf>,
        #[arg(long, default_value_t = 4096)]
        mem_limit_mb: u64,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("kairos-fuzz: {message}");
            ExitCode::from(2)
        }
    }
}

/// Time limit of one `kairos` run in the cross-check.
const CLI_TIMEOUT: Duration = Duration::from_secs(60);

fn target(name: &str) -> Result<&'static Target, String> {
    targets::by_name(name).ok_or_else(|| {
        let names: Vec<&str> = targets::all().iter().map(|t| t.name).collect();
        format!("unknown target `{name}`; the targets are {}", names.join(", "))
    })
}

/// The fuzz plugin library: the flag, `$KAIROS_FUZZ_PLUGIN`, or the library
/// beside this binary (cargo puts both in `target/PROFILE/`).
fn plugin(flag: Option<PathBuf>) -> Option<PathBuf> {
    flag.or_else(|| std::env::var_os("KAIROS_FUZZ_PLUGIN").map(PathBuf::from)).or_else(|| {
        let exe = std::env::current_exe().ok()?;
        let name = format!("{}kairos_fuzz_plugin.{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_EXTENSION);
        let beside = exe.parent()?.join(name);
        beside.exists().then_some(beside)
    })
}

/// `path` made absolute: the worker runs commands from its scratch directory.
fn absolute(path: PathBuf) -> PathBuf {
    std::fs::canonicalize(&path).unwrap_or(path)
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Cmd::List => {
            for t in targets::all() {
                println!("{:<14} {}", t.name, t.about);
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Worker { target: name, plugin, cli, mem_limit_mb } => {
            let options = WorkerOptions { plugin, cli, mem_limit_mb, cli_timeout: CLI_TIMEOUT };
            worker::serve(target(&name)?, &options).map_err(|e| format!("worker: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Repro { target: name, inputs, plugin: flag, cli, mem_limit_mb } => {
            let t = target(&name)?;
            worker::limit_resources(mem_limit_mb);
            worker::record_panics();
            let cli = cli.map(absolute);
            let ctx =
                Ctx::new(plugin(flag).map(absolute)).map_err(|e| format!("cannot make a scratch directory: {e}"))?;
            let options = WorkerOptions { plugin: None, cli, mem_limit_mb: 0, cli_timeout: CLI_TIMEOUT };
            let mut found = false;
            for path in inputs {
                let input = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                match worker::run_one(t, &ctx, &input, Some(&options)) {
                    Ok(Outcome::Refused { message, positioned, .. }) => {
                        println!("{}: refused{}: {message}", path.display(), if positioned { "" } else { " (no line)" })
                    }
                    Ok(Outcome::Ran { signature }) => println!("{}: {signature}", path.display()),
                    Err(f) => {
                        found = true;
                        println!("{}: {f}", path.display());
                    }
                }
            }
            Ok(if found { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Cmd::Run {
            targets: names,
            minutes,
            seconds,
            iterations,
            seed,
            timeout,
            corpus,
            save_corpus,
            artifacts,
            no_artifacts,
            cli,
            cli_every,
            plugin: flag,
            mem_limit_mb,
            max_len,
            quiet,
        } => {
            let chosen: Vec<&'static Target> = if names.iter().any(|n| n == "all") {
                targets::all().iter().collect()
            } else {
                names.iter().map(|n| target(n)).collect::<Result<_, _>>()?
            };
            let plugin = plugin(flag).map(absolute);
            let cli = cli.map(absolute);
            if chosen.iter().any(|t| t.name == "native") && plugin.is_none() {
                return Err("the `native` target needs the kairos-fuzz-plugin library: build it with `cargo build -p kairos-fuzz-plugin` (add --release for a release kairos-fuzz) or pass --plugin".into());
            }
            let duration = minutes.map(|m| m * 60.0).or(seconds).map(Duration::from_secs_f64);
            let iterations = iterations.or(if duration.is_none() { Some(1000) } else { None });
            let opts = Options {
                seed,
                iterations,
                duration,
                timeout: Duration::from_secs_f64(timeout),
                corpus,
                corpus_out: save_corpus,
                artifacts: (!no_artifacts).then_some(artifacts),
                cli,
                cli_every,
                plugin,
                mem_limit_mb,
                max_len,
                restart_every: 2000,
                progress: (!quiet).then_some(Duration::from_secs(10)),
            };
            let mut new = 0;
            for t in chosen {
                let summary = driver::run(t, &opts).map_err(|e| format!("{}: {e}", t.name))?;
                print!("{}", summary.render());
                new += summary.new_findings();
            }
            Ok(if new > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
    }
}
