//! The driver: corpus, mutation loop, worker, findings.
//!
//! 1. Load the seed corpus of the target (every file of its corpus directory,
//!    by name) and run each seed as it is.
//! 2. Then, until the iteration count or the time is reached: pick a corpus
//!    input and another to splice from, mutate, run it in the worker. An input
//!    whose outcome signature is new joins the corpus (and, with `corpus_out`,
//!    is saved there).
//! 3. A finding is folded by its signature; the first inputs of each are saved
//!    under `artifacts/TARGET/KIND-HASH.{in,txt}`. A dead or stalled worker is
//!    a finding too; the worker is restarted.
//! 4. Every [`Options::cli_every`]-th input is also run through the `kairos`
//!    binary (when one is given).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::known;
use crate::mutate::Mutator;
use crate::targets::{hash, Target};
use crate::worker::parse_reply;
use crate::{Finding, Kind, Outcome};

/// How a run goes.
#[derive(Clone, Debug)]
pub struct Options {
    /// Seed of the mutations.
    pub seed: u64,
    /// Stop after this many executions (seeds included).
    pub iterations: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    /// Time limit of one input; past it the input is a hang.
    pub timeout: Duration,
    /// The seed corpus root (a directory per target).
    pub corpus: PathBuf,
    /// Where new corpus inputs are saved (a directory per target), if anywhere.
    pub corpus_out: Option<PathBuf>,
    /// Where inputs that caused findings are saved (a directory per target).
    pub artifacts: Option<PathBuf>,
    /// The `kairos` binary for the cross-check.
    pub cli: Option<PathBuf>,
    /// Run the cross-check on every N-th input (0: never).
    pub cli_every: u64,
    /// The fuzz plugin library.
    pub plugin: Option<PathBuf>,
    /// The worker's address-space limit, MiB.
    pub mem_limit_mb: u64,
    /// Longest input the mutator makes, bytes.
    pub max_len: usize,
    /// Restart the worker after this many executions (bounds what leaks).
    pub restart_every: u64,
    /// Print progress every this long (None: quiet).
    pub progress: Option<Duration>,
}

/// One folded finding.
#[derive(Clone, Debug)]
pub struct Record {
    /// The first finding with this signature.
    pub finding: Finding,
    /// How many inputs caused it.
    pub count: u64,
    /// The first saved input.
    pub artifact: Option<PathBuf>,
    /// The known defect it is, if it is one.
    pub known: Option<&'static str>,
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// The target.
    pub target: String,
    /// Inputs run.
    pub executions: u64,
    /// Wall time.
    pub seconds: f64,
    /// Seeds, and corpus size at the end.
    pub corpus: (usize, usize),
    /// Inputs a loader refused.
    pub refused: u64,
    /// Inputs that loaded and ran.
    pub ran: u64,
    /// Cross-checks of the `kairos` binary run.
    pub cli_runs: u64,
    /// Worker restarts after a finding that killed or stalled it.
    pub restarts: u64,
    /// Findings, by signature.
    pub findings: BTreeMap<String, Record>,
    /// Messages of refusals that named no line (distinct, folded).
    pub unpositioned: BTreeSet<String>,
}

impl Summary {
    /// Findings no known entry matches.
    pub fn new_findings(&self) -> usize {
        self.findings.values().filter(|r| r.known.is_none()).count()
    }

    /// The summary as printed at the end of a run.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let rate = self.executions as f64 / self.seconds.max(1e-9);
        let _ = writeln!(
            s,
            "{}: {} executions in {:.1} s ({rate:.1}/s): {} ran, {} refused by a loader; {} kairos cross-checks; corpus {} -> {}; {} worker restarts",
            self.target, self.executions, self.seconds, self.ran, self.refused, self.cli_runs, self.corpus.0, self.corpus.1, self.restarts
        );
        let known = self.findings.len() - self.new_findings();
        let _ = writeln!(
            s,
            "{}: {} findings ({} new, {known} known)",
            self.target,
            self.findings.len(),
            self.new_findings()
        );
        for (sig, r) in &self.findings {
            let tag = match r.known {
                Some(k) => format!("known: {k}"),
                None => "NEW".to_owned(),
            };
            let _ = writeln!(s, "  [{tag}] {sig} (x{})", r.count);
            for line in r.finding.message.lines().skip(1).take(4) {
                let _ = writeln!(s, "      {line}");
            }
            if let Some(a) = &r.artifact {
                let _ = writeln!(s, "      input: {}", a.display());
            }
        }
        if !self.unpositioned.is_empty() {
            let _ = writeln!(s, "{}: {} refusals named no line:", self.target, self.unpositioned.len());
            for m in self.unpositioned.iter().take(20) {
                let _ = writeln!(s, "  {m}");
            }
        }
        s
    }
}

/// A running worker process.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    replies: Receiver<Option<String>>,
    stderr: PathBuf,
    served: u64,
}

impl Worker {
    fn spawn(target: &Target, opts: &Options, stderr: &Path) -> std::io::Result<Worker> {
        let exe = std::env::current_exe()?;
        let mut cmd = Command::new(exe);
        // A worker that dies says why in a line; a backtrace would bury it.
        cmd.env("RUST_BACKTRACE", "0");
        cmd.args(["worker", target.name, "--mem-limit-mb", &opts.mem_limit_mb.to_string()]);
        if let Some(p) = &opts.plugin {
            cmd.arg("--plugin").arg(p);
        }
        if let Some(k) = &opts.cli {
            cmd.arg("--cli").arg(k);
        }
        let mut child =
            cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(std::fs::File::create(stderr)?).spawn()?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                match line {
                    Ok(l) => {
                        if tx.send(Some(l)).is_err() {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            }
            let _ = tx.send(None);
        });
        Ok(Worker { child, stdin, replies: rx, stderr: stderr.to_owned(), served: 0 })
    }

    /// Runs one input; `Err(finding)` with `dead` when the worker must go.
    fn exec(&mut self, input: &[u8], cli: bool, timeout: Duration) -> (Result<Outcome, Finding>, bool) {
        self.served += 1;
        let sent = writeln!(self.stdin, "{} {}", input.len(), u8::from(cli))
            .and_then(|()| self.stdin.write_all(input))
            .and_then(|()| self.stdin.flush());
        if sent.is_err() {
            return (Err(self.death()), true);
        }
        match self.replies.recv_timeout(timeout) {
            Ok(Some(line)) => {
                let reply = parse_reply(&line);
                // A panic may leave shared state poisoned: start afresh.
                let dead = matches!(&reply, Err(f) if f.kind == Kind::Panic);
                (reply, dead)
            }
            Ok(None) | Err(RecvTimeoutError::Disconnected) => (Err(self.death()), true),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                (Err(Finding::new(Kind::Hang, format!("the input ran past the {} s limit", timeout.as_secs()))), true)
            }
        }
    }

    /// What killed the worker, from its exit status and the end of its stderr.
    fn death(&mut self) -> Finding {
        let status = self.child.wait().ok();
        let stderr = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        use std::os::unix::process::ExitStatusExt;
        let how = match status {
            Some(s) if s.signal().is_some() => format!("killed by signal {}", s.signal().unwrap_or(0)),
            Some(s) => format!("exited {}", s.code().unwrap_or(-1)),
            None => "vanished".to_owned(),
        };
        // The line that says why: an allocation failure, a fatal runtime
        // error, a stack overflow, a panic that was not caught; else the last.
        let cause = ["memory allocation of", "fatal runtime error", "overflowed its stack", "panicked at", "abort"];
        let first = stderr
            .lines()
            .rev()
            .find(|l| cause.iter().any(|c| l.contains(c)))
            .or_else(|| tail.iter().rev().find(|l| !l.trim().is_empty()).copied())
            .unwrap_or("(nothing on stderr)");
        Finding::new(Kind::Abort, format!("the worker was {how}: {first}\n{}", tail.join("\n")))
    }

    fn stop(mut self) {
        drop(self.stdin);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The seed corpus of `target` under `root`: every file of `root/TARGET`, by name.
pub fn seeds(root: &Path, target: &Target) -> std::io::Result<Vec<(PathBuf, Vec<u8>)>> {
    let dir = root.join(target.name);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    files.sort();
    files.into_iter().map(|p| std::fs::read(&p).map(|b| (p, b))).collect()
}

/// Fuzzes `target` (module docs).
pub fn run(target: &Target, opts: &Options) -> std::io::Result<Summary> {
    let started = Instant::now();
    let scratch = tempfile::Builder::new().prefix("kairos-fuzz-driver-").tempdir()?;
    let stderr = scratch.path().join("worker.stderr");
    let mut corpus: Vec<Vec<u8>> = seeds(&opts.corpus, target)?.into_iter().map(|(_, b)| b).collect();
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let n_seeds = corpus.len();
    let mut summary = Summary { target: target.name.to_owned(), corpus: (n_seeds, n_seeds), ..Summary::default() };
    let mut seen: HashSet<String> = HashSet::new();
    // Corpus indices of the inputs that loaded and ran.
    let mut ran: Vec<usize> = Vec::new();
    let mut mutator = Mutator::new(opts.seed, target.dictionary, target.binary, opts.max_len);
    let mut worker = Some(Worker::spawn(target, opts, &stderr)?);
    let mut last_progress = Instant::now();
    let mut i: u64 = 0;
    loop {
        if opts.iterations.is_some_and(|n| i >= n) || opts.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        let input = if (i as usize) < n_seeds {
            corpus[i as usize].clone()
        } else {
            // Three times in four, mutate an input that loaded and ran: most
            // mutations of a refused input are refused at the same place.
            let a = if !ran.is_empty() && mutator.below(4) > 0 {
                ran[mutator.below(ran.len())]
            } else {
                mutator.below(corpus.len())
            };
            let b = mutator.below(corpus.len());
            mutator.mutate(&corpus[a], &corpus[b])
        };
        let cli = opts.cli.is_some() && opts.cli_every > 0 && i % opts.cli_every == 0;
        i += 1;
        let w = match worker.as_mut() {
            Some(w) => w,
            None => worker.insert(Worker::spawn(target, opts, &stderr)?),
        };
        let (reply, dead) = w.exec(&input, cli, opts.timeout);
        summary.executions += 1;
        summary.cli_runs += u64::from(cli);
        match reply {
            Ok(outcome) => {
                match &outcome {
                    Outcome::Refused { positioned: false, message, .. } => {
                        summary.refused += 1;
                        if summary.unpositioned.len() < 200 {
                            summary.unpositioned.insert(crate::fold(&strip_scratch(message)));
                        }
                    }
                    Outcome::Refused { .. } => summary.refused += 1,
                    Outcome::Ran { .. } => summary.ran += 1,
                }
                let is_seed = (i as usize) <= n_seeds;
                if is_seed && matches!(outcome, Outcome::Ran { .. }) {
                    ran.push(i as usize - 1);
                }
                if seen.insert(outcome.signature().to_owned()) && !is_seed {
                    if matches!(outcome, Outcome::Ran { .. }) {
                        ran.push(corpus.len());
                    }
                    corpus.push(input.clone());
                    if let Some(out) = &opts.corpus_out {
                        save(&out.join(target.name), &format!("{:016x}", hash(&input)), "in", &input);
                    }
                }
            }
            Err(finding) => record(&mut summary, target, opts, finding, &input),
        }
        if dead {
            if let Some(w) = worker.take() {
                w.stop();
            }
            summary.restarts += 1;
        } else if worker.as_ref().is_some_and(|w| w.served >= opts.restart_every) {
            if let Some(w) = worker.take() {
                w.stop();
            }
        }
        if let Some(every) = opts.progress {
            if last_progress.elapsed() >= every {
                last_progress = Instant::now();
                eprintln!(
                    "[{}] {} executions ({:.1}/s), corpus {}, {} findings ({} new)",
                    target.name,
                    summary.executions,
                    summary.executions as f64 / started.elapsed().as_secs_f64(),
                    corpus.len(),
                    summary.findings.len(),
                    summary.new_findings()
                );
            }
        }
    }
    if let Some(w) = worker.take() {
        w.stop();
    }
    summary.corpus.1 = corpus.len();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Inputs saved per finding signature.
const SAVED_PER_FINDING: u64 = 3;

fn record(summary: &mut Summary, target: &Target, opts: &Options, finding: Finding, input: &[u8]) {
    let sig = finding.signature();
    let known = known::classify(target.name, &finding, input);
    let r = summary.findings.entry(sig).or_insert_with(|| Record {
        finding: finding.clone(),
        count: 0,
        artifact: None,
        known,
    });
    r.count += 1;
    if r.count <= SAVED_PER_FINDING {
        if let Some(dir) = &opts.artifacts {
            let name = format!("{}-{:016x}", finding.kind.as_str(), hash(input));
            let dir = dir.join(target.name);
            if let Some(path) = save(&dir, &name, "in", input) {
                save(&dir, &name, "txt", format!("{finding}\n").as_bytes());
                if r.artifact.is_none() {
                    r.artifact = Some(path);
                }
            }
        }
    }
}

fn save(dir: &Path, name: &str, ext: &str, bytes: &[u8]) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    let path = dir.join(format!("{name}.{ext}"));
    std::fs::write(&path, bytes).ok()?;
    Some(path)
}

/// `message` without the scratch directory's path, which differs per worker.
fn strip_scratch(message: &str) -> String {
    // The worker's scratch is `…/kairos-fuzz-XXXXXX/`; keep what follows it.
    match message.find("kairos-fuzz-") {
        Some(at) => match message[at..].find('/') {
            Some(slash) => format!("{}{}", &message[..at], &message[at + slash + 1..]),
            None => message.to_owned(),
        },
        None => message.to_owned(),
    }
}
