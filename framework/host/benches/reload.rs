//! What hot reload costs the scheduler under load.
//!
//! The pass-window day (`examples/pass-window/scenario.yaml`, its own pipeline)
//! is simulated [`DAYS`] times back to back, stepped one instant at a time as
//! `kairos run --live` steps it, in two ways:
//!
//! 1. **still** — no reloader at all: the run without swaps.
//! 2. **swapping** — a [`Reloader`] on the pipeline is polled before every
//!    instant, and a second thread asks it for a reload every [`SWAP_EVERY`];
//!    each new revision is built on the reloader's thread and swapped into the
//!    engine between two instants.
//!
//! Each round runs still, swapping, still again; the median throughput
//! (jobs simulated per second of wall time: the same work either way) of each
//! is compared: the target is swapping ≥ 0.98× still. The machine is
//! shared and has two cores, one of which the reloading thread borrows for
//! each build, so single rounds scatter by several percent: read the median,
//! next to the ratio of the two still runs (the noise floor of this run). A custom harness (not criterion): the quantity is a
//! ratio of two long runs measured in the same process.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kairos_host::registry::Registry;
use kairos_host::reload::Reloader;
use kairos_host::scenario::{Overrides, Scenario};
use kairos_host::sim::Simulation;

/// Days simulated per measurement: about a second of work in a release build,
/// so a run sees about ten swaps.
const DAYS: usize = 12;

/// Measurements of each kind.
const ROUNDS: usize = 9;

/// The reload rate under load.
const SWAP_EVERY: Duration = Duration::from_millis(100);

/// One measurement: jobs simulated, seconds taken, swaps applied.
fn measure(sc: &Scenario, registry: &Registry, swapping: bool) -> (u64, f64, u64) {
    let first = sc.engine(&sc.pipeline, registry).expect("the showcase builds");
    let reloader = swapping.then(|| {
        Reloader::new(&sc.pipeline, registry.clone(), first.resources().clone(), first.symbols().clone())
            .expect("the watcher starts")
    });
    let (mut jobs, mut swaps) = (0, 0);
    let done = AtomicBool::new(false);
    let started = Instant::now();
    std::thread::scope(|s| {
        if let Some(r) = &reloader {
            let done = &done;
            s.spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(SWAP_EVERY);
                    r.request_reload();
                }
            });
        }
        let mut engine = Some(first);
        for _ in 0..DAYS {
            let engine = engine.take().unwrap_or_else(|| sc.engine(&sc.pipeline, registry).expect("builds"));
            let mut sim = Simulation::new(engine, sc.jobs.clone(), &sc.events).expect("the jobs submit");
            loop {
                // Every day's engine runs on the same cluster, so a revision
                // built for one fits the next.
                if let Some((revision, pipeline)) = reloader.as_ref().and_then(Reloader::latest) {
                    sim.engine_mut().swap_pipeline(pipeline, revision);
                    swaps += 1;
                }
                if !sim.step().expect("the showcase never faults") {
                    break;
                }
            }
            jobs += sim.total() as u64;
        }
        done.store(true, Ordering::Relaxed);
    });
    (jobs, started.elapsed().as_secs_f64(), swaps)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo test --benches` runs this with `--test`… or nothing: measure only
    // when `cargo bench` asks (it passes `--bench`).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let registry = Registry::builtin();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/pass-window/scenario.yaml");
    let sc = Scenario::load(&path, &Overrides::default(), &registry).unwrap_or_else(|e| panic!("{e}"));
    let (mut still, mut again, mut swapping, mut swaps) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let (d, t, _) = measure(&sc, &registry, false);
        still.push(d as f64 / t);
        let (d, t, n) = measure(&sc, &registry, true);
        swapping.push(d as f64 / t);
        swaps.push(n as f64 / t);
        let (d, t, _) = measure(&sc, &registry, false);
        again.push(d as f64 / t);
    }
    let noise = median(still.iter().zip(&again).map(|(x, y)| y / x).collect());
    let a = median(still.into_iter().chain(again).collect());
    let b = median(swapping);
    println!("reload under load: the pass-window day ×{DAYS}, {ROUNDS} rounds, medians");
    println!("  still      {a:>10.0} jobs/s");
    println!("  swapping   {b:>10.0} jobs/s  ({:.1} swaps/s, one asked every {SWAP_EVERY:?})", median(swaps));
    println!("  ratio      {:>10.3} (target ≥ 0.98; still against still: {noise:.3})", b / a);
}
