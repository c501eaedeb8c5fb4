//! The Standard Workload Format (SWF) of the Parallel Workloads Archive.
//!
//! An SWF trace is a text file, often gzip-compressed, of one job a line with
//! 18 whitespace-separated numeric fields, `-1` meaning unknown; lines starting
//! with `;` form the header (installation, `UnixStartTime`, notes). Spec:
//! <http://www.cs.huji.ac.il/labs/parallel/workload/swf.html>.
//!
//! How a line becomes a job:
//!
//! | job | from |
//! | --- | --- |
//! | `id` | field 1, job number, as written |
//! | `release` | field 2, submit time |
//! | duration | field 4, run time |
//! | `request[cpu_resource]` | field 8, requested processors; field 5, allocated, when 8 is −1 |
//! | `estimate` | field 9, requested time ([`SwfEstimate::Requested`], falling back to the run time when unknown) or the run time ([`SwfEstimate::Actual`]) |
//! | `tenant` | `u<field 12>` (user), `default` when −1 |
//! | `group` | `g<field 13>` (group), `default` when −1 |
//! | `deadline` | `release + ⌈deadline_factor × estimate⌉`, soft, when the factor is set |
//!
//! A line whose submit time, run time or processor count is unknown or not
//! positive is not a job: it goes to [`Workload::skipped`] with its line and
//! the reason. A line with a wrong number of fields or a non-number is an error
//! with line and column. The `;` lines are kept in [`Workload::header`] so that
//! reports can show where the trace came from (the archive asks for it).

use std::path::Path;

use kairos_model::{limits, Time};
use serde::Deserialize;

use super::{build, finish, Errors, Field, RawJob, Row, Skipped, Workload};
use crate::cluster::Cluster;
use crate::error::{Error, Pos};

/// How SWF fields become jobs.
#[derive(Clone, Debug, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SwfOptions {
    /// The cluster resource that processor counts are requested in (default `cpu`).
    pub cpu_resource: String,
    /// What the scheduler sees as a job's run time (default: the requested time).
    pub estimate: SwfEstimate,
    /// When set, every job gets a soft deadline `release + factor × estimate`.
    pub deadline_factor: Option<f64>,
    /// Read only the first N job lines (skipped ones included).
    pub limit: Option<usize>,
}

impl Default for SwfOptions {
    fn default() -> Self {
        SwfOptions {
            cpu_resource: "cpu".to_owned(),
            estimate: SwfEstimate::Requested,
            deadline_factor: None,
            limit: None,
        }
    }
}

/// Where a job's estimate comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SwfEstimate {
    /// Field 9, the user's requested time (wall limit), as a real scheduler
    /// sees it; the run time when field 9 is unknown or ≤ 0.
    #[default]
    Requested,
    /// The actual run time: a scheduler with perfect estimates.
    Actual,
}

/// Fields per line.
const FIELD_COUNT: usize = 18;

/// What each field is, for messages.
const FIELD_NAMES: [&str; FIELD_COUNT] = [
    "job number",
    "submit time",
    "wait time",
    "run time",
    "allocated processors",
    "average CPU time",
    "used memory",
    "requested processors",
    "requested time",
    "requested memory",
    "status",
    "user id",
    "group id",
    "executable number",
    "queue number",
    "partition number",
    "preceding job number",
    "think time",
];

/// The first two bytes of every gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads the SWF trace at `path`, gzip or plain (told by its first bytes, not
/// its name), against `cluster`.
pub fn load(path: &Path, options: &SwfOptions, cluster: &mut Cluster) -> Result<Workload, Error> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let mut bytes = crate::input::read_bytes(path, limits::MAX_FILE_BYTES)?;
    if bytes.starts_with(&GZIP_MAGIC) {
        // Bounded by what it decompresses to, too: a small gzip file may
        // stand for an endless one.
        bytes = crate::input::read_all(path, flate2::read::MultiGzDecoder::new(&bytes[..]), limits::MAX_FILE_BYTES)?;
    }
    let text = String::from_utf8(bytes).map_err(|e| io(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?;
    parse(path, &crate::input::one_kind_of_line_break(text), options, cluster)
}

/// Reads the SWF trace `text` of file `path` against `cluster`.
pub fn parse(path: &Path, text: &str, options: &SwfOptions, cluster: &mut Cluster) -> Result<Workload, Error> {
    if let Some(f) = options.deadline_factor {
        if !(f.is_finite() && f > 0.0) {
            return Err(Error::Usage(format!("SWF `deadline_factor` must be a finite number > 0, got {f}")));
        }
    }
    if cluster.resources.index(&options.cpu_resource).is_none() {
        // An option's error (not a line of the trace): the scenario points it
        // at its `swf:` options.
        return Err(Error::Usage(format!(
            "SWF processor counts go to resource `{}`, which the cluster does not declare \
                 (it declares: {}); set `cpu_resource`",
            options.cpu_resource,
            cluster.resources.names().join(", ")
        )));
    }
    let mut errors = Errors::new(path, text);
    let mut header = Vec::new();
    let mut skipped = Vec::new();
    let mut rows = Vec::new();
    let mut read = 0;
    for (n, line) in text.lines().enumerate() {
        let line_no = n as u64 + 1;
        let trimmed = line.trim_start();
        if trimmed.starts_with(';') {
            header.push(line.to_owned());
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if options.limit.is_some_and(|l| read >= l) {
            break;
        }
        read += 1;
        match row(line_no, line, options, &mut errors) {
            Some(Ok(raw)) => rows.push(Row::Job(Box::new(raw))),
            Some(Err(skip)) => skipped.push(skip),
            None => rows.push(Row::Broken(None)),
        }
        if rows.len() > limits::MAX_JOBS {
            break; // `build` refuses the row past the limit; the rest is not read
        }
    }
    let jobs = build(rows, cluster, &mut errors);
    finish(path, jobs, skipped, header, errors)
}

/// One job line: a job, a skipped row, or `None` after reporting errors.
fn row(line_no: u64, line: &str, options: &SwfOptions, errors: &mut Errors<'_>) -> Option<Result<RawJob, Skipped>> {
    let tokens = tokens(line);
    if tokens.len() != FIELD_COUNT {
        let col = match tokens.get(FIELD_COUNT) {
            Some(&(col, _)) => col,
            None => line.trim_end().chars().count() as u64 + 1,
        };
        errors.at(Pos::new(line_no, col), format!("expected {FIELD_COUNT} fields, found {}", tokens.len()));
        return None;
    }
    let before = errors.len();
    let mut value = [0i64; FIELD_COUNT];
    for (i, &(col, text)) in tokens.iter().enumerate() {
        let at = Pos::new(line_no, col);
        if let Ok(v) = text.parse::<i64>() {
            value[i] = v;
            continue;
        }
        match text.parse::<f64>() {
            // Fields kairos does not read may be fractional (average CPU time).
            Ok(x) if x.is_finite() && !USED.contains(&i) => {}
            Ok(_) => {
                errors.at(at, format!("field {} ({}) must be a whole number, got `{text}`", i + 1, FIELD_NAMES[i]))
            }
            Err(_) => errors.at(at, format!("field {} ({}) is not a number: `{text}`", i + 1, FIELD_NAMES[i])),
        }
    }
    if errors.len() > before {
        return None;
    }
    let field = |i: usize| Field::new(value[i], Pos::new(line_no, tokens[i].0));
    let id = tokens[0].1.to_owned();
    let (submit, run) = (value[1], value[3]);
    let procs_field = if value[7] == -1 { 4 } else { 7 };
    let procs = value[procs_field];
    let skip = if submit < 0 {
        Some((1, unknown_or("submit time", submit)))
    } else if run <= 0 {
        Some((3, unknown_or("run time", run)))
    } else if value[7] == -1 && value[4] == -1 {
        Some((7, "processor count is unknown (fields 8 and 5 are -1)".to_owned()))
    } else if procs <= 0 {
        Some((procs_field, format!("requests {procs} processors (field {})", procs_field + 1)))
    } else {
        None
    };
    if let Some((i, reason)) = skip {
        return Some(Err(Skipped { pos: field(i).pos, id, reason }));
    }
    let requested = value[8];
    let estimate = match options.estimate {
        SwfEstimate::Requested if requested > 0 => field(8),
        _ => field(3),
    };
    let deadline = options.deadline_factor.map(|f| {
        let slack = (f * estimate.value as f64).ceil();
        Field::new(submit.saturating_add(slack.min(Time::MAX as f64) as Time), estimate.pos)
    });
    let name = |prefix: &str, i: usize| {
        (value[i] >= 0).then(|| Field::new(format!("{prefix}{}", value[i]), Pos::new(line_no, tokens[i].0)))
    };
    Some(Ok(RawJob {
        id: Field::new(id, Pos::new(line_no, tokens[0].0)),
        tenant: name("u", 11),
        group: name("g", 12),
        release: field(1),
        duration: field(3),
        estimate: Some(estimate),
        deadline,
        request: vec![(Field::new(options.cpu_resource.clone(), field(procs_field).pos), procs as u64)],
        ..RawJob::default()
    }))
}

/// The fields kairos reads (0-based): they must be whole numbers.
const USED: [usize; 8] = [0, 1, 3, 4, 7, 8, 11, 12];

/// "run time is unknown (-1)" or "run time is 0 s".
fn unknown_or(what: &str, seconds: i64) -> String {
    match seconds {
        -1 => format!("{what} is unknown (-1)"),
        v => format!("{what} is {v} s"),
    }
}

/// The whitespace-separated tokens of `line`, each with its 1-based column.
fn tokens(line: &str) -> Vec<(u64, &str)> {
    let mut out = Vec::with_capacity(FIELD_COUNT);
    let mut start: Option<(u64, usize)> = None;
    for (col, (i, c)) in line.char_indices().enumerate() {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some((col as u64 + 1, i)),
            (true, Some((col, s))) => {
                out.push((col, &line[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some((col, s)) = start {
        out.push((col, &line[s..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_cases, cluster, fixture, messages};
    use super::*;

    /// The fields of a job line with the given id, submit, run time, allocated
    /// and requested processors and requested time; the rest as in KTH.
    fn line(id: i64, submit: i64, run: i64, alloc: i64, req: i64, req_time: i64) -> String {
        format!("{id} {submit} 0 {run} {alloc} -1 -1 {req} {req_time} -1 1 12 13 -1 -1 -1 -1 -1\n")
    }

    fn parse_swf(text: &str, options: &SwfOptions) -> Result<Workload, Error> {
        parse(Path::new("t.swf"), text, options, &mut cluster())
    }

    #[test]
    fn a_line_maps_to_a_job_as_documented() {
        let text = format!("; Version: 2.2\n{}{}", line(15, 100, 3477, 4, 4, 53940), line(16, 200, 60, 8, -1, -1));
        let mut c = cluster();
        let w = parse(Path::new("t.swf"), &text, &SwfOptions::default(), &mut c).unwrap();
        assert_eq!(w.header, ["; Version: 2.2"]);
        let (a, b) = (&w.jobs[0], &w.jobs[1]);
        assert_eq!((a.job.id.as_str(), a.job.release, a.duration, a.job.estimate), ("15", 100, 3477, 53940));
        assert_eq!(a.job.request, [0, 4, 0], "processors go to `cpu`");
        assert_eq!((c.symbols.name(a.job.tenant), c.symbols.name(a.job.group)), ("u12", "g13"));
        assert_eq!(a.job.deadline, None);
        assert_eq!(b.job.request, [0, 8, 0], "allocated processors stand in for unknown requested ones");
        assert_eq!(b.job.estimate, 60, "an unknown requested time falls back to the run time");
    }

    #[test]
    fn options_choose_the_estimate_the_deadline_the_resource_and_the_limit() {
        let text = format!("{}{}{}", line(1, 0, 100, 2, 2, 1000), line(2, 10, 50, 1, 1, 99), line(3, 20, 5, 1, 1, 9));
        let options = SwfOptions {
            cpu_resource: "antenna".into(),
            estimate: SwfEstimate::Actual,
            deadline_factor: Some(1.5),
            limit: Some(2),
        };
        let w = parse_swf(&text, &options).unwrap();
        assert_eq!(w.jobs.len(), 2);
        let j = &w.jobs[1].job;
        assert_eq!((j.estimate, j.deadline, j.hard_deadline), (50, Some(10 + 75), false));
        assert_eq!(j.request, [1, 0, 0]);
    }

    #[test]
    fn rows_that_cannot_be_jobs_are_skipped_with_line_and_reason() {
        let text = [
            line(1, 0, 100, 2, 2, 1000),
            line(2, 0, -1, 2, 2, 1000),
            line(3, 0, 0, 2, 2, 1000),
            line(4, 0, 100, -1, -1, 1000),
            line(5, 0, 100, 2, 0, 1000),
            line(6, -1, 100, 2, 2, 1000),
        ]
        .concat();
        let w = parse_swf(&text, &SwfOptions::default()).unwrap();
        assert_eq!(w.jobs.len(), 1);
        let skipped: Vec<String> =
            w.skipped.iter().map(|s| format!("{}:{} {}: {}", s.pos.line, s.pos.col, s.id, s.reason)).collect();
        assert_eq!(
            skipped,
            [
                "2:7 2: run time is unknown (-1)",
                "3:7 3: run time is 0 s",
                "4:20 4: processor count is unknown (fields 8 and 5 are -1)",
                "5:19 5: requests 0 processors (field 8)",
                "6:3 6: submit time is unknown (-1)",
            ]
        );
    }

    #[test]
    fn every_malformed_trace_is_refused_with_line_and_column() {
        let opts = SwfOptions::default();
        let cases = [
            (
                "a line with too few fields",
                "; h\n1 0 0 5 1\n".to_owned(),
                &opts,
                vec!["t.swf:2:10: expected 18 fields, found 5"],
            ),
            (
                "a line with too many fields",
                "1 0 0 5 1 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1 7\n".to_owned(),
                &opts,
                vec!["t.swf:1:45: expected 18 fields, found 19"],
            ),
            (
                "a non-number",
                "1 0 0 5x 1 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1\n".to_owned(),
                &opts,
                vec!["t.swf:1:7: field 4 (run time) is not a number: `5x`"],
            ),
            (
                "a fractional field that kairos uses",
                "1 0 0 5 1.5 -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1\n".to_owned(),
                &opts,
                vec!["t.swf:1:9: field 5 (allocated processors) must be a whole number, got `1.5`"],
            ),
            (
                "a duplicate job number",
                format!("{}{}", line(1, 0, 5, 1, 1, 5), line(1, 0, 5, 1, 1, 5)),
                &opts,
                vec!["t.swf:2:1: duplicate job id `1` (first at 1:1)"],
            ),
            ("only a header", "; Version: 2.2\n".to_owned(), &opts, vec!["t.swf: no jobs"]),
            (
                "only skipped rows",
                line(9, 0, -1, 1, 1, 5),
                &opts,
                vec!["t.swf: no jobs: the only row was skipped (line 1: run time is unknown (-1))"],
            ),
        ];
        assert_cases(
            cases
                .into_iter()
                .map(|(case, text, options, want)| (case, messages(&parse_swf(&text, options).unwrap_err()), want)),
        );
    }

    #[test]
    fn fractional_fields_that_kairos_does_not_read_are_accepted() {
        let w = parse_swf("1 0 0 5 1 2.75 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1\n", &SwfOptions::default()).unwrap();
        assert_eq!(w.jobs.len(), 1);
    }

    #[test]
    fn options_the_cluster_cannot_honour_are_refused() {
        let text = line(1, 0, 5, 1, 1, 5);
        let gpu = SwfOptions { cpu_resource: "gpu".into(), ..SwfOptions::default() };
        assert_eq!(
            parse_swf(&text, &gpu).unwrap_err().to_string(),
            "SWF processor counts go to resource `gpu`, which the cluster does not declare \
             (it declares: antenna, cpu, memory); set `cpu_resource`"
        );
        let negative = SwfOptions { deadline_factor: Some(-1.0), ..SwfOptions::default() };
        assert_eq!(
            parse_swf(&text, &negative).unwrap_err().to_string(),
            "SWF `deadline_factor` must be a finite number > 0, got -1"
        );
    }

    #[test]
    fn options_read_from_yaml_have_defaults_and_refuse_unknown_fields() {
        let o: SwfOptions = crate::yaml::parse(Path::new("s.yaml"), "estimate: actual\nlimit: 10\n").unwrap();
        assert_eq!(o, SwfOptions { estimate: SwfEstimate::Actual, limit: Some(10), ..SwfOptions::default() });
        let e = crate::yaml::parse::<SwfOptions>(Path::new("s.yaml"), "cpus: x\n").unwrap_err();
        assert!(e.to_string().starts_with("s.yaml:1:1: unknown field `cpus`"), "{e}");
    }

    #[test]
    fn a_bad_field_renders_with_a_snippet() {
        let text = format!("; Version: 2.2\n{}1 0 0 5 x -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1\n", line(0, 0, 5, 1, 1, 5));
        insta::assert_snapshot!(parse_swf(&text, &SwfOptions::default()).unwrap_err().to_string(), @r"
        t.swf:3:9: field 5 (allocated processors) is not a number: `x`
         --> t.swf:3:9
          |
        1 | ; Version: 2.2
        2 | 0 0 0 5 1 -1 -1 1 5 -1 1 12 13 -1 -1 -1 -1 -1
        3 | 1 0 0 5 x -1 -1 1 5 -1 1 1 1 -1 -1 -1 -1 -1
          |         ^ field 5 (allocated processors) is not a number: `x`
        ");
    }

    #[test]
    fn the_fixture_trace_loads_with_its_header_and_skipped_rows() {
        let mut c = cluster();
        let w = load(&fixture("small.swf"), &SwfOptions::default(), &mut c).unwrap();
        assert_eq!((w.jobs.len(), w.skipped.len(), w.header.len()), (6, 2, 4));
        assert_eq!(w.skipped[0].reason, "run time is unknown (-1)");
    }

    #[test]
    fn gzip_is_told_by_content() {
        use std::io::Write;
        let text = std::fs::read(fixture("small.swf")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let path = std::env::temp_dir().join(format!("kairos-swf-test-{}.swf.gz", std::process::id()));
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let w = load(&path, &SwfOptions::default(), &mut cluster());
        std::fs::remove_file(&path).unwrap();
        assert_eq!(w.unwrap().jobs.len(), 6);
    }

    #[test]
    fn the_kth_sp2_trace_loads_every_job() {
        let path = Path::new("/work/shared/workloads/KTH-SP2-1996-2.1-cln.swf.gz");
        if !path.exists() {
            eprintln!("note: {} is missing; skipping the KTH SP2 test", path.display());
            return;
        }
        let mut c = Cluster::parse(
            Path::new("kth.yaml"),
            "resources: [cpu]\nnodes: [{ name: sp2, count: 100, region: kth, capacity: { cpu: 1 } }]\n",
        )
        .unwrap();
        let w = load(path, &SwfOptions::default(), &mut c).unwrap();
        assert_eq!((w.jobs.len(), w.skipped.len()), (27_992, 0));
        assert_eq!(w.header.len(), 24);
        assert_eq!(w.header[0], "; Version: 2.2");
        assert!(w.header.iter().any(|l| l.contains("Acknowledge: Lars Malinowsky")));
        let first = &w.jobs[0];
        assert_eq!(
            (first.job.id.as_str(), first.job.release, first.duration, first.job.estimate),
            ("15", 599_850, 3477, 53_940)
        );
        assert!(w.jobs.iter().all(|j| j.job.request[0] >= 1 && j.job.request[0] <= 100));
    }
}
