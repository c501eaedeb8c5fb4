//! `kairos explain`: one job's decisions, in words and tables.

use std::fmt::Write as _;

use kairos_host::engine::{Attempt, HOST_PLUGIN};
use kairos_host::health::{FailureKind, PluginHealth};
use kairos_host::report::{explain_outcome, Status};
use kairos_host::scenario::Scenario;
use kairos_host::sim::SimResult;
use kairos_model::{fmt_duration, JobId, Reason, Time};

/// Renders the explanation of job `j` from a traced simulation.
pub fn render(sc: &Scenario, sim: &mut SimResult, j: JobId, all: bool) -> String {
    let trace = sim.engine.take_trace().unwrap_or_default();
    let e = &sim.engine;
    let job = &e.jobs()[j as usize];
    let rec = &e.records()[j as usize];
    let sy = e.symbols();
    let res = e.resources();
    let mut s = String::new();
    let request: Vec<String> =
        job.request.iter().enumerate().filter(|(_, &q)| q > 0).map(|(d, q)| format!("{}={q}", res.name(d))).collect();
    let _ = writeln!(s, "job {}", job.id);
    let _ = writeln!(
        s,
        "  tenant {}, group {}, priority class {} ({})",
        sy.name(job.tenant),
        sy.name(job.group),
        if sy.name(job.priority_class).is_empty() { "—" } else { sy.name(job.priority_class) },
        job.priority
    );
    let deadline = job
        .deadline
        .map_or("none".into(), |d| format!("{}{}", sc.clock(d), if job.hard_deadline { " (hard)" } else { " (soft)" }));
    let _ = writeln!(
        s,
        "  release {}, deadline {deadline}, estimate {}",
        sc.clock(job.release),
        fmt_duration(job.estimate)
    );
    let _ = writeln!(s, "  requests {}", if request.is_empty() { "nothing".into() } else { request.join(", ") });
    if !job.selector.is_empty() {
        let sel: Vec<String> = job.selector.iter().map(|(k, v)| format!("{}={}", sy.name(*k), sy.name(*v))).collect();
        let _ = writeln!(s, "  node selector {}", sel.join(", "));
    }
    if let Some(a) = job.after {
        let _ = writeln!(s, "  runs after {}", e.jobs()[a as usize].id);
    }
    let status = Status::of(rec);
    let why = explain_outcome(e, j);
    let _ = writeln!(
        s,
        "  outcome: {}{}",
        status.as_str(),
        if why.is_empty() { String::new() } else { format!(" — {why}") }
    );
    if let Some(start) = rec.first_start {
        let _ = writeln!(s, "  first start {} (waited {})", sc.clock(start), fmt_duration(start - job.release));
    }
    if let Some(revision) = rec.revision {
        let _ = writeln!(s, "  placed by pipeline revision {revision}");
    }
    let names = &e.nodes().names;
    for m in &rec.moves {
        let from = &names[m.from as usize];
        match (m.to, m.reason) {
            (Some(to), _) => {
                let pause = if m.pause > 0 { format!(", paused {}", fmt_duration(m.pause)) } else { String::new() };
                let _ = writeln!(
                    s,
                    "  {} migrated from {from} to {} by {}{pause}",
                    sc.clock(m.at),
                    names[to as usize],
                    m.by
                );
            }
            (None, reason) => {
                let _ = writeln!(
                    s,
                    "  {} evicted from {from} by {} ({}), queued again",
                    sc.clock(m.at),
                    m.by,
                    reason.unwrap_or("no reason")
                );
            }
        }
    }
    let health = e.plugin_health();
    calls(&mut s, sc, &health);
    if trace.attempts.is_empty() {
        let _ = writeln!(s, "\nno scheduling attempt: the job was never pending in a cycle");
        return s;
    }
    let n = trace.attempts.len();
    let _ = writeln!(s, "\n{n} attempt{} to place it", if n == 1 { "" } else { "s" });
    let shown: Vec<usize> = if all || n <= 2 { (0..n).collect() } else { vec![0, n - 1] };
    let mut last = None;
    for i in shown {
        if let Some(l) = last {
            if i > l + 1 {
                let _ = writeln!(s, "\n… {} more attempts (use --all to see them)", i - l - 1);
            }
        }
        last = Some(i);
        attempt(&mut s, sc, sim, &health, &trace.attempts[i], i + 1, i + 1 == n, j);
    }
    s
}

/// The failed calls of scripts and native plugins about the job, their
/// quarantines, and what scripts printed in calls about it.
fn calls(s: &mut String, sc: &Scenario, health: &PluginHealth) {
    let all = health
        .scripts
        .iter()
        .map(|(k, h)| (k, h, "script"))
        .chain(health.natives.iter().map(|(k, h)| (k, h, "native plugin")));
    let mut any = false;
    for (name, h, kind) in all {
        if h.followed.is_empty() && h.quarantines.is_empty() {
            continue;
        }
        if !any {
            let _ = writeln!(s, "\ncalls about this job that failed");
            any = true;
        }
        for e in &h.followed {
            let node = e.node.as_ref().map_or(String::new(), |n| format!(" on node {n}"));
            let watchdog = if e.kind == FailureKind::Watchdog { " [watchdog]" } else { "" };
            let _ = writeln!(s, "  {} {kind} {name}{node}: {e}{watchdog}", sc.clock(e.time));
        }
        for q in &h.quarantines {
            let _ = writeln!(
                s,
                "  {} {kind} {name} quarantined (revision {}) after {} failed calls in a row: not called for the rest of the revision, its on_error applied",
                sc.clock(q.time),
                q.revision,
                q.after
            );
        }
    }
    if !health.followed_lines.is_empty() {
        let _ = writeln!(s, "\nprinted by scripts about this job");
        for (name, lines) in &health.followed_lines {
            for l in lines {
                let _ = writeln!(s, "  {} {name} {l}", sc.clock(l.time));
            }
        }
    }
}

/// The error of the call of filter `plugin` about node `node` at `at`, or why
/// it was not called, if its verdict came from a failure.
fn failure(health: &PluginHealth, plugin: &str, node: &str, at: Time) -> Option<String> {
    let (_, h) = health
        .scripts
        .iter()
        .chain(&health.natives)
        .find(|(k, _)| k.as_str() == plugin || k.strip_suffix(" (filter)") == Some(plugin))?;
    if let Some(e) = h.followed.iter().find(|e| e.time == at && e.node.as_deref() == Some(node)) {
        return Some(e.to_string());
    }
    if let Some(e) = h.followed.iter().find(|e| e.time == at && e.node.is_none()) {
        return Some(e.to_string());
    }
    h.quarantines
        .iter()
        .find(|q| q.time <= at)
        .map(|q| format!("not called: quarantined since t={}s after {} failed calls in a row", q.time, q.after))
}

#[allow(clippy::too_many_arguments)] // one call site; each argument a different piece of the attempt
fn attempt(
    s: &mut String,
    sc: &Scenario,
    sim: &SimResult,
    health: &PluginHealth,
    a: &Attempt,
    number: usize,
    last: bool,
    j: JobId,
) {
    let e = &sim.engine;
    let p = e.pipeline();
    let names = &e.nodes().names;
    let _ = writeln!(s, "\nattempt {number} at {}", sc.clock(a.at));
    if a.quick_skip {
        let _ = writeln!(
            s,
            "  skipped without filtering: no up node had enough free capacity in some resource (of {} pending)",
            a.of
        );
        return;
    }
    let keys: Vec<String> = p.order.iter().zip(&a.keys).map(|(st, k)| format!("{}={}", st.name, num(*k))).collect();
    let _ = writeln!(
        s,
        "  order: {} of {} pending; keys {}",
        ordinal(a.rank),
        a.of,
        if keys.is_empty() { "(none: submission order)".into() } else { keys.join(", ") }
    );
    if let Some((ahead, k)) = &a.ahead {
        let keys: Vec<String> = p.order.iter().zip(k).map(|(st, x)| format!("{}={}", st.name, num(*x))).collect();
        let _ = writeln!(s, "         just ahead: {} (keys {})", e.jobs()[*ahead as usize].id, keys.join(", "));
    }
    let filter_name = |i: u16| if i == HOST_PLUGIN { "host".to_owned() } else { p.filter[i as usize].name.clone() };
    let reason = |r: &Reason| match r.resource {
        Some(d) => {
            format!("{} {} (requested {}, free {})", r.code, e.resources().name(d as usize), r.requested, r.free)
        }
        None => r.code.to_owned(),
    };
    let _ = writeln!(s, "  nodes: {} of {} feasible", a.scores.len(), names.len());
    let score_names: Vec<(String, f64)> = p.score.iter().map(|st| (st.name.clone(), st.weight)).collect();
    let w = names.iter().map(|n| n.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(s, "  {:<w$}  verdict", "node");
    for (n, name) in names.iter().enumerate() {
        let n = n as u32;
        let verdict = if let Some((plugin, _, r)) = a.rejected.iter().find(|(_, node, _)| *node == n) {
            let by = filter_name(*plugin);
            let failed = if matches!(r.code, "script-error" | "plugin-error") {
                failure(health, &by, name, a.at).map_or(String::new(), |e| format!(" ({e})"))
            } else {
                String::new()
            };
            format!("rejected by {by}: {}{}{failed}", reason(r), if r.unresolvable { " [never fits]" } else { "" })
        } else if let Some((_, raw, total)) = a.scores.iter().find(|(node, _, _)| *node == n) {
            let parts: Vec<String> = score_names
                .iter()
                .zip(raw)
                .map(|((nm, w), v)| {
                    if *w == 1.0 {
                        format!("{nm} {}", num(*v))
                    } else {
                        format!("{nm} {} (weight {})", num(*v), num(*w))
                    }
                })
                .collect();
            format!(
                "feasible: {}total {}{}",
                if parts.is_empty() { String::new() } else { format!("{} → ", parts.join(", ")) },
                num(*total),
                if a.chosen == Some(n) { "  ← chosen" } else { "" }
            )
        } else {
            "not evaluated".into()
        };
        let _ = writeln!(s, "  {name:<w$}  {verdict}");
    }
    match a.chosen {
        Some(n) => {
            let _ = writeln!(s, "  decision: placed on {}", names[n as usize]);
        }
        None if last && Status::of(&e.records()[j as usize]) == Status::Rejected => {
            let _ = writeln!(s, "  decision: rejected: no node can ever take it as the cluster is configured");
        }
        None => {
            let _ = writeln!(s, "  decision: not placed; it stays pending and is tried again when something changes");
        }
    }
}

fn num(x: f64) -> String {
    if x.is_infinite() {
        return if x > 0.0 { "∞".into() } else { "-∞".into() };
    }
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:.3}")
    }
}

fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
