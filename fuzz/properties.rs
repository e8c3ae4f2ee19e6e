//! The properties the fuzz targets check, shared with tests/fuzz_regressions.rs (which replays
//! every committed input under `cargo test`), so the two can never drift apart. Each function
//! panics when its property breaks.

use std::collections::BTreeSet;

use cloverlift::apply::server_config::{self, Item};
use cloverlift::diagnostics::report;
use cloverlift::plan::format::PlanFormat;
use cloverlift::render::{OutputFormat, Renderer};
use cloverlift::source::SourceFile;
use cloverlift::spec::model::Cloud;

/// Any text through the front end and the compiler: a plan that prints in every format, or
/// diagnostics that print in the human formats (spans inside the file, no panic), with no
/// character that could drive a terminal.
pub fn spec(text: &str) {
    let file = SourceFile::new("fuzz.yaml", text);
    match cloverlift::check(&file) {
        Ok((valid, plan)) => {
            for format in [
                PlanFormat::Text,
                PlanFormat::Json,
                PlanFormat::Dot,
                PlanFormat::Mermaid,
            ] {
                let _ = cloverlift::plan::format::render(&plan, &valid.spec, format);
            }
        }
        Err(errors) => {
            assert!(
                !errors.is_empty(),
                "a rejected spec names at least one problem"
            );
            for err in &errors {
                let human = report::render_human(&file, err, false);
                let short = report::render_short(&file, err);
                for out in [&human, &short] {
                    assert!(
                        !out.chars()
                            .any(|c| c != '\n' && cloverlift::text::is_unsafe(c)),
                        "unsafe character in {out:?}"
                    );
                }
            }
        }
    }
}

/// Differential: what validates renders, twice byte-identically, in every format its cloud has,
/// and every JSON file parses. Deployment Manager, on request only, may refuse what it cannot
/// write (values with its own syntax, a missing database version) with a diagnostic. Returns
/// whether the text was a valid spec.
pub fn render(renderer: &Renderer, text: &str) -> bool {
    let Ok((valid, plan)) = cloverlift::check(&SourceFile::new("fuzz.yaml", text)) else {
        return false;
    };
    let formats: &[OutputFormat] = match valid.spec.cloud {
        Cloud::Gcp => &[OutputFormat::Native, OutputFormat::DeploymentManager],
        _ => &[OutputFormat::Native],
    };
    for &format in formats {
        let first = renderer.render_as(&valid, &plan, format);
        let second = renderer.render_as(&valid, &plan, format);
        let (first, second) = match (first, second) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(_), Err(_)) if format == OutputFormat::DeploymentManager => continue,
            (Err(e), _) | (_, Err(e)) => panic!("a valid spec failed to render: {e}"),
        };
        assert_eq!(first.files, second.files, "rendering is deterministic");
        for (name, body) in first.files.iter().filter(|(n, _)| n.ends_with(".json")) {
            if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
                panic!("{name} is not JSON: {e}");
            }
        }
    }
    true
}

/// Any bytes as a journal: torn and garbled lines are skipped, never a panic.
pub fn journal(bytes: &[u8]) {
    let _ = cloverlift::apply::journal::history_from(bytes);
}

/// The CloverDX configuration XML rewrites: any text is read or refused; a rewrite keeps every
/// item in order and switches each one asked for; a subset keeps only the items asked for.
pub fn server_config(xml: &str) {
    let Ok(items) = server_config::items(xml) else {
        return;
    };
    let _ = server_config::check_identities(xml);
    let all: BTreeSet<_> = items.iter().map(|i| (i.kind, i.identity.clone())).collect();
    let key = |v: &[Item]| {
        v.iter()
            .map(|i| (i.kind, i.identity.clone()))
            .collect::<Vec<_>>()
    };
    if let Ok(rewritten) = server_config::set_enabled(xml, &all, false) {
        let after = server_config::items(&rewritten).expect("a rewrite reads back");
        assert_eq!(
            key(&items),
            key(&after),
            "a rewrite keeps every item in order"
        );
        assert!(after.iter().all(|i| !i.enabled), "every item is disabled");
    }
    let first: BTreeSet<_> = all.iter().take(1).cloned().collect();
    if let Ok(subset) = server_config::subset(xml, &first) {
        let kept = server_config::items(&subset).expect("a subset reads back");
        assert!(
            kept.iter()
                .all(|i| first.contains(&(i.kind, i.identity.clone()))),
            "a subset keeps only the items asked for"
        );
    }
}
