//! Workloads: the jobs to schedule, read from a file and checked against a cluster.
//!
//! Three formats are read, each in its own module:
//!
//! - [`csv`]: the project's own CSV, one job a row;
//! - [`yaml`]: the project's own YAML, a `jobs:` list;
//! - [`swf`]: the Standard Workload Format of the Parallel Workloads Archive
//!   (HPC traces), plain or gzip.
//!
//! Loading runs in three steps:
//!
//! 1. the format module reads its file into rows, reporting what is
//!    malformed in that format (a non-number, an unknown column) with its
//!    position; a *trace* row that is well formed but cannot be a job (an
//!    unknown run time) goes to [`Workload::skipped`], never silently away;
//! 2. the same checks for every format — unique ids, positive durations, and
//!    resources, priority classes and `after` references that the cluster and
//!    the workload know — turn the rows into [`JobSpec`]s, interning names into
//!    the cluster's symbols;
//! 3. all problems of steps 1 and 2 are returned together (up to
//!    [`MAX_ERRORS`]), each with file:line:column and a snippet.

pub mod csv;
pub mod passes;
pub mod swf;
pub mod yaml;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use kairos_model::{limits, Job, JobId, Qty, Symbols, Time, Toleration};

use crate::cluster::Cluster;
use crate::error::{input_error, Error, InputError, Pos};

pub use swf::{SwfEstimate, SwfOptions};

/// A job together with what only the simulator may know about it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobSpec {
    /// The job as the scheduler sees it; `job.estimate` is what it plans with.
    pub job: Job,
    /// The actual run time, seconds (> 0): when the simulator ends the job.
    pub duration: Time,
}

/// A row of a trace that cannot be a job (an unknown run time, no processors):
/// reported, never silently dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where the row is.
    pub pos: Pos,
    /// The row's job id as written.
    pub id: String,
    /// Why it is not a job.
    pub reason: String,
}

/// A loaded and checked workload.
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// The jobs, in file order; `jobs[i].job.idx == i`.
    pub jobs: Vec<JobSpec>,
    /// Trace rows that are not jobs, with why.
    pub skipped: Vec<Skipped>,
    /// Provenance lines the file carries (an SWF trace's `;` header), as written;
    /// empty for the other formats.
    pub header: Vec<String>,
    /// The file the workload was read from.
    pub path: PathBuf,
}

/// The file formats a workload can be read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The project's CSV (`.csv`).
    Csv,
    /// The project's YAML (`.yaml`, `.yml`).
    Yaml,
    /// Standard Workload Format (`.swf`, `.swf.gz`).
    Swf,
}

/// Where a workload comes from and how to read it.
///
/// New sources are new variants: each needs an arm in [`WorkloadSource::path`]
/// and in [`load`], nothing else.
#[derive(Clone, Debug, PartialEq)]
pub enum WorkloadSource {
    /// The project's CSV.
    Csv {
        /// The file.
        path: PathBuf,
    },
    /// The project's YAML.
    Yaml {
        /// The file.
        path: PathBuf,
    },
    /// An SWF trace, plain or gzip.
    Swf {
        /// The file.
        path: PathBuf,
        /// How trace fields become jobs.
        options: SwfOptions,
    },
}

impl WorkloadSource {
    /// The source for `path`, its format told by [`detect`]; SWF traces get the
    /// default [`SwfOptions`].
    pub fn from_path(path: &Path) -> Result<WorkloadSource, Error> {
        let path = path.to_owned();
        Ok(match detect(&path)? {
            Format::Csv => WorkloadSource::Csv { path },
            Format::Yaml => WorkloadSource::Yaml { path },
            Format::Swf => WorkloadSource::Swf { path, options: SwfOptions::default() },
        })
    }

    /// The file read.
    pub fn path(&self) -> &Path {
        match self {
            WorkloadSource::Csv { path } | WorkloadSource::Yaml { path } | WorkloadSource::Swf { path, .. } => path,
        }
    }
}

/// The format of the workload file `path`, told by its extension (any case):
/// `.csv`, `.yaml`/`.yml`, `.swf` or `.swf.gz`.
pub fn detect(path: &Path) -> Result<Format, Error> {
    let name = path.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
    let format = if name.ends_with(".csv") {
        Format::Csv
    } else if name.ends_with(".yaml") || name.ends_with(".yml") {
        Format::Yaml
    } else if name.ends_with(".swf") || name.ends_with(".swf.gz") {
        Format::Swf
    } else {
        return Err(Error::at(
            path,
            None,
            Pos::default(),
            "cannot tell the workload format from the file name: expected .csv, .yaml, .yml, .swf or .swf.gz",
        ));
    };
    Ok(format)
}

/// Reads the workload `spec` names and checks it against `cluster`, whose
/// symbols it extends with the workload's names.
pub fn load(spec: &WorkloadSource, cluster: &mut Cluster) -> Result<Workload, Error> {
    match spec {
        WorkloadSource::Csv { path } => csv::parse(path, &read_trace(path)?, cluster),
        WorkloadSource::Yaml { path } => yaml::parse(path, &crate::yaml::read(path)?, cluster),
        WorkloadSource::Swf { path, options } => swf::load(path, options, cluster),
    }
}

/// Reads a trace (CSV, passes): a regular text file of at most
/// [`limits::MAX_FILE_BYTES`].
pub(crate) fn read_trace(path: &Path) -> Result<String, Error> {
    crate::input::read_text(path, limits::MAX_FILE_BYTES)
}

// ---- shared checks --------------------------------------------------------------

/// At most this many errors are reported at once: enough to show a pattern in a
/// bad file, few enough to read; a broken 30,000-row trace would otherwise print
/// 30,000 snippets.
pub const MAX_ERRORS: usize = 50;

/// A value read from a file, with where it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field<T> {
    pub(crate) value: T,
    pub(crate) pos: Pos,
}

impl<T> Field<T> {
    pub(crate) fn new(value: T, pos: Pos) -> Self {
        Field { value, pos }
    }
}

impl<T> From<&crate::yaml::Spanned<T>> for Field<T>
where
    T: Clone,
{
    fn from(s: &crate::yaml::Spanned<T>) -> Self {
        Field { value: s.value.clone(), pos: Pos::of(s) }
    }
}

/// One job as a format module read it, before the shared checks. Names are
/// still strings; `None` and empty strings mean "default".
#[derive(Clone, Debug, Default)]
pub(crate) struct RawJob {
    pub(crate) id: Field<String>,
    pub(crate) tenant: Option<Field<String>>,
    pub(crate) group: Option<Field<String>>,
    /// A priority class name or an integer.
    pub(crate) priority: Option<Field<String>>,
    pub(crate) release: Field<Time>,
    pub(crate) deadline: Option<Field<Time>>,
    pub(crate) hard: Option<Field<bool>>,
    pub(crate) duration: Field<Time>,
    pub(crate) estimate: Option<Field<Time>>,
    pub(crate) request: Vec<(Field<String>, Qty)>,
    pub(crate) selector: Vec<(Field<String>, String)>,
    pub(crate) tolerations: Vec<(Field<String>, Option<String>)>,
    pub(crate) labels: Vec<(Field<String>, String)>,
    pub(crate) after: Option<Field<String>>,
    pub(crate) restartable: Option<Field<bool>>,
}

impl<T: Default> Default for Field<T> {
    fn default() -> Self {
        Field { value: T::default(), pos: Pos::default() }
    }
}

/// A row as read by a format module.
#[derive(Clone, Debug)]
pub(crate) enum Row {
    /// A well-formed row, to check and build.
    Job(Box<RawJob>),
    /// A row whose format errors were already reported. Its id, when readable,
    /// still counts as taken, so that `after` references to it and duplicates of
    /// it are not reported a second time.
    Broken(Option<Field<String>>),
}

/// Errors of one file, with its text for snippets.
pub(crate) struct Errors<'a> {
    pub(crate) path: &'a Path,
    pub(crate) text: &'a str,
    pub(crate) list: Vec<InputError>,
}

impl<'a> Errors<'a> {
    pub(crate) fn new(path: &'a Path, text: &'a str) -> Self {
        Errors { path, text, list: Vec::new() }
    }

    /// Records an error at `pos`.
    pub(crate) fn at(&mut self, pos: Pos, message: impl Into<String>) {
        // Snippets cost a pass over the text; past the cap they are not shown.
        let source = (self.list.len() < MAX_ERRORS).then_some(self.text);
        self.list.push(input_error(self.path, source, pos, message));
    }

    /// The number of errors so far.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// `Ok` when nothing was recorded; otherwise every error, up to
    /// [`MAX_ERRORS`] and a last line saying how many more there were.
    pub(crate) fn finish(mut self) -> Result<(), Error> {
        if self.list.len() > MAX_ERRORS {
            let more = self.list.len() - MAX_ERRORS;
            self.list.truncate(MAX_ERRORS);
            self.list.push(input_error(self.path, None, Pos::default(), format!("… and {more} more errors")));
        }
        Error::collect(self.list)
    }
}

/// Step 2: checks `rows` against each other and `cluster`, and builds the jobs.
/// Rows with problems add errors and no job; `job.idx` counts only the rows
/// that became jobs.
pub(crate) fn build(rows: Vec<Row>, cluster: &mut Cluster, errors: &mut Errors<'_>) -> Vec<JobSpec> {
    // Where each id first appears, to tell "comes later" from "unknown" in `after`.
    let mut anywhere: HashMap<String, Pos> = HashMap::new();
    for row in &rows {
        let id = match row {
            Row::Job(r) => Some(&r.id),
            Row::Broken(id) => id.as_ref(),
        };
        if let Some(id) = id {
            anywhere.entry(id.value.clone()).or_insert(id.pos);
        }
    }
    if let Some(extra) = rows.get(limits::MAX_JOBS) {
        let pos = match extra {
            Row::Job(r) => r.id.pos,
            Row::Broken(id) => id.as_ref().map_or(Pos::default(), |id| id.pos),
        };
        errors.at(pos, too_many_jobs());
        return Vec::new();
    }
    // Ids seen so far: where, and the job index (None for a row with errors).
    let mut seen: HashMap<String, (Pos, Option<JobId>)> = HashMap::new();
    let mut jobs = Vec::with_capacity(rows.len());
    for row in rows {
        let raw = match row {
            Row::Job(raw) => raw,
            Row::Broken(id) => {
                if let Some(id) = id {
                    seen.entry(id.value).or_insert((id.pos, None));
                }
                continue;
            }
        };
        let before = errors.len();
        let job = check(&raw, jobs.len() as JobId, cluster, &seen, &anywhere, errors);
        let ok = errors.len() == before;
        let idx = ok.then_some(jobs.len() as JobId);
        if let std::collections::hash_map::Entry::Vacant(v) = seen.entry(raw.id.value) {
            v.insert((raw.id.pos, idx));
        }
        if ok {
            jobs.push(JobSpec { job, duration: raw.duration.value });
        }
    }
    jobs
}

/// The error at the row one past [`limits::MAX_JOBS`].
pub(crate) fn too_many_jobs() -> String {
    format!("a workload may have at most {} jobs; this row is one more", limits::MAX_JOBS)
}

/// The checks of one row; returns the job (meaningful only if no error was added).
fn check(
    raw: &RawJob,
    idx: JobId,
    cluster: &mut Cluster,
    seen: &HashMap<String, (Pos, Option<JobId>)>,
    anywhere: &HashMap<String, Pos>,
    errors: &mut Errors<'_>,
) -> Job {
    let id = &raw.id.value;
    if id.trim().is_empty() {
        errors.at(raw.id.pos, "a job id must not be empty");
    } else if let Some((first, _)) = seen.get(id) {
        errors.at(raw.id.pos, format!("duplicate job id `{id}` (first at {}:{})", first.line, first.col));
    }
    check_names(raw, errors);
    if let Err(m) = limits::time(raw.release.value) {
        errors.at(raw.release.pos, format!("`release`: {m}"));
    }
    for (what, d) in std::iter::once(("duration", &raw.duration)).chain(raw.estimate.iter().map(|e| ("estimate", e))) {
        if d.value <= 0 {
            errors.at(d.pos, format!("{what} must be > 0 s, got {}", d.value));
        } else if let Err(m) = limits::duration(d.value) {
            errors.at(d.pos, format!("`{what}`: {m}"));
        }
    }
    if let Some(d) = &raw.deadline {
        if d.value < raw.release.value {
            errors.at(d.pos, format!("deadline {} is before release {}", d.value, raw.release.value));
        } else if let Err(m) = limits::time(d.value) {
            errors.at(d.pos, format!("`deadline`: {m}"));
        }
    }
    let hard = raw.hard.as_ref().is_some_and(|h| h.value);
    if let (true, Some(h), None) = (hard, &raw.hard, &raw.deadline) {
        errors.at(h.pos, "`hard` is true but the job has no deadline");
    }

    let resources = &cluster.resources;
    let mut request = vec![0; resources.dims()];
    let mut named = vec![false; resources.dims()];
    for (name, qty) in &raw.request {
        match resources.index(&name.value) {
            Some(d) if named[d] => errors.at(name.pos, format!("resource `{}` is requested twice", name.value)),
            Some(_) if limits::qty(*qty).is_err() => {
                errors.at(name.pos, format!("`{}`: {}", name.value, limits::qty(*qty).unwrap_err()))
            }
            Some(d) => {
                request[d] = *qty;
                named[d] = true;
            }
            None => errors.at(
                name.pos,
                format!(
                    "unknown resource `{}` in request; the cluster declares: {}",
                    name.value,
                    resources.names().join(", ")
                ),
            ),
        }
    }

    let (priority_class, priority) = match &raw.priority {
        None => (Symbols::EMPTY, 0),
        Some(p) if p.value.trim().is_empty() => (Symbols::EMPTY, 0),
        Some(p) => {
            let name = p.value.trim();
            if let Ok(n) = name.parse::<i32>() {
                (Symbols::EMPTY, n)
            } else if let Some(n) = cluster.priority(name) {
                (cluster.symbols.intern(name), n)
            } else {
                let declared = if cluster.priority_classes.is_empty() {
                    "the cluster declares none".to_owned()
                } else {
                    let names: Vec<&str> = cluster.priority_classes.keys().map(String::as_str).collect();
                    format!("the cluster declares: {}", names.join(", "))
                };
                errors.at(p.pos, format!("unknown priority class `{name}`; {declared} (or give an integer priority)"));
                (Symbols::EMPTY, 0)
            }
        }
    };

    let after = raw.after.as_ref().filter(|a| !a.value.trim().is_empty()).and_then(|a| {
        let name = a.value.as_str();
        match (seen.get(name), anywhere.get(name)) {
            (Some((_, Some(j))), _) => Some(*j),
            // The row it names had errors of its own, already reported.
            (Some((_, None)), _) => None,
            (None, _) if name == id => {
                errors.at(a.pos, format!("job `{id}` cannot run `after` itself"));
                None
            }
            (None, Some(at)) => {
                errors.at(
                    a.pos,
                    format!(
                        "`after` names job `{name}`, which comes later (at {}:{}); a job can only wait for an earlier one",
                        at.line, at.col
                    ),
                );
                None
            }
            (None, None) => {
                errors.at(a.pos, format!("`after` names unknown job `{name}`"));
                None
            }
        }
    });

    let symbols = &mut cluster.symbols;
    let selector = pairs(&raw.selector, "selector", symbols, errors);
    let labels = pairs(&raw.labels, "label", symbols, errors);
    let mut tolerations = Vec::with_capacity(raw.tolerations.len());
    for (key, value) in &raw.tolerations {
        if key.value.trim().is_empty() {
            errors.at(key.pos, "a toleration needs a key");
        }
        tolerations
            .push(Toleration { key: symbols.intern(&key.value), value: value.as_deref().map(|v| symbols.intern(v)) });
    }
    let name_or_default = |f: &Option<Field<String>>, symbols: &mut Symbols| {
        let name = f.as_ref().map(|f| f.value.trim()).filter(|n| !n.is_empty()).unwrap_or("default");
        symbols.intern(name)
    };
    let tenant = name_or_default(&raw.tenant, symbols);
    let group = name_or_default(&raw.group, symbols);

    Job {
        idx,
        id: id.clone(),
        tenant,
        group,
        priority_class,
        priority,
        release: raw.release.value,
        deadline: raw.deadline.as_ref().map(|d| d.value),
        hard_deadline: hard,
        estimate: raw.estimate.as_ref().map_or(raw.duration.value, |e| e.value),
        request,
        selector,
        tolerations,
        labels,
        restartable: raw.restartable.as_ref().is_none_or(|r| r.value),
        after,
    }
}

/// The bounds of a row's names (each at most [`limits::MAX_NAME_BYTES`]) and
/// of its lists (each at most [`limits::MAX_LABELS`] items).
fn check_names(raw: &RawJob, errors: &mut Errors<'_>) {
    let one = |f: &Field<String>, what: &str, errors: &mut Errors<'_>| {
        if let Err(m) = limits::name(&f.value) {
            errors.at(f.pos, format!("{what}: {m}"));
        }
    };
    one(&raw.id, "the job id", errors);
    for (f, what) in
        [(&raw.tenant, "`tenant`"), (&raw.group, "`group`"), (&raw.priority, "`priority`"), (&raw.after, "`after`")]
    {
        if let Some(f) = f {
            one(f, what, errors);
        }
    }
    for (what, list) in [("selector", &raw.selector), ("labels", &raw.labels)] {
        if let Some((k, _)) = list.get(limits::MAX_LABELS) {
            errors.at(k.pos, format!("`{what}` has {} items; at most {} are allowed", list.len(), limits::MAX_LABELS));
        }
        for (k, v) in list {
            if let Err(m) = limits::name(&k.value).and_then(|_| limits::name(v)) {
                errors.at(k.pos, format!("`{what}` item `{}`: {m}", k.value.chars().take(40).collect::<String>()));
            }
        }
    }
    if let Some((k, _)) = raw.tolerations.get(limits::MAX_LABELS) {
        let n = raw.tolerations.len();
        errors.at(k.pos, format!("`tolerations` has {n} items; at most {} are allowed", limits::MAX_LABELS));
    }
    for (k, v) in &raw.tolerations {
        if let Err(m) = limits::name(&k.value).and_then(|_| v.as_deref().map_or(Ok(""), limits::name)) {
            errors.at(k.pos, format!("`tolerations` item: {m}"));
        }
    }
}

/// Interned `key=value` pairs sorted by key; a key given twice is an error.
fn pairs(
    items: &[(Field<String>, String)],
    what: &str,
    symbols: &mut Symbols,
    errors: &mut Errors<'_>,
) -> Vec<(kairos_model::Sym, kairos_model::Sym)> {
    let mut out: Vec<_> = Vec::with_capacity(items.len());
    for (key, value) in items {
        let k = symbols.intern(&key.value);
        if key.value.trim().is_empty() {
            errors.at(key.pos, format!("a {what} entry needs a key"));
        } else if out.iter().any(|&(seen, _)| seen == k) {
            errors.at(key.pos, format!("{what} key `{}` is given twice", key.value));
        }
        out.push((k, symbols.intern(value)));
    }
    out.sort();
    out
}

/// Step 3, shared by the formats: the workload, or every error found.
pub(crate) fn finish(
    path: &Path,
    jobs: Vec<JobSpec>,
    skipped: Vec<Skipped>,
    header: Vec<String>,
    errors: Errors<'_>,
) -> Result<Workload, Error> {
    errors.finish()?;
    if jobs.is_empty() {
        let message = match (skipped.first(), skipped.len()) {
            (None, _) => "no jobs".to_owned(),
            (Some(s), 1) => format!("no jobs: the only row was skipped (line {}: {})", s.pos.line, s.reason),
            (Some(s), n) => {
                format!("no jobs: all {n} rows were skipped (the first, line {}: {})", s.pos.line, s.reason)
            }
        };
        return Err(Error::at(path, None, Pos::default(), message));
    }
    Ok(Workload { jobs, skipped, header, path: path.to_owned() })
}

#[cfg(test)]
pub(crate) mod testing {
    //! Helpers shared by the format modules' tests.

    use super::*;

    /// Checks a table of `(case, got, want)` and reports every failing case at once.
    pub(crate) fn assert_cases<'a>(results: impl IntoIterator<Item = (&'a str, Vec<String>, Vec<&'a str>)>) {
        let failures: Vec<String> = results
            .into_iter()
            .filter(|(_, got, want)| got != want)
            .map(|(case, got, want)| format!("{case}:\n  got  {got:?}\n  want {want:?}"))
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// The cluster every workload test runs against.
    pub(crate) const CLUSTER: &str = "\
resources: [antenna, cpu, memory]
priority_classes: { critical: 1000, high: 100, normal: 0 }
nodes:
  - { name: kiruna, region: europe-arctic, capacity: { antenna: 1, cpu: 8, memory: 32 } }
";

    /// A fresh test cluster.
    pub(crate) fn cluster() -> Cluster {
        Cluster::parse(Path::new("cluster.yaml"), CLUSTER).unwrap()
    }

    /// `file:line:col: message` of every input error, without snippets.
    pub(crate) fn messages(err: &Error) -> Vec<String> {
        err.input_errors()
            .iter()
            .map(|e| match e.pos.line {
                0 => format!("{}: {}", e.path.display(), e.message),
                _ => format!("{}:{}:{}: {}", e.path.display(), e.pos.line, e.pos.col, e.message),
            })
            .collect()
    }

    /// The path of a fixture file.
    pub(crate) fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn the_format_is_told_by_the_extension() {
        let cases = [
            ("a CSV file", "jobs.csv", Some(Format::Csv)),
            ("a YAML file", "jobs.yaml", Some(Format::Yaml)),
            ("a short YAML extension", "dir/jobs.yml", Some(Format::Yaml)),
            ("an SWF trace", "KTH.swf", Some(Format::Swf)),
            ("a gzip SWF trace", "KTH-SP2-1996-2.1-cln.swf.gz", Some(Format::Swf)),
            ("upper-case extensions", "JOBS.CSV", Some(Format::Csv)),
            ("an unknown extension", "jobs.txt", None),
            ("a gzip file of another kind", "jobs.csv.gz", None),
        ];
        for (case, path, want) in cases {
            assert_eq!(detect(Path::new(path)).ok(), want, "{case}");
        }
        let err = detect(Path::new("jobs.txt")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "jobs.txt: cannot tell the workload format from the file name: expected .csv, .yaml, .yml, .swf or .swf.gz"
        );
    }

    #[test]
    fn a_source_from_a_path_knows_its_format_and_path() {
        let s = WorkloadSource::from_path(Path::new("t.swf.gz")).unwrap();
        assert_eq!(s, WorkloadSource::Swf { path: "t.swf.gz".into(), options: SwfOptions::default() });
        assert_eq!(s.path(), Path::new("t.swf.gz"));
    }

    /// One line per job with every field, names resolved and sorted (symbol
    /// numbers depend on the order names were first seen).
    fn describe(w: &Workload, s: &Symbols) -> Vec<String> {
        let pairs = |v: &[(kairos_model::Sym, kairos_model::Sym)]| {
            let mut v: Vec<String> = v.iter().map(|&(k, x)| format!("{}={}", s.name(k), s.name(x))).collect();
            v.sort();
            v.join(";")
        };
        w.jobs
            .iter()
            .map(|spec| {
                let j = &spec.job;
                let tolerations: Vec<String> = j
                    .tolerations
                    .iter()
                    .map(|t| match t.value {
                        Some(v) => format!("{}={}", s.name(t.key), s.name(v)),
                        None => s.name(t.key).to_owned(),
                    })
                    .collect();
                format!(
                    "#{} {} tenant={} group={} class={:?} priority={} release={} deadline={:?} hard={} \
                     estimate={} duration={} request={:?} selector={:?} tolerations={:?} labels={:?} after={:?}",
                    j.idx,
                    j.id,
                    s.name(j.tenant),
                    s.name(j.group),
                    s.name(j.priority_class),
                    j.priority,
                    j.release,
                    j.deadline,
                    j.hard_deadline,
                    j.estimate,
                    spec.duration,
                    j.request,
                    pairs(&j.selector),
                    tolerations.join(";"),
                    pairs(&j.labels),
                    j.after,
                )
            })
            .collect()
    }

    #[test]
    fn every_format_loads_the_same_jobs_from_its_fixture() {
        let mut loaded = Vec::new();
        for name in ["jobs.csv", "jobs.yaml"] {
            let mut c = Cluster::load(&fixture("cluster.yaml")).unwrap();
            let w = load(&WorkloadSource::from_path(&fixture(name)).unwrap(), &mut c).unwrap();
            assert!(w.skipped.is_empty() && w.header.is_empty(), "{name}");
            loaded.push(describe(&w, &c.symbols).join("\n"));
        }
        assert_eq!(loaded[0], loaded[1], "CSV and YAML fixtures describe the same jobs");
        insta::assert_snapshot!(loaded[0], @r#"
        #0 pass-1 tenant=noaa group=default class="critical" priority=1000 release=0 deadline=Some(600) hard=true estimate=540 duration=540 request=[1, 0, 0, 0] selector="band=X;station=Kiruna-Esrange" tolerations="role=antenna" labels="" after=None
        #1 process-1 tenant=noaa group=default class="" priority=5 release=600 deadline=None hard=false estimate=900 duration=1200 request=[0, 4, 16, 0] selector="" tolerations="maintenance" labels="" after=Some(0)
        #2 pass-2 tenant=esa group=default class="high" priority=100 release=300 deadline=Some(1000) hard=true estimate=620 duration=620 request=[1, 0, 0, 0] selector="band=X" tolerations="role=antenna" labels="" after=None
        "#);
    }

    proptest::proptest! {
        /// Whatever numbers a row holds, the workload either loads with every
        /// time and duration within `limits` (so the simulator cannot
        /// overflow), or is refused with each error at a line and column.
        #[test]
        fn any_numbers_load_within_the_limits_or_are_refused_at_their_cell(
            release in proptest::prelude::any::<i64>(),
            duration in proptest::prelude::any::<i64>(),
            estimate in proptest::prelude::any::<i64>(),
            slack in proptest::prelude::any::<i64>(),
            qty in proptest::prelude::any::<u64>(),
        ) {
            let deadline = release.wrapping_add(slack);
            let text = format!("id,release,deadline,duration,estimate,request\nj,{release},{deadline},{duration},{estimate},cpu={qty}\n");
            match csv::parse(Path::new("w.csv"), &text, &mut cluster()) {
                Ok(w) => {
                    let j = &w.jobs[0];
                    proptest::prop_assert!(limits::time(j.job.release).is_ok());
                    proptest::prop_assert!(j.job.deadline.is_none_or(|d| limits::time(d).is_ok() && d >= j.job.release));
                    proptest::prop_assert!(limits::duration(j.duration).is_ok() && limits::duration(j.job.estimate).is_ok());
                    proptest::prop_assert!(j.job.request.iter().all(|&q| q <= limits::MAX_QTY));
                }
                Err(e) => {
                    proptest::prop_assert!(e.is_input());
                    for m in e.input_errors() {
                        proptest::prop_assert_eq!(m.pos.line, 2, "{}", m);
                    }
                }
            }
        }
    }

    #[test]
    fn more_errors_than_the_cap_are_summarised() {
        let mut text = String::from("id,release,duration\n");
        for i in 0..(MAX_ERRORS + 7) {
            text.push_str(&format!("j{i},0,0\n"));
        }
        let err = csv::parse(Path::new("w.csv"), &text, &mut cluster()).unwrap_err();
        let m = messages(&err);
        assert_eq!(m.len(), MAX_ERRORS + 1);
        assert_eq!(m[0], "w.csv:2:6: duration must be > 0 s, got 0");
        assert_eq!(m[MAX_ERRORS], "w.csv: … and 7 more errors");
    }
}
