//! `priority` (order): highest priority first, with aging so nothing starves.
//!
//! The key is `-(priority + boost)`, so a higher priority goes first. A job that
//! has waited since its release earns `aging_step` for every full
//! `aging_interval_s` seconds of waiting, up to `max_boost`:
//!
//! ```text
//! boost = min(floor((now - release) / aging_interval_s) * aging_step, max_boost)
//! ```
//!
//! A job not yet released earns nothing. Waiting is counted from the release
//! time — the same clock as the report's `wait_s` — so a job that runs `after`
//! another also ages while it waits for it. With an uncapped boost (the default),
//! or a cap at least as large as the spread of priorities, every waiting job
//! eventually overtakes any newer one, whatever their priorities: nothing
//! starves. The boost is computed from the cycle's time, so keys do not change
//! within a cycle.

use kairos_model::limits;
use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{
    ArgsError, Built, Context, ExtensionPoint, Job, OrderKey, OrderPlugin, PluginResult, PluginSpec, Time,
};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "priority";

/// Arguments of `priority`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", default)]
pub struct PriorityConfig {
    /// Seconds of waiting that earn one aging step; 0 disables aging.
    /// Default 300 (five minutes: a job waiting an hour gains 12).
    pub aging_interval_s: u64,
    /// Priority gained per interval waited; must be ≥ 0. Default 1.
    #[schemars(range(min = 0))]
    pub aging_step: i64,
    /// Largest boost aging may give; must be ≥ 0. Default: no cap.
    #[schemars(range(min = 0))]
    pub max_boost: Option<i64>,
}

impl Default for PriorityConfig {
    fn default() -> Self {
        PriorityConfig { aging_interval_s: 300, aging_step: 1, max_boost: None }
    }
}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Order,
        summary: "highest priority first; waiting jobs age upwards so nothing starves",
        args_schema: schema_of::<PriorityConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let c: PriorityConfig = typed_args(args)?;
    if c.aging_step < 0 {
        return Err(ArgsError(format!("`aging_step` must be ≥ 0, got {}", c.aging_step)));
    }
    if let Some(m) = c.max_boost.filter(|&m| m < 0) {
        return Err(ArgsError(format!("`max_boost` must be ≥ 0, got {m}")));
    }
    let interval = Time::try_from(c.aging_interval_s).ok().filter(|&i| limits::span(i).is_ok()).ok_or_else(|| {
        ArgsError(format!(
            "`aging_interval_s` is too large: {}; at most {} seconds (10 years)",
            c.aging_interval_s,
            limits::MAX_DURATION
        ))
    })?;
    let aging = (interval > 0 && c.aging_step > 0).then_some(Aging { interval, step: c.aging_step });
    Ok(Built::Order(Box::new(Priority { aging, max_boost: c.max_boost.unwrap_or(i64::MAX) })))
}

/// Orders jobs by priority plus an aging boost.
#[derive(Debug)]
pub struct Priority {
    /// `None` when aging is disabled.
    aging: Option<Aging>,
    max_boost: i64,
}

#[derive(Debug, Clone, Copy)]
struct Aging {
    /// Seconds per step, > 0.
    interval: Time,
    /// Boost per step, > 0.
    step: i64,
}

impl Priority {
    /// The boost `job` has earned by `now`.
    #[inline]
    fn boost(&self, job: &Job, now: Time) -> i64 {
        let Some(Aging { interval, step }) = self.aging else { return 0 };
        let waited = now.saturating_sub(job.release);
        if waited <= 0 {
            return 0;
        }
        (waited / interval).saturating_mul(step).min(self.max_boost)
    }
}

impl OrderPlugin for Priority {
    fn keys(&self, jobs: &[&Job], cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        for (key, job) in keys.iter_mut().zip(jobs) {
            let effective = i64::from(job.priority).saturating_add(self.boost(job, cx.now));
            *key = -(effective as f64);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::testutil::{job, ranked, Fixture};

    #[test]
    fn keys_are_minus_priority_plus_boost() {
        // (case, args, now, priority, release, want key)
        let cases = [
            ("a fresh job's key is minus its priority", json!(null), 0, 7, 0, -7.0),
            ("a job gains one step per full interval waited", json!(null), 650, 7, 0, -9.0),
            ("a partial interval earns nothing", json!(null), 299, 7, 0, -7.0),
            ("a job not yet released earns nothing", json!(null), 0, 7, 900, -7.0),
            ("the step scales the boost", json!({"aging_step": 5}), 600, 0, 0, -10.0),
            ("the boost stops at max_boost", json!({"max_boost": 3}), 30_000, 1, 0, -4.0),
            ("a zero interval disables aging", json!({"aging_interval_s": 0}), 1_000_000, 2, 0, -2.0),
            ("a zero step disables aging", json!({"aging_step": 0}), 1_000_000, 2, 0, -2.0),
            ("negative priorities age the same way", json!({"aging_interval_s": 10}), 100, -20, 0, 10.0),
        ];
        for (name, args, now, prio, release, want) in cases {
            let mut fx = Fixture::cpu_mem().at(now);
            let j = fx.job(job(&[1, 1]).priority(prio).release(release));
            assert_eq!(fx.order(spec(), args, &[j]), [want], "{name}");
        }
    }

    #[test]
    fn an_old_low_priority_job_eventually_overtakes_a_new_high_priority_one() {
        // Job 0: priority 0, waiting since t=0. Job 1: priority 10, released at
        // `now` each time (a steady stream of fresh important work).
        let cases = [
            ("after ten minutes the important job still goes first", 600, &[1, 0]),
            ("after fifty minutes they tie (submission order wins)", 3000, &[0, 1]),
            ("after an hour the old job goes first", 3600, &[0, 1]),
        ];
        for (name, now, want) in cases {
            let mut fx = Fixture::cpu_mem().at(now);
            let jobs = [fx.job(job(&[1, 1]).priority(0).release(0)), fx.job(job(&[1, 1]).priority(10).release(now))];
            let keys = fx.order(spec(), json!(null), &jobs);
            assert_eq!(ranked(&keys), want, "{name}");
        }
    }

    #[test]
    fn extreme_values_saturate_instead_of_overflowing() {
        let mut fx = Fixture::cpu_mem().at(i64::MAX);
        let j = fx.job(job(&[1, 1]).priority(i32::MAX).release(i64::MIN));
        let keys = fx.order(spec(), json!({"aging_interval_s": 1, "aging_step": i64::MAX}), &[j]);
        assert_eq!(keys, [-(i64::MAX as f64)]);
    }

    #[test]
    fn the_schema_states_defaults_and_lower_bounds() {
        let schema = (spec().args_schema)();
        let p = &schema["properties"];
        assert_eq!(p["aging_interval_s"]["default"], 300, "{schema}");
        assert_eq!((&p["aging_step"]["default"], &p["aging_step"]["minimum"]), (&json!(1), &json!(0)), "{schema}");
        assert_eq!(p["max_boost"]["minimum"], 0, "{schema}");
    }

    #[test]
    fn bad_arguments_are_explained() {
        let cases = [
            ("a negative step", json!({"aging_step": -1}), "`aging_step` must be ≥ 0, got -1"),
            ("a negative cap", json!({"max_boost": -2}), "`max_boost` must be ≥ 0, got -2"),
            ("a negative interval", json!({"aging_interval_s": -5}), "invalid value: integer `-5`"),
            (
                "an interval beyond the time axis",
                json!({"aging_interval_s": u64::MAX}),
                "`aging_interval_s` is too large",
            ),
            ("a misspelt argument", json!({"aging_interval": 5}), "unknown field `aging_interval`"),
        ];
        for (name, args, want) in cases {
            let err = Fixture::cpu_mem().build_err(spec(), args);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
