//! Facts computed from the graph: parallel levels, a deterministic order, the critical path
//! (by each step's typical duration) and the downtime windows (pause → resume, and cutover).

use std::collections::BTreeSet;

use petgraph::Direction;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::{Bfs, Reversed};

use super::graph::Step;
use super::step::StepKind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Level of each node (by index): 0 for steps that wait for nothing, else one more than
    /// the highest level they wait for. Steps of one level can run in parallel.
    pub levels: Vec<usize>,
    /// Every node, by level, then by runbook order (hooks after built-ins, in spec order).
    pub order: Vec<NodeIndex>,
    /// The chain of steps with the largest sum of typical durations.
    pub critical_path: Vec<NodeIndex>,
    /// Typical seconds along the critical path.
    pub critical_seconds: u64,
    /// Steps between pause and resume, inclusive, in order; empty when there is no pause.
    pub downtime: Vec<NodeIndex>,
}

impl Schedule {
    /// The graph must be acyclic (the compiler guarantees it).
    pub fn compute(graph: &DiGraph<Step, ()>) -> Schedule {
        let topo = toposort(graph, None).unwrap_or_else(|_| graph.node_indices().collect());
        let n = graph.node_count();
        let mut levels = vec![0usize; n];
        for &ix in &topo {
            levels[ix.index()] = graph
                .neighbors_directed(ix, Direction::Incoming)
                .map(|p| levels[p.index()] + 1)
                .max()
                .unwrap_or(0);
        }
        let mut order: Vec<NodeIndex> = graph.node_indices().collect();
        order.sort_by_key(|ix| (levels[ix.index()], ix.index()));
        let mut position = vec![0usize; n];
        for (p, ix) in order.iter().enumerate() {
            position[ix.index()] = p;
        }

        // Longest path by weight; ties go to the earlier step so the result is stable.
        let weight = |ix: NodeIndex| graph[ix].kind.duration_class().typical_seconds();
        let mut dist = vec![0u64; n];
        let mut via: Vec<Option<NodeIndex>> = vec![None; n];
        for &ix in &order {
            let best = graph
                .neighbors_directed(ix, Direction::Incoming)
                .max_by_key(|p| (dist[p.index()], std::cmp::Reverse(position[p.index()])));
            dist[ix.index()] = weight(ix) + best.map_or(0, |p| dist[p.index()]);
            via[ix.index()] = best;
        }
        let end = order
            .iter()
            .copied()
            .max_by_key(|ix| (dist[ix.index()], std::cmp::Reverse(position[ix.index()])));
        let mut critical_path = Vec::new();
        let mut cur = end;
        while let Some(ix) = cur {
            critical_path.push(ix);
            cur = via[ix.index()];
        }
        critical_path.reverse();
        let critical_seconds = end.map_or(0, |e| dist[e.index()]);

        let downtime = downtime(graph, &order);
        Schedule {
            levels,
            order,
            critical_path,
            critical_seconds,
            downtime,
        }
    }

    pub fn level(&self, ix: NodeIndex) -> usize {
        self.levels.get(ix.index()).copied().unwrap_or(0)
    }

    pub fn position(&self, ix: NodeIndex) -> usize {
        self.order
            .iter()
            .position(|&o| o == ix)
            .unwrap_or(usize::MAX)
    }

    pub fn depth(&self) -> usize {
        self.levels.iter().max().map_or(0, |m| m + 1)
    }
}

/// The windows in which no server runs the schedules: descendants of pause that are also
/// ancestors of resume (both included), then the cutover, in order.
fn downtime(graph: &DiGraph<Step, ()>, order: &[NodeIndex]) -> Vec<NodeIndex> {
    let find = |kind| graph.node_indices().find(|&ix| graph[ix].kind == kind);
    let cutover = find(StepKind::Cutover);
    let (Some(pause), Some(resume)) = (find(StepKind::Pause), find(StepKind::Resume)) else {
        return cutover.into_iter().collect();
    };
    let mut after_pause = BTreeSet::new();
    let mut bfs = Bfs::new(graph, pause);
    while let Some(ix) = bfs.next(graph) {
        after_pause.insert(ix);
    }
    let reversed = Reversed(graph);
    let mut before_resume = BTreeSet::new();
    let mut bfs = Bfs::new(reversed, resume);
    while let Some(ix) = bfs.next(reversed) {
        before_resume.insert(ix);
    }
    order
        .iter()
        .copied()
        .filter(|ix| {
            (after_pause.contains(ix) && before_resume.contains(ix)) || Some(*ix) == cutover
        })
        .collect()
}
