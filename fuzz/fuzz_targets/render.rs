//! Differential: whatever validates renders, twice byte-identically, in every format its cloud
//! has, and every JSON artifact parses back as JSON.
#![no_main]

use std::sync::OnceLock;

use cloverlift::render::{OutputFormat, Renderer, TemplateSource};
use cloverlift::source::SourceFile;
use cloverlift::spec::model::Cloud;
use libfuzzer_sys::fuzz_target;

fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| Renderer::new(&TemplateSource::default()).expect("embedded templates"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok((valid, plan)) = cloverlift::check(&SourceFile::new("fuzz.yaml", text)) else {
        return;
    };
    let formats: &[OutputFormat] = match valid.spec.cloud {
        Cloud::Gcp => &[OutputFormat::Native, OutputFormat::DeploymentManager],
        _ => &[OutputFormat::Native],
    };
    for &format in formats {
        let first = match renderer().render_as(&valid, &plan, format) {
            Ok(artifacts) => artifacts,
            // Deployment Manager, on request only, refuses what it cannot write (values with
            // its own syntax, a missing database version) with a diagnostic.
            Err(_) if format == OutputFormat::DeploymentManager => continue,
            Err(e) => panic!("a valid spec failed to render: {e}"),
        };
        let second = renderer()
            .render_as(&valid, &plan, format)
            .unwrap_or_else(|e| panic!("a valid spec failed to render: {e}"));
        assert_eq!(first.files, second.files, "rendering is deterministic");
        for (name, body) in &first.files {
            if name.ends_with(".json") {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(body) {
                    panic!("{name} is not JSON: {e}");
                }
            }
        }
    }
});
