//! Apply against moto and the CloverDX API double with injected latency (each CloverDX call
//! takes 0.2 s): how close apply's wall time comes to the graph's critical path (measured step
//! durations along the longest chain), and how long the old server's downtime is against the
//! time the snapshots take to start, and the cutover window (the old server's schedules off
//! until the new server's are on). Needs the venv of scripts/test:
//! `CLOVERLIFT_VENV=~/.cache/cloverlift/venv cargo bench --bench apply`. Prints medians of 5 runs.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use petgraph::Direction;
use serde_json::Value;

const RUNS: usize = 5;
const LATENCY: f64 = 0.2;

fn main() {
    let Some(venv) = std::env::var_os("CLOVERLIFT_VENV").map(PathBuf::from) else {
        eprintln!("CLOVERLIFT_VENV is not set; run scripts/test once, then set it to its venv");
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let mut moto = Command::new(venv.join("bin/moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let endpoint = format!("http://127.0.0.1:{port}");
    let seed: Value = serde_json::from_slice(
        &Command::new(venv.join("bin/python"))
            .arg(root.join("tests/servers/aws_world.py"))
            .args(["seed", &endpoint])
            .output()
            .expect("seed")
            .stdout,
    )
    .expect("seed json");
    let server = |items: &str| {
        let mut child = Command::new(venv.join("bin/python"))
            .arg(root.join("tests/servers/cloverdx_server.py"))
            .args(["--user", "clover", "--password", "pw", "--items", items])
            .stdout(Stdio::piped())
            .spawn()
            .expect("CloverDX double");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port");
        let port: u16 = line
            .trim()
            .trim_start_matches("listening ")
            .parse()
            .expect("port");
        configure(port, &format!("{{\"latency\": {LATENCY}}}"));
        (child, port)
    };
    let items = r#"{"schedules":[{"description":"Nightly","enabled":true}],"listeners":[{"name":"in","enabled":true}]}"#;
    let (mut old, old_port) = server(items);
    let (mut new, new_port) = server(items);
    let dir = tempfile::tempdir().expect("tempdir");
    let (mut ratios, mut downtimes, mut walls) = (Vec::new(), Vec::new(), Vec::new());
    let mut cutovers = Vec::new();
    for run in 0..RUNS {
        configure(
            old_port,
            &format!(
                "{{\"schedules\":[{{\"description\":\"Nightly\",\"enabled\":true}}],\"listeners\":[{{\"name\":\"in\",\"enabled\":true}}],\"latency\":{LATENCY}}}"
            ),
        );
        // The new server starts each run as restored: everything disabled.
        configure(
            new_port,
            &format!(
                "{{\"schedules\":[{{\"description\":\"Nightly\",\"enabled\":false}}],\"listeners\":[{{\"name\":\"in\",\"enabled\":false}}],\"latency\":{LATENCY}}}"
            ),
        );
        let spec_text = format!(
            "version: 1\nname: bench-{run}\ncloud: aws\nfrom:\n  version: 6.4.2\n  server:\n    url: http://127.0.0.1:{old_port}/clover\n    username: clover\n    password: {{ env: CLOVER_PASSWORD }}\n  aws:\n    region: eu-west-1\n    instance_id: {}\n    db_instance: clover-prod-db\n    data_volume: {}\n    elastic_ip: {}\nto:\n  version: 7.0.1\n  aws:\n    image_id: {}\n    instance_type: m6i.xlarge\n    key_name: ops\n    subnet_id: {}\n    db_instance_class: db.m6g.large\n",
            seed["instance"].as_str().unwrap_or_default(),
            seed["volume"].as_str().unwrap_or_default(),
            seed["allocation"].as_str().unwrap_or_default(),
            seed["ami"].as_str().unwrap_or_default(),
            seed["subnet"].as_str().unwrap_or_default(),
        );
        let spec = dir.path().join(format!("bench-{run}.yaml"));
        std::fs::write(&spec, &spec_text).expect("spec");
        let out = Command::new(env!("CARGO_BIN_EXE_cloverlift"))
            .arg("apply")
            .arg(&spec)
            .args([
                "--yes",
                "--format",
                "json",
                "--poll-seconds",
                "1",
                "--endpoint-url",
                &endpoint,
            ])
            .args([
                "--new-server-url",
                &format!("http://127.0.0.1:{new_port}/clover"),
            ])
            .arg("--state-dir")
            .arg(dir.path().join("state"))
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("CLOVER_PASSWORD", "pw")
            .stdin(Stdio::null())
            .output()
            .expect("apply");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let events: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let at = |e: &Value| secs(e["at"].as_str().unwrap_or_default());
        let mut start: BTreeMap<String, f64> = BTreeMap::new();
        let mut finish: BTreeMap<String, f64> = BTreeMap::new();
        for e in &events {
            let step = e["step"].as_str().unwrap_or_default().to_owned();
            match e["event"].as_str() {
                Some("started") => {
                    start.insert(step, at(e));
                }
                Some("finished") => {
                    if step == "cutover"
                        && let Some(w) = e["outputs"]["window_seconds"].as_f64()
                    {
                        cutovers.push(w);
                    }
                    finish.insert(step, at(e));
                }
                _ => {}
            }
        }
        let first = start.values().copied().fold(f64::MAX, f64::min);
        let last = finish.values().copied().fold(0.0, f64::max);
        let wall = last - first;
        // The longest chain of the plan's graph, weighted by each step's measured duration.
        let (_, plan) = cloverlift::check(&cloverlift::source::SourceFile::new(
            "bench.yaml",
            spec_text,
        ))
        .expect("valid");
        let mut longest: BTreeMap<usize, f64> = BTreeMap::new();
        for &ix in &plan.schedule.order {
            let id = &plan.step(ix).id;
            let d = finish.get(id).copied().unwrap_or(0.0) - start.get(id).copied().unwrap_or(0.0);
            let before = plan
                .graph
                .neighbors_directed(ix, Direction::Incoming)
                .filter_map(|p| longest.get(&p.index()).copied())
                .fold(0.0, f64::max);
            longest.insert(ix.index(), before + d);
        }
        let critical = longest.values().copied().fold(0.0, f64::max);
        let downtime = finish["resume"] - start["pause"];
        let initiation = finish["snapshot-database"].max(finish["snapshot-data"]) - start["pause"];
        walls.push(wall);
        ratios.push(wall / critical);
        downtimes.push(downtime / initiation);
    }
    for child in [&mut old, &mut new, &mut moto] {
        let _ = child.kill();
        let _ = child.wait();
    }
    println!("apply, {RUNS} runs, CloverDX latency {LATENCY}s per call (medians):");
    println!(
        "  wall time                          {:.2} s",
        median(&mut walls)
    );
    println!(
        "  wall time / critical path          {:.3}",
        median(&mut ratios)
    );
    println!(
        "  downtime / snapshot initiation     {:.3}",
        median(&mut downtimes)
    );
    println!(
        "  cutover window (no server runs)    {:.2} s",
        median(&mut cutovers)
    );
}

fn configure(port: u16, body: &str) {
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = write!(
            s,
            "POST /__test__/configure HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut sink = String::new();
        let _ = s.read_to_string(&mut sink);
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Seconds of an RFC 3339 `…THH:MM:SS.mmmZ` timestamp within its day (runs do not span midnight).
fn secs(at: &str) -> f64 {
    let t = at
        .split('T')
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches('Z');
    let mut parts = t.split(':');
    let h: f64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0.0);
    let m: f64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0.0);
    let s: f64 = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0.0);
    h * 3600.0 + m * 60.0 + s
}
