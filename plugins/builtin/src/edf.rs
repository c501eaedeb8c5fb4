//! `edf` (order): earliest deadline first.
//!
//! The key is the job's deadline (`by: deadline`, the default) or its latest
//! start, `deadline - estimate` (`by: latest_start`): the job with the least
//! slack goes first, in the spirit of least-laxity scheduling, so a long job due
//! at noon goes before a short one due at noon.
//!
//! Under overload plain EDF is known to fail badly: every job runs a little late
//! (the "domino effect"). With `late: last`, a job that can no longer meet its
//! deadline (`now + estimate > deadline`) goes after every job that still can,
//! so the work that can still be saved is served first; late jobs keep EDF
//! order among themselves. The default, `late: keep`, is classic EDF.
//!
//! Jobs without a deadline go after every job with one (`no_deadline: last`, the
//! default) or before (`first`). Their key is then `f64::MAX` (or `f64::MIN`)
//! rather than an infinity: the order contract asks for finite keys, and no
//! deadline on the `i64` time axis comes near either bound.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{ArgsError, Built, Context, ExtensionPoint, Job, OrderKey, OrderPlugin, PluginResult, PluginSpec};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Name in pipeline files.
pub const NAME: &str = "edf";

/// What the key is measured by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum By {
    /// The deadline itself.
    #[default]
    Deadline,
    /// The latest start that still meets the deadline: `deadline - estimate`.
    LatestStart,
}

/// Where jobs without a deadline go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoDeadline {
    /// After every job with a deadline.
    #[default]
    Last,
    /// Before every job with a deadline.
    First,
}

/// What happens to a job that can no longer meet its deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Late {
    /// Classic EDF: it keeps its place.
    #[default]
    Keep,
    /// It goes after every job that can still meet its deadline.
    Last,
}

/// Offset added to the key of a job that can no longer meet its deadline under
/// `late: last`: larger than any time on the axis (about 31 million years in
/// seconds), and small enough that `offset + time` stays an exact `f64`.
const LATE_OFFSET: f64 = 1e15;

/// Arguments of `edf`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct EdfConfig {
    /// `deadline` (default) or `latest_start` (deadline minus estimate).
    pub by: By,
    /// `last` (default) or `first`: where jobs without a deadline go.
    pub no_deadline: NoDeadline,
    /// `keep` (default, classic EDF) or `last`: where jobs that can no longer
    /// meet their deadline go.
    pub late: Late,
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Order,
        summary: "earliest deadline (or latest start) first",
        args_schema: schema_of::<EdfConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: EdfConfig = typed_args(args)?;
    let none = match c.no_deadline {
        NoDeadline::Last => f64::MAX,
        NoDeadline::First => f64::MIN,
    };
    Ok(Built::Order(Box::new(Edf { by: c.by, none, late: c.late })))
}

/// Orders jobs by deadline or latest start.
#[derive(Debug)]
pub struct Edf {
    by: By,
    /// Key of a job without a deadline.
    none: OrderKey,
    /// Where hopeless jobs go.
    late: Late,
}

impl OrderPlugin for Edf {
    fn keys(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        for (key, job) in keys.iter_mut().zip(jobs) {
            let t = match self.by {
                By::Deadline => job.deadline,
                By::LatestStart => job.latest_start(),
            };
            let hopeless = self.late == Late::Last && job.deadline.is_some_and(|d| cx.now + job.estimate > d);
            *key = t.map_or(self.none, |t| if hopeless { LATE_OFFSET + t as f64 } else { t as f64 });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testutil::{job, ranked, Fixture, JobDef};

    /// Job 0: due at 1000, 100 s long. Job 1: due at 900, 10 s long. Job 2: no
    /// deadline. Job 3: due at 1050, 500 s long.
    fn jobs() -> [JobDef; 4] {
        [
            job(&[1, 1]).deadline(1000).estimate(100),
            job(&[1, 1]).deadline(900).estimate(10),
            job(&[1, 1]).estimate(10),
            job(&[1, 1]).deadline(1050).estimate(500),
        ]
    }

    #[test]
    fn with_late_last_jobs_that_can_no_longer_make_it_go_after_those_that_can() {
        // At t=950: job 1 (due 900) is already late; job 0 (due 1000, 100 s
        // long) cannot finish in time either; job 3 (due 1050, 500 s) neither.
        let cases = [
            ("classic EDF keeps the late jobs first", json!(null), [1, 0, 3, 2]),
            ("late: last serves hopeless jobs after the rest, in EDF order", json!({"late": "last"}), [2, 1, 0, 3]),
        ];
        for (name, args, want) in cases {
            let mut fx = Fixture::cpu_mem().at(950);
            let mut defs = jobs();
            defs[2] = job(&[1, 1]).deadline(2000).estimate(10);
            let jobs = defs.map(|j| fx.job(j));
            let keys = fx.order(spec(), args, &jobs);
            assert_eq!(ranked(&keys), want, "{name}");
        }
    }

    #[test]
    fn the_most_urgent_job_goes_first() {
        let cases = [
            ("by default the earliest deadline goes first and no deadline goes last", json!(null), [1, 0, 3, 2]),
            ("jobs without a deadline can go first", json!({"no_deadline": "first"}), [2, 1, 0, 3]),
            ("by latest start a long job due later can go first", json!({"by": "latest_start"}), [3, 1, 0, 2]),
            (
                "latest start with no deadline first",
                json!({"by": "latest_start", "no_deadline": "first"}),
                [2, 3, 1, 0],
            ),
        ];
        for (name, args, want) in cases {
            let mut fx = Fixture::cpu_mem();
            let jobs = jobs().map(|j| fx.job(j));
            let keys = fx.order(spec(), args, &jobs);
            assert_eq!(ranked(&keys), want, "{name}");
        }
    }

    #[test]
    fn keys_are_the_deadline_or_the_latest_start() {
        let mut fx = Fixture::cpu_mem();
        let jobs = jobs().map(|j| fx.job(j));
        assert_eq!(fx.order(spec(), json!(null), &jobs), [1000.0, 900.0, f64::MAX, 1050.0]);
        assert_eq!(fx.order(spec(), json!({"by": "latest_start"}), &jobs), [900.0, 890.0, f64::MAX, 550.0]);
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            (
                "an unknown `by`",
                json!({"by": "slack"}),
                "unknown variant `slack`, expected `deadline` or `latest_start`",
            ),
            (
                "an unknown placement",
                json!({"no_deadline": "middle"}),
                "unknown variant `middle`, expected `last` or `first`",
            ),
            ("a misspelt argument", json!({"deadline": "last"}), "unknown field `deadline`"),
        ];
        for (name, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
