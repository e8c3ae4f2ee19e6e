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

/// Hostile shapes of 9,000 hooks (about 450 KB of YAML): each must stay near-linear. Before the
/// graph and duplicate checks were reworked, `unknown` took minutes and `reverse_cycle` seconds.
const HOSTILE: [&str; 6] = [
    "unknown",
    "duplicate",
    "chain",
    "reverse_chain",
    "reverse_cycle",
    "pairs",
];

fn hostile(shape: &str) -> SourceFile {
    const N: usize = 9000;
    let example = aws_example();
    let head = example
        .text()
        .split("hooks:\n")
        .next()
        .unwrap_or_default()
        .to_owned();
    let hook = |i: usize| -> String {
        let prev = if i == 0 {
            "verify".to_owned()
        } else {
            format!("h{}", i - 1)
        };
        match shape {
            "unknown" => format!("  - {{name: h{i}, command: [x], after: [nosuch{i}]}}\n"),
            "duplicate" => "  - {name: same, command: [x]}\n".to_owned(),
            "chain" => format!("  - {{name: h{i}, command: [x], after: [{prev}]}}\n"),
            "reverse_chain" => format!("  - {{name: h{i}, command: [x], before: [{prev}]}}\n"),
            "reverse_cycle" => {
                let prev = format!("h{}", (i + N - 1) % N);
                format!("  - {{name: h{i}, command: [x], before: [{prev}]}}\n")
            }
            _ => format!("  - {{name: h{i}, command: [x], after: [h{}]}}\n", i ^ 1),
        }
    };
    let hooks: String = (0..N).map(hook).collect();
    SourceFile::new(format!("{shape}.yaml"), format!("{head}hooks:\n{hooks}"))
}

#[divan::bench(args = HOSTILE, sample_count = 5)]
fn hostile_9000_hooks(bencher: divan::Bencher, shape: &str) {
    let file = hostile(shape);
    bencher.bench(|| {
        cloverlift::spec::load::load(divan::black_box(&file))
            .map(|valid| cloverlift::plan::compile(&valid).is_ok())
            .is_ok()
    });
}
