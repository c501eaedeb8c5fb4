//! Satellite pass windows as jobs (the pass-window showcase).
//!
//! Reads a pass CSV with exactly the columns of `gen_passes.py`'s output —
//! `pass_id,satellite,norad_id,station,region,aos_utc,los_utc,max_elevation_deg,duration_s`
//! — so another day's passes (or another station set's) can be swapped in.
//!
//! # From a pass to jobs
//! A pass is a window `[AOS, LOS]` in which a satellite is ≥ 10° above a
//! station's horizon. Each booked contact on it becomes two jobs:
//!
//! 1. **contact** `p<pass_id>-c<k>` — holds one `antenna` of that station
//!    (selector `station=<station>`) for `max(min_s, fraction × window)` seconds
//!    (capped at the window), starting no earlier than AOS and finishing by LOS:
//!    a **hard** deadline, since the satellite is gone after LOS.
//! 2. **processing** `p<pass_id>-proc<k>` (or `…-proc<k>-g<n>` for each of
//!    `processing.granules` granules) — runs `after` the contact, on a
//!    processing node of the same region (selector `region=<region>`,
//!    `role=processing`; with `processing.anywhere`, any processing node), needs `processing.request` for
//!    `processing.seconds_per_contact_second × contact / granules` seconds, and must finish
//!    within the satellite class's latency after LOS (a soft deadline: late data
//!    is still processed, and counted missed).
//!
//! Both jobs carry group = region, tenant = satellite, and the priority class of
//! the satellite (by name prefix, `classes`).
//!
//! # The load knob
//! `load_per_day` sets how many contacts a day are booked. Below the number of
//! passes in the file, passes are thinned evenly in AOS order (pass k is kept when
//! ⌊(k+1)·L/N⌋ > ⌊k·L/N⌋), which keeps the day's shape. Above it, that same
//! formula gives some passes a second contact — a second downlink on another
//! antenna of the same station (e.g. X-band payload data and S-band telemetry at
//! once). Time 0 is 00:00 UTC of the day of the first AOS.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use kairos_model::{limits, Job, Qty, Symbols, Time};
use serde::Deserialize;

use crate::cluster::Cluster;
use crate::error::{input_error, Error, InputError, Pos};
use crate::workload::JobSpec;

/// The columns a pass CSV must have, in order.
pub const COLUMNS: [&str; 9] =
    ["pass_id", "satellite", "norad_id", "station", "region", "aos_utc", "los_utc", "max_elevation_deg", "duration_s"];

/// How passes become jobs (the `passes:` section of a scenario's workload).
#[derive(Clone, Debug, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PassOptions {
    /// Contacts booked per day; default: every pass in the file once.
    pub load_per_day: Option<u32>,
    /// The antenna contact.
    pub contact: ContactOptions,
    /// Processing of the downlink.
    pub processing: ProcessingOptions,
    /// Priority class → satellite name prefixes (first match wins, in class
    /// priority order); other satellites get `default_class`.
    pub classes: BTreeMap<String, Vec<String>>,
    /// Class of satellites no prefix matches.
    pub default_class: String,
}

/// The antenna contact of a pass.
#[derive(Clone, Debug, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ContactOptions {
    /// Share of the window the contact needs, in (0, 1].
    pub fraction: f64,
    /// Minimum contact length, seconds (capped at the window).
    pub min_s: Time,
    /// Resource the contact holds one unit of.
    pub resource: String,
}

/// Processing of a contact's downlink.
#[derive(Clone, Debug, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ProcessingOptions {
    /// Processing seconds per contact second (for the whole downlink).
    pub seconds_per_contact_second: f64,
    /// Granules a downlink is split into, each processed as its own job (in
    /// parallel, each taking its share of the processing time).
    pub granules: u32,
    /// Resources each processing job requests.
    pub request: BTreeMap<String, Qty>,
    /// Deadline after LOS, seconds, per priority class; classes not listed get
    /// `default_latency_s`.
    pub latency_s: BTreeMap<String, Time>,
    /// Deadline after LOS for classes not in `latency_s`.
    pub default_latency_s: Time,
    /// Whether a downlink may be processed in any region (its data moves over
    /// the ground network): the job then selects only `role=processing`, not
    /// its region as well. The job's group stays its region, which is its home
    /// under the `partitioned` architecture.
    pub anywhere: bool,
}

impl Default for PassOptions {
    fn default() -> Self {
        PassOptions {
            load_per_day: None,
            contact: ContactOptions::default(),
            processing: ProcessingOptions::default(),
            classes: BTreeMap::new(),
            default_class: "normal".into(),
        }
    }
}

impl Default for ContactOptions {
    fn default() -> Self {
        ContactOptions { fraction: 1.0, min_s: 0, resource: "antenna".into() }
    }
}

impl Default for ProcessingOptions {
    fn default() -> Self {
        ProcessingOptions {
            seconds_per_contact_second: 1.0,
            granules: 1,
            request: BTreeMap::new(),
            latency_s: BTreeMap::new(),
            default_latency_s: 3600,
            anywhere: false,
        }
    }
}

/// One pass, as read.
#[derive(Clone, Debug, PartialEq)]
pub struct Pass {
    /// `pass_id`.
    pub id: String,
    /// Satellite name.
    pub satellite: String,
    /// Station name.
    pub station: String,
    /// Region.
    pub region: String,
    /// AOS, seconds since time 0.
    pub aos: Time,
    /// LOS, seconds since time 0.
    pub los: Time,
    /// Line in the file.
    pub line: u64,
}

/// Reads the passes of `path`; returns them and time 0 (midnight UTC of the
/// first AOS's day).
pub fn read_passes(path: &Path) -> Result<(Vec<Pass>, jiff::Timestamp), Error> {
    let text = super::read_trace(path)?;
    parse_passes(path, &text)
}

/// Parses pass CSV `text` read from `path`.
pub fn parse_passes(path: &Path, text: &str) -> Result<(Vec<Pass>, jiff::Timestamp), Error> {
    let err = |line: u64, col: u64, m: String| Error::Input(input_error(path, Some(text), Pos::new(line, col), m));
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(text.as_bytes());
    let header = rdr.headers().map_err(|e| err(1, 1, format!("not a CSV file: {e}")))?.clone();
    let got: Vec<&str> = header.iter().collect();
    if got != COLUMNS {
        return Err(err(
            1,
            1,
            format!("expected the pass CSV columns `{}`, got `{}`", COLUMNS.join(","), got.join(",")),
        ));
    }
    let mut raw = Vec::new();
    let mut errors: Vec<InputError> = Vec::new();
    // Where each pass id was first seen: a pass given twice would be booked twice.
    let mut first: HashMap<String, u64> = HashMap::new();
    for rec in rdr.records() {
        if raw.len() >= limits::MAX_JOBS / 2 {
            // Each pass is at least two jobs.
            let line = rec.as_ref().ok().and_then(|r| r.position()).map_or(0, |p| p.line());
            let m = format!("a pass file may have at most {} passes; this row is one more", limits::MAX_JOBS / 2);
            return Err(err(line, 1, m));
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                return Err(err(line, 1, format!("malformed CSV row: {e}")));
            }
        };
        let line = rec.position().map_or(0, |p| p.line());
        let col_of = |i: usize| -> u64 {
            // 1-based column of field i: sum of earlier field lengths + commas.
            (0..i).map(|k| rec.get(k).map_or(0, |f| f.chars().count() as u64 + 1)).sum::<u64>() + 1
        };
        let ts = |i: usize| -> Result<jiff::Timestamp, InputError> {
            rec[i].parse::<jiff::Timestamp>().map_err(|e| {
                input_error(
                    path,
                    Some(text),
                    Pos::new(line, col_of(i)),
                    format!("`{}` must be an ISO 8601 UTC time such as 2023-07-05T00:00:36Z: {e}", COLUMNS[i]),
                )
            })
        };
        let mut bad = false;
        for i in [0, 1, 3, 4] {
            if let Err(m) = limits::name(&rec[i]) {
                errors.push(input_error(path, Some(text), Pos::new(line, col_of(i)), format!("`{}`: {m}", COLUMNS[i])));
                bad = true;
            }
        }
        if rec[0].trim().is_empty() {
            errors.push(input_error(path, Some(text), Pos::new(line, 1), "`pass_id` must not be empty"));
            bad = true;
        } else if let Some(at) = first.get(&rec[0]) {
            errors.push(input_error(
                path,
                Some(text),
                Pos::new(line, 1),
                format!("duplicate pass_id `{}` (first at line {at}): each pass is booked once", &rec[0]),
            ));
            bad = true;
        } else {
            first.insert(rec[0].to_owned(), line);
        }
        match (ts(5), ts(6)) {
            _ if bad => {}
            (Ok(aos), Ok(los)) => {
                if los <= aos {
                    errors.push(input_error(
                        path,
                        Some(text),
                        Pos::new(line, col_of(6)),
                        format!("los_utc {los} is not after aos_utc {aos}"),
                    ));
                    continue;
                }
                if let Err(m) = limits::duration(los.as_second() - aos.as_second()) {
                    errors.push(input_error(
                        path,
                        Some(text),
                        Pos::new(line, col_of(6)),
                        format!("the window from aos_utc to los_utc is too long: {m}"),
                    ));
                    continue;
                }
                raw.push((rec[0].to_owned(), rec[1].to_owned(), rec[3].to_owned(), rec[4].to_owned(), aos, los, line));
            }
            (a, b) => errors.extend(a.err().into_iter().chain(b.err())),
        }
    }
    Error::collect(errors)?;
    let Some(first) = raw.iter().map(|r| r.4).min() else {
        return Err(err(0, 0, "the pass file has no passes".into()));
    };
    // Midnight UTC of the first AOS's day: UTC days are exactly 86,400 s.
    let origin = jiff::Timestamp::from_second(first.as_second().div_euclid(86_400) * 86_400)
        .map_err(|e| err(0, 0, format!("cannot find the start of the day of {first}: {e}")))?;
    let passes: Vec<Pass> = raw
        .into_iter()
        .map(|(id, satellite, station, region, aos, los, line)| Pass {
            id,
            satellite,
            station,
            region,
            aos: aos.as_second() - origin.as_second(),
            los: los.as_second() - origin.as_second(),
            line,
        })
        .collect();
    // Times count from midnight of the first pass's day, so only a file that
    // spans a century can be out of bounds.
    let late: Vec<InputError> = passes
        .iter()
        .filter_map(|p| limits::time(p.los).err().map(|m| (p.line, m)))
        .map(|(line, m)| {
            input_error(path, Some(text), Pos::new(line, 1), format!("`los_utc`, from the first pass's day: {m}"))
        })
        .take(crate::workload::MAX_ERRORS)
        .collect();
    Error::collect(late)?;
    Ok((passes, origin))
}

/// The bounds of the options and of what they make of `passes`: every
/// duration within [`limits::MAX_DURATION`], every quantity within
/// [`limits::MAX_QTY`], and at most [`limits::MAX_JOBS`] jobs in all —
/// checked before any job is made, so a huge `load_per_day` is an error, not
/// an allocation that aborts the process.
fn check_bounds(passes: &[Pass], opts: &PassOptions) -> Result<(), String> {
    if let Some(l) = opts.load_per_day.filter(|&l| l > limits::MAX_LOAD_PER_DAY) {
        return Err(format!("passes.load_per_day must be at most {}, got {l}", limits::MAX_LOAD_PER_DAY));
    }
    let granules = opts.processing.granules;
    if granules > limits::MAX_GRANULES {
        return Err(format!("passes.processing.granules must be at most {}, got {granules}", limits::MAX_GRANULES));
    }
    let mut spans = vec![
        ("passes.contact.min_s".to_owned(), opts.contact.min_s),
        ("passes.processing.default_latency_s".to_owned(), opts.processing.default_latency_s),
    ];
    spans.extend(opts.processing.latency_s.iter().map(|(c, &l)| (format!("passes.processing.latency_s.{c}"), l)));
    for (what, s) in spans {
        limits::span(s).map_err(|m| format!("{what} {m}"))?;
    }
    for (name, &q) in &opts.processing.request {
        limits::qty(q).map_err(|m| format!("passes.processing.request.{name}: {m}"))?;
    }
    // The longest processing job: the longest window, all of it a contact.
    let longest = passes.iter().map(|p| p.los - p.aos).max().unwrap_or(0).max(opts.contact.min_s);
    let processing = (opts.processing.seconds_per_contact_second * longest as f64 / granules.max(1) as f64).ceil();
    if processing > limits::MAX_DURATION as f64 {
        return Err(format!(
            "passes.processing.seconds_per_contact_second makes a processing job of {processing} s; at most {} s (10 years) are allowed",
            limits::MAX_DURATION
        ));
    }
    let contacts = opts.load_per_day.map_or(passes.len(), |l| l as usize);
    let jobs = contacts.saturating_mul(1 + granules.max(1) as usize);
    if jobs > limits::MAX_JOBS {
        return Err(format!(
            "{contacts} contacts of {} jobs each make {jobs} jobs; a workload may have at most {}",
            1 + granules.max(1),
            limits::MAX_JOBS
        ));
    }
    Ok(())
}

/// How many contacts pass `k` of `n` gets at `load` contacts a day.
pub fn contacts_of(k: usize, n: usize, load: usize) -> usize {
    ((k + 1) * load / n) - (k * load / n)
}

/// Turns passes into contact and processing jobs (see the module docs).
pub fn to_jobs(
    passes: &[Pass],
    opts: &PassOptions,
    cluster: &mut Cluster,
    options_pos: Pos,
    scenario: &Path,
    scenario_text: Option<&str>,
) -> Result<Vec<JobSpec>, Error> {
    let bad = |m: String| Error::Input(input_error(scenario, scenario_text, options_pos, m));
    if !(opts.contact.fraction > 0.0 && opts.contact.fraction <= 1.0) {
        return Err(bad(format!("passes.contact.fraction must be in (0, 1], got {}", opts.contact.fraction)));
    }
    if !(opts.processing.seconds_per_contact_second.is_finite() && opts.processing.seconds_per_contact_second > 0.0) {
        return Err(bad("passes.processing.seconds_per_contact_second must be a finite number > 0".into()));
    }
    check_bounds(passes, opts).map_err(bad)?;
    let dims = cluster.resources.dims();
    let antenna = cluster.resources.index(&opts.contact.resource).ok_or_else(|| {
        bad(format!(
            "the cluster declares no resource `{}` for contacts; it declares: {}",
            opts.contact.resource,
            cluster.resources.names().join(", ")
        ))
    })?;
    let mut proc_request = vec![0; dims];
    for (name, &q) in &opts.processing.request {
        let d = cluster.resources.index(name).ok_or_else(|| {
            bad(format!("passes.processing.request names resource `{name}`, which the cluster does not declare; it declares: {}", cluster.resources.names().join(", ")))
        })?;
        proc_request[d] = q;
    }
    let mut ranked: Vec<(String, Vec<String>)> = opts.classes.clone().into_iter().collect();
    ranked.sort_by_key(|(c, _)| std::cmp::Reverse(cluster.priority(c).unwrap_or(0)));
    let class_of = |sat: &str| -> String {
        ranked
            .iter()
            .find(|(_, prefixes)| prefixes.iter().any(|p| sat.starts_with(p.as_str())))
            .map_or_else(|| opts.default_class.clone(), |(c, _)| c.clone())
    };
    for class in opts.classes.keys().chain([&opts.default_class]) {
        if cluster.priority(class).is_none() {
            return Err(bad(format!("priority class `{class}` is not declared by the cluster's priority_classes")));
        }
    }
    let load = opts.load_per_day.map_or(passes.len(), |l| l as usize);
    let classes = cluster.priority_classes.clone();
    let s = &mut cluster.symbols;
    let keys = Keys::new(s);
    let mut jobs = Vec::new();
    for (k, p) in passes.iter().enumerate() {
        let class = class_of(&p.satellite);
        let priority = classes.get(&class).copied().unwrap_or(0);
        let window = p.los - p.aos;
        let contact =
            ((opts.contact.fraction * window as f64).round() as Time).max(opts.contact.min_s).min(window).max(1);
        let granules = opts.processing.granules.max(1);
        let processing =
            ((opts.processing.seconds_per_contact_second * contact as f64 / granules as f64).ceil() as Time).max(1);
        let latency = opts.processing.latency_s.get(&class).copied().unwrap_or(opts.processing.default_latency_s);
        for c in 1..=contacts_of(k, passes.len(), load) {
            let (region, station, sat, cls) =
                (s.intern(&p.region), s.intern(&p.station), s.intern(&p.satellite), s.intern(&class));
            let mut labels = vec![(keys.satellite, sat), (keys.station, station), (keys.pass, s.intern(&p.id))];
            labels.sort();
            let mut request = vec![0; dims];
            request[antenna] = 1;
            let base = Job {
                idx: 0,
                id: String::new(),
                tenant: sat,
                group: region,
                priority_class: cls,
                priority,
                release: p.aos,
                deadline: Some(p.los),
                hard_deadline: true,
                estimate: contact,
                request,
                selector: vec![(keys.station, station)],
                tolerations: Vec::new(),
                labels,
                after: None,
                restartable: true,
            };
            let contact_idx = jobs.len() as u32;
            jobs.push(JobSpec { job: Job { id: format!("p{}-c{c}", p.id), ..base.clone() }, duration: contact });
            let mut selector = vec![(keys.role, keys.processing)];
            if !opts.processing.anywhere {
                selector.push((keys.region, region));
            }
            selector.sort();
            for g in 1..=granules {
                let id = if granules == 1 { format!("p{}-proc{c}", p.id) } else { format!("p{}-proc{c}-g{g}", p.id) };
                jobs.push(JobSpec {
                    job: Job {
                        id,
                        deadline: Some(p.los + latency),
                        hard_deadline: false,
                        estimate: processing,
                        request: proc_request.clone(),
                        selector: selector.clone(),
                        after: Some(contact_idx),
                        restartable: true,
                        ..base.clone()
                    },
                    duration: processing,
                });
            }
        }
    }
    for (i, j) in jobs.iter_mut().enumerate() {
        j.job.idx = i as u32;
    }
    Ok(jobs)
}

struct Keys {
    satellite: kairos_model::Sym,
    station: kairos_model::Sym,
    pass: kairos_model::Sym,
    region: kairos_model::Sym,
    role: kairos_model::Sym,
    processing: kairos_model::Sym,
}

impl Keys {
    fn new(s: &mut Symbols) -> Self {
        Keys {
            satellite: s.intern("satellite"),
            station: s.intern("station"),
            pass: s.intern("pass"),
            region: s.intern("region"),
            role: s.intern("role"),
            processing: s.intern("processing"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::Cluster;

    #[test]
    fn the_load_knob_thins_or_doubles_passes_evenly() {
        let total = |n: usize, l: usize| (0..n).map(|k| contacts_of(k, n, l)).sum::<usize>();
        let cases = [
            ("every pass once at the file's own count", 2012, 2012),
            ("thinned to 800", 2012, 800),
            ("thinned to 1,400", 2012, 1400),
            ("doubled in part to 2,800", 2012, 2800),
        ];
        for (name, n, l) in cases {
            assert_eq!(total(n, l), l, "{name}");
            assert!((0..n).all(|k| contacts_of(k, n, l) <= l.div_ceil(n)), "{name}: no pass gets more than its share");
        }
    }

    #[test]
    fn a_pass_file_with_other_columns_is_refused_with_the_expected_ones() {
        let err = parse_passes(Path::new("p.csv"), "id,aos\n1,2\n").unwrap_err().to_string();
        assert!(err.starts_with("p.csv:1:1: expected the pass CSV columns `pass_id,satellite,"), "{err}");
    }

    #[test]
    fn a_bad_time_names_its_line_and_column() {
        let text = format!("{}\n1,SAT,1,St,r,2023-07-05T00:00:36Z,soon,20,10\n", COLUMNS.join(","));
        let err = parse_passes(Path::new("p.csv"), &text).unwrap_err().to_string();
        assert!(err.starts_with("p.csv:2:35: `los_utc` must be an ISO 8601 UTC time"), "{err}");
    }

    #[test]
    fn a_pass_given_twice_or_too_long_is_refused_at_its_row() {
        let row = |id: &str, los: &str| format!("{id},SAT,1,St,r,2023-07-05T00:00:36Z,{los},20,10\n");
        let cases = [
            (
                "the same pass twice",
                format!("{}{}", row("7", "2023-07-05T00:08:55Z"), row("7", "2023-07-05T00:08:55Z")),
                "p.csv:3:1: duplicate pass_id `7` (first at line 2): each pass is booked once",
            ),
            (
                "a window of more than ten years",
                row("7", "2043-07-05T00:08:55Z"),
                "p.csv:2:35: the window from aos_utc to los_utc is too long: a duration must be within 1..=315576000 seconds (10 years)",
            ),
            ("an empty pass id", row("", "2023-07-05T00:08:55Z"), "p.csv:2:1: `pass_id` must not be empty"),
        ];
        for (case, rows, want) in cases {
            let text = format!("{}\n{rows}", COLUMNS.join(","));
            let err = parse_passes(Path::new("p.csv"), &text).expect_err(case).to_string();
            assert!(err.starts_with(want), "{case}: {err}");
        }
    }

    #[test]
    fn times_count_from_midnight_of_the_first_pass() {
        let text = format!("{}\n1,SAT,1,St,r,2023-07-05T00:00:36Z,2023-07-05T00:08:55Z,22.03,499\n", COLUMNS.join(","));
        let (p, origin) = parse_passes(Path::new("p.csv"), &text).unwrap();
        assert_eq!(origin.to_string(), "2023-07-05T00:00:00Z");
        assert_eq!((p[0].aos, p[0].los), (36, 535));
    }

    const CLUSTER: &str = "resources: [antenna, cpu]\npriority_classes: { high: 100, normal: 0 }\nnodes:\n  - { name: a, region: r, labels: { station: St }, capacity: { antenna: 1 } }\n";

    fn jobs_of(opts: &PassOptions) -> Result<Vec<JobSpec>, Error> {
        let text =
            format!("{}\n7,NOAA 19,1,St,r,2023-07-05T00:10:00Z,2023-07-05T00:20:00Z,40,600\n", COLUMNS.join(","));
        let (passes, _) = parse_passes(Path::new("p.csv"), &text).unwrap();
        let mut cluster = Cluster::parse(Path::new("c.yaml"), CLUSTER).unwrap();
        to_jobs(&passes, opts, &mut cluster, Pos::new(3, 5), Path::new("s.yaml"), None)
    }

    #[test]
    fn a_pass_becomes_a_hard_contact_and_a_processing_job_after_it() {
        let mut opts = PassOptions::default();
        opts.contact.fraction = 0.5;
        opts.processing.seconds_per_contact_second = 2.0;
        opts.processing.request.insert("cpu".into(), 4);
        opts.processing.latency_s.insert("high".into(), 1800);
        opts.classes.insert("high".into(), vec!["NOAA".into()]);
        let jobs = jobs_of(&opts).unwrap();
        let (c, p) = (&jobs[0], &jobs[1]);
        assert_eq!(
            (c.job.id.as_str(), c.job.release, c.job.deadline, c.job.hard_deadline),
            ("p7-c1", 600, Some(1200), true)
        );
        assert_eq!(
            (c.duration, c.job.estimate, c.job.request.as_slice(), c.job.priority),
            (300, 300, &[1, 0][..], 100)
        );
        assert_eq!(
            (p.job.id.as_str(), p.job.after, p.job.deadline, p.job.hard_deadline),
            ("p7-proc1", Some(0), Some(3000), false)
        );
        assert_eq!((p.duration, p.job.request.as_slice()), (600, &[0, 4][..]));
    }

    #[test]
    fn bad_pass_options_point_at_the_scenario() {
        type Change = fn(&mut PassOptions);
        let cases: [(&str, Change, &str); 8] = [
            ("a zero contact fraction", |o| o.contact.fraction = 0.0, "s.yaml:3:5: passes.contact.fraction must be in (0, 1], got 0"),
            ("an undeclared processing resource", |o| {
                o.processing.request.insert("gpu".into(), 1);
            }, "s.yaml:3:5: passes.processing.request names resource `gpu`, which the cluster does not declare; it declares: antenna, cpu"),
            ("an undeclared priority class", |o| o.default_class = "urgent".into(), "s.yaml:3:5: priority class `urgent` is not declared by the cluster's priority_classes"),
            ("a contact resource the cluster lacks", |o| o.contact.resource = "dish".into(), "s.yaml:3:5: the cluster declares no resource `dish` for contacts; it declares: antenna, cpu"),
            ("four billion contacts a day", |o| o.load_per_day = Some(u32::MAX), "s.yaml:3:5: passes.load_per_day must be at most 1000000, got 4294967295"),
            ("granules past the limit", |o| o.processing.granules = 5000, "s.yaml:3:5: passes.processing.granules must be at most 1000, got 5000"),
            ("a latency of i64::MAX", |o| o.processing.default_latency_s = i64::MAX, "s.yaml:3:5: passes.processing.default_latency_s must be within 0..=315576000 seconds (10 years), got 9223372036854775807"),
            ("processing that would take centuries", |o| o.processing.seconds_per_contact_second = 1e12, "s.yaml:3:5: passes.processing.seconds_per_contact_second makes a processing job of 600000000000000 s; at most 315576000 s (10 years) are allowed"),
        ];
        for (name, change, want) in cases {
            let mut opts = PassOptions::default();
            change(&mut opts);
            let err = jobs_of(&opts).err().unwrap_or_else(|| panic!("{name}: no error")).to_string();
            assert_eq!(err, want, "{name}");
        }
    }
}
