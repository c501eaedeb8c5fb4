//! The plugin author's side: plain Rust traits, a panic guard on every call, and
//! [`export_plugins!`](crate::export_plugins) to export the root module.
//!
//! A plugin implements one of [`Order`], [`Filter`], [`Score`], [`Rebalance`]
//! and describes itself with a [`PluginDef`]. The SDK wraps it into the v1
//! trait object of its point ([`crate::traits`]) so that **every call, and the
//! build, runs under `catch_unwind` inside the plugin**: a panic becomes an
//! `RErr` carrying the panic message, which the host handles like any failed
//! call. A panic must never unwind across the boundary (it would end the host:
//! `extern "C"` functions abort on unwind, and the host cannot catch a panic of
//! another copy of std).
//!
//! What the guard cannot contain: a segfault, an abort, stack overflow, an
//! infinite loop, or memory corruption in plugin code take the host process
//! down or hang it. Run a plugin you do not trust in a separate host process.
//!
//! Nor can it catch anything in a library built with `panic = "abort"`:
//! [`export_plugins!`](crate::export_plugins) records the library's panic
//! strategy in its embedded manifest ([`crate::manifest`]), and the host
//! refuses such a library before loading it. Should one be loaded anyway, the
//! panic hook prints the plugin's name, the message and the place to stderr
//! before the process aborts.

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{RErr, RNone, ROk, ROption, RResult, RSlice, RSliceMut, RSome, RStr, RString, RVec};
use abi_stable::StableAbi;

pub use crate::fields::Fields;
use crate::json;
use crate::module::{BuiltV1, Extension, PluginInfo, Point};
use crate::partition::{
    GroupUsageView, PartitionBuiltV1, PartitionBy, PartitionKeyV1, PartitionOrderV1, PartitionOrderV1_TO, PartitionV1,
    PARTITION_V1,
};
use crate::traits::{FilterV1, FilterV1_TO, OrderV1, OrderV1_TO, RebalanceV1, RebalanceV1_TO, ScoreV1, ScoreV1_TO};
use crate::views::{ClusterView, JobView, MoveView, RunningView, Verdict};

/// An order plugin: one key per job, lower goes first (finite numbers only).
pub trait Order: Send + Sync + 'static {
    /// Writes one key per job into `keys` (same length as `jobs`).
    fn keys(&self, jobs: &[JobView<'_>], cluster: &ClusterView<'_>, keys: &mut [f64]) -> Result<(), String>;
}

/// A filter plugin: a verdict per node of the batch.
pub trait Filter: Send + Sync + 'static {
    /// Writes a verdict per node of `nodes` into `verdicts` (same length; every
    /// entry is [`Verdict::PASS`] on entry, so only rejections need writing).
    /// A verdict must not depend on the other nodes of the batch: the host may
    /// split the candidates into several batches.
    fn filter(
        &self,
        job: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: &[u32],
        verdicts: &mut [Verdict],
    ) -> Result<(), String>;
}

/// A score plugin: a number in `0..=100` per node of the batch, higher is better.
/// The host refuses NaN and out-of-range scores, naming the plugin.
pub trait Score: Send + Sync + 'static {
    /// Writes a score per node of `nodes` into `scores` (same length).
    fn score(
        &self,
        job: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: &[u32],
        scores: &mut [f64],
    ) -> Result<(), String>;
}

/// A rebalance plugin: proposed moves, which the host validates.
pub trait Rebalance: Send + Sync + 'static {
    /// Appends proposed moves to `moves`.
    fn rebalance(
        &self,
        cluster: &ClusterView<'_>,
        running: &[RunningView],
        moves: &mut Vec<MoveView>,
    ) -> Result<(), String>;
}

/// What a partition-scoped order plugin groups jobs by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartitionKey {
    /// The job's group (in the pass-window example, its region).
    Group,
    /// The job's tenant.
    Tenant,
    /// The job's priority class.
    PriorityClass,
    /// The value of the job's label of this key (jobs without it form one group).
    Label(String),
}

impl PartitionKey {
    /// Reads a key as kairos's built-in `fair-share` writes it: `group` (or its
    /// alias `region`), `tenant`, `priority-class` or `label:<name>`.
    ///
    /// ```
    /// use kairos_abi::sdk::PartitionKey;
    /// assert_eq!(PartitionKey::parse("label:team"), Ok(PartitionKey::Label("team".into())));
    /// assert!(PartitionKey::parse("label:").is_err());
    /// ```
    pub fn parse(key: &str) -> Result<PartitionKey, String> {
        match key {
            "group" | "region" => Ok(PartitionKey::Group),
            "tenant" => Ok(PartitionKey::Tenant),
            "priority-class" => Ok(PartitionKey::PriorityClass),
            _ => match key.strip_prefix("label:") {
                Some("") => Err("`label:<name>` needs a label name after `label:`".into()),
                Some(label) => Ok(PartitionKey::Label(label.to_owned())),
                None => Err(format!(
                    "unknown key `{key}`; expected `group`, `region`, `tenant`, `priority-class` or `label:<name>`"
                )),
            },
        }
    }

    fn to_v1(&self) -> PartitionKeyV1 {
        let (by, label) = match self {
            PartitionKey::Group => (PartitionBy::Group, ""),
            PartitionKey::Tenant => (PartitionBy::Tenant, ""),
            PartitionKey::PriorityClass => (PartitionBy::PriorityClass, ""),
            PartitionKey::Label(l) => (PartitionBy::Label, l.as_str()),
        };
        PartitionKeyV1 { by, label: label.into() }
    }
}

/// A partition-scoped order plugin (fair share): jobs are grouped by
/// [`PartitionKey`], and a job's key depends only on its group and on what the
/// group holds now. Needs a host that offers `kairos.partition.v1` (see
/// [`crate::partition`]); the host asks again for the heads of the groups after
/// every placement.
pub trait PartitionOrder: Send + Sync + 'static {
    /// What jobs are grouped by (asked once, when the pipeline is built).
    fn key(&self) -> PartitionKey;

    /// Writes one key per job into `keys` (same length as `jobs`; lower goes
    /// first; finite numbers only). `groups[i]` is what job `i`'s group holds.
    fn keys(
        &self,
        jobs: &[JobView<'_>],
        groups: &[GroupUsageView<'_>],
        cluster: &ClusterView<'_>,
        keys: &mut [f64],
    ) -> Result<(), String>;
}

/// A built plugin, before the SDK wraps it.
pub enum Plugin {
    /// An order plugin.
    Order(Box<dyn Order>),
    /// A partition-scoped order plugin (`kairos.partition.v1`).
    PartitionOrder(Box<dyn PartitionOrder>),
    /// A filter plugin.
    Filter(Box<dyn Filter>),
    /// A score plugin.
    Score(Box<dyn Score>),
    /// A rebalance plugin.
    Rebalance(Box<dyn Rebalance>),
}

/// What a plugin's `build` receives.
pub struct BuildArgs<'a> {
    /// The pipeline entry's `args` ([`json::Value::Null`] when absent).
    pub args: &'a json::Value,
    /// The cluster's resource dimension names, in order (empty when a pipeline
    /// is checked without a cluster).
    pub resources: &'a [&'a str],
}

/// Describes one plugin of a library: an entry of the manifest.
#[derive(Clone, Copy)]
pub struct PluginDef {
    /// Name used in pipelines, with a `vendor.` prefix.
    pub name: &'static str,
    /// Its extension point; `build` must return a plugin of this point.
    pub point: Point,
    /// One line for `kairos plugins list`.
    pub summary: &'static str,
    /// JSON Schema of its args, as JSON text.
    pub args_schema: &'static str,
    /// Builds the plugin from its args; an error says what is wrong with them.
    pub build: fn(&BuildArgs<'_>) -> Result<Plugin, String>,
}

thread_local! {
    /// True while a guarded call runs on this thread: its panics are reported
    /// to the host as errors, so the panic hook stays quiet about them.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    /// The plugin whose guarded call runs on this thread (empty: not known).
    static PLUGIN: Cell<&'static str> = const { Cell::new("") };
    /// Where the last guarded panic happened, for the error message.
    static WHERE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Whether this library unwinds on panic: `cfg!(panic = "unwind")` evaluated
/// in this crate, which is built with the plugin's own profile.
pub const UNWINDS: bool = cfg!(panic = "unwind");

/// Installs, once, a panic hook that records where a guarded panic happened
/// instead of printing it, and hands every other panic to the previous hook.
///
/// In a library built with `panic = "abort"` nothing can catch a panic: the
/// hook then prints the plugin's name, the message and the location, so that
/// the process does not abort without a word.
fn quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            if GUARDED.with(Cell::get) && UNWINDS {
                WHERE.with_borrow_mut(|w| *w = at);
            } else if GUARDED.with(Cell::get) {
                let plugin = PLUGIN.with(Cell::get);
                let payload = info.payload();
                let what = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("a panic without a message");
                eprintln!(
                    "kairos plugin `{plugin}` panicked at {}: {what}\n\
                     its library was built with panic = \"abort\", so nothing can catch the panic and the \
                     process aborts now; build plugins with panic = \"unwind\" (the default)",
                    at.as_deref().unwrap_or("an unknown location"),
                );
            } else {
                previous(info);
            }
        }));
    });
}

/// The message of a caught panic: `panicked at FILE:LINE:COL: MESSAGE`.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned());
    match WHERE.with_borrow_mut(Option::take) {
        Some(at) => format!("panicked at {at}: {what}"),
        None => format!("panicked: {what}"),
    }
}

/// Runs `f`, a call of `plugin`, under `catch_unwind` with the quiet hook; a
/// panic becomes `Err`.
fn catch<T>(plugin: &'static str, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    quiet_hook();
    let outer = GUARDED.with(|g| g.replace(true));
    let outer_plugin = PLUGIN.with(|p| p.replace(plugin));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    PLUGIN.with(|p| p.set(outer_plugin));
    match outcome {
        Ok(r) => r,
        Err(payload) => Err(panic_message(payload)),
    }
}

/// Runs `f` under `catch_unwind`, turning a panic or an error into `RErr`.
/// A guarded panic is not printed: it is returned, with where it happened.
pub fn guard(f: impl FnOnce() -> Result<(), String>) -> RResult<(), RString> {
    guard_named("", f)
}

/// [`guard`] for a call of plugin `plugin`, named if the panic cannot be caught.
fn guard_named(plugin: &'static str, f: impl FnOnce() -> Result<(), String>) -> RResult<(), RString> {
    match catch(plugin, f) {
        Ok(()) => ROk(()),
        Err(e) => RErr(e.into()),
    }
}

/// A plugin behind the panic guard, and its name.
struct Guarded<T: ?Sized>(&'static str, Box<T>);

impl OrderV1 for Guarded<dyn Order> {
    fn keys(
        &self,
        jobs: RSlice<'_, JobView<'_>>,
        cluster: &ClusterView<'_>,
        mut keys: RSliceMut<'_, f64>,
    ) -> RResult<(), RString> {
        guard_named(self.0, || self.1.keys(jobs.as_slice(), cluster, keys.as_mut_slice()))
    }
}

impl FilterV1 for Guarded<dyn Filter> {
    fn filter(
        &self,
        job: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: RSlice<'_, u32>,
        mut verdicts: RSliceMut<'_, Verdict>,
    ) -> RResult<(), RString> {
        guard_named(self.0, || self.1.filter(job, cluster, nodes.as_slice(), verdicts.as_mut_slice()))
    }
}

impl ScoreV1 for Guarded<dyn Score> {
    fn score(
        &self,
        job: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: RSlice<'_, u32>,
        mut scores: RSliceMut<'_, f64>,
    ) -> RResult<(), RString> {
        guard_named(self.0, || self.1.score(job, cluster, nodes.as_slice(), scores.as_mut_slice()))
    }
}

impl RebalanceV1 for Guarded<dyn Rebalance> {
    fn rebalance(
        &self,
        cluster: &ClusterView<'_>,
        running: RSlice<'_, RunningView>,
        moves: &mut RVec<MoveView>,
    ) -> RResult<(), RString> {
        guard_named(self.0, || {
            let mut v = Vec::new();
            self.1.rebalance(cluster, running.as_slice(), &mut v)?;
            moves.extend(v);
            Ok(())
        })
    }
}

impl PartitionOrderV1 for Guarded<dyn PartitionOrder> {
    fn keys(
        &self,
        jobs: RSlice<'_, JobView<'_>>,
        groups: RSlice<'_, GroupUsageView<'_>>,
        cluster: &ClusterView<'_>,
        mut keys: RSliceMut<'_, f64>,
    ) -> RResult<(), RString> {
        guard_named(self.0, || self.1.keys(jobs.as_slice(), groups.as_slice(), cluster, keys.as_mut_slice()))
    }
}

impl Plugin {
    /// Wraps the plugin into the v1 trait object of its point, behind the panic
    /// guard; `Err` for a partition-scoped order plugin, which v1 cannot carry
    /// (see [`crate::partition`]).
    pub fn into_v1(self) -> Result<BuiltV1, String> {
        self.wrap("")
    }

    /// [`Plugin::into_v1`] for plugin `name`.
    fn wrap(self, name: &'static str) -> Result<BuiltV1, String> {
        Ok(match self {
            Plugin::Order(p) => BuiltV1::Order(OrderV1_TO::from_value(Guarded(name, p), TD_Opaque)),
            Plugin::PartitionOrder(_) => {
                return Err(format!(
                    "it is a partition-scoped order plugin, and this host does not offer `{PARTITION_V1}`: \
                     run it in a kairos whose plugin interface has it"
                ))
            }
            Plugin::Filter(p) => BuiltV1::Filter(FilterV1_TO::from_value(Guarded(name, p), TD_Opaque)),
            Plugin::Score(p) => BuiltV1::Score(ScoreV1_TO::from_value(Guarded(name, p), TD_Opaque)),
            Plugin::Rebalance(p) => BuiltV1::Rebalance(RebalanceV1_TO::from_value(Guarded(name, p), TD_Opaque)),
        })
    }

    fn point(&self) -> Point {
        match self {
            Plugin::Order(_) | Plugin::PartitionOrder(_) => Point::Order,
            Plugin::Filter(_) => Point::Filter,
            Plugin::Score(_) => Point::Score,
            Plugin::Rebalance(_) => Point::Rebalance,
        }
    }
}

/// The manifest of `defs` (used by [`export_plugins!`](crate::export_plugins)).
pub fn manifest(defs: &'static [PluginDef]) -> RVec<PluginInfo> {
    defs.iter()
        .map(|d| PluginInfo {
            name: RStr::from_str(d.name),
            point: d.point,
            summary: RStr::from_str(d.summary),
            args_schema: RStr::from_str(d.args_schema),
        })
        .collect()
}

/// Builds plugin `name` of `defs` from JSON `args`, under the panic guard (used
/// by [`export_plugins!`](crate::export_plugins)).
pub fn build(
    defs: &'static [PluginDef],
    name: RStr<'_>,
    args: RStr<'_>,
    resources: RSlice<'_, RStr<'_>>,
) -> RResult<BuiltV1, RString> {
    let plugin = def_name(defs, name);
    match catch(plugin, || build_plugin(defs, name, args, resources)?.wrap(plugin)) {
        Ok(b) => ROk(b),
        Err(e) => RErr(e.into()),
    }
}

/// The name of plugin `name` as `defs` has it (`'static`), or `""`.
fn def_name(defs: &'static [PluginDef], name: RStr<'_>) -> &'static str {
    defs.iter().find(|d| d.name == name.as_str()).map_or("", |d| d.name)
}

/// Runs the `build` of plugin `name` of `defs` and checks its point.
fn build_plugin(
    defs: &'static [PluginDef],
    name: RStr<'_>,
    args: RStr<'_>,
    resources: RSlice<'_, RStr<'_>>,
) -> Result<Plugin, String> {
    let def = defs.iter().find(|d| d.name == name.as_str()).ok_or_else(|| {
        let known: Vec<&str> = defs.iter().map(|d| d.name).collect();
        format!("this library has no plugin `{name}`; it offers: {}", known.join(", "))
    })?;
    let args = json::parse(args.as_str()).map_err(|e| e.to_string())?;
    let names: Vec<&str> = resources.iter().map(|r| r.as_str()).collect();
    let plugin = (def.build)(&BuildArgs { args: &args, resources: &names })?;
    if plugin.point() != def.point {
        return Err(format!(
            "plugin `{}` is declared a {} plugin but built a {} plugin",
            def.name,
            def.point.as_str(),
            plugin.point().as_str()
        ));
    }
    Ok(plugin)
}

/// `kairos.partition.v1`'s `build` over `defs` (used by
/// [`export_plugins!`](crate::export_plugins)): the plugin if it is
/// partition-scoped, `RNone` if it is another plugin, under the panic guard.
pub fn build_partition(
    defs: &'static [PluginDef],
    name: RStr<'_>,
    args: RStr<'_>,
    resources: RSlice<'_, RStr<'_>>,
) -> ROption<RResult<PartitionBuiltV1, RString>> {
    let plugin = def_name(defs, name);
    let built = catch(plugin, || match build_plugin(defs, name, args, resources)? {
        Plugin::PartitionOrder(p) => Ok(Some((p.key().to_v1(), p))),
        _ => Ok(None),
    });
    match built {
        Ok(Some((key, p))) => {
            let order = PartitionOrderV1_TO::from_value(Guarded(plugin, p), TD_Opaque);
            RSome(ROk(PartitionBuiltV1 { key, order }))
        }
        Ok(None) => RNone,
        Err(e) => RSome(RErr(e.into())),
    }
}

/// The optional module named `name`, from the modules this SDK implements
/// (used by [`export_plugins!`](crate::export_plugins)).
pub fn extension(name: RStr<'_>, partition: &'static PartitionV1) -> ROption<Extension> {
    match name.as_str() {
        PARTITION_V1 => RSome(Extension {
            layout: <PartitionV1 as StableAbi>::LAYOUT,
            module: (partition as *const PartitionV1).cast(),
        }),
        _ => RNone,
    }
}

/// Exports a library's plugins: the root module abi_stable's loader finds.
///
/// Invoke it once, at the root of a `cdylib` crate, with the [`PluginDef`]s the
/// library offers (constant expressions: `const` items or literals). It also
/// defines `kairos_plugin_module()`, which returns the same root module
/// in-process (for tests and benchmarks that link the plugin as an `rlib`), and
/// the library's embedded manifest, `kairos_manifest_v1` ([`crate::manifest`]),
/// in its own section of the file, with the crate's panic strategy.
///
/// ```ignore
/// kairos_abi::export_plugins![LinkBudget::DEF];
/// ```
#[macro_export]
macro_rules! export_plugins {
    ($($def:expr),+ $(,)?) => {
        #[doc(hidden)]
        const __KAIROS_DEFS: &[$crate::sdk::PluginDef] = &[$($def),+];

        #[doc(hidden)]
        pub static KAIROS_PLUGINS: &[$crate::sdk::PluginDef] = __KAIROS_DEFS;

        /// The manifest embedded in the library file (see `kairos_abi::manifest`),
        /// written at compile time with this crate's panic strategy.
        #[doc(hidden)]
        #[no_mangle]
        #[cfg_attr(any(target_os = "macos", target_os = "ios"), link_section = "__DATA,__kairos_mf")]
        #[cfg_attr(windows, link_section = ".kairosm")]
        #[cfg_attr(not(any(target_os = "macos", target_os = "ios", windows)), link_section = ".kairos_manifest")]
        pub static kairos_manifest_v1: [u8; $crate::manifest::len(__KAIROS_DEFS, cfg!(panic = "unwind"))] =
            $crate::manifest::bytes(__KAIROS_DEFS, cfg!(panic = "unwind"));

        #[doc(hidden)]
        pub mod __kairos_export {
            use $crate::abi_stable::std_types::{ROption, RResult, RSlice, RStr, RString, RVec};

            extern "C" fn plugins() -> RVec<$crate::module::PluginInfo> {
                $crate::sdk::manifest(super::KAIROS_PLUGINS)
            }

            extern "C" fn build(
                name: RStr<'_>,
                args: RStr<'_>,
                resources: RSlice<'_, RStr<'_>>,
            ) -> RResult<$crate::module::BuiltV1, RString> {
                $crate::sdk::build(super::KAIROS_PLUGINS, name, args, resources)
            }

            extern "C" fn build_partition(
                name: RStr<'_>,
                args: RStr<'_>,
                resources: RSlice<'_, RStr<'_>>,
            ) -> ROption<RResult<$crate::partition::PartitionBuiltV1, RString>> {
                $crate::sdk::build_partition(super::KAIROS_PLUGINS, name, args, resources)
            }

            static PARTITION: $crate::partition::PartitionV1 =
                $crate::partition::PartitionV1 { build: build_partition };

            extern "C" fn extension(name: RStr<'_>) -> ROption<$crate::module::Extension> {
                $crate::sdk::extension(name, &PARTITION)
            }

            /// The root module.
            pub fn module() -> $crate::module::PluginModule_Ref {
                $crate::module::PluginModule::leak(plugins, build, extension)
            }

            extern "C" fn erased() -> $crate::abi_stable::library::RootModuleResult {
                $crate::abi_stable::library::__call_root_module_loader(module)
            }

            /// abi_stable's library header: the symbol the loader looks up.
            #[no_mangle]
            pub static _1as_0lib_1header_0root_bmodule_bloader: $crate::abi_stable::library::LibHeader = unsafe {
                // SAFETY: `erased` returns the root module of type `PluginModule_Ref`,
                // as `#[export_root_module]` would generate it.
                $crate::abi_stable::library::LibHeader::from_constructor::<$crate::module::PluginModule_Ref>(
                    erased,
                    $crate::abi_stable::library::CheckTypeLayout::Yes,
                )
            };
        }

        /// The library's root module, in-process.
        pub fn kairos_plugin_module() -> $crate::module::PluginModule_Ref {
            __kairos_export::module()
        }
    };
}
