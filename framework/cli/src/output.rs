//! Every byte the CLI writes goes through here.
//!
//! A reader may go away before kairos has finished writing: `kairos schema |
//! head -1`, or `kairos check bad.yaml 2>&1 | true`. Rust ignores SIGPIPE, so
//! such a write fails with `BrokenPipe`, and `println!`/`eprintln!` would
//! panic on it (exit 101). Here a closed pipe is quiet instead:
//!
//! 1. the write that meets it, and every later write to that stream, is
//!    dropped;
//! 2. the command carries on and exits with the code it would have had (0 after
//!    a report nobody read, 2 after input errors nobody read), so a pipeline
//!    under `set -o pipefail` still sees what happened.
//!
//! Any other failure to write standard output (a full disk) is an error: exit 1.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Standard output was closed by its reader.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Standard error was closed by its reader.
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to standard output (see the module docs).
pub fn out(text: &str) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => STDOUT_CLOSED.store(true, Ordering::Relaxed),
        Err(e) => {
            err_line(&format!("error: cannot write to standard output: {e}"));
            std::process::exit(1);
        }
    }
}

/// Writes `line` and a newline to standard error; a closed or failing
/// standard error drops it (there is nowhere left to say so).
pub fn err_line(line: &str) {
    if STDERR_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut stderr = std::io::stderr().lock();
    if stderr.write_all(line.as_bytes()).and_then(|()| stderr.write_all(b"\n")).and_then(|()| stderr.flush()).is_err() {
        STDERR_CLOSED.store(true, Ordering::Relaxed);
    }
}
