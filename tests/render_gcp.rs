//! `cloverlift render` for Google Cloud: the Terraform JSON for Infrastructure Manager (the
//! default) and, on request, the Deployment Manager config, against the oracle tests/oracles/gcp_check.py (Google's API
//! discovery documents for the DM properties; the Google provider's argument names for
//! Terraform). Regenerate goldens with `UPDATE_GOLDEN=1 cargo test --test render_gcp`.

mod common;

use std::path::PathBuf;

use common::{files_in, rel, render_to, root, run};

fn assert_gcp_clean(dirs: &[PathBuf]) {
    common::assert_oracle_clean("gcp_check.py", dirs);
}

#[test]
fn every_gcp_example_matches_its_golden_files_and_passes_the_oracle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut dirs = Vec::new();
    let mut stale = Vec::new();
    let plans = common::plans_for("gcp-");
    assert!(plans.len() >= 2, "GCP examples missing");
    for spec in plans {
        let stem = spec
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("stem")
            .to_owned();
        for (format, suffix, file) in [
            ("native", "", "main.tf.json"),
            (
                "deployment-manager",
                ".deployment-manager",
                "deployment.yaml",
            ),
        ] {
            // Deployment Manager cannot take what apply discovers: only the example that
            // names everything renders for it.
            if format == "deployment-manager" && stem != "gcp-existing-snapshots" {
                continue;
            }
            let out_dir = tmp.path().join(format!("{stem}{suffix}"));
            let out = render_to(&rel(&spec), &out_dir, &["--format", format]);
            assert_eq!(out.code, 0, "{}: {}", rel(&spec), out.stderr);
            let rendered = files_in(&out_dir);
            // The war strategy deploys nothing: its scripts are checked by tests/scripts.rs.
            let war = stem.ends_with("-war");
            let file = if war { "war-startup.sh" } else { file };
            assert!(rendered.iter().any(|(n, _)| n == file), "{stem}: no {file}");
            stale.extend(common::compare_golden(
                &format!("{stem}{suffix}"),
                &rendered,
            ));
            if !war {
                dirs.push(out_dir);
            }
        }
    }
    assert!(
        stale.is_empty(),
        "rendered files differ from {stale:?}; if intended, run UPDATE_GOLDEN=1 cargo test --test render_gcp"
    );
    assert_gcp_clean(&dirs);
}

#[test]
fn renders_are_byte_identical() {
    common::assert_renders_identical("gcp-", &["native", "terraform"]);
}

#[test]
fn deployment_manager_is_explicit_warned_and_refused_without_what_apply_would_discover() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = render_to(
        "plans/gcp-existing-snapshots.yaml",
        &tmp.path().join("dm"),
        &["--format", "deployment-manager"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: Deployment Manager reached end of support on 2026-03-31"),
        "{}",
        out.stderr
    );
    let out = render_to(
        "plans/gcp-prod.yaml",
        &tmp.path().join("prod"),
        &["--format", "deployment-manager"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("to.gcp.database_version"),
        "{}",
        out.stderr
    );
    let out = render_to("plans/gcp-prod.yaml", &tmp.path().join("tf"), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("Deployment Manager"), "{}", out.stderr);
}

/// What the deployment does, beyond its schema: the Cloud SQL instance gets the source's
/// version (an input when the spec leaves it out) and an explicit edition, admits the moved
/// address, the web firewall admits only the configured network, and Terraform leaves the
/// restore marker alone.
#[test]
fn terraform_keeps_the_restore_working_and_the_network_closed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    assert_eq!(render_to("plans/gcp-prod.yaml", tmp.path(), &[]).code, 0);
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("main.tf.json")).expect("main.tf.json"),
    )
    .expect("JSON");
    let db = &doc["resource"]["google_sql_database_instance"]["database"];
    assert_eq!(db["database_version"], "${var.database_version}");
    assert!(doc["variable"]["database_version"]["type"] == "string");
    assert_eq!(db["settings"]["edition"], "ENTERPRISE");
    let networks = db["settings"]["ip_configuration"]["authorized_networks"]
        .as_array()
        .expect("authorized networks");
    assert!(
        networks
            .iter()
            .any(|n| n["value"] == "${data.google_compute_address.old.address}"),
        "the moved address is admitted: {networks:?}"
    );
    assert_eq!(
        doc["data"]["google_compute_address"]["old"]["name"],
        "clover-ip"
    );
    let web = &doc["resource"]["google_compute_firewall"]["web"];
    assert_eq!(web["source_ranges"], "${var.ingress_source_ranges}");
    let vm = &doc["resource"]["google_compute_instance"]["server"];
    // The second wall (issue 31): the new server's egress to the old database is denied, by
    // the new server's tag, above any allow rule (priority 100 < the default 1000).
    let wall = &doc["resource"]["google_compute_firewall"]["old_database"];
    assert_eq!(wall["direction"], "EGRESS");
    assert_eq!(wall["priority"], 100);
    assert_eq!(wall["destination_ranges"], "${var.old_database_addresses}");
    assert_eq!(
        wall["deny"],
        serde_json::json!([{ "protocol": "tcp", "ports": ["5432"] }])
    );
    assert_eq!(wall["target_tags"], vm["tags"]);
    assert_eq!(
        vm["lifecycle"]["ignore_changes"],
        serde_json::json!(["metadata[\"cloverlift-database-restored\"]"])
    );
    assert!(
        vm["metadata"]["startup-script"]
            .as_str()
            .is_some_and(|s| s.contains("the boot guard never ran")),
        "the fallback for images without cloud-init"
    );
    let qa = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        render_to("plans/gcp-existing-snapshots.yaml", qa.path(), &[]).code,
        0
    );
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(qa.path().join("main.tf.json")).expect("main.tf.json"),
    )
    .expect("JSON");
    let db = &doc["resource"]["google_sql_database_instance"]["database"];
    assert_eq!(db["database_version"], "POSTGRES_15");
    assert_eq!(
        doc["variable"]
            .as_object()
            .map(|v| v.keys().collect::<Vec<_>>()),
        Some(vec![&"old_database_addresses".to_owned()]),
        "only what no spec can know"
    );
    assert!(doc.get("data").is_none(), "no address moves");
    assert_eq!(
        doc["resource"]["google_compute_firewall"]["web"]["source_ranges"],
        serde_json::json!(["203.0.113.0/24"])
    );
}

#[test]
fn plan_json_documents_the_restore_call() {
    let tmp = tempfile::tempdir().expect("tempdir");
    assert_eq!(
        render_to("plans/gcp-existing-snapshots.yaml", tmp.path(), &[]).code,
        0
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("plan.json")).expect("plan"))
            .expect("json");
    let restore = plan["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["id"] == "restore-database"))
        .cloned()
        .expect("a restore-database step");
    assert_eq!(restore["depends_on"], serde_json::json!(["deploy"]));
    let op = &restore["operation"];
    assert_eq!(op["method"], "POST");
    assert_eq!(
        op["url"],
        "https://sqladmin.googleapis.com/sql/v1beta4/projects/acme-clover-qa/instances/qa-europe-west1-db/restoreBackup"
    );
    assert_eq!(
        op["body"]["restoreBackupContext"]["backupRunId"],
        "1732140000000"
    );
    assert_eq!(
        op["body"]["restoreBackupContext"]["instanceId"],
        "clover-qa-pg"
    );
}

/// Hostile values pushed past validation stay one string each: YAML-escaped in the DM config,
/// and with Terraform's `${`/`%{` doubled in main.tf.json so nothing is interpolated.
#[test]
fn escaping_holds_for_values_validation_would_refuse() {
    let text = std::fs::read_to_string(root().join("plans/gcp-prod.yaml")).expect("example");
    let file = cloverlift::source::SourceFile::new("gcp-prod.yaml", text);
    let (mut valid, plan) = cloverlift::check(&file).expect("valid example");
    let nasty = [
        ("quote", "it's \"quoted\"\n- item: {a: b} # c"),
        (
            "terraform",
            "${google_compute_instance.server.id} %{ if true }x%{ endif }",
        ),
        ("dm-ref", "$(ref.prod-europe-west1-vm.selfLink)x"),
        ("handlebars", "{{json name}}"),
    ];
    let labels = &mut valid.spec.to.gcp.as_mut().expect("gcp").labels;
    for (k, v) in nasty {
        labels.insert(k.to_owned(), v.to_owned());
    }
    let renderer = cloverlift::render::Renderer::new(&Default::default()).expect("templates");
    let tf = renderer
        .render_as(&valid, &plan, cloverlift::render::OutputFormat::Terraform)
        .expect("terraform");
    let doc: serde_json::Value = serde_json::from_str(&tf.files["main.tf.json"]).expect("JSON");
    let labels = &doc["resource"]["google_compute_disk"]["data"]["labels"];
    assert_eq!(
        labels["terraform"],
        "$${google_compute_instance.server.id} %%{ if true }x%%{ endif }"
    );
    assert_eq!(labels["quote"], "it's \"quoted\"\n- item: {a: b} # c");
    let gcp = valid.spec.to.gcp.as_mut().expect("gcp");
    gcp.database_version =
        Some(serde_json::from_value(serde_json::json!("POSTGRES_15")).expect("version"));
    gcp.ingress_cidr =
        Some(serde_json::from_value(serde_json::json!("203.0.113.0/24")).expect("cidr"));
    valid.spec.steps.move_address = false;
    // Deployment Manager has no escape for its references and Jinja: such values are refused.
    let refused = renderer
        .render_as(
            &valid,
            &plan,
            cloverlift::render::OutputFormat::DeploymentManager,
        )
        .expect_err("a DM reference in a label is refused");
    assert!(
        refused
            .to_string()
            .contains("Deployment Manager would evaluate"),
        "{refused}"
    );
    let labels = &mut valid.spec.to.gcp.as_mut().expect("gcp").labels;
    for (k, _) in &nasty[2..] {
        labels.remove(*k);
    }
    let dm = renderer
        .render_as(
            &valid,
            &plan,
            cloverlift::render::OutputFormat::DeploymentManager,
        )
        .expect("dm");
    let config =
        cloverlift::source::SourceFile::new("deployment.yaml", dm.files["deployment.yaml"].clone());
    let (tree, errors) = cloverlift::spec::yaml::parse(&config);
    assert!(errors.is_empty(), "{errors:?}");
    let tree = tree.expect("document");
    let cloverlift::spec::node::Kind::Seq(resources) =
        &tree.lookup(&["resources"]).expect("resources").kind
    else {
        panic!("resources is a list")
    };
    assert_eq!(resources.len(), 6, "no resource added or lost");
    let disk_labels = tree
        .lookup(&["resources", "0", "properties", "labels"])
        .expect("labels");
    for (k, v) in &nasty[..2] {
        let got = disk_labels
            .lookup(&[k])
            .and_then(|n| n.as_scalar())
            .map(|s| s.text.clone());
        assert_eq!(got.as_deref(), Some(*v), "label {k}");
    }
}

#[test]
fn terraform_is_refused_for_other_clouds() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = render_to(
        "plans/aws-prod.yaml",
        tmp.path(),
        &["--format", "terraform"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("render::format"), "{}", out.stderr);
}

#[test]
fn war_strategy_renders_the_script_and_the_plan() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let text =
        std::fs::read_to_string(root().join("plans/gcp-existing-snapshots.yaml")).expect("example");
    let start = text.find("to:\n").expect("to block");
    let end = text.find("snapshots:").expect("snapshots block");
    let war = format!(
        "{}to:\n  version: 7.0.1\n  war: {{ url: https://downloads.example.com/clover.war, sha256: {} }}\n",
        text[..start].replace("cloud: gcp", "cloud: gcp\nstrategy: war"),
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    );
    assert!(end > start);
    let spec = tmp.path().join("war.yaml");
    std::fs::write(&spec, war).expect("spec");
    let out = render_to(spec.to_str().expect("path"), &tmp.path().join("out"), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let names: Vec<String> = files_in(&tmp.path().join("out"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["plan.json", "war-startup.sh", "war-upgrade.sh"]);
}

#[test]
fn secrets_never_reach_rendered_files() {
    const CANARY: &str = "canary-gcp-0ddba11-do-not-leak";
    let tmp = tempfile::tempdir().expect("tempdir");
    let spec_text =
        std::fs::read_to_string(root().join("plans/gcp-existing-snapshots.yaml")).expect("example");
    let spec = tmp.path().join("spec.yaml");
    std::fs::write(&spec, spec_text).expect("spec");
    for format in ["native", "deployment-manager"] {
        let out_dir = tmp.path().join(format);
        common::assert_render_keeps_secret(&spec, &out_dir, &["--format", format], CANARY);
    }
}

#[test]
fn diff_works_for_gcp_specs() {
    let out = common::diff_against_edit(
        "plans/gcp-prod.yaml",
        "machine_type: n2-standard-4",
        "machine_type: n2-standard-8",
    );
    assert_eq!(out.code, 1);
    assert!(out.stdout.contains("--- a/main.tf.json"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("+        \"machine_type\": \"n2-standard-8\","),
        "{}",
        out.stdout
    );
}

#[test]
fn diff_compares_the_format_asked_for() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let example = "plans/gcp-existing-snapshots.yaml";
    let text = std::fs::read_to_string(common::root().join(example)).expect("example");
    let changed = tmp.path().join("changed.yaml");
    std::fs::write(
        &changed,
        text.replace("machine_type: n2-standard-2", "machine_type: n2-standard-8"),
    )
    .expect("spec");
    let changed = changed.to_str().expect("path");
    let dm = run(
        &["diff", "--format", "deployment-manager", example, changed],
        None,
    );
    assert_eq!(dm.code, 1, "{}", dm.stderr);
    assert!(dm.stdout.contains("--- a/deployment.yaml"), "{}", dm.stdout);
    assert!(!dm.stdout.contains("main.tf.json"), "{}", dm.stdout);
    let tf = run(&["diff", "--format", "terraform", example, changed], None);
    assert_eq!(tf.code, 1, "{}", tf.stderr);
    assert!(tf.stdout.contains("--- a/main.tf.json"), "{}", tf.stdout);
    let aws = run(
        &[
            "diff",
            "--format",
            "terraform",
            "plans/aws-prod.yaml",
            "plans/aws-prod.yaml",
        ],
        None,
    );
    assert_eq!(
        aws.code, 2,
        "terraform is for Google Cloud specs: {}",
        aws.stderr
    );
}
