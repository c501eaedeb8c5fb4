//! Output for people: progress bars and the side-by-side comparison.

use std::fmt::Write as _;

use indicatif::{ProgressBar, ProgressStyle};
use kairos_host::report::Report;

/// Jobs above which a run shows a progress bar (on a terminal).
const PROGRESS_MIN_JOBS: usize = 20_000;

/// A progress bar over `total` jobs on stderr, hidden for small runs, when
/// `quiet`, or when stderr is not a terminal.
pub fn progress(total: usize, quiet: bool) -> ProgressBar {
    if quiet || total < PROGRESS_MIN_JOBS {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} jobs settled")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar
}

/// Groups beyond which per-group rows are left to `--json`.
const MAX_GROUP_ROWS: usize = 12;

fn pct(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| format!("{:.2}%", v * 100.0))
}

/// Reports side by side, one column per run, headed by `names`.
pub fn compare(scenario: &str, names: &[String], reports: &[Report]) -> String {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row =
        |name: &str, f: &dyn Fn(&Report) -> String| rows.push((name.to_owned(), reports.iter().map(f).collect()));
    row("jobs", &|r| r.jobs.total.to_string());
    row("completed", &|r| r.jobs.completed.to_string());
    row("missed", &|r| r.jobs.missed.to_string());
    row("rejected", &|r| r.jobs.rejected.to_string());
    if reports.iter().any(|r| r.jobs.lost > 0) {
        row("lost", &|r| r.jobs.lost.to_string());
    }
    row("pending", &|r| r.jobs.pending.to_string());
    row("deadline compliance", &|r| pct(r.deadline_compliance));
    row("peak-hour compliance", &|r| pct(r.peak.compliance));
    row("peak-hour missed", &|r| format!("{} of {}", r.peak.missed, r.peak.jobs));
    row("Jain fairness (groups)", &|r| r.jain_fairness.map_or("—".into(), |x| format!("{x:.4}")));
    let groups: std::collections::BTreeSet<&String> = reports.iter().flat_map(|r| r.groups.keys()).collect();
    if groups.len() <= MAX_GROUP_ROWS {
        for g in groups {
            row(&format!("  {g}"), &|r| r.groups.get(g).map_or("—".into(), |x| pct(x.compliance)));
        }
    } else {
        row(&format!("  ({} groups: see --json)", groups.len()), &|_| String::new());
    }
    row("wait mean", &|r| format!("{:.1}s", r.wait_s.mean));
    row("wait p95", &|r| format!("{:.0}s", r.wait_s.p95));
    row("bounded slowdown", &|r| format!("{:.2}", r.bounded_slowdown.mean));
    let resources: std::collections::BTreeSet<&String> = reports.iter().flat_map(|r| r.utilization.keys()).collect();
    for res in resources {
        row(&format!("use {res}"), &|r| r.utilization.get(res).map_or("—".into(), |u| format!("{:.1}%", u * 100.0)));
    }
    row("decisions", &|r| r.scheduler.decisions.to_string());
    row("decisions/s", &|r| format!("{:.0}", r.scheduler.decisions_per_s));
    // Coordination rows only when some run is not centralized, so the
    // comparison of centralized pipelines reads as it always did.
    if reports.iter().any(|r| r.scheduler.architecture.is_some()) {
        let arch = |r: &Report| r.scheduler.architecture.clone();
        row("architecture", &|r| arch(r).map_or("centralized".into(), |a| a.label));
        row("workers", &|r| arch(r).map_or("1".into(), |a| a.workers.to_string()));
        row("conflict rate", &|r| arch(r).map_or("—".into(), |a| format!("{:.2}%", a.conflict_rate * 100.0)));
        row("conflicts re-decided", &|r| arch(r).map_or("—".into(), |a| a.retries.to_string()));
        row("steals", &|r| arch(r).map_or("—".into(), |a| a.steals.to_string()));
        row("sample fall-backs", &|r| arch(r).map_or("—".into(), |a| a.sample_fallbacks.to_string()));
    }
    // Partition rows only when some run is partitioned.
    if reports.iter().any(|r| r.partitions.is_some()) {
        row("placed abroad", &|r| {
            r.partitions
                .as_ref()
                .map_or("—".into(), |p| p.partitions.values().map(|c| c.placed_abroad).sum::<u64>().to_string())
        });
        row("budget grants", &|r| r.partitions.as_ref().map_or("—".into(), |p| p.budget.grants.to_string()));
        row("longest recovery", &|r| {
            r.partitions.as_ref().map_or("—".into(), |p| {
                let waiting = p.outages.iter().any(|o| o.recovery_s.is_none());
                match p.outages.iter().filter_map(|o| o.recovery_s).max() {
                    _ if waiting => "not recovered".into(),
                    Some(s) => kairos_model::fmt_duration(s),
                    None => "no outage".into(),
                }
            })
        });
    }
    let w0 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0).max(8);
    let widths: Vec<usize> = (0..reports.len())
        .map(|i| rows.iter().map(|r| r.1[i].chars().count()).chain([names[i].chars().count()]).max().unwrap_or(0))
        .collect();
    let mut s = format!("scenario {scenario}\n\n");
    let _ = write!(s, "{:<w0$}", "");
    for (n, w) in names.iter().zip(&widths) {
        let _ = write!(s, "  {n:>w$}");
    }
    s.push('\n');
    for (name, cells) in rows {
        let _ = write!(s, "{name:<w0$}");
        for (c, w) in cells.iter().zip(&widths) {
            let _ = write!(s, "  {c:>w$}");
        }
        s.push('\n');
    }
    s
}
