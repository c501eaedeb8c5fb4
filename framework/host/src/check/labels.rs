//! The label contract between a workload, its cluster and a pipeline's args.
//!
//! A job runs only on a node whose labels match every term of its selector
//! (`node-selector`). The pass-window workload writes its selectors from the
//! pass file: a contact selects `station=<station>`, its processing
//! `role=processing` and `region=<region>` (only `role=processing` with
//! `processing.anywhere`). A station or region spelt one way in the pass file
//! and another in the cluster loads and runs — and the run then turns every
//! such job away as a `selector-mismatch`. [`check`] finds these before a run:
//!
//! 1. every distinct selector of the workload is matched against the nodes;
//!    one that no node matches is a warning, with the number of jobs that use
//!    it, the first of them, the term no node has and the nearest value the
//!    cluster does have (by edit distance), pointing at where the cluster
//!    writes it;
//! 2. every plugin arg under a key that names a node (`node`, `nodes`), a
//!    station (`station`, `stations`), a region (`region`, `regions`) or a
//!    zone (`zone`, `zones`), at any depth of the entry's `args`, must name
//!    one the cluster has; otherwise it is a warning at the arg, with the
//!    nearest name.
//!
//! These are warnings, not errors: a selector may wait for a node that a
//! later version of the cluster adds. `kairos check --strict` makes them
//! errors.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use kairos_model::{NodeId, Sym, Symbols};

use super::probe::describe;
use crate::error::{input_error, InputError, Pos};
use crate::pipeline::{edit_distance, EntryDef};
use crate::scenario::Scenario;
use crate::workload::MAX_ERRORS;

/// Keys of plugin args whose values name nodes, and what they name.
const NAMING_KEYS: [(&str, Named); 8] = [
    ("node", Named::Node),
    ("nodes", Named::Node),
    ("station", Named::Label("station")),
    ("stations", Named::Label("station")),
    ("region", Named::Label("region")),
    ("regions", Named::Label("region")),
    ("zone", Named::Label("zone")),
    ("zones", Named::Label("zone")),
];

/// What an arg names.
#[derive(Clone, Copy, Debug)]
enum Named {
    /// A node, by name.
    Node,
    /// A value of a node label (`station`; `region` and `zone` are labels of every node).
    Label(&'static str),
}

/// The warnings of the label contract for `sc` (see the module docs).
pub fn check(sc: &Scenario) -> Vec<InputError> {
    let cluster_text = crate::yaml::read(&sc.cluster.path).ok();
    let index = Index::new(sc);
    let mut warnings = selectors(sc, &index, cluster_text.as_deref());
    for e in &sc.pipeline.entries {
        args(e, &sc.pipeline.path, &sc.pipeline.source, &index, &mut warnings);
    }
    if warnings.len() > MAX_ERRORS {
        let more = warnings.len() - MAX_ERRORS;
        warnings.truncate(MAX_ERRORS);
        warnings.push(input_error(&sc.workload_path, None, Pos::default(), format!("… and {more} more warnings")));
    }
    warnings
}

/// The cluster's labels, for matching selectors and naming the nearest value.
struct Index<'a> {
    symbols: &'a Symbols,
    nodes: &'a kairos_model::NodeTable,
    /// The nodes carrying each `key=value`.
    carriers: HashMap<(Sym, Sym), Vec<NodeId>>,
    /// Every value of each label key, as written.
    values: BTreeMap<&'a str, Vec<&'a str>>,
}

impl<'a> Index<'a> {
    fn new(sc: &'a Scenario) -> Self {
        let (nodes, symbols) = (&sc.cluster.nodes, &sc.cluster.symbols);
        let mut carriers: HashMap<(Sym, Sym), Vec<NodeId>> = HashMap::new();
        let mut values: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for n in 0..nodes.len() as NodeId {
            for &(k, v) in &nodes.labels[n as usize] {
                let list = carriers.entry((k, v)).or_default();
                if list.is_empty() {
                    values.entry(symbols.name(k)).or_default().push(symbols.name(v));
                }
                list.push(n);
            }
        }
        Index { symbols, nodes, carriers, values }
    }

    /// Whether some node carries every `key=value` of `selector`.
    fn matches(&self, selector: &[(Sym, Sym)]) -> bool {
        let lists: Option<Vec<&Vec<NodeId>>> = selector.iter().map(|t| self.carriers.get(t)).collect();
        let Some(lists) = lists else { return false };
        let Some(shortest) = lists.iter().min_by_key(|l| l.len()) else { return true };
        shortest.iter().any(|&n| selector.iter().all(|&(k, v)| self.nodes.label(n, k) == Some(v)))
    }
}

/// Step 1: selectors no node matches.
fn selectors(sc: &Scenario, index: &Index<'_>, cluster_text: Option<&str>) -> Vec<InputError> {
    // Each distinct selector: how many jobs use it and the first of them.
    let mut uses: BTreeMap<&[(Sym, Sym)], (usize, usize)> = BTreeMap::new();
    for (i, spec) in sc.jobs.iter().enumerate() {
        if !spec.job.selector.is_empty() {
            uses.entry(&spec.job.selector).or_insert((0, i)).0 += 1;
        }
    }
    // (selector, jobs using it, the first of them)
    type Unmatched<'s> = (&'s [(Sym, Sym)], usize, usize);
    let mut unmatched: Vec<Unmatched<'_>> = uses
        .into_iter()
        .filter(|(sel, _)| !index.matches(sel))
        .map(|(sel, (count, first))| (sel, count, first))
        .collect();
    unmatched.sort_by_key(|&(_, _, first)| first);
    let s = index.symbols;
    let cluster = sc.cluster.path.as_path();
    unmatched
        .into_iter()
        .map(|(sel, count, first)| {
            let terms: Vec<String> = sel.iter().map(|&(k, v)| format!("{}={}", s.name(k), s.name(v))).collect();
            let jobs = if count == 1 { "1 job selects".to_owned() } else { format!("{count} jobs select") };
            let head = format!("{jobs} `{}` (the first: `{}`), but", terms.join(", "), sc.jobs[first].job.id);
            // The first term no node carries; or, when each is carried by some
            // node, no node carries them all.
            let Some(&(k, v)) = sel.iter().find(|t| !index.carriers.contains_key(t)) else {
                return input_error(&sc.workload_path, None, Pos::default(), format!("{head} no node has all of them"));
            };
            let (key, value) = (s.name(k), s.name(v));
            match index.values.get(key) {
                Some(known) => {
                    let nearest = nearest(value, known);
                    let at = cluster_text.and_then(|t| find_label(t, key, nearest).or_else(|| find_value(t, nearest)));
                    let m = format!(
                        "{head} no node has `{key}={value}`; the nearest value of `{key}` in the cluster is `{nearest}`{}",
                        if at.is_some() { ", here" } else { "" }
                    );
                    match at {
                        Some(pos) => input_error(cluster, cluster_text, pos, m),
                        None => input_error(&sc.workload_path, None, Pos::default(), m),
                    }
                }
                None => {
                    let keys: Vec<&str> = index.values.keys().copied().collect();
                    let m = format!(
                        "{head} no node has a label `{key}`; the nearest label in the cluster is `{}`",
                        nearest(key, &keys)
                    );
                    input_error(&sc.workload_path, None, Pos::default(), m)
                }
            }
        })
        .collect()
}

/// Step 2: the args of entry `e` that name what the cluster does not have.
fn args(e: &EntryDef, path: &Path, source: &str, index: &Index<'_>, out: &mut Vec<InputError>) {
    let first = out.len();
    let mut named = Vec::new();
    walk(&e.args, None, &mut named);
    for (what, value) in named {
        let (kind, known): (&str, Vec<&str>) = match what {
            Named::Node => ("node", index.nodes.names.iter().map(String::as_str).collect()),
            Named::Label(key) => (key, index.values.get(key).cloned().unwrap_or_default()),
        };
        if known.contains(&value) {
            continue;
        }
        let at = find_value_after(source, e.args_pos, value).unwrap_or(e.args_pos);
        let mut m = format!("the args of {} name {kind} `{value}`, which the cluster does not have", describe(e));
        if !known.is_empty() {
            m.push_str(&format!("; the nearest {kind} is `{}`", nearest(value, &known)));
        }
        out.push(input_error(path, Some(source), at, m));
    }
    out[first..].sort_by_key(|w| w.pos);
}

/// Collects the strings under naming keys in `v` (`under`: the naming key
/// `v` sits under, if any).
fn walk<'v>(v: &'v serde_json::Value, under: Option<Named>, out: &mut Vec<(Named, &'v str)>) {
    use serde_json::Value as J;
    match v {
        J::String(s) => {
            if let Some(what) = under {
                out.push((what, s));
            }
        }
        J::Array(a) => a.iter().for_each(|x| walk(x, under, out)),
        J::Object(o) => {
            for (k, x) in o {
                let named = NAMING_KEYS.iter().find(|(n, _)| n == k).map(|&(_, w)| w);
                walk(x, named, out);
            }
        }
        _ => {}
    }
}

/// The name of `known` nearest to `name` by edit distance (ties: the first).
fn nearest<'k>(name: &str, known: &[&'k str]) -> &'k str {
    known.iter().copied().min_by_key(|k| edit_distance(k, name)).unwrap_or_default()
}

/// Where `value` first stands as the value of `key` in `text` (`key: value`,
/// quoted or not; `region` and `zone` are also a node's own fields).
fn find_label(text: &str, key: &str, value: &str) -> Option<Pos> {
    let mut from = Pos::new(1, 1);
    while let Some(at) = find_value_after(text, from, value) {
        let line = text.lines().nth(at.line as usize - 1)?;
        let before: String = line.chars().take(at.col as usize - 1).collect();
        if before.trim_end().trim_end_matches(['"', '\'']).trim_end().ends_with(&format!("{key}:")) {
            return Some(at);
        }
        from = Pos::new(at.line, at.col + 1);
    }
    None
}

/// Where `value` first stands as a whole word in `text`.
fn find_value(text: &str, value: &str) -> Option<Pos> {
    find_value_after(text, Pos::new(1, 1), value)
}

/// Where `value` first stands as a whole word in `text` at or after `from`.
fn find_value_after(text: &str, from: Pos, value: &str) -> Option<Pos> {
    if value.is_empty() {
        return None;
    }
    let word = |c: char| c.is_alphanumeric() || c == '-' || c == '_' || c == '.';
    for (i, line) in text.lines().enumerate().skip((from.line as usize).saturating_sub(1)) {
        let skip = if i + 1 == from.line as usize { (from.col as usize).saturating_sub(1) } else { 0 };
        let start = line.char_indices().nth(skip).map_or(line.len(), |(b, _)| b);
        for (b, _) in line[start..].match_indices(value) {
            let b = start + b;
            let before = line[..b].chars().next_back().is_none_or(|c| !word(c));
            let after = line[b + value.len()..].chars().next().is_none_or(|c| !word(c));
            if before && after {
                return Some(Pos::new(i as u64 + 1, line[..b].chars().count() as u64 + 1));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_found_as_a_whole_word_after_a_position() {
        let text = "a: Kiruna-Esrange-2\nb: { station: Kiruna-Esrange }\nc: Kiruna-Esrange\n";
        let cases = [
            ("not inside a longer name", Pos::new(1, 1), Some(Pos::new(2, 15))),
            ("from a later line", Pos::new(3, 1), Some(Pos::new(3, 4))),
            ("from a column past it", Pos::new(2, 16), Some(Pos::new(3, 4))),
        ];
        for (case, from, want) in cases {
            assert_eq!(find_value_after(text, from, "Kiruna-Esrange"), want, "{case}");
        }
        assert_eq!(find_value(text, "Svalbard"), None);
        let cluster = "- { name: accel, labels: { tier: accel } }\n- { name: b, labels: { tier: 'edge' } }\n";
        assert_eq!(find_label(cluster, "tier", "accel"), Some(Pos::new(1, 34)), "the label, not the node's name");
        assert_eq!(find_label(cluster, "tier", "edge"), Some(Pos::new(2, 31)), "quoted");
        assert_eq!(find_label(cluster, "zone", "accel"), None);
    }

    #[test]
    fn strings_under_naming_keys_are_collected_at_any_depth() {
        let args = serde_json::json!({
            "windows": [{ "station": "Kiruna", "from": 1 }, { "stations": ["A", "B"] }],
            "drains": [{ "node": "proc-1" }],
            "exclude": { "CSS": "americas" },
            "key": "region",
        });
        let mut got = Vec::new();
        walk(&args, None, &mut got);
        let got: Vec<String> = got.iter().map(|(w, v)| format!("{w:?} {v}")).collect();
        assert_eq!(got, ["Node proc-1", "Label(\"station\") Kiruna", "Label(\"station\") A", "Label(\"station\") B"]);
    }
}
