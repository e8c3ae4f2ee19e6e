//! The plan as a Mermaid flowchart, which GitHub renders in pull requests. Node ids are
//! `s0, s1, …` in schedule order: step ids contain `-`, which Mermaid reads as edge syntax.

use std::fmt::Write as _;

use super::super::Plan;

/// Mermaid labels in `["…"]` take HTML entities; quotes and angle brackets must be encoded.
fn label(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn render(plan: &Plan) -> String {
    let order = &plan.schedule.order;
    let node = |ix| format!("s{}", plan.schedule.position(ix));
    let mut out = String::from("flowchart LR\n");
    for &ix in order {
        let step = plan.step(ix);
        let _ = writeln!(
            out,
            "  {}[\"{}<br/>{}\"]",
            node(ix),
            label(&step.id),
            step.kind.duration_class().as_str()
        );
    }
    for &ix in order {
        for dep in plan.depends_on(ix) {
            let _ = writeln!(out, "  {} --> {}", node(dep), node(ix));
        }
    }
    if !plan.schedule.downtime.is_empty() {
        out.push_str("  classDef downtime fill:#fde2e1,stroke:#c0392b\n");
        let ids: Vec<String> = plan.schedule.downtime.iter().map(|&ix| node(ix)).collect();
        let _ = writeln!(out, "  class {} downtime", ids.join(","));
    }
    out
}
