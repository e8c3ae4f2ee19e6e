//! Helpers shared by the integration tests: run the real binary, read fixtures.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cloverlift ARGS` from the repository root, with `stdin` piped in.
pub fn run(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloverlift"));
    cmd.args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn cloverlift");
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        // The child may stop reading early (size cap); a broken pipe is expected then.
        let _ = pipe.write_all(bytes);
    }
    child
        .wait_with_output()
        .expect("wait for cloverlift")
        .into()
}

impl From<std::process::Output> for Output {
    fn from(out: std::process::Output) -> Output {
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `*.yaml` files of a directory under the repository, sorted.
pub fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .expect("read fixture dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

pub fn rel(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// `(code, line, column)` of every diagnostic in a `validate --format json` line.
pub fn diagnostics(json_line: &str) -> Vec<(String, u64, u64)> {
    let v: serde_json::Value = serde_json::from_str(json_line.trim()).expect("one JSON object");
    v["diagnostics"]
        .as_array()
        .expect("diagnostics array")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_owned(),
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// `cloverlift render SPEC --out DIR [EXTRA…]`.
pub fn render_to(spec: &str, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["render", spec, "--out", out.to_str().expect("utf-8 path")];
    args.extend_from_slice(extra);
    run(&args, None)
}

/// The files of a directory as `(name, text)`, sorted by name.
pub fn files_in(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("out dir")
        .map(|e| e.expect("entry").path())
        .map(|p| {
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            (name, std::fs::read_to_string(&p).expect("rendered file"))
        })
        .collect();
    files.sort();
    files
}

/// Compares rendered files with `tests/golden/render/STEM/`, or rewrites them when
/// `UPDATE_GOLDEN` is set. Returns the golden files that differ.
pub fn compare_golden(stem: &str, rendered: &[(String, String)]) -> Vec<String> {
    let golden_dir = root().join("tests/golden/render").join(stem);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        let _ = std::fs::remove_dir_all(&golden_dir);
        std::fs::create_dir_all(&golden_dir).expect("golden dir");
        for (name, text) in rendered {
            std::fs::write(golden_dir.join(name), text).expect("write golden");
        }
        return Vec::new();
    }
    let mut stale = Vec::new();
    let expected: Vec<String> = std::fs::read_dir(&golden_dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    for name in expected {
        if !rendered.iter().any(|(n, _)| *n == name) {
            stale.push(rel(&golden_dir.join(name)));
        }
    }
    for (name, text) in rendered {
        let golden = golden_dir.join(name);
        if std::fs::read_to_string(&golden).ok().as_deref() != Some(text.as_str()) {
            stale.push(rel(&golden));
        }
    }
    stale
}

/// The spec files in plans/ for one cloud (`aws-`, `azure-`, `gcp-`).
pub fn plans_for(prefix: &str) -> Vec<PathBuf> {
    yaml_files("plans")
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect()
}

/// A tool the tests use as an oracle, from an environment variable (set by scripts/test) or
/// PATH. CI must have it; elsewhere its absence skips the oracle with a note.
/// A tool a test needs is missing: a failure in CI, which must install it (`in_ci` says
/// what CI owes), and a skip with a note elsewhere.
pub fn missing_outside_ci(in_ci: &str, note: &str) {
    assert!(std::env::var_os("CI").is_none(), "{in_ci}");
    eprintln!("{note}");
}

pub fn oracle(env: &str, fallback: &str) -> Option<String> {
    let candidate = std::env::var(env).unwrap_or_else(|_| fallback.into());
    let ok = Command::new(&candidate)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(candidate);
    }
    missing_outside_ci(
        &format!("{env} ({fallback}) is missing; scripts/test installs it into its venv"),
        &format!("{fallback} not available; skipping the oracle"),
    );
    None
}

/// Runs a Python oracle from tests/oracles over rendered directories; it must report no
/// problem. Skipped (with a note) outside CI when the venv of scripts/test is missing.
pub fn assert_oracle_clean(script: &str, dirs: &[PathBuf]) {
    let Some(python) = oracle("CLOVERLIFT_PYTHON", "python3") else {
        return;
    };
    let out = Command::new(python)
        .arg(root().join("tests/oracles").join(script))
        .args(dirs)
        .output()
        .expect("run the oracle");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("ModuleNotFoundError") && std::env::var_os("CI").is_none() {
        eprintln!("{script}: its Python packages are missing; run scripts/test. Skipping.");
        return;
    }
    assert!(
        out.status.success(),
        "{script} found problems:\n{stdout}{stderr}"
    );
    assert!(stdout.contains(", 0 problem(s)"), "{stdout}");
}

/// Two renders of every example of a cloud, in each format, are byte-identical.
pub fn assert_renders_identical(prefix: &str, formats: &[&str]) {
    let tmp = tempfile::tempdir().expect("tempdir");
    for spec in plans_for(prefix) {
        for format in formats {
            let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
            assert_eq!(render_to(&rel(&spec), &a, &["--format", format]).code, 0);
            assert_eq!(render_to(&rel(&spec), &b, &["--format", format]).code, 0);
            assert_eq!(files_in(&a), files_in(&b), "{} {format}", rel(&spec));
            std::fs::remove_dir_all(&a).expect("clean");
            std::fs::remove_dir_all(&b).expect("clean");
        }
    }
}

/// Renders `spec` (with `extra` arguments) while the environment carries `canary` as the server
/// password, and asserts the canary is nowhere in the files or the output.
pub fn assert_render_keeps_secret(spec: &Path, out_dir: &Path, extra: &[&str], canary: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_cloverlift"))
        .arg("render")
        .arg(spec)
        .arg("--out")
        .arg(out_dir)
        .args(extra)
        .env("CLOVER_PASSWORD", canary)
        .output()
        .expect("render");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (name, text) in files_in(out_dir) {
        assert!(!text.contains(canary), "{name} leaks a secret");
    }
    assert!(!String::from_utf8_lossy(&out.stderr).contains(canary));
    assert!(!String::from_utf8_lossy(&out.stdout).contains(canary));
}

/// `cloverlift diff EXAMPLE EDITED`, where EDITED is the example with `from` replaced by `to`.
pub fn diff_against_edit(example: &str, from: &str, to: &str) -> Output {
    let tmp = tempfile::tempdir().expect("tempdir");
    let changed = tmp.path().join("changed.yaml");
    let text = std::fs::read_to_string(root().join(example)).expect("example");
    assert!(text.contains(from), "{example} has no `{from}`");
    std::fs::write(&changed, text.replace(from, to)).expect("spec");
    run(&["diff", example, changed.to_str().expect("path")], None)
}
