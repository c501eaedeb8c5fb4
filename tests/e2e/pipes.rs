//! A reader that goes away before kairos has finished writing (`| head`,
//! `2>&1 | true`) ends kairos quietly, with the exit code it would have had.
//!
//! Each test hands kairos a pipe whose reading end is already closed, so
//! every write meets `EPIPE` however fast or slow the machine is.

use std::process::Stdio;

use kairos_tests::{exit_code, kairos_command};

/// A pipe's writing end whose reading end is closed. (A macro, not a
/// function, so that `std::io::pipe`, newer than the crate's MSRV, is used in
/// test code only.)
macro_rules! closed_pipe {
    () => {{
        let (reader, writer) = std::io::pipe().expect("a pipe");
        drop(reader);
        writer
    }};
}

#[test]
fn check_with_its_errors_sent_to_a_closed_pipe_exits_2_without_panicking() {
    let out = kairos_command(&["check", "tests/fixtures/bad/parts/zero-weight.yaml"])
        .stdout(Stdio::null())
        .stderr(closed_pipe!())
        .status()
        .expect("kairos runs");
    assert_eq!(exit_code(out), 2, "input errors are exit 2 even when nobody reads them");
}

#[test]
fn a_report_sent_to_a_closed_pipe_exits_0_and_says_nothing() {
    for args in [&["run", "tests/fixtures/scenario.yaml"][..], &["schema"], &["check", "tests/fixtures/pipeline.yaml"]]
    {
        let out = kairos_command(args).stdout(closed_pipe!()).stderr(Stdio::piped()).output().expect("kairos runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!((exit_code(out.status), stderr.as_ref()), (0, ""), "kairos {}", args.join(" "));
    }
}

#[test]
fn both_streams_closed_still_give_the_exit_code_of_the_input_error() {
    let out = kairos_command(&["run", "tests/fixtures/bad/parts/zero-weight.yaml"])
        .stdout(closed_pipe!())
        .stderr(closed_pipe!())
        .status()
        .expect("kairos runs");
    assert_eq!(exit_code(out), 2);
}
