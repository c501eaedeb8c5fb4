//! What a script returns, read at the boundary: every entry point's value is
//! checked here, and anything the point does not accept is an error naming what
//! it accepts, never a silent guess.
//!
//! | point | accepted | refused (examples) |
//! |---|---|---|
//! | filter | `true`; `false` (rejected, [`REJECTED_BY_SCRIPT`], waiting may help); `reject("code")`; `reject_forever("code")`; `#{ reason: "code", permanent: BOOL }` | a bare string (`"busy"`, `"true"`), a map with other keys, a number |
//! | score | an integer or float in `0..=100` | NaN, out of range, a bool, a string |
//! | order, `key` | a finite integer or float | NaN, infinity, a bool, `()` |
//! | order, `before` | `true` or `false` | anything else |
//! | rebalance | `()`, `false`, `"stay"`; `"relocate"`; `#{ migrate: NODE }`; `#{ evict: "code" }` | `true`, other strings, maps with other keys |
//!
//! A reason code is 1 to [`CODE_MAX`] characters, none of them a control
//! character, and not only spaces. Codes are interned once and kept (see
//! [`intern`]).

use kairos_model::{Context, NodeId, Reason, MAX_SCORE};
use rhai::{Dynamic, Engine, EvalAltResult, ImmutableString, Map};

use super::lint;
use super::views::NodeView;

/// The reason of a filter that returned `false`.
pub const REJECTED_BY_SCRIPT: &str = "rejected-by-script";

/// Characters a reason code may have.
pub const CODE_MAX: usize = 64;

/// A rejection a filter script built with `reject` or `reject_forever`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    code: &'static str,
    permanent: bool,
}

impl Rejection {
    fn reason(self) -> Reason {
        if self.permanent {
            Reason::permanent(self.code)
        } else {
            Reason::transient(self.code)
        }
    }
}

/// Checks a reason code a script gave.
pub fn code(c: &str) -> Result<&'static str, String> {
    if c.trim().is_empty() {
        return Err(format!("a reason code must have a word in it, got {c:?}"));
    }
    if c.chars().count() > CODE_MAX || c.chars().any(char::is_control) {
        return Err(format!("a reason code is at most {CODE_MAX} printable characters, got {c:?}"));
    }
    Ok(intern(c))
}

/// Reason codes scripts return are interned once and kept
/// ([`kairos_model::reason::intern_code`]); past its cap, `script-reason`.
pub(crate) fn intern(code: &str) -> &'static str {
    kairos_model::reason::intern_code(code).unwrap_or("script-reason")
}

/// Registers `reject(code)` and `reject_forever(code)`: a bad code is an error
/// where the script calls them.
pub(crate) fn register(e: &mut Engine) {
    e.register_type_with_name::<Rejection>("Rejection");
    e.register_fn("reject", |c: &str| -> Result<Rejection, Box<EvalAltResult>> {
        Ok(Rejection { code: code(c)?, permanent: false })
    });
    e.register_fn("reject_forever", |c: &str| -> Result<Rejection, Box<EvalAltResult>> {
        Ok(Rejection { code: code(c)?, permanent: true })
    });
    e.register_fn("to_string", |r: &mut Rejection| {
        format!("{}(\"{}\")", if r.permanent { "reject_forever" } else { "reject" }, r.code)
    });
    e.register_fn("to_debug", |r: &mut Rejection| {
        format!("{}(\"{}\")", if r.permanent { "reject_forever" } else { "reject" }, r.code)
    });
}

/// A filter script's verdict on one node: `None` lets it through.
pub(crate) fn filter(v: &Dynamic) -> Result<Option<Reason>, String> {
    const SHAPES: &str =
        "a filter returns true, false, reject(\"code\"), reject_forever(\"code\") or #{ reason: \"code\", permanent: BOOL }";
    if let Ok(pass) = v.as_bool() {
        return Ok((!pass).then(|| Reason::transient(REJECTED_BY_SCRIPT)));
    }
    if let Some(r) = v.read_lock::<Rejection>() {
        return Ok(Some(r.reason()));
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return Err(lint::bare_string(&s));
    }
    if let Some(m) = v.read_lock::<Map>() {
        if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "reason" | "permanent")) {
            return Err(format!("returned a map with the key `{k}`; {SHAPES}"));
        }
        let c = match m.get("reason").map(|r| r.read_lock::<ImmutableString>().map(|s| s.to_string())) {
            Some(Some(c)) => code(&c)?,
            Some(None) => return Err(format!("`reason` must be a string, got {}", m["reason"].type_name())),
            None => return Err(format!("a rejection map needs a string `reason`; {SHAPES}")),
        };
        let permanent = match m.get("permanent").map(Dynamic::as_bool) {
            None => false,
            Some(Ok(b)) => b,
            Some(Err(t)) => return Err(format!("`permanent` must be true or false, got {t}")),
        };
        return Ok(Some(Rejection { code: c, permanent }.reason()));
    }
    Err(format!("returned {}; {SHAPES}", v.type_name()))
}

/// A number a script returned, as `f64`.
fn number(v: &Dynamic) -> Option<f64> {
    v.as_float().ok().or_else(|| v.as_int().ok().map(|i| i as f64))
}

/// A score script's score of one node.
pub(crate) fn score(v: &Dynamic) -> Result<f64, String> {
    match number(v) {
        Some(x) if (0.0..=MAX_SCORE).contains(&x) => Ok(x),
        Some(x) => Err(format!("returned {x}; a score must be within 0..=100")),
        None => Err(format!("returned {}; expected a number", v.type_name())),
    }
}

/// An order script's key for one job.
pub(crate) fn key(v: &Dynamic) -> Result<f64, String> {
    match number(v) {
        Some(x) if x.is_finite() => Ok(x),
        _ => Err(format!("returned {v}; expected a finite number")),
    }
}

/// An order script's comparison of two jobs.
pub(crate) fn before(v: &Dynamic) -> Result<bool, String> {
    v.as_bool().map_err(|t| format!("returned {v} ({t}); expected true or false"))
}

/// What a rebalance script says about one running job.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Proposal {
    Stay,
    Relocate,
    Migrate(NodeId),
    Evict(&'static str),
}

/// What a rebalance script returned, read against the cluster of `cx`.
pub(crate) fn rebalance(v: &Dynamic, cx: &Context<'_>) -> Result<Proposal, String> {
    const SHAPES: &str = "expected (), false, \"stay\", \"relocate\", #{ migrate: NODE } or #{ evict: \"code\" }";
    if v.is_unit() || v.as_bool() == Ok(false) {
        return Ok(Proposal::Stay);
    }
    if let Some(s) = v.read_lock::<ImmutableString>() {
        return match s.as_str() {
            "relocate" => Ok(Proposal::Relocate),
            "stay" => Ok(Proposal::Stay),
            other => Err(format!("returned \"{other}\"; {SHAPES}")),
        };
    }
    if let Some(m) = v.read_lock::<Map>() {
        let keys: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
        return match keys.as_slice() {
            ["migrate"] => {
                let target = &m["migrate"];
                let name = if let Some(n) = target.read_lock::<NodeView>() {
                    n.name().to_string()
                } else if let Some(s) = target.read_lock::<ImmutableString>() {
                    s.to_string()
                } else {
                    return Err(format!("`migrate` must be a node or a node name, got {}", target.type_name()));
                };
                match cx.nodes.names.iter().position(|n| *n == name) {
                    Some(to) => Ok(Proposal::Migrate(to as NodeId)),
                    None => Err(format!("`migrate` names node `{name}`, which the cluster does not have")),
                }
            }
            ["evict"] => match m["evict"].read_lock::<ImmutableString>() {
                Some(c) => Ok(Proposal::Evict(code(&c).map_err(|e| format!("`evict`: {e}"))?)),
                None => Err(format!("`evict` must be a reason code, got {}", m["evict"])),
            },
            _ => Err(format!("returned a map with keys {keys:?}; {SHAPES}")),
        };
    }
    Err(format!("returned {}; {SHAPES}", v.type_name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter_of(src: &str) -> String {
        let e = super::super::sandbox::engine(Default::default());
        super::super::sandbox::start_call();
        let v = e.eval::<Dynamic>(src);
        super::super::sandbox::end_call();
        match v.map_err(|e| e.to_string()).and_then(|v| filter(&v)) {
            Ok(None) => "pass".into(),
            Ok(Some(r)) => format!("{} {}", r.code, if r.unresolvable { "permanent" } else { "transient" }),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn a_filter_rejects_only_in_so_many_words() {
        let cases = [
            ("true lets the node through", "true", "pass"),
            ("false rejects it, and waiting may help", "false", "rejected-by-script transient"),
            ("reject names the reason", "reject(\"busy\")", "busy transient"),
            ("reject_forever says waiting cannot help", "reject_forever(\"band\")", "band permanent"),
            ("a map says both", "#{ reason: \"band\", permanent: true }", "band permanent"),
            ("a map without permanent is transient", "#{ reason: \"busy\" }", "busy transient"),
            (
                "a bare string is refused",
                "\"true\"",
                "error: returns the string \"true\"; a filter's rejection must be explicit",
            ),
            (
                "a misspelt key is refused",
                "#{ reason: \"x\", permanet: true }",
                "error: returned a map with the key `permanet`",
            ),
            (
                "permanent must be a bool",
                "#{ reason: \"x\", permanent: \"yes\" }",
                "error: `permanent` must be true or false",
            ),
            ("a reason must be a string", "#{ reason: 3 }", "error: `reason` must be a string"),
            (
                "an empty code is refused where it is made",
                "reject(\" \")",
                "error: Runtime error: a reason code must have a word in it",
            ),
            ("a number is not a verdict", "1", "error: returned i64; a filter returns true, false, reject"),
        ];
        for (name, src, want) in cases {
            let got = filter_of(src);
            assert!(got.starts_with(want), "{name}: {got}");
        }
    }

    #[test]
    fn other_points_take_only_what_they_document() {
        let v = |x: Dynamic| x;
        assert_eq!(score(&v(Dynamic::from_int(40))), Ok(40.0));
        assert!(score(&v(Dynamic::from_bool(true))).unwrap_err().contains("expected a number"));
        assert!(score(&v(Dynamic::from_float(f64::NAN))).unwrap_err().contains("within 0..=100"));
        assert!(key(&v(Dynamic::UNIT)).unwrap_err().contains("expected a finite number"));
        assert!(key(&v(Dynamic::from_float(f64::INFINITY))).unwrap_err().contains("expected a finite number"));
        assert!(before(&v(Dynamic::from_int(1))).unwrap_err().contains("expected true or false"));
    }
}
