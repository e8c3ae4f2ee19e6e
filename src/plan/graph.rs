//! Compiles a validated spec into the step graph: the runbook's steps with only the edges
//! the data needs, plus the spec's hooks. Unknown hook references and cycles are spec
//! diagnostics with the span of the hook at fault.

use std::collections::{BTreeMap, VecDeque};

use petgraph::Direction;
use petgraph::algo::is_cyclic_directed;
use petgraph::graph::{DiGraph, EdgeIndex, NodeIndex};

use super::schedule::Schedule;
use super::step::StepKind;
use crate::diagnostics::SpecError;
use crate::spec::load::ValidSpec;
use crate::spec::model::{Cloud, Spec, Strategy};
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
    for (i, hook) in spec.hooks.iter().enumerate() {
        let me = hook_nodes[i];
        let mut added: Vec<EdgeIndex> = Vec::new();
        for (field, refs) in [("after", &hook.after), ("before", &hook.before)] {
            for (j, r) in refs.iter().enumerate() {
                let Some(&other) = index.get(r.as_str()) else {
                    errors.push(unknown_step(valid, &index, i, field, j, r.as_str()));
                    continue;
                };
                if other == me {
                    errors.push(cycle_error(valid, i, &format!("{r} → {r}")));
                    continue;
                }
                let (a, b) = if field == "after" {
                    (other, me)
                } else {
                    (me, other)
                };
                added.push(graph.add_edge(a, b, ()));
            }
        }
        // The graph was acyclic before this hook's edges, so any cycle now runs through it.
        if is_cyclic_directed(&graph) {
            let path = cycle_through(&graph, me);
            let names: Vec<&str> = path.iter().map(|&ix| graph[ix].id.as_str()).collect();
            errors.push(cycle_error(valid, i, &names.join(" → ")));
            // Drop this hook's edges so later hooks are judged on their own.
            for e in added.into_iter().rev() {
                graph.remove_edge(e);
            }
        }
    }
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

/// The shortest cycle from `start` back to itself, as `start → … → start`.
fn cycle_through(graph: &DiGraph<Step, ()>, start: NodeIndex) -> Vec<NodeIndex> {
    let mut parent: BTreeMap<NodeIndex, NodeIndex> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = graph.neighbors(n).collect();
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
                return path;
            }
            if let std::collections::btree_map::Entry::Vacant(slot) = parent.entry(m) {
                slot.insert(n);
                queue.push_back(m);
            }
        }
    }
    vec![start, start]
}

fn cycle_error(valid: &ValidSpec, hook: usize, cycle: &str) -> SpecError {
    let i = hook.to_string();
    let span = valid
        .tree
        .lookup(&["hooks", &i, "name"])
        .or_else(|| valid.tree.lookup(&["hooks", &i]))
        .map_or(valid.tree.span, |n| n.span);
    SpecError::Cycle {
        cycle: cycle.to_owned(),
        span: span.into(),
        help: "a hook cannot run both before and after the same step; change its `after` or \
               `before` so the steps keep one order"
            .into(),
    }
}

fn unknown_step(
    valid: &ValidSpec,
    index: &BTreeMap<String, NodeIndex>,
    hook: usize,
    field: &str,
    j: usize,
    name: &str,
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
        None => match nearest(name, index.keys().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!(
                "steps of this plan: {}",
                index.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        },
    };
    SpecError::UnknownStep {
        hook: spec.hooks[hook].name.to_string(),
        step: name.to_owned(),
        span: span.into(),
        help,
    }
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
