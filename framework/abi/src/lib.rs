//! # kairos-abi: the stable ABI of kairos native plugins
//!
//! A third-party plugin depends on this crate and on nothing else of kairos.
//! It is built as a `cdylib`, and the kairos host loads it at run time from a
//! pipeline entry:
//!
//! ```yaml
//! score:
//!   - native: { library: ../../target/release/libvendor_link_budget.so, plugin: vendor.link-budget }
//!     args: { prefer_band: X }
//!     weight: 2
//! ```
//!
//! - [`views`]: `#[repr(C)]` views of the job, the node table (flat arrays) and
//!   the cluster that every call receives;
//! - [`traits`]: the four extension points as `#[sabi_trait]` traits, frozen at v1;
//! - [`module`]: the versioned root module ([`ABI_VERSION`]) with the manifest,
//!   and the evolution rule;
//! - [`partition`]: the optional module `kairos.partition.v1`, for
//!   partition-scoped (fair-share) order plugins;
//! - [`sdk`]: what a plugin author implements, the panic guard, and
//!   [`export_plugins!`];
//! - [`manifest`]: the manifest embedded in the library file, which the host
//!   reads without loading the library;
//! - [`fields`]: the plugin's args, read field by field ([`sdk::Fields`]);
//! - [`json`]: a small JSON reader for the plugin's args;
//! - [`testing`]: unit-test a plugin on a small cluster without a host.
//!
//! # Write a native plugin
//!
//! ```
//! use kairos_abi::sdk::{BuildArgs, Fields, Plugin, PluginDef, Score};
//! use kairos_abi::{ClusterView, JobView, Point};
//!
//! /// Prefers nodes with fewer running jobs.
//! struct Quiet { per_job: f64 }
//!
//! impl Score for Quiet {
//!     fn score(&self, _job: &JobView<'_>, cluster: &ClusterView<'_>, nodes: &[u32], scores: &mut [f64])
//!         -> Result<(), String> {
//!         for (&n, s) in nodes.iter().zip(scores) {
//!             *s = (100.0 - self.per_job * cluster.nodes.running[n as usize] as f64).max(0.0);
//!         }
//!         Ok(())
//!     }
//! }
//!
//! fn build(b: &BuildArgs<'_>) -> Result<Plugin, String> {
//!     let mut f = Fields::new(b.args)?;
//!     let per_job = f.number("per_job")?.unwrap_or(10.0);
//!     f.finish()?;
//!     Ok(Plugin::Score(Box::new(Quiet { per_job })))
//! }
//!
//! pub const QUIET: PluginDef = PluginDef {
//!     name: "vendor.quiet",
//!     point: Point::Score,
//!     summary: "nodes running fewer jobs score higher",
//!     args_schema: r#"{"type":"object","properties":{"per_job":{"type":"number"}},"additionalProperties":false}"#,
//!     build,
//! };
//!
//! kairos_abi::export_plugins![QUIET];
//! # fn main() {
//! # let m = kairos_plugin_module();
//! # assert_eq!(m.plugins()().len(), 1);
//! # }
//! ```
//!
//! with, in `Cargo.toml`:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib", "rlib"]   # rlib: the plugin's own tests run in-process
//!
//! [dependencies]
//! kairos-abi = "0.1"
//! ```
//!
//! A panic inside any method is caught by the SDK and reported to the host as a
//! failed call. A segfault or an abort cannot be caught: it ends the host. So a
//! plugin must be built with `panic = "unwind"` (the default): the host refuses
//! a library built with `panic = "abort"`, which its embedded manifest names.
//!
//! `kairos plugins new NAME` writes a crate like this one, with tests that use
//! [`testing`].

#![allow(non_local_definitions)] // abi_stable's derive macros predate the lint
#![warn(missing_docs)]

pub mod fields;
pub mod json;
pub mod manifest;
pub mod module;
pub mod partition;
pub mod sdk;
pub mod testing;
pub mod traits;
pub mod views;

/// abi_stable, re-exported for [`export_plugins!`] and for hosts.
pub use abi_stable;

pub use module::{BuiltV1, Extension, PluginInfo, PluginModule, PluginModule_Ref, Point, ABI_VERSION};
pub use views::{ClusterView, JobView, Label, MoveView, NodeTableView, RunningView, Verdict};

#[cfg(test)]
mod tests {
    #[test]
    fn the_exported_header_symbol_is_the_one_abi_stable_looks_up() {
        assert_eq!(abi_stable::library::ROOT_MODULE_LOADER_NAME, "_1as_0lib_1header_0root_bmodule_bloader");
    }
}
