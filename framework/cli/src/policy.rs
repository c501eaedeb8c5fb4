//! `kairos policy`: work with policy scripts.
//!
//! `kairos policy test [PATH…]` runs the test cases kept beside scripts
//! (`NAME.test.yaml` beside `NAME.rhai`; the format is in
//! `kairos_host::script::policy_test`):
//!
//! 1. find the test files (a directory is searched recursively; default `policies/`);
//! 2. load each one and compile its script: a file that cannot be loaded is
//!    reported at the end, and the others still run;
//! 3. run every case and print one line per file, and each failing case with
//!    its `file:line:column`, what it expected, what it got and what the script
//!    printed (`print`, `debug`) during the case;
//! 4. print `N passed, M failed`. Exit 0 when every case passed, 1 when some
//!    failed, 2 when a file was missing or malformed.

use std::fmt::Write as _;
use std::path::PathBuf;

use kairos_host::script::policy_test::{self, PolicyTests};
use kairos_host::script::strict_engine;
use kairos_host::{Error, InputError};

const EXIT_CODES: &str = "\
Exit codes:
  0  every case passed
  1  some case failed
  2  bad input: a test file is missing or malformed, or its script is missing or does not compile";

/// What `kairos policy` can do.
#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// Run the test cases beside policy scripts (NAME.test.yaml beside NAME.rhai;
    /// the format is in the README, "Testing a policy without Rust").
    #[command(after_help = EXIT_CODES)]
    Test {
        /// Test files, scripts (their NAME.test.yaml runs) or directories (searched for *.test.yaml).
        #[arg(default_value = "policies")]
        paths: Vec<PathBuf>,
    },
}

/// Runs a `kairos policy` command.
pub fn run(command: PolicyCommand) -> Result<(), Error> {
    match command {
        PolicyCommand::Test { paths } => test(&paths),
    }
}

fn test(paths: &[PathBuf]) -> Result<(), Error> {
    let files = policy_test::discover(paths)?;
    let engine = strict_engine();
    let (mut passed, mut failed) = (0, 0);
    let mut bad: Vec<InputError> = Vec::new();
    for file in &files {
        let tests = match PolicyTests::load(file, &engine) {
            Ok(t) => t,
            Err(e) if e.is_input() => {
                bad.extend(e.input_errors());
                continue;
            }
            Err(e) => return Err(e),
        };
        let results = tests.run();
        let failures: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
        passed += results.len() - failures.len();
        failed += failures.len();
        let mut text = if failures.is_empty() {
            format!("ok    {}: {}\n", file.display(), crate::plural(results.len(), "case"))
        } else {
            format!("FAIL  {}: {} of {} failed\n", file.display(), failures.len(), crate::plural(results.len(), "case"))
        };
        for r in failures {
            let _ = writeln!(text, "  {}:{}:{}: {} ({})", file.display(), r.pos.line, r.pos.col, r.name, r.point);
            let _ = writeln!(text, "      expected: {}", r.expected);
            let _ = writeln!(text, "      got:      {}", r.got);
            for line in &r.printed {
                let _ = writeln!(text, "      printed:  {line}");
            }
        }
        crate::output::out(&text);
    }
    crate::output::out(&format!("\n{passed} passed, {failed} failed\n"));
    Error::collect(bad)?;
    if failed > 0 {
        return Err(Error::TestsFailed { failed, total: passed + failed });
    }
    Ok(())
}
