//! Reading YAML with positions.
//!
//! kairos reads every YAML file through [`parse`], which uses serde-saphyr (a
//! maintained serde YAML crate whose errors carry line and column) and turns its
//! errors into [`InputError`](crate::error::InputError)s naming the file. Structures that need positions for
//! checks serde cannot express (a weight ≤ 0, an unknown plugin) wrap those fields
//! in [`Spanned`].

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
pub use serde_saphyr::Spanned;

use crate::error::{input_error, Error, Pos};

/// Parses `text`, read from `path`, as `T`.
pub fn parse<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Error> {
    serde_saphyr::from_str::<T>(text).map_err(|e| {
        let pos = e.location().map_or(Pos::default(), |l| Pos::new(l.line(), l.column()));
        let message = expected(&headline(&e.to_string()), token_at(text, pos));
        Error::Input(input_error(path, Some(text), pos, message))
    })
}

/// Reads and parses the YAML file at `path`; returns the value and the text (for
/// later positioned errors).
pub fn load<T: DeserializeOwned>(path: &Path) -> Result<(T, String), Error> {
    let text = read(path)?;
    let value = parse(path, &text)?;
    Ok((value, text))
}

/// Reads a YAML (or script) file, with the path in the error: a regular file
/// of at most [`crate::limits::MAX_YAML_BYTES`] (see [`crate::input`]).
pub fn read(path: &Path) -> Result<String, Error> {
    crate::input::read_text(path, crate::limits::MAX_YAML_BYTES)
}

/// Resolves `relative` against the directory of the file that named it.
pub fn resolve(base_file: &Path, relative: &str) -> PathBuf {
    let p = Path::new(relative);
    if p.is_absolute() {
        return p.to_owned();
    }
    base_file.parent().map_or_else(|| p.to_owned(), |d| d.join(p))
}

/// serde-saphyr's message without its own "error: line L column C:" prefix and
/// snippet (we render both ourselves, with the file name).
fn headline(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    let first = first.strip_prefix("error: ").unwrap_or(first);
    match first.find(": ") {
        Some(i) if first.starts_with("line ") => first[i + 2..].to_owned(),
        _ => first.to_owned(),
    }
}

/// serde-saphyr's terse "invalid u64" and the like, said as what was expected
/// and what was found.
fn expected(message: &str, found: Option<&str>) -> String {
    let Some(what) = message.strip_prefix("invalid ").and_then(kairos_model::plugin::plain_type) else {
        return message.to_owned();
    };
    match found {
        Some(t) => format!("expected {what}, got `{t}`"),
        None => format!("expected {what}"),
    }
}

/// The scalar that starts at `pos` in `text` (up to a flow delimiter or a
/// comment), if any.
fn token_at(text: &str, pos: Pos) -> Option<&str> {
    let line = text.lines().nth((pos.line as usize).checked_sub(1)?)?;
    let start = line.char_indices().nth((pos.col as usize).checked_sub(1)?)?.0;
    let rest = &line[start..];
    let end = rest.find([',', '}', ']', '#']).unwrap_or(rest.len());
    Some(rest[..end].trim()).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        #[serde(default)]
        weight: Option<Spanned<f64>>,
        #[serde(default)]
        count: Option<Count>,
        #[serde(default)]
        flag: Option<bool>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Count {
        n: u64,
    }

    #[test]
    fn yaml_errors_name_the_file_line_and_column() {
        let cases = [
            (
                "an unknown field",
                "name: x\nbogus: 1\n",
                "doc.yaml:2:1: unknown field `bogus`, expected one of name, weight",
            ),
            ("a missing field", "weight: 1\n", "doc.yaml:1:1: missing field `name`"),
            ("a wrong type", "name: [x\n", "doc.yaml:1:7: expected string scalar"),
            ("a word for a number", "name: x\nweight: abc\n", "doc.yaml:2:9: expected a number, got `abc`"),
            (
                "a negative count in a flow mapping",
                "name: x\ncount: { n: -2 }\n",
                "doc.yaml:2:13: expected a whole number ≥ 0, got `-2`",
            ),
            ("a word for a flag", "name: x\nflag: maybe # no\n", "doc.yaml:2:7: expected true or false, got `maybe`"),
        ];
        for (case, text, want) in cases {
            let err = parse::<Doc>(Path::new("doc.yaml"), text).unwrap_err().to_string();
            assert!(err.starts_with(want), "{case}: got {err}");
            assert!(err.contains("--> doc.yaml:"), "{case}: snippet names the file: {err}");
        }
    }

    #[test]
    fn spanned_fields_keep_their_position() {
        let d: Doc = parse(Path::new("d.yaml"), "name: x\nweight: 3\n").unwrap();
        assert_eq!(Pos::of(d.weight.as_ref().unwrap()), Pos::new(2, 9));
    }
}
