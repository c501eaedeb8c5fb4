//! Whole simulations: what a `kairos run` of the examples costs.
//!
//! - **pass-window**: the showcase day (`examples/pass-window/scenario.yaml`),
//!   once with its own pipeline (`pipeline.yaml`, kairos) and once with
//!   `baseline.yaml` (FIFO, first-fit);
//! - **kth-sp2**: the KTH SP2 log replay (28k jobs, 11 months) with the
//!   scenario's FIFO pipeline, and with `fair-edf.yaml` when it is there. When
//!   `examples/kth-sp2/scenario.yaml` is missing, an equivalent scenario (one
//!   `sp2` node of 100 cpus; FIFO, fit, first-fit) is written to a temporary
//!   directory, pointing at the shared copy of the log.
//!
//! Scenarios are loaded once, outside the timing (loading is timed apart, as
//! `load/…`); each timed call is one `Scenario::simulate` — engine built, every
//! job submitted, the discrete-event loop run to the end. After criterion's
//! report a summary prints each simulation's median wall time with the work it
//! did (jobs, cycles, decisions), all from this run.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode};
use kairos_host::engine::Stats;
use kairos_host::pipeline::PipelineDef;
use kairos_host::registry::Registry;
use kairos_host::scenario::{Overrides, Scenario};

/// The shared copy of the KTH SP2 log, for when the example is not there yet.
const KTH_LOG: &str = "/work/shared/workloads/KTH-SP2-1996-2.1-cln.swf.gz";

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples")
}

/// The KTH scenario file: the example's, or one written to a temporary directory.
fn kth_scenario() -> PathBuf {
    let example = examples().join("kth-sp2/scenario.yaml");
    if example.exists() {
        return example;
    }
    let dir = std::env::temp_dir().join(format!("kairos-bench-kth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let files = [
        ("cluster.yaml", "resources: [cpu]\nnodes:\n  - { name: sp2, region: kth, capacity: { cpu: 100 } }\n".to_owned()),
        (
            "fifo.yaml",
            "name: fifo\norder:\n  - plugin: fifo\nfilter:\n  - plugin: fit\nscore:\n  - plugin: first-fit\n".to_owned(),
        ),
        (
            "scenario.yaml",
            format!(
                "name: kth-sp2\npipeline: fifo.yaml\ncluster: cluster.yaml\nworkload:\n  path: {KTH_LOG}\n  format: swf\n  swf: {{ cpu_resource: cpu }}\n"
            ),
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("writing the temporary scenario");
    }
    dir.join("scenario.yaml")
}

/// One simulation to time: a loaded scenario and the pipeline to run on it.
struct Case {
    id: String,
    scenario: Scenario,
    def: PipelineDef,
}

/// Loads `scenario` and returns it with the time loading took.
fn load(path: &Path, registry: &Registry) -> (Scenario, Duration) {
    let t = Instant::now();
    let s = Scenario::load(path, &Overrides::default(), registry).unwrap_or_else(|e| panic!("{e}"));
    (s, t.elapsed())
}

fn cases(registry: &Registry) -> (Vec<Case>, Vec<(String, PathBuf)>) {
    let pass = examples().join("pass-window/scenario.yaml");
    let kth = kth_scenario();
    let mut cases = Vec::new();
    // (id, scenario, alternative pipeline file next to it or None for its own)
    let plan: [(&str, &Path, Option<&str>); 4] = [
        ("pass-window/kairos", &pass, None),
        ("pass-window/baseline", &pass, Some("baseline.yaml")),
        ("kth-sp2/fifo", &kth, None),
        ("kth-sp2/fair-edf", &kth, Some("fair-edf.yaml")),
    ];
    for (id, path, alternative) in plan {
        let def = match alternative {
            None => None,
            Some(file) => {
                let p = path.with_file_name(file);
                if !p.exists() {
                    continue;
                }
                Some(PipelineDef::load(&p, registry).unwrap_or_else(|e| panic!("{e}")))
            }
        };
        let (scenario, _) = load(path, registry);
        let def = def.unwrap_or_else(|| scenario.pipeline.clone());
        cases.push(Case { id: id.to_owned(), scenario, def });
    }
    (cases, vec![("pass-window".into(), pass), ("kth-sp2".into(), kth)])
}

/// Seconds of every timed call of one benchmark, and the work the last one did.
#[derive(Default)]
struct Samples {
    seconds: Vec<f64>,
    jobs: usize,
    stats: Stats,
}

/// Samples by benchmark id.
static SAMPLES: Mutex<BTreeMap<String, Samples>> = Mutex::new(BTreeMap::new());

fn replay(c: &mut Criterion) {
    let registry = Registry::builtin();
    let (cases, scenarios) = cases(&registry);
    let mut group = c.benchmark_group("replay");
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    group.sampling_mode(SamplingMode::Flat);
    for case in &cases {
        let (scenario, _) = case.id.split_once('/').expect("scenario/pipeline");
        group.bench_with_input(BenchmarkId::new(scenario, &case.id[scenario.len() + 1..]), case, |b, case| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let sim = case
                        .scenario
                        .simulate(black_box(&case.def), &registry, |_, _| {})
                        .unwrap_or_else(|e| panic!("{e}"));
                    let dt = t.elapsed();
                    total += dt;
                    let mut samples = SAMPLES.lock().unwrap();
                    let entry = samples.entry(case.id.clone()).or_default();
                    entry.seconds.push(dt.as_secs_f64());
                    entry.jobs = sim.engine.jobs().len();
                    entry.stats = sim.engine.stats().clone();
                    drop(samples);
                    drop(sim);
                }
                total
            })
        });
    }
    for (name, path) in &scenarios {
        group.bench_function(BenchmarkId::new("load", name), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (s, dt) = load(black_box(path), &registry);
                    let mut samples = SAMPLES.lock().unwrap();
                    let entry = samples.entry(format!("load/{name}")).or_default();
                    entry.seconds.push(dt.as_secs_f64());
                    entry.jobs = s.jobs.len();
                    total += dt;
                }
                total
            })
        });
    }
    group.finish();
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

fn summary() {
    let mut samples = SAMPLES.lock().unwrap();
    if samples.is_empty() {
        return;
    }
    println!("\nmedian wall time of every timed call in this run:");
    println!(
        "{:<24} {:>10} {:>8} {:>8} {:>10} {:>12} {:>12}",
        "simulation", "wall", "jobs", "cycles", "decisions", "placements", "µs/decision"
    );
    for (id, Samples { seconds, jobs, stats }) in samples.iter_mut() {
        let wall = median(seconds);
        let per = if stats.decisions > 0 { format!("{:.2}", wall * 1e6 / stats.decisions as f64) } else { "-".into() };
        println!(
            "{id:<24} {:>8.1} ms {jobs:>8} {:>8} {:>10} {:>12} {per:>12}",
            wall * 1e3,
            stats.cycles,
            stats.decisions,
            stats.placements
        );
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    replay(&mut c);
    c.final_summary();
    // Only a measuring run (`cargo bench` passes `--bench`) prints the summary.
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--bench")
        && !args.iter().any(|a| matches!(a.as_str(), "--test" | "--list" | "--profile-time"))
    {
        summary();
    }
}
