//! Every value a native plugin hands back, checked at the boundary before the
//! host uses it.
//!
//! A plugin is code the host cannot vouch for: a verdict may name a resource
//! the cluster does not have, a move a job that is not running, a reason code
//! may be a megabyte long. Each function here turns one value into the host's
//! types, or returns a message saying what is wrong with it (naming the node,
//! the job or the value). The adapters (`adapter.rs`, `c_abi.rs`)
//! hand such a message to `Shared::failed`: the call counts as a failed call of
//! the plugin, and the entry's `on_error` decides what happens next, as for a
//! plugin that returned an error itself. Nothing a plugin returns can index out
//! of bounds, overflow or grow the host without bound.
//!
//! | value | valid when |
//! |---|---|
//! | filter verdict | a rejection's code is a [reason code](code); its resource, if any, is a dimension of the cluster |
//! | score | a number within `0..=100` (not NaN) |
//! | order key | a finite number |
//! | rebalance move | its job is one of the running jobs the call was given, at most one move per job; a migration's target is a node of the table; an eviction's code is a reason code |
//! | partition key | a label key is a [name](code) |
//! | error message | any text; kept to its first [`MAX_MESSAGE`] bytes |
//! | manifest | names are 1..=[`MAX_NAME`] bytes without spaces or control characters, unique per point, at most [`MAX_PLUGINS`] of them |

use std::collections::HashSet;

use kairos_abi::abi_stable::std_types::RStr;
use kairos_abi::{MoveView, Verdict};
use kairos_model::{JobId, Move, NodeId, Reason, ResourceSpace, Running, MAX_SCORE};

use super::adapter::intern;
use super::load::NativeInfo;

/// The longest reason code, in bytes. Codes are short kebab-case words
/// (`no-spare`, `insufficient`); the longest built-in is 17 bytes.
pub const MAX_CODE: usize = 64;

/// The longest plugin name in a manifest, in bytes.
pub const MAX_NAME: usize = 128;

/// The most plugins one library may offer: a manifest longer than this is not
/// a plugin library's (the C ABI reads the count from the library).
pub const MAX_PLUGINS: usize = 256;

/// The longest error message kept from a plugin, in bytes: enough for a
/// sentence and a location, not enough to flood a report.
pub const MAX_MESSAGE: usize = 1000;

/// A reason code (or a label key): 1..=[`MAX_CODE`] bytes of ASCII letters,
/// digits, `-`, `_`, `.`, `:` and `/`. Interned, so that a rejection stays `Copy`.
pub fn code(bytes: &[u8]) -> Result<&'static str, String> {
    let show = || {
        let s = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_CODE)]).into_owned();
        if bytes.len() > MAX_CODE {
            format!("{s:?}…")
        } else {
            format!("{s:?}")
        }
    };
    if bytes.is_empty() {
        return Err("an empty reason code".into());
    }
    if bytes.len() > MAX_CODE {
        return Err(format!("a reason code of {} bytes ({}); at most {MAX_CODE} are allowed", bytes.len(), show()));
    }
    if !bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:/".contains(b)) {
        return Err(format!(
            "the reason code {}; a code is made of ASCII letters, digits, `-`, `_`, `.`, `:` and `/`",
            show()
        ));
    }
    // SAFETY: every byte was just checked to be ASCII.
    Ok(intern(unsafe { std::str::from_utf8_unchecked(bytes) }))
}

/// The bytes of a string a Rust plugin returned (not trusted to be UTF-8).
pub fn bytes<'a>(s: &RStr<'a>) -> &'a [u8] {
    s.as_rslice().as_slice()
}

/// A filter's verdict on `node`: `None` when it passes, the rejection as data
/// otherwise.
pub fn verdict(v: &Verdict, node: &str, resources: &ResourceSpace) -> Result<Option<Reason>, String> {
    if v.pass {
        return Ok(None);
    }
    let code = code(bytes(&v.code)).map_err(|e| format!("its verdict on node `{node}` has {e}"))?;
    let resource = match v.resource.into_option() {
        None => None,
        Some(d) if (d as usize) < resources.dims() => Some(d as u16),
        Some(d) => {
            return Err(format!(
                "its verdict on node `{node}` names resource {d}, but the cluster has {} ({}: indices 0..{})",
                plural(resources.dims(), "resource"),
                resources.names().join(", "),
                resources.dims()
            ))
        }
    };
    Ok(Some(Reason { code, resource, requested: v.requested, free: v.free, unresolvable: v.permanent }))
}

/// A score for `node`.
pub fn score(v: f64, node: &str) -> Result<(), String> {
    if (0.0..=MAX_SCORE).contains(&v) {
        Ok(())
    } else {
        Err(format!("returned {v} for node {node}; a score must be within 0..=100"))
    }
}

/// An order key.
pub fn key(k: f64) -> Result<(), String> {
    if k.is_finite() {
        Ok(())
    } else {
        Err(format!("returned {k}; an order key must be a finite number"))
    }
}

/// A rebalance plugin's proposal, given the running jobs the call was given and
/// the node table's size: the moves in the host's types, or what is wrong with
/// the first bad one (the whole proposal is then refused).
pub fn moves(proposed: &[MoveView], running: &[Running], nodes: usize) -> Result<Vec<Move>, String> {
    if proposed.len() > running.len() {
        return Err(format!(
            "proposed {} moves for {}; at most one move per running job",
            proposed.len(),
            plural(running.len(), "running job")
        ));
    }
    let is_running: HashSet<JobId> = running.iter().map(|r| r.job).collect();
    let mut seen = HashSet::with_capacity(proposed.len());
    proposed
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let at = || format!("its move #{i} (job index {})", m.job);
            if !is_running.contains(&m.job) {
                return Err(format!("{} names a job that is not among the running jobs it was given", at()));
            }
            if !seen.insert(m.job) {
                return Err(format!("{} moves a job another move of the same call already moves", at()));
            }
            if m.migrate {
                if m.to as usize >= nodes {
                    return Err(format!(
                        "{} migrates it to node {}, but the table has {} (indices 0..{nodes})",
                        at(),
                        m.to,
                        plural(nodes, "node")
                    ));
                }
                Ok(Move::Migrate { job: m.job, to: m.to as NodeId })
            } else {
                let reason = code(bytes(&m.reason)).map_err(|e| format!("{} evicts it with {e}", at()))?;
                Ok(Move::Evict { job: m.job, reason })
            }
        })
        .collect()
}

/// A plugin's error message, kept to its first [`MAX_MESSAGE`] bytes (at a
/// character boundary).
pub fn message(text: &str) -> String {
    if text.len() <= MAX_MESSAGE {
        return text.to_owned();
    }
    let mut end = MAX_MESSAGE;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// A library's manifest: what is wrong with it, if anything.
pub fn manifest(plugins: &[NativeInfo]) -> Result<(), String> {
    if plugins.len() > MAX_PLUGINS {
        return Err(format!("it lists {} plugins; at most {MAX_PLUGINS} are allowed", plugins.len()));
    }
    let mut seen = HashSet::new();
    for (i, p) in plugins.iter().enumerate() {
        name(&p.name).map_err(|e| format!("its plugin #{i}: {e}"))?;
        if !seen.insert((p.point, p.name.as_str())) {
            return Err(format!("it lists {} plugin `{}` twice", p.point, p.name));
        }
    }
    Ok(())
}

/// A plugin name: 1..=[`MAX_NAME`] bytes, no whitespace or control characters.
pub fn name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a plugin without a name".into());
    }
    if name.len() > MAX_NAME {
        return Err(format!("a plugin name of {} bytes; at most {MAX_NAME} are allowed", name.len()));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("the plugin name {name:?} has a space or a control character"));
    }
    Ok(())
}

/// "1 node", "3 nodes".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kairos_abi::abi_stable::std_types::ROption;
    use kairos_model::ExtensionPoint;

    fn resources() -> ResourceSpace {
        ResourceSpace::new(["cpu", "memory"])
    }

    #[test]
    fn verdicts_that_name_what_the_cluster_has_become_rejections_and_others_are_refused() {
        let shortfall = Verdict::shortfall("insufficient", 1, 8, 2, false);
        type Case = (&'static str, Verdict, Result<Option<Reason>, &'static str>);
        let cases: [Case; 7] = [
            ("a pass is no rejection", Verdict::PASS, Ok(None)),
            (
                "a pass ignores the other fields, however odd",
                Verdict { resource: ROption::RSome(99), code: RStr::from_str(""), ..Verdict::PASS },
                Ok(None),
            ),
            ("a transient code is kept", Verdict::transient("too-hot"), Ok(Some(Reason::transient("too-hot")))),
            (
                "a shortfall of a declared resource is kept as data",
                shortfall,
                Ok(Some(Reason::resource("insufficient", 1, 8, 2, false))),
            ),
            (
                "a resource index past the cluster's dimensions is refused",
                Verdict::shortfall("insufficient", 99, 1, 0, false),
                Err("its verdict on node `n1` names resource 99, but the cluster has 2 resources (cpu, memory: indices 0..2)"),
            ),
            (
                "a resource index that would wrap around u16 is refused",
                Verdict::shortfall("insufficient", 65_537, 1, 0, false),
                Err("its verdict on node `n1` names resource 65537, but the cluster has 2 resources (cpu, memory: indices 0..2)"),
            ),
            ("an empty code is refused", Verdict::transient(""), Err("its verdict on node `n1` has an empty reason code")),
        ];
        for (name, v, want) in cases {
            let got = verdict(&v, "n1", &resources());
            match (got, want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{name}"),
                (Err(g), Err(w)) => assert_eq!(g, w, "{name}"),
                (g, w) => panic!("{name}: got {g:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn reason_codes_are_short_words_and_anything_else_is_refused() {
        let long = "x".repeat(MAX_CODE + 1);
        let cases: [(&str, &[u8], Result<&str, &str>); 6] = [
            ("a kebab-case word", b"no-spare", Ok("no-spare")),
            ("a namespaced code", b"vendor.band:S", Ok("vendor.band:S")),
            ("the longest code", &[b'a'; MAX_CODE], Ok(&*"a".repeat(MAX_CODE).leak())),
            ("one byte too long", long.as_bytes(), Err("a reason code of 65 bytes")),
            ("a space", b"too hot", Err("the reason code \"too hot\"; a code is made of")),
            ("bytes that are not UTF-8", b"\xff\xfe", Err("the reason code \"\u{fffd}\u{fffd}\"")),
        ];
        for (name, bytes, want) in cases {
            match (code(bytes), want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{name}"),
                (Err(g), Err(w)) => assert!(g.starts_with(w), "{name}: {g}"),
                (g, w) => panic!("{name}: got {g:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn scores_and_keys_must_be_numbers_in_range() {
        let scores = [
            ("0 is the lowest score", 0.0, true),
            ("100 is the highest", 100.0, true),
            ("NaN is refused", f64::NAN, false),
            ("infinity is refused", f64::INFINITY, false),
            ("a negative score is refused", -0.5, false),
        ];
        for (name, v, ok) in scores {
            assert_eq!(score(v, "n1").is_ok(), ok, "{name}");
        }
        let keys = [
            ("a large key is fine", f64::MAX, true),
            ("a negative key is fine", -1e300, true),
            ("NaN is refused", f64::NAN, false),
            ("+infinity is refused", f64::INFINITY, false),
            ("-infinity is refused", f64::NEG_INFINITY, false),
        ];
        for (name, k, ok) in keys {
            assert_eq!(key(k).is_ok(), ok, "{name}");
        }
    }

    #[test]
    fn moves_must_name_running_jobs_once_and_nodes_of_the_table() {
        let running = [
            Running { job: 3, node: 0, started: 0, expected_end: 10 },
            Running { job: 7, node: 1, started: 0, expected_end: 10 },
        ];
        let migrate = |job, to| MoveView { migrate: true, job, to, reason: RStr::from_str("") };
        let evict = |job, reason| MoveView { migrate: false, job, to: 0, reason: RStr::from_str(reason) };
        type Case = (&'static str, Vec<MoveView>, Result<Vec<Move>, &'static str>);
        let cases: [Case; 7] = [
            ("no move", vec![], Ok(vec![])),
            (
                "a migration and an eviction of running jobs",
                vec![migrate(3, 1), evict(7, "drain")],
                Ok(vec![Move::Migrate { job: 3, to: 1 }, Move::Evict { job: 7, reason: "drain" }]),
            ),
            (
                "a job that is not running",
                vec![migrate(4, 1)],
                Err("its move #0 (job index 4) names a job that is not among the running jobs"),
            ),
            (
                "a job index far out of range",
                vec![evict(u32::MAX, "x")],
                Err("its move #0 (job index 4294967295) names a job"),
            ),
            (
                "a target past the table",
                vec![migrate(3, 2)],
                Err("its move #0 (job index 3) migrates it to node 2, but the table has 2 nodes (indices 0..2)"),
            ),
            (
                "the same job twice",
                vec![migrate(3, 1), evict(3, "x")],
                Err("its move #1 (job index 3) moves a job another move of the same call already moves"),
            ),
            (
                "more moves than running jobs",
                vec![evict(3, "a"), evict(7, "b"), evict(3, "c")],
                Err("proposed 3 moves for 2 running jobs; at most one move per running job"),
            ),
        ];
        for (name, proposed, want) in cases {
            match (moves(&proposed, &running, 2), want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{name}"),
                (Err(g), Err(w)) => assert!(g.starts_with(w), "{name}: {g}"),
                (g, w) => panic!("{name}: got {g:?}, want {w:?}"),
            }
        }
    }

    #[test]
    fn a_long_message_is_cut_at_a_character_boundary() {
        let text = "é".repeat(MAX_MESSAGE);
        let cut = message(&text);
        assert!(cut.starts_with(&"é".repeat(MAX_MESSAGE / 2)), "{cut}");
        assert!(cut.ends_with(&format!("… ({} bytes in all)", 2 * MAX_MESSAGE)), "{cut}");
        assert_eq!(message("short"), "short");
    }

    #[test]
    fn manifests_with_nameless_or_repeated_plugins_are_refused() {
        let info = |name: &str, point| NativeInfo {
            name: name.into(),
            point,
            summary: String::new(),
            args_schema: "{}".into(),
        };
        let cases = [
            (
                "distinct names",
                vec![info("vendor.a", ExtensionPoint::Score), info("vendor.b", ExtensionPoint::Score)],
                None,
            ),
            (
                "one name at two points",
                vec![info("vendor.a", ExtensionPoint::Score), info("vendor.a", ExtensionPoint::Filter)],
                None,
            ),
            (
                "a nameless plugin",
                vec![info("", ExtensionPoint::Score)],
                Some("its plugin #0: a plugin without a name"),
            ),
            (
                "a name with a newline",
                vec![info("vendor.a\nplugin", ExtensionPoint::Score)],
                Some("its plugin #0: the plugin name \"vendor.a\\nplugin\" has a space or a control character"),
            ),
            (
                "the same plugin twice",
                vec![info("vendor.a", ExtensionPoint::Score), info("vendor.a", ExtensionPoint::Score)],
                Some("it lists score plugin `vendor.a` twice"),
            ),
        ];
        for (name, plugins, want) in cases {
            assert_eq!(manifest(&plugins).err().as_deref(), want, "{name}");
        }
    }
}
