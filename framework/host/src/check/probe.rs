//! Calling every entry point of a pipeline on sample jobs and nodes, before a
//! run does.
//!
//! A pipeline that loads can still fail on the first job it meets: a script
//! that throws, an order comparison (`before`) that always throws, a native
//! plugin that returns an error or a score out of range. [`probe`] finds these
//! the way a run would meet them, through the one mechanism the engine uses
//! for every kind of plugin — built-in, script or native:
//!
//! 1. the pipeline is built against the samples' cluster with every entry's
//!    `on_error` set to `fail` and its scripts in the strict sandbox (where
//!    comparing two types is an error, not `false`), so no failure is hidden
//!    by a fallback;
//! 2. each **order** plugin is asked for the keys of all the sample jobs at
//!    once (at least two, so that a `before(a, b, ctx)` comparison runs), and
//!    every key must be a number;
//! 3. for each sample job, each sample node goes through the **filters** in
//!    pipeline order, as in a run (a filter sees only the nodes the earlier
//!    ones let through), one node per call so that a failure names its node;
//!    the **scores** of the nodes that pass must be within 0..=100;
//! 4. each sample job is placed, as running, on the first sample node that
//!    passed its filters and holds it, and each **rebalance** plugin is asked
//!    about each running job.
//!
//! The first failure of each entry is an input error at the entry's
//! `file:line:column`, naming the plugin, the sample job and node, and what
//! the plugin said — whatever the entry's `on_error`. An entry no sample
//! reached (every sample node was filtered out before it) is a note.

use std::collections::BTreeMap;

use kairos_model::{
    Candidates, Context, ExtensionPoint, GroupUsage, Job, NodeId, NodeTable, Rejections, Running, Symbols, Time,
    MAX_SCORE,
};

use super::samples::Samples;
use crate::error::{input_error, Error, InputError};
use crate::pipeline::{EntryDef, PipelineDef};
use crate::registry::Registry;
use crate::script::{self, OnError};

/// What a probe did.
#[derive(Debug, Default)]
pub struct Probed {
    /// Entry points called (one per entry, whatever the number of calls).
    pub entries: usize,
    /// Plugin calls made.
    pub calls: usize,
    /// Entries never called, each at its position: no sample got that far.
    pub notes: Vec<InputError>,
}

/// Calls every entry point of `def` on `samples` (see the module docs).
/// Returns what was called, or every entry's first failure.
pub fn probe(def: &PipelineDef, registry: &Registry, samples: &Samples) -> Result<Probed, Error> {
    // Step 1: no fallback hides a failure; scripts are strict.
    let mut strict = def.clone();
    for e in &mut strict.entries {
        e.on_error = OnError::Fail;
    }
    strict.engine = script::strict_engine();
    let mut symbols = samples.symbols.clone();
    let pipeline = strict.build(registry, &samples.resources, &mut symbols)?;
    let mut probe = Probe::new(def, samples);
    let dims = samples.resources.dims();
    let mut usage = GroupUsage::new(pipeline.partition.map(|(_, key)| key), dims);
    usage.total = (0..samples.nodes.len() as NodeId).fold(vec![0; dims], |mut total, n| {
        for (t, &a) in total.iter_mut().zip(samples.nodes.allocatable(n)) {
            *t += a;
        }
        total
    });

    // Step 2: order, on every sample job at once.
    let jobs: Vec<&Job> = match samples.jobs.as_slice() {
        [one] => vec![one, one],
        all => all.iter().collect(),
    };
    for (i, stage) in pipeline.order.iter().enumerate() {
        let mut keys = vec![0.0; jobs.len()];
        let at = probe.call(ExtensionPoint::Order, i);
        let failure = match stage.plugin.keys(
            &jobs,
            &context(samples, &symbols, samples.now(), &samples.nodes, &usage),
            &mut keys,
        ) {
            Err(e) => Some(format!("fails on the sample jobs {}: {e}", ids(&jobs))),
            Ok(()) => keys
                .iter()
                .position(|k| k.is_nan())
                .map(|k| format!("returned NaN as the order key of sample job `{}`", jobs[k].id)),
        };
        if let Some(m) = failure {
            probe.fail(at, m);
        }
    }

    // Step 3: filters node by node, then scores.
    let mut passed: Vec<Vec<NodeId>> = Vec::with_capacity(samples.jobs.len());
    let mut rejections = Rejections::default();
    for job in &samples.jobs {
        let cx = context(samples, &symbols, job.release, &samples.nodes, &usage);
        let mut survivors = Vec::new();
        'nodes: for &n in &samples.sample_nodes {
            let mut ids = vec![n];
            for (i, stage) in pipeline.filter.iter().enumerate() {
                if ids.is_empty() || probe.failed(ExtensionPoint::Filter, i) {
                    continue 'nodes;
                }
                let at = probe.call(ExtensionPoint::Filter, i);
                rejections.clear();
                if let Err(e) = stage.plugin.filter(job, &cx, &mut Candidates::new(&mut ids, &mut rejections, i as u16))
                {
                    probe.fail(at, on(job, samples, n, &e.0));
                    continue 'nodes;
                }
            }
            if !ids.is_empty() {
                survivors.push(n);
            }
        }
        for &n in &survivors {
            for (i, stage) in pipeline.score.iter().enumerate() {
                if probe.failed(ExtensionPoint::Score, i) {
                    continue;
                }
                let at = probe.call(ExtensionPoint::Score, i);
                let mut score = [0.0];
                match stage.plugin.score(job, &cx, &[n], &mut score) {
                    Err(e) => probe.fail(at, on(job, samples, n, &e.0)),
                    Ok(()) if !(0.0..=MAX_SCORE).contains(&score[0]) => probe.fail(
                        at,
                        on(job, samples, n, &format!("scored it {}; scores must be within 0..=100", score[0])),
                    ),
                    Ok(()) => {}
                }
            }
        }
        passed.push(survivors);
    }

    // Step 4: rebalance, each sample job running where it passed.
    let mut nodes = samples.nodes.clone();
    let mut running = Vec::new();
    for (job, survivors) in samples.jobs.iter().zip(&passed) {
        if let Some(&n) = survivors.iter().find(|&&n| nodes.fits(n, &job.request)) {
            nodes.allocate(n, &job.request);
            usage.account(job, 1);
            let expected_end = job.release.saturating_add(job.estimate);
            running.push(Running { job: job.idx, node: n, started: job.release, expected_end });
        }
    }
    for (i, stage) in pipeline.rebalance.iter().enumerate() {
        for r in &running {
            if probe.failed(ExtensionPoint::Rebalance, i) {
                break;
            }
            let at = probe.call(ExtensionPoint::Rebalance, i);
            let mut moves = Vec::new();
            let job = &samples.jobs[r.job as usize];
            if let Err(e) =
                stage.plugin.rebalance(&context(samples, &symbols, samples.now(), &nodes, &usage), &[*r], &mut moves)
            {
                let m = format!("fails on a sample job `{}` running on node `{}`: {e}", job.id, name(samples, r.node));
                probe.fail(at, m);
            }
        }
    }
    probe.finish()
}

/// What the plugins see: the samples' cluster and jobs, at `now`.
fn context<'b>(
    samples: &'b Samples,
    symbols: &'b Symbols,
    now: Time,
    nodes: &'b NodeTable,
    usage: &'b GroupUsage,
) -> Context<'b> {
    Context { now, nodes, resources: &samples.resources, symbols, usage, jobs: &samples.jobs }
}

/// "fails on a sample job `j` and node `n`: what".
fn on(job: &Job, samples: &Samples, n: NodeId, what: &str) -> String {
    format!("fails on a sample job `{}` and node `{}`: {what}", job.id, name(samples, n))
}

fn name(samples: &Samples, n: NodeId) -> &str {
    &samples.nodes.names[n as usize]
}

/// "`a`, `b`, `c` and 4 more".
fn ids(jobs: &[&Job]) -> String {
    let mut shown: Vec<String> = jobs.iter().take(3).map(|j| format!("`{}`", j.id)).collect();
    shown.dedup();
    let mut text = shown.join(", ");
    if jobs.len() > 3 {
        text.push_str(&format!(" and {} more", jobs.len() - 3));
    }
    text
}

/// The entries of a pipeline, by extension point and position, with what was
/// called and what failed.
struct Probe<'a> {
    def: &'a PipelineDef,
    samples: &'a Samples,
    /// Entries by point, in the order the built pipeline holds their stages.
    entries: BTreeMap<ExtensionPoint, Vec<&'a EntryDef>>,
    called: BTreeMap<(ExtensionPoint, usize), usize>,
    failures: BTreeMap<(ExtensionPoint, usize), InputError>,
}

impl<'a> Probe<'a> {
    fn new(def: &'a PipelineDef, samples: &'a Samples) -> Self {
        let mut entries: BTreeMap<ExtensionPoint, Vec<&EntryDef>> = BTreeMap::new();
        for e in &def.entries {
            entries.entry(e.point).or_default().push(e);
        }
        Probe { def, samples, entries, called: BTreeMap::new(), failures: BTreeMap::new() }
    }

    /// Counts a call of entry `i` of `point`; returns the key to fail it by.
    fn call(&mut self, point: ExtensionPoint, i: usize) -> (ExtensionPoint, usize) {
        *self.called.entry((point, i)).or_default() += 1;
        (point, i)
    }

    fn failed(&self, point: ExtensionPoint, i: usize) -> bool {
        self.failures.contains_key(&(point, i))
    }

    /// Records the first failure of the entry `at`.
    fn fail(&mut self, at: (ExtensionPoint, usize), message: String) {
        let Some(e) = self.entries.get(&at.0).and_then(|v| v.get(at.1)) else { return };
        let message = format!("{} {message}", describe(e));
        self.failures.entry(at).or_insert_with(|| input_error(&self.def.path, Some(&self.def.source), e.pos, message));
    }

    fn finish(self) -> Result<Probed, Error> {
        let mut errors: Vec<InputError> = self.failures.into_values().collect();
        errors.sort_by_key(|e| e.pos);
        Error::collect(errors)?;
        let mut notes = Vec::new();
        for (&point, list) in &self.entries {
            for (_, e) in list.iter().enumerate().filter(|(i, _)| !self.called.contains_key(&(point, *i))) {
                let why = match point {
                    ExtensionPoint::Rebalance => "no sample job passed the filters on a sample node that holds it",
                    _ => "no sample node passed the filters before it",
                };
                let m = format!("{} was not called on {}: {why}", describe(e), self.samples.origin);
                notes.push(input_error(&self.def.path, Some(&self.def.source), e.pos, m));
            }
        }
        Ok(Probed { entries: self.called.len(), calls: self.called.values().sum(), notes })
    }
}

/// "script `x.rhai`", "native plugin `vendor.x`", "plugin `fit`".
pub(super) fn describe(e: &EntryDef) -> String {
    if e.script.is_some() {
        format!("script `{}`", e.plugin)
    } else if e.native.is_some() {
        format!("native plugin `{}`", e.plugin)
    } else {
        format!("plugin `{}`", e.plugin)
    }
}
