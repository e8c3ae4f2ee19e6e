//! The fuzz targets' properties, replayed on every committed input: the seeds, the minimised
//! corpora the campaigns left in fuzz/corpus, and each crash the fuzzers found (fuzz/regressions,
//! named after what broke). So `cargo test` keeps every finding fixed without nightly or
//! cargo-fuzz; `scripts/fuzz` searches for new ones.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cloverlift::apply::server_config::{self, Item};
use cloverlift::diagnostics::report;
use cloverlift::render::{OutputFormat, Renderer, TemplateSource};
use cloverlift::source::SourceFile;
use cloverlift::spec::model::Cloud;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let seeds = match target {
        "render" => "spec",
        other => other,
    };
    let dirs = [
        root.join("seeds").join(seeds),
        root.join("corpus").join(target),
        root.join("regressions").join(target),
    ];
    let mut files: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flatten()
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        // A running fuzzer may remove a corpus file between the listing and the read.
        .filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes)))
        .collect()
}

/// Same property as fuzz_targets/spec.rs.
fn spec_property(text: &str) {
    let file = SourceFile::new("fuzz.yaml", text);
    match cloverlift::check(&file) {
        Ok((valid, plan)) => {
            use cloverlift::plan::format::{PlanFormat, render};
            for format in [
                PlanFormat::Text,
                PlanFormat::Json,
                PlanFormat::Dot,
                PlanFormat::Mermaid,
            ] {
                let _ = render(&plan, &valid.spec, format);
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty());
            for err in &errors {
                let human = report::render_human(&file, err, false);
                let short = report::render_short(&file, err);
                // Spec text reaches these; no control character may reach a terminal.
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

/// Same property as fuzz_targets/render.rs.
fn render_property(renderer: &Renderer, text: &str) -> usize {
    let Ok((valid, plan)) = cloverlift::check(&SourceFile::new("fuzz.yaml", text)) else {
        return 0;
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
            // Deployment Manager, on request only, refuses what it cannot write (values with
            // its own syntax, a missing database version) with a diagnostic.
            (Err(_), Err(_)) if format == OutputFormat::DeploymentManager => continue,
            (Err(e), _) | (_, Err(e)) => panic!("a valid spec failed to render: {e}"),
        };
        assert_eq!(first.files, second.files);
        for (name, body) in &first.files {
            if name.ends_with(".json") {
                serde_json::from_str::<serde_json::Value>(body)
                    .unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            }
        }
    }
    1
}

/// Same property as fuzz_targets/server_config.rs.
fn server_config_property(xml: &str) {
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
        assert_eq!(key(&items), key(&after));
        assert!(after.iter().all(|i| !i.enabled));
    }
    let first: BTreeSet<_> = all.iter().take(1).cloned().collect();
    if let Ok(subset) = server_config::subset(xml, &first) {
        let kept = server_config::items(&subset).expect("a subset reads back");
        assert!(
            kept.iter()
                .all(|i| first.contains(&(i.kind, i.identity.clone())))
        );
    }
}

#[test]
fn spec_inputs_keep_their_properties() {
    let inputs = inputs("spec");
    assert!(inputs.len() >= 30, "the spec seeds are there");
    for (path, bytes) in inputs {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let result = std::panic::catch_unwind(|| spec_property(text));
            assert!(result.is_ok(), "{} broke the spec property", path.display());
        }
    }
}

#[test]
fn render_inputs_keep_their_properties() {
    let renderer = Renderer::new(&TemplateSource::default()).expect("embedded templates");
    let mut rendered = 0;
    for (path, bytes) in inputs("render") {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                render_property(&renderer, text)
            }));
            match result {
                Ok(n) => rendered += n,
                Err(_) => panic!("{} broke the render property", path.display()),
            }
        }
    }
    assert!(
        rendered >= 8,
        "every example in plans/ renders ({rendered})"
    );
}

#[test]
fn journal_inputs_read_without_panicking() {
    let inputs = inputs("journal");
    assert!(!inputs.is_empty());
    for (path, bytes) in inputs {
        let result =
            std::panic::catch_unwind(|| cloverlift::apply::journal::history_from(&bytes[..]));
        assert!(
            result.is_ok(),
            "{} broke the journal reader",
            path.display()
        );
    }
    // The seed's torn last line is skipped, the lines before it are kept.
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/seeds/journal/resumed.jsonl"
    ))
    .expect("seed");
    let history = cloverlift::apply::journal::history_from(&seed[..]);
    assert!(history.finished.contains_key("pause"));
}

#[test]
fn server_config_inputs_keep_their_properties() {
    let inputs = inputs("server_config");
    assert!(!inputs.is_empty());
    for (path, bytes) in inputs {
        if let Ok(xml) = std::str::from_utf8(&bytes) {
            let result = std::panic::catch_unwind(|| server_config_property(xml));
            assert!(
                result.is_ok(),
                "{} broke the server_config property",
                path.display()
            );
        }
    }
}
