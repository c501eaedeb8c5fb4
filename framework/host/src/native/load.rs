//! Opening a library, checking it, reading its manifest, building its plugins.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kairos_abi::abi_stable::abi_stability::abi_checking::check_layout_compatibility;
use kairos_abi::abi_stable::library::{lib_header_from_raw_library, LibraryError, RawLibrary};
use kairos_abi::abi_stable::std_types::{ROption, RResult, RStr};
use kairos_abi::abi_stable::StableAbi;
use kairos_abi::partition::{PartitionBy, PartitionKeyV1, PartitionV1, PARTITION_V1};
use kairos_abi::{BuiltV1, PluginModule_Ref, Point, ABI_VERSION};
use kairos_model::plugin::BuildContext;
use kairos_model::{Built, ExtensionPoint, PartitionKey};

use super::adapter::{NativeFilter, NativeOrder, NativePartitionOrder, NativeRebalance, NativeScore, Shared};
use super::c_abi::{self, CLibrary};
use super::embedded::{self, Found};
use super::validate;
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
    /// A directory where a library file was expected.
    #[error("{}", directory(path, libraries))]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The first few library files in it.
        libraries: Vec<String>,
    },
    /// Built with `panic = "abort"`: refused before any of its code runs.
    #[error(
        "{} was built with panic = \"abort\": a panic in one of its plugins would abort this process, \
         which the host cannot prevent. Rebuild it with panic = \"unwind\" (the default: remove \
         `panic = \"abort\"` from the profile of the Cargo.toml it is built with)",
        path.display()
    )]
    PanicAbort {
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

/// "DIR is a directory; name the library file inside it, e.g. DIR/liba.so (or libb.so)".
fn directory(path: &Path, libraries: &[String]) -> String {
    match libraries {
        [] => format!(
            "{} is a directory, with no library (*.{}) in it; name a library file",
            path.display(),
            std::env::consts::DLL_EXTENSION
        ),
        [one, rest @ ..] => format!(
            "{} is a directory; name the library file inside it, e.g. {}{}",
            path.display(),
            path.join(one).display(),
            if rest.is_empty() { String::new() } else { format!(" (or {})", rest.join(", ")) }
        ),
    }
}

fn point_of(p: Point) -> ExtensionPoint {
    match p {
        Point::Order => ExtensionPoint::Order,
        Point::Filter => ExtensionPoint::Filter,
        Point::Score => ExtensionPoint::Score,
        Point::Rebalance => ExtensionPoint::Rebalance,
    }
}

/// What became of a library file the host opened.
enum Opened {
    Loaded(Arc<NativeLibrary>),
    /// Refused after the library was opened: it stays mapped (never unloaded),
    /// so it is not opened again, and is refused again with the same error.
    Refused(LoadError),
}

/// Every library opened so far, by canonical path: a library is opened once
/// per process and never unloaded.
fn opened() -> &'static Mutex<HashMap<PathBuf, Opened>> {
    static OPENED: std::sync::OnceLock<Mutex<HashMap<PathBuf, Opened>>> = std::sync::OnceLock::new();
    OPENED.get_or_init(|| Mutex::new(HashMap::new()))
}

/// How many library files to name when a directory is given for one.
const DIRECTORY_EXAMPLES: usize = 3;

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

/// Loads and checks the library at `path`, once per file (see the module
/// docs): what the library's embedded manifest says is checked before the
/// library is opened, so that a library built with `panic = "abort"` or for
/// another ABI major runs no code at all.
pub fn load(path: &Path) -> Result<Arc<NativeLibrary>, LoadError> {
    if path.is_dir() {
        return Err(LoadError::Directory { path: path.to_owned(), libraries: libraries_in(path, DIRECTORY_EXAMPLES) });
    }
    if !path.is_file() {
        return Err(LoadError::Missing { path: path.to_owned() });
    }
    let key = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let mut cache = opened().lock().unwrap_or_else(|e| e.into_inner());
    match cache.get(&key) {
        Some(Opened::Loaded(lib)) => return Ok(Arc::clone(lib)),
        Some(Opened::Refused(e)) => return Err(e.clone()),
        None => {}
    }
    let manifest = before_opening(path)?;
    match open(path, manifest) {
        Ok(lib) => {
            let lib = Arc::new(lib);
            cache.insert(key, Opened::Loaded(Arc::clone(&lib)));
            Ok(lib)
        }
        Err((e, was_opened)) => {
            if was_opened {
                cache.insert(key, Opened::Refused(e.clone()));
            }
            Err(e)
        }
    }
}

/// The library files in `dir` (by extension), sorted; at most `max` of them.
fn libraries_in(dir: &Path, max: usize) -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == std::env::consts::DLL_EXTENSION))
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.truncate(max);
    found
}

/// Checks what the file's embedded manifest says, before the library is
/// opened: its panic strategy and ABI major. The manifest (if any) is
/// returned, to be checked against the library's own list once it is open.
fn before_opening(path: &Path) -> Result<Option<kairos_abi::manifest::Embedded>, LoadError> {
    let m = match embedded::read(path) {
        Ok(Found::Manifest(m)) => m,
        Ok(Found::None | Found::NotObject) => return Ok(None),
        Err(detail) => return Err(LoadError::NotAPlugin { path: path.to_owned(), detail }),
    };
    if m.unwinds == Some(false) {
        return Err(LoadError::PanicAbort { path: path.to_owned() });
    }
    let major = |v: &str| v.split('.').next().unwrap_or_default().to_owned();
    let refused = match m.abi.strip_prefix("C ") {
        Some(c) if c != c_abi::C_ABI_VERSION.to_string() => {
            Some(("kairos_plugin.h", m.abi.clone(), format!("C {}", c_abi::C_ABI_VERSION)))
        }
        Some(_) => None,
        None if major(&m.abi) != major(ABI_VERSION) => Some(("kairos-abi", m.abi.clone(), ABI_VERSION.to_owned())),
        None => None,
    };
    if let Some((interface, found, expected)) = refused {
        return Err(LoadError::Version { interface, path: path.to_owned(), found, expected });
    }
    Ok(Some(m))
}

/// Opens the library at `path` — once: a library refused after it was opened
/// stays open — checks it, and checks its plugin list against its embedded
/// manifest (if any). An error says whether the library was opened.
fn open(path: &Path, manifest: Option<kairos_abi::manifest::Embedded>) -> Result<NativeLibrary, (LoadError, bool)> {
    let p = || path.to_owned();
    // A bare file name would send the dynamic loader searching the system's
    // library path: name the file in the current directory instead.
    let file = if path.parent().is_some_and(|d| d.as_os_str().is_empty()) {
        Path::new(".").join(path)
    } else {
        path.to_owned()
    };
    let raw: &'static RawLibrary = match RawLibrary::load_at(&file) {
        Ok(raw) => Box::leak(Box::new(raw)),
        Err(LibraryError::OpenError { err, .. }) => {
            let detail = format!("it cannot be opened as a library ({err})");
            return Err((LoadError::NotAPlugin { path: p(), detail }, false));
        }
        Err(e) => return Err((LoadError::Other { path: p(), detail: squash(&e.to_string()) }, false)),
    };
    let lib = checked(path, &file, raw).map_err(|e| (e, true))?;
    validate::manifest(&lib.plugins)
        .map_err(|e| (LoadError::Other { path: p(), detail: format!("its plugin list is invalid: {e}") }, true))?;
    if let Some(m) = manifest {
        let mut embedded: Vec<(ExtensionPoint, &str)> =
            m.plugins.iter().map(|(pt, n)| (point_of(*pt), n.as_str())).collect();
        let mut listed: Vec<(ExtensionPoint, &str)> = lib.plugins.iter().map(|i| (i.point, i.name.as_str())).collect();
        embedded.sort();
        listed.sort();
        if embedded != listed {
            let show = |v: &[(ExtensionPoint, &str)]| {
                v.iter().map(|(pt, n)| format!("{n} ({pt})")).collect::<Vec<_>>().join(", ")
            };
            let detail = format!(
                "its embedded manifest lists {}, but the library offers {}: the file was not built in one piece",
                show(&embedded),
                show(&listed)
            );
            return Err((LoadError::Other { path: p(), detail }, true));
        }
    }
    Ok(lib)
}

/// Checks the library `raw`, opened from `file` (named `path` in messages):
/// a kairos-abi root module, or else the C ABI.
fn checked(path: &Path, file: &Path, raw: &'static RawLibrary) -> Result<NativeLibrary, LoadError> {
    let p = || path.to_owned();
    // SAFETY: `raw` is leaked, so the library is never unloaded and the
    // header's `'static` references stay valid.
    match unsafe { lib_header_from_raw_library(raw) } {
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
                    // A closed stderr must not panic the host: the report is a debugging aid.
                    use std::io::Write as _;
                    let _ = writeln!(
                        std::io::stderr(),
                        "debug: abi_stable's layout report for {}:\n{full}",
                        file.display()
                    );
                }
                Err(LoadError::Layout { path: p(), tail: layout_tail(&full, LAYOUT_TAIL_LINES) })
            }
            Err(LibraryError::InvalidAbiHeader(_)) => Err(LoadError::Other {
                path: p(),
                detail: "it was built with an abi_stable incompatible with this host's".into(),
            }),
            Err(e) => Err(LoadError::Other { path: p(), detail: squash(&e.to_string()) }),
        },
        Err(LibraryError::GetSymbolError { .. }) => match c_abi::open(raw, path) {
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
        PartitionBy::Label => {
            let label = validate::code(key.label.as_bytes())
                .map_err(|e| format!("the plugin groups jobs by a label, and names it with {e}"))?;
            PartitionKey::Label(cx.sym(label))
        }
    })
}

/// The directories of `$KAIROS_PLUGIN_PATH`.
pub fn plugin_path_env() -> Vec<PathBuf> {
    std::env::var_os(PLUGIN_PATH_ENV).map(|v| std::env::split_paths(&v).collect()).unwrap_or_default()
}

/// Finds the library offering plugin `name` at `point` in `dirs`, in order
/// (missing directories are skipped), **opening only the library asked for**:
///
/// 1. In each directory, the manifest embedded in each library file (sorted
///    by name) is read from the file; the first library whose manifest offers
///    the plugin is loaded. No other library of the directory is opened, so
///    none of their code runs.
/// 2. Libraries without a manifest (built before it existed) cannot be asked
///    without loading them: only when no library of the directory with a
///    manifest offers the plugin are they loaded, in order, and asked.
///
/// Libraries that cannot be loaded are passed over, and named in the error
/// when no library offers the plugin.
pub fn find_plugin(dirs: &[PathBuf], point: ExtensionPoint, name: &str) -> Result<Arc<NativeLibrary>, String> {
    let mut refused = Vec::new();
    let mut offered = Vec::new();
    let file_name = |f: &Path| f.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let try_load = |f: &Path, refused: &mut Vec<String>, offered: &mut Vec<String>| match load(f) {
        Ok(lib) if lib.get(point, name).is_some() => Some(lib),
        Ok(lib) => {
            offered.extend(lib.plugins.iter().filter(|p| p.point == point).map(|p| p.name.clone()));
            None
        }
        Err(e) => {
            refused.push(
                file_name(f)
                    + match e {
                        LoadError::Version { .. } => " (another ABI version)",
                        LoadError::Layout { .. } => " (layout mismatch)",
                        LoadError::NotAPlugin { .. } => " (not a kairos plugin)",
                        LoadError::PanicAbort { .. } => " (built with panic = \"abort\")",
                        _ => " (cannot be loaded)",
                    },
            );
            None
        }
    };
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == std::env::consts::DLL_EXTENSION))
            .collect();
        files.sort();
        let mut without_manifest = Vec::new();
        for f in files {
            match embedded::read(&f) {
                Ok(Found::Manifest(m)) if m.offers(abi_point(point), name) => {
                    if let Some(lib) = try_load(&f, &mut refused, &mut offered) {
                        return Ok(lib);
                    }
                }
                Ok(Found::Manifest(m)) => {
                    offered.extend(m.plugins.iter().filter(|(p, _)| point_of(*p) == point).map(|(_, n)| n.clone()))
                }
                Ok(Found::None) => without_manifest.push(f),
                Ok(Found::NotObject) => refused.push(file_name(&f) + " (not a library)"),
                Err(_) => refused.push(file_name(&f) + " (malformed manifest)"),
            }
        }
        for f in without_manifest {
            if let Some(lib) = try_load(&f, &mut refused, &mut offered) {
                return Ok(lib);
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

/// The ABI's name of an extension point.
fn abi_point(p: ExtensionPoint) -> Point {
    match p {
        ExtensionPoint::Order => Point::Order,
        ExtensionPoint::Filter => Point::Filter,
        ExtensionPoint::Score => Point::Score,
        ExtensionPoint::Rebalance => Point::Rebalance,
    }
}
