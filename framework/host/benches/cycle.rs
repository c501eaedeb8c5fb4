//! The scheduling-cycle benchmark: what one placement decision costs.
//!
//! A synthetic cluster of 1,000 or 10,000 nodes with four resource dimensions
//! (`cpu` in millicores, `memory` in MiB, `storage` in GiB, `network` in Mbit/s;
//! capacities drawn per node from a seeded generator, so every run sees the same
//! heterogeneous cluster) takes a batch of jobs with random four-dimensional
//! requests. Three ways of placing the batch are timed:
//!
//! 1. **pipeline** — `examples/pass-window/pipeline.yaml`, the showcase: priority,
//!    fair-share and EDF order; node-selector, fit and headroom filters; best-fit
//!    score. Built with [`PipelineDef::parse`] and run through the [`Engine`].
//! 2. **baseline** — `examples/pass-window/baseline.yaml`: FIFO; node-selector and
//!    fit; first-fit. Same engine.
//! 3. **reference** — no plugin, no engine: one tight loop per job over the same
//!    flat arrays ([`NodeTable::allocatable_flat`], [`NodeTable::used_flat`]) that
//!    checks fit in the four dimensions, computes the best-fit score, keeps the
//!    best node and commits into a local `used` array. This is the floor a
//!    plugin pipeline is measured against.
//!
//! Each timed iteration starts from an empty cluster: the engine is built and the
//! jobs submitted at time 0 outside the timing, then one `engine.schedule(0)` —
//! which places the whole batch — is timed. The batch is small against the
//! cluster (a job asks well under 1 % of a node), so no decision meets a full
//! cluster and every job is placed: per decision = elapsed / decisions.
//!
//! After criterion's own report, a summary prints each variant's median time per
//! decision and its ratio to the reference measured in this same run (ratios
//! between runs on a shared machine mean little). Then, once each, the whole
//! 100,000-job batch is placed on both clusters (the scale); set
//! `KAIROS_BENCH_LONG=0` to skip it, or `KAIROS_BENCH_LONG_JOBS=N` to change N.
//!
//! Last, the coordination architectures (see `kairos_host::architecture`) on the
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
//! to compare time-averaged utilisation. `KAIROS_BENCH_ARCH=0` skips all this;
//! `KAIROS_BENCH_LONG=0 cargo bench -p kairos-host --bench cycle -- architectures`
//! runs only this part (no criterion benchmark matches the filter).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use kairos_host::engine::Engine;
use kairos_host::pipeline::{Pipeline, PipelineDef};
use kairos_host::registry::Registry;
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

/// The scale: jobs placed once per cluster size after the criterion runs.
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
        let mut rng = SplitMix64(SEED ^ nodes as u64);
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
                capacity: CAPACITY.iter().map(|&r| rng.range(r)).collect(),
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
                    request: REQUEST.iter().map(|&r| rng.range(r)).collect(),
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
/// to the lowest index; commit into `used`. Returns the jobs placed.
fn reference_best_fit(allocatable: &[Qty], inv: &[f64], used: &mut [Qty], requests: &[[Qty; DIMS]]) -> u64 {
    let mut placed = 0;
    for r in requests {
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
        if best != usize::MAX {
            for d in 0..DIMS {
                used[best * DIMS + d] += r[d];
            }
            placed += 1;
        }
    }
    placed
}

// ---- bookkeeping for the same-run ratios -------------------------------------------

/// Nanoseconds per decision of every timed call, by benchmark id.
static SAMPLES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

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

fn cycle(c: &mut Criterion) {
    let mut group = c.benchmark_group("cycle");
    group.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(BATCH as u64));
    for nodes in NODE_COUNTS {
        let mut world = World::new(nodes, BATCH);
        for (variant, file) in
            [("pipeline", "pipeline.yaml"), ("baseline", "baseline.yaml"), ("scripted", "bench:pipeline-scripted.yaml")]
        {
            let pipeline = world.pipeline(file);
            let id = format!("{variant}/{nodes}");
            group.bench_with_input(BenchmarkId::new(variant, nodes), &nodes, |b, _| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let engine = world.engine(&pipeline, BATCH);
                        let t = Instant::now();
                        let (decisions, engine) = run_engine(black_box(engine));
                        let dt = t.elapsed();
                        assert_eq!(engine.stats().placements, BATCH as u64, "{id}: the batch must fit the cluster");
                        record(&id, dt, decisions);
                        total += dt;
                        drop(engine);
                    }
                    total
                })
            });
        }
        let requests = world.requests(BATCH);
        let allocatable = world.nodes.allocatable_flat();
        let inv = world.nodes.inv_allocatable_flat();
        let id = format!("reference/{nodes}");
        group.bench_with_input(BenchmarkId::new("reference", nodes), &nodes, |b, _| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut used = world.nodes.used_flat().to_vec();
                    let t = Instant::now();
                    let placed = reference_best_fit(
                        black_box(allocatable),
                        black_box(inv),
                        black_box(&mut used),
                        black_box(&requests),
                    );
                    let dt = t.elapsed();
                    assert_eq!(placed, BATCH as u64, "{id}: the batch must fit the cluster");
                    record(&id, dt, BATCH as u64);
                    total += dt;
                }
                total
            })
        });
    }
    group.finish();
}

/// Prints every variant's median time per decision and its ratio to the
/// reference at the same cluster size, all from this run.
fn summary() {
    let mut samples = SAMPLES.lock().unwrap();
    if samples.is_empty() {
        return;
    }
    let medians: BTreeMap<String, f64> = samples.iter_mut().map(|(k, v)| (k.clone(), median(v))).collect();
    println!("\nper decision, median of every timed call in this run ({BATCH} jobs placed per call):");
    println!("{:<22} {:>14} {:>14} {:>14}", "variant/nodes", "per decision", "decisions/s", "× reference");
    for nodes in NODE_COUNTS {
        let reference = medians.get(&format!("reference/{nodes}")).copied();
        for variant in ["pipeline", "baseline", "scripted", "reference"] {
            let id = format!("{variant}/{nodes}");
            let Some(&ns) = medians.get(&id) else { continue };
            let ratio = reference.map_or_else(|| "-".to_owned(), |r| format!("{:.2}", ns / r));
            println!("{id:<22} {:>11.2} µs {:>14.0} {ratio:>14}", ns / 1e3, 1e9 / ns);
        }
        if let (Some(s), Some(p)) =
            (medians.get(&format!("scripted/{nodes}")), medians.get(&format!("pipeline/{nodes}")))
        {
            println!("{:<22} scripted / native pipeline: {:.2}", format!("scripts/{nodes}"), s / p);
        }
    }
}

/// Places `jobs` jobs once on each cluster size with each variant and prints the
/// time per decision: the 100,000-job scale, too long for repeated samples.
fn long_runs(jobs: usize) {
    println!("\none run each, {jobs} jobs submitted at 0 and placed in one cycle:");
    println!("{:<22} {:>10} {:>14} {:>14} {:>14}", "variant/nodes", "placed", "wall", "per decision", "× reference");
    for nodes in NODE_COUNTS {
        let mut world = World::new(nodes, jobs);
        let requests = world.requests(jobs);
        let mut used = world.nodes.used_flat().to_vec();
        let t = Instant::now();
        let placed = reference_best_fit(
            world.nodes.allocatable_flat(),
            world.nodes.inv_allocatable_flat(),
            black_box(&mut used),
            black_box(&requests),
        );
        let reference = t.elapsed();
        let per = |d: Duration, n: u64| d.as_secs_f64() * 1e6 / n.max(1) as f64;
        let rows = [("pipeline", "pipeline.yaml"), ("baseline", "baseline.yaml")].map(|(variant, file)| {
            let pipeline = world.pipeline(file);
            let engine = world.engine(&pipeline, jobs);
            let t = Instant::now();
            let (decisions, engine) = run_engine(engine);
            (variant, t.elapsed(), decisions, engine.stats().placements)
        });
        let reference_per = per(reference, jobs as u64);
        for (variant, wall, decisions, placed) in rows {
            let p = per(wall, decisions);
            println!(
                "{:<22} {placed:>10} {:>12.2} s {p:>11.2} µs {:>14.2}",
                format!("{variant}/{nodes}"),
                wall.as_secs_f64(),
                p / reference_per
            );
        }
        println!(
            "{:<22} {placed:>10} {:>12.2} s {reference_per:>11.2} µs {:>14.2}",
            format!("reference/{nodes}"),
            reference.as_secs_f64(),
            1.0
        );
    }
}

/// The architectures compared on the scale, as `(name, architecture
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
    use kairos_host::workload::JobSpec;
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

/// Whether criterion is measuring, as it decides: `cargo bench` passes `--bench`;
/// `cargo test --benches` does not (each benchmark then runs once as a test), and
/// `--test`, `--list` and `--profile-time` are not measurements either. Only a
/// measuring run prints the summary and does the long runs.
fn benchmarking() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench")
        && !args.iter().any(|a| matches!(a.as_str(), "--test" | "--list" | "--profile-time"))
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    cycle(&mut c);
    c.final_summary();
    if !benchmarking() {
        return;
    }
    summary();
    let jobs = std::env::var("KAIROS_BENCH_LONG_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(LONG_JOBS);
    if !std::env::var("KAIROS_BENCH_LONG").is_ok_and(|v| v == "0") {
        long_runs(jobs);
    }
    if std::env::var("KAIROS_BENCH_ARCH").is_ok_and(|v| v == "0") {
        return;
    }
    let rounds = std::env::var("KAIROS_BENCH_ARCH_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    architectures(jobs, rounds);
}
