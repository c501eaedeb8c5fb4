//! How one job is decided: the one routine every architecture runs.
//!
//! [`decide`] takes one job and
//! 1. asks the architecture's [`Site`] for the candidate nodes (every up node,
//!    or a partition's nodes within its budget — the host's own rejections of
//!    the others are recorded as data, as a filter's are);
//! 2. runs the pipeline's filters over the candidates, a chunk of
//!    [`FILTER_CHUNK`] nodes at a time, recording every rejection;
//! 3. scores the survivors (range-checked, weighted, summed) and picks the
//!    best: highest total, ties to the lowest index;
//! 4. asks the site to commit the job on that node. The site answers
//!    [`Committed::Placed`], [`Committed::NoRoom`] (the host's capacity or
//!    budget check refused it: the next best node is tried, and the refusal is
//!    recorded as the host's `over-capacity` rejection), or [`Committed::Stale`]
//!    (a parallel worker's view was out of date: the node alone is checked
//!    again, or the job is decided again from scratch).
//!
//! Under the `sampled` architecture step 1 first offers a few random nodes
//! ([`Sampling`]); the full candidate set is used when they place nothing.
//! When the job is traced (`kairos explain`), the same routine records its
//! verdicts, scores and choice in the [`Attempt`].
//!
//! What differs between architectures is only the [`Site`]: the engine's own
//! node table (centralized, partitioned on one thread), an optimistic worker's
//! replica and the cycle's ledger, a partition worker's replica and budget, or
//! a probe that commits nothing (where a running job would move).

use kairos_model::{
    Candidates, Context, ExtensionPoint, Job, JobId, NodeId, NodeTable, Reason, RejectionCount, Rejections, MAX_SCORE,
};

use super::trace::Attempt;
use super::{FILTER_CHUNK, HOST_PLUGIN, SAMPLE_ROUNDS};
use crate::error::Error;
use crate::pipeline::Pipeline;

/// A site's answer to a commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Committed {
    /// The job holds the node's capacity now.
    Placed,
    /// The node cannot hold the request (capacity or budget): try the next best.
    NoRoom,
    /// The node changed since the view the decision was made on. With
    /// `revalidate`, the node alone is checked again on the refreshed view and
    /// committed again if it still passes; otherwise the job is decided anew.
    Stale {
        /// Re-check the node alone rather than decide again.
        revalidate: bool,
    },
}

/// What an architecture plugs into [`decide`]: where the candidates come
/// from, and where a placement is committed.
pub(crate) trait Site {
    /// What the plugins see: the time, the node table the decision is made
    /// on, the jobs, the usage.
    fn view(&self) -> Context<'_>;

    /// The nodes job `j` may be placed on, in node order, with the site's own
    /// rejections of the nodes it leaves out recorded in `rejections` (the up
    /// nodes are given; `buf` is a buffer the site may fill and return).
    fn candidates<'s>(
        &'s self,
        j: JobId,
        up: &'s [NodeId],
        buf: &'s mut Vec<NodeId>,
        rejections: &mut Rejections,
    ) -> &'s [NodeId];

    /// Commits job `j` on `node`.
    fn commit(&mut self, j: JobId, node: NodeId) -> Committed;
}

/// The `sampled` architecture's first round of candidates: up to `d` random
/// nodes that pass the filters, drawn by the engine's generator.
pub(crate) struct Sampling<'a> {
    /// Nodes wanted.
    pub d: usize,
    /// The generator's state, advanced by every draw.
    pub rng: &'a mut u64,
}

/// Counters of the work of decisions, added to the engine's [`super::Stats`]
/// after each cycle.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Tally {
    pub commits: u64,
    pub conflicts: u64,
    pub retries: u64,
    pub revalidated: u64,
    pub sample_fallbacks: u64,
}

/// Reused buffers of the decision hot path: nothing is allocated per
/// (job, node) pair.
#[derive(Clone, Default)]
pub(crate) struct Scratch {
    pub cands: Vec<NodeId>,
    chunk: Vec<NodeId>,
    scores: Vec<f64>,
    pub totals: Vec<f64>,
    pub rejections: Rejections,
    per_plugin: Vec<f64>,
    /// The best total seen so far while summing the last score stage.
    totals_best: f64,
    /// Nodes a sampled decision has probed.
    probed: Vec<NodeId>,
    /// One round of sampled nodes.
    round: Vec<NodeId>,
    /// Candidates a site computes.
    pub part: Vec<NodeId>,
    /// One node, and its rejections, for a check of a single node.
    one: Vec<NodeId>,
    one_rejections: Rejections,
    /// Work done by the decisions made with these buffers.
    pub tally: Tally,
}

/// Decides job `j` at `site` (see the module docs): returns the node it was
/// placed on, or `None`, with the reasons in `s.rejections`.
///
/// `up` is every up node (the site narrows it); `attempt`, when the job is
/// traced, receives the verdicts, scores and choice. Fails only when a plugin
/// fails or scores out of range.
pub(crate) fn decide(
    pipeline: &Pipeline,
    j: JobId,
    up: &[NodeId],
    site: &mut impl Site,
    sampling: Option<Sampling<'_>>,
    s: &mut Scratch,
    mut attempt: Option<&mut Attempt>,
) -> Result<Option<NodeId>, Error> {
    let tracing = attempt.is_some();
    let mut over = Vec::new();
    if let Some(Sampling { d, rng }) = sampling {
        if up.len() > d {
            start(s, tracing);
            sample(pipeline, j, up, d, rng, &site.view(), s)?;
            match score_and_commit(pipeline, j, site, s, attempt.as_deref_mut(), &mut over)? {
                Chosen::Placed(node) => return Ok(finish(site, s, attempt, Some(node), over)),
                // A sampled view is the engine's own: it is never stale.
                Chosen::None | Chosen::Again => {}
            }
            s.tally.sample_fallbacks += 1;
            over.clear();
        }
    }
    loop {
        start(s, tracing);
        let mut buf = std::mem::take(&mut s.part);
        let filtered = {
            let cx = site.view();
            record_down_nodes(cx.nodes, up.len(), &mut s.rejections);
            let cands = site.candidates(j, up, &mut buf, &mut s.rejections);
            filter_nodes(pipeline, &cx.jobs[j as usize], &cx, cands, s)
        };
        s.part = buf;
        filtered?;
        match score_and_commit(pipeline, j, site, s, attempt.as_deref_mut(), &mut over)? {
            Chosen::Placed(node) => return Ok(finish(site, s, attempt, Some(node), over)),
            Chosen::None => return Ok(finish(site, s, attempt, None, over)),
            Chosen::Again => {
                s.tally.retries += 1;
                over.clear();
            }
        }
    }
}

/// Clears the per-decision buffers.
fn start(s: &mut Scratch, tracing: bool) {
    s.rejections.clear();
    s.rejections.detail = tracing;
    s.cands.clear();
}

/// Records the end of a traced decision.
fn finish(
    site: &impl Site,
    s: &Scratch,
    attempt: Option<&mut Attempt>,
    chosen: Option<NodeId>,
    over: Vec<NodeId>,
) -> Option<NodeId> {
    if let Some(a) = attempt {
        let nodes = site.view().nodes;
        a.rejected = s.rejections.per_node.clone();
        a.chosen = chosen;
        a.over_capacity = over;
        a.down = (0..nodes.len() as NodeId).filter(|&n| !nodes.is_up(n)).collect();
    }
    chosen
}

enum Chosen {
    Placed(NodeId),
    /// No candidate could take it.
    None,
    /// The view was stale: decide again from scratch.
    Again,
}

/// Scores the candidates in `s.cands` and commits the best the site accepts
/// (steps 3 and 4). Nodes the site found without room go to `over`.
fn score_and_commit(
    pipeline: &Pipeline,
    j: JobId,
    site: &mut impl Site,
    s: &mut Scratch,
    attempt: Option<&mut Attempt>,
    over: &mut Vec<NodeId>,
) -> Result<Chosen, Error> {
    let n = s.cands.len();
    if n == 0 {
        return Ok(Chosen::None);
    }
    let mut best = {
        let cx = site.view();
        score_candidates(pipeline, &cx.jobs[j as usize], &cx, s, attempt.is_some())?
    };
    if let Some(a) = attempt {
        let k = pipeline.score.len();
        a.scores = (0..n).map(|i| (s.cands[i], s.per_plugin[i * k..(i + 1) * k].to_vec(), s.totals[i])).collect();
    }
    loop {
        if best.is_none() {
            best = next_best(&s.totals[..n]);
        }
        let Some(b) = best else { return Ok(Chosen::None) };
        let node = s.cands[b];
        s.tally.commits += 1;
        match site.commit(j, node) {
            Committed::Placed => return Ok(Chosen::Placed(node)),
            Committed::NoRoom => {
                s.totals[b] = f64::NEG_INFINITY;
                best = None;
                over.push(node);
                let cx = site.view();
                record_over_capacity(cx.nodes, &cx.jobs[j as usize], node, &mut s.rejections);
            }
            Committed::Stale { revalidate } => {
                s.tally.conflicts += 1;
                let still = revalidate && {
                    let cx = site.view();
                    let job = &cx.jobs[j as usize];
                    cx.nodes.fits(node, &job.request) && filters_accept(pipeline, job, &cx, node, s)
                };
                if !still {
                    return Ok(Chosen::Again);
                }
                s.tally.revalidated += 1;
            }
        }
    }
}

/// Fills `s.cands` with up to `d` random nodes of `up` that pass the filters.
/// Rounds of `d` distinct random nodes, never probed before in this decision,
/// go through the filters until `d` have passed or [`SAMPLE_ROUNDS`] rounds
/// have run. The generator is seeded by the architecture's `seed`, so a run is
/// deterministic for a seed.
fn sample(
    pipeline: &Pipeline,
    j: JobId,
    up: &[NodeId],
    d: usize,
    rng: &mut u64,
    cx: &Context<'_>,
    s: &mut Scratch,
) -> Result<(), Error> {
    s.probed.clear();
    for _ in 0..SAMPLE_ROUNDS {
        if s.cands.len() >= d || s.probed.len() >= up.len() {
            break;
        }
        let mut round = std::mem::take(&mut s.round);
        round.clear();
        let mut tries = 0;
        while round.len() < d && tries < 4 * d {
            tries += 1;
            let n = up[(split_mix(rng) % up.len() as u64) as usize];
            if !s.probed.contains(&n) {
                s.probed.push(n);
                round.push(n);
            }
        }
        let r = filter_nodes(pipeline, &cx.jobs[j as usize], cx, &round, s);
        s.round = round;
        r?;
    }
    Ok(())
}

/// Records the host's own rejection of every node that is down, unless all
/// `up` are.
fn record_down_nodes(nodes: &NodeTable, up: usize, rejections: &mut Rejections) {
    if up < nodes.len() {
        for n in 0..nodes.len() as NodeId {
            if !nodes.is_up(n) {
                rejections.record(HOST_PLUGIN, n, Reason::transient("node-down"));
            }
        }
    }
}

/// Runs the pipeline's filters over `nodes` for `job` and appends the survivors
/// to `s.cands`, recording every rejection.
pub(crate) fn filter_nodes(
    pipeline: &Pipeline,
    job: &Job,
    cx: &Context<'_>,
    nodes: &[NodeId],
    s: &mut Scratch,
) -> Result<(), Error> {
    // The filters run over the nodes a chunk at a time, so that the node
    // state one filter reads is still in cache for the next; a filter's
    // verdict on a node does not depend on the other candidates, so this
    // gives the same survivors, in the same order, as one call over all.
    for chunk in nodes.chunks(FILTER_CHUNK) {
        s.chunk.clear();
        s.chunk.extend_from_slice(chunk);
        for (p, stage) in pipeline.filter.iter().enumerate() {
            if s.chunk.is_empty() {
                break;
            }
            let mut c = Candidates::new(&mut s.chunk, &mut s.rejections, p as u16);
            stage.plugin.filter(job, cx, &mut c).map_err(|e| fault(ExtensionPoint::Filter, &stage.name, e.0))?;
        }
        s.cands.extend_from_slice(&s.chunk);
    }
    Ok(())
}

/// Scores the candidates in `s.cands` (at least one) into `s.totals`
/// (range-checked, weighted, summed; per plugin into `s.per_plugin` when
/// `tracing`) and returns the index of the best: highest total, ties to the
/// lowest index (candidates are in node order).
fn score_candidates(
    pipeline: &Pipeline,
    job: &Job,
    cx: &Context<'_>,
    s: &mut Scratch,
    tracing: bool,
) -> Result<Option<usize>, Error> {
    let n = s.cands.len();
    let nscore = pipeline.score.len();
    // The first score stage assigns every total, so the buffer is cleared
    // only when there is none.
    if nscore == 0 {
        s.totals.clear();
    }
    s.totals.resize(n, 0.0);
    if tracing {
        s.per_plugin.clear();
        s.per_plugin.resize(n * nscore, 0.0);
    }
    // The last score stage finds the best while it sums.
    let mut best: Option<usize> = if nscore == 0 { Some(0) } else { None };
    for (p, stage) in pipeline.score.iter().enumerate() {
        let last = p + 1 == nscore;
        s.scores.clear();
        s.scores.resize(n, 0.0);
        stage
            .plugin
            .score(job, cx, &s.cands, &mut s.scores)
            .map_err(|e| fault(ExtensionPoint::Score, &stage.name, e.0))?;
        for (i, (&v, t)) in s.scores.iter().zip(s.totals.iter_mut()).enumerate() {
            if !(0.0..=MAX_SCORE).contains(&v) {
                return Err(fault(
                    ExtensionPoint::Score,
                    &stage.name,
                    format!(
                        "scored node `{}` {v} for job `{}`; scores must be within 0..=100",
                        cx.nodes.names[s.cands[i] as usize], job.id
                    ),
                ));
            }
            *t = if p == 0 { stage.weight * v } else { *t + stage.weight * v };
            if last && (best.is_none() || *t > s.totals_best) {
                best = Some(i);
                s.totals_best = *t;
            }
        }
        if tracing {
            for i in 0..n {
                s.per_plugin[i * nscore + p] = s.scores[i];
            }
        }
    }
    Ok(best)
}

/// The index of the highest finite total, ties to the lowest index.
fn next_best(totals: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &t) in totals.iter().enumerate() {
        if t.is_finite() && best.is_none_or(|b| t > totals[b]) {
            best = Some(i);
        }
    }
    best
}

/// Records the host's refusal of `node` for `job`: the request does not fit.
fn record_over_capacity(nodes: &NodeTable, job: &Job, node: NodeId, rejections: &mut Rejections) {
    let (d, r, f) = nodes.first_shortfall(node, &job.request).unwrap_or((0, 0, 0));
    let never = r > nodes.allocatable(node)[d];
    rejections.record(HOST_PLUGIN, node, Reason::resource("over-capacity", d, r, f, never));
}

/// Whether every filter of `pipeline` lets `node` through for `job` (a filter
/// that fails cannot vouch for the node: no). Uses its own buffers of `s`, so
/// a decision's candidates and reasons are kept.
pub(crate) fn filters_accept(pipeline: &Pipeline, job: &Job, cx: &Context<'_>, node: NodeId, s: &mut Scratch) -> bool {
    s.one_rejections.clear();
    s.one_rejections.detail = false;
    s.one.clear();
    s.one.push(node);
    for (p, stage) in pipeline.filter.iter().enumerate() {
        let mut c = Candidates::new(&mut s.one, &mut s.one_rejections, p as u16);
        if stage.plugin.filter(job, cx, &mut c).is_err() {
            s.one.clear();
        }
        if s.one.is_empty() {
            return false;
        }
    }
    true
}

/// Why no node took a job, as a decision left it in `s`: its rejection
/// counts, and whether every node of `nodes` has a reason that rules it out
/// for good.
pub(crate) fn unplaced<'s>(nodes: &NodeTable, s: &'s Scratch) -> (&'s [RejectionCount], bool) {
    let unresolvable = s.rejections.unresolvable_nodes as usize == nodes.len() && !nodes.is_empty();
    (&s.rejections.counts, unresolvable)
}

/// The next number of a SplitMix64 generator: small, fast, and enough to draw
/// sample nodes; no dependency.
pub(crate) fn split_mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(crate) fn fault(point: ExtensionPoint, plugin: &str, message: String) -> Error {
    Error::PluginFault { plugin: plugin.to_owned(), point, message }
}
