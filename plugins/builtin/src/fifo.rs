//! `fifo` (order): first released, first considered.
//!
//! The key is the job's release time, so the earliest released job goes first;
//! the host breaks ties by job id, i.e. submission order. Takes no arguments.

use kairos_model::plugin::{schema_of, typed_args, BuildContext};
use kairos_model::{ArgsError, Built, Context, ExtensionPoint, Job, OrderKey, OrderPlugin, PluginResult, PluginSpec};
use schemars::JsonSchema;
use serde::Deserialize;

/// Name in pipeline files.
pub const NAME: &str = "fifo";

/// `fifo` takes no arguments; any given is an error.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct FifoConfig {}

/// The registry entry.
pub fn spec() -> PluginSpec {
    PluginSpec {
        name: NAME,
        point: ExtensionPoint::Order,
        summary: "earliest release first; ties by submission order",
        args_schema: schema_of::<FifoConfig>,
        build,
    }
}

fn build(args: &serde_json::Value, _bx: &mut BuildContext<'_>) -> Result<Built, ArgsError> {
    let FifoConfig {} = typed_args(args)?;
    Ok(Built::Order(Box::new(Fifo)))
}

/// Orders jobs by release time.
#[derive(Debug)]
pub struct Fifo;

impl OrderPlugin for Fifo {
    fn keys(&self, jobs: &[&Job], _cx: &Context<'_>, keys: &mut [OrderKey]) -> PluginResult {
        for (key, job) in keys.iter_mut().zip(jobs) {
            *key = job.release as f64;
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
    fn earlier_releases_go_first() {
        let cases: [(&str, &[i64], &[usize]); 3] = [
            ("jobs released in order keep their order", &[0, 10, 20], &[0, 1, 2]),
            ("a job released earlier overtakes one submitted before it", &[30, 10, 20], &[1, 2, 0]),
            ("equal releases tie, left to submission order", &[5, 5, -5], &[2, 0, 1]),
        ];
        for (name, releases, want) in cases {
            let mut fx = Fixture::cpu_mem();
            let jobs: Vec<_> = releases.iter().map(|&r| fx.job(job(&[1, 1]).release(r))).collect();
            let keys = fx.order(spec(), json!(null), &jobs);
            assert_eq!(ranked(&keys), want, "{name}");
        }
    }

    #[test]
    fn arguments_are_refused() {
        let cases = [
            ("an unknown argument is an error", json!({"x": 1}), Some("unknown field `x`")),
            ("no arguments at all is fine", json!(null), None),
            ("an empty map is fine", json!({}), None),
        ];
        for (name, args, want) in cases {
            let mut fx = Fixture::cpu_mem();
            match want {
                Some(msg) => assert!(fx.build_err(spec(), args).contains(msg), "{name}"),
                None => assert!(fx.build(spec(), args).is_ok(), "{name}"),
            }
        }
    }
}
