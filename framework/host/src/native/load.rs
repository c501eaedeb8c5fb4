//! Opening a library, checking it, reading its manifest, building its plugins.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kairos_abi::abi_stable::abi_stability::abi_checking::check_layout_compatibility;
use kairos_abi::abi_stable::library::{lib_header_from_path, LibraryError};
use kairos_abi::abi_stable::std_types::{ROption, RResult, RStr};
use kairos_abi::abi_stable::StableAbi;
use kairos_abi::partition::{PartitionBy, PartitionKeyV1, PartitionV1, PARTITION_V1};
use kairos_abi::{BuiltV1, PluginModule_Ref, Point, ABI_VERSION};
use kairos_model::plugin::BuildContext;
use kairos_model::{Built, ExtensionPoint, PartitionKey};

use super::adapter::{NativeFilter, NativeOrder, NativePartitionOrder, NativeRebalance, NativeScore, Shared};
use super::c_abi::{self, CLibrary};
use crate::script::OnError;

/// The environment variable listing plugin directories (`:`-separated), searched
/// after a pipeline's own `plugin_dirs`.
pub const PLUGIN_PATH_ENV: &str = "KAIROS_PLUGIN_PATH";

/// Lines of abi_stable's layout report shown in a refusal. The report runs to
/// hundreds of lines (the whole type tree); its last lines name the mismatch.
/// Set `KAIROS_LOG=debug` to print the whole report.
const LAYOUT_TAIL_LINES: usize = 12;

/// One plugin a library offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeInfo {
    /// Its name.
    pub name: String,
    /// Its extension point.
    pub point: ExtensionPoint,
    /// One line.
    pub summary: String,
    /// JSON Schema of its args, as JSON text.
    pub args_schema: String,
}

enum Kind {
    /// A kairos-abi library, and the ABI version it was built against.
    Rust(PluginModule_Ref, String),
    C(CLibrary),
}

/// A loaded, checked library. Never unloaded (see the module docs).
pub struct NativeLibrary {
    /// The file, as named when it was first loaded.
    pub path: PathBuf,
    /// What it offers.
    pub plugins: Vec<NativeInfo>,
    kind: Kind,
}

impl std::fmt::Debug for NativeLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeLibrary").field("path", &self.path).field("abi", &self.abi()).finish()
    }
}

/// Why a library was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// No such file.
    #[error("native library {} does not exist", path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A file that is not a kairos plugin library.
    #[error("{} is not a kairos plugin: {detail}", path.display())]
    NotAPlugin {
        /// The file.
        path: PathBuf,
        /// Why (the loader's own words).
        detail: String,
    },
    /// Built for another ABI version.
    #[error(
        "{} was built for kairos plugin ABI {found}, but this host speaks {expected}: rebuild it against this host's {interface}",
        path.display()
    )]
    Version {
        /// What to rebuild against: `kairos-abi` or `kairos_plugin.h`.
        interface: &'static str,
        /// The file.
        path: PathBuf,
        /// The library's version.
        found: String,
        /// The host's.
        expected: String,
    },
    /// The types of the interface differ from the host's.
    #[error(
        "{}: its plugin interface does not match this host's (layout mismatch): rebuild it against this host's kairos-abi. The end of abi_stable's report (KAIROS_LOG=debug prints all of it):\n{tail}",
        path.display()
    )]
    Layout {
        /// The file.
        path: PathBuf,
        /// The last lines of abi_stable's report.
        tail: String,
    },
    /// Anything else the loader refused.
    #[error("cannot load native library {}: {detail}", path.display())]
    Other {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
}

fn point_of(p: Point) -> ExtensionPoint {
    match p {
        Point::Order => ExtensionPoint::Order,
        Point::Filter => ExtensionPoint::Filter,
        Point::Score => ExtensionPoint::Score,
        Point::Rebalance => ExtensionPoint::Rebalance,
    }
}

/// Every library loaded so far, by canonical path: a library is loaded once and
/// never unloaded.
fn loaded() -> &'static Mutex<HashMap<PathBuf, Arc<NativeLibrary>>> {
    static LOADED: std::sync::OnceLock<Mutex<HashMap<PathBuf, Arc<NativeLibrary>>>> = std::sync::OnceLock::new();
    LOADED.get_or_init(|| Mutex::new(HashMap::new()))
}

/// A library linked into the host (its `rlib`), reached through the same ABI
/// and adapters as a loaded one: for tests and for measuring what loading
/// costs. `label` stands for its path in messages.
pub fn in_process(label: &str, module: PluginModule_Ref) -> Arc<NativeLibrary> {
    let kind = Kind::Rust(module, ABI_VERSION.to_owned());
    Arc::new(NativeLibrary { path: PathBuf::from(label), plugins: manifest(module), kind })
}

fn manifest(module: PluginModule_Ref) -> Vec<NativeInfo> {
    (module.plugins())()
        .iter()
        .map(|i| NativeInfo {
            name: i.name.to_string(),
            point: point_of(i.point),
            summary: i.summary.to_string(),
            args_schema: i.args_schema.to_string(),
        })
        .collect()
}

/// Loads and checks the library at `path` (once per file; see the module docs).
pub fn load(path: &Path) -> Result<Arc<NativeLibrary>, LoadError> {
    if !path.is_file() {
        return Err(LoadError::Missing { path: path.to_owned() });
    }
    let key = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mut cache = loaded().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(lib) = cache.get(&key) {
        return Ok(Arc::clone(lib));
    }
    let lib = Arc::new(open(path)?);
    cache.insert(key, Arc::clone(&lib));
    Ok(lib)
}

fn open(path: &Path) -> Result<NativeLibrary, LoadError> {
    let p = || path.to_owned();
    // A bare file name would send the dynamic loader searching the system's
    // library path: name the file in the current directory instead.
    let file = if path.parent().is_some_and(|d| d.as_os_str().is_empty()) {
        Path::new(".").join(path)
    } else {
        path.to_owned()
    };
    let path = file.as_path();
    match lib_header_from_path(path) {
        Ok(header) => match header.init_root_module::<PluginModule_Ref>() {
            Ok(module) => {
                let plugins = manifest(module);
                let version = header.version_strings().version.to_string();
                Ok(NativeLibrary { path: p(), plugins, kind: Kind::Rust(module, version) })
            }
            Err(LibraryError::IncompatibleVersionNumber { actual_version, expected_version, .. }) => {
                Err(LoadError::Version {
                    interface: "kairos-abi",
                    path: p(),
                    found: actual_version.to_string(),
                    expected: expected_version.to_string(),
                })
            }
            Err(LibraryError::AbiInstability(report)) => {
                let full = report.to_string();
                if std::env::var("KAIROS_LOG").is_ok_and(|v| v == "debug") {
                    eprintln!("debug: abi_stable's layout report for {}:\n{full}", path.display());
                }
                Err(LoadError::Layout { path: p(), tail: layout_tail(&full, LAYOUT_TAIL_LINES) })
            }
            Err(LibraryError::InvalidAbiHeader(_)) => Err(LoadError::Other {
                path: p(),
                detail: "it was built with an abi_stable incompatible with this host's".into(),
            }),
            Err(e) => Err(LoadError::Other { path: p(), detail: squash(&e.to_string()) }),
        },
        Err(LibraryError::GetSymbolError { .. }) => match c_abi::open(path) {
            Ok(Some(c)) => Ok(NativeLibrary { path: p(), plugins: c.plugins().to_vec(), kind: Kind::C(c) }),
            Ok(None) => Err(LoadError::NotAPlugin {
                path: p(),
                detail: format!(
                    "it exports neither a kairos-abi root module nor `{}`",
                    c_abi::VERSION_SYMBOL.trim_end_matches('\0')
                ),
            }),
            Err(e) => Err(e),
        },
        Err(LibraryError::OpenError { err, .. }) => {
            Err(LoadError::NotAPlugin { path: p(), detail: format!("it cannot be opened as a library ({err})") })
        }
        Err(e) => Err(LoadError::Other { path: p(), detail: squash(&e.to_string()) }),
    }
}

/// The end of abi_stable's layout report: where the mismatch is (the field path
/// of the last error block) and what it is (from its last `Error:` line on),
/// or its last `n` lines when the report has another shape.
fn layout_tail(report: &str, n: usize) -> String {
    let Some(block) = report.rfind("error(s)inside:") else { return tail(report, n) };
    let Some(error) = report.rfind("\nError:") else { return tail(report, n) };
    let end = report[block..].find("Layout of expected type:").map_or(report.len(), |i| block + i);
    let mut path: Vec<String> = Vec::new();
    let mut field = None;
    for line in report[block..end].lines().map(str::trim) {
        if let Some(f) = line.strip_prefix("field_name:") {
            field = Some(f.to_owned());
        } else if let (Some(t), Some(f)) = (line.strip_prefix("type:"), field.take()) {
            let t = t.split('<').next().unwrap_or(t).trim().to_owned();
            if f.parse::<u32>().is_err() && !f.starts_with("field_") && !f.starts_with("param_") && f != "__returns" {
                if let Some(last) = path.last_mut() {
                    last.push('.');
                    last.push_str(&f);
                }
            }
            path.push(t);
        }
    }
    path.pop(); // the mismatched field's own type, said by the error below
    let what: Vec<&str> = report[error..].lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    format!("    at {}\n    {}", path.join(" → "), what.join(" "))
}

/// The last `n` non-empty lines of `text`, indented.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {}", l.trim_start()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// abi_stable's multi-line messages on one line.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl NativeLibrary {
    /// Which ABI the library speaks: for a Rust library, the version of
    /// kairos-abi it was built against (a later minor than the host's loads).
    pub fn abi(&self) -> String {
        match &self.kind {
            Kind::Rust(_, version) => format!("kairos-abi {version}"),
            Kind::C(_) => format!("C ABI {}", c_abi::C_ABI_VERSION),
        }
    }

    /// The plugin `name` at `point`.
    pub fn get(&self, point: ExtensionPoint, name: &str) -> Option<&NativeInfo> {
        self.plugins.iter().find(|p| p.point == point && p.name == name)
    }

    /// "library x has no score plugin `y`; it offers: a (filter), b (score)".
    pub fn unknown(&self, point: ExtensionPoint, name: &str) -> String {
        let offers: Vec<String> = self.plugins.iter().map(|p| format!("{} ({})", p.name, p.point)).collect();
        format!(
            "{} has no {point} plugin `{name}`; it offers: {}",
            self.path.display(),
            if offers.is_empty() { "nothing".to_owned() } else { offers.join(", ") }
        )
    }

    /// The optional module `name` (`kairos.<capability>.v<N>`) of type `T`, if
    /// the library offers it: `None` when it does not (every library built
    /// before the capability existed), `Err` when its layout is not `T`'s. See
    /// the evolution rule in [`kairos_abi::module`].
    pub fn extension<T: StableAbi>(&self, name: &str) -> Option<Result<&'static T, String>> {
        let Kind::Rust(module, _) = &self.kind else { return None };
        let ext = (module.extension())(RStr::from_str(name)).into_option()?;
        Some(match check_layout_compatibility(T::LAYOUT, ext.layout) {
            // SAFETY: the layout of the pointee was just checked to be `T`'s, and
            // it is `'static` in a library that is never unloaded.
            Ok(()) => Ok(unsafe { &*(ext.module as *const T) }),
            Err(e) => {
                Err(format!("module `{name}` of {}: {}", self.path.display(), tail(&e.to_string(), LAYOUT_TAIL_LINES)))
            }
        })
    }

    /// Builds plugin `name` at `point` from its args, with the entry's error
    /// policy; an `Err` says what is wrong with the args. An order plugin is
    /// built partition-scoped when the library offers `kairos.partition.v1` and
    /// the plugin is one (see [`kairos_abi::partition`]).
    pub fn build(
        self: &Arc<Self>,
        point: ExtensionPoint,
        name: &str,
        args: &serde_json::Value,
        cx: &mut BuildContext<'_>,
        on_error: OnError,
    ) -> Result<(Built, super::NativeStats), String> {
        let stats = super::NativeStats { name: name.to_owned(), health: Default::default() };
        let shared = Shared::new(name, on_error, &stats, Arc::clone(self));
        let json = args.to_string();
        // Checking a pipeline without a cluster: the plugin sees no resource names.
        let resources: &[String] = if cx.open { &[] } else { cx.resources().names() };
        let names: Vec<RStr<'_>> = resources.iter().map(|r| RStr::from_str(r)).collect();
        let (name_, json_) = (RStr::from_str(name), RStr::from_str(&json));
        if point == ExtensionPoint::Order {
            if let Some(partition) = self.extension::<PartitionV1>(PARTITION_V1) {
                let partition = partition?;
                match (partition.build)(name_, json_, names.as_slice().into()) {
                    ROption::RSome(RResult::ROk(b)) => {
                        let key = partition_key(&b.key, cx)?;
                        return Ok((Built::Order(Box::new(NativePartitionOrder::new(shared, b.order, key))), stats));
                    }
                    ROption::RSome(RResult::RErr(e)) => return Err(e.into()),
                    ROption::RNone => {} // job-scoped: built below
                }
            }
        }
        let built = match &self.kind {
            Kind::Rust(module, _) => match (module.build())(name_, json_, names.as_slice().into()) {
                RResult::ROk(BuiltV1::Order(o)) => Built::Order(Box::new(NativeOrder::new(shared, o))),
                RResult::ROk(BuiltV1::Filter(f)) => Built::Filter(Box::new(NativeFilter::new(shared, f))),
                RResult::ROk(BuiltV1::Score(s)) => Built::Score(Box::new(NativeScore::new(shared, s))),
                RResult::ROk(BuiltV1::Rebalance(r)) => Built::Rebalance(Box::new(NativeRebalance::new(shared, r))),
                RResult::RErr(e) => return Err(e.into()),
            },
            Kind::C(c) => c.build(point, name, &json, shared)?,
        };
        if built.point() != point {
            return Err(format!("`{name}` built a {} plugin, not a {point} plugin", built.point()));
        }
        Ok((built, stats))
    }
}

/// The host's partition key for a plugin's: a label key is interned.
fn partition_key(key: &PartitionKeyV1, cx: &mut BuildContext<'_>) -> Result<PartitionKey, String> {
    Ok(match key.by {
        PartitionBy::Group => PartitionKey::Group,
        PartitionBy::Tenant => PartitionKey::Tenant,
        PartitionBy::PriorityClass => PartitionKey::PriorityClass,
        PartitionBy::Label if key.label.is_empty() => {
            return Err("the plugin groups jobs by a label but names none".into());
        }
        PartitionBy::Label => PartitionKey::Label(cx.sym(&key.label)),
    })
}

/// The directories of `$KAIROS_PLUGIN_PATH`.
pub fn plugin_path_env() -> Vec<PathBuf> {
    std::env::var_os(PLUGIN_PATH_ENV).map(|v| std::env::split_paths(&v).collect()).unwrap_or_default()
}

/// Finds the library offering plugin `name` at `point` in `dirs`, in order
/// (missing directories are skipped). Libraries that cannot be loaded are
/// passed over, and named in the error when no library offers the plugin.
pub fn find_plugin(dirs: &[PathBuf], point: ExtensionPoint, name: &str) -> Result<Arc<NativeLibrary>, String> {
    let mut refused = Vec::new();
    let mut offered = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == std::env::consts::DLL_EXTENSION))
            .collect();
        files.sort();
        for f in files {
            match load(&f) {
                Ok(lib) if lib.get(point, name).is_some() => return Ok(lib),
                Ok(lib) => offered.extend(lib.plugins.iter().filter(|p| p.point == point).map(|p| p.name.clone())),
                Err(e) => refused.push(
                    f.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned())
                        + match e {
                            LoadError::Version { .. } => " (another ABI version)",
                            LoadError::Layout { .. } => " (layout mismatch)",
                            LoadError::NotAPlugin { .. } => " (not a kairos plugin)",
                            _ => " (cannot be loaded)",
                        },
                ),
            }
        }
    }
    let searched: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    let mut msg = format!(
        "no library in the plugin directories offers {point} plugin `{name}` (searched: {}; set `plugin_dirs` in the pipeline or ${PLUGIN_PATH_ENV})",
        if searched.is_empty() { "none".to_owned() } else { searched.join(", ") }
    );
    if !offered.is_empty() {
        offered.sort();
        offered.dedup();
        msg.push_str(&format!("; {point} plugins found: {}", offered.join(", ")));
    }
    if !refused.is_empty() {
        msg.push_str(&format!("; refused: {}", refused.join(", ")));
    }
    Err(msg)
}
