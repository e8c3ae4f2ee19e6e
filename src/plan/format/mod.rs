//! The plan's output formats, one file each.

pub mod dot;
pub mod json;
pub mod mermaid;
pub mod text;

/// How `cloverlift plan` prints the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    /// A table: level, step, what it waits for, what it touches, how long it takes.
    Text,
    /// SPEC.md's JSON contract, with extra fields.
    Json,
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart (renders in GitHub pull requests).
    Mermaid,
}

use super::Plan;
use crate::spec::model::Spec;

pub fn render(plan: &Plan, spec: &Spec, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => text::render(plan, spec),
        PlanFormat::Json => json::render(plan, spec),
        PlanFormat::Dot => dot::render(plan),
        PlanFormat::Mermaid => mermaid::render(plan),
    }
}

/// `1h 5m`, `5m`, `45s`: typical durations for people.
pub fn human_seconds(s: u64) -> String {
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m, sec) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m {sec}s"),
        (h, 0, _) => format!("{h}h"),
        (h, m, _) => format!("{h}h {m}m"),
    }
}
