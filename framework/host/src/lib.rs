//! The kairos host: everything between the model and the command line.
//!
//! - [`registry`]: the plugins a pipeline may name;
//! - [`pipeline`]: pipeline files, loaded and checked, built against a cluster;
//! - [`architecture`]: how decisions are coordinated (centralized, optimistic
//!   workers, sampled);
//! - [`cluster`], [`workload`], [`scenario`]: what to schedule, on what;
//! - [`check`]: `kairos check` — a file, its plugins called on samples, the
//!   label contract;
//! - [`input`], [`limits`]: reading input files, and the bounds of every
//!   number and size read;
//! - [`engine`]: the incremental scheduler (arrivals, completions, node changes
//!   one at a time), shared by the simulator and a live host;
//! - [`sim`]: the discrete-event simulator that drives the engine;
//! - [`health`]: calls, failures and quarantine of each script and native plugin;
//! - [`native`]: third-party plugins loaded from libraries through a stable ABI;
//! - [`reload`]: hot reload of a pipeline and its scripts, off the scheduling
//!   path, swapped into the engine between decisions;
//! - [`report`]: metrics and the run report;
//! - [`schema`]: JSON Schemas of the file formats, for editors.
//!
//! The engine reads neither the wall clock nor the filesystem; loaders do I/O.

#![warn(missing_docs)]

pub mod architecture;
pub mod check;
pub mod cluster;
pub mod engine;
pub mod error;
pub mod health;
pub mod input;
pub mod native;
pub mod pipeline;
pub mod registry;
pub mod reload;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod script;
pub mod sim;
#[cfg(test)]
mod testdir;
pub mod workload;
pub mod yaml;

pub use error::{Error, InputError, Pos};
/// The bounds of every input number and size (defined in the model, so that
/// plugins check their args against the same ones).
pub use kairos_model::limits;
