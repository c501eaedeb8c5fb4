//! The worker: a child process that runs one target on the inputs the driver
//! sends, so that what kills a process (an abort, an allocation failure, a
//! signal) or stalls it (a hang) costs the driver only a restart.
//!
//! # Protocol
//! 1. The driver starts `kairos-fuzz worker TARGET …` with piped stdin and
//!    stdout. The worker limits its own address space (so an allocation that
//!    would exhaust the machine fails, and aborts, in the worker alone), turns
//!    off core dumps, moves its stdout aside for the protocol and points fd 1 at
//!    stderr, so that nothing the host prints can garble a reply.
//! 2. For each input the driver writes a header line `LEN CLI\n` (`CLI` is 1
//!    when the `kairos` binary should be run on the input too) and `LEN` bytes.
//! 3. The worker runs the target under `catch_unwind` and answers with one line
//!    of JSON: `{"outcome": "refused"|"ran", "signature", "positioned",
//!    "message"}` or `{"finding": KIND, "message"}`.
//! 4. At the end of its input the worker exits 0.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::FromRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::targets::{Ctx, Target};
use crate::{Finding, Kind, Outcome};

/// Where the last panic happened and what it said, recorded by the hook.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// What the worker is told on its command line.
pub struct WorkerOptions {
    /// The fuzz plugin library, for the `native` target.
    pub plugin: Option<PathBuf>,
    /// The `kairos` binary for the cross-check, if any.
    pub cli: Option<PathBuf>,
    /// Address-space limit, MiB (0: none).
    pub mem_limit_mb: u64,
    /// Time limit of one `kairos` run in the cross-check.
    pub cli_timeout: Duration,
}

/// Runs the worker loop for `target` (see the module docs); returns when the
/// driver closes the input.
pub fn serve(target: &Target, options: &WorkerOptions) -> std::io::Result<()> {
    limit_resources(options.mem_limit_mb);
    let mut proto = protocol_stdout()?;
    record_panics();
    let ctx = Ctx::new(options.plugin.clone())?;
    let mut stdin = BufReader::new(std::io::stdin().lock());
    let mut header = String::new();
    loop {
        header.clear();
        if stdin.read_line(&mut header)? == 0 {
            return Ok(());
        }
        let mut parts = header.split_whitespace();
        let len: usize = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
        let cli = parts.next() == Some("1");
        let mut input = vec![0; len];
        stdin.read_exact(&mut input)?;
        let reply = match run_one(target, &ctx, &input, cli.then_some(options)) {
            Ok(outcome) => outcome_json(&outcome),
            Err(f) => json!({ "finding": f.kind.as_str(), "message": f.message }),
        };
        writeln!(proto, "{reply}")?;
        proto.flush()?;
    }
}

/// Installs the panic hook that records where a panic happened and what it
/// said, for the finding, instead of printing it.
pub fn record_panics() {
    std::panic::set_hook(Box::new(|info| {
        let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column())).unwrap_or_default();
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        let mut last = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner());
        *last = Some(format!("panicked at {at}: {what}"));
    }));
}

/// Runs one input, catching panics (with [`record_panics`] installed, the
/// finding says where and what); with `cli`, runs the `kairos` binary on it
/// too.
pub fn run_one(target: &Target, ctx: &Ctx, input: &[u8], cli: Option<&WorkerOptions>) -> Result<Outcome, Finding> {
    *ctx.written.borrow_mut() = None;
    let result = catch_unwind(AssertUnwindSafe(|| (target.run)(ctx, input)));
    let outcome = match result {
        Ok(r) => r?,
        Err(_) => {
            let message = LAST_PANIC
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .unwrap_or_else(|| "panicked (no message recorded)".into());
            return Err(Finding::new(Kind::Panic, message));
        }
    };
    if let (Some(options), Some(kairos)) = (cli, cli.and_then(|o| o.cli.as_ref())) {
        let file = ctx.written.borrow().clone();
        if let Some(file) = file {
            for command in target.cli {
                cross_check(kairos, ctx.scratch.root(), &file, command, options.cli_timeout)?;
            }
        }
    }
    Ok(outcome)
}

fn outcome_json(outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Refused { signature, positioned, message } => {
            json!({ "outcome": "refused", "signature": signature, "positioned": positioned, "message": message })
        }
        Outcome::Ran { signature } => json!({ "outcome": "ran", "signature": signature }),
    }
}

/// Reads a reply line back (the driver's side of step 3).
pub fn parse_reply(line: &str) -> Result<Outcome, Finding> {
    let v: Value = serde_json::from_str(line)
        .map_err(|e| Finding::new(Kind::Harness, format!("harness: the worker said `{line:.200}`: {e}")))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    if let Some(kind) = v.get("finding").and_then(Value::as_str) {
        return Err(Finding::new(Kind::parse(kind).unwrap_or(Kind::Abort), s("message")));
    }
    Ok(match v.get("outcome").and_then(Value::as_str) {
        Some("refused") => Outcome::Refused {
            signature: s("signature"),
            positioned: v.get("positioned").and_then(Value::as_bool).unwrap_or(false),
            message: s("message"),
        },
        _ => Outcome::Ran { signature: s("signature") },
    })
}

/// Step 1's limits: the address space, and no core dumps.
pub fn limit_resources(mem_limit_mb: u64) {
    // SAFETY: setrlimit only reads the struct passed; failure leaves the limit
    // as it was, which is harmless (the run is just less protected).
    unsafe {
        let none = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        if mem_limit_mb > 0 {
            let bytes = mem_limit_mb.saturating_mul(1 << 20);
            let lim = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
        }
    }
}

/// Step 1's stdout: a private copy of fd 1 for the protocol, and fd 1 pointed
/// at stderr.
fn protocol_stdout() -> std::io::Result<std::fs::File> {
    std::io::stdout().flush()?;
    // SAFETY: fds 1 and 2 are open (the driver pipes 1 and redirects 2); `dup`
    // returns a new fd this process owns, which the File then owns alone.
    unsafe {
        let fd = libc::dup(1);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::dup2(2, 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(std::fs::File::from_raw_fd(fd))
    }
}

/// Runs `kairos COMMAND` (with `{}` standing for `file`) from `root`: it must
/// end within `timeout`, by itself, with exit code 0, 1 or 2 and no panic; and
/// a `--json` run that succeeded must account for every job.
pub fn cross_check(
    kairos: &Path,
    root: &Path,
    file: &Path,
    command: &[&str],
    timeout: Duration,
) -> Result<(), Finding> {
    let args: Vec<String> =
        command.iter().map(|a| if *a == "{}" { file.display().to_string() } else { (*a).to_owned() }).collect();
    let shown = format!("kairos {}", command.join(" "));
    let out_path = root.join(".cli-stdout");
    let err_path = root.join(".cli-stderr");
    let harness = |e: std::io::Error| Finding::new(Kind::Harness, format!("harness: cannot run {shown}: {e}"));
    let mut child = Command::new(kairos)
        .args(&args)
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).map_err(harness)?)
        .stderr(std::fs::File::create(&err_path).map_err(harness)?)
        .spawn()
        .map_err(harness)?;
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(harness)? {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Finding::new(Kind::Cli, format!("{shown} did not finish in {} s", timeout.as_secs())));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let tail = |s: &str| s.lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
    use std::os::unix::process::ExitStatusExt;
    if let Some(signal) = status.signal() {
        return Err(Finding::new(Kind::Cli, format!("{shown} was killed by signal {signal}: {}", tail(&stderr))));
    }
    let code = status.code().unwrap_or(-1);
    // Rust's own panic line, not a plugin panic the host contained and reports.
    if let Some(line) = stderr.lines().find(|l| l.starts_with("thread '") && l.contains("panicked at")) {
        return Err(Finding::new(Kind::Cli, format!("{shown} panicked (exit {code}): {line}")));
    }
    if code == 101 {
        return Err(Finding::new(Kind::Cli, format!("{shown} exited 101 (a panic): {}", tail(&stderr))));
    }
    if !(0..=2).contains(&code) {
        return Err(Finding::new(Kind::Cli, format!("{shown} exited {code}: {}", tail(&stderr))));
    }
    if code == 0 && command.contains(&"--json") {
        let v: Value = serde_json::from_str(&stdout)
            .map_err(|e| Finding::new(Kind::Cli, format!("{shown} printed no JSON report: {e}")))?;
        let n = |k: &str| v["jobs"][k].as_u64().unwrap_or(0);
        let sum = ["completed", "missed", "rejected", "lost", "pending", "running"].iter().map(|k| n(k)).sum::<u64>();
        if sum != n("total") {
            return Err(Finding::new(
                Kind::Cli,
                format!("{shown}: the report's job counts add up to {sum}, not to its total {}", n("total")),
            ));
        }
    }
    Ok(())
}
