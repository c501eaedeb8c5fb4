//! The bounds of every number and size kairos reads from its inputs.
//!
//! Every value that comes from a file or a flag — a time, a duration, a
//! quantity, a count of nodes or jobs, a name, the file itself — is checked
//! against one of these bounds where it is read, and refused with its
//! position when it is out of them. Within the bounds no sum the host computes
//! can overflow (the largest time plus the largest duration, the capacities of
//! the most nodes), and no input can make the process allocate more memory
//! than a few times the size of its files. Each bound says why it has its
//! value; the README's "Limits" section lists them for users.

use crate::resources::Qty;
use crate::time::Time;

/// Seconds in a (Julian) year, for the bounds below and their messages.
pub const YEAR_S: Time = 31_557_600;

/// How far from the workload's time 0 an input's times may be: 100 years,
/// before or after. Simulated time counts seconds from time 0 (the start of a
/// pass day, the start of a trace), and no trace kairos is meant for spans
/// more; with the largest durations added it stays far from `i64::MAX`.
pub const MAX_TIME: Time = 100 * YEAR_S;

/// The longest duration an input may give a job (its run time, estimate, a
/// deadline's latency): 10 years. Longer than any job of any public trace.
pub const MAX_DURATION: Time = 10 * YEAR_S;

/// The largest quantity of one resource on a node or in a request: 10¹².
/// Memory in MiB still reaches an exbibyte, and the capacities of
/// [`MAX_NODES`] nodes add up without overflowing a `u64`.
pub const MAX_QTY: Qty = 1_000_000_000_000;

/// The most nodes a cluster may have, `count` expanded: one million. Ten times
/// the largest cluster the benchmarks run, and a node table of that size
/// still fits in a few hundred MiB.
pub const MAX_NODES: usize = 1_000_000;

/// The most resource dimensions a cluster may declare.
pub const MAX_RESOURCES: usize = 64;

/// The most jobs a workload may have: two million. The largest trace of the
/// Parallel Workloads Archive (SHARCNET) has 1.2 million.
pub const MAX_JOBS: usize = 2_000_000;

/// The most contacts a day `passes.load_per_day` (or `--load`) may book: each
/// contact is at least two jobs, so this keeps a pass workload within
/// [`MAX_JOBS`].
pub const MAX_LOAD_PER_DAY: u32 = 1_000_000;

/// The most granules a downlink may be split into (`passes.processing.granules`).
pub const MAX_GRANULES: u32 = 1_000;

/// The most labels, selector terms, tolerations or taints one node or job may
/// carry.
pub const MAX_LABELS: usize = 256;

/// The longest name, in bytes: job ids, node names, resource names, label keys
/// and values, tenants, groups, regions, zones, priority classes.
pub const MAX_NAME_BYTES: usize = 1_024;

/// The largest input file read, in bytes: 256 MiB. Large enough for the
/// biggest trace of the Parallel Workloads Archive uncompressed; a gzip trace
/// is bounded by what it decompresses to.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// The largest YAML file read (pipelines, clusters, scenarios, YAML
/// workloads, policy tests), in bytes: 16 MiB. YAML takes many times its size
/// in memory while it is parsed.
pub const MAX_YAML_BYTES: u64 = 16 << 20;

/// Checks a time read from an input: whole seconds within
/// `-`[`MAX_TIME`]`..=`[`MAX_TIME`] of time 0.
pub fn time(t: Time) -> Result<Time, String> {
    if (-MAX_TIME..=MAX_TIME).contains(&t) {
        Ok(t)
    } else {
        Err(format!("a time must be within ±{MAX_TIME} seconds (100 years) of time 0, got {t}"))
    }
}

/// Checks a duration read from an input: whole seconds within
/// `1..=`[`MAX_DURATION`].
pub fn duration(d: Time) -> Result<Time, String> {
    if (1..=MAX_DURATION).contains(&d) {
        Ok(d)
    } else {
        Err(format!("a duration must be within 1..={MAX_DURATION} seconds (10 years), got {d}"))
    }
}

/// Checks a duration that may be 0 (a latency, a pause, a minimum length):
/// whole seconds within `0..=`[`MAX_DURATION`].
pub fn span(d: Time) -> Result<Time, String> {
    if (0..=MAX_DURATION).contains(&d) {
        Ok(d)
    } else {
        Err(format!("must be within 0..={MAX_DURATION} seconds (10 years), got {d}"))
    }
}

/// Checks a quantity read from an input: at most [`MAX_QTY`].
pub fn qty(q: Qty) -> Result<Qty, String> {
    if q <= MAX_QTY {
        Ok(q)
    } else {
        Err(format!("a quantity must be at most {MAX_QTY}, got {q}"))
    }
}

/// Checks a name read from an input: at most [`MAX_NAME_BYTES`] bytes.
pub fn name(n: &str) -> Result<&str, String> {
    if n.len() <= MAX_NAME_BYTES {
        Ok(n)
    } else {
        Err(format!("a name must be at most {MAX_NAME_BYTES} bytes long, got {} bytes", n.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bounds_keep_every_sum_the_host_computes_in_range() {
        assert!(MAX_TIME.checked_add(MAX_DURATION).and_then(|t| t.checked_add(MAX_DURATION)).is_some());
        assert!(MAX_TIME.checked_sub(-MAX_TIME).is_some(), "the span of any two times");
        assert!(MAX_QTY.checked_mul(MAX_NODES as Qty).is_some(), "the capacity of every node adds up");
        assert!(MAX_LOAD_PER_DAY as usize * 2 <= MAX_JOBS, "a contact and its processing");
    }

    #[test]
    fn values_at_the_bounds_pass_and_one_past_them_is_refused_with_the_bound() {
        let cases: [(&str, Result<i64, String>, bool); 9] = [
            ("time 0", time(0), true),
            ("the latest time", time(MAX_TIME), true),
            ("a time before time 0", time(-1), true),
            ("a time past 100 years", time(MAX_TIME + 1), false),
            ("i64::MIN as a time", time(i64::MIN), false),
            ("a one-second duration", duration(1), true),
            ("a zero duration", duration(0), false),
            ("i64::MAX as a duration", duration(i64::MAX), false),
            ("a zero span", span(0), true),
        ];
        for (case, got, ok) in cases {
            assert_eq!(got.is_ok(), ok, "{case}: {got:?}");
        }
        assert_eq!(
            duration(i64::MAX).unwrap_err(),
            "a duration must be within 1..=315576000 seconds (10 years), got 9223372036854775807"
        );
        assert!(qty(MAX_QTY).is_ok() && qty(MAX_QTY + 1).is_err());
        assert!(name(&"x".repeat(MAX_NAME_BYTES)).is_ok() && name(&"x".repeat(MAX_NAME_BYTES + 1)).is_err());
    }
}
