//! Fuzzing fixture: native plugins whose outputs come from the fuzz input.
//!
//! Every plugin takes one arg, `tape`: the fuzz input as lowercase hex. Each
//! value a plugin returns to the host is read from the tape, cyclically, so a
//! fuzzer that mutates the tape chooses every verdict, resource index, score,
//! key and move that crosses the ABI boundary, including the invalid ones the
//! host must refuse (a resource index past the cluster's dimensions, a NaN
//! score, a move of a job that does not run, to a node that does not exist).
//!
//! - `fuzz.order` (order) and `fuzz.partition` (partition-scoped order, key
//!   `group`): one key per job;
//! - `fuzz.filter` (filter): a verdict per node;
//! - `fuzz.score` (score): a score per node;
//! - `fuzz.rebalance` (rebalance): up to four proposed moves per call.
//!
//! How a byte becomes a value is in [`Tape`]'s methods. A plugin may also fail a
//! call (`Err`) or panic, as the tape says: the SDK's guard turns the panic into
//! an error. Each plugin reads the tape from its own offset, so the five do not
//! all return the same bytes.

use std::sync::atomic::{AtomicUsize, Ordering};

use kairos_abi::partition::GroupUsageView;
use kairos_abi::sdk::{BuildArgs, Filter, Order, PartitionKey, PartitionOrder, Plugin, PluginDef, Rebalance, Score};
use kairos_abi::views::{MoveView, RunningView};
use kairos_abi::{json, ClusterView, JobView, Point, Verdict};

/// Reason codes a verdict or an eviction may carry: well-formed ones, and ones
/// a host should not take at face value (empty, not kebab-case, very long,
/// control characters).
const CODES: [&str; 8] = [
    "busy",
    "",
    "Not Kebab Case",
    "selector-mismatch",
    "insufficient",
    "ünïcödé-code",
    "line\nbreak\u{0}nul",
    "a-reason-code-that-goes-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on-and-on",
];

/// Floating-point values worth returning where a finite number in range is
/// expected.
const SPECIAL: [f64; 12] = [
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    -1.0,
    100.000_000_1,
    101.0,
    1e308,
    -1e308,
    -0.0,
    f64::MIN_POSITIVE,
    100.0,
    0.0,
];

/// The fuzz input, read cyclically from a position shared by every call of one
/// plugin instance (so a run's values follow the tape in call order, and two
/// runs of one input read the same values).
pub struct Tape {
    bytes: Vec<u8>,
    pos: AtomicUsize,
}

impl Tape {
    /// A tape of `bytes`, read from `offset`.
    pub fn new(bytes: Vec<u8>, offset: usize) -> Tape {
        Tape { bytes, pos: AtomicUsize::new(offset) }
    }

    /// The next byte (0 on an empty tape).
    pub fn byte(&self) -> u8 {
        if self.bytes.is_empty() {
            return 0;
        }
        let i = self.pos.fetch_add(1, Ordering::Relaxed);
        self.bytes[i % self.bytes.len()]
    }

    /// The next four bytes, little-endian.
    pub fn u32(&self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }

    /// The next eight bytes, little-endian.
    pub fn u64(&self) -> u64 {
        u64::from_le_bytes([0; 8].map(|_| self.byte()))
    }

    /// A number: mostly `0..=127.5` in halves, sometimes a [`SPECIAL`] value,
    /// sometimes any bit pattern.
    pub fn number(&self) -> f64 {
        match self.byte() {
            b @ 0..=199 => f64::from(b) / 2.0,
            b @ 200..=239 => SPECIAL[usize::from(b - 200) % SPECIAL.len()],
            _ => f64::from_bits(self.u64()),
        }
    }

    /// A reason code from [`CODES`].
    pub fn code(&self) -> &'static str {
        CODES[usize::from(self.byte()) % CODES.len()]
    }

    /// An index below `len` most of the time; otherwise `len` itself, 99,
    /// `u32::MAX` or any `u32`.
    pub fn index(&self, len: usize) -> u32 {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        match self.byte() {
            0..=191 if len > 0 => self.u32() % len,
            192..=207 => len,
            208..=223 => 99,
            224..=239 => u32::MAX,
            _ => self.u32(),
        }
    }

    /// Whether this call fails instead of answering: an `Err` for byte 254, a
    /// panic (caught by the SDK's guard) for 255.
    pub fn fail(&self, what: &str) -> Result<(), String> {
        match self.byte() {
            254 => Err(format!("{what}: the tape says fail")),
            255 => panic!("{what}: the tape says panic"),
            _ => Ok(()),
        }
    }
}

/// Decodes the `tape` arg (lowercase or uppercase hex).
fn tape_of(b: &BuildArgs<'_>, offset: usize) -> Result<Tape, String> {
    let hex = match b.args.get("tape") {
        Some(json::Value::String(s)) => s.as_str(),
        None => "",
        Some(_) => return Err("`tape` must be a string of hex digits".into()),
    };
    if hex.len() % 2 != 0 {
        return Err(format!("`tape` must have an even number of hex digits, got {}", hex.len()));
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| format!("`tape` is not hex: {e}")))
        .collect::<Result<Vec<u8>, String>>()?;
    let offset = if bytes.is_empty() { 0 } else { offset % bytes.len() };
    Ok(Tape::new(bytes, offset))
}

struct TapeOrder(Tape);
impl Order for TapeOrder {
    fn keys(&self, jobs: &[JobView<'_>], _: &ClusterView<'_>, keys: &mut [f64]) -> Result<(), String> {
        self.0.fail("fuzz.order")?;
        debug_assert_eq!(jobs.len(), keys.len());
        keys.iter_mut().for_each(|k| *k = self.0.number());
        Ok(())
    }
}

struct TapePartition(Tape);
impl PartitionOrder for TapePartition {
    fn key(&self) -> PartitionKey {
        PartitionKey::Group
    }
    fn keys(
        &self,
        _: &[JobView<'_>],
        _: &[GroupUsageView<'_>],
        _: &ClusterView<'_>,
        keys: &mut [f64],
    ) -> Result<(), String> {
        self.0.fail("fuzz.partition")?;
        keys.iter_mut().for_each(|k| *k = self.0.number());
        Ok(())
    }
}

struct TapeFilter(Tape);
impl Filter for TapeFilter {
    fn filter(
        &self,
        _: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: &[u32],
        verdicts: &mut [Verdict],
    ) -> Result<(), String> {
        self.0.fail("fuzz.filter")?;
        let dims = cluster.nodes.dims as usize;
        for v in verdicts.iter_mut().take(nodes.len()) {
            let t = &self.0;
            *v = match t.byte() {
                0..=127 => Verdict::PASS,
                b => {
                    let mut r = if b < 200 { Verdict::transient(t.code()) } else { Verdict::permanent(t.code()) };
                    if t.byte() >= 96 {
                        r.resource = Some(t.index(dims)).into();
                        r.requested = if t.byte() < 128 { u64::from(t.byte()) } else { t.u64() };
                        r.free = if t.byte() < 128 { u64::from(t.byte()) } else { t.u64() };
                    }
                    r
                }
            };
        }
        Ok(())
    }
}

struct TapeScore(Tape);
impl Score for TapeScore {
    fn score(&self, _: &JobView<'_>, _: &ClusterView<'_>, _: &[u32], scores: &mut [f64]) -> Result<(), String> {
        self.0.fail("fuzz.score")?;
        scores.iter_mut().for_each(|s| *s = self.0.number());
        Ok(())
    }
}

struct TapeRebalance(Tape);
impl Rebalance for TapeRebalance {
    fn rebalance(
        &self,
        cluster: &ClusterView<'_>,
        running: &[RunningView],
        moves: &mut Vec<MoveView>,
    ) -> Result<(), String> {
        self.0.fail("fuzz.rebalance")?;
        let t = &self.0;
        let nodes = cluster.nodes.names.len();
        for _ in 0..t.byte() % 5 {
            // A running job (by its position in `running`), or any index.
            let job = match running.get(t.index(running.len()) as usize) {
                Some(r) if t.byte() < 224 => r.job,
                _ => t.u32(),
            };
            let migrate = t.byte() < 160;
            moves.push(MoveView { migrate, job, to: t.index(nodes), reason: t.code().into() });
        }
        Ok(())
    }
}

/// Args schema of every plugin here.
const SCHEMA: &str = r#"{"type":"object","properties":{"tape":{"type":"string"}}}"#;

kairos_abi::export_plugins![
    PluginDef {
        name: "fuzz.order",
        point: Point::Order,
        summary: "keys read from the tape",
        args_schema: SCHEMA,
        build: |b| Ok(Plugin::Order(Box::new(TapeOrder(tape_of(b, 0)?)))),
    },
    PluginDef {
        name: "fuzz.partition",
        point: Point::Order,
        summary: "partition-scoped (group) keys read from the tape",
        args_schema: SCHEMA,
        build: |b| Ok(Plugin::PartitionOrder(Box::new(TapePartition(tape_of(b, 7)?)))),
    },
    PluginDef {
        name: "fuzz.filter",
        point: Point::Filter,
        summary: "verdicts read from the tape",
        args_schema: SCHEMA,
        build: |b| Ok(Plugin::Filter(Box::new(TapeFilter(tape_of(b, 13)?)))),
    },
    PluginDef {
        name: "fuzz.score",
        point: Point::Score,
        summary: "scores read from the tape",
        args_schema: SCHEMA,
        build: |b| Ok(Plugin::Score(Box::new(TapeScore(tape_of(b, 29)?)))),
    },
    PluginDef {
        name: "fuzz.rebalance",
        point: Point::Rebalance,
        summary: "moves read from the tape",
        args_schema: SCHEMA,
        build: |b| Ok(Plugin::Rebalance(Box::new(TapeRebalance(tape_of(b, 41)?)))),
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tape_is_read_cyclically_from_its_offset() {
        let t = Tape::new(vec![1, 2, 3], 1);
        assert_eq!([t.byte(), t.byte(), t.byte(), t.byte()], [2, 3, 1, 2]);
    }

    #[test]
    fn an_empty_tape_reads_zeros() {
        let t = Tape::new(Vec::new(), 0);
        assert_eq!((t.byte(), t.u32(), t.number()), (0, 0, 0.0));
    }

    #[test]
    fn bytes_become_values_as_documented() {
        // (case, tape, what `number` reads)
        let cases: [(&str, Vec<u8>, f64); 3] = [
            ("a small byte is half its value", vec![9], 4.5),
            ("byte 201 is the second special value, infinity", vec![201], f64::INFINITY),
            ("byte 240 reads the next eight bytes as a float", vec![240, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f], 1.0),
        ];
        for (case, tape, want) in cases {
            assert_eq!(Tape::new(tape, 0).number(), want, "{case}");
        }
    }

    #[test]
    fn an_index_is_in_range_or_one_of_the_invalid_kinds() {
        // (case, tape, length, index)
        let cases: [(&str, Vec<u8>, usize, u32); 4] = [
            ("a low byte picks an index in range", vec![0, 7, 0, 0, 0], 5, 2),
            ("byte 192 is the length itself", vec![192], 5, 5),
            ("byte 208 is 99", vec![208], 5, 99),
            ("byte 224 is u32::MAX", vec![224], 5, u32::MAX),
        ];
        for (case, tape, len, want) in cases {
            assert_eq!(Tape::new(tape, 0).index(len), want, "{case}");
        }
    }

    #[test]
    fn the_tape_arg_is_hex() {
        let ok = json::Value::Object([("tape".to_owned(), json::Value::String("0aff".into()))].into());
        let t = tape_of(&BuildArgs { args: &ok, resources: &[] }, 0).expect("hex");
        assert_eq!([t.byte(), t.byte()], [0x0a, 0xff]);
        let odd = json::Value::Object([("tape".to_owned(), json::Value::String("abc".into()))].into());
        assert!(tape_of(&BuildArgs { args: &odd, resources: &[] }, 0).is_err());
    }
}
