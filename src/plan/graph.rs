//! Compiles a validated spec into the step graph: the runbook's steps with only the edges
//! the data needs, plus the spec's hooks. Unknown hook references and cycles are spec
//! diagnostics with the span of the hook at fault.

use std::collections::{BTreeMap, VecDeque};

use petgraph::Direction;
use petgraph::algo::{is_cyclic_directed, tarjan_scc};
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};

use super::schedule::Schedule;
use super::step::StepKind;
use crate::diagnostics::SpecError;
use crate::spec::load::ValidSpec;
use crate::spec::model::{Cloud, Hook, Spec, Strategy};
use crate::spec::node::Node;
use crate::suggest::nearest;

/// One node of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: String,
    pub kind: StepKind,
    /// For hooks: the index in `spec.hooks`.
    pub hook: Option<usize>,
}

/// The compiled plan: the graph and the schedule facts derived from it.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub cloud: Cloud,
    pub strategy: Strategy,
    pub graph: DiGraph<Step, ()>,
    pub schedule: Schedule,
}

impl Plan {
    pub fn step(&self, ix: NodeIndex) -> &Step {
        &self.graph[ix]
    }

    pub fn find(&self, id: &str) -> Option<NodeIndex> {
        self.graph
            .node_indices()
            .find(|&ix| self.graph[ix].id == id)
    }

    /// Direct dependencies of a step, in schedule order.
    pub fn depends_on(&self, ix: NodeIndex) -> Vec<NodeIndex> {
        let mut deps: Vec<NodeIndex> = self
            .graph
            .neighbors_directed(ix, Direction::Incoming)
            .collect();
        deps.sort_by_key(|d| self.schedule.position(*d));
        deps.dedup();
        deps
    }
}

/// Which built-in steps this spec's plan has, and the edges between them.
fn builtin(spec: &Spec) -> (Vec<StepKind>, Vec<(StepKind, StepKind)>) {
    use StepKind::*;
    let mut steps = Vec::new();
    let mut edges = Vec::new();
    let license = spec.to.license.is_some();
    match spec.strategy {
        Strategy::Architecture => {
            let fresh = spec.snapshots.is_none();
            if fresh {
                steps.extend([
                    Pause,
                    SnapshotDatabase,
                    SnapshotData,
                    Resume,
                    AwaitSnapshots,
                ]);
                edges.extend([
                    (Pause, SnapshotDatabase),
                    (Pause, SnapshotData),
                    // A snapshot is point-in-time at initiation: resume as soon as both have
                    // started, so the old server's downtime is as short as it can be.
                    (SnapshotDatabase, Resume),
                    (SnapshotData, Resume),
                    (SnapshotDatabase, AwaitSnapshots),
                    (SnapshotData, AwaitSnapshots),
                    (AwaitSnapshots, Deploy),
                ]);
            }
            steps.push(Deploy);
            let mut last = Deploy;
            if spec.cloud == Cloud::Gcp {
                // Cloud SQL restores a backup into an instance by an API call, not as a
                // Deployment Manager resource.
                steps.push(RestoreDatabase);
                edges.push((Deploy, RestoreDatabase));
                last = RestoreDatabase;
            }
            if license {
                steps.push(Activate);
                edges.push((last, Activate));
                last = Activate;
            }
            steps.push(Verify);
            edges.push((last, Verify));
            // The switch-over: the old server stops running its schedules and listeners before
            // the new one starts them; the address follows.
            steps.push(Cutover);
            edges.push((Verify, Cutover));
            if spec.steps.move_address {
                steps.push(MoveAddress);
                edges.push((Cutover, MoveAddress));
            }
        }
        Strategy::War => {
            steps.extend([
                Pause,
                SnapshotDatabase,
                SnapshotData,
                AwaitSnapshots,
                StopService,
                ReplaceWar,
                StartService,
            ]);
            edges.extend([
                (Pause, SnapshotDatabase),
                (Pause, SnapshotData),
                (SnapshotDatabase, AwaitSnapshots),
                (SnapshotData, AwaitSnapshots),
                // The snapshots are the rollback point: nothing stops until they are usable.
                (AwaitSnapshots, StopService),
                (StopService, ReplaceWar),
                (ReplaceWar, StartService),
            ]);
            let mut last = StartService;
            if license {
                steps.push(Activate);
                edges.push((last, Activate));
                last = Activate;
            }
            steps.extend([Verify, Resume]);
            edges.extend([(last, Verify), (Verify, Resume)]);
        }
    }
    (steps, edges)
}

/// Compiles the plan. Errors are `spec::unknown_step` and `spec::cycle`, with spans.
pub fn compile(valid: &ValidSpec) -> Result<Plan, Vec<SpecError>> {
    let spec = &valid.spec;
    let mut graph: DiGraph<Step, ()> = DiGraph::new();
    let mut index: BTreeMap<String, NodeIndex> = BTreeMap::new();
    let (steps, edges) = builtin(spec);
    for kind in steps {
        let ix = graph.add_node(Step {
            id: kind.id().to_owned(),
            kind,
            hook: None,
        });
        index.insert(kind.id().to_owned(), ix);
    }
    for (from, to) in edges {
        if let (Some(&a), Some(&b)) = (index.get(from.id()), index.get(to.id())) {
            graph.add_edge(a, b, ());
        }
    }
    // All hook names first: a hook may refer to one written after it.
    let hook_nodes: Vec<NodeIndex> = spec
        .hooks
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let ix = graph.add_node(Step {
                id: h.name.to_string(),
                kind: StepKind::Hook,
                hook: Some(i),
            });
            index.insert(h.name.to_string(), ix);
            ix
        })
        .collect();

    let mut errors = Vec::new();
    let mut suggestions = SUGGESTION_BUDGET;
    let mut hook_edges: Vec<Vec<(NodeIndex, NodeIndex)>> = Vec::with_capacity(spec.hooks.len());
    for (i, hook) in spec.hooks.iter().enumerate() {
        let me = hook_nodes[i];
        let mut edges = Vec::new();
        for (field, refs) in [("after", &hook.after), ("before", &hook.before)] {
            for (j, r) in refs.iter().enumerate() {
                let Some(&other) = index.get(r.as_str()) else {
                    let suggest = suggestions > 0;
                    suggestions = suggestions.saturating_sub(1);
                    errors.push(unknown_step(
                        valid,
                        &index,
                        i,
                        field,
                        j,
                        r.as_str(),
                        suggest,
                    ));
                    continue;
                };
                if other == me {
                    errors.push(cycle_error(
                        valid,
                        i,
                        &format!("{r} → {r}"),
                        CycleKind::SelfLoop,
                    ));
                    continue;
                }
                edges.push(if field == "after" {
                    (other, me)
                } else {
                    (me, other)
                });
            }
        }
        hook_edges.push(edges);
    }
    add_hook_edges(&mut graph, &hook_nodes, &hook_edges, valid, &mut errors);
    if !errors.is_empty() {
        crate::diagnostics::sort(&mut errors);
        return Err(errors);
    }
    let schedule = Schedule::compute(&graph);
    let plan = Plan {
        name: spec.name.to_string(),
        cloud: spec.cloud,
        strategy: spec.strategy,
        graph,
        schedule,
    };
    let broken = super::invariant::violations(&plan);
    if !broken.is_empty() {
        return Err(vec![SpecError::internal(
            format!(
                "the compiled plan breaks its invariants: {}",
                broken.join("; ")
            ),
            valid.tree.span,
        )]);
    }
    Ok(plan)
}

/// Hook references that name no step of any plan and no hook: what can be said of `after` and
/// `before` while the rest of the spec is too malformed to compile a plan. (A built-in step
/// this plan lacks is left to the compiler, which knows why it is absent.)
pub fn unknown_in_every_plan(hooks: &[Hook], tree: &Node) -> Vec<SpecError> {
    let known: BTreeMap<String, ()> = StepKind::BUILTIN
        .iter()
        .map(|k| k.id().to_owned())
        .chain(hooks.iter().map(|h| h.name.to_string()))
        .map(|n| (n, ()))
        .collect();
    let mut suggestions = SUGGESTION_BUDGET;
    let mut errors = Vec::new();
    for (i, hook) in hooks.iter().enumerate() {
        for (field, refs) in [("after", &hook.after), ("before", &hook.before)] {
            for (j, r) in refs.iter().enumerate() {
                let name = r.as_str();
                if known.contains_key(name) {
                    continue;
                }
                let suggest = suggestions > 0;
                suggestions = suggestions.saturating_sub(1);
                let help = match suggest
                    .then(|| nearest(name, known.keys().map(String::as_str)))
                    .flatten()
                {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("steps and hooks: {}", listing(known.keys())),
                };
                let span = tree
                    .lookup(&["hooks", &i.to_string(), field, &j.to_string()])
                    .map_or(tree.span, |n| n.span);
                errors.push(SpecError::UnknownStep {
                    hook: hook.name.to_string(),
                    step: name.to_owned(),
                    span: span.into(),
                    help,
                });
            }
        }
    }
    errors
}

/// How many unknown step names get a "did you mean": each costs an edit distance against every
/// step, so a hostile spec with thousands of typos would otherwise take minutes.
const SUGGESTION_BUDGET: usize = 32;

/// Adds every hook's ordering edges, reporting each hook that closes a cycle.
///
/// Hooks are judged in spec order: a hook whose edges would close a cycle is reported and its
/// edges are left out, so later hooks are judged on their own. Checking the whole graph after
/// each hook is quadratic, so the common acyclic case is settled by one check, and only the hooks
/// that sit on a cycle of the full graph are replayed one by one.
fn add_hook_edges(
    graph: &mut DiGraph<Step, ()>,
    hook_nodes: &[NodeIndex],
    hook_edges: &[Vec<(NodeIndex, NodeIndex)>],
    valid: &ValidSpec,
    errors: &mut Vec<SpecError>,
) {
    let mut trial = graph.clone();
    for &(a, b) in hook_edges.iter().flatten() {
        trial.add_edge(a, b, ());
    }
    if !is_cyclic_directed(&trial) {
        *graph = trial;
        return;
    }
    // A hook outside every strongly connected component of the full graph closes no cycle in
    // any part of it, so its edges go in first and only the others are replayed in order.
    let mut component_of: Vec<Option<usize>> = vec![None; trial.node_count()];
    for (c, component) in tarjan_scc(&trial).into_iter().enumerate() {
        if component.len() > 1 {
            for ix in component {
                component_of[ix.index()] = Some(c);
            }
        }
    }
    let suspect = |i: usize| component_of[hook_nodes[i].index()].is_some();
    let suspects = (0..hook_edges.len()).filter(|&i| suspect(i)).count();
    if suspects > REPLAY_LIMIT {
        report_per_component(&trial, hook_nodes, &component_of, valid, errors);
        *graph = trial;
        return;
    }
    for (i, edges) in hook_edges.iter().enumerate() {
        if !suspect(i) {
            for &(a, b) in edges {
                graph.add_edge(a, b, ());
            }
        }
    }
    for (i, edges) in hook_edges.iter().enumerate() {
        if !suspect(i) {
            continue;
        }
        let me = hook_nodes[i];
        let added: Vec<EdgeIndex> = edges
            .iter()
            .map(|&(a, b)| graph.add_edge(a, b, ()))
            .collect();
        // The graph was acyclic before this hook's edges, so any cycle now runs through it.
        if let Some(path) = cycle_through(graph, me, |_| true) {
            errors.push(cycle_error(
                valid,
                i,
                &names(graph, &path),
                kind_of(graph, &path),
            ));
            for e in added.into_iter().rev() {
                graph.remove_edge(e);
            }
        }
    }
}

/// Past this many hooks on cycles, replaying them one by one (a graph search each) would be
/// quadratic; each cycle is then reported once, on the last of its hooks in spec order.
const REPLAY_LIMIT: usize = 256;

/// One error per strongly connected component, on the component's last hook in spec order: the
/// hook whose edges closed it when read top to bottom. The graph stays cyclic, as the spec is
/// rejected anyway.
fn report_per_component(
    graph: &DiGraph<Step, ()>,
    hook_nodes: &[NodeIndex],
    component_of: &[Option<usize>],
    valid: &ValidSpec,
    errors: &mut Vec<SpecError>,
) {
    let mut last_hook: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, ix) in hook_nodes.iter().enumerate() {
        if let Some(c) = component_of[ix.index()] {
            last_hook.insert(c, i);
        }
    }
    for (c, i) in last_hook {
        let within = |n: NodeIndex| component_of[n.index()] == Some(c);
        if let Some(path) = cycle_through(graph, hook_nodes[i], within) {
            errors.push(cycle_error(
                valid,
                i,
                &names(graph, &path),
                kind_of(graph, &path),
            ));
        }
    }
}

/// A cycle as `a → b → … → a`; a long one keeps its ends and says how many steps it skips.
fn names(graph: &DiGraph<Step, ()>, path: &[NodeIndex]) -> String {
    const HEAD: usize = 8;
    const TAIL: usize = 4;
    let name = |ix: &NodeIndex| graph[*ix].id.as_str();
    if path.len() <= HEAD + TAIL + 1 {
        return path.iter().map(name).collect::<Vec<_>>().join(" → ");
    }
    let head: Vec<&str> = path[..HEAD].iter().map(name).collect();
    let tail: Vec<&str> = path[path.len() - TAIL..].iter().map(name).collect();
    format!(
        "{} → … {} more … → {}",
        head.join(" → "),
        path.len() - HEAD - TAIL,
        tail.join(" → ")
    )
}

/// The shortest cycle from `start` back to itself, as `start → … → start`, through nodes
/// `within` allows.
fn cycle_through(
    graph: &DiGraph<Step, ()>,
    start: NodeIndex,
    within: impl Fn(NodeIndex) -> bool,
) -> Option<Vec<NodeIndex>> {
    let mut parent: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = graph.neighbors(n).filter(|&m| within(m)).collect();
        next.sort_unstable();
        for m in next {
            if m == start {
                let mut path = vec![start, n];
                let mut cur = n;
                while cur != start {
                    match parent.get(&cur) {
                        Some(&p) => {
                            path.push(p);
                            cur = p;
                        }
                        None => break,
                    }
                }
                path.reverse();
                return Some(path);
            }
            if let std::collections::btree_map::Entry::Vacant(slot) = parent.entry(m) {
                slot.insert(n);
                queue.push_back(m);
            }
        }
    }
    None
}

/// What a cycle is made of, for a help line that fits it.
enum CycleKind {
    /// A hook that lists itself in `after` or `before`.
    SelfLoop,
    /// Hooks waiting on each other, no built-in step among them.
    HooksOnly,
    /// Hooks that would put built-in steps out of their order.
    ThroughSteps,
}

fn kind_of(graph: &DiGraph<Step, ()>, path: &[NodeIndex]) -> CycleKind {
    if path.iter().all(|&ix| graph[ix].hook.is_some()) {
        CycleKind::HooksOnly
    } else {
        CycleKind::ThroughSteps
    }
}

fn cycle_error(valid: &ValidSpec, hook: usize, cycle: &str, kind: CycleKind) -> SpecError {
    let i = hook.to_string();
    let span = valid
        .tree
        .lookup(&["hooks", &i, "name"])
        .or_else(|| valid.tree.lookup(&["hooks", &i]))
        .map_or(valid.tree.span, |n| n.span);
    SpecError::Cycle {
        cycle: cycle.to_owned(),
        span: span.into(),
        help: match kind {
            CycleKind::SelfLoop => "a hook cannot wait for itself; remove its own name from its \
                                    `after` or `before`"
                .into(),
            CycleKind::HooksOnly => "these hooks wait for each other, so none could start; \
                                     remove one `after` or `before` so the chain has a first hook"
                .into(),
            CycleKind::ThroughSteps => "a hook cannot run both before and after the same step; \
                                        change its `after` or `before` so the steps keep one order"
                .into(),
        },
    }
}

fn unknown_step(
    valid: &ValidSpec,
    index: &BTreeMap<String, NodeIndex>,
    hook: usize,
    field: &str,
    j: usize,
    name: &str,
    suggest: bool,
) -> SpecError {
    let spec = &valid.spec;
    let (i, j) = (hook.to_string(), j.to_string());
    let span = valid
        .tree
        .lookup(&["hooks", &i, field, &j])
        .map_or(valid.tree.span, |n| n.span);
    let help = match StepKind::parse(name) {
        Some(kind) => format!(
            "`{name}` is not in this plan: {}",
            absent_reason(spec, kind)
        ),
        None => match suggest
            .then(|| nearest(name, index.keys().map(String::as_str)))
            .flatten()
        {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("steps of this plan: {}", listing(index.keys())),
        },
    };
    SpecError::UnknownStep {
        hook: spec.hooks[hook].name.to_string(),
        step: name.to_owned(),
        span: span.into(),
        help,
    }
}

/// Step names for a help line: the first few, then how many more, so a spec with thousands of
/// hooks does not print every name into every diagnostic.
fn listing<'a>(names: impl ExactSizeIterator<Item = &'a String>) -> String {
    const SHOWN: usize = 24;
    let total = names.len();
    let mut text = names.take(SHOWN).cloned().collect::<Vec<_>>().join(", ");
    if total > SHOWN {
        text.push_str(&format!(" and {} more", total - SHOWN));
    }
    text
}

/// Why a built-in step is missing from this spec's plan.
fn absent_reason(spec: &Spec, kind: StepKind) -> String {
    use StepKind::*;
    match kind {
        Pause | SnapshotDatabase | SnapshotData | Resume | AwaitSnapshots
            if spec.snapshots.is_some() =>
        {
            "the spec reuses existing snapshots, so no pause, snapshot or resume runs".into()
        }
        StopService | ReplaceWar | StartService => {
            "only the war strategy stops the service and replaces clover.war".into()
        }
        Deploy | MoveAddress if spec.strategy == Strategy::War => {
            "the war strategy upgrades in place; it deploys nothing".into()
        }
        MoveAddress => "set `steps.move_address: true` to move the address".into(),
        Activate => "add `to.license` to activate the new server".into(),
        RestoreDatabase => "only Google Cloud restores the database as its own step".into(),
        _ => "it does not apply to this spec".into(),
    }
}
