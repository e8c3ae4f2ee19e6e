//! Front-end and compiler throughput: one spec, and a batch of 1,000 specs (the eight examples
//! in plans/ with distinct names). Run with `cargo bench --bench validate`.

use cloverlift::source::SourceFile;

fn main() {
    divan::main();
}

fn examples() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/plans");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("plans/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("example");
            (p.display().to_string(), text)
        })
        .collect()
}

/// 1,000 distinct specs: each example with its `name:` changed, so nothing is cached.
fn batch() -> Vec<SourceFile> {
    let examples = examples();
    (0..1000)
        .map(|i| {
            let (path, text) = &examples[i % examples.len()];
            let renamed = text.replacen("\nname: ", &format!("\nname: b{i}-"), 1);
            SourceFile::new(format!("{path}#{i}"), renamed)
        })
        .collect()
}

fn aws_example() -> SourceFile {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/plans/aws-prod.yaml");
    SourceFile::new(path, std::fs::read_to_string(path).expect("aws example"))
}

#[divan::bench]
fn validate_one(bencher: divan::Bencher) {
    let file = aws_example();
    bencher.bench(|| cloverlift::spec::load::load(divan::black_box(&file)).is_ok());
}

#[divan::bench(sample_count = 20)]
fn validate_1000(bencher: divan::Bencher) {
    let files = batch();
    bencher.bench(|| {
        files
            .iter()
            .filter(|f| cloverlift::spec::load::load(divan::black_box(f)).is_ok())
            .count()
    });
}

#[divan::bench]
fn compile_one(bencher: divan::Bencher) {
    let file = aws_example();
    let valid = cloverlift::spec::load::load(&file).expect("valid example");
    bencher.bench(|| cloverlift::plan::compile(divan::black_box(&valid)).is_ok());
}

#[divan::bench(sample_count = 20)]
fn compile_1000(bencher: divan::Bencher) {
    let valid: Vec<_> = batch()
        .iter()
        .map(|f| cloverlift::spec::load::load(f).expect("valid example"))
        .collect();
    bencher.bench(|| {
        valid
            .iter()
            .filter(|v| cloverlift::plan::compile(divan::black_box(v)).is_ok())
            .count()
    });
}
