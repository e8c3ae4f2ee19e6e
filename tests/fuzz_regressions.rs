//! The fuzz targets' properties, replayed on every committed input: the seeds, the minimised
//! corpora the campaigns left in fuzz/corpus, and each crash the fuzzers found (fuzz/regressions,
//! named after what broke). So `cargo test` keeps every finding fixed without nightly or
//! cargo-fuzz; `scripts/fuzz` searches for new ones.

#[path = "../fuzz/properties.rs"]
mod properties;

use std::path::{Path, PathBuf};

use cloverlift::render::{Renderer, TemplateSource};

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

#[test]
fn spec_inputs_keep_their_properties() {
    let inputs = inputs("spec");
    assert!(inputs.len() >= 30, "the spec seeds are there");
    for (path, bytes) in inputs {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let result = std::panic::catch_unwind(|| properties::spec(text));
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
                properties::render(&renderer, text)
            }));
            match result {
                Ok(valid) => rendered += usize::from(valid),
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
        let result = std::panic::catch_unwind(|| properties::journal(&bytes));
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
            let result = std::panic::catch_unwind(|| properties::server_config(xml));
            assert!(
                result.is_ok(),
                "{} broke the server_config property",
                path.display()
            );
        }
    }
}
