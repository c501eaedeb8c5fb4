//! Reading input files, within bounds.
//!
//! Every file kairos reads as input comes through [`read_text`] or
//! [`read_bytes`]:
//!
//! 1. the path must name a regular file (after symbolic links): a directory, a
//!    device (`/dev/zero`) or a pipe is refused before it is opened, since
//!    reading one may never end;
//! 2. at most the caller's limit is read ([`limits::MAX_FILE_BYTES`] for
//!    traces, [`limits::MAX_YAML_BYTES`] for YAML): a longer file is refused,
//!    so no input file can make kairos run out of memory;
//! 3. text must be UTF-8, and its line breaks are made one kind: a lone CR
//!    (old Mac line endings) becomes LF, so every reader — YAML, CSV, the
//!    positions in error messages — sees the same lines (CRLF is left as it
//!    is: every reader already takes it as one break).
//!
//! Each refusal is an [`Error::Io`] naming the file: an input error (exit 2).

use std::io::Read;
use std::path::Path;

use crate::error::Error;
#[cfg(doc)]
use crate::limits;

/// Reads the text file at `path`, of at most `max` bytes (see the module docs).
pub fn read_text(path: &Path, max: u64) -> Result<String, Error> {
    let bytes = read_bytes(path, max)?;
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(path, e))?;
    Ok(one_kind_of_line_break(text))
}

/// The refusal of a file that is not UTF-8, at the line and column of its
/// first invalid byte (the column counts the characters before it).
fn not_utf8(path: &Path, e: std::string::FromUtf8Error) -> Error {
    let at = e.utf8_error().valid_up_to();
    let bytes = e.as_bytes();
    // The prefix up to `valid_up_to` is valid UTF-8 by definition.
    let valid = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
    let line = valid.matches('\n').count() as u64 + 1;
    let col = valid.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    Error::at(
        path,
        None,
        crate::error::Pos { line, col },
        format!("not UTF-8 text: byte {:#04x} at offset {at} is not valid UTF-8; save the file as UTF-8", bytes[at]),
    )
}

/// Reads the file at `path`, of at most `max` bytes (see the module docs).
pub fn read_bytes(path: &Path, max: u64) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        let what = if meta.is_dir() { "a directory" } else { "not a regular file (a device, a pipe or a socket)" };
        return Err(io_error(path, std::io::ErrorKind::InvalidInput, format!("{what}; expected a file")));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|f| f.take(max + 1).read_to_end(&mut bytes)).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(too_large(path, max));
    }
    Ok(bytes)
}

/// Reads all of `reader` (a decompressor), of at most `max` bytes once
/// decompressed; `path` is the file it reads, for errors.
pub fn read_all(path: &Path, reader: impl Read, max: u64) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    reader.take(max + 1).read_to_end(&mut bytes).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    if bytes.len() as u64 > max {
        return Err(too_large(path, max));
    }
    Ok(bytes)
}

/// "larger than 256 MiB, the limit for this kind of file".
fn too_large(path: &Path, max: u64) -> Error {
    io_error(
        path,
        std::io::ErrorKind::InvalidData,
        format!("larger than {}, the limit for this kind of file (see Limits in the README)", size(max)),
    )
}

/// `max` for people: "256 MiB", or bytes below a MiB.
fn size(max: u64) -> String {
    if max >= 1 << 20 {
        format!("{} MiB", max >> 20)
    } else {
        format!("{max} bytes")
    }
}

fn io_error(path: &Path, kind: std::io::ErrorKind, message: String) -> Error {
    Error::Io { path: path.to_owned(), source: std::io::Error::new(kind, message) }
}

/// `text` with every lone CR (not followed by LF) made an LF.
pub fn one_kind_of_line_break(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' if chars.peek() != Some(&'\n') => out.push('\n'),
            c => out.push(c),
        }
    }
    out
}

/// Whether `path` names something [`read_bytes`] would open: a regular file.
pub fn is_regular_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_become_one_kind() {
        let cases = [
            ("LF stays LF", "a\nb\n", "a\nb\n"),
            ("CRLF stays CRLF", "a\r\nb\r\n", "a\r\nb\r\n"),
            ("a lone CR becomes LF", "a\rb\r", "a\nb\n"),
            ("mixed endings", "a\rb\r\nc\n", "a\nb\r\nc\n"),
        ];
        for (case, text, want) in cases {
            assert_eq!(one_kind_of_line_break(text.to_owned()), want, "{case}");
        }
    }

    #[test]
    fn what_is_not_a_bounded_regular_file_is_refused_naming_it() {
        let dir = std::env::temp_dir().join(format!("kairos-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.csv");
        std::fs::write(&big, "x".repeat(2048)).unwrap();
        let cases: [(&str, &Path, u64, &str); 4] = [
            ("an endless device", Path::new("/dev/zero"), 1 << 20, "/dev/zero: not a regular file"),
            ("a directory", &dir, 1 << 20, ": a directory; expected a file"),
            ("a file over the limit", &big, 1024, "big.csv: larger than 1024 bytes, the limit"),
            ("a missing file", Path::new("/nonexistent/x.yaml"), 1 << 20, "cannot read /nonexistent/x.yaml: "),
        ];
        for (case, path, max, want) in cases {
            let err = read_text(path, max).expect_err(case);
            assert!(err.is_input(), "{case}");
            assert!(err.to_string().contains(want), "{case}: {err}");
        }
        assert_eq!(read_text(&big, 2048).unwrap().len(), 2048, "a file at the limit is read");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_that_is_not_utf8_is_refused_at_the_line_and_column_of_the_bad_byte() {
        let dir = std::env::temp_dir().join(format!("kairos-input-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("p.yaml");
        std::fs::write(&f, b"name: x\norder: [\xe9t\xff]\n").unwrap();
        let err = read_text(&f, 1 << 20).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "p.yaml:2:9: not UTF-8 text: byte 0xe9 at offset 16 is not valid UTF-8; save the file as UTF-8"
            ),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
