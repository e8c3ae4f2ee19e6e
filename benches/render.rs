//! Render throughput: the AWS example, and 1,000 AWS specs; beside it, in the same run,
//! cfn-lint on the same rendered template as the nearest peer (it reads and checks the file
//! cloverlift writes). Run with `CFN_LINT=…/cfn-lint cargo bench --bench render`; without
//! cfn-lint the peer benchmark is skipped.

use cloverlift::render::{self, TemplateSource};
use cloverlift::source::SourceFile;

fn main() {
    divan::main();
}

fn aws_specs() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/plans");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("plans/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("aws-") && n.ends_with(".yaml"))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(&p).expect("spec"),
            )
        })
        .collect()
}

fn checked(path: &str, text: &str) -> (cloverlift::spec::load::ValidSpec, cloverlift::plan::Plan) {
    cloverlift::check(&SourceFile::new(path, text)).expect("valid example")
}

#[divan::bench]
fn render_one(bencher: divan::Bencher) {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/plans/aws-prod.yaml"))
        .expect("example");
    let (valid, plan) = checked("aws-prod.yaml", &text);
    let renderer = render::Renderer::new(&TemplateSource::default()).expect("templates");
    bencher.bench(|| renderer.render(divan::black_box(&valid), &plan).is_ok());
}

/// Validate, compile and render 1,000 distinct specs: the whole front half of the pipeline.
#[divan::bench(sample_count = 10)]
fn render_1000(bencher: divan::Bencher) {
    let specs = aws_specs();
    let files: Vec<SourceFile> = (0..1000)
        .map(|i| {
            let (path, text) = &specs[i % specs.len()];
            let renamed = text.replacen("\nname: ", &format!("\nname: r{i}-"), 1);
            SourceFile::new(format!("{path}#{i}"), renamed)
        })
        .collect();
    let renderer = render::Renderer::new(&TemplateSource::default()).expect("templates");
    bencher.bench(|| {
        files
            .iter()
            .filter(|f| {
                cloverlift::check(f)
                    .ok()
                    .and_then(|(v, p)| renderer.render(&v, &p).ok())
                    .is_some()
            })
            .count()
    });
}

/// Parsing every embedded template (a `render` parses its own cloud's, once per process).
#[divan::bench]
fn parse_templates() -> bool {
    render::Renderer::new(&TemplateSource::default()).is_ok_and(|r| r.compile_all().is_ok())
}

/// cfn-lint checking the template `render_one` produces, one process per check.
#[divan::bench(sample_count = 5)]
fn cfn_lint_one(bencher: divan::Bencher) {
    let Ok(lint) = std::env::var("CFN_LINT") else {
        eprintln!("CFN_LINT not set; skipping the cfn-lint peer benchmark");
        return;
    };
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/plans/aws-prod.yaml"))
        .expect("example");
    let (valid, plan) = checked("aws-prod.yaml", &text);
    let artifacts = render::render(&valid, &plan, &TemplateSource::default()).expect("render");
    let dir = tempfile::tempdir().expect("tempdir");
    render::write(&artifacts, dir.path()).expect("write");
    let template = dir.path().join("cloudformation.yaml");
    bencher.bench(|| {
        std::process::Command::new(&lint)
            .arg(&template)
            .status()
            .map(|s| s.success())
    });
}
