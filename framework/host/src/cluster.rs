//! Cluster descriptions: the resource dimensions, priority classes and nodes a
//! workload is scheduled on.
//!
//! A cluster file is YAML:
//!
//! ```yaml
//! resources: [antenna, cpu, memory, storage]      # dimension names, in order; whole units
//! priority_classes: { critical: 1000, high: 100, normal: 0 }   # optional
//! nodes:
//!   - name: svalbard          # with count: N > 1 the nodes are svalbard-1..svalbard-N
//!     count: 3                # optional, default 1
//!     region: europe-arctic
//!     zone: Svalbard-SvalSat  # optional, default = region
//!     labels: { band: X }     # optional; `region` and `zone` are added
//!     taints: [ { key: role, value: antenna, effect: NoSchedule } ]
//!     capacity: { antenna: 1 }   # dimensions not named are 0
//!     reserve: { cpu: 2 }        # optional headroom the host never allocates
//! ```
//!
//! Loading runs in three steps:
//!
//! 1. parse the YAML: syntax errors, unknown fields and wrong types stop here,
//!    with their position;
//! 2. check the resource dimensions and priority classes;
//! 3. expand every node entry (`count`) and check it against the dimensions.
//!
//! Every problem found in steps 2 and 3 is collected, and all of them are
//! returned together, each with the file, line and column of the offending item.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use kairos_model::{limits, NodeSpec, NodeTable, Qty, ResourceSpace, Symbols, Taint, TaintEffect};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::error::{input_error, Error, InputError, Pos};
use crate::yaml::{self, Spanned};

/// A loaded and checked cluster: what every workload and pipeline is built against.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// The resource dimensions, in declaration order.
    pub resources: ResourceSpace,
    /// Interned names: regions, zones, labels, taints; workloads add theirs.
    pub symbols: Symbols,
    /// The nodes, with `region` and `zone` labels on every one.
    pub nodes: NodeTable,
    /// Priority class name → numeric priority (higher goes first).
    pub priority_classes: BTreeMap<String, i32>,
    /// The file the cluster was read from.
    pub path: PathBuf,
}

impl Cluster {
    /// Reads and checks the cluster file at `path`.
    pub fn load(path: &Path) -> Result<Cluster, Error> {
        let text = yaml::read(path)?;
        Cluster::parse(path, &text)
    }

    /// Checks `text`, the contents of the cluster file `path`. Returns every
    /// problem found, not only the first.
    pub fn parse(path: &Path, text: &str) -> Result<Cluster, Error> {
        let file: ClusterFile = yaml::parse(path, text)?;
        let mut check = Check { path, text, errors: Vec::new() };
        let resources = check.resources(&file.resources);
        let priority_classes = check.priority_classes(&file.priority_classes);
        let mut symbols = Symbols::default();
        let mut nodes = NodeTable::new(resources.dims());
        check.nodes(&file.nodes, &resources, &mut symbols, &mut nodes);
        Error::collect(check.errors)?;
        Ok(Cluster { resources, symbols, nodes, priority_classes, path: path.to_owned() })
    }

    /// The numeric priority of the priority class `class`, if the cluster declares it.
    pub fn priority(&self, class: &str) -> Option<i32> {
        self.priority_classes.get(class).copied()
    }
}

// ---- the file as written ------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClusterFile {
    resources: Spanned<Vec<Spanned<String>>>,
    #[serde(default)]
    priority_classes: Entries<i32>,
    nodes: Spanned<Vec<NodeEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeEntry {
    name: Spanned<String>,
    #[serde(default)]
    count: Option<Spanned<u32>>,
    region: Spanned<String>,
    #[serde(default)]
    zone: Option<Spanned<String>>,
    #[serde(default)]
    labels: Entries<String>,
    #[serde(default)]
    taints: Vec<TaintEntry>,
    capacity: Spanned<Entries<Qty>>,
    #[serde(default)]
    reserve: Entries<Qty>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaintEntry {
    key: Spanned<String>,
    #[serde(default)]
    value: Option<String>,
    effect: EffectName,
}

/// `TaintEffect` as spelled in cluster files (the model crate has no serde).
#[derive(Clone, Copy, Deserialize)]
enum EffectName {
    NoSchedule,
    NoExecute,
}

impl From<EffectName> for TaintEffect {
    fn from(e: EffectName) -> Self {
        match e {
            EffectName::NoSchedule => TaintEffect::NoSchedule,
            EffectName::NoExecute => TaintEffect::NoExecute,
        }
    }
}

/// A YAML mapping kept in source order, with the position of every key and
/// value, so that checks serde cannot express ("unknown resource `gpu`") can
/// point at the key. Duplicate keys are already refused by the YAML parser.
///
/// Also used by the YAML workload format; it would sit well in [`crate::yaml`].
pub(crate) struct Entries<V>(pub(crate) Vec<(Spanned<String>, Spanned<V>)>);

impl<V> Default for Entries<V> {
    fn default() -> Self {
        Entries(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<V>(PhantomData<V>);

        impl<'de, V: Deserialize<'de>> Visitor<'de> for EntriesVisitor<V> {
            type Value = Entries<V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Entries::default())
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }

        deserializer.deserialize_map(EntriesVisitor(PhantomData))
    }
}

// ---- checks -------------------------------------------------------------------

/// Characters that would make a resource name impossible to write in a CSV
/// workload's `request` cell (`cpu=4;memory=16`).
const RESERVED_IN_NAMES: &[char] = &['=', ';', ','];

struct Check<'a> {
    path: &'a Path,
    text: &'a str,
    errors: Vec<InputError>,
}

impl Check<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.errors.push(input_error(self.path, Some(self.text), pos, message));
    }

    /// Step 2a: the dimensions. Duplicates are reported and kept once, so that
    /// the nodes can still be checked.
    fn resources(&mut self, declared: &Spanned<Vec<Spanned<String>>>) -> ResourceSpace {
        if declared.value.is_empty() {
            self.error(Pos::of(declared), "`resources` is empty: declare at least one dimension, e.g. [cpu, memory]");
        }
        if declared.value.len() > limits::MAX_RESOURCES {
            let n = declared.value.len();
            self.error(
                Pos::of(declared),
                format!("{n} resources declared; a cluster may declare at most {}", limits::MAX_RESOURCES),
            );
            return ResourceSpace::default();
        }
        let mut first: HashMap<&str, Pos> = HashMap::new();
        let mut names = Vec::new();
        for name in &declared.value {
            let pos = Pos::of(name);
            let n = name.value.as_str();
            if n.trim().is_empty() {
                self.error(pos, "a resource name must not be empty");
            } else if let Err(m) = limits::name(n) {
                self.error(pos, format!("resource name: {m}"));
            } else if n.contains(RESERVED_IN_NAMES) || n.contains(char::is_whitespace) {
                self.error(
                    pos,
                    format!(
                        "resource name `{n}` must not contain `=`, `;`, `,` or spaces (workloads could not name it)"
                    ),
                );
            } else if let Some(at) = first.get(n) {
                self.error(pos, format!("resource `{n}` is declared twice (first at {}:{})", at.line, at.col));
            } else {
                first.insert(n, pos);
                names.push(n.to_owned());
            }
        }
        ResourceSpace::new(names)
    }

    /// Step 2b: priority classes. A class name that reads as an integer would be
    /// ambiguous in workloads, where a bare integer is a priority.
    fn priority_classes(&mut self, classes: &Entries<i32>) -> BTreeMap<String, i32> {
        let mut out = BTreeMap::new();
        for (name, value) in &classes.0 {
            let n = name.value.trim();
            if n.is_empty() {
                self.error(Pos::of(name), "a priority class name must not be empty");
            } else if let Err(m) = limits::name(n) {
                self.error(Pos::of(name), format!("priority class name: {m}"));
            } else if n.parse::<i64>().is_ok() {
                self.error(
                    Pos::of(name),
                    format!("priority class name `{n}` reads as an integer, which workloads take as a bare priority; use a word"),
                );
            } else {
                out.insert(n.to_owned(), value.value);
            }
        }
        out
    }

    /// Step 3: nodes. An entry with any problem adds no node (the table's own
    /// invariants would panic), but every entry is checked.
    fn nodes(
        &mut self,
        entries: &Spanned<Vec<NodeEntry>>,
        resources: &ResourceSpace,
        symbols: &mut Symbols,
        table: &mut NodeTable,
    ) {
        if entries.value.is_empty() {
            self.error(Pos::of(entries), "no nodes: a cluster needs at least one");
        }
        // Nodes, `count` expanded: an entry that takes the cluster past
        // `MAX_NODES` is refused before any entry is expanded.
        let mut total = 0usize;
        for entry in &entries.value {
            let count = entry.count.as_ref().map_or(1, |c| c.value) as usize;
            total = total.saturating_add(count);
            if total > limits::MAX_NODES {
                let at = entry.count.as_ref().map_or(Pos::of(&entry.name), Pos::of);
                let base = entry.name.value.trim();
                let max = limits::MAX_NODES;
                self.error(
                    at,
                    format!("node `{base}` makes {total} nodes; a cluster may have at most {max} (`count` included)"),
                );
                return;
            }
        }
        let mut first: HashMap<String, Pos> = HashMap::new();
        for entry in &entries.value {
            let errors_before = self.errors.len();
            let base = entry.name.value.trim();
            let name_pos = Pos::of(&entry.name);
            if base.is_empty() {
                self.error(name_pos, "a node name must not be empty");
            }
            if entry.region.value.trim().is_empty() {
                self.error(Pos::of(&entry.region), format!("node `{base}` has an empty `region`"));
            }
            self.names_and_lists(entry);
            let count = entry.count.as_ref().map_or(1, |c| c.value);
            if let (0, Some(c)) = (count, &entry.count) {
                self.error(Pos::of(c), format!("node `{base}` has `count: 0`; a count must be at least 1"));
            }
            let names: Vec<String> = match count {
                1 => vec![base.to_owned()],
                n => (1..=n).map(|i| format!("{base}-{i}")).collect(),
            };
            // One message per entry is enough: a repeated `count` entry would
            // otherwise report every expanded name.
            if let Some((dup, at)) = names.iter().find_map(|n| first.get(n).map(|at| (n, *at))) {
                self.error(name_pos, format!("duplicate node name `{dup}` (first at {}:{})", at.line, at.col));
            }
            for n in &names {
                first.entry(n.clone()).or_insert(name_pos);
            }

            let capacity = self.quantities(base, "capacity", &entry.capacity.value, resources);
            if capacity.iter().all(|&q| q == 0) && !resources.names().is_empty() {
                self.error(
                    Pos::of(&entry.capacity),
                    format!("node `{base}` has zero capacity in every resource: it could never run anything"),
                );
            }
            let reserve = self.quantities(base, "reserve", &entry.reserve, resources);
            for (key, value) in &entry.reserve.0 {
                let Some(d) = resources.index(&key.value) else { continue };
                if reserve[d] > capacity[d] {
                    self.error(
                        Pos::of(value),
                        format!(
                            "node `{base}` reserves {} {} but its capacity is only {}",
                            reserve[d], key.value, capacity[d]
                        ),
                    );
                }
            }
            for taint in &entry.taints {
                if taint.key.value.trim().is_empty() {
                    self.error(Pos::of(&taint.key), format!("node `{base}` has a taint with an empty key"));
                }
            }
            if self.errors.len() > errors_before {
                continue;
            }

            let region = entry.region.value.trim();
            let zone = entry.zone.as_ref().map_or(region, |z| z.value.trim());
            let mut labels: Vec<_> =
                entry.labels.0.iter().map(|(k, v)| (symbols.intern(&k.value), symbols.intern(&v.value))).collect();
            for (key, value) in [("region", region), ("zone", zone)] {
                let k = symbols.intern(key);
                if !labels.iter().any(|&(l, _)| l == k) {
                    labels.push((k, symbols.intern(value)));
                }
            }
            let taints: Vec<Taint> = entry
                .taints
                .iter()
                .map(|t| Taint {
                    key: symbols.intern(&t.key.value),
                    value: symbols.intern(t.value.as_deref().unwrap_or("")),
                    effect: t.effect.into(),
                })
                .collect();
            let (region, zone) = (symbols.intern(region), symbols.intern(zone));
            for name in names {
                table.push(NodeSpec {
                    name,
                    region,
                    zone,
                    labels: labels.clone(),
                    taints: taints.clone(),
                    capacity: capacity.clone(),
                    reserve: reserve.clone(),
                });
            }
        }
    }

    /// The bounds of a node entry's names (each at most
    /// [`limits::MAX_NAME_BYTES`]) and lists (at most [`limits::MAX_LABELS`]
    /// labels, and as many taints).
    fn names_and_lists(&mut self, entry: &NodeEntry) {
        let mut names: Vec<(&str, Pos, &str)> = vec![
            ("node name", Pos::of(&entry.name), &entry.name.value),
            ("region", Pos::of(&entry.region), &entry.region.value),
        ];
        if let Some(z) = &entry.zone {
            names.push(("zone", Pos::of(z), &z.value));
        }
        for (k, v) in &entry.labels.0 {
            names.push(("label key", Pos::of(k), &k.value));
            names.push(("label value", Pos::of(v), &v.value));
        }
        for t in &entry.taints {
            names.push(("taint key", Pos::of(&t.key), &t.key.value));
            names.push(("taint value", Pos::of(&t.key), t.value.as_deref().unwrap_or("")));
        }
        for (what, pos, n) in names {
            if let Err(m) = limits::name(n) {
                self.error(pos, format!("{what}: {m}"));
            }
        }
        if let Some((k, _)) = entry.labels.0.get(limits::MAX_LABELS) {
            let n = entry.labels.0.len();
            self.error(Pos::of(k), format!("{n} labels; a node may have at most {}", limits::MAX_LABELS));
        }
        if let Some(t) = entry.taints.get(limits::MAX_LABELS) {
            let n = entry.taints.len();
            self.error(Pos::of(&t.key), format!("{n} taints; a node may have at most {}", limits::MAX_LABELS));
        }
    }

    /// A resource vector from a `capacity` or `reserve` mapping; unknown keys are
    /// reported and ignored.
    fn quantities(&mut self, node: &str, what: &str, entries: &Entries<Qty>, resources: &ResourceSpace) -> Vec<Qty> {
        let mut out = vec![0; resources.dims()];
        for (key, value) in &entries.0 {
            match resources.index(&key.value) {
                Some(_) if limits::qty(value.value).is_err() => self.error(
                    Pos::of(value),
                    format!("{what} of node `{node}`: {}", limits::qty(value.value).unwrap_err()),
                ),
                Some(d) => out[d] = value.value,
                None => self.error(
                    Pos::of(key),
                    format!(
                        "unknown resource `{}` in {what} of node `{node}`; the cluster declares: {}",
                        key.value,
                        resources.names().join(", ")
                    ),
                ),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
resources: [antenna, cpu, memory, storage]
priority_classes: { critical: 1000, high: 100, normal: 0 }
nodes:
  - name: svalbard
    count: 3
    region: europe-arctic
    zone: Svalbard-SvalSat
    labels: { station: Svalbard-SvalSat, band: X }
    taints: [ { key: role, value: antenna, effect: NoSchedule } ]
    capacity: { antenna: 1 }
  - name: compute
    region: europe-arctic
    labels: { zone: rack-7 }
    taints: [ { key: maintenance, effect: NoExecute } ]
    capacity: { cpu: 64, memory: 256 }
    reserve: { cpu: 2 }
";

    fn parse(text: &str) -> Result<Cluster, Error> {
        Cluster::parse(Path::new("cluster.yaml"), text)
    }

    /// `file:line:col: message` of every error, without snippets.
    fn messages(text: &str) -> Vec<String> {
        let err = parse(text).expect_err("the cluster should be refused");
        err.input_errors()
            .iter()
            .map(|e| format!("{}:{}:{}: {}", e.path.display(), e.pos.line, e.pos.col, e.message))
            .collect()
    }

    #[test]
    fn a_well_formed_cluster_expands_counts_and_labels_every_node_with_region_and_zone() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.resources.names(), ["antenna", "cpu", "memory", "storage"]);
        assert_eq!(c.nodes.names, ["svalbard-1", "svalbard-2", "svalbard-3", "compute"]);
        assert_eq!(c.nodes.capacity(0), &[1, 0, 0, 0]);
        assert_eq!(c.nodes.capacity(3), &[0, 64, 256, 0]);
        assert_eq!(c.nodes.allocatable(3), &[0, 62, 256, 0]);
        let s = &c.symbols;
        let label = |n, k| c.nodes.label(n, s.get(k).unwrap()).map(|v| s.name(v));
        assert_eq!(label(0, "region"), Some("europe-arctic"));
        assert_eq!(label(0, "zone"), Some("Svalbard-SvalSat"));
        assert_eq!(label(2, "band"), Some("X"));
        assert_eq!(label(3, "zone"), Some("rack-7"), "a label the node sets wins");
        assert_eq!(s.name(c.nodes.zone[3]), "europe-arctic", "zone defaults to region");
        let t = c.nodes.taints[0][0];
        assert_eq!((s.name(t.key), s.name(t.value), t.effect), ("role", "antenna", TaintEffect::NoSchedule));
        let t = c.nodes.taints[3][0];
        assert_eq!((s.name(t.value), t.effect), ("", TaintEffect::NoExecute), "value is optional");
        assert_eq!(c.priority("high"), Some(100));
        assert_eq!(c.priority("urgent"), None);
        assert_eq!(c.path, Path::new("cluster.yaml"));
    }

    #[test]
    fn priority_classes_are_optional() {
        let c = parse("resources: [cpu]\nnodes: [{name: a, region: r, capacity: {cpu: 1}}]\n").unwrap();
        assert!(c.priority_classes.is_empty());
    }

    #[test]
    fn every_bad_cluster_is_refused_with_the_position_of_the_offending_item() {
        let node = "nodes: [{name: a, region: r, capacity: {cpu: 1}}]\n";
        let cases: Vec<(&str, String, Vec<&str>)> = vec![
            (
                "an empty resource list",
                format!("resources: []\n{node}"),
                vec![
                    "cluster.yaml:1:12: `resources` is empty: declare at least one dimension, e.g. [cpu, memory]",
                    "cluster.yaml:2:41: unknown resource `cpu` in capacity of node `a`; the cluster declares: ",
                ],
            ),
            (
                "an empty resource name",
                format!("resources: [cpu, '']\n{node}"),
                vec!["cluster.yaml:1:18: a resource name must not be empty"],
            ),
            (
                "a duplicate resource name",
                format!("resources: [cpu, memory, cpu]\n{node}"),
                vec!["cluster.yaml:1:26: resource `cpu` is declared twice (first at 1:13)"],
            ),
            (
                "a resource name that workloads could not write",
                format!("resources: [cpu, 'a=b']\n{node}"),
                vec!["cluster.yaml:1:18: resource name `a=b` must not contain `=`, `;`, `,` or spaces (workloads could not name it)"],
            ),
            (
                "a capacity key that is not a declared resource",
                "resources: [cpu, memory]\nnodes: [{name: a, region: r, capacity: {cpu: 1, gpu: 2}}]\n".into(),
                vec!["cluster.yaml:2:49: unknown resource `gpu` in capacity of node `a`; the cluster declares: cpu, memory"],
            ),
            (
                "a reserve key that is not a declared resource",
                "resources: [cpu]\nnodes: [{name: a, region: r, capacity: {cpu: 1}, reserve: {disk: 1}}]\n".into(),
                vec!["cluster.yaml:2:60: unknown resource `disk` in reserve of node `a`; the cluster declares: cpu"],
            ),
            (
                "a node with zero capacity everywhere",
                "resources: [cpu, memory]\nnodes:\n  - name: idle\n    region: r\n    capacity: { cpu: 0 }\n".into(),
                vec!["cluster.yaml:5:15: node `idle` has zero capacity in every resource: it could never run anything"],
            ),
            (
                "a reserve above capacity",
                "resources: [cpu]\nnodes: [{name: a, region: r, capacity: {cpu: 2}, reserve: {cpu: 4}}]\n".into(),
                vec!["cluster.yaml:2:65: node `a` reserves 4 cpu but its capacity is only 2"],
            ),
            (
                "two nodes with the same name",
                "resources: [cpu]\nnodes:\n  - {name: a, region: r, capacity: {cpu: 1}}\n  - {name: a, region: r, capacity: {cpu: 1}}\n".into(),
                vec!["cluster.yaml:4:12: duplicate node name `a` (first at 3:12)"],
            ),
            (
                "a name that a count expansion already produced",
                "resources: [cpu]\nnodes:\n  - {name: a, count: 2, region: r, capacity: {cpu: 1}}\n  - {name: a-2, region: r, capacity: {cpu: 1}}\n".into(),
                vec!["cluster.yaml:4:12: duplicate node name `a-2` (first at 3:12)"],
            ),
            (
                "a count of zero",
                "resources: [cpu]\nnodes: [{name: a, count: 0, region: r, capacity: {cpu: 1}}]\n".into(),
                vec!["cluster.yaml:2:26: node `a` has `count: 0`; a count must be at least 1"],
            ),
            (
                "no nodes",
                "resources: [cpu]\nnodes: []\n".into(),
                vec!["cluster.yaml:2:8: no nodes: a cluster needs at least one"],
            ),
            (
                "an empty node name",
                "resources: [cpu]\nnodes: [{name: '', region: r, capacity: {cpu: 1}}]\n".into(),
                vec!["cluster.yaml:2:16: a node name must not be empty"],
            ),
            (
                "an integer-looking priority class",
                format!("resources: [cpu]\npriority_classes: {{ '10': 10 }}\n{node}"),
                vec!["cluster.yaml:2:21: priority class name `10` reads as an integer, which workloads take as a bare priority; use a word"],
            ),
            (
                "an unknown taint effect",
                "resources: [cpu]\nnodes: [{name: a, region: r, capacity: {cpu: 1}, taints: [{key: k, effect: Never}]}]\n".into(),
                vec!["cluster.yaml:2:76: unknown variant `Never`, expected one of NoSchedule, NoExecute"],
            ),
            (
                "an unknown node field",
                "resources: [cpu]\nnodes: [{name: a, region: r, capacity: {cpu: 1}, cores: 4}]\n".into(),
                vec!["cluster.yaml:2:50: unknown field `cores`, expected one of name, count, region, zone, labels, taints, capacity, reserve"],
            ),
            (
                "a count past the node limit, refused before it is expanded",
                "resources: [cpu]\nnodes: [{name: a, count: 4000000000, region: r, capacity: {cpu: 1}}]\n".into(),
                vec!["cluster.yaml:2:26: node `a` makes 4000000000 nodes; a cluster may have at most 1000000 (`count` included)"],
            ),
            (
                "entries that together pass the node limit",
                "resources: [cpu]\nnodes:\n  - {name: a, count: 600000, region: r, capacity: {cpu: 1}}\n  - {name: b, count: 400001, region: r, capacity: {cpu: 1}}\n".into(),
                vec!["cluster.yaml:4:22: node `b` makes 1000001 nodes; a cluster may have at most 1000000 (`count` included)"],
            ),
            (
                "a capacity past the quantity limit",
                "resources: [cpu]\nnodes: [{name: a, region: r, capacity: {cpu: 1000000000001}}]\n".into(),
                vec![
                    "cluster.yaml:2:46: capacity of node `a`: a quantity must be at most 1000000000000, got 1000000000001",
                    "cluster.yaml:2:40: node `a` has zero capacity in every resource: it could never run anything",
                ],
            ),
            (
                "a name past the length limit",
                format!("resources: [cpu]\nnodes: [{{name: a, region: {}, capacity: {{cpu: 1}}}}]\n", "r".repeat(1025)),
                vec!["cluster.yaml:2:27: region: a name must be at most 1024 bytes long, got 1025 bytes"],
            ),
            (
                "more resources than the limit",
                format!("resources: [{}]\n{node}", (0..65).map(|i| format!("r{i}")).collect::<Vec<_>>().join(", ")),
                vec![
                    "cluster.yaml:1:12: 65 resources declared; a cluster may declare at most 64",
                    "cluster.yaml:2:41: unknown resource `cpu` in capacity of node `a`; the cluster declares: ",
                ],
            ),
            (
                "a negative capacity",
                "resources: [cpu]\nnodes: [{name: a, region: r, capacity: {cpu: -1}}]\n".into(),
                vec!["cluster.yaml:2:46: expected a whole number ≥ 0, got `-1`"],
            ),
        ];
        let failures: Vec<String> = cases
            .into_iter()
            .filter_map(|(case, text, want)| {
                let got = messages(&text);
                (got != want).then(|| format!("{case}:\n  got  {got:?}\n  want {want:?}"))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn all_problems_are_reported_together() {
        let text = "\
resources: [cpu, cpu]
nodes:
  - name: a
    region: r
    capacity: { gpu: 1 }
  - name: a
    count: 0
    region: r
    capacity: { cpu: 1 }
";
        insta::assert_snapshot!(parse(text).unwrap_err().to_string(), @r"
        cluster.yaml:1:18: resource `cpu` is declared twice (first at 1:13)
         --> cluster.yaml:1:18
          |
        1 | resources: [cpu, cpu]
          |                  ^ resource `cpu` is declared twice (first at 1:13)

        cluster.yaml:5:17: unknown resource `gpu` in capacity of node `a`; the cluster declares: cpu
         --> cluster.yaml:5:17
          |
        3 |   - name: a
        4 |     region: r
        5 |     capacity: { gpu: 1 }
          |                 ^ unknown resource `gpu` in capacity of node `a`; the cluster declares: cpu

        cluster.yaml:5:15: node `a` has zero capacity in every resource: it could never run anything
         --> cluster.yaml:5:15
          |
        3 |   - name: a
        4 |     region: r
        5 |     capacity: { gpu: 1 }
          |               ^ node `a` has zero capacity in every resource: it could never run anything

        cluster.yaml:7:12: node `a` has `count: 0`; a count must be at least 1
         --> cluster.yaml:7:12
          |
        5 |     capacity: { gpu: 1 }
        6 |   - name: a
        7 |     count: 0
          |            ^ node `a` has `count: 0`; a count must be at least 1
        ");
    }

    #[test]
    fn a_missing_file_is_an_io_error_naming_it() {
        let err = Cluster::load(Path::new("/nonexistent/cluster.yaml")).unwrap_err();
        assert!(err.to_string().starts_with("cannot read /nonexistent/cluster.yaml: "), "{err}");
    }

    #[test]
    fn the_fixture_cluster_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cluster.yaml");
        let c = Cluster::load(&path).unwrap();
        assert_eq!(c.nodes.len(), 6);
    }
}
