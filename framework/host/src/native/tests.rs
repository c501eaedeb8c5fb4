//! The views the adapters build, checked against what their docs promise.

use kairos_abi::Label;
use kairos_model::{Context, GroupUsage, Job, NodeSpec, NodeTable, ResourceSpace, Symbols};

use super::adapter::with_job;
use super::views::{self, NodeCache};

fn keys<'a>(labels: &[Label<'a>]) -> Vec<&'a str> {
    labels.iter().map(|l| l.key.as_str()).collect()
}

#[test]
fn view_labels_are_sorted_by_key_whatever_order_the_host_interned_the_keys_in() {
    let mut symbols = Symbols::default();
    // The host sorts labels by symbol, that is by first sight: `zone` before `band`.
    let (zone, region, band, sat) =
        (symbols.intern("zone"), symbols.intern("region"), symbols.intern("band"), symbols.intern("satellite"));
    let (z, r, sx, noaa) =
        (symbols.intern("z1"), symbols.intern("r1"), symbols.intern("S,X"), symbols.intern("NOAA 19"));
    let mut nodes = NodeTable::new(1);
    nodes.push(NodeSpec {
        name: "a".into(),
        region: r,
        zone: z,
        labels: vec![(zone, z), (region, r), (band, sx)],
        taints: Vec::new(),
        capacity: vec![4],
        reserve: vec![0],
    });
    let job = Job {
        idx: 0,
        id: "j".into(),
        tenant: Symbols::EMPTY,
        group: Symbols::EMPTY,
        priority_class: Symbols::EMPTY,
        priority: 0,
        release: 0,
        deadline: None,
        hard_deadline: false,
        estimate: 1,
        request: vec![1],
        selector: vec![(zone, z), (band, sx)],
        tolerations: Vec::new(),
        labels: vec![(zone, z), (sat, noaa)],
        after: None,
        restartable: true,
    };
    let (resources, usage) = (ResourceSpace::new(["cpu"]), GroupUsage::new(None, 1));
    let cx = Context { now: 0, nodes: &nodes, resources: &resources, symbols: &symbols, usage: &usage, jobs: &[] };

    let cache = NodeCache::default();
    let st = cache.get(&cx);
    let cluster = views::cluster(&st, &cx);
    assert_eq!(keys(cluster.nodes.labels_of(0)), ["band", "region", "zone"]);
    assert_eq!(cluster.nodes.label(0, "band"), Some("S,X"));
    with_job(&job, &cx, |j| {
        assert_eq!(keys(j.labels.as_slice()), ["satellite", "zone"]);
        assert_eq!(keys(j.selector.as_slice()), ["band", "zone"]);
        assert_eq!(j.label("satellite"), Some("NOAA 19"));
    });
}

#[test]
fn the_static_node_view_is_rebuilt_when_the_layout_changes_and_kept_otherwise() {
    let mut symbols = Symbols::default();
    let r = symbols.intern("r");
    let spec = |name: &str| NodeSpec {
        name: name.into(),
        region: r,
        zone: r,
        labels: Vec::new(),
        taints: Vec::new(),
        capacity: vec![4],
        reserve: vec![0],
    };
    let mut nodes = NodeTable::new(1);
    nodes.push(spec("a"));
    let (resources, usage) = (ResourceSpace::new(["cpu"]), GroupUsage::new(None, 1));
    let cache = NodeCache::default();
    let names = |nodes: &NodeTable| {
        let cx = Context { now: 0, nodes, resources: &resources, symbols: &symbols, usage: &usage, jobs: &[] };
        let st = cache.get(&cx);
        let v: Vec<String> = views::cluster(&st, &cx).nodes.names.iter().map(|n| n.to_string()).collect();
        v
    };
    assert_eq!(names(&nodes), ["a"]);
    assert_eq!(names(&nodes), ["a"], "the cached view, while the layout holds");
    nodes.push(spec("b"));
    assert_eq!(names(&nodes), ["a", "b"], "a new node is a new layout");
}
