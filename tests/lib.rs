//! Helpers for the end-to-end tests: run the real `kairos` binary from the
//! repository root and capture what it did.
//!
//! 1. The first call to [`kairos`] builds the binary with `cargo build -p
//!    kairos-cli`, in the profile and target directory the tests themselves were
//!    built in (found from the test executable's path), so the tests never run a
//!    stale binary. Setting `KAIROS_BIN` skips the build and runs that binary
//!    instead (an installed or release build).
//! 2. Every run starts in the repository root, so tests name fixtures by their
//!    relative path (`tests/fixtures/scenario.yaml`) and error messages quote
//!    them that way.
//! 3. [`Output`] holds the exit code, stdout and stderr; [`Output::expect`]
//!    checks the exit code and that nothing panicked, and prints everything the
//!    binary said when either check fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Placeholder for the repository's absolute path in snapshots.
pub const REPO: &str = "[REPO]";

/// The exit code of a Rust program that panicked.
const PANIC_EXIT: i32 = 101;

/// What one run of `kairos` did.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit code (`128 + signal` when a signal ended the process).
    pub code: i32,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
}

impl Output {
    /// Checks the exit code and that the binary did not panic; returns `self`
    /// for further checks. On failure, shows both streams.
    #[track_caller]
    pub fn expect(&self, code: i32) -> &Self {
        assert!(
            self.code == code && !self.panicked(),
            "expected exit code {code} and no panic, got {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Whether the process panicked.
    pub fn panicked(&self) -> bool {
        self.code == PANIC_EXIT || self.stderr.contains("panicked at")
    }

    /// stderr with the repository's absolute path replaced by [`REPO`].
    pub fn stderr_redacted(&self) -> String {
        redact(&self.stderr)
    }

    /// stdout with the repository's absolute path replaced by [`REPO`].
    pub fn stdout_redacted(&self) -> String {
        redact(&self.stdout)
    }
}

/// The repository root (the workspace directory), canonical.
pub fn repo_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let root = manifest.parent().expect("the tests crate sits in the repository");
        root.canonicalize().unwrap_or_else(|_| root.to_owned())
    })
}

/// Replaces the repository's absolute path by [`REPO`].
pub fn redact(text: &str) -> String {
    text.replace(&repo_root().display().to_string(), REPO)
}

/// Runs `kairos args…` from the repository root, with no stdin.
pub fn kairos(args: &[&str]) -> Output {
    let out = Command::new(kairos_bin())
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", kairos_bin().display()));
    Output {
        code: exit_code(out.status),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A `kairos` command from the repository root, for tests that need to wire
/// the streams themselves.
pub fn kairos_command(args: &[&str]) -> Command {
    let mut c = Command::new(kairos_bin());
    c.args(args).current_dir(repo_root()).stdin(Stdio::null());
    c
}

/// The exit code, or `128 + signal` when a signal ended the process (the
/// shell's convention).
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    if let Some(c) = status.code() {
        return c;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(s) = status.signal() {
            return 128 + s;
        }
    }
    -1
}

/// The `kairos` binary: `KAIROS_BIN`, or built once per test process.
pub fn kairos_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| match std::env::var_os("KAIROS_BIN") {
        Some(p) => PathBuf::from(p),
        None => build(),
    })
}

/// Builds the library of workspace package `package` (a plugin `cdylib`) in the
/// tests' own profile and target directory, and returns the directory it lands
/// in (the profile directory). `cargo test --no-run` alone builds no cdylib.
pub fn build_library(package: &str) -> PathBuf {
    let (cmd, profile_dir) = cargo_build(&["-p", package, "--lib"]);
    run_build(cmd, package);
    profile_dir
}

/// Builds `kairos` next to the test executable and returns its path.
///
/// The test executable is `<target>/[<triple>/]<profile>/deps/e2e-<hash>`; the
/// binary goes to `<target>/[<triple>/]<profile>/kairos`.
fn build() -> PathBuf {
    let (cmd, profile_dir) = cargo_build(&["-p", "kairos-cli", "--bin", "kairos"]);
    run_build(cmd, "kairos");
    let bin = profile_dir.join(format!("kairos{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "cargo built kairos but {} is missing", bin.display());
    bin
}

/// `cargo build --quiet ARGS…` in the tests' profile and target directory, and
/// that profile directory.
fn cargo_build(args: &[&str]) -> (Command, PathBuf) {
    cargo("build", &repo_root().join("Cargo.toml"), args)
}

/// `cargo SUBCOMMAND --quiet ARGS… --manifest-path MANIFEST` in the tests' profile
/// and target directory, and that profile directory: for a crate outside the
/// workspace (a generated plugin) to reuse what the workspace already built.
pub fn cargo(subcommand: &str, manifest: &Path, args: &[&str]) -> (Command, PathBuf) {
    let exe = std::env::current_exe().expect("the test executable has a path");
    let profile_dir =
        exe.parent().and_then(Path::parent).expect("the test executable sits in <target>/<profile>/deps").to_owned();
    let profile = profile_dir.file_name().and_then(|n| n.to_str()).expect("a profile directory name");
    let mut target_dir = profile_dir.parent().expect("a target directory").to_owned();
    // With `--target <triple>` there is one more level; cargo marks the real
    // target directory with a CACHEDIR.TAG.
    let mut triple = None;
    if !target_dir.join("CACHEDIR.TAG").exists() {
        if let (Some(t), Some(parent)) = (target_dir.file_name(), target_dir.parent()) {
            if parent.join("CACHEDIR.TAG").exists() {
                triple = Some(t.to_string_lossy().into_owned());
                target_dir = parent.to_owned();
            }
        }
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([subcommand, "--quiet"])
        .args(args)
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(&target_dir);
    match profile {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    if let Some(t) = &triple {
        cmd.args(["--target", t]);
    }
    (cmd, profile_dir)
}

fn run_build(mut cmd: Command, what: &str) {
    let out = cmd.output().expect("cargo runs");
    assert!(out.status.success(), "building {what} failed ({:?}):\n{}", cmd, String::from_utf8_lossy(&out.stderr));
}
