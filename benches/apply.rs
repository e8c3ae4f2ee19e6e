//! Apply against moto (AWS), the ARM double (Azure) and the Google Cloud double, and the CloverDX API double with injected latency (each CloverDX call
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

/// One cloud's world: how to write run N's spec, and what its apply needs besides the spec.
struct Cloud {
    name: &'static str,
    spec: Box<dyn Fn(usize, u16) -> String>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    children: Vec<std::process::Child>,
}

fn main() {
    let Some(venv) = std::env::var_os("CLOVERLIFT_VENV").map(PathBuf::from) else {
        eprintln!("CLOVERLIFT_VENV is not set; run scripts/test once, then set it to its venv");
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let python = venv.join("bin/python");
    let server = |items: &str| {
        let (child, port) = start(
            &python,
            &root.join("tests/servers/cloverdx_server.py"),
            &["--user", "clover", "--password", "pw", "--items", items],
        );
        configure(port, &format!("{{\"latency\": {LATENCY}}}"));
        (child, port)
    };
    let items = r#"{"schedules":[{"description":"Nightly","enabled":true}],"listeners":[{"name":"in","enabled":true}]}"#;
    let (mut old, old_port) = server(items);
    let (mut new, new_port) = server(items);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("keys")).expect("keys");
    std::fs::write(
        dir.path().join("keys/ops.pub"),
        "ssh-ed25519 AAAAbench ops\n",
    )
    .expect("key");
    let mut report = Vec::new();
    let clouds = [
        aws(&venv, &root),
        azure(&python, &root),
        gcp(&python, &root, dir.path(), new_port),
    ];
    for mut cloud in clouds {
        let samples = (0..RUNS)
            .map(|run| apply_once(&cloud, run, old_port, new_port, dir.path()))
            .collect::<Vec<_>>();
        for child in &mut cloud.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        report.push((cloud.name, samples));
    }
    for child in [&mut old, &mut new] {
        let _ = child.kill();
        let _ = child.wait();
    }
    for (name, samples) in report {
        let pick = |f: fn(&Sample) -> f64| median(&mut samples.iter().map(f).collect::<Vec<_>>());
        println!("apply on {name}, {RUNS} runs, CloverDX latency {LATENCY}s per call (medians):");
        println!(
            "  wall time                          {:.2} s",
            pick(|s| s.wall)
        );
        println!(
            "  wall time / critical path          {:.3}",
            pick(|s| s.ratio)
        );
        println!(
            "  downtime / snapshot initiation     {:.3}",
            pick(|s| s.downtime)
        );
        println!(
            "  cutover window (no server runs)    {:.2} s",
            pick(|s| s.cutover)
        );
    }
}

/// moto in server mode, seeded by tests/servers/aws_world.py.
fn aws(venv: &std::path::Path, root: &std::path::Path) -> Cloud {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let moto = Command::new(venv.join("bin/moto_server"))
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
    let field = move |k: &str| seed[k].as_str().unwrap_or_default().to_owned();
    let (instance, volume, allocation, ami, subnet) = (
        field("instance"),
        field("volume"),
        field("allocation"),
        field("ami"),
        field("subnet"),
    );
    Cloud {
        name: "AWS (moto)",
        spec: Box::new(move |run, old_port| {
            format!(
                "version: 1\nname: bench-{run}\ncloud: aws\nfrom:\n  version: 6.4.2\n  server:\n    url: http://127.0.0.1:{old_port}/clover\n    username: clover\n    password: {{ env: CLOVER_PASSWORD }}\n  aws:\n    region: eu-west-1\n    instance_id: {instance}\n    db_instance: clover-prod-db\n    data_volume: {volume}\n    elastic_ip: {allocation}\nto:\n  version: 7.0.1\n  aws:\n    image_id: {ami}\n    instance_type: m6i.xlarge\n    key_name: ops\n    subnet_id: {subnet}\n    db_instance_class: db.m6g.large\n"
            )
        }),
        args: vec!["--endpoint-url".into(), endpoint],
        env: vec![
            ("AWS_ACCESS_KEY_ID".into(), "testing".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "testing".into()),
        ],
        children: vec![moto],
    }
}

/// The ARM double (tests/servers/arm_server.py), operations in progress for one poll, and the
/// `az` stand-in on PATH.
fn azure(python: &std::path::Path, root: &std::path::Path) -> Cloud {
    let (arm, port) = start(python, &root.join("tests/servers/arm_server.py"), &[]);
    configure(port, r#"{"polls": 1, "terms_accepted": true}"#);
    let sub = "3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f";
    let path = format!(
        "{}:{}",
        root.join("tests/servers/azcli").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Cloud {
        name: "Azure (ARM double)",
        spec: Box::new(move |run, old_port| {
            format!(
                "version: 1\nname: bench-az-{run}\ncloud: azure\nfrom:\n  version: 6.4.2\n  server:\n    url: http://127.0.0.1:{old_port}/clover\n    username: clover\n    password: {{ env: CLOVER_PASSWORD }}\n  azure:\n    subscription: {sub}\n    resource_group: clover-prod\n    location: westeurope\n    vm: clover-vm\n    data_disk: clover-data\n    postgres_server: clover-pg\nto:\n  version: 7.0.1\n  azure:\n    resource_group: clover-prod-v7\n    vm_size: Standard_D4s_v5\n    image: {{ publisher: cloverdx, offer: cloverdx-server, sku: byol, version: 7.0.1 }}\n    subnet_id: /subscriptions/{sub}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/apps\n    admin_username: cloveradmin\n    ssh_public_key: {{ file: keys/ops.pub }}\n    postgres_sku: Standard_D2ds_v5\n"
            )
        }),
        args: vec!["--endpoint-url".into(), format!("http://127.0.0.1:{port}")],
        env: vec![("PATH".into(), path)],
        children: vec![arm],
    }
}

/// The Google Cloud double (tests/servers/gcp_server.py), operations in progress for one poll,
/// and an `authorized_user` credentials file whose token endpoint is the double's.
fn gcp(
    python: &std::path::Path,
    root: &std::path::Path,
    dir: &std::path::Path,
    new_port: u16,
) -> Cloud {
    let new_url = format!("http://127.0.0.1:{new_port}/clover");
    let (double, port) = start(
        python,
        &root.join("tests/servers/gcp_server.py"),
        &["--new-server-url", &new_url],
    );
    configure(port, r#"{"polls": 1}"#);
    let origin = format!("http://127.0.0.1:{port}");
    let adc = dir.join("gcp-adc.json");
    let credentials = serde_json::json!({
        "type": "authorized_user",
        "client_id": "client-id-for-tests",
        "client_secret": "client-secret-for-tests",
        "refresh_token": "refresh-token-for-tests",
        "token_uri": format!("{origin}/token"),
    });
    std::fs::write(&adc, credentials.to_string()).expect("credentials");
    Cloud {
        name: "Google Cloud (double)",
        spec: Box::new(move |run, old_port| {
            format!(
                "version: 1\nname: bench-gcp-{run}\ncloud: gcp\nfrom:\n  version: 6.4.2\n  server:\n    url: http://127.0.0.1:{old_port}/clover\n    username: clover\n    password: {{ env: CLOVER_PASSWORD }}\n  gcp:\n    project: acme-clover-prod\n    region: europe-west1\n    zone: europe-west1-b\n    instance: clover-vm\n    data_disk: clover-data\n    sql_instance: clover-pg\nto:\n  version: 7.0.1\n  gcp:\n    machine_type: n2-standard-4\n    image: projects/cloverdx-public/global/images/cloverdx-server-7-0-1\n    network: default\n    subnetwork: default\n    sql_tier: db-custom-2-7680\n    service_account: cloverlift-deployer@acme-clover-prod.iam.gserviceaccount.com\n"
            )
        }),
        args: vec!["--endpoint-url".into(), origin],
        env: vec![(
            "GOOGLE_APPLICATION_CREDENTIALS".into(),
            adc.display().to_string(),
        )],
        children: vec![double],
    }
}

struct Sample {
    wall: f64,
    ratio: f64,
    downtime: f64,
    cutover: f64,
}

fn apply_once(
    cloud: &Cloud,
    run: usize,
    old_port: u16,
    new_port: u16,
    dir: &std::path::Path,
) -> Sample {
    // The old server runs its items; the new one starts each run as restored: all disabled.
    configure(old_port, &server_items(true));
    configure(new_port, &server_items(false));
    let spec_text = (cloud.spec)(run, old_port);
    let spec = dir.join(format!(
        "{}-{run}.yaml",
        cloud.name.split(' ').next().unwrap_or("x")
    ));
    std::fs::write(&spec, &spec_text).expect("spec");
    let out = Command::new(env!("CARGO_BIN_EXE_cloverlift"))
        .arg("apply")
        .arg(&spec)
        .args(["--yes", "--format", "json", "--poll-seconds", "1"])
        .args(&cloud.args)
        .args([
            "--new-server-url",
            &format!("http://127.0.0.1:{new_port}/clover"),
        ])
        .arg("--state-dir")
        .arg(dir.join("state"))
        .envs(cloud.env.iter().map(|(k, v)| (k, v)))
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
    let mut cutover = 0.0;
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
                    cutover = w;
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
    Sample {
        wall,
        ratio: wall / critical,
        downtime: downtime / initiation,
        cutover,
    }
}

/// The doubles' configuration: one schedule and one listener, enabled or not, and the latency.
fn server_items(enabled: bool) -> String {
    serde_json::json!({
        "schedules": [{ "description": "Nightly", "enabled": enabled }],
        "listeners": [{ "name": "in", "enabled": enabled }],
        "latency": LATENCY,
    })
    .to_string()
}

/// Starts a double and reads its `listening PORT` line.
fn start(
    python: &std::path::Path,
    script: &std::path::Path,
    args: &[&str],
) -> (std::process::Child, u16) {
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("a double");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("port");
    let port: u16 = line
        .trim()
        .trim_start_matches("listening ")
        .parse()
        .expect("port");
    (child, port)
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
