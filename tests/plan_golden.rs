//! `cloverlift plan` on every example, in all four formats, compared with the golden copies in
//! tests/golden/plan/ so reviewers see plan changes in pull requests. After an intended
//! change, regenerate them with `UPDATE_GOLDEN=1 cargo test --test plan_golden`.

mod common;

use common::{rel, root, run, yaml_files};

const FORMATS: [(&str, &str); 4] = [
    ("text", "txt"),
    ("json", "json"),
    ("dot", "dot"),
    ("mermaid", "mmd"),
];

#[test]
fn plans_match_their_golden_copies() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for spec in yaml_files("plans") {
        let stem = spec.file_stem().and_then(|s| s.to_str()).expect("name");
        for (format, ext) in FORMATS {
            let out = run(&["plan", "--format", format, &rel(&spec)], None);
            assert_eq!(out.code, 0, "{}: {}", rel(&spec), out.stderr);
            let golden = root().join(format!("tests/golden/plan/{stem}.{ext}"));
            if update {
                std::fs::write(&golden, &out.stdout).expect("write golden");
                continue;
            }
            let want = std::fs::read_to_string(&golden).unwrap_or_default();
            if want != out.stdout {
                stale.push(rel(&golden));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "plan output differs from {stale:?}; if intended, run UPDATE_GOLDEN=1 cargo test --test plan_golden"
    );
}

#[test]
fn plan_json_follows_the_spec_md_contract() {
    let out = run(&["plan", "--format", "json", "plans/aws-prod.yaml"], None);
    assert_eq!(out.code, 0);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let steps = plan["steps"].as_array().expect("steps");
    let ids: Vec<&str> = steps.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "pause",
            "snapshot-database",
            "snapshot-data",
            "resume",
            "await-snapshots",
            "deploy",
            "activate",
            "verify",
            "cutover",
            "move-address"
        ]
    );
    for s in steps {
        assert!(s["kind"].is_string() && s["depends_on"].is_array() && s["level"].is_u64());
    }
    let resume = &steps[3];
    assert_eq!(
        resume["depends_on"],
        serde_json::json!(["snapshot-database", "snapshot-data"])
    );
    assert_eq!(resume["level"], 2);
    assert_eq!(
        plan["critical_path"],
        serde_json::json!([
            "pause",
            "snapshot-database",
            "await-snapshots",
            "deploy",
            "activate",
            "verify",
            "cutover",
            "move-address"
        ])
    );
    assert_eq!(
        plan["downtime"]["steps"],
        serde_json::json!([
            "pause",
            "snapshot-database",
            "snapshot-data",
            "resume",
            "cutover"
        ])
    );
}

#[test]
fn war_plan_stops_the_service_only_after_the_snapshots_complete() {
    let out = run(&["plan", "--format", "json", "plans/aws-war.yaml"], None);
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let step = |id: &str| {
        plan["steps"]
            .as_array()
            .and_then(|s| s.iter().find(|x| x["id"] == id))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(
        step("stop-service")["depends_on"],
        serde_json::json!(["await-snapshots"])
    );
    assert_eq!(
        step("replace-war")["depends_on"],
        serde_json::json!(["stop-service"])
    );
    assert_eq!(step("resume")["depends_on"], serde_json::json!(["verify"]));
    assert_eq!(
        step("activate"),
        serde_json::Value::Null,
        "no license, no activate"
    );
    assert!(
        plan["rollback"]["steps"]
            .as_array()
            .is_some_and(|s| s.len() >= 3)
    );
}

#[test]
fn existing_snapshots_drop_pause_snapshot_and_resume() {
    let out = run(
        &[
            "plan",
            "--format",
            "json",
            "plans/aws-existing-snapshots.yaml",
        ],
        None,
    );
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let ids: Vec<&str> = plan["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    assert_eq!(ids, ["deploy", "activate", "verify", "cutover"]);
    assert_eq!(
        plan["downtime"]["steps"],
        serde_json::json!(["cutover"]),
        "the old server is not paused; only the cutover window remains"
    );
}

#[test]
fn an_invalid_spec_prints_diagnostics_not_a_plan() {
    let out = run(&["plan", "tests/invalid/cycle.yaml"], None);
    assert_eq!(out.code, 1);
    assert!(out.stdout.is_empty());
    assert!(out.stderr.contains("spec::cycle"));
}

/// The DOT output is read by Graphviz itself where it is installed (CI installs it).
#[test]
fn dot_output_renders_with_graphviz() {
    let have_dot = std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_dot {
        common::missing_outside_ci(
            "CI must install graphviz (see .ci/run)",
            "graphviz not installed; skipping",
        );
        return;
    }
    for spec in yaml_files("plans") {
        let out = run(&["plan", "--format", "dot", &rel(&spec)], None);
        let mut child = std::process::Command::new("dot")
            .arg("-Tsvg")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("dot");
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(out.stdout.as_bytes())
            .expect("feed dot");
        let svg = child.wait_with_output().expect("dot output");
        assert!(
            svg.status.success(),
            "{}: {}",
            rel(&spec),
            String::from_utf8_lossy(&svg.stderr)
        );
        assert!(String::from_utf8_lossy(&svg.stdout).contains("<svg"));
    }
}
