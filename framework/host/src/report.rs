//! Metrics and the run report.
//!
//! Every job of a run lands in exactly one bucket of [`JobCounts`]: completed,
//! missed (a hard deadline that could not be met, a soft one finished late, or the
//! job it ran after failed), rejected (no node can ever take it), lost (its node
//! failed and it cannot restart) or pending/running
//! (still waiting or working when the run ended). The report says which, per job
//! in `--schedule` output and in aggregate here.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use kairos_model::{fmt_duration, Job, Time};
use serde::Serialize;

use crate::architecture::Architecture;
use crate::engine::{BudgetStats, PartitionCounts};
use crate::engine::{Engine, JobRecord, JobState, Miss, Outcome};
use crate::health::{CallError, HealthSummary, Quarantine};
use crate::sim::SimResult;

/// Bounded-slowdown threshold τ, seconds: runs shorter than this count as this
/// long, so that tiny jobs do not dominate the mean (Feitelson's convention).
pub const SLOWDOWN_TAU_S: f64 = 10.0;

/// Groups shown in the text report; the JSON report has them all.
pub const MAX_GROUP_ROWS: usize = 12;

/// Share of the busiest hours counted as "peak": the top quarter by number of
/// deadline jobs released in the hour.
pub const PEAK_SHARE: f64 = 0.25;

/// The report of one run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// Pipeline name.
    pub pipeline: String,
    /// Where every job ended.
    pub jobs: JobCounts,
    /// Share of jobs with a deadline that completed by it (null when none has one).
    pub deadline_compliance: Option<f64>,
    /// Per job group (for the pass-window showcase: per region).
    pub groups: BTreeMap<String, GroupReport>,
    /// Jain's fairness index over the groups' deadline compliance (1 = equal;
    /// null when no group has a deadline job or every group met none).
    pub jain_fairness: Option<f64>,
    /// Per resource: time-averaged share of the up nodes' capacity in use.
    pub utilization: BTreeMap<String, f64>,
    /// Wait from release to first start, over jobs that started.
    pub wait_s: Percentiles,
    /// Bounded slowdown over jobs that ran to the end.
    pub bounded_slowdown: Mean,
    /// The busiest hours.
    pub peak: Peak,
    /// The scheduler's own work.
    pub scheduler: SchedulerStats,
    /// Moves of running work.
    pub moves: Moves,
    /// Simulated span, seconds.
    pub span_s: Span,
    /// The most common reasons jobs were rejected or left pending.
    pub reasons: Vec<ReasonLine>,
    /// Trace rows that could not become jobs (never silently dropped).
    pub skipped_rows: usize,
    /// Failed calls per policy script of the pipeline (0 when all went well).
    pub script_errors: BTreeMap<String, u64>,
    /// Calls per policy script (verdicts reused from the memo are not calls).
    pub script_calls: BTreeMap<String, u64>,
    /// Failed calls per native plugin of the pipeline (absent when it has none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub native_errors: BTreeMap<String, u64>,
    /// Calls per native plugin (one per batch of nodes; absent when it has none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub native_calls: BTreeMap<String, u64>,
    /// Per script or native plugin that failed: its first error, the calls the
    /// watchdog ended, its quarantines (absent when nothing failed).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub failures: BTreeMap<String, FailureReport>,
    /// Lines each script printed (absent when none printed).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub script_output: BTreeMap<String, u64>,
    /// Partitions, budgets and outages under the `partitioned` architecture
    /// (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partitions: Option<PartitionsReport>,
}

/// What went wrong with one script or native plugin over a run.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FailureReport {
    /// `script` or `native`.
    pub kind: &'static str,
    /// Failed calls, including those the watchdog ended.
    pub errors: u64,
    /// Calls the wall-clock watchdog ended: the one failure that depends on the
    /// machine (0 in a healthy run).
    pub watchdog: u64,
    /// Calls not made because the plugin was quarantined; its `on_error` applied.
    pub skipped: u64,
    /// The first failure: message, where, function, job, node, time.
    pub first_error: Option<CallError>,
    /// Each revision in which it was quarantined, when, and after which error.
    pub quarantined: Vec<Quarantine>,
}

impl FailureReport {
    fn of(kind: &'static str, h: &HealthSummary) -> Self {
        FailureReport {
            kind,
            errors: h.errors,
            watchdog: h.watchdog,
            skipped: h.skipped,
            first_error: h.first_error.clone(),
            quarantined: h.quarantines.clone(),
        }
    }
}

/// The partitions of a `partitioned` run (see `engine::partitions`).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct PartitionsReport {
    /// What the global layer did.
    pub budget: BudgetStats,
    /// Each partition's figures, by name.
    pub partitions: BTreeMap<String, PartitionCounts>,
    /// Every stretch of time during which a partition had a node down.
    pub outages: Vec<OutageReport>,
}

/// One outage of a partition, and its recovery.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct OutageReport {
    /// The partition.
    pub partition: String,
    /// When its first node failed.
    pub down_at: Time,
    /// When all its nodes were up again (null: still down at the end).
    pub up_at: Option<Time>,
    /// Nodes down at the worst moment, of `nodes`.
    pub nodes_down: u32,
    /// Nodes of the partition.
    pub nodes: u32,
    /// Running jobs the failures stopped.
    pub displaced: u32,
    /// Of those, lost (not restartable).
    pub lost: u32,
    /// The partition's jobs placed abroad while it was down, by lender.
    pub absorbed_by: BTreeMap<String, u32>,
    /// The first such placement.
    pub first_absorbed_at: Option<Time>,
    /// When every displaced job that could restart was running again or had
    /// ended (null: not by the end of the run).
    pub recovered_at: Option<Time>,
    /// `recovered_at - down_at`, seconds.
    pub recovery_s: Option<Time>,
    /// The partition's jobs the outage overlapped (released before it ended)
    /// that ended missed after it began: job and when.
    pub missed: Vec<(String, Time)>,
}

/// Missed jobs an outage line names before it says "and N more".
pub const MISSED_NAMED: usize = 5;

/// Where every job ended.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct JobCounts {
    /// All jobs.
    pub total: usize,
    /// Finished, by their deadline if they had one.
    pub completed: usize,
    /// Missed their deadline.
    pub missed: usize,
    /// No node can ever take them.
    pub rejected: usize,
    /// Lost with a failed node, unable to restart.
    pub lost: usize,
    /// Still waiting when the run ended.
    pub pending: usize,
    /// Still running when the run ended (0 after a full simulation).
    pub running: usize,
}

/// One group's results.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct GroupReport {
    /// Jobs of the group.
    pub total: usize,
    /// Completed.
    pub completed: usize,
    /// Missed.
    pub missed: usize,
    /// Rejected.
    pub rejected: usize,
    /// Lost with a failed node.
    pub lost: usize,
    /// Pending or running at the end.
    pub pending: usize,
    /// Deadline compliance within the group (null when no job has a deadline).
    pub compliance: Option<f64>,
}

/// Mean and percentiles.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Percentiles {
    /// Mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
}

/// A mean.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Mean {
    /// Mean.
    pub mean: f64,
}

/// Compliance in the busiest hours.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Peak {
    /// The hours (since time 0 of the workload) counted as peak.
    pub hours: Vec<i64>,
    /// Deadline jobs released in them.
    pub jobs: usize,
    /// Of those, missed (not completed by the deadline).
    pub missed: usize,
    /// Their deadline compliance.
    pub compliance: Option<f64>,
}

/// The scheduler's own work.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SchedulerStats {
    /// Jobs taken from the order and evaluated.
    pub decisions: u64,
    /// Of those, settled by the free-capacity bound without running filters.
    pub quick_skips: u64,
    /// Placements committed.
    pub placements: u64,
    /// Scheduling cycles.
    pub cycles: u64,
    /// Wall-clock seconds of the whole simulation.
    pub wall_s: f64,
    /// `decisions / wall_s`.
    pub decisions_per_s: f64,
    /// How decisions were coordinated, when not `centralized` (absent then, so
    /// a centralized report reads as it always did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<ArchitectureStats>,
}

/// The work of a coordination architecture other than `centralized`.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ArchitectureStats {
    /// `optimistic` or `sampled`.
    pub kind: String,
    /// Its settings in short: `optimistic ×2`, `sampled d=2 seed=0`.
    pub label: String,
    /// Scheduler workers.
    pub workers: usize,
    /// Cycles run by more than one worker.
    pub parallel_cycles: u64,
    /// Commits tried at the authoritative commit.
    pub commits: u64,
    /// Commits refused because another worker had committed on the node since
    /// the deciding worker's view.
    pub conflicts: u64,
    /// `conflicts / commits` (0 when nothing was committed).
    pub conflict_rate: f64,
    /// Conflicting jobs decided again from scratch.
    pub retries: u64,
    /// Conflicting commits accepted after the node alone was re-checked.
    pub revalidated: u64,
    /// Batches of jobs stolen from another worker's deque.
    pub steals: u64,
    /// Sampled decisions whose probes found no node, so every node was scanned.
    pub sample_fallbacks: u64,
}

/// Moves of running work.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Moves {
    /// Migrations applied.
    pub migrations: u64,
    /// Evictions applied.
    pub evictions: u64,
    /// Runs stopped by node failures (re-queued, or lost when they cannot restart).
    pub node_failures: u64,
    /// Of those, runs of jobs that could not restart: lost.
    pub lost: u64,
    /// Proposed moves the host refused.
    pub refused: u64,
}

/// The simulated span.
#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Span {
    /// First event.
    pub start: Time,
    /// Last event.
    pub end: Time,
}

/// A reason and how many unfinished jobs it explains.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReasonLine {
    /// `rejected` or `pending`.
    pub status: String,
    /// The aggregated reasons of one job, e.g. "0/12 nodes: 9 selector-mismatch (node-selector), …".
    pub reason: String,
    /// Jobs with exactly this line.
    pub jobs: usize,
}

/// The status of one job at the end of a run, for reports and `--schedule`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Completed on time.
    Completed,
    /// Missed its deadline.
    Missed,
    /// Rejected.
    Rejected,
    /// Lost with a failed node, unable to restart.
    Lost,
    /// Still pending (or waiting on another job).
    Pending,
    /// Still running.
    Running,
}

impl Status {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Completed => "completed",
            Status::Missed => "missed",
            Status::Rejected => "rejected",
            Status::Lost => "lost",
            Status::Pending => "pending",
            Status::Running => "running",
        }
    }

    /// The status of a record.
    pub fn of(rec: &JobRecord) -> Status {
        match &rec.state {
            JobState::Done(Outcome::Completed { .. }) => Status::Completed,
            JobState::Done(Outcome::Missed { .. }) => Status::Missed,
            JobState::Done(Outcome::Rejected { .. }) => Status::Rejected,
            JobState::Done(Outcome::Lost { .. }) => Status::Lost,
            JobState::Running { .. } => Status::Running,
            _ => Status::Pending,
        }
    }
}

/// One row of the `--schedule` output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScheduleRow {
    /// Job id.
    pub job: String,
    /// Node it ran on last (empty if it never ran).
    pub node: String,
    /// Start of its last run.
    pub start: Option<Time>,
    /// End of its last run.
    pub end: Option<Time>,
    /// Status.
    pub status: &'static str,
    /// Why, for anything but an on-time completion.
    pub reason: String,
    /// The pipeline revision that placed it last (1 unless the pipeline was
    /// reloaded; `None` if it never ran).
    pub revision: Option<u64>,
}

/// Why a job ended as it did, in words.
pub fn explain_outcome(engine: &Engine, j: kairos_model::JobId) -> String {
    let rec = &engine.records()[j as usize];
    let job = &engine.jobs()[j as usize];
    match &rec.state {
        JobState::Done(Outcome::Completed { .. }) => String::new(),
        JobState::Done(Outcome::Missed { why, .. }) => match why {
            Miss::Expired { latest_start } => {
                let r = engine.describe_reasons(j);
                let why = if r.is_empty() { "no node was free".to_owned() } else { format!("last attempt: {r}") };
                format!(
                    "could not start by its latest start t={latest_start}s (deadline t={}s); {why}",
                    job.deadline.unwrap_or_default()
                )
            }
            Miss::Late { end, .. } => format!(
                "finished {} after its deadline t={}s",
                fmt_duration(end - job.deadline.unwrap_or(*end)),
                job.deadline.unwrap_or_default()
            ),
            Miss::Upstream { job: up } => {
                format!("the job it runs after, `{}`, did not complete", engine.jobs()[*up as usize].id)
            }
        },
        JobState::Done(Outcome::Rejected { .. }) => engine.describe_reasons(j),
        JobState::Done(Outcome::Lost { at, node }) => {
            format!("its node `{}` failed at t={at}s, and it cannot restart", engine.nodes().names[*node as usize])
        }
        JobState::Waiting { on } => format!("waiting for `{}`", engine.jobs()[*on as usize].id),
        JobState::Submitted => format!("not released before the run ended (release t={}s)", job.release),
        JobState::Pending { .. } => {
            let r = engine.describe_reasons(j);
            if r.is_empty() {
                "never evaluated: no capacity freed up".to_owned()
            } else {
                r
            }
        }
        JobState::Running { .. } => String::new(),
    }
}

/// One row per job, in workload order.
pub fn schedule_rows(engine: &Engine) -> Vec<ScheduleRow> {
    let names = &engine.nodes().names;
    (0..engine.jobs().len())
        .map(|i| {
            let j = i as kairos_model::JobId;
            let rec = &engine.records()[i];
            let (node, start, end) = match &rec.state {
                JobState::Done(Outcome::Completed { node, start, end })
                | JobState::Done(Outcome::Missed { why: Miss::Late { node, start, end }, .. }) => {
                    (names[*node as usize].clone(), Some(*start), Some(*end))
                }
                JobState::Running { node, start, .. } => (names[*node as usize].clone(), Some(*start), None),
                _ => (String::new(), None, None),
            };
            ScheduleRow {
                job: engine.jobs()[i].id.clone(),
                node,
                start,
                end,
                status: Status::of(rec).as_str(),
                reason: explain_outcome(engine, j),
                revision: rec.revision,
            }
        })
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest-rank percentile.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Jain's fairness index of `xs`: (Σx)² / (n·Σx²); 1 when all are equal, 1/n
/// when one gets everything. Undefined (`None`, shown as "—") when there are
/// no groups or every group gets 0: nobody getting anything is not fairness.
pub fn jain(xs: &[f64]) -> Option<f64> {
    let sum: f64 = xs.iter().sum();
    if xs.is_empty() || sum == 0.0 {
        return None;
    }
    let sq: f64 = xs.iter().map(|x| x * x).sum();
    Some(sum * sum / (xs.len() as f64 * sq))
}

fn met(job: &Job, rec: &JobRecord) -> bool {
    job.deadline.is_some() && matches!(rec.state, JobState::Done(Outcome::Completed { .. }))
}

impl Report {
    /// Builds the report of a finished simulation.
    pub fn new(scenario: &str, sim: &SimResult, skipped_rows: usize) -> Report {
        let e = &sim.engine;
        let mut counts = JobCounts { total: e.jobs().len(), ..Default::default() };
        let mut groups: BTreeMap<String, (GroupReport, usize, usize)> = BTreeMap::new();
        let mut waits = Vec::new();
        let mut bsld = Vec::new();
        let mut by_hour: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
        let mut reasons: BTreeMap<(String, String), usize> = BTreeMap::new();
        let (mut with_deadline, mut on_time) = (0usize, 0usize);
        for (i, (job, rec)) in e.jobs().iter().zip(e.records()).enumerate() {
            let status = Status::of(rec);
            let g = &mut groups.entry(e.symbols().name(job.group).to_owned()).or_default();
            g.0.total += 1;
            match status {
                Status::Completed => {
                    counts.completed += 1;
                    g.0.completed += 1
                }
                Status::Missed => {
                    counts.missed += 1;
                    g.0.missed += 1
                }
                Status::Rejected => {
                    counts.rejected += 1;
                    g.0.rejected += 1
                }
                Status::Lost => {
                    counts.lost += 1;
                    g.0.lost += 1
                }
                Status::Pending => {
                    counts.pending += 1;
                    g.0.pending += 1
                }
                Status::Running => {
                    counts.running += 1;
                    g.0.pending += 1
                }
            }
            if matches!(status, Status::Rejected | Status::Pending) {
                let line = explain_outcome(e, i as kairos_model::JobId);
                *reasons.entry((status.as_str().to_owned(), line)).or_default() += 1;
            }
            if job.deadline.is_some() {
                let ok = met(job, rec);
                with_deadline += 1;
                on_time += ok as usize;
                g.1 += 1;
                g.2 += ok as usize;
                let h = by_hour.entry(job.release.div_euclid(3600)).or_default();
                h.0 += 1;
                h.1 += ok as usize;
            }
            if let Some(s) = rec.first_start {
                waits.push((s - job.release) as f64);
            }
            if let JobState::Done(
                Outcome::Completed { end, .. } | Outcome::Missed { why: Miss::Late { end, .. }, .. },
            ) = rec.state
            {
                let run = sim.durations[i] as f64;
                bsld.push((((end - job.release) as f64) / run.max(SLOWDOWN_TAU_S)).max(1.0));
            }
        }
        let share = |n: usize, d: usize| if d > 0 { Some(n as f64 / d as f64) } else { None };
        let groups: BTreeMap<String, GroupReport> = groups
            .into_iter()
            .map(|(k, (mut g, d, ok))| {
                g.compliance = share(ok, d);
                (k, g)
            })
            .collect();
        let compliances: Vec<f64> = groups.values().filter_map(|g| g.compliance).collect();
        waits.sort_by(f64::total_cmp);
        let mean = |v: &[f64]| if v.is_empty() { 0.0 } else { v.iter().sum::<f64>() / v.len() as f64 };
        // Peak: the top quarter of hours by deadline jobs released.
        let mut hours: Vec<(i64, (usize, usize))> = by_hour.into_iter().collect();
        hours.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
        let take = ((hours.len() as f64 * PEAK_SHARE).ceil() as usize).min(hours.len());
        let mut peak_hours: Vec<(i64, (usize, usize))> = hours.into_iter().take(take).collect();
        peak_hours.sort_by_key(|h| h.0);
        let (pj, pok) = peak_hours.iter().fold((0, 0), |a, h| (a.0 + h.1 .0, a.1 + h.1 .1));
        let stats = e.stats();
        let health = e.plugin_health();
        let util = e.meter().utilization();
        let mut reasons: Vec<ReasonLine> =
            reasons.into_iter().map(|((status, reason), jobs)| ReasonLine { status, reason, jobs }).collect();
        reasons.sort_by(|a, b| b.jobs.cmp(&a.jobs).then_with(|| a.reason.cmp(&b.reason)));
        reasons.truncate(10);
        Report {
            scenario: scenario.to_owned(),
            pipeline: e.pipeline().name.clone(),
            jobs: counts,
            deadline_compliance: share(on_time, with_deadline),
            jain_fairness: jain(&compliances),
            groups,
            utilization: e.resources().names().iter().cloned().zip(util).collect(),
            wait_s: Percentiles {
                mean: mean(&waits),
                p50: percentile(&waits, 50.0),
                p95: percentile(&waits, 95.0),
                p99: percentile(&waits, 99.0),
            },
            bounded_slowdown: Mean { mean: mean(&bsld) },
            peak: Peak {
                hours: peak_hours.iter().map(|h| h.0).collect(),
                jobs: pj,
                missed: pj - pok,
                compliance: share(pok, pj),
            },
            scheduler: SchedulerStats {
                decisions: stats.decisions,
                quick_skips: stats.quick_skips,
                placements: stats.placements,
                cycles: stats.cycles,
                wall_s: sim.wall_s,
                decisions_per_s: if sim.wall_s > 0.0 { stats.decisions as f64 / sim.wall_s } else { 0.0 },
                architecture: match e.pipeline().architecture {
                    Architecture::Centralized => None,
                    a => Some(ArchitectureStats {
                        kind: a.kind().to_owned(),
                        label: a.label(),
                        workers: e.partitions().map_or(a.workers(), |p| p.names.len()),
                        parallel_cycles: stats.parallel_cycles,
                        commits: stats.commits,
                        conflicts: stats.conflicts,
                        conflict_rate: if stats.commits > 0 {
                            stats.conflicts as f64 / stats.commits as f64
                        } else {
                            0.0
                        },
                        retries: stats.retries,
                        revalidated: stats.revalidated,
                        steals: stats.steals,
                        sample_fallbacks: stats.sample_fallbacks,
                    }),
                },
            },
            moves: Moves {
                migrations: stats.migrations,
                evictions: stats.evictions,
                node_failures: stats.node_failures_stopped,
                lost: stats.lost,
                refused: stats.moves_refused,
            },
            span_s: Span { start: sim.span.0, end: sim.span.1 },
            reasons,
            skipped_rows,
            script_errors: health.scripts.iter().map(|(k, h)| (k.clone(), h.errors)).collect(),
            script_calls: health.scripts.iter().map(|(k, h)| (k.clone(), h.calls)).collect(),
            native_errors: health.natives.iter().map(|(k, h)| (k.clone(), h.errors)).collect(),
            native_calls: health.natives.iter().map(|(k, h)| (k.clone(), h.calls)).collect(),
            failures: health
                .scripts
                .iter()
                .map(|(k, h)| (k, FailureReport::of("script", h), h.troubled()))
                .chain(health.natives.iter().map(|(k, h)| (k, FailureReport::of("native", h), h.troubled())))
                .filter(|(_, _, troubled)| *troubled)
                .map(|(k, f, _)| (k.clone(), f))
                .collect(),
            script_output: health.printed.iter().filter(|(_, &n)| n > 0).map(|(k, &n)| (k.clone(), n)).collect(),
            partitions: e.partitions().map(|p| {
                let name = |i: u16| e.symbols().name(p.names[i as usize]).to_owned();
                let counts: Vec<_> = p.counts().map(|(n, c)| (e.symbols().name(n).to_owned(), c.clone())).collect();
                PartitionsReport {
                    budget: p.stats.clone(),
                    outages: p
                        .outages()
                        .iter()
                        .map(|o| OutageReport {
                            partition: name(o.partition),
                            down_at: o.down_at,
                            up_at: o.up_at,
                            nodes_down: o.nodes_down,
                            nodes: counts[o.partition as usize].1.nodes,
                            displaced: o.displaced,
                            lost: o.lost,
                            absorbed_by: o.absorbed_by.iter().map(|(&q, &n)| (name(q), n)).collect(),
                            first_absorbed_at: o.first_absorbed_at,
                            recovered_at: o.recovered_at,
                            recovery_s: o.recovered_at.map(|r| r - o.down_at),
                            missed: o.missed.iter().map(|&(j, at)| (e.jobs()[j as usize].id.clone(), at)).collect(),
                        })
                        .collect(),
                    partitions: counts.into_iter().collect(),
                }
            }),
        }
    }

    /// The report for people.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let pct = |x: Option<f64>| x.map_or("—".to_owned(), |v| format!("{:.2}%", v * 100.0));
        let _ = writeln!(s, "scenario  {}", self.scenario);
        let _ = writeln!(s, "pipeline  {}", self.pipeline);
        let _ = writeln!(
            s,
            "span      {} (t={}..{})",
            fmt_duration(self.span_s.end - self.span_s.start),
            self.span_s.start,
            self.span_s.end
        );
        let j = &self.jobs;
        let _ = writeln!(
            s,
            "\njobs      {} total: {} completed, {} missed, {} rejected, {} lost, {} pending, {} running",
            j.total, j.completed, j.missed, j.rejected, j.lost, j.pending, j.running
        );
        if self.skipped_rows > 0 {
            let _ = writeln!(s, "          {} trace rows skipped (see `kairos check`)", self.skipped_rows);
        }
        let _ = writeln!(s, "deadlines {} met", pct(self.deadline_compliance));
        let _ = writeln!(
            s,
            "peak      {} met in the {} ({} of {} missed)",
            pct(self.peak.compliance),
            if self.peak.hours.len() == 1 {
                "busiest hour".to_owned()
            } else {
                format!("{} busiest hours", self.peak.hours.len())
            },
            self.peak.missed,
            self.peak.jobs
        );
        let _ = writeln!(
            s,
            "fairness  Jain {} over {} groups",
            self.jain_fairness.map_or("—".into(), |x| format!("{x:.4}")),
            self.groups.len()
        );
        // The `lost` column appears when a job was lost.
        let lost = |n: usize| if j.lost > 0 { format!(" {n:>5}") } else { String::new() };
        let _ = writeln!(
            s,
            "\n{:<20} {:>7} {:>9} {:>7} {:>8}{} {:>7} {:>10}",
            "group",
            "jobs",
            "completed",
            "missed",
            "rejected",
            if j.lost > 0 { "  lost" } else { "" },
            "pending",
            "compliance"
        );
        for (name, g) in self.groups.iter().take(MAX_GROUP_ROWS) {
            let _ = writeln!(
                s,
                "{:<20} {:>7} {:>9} {:>7} {:>8}{} {:>7} {:>10}",
                name,
                g.total,
                g.completed,
                g.missed,
                g.rejected,
                lost(g.lost),
                g.pending,
                pct(g.compliance)
            );
        }
        if self.groups.len() > MAX_GROUP_ROWS {
            let _ = writeln!(s, "… {} more groups (see --json)", self.groups.len() - MAX_GROUP_ROWS);
        }
        let _ = writeln!(
            s,
            "\nwait      mean {:.1}s  p50 {:.0}s  p95 {:.0}s  p99 {:.0}s",
            self.wait_s.mean, self.wait_s.p50, self.wait_s.p95, self.wait_s.p99
        );
        let _ = writeln!(s, "slowdown  bounded (τ=10s) mean {:.2}", self.bounded_slowdown.mean);
        let util: Vec<String> = self.utilization.iter().map(|(k, v)| format!("{k} {:.1}%", v * 100.0)).collect();
        let _ = writeln!(s, "use       {}", util.join("  "));
        let m = &self.moves;
        if m.migrations + m.evictions + m.node_failures + m.refused > 0 {
            let _ = writeln!(
                s,
                "moves     {} migrations, {} evictions, {} runs stopped by node failures ({} restarted, {} lost), {} refused",
                m.migrations,
                m.evictions,
                m.node_failures,
                m.node_failures - m.lost,
                m.lost,
                m.refused
            );
        }
        let c = &self.scheduler;
        let _ = writeln!(
            s,
            "scheduler {} decisions ({} settled by the capacity bound), {} placements, {} cycles",
            c.decisions, c.quick_skips, c.placements, c.cycles
        );
        if let Some(a) = &c.architecture {
            if a.kind == "sampled" {
                let _ = writeln!(s, "          {}: {} decisions fell back to a full scan", a.label, a.sample_fallbacks);
            } else if a.kind == "partitioned" {
                let _ = writeln!(s, "          {} (see partitions below)", a.label);
            } else {
                let _ = writeln!(
                    s,
                    "          {}: {} commits, {} conflicts ({:.2}%), {} re-decided, {} revalidated, {} steals, {} parallel cycles",
                    a.label,
                    a.commits,
                    a.conflicts,
                    a.conflict_rate * 100.0,
                    a.retries,
                    a.revalidated,
                    a.steals,
                    a.parallel_cycles
                );
            }
        }
        if let Some(p) = &self.partitions {
            render_partitions(&mut s, p);
        }
        for (label, kind, errors) in
            [("scripts", "script", &self.script_errors), ("native", "native", &self.native_errors)]
        {
            let failed: Vec<String> = errors
                .iter()
                .filter(|(_, &n)| n > 0)
                .map(|(k, n)| {
                    let watchdog = self.failures.get(k).map_or(0, |f| f.watchdog);
                    if watchdog > 0 {
                        format!("{k}: {n} failed calls ({watchdog} ended by the wall-clock watchdog)")
                    } else {
                        format!("{k}: {n} failed calls")
                    }
                })
                .collect();
            if !failed.is_empty() {
                let _ = writeln!(s, "{label:<9} {}", failed.join(", "));
            }
            for (k, f) in self.failures.iter().filter(|(_, f)| f.kind == kind) {
                if let Some(e) = &f.first_error {
                    let _ = writeln!(s, "          {k}: first error ({}): {e}", e.about());
                }
                for q in &f.quarantined {
                    let _ = writeln!(
                        s,
                        "          {k}: quarantined at t={}s (revision {}) after {} failed calls in a row, the last: {}",
                        q.time, q.revision, q.after, q.error.message
                    );
                }
                if f.skipped > 0 {
                    let _ = writeln!(
                        s,
                        "          {k}: {} calls not made while quarantined (its on_error applied); a reload lifts it",
                        f.skipped
                    );
                }
            }
        }
        if !self.script_output.is_empty() {
            let printed: Vec<String> = self.script_output.iter().map(|(k, n)| format!("{k}: {n} lines")).collect();
            let _ = writeln!(s, "printed   {} (shown by `kairos explain` and `kairos run --live`)", printed.join(", "));
        }
        if !self.reasons.is_empty() {
            let _ = writeln!(s, "\nwhy jobs did not run:");
            for r in &self.reasons {
                let _ = writeln!(s, "  {:>5} {:<8} {}", r.jobs, r.status, r.reason);
            }
        }
        s
    }
}

/// The partitions section of the text report.
fn render_partitions(s: &mut String, p: &PartitionsReport) {
    let b = &p.budget;
    let _ = writeln!(
        s,
        "\npartitions {} budget rounds: {} grants, {} reservations reclaimed, {} leaks repaired",
        b.rounds, b.grants, b.reclaimed, b.leaks_repaired
    );
    let _ = writeln!(
        s,
        "{:<20} {:>6} {:>7} {:>9} {:>9} {:>8}",
        "partition", "nodes", "jobs", "at home", "abroad", "hosted"
    );
    for (name, c) in &p.partitions {
        let _ = writeln!(
            s,
            "{name:<20} {:>6} {:>7} {:>9} {:>9} {:>8}",
            c.nodes, c.jobs, c.placed_home, c.placed_abroad, c.hosted
        );
    }
    for o in &p.outages {
        let until = o.up_at.map_or("the end".to_owned(), |t| format!("t={t}s"));
        let _ = writeln!(
            s,
            "outage    {}: {} of {} nodes down from t={}s to {}; {} running jobs stopped ({} lost)",
            o.partition, o.nodes_down, o.nodes, o.down_at, until, o.displaced, o.lost
        );
        let absorbed: u32 = o.absorbed_by.values().sum();
        let by: Vec<String> = o.absorbed_by.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let first = o
            .first_absorbed_at
            .map_or(String::new(), |t| format!(", the first {} after the failure", fmt_duration(t - o.down_at)));
        let _ = writeln!(
            s,
            "          absorbed abroad: {absorbed} placements{}{first}",
            if by.is_empty() { String::new() } else { format!(" ({})", by.join(", ")) }
        );
        let recovered = match o.recovery_s {
            Some(r) => {
                format!("the last of the stopped jobs ran again (or ended) {} after the failure", fmt_duration(r))
            }
            None => "stopped jobs still waiting at the end".to_owned(),
        };
        let named: Vec<String> = o.missed.iter().take(MISSED_NAMED).map(|(j, at)| format!("{j} at t={at}s")).collect();
        let more = o.missed.len().saturating_sub(MISSED_NAMED);
        let _ = writeln!(
            s,
            "          recovery: {recovered}; {} of its jobs released before the outage ended missed their deadlines{}{}",
            o.missed.len(),
            if named.is_empty() { String::new() } else { format!(": {}", named.join(", ")) },
            if more > 0 { format!(" and {more} more") } else { String::new() }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jain_is_one_when_equal_and_one_over_n_when_one_takes_all() {
        let cases: [(&str, &[f64], Option<f64>); 4] = [
            ("equal shares are perfectly fair", &[0.9, 0.9, 0.9], Some(1.0)),
            ("one group with everything scores 1/n", &[1.0, 0.0, 0.0, 0.0], Some(0.25)),
            ("every group getting nothing has no index, not a perfect one", &[0.0, 0.0], None),
            ("no groups, no index", &[], None),
        ];
        for (name, xs, want) in cases {
            assert_eq!(jain(xs), want, "{name}");
        }
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&[7.0], 95.0), 7.0);
        assert_eq!(percentile(&[], 95.0), 0.0);
    }
}
