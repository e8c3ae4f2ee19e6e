//! The plan as Graphviz DOT: one node per step (downtime steps shaded), edges for waits.

use std::fmt::Write as _;

use super::super::Plan;

/// A DOT string literal: quoted, with `"` and `\` escaped and line breaks as `\n`.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&plan.name));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(
        out,
        "  node [shape=box, style=rounded, fontname=\"Helvetica\"];"
    );
    for &ix in &plan.schedule.order {
        let step = plan.step(ix);
        let label = format!("{}\n{}", step.id, step.kind.duration_class().as_str());
        let mut attrs = vec![format!("label={}", quote(&label))];
        if plan.schedule.downtime.contains(&ix) {
            attrs.push("style=\"rounded,filled\"".into());
            attrs.push("fillcolor=\"#fde2e1\"".into());
        }
        if plan.schedule.critical_path.contains(&ix) {
            attrs.push("penwidth=2".into());
        }
        let _ = writeln!(out, "  {} [{}];", quote(&step.id), attrs.join(", "));
    }
    for &ix in &plan.schedule.order {
        for dep in plan.depends_on(ix) {
            let _ = writeln!(
                out,
                "  {} -> {};",
                quote(&plan.step(dep).id),
                quote(&plan.step(ix).id)
            );
        }
    }
    out.push_str("}\n");
    out
}
