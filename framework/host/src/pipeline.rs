//! Pipelines: which plugins run at each extension point, with weights and args.
//!
//! A pipeline file names, per extension point, the plugins in the order they run:
//!
//! ```yaml
//! name: pass-window
//! order:                       # lexicographic: priority, then fair share, then EDF
//!   - plugin: priority
//!     args: { aging_interval_s: 600 }
//!   - plugin: fair-share
//!     args: { key: region }
//!   - plugin: edf
//! filter:                      # cheap filters first
//!   - plugin: node-selector
//!   - plugin: fit
//! score:
//!   - plugin: best-fit
//!     weight: 2                # > 0; a node's total is the weighted sum
//! rebalance: []
//! architecture: { kind: centralized }   # or optimistic / sampled: see crate::architecture
//! ```
//!
//! Loading happens in two steps:
//! 1. [`PipelineDef::load`] parses the file and checks everything that needs no
//!    cluster: plugin names exist at their extension point, weights are positive
//!    and only on scores, args have the right fields and types. Every problem is
//!    reported, each with file:line:column.
//! 2. [`PipelineDef::build`] instantiates the plugins against a cluster (resource
//!    names in args resolve to dimensions) into a [`Pipeline`] the engine runs.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kairos_model::plugin::BuildContext;
use kairos_model::{
    Built, ExtensionPoint, FilterPlugin, OrderPlugin, OrderScope, PartitionKey, RebalancePlugin, ResourceSpace,
    ScorePlugin, Symbols,
};
use serde::Deserialize;

use crate::architecture::{Architecture, ArchitectureDef, ArchitectureFile};
use crate::error::{input_error, Error, InputError, Pos};
use crate::health::Health;
use crate::native::{self, NativeLibrary, NativeStats};
use crate::registry::Registry;
use crate::script::log::ScriptLog;
use crate::script::{self, Common, OnError, Script, ScriptFilter, ScriptOrder, ScriptRebalance, ScriptScore};
use crate::yaml::{self, Spanned};

/// A pipeline file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    /// Directories searched for `native:` entries that name no library,
    /// relative to the pipeline file (then `$KAIROS_PLUGIN_PATH`).
    #[serde(default)]
    plugin_dirs: Vec<String>,
    #[serde(default)]
    order: Vec<Spanned<EntryFile>>,
    #[serde(default)]
    filter: Vec<Spanned<EntryFile>>,
    #[serde(default)]
    score: Vec<Spanned<EntryFile>>,
    #[serde(default)]
    rebalance: Vec<Spanned<EntryFile>>,
    #[serde(default)]
    architecture: Option<ArchitectureFile>,
}

/// One entry of an extension point's list, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryFile {
    #[serde(default)]
    plugin: Option<Spanned<String>>,
    #[serde(default)]
    script: Option<Spanned<String>>,
    #[serde(default)]
    native: Option<NativeFile>,
    #[serde(default)]
    weight: Option<Spanned<f64>>,
    #[serde(default)]
    args: Option<Spanned<serde_json::Value>>,
    #[serde(default)]
    on_error: Option<Spanned<OnError>>,
}

/// A `native:` entry's plugin, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeFile {
    /// The library, relative to the pipeline file; absent: searched by plugin
    /// name in the plugin directories.
    #[serde(default)]
    library: Option<Spanned<String>>,
    /// The plugin's name in the library's manifest.
    plugin: Spanned<String>,
}

/// One checked entry of a pipeline.
#[derive(Debug, Clone)]
pub struct EntryDef {
    /// Extension point.
    pub point: ExtensionPoint,
    /// Plugin name, or the script's path as written.
    pub plugin: String,
    /// The compiled script, for a `script:` entry.
    pub script: Option<Arc<Script>>,
    /// The loaded library, for a `native:` entry.
    pub native: Option<Arc<NativeLibrary>>,
    /// What to do when the script or native plugin fails (those entries only).
    pub on_error: OnError,
    /// Where the plugin is named.
    pub pos: Pos,
    /// Score weight (1 when not given; only score entries may set it).
    pub weight: f64,
    /// The plugin's args (`null` when absent).
    pub args: serde_json::Value,
    /// Where the args start (the plugin's position when absent).
    pub args_pos: Pos,
}

/// A parsed and checked pipeline file, not yet bound to a cluster.
#[derive(Debug, Clone)]
pub struct PipelineDef {
    /// The file.
    pub path: PathBuf,
    /// Its text, for positioned errors.
    pub source: String,
    /// Its name (the file stem when the file has no `name:`).
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Every entry, in extension-point order then file order.
    pub entries: Vec<EntryDef>,
    /// The sandboxed engine the pipeline's scripts run in.
    pub engine: Arc<rhai::Engine>,
    /// The `architecture:` key, checked (None when absent).
    pub architecture: Option<ArchitectureDef>,
}

/// The health and the log of one script entry, shared with its plugin.
#[derive(Clone, Debug)]
pub struct ScriptStats {
    /// The script as named in the pipeline; followed by ` (POINT)` when the
    /// pipeline uses one script at several extension points.
    pub name: String,
    /// Calls (a result reused from the memo is not a call), failures, the first
    /// error and quarantine.
    pub health: Arc<Health>,
    /// What the script printed.
    pub log: Arc<ScriptLog>,
}

/// A stage of a built pipeline: a plugin and the name it was given.
pub struct Stage<P: ?Sized> {
    /// Plugin name as written in the pipeline.
    pub name: String,
    /// Score weight (1 for other points).
    pub weight: f64,
    /// The plugin.
    pub plugin: Box<P>,
}

/// A pipeline bound to a cluster, ready for the engine.
pub struct Pipeline {
    /// Pipeline name.
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// Order plugins, in key order.
    pub order: Vec<Stage<dyn OrderPlugin>>,
    /// Filter plugins, in run order.
    pub filter: Vec<Stage<dyn FilterPlugin>>,
    /// Score plugins.
    pub score: Vec<Stage<dyn ScorePlugin>>,
    /// Rebalance plugins.
    pub rebalance: Vec<Stage<dyn RebalancePlugin>>,
    /// The partition-scoped order plugin, if any: its position and key.
    pub partition: Option<(usize, PartitionKey)>,
    /// Every script entry and its counters.
    pub scripts: Vec<ScriptStats>,
    /// How decisions are coordinated (see [`crate::architecture`]).
    pub architecture: Architecture,
    /// Every native plugin entry and its counters.
    pub natives: Vec<NativeStats>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = |v: Vec<&str>| v.join(", ");
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("order", &names(self.order.iter().map(|s| s.name.as_str()).collect()))
            .field("filter", &names(self.filter.iter().map(|s| s.name.as_str()).collect()))
            .field("score", &names(self.score.iter().map(|s| s.name.as_str()).collect()))
            .field("rebalance", &names(self.rebalance.iter().map(|s| s.name.as_str()).collect()))
            .finish()
    }
}

impl PipelineDef {
    /// Reads, parses and checks the pipeline at `path`.
    pub fn load(path: &Path, registry: &Registry) -> Result<PipelineDef, Error> {
        let text = yaml::read(path)?;
        Self::parse(path, text, registry)
    }

    /// Parses and checks pipeline `text` read from `path`.
    pub fn parse(path: &Path, text: String, registry: &Registry) -> Result<PipelineDef, Error> {
        let file: PipelineFile = yaml::parse(path, &text)?;
        let engine = script::shared_engine();
        let mut errors = Vec::new();
        let mut entries = Vec::new();
        let architecture =
            file.architecture.and_then(|a| a.check(|p, m| errors.push(input_error(path, Some(&text), p, m))));
        let mut plugin_dirs: Vec<PathBuf> = file.plugin_dirs.iter().map(|d| yaml::resolve(path, d)).collect();
        plugin_dirs.extend(native::plugin_path_env());
        let lists = [
            (ExtensionPoint::Order, file.order),
            (ExtensionPoint::Filter, file.filter),
            (ExtensionPoint::Score, file.score),
            (ExtensionPoint::Rebalance, file.rebalance),
        ];
        for (point, list) in lists {
            for e in list {
                let entry_pos = Pos::of(&e);
                let e = e.value;
                let err = |p: Pos, m: String| input_error(path, Some(&text), p, m);
                let errors_before = errors.len();
                let mut native = None;
                let (name, pos, script) = match (&e.plugin, &e.script) {
                    _ if e.native.is_some() => {
                        let n = e.native.as_ref().expect("checked");
                        if let Some(other) = e.plugin.as_ref().or(e.script.as_ref()) {
                            errors.push(err(
                                Pos::of(other),
                                "an entry names one of `plugin`, `script` or `native`, not several".into(),
                            ));
                            continue;
                        }
                        match resolve_native(path, &plugin_dirs, point, n) {
                            Ok(lib) => native = Some(lib),
                            Err((at, m)) => errors.push(err(at, m)),
                        }
                        (n.plugin.value.clone(), Pos::of(&n.plugin), None)
                    }
                    (Some(p), None) => {
                        if registry.get(point, &p.value).is_none() {
                            errors.push(err(Pos::of(p), unknown_plugin(registry, point, &p.value)));
                        }
                        if let Some(o) = &e.on_error {
                            errors.push(err(
                                Pos::of(o),
                                "`on_error` applies only to `script:` and `native:` entries".into(),
                            ));
                        }
                        (p.value.clone(), Pos::of(p), None)
                    }
                    (None, Some(sc)) => {
                        let file = yaml::resolve(path, &sc.value);
                        let script = match script::compile(&engine, &file) {
                            Ok(compiled) => match script::check_entry(&compiled, point) {
                                Ok(_) => Some(Arc::new(compiled)),
                                Err(m) => {
                                    errors.push(err(Pos::of(sc), m));
                                    None
                                }
                            },
                            Err(Error::Io { .. }) => {
                                errors.push(err(
                                    Pos::of(sc),
                                    format!("script file {} does not exist or cannot be read", file.display()),
                                ));
                                None
                            }
                            Err(other) => {
                                errors.extend(other.input_errors());
                                None
                            }
                        };
                        (sc.value.clone(), Pos::of(sc), script)
                    }
                    (Some(p), Some(_)) => {
                        errors.push(err(Pos::of(p), "an entry names either a `plugin` or a `script`, not both".into()));
                        continue;
                    }
                    (None, None) => {
                        let at = e.args.as_ref().map(Pos::of).or(e.weight.as_ref().map(Pos::of)).unwrap_or(entry_pos);
                        let a = if point == ExtensionPoint::Order { "an" } else { "a" };
                        errors.push(err(at, format!("{a} {point} entry needs `plugin: NAME`, `script: FILE` or `native: {{ library, plugin }}`")));
                        continue;
                    }
                };
                let mut weight = 1.0;
                if let Some(w) = e.weight {
                    let wpos = Pos::of(&w);
                    if point != ExtensionPoint::Score {
                        errors.push(err(
                            wpos,
                            format!("`weight` applies only to score plugins, not to {point} plugin `{name}`"),
                        ));
                    } else if !(w.value.is_finite() && w.value > 0.0) {
                        errors.push(err(wpos, format!("a score weight must be a finite number > 0, got {}", w.value)));
                    }
                    weight = w.value;
                }
                let (args, args_pos) = match e.args {
                    Some(a) => (a.value.clone(), Pos::of(&a)),
                    None => (serde_json::Value::Null, pos),
                };
                let on_error = e.on_error.map(|o| o.value).unwrap_or_default();
                if errors.len() > errors_before {
                    // Reported; its args are not checked, and it is not kept.
                    continue;
                }
                entries.push(EntryDef { point, plugin: name, script, native, on_error, pos, weight, args, args_pos });
            }
        }
        let def = PipelineDef {
            path: path.to_owned(),
            name: file.name.unwrap_or_else(|| {
                path.file_stem().map_or_else(|| "pipeline".into(), |s| s.to_string_lossy().into_owned())
            }),
            description: file.description,
            source: text,
            entries,
            engine,
            architecture,
        };
        // Check the args of every good entry without a cluster: types and
        // fields, not resource names. Bad entries were left out above, so a bad
        // library and bad args elsewhere are reported together.
        {
            let mut symbols = Symbols::default();
            let space = ResourceSpace::default();
            let mut cx = BuildContext::open(&space, &mut symbols);
            if let Err(e) = def.instantiate(registry, &mut cx) {
                errors.extend(e.input_errors());
            }
        }
        errors.sort_by_key(|e| e.pos); // file order, whichever step found them
        Error::collect(errors)?;
        Ok(def)
    }

    /// The resource names the entries' args name (a `headroom`'s
    /// `resources`…), in the order first named: what a cluster made up to
    /// check the pipeline alone must declare.
    pub fn resources_named(&self, registry: &Registry) -> Vec<String> {
        let mut symbols = Symbols::default();
        let space = ResourceSpace::default();
        let mut cx = BuildContext::open(&space, &mut symbols);
        // The args were checked when the pipeline was loaded.
        let _ = self.instantiate(registry, &mut cx);
        cx.open_resources().to_vec()
    }

    /// Entries of one extension point, in order.
    pub fn entries(&self, point: ExtensionPoint) -> impl Iterator<Item = &EntryDef> {
        self.entries.iter().filter(move |e| e.point == point)
    }

    /// Builds the plugins against a cluster's resources and symbols.
    pub fn build(
        &self,
        registry: &Registry,
        resources: &ResourceSpace,
        symbols: &mut Symbols,
    ) -> Result<Pipeline, Error> {
        let mut cx = BuildContext::new(resources, symbols);
        self.instantiate(registry, &mut cx)
    }

    fn instantiate(&self, registry: &Registry, cx: &mut BuildContext<'_>) -> Result<Pipeline, Error> {
        let mut errors: Vec<InputError> = Vec::new();
        let mut p = Pipeline {
            name: self.name.clone(),
            path: self.path.clone(),
            order: Vec::new(),
            filter: Vec::new(),
            score: Vec::new(),
            rebalance: Vec::new(),
            partition: None,
            scripts: Vec::new(),
            architecture: self.architecture.as_ref().map(|a| a.architecture).unwrap_or_default(),
            natives: Vec::new(),
        };
        // The rebalance entry that balances pending jobs between workers, if any.
        let mut stealer: Option<(Pos, usize)> = None;
        for e in &self.entries {
            if let Some(script) = &e.script {
                let health = Arc::new(Health::new());
                let log = Arc::new(ScriptLog::new());
                let args =
                    if e.args.is_null() { rhai::Dynamic::from_map(rhai::Map::new()) } else { json_to_dynamic(&e.args) };
                // A script reads its args under the sandbox's size limits: args it
                // could not read are refused now, not on every call.
                if let Err(err) = self.engine.ensure_data_size_within_limits(&args) {
                    let what = err.to_string();
                    let what = what.split(" (line").next().unwrap_or(&what).to_owned();
                    errors.push(input_error(
                        &self.path,
                        Some(&self.source),
                        e.args_pos,
                        format!(
                            "the args of script `{}` are larger than a script may hold ({what}): at most {} bytes of strings, {} array elements and {} map entries in all",
                            e.plugin,
                            script::sandbox::MAX_STRING,
                            script::sandbox::MAX_ARRAY,
                            script::sandbox::MAX_MAP
                        ),
                    ));
                    continue;
                }
                let common = || Common {
                    engine: Arc::clone(&self.engine),
                    script: Arc::clone(script),
                    args: args.clone(),
                    on_error: e.on_error,
                    health: Arc::clone(&health),
                    log: Arc::clone(&log),
                    jobs: Default::default(),
                };
                let stage = |plugin| Stage { name: e.plugin.clone(), weight: e.weight, plugin };
                match e.point {
                    ExtensionPoint::Order => {
                        let compare = script::check_entry(script, ExtensionPoint::Order) == Ok(script::BEFORE);
                        p.order.push(stage(Box::new(ScriptOrder { c: common(), compare }) as Box<dyn OrderPlugin>))
                    }
                    ExtensionPoint::Filter => p.filter.push(Stage {
                        name: e.plugin.clone(),
                        weight: 1.0,
                        plugin: Box::new(ScriptFilter {
                            c: common(),
                            nodes: Default::default(),
                            memo: Default::default(),
                        }),
                    }),
                    ExtensionPoint::Score => p.score.push(Stage {
                        name: e.plugin.clone(),
                        weight: e.weight,
                        plugin: Box::new(ScriptScore {
                            c: common(),
                            nodes: Default::default(),
                            memo: Default::default(),
                        }),
                    }),
                    ExtensionPoint::Rebalance => p.rebalance.push(Stage {
                        name: e.plugin.clone(),
                        weight: 1.0,
                        plugin: Box::new(ScriptRebalance {
                            c: common(),
                            nodes: Default::default(),
                            memo: Default::default(),
                        }),
                    }),
                }
                let name =
                    if self.entries.iter().any(|o| o.script.is_some() && o.plugin == e.plugin && o.point != e.point) {
                        format!("{} ({})", e.plugin, e.point)
                    } else {
                        e.plugin.clone()
                    };
                p.scripts.push(ScriptStats { name, health, log });
                continue;
            }
            let built = if let Some(lib) = &e.native {
                match lib.build(e.point, &e.plugin, &e.args, cx, e.on_error) {
                    Ok((built, stats)) => {
                        p.natives.push(stats);
                        built
                    }
                    Err(m) => {
                        let at = arg_pos(&self.source, e.args_pos, &m).unwrap_or(e.args_pos);
                        let msg = format!("invalid args for {} plugin `{}`: {m}", e.point, e.plugin);
                        errors.push(input_error(&self.path, Some(&self.source), at, msg));
                        continue;
                    }
                }
            } else {
                let Some(spec) = registry.get(e.point, &e.plugin) else {
                    errors.push(input_error(
                        &self.path,
                        Some(&self.source),
                        e.pos,
                        unknown_plugin(registry, e.point, &e.plugin),
                    ));
                    continue;
                };
                match (spec.build)(&e.args, cx) {
                    Ok(b) => b,
                    Err(err) => {
                        let msg = format!("invalid args for {} plugin `{}`: {}", e.point, e.plugin, err.0);
                        let at = arg_pos(&self.source, e.args_pos, &err.0).unwrap_or(e.args_pos);
                        errors.push(input_error(&self.path, Some(&self.source), at, msg));
                        continue;
                    }
                }
            };
            let stage = |plugin| Stage { name: e.plugin.clone(), weight: e.weight, plugin };
            match built {
                Built::Order(o) => {
                    if let OrderScope::Partition(key) = o.scope() {
                        if let Some((i, _)) = p.partition {
                            let msg = format!(
                                "only one partition-scoped order plugin may run per pipeline; `{}` already is one",
                                p.order[i].name
                            );
                            errors.push(input_error(&self.path, Some(&self.source), e.pos, msg));
                        }
                        p.partition = Some((p.order.len(), key));
                    }
                    p.order.push(stage(o));
                }
                Built::Filter(f) => p.filter.push(Stage { name: e.plugin.clone(), weight: 1.0, plugin: f }),
                Built::Score(s) => p.score.push(Stage { name: e.plugin.clone(), weight: e.weight, plugin: s }),
                Built::Rebalance(r) => {
                    if let Some(policy) = r.steal_policy() {
                        if stealer.is_some() {
                            let msg = "only one rebalance plugin may balance pending jobs between workers".to_owned();
                            errors.push(input_error(&self.path, Some(&self.source), e.pos, msg));
                        }
                        stealer = Some((e.pos, policy.workers()));
                    }
                    p.rebalance.push(Stage { name: e.plugin.clone(), weight: 1.0, plugin: r })
                }
            }
        }
        if let Some((pos, workers)) = stealer {
            match (&self.architecture, p.architecture) {
                (None, _) => {
                    p.architecture = Architecture::Optimistic { workers, conflict: Default::default() };
                }
                (Some(def), Architecture::Optimistic { workers: w, conflict }) => match def.workers_pos {
                    Some(at) if w != workers => errors.push(input_error(
                        &self.path,
                        Some(&self.source),
                        at,
                        format!(
                            "`workers: {w}` contradicts the {workers} workers of rebalance plugin `{}`; give the number in one place",
                            self.entries.iter().find(|e| e.pos == pos).map_or("?", |e| e.plugin.as_str())
                        ),
                    )),
                    _ => p.architecture = Architecture::Optimistic { workers, conflict },
                },
                (Some(def), other) => errors.push(input_error(
                    &self.path,
                    Some(&self.source),
                    pos,
                    format!(
                        "this plugin balances pending jobs between scheduler workers, but architecture `{}` (line {}) runs one; use `kind: optimistic`",
                        other.kind(),
                        def.pos.line
                    ),
                )),
            }
        }
        Error::collect(errors)?;
        Ok(p)
    }
}

/// Finds and loads the library of a `native:` entry: by path (relative to the
/// pipeline file) or, without one, by plugin name in `dirs`. An error comes
/// with the position it concerns (the library, or the plugin name).
fn resolve_native(
    pipeline: &Path,
    dirs: &[PathBuf],
    point: ExtensionPoint,
    n: &NativeFile,
) -> Result<Arc<NativeLibrary>, (Pos, String)> {
    let name = &n.plugin.value;
    let Some(library) = &n.library else {
        return native::find_plugin(dirs, point, name).map_err(|m| (Pos::of(&n.plugin), m));
    };
    let file = yaml::resolve(pipeline, &library.value);
    let lib = native::load(&file).map_err(|e| (Pos::of(library), e.to_string()))?;
    if lib.get(point, name).is_none() {
        return Err((Pos::of(&n.plugin), lib.unknown(point, name)));
    }
    Ok(lib)
}

/// Where the arg an args error names (``"`weights.cpu`: …"``) stands in
/// `source`: each key of its path is looked for after the previous one,
/// starting at the args (`from`).
fn arg_pos(source: &str, from: Pos, message: &str) -> Option<Pos> {
    let (path, rest) = match message.strip_prefix('`').and_then(|m| m.split_once("`: ")) {
        Some((path, rest)) => (path.to_owned(), rest),
        None => (String::new(), message),
    };
    // An unknown field is the last key of the path.
    let unknown = rest.strip_prefix("unknown field `").and_then(|r| r.split_once('`')).map(|(f, _)| f);
    let path = match unknown {
        Some(f) if path.is_empty() => f.to_owned(),
        Some(f) => format!("{path}.{f}"),
        None if path.is_empty() => return None,
        None => path,
    };
    let line_start =
        source.split_inclusive('\n').take((from.line as usize).checked_sub(1)?).map(str::len).sum::<usize>();
    let mut at = line_start
        + source[line_start..].chars().take((from.col as usize).saturating_sub(1)).map(char::len_utf8).sum::<usize>();
    for key in path.split('.').filter(|k| !k.is_empty() && !k.starts_with('[')) {
        let key = key.split('[').next().unwrap_or(key);
        let found = source[at..].match_indices(key).map(|(i, _)| at + i).find(|&i| {
            let before = source[..i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'));
            let after = source[i + key.len()..].trim_start_matches([' ', '"', '\'']);
            before && after.starts_with(':')
        })?;
        at = found;
    }
    let line = source[..at].matches('\n').count() as u64 + 1;
    let col = source[..at].rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    Some(Pos::new(line, col))
}

/// Converts a pipeline entry's `args` into a Rhai value for `ctx.args`.
fn json_to_dynamic(v: &serde_json::Value) -> rhai::Dynamic {
    use serde_json::Value as J;
    match v {
        J::Null => rhai::Dynamic::UNIT,
        J::Bool(b) => (*b).into(),
        J::Number(n) => n.as_i64().map_or_else(|| n.as_f64().unwrap_or(f64::NAN).into(), rhai::Dynamic::from_int),
        J::String(s) => s.as_str().into(),
        J::Array(a) => rhai::Dynamic::from_array(a.iter().map(json_to_dynamic).collect()),
        J::Object(o) => {
            rhai::Dynamic::from_map(o.iter().map(|(k, v)| (k.as_str().into(), json_to_dynamic(v))).collect())
        }
    }
}

/// "unknown order plugin `fifoo`; did you mean `fifo`? known: edf, fair-share, fifo, priority".
fn unknown_plugin(registry: &Registry, point: ExtensionPoint, name: &str) -> String {
    let known = registry.names(point);
    let elsewhere = registry.points_of(name);
    let mut msg = format!("unknown {point} plugin `{name}`");
    if let Some(p) = elsewhere.first() {
        let article = if p.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
        msg.push_str(&format!(" (`{name}` is {article} {p} plugin)"));
    } else if let Some(best) =
        known.iter().min_by_key(|k| edit_distance(k, name)).filter(|k| edit_distance(k, name) <= 3)
    {
        msg.push_str(&format!("; did you mean `{best}`"));
    }
    msg.push_str(&format!("; known {point} plugins: {}", known.join(", ")));
    msg
}

/// Levenshtein distance, for "did you mean".
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            cur.push((prev[j] + (ca != cb) as usize).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<PipelineDef, Error> {
        PipelineDef::parse(Path::new("p.yaml"), text.to_owned(), &Registry::builtin())
    }

    #[test]
    fn a_valid_pipeline_keeps_every_entry_in_order() {
        let def = check(
            "name: t\norder:\n  - plugin: priority\n  - plugin: edf\nfilter:\n  - plugin: fit\nscore:\n  - plugin: best-fit\n    weight: 2\n",
        )
        .unwrap();
        let names: Vec<_> = def.entries.iter().map(|e| (e.point.as_str(), e.plugin.as_str(), e.weight)).collect();
        assert_eq!(
            names,
            [("order", "priority", 1.0), ("order", "edf", 1.0), ("filter", "fit", 1.0), ("score", "best-fit", 2.0)]
        );
    }

    #[test]
    fn pipeline_errors_name_the_position_and_what_was_expected() {
        let cases = [
            ("an unknown plugin gets a suggestion", "order:\n  - plugin: fifoo\n", "p.yaml:2:13: unknown order plugin `fifoo`; did you mean `fifo`; known order plugins: edf, fair-share, fifo, priority"),
            ("a plugin at the wrong point says where it belongs", "score:\n  - plugin: fifo\n", "p.yaml:2:13: unknown score plugin `fifo` (`fifo` is an order plugin)"),
            ("a zero weight is refused", "score:\n  - plugin: best-fit\n    weight: 0\n", "p.yaml:3:13: a score weight must be a finite number > 0, got 0"),
            ("a negative weight is refused", "score:\n  - plugin: best-fit\n    weight: -1.5\n", "p.yaml:3:13: a score weight must be a finite number > 0, got -1.5"),
            ("a weight on a filter is refused", "filter:\n  - plugin: fit\n    weight: 2\n", "p.yaml:3:13: `weight` applies only to score plugins"),
            ("an unknown entry field is refused", "filter:\n  - plugin: fit\n    wieght: 2\n", "p.yaml:3:5: unknown field `wieght`"),
            ("an unknown top-level key is refused", "orders: []\n", "p.yaml:1:1: unknown field `orders`"),
            ("an empty entry is refused where it stands", "order: [ {} ]\n", "p.yaml:1:10: an order entry needs `plugin: NAME`, `script: FILE` or `native: { library, plugin }`"),
            ("an entry with only on_error is refused where it stands", "filter:\n  - on_error: fail\n", "p.yaml:2:5: a filter entry needs `plugin: NAME`"),
            ("unknown args are refused", "order:\n  - plugin: fifo\n    args: { speed: 3 }\n", "p.yaml:3:13: invalid args for order plugin `fifo`: unknown field `speed`"),
            ("a nested arg is pointed at", "order:\n  - plugin: fair-share\n    args:\n      key: region\n      weights:\n        a: 2\n        b: heavy\n", "p.yaml:7:9: invalid args for order plugin `fair-share`: `weights.b`: invalid type: string \"heavy\", expected a number"),
            ("ill-typed args are refused", "order:\n  - plugin: priority\n    args: { aging_interval_s: soon }\n", "p.yaml:3:13: invalid args for order plugin `priority`: `aging_interval_s`: invalid type"),
        ];
        for (case, text, want) in cases {
            let err = check(text).expect_err(case).to_string();
            assert!(err.starts_with(want), "{case}:\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn architecture_errors_name_the_position_and_what_was_expected() {
        let cases = [
            ("an unknown kind lists the known ones", "architecture: { kind: omega }\n", "p.yaml:1:23: unknown architecture `omega`; known: centralized, optimistic, sampled"),
            ("workers apply only to optimistic", "architecture: { kind: sampled, workers: 2 }\n", "p.yaml:1:41: `workers` applies only to architecture `optimistic`, not `sampled`"),
            ("a sample applies only to sampled", "architecture:\n  kind: optimistic\n  sample: 3\n", "p.yaml:3:11: `sample` applies only to architecture `sampled`, not `optimistic`"),
            ("zero workers are refused", "architecture: { kind: optimistic, workers: 0 }\n", "p.yaml:1:44: `workers` must be within 1..=64, got 0"),
            ("a zero sample is refused", "architecture: { kind: sampled, sample: 0 }\n", "p.yaml:1:40: `sample` must be at least 1"),
            ("an unknown conflict check is refused", "architecture: { kind: optimistic, conflict: lazy }\n", "p.yaml:1:45: unknown conflict check `lazy`; known: revalidate, strict"),
            ("an unknown field is refused", "architecture: { kind: sampled, seeds: 1 }\n", "p.yaml:1:32: unknown field `seeds`"),
            ("work stealing needs several workers", "rebalance: [{ plugin: work-stealing }]\narchitecture: { kind: centralized }\n", "p.yaml:1:23: this plugin balances pending jobs between scheduler workers, but architecture `centralized` (line 2) runs one; use `kind: optimistic`"),
            ("two worker counts must agree", "rebalance: [{ plugin: work-stealing, args: { workers: 4 } }]\narchitecture: { kind: optimistic, workers: 2 }\n", "p.yaml:2:44: `workers: 2` contradicts the 4 workers of rebalance plugin `work-stealing`; give the number in one place"),
        ];
        for (case, text, want) in cases {
            let err = check(text).expect_err(case).to_string();
            assert!(err.starts_with(want), "{case}:\n got: {err}\nwant: {want}");
        }
    }

    #[test]
    fn the_architecture_comes_from_its_key_or_from_the_work_stealing_plugin() {
        use crate::architecture::{Architecture, ConflictCheck};
        let resources = ResourceSpace::new(["cpu"]);
        let cases = [
            ("no key is centralized", "name: p\n", Architecture::Centralized),
            (
                "optimistic defaults to two workers that revalidate",
                "architecture: { kind: optimistic }\n",
                Architecture::Optimistic { workers: 2, conflict: ConflictCheck::Revalidate },
            ),
            ("sampled defaults to d = 2, seed 0", "architecture: { kind: sampled }\n", Architecture::Sampled { sample: 2, seed: 0 }),
            (
                "the work-stealing plugin alone makes it optimistic with its workers",
                "rebalance: [{ plugin: work-stealing, args: { workers: 3 } }]\n",
                Architecture::Optimistic { workers: 3, conflict: ConflictCheck::Revalidate },
            ),
            (
                "the plugin's workers fill in an optimistic key without any",
                "rebalance: [{ plugin: work-stealing, args: { workers: 4 } }]\narchitecture: { kind: optimistic, conflict: strict }\n",
                Architecture::Optimistic { workers: 4, conflict: ConflictCheck::Strict },
            ),
        ];
        for (case, text, want) in cases {
            let def = check(text).expect(case);
            let p = def.build(&Registry::builtin(), &resources, &mut Symbols::default()).expect(case);
            assert_eq!(p.architecture, want, "{case}");
        }
    }

    #[test]
    fn every_bad_entry_is_reported_not_only_the_first() {
        let err = check("order:\n  - plugin: nope\nscore:\n  - plugin: best-fit\n    weight: 0\n").unwrap_err();
        assert_eq!(err.input_errors().len(), 2, "{err}");
    }

    #[test]
    fn a_missing_pipeline_file_names_the_path() {
        let err = PipelineDef::load(Path::new("/nonexistent/p.yaml"), &Registry::builtin()).unwrap_err();
        assert!(err.to_string().starts_with("cannot read /nonexistent/p.yaml:"), "{err}");
        assert!(err.is_input());
    }
}
