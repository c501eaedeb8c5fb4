//! Errors of the host, with context and source positions.
//!
//! Input errors — a malformed YAML file, an unknown plugin, a workload row with a
//! negative duration — carry the file, line and column and what was expected,
//! and render with a snippet of the source. The CLI maps them to exit code 2.
//! Faults found while running (a plugin returning NaN) name the plugin and map to
//! exit code 1.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a source file, 1-based. Line 0 means "no position".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, 1-based (0: unknown).
    pub line: u64,
    /// Column, 1-based (0: unknown).
    pub col: u64,
}

impl Pos {
    /// A known position.
    pub const fn new(line: u64, col: u64) -> Self {
        Pos { line, col }
    }

    /// Position of a `serde_saphyr::Spanned` value.
    pub fn of<T>(s: &serde_saphyr::Spanned<T>) -> Self {
        Pos { line: s.referenced.line(), col: s.referenced.column() }
    }
}

/// An error found in an input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    /// The file.
    pub path: PathBuf,
    /// Where in it (line 0 when the error concerns the whole file).
    pub pos: Pos,
    /// What is wrong and what was expected.
    pub message: String,
    /// The offending source lines with a caret, when available.
    pub snippet: Option<String>,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pos.line > 0 {
            write!(f, "{}:{}:{}: {}", self.path.display(), self.pos.line, self.pos.col, self.message)?;
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)?;
        }
        if let Some(s) = &self.snippet {
            write!(f, "\n{s}")?;
        }
        Ok(())
    }
}

/// Every error the host returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Bad input, with its position.
    #[error("{0}")]
    Input(InputError),
    /// Several input errors, all reported at once (e.g. every bad entry of a pipeline).
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n\n"))]
    Many(Vec<InputError>),
    /// A plugin misbehaved at run time (NaN score, score out of range…).
    #[error("plugin `{plugin}` ({point}): {message}")]
    PluginFault {
        /// Plugin name as written in the pipeline.
        plugin: String,
        /// Extension point.
        point: kairos_model::ExtensionPoint,
        /// What it did.
        message: String,
    },
    /// A request that makes no sense for the current state (unknown job id…).
    #[error("{0}")]
    Usage(String),
    /// Policy test cases ran and some did not return what they expected (exit code 1).
    #[error("{failed} of {total} policy test cases failed")]
    TestsFailed {
        /// Cases that failed.
        failed: usize,
        /// Cases run.
        total: usize,
    },
}

impl Error {
    /// True for errors in the user's input (exit code 2).
    pub fn is_input(&self) -> bool {
        matches!(self, Error::Io { .. } | Error::Input(_) | Error::Many(_) | Error::Usage(_))
    }

    /// An input error at `pos` of `path`, with a snippet cut from `source`.
    pub fn at(path: &Path, source: Option<&str>, pos: Pos, message: impl Into<String>) -> Self {
        Error::Input(input_error(path, source, pos, message))
    }

    /// The input errors inside, flattened (empty for other kinds). A file that
    /// could not be read becomes an error about that file without a position.
    pub fn input_errors(&self) -> Vec<InputError> {
        match self {
            Error::Input(e) => vec![e.clone()],
            Error::Many(v) => v.clone(),
            Error::Io { path, source } => vec![InputError {
                path: path.clone(),
                pos: Pos::default(),
                message: format!("cannot read: {source}"),
                snippet: None,
            }],
            _ => Vec::new(),
        }
    }

    /// Combines input errors: none → `Ok`, one → `Input`, more → `Many`.
    pub fn collect(mut errors: Vec<InputError>) -> Result<(), Error> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(Error::Input(errors.remove(0))),
            _ => Err(Error::Many(errors)),
        }
    }
}

/// Builds an [`InputError`] with a snippet of `source` around `pos`.
pub fn input_error(path: &Path, source: Option<&str>, pos: Pos, message: impl Into<String>) -> InputError {
    let message = message.into();
    let snippet = source.and_then(|s| snippet(path, s, pos, &message));
    InputError { path: path.to_owned(), pos, message, snippet }
}

/// Renders up to two lines before `pos` and the line of `pos` with a caret under
/// the column, in the style of rustc and serde-saphyr.
pub fn snippet(path: &Path, source: &str, pos: Pos, message: &str) -> Option<String> {
    if pos.line == 0 {
        return None;
    }
    let lines: Vec<&str> = source.lines().collect();
    let at = pos.line as usize;
    if at > lines.len() {
        return None;
    }
    let first = at.saturating_sub(2).max(1);
    let width = at.to_string().len();
    let mut out = format!("{:width$}--> {}:{}:{}\n{:width$} |\n", "", path.display(), pos.line, pos.col, "");
    for n in first..=at {
        out.push_str(&format!("{n:>width$} | {}\n", lines[n - 1]));
    }
    let col = pos.col.max(1) as usize;
    out.push_str(&format!("{:width$} | {}^ {message}", "", " ".repeat(col - 1)));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_input_error_names_file_line_and_column_and_shows_the_line() {
        let src = "name: x\nscore:\n  - plugin: best-fit\n    weight: 0\n";
        let e = Error::at(Path::new("p.yaml"), Some(src), Pos::new(4, 13), "a score weight must be > 0, got 0");
        insta::assert_snapshot!(e.to_string(), @r"
        p.yaml:4:13: a score weight must be > 0, got 0
         --> p.yaml:4:13
          |
        2 | score:
        3 |   - plugin: best-fit
        4 |     weight: 0
          |             ^ a score weight must be > 0, got 0
        ");
        assert!(e.is_input());
    }

    #[test]
    fn an_error_without_position_names_only_the_file() {
        let e = Error::at(Path::new("w.csv"), None, Pos::default(), "no jobs");
        assert_eq!(e.to_string(), "w.csv: no jobs");
    }
}
