//! The fuzz targets: one per parser or boundary a user's input reaches.
//!
//! | target | the input is | it goes through |
//! |---|---|---|
//! | `pipeline` | a pipeline YAML | `PipelineDef` loading, then a run of the pass-window miniature |
//! | `scenario` | a scenario YAML | `Scenario::load` and everything it references, then a run |
//! | `cluster` | a cluster YAML | `Cluster::load`, then a run of twelve generated jobs |
//! | `csv` | a CSV workload | the CSV loader against the fixture cluster, then a run |
//! | `yaml-workload` | a YAML workload | the YAML loader, then a run |
//! | `swf` | an SWF trace (plain or gzip) | the SWF loader against the KTH cluster, then a run |
//! | `passes` | a pass CSV | the pass loader and the contact/processing jobs, then a run |
//! | `policy-test` | a policy-test YAML | `PolicyTests::load` (strict sandbox), every case run twice |
//! | `script` | a Rhai script | compiled and put at every point it serves in the pass-window pipeline, then a run |
//! | `native` | a byte tape | a native plugin library whose every returned value is read from the tape, through the host's adapter, then a run |
//!
//! Each target writes its input into the worker's [`Scratch`] miniature and
//! reads it back through the host's own loaders, then runs what loaded with
//! [`oracle::run_twice`](crate::oracle::run_twice).

mod files;
mod native;
mod policy;
mod script;
mod workloads;

use std::cell::RefCell;
use std::path::PathBuf;

use kairos_host::registry::Registry;

use crate::scratch::Scratch;
use crate::{Finding, Outcome};

/// What every target can use: the scratch miniature, the plugin registry, and
/// the fuzz plugin library.
pub struct Ctx {
    /// The miniature of the repository the inputs are written into.
    pub scratch: Scratch,
    /// The built-in plugins.
    pub registry: Registry,
    /// The `kairos-fuzz-plugin` library, for the `native` target.
    pub plugin: Option<PathBuf>,
    /// The file the last input was written to (for the `kairos` cross-check).
    pub written: RefCell<Option<PathBuf>>,
}

impl Ctx {
    /// A context with a fresh scratch directory.
    pub fn new(plugin: Option<PathBuf>) -> std::io::Result<Ctx> {
        let scratch = Scratch::new()?;
        files::prepare(&scratch)?;
        Ok(Ctx { scratch, registry: Registry::builtin(), plugin, written: RefCell::new(None) })
    }

    /// Writes the input to `rel` in the scratch directory and remembers it.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<PathBuf, Finding> {
        let path = self
            .scratch
            .write(rel, bytes)
            .map_err(|e| Finding::new(crate::Kind::Harness, format!("harness: cannot write {rel}: {e}")))?;
        *self.written.borrow_mut() = Some(path.clone());
        Ok(path)
    }
}

/// A fuzz target.
pub struct Target {
    /// Its name on the command line and under `fuzz/corpus/`.
    pub name: &'static str,
    /// One line on what it fuzzes.
    pub about: &'static str,
    /// Whether the input is bytes rather than text (mutated bytewise only).
    pub binary: bool,
    /// Tokens the mutator inserts: keywords and names of the format.
    pub dictionary: &'static [&'static str],
    /// Runs one input.
    pub run: fn(&Ctx, &[u8]) -> Result<Outcome, Finding>,
    /// `kairos` commands that read the input's file, run from the scratch
    /// root, `{}` standing for the file (the cross-check of the real binary).
    pub cli: &'static [&'static [&'static str]],
}

/// Every target, in the order `kairos-fuzz list` prints them.
pub fn all() -> &'static [Target] {
    &TARGETS
}

/// The target named `name`.
pub fn by_name(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

static TARGETS: [Target; 10] = [
    files::PIPELINE,
    files::SCENARIO,
    files::CLUSTER,
    workloads::CSV,
    workloads::YAML,
    workloads::SWF,
    workloads::PASSES,
    policy::POLICY_TEST,
    script::SCRIPT,
    native::NATIVE,
];

/// A small hash of the input, for choices a target makes from it
/// (deterministic: FNV-1a).
pub(crate) fn hash(input: &[u8]) -> u64 {
    input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
