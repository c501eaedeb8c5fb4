//! The scheduling-cycle benchmark: what one placement decision costs.
//!
//! A synthetic cluster of 1,000 or 10,000 nodes with four resource dimensions
//! (`cpu` in millicores, `memory` in MiB, `storage` in GiB, `network` in Mbit/s;
//! capacities drawn per node from a seeded generator, so every run sees the same
//! heterogeneous cluster) takes a batch of jobs with random four-dimensional
//! requests. Five ways of placing the batch are timed:
//!
//! 1. **pipeline** — `examples/pass-window/pipeline.yaml`, the showcase: priority,
//!    fair-share and EDF order; node-selector, fit and headroom filters; best-fit
//!    score. Built with [`PipelineDef::parse`] and run through the [`Engine`].
//! 2. **baseline** — `examples/pass-window/baseline.yaml`: FIFO; node-selector and
//!    fit; first-fit. Same engine.
//! 3. **scripted** — the showcase plus a Rhai filter and a Rhai score
//!    (`benches/pipeline-scripted.yaml`). Same engine.
//! 4. **reference** — no plugin, no engine: one tight loop per job over the same
//!    flat arrays ([`NodeTable::allocatable_flat`], [`NodeTable::used_flat`]) that
//!    checks fit in the four dimensions, computes the best-fit score in `f64`,
//!    keeps the best node with a branch and commits into a local `used` array.
//! 5. **columnar** — the same decisions over the same nodes and jobs, laid out
//!    as columns: one `i32` column of free and one of used capacity per
//!    dimension (the bench's quantities fit exactly; checked), `f32` reciprocals
//!    of allocatable, the `best-fit` score in `f32`, and the best node kept per
//!    lane of 8 nodes with selects instead of branches, so that the scan is
//!    vector code on the x86-64 baseline (SSE2). This is the floor issue 13
//!    measures the engine against. Before timing, both references run once and
//!    must place as many jobs; the summary says on how many nodes they agree.
//!
//! Each timed iteration starts from an empty cluster: the engine is built and the
//! jobs submitted at time 0 outside the timing, then one `engine.schedule(0)` —
//! which places the whole batch — is timed. The batch is small against the
//! cluster (a job asks well under 1 % of a node), so no decision meets a full
//! cluster and every job is placed: per decision = elapsed / decisions.
//!
//! After criterion's own report, a summary prints each variant's median time per
//! decision and its ratios to both references measured in this same run (ratios
//! between runs on a shared machine mean little), one line each:
//! `pipeline/10000 … × reference R1 × columnar R2` (id first, the ratio to the
//! columnar reference last), and the columnar reference's ns per (job, node)
//! pair (`columnar-pair/10000 … 0.71`). Criterion measures one variant after
//! the other, for seconds each, so on a busy machine a disturbance can land on
//! one variant only; the same calls are then made again with the variants
//! taking turns, `KAIROS_BENCH_INTERLEAVED_ROUNDS` rounds (21; 0 skips), and
//! their medians printed the same way (`interleaved/pipeline/10000 … × columnar
//! R`). Then, once each, the whole 100,000-job
//! batch is placed on both clusters (the issue's scale), with both references
//! on the same jobs (`long/pipeline/10000 … × columnar R`); set
//! `KAIROS_BENCH_LONG=0` to skip it, or `KAIROS_BENCH_LONG_JOBS=N` to change N.
//!
//! Then the coordination architectures (see `kairos_host::architecture`) on the
//! same 10,000-node / 100,000-job batch, with the showcase pipeline and its
//! `architecture:` set: `centralized`, `optimistic` with one and with two
//! workers, `sampled` (d = 2) and `partitioned` by region (4 regions; a job
//! is decided on its home region's nodes), with its partition workers on
//! threads and, as a baseline, all on the engine's thread. The variants alternate for
//! `KAIROS_BENCH_ARCH_ROUNDS` rounds (default 3) so that a disturbance hits all of
//! them alike, and the table gives each one's median with the ratios to
//! `optimistic ×1` and to `centralized` from this run, and its conflict rate.
//! Then a simulated synthetic workload on 1,000 nodes (jobs of 4–20 cores
//! arriving at about the cluster's capacity) is run `centralized` and `sampled`,
//! to compare time-averaged utilisation. `KAIROS_BENCH_ARCH=0` skips all this.
//!
//! Last, the **backlog**: 2,500 to 50,000 jobs submitted at 0 on 4 nodes (a node
//! runs one to five at once), simulated to the end as `kairos run` simulates a
//! scenario, with the showcase pipeline and with it less its `fit` filter
//! (`benches/pipeline-nofit.yaml`): wall time, placements, decisions, quick
//! skips and decisions per placed job (`backlog/showcase/50000 …`). A run is
//! stopped after `KAIROS_BENCH_BACKLOG_CAP_S` seconds (60), and the larger
//! backlogs of its pipeline are then skipped; `KAIROS_BENCH_BACKLOG_JOBS=2500,5000`
//! chooses the sizes. Then the cycles `partitioned` runs for 2 jobs with
//! `rebalance_s: 1`.
//!
//! # Running parts of it
//!
//! `KAIROS_BENCH_SECTIONS` is a comma-separated list of the sections to run, of
//! `criterion` (the timed batches and their summary), `long`, `arch` and
//! `backlog`; all by default. A criterion filter after `--` narrows the first.
//! A quick look at the ratios (about 1 min):
//!
//! ```sh
//! KAIROS_BENCH_SECTIONS=criterion cargo bench -p kairos-host --bench cycle -- '/10000'
//! KAIROS_BENCH_SECTIONS=backlog KAIROS_BENCH_BACKLOG_JOBS=2500,5000 cargo bench -p kairos-host --bench cycle
//! ```
//!
//! `cargo test -p kairos-host --benches` runs each criterion benchmark once, as
//! a test, and none of the other sections.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use kairos_host::engine::Engine;
use kairos_host::pipeline::{Pipeline, PipelineDef};
use kairos_host::registry::Registry;
use kairos_host::sim::Simulation;
use kairos_host::workload::JobSpec;
use kairos_model::{Job, NodeSpec, NodeTable, Qty, ResourceSpace, Symbols, MAX_SCORE};

/// Resource dimensions of the synthetic cluster. The names are those the
/// showcase pipeline's `headroom` args list, so the real file builds against it.
const RESOURCES: [&str; DIMS] = ["cpu", "memory", "storage", "network"];
const DIMS: usize = 4;

/// Node capacity ranges per dimension, inclusive: a 16–128 core machine with
/// 64 GiB–1 TiB of memory, 0.5–8 TB of disk and a 10–100 Gbit/s link.
const CAPACITY: [(Qty, Qty); DIMS] = [(16_000, 128_000), (65_536, 1_048_576), (500, 8_000), (10_000, 100_000)];

/// Job request ranges per dimension, inclusive. A job asks at most ~3 % of the
/// smallest node's cpu and less elsewhere: a node holds a few hundred jobs, so
/// even the 100,000-job batch leaves the 1,000-node cluster well short of full.
const REQUEST: [(Qty, Qty); DIMS] = [(100, 500), (256, 2_048), (1, 10), (10, 100)];

/// Regions nodes belong to and jobs are grouped by (the fair-share key).
const REGIONS: [&str; 4] = ["europe", "americas", "asia", "oceania"];

/// Cluster sizes measured.
const NODE_COUNTS: [usize; 2] = [1_000, 10_000];

/// Jobs placed per timed iteration: enough for the per-cycle costs (sorting the
/// queue) to be shared out as they would be in a busy cycle, few enough that an
/// iteration at 10,000 nodes stays a fraction of a second.
const BATCH: usize = 1_000;

/// The issue's scale: jobs placed once per cluster size after the criterion runs.
const LONG_JOBS: usize = 100_000;

/// Seed of the generator: fixed so every run and machine sees the same inputs.
const SEED: u64 = 0x6b61_6972_6f73; // "kairos"

// ---- inputs ---------------------------------------------------------------------

/// splitmix64 (Steele, Lea, Flood 2014): a tiny, well-mixed, seedable generator,
/// enough for benchmark inputs and no dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi` (the modulo bias is irrelevant here).
    fn range(&mut self, (lo, hi): (u64, u64)) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

/// A synthetic cluster and a pool of jobs to place on it.
struct World {
    resources: ResourceSpace,
    symbols: Symbols,
    nodes: NodeTable,
    jobs: Vec<Job>,
}

impl World {
    /// `nodes` nodes and `jobs` jobs, the same for the same arguments.
    fn new(nodes: usize, jobs: usize) -> World {
        let rng = SplitMix64(SEED ^ nodes as u64);
        World::generate(rng, nodes, |rng| CAPACITY.iter().map(|&r| rng.range(r)).collect(), jobs, &REQUEST)
    }

    /// `nodes` nodes in [`REGIONS`] in turn, with capacities drawn by
    /// `capacity`, then `jobs` jobs with requests drawn from `request`, all
    /// from `rng`.
    fn generate(
        mut rng: SplitMix64,
        nodes: usize,
        mut capacity: impl FnMut(&mut SplitMix64) -> Vec<Qty>,
        jobs: usize,
        request: &[(Qty, Qty); DIMS],
    ) -> World {
        let resources = ResourceSpace::new(RESOURCES);
        let mut symbols = Symbols::default();
        let (region_key, zone_key) = (symbols.intern("region"), symbols.intern("zone"));
        let regions: Vec<_> = REGIONS.iter().map(|r| symbols.intern(r)).collect();
        let mut table = NodeTable::new(DIMS);
        for i in 0..nodes {
            let region = regions[i % regions.len()];
            let zone = symbols.intern(&format!("{}-{}", REGIONS[i % regions.len()], i % 3));
            table.push(NodeSpec {
                name: format!("node-{i}"),
                region,
                zone,
                labels: vec![(region_key, region), (zone_key, zone)],
                taints: Vec::new(),
                capacity: capacity(&mut rng),
                reserve: vec![0; DIMS],
            });
        }
        let tenants: Vec<_> = (0..16).map(|t| symbols.intern(&format!("tenant-{t}"))).collect();
        let jobs = (0..jobs)
            .map(|i| {
                // Mostly normal work, some operational (priority 100, exempt from
                // the showcase's headroom), a few critical.
                let priority = match rng.next_u64() % 100 {
                    0..=79 => 0,
                    80..=94 => 100,
                    _ => 1000,
                };
                let estimate = rng.range((60, 3_600)) as i64;
                Job {
                    idx: 0,
                    id: format!("job-{i}"),
                    tenant: tenants[rng.next_u64() as usize % tenants.len()],
                    group: regions[rng.next_u64() as usize % regions.len()],
                    priority_class: Symbols::EMPTY,
                    priority,
                    release: 0,
                    deadline: Some(estimate + rng.range((0, 86_400)) as i64),
                    hard_deadline: false,
                    estimate,
                    request: request.iter().map(|&r| rng.range(r)).collect(),
                    selector: Vec::new(),
                    tolerations: Vec::new(),
                    labels: Vec::new(),
                    after: None,
                    restartable: true,
                }
            })
            .collect();
        World { resources, symbols, nodes: table, jobs }
    }

    /// Builds the pipeline file `name` of the pass-window example against this
    /// cluster, the way a scenario does: parse and check, then build.
    fn pipeline(&mut self, name: &str) -> Arc<Pipeline> {
        let path = example(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let registry = Registry::builtin();
        let def = PipelineDef::parse(&path, text, &registry).unwrap_or_else(|e| panic!("{e}"));
        Arc::new(def.build(&registry, &self.resources, &mut self.symbols).unwrap_or_else(|e| panic!("{e}")))
    }

    /// [`World::pipeline`] with `extra` YAML (an `architecture:` key) appended.
    fn pipeline_with(&mut self, name: &str, extra: &str) -> Arc<Pipeline> {
        let path = example(name);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let registry = Registry::builtin();
        let def = PipelineDef::parse(&path, format!("{text}\n{extra}\n"), &registry).unwrap_or_else(|e| panic!("{e}"));
        Arc::new(def.build(&registry, &self.resources, &mut self.symbols).unwrap_or_else(|e| panic!("{e}")))
    }

    /// A fresh engine on the empty cluster with the first `n` jobs submitted at 0.
    fn engine(&self, pipeline: &Arc<Pipeline>, n: usize) -> Engine {
        let mut e = Engine::new(Arc::clone(pipeline), self.nodes.clone(), self.resources.clone(), self.symbols.clone());
        for job in &self.jobs[..n] {
            e.submit(job.clone(), 0).expect("a synthetic job matches the cluster");
        }
        e
    }

    /// The first `n` requests as fixed-size arrays, for the reference.
    fn requests(&self, n: usize) -> Vec<[Qty; DIMS]> {
        self.jobs[..n].iter().map(|j| j.request[..].try_into().expect("four dimensions")).collect()
    }
}

/// A file of the pass-window example, or of this folder (`bench:NAME`).
fn example(name: &str) -> PathBuf {
    match name.strip_prefix("bench:") {
        Some(own) => Path::new(env!("CARGO_MANIFEST_DIR")).join("benches").join(own),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pass-window").join(name),
    }
}

// ---- what is timed -----------------------------------------------------------------

/// Places every job of a submitted engine in one cycle; returns the decisions made.
fn run_engine(mut engine: Engine) -> (u64, Engine) {
    engine.schedule(0).expect("the built-in plugins do not fault");
    (engine.stats().decisions, engine)
}

/// The reference: bare best-fit over the flat arrays. For each job, in
/// submission order, one pass over the nodes: skip a node the request does not
/// fit in every dimension, else score it as `best-fit` does (100 × the mean fill
/// after placement over the requested dimensions); the highest score wins, ties
/// to the lowest index; commit into `used`. Writes each job's node into
/// `chosen` (`u32::MAX`: not placed; one store a decision, for the agreement
/// check with the columnar reference). Returns the jobs placed.
fn reference_best_fit(
    allocatable: &[Qty],
    inv: &[f64],
    used: &mut [Qty],
    requests: &[[Qty; DIMS]],
    chosen: &mut [u32],
) -> u64 {
    let mut placed = 0;
    for (r, chosen) in requests.iter().zip(chosen) {
        let mut best = usize::MAX;
        let mut best_score = f64::NEG_INFINITY;
        for (n, ((a, u), inv)) in
            allocatable.chunks_exact(DIMS).zip(used.chunks_exact(DIMS)).zip(inv.chunks_exact(DIMS)).enumerate()
        {
            let (a, u): (&[Qty; DIMS], &[Qty; DIMS]) = (a.try_into().unwrap(), u.try_into().unwrap());
            if (0..DIMS).any(|d| r[d] > a[d] - u[d]) {
                continue;
            }
            let (mut sum, mut k) = (0.0, 0u32);
            for d in 0..DIMS {
                if r[d] > 0 && a[d] > 0 {
                    sum += ((u[d] + r[d]) as i64 as f64 * inv[d]).min(1.0);
                    k += 1;
                }
            }
            let score = if k > 0 { MAX_SCORE * sum / f64::from(k) } else { 0.0 };
            if score > best_score {
                best_score = score;
                best = n;
            }
        }
        *chosen = u32::MAX;
        if best != usize::MAX {
            for d in 0..DIMS {
                used[best * DIMS + d] += r[d];
            }
            *chosen = best as u32;
            placed += 1;
        }
    }
    placed
}

// ---- the columnar reference ------------------------------------------------------------

/// Nodes a lane of the columnar scan covers at once: 8 `i32` or `f32` values
/// are two SSE2 registers (the x86-64 baseline) or one AVX register, so the
/// lane loops become vector code on either.
const LANES: usize = 8;

/// The cluster as columns, for the columnar reference: per dimension, one `i32`
/// column of free allocatable capacity (allocatable − used), one `i32` column of
/// used capacity and one `f32` column of `1 / allocatable`, each indexed by node.
///
/// `i32` holds the bench's quantities exactly (the largest is 1,048,576 MiB of
/// memory; [`Columns::new`] checks every value), so the columnar and the row
/// reference decide fit on the same integers. The reciprocals are the node
/// table's own (`f64`), rounded to `f32`.
#[derive(Clone)]
struct Columns {
    free: [Vec<i32>; DIMS],
    used: [Vec<i32>; DIMS],
    inv: [Vec<f32>; DIMS],
}

impl Columns {
    /// The columns of `nodes`' current state. Panics if a quantity does not
    /// fit an `i32` or a node has nothing allocatable of a dimension (the
    /// columnar score counts every dimension; the bench's nodes have some of all).
    fn new(nodes: &NodeTable) -> Columns {
        assert_eq!(nodes.dims(), DIMS, "the columnar reference is written for {DIMS} dimensions");
        let (a, u, inv) = (nodes.allocatable_flat(), nodes.used_flat(), nodes.inv_allocatable_flat());
        let exact = |q: Qty| i32::try_from(q).unwrap_or_else(|_| panic!("{q} does not fit an i32 column"));
        let column = |f: &dyn Fn(usize) -> i32, d: usize| (0..nodes.len()).map(|n| f(n * DIMS + d)).collect();
        Columns {
            free: std::array::from_fn(|d| column(&|i| exact(a[i] - u[i]), d)),
            used: std::array::from_fn(|d| column(&|i| exact(u[i]), d)),
            inv: std::array::from_fn(|d| {
                (0..nodes.len())
                    .map(|n| {
                        assert!(a[n * DIMS + d] > 0, "node {n} has no allocatable {}", RESOURCES[d]);
                        inv[n * DIMS + d] as f32
                    })
                    .collect()
            }),
        }
    }

    fn len(&self) -> usize {
        self.free[0].len()
    }
}

/// The requests as `i32`, for the columnar reference. Every synthetic job asks
/// some of every dimension (the request ranges start above 0), so `best-fit`
/// considers all [`DIMS`] of them for every job; checked here.
fn requests_i32(requests: &[[Qty; DIMS]]) -> Vec<[i32; DIMS]> {
    requests
        .iter()
        .map(|r| {
            r.map(|q| {
                assert!(q > 0, "the columnar reference assumes every dimension is requested");
                i32::try_from(q).expect("a request fits an i32")
            })
        })
        .collect()
}

/// The best node for request `r` in the columnar layout, or `None` when it
/// fits nowhere: the node the request fits in every dimension with the highest
/// `best-fit` score, ties to the lowest index.
///
/// The score is `best-fit`'s (`plugins/builtin/src/packing.rs`, `fill`): 100 ×
/// the mean over the requested dimensions (here all four) of
/// `min(1, (used + request) / allocatable)`, in `f32`, with the reciprocal
/// precomputed. The nodes are scanned by blocks of [`LANES`]; lane `l` keeps the
/// best score and node among nodes `l, l + 8, l + 16, …` with selects, not
/// branches, so the block's body is straight-line vector code. The lanes are
/// reduced at the end (highest score, ties to the lowest node), then the last
/// `len % 8` nodes are scanned one by one.
#[inline(never)]
fn columnar_best_node(c: &Columns, r: &[i32; DIMS]) -> Option<usize> {
    let len = c.len();
    let body = len / LANES * LANES;
    let scale = (MAX_SCORE / DIMS as f64) as f32;
    let free: [&[i32]; DIMS] = std::array::from_fn(|d| &c.free[d][..body]);
    let used: [&[i32]; DIMS] = std::array::from_fn(|d| &c.used[d][..body]);
    let inv: [&[f32]; DIMS] = std::array::from_fn(|d| &c.inv[d][..body]);
    let mut best = [f32::NEG_INFINITY; LANES];
    let mut best_at = [u32::MAX; LANES];
    for base in (0..body).step_by(LANES) {
        let block = base..base + LANES;
        let f: [&[i32; LANES]; DIMS] = std::array::from_fn(|d| free[d][block.clone()].try_into().unwrap());
        let u: [&[i32; LANES]; DIMS] = std::array::from_fn(|d| used[d][block.clone()].try_into().unwrap());
        let v: [&[f32; LANES]; DIMS] = std::array::from_fn(|d| inv[d][block.clone()].try_into().unwrap());
        for l in 0..LANES {
            let mut fits = true;
            // −0.0 + x is x for every x, so the first addition folds away
            // (with +0.0 it may not: +0.0 + −0.0 is +0.0).
            let mut sum = -0.0f32;
            for d in 0..DIMS {
                fits &= f[d][l] >= r[d];
                sum += ((u[d][l] + r[d]) as f32 * v[d][l]).min(1.0);
            }
            // The selects are written as bit masks (all ones or all zeros):
            // written as `if`, LLVM turned the update of `best` into a branch
            // and a store per lane.
            let score = select(fits, (sum * scale).to_bits(), f32::NEG_INFINITY.to_bits());
            let better = f32::from_bits(score) > best[l];
            best[l] = f32::from_bits(select(better, score, best[l].to_bits()));
            best_at[l] = select(better, (base + l) as u32, best_at[l]);
        }
    }
    let mut found: Option<(f32, usize)> = None;
    for (&score, &at) in best.iter().zip(&best_at) {
        let at = at as usize;
        if at != u32::MAX as usize && found.is_none_or(|(s, n)| score > s || (score == s && at < n)) {
            found = Some((score, at));
        }
    }
    for n in body..len {
        if (0..DIMS).all(|d| c.free[d][n] >= r[d]) {
            let sum: f32 = (0..DIMS).map(|d| ((c.used[d][n] + r[d]) as f32 * c.inv[d][n]).min(1.0)).sum();
            let score = sum * scale;
            if found.is_none_or(|(s, _)| score > s) {
                found = Some((score, n));
            }
        }
    }
    found.map(|(_, n)| n)
}

/// `a` if `take`, else `b`, without a branch.
#[inline(always)]
fn select(take: bool, a: u32, b: u32) -> u32 {
    let mask = u32::from(take).wrapping_neg();
    (a & mask) | (b & !mask)
}

/// The columnar reference: [`columnar_best_node`] for each job in submission
/// order, committing into the columns. Writes each job's node into `chosen`
/// (`u32::MAX`: not placed). Returns the jobs placed.
fn columnar_best_fit(c: &mut Columns, requests: &[[i32; DIMS]], chosen: &mut [u32]) -> u64 {
    let mut placed = 0;
    for (r, chosen) in requests.iter().zip(chosen) {
        *chosen = u32::MAX;
        if let Some(n) = columnar_best_node(c, r) {
            for ((free, used), &r) in c.free.iter_mut().zip(&mut c.used).zip(r) {
                free[n] -= r;
                used[n] += r;
            }
            *chosen = n as u32;
            placed += 1;
        }
    }
    placed
}

/// How the two references' placements compare: jobs placed by each, and jobs
/// put on the same node.
struct Agreement {
    row: u64,
    columnar: u64,
    same_node: usize,
    jobs: usize,
}

impl Agreement {
    /// Runs both references once on an empty copy of `nodes` / `columns`.
    fn between(
        nodes: &NodeTable,
        requests: &[[Qty; DIMS]],
        columns: &Columns,
        requests_i32: &[[i32; DIMS]],
    ) -> Agreement {
        let (mut row_chosen, mut columnar_chosen) = (vec![0; requests.len()], vec![0; requests.len()]);
        let mut used = nodes.used_flat().to_vec();
        let row = reference_best_fit(
            nodes.allocatable_flat(),
            nodes.inv_allocatable_flat(),
            &mut used,
            requests,
            &mut row_chosen,
        );
        let columnar = columnar_best_fit(&mut columns.clone(), requests_i32, &mut columnar_chosen);
        Agreement::of(row, columnar, &row_chosen, &columnar_chosen)
    }

    fn of(row: u64, columnar: u64, row_chosen: &[u32], columnar_chosen: &[u32]) -> Agreement {
        let same_node = row_chosen.iter().zip(columnar_chosen).filter(|(a, b)| a == b).count();
        Agreement { row, columnar, same_node, jobs: row_chosen.len() }
    }

    /// One line for the summary.
    fn describe(&self) -> String {
        format!(
            "placed {} (row) and {} (columnar) of {}; same node for {} ({:.2}%)",
            self.row,
            self.columnar,
            self.jobs,
            self.same_node,
            100.0 * self.same_node as f64 / self.jobs.max(1) as f64
        )
    }
}

// ---- bookkeeping for the same-run ratios -------------------------------------------

/// Nanoseconds per decision of every timed call, by benchmark id.
static SAMPLES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// How the row and the columnar reference's placements of the last timed call
/// compare, by cluster size.
static AGREEMENT: Mutex<BTreeMap<usize, String>> = Mutex::new(BTreeMap::new());

fn record(id: &str, elapsed: Duration, decisions: u64) {
    let ns = elapsed.as_nanos() as f64 / decisions.max(1) as f64;
    SAMPLES.lock().unwrap().entry(id.to_owned()).or_default().push(ns);
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

// ---- the benchmarks ------------------------------------------------------------------

/// The engine variants of the batch benchmark: `(id, pipeline file)`.
const ENGINE_VARIANTS: [(&str, &str); 3] =
    [("pipeline", "pipeline.yaml"), ("baseline", "baseline.yaml"), ("scripted", "bench:pipeline-scripted.yaml")];

/// One cluster size of the batch benchmark: the world, its pipelines and both
/// references' inputs, and one timed call of each variant.
struct Batch {
    nodes: usize,
    world: World,
    pipelines: Vec<Arc<Pipeline>>,
    requests: Vec<[Qty; DIMS]>,
    /// The columnar reference's columns of the empty cluster, built outside
    /// the timing, as the row reference's `used` copy is.
    columns: Columns,
    requests_i32: Vec<[i32; DIMS]>,
    chosen: Vec<u32>,
}

impl Batch {
    fn new(nodes: usize) -> Batch {
        let mut world = World::new(nodes, BATCH);
        let pipelines = ENGINE_VARIANTS.iter().map(|(_, file)| world.pipeline(file)).collect();
        let requests = world.requests(BATCH);
        let columns = Columns::new(&world.nodes);
        let requests_i32 = requests_i32(&requests);
        Batch { nodes, world, pipelines, requests, columns, requests_i32, chosen: vec![0; BATCH] }
    }

    /// Places the batch with engine variant `v` (index into
    /// [`ENGINE_VARIANTS`]); returns the time and the decisions.
    fn engine(&self, v: usize) -> (Duration, u64) {
        let engine = self.world.engine(&self.pipelines[v], BATCH);
        let t = Instant::now();
        let (decisions, engine) = run_engine(black_box(engine));
        let dt = t.elapsed();
        let id = ENGINE_VARIANTS[v].0;
        assert_eq!(engine.stats().placements, BATCH as u64, "{id}/{}: the batch must fit the cluster", self.nodes);
        (dt, decisions)
    }

    /// Places the batch with the row reference.
    fn reference(&mut self) -> (Duration, u64) {
        let nodes = &self.world.nodes;
        let mut used = nodes.used_flat().to_vec();
        let t = Instant::now();
        let placed = reference_best_fit(
            black_box(nodes.allocatable_flat()),
            black_box(nodes.inv_allocatable_flat()),
            black_box(&mut used),
            black_box(&self.requests),
            black_box(&mut self.chosen),
        );
        let dt = t.elapsed();
        assert_eq!(placed, BATCH as u64, "reference/{}: the batch must fit the cluster", self.nodes);
        (dt, BATCH as u64)
    }

    /// Places the batch with the columnar reference.
    fn columnar(&mut self) -> (Duration, u64) {
        let mut c = self.columns.clone();
        let t = Instant::now();
        let placed = columnar_best_fit(black_box(&mut c), black_box(&self.requests_i32), black_box(&mut self.chosen));
        let dt = t.elapsed();
        assert_eq!(placed, BATCH as u64, "columnar/{}: the batch must fit the cluster", self.nodes);
        (dt, BATCH as u64)
    }
}

/// Times every variant's call with criterion, recording each call's time per
/// decision under `id` for the summary.
fn timed(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    nodes: usize,
    mut call: impl FnMut() -> (Duration, u64),
) {
    let variant = id.split('/').next().unwrap_or(id);
    group.bench_with_input(BenchmarkId::new(variant, nodes), &nodes, |b, _| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (dt, decisions) = call();
                record(id, dt, decisions);
                total += dt;
            }
            total
        })
    });
}

fn cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("cycle");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(BATCH as u64));
    for nodes in NODE_COUNTS {
        let mut batch = Batch::new(nodes);
        // Both references once, untimed, to compare their placements.
        let agreement = Agreement::between(&batch.world.nodes, &batch.requests, &batch.columns, &batch.requests_i32);
        assert_eq!(agreement.row, agreement.columnar, "the row and the columnar reference place as many jobs");
        AGREEMENT.lock().unwrap().insert(nodes, agreement.describe());
        for (v, (variant, _)) in ENGINE_VARIANTS.iter().enumerate() {
            timed(&mut group, &format!("{variant}/{nodes}"), nodes, || batch.engine(v));
        }
        timed(&mut group, &format!("reference/{nodes}"), nodes, || batch.reference());
        timed(&mut group, &format!("columnar/{nodes}"), nodes, || batch.columnar());
    }
    group.finish();
}

/// Rounds of [`interleaved`] by default.
const INTERLEAVED_ROUNDS: usize = 21;

/// The batch benchmark again without criterion, the variants taking turns:
/// each of `rounds` rounds places the batch once with every variant, so that
/// a disturbance of the shared machine (which criterion, measuring one
/// variant after the other for seconds each, lands on one variant only) hits
/// them all alike. Prints medians and ratios as the summary does, the ids
/// prefixed with `interleaved/`.
fn interleaved(rounds: usize) {
    if rounds == 0 {
        return;
    }
    println!("\ninterleaved: {rounds} rounds, each placing the batch once with every variant in turn; medians:");
    for nodes in NODE_COUNTS {
        let mut batch = Batch::new(nodes);
        let ids: Vec<String> = ENGINE_VARIANTS
            .iter()
            .map(|(v, _)| v.to_string())
            .chain(["reference".into(), "columnar".into()])
            .map(|v| format!("interleaved/{v}/{nodes}"))
            .collect();
        let mut per: Vec<Vec<f64>> = vec![Vec::new(); ids.len()];
        for _ in 0..rounds {
            for (i, samples) in per.iter_mut().enumerate() {
                let (dt, decisions) = match i {
                    i if i < ENGINE_VARIANTS.len() => batch.engine(i),
                    i if i == ENGINE_VARIANTS.len() => batch.reference(),
                    _ => batch.columnar(),
                };
                samples.push(dt.as_nanos() as f64 / decisions.max(1) as f64);
            }
        }
        let medians: Vec<f64> = per.iter_mut().map(|v| median(v)).collect();
        let (reference, columnar) = (medians[ids.len() - 2], medians[ids.len() - 1]);
        for (id, ns) in ids.iter().zip(&medians) {
            print_ratios(id, *ns, Some(reference), Some(columnar));
        }
        println!(
            "{:<32} ns per (job, node) pair {:.3}",
            format!("interleaved/columnar-pair/{nodes}"),
            columnar / nodes as f64
        );
    }
}

/// One line of the summary: `id`, time per decision, decisions/s, and the
/// ratios to the row and to the columnar reference, the latter last.
fn print_ratios(id: &str, ns: f64, reference: Option<f64>, columnar: Option<f64>) {
    let ratio = |of: Option<f64>| of.map_or_else(|| "-".to_owned(), |r| format!("{:.2}", ns / r));
    println!(
        "{id:<32} {:>9.2} µs {:>11.0}/s × reference {:>5} × columnar {:>5}",
        ns / 1e3,
        1e9 / ns,
        ratio(reference),
        ratio(columnar)
    );
}

/// Prints every variant's median time per decision and its ratios to the row
/// and to the columnar reference at the same cluster size, all from this run.
///
/// Each line starts with its id and ends with its ratio to the columnar
/// reference, `pipeline/10000 … × columnar R`, so a script can read it
/// (`grep '^pipeline/10000 '`, last field).
fn summary() {
    let mut samples = SAMPLES.lock().unwrap();
    if samples.is_empty() {
        return;
    }
    let medians: BTreeMap<String, f64> = samples.iter_mut().map(|(k, v)| (k.clone(), median(v))).collect();
    println!("\nper decision, median of every timed call in this run ({BATCH} jobs placed per call):");
    println!("{:<32} {:>12} {:>13}", "variant/nodes", "per decision", "decisions/s");
    for nodes in NODE_COUNTS {
        let reference = medians.get(&format!("reference/{nodes}")).copied();
        let columnar = medians.get(&format!("columnar/{nodes}")).copied();
        for variant in ["pipeline", "baseline", "scripted", "reference", "columnar"] {
            let id = format!("{variant}/{nodes}");
            let Some(&ns) = medians.get(&id) else { continue };
            print_ratios(&id, ns, reference, columnar);
        }
        if let Some(c) = columnar {
            println!("{:<32} ns per (job, node) pair {:.3}", format!("columnar-pair/{nodes}"), c / nodes as f64);
        }
        if let Some(a) = AGREEMENT.lock().unwrap().get(&nodes) {
            println!("{:<32} row and columnar reference: {a}", format!("agreement/{nodes}"));
        }
        if let (Some(s), Some(p)) =
            (medians.get(&format!("scripted/{nodes}")), medians.get(&format!("pipeline/{nodes}")))
        {
            println!("{:<32} scripted / native pipeline: {:.2}", format!("scripts/{nodes}"), s / p);
        }
    }
}

/// Places `jobs` jobs once on each cluster size with each variant and prints the
/// time per decision: the issue's 100,000-job scale, too long for repeated samples.
/// Lines read like the summary's, their ids prefixed with `long/`:
/// `long/pipeline/10000 … × columnar R`.
fn long_runs(jobs: usize) {
    println!("\none run each, {jobs} jobs submitted at 0 and placed in one cycle:");
    println!("{:<25} {:>8} {:>9} {:>12}", "variant/nodes", "placed", "wall", "per decision");
    for nodes in NODE_COUNTS {
        let mut world = World::new(nodes, jobs);
        let requests = world.requests(jobs);
        let mut used = world.nodes.used_flat().to_vec();
        let mut row_chosen = vec![0u32; jobs];
        let t = Instant::now();
        let row_placed = reference_best_fit(
            world.nodes.allocatable_flat(),
            world.nodes.inv_allocatable_flat(),
            black_box(&mut used),
            black_box(&requests),
            black_box(&mut row_chosen),
        );
        let reference = t.elapsed();
        let mut columns = Columns::new(&world.nodes);
        let requests = requests_i32(&requests);
        let mut columnar_chosen = vec![0u32; jobs];
        let t = Instant::now();
        let columnar_placed =
            columnar_best_fit(black_box(&mut columns), black_box(&requests), black_box(&mut columnar_chosen));
        let columnar = t.elapsed();
        assert_eq!(row_placed, columnar_placed, "the row and the columnar reference place as many jobs");
        let agreement = Agreement::of(row_placed, columnar_placed, &row_chosen, &columnar_chosen);
        let per = |d: Duration, n: u64| d.as_secs_f64() * 1e6 / n.max(1) as f64;
        let rows = [("pipeline", "pipeline.yaml"), ("baseline", "baseline.yaml")].map(|(variant, file)| {
            let pipeline = world.pipeline(file);
            let engine = world.engine(&pipeline, jobs);
            let t = Instant::now();
            let (decisions, engine) = run_engine(engine);
            (variant, t.elapsed(), decisions, engine.stats().placements)
        });
        let reference_per = per(reference, jobs as u64);
        let columnar_per = per(columnar, jobs as u64);
        let rows = rows.into_iter().chain([
            ("reference", reference, jobs as u64, row_placed),
            ("columnar", columnar, jobs as u64, columnar_placed),
        ]);
        for (variant, wall, decisions, placed) in rows {
            let p = per(wall, decisions);
            println!(
                "{:<25} {placed:>8} {:>7.2} s {p:>9.2} µs × reference {:>5.2} × columnar {:>5.2}",
                format!("long/{variant}/{nodes}"),
                wall.as_secs_f64(),
                p / reference_per,
                p / columnar_per
            );
        }
        println!(
            "{:<25} ns per (job, node) pair {:.3}",
            format!("long/columnar-pair/{nodes}"),
            columnar_per * 1e3 / nodes as f64
        );
        println!("{:<25} row and columnar reference: {}", format!("long/agreement/{nodes}"), agreement.describe());
    }
}

/// The architectures compared on the issue's scale, as `(name, architecture
/// key)`. The last runs the same partitions on the engine's thread only.
const ARCHITECTURES: [(&str, &str); 6] = [
    ("centralized", ""),
    ("optimistic ×1", "architecture: { kind: optimistic, workers: 1 }"),
    ("optimistic ×2", "architecture: { kind: optimistic, workers: 2 }"),
    ("sampled d=2", "architecture: { kind: sampled, sample: 2, seed: 1 }"),
    ("partitioned", "architecture: { kind: partitioned, by: region }"),
    ("partitioned, 1 thread", "architecture: { kind: partitioned, by: region }"),
];

/// Index in [`ARCHITECTURES`] of the partitions kept on one thread.
const PARTITIONED_ONE_THREAD: usize = 5;

/// Places `jobs` jobs on 10,000 nodes under each architecture, alternating,
/// for `rounds` rounds; prints medians and same-run ratios.
fn architectures(jobs: usize, rounds: usize) {
    let nodes = 10_000;
    let mut world = World::new(nodes, jobs);
    let pipelines: Vec<_> = ARCHITECTURES.iter().map(|(_, a)| world.pipeline_with("pipeline.yaml", a)).collect();
    // Per variant: ns per decision of each round, and the last run's stats.
    let mut per: Vec<Vec<f64>> = vec![Vec::new(); ARCHITECTURES.len()];
    let mut last = vec![kairos_host::engine::Stats::default(); ARCHITECTURES.len()];
    println!("\narchitectures: {jobs} jobs submitted at 0 and placed in one cycle on {nodes} nodes, {rounds} rounds");
    for round in 0..rounds {
        for (i, (name, _)) in ARCHITECTURES.iter().enumerate() {
            let mut engine = world.engine(&pipelines[i], jobs);
            if i == PARTITIONED_ONE_THREAD {
                engine.set_min_work_per_worker(usize::MAX);
            }
            let t = Instant::now();
            let (decisions, engine) = run_engine(engine);
            let dt = t.elapsed();
            per[i].push(dt.as_nanos() as f64 / decisions.max(1) as f64);
            println!("  round {round} {name:<22} {:>8.2} s", dt.as_secs_f64());
            last[i] = engine.stats().clone();
        }
    }
    let medians: Vec<f64> = per.iter_mut().map(|v| median(v)).collect();
    let spread = |v: &[f64]| {
        let (lo, hi) = v.iter().fold((f64::MAX, 0.0f64), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        100.0 * (hi - lo) / lo
    };
    println!(
        "{:<22} {:>10} {:>13} {:>13} {:>10} {:>13} {:>10} {:>9}",
        "architecture", "placed", "per decision", "decisions/s", "spread", "÷ optim. ×1", "÷ central.", "conflicts"
    );
    for (i, (name, _)) in ARCHITECTURES.iter().enumerate() {
        let st = &last[i];
        let rate = if st.commits > 0 {
            format!("{:.2}%", 100.0 * st.conflicts as f64 / st.commits as f64)
        } else {
            "—".into()
        };
        println!(
            "{name:<22} {:>10} {:>10.2} µs {:>13.0} {:>9.1}% {:>12.2}× {:>9.2}× {rate:>9}",
            st.placements,
            medians[i] / 1e3,
            1e9 / medians[i],
            spread(&per[i]),
            medians[1] / medians[i],
            medians[0] / medians[i],
        );
    }
    let (threads, one) = (&per[PARTITIONED_ONE_THREAD - 1], &per[PARTITIONED_ONE_THREAD]);
    let rounds: Vec<String> = one.iter().zip(threads).map(|(o, t)| format!("{:.2}×", o / t)).collect();
    println!(
        "partition workers on threads ÷ on one thread: {:.2}× (rounds {}; {} parallel cycles)",
        medians[PARTITIONED_ONE_THREAD] / medians[PARTITIONED_ONE_THREAD - 1],
        rounds.join(", "),
        last[PARTITIONED_ONE_THREAD - 1].parallel_cycles
    );
    utilisation_runs();
}

/// Nodes of the utilisation simulation.
const UTIL_NODES: usize = 1_000;

/// Jobs of the utilisation simulation.
const UTIL_JOBS: usize = 20_000;

/// Simulates a synthetic workload on [`UTIL_NODES`] nodes with `centralized`
/// and `sampled` and prints the time-averaged utilisation of each. The jobs are
/// the benchmark's, scaled up to 4–20 cores and 10–80 GiB, released one every
/// 0.3 s on average — about the cpu the cluster has (1,000 nodes × 72 cores
/// on average, jobs of 12 cores for 1,830 s on average) — so placement quality
/// shows as utilisation.
fn utilisation_runs() {
    use kairos_host::sim::simulate;
    let mut world = World::new(UTIL_NODES, UTIL_JOBS);
    let specs: Vec<JobSpec> = world
        .jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let mut job = j.clone();
            job.release = (i as i64 * 3) / 10;
            job.deadline = job.deadline.map(|d| d + job.release);
            job.request[0] *= 40;
            job.request[1] *= 40;
            JobSpec { duration: job.estimate, job }
        })
        .collect();
    println!("\nutilisation: {UTIL_JOBS} jobs arriving over time on {UTIL_NODES} nodes, simulated");
    println!(
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>12}",
        "architecture", "wall", "cpu use", "mem use", "completed", "decisions"
    );
    let mut base: Option<(Vec<f64>, f64)> = None;
    for (name, arch) in [ARCHITECTURES[0], ARCHITECTURES[3]] {
        let pipeline = world.pipeline_with("pipeline.yaml", arch);
        let engine = Engine::new(pipeline, world.nodes.clone(), world.resources.clone(), world.symbols.clone());
        let t = Instant::now();
        let sim = simulate(engine, specs.clone(), &[], |_, _| {}).expect("the built-ins do not fault");
        let wall = t.elapsed().as_secs_f64();
        let util = sim.engine.meter().utilization();
        let done =
            sim.engine.records().iter().filter(|r| matches!(r.state, kairos_host::engine::JobState::Done(_))).count();
        println!(
            "{name:<16} {wall:>8.2} s {:>9.2}% {:>9.2}% {done:>10} {:>12}",
            100.0 * util[0],
            100.0 * util[1],
            sim.engine.stats().decisions
        );
        if let Some((u, w)) = &base {
            println!(
                "sampled vs centralized: cpu use {:+.2}% (relative), memory use {:+.2}%, {:.2}× the speed",
                100.0 * (util[0] - u[0]) / u[0],
                100.0 * (util[1] - u[1]) / u[1],
                *w / wall
            );
        }
        base.get_or_insert((util.clone(), wall));
    }
}

// ---- the backlog -------------------------------------------------------------------

/// Capacity of each of the backlog's 4 nodes (one per region): 64 cores,
/// 256 GiB of memory, 4 TB of disk, a 40 Gbit/s link.
const BACKLOG_NODE: [Qty; DIMS] = [64_000, 262_144, 4_000, 40_000];

/// Requests of backlog jobs, inclusive: 12–40 cores and 16–128 GiB, so a node
/// runs one to five at once (about two on average), and every job fits an
/// empty node even under the showcase's 15 % headroom.
const BACKLOG_REQUEST: [(Qty, Qty); DIMS] = [(12_000, 40_000), (16_384, 131_072), (50, 1_000), (1_000, 10_000)];

/// Backlog sizes, in the order run (the issue's 2,500 → 20,000, and its 50,000 target).
const BACKLOG_JOBS: [usize; 5] = [2_500, 5_000, 10_000, 20_000, 50_000];

/// Wall seconds a backlog run may take, by default: a run is stopped there,
/// and the larger backlogs of its pipeline are skipped, so the benchmark ends
/// even while the engine is quadratic in the backlog.
const BACKLOG_CAP_S: f64 = 60.0;

/// The pipelines the backlog runs with: `(id, file)`.
const BACKLOG_PIPELINES: [(&str, &str); 2] = [("showcase", "pipeline.yaml"), ("nofit", "bench:pipeline-nofit.yaml")];

impl World {
    /// The backlog's cluster, 4 nodes of [`BACKLOG_NODE`], and `jobs` jobs of
    /// [`BACKLOG_REQUEST`], all released at 0, each to run for its estimate
    /// (1–60 min).
    fn backlog(jobs: usize) -> (World, Vec<JobSpec>) {
        let world = World::generate(SplitMix64(SEED), 4, |_| BACKLOG_NODE.to_vec(), jobs, &BACKLOG_REQUEST);
        let specs = world.jobs.iter().map(|j| JobSpec { duration: j.estimate, job: j.clone() }).collect();
        (world, specs)
    }
}

/// What a simulated run did.
struct SimRun {
    wall: f64,
    /// Whether it was stopped at the cap before the end.
    stopped: bool,
    settled: usize,
    stats: kairos_host::engine::Stats,
    /// Simulated seconds from the first to the last instant.
    span: i64,
}

/// Simulates `specs` on a fresh engine for `pipeline` over `world`'s cluster,
/// as `kairos run` does (`Scenario::simulate` → `sim::simulate`): a
/// [`Simulation`] stepped one instant at a time to its end, or until `cap`
/// seconds of wall time have passed.
fn simulate_capped(world: &World, pipeline: Arc<Pipeline>, specs: Vec<JobSpec>, cap: f64) -> SimRun {
    let engine = Engine::new(pipeline, world.nodes.clone(), world.resources.clone(), world.symbols.clone());
    let t = Instant::now();
    let mut sim = Simulation::new(engine, specs, &[]).expect("the synthetic jobs match the cluster");
    let mut stopped = false;
    while sim.step().expect("the built-in plugins do not fault") {
        if t.elapsed().as_secs_f64() > cap {
            stopped = true;
            break;
        }
    }
    let wall = t.elapsed().as_secs_f64();
    let settled = sim.settled();
    let result = sim.finish();
    SimRun { wall, stopped, settled, stats: result.engine.stats().clone(), span: result.span.1 - result.span.0 }
}

/// The backlog: for each pipeline of [`BACKLOG_PIPELINES`] and each size of
/// `sizes`, that many jobs submitted at 0 on 4 nodes and simulated to the end.
/// Prints wall time, placements, decisions and quick skips, and decisions per
/// placed job, which should stay flat as the backlog grows. Once a run takes
/// longer than `cap` seconds (it is stopped there), the larger sizes of that
/// pipeline are skipped.
fn backlog_runs(sizes: &[usize], cap: f64) {
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let (mut world, all) = World::backlog(largest);
    println!(
        "\nbacklog: N jobs submitted at 0 on 4 nodes ({} cores, {} GiB each), simulated to the end; \
         at most {cap:.0} s a run",
        BACKLOG_NODE[0] / 1000,
        BACKLOG_NODE[1] / 1024
    );
    println!(
        "{:<24} {:>9} {:>9} {:>10} {:>8} {:>12} {:>12} {:>11} {:>16}",
        "pipeline/jobs",
        "wall",
        "placed",
        "completed",
        "cycles",
        "decisions",
        "quick skips",
        "sim days",
        "decisions/placed"
    );
    for (name, file) in BACKLOG_PIPELINES {
        let pipeline = world.pipeline(file);
        let mut over: Option<(usize, f64)> = None;
        let mut flat: Vec<(usize, f64)> = Vec::new();
        for &n in sizes {
            let id = format!("backlog/{name}/{n}");
            if let Some((m, wall)) = over {
                println!("{id:<24} skipped: {m} took {wall:.1} s");
                continue;
            }
            let run = simulate_capped(&world, Arc::clone(&pipeline), all[..n].to_vec(), cap);
            let st = &run.stats;
            let per = st.decisions as f64 / st.placements.max(1) as f64;
            println!(
                "{id:<24} {:>7.2} s {:>9} {:>10} {:>8} {:>12} {:>12} {:>11.1} {per:>16.1}{}",
                run.wall,
                st.placements,
                run.settled,
                st.cycles,
                st.decisions,
                st.quick_skips,
                run.span as f64 / 86_400.0,
                if run.stopped {
                    format!("  (stopped at the cap: {} of {n} placed)", st.placements)
                } else {
                    String::new()
                }
            );
            if run.stopped || run.wall > cap {
                over = Some((n, run.wall));
            } else {
                flat.push((n, per));
            }
        }
        if let (Some(&(n0, p0)), Some(&(n1, p1))) = (flat.first(), flat.last()) {
            if n1 > n0 {
                println!(
                    "{:<24} decisions per placed job, {n1} jobs ÷ {n0} jobs ({:.0}× the backlog): {:.2}",
                    format!("backlog/{name}"),
                    n1 as f64 / n0 as f64,
                    p1 / p0
                );
            }
        }
    }
    partitioned_cycles(&mut world);
}

/// How many cycles the `partitioned` architecture runs for 2 jobs when its
/// global layer runs every second: both jobs of one region ask 40 of its node's
/// 64 cores for a day, more than another region may lend (25 %), so under
/// `partitioned` the second waits a day for the first, and with `rebalance_s: 1`
/// a budget round, and a cycle, runs every second of that day (the issue
/// counted 86,402). Printed beside the default `rebalance_s` (300) and
/// `centralized` (which places the second job in another region at once), on
/// the backlog's 4 nodes.
fn partitioned_cycles(world: &mut World) {
    let (_, template) = World::backlog(2);
    // Node 0 is in the first region, and so is every job here.
    let home = world.symbols.intern(REGIONS[0]);
    let specs: Vec<JobSpec> = template
        .into_iter()
        .map(|mut spec| {
            spec.job.group = home;
            spec.job.priority = 0;
            spec.job.deadline = None;
            spec.job.request = vec![40_000, 65_536, 100, 1_000];
            spec.job.estimate = 86_400;
            spec.duration = 86_400;
            spec
        })
        .collect();
    println!("\n2 jobs of one region, 40 of 64 cores each for a day, on the backlog's 4 nodes:");
    println!("{:<46} {:>9} {:>8} {:>10} {:>10}", "architecture", "wall", "cycles", "decisions", "completed");
    for (name, arch) in [
        ("centralized", ""),
        ("partitioned, rebalance_s: 300 (default)", "architecture: { kind: partitioned, by: region }"),
        ("partitioned, rebalance_s: 1", "architecture: { kind: partitioned, by: region, rebalance_s: 1 }"),
    ] {
        let pipeline = world.pipeline_with("pipeline.yaml", arch);
        let run = simulate_capped(world, pipeline, specs.clone(), f64::INFINITY);
        println!(
            "{name:<46} {:>7.2} s {:>8} {:>10} {:>10}",
            run.wall, run.stats.cycles, run.stats.decisions, run.settled
        );
    }
}

/// Whether criterion is measuring, as it decides: `cargo bench` passes `--bench`;
/// `cargo test --benches` does not (each benchmark then runs once as a test), and
/// `--test`, `--list` and `--profile-time` are not measurements either. Only a
/// measuring run prints the summary and does the long runs.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench")
        && !args.iter().any(|a| matches!(a.as_str(), "--test" | "--list" | "--profile-time"))
}

/// The parts of a measuring run, as `KAIROS_BENCH_SECTIONS` names them.
const SECTIONS: [&str; 4] = ["criterion", "long", "arch", "backlog"];

/// The sections `KAIROS_BENCH_SECTIONS` asks for (a comma-separated list of
/// [`SECTIONS`]; all when unset). Panics on a name it does not know, so a typo
/// does not silently measure nothing.
fn sections() -> Vec<&'static str> {
    let Ok(list) = std::env::var("KAIROS_BENCH_SECTIONS") else { return SECTIONS.to_vec() };
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            SECTIONS.iter().copied().find(|&k| k == s).unwrap_or_else(|| {
                panic!("KAIROS_BENCH_SECTIONS: unknown section `{s}` (known: {})", SECTIONS.join(", "))
            })
        })
        .collect()
}

/// An environment variable parsed as `T`, or `default` when unset or not a `T`.
fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let sections = sections();
    let mut c = Criterion::default().configure_from_args();
    if sections.contains(&"criterion") {
        cycle(&mut c);
    }
    c.final_summary();
    if !benchmarking() {
        return;
    }
    if sections.contains(&"criterion") {
        summary();
        interleaved(env_or("KAIROS_BENCH_INTERLEAVED_ROUNDS", INTERLEAVED_ROUNDS));
    }
    let jobs = env_or("KAIROS_BENCH_LONG_JOBS", LONG_JOBS);
    if sections.contains(&"long") && !std::env::var("KAIROS_BENCH_LONG").is_ok_and(|v| v == "0") {
        long_runs(jobs);
    }
    if sections.contains(&"arch") && !std::env::var("KAIROS_BENCH_ARCH").is_ok_and(|v| v == "0") {
        architectures(jobs, env_or("KAIROS_BENCH_ARCH_ROUNDS", 3));
    }
    if sections.contains(&"backlog") {
        let sizes: Vec<usize> = match std::env::var("KAIROS_BENCH_BACKLOG_JOBS") {
            Ok(list) => list.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
            Err(_) => BACKLOG_JOBS.to_vec(),
        };
        backlog_runs(&sizes, env_or("KAIROS_BENCH_BACKLOG_CAP_S", BACKLOG_CAP_S));
    }
}
