//! `vendor.link-budget`: an example third-party score plugin, loaded by kairos
//! at run time through the stable ABI (it depends only on `kairos-abi`). The
//! same library offers `vendor.packing` (a best-fit score) and
//! `vendor.fair-share` (a partition-scoped order plugin, through the optional
//! module `kairos.partition.v1`).
//!
//! A contact should use the antenna that closes the best link for its pass. The
//! model is a coarse link budget:
//!
//! - the satellite's downlink band comes from its name (`bands`: name prefix →
//!   `S` or `X`; satellites no prefix matches can use either band, and X is
//!   preferred for its data rate);
//! - an antenna carries the bands of its `band` label (`"S,X"`, `"X"`, `"S"`);
//! - a link on a band the antenna carries scores its band's margin
//!   (`x_margin_db` 12, `s_margin_db` 8), normalized so that `full_scale_db`
//!   (15) scores 100; a band the antenna does not carry scores 0;
//! - a pass with a known peak elevation (job label `max_elevation_deg`) adds
//!   `elevation_db_per_deg` (0.05) per degree above 10°, for the shorter slant
//!   range.
//!
//! Nodes without a `band` label (processing nodes) all score `neutral` (50), so
//! the plugin never changes a decision among them.
//!
//! The model is plain Rust over strings, apart from the ABI: its per-job part
//! ([`LinkBudget::pass`]) runs once per call, its per-node part ([`Pass::score`])
//! once per node. The `Score` impl only reads the labels from the views; the
//! host's `native` benchmark compiles the very same model in, reading the
//! labels from the host's own tables, to measure what the boundary costs.

use std::collections::BTreeMap;

use kairos_abi::partition::GroupUsageView;
use kairos_abi::sdk::{BuildArgs, Fields, PartitionKey, PartitionOrder, Plugin, PluginDef, Score};
use kairos_abi::{ClusterView, JobView, Point};

/// The plugin's name in pipelines.
pub const NAME: &str = "vendor.link-budget";

/// A satellite's downlink band.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Band {
    S,
    X,
}

/// The typed config, with defaults.
#[derive(Clone, Debug)]
pub struct LinkBudget {
    bands: BTreeMap<String, Band>,
    x_margin_db: f64,
    s_margin_db: f64,
    full_scale_db: f64,
    elevation_db_per_deg: f64,
    neutral: f64,
}

impl Default for LinkBudget {
    fn default() -> Self {
        LinkBudget {
            bands: BTreeMap::new(),
            x_margin_db: 12.0,
            s_margin_db: 8.0,
            full_scale_db: 15.0,
            elevation_db_per_deg: 0.05,
            neutral: 50.0,
        }
    }
}

const SCHEMA: &str = r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "bands": { "type": "object", "additionalProperties": { "enum": ["S", "X"] },
               "description": "satellite name prefix -> downlink band" },
    "x_margin_db": { "type": "number", "default": 12 },
    "s_margin_db": { "type": "number", "default": 8 },
    "full_scale_db": { "type": "number", "exclusiveMinimum": 0, "default": 15 },
    "elevation_db_per_deg": { "type": "number", "minimum": 0, "default": 0.05 },
    "neutral": { "type": "number", "minimum": 0, "maximum": 100, "default": 50 }
  }
}"#;

/// The manifest entry.
pub const DEF: PluginDef = PluginDef {
    name: NAME,
    point: Point::Score,
    summary: "prefers the antenna that closes the best link for the pass (band, elevation)",
    args_schema: SCHEMA,
    build,
};

fn build(b: &BuildArgs<'_>) -> Result<Plugin, String> {
    Ok(Plugin::Score(Box::new(LinkBudget::from_args(b)?)))
}

impl LinkBudget {
    /// Reads the config from the entry's args; unknown fields are errors.
    pub fn from_args(b: &BuildArgs<'_>) -> Result<LinkBudget, String> {
        let mut c = LinkBudget::default();
        let mut f = Fields::new(b.args)?;
        for (prefix, band) in f.map("bands")?.into_iter().flatten() {
            let band = match band.as_str() {
                Some("S") => Band::S,
                Some("X") => Band::X,
                _ => return Err(f.invalid(&format!("bands.{prefix}"), "expected \"S\" or \"X\"")),
            };
            c.bands.insert(prefix.clone(), band);
        }
        c.x_margin_db = f.number("x_margin_db")?.unwrap_or(c.x_margin_db);
        c.s_margin_db = f.number("s_margin_db")?.unwrap_or(c.s_margin_db);
        c.full_scale_db = f.number("full_scale_db")?.unwrap_or(c.full_scale_db);
        c.elevation_db_per_deg = f.number("elevation_db_per_deg")?.unwrap_or(c.elevation_db_per_deg);
        c.neutral = f.number("neutral")?.unwrap_or(c.neutral);
        if c.full_scale_db.is_nan() || c.full_scale_db <= 0.0 {
            return Err(f.invalid("full_scale_db", format!("must be > 0, got {}", c.full_scale_db)));
        }
        if !(0.0..=100.0).contains(&c.neutral) {
            return Err(f.invalid("neutral", format!("must be within 0..=100, got {}", c.neutral)));
        }
        f.finish()?;
        Ok(c)
    }

    /// The model's per-job part, done once per job: the satellite's band (from
    /// its name, the job label `satellite`) and the score of a link on each band
    /// for this pass (from the job label `max_elevation_deg`, when present).
    pub fn pass(&self, satellite: Option<&str>, max_elevation_deg: Option<&str>) -> Pass {
        let band = satellite.and_then(|s| self.band_of(s));
        let elevation = max_elevation_deg
            .and_then(|e| e.parse::<f64>().ok())
            .map_or(0.0, |e| (e - 10.0).max(0.0) * self.elevation_db_per_deg);
        let score = |db: f64| (100.0 * (db + elevation) / self.full_scale_db).clamp(0.0, 100.0);
        Pass { band, x: score(self.margin(Band::X)), s: score(self.margin(Band::S)), neutral: self.neutral }
    }

    /// The band a satellite downlinks on, when `bands` says.
    fn band_of(&self, satellite: &str) -> Option<Band> {
        self.bands.iter().find(|(p, _)| satellite.starts_with(p.as_str())).map(|(_, b)| *b)
    }

    /// The margin of a link on `band`, in dB.
    fn margin(&self, band: Band) -> f64 {
        match band {
            Band::X => self.x_margin_db,
            Band::S => self.s_margin_db,
        }
    }
}

/// One job's pass, as the model's per-node part needs it ([`LinkBudget::pass`]).
#[derive(Clone, Copy, Debug)]
pub struct Pass {
    /// The satellite's band (`None`: either).
    band: Option<Band>,
    /// The score of a link on X band, and on S band.
    x: f64,
    s: f64,
    /// The score of a node without antenna.
    neutral: f64,
}

impl Pass {
    /// The model's per-node part: the score of the node whose `band` label is
    /// `antenna` (`None`: not an antenna).
    #[inline]
    pub fn score(&self, antenna: Option<&str>) -> f64 {
        match antenna {
            None => self.neutral,
            Some(antenna) => match link_band(antenna, self.band) {
                Some(Band::X) => self.x,
                Some(Band::S) => self.s,
                None => 0.0,
            },
        }
    }
}

/// The band a link on `antenna` (its `band` label, e.g. `"S,X"`) uses for a
/// satellite on `band` (`None`: either band, X preferred); `None` when the
/// antenna carries no band the satellite downlinks on.
#[inline]
fn link_band(antenna: &str, band: Option<Band>) -> Option<Band> {
    let carries = |b: &str| antenna.split(',').any(|a| a.trim() == b);
    if carries("X") && band != Some(Band::S) {
        Some(Band::X)
    } else if carries("S") && band != Some(Band::X) {
        Some(Band::S)
    } else {
        None
    }
}

impl Score for LinkBudget {
    fn score(
        &self,
        job: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: &[u32],
        scores: &mut [f64],
    ) -> Result<(), String> {
        let pass = self.pass(job.label("satellite"), job.label("max_elevation_deg"));
        for (&n, out) in nodes.iter().zip(scores.iter_mut()) {
            *out = pass.score(cluster.nodes.label(n, "band"));
        }
        Ok(())
    }
}

/// `vendor.packing`: fuller nodes after placement score higher (the mean fill
/// over the dimensions the job requests) — best-fit, as a vendor would ship it.
/// A second plugin of the same library, and the plugin the batch-call benchmark
/// measures against a fused native loop.
pub struct Packing;

/// The name of [`Packing`].
pub const PACKING: &str = "vendor.packing";

/// The manifest entry of [`Packing`].
pub const PACKING_DEF: PluginDef = PluginDef {
    name: PACKING,
    point: Point::Score,
    summary: "fuller nodes after placement score higher (best-fit)",
    args_schema: r#"{"type":"object","additionalProperties":false}"#,
    build: |b| {
        Fields::new(b.args)?.finish()?;
        Ok(Plugin::Score(Box::new(Packing)))
    },
};

impl Score for Packing {
    fn score(
        &self,
        job: &JobView<'_>,
        cluster: &ClusterView<'_>,
        nodes: &[u32],
        scores: &mut [f64],
    ) -> Result<(), String> {
        let t = &cluster.nodes;
        let dims = t.dims as usize;
        let (alloc, used) = (t.allocatable.as_slice(), t.used.as_slice());
        let request = job.request.as_slice();
        let asked = request.iter().filter(|&&r| r > 0).count().max(1) as f64;
        for (&n, s) in nodes.iter().zip(scores.iter_mut()) {
            let base = n as usize * dims;
            let mut fill = 0.0;
            for (d, &r) in request.iter().enumerate() {
                let a = alloc[base + d];
                if r > 0 && a > 0 {
                    fill += ((used[base + d] + r) as f64 / a as f64).min(1.0);
                }
            }
            *s = 100.0 * fill / asked;
        }
        Ok(())
    }
}

/// `vendor.fair-share`: the group furthest below its fair share goes first —
/// dominant resource fairness, as kairos's built-in `fair-share` computes it,
/// shipped as a library. A job's key is its group's dominant share (the largest
/// fraction of any resource's allocatable capacity that the group's running jobs
/// hold) divided by the group's weight.
///
/// The key depends on what the group holds now, so the plugin is
/// partition-scoped ([`PartitionOrder`], module `kairos.partition.v1`): the
/// host groups jobs by `key`, passes each job's group usage with every call, and
/// asks again for the heads of the groups after every placement.
pub struct FairShare {
    key: PartitionKey,
    /// Weight by group name; groups not listed weigh 1.
    weights: BTreeMap<String, f64>,
}

/// The name of [`FairShare`].
pub const FAIR_SHARE: &str = "vendor.fair-share";

/// The manifest entry of [`FairShare`].
pub const FAIR_SHARE_DEF: PluginDef = PluginDef {
    name: FAIR_SHARE,
    point: Point::Order,
    summary: "group with the lowest weighted dominant share first (DRF; partition-scoped)",
    args_schema: r#"{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "key": { "type": "string", "default": "group",
             "description": "group, region, tenant, priority-class or label:<name>" },
    "weights": { "type": "object", "additionalProperties": { "type": "number", "exclusiveMinimum": 0 } }
  }
}"#,
    build: |b| Ok(Plugin::PartitionOrder(Box::new(FairShare::from_args(b)?))),
};

impl FairShare {
    /// Reads the config from the entry's args; unknown fields are errors.
    pub fn from_args(b: &BuildArgs<'_>) -> Result<FairShare, String> {
        let mut f = Fields::new(b.args)?;
        let key = match f.string("key")? {
            None => PartitionKey::Group,
            Some(k) => PartitionKey::parse(k).map_err(|e| f.invalid("key", e))?,
        };
        let mut weights = BTreeMap::new();
        for (group, w) in f.map("weights")?.into_iter().flatten() {
            match w.as_f64() {
                Some(w) if w > 0.0 && w.is_finite() => weights.insert(group.clone(), w),
                _ => return Err(f.invalid(&format!("weights.{group}"), "expected a finite number > 0")),
            };
        }
        f.finish()?;
        Ok(FairShare { key, weights })
    }
}

impl PartitionOrder for FairShare {
    fn key(&self) -> PartitionKey {
        self.key.clone()
    }

    fn keys(
        &self,
        _jobs: &[JobView<'_>],
        groups: &[GroupUsageView<'_>],
        cluster: &ClusterView<'_>,
        keys: &mut [f64],
    ) -> Result<(), String> {
        let total = cluster.total.as_slice();
        for (g, k) in groups.iter().zip(keys) {
            let share = g
                .used
                .iter()
                .zip(total)
                .filter(|(_, &t)| t > 0)
                .map(|(&u, &t)| u as f64 / t as f64)
                .fold(0.0, f64::max);
            *k = share / self.weights.get(g.group.as_str()).copied().unwrap_or(1.0);
        }
        Ok(())
    }
}

kairos_abi::export_plugins![DEF, PACKING_DEF, FAIR_SHARE_DEF];

#[cfg(test)]
mod tests {
    use super::*;
    use kairos_abi::json;
    use kairos_abi::testing::{TestCluster, TestGroup, TestJob, TestNode};

    fn plugin(args: &str) -> Result<LinkBudget, String> {
        let v = json::parse(args).unwrap();
        LinkBudget::from_args(&BuildArgs { args: &v, resources: &[] })
    }

    /// A station with an S,X antenna and an S-only one, and a processing node,
    /// through the SDK's test helpers (the views the host would pass).
    fn station() -> TestCluster {
        TestCluster::new(["antenna", "cpu"])
            .node(TestNode::new("ant-sx").region("europe").label("band", "S,X").capacity([("antenna", 1)]))
            .node(TestNode::new("ant-s").region("europe").label("band", "S").capacity([("antenna", 1)]))
            .node(TestNode::new("proc").region("europe").capacity([("cpu", 16)]))
    }

    #[test]
    fn a_contact_scores_each_antenna_by_the_link_it_closes() {
        let cluster = station();
        let plugin = cluster.build(&DEF, r#"{ "bands": { "SENTINEL": "X" } }"#).unwrap();
        let score = plugin.as_score().expect("a score plugin");
        let contact = |satellite: &str| TestJob::new("c1").label("satellite", satellite).request([("antenna", 1)]);
        let cases = [
            (
                "an X-band satellite: the S,X antenna at X's margin, no link on S, neutral processing",
                "SENTINEL-2A",
                [80.0, 0.0, 50.0],
            ),
            ("an unknown satellite: X where it can, S elsewhere", "AQUA", [80.0, 100.0 * 8.0 / 15.0, 50.0]),
        ];
        for (name, satellite, want) in cases {
            assert_eq!(cluster.score(score, &contact(satellite)).unwrap(), want, "{name}");
        }
        let high = contact("SENTINEL-2A").label("max_elevation_deg", "70");
        assert_eq!(cluster.score(score, &high).unwrap()[0], 100.0, "a high pass adds 3 dB: 15 dB is full scale");
    }

    #[test]
    fn packing_prefers_the_node_the_job_fills_most() {
        let cluster = TestCluster::new(["cpu", "memory"])
            .node(TestNode::new("empty").capacity([("cpu", 16), ("memory", 64)]))
            .node(TestNode::new("half").capacity([("cpu", 16), ("memory", 64)]).used([("cpu", 8), ("memory", 32)]));
        let job = TestJob::new("j").request([("cpu", 8), ("memory", 32)]);
        assert_eq!(cluster.score(&Packing, &job).unwrap(), [50.0, 100.0]);
    }

    #[test]
    fn fair_share_puts_the_group_furthest_below_its_share_first() {
        let cluster = TestCluster::new(["cpu"]).node(TestNode::new("n").capacity([("cpu", 100)]));
        let plugin = cluster.build(&FAIR_SHARE_DEF, r#"{ "weights": { "europe": 2 } }"#).unwrap();
        let order = plugin.as_partition_order().expect("partition-scoped");
        let jobs = [
            (TestJob::new("a").group("americas"), TestGroup::new("americas").used([("cpu", 30)]).running(3)),
            (TestJob::new("e").group("europe"), TestGroup::new("europe").used([("cpu", 40)]).running(4)),
            (TestJob::new("f").group("africa"), TestGroup::new("africa")),
        ];
        assert_eq!(cluster.partition_keys(order, &jobs).unwrap(), [0.3, 0.2, 0.0], "europe weighs 2");
    }

    #[test]
    fn the_best_band_an_antenna_carries_sets_its_margin() {
        let p = plugin(r#"{ "bands": { "NOAA": "S", "SENTINEL": "X" } }"#).unwrap();
        let cases = [
            ("an S-band satellite on an S,X antenna uses S", "S,X", "NOAA 19", Some(8.0)),
            ("an X-band satellite on an S,X antenna uses X", "S,X", "SENTINEL-2A", Some(12.0)),
            ("an X-band satellite on an S-only antenna has no link", "S", "SENTINEL-2A", None),
            ("an unknown satellite prefers X where it can", "X", "AQUA", Some(12.0)),
            ("an unknown satellite falls back to S", "S", "AQUA", Some(8.0)),
        ];
        for (name, antenna, satellite, want) in cases {
            let got = link_band(antenna, p.band_of(satellite)).map(|b| p.margin(b));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn bad_args_are_refused_with_what_was_expected() {
        let cases = [
            ("an unknown field", r#"{ "gain": 3 }"#, "unknown field `gain`"),
            ("a band that does not exist", r#"{ "bands": { "NOAA": "K" } }"#, "`bands.NOAA`: expected \"S\" or \"X\""),
            ("a non-numeric margin", r#"{ "x_margin_db": "high" }"#, "`x_margin_db`: expected a number, got \"high\""),
            ("args that are not a mapping", "[1]", "args must be a mapping, got a list"),
            ("a full scale of zero", r#"{ "full_scale_db": 0 }"#, "`full_scale_db`: must be > 0, got 0"),
        ];
        for (name, args, want) in cases {
            let err = plugin(args).unwrap_err();
            assert!(err.starts_with(want), "{name}: {err}");
        }
    }

    #[test]
    fn the_manifest_names_the_plugin_and_its_point() {
        let m = kairos_plugin_module();
        let list = (m.plugins())();
        let names: Vec<_> = list.iter().map(|p| (p.name.as_str(), p.point)).collect();
        assert_eq!(names, [(NAME, Point::Score), (PACKING, Point::Score), (FAIR_SHARE, Point::Order)]);
        for p in list.iter() {
            assert!(json::parse(p.args_schema.as_str()).is_ok(), "the schema of {} is JSON", p.name);
        }
    }

    #[test]
    fn the_fair_share_is_built_only_through_kairos_partition_v1() {
        use kairos_abi::abi_stable::std_types::{RResult, RStr};
        use kairos_abi::partition::{PartitionBy, PartitionV1, PARTITION_V1};
        let m = kairos_plugin_module();
        let (name, args) = (RStr::from_str(FAIR_SHARE), RStr::from_str(r#"{ "key": "label:team" }"#));
        // A host without the module builds through the root module: refused, saying why.
        match (m.build())(name, args, Default::default()) {
            RResult::RErr(e) => assert!(e.contains(PARTITION_V1), "{e}"),
            RResult::ROk(_) => panic!("a v1-only host cannot run a partition-scoped plugin"),
        }
        // Through the module: built, with its key.
        let ext = (m.extension())(RStr::from_str(PARTITION_V1)).into_option().expect("the module is offered");
        // SAFETY: the SDK stores a `PartitionV1` behind this module (the host
        // checks `ext.layout` first; here both sides are this crate's).
        let partition = unsafe { &*(ext.module as *const PartitionV1) };
        let built = (partition.build)(name, args, Default::default()).into_option().expect("partition-scoped");
        let built = built.into_result().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((built.key.by, built.key.label.as_str()), (PartitionBy::Label, "team"));
        // A job-scoped plugin is not built through the module.
        let other = (partition.build)(RStr::from_str(PACKING), RStr::from_str("null"), Default::default());
        assert!(other.is_none());
    }

    #[test]
    fn fair_share_args_are_checked() {
        let build = |args: &str| {
            let v = json::parse(args).unwrap();
            FairShare::from_args(&BuildArgs { args: &v, resources: &[] }).map(|f| f.key)
        };
        let cases = [
            ("no args group by the job's group", "null", Ok(PartitionKey::Group)),
            ("`region` is the group", r#"{ "key": "region" }"#, Ok(PartitionKey::Group)),
            ("a label key", r#"{ "key": "label:team" }"#, Ok(PartitionKey::Label("team".into()))),
            ("an unknown key", r#"{ "key": "zone" }"#, Err("`key`: unknown key `zone`")),
            ("a zero weight", r#"{ "weights": { "a": 0 } }"#, Err("`weights.a`: expected a finite number > 0")),
            ("a key that is not a string", r#"{ "key": 3 }"#, Err("`key`: expected a string, got 3")),
        ];
        for (name, args, want) in cases {
            match (build(args), want) {
                (Ok(k), Ok(w)) => assert_eq!(k, w, "{name}"),
                (Err(e), Err(w)) => assert!(e.starts_with(w), "{name}: {e}"),
                (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
            }
        }
    }
}
