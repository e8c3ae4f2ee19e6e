//! The safety rules every compiled plan must satisfy. The compiler runs this on each plan it
//! builds, and the property tests run it on thousands of generated specs.

use petgraph::algo::{has_path_connecting, is_cyclic_directed};
use petgraph::graph::NodeIndex;

use super::graph::Plan;
use super::step::{Access, Resource, StepKind};
use crate::spec::model::Strategy;

/// Every rule the plan breaks, as sentences; empty when it is sound.
pub fn violations(plan: &Plan) -> Vec<String> {
    let g = &plan.graph;
    let mut out = Vec::new();
    if is_cyclic_directed(g) {
        out.push("the graph has a cycle".to_owned());
        return out;
    }
    let find = |kind: StepKind| plan.graph.node_indices().find(|&ix| g[ix].kind == kind);
    let reaches = |a: NodeIndex, b: NodeIndex| has_path_connecting(g, a, b, None);

    for ix in g.node_indices() {
        let kind = g[ix].kind;
        if !kind.mutates_old() {
            continue;
        }
        let allowed = match kind {
            StepKind::Pause | StepKind::Resume | StepKind::MoveAddress => true,
            // The switch-over: the old server stops running what the new one starts.
            StepKind::Cutover => plan.strategy == Strategy::Architecture,
            StepKind::StopService | StepKind::ReplaceWar | StepKind::StartService => {
                plan.strategy == Strategy::War
            }
            _ => false,
        };
        if !allowed {
            out.push(format!("step `{}` changes the old deployment", g[ix].id));
        }
    }

    match (find(StepKind::Pause), find(StepKind::Resume)) {
        (Some(pause), Some(resume)) => {
            if !reaches(pause, resume) {
                out.push("resume does not follow pause".to_owned());
            }
        }
        (Some(_), None) => out.push("pause has no resume".to_owned()),
        (None, Some(_)) => out.push("resume without pause".to_owned()),
        (None, None) => {}
    }

    // The snapshots are taken under pause, and (war) complete before anything stops.
    if let Some(pause) = find(StepKind::Pause) {
        for kind in [StepKind::SnapshotDatabase, StepKind::SnapshotData] {
            match find(kind) {
                Some(s) if reaches(pause, s) => {}
                _ => out.push(format!("{kind} does not wait for pause")),
            }
        }
    }
    if let Some(await_ix) = find(StepKind::AwaitSnapshots) {
        for ix in g.node_indices() {
            let changes_instance = g[ix]
                .kind
                .touches()
                .iter()
                .any(|&(r, a)| r == Resource::OldInstance && a == Access::Mutate);
            let reads_snapshots = matches!(g[ix].kind, StepKind::Deploy);
            if (changes_instance || reads_snapshots) && !reaches(await_ix, ix) {
                out.push(format!("`{}` does not wait for the snapshots", g[ix].id));
            }
        }
    }
    if let Some(mv) = find(StepKind::MoveAddress) {
        match find(StepKind::Verify) {
            Some(v) if reaches(v, mv) => {}
            _ => out.push("move-address does not wait for verify".to_owned()),
        }
    }
    if let Some(c) = find(StepKind::Cutover) {
        match find(StepKind::Verify) {
            Some(v) if reaches(v, c) => {}
            _ => out.push("cutover does not wait for verify".to_owned()),
        }
        if let Some(mv) = find(StepKind::MoveAddress)
            && !reaches(c, mv)
        {
            out.push("move-address does not wait for cutover".to_owned());
        }
    }
    out
}
