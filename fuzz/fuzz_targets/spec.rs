//! Any bytes through the front end and the compiler: a diagnostic or a plan, never a panic,
//! and every diagnostic prints in each human format (spans must lie inside the file).
#![no_main]

use cloverlift::diagnostics::report;
use cloverlift::source::SourceFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.yaml", text);
    match cloverlift::check(&file) {
        Ok((valid, plan)) => {
            for format in [
                cloverlift::plan::format::PlanFormat::Text,
                cloverlift::plan::format::PlanFormat::Json,
                cloverlift::plan::format::PlanFormat::Dot,
                cloverlift::plan::format::PlanFormat::Mermaid,
            ] {
                let _ = cloverlift::plan::format::render(&plan, &valid.spec, format);
            }
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "a rejected spec names at least one problem");
            for err in &errors {
                let _ = report::render_human(&file, err, false);
                let _ = report::render_short(&file, err);
            }
        }
    }
});
