//! [`Fields`]: a plugin's args, read field by field with errors that name the
//! field's path and what was expected.

use crate::json;

/// Reads an object of args field by field, refusing unknown fields: the
/// counterpart of serde's `deny_unknown_fields` for [`json::Value`].
///
/// Each reader returns `Ok(None)` when the field is absent, and an error that
/// names the field's path and says what was expected when it has another type
/// (`` `weights.cpu`: expected a number, got "high" ``); the host shows such an
/// error at the field's line and column in the pipeline file.
///
/// ```
/// use kairos_abi::{json, sdk::Fields};
/// let args = json::parse(r#"{ "weight": 2, "band": "X", "strict": true, "stations": ["Kiruna"],
///                            "limits": { "cpu": 4 } }"#).unwrap();
/// let mut f = Fields::new(&args).unwrap();
/// assert_eq!(f.number("weight").unwrap(), Some(2.0));
/// assert_eq!(f.string("band").unwrap(), Some("X"));
/// assert_eq!(f.bool("strict").unwrap(), Some(true));
/// assert_eq!(f.strings("stations").unwrap(), Some(vec!["Kiruna"]));
/// let mut limits = f.fields("limits").unwrap().expect("present");
/// assert_eq!(limits.integer("cpu").unwrap(), Some(4));
/// limits.finish().unwrap();
/// assert_eq!(f.string("absent").unwrap(), None);
/// f.finish().unwrap();
///
/// let bad = json::parse(r#"{ "limits": { "cpu": 1.5, "gpu": 1 } }"#).unwrap();
/// let mut f = Fields::new(&bad).unwrap();
/// let mut limits = f.fields("limits").unwrap().unwrap();
/// assert_eq!(limits.integer("cpu").unwrap_err(), "`limits.cpu`: expected a whole number, got 1.5");
/// assert_eq!(limits.finish().unwrap_err(), "`limits`: unknown field `gpu`, expected one of: cpu");
/// ```
pub struct Fields<'a> {
    map: Option<&'a std::collections::BTreeMap<String, json::Value>>,
    seen: Vec<&'a str>,
    /// The path of this object in the args (empty at the top).
    path: String,
}

impl<'a> Fields<'a> {
    /// Starts reading `args`, which must be an object or `null`.
    pub fn new(args: &'a json::Value) -> Result<Fields<'a>, String> {
        Self::at(args, String::new())
    }

    fn at(args: &'a json::Value, path: String) -> Result<Fields<'a>, String> {
        match args {
            json::Value::Null => Ok(Fields { map: None, seen: Vec::new(), path }),
            json::Value::Object(m) => Ok(Fields { map: Some(m), seen: Vec::new(), path }),
            other if path.is_empty() => Err(format!("args must be a mapping, got {}", describe(other))),
            other => Err(format!("`{path}`: expected a mapping, got {}", describe(other))),
        }
    }

    /// The path of field `key` (`limits.cpu`).
    pub fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// An error about field `key`, in the form the host positions:
    /// `` `limits.cpu`: {what} ``. For checks of the plugin's own
    /// (`f.invalid("spare", "must be >= 0")`).
    pub fn invalid(&self, key: &str, what: impl std::fmt::Display) -> String {
        format!("`{}`: {what}", self.path(key))
    }

    /// Field `key`, if present.
    pub fn get(&mut self, key: &'a str) -> Option<&'a json::Value> {
        self.seen.push(key);
        self.map.and_then(|m| m.get(key))
    }

    /// Field `key` read by `read`, which says what it expected when it returns `None`.
    fn typed<T>(
        &mut self,
        key: &'a str,
        expected: &str,
        read: impl FnOnce(&'a json::Value) -> Option<T>,
    ) -> Result<Option<T>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => {
                read(v).map(Some).ok_or_else(|| self.invalid(key, format!("expected {expected}, got {}", describe(v))))
            }
        }
    }

    /// Number field `key`, if present.
    pub fn number(&mut self, key: &'a str) -> Result<Option<f64>, String> {
        self.typed(key, "a number", json::Value::as_f64)
    }

    /// Whole-number field `key`, if present.
    pub fn integer(&mut self, key: &'a str) -> Result<Option<i64>, String> {
        self.typed(key, "a whole number", |v| v.as_f64().and_then(whole))
    }

    /// String field `key`, if present.
    pub fn string(&mut self, key: &'a str) -> Result<Option<&'a str>, String> {
        self.typed(key, "a string", json::Value::as_str)
    }

    /// Boolean field `key` (`true` or `false`), if present.
    pub fn bool(&mut self, key: &'a str) -> Result<Option<bool>, String> {
        self.typed(key, "true or false", |v| match v {
            json::Value::Bool(b) => Some(*b),
            _ => None,
        })
    }

    /// List field `key`, if present, its items of any type.
    pub fn list(&mut self, key: &'a str) -> Result<Option<&'a [json::Value]>, String> {
        self.typed(key, "a list", |v| match v {
            json::Value::Array(a) => Some(a.as_slice()),
            _ => None,
        })
    }

    /// List-of-strings field `key`, if present.
    pub fn strings(&mut self, key: &'a str) -> Result<Option<Vec<&'a str>>, String> {
        self.items(key, "a string", json::Value::as_str)
    }

    /// List-of-numbers field `key`, if present.
    pub fn numbers(&mut self, key: &'a str) -> Result<Option<Vec<f64>>, String> {
        self.items(key, "a number", json::Value::as_f64)
    }

    /// A list whose every item `read` accepts; an error names the item.
    fn items<T>(
        &mut self,
        key: &'a str,
        expected: &str,
        read: impl Fn(&'a json::Value) -> Option<T>,
    ) -> Result<Option<Vec<T>>, String> {
        let Some(list) = self.list(key)? else { return Ok(None) };
        list.iter()
            .enumerate()
            .map(|(i, v)| {
                read(v).ok_or_else(|| {
                    self.invalid(&format!("{key}[{i}]"), format!("expected {expected}, got {}", describe(v)))
                })
            })
            .collect::<Result<Vec<T>, String>>()
            .map(Some)
    }

    /// Mapping field `key`, if present, with keys of the user's choosing (for
    /// a mapping of known fields, read it with [`Fields::fields`]).
    pub fn map(&mut self, key: &'a str) -> Result<Option<&'a std::collections::BTreeMap<String, json::Value>>, String> {
        self.typed(key, "a mapping", json::Value::as_object)
    }

    /// Mapping field `key`, if present, read field by field like the args
    /// themselves (call [`Fields::finish`] on it too); errors name its path.
    pub fn fields(&mut self, key: &'a str) -> Result<Option<Fields<'a>>, String> {
        let path = self.path(key);
        match self.get(key) {
            None => Ok(None),
            Some(v) => Fields::at(v, path).map(Some),
        }
    }

    /// Ends reading: an unknown field is an error naming it and the known ones.
    pub fn finish(self) -> Result<(), String> {
        let Some(m) = self.map else { return Ok(()) };
        match m.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(k) => {
                let what = format!("unknown field `{k}`, expected one of: {}", self.seen.join(", "));
                Err(if self.path.is_empty() { what } else { format!("`{}`: {what}", self.path) })
            }
            None => Ok(()),
        }
    }
}

/// `n` as a whole number, if it is one that fits an `i64`.
fn whole(n: f64) -> Option<i64> {
    // 2^63 is the first f64 past i64::MAX; -2^63 is i64::MIN itself.
    (n.fract() == 0.0 && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&n)).then_some(n as i64)
}

/// A value as an error message shows it: a scalar as written (a long string
/// cut), a list or mapping by kind.
fn describe(v: &json::Value) -> String {
    match v {
        json::Value::Null => "null".into(),
        json::Value::Bool(b) => b.to_string(),
        json::Value::Number(n) => n.to_string(),
        json::Value::String(s) if s.chars().count() > 40 => format!("{:?}…", s.chars().take(40).collect::<String>()),
        json::Value::String(s) => format!("{s:?}"),
        json::Value::Array(_) => "a list".into(),
        json::Value::Object(_) => "a mapping".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> json::Value {
        json::parse(text).unwrap()
    }

    #[test]
    fn each_reader_takes_its_type_and_names_the_field_when_it_gets_another() {
        type Read = fn(&mut Fields<'_>) -> Result<String, String>;
        let cases: [(&str, &str, Read, Result<&str, &str>); 14] = [
            ("a number", r#"{"x": 2.5}"#, |f| f.number("x").map(|v| format!("{v:?}")), Ok("Some(2.5)")),
            ("an absent field is None", r#"{}"#, |f| f.number("x").map(|v| format!("{v:?}")), Ok("None")),
            ("null args read as absent fields", "null", |f| f.string("x").map(|v| format!("{v:?}")), Ok("None")),
            (
                "a string for a number",
                r#"{"x": "high"}"#,
                |f| f.number("x").map(|v| format!("{v:?}")),
                Err("`x`: expected a number, got \"high\""),
            ),
            ("a whole number", r#"{"x": 4}"#, |f| f.integer("x").map(|v| format!("{v:?}")), Ok("Some(4)")),
            (
                "a fraction for a whole number",
                r#"{"x": 1.5}"#,
                |f| f.integer("x").map(|v| format!("{v:?}")),
                Err("`x`: expected a whole number, got 1.5"),
            ),
            (
                "a number past i64",
                r#"{"x": 1e19}"#,
                |f| f.integer("x").map(|v| format!("{v:?}")),
                Err("`x`: expected a whole number, got 10000000000000000000"),
            ),
            ("a string", r#"{"x": "S,X"}"#, |f| f.string("x").map(|v| format!("{v:?}")), Ok("Some(\"S,X\")")),
            (
                "a number for a string",
                r#"{"x": 3}"#,
                |f| f.string("x").map(|v| format!("{v:?}")),
                Err("`x`: expected a string, got 3"),
            ),
            ("a bool", r#"{"x": false}"#, |f| f.bool("x").map(|v| format!("{v:?}")), Ok("Some(false)")),
            (
                "a string for a bool",
                r#"{"x": "yes"}"#,
                |f| f.bool("x").map(|v| format!("{v:?}")),
                Err("`x`: expected true or false, got \"yes\""),
            ),
            (
                "a list of strings",
                r#"{"x": ["a", "b"]}"#,
                |f| f.strings("x").map(|v| format!("{v:?}")),
                Ok("Some([\"a\", \"b\"])"),
            ),
            (
                "a list with an item of another type",
                r#"{"x": [1, "b"]}"#,
                |f| f.numbers("x").map(|v| format!("{v:?}")),
                Err("`x[1]`: expected a number, got \"b\""),
            ),
            (
                "a mapping for a list",
                r#"{"x": {"a": 1}}"#,
                |f| f.list("x").map(|v| format!("{v:?}")),
                Err("`x`: expected a list, got a mapping"),
            ),
        ];
        for (name, text, read, want) in cases {
            let a = args(text);
            let mut f = Fields::new(&a).unwrap();
            assert_eq!(read(&mut f).as_deref(), want.map_err(str::to_owned).as_deref(), "{name}");
        }
    }

    #[test]
    fn nested_mappings_are_read_field_by_field_and_their_errors_carry_the_path() {
        let a = args(r#"{"limits": {"cpu": 4, "gpu": {"count": "two"}}, "extra": 1}"#);
        let mut f = Fields::new(&a).unwrap();
        let mut limits = f.fields("limits").unwrap().expect("present");
        assert_eq!(limits.integer("cpu").unwrap(), Some(4));
        let mut gpu = limits.fields("gpu").unwrap().expect("present");
        assert_eq!(gpu.integer("count").unwrap_err(), "`limits.gpu.count`: expected a whole number, got \"two\"");
        assert_eq!(gpu.invalid("count", "must be > 0"), "`limits.gpu.count`: must be > 0");
        assert!(limits.finish().is_ok());
        assert_eq!(f.finish().unwrap_err(), "unknown field `extra`, expected one of: limits");
        let a = args(r#"{"limits": [1]}"#);
        let err = Fields::new(&a).unwrap().fields("limits").err();
        assert_eq!(err.as_deref(), Some("`limits`: expected a mapping, got a list"));
    }

    #[test]
    fn a_long_string_is_cut_in_messages() {
        let a = args(&format!(r#"{{"x": "{}"}}"#, "y".repeat(100)));
        let err = Fields::new(&a).unwrap().number("x").unwrap_err();
        assert_eq!(err, format!("`x`: expected a number, got {:?}…", "y".repeat(40)));
    }
}
