//! The kairos scheduling model and its four extension points.
//!
//! This crate has no I/O and never reads the wall clock: time is a number the
//! caller passes in ([`Time`]), so the discrete-event simulator and a live host
//! drive the same engine. Built-in plugins and the stable-ABI interface depend on
//! this crate and on nothing else of kairos.
//!
//! A scheduling decision for one job runs the extension points in this order:
//!
//! 1. **order** ([`OrderPlugin`]) — which pending job is considered next;
//! 2. **filter** ([`FilterPlugin`]) — which nodes may take it, with every
//!    rejection recorded as data ([`Reason`]);
//! 3. **score** ([`ScorePlugin`]) — how good each surviving node is, 0–100,
//!    weighted per pipeline; the host picks the highest total (ties: lowest node
//!    index) and alone commits the placement;
//! 4. **rebalance** ([`RebalancePlugin`]) — after a cycle's placements, proposed
//!    moves that the host validates and applies.
//!
//! Plugins are called once per job with a **batch** of candidate nodes and read
//! node state from flat arrays ([`NodeTable`]), so a plugin boundary costs one call
//! per job, not one per (job, node) pair.

#![warn(missing_docs)]

pub mod context;
pub mod filter;
pub mod job;
pub mod limits;
pub mod node;
pub mod order;
pub mod plugin;
pub mod reason;
pub mod rebalance;
pub mod resources;
pub mod score;
pub mod symbol;
pub mod time;
pub mod workers;

pub use context::{Context, GroupUsage};
pub use filter::{Candidates, FilterPlugin};
pub use job::{Job, JobId, Toleration};
pub use node::{Layout, NodeId, NodeSpec, NodeTable, Taint, TaintEffect};
pub use order::{OrderKey, OrderPlugin, OrderScope, PartitionKey};
pub use plugin::{
    schema_of, typed_args, ArgsError, BuildContext, Built, ExtensionPoint, PluginError, PluginResult, PluginSpec,
};
pub use reason::{Reason, RejectionCount, Rejections};
pub use rebalance::{Move, RebalancePlugin, Running};
pub use resources::{Qty, ResourceSpace};
pub use score::{ScorePlugin, MAX_SCORE};
pub use symbol::{Sym, Symbols};
pub use time::{fmt_duration, Time};
pub use workers::StealPolicy;
