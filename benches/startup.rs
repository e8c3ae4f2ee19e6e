//! What one `render` costs as a whole process, against the process floor: `cloverlift
//! --version` (argument parsing and exit, nothing else) and `render` of one example spec per
//! cloud are run alternately, PAIRS times each, and the medians of their CPU time (user +
//! system, from `getrusage(RUSAGE_CHILDREN)`) and wall time are printed with the ratio of the
//! medians. A pipeline that renders a fleet spec by spec pays this per spec.
//!
//! `cargo bench --bench startup` (the full build); `cargo bench --bench startup
//! --no-default-features` (the render-only build a pipeline would install).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PAIRS: usize = 30;

fn main() {
    let bin = env!("CARGO_BIN_EXE_cloverlift");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile_dir();
    println!("{PAIRS} alternating runs each; medians of CPU (user + system) and wall time");
    println!(
        "{:<40} {:>10} {:>10} {:>12} {:>12}",
        "command", "cpu_ms", "wall_ms", "cpu / floor", "wall / floor"
    );
    // Each spec is rendered again into the directory of its previous render (a pipeline
    // re-rendering its tree, where unchanged files are left alone), and the AWS spec also into
    // an empty directory each time (a first render: every file written).
    let cases = [
        ("aws-prod", false),
        ("aws-prod", true),
        ("azure-prod", false),
        ("gcp-prod", false),
    ];
    for (plan, empty) in cases {
        let spec = root.join("plans").join(format!("{plan}.yaml"));
        let dir = out.join(plan);
        let render = |cmd: &mut Command| {
            cmd.arg("render")
                .arg(&spec)
                .arg("--clean")
                .arg("--out")
                .arg(&dir);
        };
        let version = |cmd: &mut Command| {
            cmd.arg("--version");
        };
        let render_once = || {
            if empty {
                let _ = std::fs::remove_dir_all(&dir);
            }
            measure(bin, &render)
        };
        // Once each first, so the binary and the spec are in the page cache for both.
        render_once();
        measure(bin, &version);
        let (mut floor, mut cost) = (Vec::new(), Vec::new());
        for _ in 0..PAIRS {
            floor.push(measure(bin, &version));
            cost.push(render_once());
        }
        let (floor_cpu, floor_wall) = medians(&floor);
        let (cpu, wall) = medians(&cost);
        if plan == "aws-prod" && !empty {
            row("cloverlift --version", floor_cpu, floor_wall, 1.0, 1.0);
        }
        let label = if empty {
            format!("render plans/{plan}.yaml, empty dir")
        } else {
            format!("render plans/{plan}.yaml")
        };
        row(
            &label,
            cpu,
            wall,
            ratio(cpu, floor_cpu),
            ratio(wall, floor_wall),
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// One run's CPU time (this child's share of the children's rusage) and wall time.
fn measure(bin: &str, args: &dyn Fn(&mut Command)) -> (Duration, Duration) {
    let before = children_cpu();
    let started = Instant::now();
    let mut cmd = Command::new(bin);
    args(&mut cmd);
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run cloverlift");
    let wall = started.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    (children_cpu().saturating_sub(before), wall)
}

fn children_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to a rusage, and RUSAGE_CHILDREN is a valid `who`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0, "getrusage");
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn medians(runs: &[(Duration, Duration)]) -> (Duration, Duration) {
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    (
        median(runs.iter().map(|r| r.0).collect()),
        median(runs.iter().map(|r| r.1).collect()),
    )
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-6)
}

fn row(label: &str, cpu: Duration, wall: Duration, cpu_ratio: f64, wall_ratio: f64) {
    println!(
        "{label:<40} {:>10.2} {:>10.2} {cpu_ratio:>12.2} {wall_ratio:>12.2}",
        cpu.as_secs_f64() * 1000.0,
        wall.as_secs_f64() * 1000.0
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cloverlift-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
