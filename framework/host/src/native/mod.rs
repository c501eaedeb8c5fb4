//! Third-party native plugins: libraries loaded at run time through a stable ABI.
//!
//! A pipeline entry names a plugin in a library, by path (relative to the
//! pipeline file) or by name alone, found in the plugin directories:
//!
//! ```yaml
//! plugin_dirs: [../../target/release]      # relative to this file; then $KAIROS_PLUGIN_PATH
//! score:
//!   - native: { library: ../../target/release/libvendor_link_budget.so, plugin: vendor.link-budget }
//!     args: { bands: { NOAA: S } }
//!     weight: 2
//!     on_error: reject-node                 # as for scripts
//!   - native: { plugin: vendor.other }      # searched in plugin_dirs, then KAIROS_PLUGIN_PATH
//! ```
//!
//! # Loading protocol
//! 1. The library file must exist ([`LoadError::Missing`]) and be a file, not
//!    a directory ([`LoadError::Directory`]).
//! 2. Before the library is opened, the manifest embedded in its file
//!    ([`kairos_abi::manifest`], read without loading it) is checked, when it
//!    has one: a library built with `panic = "abort"` is refused
//!    ([`LoadError::PanicAbort`]), and so is one built for another ABI major
//!    ([`LoadError::Version`]). **None of their code runs.**
//! 3. The host opens the library, **once per process** (by canonical path; a
//!    library refused after it was opened stays open and is refused again
//!    without being reopened), and looks for abi_stable's header. If there is
//!    none, it looks in the same opened library for the C ABI's
//!    `kairos_c_abi_version` symbol ([`c_abi`]); a library with neither is not
//!    a kairos plugin ([`LoadError::NotAPlugin`]).
//! 4. For a Rust library, `init_root_module` checks the ABI version (the major
//!    of [`kairos_abi::ABI_VERSION`] must match, [`LoadError::Version`]) and the
//!    layout of the root module and of every type reachable from it
//!    ([`LoadError::Layout`]) **before any plugin code runs**. A C library's
//!    version symbol must return [`c_abi::C_ABI_VERSION`].
//! 5. The library's plugin list must be valid ([`validate::manifest`]) and
//!    agree with its embedded manifest, if any.
//! 6. The manifest says which plugins the library offers, at which extension
//!    point; a name it does not list is refused, with the list.
//! 7. Building the plugin passes the entry's `args` as JSON; the plugin refuses
//!    bad args with a message, shown at the position of `args`. An order plugin
//!    is first offered to the library's optional module `kairos.partition.v1`
//!    (when it has one, its layout checked): a partition-scoped plugin is built
//!    there, any other through the root module.
//!
//! Every failing entry of a pipeline is reported, not only the first. A plugin
//! named without a library is found in the plugin directories by the embedded
//! manifests, opening only the library that offers it ([`find_plugin`]).
//!
//! # What a native plugin can and cannot break
//! The SDK catches a panic inside every call and returns it as an error, which
//! the host handles by the entry's `on_error` ([`crate::script::OnError`], as for
//! scripts) and counts per plugin in the report (`native_errors`). Every value a
//! plugin returns is checked at the boundary ([`validate`]): a verdict naming a
//! resource the cluster lacks, a reason code that is not a short word, a score
//! that is NaN or outside `0..=100`, an order key that is not finite, a move of
//! a job that is not running or to a node that does not exist is such an error
//! too, naming the plugin. **A segfault, an abort or memory corruption in a
//! plugin cannot be contained: it takes the whole host process down.** A library
//! built with `panic = "abort"` is refused (step 2); one built before manifests
//! existed cannot be told apart, and should an aborting library of this SDK be
//! loaded anyway (by a host that does not check), its panic hook prints the
//! plugin, the message and the place before the process aborts. To isolate a
//! plugin you do not trust, run it in its own host process (one `kairos` per untrusted
//! pipeline, under a supervisor that restarts it), never in the process that
//! holds the state you care about.
//!
//! # Libraries are never unloaded
//! Unloading a library whose code or `'static` data may still be referenced is
//! unsound, so a loaded library stays mapped until the process ends, and
//! loading the same path again returns the library already loaded. The hot
//! reload rule follows: **a new version of a plugin is built to a new path**
//! (`libvendor_x-v2.so`, or a versioned directory), the pipeline is edited to
//! name it, and the reload swaps in a pipeline that points at the new library
//! while the old one stays mapped, unused. Overwriting a loaded library in place
//! is undefined behaviour (the process may crash); kairos does not watch
//! library files.

mod adapter;
pub mod c_abi;
mod embedded;
mod load;
pub mod validate;
mod views;

#[cfg(test)]
mod tests;

pub use load::{find_plugin, in_process, load, plugin_path_env, LoadError, NativeInfo, NativeLibrary, PLUGIN_PATH_ENV};

/// The plugin ABIs this host speaks, for `kairos --version`:
/// `plugin ABI: kairos-abi 1.0.0, C ABI 1`.
pub fn abi_versions() -> String {
    format!("plugin ABI: kairos-abi {}, C ABI {}", kairos_abi::ABI_VERSION, c_abi::C_ABI_VERSION)
}

use std::sync::Arc;

use crate::health::Health;

/// The health of one native plugin entry, shared with its adapter: calls (one
/// per batch), failed calls (an error, a caught panic, a bad value), the first
/// error and quarantine (see [`crate::health`]).
#[derive(Clone, Debug)]
pub struct NativeStats {
    /// The plugin's name.
    pub name: String,
    /// Calls, failures, the first error and quarantine.
    pub health: Arc<Health>,
}
