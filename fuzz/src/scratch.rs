//! The worker's scratch directory: a miniature of the repository, so that the
//! real examples, written where they live, resolve their relative paths.
//!
//! ```text
//! policies/                the policy scripts and their tests (real files)
//! tests/fixtures/          the end-to-end fixture cluster, pipelines and jobs
//! tests/fixtures/policy/   two fixture policy scripts
//! examples/pass-window/    cluster, pipelines, and the first 40 passes of the day
//! examples/kth-sp2/        cluster, pipelines, and the first 60 jobs of the trace (gzip)
//! examples/regional-recovery/  its pipeline
//! ```
//!
//! Inputs are written into it by the targets, under names of their own, and read
//! back by the host's loaders, so the file-reading code is fuzzed too.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Files of the miniature, as `(path, contents)`.
const FILES: &[(&str, &str)] = &[
    ("policies/antenna-band.rhai", include_str!("../../policies/antenna-band.rhai")),
    ("policies/antenna-band.test.yaml", include_str!("../../policies/antenna-band.test.yaml")),
    ("policies/drain-node.rhai", include_str!("../../policies/drain-node.rhai")),
    ("policies/drain-node.test.yaml", include_str!("../../policies/drain-node.test.yaml")),
    ("policies/prefer-warm.rhai", include_str!("../../policies/prefer-warm.rhai")),
    ("policies/prefer-warm.test.yaml", include_str!("../../policies/prefer-warm.test.yaml")),
    ("policies/site-aging.rhai", include_str!("../../policies/site-aging.rhai")),
    ("policies/site-aging.test.yaml", include_str!("../../policies/site-aging.test.yaml")),
    ("policies/station-maintenance.rhai", include_str!("../../policies/station-maintenance.rhai")),
    ("policies/station-maintenance.test.yaml", include_str!("../../policies/station-maintenance.test.yaml")),
    ("policies/tenant-region.rhai", include_str!("../../policies/tenant-region.rhai")),
    ("policies/tenant-region.test.yaml", include_str!("../../policies/tenant-region.test.yaml")),
    ("tests/fixtures/cluster.yaml", include_str!("../../tests/fixtures/cluster.yaml")),
    ("tests/fixtures/pipeline.yaml", include_str!("../../tests/fixtures/pipeline.yaml")),
    ("tests/fixtures/baseline.yaml", include_str!("../../tests/fixtures/baseline.yaml")),
    ("tests/fixtures/jobs.csv", include_str!("../../tests/fixtures/jobs.csv")),
    ("tests/fixtures/jobs-lost.csv", include_str!("../../tests/fixtures/jobs-lost.csv")),
    ("tests/fixtures/scenario.yaml", include_str!("../../tests/fixtures/scenario.yaml")),
    ("tests/fixtures/scenario-lost.yaml", include_str!("../../tests/fixtures/scenario-lost.yaml")),
    ("tests/fixtures/policy/score.rhai", include_str!("../../tests/fixtures/policy/score.rhai")),
    ("tests/fixtures/policy/window.rhai", include_str!("../../tests/fixtures/policy/window.rhai")),
    ("examples/pass-window/cluster.yaml", include_str!("../../examples/pass-window/cluster.yaml")),
    ("examples/pass-window/pipeline.yaml", include_str!("../../examples/pass-window/pipeline.yaml")),
    ("examples/pass-window/baseline.yaml", include_str!("../../examples/pass-window/baseline.yaml")),
    ("examples/pass-window/pipeline-sites.yaml", include_str!("../../examples/pass-window/pipeline-sites.yaml")),
    ("examples/pass-window/scenario.yaml", include_str!("../../examples/pass-window/scenario.yaml")),
    ("examples/regional-recovery/pipeline.yaml", include_str!("../../examples/regional-recovery/pipeline.yaml")),
    ("examples/pass-window/data/passes_2023-07-05.csv", include_str!("../fixtures/passes-head.csv")),
    ("examples/kth-sp2/cluster.yaml", include_str!("../../examples/kth-sp2/cluster.yaml")),
    ("examples/kth-sp2/fifo.yaml", include_str!("../../examples/kth-sp2/fifo.yaml")),
    ("examples/kth-sp2/fair-edf.yaml", include_str!("../../examples/kth-sp2/fair-edf.yaml")),
    ("examples/kth-sp2/scenario.yaml", include_str!("../../examples/kth-sp2/scenario.yaml")),
];

/// The head of the KTH SP2 trace, written gzipped where the example expects it.
const KTH_HEAD: &str = include_str!("../fixtures/kth-head.swf");
/// Where the example scenario reads the trace.
const KTH_TRACE: &str = "examples/kth-sp2/data/KTH-SP2-1996-2.1-cln.swf.gz";

/// A scratch directory holding the miniature; removed when dropped.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// Creates the directory and writes the miniature into it.
    pub fn new() -> std::io::Result<Scratch> {
        let dir = tempfile::Builder::new().prefix("kairos-fuzz-").tempdir()?;
        let scratch = Scratch { dir };
        for (path, text) in FILES {
            scratch.write(path, text.as_bytes())?;
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(KTH_HEAD.as_bytes())?;
        scratch.write(KTH_TRACE, &gz.finish()?)?;
        Ok(scratch)
    }

    /// The root of the miniature.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `rel` under the root.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    /// Writes `bytes` to `rel` (creating directories) and returns its path.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        Ok(path)
    }

    /// Text of a miniature file, as shipped.
    pub fn original(rel: &str) -> Option<&'static str> {
        FILES.iter().find(|(p, _)| *p == rel).map(|(_, t)| *t)
    }
}
