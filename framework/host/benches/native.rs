//! Native plugins: what the stable-ABI boundary costs.
//!
//! Two comparisons, each measured in the same run (ratios between runs on a
//! shared machine mean little):
//!
//! 1. **Showcase pipeline** (`examples/pass-window/pipeline.yaml`) plus the
//!    example score plugin `vendor.link-budget`, placing a batch of 1,000 jobs
//!    on a synthetic 1,000-node cluster whose antennas carry `band` labels and
//!    whose jobs carry a `satellite` label:
//!    - *cdylib*: the plugin loaded from `libvendor_link_budget.so`;
//!    - *rlib via ABI*: the same crate linked in, called through the same ABI
//!      and adapter (isolates the cost of the library boundary alone);
//!    - *compiled in*: the plugin's own model (`LinkBudget::pass`,
//!      `Pass::score`) behind `kairos_model::ScorePlugin` directly, reading
//!      labels by symbol from the host's tables (the whole boundary: views,
//!      string labels, the `#[sabi_trait]` call, the panic guard, the range
//!      check). The three are checked to place every job alike.
//!
//!    Target: cdylib ≤ 1.05 × compiled in.
//! 2. **Batch call**: `vendor.packing` (best-fit) scoring N nodes for one job,
//!    through the adapter from the cdylib, against the same formula as a fused
//!    loop over the host's flat arrays, by criterion and then call by call,
//!    alternating. Target: ≤ 1.25 ×.
//!
//! The bench builds the plugin itself (`cargo build --release -p
//! vendor-link-budget`, into the bench's own target directory).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion};
use kairos_host::engine::{Engine, JobState};
use kairos_host::native::{self, NativeLibrary};
use kairos_host::pipeline::{Pipeline, PipelineDef, Stage};
use kairos_host::registry::Registry;
use kairos_model::plugin::BuildContext;
use kairos_model::{
    Built, Context, ExtensionPoint, GroupUsage, Job, NodeId, NodeSpec, NodeTable, PluginResult, Qty, ResourceSpace,
    ScorePlugin, Sym, Symbols,
};

const RESOURCES: [&str; 4] = ["cpu", "memory", "storage", "network"];
const DIMS: usize = 4;
const CAPACITY: [(Qty, Qty); DIMS] = [(16_000, 128_000), (65_536, 1_048_576), (500, 8_000), (10_000, 100_000)];
const REQUEST: [(Qty, Qty); DIMS] = [(100, 500), (256, 2_048), (1, 10), (10, 100)];
const REGIONS: [&str; 4] = ["europe", "americas", "asia", "oceania"];
const BANDS: [&str; 3] = ["S,X", "X", "S"];
const SATELLITES: [&str; 6] = ["NOAA 19", "METOP-C", "SENTINEL-2A", "LANDSAT 9", "AQUA", "ISS (ZARYA)"];
const ARGS: &str =
    r#"{ "bands": { "NOAA": "S", "METEOR": "S", "SENTINEL": "X", "LANDSAT": "X", "TERRA": "X", "AQUA": "X" } }"#;
const SEED: u64 = 0x6b61_6972_6f73;
const NODES: usize = 1_000;
const BATCH: usize = 1_000;
/// Rounds of the interleaved showcase runs (step 3 of `main`).
const INTERLEAVED_ROUNDS: usize = 101;
/// Rounds of the interleaved batch calls (step 2 of `main`): under 0.4 s at 10,000 nodes.
const BATCH_ROUNDS: usize = 2_001;

struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn range(&mut self, (lo, hi): (u64, u64)) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

struct World {
    resources: ResourceSpace,
    symbols: Symbols,
    nodes: NodeTable,
    jobs: Vec<Job>,
}

impl World {
    fn new(nodes: usize, jobs: usize) -> World {
        let mut rng = SplitMix64(SEED ^ nodes as u64);
        let resources = ResourceSpace::new(RESOURCES);
        let mut symbols = Symbols::default();
        let (region_key, zone_key, band_key) =
            (symbols.intern("region"), symbols.intern("zone"), symbols.intern("band"));
        let sat_key = symbols.intern("satellite");
        let mut table = NodeTable::new(DIMS);
        for i in 0..nodes {
            let region = symbols.intern(REGIONS[i % REGIONS.len()]);
            let zone = symbols.intern(&format!("{}-{}", REGIONS[i % REGIONS.len()], i % 3));
            let band = symbols.intern(BANDS[i % BANDS.len()]);
            table.push(NodeSpec {
                name: format!("node-{i}"),
                region,
                zone,
                labels: vec![(region_key, region), (zone_key, zone), (band_key, band)],
                taints: Vec::new(),
                capacity: CAPACITY.iter().map(|&r| rng.range(r)).collect(),
                reserve: vec![0; DIMS],
            });
        }
        let jobs = (0..jobs)
            .map(|i| {
                let estimate = rng.range((60, 3_600)) as i64;
                let sat = symbols.intern(SATELLITES[i % SATELLITES.len()]);
                Job {
                    idx: 0,
                    id: format!("job-{i}"),
                    tenant: sat,
                    group: symbols.intern(REGIONS[rng.next_u64() as usize % REGIONS.len()]),
                    priority_class: Symbols::EMPTY,
                    priority: if rng.next_u64() % 5 == 0 { 100 } else { 0 },
                    release: 0,
                    deadline: Some(estimate + rng.range((0, 86_400)) as i64),
                    hard_deadline: false,
                    estimate,
                    request: REQUEST.iter().map(|&r| rng.range(r)).collect(),
                    selector: Vec::new(),
                    tolerations: Vec::new(),
                    labels: vec![(sat_key, sat)],
                    after: None,
                    restartable: true,
                }
            })
            .collect();
        World { resources, symbols, nodes: table, jobs }
    }

    fn showcase(&mut self) -> Pipeline {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pass-window/pipeline.yaml");
        let registry = Registry::builtin();
        let def = PipelineDef::load(&path, &registry).unwrap_or_else(|e| panic!("{e}"));
        def.build(&registry, &self.resources, &mut self.symbols).unwrap_or_else(|e| panic!("{e}"))
    }

    fn engine(&self, pipeline: &Arc<Pipeline>) -> Engine {
        let mut e = Engine::new(Arc::clone(pipeline), self.nodes.clone(), self.resources.clone(), self.symbols.clone());
        for job in &self.jobs {
            e.submit(job.clone(), 0).expect("a synthetic job matches the cluster");
        }
        e
    }
}

/// Builds the example plugin library in release and returns its path.
fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().expect("the bench has a path");
    let profile = exe.parent().and_then(Path::parent).expect("<target>/<profile>/deps").to_owned();
    let target = profile.parent().expect("a target directory").to_owned();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--quiet", "--release", "-p", "vendor-link-budget", "--lib", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building vendor-link-budget failed");
    target.join("release").join(format!(
        "{}vendor_link_budget.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    ))
}

fn score_plugin(lib: &Arc<NativeLibrary>, name: &str, args: &str, resources: &ResourceSpace) -> Box<dyn ScorePlugin> {
    let args: serde_json::Value = serde_json::from_str(args).unwrap();
    let mut symbols = Symbols::default(); // a score plugin interns nothing
    match lib.build(
        ExtensionPoint::Score,
        name,
        &args,
        &mut BuildContext::new(resources, &mut symbols),
        Default::default(),
    ) {
        Ok((Built::Score(s), _)) => s,
        Ok(_) => panic!("not a score"),
        Err(e) => panic!("{e}"),
    }
}

/// `vendor.link-budget` compiled in: the plugin's own model (its per-job
/// `pass`, its per-node `Pass::score`, built from the same args) behind the
/// host's trait, reading the labels from the host's tables by symbol instead of
/// from the ABI views by string. What differs from the plugin is the boundary
/// alone: the views, the ABI call, the panic guard and the range check.
struct LinkBudgetCompiledIn {
    model: vendor_link_budget::LinkBudget,
    band_key: Sym,
    satellite_key: Sym,
    elevation_key: Sym,
}

impl LinkBudgetCompiledIn {
    fn new(args: &str, symbols: &mut Symbols) -> LinkBudgetCompiledIn {
        let args = kairos_abi::json::parse(args).expect("JSON args");
        let model =
            vendor_link_budget::LinkBudget::from_args(&kairos_abi::sdk::BuildArgs { args: &args, resources: &[] })
                .unwrap_or_else(|e| panic!("{e}"));
        LinkBudgetCompiledIn {
            model,
            band_key: symbols.intern("band"),
            satellite_key: symbols.intern("satellite"),
            elevation_key: symbols.intern("max_elevation_deg"),
        }
    }
}

impl ScorePlugin for LinkBudgetCompiledIn {
    fn score(&self, job: &Job, cx: &Context<'_>, nodes: &[NodeId], scores: &mut [f64]) -> PluginResult {
        let label = |key| job.label(key).map(|v| cx.symbols.name(v));
        let pass = self.model.pass(label(self.satellite_key), label(self.elevation_key));
        for (&n, out) in nodes.iter().zip(scores.iter_mut()) {
            *out = pass.score(cx.nodes.label(n, self.band_key).map(|b| cx.symbols.name(b)));
        }
        Ok(())
    }
}

fn with_score(mut p: Pipeline, plugin: Box<dyn ScorePlugin>) -> Arc<Pipeline> {
    p.score.push(Stage { name: "vendor.link-budget".into(), weight: 1.0, plugin });
    Arc::new(p)
}

/// Every timed call's duration, by variant: the summary's medians come from
/// this run alone.
static SAMPLES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

/// Times `iters` calls of `run` (each after an untimed `setup`) and records them.
fn timed<S, R>(id: &str, iters: u64, mut setup: impl FnMut() -> S, mut run: impl FnMut(S) -> R) -> Duration {
    let mut total = Duration::ZERO;
    let mut mine = Vec::with_capacity(iters as usize);
    for _ in 0..iters {
        let input = setup();
        let t = Instant::now();
        black_box(run(input));
        let d = t.elapsed();
        total += d;
        mine.push(d.as_secs_f64());
    }
    SAMPLES.lock().unwrap().entry(id.to_owned()).or_default().extend(mine);
    total
}

fn median(id: &str) -> f64 {
    let mut v = SAMPLES.lock().unwrap().get(id).cloned().unwrap_or_default();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

fn main() {
    let mut c = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let lib = native::load(&cdylib()).unwrap_or_else(|e| panic!("{e}"));
    let rlib = native::in_process("vendor-link-budget (rlib)", vendor_link_budget::kairos_plugin_module());

    // 1. The showcase pipeline with the link budget, three ways.
    let mut world = World::new(NODES, BATCH);
    let compiled_in = LinkBudgetCompiledIn::new(ARGS, &mut world.symbols);
    let variants = [
        ("compiled-in", with_score(world.showcase(), Box::new(compiled_in))),
        (
            "rlib-via-abi",
            with_score(world.showcase(), score_plugin(&rlib, "vendor.link-budget", ARGS, &world.resources)),
        ),
        ("cdylib", with_score(world.showcase(), score_plugin(&lib, "vendor.link-budget", ARGS, &world.resources))),
    ];
    // The three make the same decisions: they are the same model.
    let placements: Vec<Vec<JobState>> = variants
        .iter()
        .map(|(_, p)| {
            let mut e = world.engine(p);
            e.schedule(0).expect("no fault");
            e.records().iter().map(|r| r.state.clone()).collect()
        })
        .collect();
    assert!(placements.iter().all(|p| *p == placements[0]), "the variants placed the jobs differently");
    let mut g = c.benchmark_group("native-showcase");
    for (id, pipeline) in &variants {
        g.bench_function(*id, |b| {
            b.iter_custom(|iters| {
                timed(
                    id,
                    iters,
                    || world.engine(pipeline),
                    |mut e| {
                        e.schedule(0).expect("no fault");
                        e.stats().decisions
                    },
                )
            })
        });
    }
    g.finish();

    // 2. One batch call over N nodes against the fused loop.
    let mut g = c.benchmark_group("native-batch");
    for n in [1_000usize, 10_000] {
        let w = World::new(n, 1);
        let usage = GroupUsage::new(None, DIMS);
        let cx = Context {
            now: 0,
            nodes: &w.nodes,
            resources: &w.resources,
            symbols: &w.symbols,
            usage: &usage,
            jobs: &w.jobs,
        };
        let ids: Vec<NodeId> = (0..n as NodeId).collect();
        let mut scores = vec![0.0; n];
        let packing = score_plugin(&lib, "vendor.packing", "null", &w.resources);
        let job = &w.jobs[0];
        g.bench_with_input(BenchmarkId::new("cdylib", n), &n, |b, _| {
            b.iter_custom(|iters| {
                timed(
                    &format!("cdylib/{n}"),
                    iters,
                    || (),
                    |()| packing.score(black_box(job), &cx, &ids, &mut scores).expect("no fault"),
                )
            })
        });
        g.bench_with_input(BenchmarkId::new("fused", n), &n, |b, _| {
            b.iter_custom(|iters| {
                timed(
                    &format!("fused/{n}"),
                    iters,
                    || (),
                    |()| fused_packing(&w.nodes, black_box(job), &ids, &mut scores),
                )
            })
        });
        // The same two calls alternating, call by call (see step 3).
        for round in 0..BATCH_ROUNDS {
            for k in 0..2 {
                if (round + k) % 2 == 0 {
                    timed(
                        &format!("interleaved/cdylib/{n}"),
                        1,
                        || (),
                        |()| packing.score(black_box(job), &cx, &ids, &mut scores).expect("no fault"),
                    );
                } else {
                    timed(
                        &format!("interleaved/fused/{n}"),
                        1,
                        || (),
                        |()| fused_packing(&w.nodes, black_box(job), &ids, &mut scores),
                    );
                }
            }
        }
    }
    g.finish();
    c.final_summary();

    // 3. The showcase variants again, interleaved: one run of each in turn, for
    //    `INTERLEAVED_ROUNDS` rounds, so that a disturbance of the shared machine
    //    hits all three alike (criterion measures them one after another).
    for round in 0..INTERLEAVED_ROUNDS {
        for k in 0..variants.len() {
            let (id, pipeline) = &variants[(round + k) % variants.len()];
            timed(
                &format!("interleaved/{id}"),
                1,
                || world.engine(pipeline),
                |mut e| {
                    e.schedule(0).expect("no fault");
                    e.stats().decisions
                },
            );
        }
    }

    // The ratios, from this run's medians.
    let base = median("interleaved/compiled-in");
    println!("\nnative plugins, medians of {INTERLEAVED_ROUNDS} interleaved rounds:");
    for id in ["compiled-in", "rlib-via-abi", "cdylib"] {
        let t = median(&format!("interleaved/{id}"));
        println!(
            "  showcase + link budget, {id:<13} {:>9.3} ms per {BATCH} jobs on {NODES} nodes   {:.3}x compiled in",
            t * 1e3,
            t / base
        );
    }
    let base = median("compiled-in");
    println!("\nnative plugins, medians of criterion's samples (each variant measured after the other):");
    for id in ["compiled-in", "rlib-via-abi", "cdylib"] {
        let t = median(id);
        println!(
            "  showcase + link budget, {id:<13} {:>9.3} ms per {BATCH} jobs on {NODES} nodes   {:.3}x compiled in",
            t * 1e3,
            t / base
        );
    }
    for (how, prefix) in [("criterion's samples", ""), ("interleaved calls", "interleaved/")] {
        println!("\nbatch call of vendor.packing, medians of {how}:");
        for n in [1_000, 10_000] {
            let (t, f) = (median(&format!("{prefix}cdylib/{n}")), median(&format!("{prefix}fused/{n}")));
            println!(
                "  batch score over {n:>6} nodes: cdylib {:>8.2} µs, fused loop {:>8.2} µs   {:.3}x",
                t * 1e6,
                f * 1e6,
                t / f
            );
        }
    }
}

/// `vendor.packing`'s formula as one fused loop over the host's flat arrays.
fn fused_packing(nodes: &NodeTable, job: &Job, ids: &[NodeId], scores: &mut [f64]) {
    let (alloc, used) = (nodes.allocatable_flat(), nodes.used_flat());
    let request = &job.request;
    let asked = request.iter().filter(|&&r| r > 0).count().max(1) as f64;
    for (&node, s) in ids.iter().zip(scores.iter_mut()) {
        let base = node as usize * DIMS;
        let mut fill = 0.0;
        for (d, &r) in request.iter().enumerate() {
            let a = alloc[base + d];
            if r > 0 && a > 0 {
                fill += ((used[base + d] + r) as f64 / a as f64).min(1.0);
            }
        }
        *s = 100.0 * fill / asked;
    }
    black_box(scores);
}
