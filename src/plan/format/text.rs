//! The plan as a table for people: level, step, what it waits for, what it touches, and how
//! long it typically takes; then the critical path and the old server's downtime window.

use std::fmt::Write as _;

use super::super::Plan;
use super::super::step::{Access, StepKind};
use super::human_seconds;
use crate::spec::model::{Spec, Strategy};

pub fn render(plan: &Plan, spec: &Spec) -> String {
    let strategy = match plan.strategy {
        Strategy::Architecture => "architecture",
        Strategy::War => "war",
    };
    let mut rows: Vec<[String; 5]> = vec![[
        "LEVEL".into(),
        "STEP".into(),
        "WAITS FOR".into(),
        "TOUCHES".into(),
        "TAKES".into(),
    ]];
    for &ix in &plan.schedule.order {
        let step = plan.step(ix);
        let deps: Vec<String> = plan
            .depends_on(ix)
            .iter()
            .map(|&d| plan.step(d).id.clone())
            .collect();
        let touches: Vec<String> = step
            .kind
            .touches_in(plan.strategy)
            .iter()
            .map(|(r, a)| {
                let name = serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                match a {
                    Access::Read => format!("{name} (read)"),
                    Access::Mutate => name,
                }
            })
            .collect();
        let name = if step.kind == StepKind::Hook {
            format!("{} (hook)", step.id)
        } else {
            step.id.clone()
        };
        rows.push([
            plan.schedule.level(ix).to_string(),
            name,
            if deps.is_empty() {
                "-".into()
            } else {
                deps.join(", ")
            },
            touches.join(", "),
            step.kind.duration_class().as_str().to_owned(),
        ]);
    }
    let mut widths = [0usize; 5];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "plan {} ({}, {strategy}, {} → {}): {} steps in {} levels\n",
        plan.name,
        plan.cloud.as_str(),
        spec.from.version,
        spec.to.version,
        plan.graph.node_count(),
        plan.schedule.depth()
    );
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let path: Vec<&str> = plan
        .schedule
        .critical_path
        .iter()
        .map(|&ix| plan.step(ix).id.as_str())
        .collect();
    let _ = writeln!(
        out,
        "\ncritical path: {} (typically {})",
        path.join(" → "),
        human_seconds(plan.schedule.critical_seconds)
    );
    if plan.schedule.downtime.is_empty() {
        let _ = writeln!(
            out,
            "old server downtime: none (existing snapshots are reused; the old server is not paused)"
        );
    } else {
        let window: Vec<&str> = plan
            .schedule
            .downtime
            .iter()
            .map(|&ix| plan.step(ix).id.as_str())
            .collect();
        let _ = writeln!(
            out,
            "no server runs the schedules during: {} (typically {})",
            window.join(", "),
            human_seconds(super::json::window_seconds(plan))
        );
    }
    if plan.find(StepKind::Cutover.id()).is_some() {
        let _ = writeln!(
            out,
            "roles: the old server runs the schedules and listeners until cutover, the new one from cutover on; never both"
        );
    }
    let slow: Vec<&str> = plan
        .schedule
        .order
        .iter()
        .filter(|&&ix| {
            plan.step(ix).kind.duration_class() == super::super::step::DurationClass::Long
        })
        .map(|&ix| plan.step(ix).id.as_str())
        .collect();
    if !slow.is_empty() {
        let _ = writeln!(out, "slow steps: {}", slow.join(", "));
    }
    match plan.strategy {
        Strategy::War => {
            let _ = writeln!(
                out,
                "rollback: stop clover, restore the database and data disk from the snapshots \
                 taken by snapshot-database and snapshot-data, put the previous clover.war back \
                 (war-upgrade.sh rollback), start clover, resume"
            );
        }
        Strategy::Architecture => {
            let _ = writeln!(out, "rollback (cloverlift rollback):");
            for (i, step) in super::json::architecture_rollback(spec).iter().enumerate() {
                let _ = writeln!(out, "  {}. {step}", i + 1);
            }
        }
    }
    for p in super::super::prerequisites::of(spec) {
        let _ = writeln!(out, "before apply: {p}");
    }
    out
}
