//! `kairos explain`: one job's decisions, in words and tables.

use std::fmt::Write as _;

use kairos_host::engine::{Attempt, HOST_PLUGIN};
use kairos_host::report::{explain_outcome, Status};
use kairos_host::scenario::Scenario;
use kairos_host::sim::SimResult;
use kairos_model::{fmt_duration, JobId, Reason};

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
        attempt(&mut s, sc, sim, &trace.attempts[i], i + 1, i + 1 == n, j);
    }
    s
}

fn attempt(s: &mut String, sc: &Scenario, sim: &SimResult, a: &Attempt, number: usize, last: bool, j: JobId) {
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
            format!(
                "rejected by {}: {}{}",
                filter_name(*plugin),
                reason(r),
                if r.unresolvable { " [never fits]" } else { "" }
            )
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
