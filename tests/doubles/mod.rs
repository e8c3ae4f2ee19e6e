//! Starting the local doubles (tests/servers/*.py) and talking to their test-control endpoints,
//! shared by the apply tests of each cloud. Each double prints `listening PORT` when ready.

#![allow(dead_code)]

pub mod stock;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The old server's schedules and listeners in every apply test: one of each enabled, one of
/// each disabled.
pub const OLD_ITEMS: &str = r#"{"schedules":[{"description":"Nightly load","enabled":true},{"description":"Old report","enabled":false}],"listeners":[{"name":"orders-in","enabled":true},{"name":"audit","enabled":false}]}"#;
/// The new server's: the same items, all disabled (as the restored database has them).
pub const NEW_ITEMS: &str = r#"{"schedules":[{"description":"Nightly load","enabled":false},{"description":"Old report","enabled":false}],"listeners":[{"name":"orders-in","enabled":false},{"name":"audit","enabled":false}]}"#;

/// The Python the doubles run under (the test venv's, or python3 on PATH).
pub fn python() -> std::path::PathBuf {
    std::path::PathBuf::from(
        std::env::var_os("CLOVERLIFT_PYTHON").unwrap_or_else(|| "python3".into()),
    )
}

/// The schedules and listeners of a CloverDX double's state.
pub fn items(state: &Value) -> Value {
    serde_json::json!({ "schedules": state["schedules"], "listeners": state["listeners"] })
}

/// Both CloverDX doubles' items as the apply tests start them.
pub fn reset_items(old_port: u16, new_port: u16) {
    configure(old_port, &serde_json::from_str(OLD_ITEMS).expect("items"));
    configure(new_port, &serde_json::from_str(NEW_ITEMS).expect("items"));
}

/// The old server's items before any change.
pub fn old_items() -> Value {
    items(&serde_json::from_str(OLD_ITEMS).expect("items"))
}

/// The old server's items once cutover moved the schedule it ran (the test specs'
/// `enable: [schedules]` narrows the move to schedules).
pub fn after_cutover() -> Value {
    let mut v = old_items();
    v["schedules"][0]["enabled"] = serde_json::json!(false);
    v
}

/// A child process killed when the test ends.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The test venv when it has moto, or None (with a note) outside CI: CI must run the AWS
/// tests, and scripts/test installs moto into its venv.
pub fn moto_venv() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os("CLOVERLIFT_VENV").unwrap_or_default());
    if dir.join("bin/moto_server").exists() {
        return Some(dir);
    }
    super::common::missing_outside_ci(
        "CI must run the AWS tests: scripts/test installs moto into its venv",
        "moto is not installed (run scripts/test); skipping",
    );
    None
}

/// moto in server mode on a port of 127.0.0.1 it binds itself (tests/servers/moto_server.py),
/// with `env` set; gives the process and its endpoint URL once it listens.
pub fn moto(venv: &Path, env: &[(&str, &str)]) -> (Proc, String) {
    let script = super::common::root().join("tests/servers/moto_server.py");
    let (moto, port) = start_with_env(&venv.join("bin/python"), &script, &[], env);
    (moto, format!("http://127.0.0.1:{port}"))
}

/// Starts `script` (a path under the repository) with `python` and `args`; gives the process
/// and the port it listens on.
pub fn start(python: &Path, script: &Path, args: &[&str]) -> (Proc, u16) {
    start_with_env(python, script, args, &[])
}

/// [`start`] with `env` added to the script's environment.
pub fn start_with_env(
    python: &Path,
    script: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Proc, u16) {
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", script.display()));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("its port");
    let port = line
        .trim()
        .strip_prefix("listening ")
        .and_then(|p| p.parse().ok())
        .expect("`listening PORT`");
    (Proc(child), port)
}

/// The new server's CloverDX double, as a stock server runs (HTTPS with a self-signed
/// certificate of its own, the Simple HTTP API off), at version 7.0.1 with these items.
pub fn cloverdx(python: &Path, items: &str) -> (Proc, u16) {
    cloverdx_at(python, items, "7.0.1.12", false)
}

/// The old server's CloverDX double at `version`, stock except that its administrator
/// enabled the Simple HTTP API (`http.api.enabled=true`), as the preflight requires.
pub fn cloverdx_old(python: &Path, items: &str, version: &str) -> (Proc, u16) {
    cloverdx_at(python, items, version, true)
}

fn cloverdx_at(python: &Path, items: &str, version: &str, http_api: bool) -> (Proc, u16) {
    let started = start(
        python,
        &super::common::root().join("tests/servers/cloverdx_server.py"),
        &[
            "--user",
            "clover",
            "--password",
            "s3cret-pw",
            "--items",
            items,
            "--clover-version",
            version,
        ],
    );
    if http_api {
        configure(started.1, &serde_json::json!({ "http_api_enabled": true }));
    }
    started
}

/// The URL of a CloverDX double's web application (HTTPS, as the double serves its API).
pub fn clover_url(port: u16) -> String {
    format!("https://127.0.0.1:{port}/clover")
}

/// A CloverDX double's certificate: (PEM, SHA-256 fingerprint as `AB:CD:…`).
pub fn certificate(port: u16) -> (String, String) {
    let s = state(port);
    (
        s["certificate_pem"].as_str().unwrap_or_default().to_owned(),
        s["certificate_sha256"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// `text` (a spec naming the old server as `http://127.0.0.1:OLD/clover`) made to trust both
/// doubles as a user of stock servers would: the old server over HTTPS with its self-signed
/// certificate as `from.server.tls.ca_file` (written into `dir`), the new server's
/// certificate pinned in `to.server.tls`.
pub fn trusting(text: &str, old_port: u16, new_port: u16, dir: &Path) -> String {
    pin_new(&trust_old(text, old_port, dir), new_port)
}

/// The old server's part of [`trusting`] (the war strategy upgrades that server in place).
pub fn trust_old(text: &str, old_port: u16, dir: &Path) -> String {
    let (pem, _) = certificate(old_port);
    let ca = dir.join(format!("old-server-{old_port}.pem"));
    std::fs::write(&ca, pem).expect("write the CA file");
    let old_url = format!("    url: http://127.0.0.1:{old_port}/clover\n");
    assert!(text.contains(&old_url), "the spec names the old double");
    text.replacen(
        &old_url,
        &format!(
            "    url: {}\n    tls: {{ ca_file: \"{}\" }}\n",
            clover_url(old_port),
            ca.display()
        ),
        1,
    )
}

/// The new server's certificate pinned in `to.server.tls`.
pub fn pin_new(text: &str, new_port: u16) -> String {
    let (_, pin) = certificate(new_port);
    let at = text.find("\nto:\n  version: ").expect("a to: block") + "\nto:\n".len();
    let line_end = at + text[at..].find('\n').expect("the version line") + 1;
    format!(
        "{}  server:\n    tls: {{ sha256_fingerprint: \"{pin}\" }}\n{}",
        &text[..line_end],
        &text[line_end..]
    )
}

/// GET /__test__/state as JSON.
pub fn state(port: u16) -> Value {
    let text = control(port, "GET", "/__test__/state", "");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    serde_json::from_str(body).expect("state json")
}

/// POST /__test__/configure with `settings`.
pub fn configure(port: u16, settings: &Value) {
    control(port, "POST", "/__test__/configure", &settings.to_string());
}

/// A plain HTTP/1.0 request to a double's test-control `path`; its answer, whole.
fn control(port: u16, method: &str, path: &str, body: &str) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

/// The status line a CloverDX double answers `request` (raw HTTP/1.0) with over TLS, its own
/// certificate trusted (Python's ssl module of the test venv is the client).
pub fn tls_status_line(venv: &Path, port: u16, request: &str) -> String {
    let (pem, _) = certificate(port);
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).expect("ca");
    let script = "import socket,ssl,sys\nctx=ssl.create_default_context(cafile=sys.argv[1])\ns=ctx.wrap_socket(socket.create_connection(('127.0.0.1',int(sys.argv[2]))),server_hostname='127.0.0.1')\ns.sendall(sys.stdin.buffer.read())\nb=b''\nwhile True:\n  c=s.recv(65536)\n  if not c: break\n  b+=c\nprint(b.split(b'\\r\\n')[0].decode())\n";
    let mut child = Command::new(venv.join("bin/python"))
        .args(["-c", script])
        .arg(&ca)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.as_bytes())
        .expect("request");
    let out = child.wait_with_output().expect("python");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// POST `path` (a test-control path) with no body.
pub fn post(port: u16, path: &str) {
    control(port, "POST", path, "");
}

/// `METHOD path` of every request a double received, in order.
pub fn requests(port: u16) -> Vec<String> {
    request_lines(&state(port))
}

/// `METHOD path` of every request in a double's state, in order.
pub fn request_lines(state: &Value) -> Vec<String> {
    state["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap_or_default(),
                r["path"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// Runs `apply` (`--format json`) and SIGKILLs it as soon as it reports `step` finished,
/// as a crash at that step boundary would leave it.
pub fn kill_after_step(mut apply: Command, step: &str) {
    let mut child = apply
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("apply");
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let event: Value = serde_json::from_str(&line).unwrap_or_default();
        if event["event"] == "finished" && event["step"] == step {
            let _ = child.kill();
            break;
        }
    }
    let _ = child.wait();
}

/// From the two CloverDX doubles' timelines: at no instant is one schedule or listener
/// enabled on both.
pub fn never_both_enabled(old_port: u16, new_port: u16) {
    let mut events: Vec<(f64, usize, String, bool)> = Vec::new();
    for (server, port) in [(0, old_port), (1, new_port)] {
        for e in state(port)["timeline"].as_array().into_iter().flatten() {
            events.push((
                e["t"].as_f64().unwrap_or_default(),
                server,
                format!(
                    "{} {}",
                    e["kind"].as_str().unwrap_or_default(),
                    e["item"].as_str().unwrap_or_default()
                ),
                e["enabled"].as_bool().unwrap_or_default(),
            ));
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut on: std::collections::BTreeMap<(usize, String), bool> = Default::default();
    for (t, server, item, enabled) in events {
        on.insert((server, item.clone()), enabled);
        let both =
            on.get(&(0, item.clone())) == Some(&true) && on.get(&(1, item.clone())) == Some(&true);
        assert!(!both, "{item} enabled on both servers at {t}");
    }
}

/// Runs `case` once per item, each on its own thread, and fails with every failing item's
/// message rather than the first. The kill-and-resume cases each build their own world and
/// spend most of their time waiting on polls, so one after another they were the longest tests
/// of the suite; side by side they cost one case's wall time.
pub fn each_in_parallel<T: Sync + std::fmt::Display>(items: &[T], case: impl Fn(usize, &T) + Sync) {
    let case = &case;
    let failures: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = items
            .iter()
            .enumerate()
            .map(|(i, item)| (item, scope.spawn(move || case(i, item))))
            .collect();
        running
            .into_iter()
            .filter_map(|(item, thread)| {
                let panic = thread.join().err()?;
                let text = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Some(format!("{item}: {text}"))
            })
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        items.len(),
        failures.join("\n")
    );
}

/// The ways a stock CloverDX old server stops the preflight (issue 30): the old double's
/// configuration, a name for messages, and words the refusal must contain. Each is reset by
/// [`STOCK_RESET`].
pub fn stock_refusals() -> Vec<(&'static str, Value, Vec<&'static str>)> {
    vec![
        (
            "simple-http-api-off",
            serde_json::json!({ "http_api_enabled": false }),
            vec!["cannot list its running jobs", "http.api.enabled=true"],
        ),
        (
            "version-mismatch",
            serde_json::json!({ "version": "6.3.1.7" }),
            vec!["runs CloverDX 6.3.1.7", "from.version says 6.4.2"],
        ),
        (
            "cluster",
            serde_json::json!({ "cluster_nodes": ["node02"] }),
            vec!["is a cluster of 2 nodes", "node01, node02"],
        ),
    ]
}

/// The old double as the apply tests start it.
pub fn stock_reset() -> Value {
    serde_json::json!({ "http_api_enabled": true, "version": "6.4.2.3", "cluster_nodes": [] })
}

/// The spec at `path` without its `from.server.tls` line: the old server's self-signed
/// certificate is then trusted by nothing.
pub fn untrust_old(path: &Path) {
    let text = std::fs::read_to_string(path).expect("spec");
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("    tls: { ca_file:"))
        .collect();
    std::fs::write(path, kept.join("\n") + "\n").expect("spec");
}

/// Edits the spec at `path`.
pub fn edit_spec(path: &Path, edit: impl Fn(String) -> String) {
    let text = std::fs::read_to_string(path).expect("spec");
    std::fs::write(path, edit(text)).expect("spec");
}

/// Requests to a CloverDX double that would change it (imports, license, job starts).
pub fn clover_writes(port: u16) -> Vec<String> {
    requests(port)
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect()
}
