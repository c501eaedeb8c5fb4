//! The kairos host: everything between the model and the command line.
//!
//! - [`registry`]: the plugins a pipeline may name;
//! - [`pipeline`]: pipeline files, loaded and checked, built against a cluster;
//! - [`architecture`]: how decisions are coordinated (centralized, optimistic
//!   workers, sampled);
//! - [`cluster`], [`workload`], [`scenario`]: what to schedule, on what;
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
pub mod cluster;
pub mod engine;
pub mod error;
pub mod health;
pub mod native;
pub mod pipeline;
pub mod registry;
pub mod reload;
pub mod report;
pub mod scenario;
pub mod schema;
pub mod script;
pub mod sim;
pub mod workload;
pub mod yaml;

pub use error::{Error, InputError, Pos};
