//! The project's own YAML workload format.
//!
//! ```yaml
//! jobs:
//!   - id: pass-1
//!     tenant: noaa
//!     priority: critical        # a priority class of the cluster, or an integer
//!     release: 0                # seconds
//!     deadline: 600
//!     hard: true
//!     duration: 540             # actual run time, seconds (> 0)
//!     estimate: 540             # what the scheduler sees; default: duration
//!     request: { antenna: 1 }
//!     selector: { station: Kiruna-Esrange, band: X }
//!     tolerations: [ { key: role, value: antenna }, { key: maintenance } ]
//!     labels: { kind: pass }
//!   - id: process-1
//!     release: 600
//!     duration: 1200
//!     after: pass-1             # an earlier job's id
//!     restartable: false        # lost, not restarted, if its node fails (default: true)
//! ```
//!
//! The fields and defaults are those of the [CSV format](super::csv); unknown
//! fields are errors. Every error names the line and column of the field.

use std::path::Path;

use kairos_model::{Qty, Time};
use serde::Deserialize;

use super::{build, finish, Errors, Field, RawJob, Row, Workload};
use crate::cluster::{Cluster, Entries};
use crate::error::Error;
use crate::yaml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    jobs: Vec<JobEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobEntry {
    id: Spanned<String>,
    #[serde(default)]
    tenant: Option<Spanned<String>>,
    #[serde(default)]
    group: Option<Spanned<String>>,
    #[serde(default)]
    priority: Option<Spanned<String>>,
    release: Spanned<Time>,
    #[serde(default)]
    deadline: Option<Spanned<Time>>,
    #[serde(default)]
    hard: Option<Spanned<bool>>,
    duration: Spanned<Time>,
    #[serde(default)]
    estimate: Option<Spanned<Time>>,
    #[serde(default)]
    request: Entries<Qty>,
    #[serde(default)]
    selector: Entries<String>,
    #[serde(default)]
    tolerations: Vec<TolerationEntry>,
    #[serde(default)]
    labels: Entries<String>,
    #[serde(default)]
    after: Option<Spanned<String>>,
    #[serde(default)]
    restartable: Option<Spanned<bool>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TolerationEntry {
    key: Spanned<String>,
    #[serde(default)]
    value: Option<String>,
}

/// Reads the YAML workload `text` of file `path` against `cluster`.
pub fn parse(path: &Path, text: &str, cluster: &mut Cluster) -> Result<Workload, Error> {
    let file: File = crate::yaml::parse(path, text)?;
    let mut errors = Errors::new(path, text);
    let rows = file.jobs.into_iter().map(|j| Row::Job(Box::new(raw(j)))).collect();
    let jobs = build(rows, cluster, &mut errors);
    finish(path, jobs, Vec::new(), Vec::new(), errors)
}

fn raw(j: JobEntry) -> RawJob {
    let opt = |s: &Option<Spanned<String>>| s.as_ref().map(Field::from);
    let pairs = |e: &Entries<String>| e.0.iter().map(|(k, v)| (Field::from(k), v.value.clone())).collect();
    RawJob {
        id: Field::from(&j.id),
        tenant: opt(&j.tenant),
        group: opt(&j.group),
        priority: opt(&j.priority),
        release: Field::from(&j.release),
        deadline: j.deadline.as_ref().map(Field::from),
        hard: j.hard.as_ref().map(Field::from),
        duration: Field::from(&j.duration),
        estimate: j.estimate.as_ref().map(Field::from),
        request: j.request.0.iter().map(|(k, v)| (Field::from(k), v.value)).collect(),
        selector: pairs(&j.selector),
        tolerations: j.tolerations.iter().map(|t| (Field::from(&t.key), t.value.clone())).collect(),
        labels: pairs(&j.labels),
        after: opt(&j.after),
        restartable: j.restartable.as_ref().map(Field::from),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_cases, cluster, messages};
    use super::*;

    fn parse_yaml(text: &str) -> Result<Workload, Error> {
        parse(Path::new("jobs.yaml"), text, &mut cluster())
    }

    fn errors_of(text: &str) -> Vec<String> {
        messages(&parse_yaml(text).expect_err("the workload should be refused"))
    }

    #[test]
    fn a_minimal_job_needs_only_id_release_and_duration() {
        let mut c = cluster();
        let w = parse(Path::new("jobs.yaml"), "jobs:\n  - { id: 7, release: 0, duration: 30 }\n", &mut c).unwrap();
        let j = &w.jobs[0].job;
        assert_eq!((j.id.as_str(), j.estimate, j.priority), ("7", 30, 0));
        assert_eq!(c.symbols.name(j.tenant), "default");
    }

    #[test]
    fn an_integer_priority_needs_no_class() {
        let w = parse_yaml("jobs:\n  - { id: a, release: 0, duration: 30, priority: 42 }\n").unwrap();
        assert_eq!((w.jobs[0].job.priority, w.jobs[0].job.priority_class), (42, kairos_model::Symbols::EMPTY));
    }

    #[test]
    fn every_bad_yaml_job_is_refused_with_line_and_column() {
        let cases = [
            ("no jobs", "jobs: []\n", vec!["jobs.yaml: no jobs"]),
            (
                "an unknown field",
                "jobs:\n  - id: a\n    release: 0\n    duration: 5\n    prio: 3\n",
                vec!["jobs.yaml:5:5: unknown field `prio`, expected one of id, tenant, group, priority, release, deadline, hard, duration, estimate, request, selector, tolerations, labels, after, restartable"],
            ),
            ("a missing duration", "jobs:\n  - id: a\n    release: 0\n", vec!["jobs.yaml:3:5: missing field `duration`"]),
            (
                "a duplicate id",
                "jobs:\n  - { id: a, release: 0, duration: 5 }\n  - { id: a, release: 0, duration: 5 }\n",
                vec!["jobs.yaml:3:11: duplicate job id `a` (first at 2:11)"],
            ),
            (
                "a negative duration",
                "jobs:\n  - id: a\n    release: 0\n    duration: -5\n",
                vec!["jobs.yaml:4:15: duration must be > 0 s, got -5"],
            ),
            (
                "a zero estimate",
                "jobs:\n  - { id: a, release: 0, duration: 5, estimate: 0 }\n",
                vec!["jobs.yaml:2:49: estimate must be > 0 s, got 0"],
            ),
            (
                "a deadline before release",
                "jobs:\n  - { id: a, release: 200, duration: 5, deadline: 100 }\n",
                vec!["jobs.yaml:2:51: deadline 100 is before release 200"],
            ),
            (
                "a resource the cluster does not declare",
                "jobs:\n  - id: a\n    release: 0\n    duration: 5\n    request: { cpu: 1, gpu: 1 }\n",
                vec!["jobs.yaml:5:24: unknown resource `gpu` in request; the cluster declares: antenna, cpu, memory"],
            ),
            (
                "a priority class the cluster does not declare",
                "jobs:\n  - { id: a, release: 0, duration: 5, priority: urgent }\n",
                vec!["jobs.yaml:2:49: unknown priority class `urgent`; the cluster declares: critical, high, normal (or give an integer priority)"],
            ),
            (
                "an after reference to an unknown job",
                "jobs:\n  - { id: a, release: 0, duration: 5, after: zz }\n",
                vec!["jobs.yaml:2:46: `after` names unknown job `zz`"],
            ),
            (
                "an after reference to a later job",
                "jobs:\n  - { id: a, release: 0, duration: 5, after: b }\n  - { id: b, release: 0, duration: 5 }\n",
                vec!["jobs.yaml:2:46: `after` names job `b`, which comes later (at 3:11); a job can only wait for an earlier one"],
            ),
            (
                "a toleration with an unknown field",
                "jobs:\n  - { id: a, release: 0, duration: 5, tolerations: [ { key: k, effect: NoSchedule } ] }\n",
                vec!["jobs.yaml:2:64: unknown field `effect`, expected one of key, value"],
            ),
            (
                "a negative quantity",
                "jobs:\n  - { id: a, release: 0, duration: 5, request: { cpu: -1 } }\n",
                vec!["jobs.yaml:2:55: expected a whole number ≥ 0, got `-1`"],
            ),
        ];
        assert_cases(cases.into_iter().map(|(case, text, want)| (case, errors_of(text), want)));
    }

    #[test]
    fn an_unknown_resource_renders_with_a_snippet() {
        let text = "jobs:\n  - id: a\n    release: 0\n    duration: 5\n    request: { gpu: 1 }\n";
        insta::assert_snapshot!(parse_yaml(text).unwrap_err().to_string(), @r"
        jobs.yaml:5:16: unknown resource `gpu` in request; the cluster declares: antenna, cpu, memory
         --> jobs.yaml:5:16
          |
        3 |     release: 0
        4 |     duration: 5
        5 |     request: { gpu: 1 }
          |                ^ unknown resource `gpu` in request; the cluster declares: antenna, cpu, memory
        ");
    }
}
