//! Differential rendering (see `properties::render`).
#![no_main]

#[path = "../properties.rs"]
mod properties;

use std::sync::OnceLock;

use cloverlift::render::{Renderer, TemplateSource};
use libfuzzer_sys::fuzz_target;

fn renderer() -> &'static Renderer {
    static RENDERER: OnceLock<Renderer> = OnceLock::new();
    RENDERER.get_or_init(|| Renderer::new(&TemplateSource::default()).expect("embedded templates"))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        properties::render(renderer(), text);
    }
});
