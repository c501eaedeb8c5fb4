//! `kairos run --live`: a scenario played against a scaled wall clock, with its
//! pipeline hot-reloaded, so that a person can edit a script mid-run and watch
//! the decisions change.
//!
//! 1. The scenario loads as for `kairos run`; the engine starts on the pipeline
//!    as revision 1, and a [`Reloader`] watches the pipeline file and every
//!    script it references.
//! 2. Every [`TICK`] the loop works out the simulated time the wall clock has
//!    reached: the workload's start + wall time elapsed × `speed`.
//! 3. It runs every simulator instant due by then, one at a time, and polls the
//!    reloader before each, so that a new revision is swapped in between
//!    decisions. Each reload, good or failed, prints one line on stderr.
//! 4. Every [`STATUS_EVERY`] of wall time it prints a status line on stderr:
//!    simulated time, revision, jobs placed, running, pending and done.
//!    Between two instants it also prints, on stderr, what scripts printed
//!    (their logs, bounded: lines beyond `script::log::RECENT_KEPT` between two
//!    looks are counted) and, once, each script or native plugin quarantined.
//! 5. When nothing is left to happen, the caller prints the report as `run`
//!    does (stdout stays the report alone, so `--json` stays parseable).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use kairos_host::engine::JobState;
use kairos_host::registry::Registry;
use kairos_host::reload::Reloader;
use kairos_host::scenario::Scenario;
use kairos_host::sim::{SimResult, Simulation};
use kairos_host::Error;
use kairos_model::Time;

/// Simulated seconds per wall second when `--speed` is not given: a day in
/// 2.4 minutes, slow enough to watch and edit, fast enough to see a day's peak.
pub const DEFAULT_SPEED: f64 = 600.0;

/// How often the loop wakes when nothing is due: often enough that a reload is
/// swapped in and reported within a blink of the save.
pub const TICK: Duration = Duration::from_millis(50);

/// Wall time between two status lines.
pub const STATUS_EVERY: Duration = Duration::from_secs(2);

/// Plays `sc` against the wall clock at `speed` simulated seconds per wall
/// second, reloading its pipeline as it changes; `say` gets each reload and
/// status line.
pub fn run(sc: &Scenario, registry: &Registry, speed: f64, mut say: impl FnMut(&str)) -> Result<SimResult, Error> {
    if !(speed.is_finite() && speed > 0.0) {
        return Err(Error::Usage(format!("--speed must be a number of simulated seconds per second > 0, got {speed}")));
    }
    let engine = sc.engine(&sc.pipeline, registry)?;
    let reloader =
        match Reloader::new(&sc.pipeline, registry.clone(), engine.resources().clone(), engine.symbols().clone()) {
            Ok(r) => Some(r),
            Err(e) => {
                say(&format!("warning: cannot watch the pipeline ({e}); running without hot reload"));
                None
            }
        };
    let mut sim = Simulation::new(engine, sc.jobs.clone(), &sc.events)?;
    let start = sim.next_event_time().unwrap_or_default();
    say(&format!(
        "live: {} jobs from {} at {speed}× (1 s = {}); watching {} and its scripts",
        sc.jobs.len(),
        sc.clock(start),
        kairos_model::fmt_duration(speed.round() as Time),
        sc.pipeline.path.display()
    ));
    let wall0 = Instant::now();
    let mut last_status = wall0;
    let mut quarantined: HashSet<(u64, String)> = HashSet::new();
    let mut poll = |sim: &mut Simulation, say: &mut dyn FnMut(&str)| {
        news(sc, sim, &mut quarantined, say);
        let Some(r) = &reloader else { return };
        for e in r.errors() {
            say(&e.to_string());
        }
        if let Some((revision, pipeline)) = r.latest() {
            sim.engine_mut().swap_pipeline(pipeline, revision);
            say(&format!("reloaded pipeline revision {revision} at {}", sc.clock(sim.now())));
        }
    };
    loop {
        let reached = start.saturating_add((wall0.elapsed().as_secs_f64() * speed) as Time);
        poll(&mut sim, &mut say);
        while sim.next_event_time().is_some_and(|t| t <= reached) {
            sim.step()?;
            poll(&mut sim, &mut say);
        }
        let Some(next) = sim.next_event_time() else { break };
        if last_status.elapsed() >= STATUS_EVERY {
            last_status = Instant::now();
            say(&status(sc, &sim, reached));
        }
        // Sleep until the next instant is due, waking at least every TICK.
        let due = wall0 + Duration::from_secs_f64(((next - start) as f64 / speed).min(1e9));
        std::thread::sleep(due.saturating_duration_since(Instant::now()).min(TICK));
    }
    Ok(sim.finish())
}

/// Says what the running revision's scripts printed since the last look, and
/// each plugin newly quarantined (once per revision).
fn news(sc: &Scenario, sim: &Simulation, quarantined: &mut HashSet<(u64, String)>, say: &mut dyn FnMut(&str)) {
    let e = sim.engine();
    let p = e.pipeline();
    for st in &p.scripts {
        let (lines, more) = st.log.drain();
        for l in lines {
            say(&format!("[{}] {} {l}", sc.clock(l.time), st.name));
        }
        if more > 0 {
            say(&format!("[{}] {}: {more} more printed lines not shown", sc.clock(sim.now()), st.name));
        }
    }
    let health = p
        .scripts
        .iter()
        .map(|st| (&st.name, &st.health, "script"))
        .chain(p.natives.iter().map(|st| (&st.name, &st.health, "native plugin")));
    for (name, h, kind) in health {
        let Some(q) = h.quarantine() else { continue };
        if quarantined.insert((e.revision(), name.clone())) {
            say(&format!(
                "[{}] quarantined {kind} {name} after {} failed calls in a row (revision {}); the last: {}; its on_error applies without calling it until the next reload",
                sc.clock(q.time),
                q.after,
                e.revision(),
                q.error
            ));
        }
    }
}

/// "[2023-07-05T06:00:00Z] revision 2: 812 placed, 40 running, 123 pending, 700 done of 2800".
fn status(sc: &Scenario, sim: &Simulation, now: Time) -> String {
    let e = sim.engine();
    let done = e.records().iter().filter(|r| matches!(r.state, JobState::Done(_))).count();
    format!(
        "[{}] revision {}: {} placed, {} running, {} pending, {done} done of {}",
        sc.clock(now),
        e.revision(),
        e.stats().placements,
        e.running().len(),
        e.pending().len(),
        sim.total()
    )
}
