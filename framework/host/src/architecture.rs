//! Coordination architectures: how much coordination the scheduler pays for.
//!
//! A pipeline may say how its decisions are coordinated:
//!
//! ```yaml
//! architecture: { kind: optimistic, workers: 2, conflict: revalidate }
//! ```
//!
//! | kind | workers | what a decision sees | what it costs |
//! |---|---|---|---|
//! | `centralized` (default) | 1 | every up node, the true state | one thread; deterministic |
//! | `optimistic` (Omega) | `workers` (2) | every up node, on the worker's replica, which may lag the commits of the others by about one decision each | conflicts at commit, re-decided; the order is kept only within a bound (see `engine::workers`) |
//! | `sampled` (Sparrow) | 1 | `sample` (2) random nodes that pass the filters, drawn from a generator seeded by `seed` (0) | may miss the best node; deterministic for a seed |
//! | `partitioned` | one per partition | the nodes of the job's home partition, and those of other partitions within the budget they granted it | a job waits for the next budget round to go abroad; partitions that neither lend nor borrow decide at once on threads, the others one by one; deterministic |
//!
//! With `partitioned`, nodes fall into partitions by `by` (`region`, the
//! default, or `zone`) and a job's home is the partition named by its group. A
//! global layer grants budgets every `rebalance_s` (300) seconds: a partition
//! lends at most `recovery_percent` (25) % of its allocatable capacity to others
//! whose pending jobs its nodes could take; see `engine::partitions`.
//!
//! With `optimistic`, the built-in `work-stealing` rebalance plugin, when the
//! pipeline has it, sets the number of workers, the steal batch and the victim
//! choice; a pipeline with that plugin and no `architecture:` runs `optimistic`.
//! `conflict` says what a stale commit does: `revalidate` (default) re-checks the
//! chosen node alone against the filters on the fresh state and commits if it
//! still passes; `strict` always re-decides the job from scratch.

use serde::Deserialize;

use crate::error::{input_error, Error, InputError, Pos};
use crate::yaml::{self, Spanned};

/// The most workers a pipeline may ask for: far above the cores of the
/// machines kairos runs on; more only adds conflicts.
pub const MAX_WORKERS: u64 = 64;

/// How many random nodes a sampled decision probes by default (Sparrow's d = 2:
/// the power of two choices).
pub const DEFAULT_SAMPLE: u64 = 2;

/// What a stale commit does under `optimistic`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ConflictCheck {
    /// Re-check the chosen node alone against the filters on the fresh state;
    /// commit if it still passes, else re-decide (Omega's fine-grained check).
    #[default]
    Revalidate,
    /// Re-decide the job from scratch on every conflict (coarse-grained).
    Strict,
}

/// The node attribute that partitions the cluster under `partitioned`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PartitionBy {
    /// A node's region.
    #[default]
    Region,
    /// A node's zone.
    Zone,
}

impl PartitionBy {
    /// The name used in pipeline files.
    pub fn name(self) -> &'static str {
        match self {
            PartitionBy::Region => "region",
            PartitionBy::Zone => "zone",
        }
    }
}

/// Seconds between two rounds of the global budget layer, by default.
pub const DEFAULT_REBALANCE_S: u64 = 300;

/// The share of its capacity a partition lends others, by default (percent).
pub const DEFAULT_RECOVERY_PERCENT: u64 = 25;

/// How decisions are coordinated. See the module docs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Architecture {
    /// One worker, full view.
    #[default]
    Centralized,
    /// `workers` workers deciding at once on replicas, one authoritative commit.
    Optimistic {
        /// Number of workers (≥ 1).
        workers: usize,
        /// What a stale commit does.
        conflict: ConflictCheck,
    },
    /// One worker per partition of the nodes, each inside the budget a global
    /// layer grants it (see `engine::partitions`).
    Partitioned {
        /// What partitions the nodes.
        by: PartitionBy,
        /// Seconds between two rounds of the global layer (budgets and repair).
        rebalance_s: i64,
        /// Share of its allocatable capacity a partition may lend, in percent.
        recovery_percent: u32,
        /// Seconds an unused grant is kept after its borrower stops asking.
        lease_s: i64,
    },
    /// Each decision probes `sample` random feasible nodes.
    Sampled {
        /// Nodes probed per decision (≥ 1).
        sample: usize,
        /// Seed of the generator that draws them.
        seed: u64,
    },
}

impl Architecture {
    /// The name used in pipeline files.
    pub fn kind(&self) -> &'static str {
        match self {
            Architecture::Centralized => "centralized",
            Architecture::Optimistic { .. } => "optimistic",
            Architecture::Sampled { .. } => "sampled",
            Architecture::Partitioned { .. } => "partitioned",
        }
    }

    /// Scheduler workers deciding at once.
    pub fn workers(&self) -> usize {
        match self {
            Architecture::Optimistic { workers, .. } => *workers,
            _ => 1,
        }
    }

    /// A short label for reports: `optimistic ×2`, `sampled d=2`.
    pub fn label(&self) -> String {
        match self {
            Architecture::Centralized => "centralized".into(),
            Architecture::Optimistic { workers, conflict } => {
                format!("optimistic ×{workers}{}", if *conflict == ConflictCheck::Strict { " strict" } else { "" })
            }
            Architecture::Sampled { sample, seed } => format!("sampled d={sample} seed={seed}"),
            Architecture::Partitioned { by, rebalance_s, recovery_percent, .. } => {
                format!("partitioned by {}, {recovery_percent}% lent every {rebalance_s}s", by.name())
            }
        }
    }
}

/// Known kinds, for error messages.
pub const KINDS: [&str; 4] = ["centralized", "optimistic", "sampled", "partitioned"];

/// The `architecture:` mapping of a pipeline file, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchitectureFile {
    kind: Spanned<String>,
    #[serde(default)]
    workers: Option<Spanned<u64>>,
    #[serde(default)]
    conflict: Option<Spanned<String>>,
    #[serde(default)]
    sample: Option<Spanned<u64>>,
    #[serde(default)]
    seed: Option<Spanned<u64>>,
    #[serde(default)]
    by: Option<Spanned<String>>,
    #[serde(default)]
    rebalance_s: Option<Spanned<u64>>,
    #[serde(default)]
    recovery_percent: Option<Spanned<u64>>,
    #[serde(default)]
    lease_s: Option<Spanned<u64>>,
}

/// A checked `architecture:`, with the positions later checks point at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArchitectureDef {
    /// The architecture.
    pub architecture: Architecture,
    /// Where `kind` is written.
    pub pos: Pos,
    /// Where `workers` is written, if it is.
    pub workers_pos: Option<Pos>,
}

impl ArchitectureFile {
    /// Checks the mapping; every problem goes to `err` with its position.
    pub fn check(self, mut err: impl FnMut(Pos, String)) -> Option<ArchitectureDef> {
        let pos = Pos::of(&self.kind);
        let mut ok = true;
        let mut only = |field: &str, at: Option<Pos>, kinds: &str| {
            if let Some(at) = at {
                err(at, format!("`{field}` applies only to architecture {kinds}, not `{}`", self.kind.value));
                ok = false;
            }
        };
        let kind = self.kind.value.as_str();
        if kind != "optimistic" {
            only("workers", self.workers.as_ref().map(Pos::of), "`optimistic`");
            only("conflict", self.conflict.as_ref().map(Pos::of), "`optimistic`");
        }
        if kind != "sampled" {
            only("sample", self.sample.as_ref().map(Pos::of), "`sampled`");
            only("seed", self.seed.as_ref().map(Pos::of), "`sampled`");
        }
        if kind != "partitioned" {
            only("by", self.by.as_ref().map(Pos::of), "`partitioned`");
            only("rebalance_s", self.rebalance_s.as_ref().map(Pos::of), "`partitioned`");
            only("recovery_percent", self.recovery_percent.as_ref().map(Pos::of), "`partitioned`");
            only("lease_s", self.lease_s.as_ref().map(Pos::of), "`partitioned`");
        }
        let architecture = match kind {
            "centralized" => Architecture::Centralized,
            "optimistic" => {
                let workers = self.workers.as_ref().map_or(2, |w| w.value);
                if let Some(w) = self.workers.as_ref().filter(|w| !(1..=MAX_WORKERS).contains(&w.value)) {
                    err(Pos::of(w), format!("`workers` must be within 1..={MAX_WORKERS}, got {}", w.value));
                    ok = false;
                }
                let conflict = match self.conflict.as_ref().map(|c| c.value.as_str()) {
                    None | Some("revalidate") => ConflictCheck::Revalidate,
                    Some("strict") => ConflictCheck::Strict,
                    Some(other) => {
                        let at = Pos::of(self.conflict.as_ref().expect("matched Some"));
                        err(at, format!("unknown conflict check `{other}`; known: revalidate, strict"));
                        ok = false;
                        ConflictCheck::Revalidate
                    }
                };
                Architecture::Optimistic { workers: workers as usize, conflict }
            }
            "sampled" => {
                let sample = self.sample.as_ref().map_or(DEFAULT_SAMPLE, |s| s.value);
                if let Some(s) = self.sample.as_ref().filter(|s| s.value == 0) {
                    err(Pos::of(s), "`sample` must be at least 1".into());
                    ok = false;
                }
                Architecture::Sampled { sample: sample as usize, seed: self.seed.as_ref().map_or(0, |s| s.value) }
            }
            "partitioned" => {
                let by = match self.by.as_ref().map(|b| b.value.as_str()) {
                    None | Some("region") => PartitionBy::Region,
                    Some("zone") => PartitionBy::Zone,
                    Some(other) => {
                        let at = Pos::of(self.by.as_ref().expect("matched Some"));
                        err(at, format!("unknown partitioning `{other}`; known: region, zone"));
                        ok = false;
                        PartitionBy::Region
                    }
                };
                let rebalance_s = self.rebalance_s.as_ref().map_or(DEFAULT_REBALANCE_S, |r| r.value);
                if let Some(r) = self.rebalance_s.as_ref().filter(|r| !(1..=86_400).contains(&r.value)) {
                    err(Pos::of(r), format!("`rebalance_s` must be within 1..=86400 seconds, got {}", r.value));
                    ok = false;
                }
                let recovery = self.recovery_percent.as_ref().map_or(DEFAULT_RECOVERY_PERCENT, |r| r.value);
                if let Some(r) = self.recovery_percent.as_ref().filter(|r| r.value > 100) {
                    err(Pos::of(r), format!("`recovery_percent` must be within 0..=100, got {}", r.value));
                    ok = false;
                }
                let lease_s = self.lease_s.as_ref().map_or(2 * rebalance_s, |l| l.value);
                if let Some(l) = self.lease_s.as_ref().filter(|l| l.value > 7 * 86_400) {
                    err(Pos::of(l), format!("`lease_s` must be at most a week (604800 s), got {}", l.value));
                    ok = false;
                }
                Architecture::Partitioned {
                    by,
                    rebalance_s: rebalance_s as i64,
                    recovery_percent: recovery as u32,
                    lease_s: lease_s as i64,
                }
            }
            other => {
                err(pos, format!("unknown architecture `{other}`; known: {}", KINDS.join(", ")));
                return None;
            }
        };
        ok.then(|| ArchitectureDef { architecture, pos, workers_pos: self.workers.as_ref().map(Pos::of) })
    }
}

impl ArchitectureDef {
    /// Reads an architecture given on the command line as `KIND[:KEY=VALUE,…]`
    /// (`optimistic:workers=4,conflict=strict`, `sampled:sample=2,seed=7`),
    /// checked as the `architecture:` key of a pipeline is.
    pub fn parse_flag(flag: &str) -> Result<ArchitectureDef, Error> {
        // The flag becomes a YAML mapping, a line a setting; `at[line - 1]`
        // remembers where that line's key and value stand in the flag, so that
        // errors point into the flag the user typed.
        let (kind, rest) = flag.split_once(':').unwrap_or((flag, ""));
        let mut text = format!("kind: {kind}\n");
        let mut at = vec![FlagLine { key: 0, key_len: 4, value: 0 }];
        let mut offset = kind.len() + 1;
        for pair in rest.split(',') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if !pair.trim().is_empty() {
                let key = offset + (k.len() - k.trim_start().len());
                let value = offset + k.len() + 1 + (v.len() - v.trim_start().len());
                at.push(FlagLine { key, key_len: k.trim().len(), value: value.min(flag.len()) });
                text.push_str(&format!("{}: {}\n", k.trim(), v.trim()));
            }
            offset += pair.len() + 1;
        }
        let path = std::path::PathBuf::from("--arch");
        let in_flag = |e: InputError| {
            let pos = match at.get((e.pos.line as usize).wrapping_sub(1)) {
                Some(l) if e.pos.col > 0 => {
                    let col = e.pos.col as usize;
                    let c =
                        if col <= l.key_len { l.key + col - 1 } else { l.value + col.saturating_sub(l.key_len + 3) };
                    Pos::new(1, c.min(flag.len()) as u64 + 1)
                }
                _ => Pos::default(),
            };
            input_error(&path, Some(flag), pos, e.message)
        };
        let file: ArchitectureFile = yaml::parse(&path, &text).map_err(|e| {
            match Error::collect(e.input_errors().into_iter().map(in_flag).collect()) {
                Err(mapped) => mapped,
                Ok(()) => e,
            }
        })?;
        let mut errors = Vec::new();
        let def = file.check(|p, m| errors.push(in_flag(input_error(&path, None, p, m))));
        Error::collect(errors)?;
        Ok(def.expect("checked without errors"))
    }
}

/// Where one line of the YAML made from an `--arch` flag stands in the flag.
struct FlagLine {
    /// Offset of the key (0 for `kind`, which is the flag's first word).
    key: usize,
    /// Length of the key in the YAML line.
    key_len: usize,
    /// Offset of the value.
    value: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_line_architecture_reads_as_the_pipeline_key_does() {
        let cases = [
            (
                "a kind alone takes the defaults",
                "optimistic",
                Ok(Architecture::Optimistic { workers: 2, conflict: ConflictCheck::Revalidate }),
            ),
            (
                "settings follow a colon",
                "optimistic:workers=4,conflict=strict",
                Ok(Architecture::Optimistic { workers: 4, conflict: ConflictCheck::Strict }),
            ),
            ("sampled takes d and a seed", "sampled:sample=3,seed=7", Ok(Architecture::Sampled { sample: 3, seed: 7 })),
            (
                "partitioned takes its budget settings",
                "partitioned:by=zone,rebalance_s=60,recovery_percent=40",
                Ok(Architecture::Partitioned {
                    by: PartitionBy::Zone,
                    rebalance_s: 60,
                    recovery_percent: 40,
                    lease_s: 120,
                }),
            ),
            (
                "a recovery share above 100% is refused",
                "partitioned:recovery_percent=150",
                Err("`recovery_percent` must be within 0..=100, got 150"),
            ),
            ("an unknown kind is refused", "omega", Err("unknown architecture `omega`")),
            (
                "a setting of another kind is refused",
                "centralized:workers=2",
                Err("`workers` applies only to architecture `optimistic`"),
            ),
        ];
        for (case, flag, want) in cases {
            match (ArchitectureDef::parse_flag(flag), want) {
                (Ok(def), Ok(a)) => assert_eq!(def.architecture, a, "{case}"),
                (Err(e), Err(msg)) => assert!(e.to_string().contains(msg), "{case}: {e}"),
                (got, _) => panic!("{case}: {got:?}"),
            }
        }
    }

    #[test]
    fn an_arch_flag_error_points_at_the_setting_in_the_flag() {
        let cases = [
            ("the kind", "omega", 1),
            ("a value", "partitioned:by=planet", 16),
            ("a value after spaces", "sampled:sample=2, seed=x", 24),
            ("an unknown key", "sampled:colour=blue", 9),
            ("a bad number", "optimistic:workers=abc", 20),
        ];
        for (case, flag, col) in cases {
            let e = ArchitectureDef::parse_flag(flag).expect_err(case);
            let errors = e.input_errors();
            assert_eq!(errors[0].pos, Pos::new(1, col), "{case}: {e}");
            assert_eq!(errors[0].path, std::path::Path::new("--arch"), "{case}");
        }
    }
}
