#![allow(non_camel_case_types)] // abi_stable names the prefix reference `PluginModule_Ref`
//! The root module every kairos native plugin library exports, and its manifest.
//!
//! # Loading protocol (host side)
//! 1. The host opens the library and finds abi_stable's header
//!    (`lib_header_from_path`); no header means "not a kairos plugin".
//! 2. `init_root_module::<PluginModule_Ref>()` checks the ABI version
//!    ([`ABI_VERSION`], major must match) and then the layout of
//!    [`PluginModule`] and of every type reachable from it — views, traits,
//!    manifest. A mismatch is refused before any plugin code runs.
//! 3. The host reads the manifest ([`PluginModule::plugins`]) and builds the
//!    plugin a pipeline names with [`PluginModule::build`], passing the entry's
//!    `args` as JSON text.
//!
//! # Evolution rule
//! abi_stable accepts a *newer* plugin (extra trailing fields) in an older host,
//! but a host whose root module or trait gained a method refuses every older
//! plugin. So v1 is frozen: [`PluginModule`] and the traits of
//! [`crate::traits`] never change. A new capability is a new `#[repr(C)]`
//! module type with a versioned name (`kairos.<capability>.v<N>`), which a
//! plugin *may* return from [`PluginModule::extension`]. The host asks for it by
//! name, checks its layout on its own ([`Extension::layout`]), and carries on
//! without it when the plugin returns nothing — which every plugin built before
//! the capability existed does. The first such module is
//! [`kairos.partition.v1`](crate::partition). A breaking change to v1 itself bumps the major
//! of [`ABI_VERSION`], and the host then refuses older plugins by version.
//!
//! Both directions are tested by the host (`framework/host/tests/native`): an
//! old plugin loads in a host that asks for a module the plugin lacks, and a
//! plugin built against a later minor (1.1.0, whose root module has a field after
//! [`PluginModule::extension`]; this crate's `__fixture-newer-interface` feature)
//! loads in this host.

use abi_stable::library::RootModule;
use abi_stable::prefix_type::PrefixTypeTrait;
use abi_stable::sabi_types::VersionStrings;
use abi_stable::std_types::{RBox, ROption, RResult, RSlice, RStr, RString, RVec};
use abi_stable::type_layout::TypeLayout;
use abi_stable::{declare_root_module_statics, StableAbi};

use crate::traits::{FilterV1_TO, OrderV1_TO, RebalanceV1_TO, ScoreV1_TO};

/// The ABI version this interface crate speaks. A host refuses a library whose
/// major differs; a library of a later minor (a later interface that only grew
/// at the ends of prefix types, see "Evolution rule") loads.
#[cfg(not(any(feature = "__fixture-abi-v2", feature = "__fixture-newer-interface")))]
pub const ABI_VERSION: &str = "1.0.0";
/// The ABI version (test fixture build: a deliberately different major).
#[cfg(feature = "__fixture-abi-v2")]
pub const ABI_VERSION: &str = "2.0.0";
/// The ABI version (test fixture build: a later minor, whose root module has a
/// field after [`PluginModule::extension`]).
#[cfg(all(feature = "__fixture-newer-interface", not(feature = "__fixture-abi-v2")))]
pub const ABI_VERSION: &str = "1.1.0";

/// An extension point.
#[repr(u8)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Point {
    /// Which pending job goes next.
    Order,
    /// May this node take this job.
    Filter,
    /// How good is this node.
    Score,
    /// Move running work.
    Rebalance,
}

impl Point {
    /// The name used in pipeline files.
    pub fn as_str(self) -> &'static str {
        match self {
            Point::Order => "order",
            Point::Filter => "filter",
            Point::Score => "score",
            Point::Rebalance => "rebalance",
        }
    }
}

/// One plugin a library offers: an entry of its manifest.
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug)]
pub struct PluginInfo {
    /// Name used in pipelines; third-party names carry a `vendor.` prefix.
    pub name: RStr<'static>,
    /// Extension point it implements.
    pub point: Point,
    /// One line for `kairos plugins list`.
    pub summary: RStr<'static>,
    /// JSON Schema of its `args`, as JSON text.
    pub args_schema: RStr<'static>,
}

/// A built plugin, behind the v1 trait of its extension point.
#[repr(u8)]
#[derive(StableAbi)]
pub enum BuiltV1 {
    /// An order plugin.
    Order(OrderV1_TO<'static, RBox<()>>),
    /// A filter plugin.
    Filter(FilterV1_TO<'static, RBox<()>>),
    /// A score plugin.
    Score(ScoreV1_TO<'static, RBox<()>>),
    /// A rebalance plugin.
    Rebalance(RebalanceV1_TO<'static, RBox<()>>),
}

/// An optional, separately versioned module a plugin may offer (see the
/// module docs, "Evolution rule").
#[repr(C)]
#[derive(StableAbi, Clone, Copy)]
pub struct Extension {
    /// The layout of the module's type, checked by the host against its own.
    pub layout: &'static TypeLayout,
    /// The module: a `'static` value of that type.
    pub module: *const (),
}

// SAFETY: `module` points to an immutable `'static` value of a `Sync` module type
// (function pointers and constants) in a library that is never unloaded.
unsafe impl Send for Extension {}
// SAFETY: as above.
unsafe impl Sync for Extension {}

/// The root module of a kairos plugin library, v1 (frozen).
#[repr(C)]
#[derive(StableAbi)]
#[sabi(kind(Prefix(prefix_ref = PluginModule_Ref)))]
#[sabi(missing_field(panic))]
pub struct PluginModule {
    /// The manifest: every plugin the library offers.
    pub plugins: extern "C" fn() -> RVec<PluginInfo>,
    /// Builds plugin `name` from its args (JSON text; `null` when absent),
    /// against the cluster's resource dimension names. An error says what is
    /// wrong with the args.
    pub build:
        extern "C" fn(name: RStr<'_>, args: RStr<'_>, resources: RSlice<'_, RStr<'_>>) -> RResult<BuiltV1, RString>,
    /// The optional module named `name` (`kairos.<capability>.v<N>`), if the
    /// library offers it.
    #[sabi(last_prefix_field)]
    pub extension: extern "C" fn(name: RStr<'_>) -> ROption<Extension>,
    /// Test fixture build only: a field that a later interface adds after the
    /// last one, as a newer plugin would carry it.
    #[cfg(feature = "__fixture-newer-interface")]
    pub newer: extern "C" fn() -> u32,
}

impl PluginModule {
    /// The root module made of these functions, leaked (once per library) into
    /// the prefix form the loader reads. Used by
    /// [`export_plugins!`](crate::export_plugins), so that fields a build of this
    /// crate adds are filled here, not in every plugin.
    #[doc(hidden)]
    pub fn leak(
        plugins: extern "C" fn() -> RVec<PluginInfo>,
        build: extern "C" fn(RStr<'_>, RStr<'_>, RSlice<'_, RStr<'_>>) -> RResult<BuiltV1, RString>,
        extension: extern "C" fn(RStr<'_>) -> ROption<Extension>,
    ) -> PluginModule_Ref {
        #[cfg(feature = "__fixture-newer-interface")]
        extern "C" fn newer() -> u32 {
            1
        }
        PluginModule {
            plugins,
            build,
            extension,
            #[cfg(feature = "__fixture-newer-interface")]
            newer,
        }
        .leak_into_prefix()
    }
}

impl RootModule for PluginModule_Ref {
    declare_root_module_statics! {PluginModule_Ref}
    const BASE_NAME: &'static str = "kairos_plugin";
    const NAME: &'static str = "kairos plugin";
    const VERSION_STRINGS: VersionStrings = VersionStrings::new(ABI_VERSION);
}
