//! `cloverlift render` for Azure: golden files, byte-stability, the ARM oracle
//! (tests/oracles/arm_check.py: the 2019-04-01 schemas' keys and the Azure SDK models of each
//! resource type), escaping and secrets. No ARM validator or Bicep build is available offline;
//! see the oracle's docstring. Regenerate goldens with `UPDATE_GOLDEN=1 cargo test --test render_azure`.

mod common;

use std::path::{Path, PathBuf};

use common::{files_in, rel, render_to, root};

fn assert_arm_clean(dirs: &[PathBuf]) {
    common::assert_oracle_clean("arm_check.py", dirs);
}

#[test]
fn every_azure_example_matches_its_golden_files_and_passes_the_arm_oracle() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut dirs = Vec::new();
    let mut stale = Vec::new();
    let plans = common::plans_for("azure-");
    assert!(plans.len() >= 3, "Azure examples missing");
    for spec in plans {
        let stem = spec
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("stem")
            .to_owned();
        let out_dir = tmp.path().join(&stem);
        let out = render_to(&rel(&spec), &out_dir, &[]);
        assert_eq!(out.code, 0, "{}: {}", rel(&spec), out.stderr);
        let rendered = files_in(&out_dir);
        for (name, text) in &rendered {
            if name.ends_with(".json") {
                serde_json::from_str::<serde_json::Value>(text)
                    .unwrap_or_else(|e| panic!("{stem}/{name} is not JSON: {e}"));
            }
        }
        let names: Vec<&str> = rendered.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"azuredeploy.json") && names.contains(&"azuredeploy.parameters.json")
        );
        stale.extend(common::compare_golden(&stem, &rendered));
        dirs.push(out_dir);
    }
    assert!(
        stale.is_empty(),
        "rendered files differ from {stale:?}; if intended, run UPDATE_GOLDEN=1 cargo test --test render_azure"
    );
    assert_arm_clean(&dirs);
}

fn load(dir: &Path, name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("file")).expect("json")
}

#[test]
fn the_template_restores_from_the_snapshot_and_the_restore_point() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = render_to("plans/azure-existing-snapshots.yaml", tmp.path(), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let template = load(tmp.path(), "azuredeploy.json");
    let resources = template["resources"].as_array().expect("resources");
    let of_type = |t: &str| {
        resources
            .iter()
            .find(|r| r["type"] == t)
            .cloned()
            .unwrap_or_default()
    };
    let disk = of_type("Microsoft.Compute/disks");
    assert_eq!(disk["properties"]["creationData"]["createOption"], "Copy");
    assert_eq!(
        disk["properties"]["creationData"]["sourceResourceId"],
        "[parameters('dataSnapshotId')]"
    );
    let pg = of_type("Microsoft.DBforPostgreSQL/flexibleServers");
    assert_eq!(pg["properties"]["createMode"], "PointInTimeRestore");
    assert_eq!(
        pg["properties"]["pointInTimeUTC"],
        "[parameters('restorePointInTime')]"
    );
    let vm = of_type("Microsoft.Compute/virtualMachines");
    assert_eq!(vm["plan"]["product"], "[parameters('imageOffer')]");
    assert_eq!(
        vm["properties"]["storageProfile"]["dataDisks"][0]["createOption"],
        "Attach"
    );
    assert_eq!(
        vm["properties"]["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"],
        true
    );
    for output in ["serverUrl", "vmId", "databaseFqdn", "publicIp"] {
        assert!(
            template["outputs"][output]["value"].is_string(),
            "output {output}"
        );
    }

    let params = load(tmp.path(), "azuredeploy.parameters.json");
    assert_eq!(
        params["$schema"],
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
    );
    let p = &params["parameters"];
    assert_eq!(p["restorePointInTime"]["value"], "2026-11-20T22:00:00Z");
    assert_eq!(
        p["dataSnapshotId"]["value"],
        "/subscriptions/3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f/resourceGroups/clover-dev/providers/Microsoft.Compute/snapshots/clover-dev-data-before-7"
    );
    assert_eq!(
        p["sourceServerResourceId"]["value"],
        "/subscriptions/3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f/resourceGroups/clover-dev/providers/Microsoft.DBforPostgreSQL/flexibleServers/clover-dev-pg"
    );
    assert_eq!(p["postgresSkuTier"]["value"], "Burstable");
    assert!(
        p.get("sshPublicKey").is_none(),
        "the key is a reference apply resolves"
    );
}

#[test]
fn renders_are_byte_identical() {
    common::assert_renders_identical("azure-", &["native"]);
}

/// Values validation would refuse, pushed straight into the renderer, come out as the same
/// JSON strings, and the template keeps its resources.
#[test]
fn escaping_holds_for_values_validation_would_refuse() {
    let text = std::fs::read_to_string(root().join("plans/azure-prod.yaml")).expect("example");
    let file = cloverlift::source::SourceFile::new("azure-prod.yaml", text);
    let (mut valid, plan) = cloverlift::check(&file).expect("valid example");
    let nasty = [
        ("quote\"s", "it's \"quoted\"\\"),
        ("newline", "line1\nline2"),
        ("expression", "[concat('a', parameters('x'))]"),
        ("handlebars", "{{json name}} {{{raw}}}"),
        ("controls", "bell\u{7} bidi\u{202e} nul\u{0}"),
    ];
    let tags = &mut valid.spec.to.azure.as_mut().expect("azure").tags;
    for (k, v) in nasty {
        tags.insert(k.to_owned(), v.to_owned());
    }
    let artifacts = cloverlift::render::render(&valid, &plan, &Default::default()).expect("render");
    let template: serde_json::Value =
        serde_json::from_str(&artifacts.files["azuredeploy.json"]).expect("valid JSON");
    let resources = template["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 6, "no resource added or lost");
    for r in resources {
        for (k, v) in nasty {
            let written = r["tags"][k].as_str().expect("a string tag");
            assert_eq!(arm_evaluates(written), v, "tag {k} on {}", r["type"]);
        }
    }
    // What ARM would evaluate as an expression is written with its bracket doubled.
    let disk = &resources[0]["tags"]["expression"];
    assert_eq!(disk, "[[concat('a', parameters('x'))]");
}

/// The value ARM deploys for a JSON string in a template: `[[…]` is the literal `[…]`, and any
/// other `[…]` would be an expression, which no spec value may become.
fn arm_evaluates(written: &str) -> &str {
    if let Some(literal) = written.strip_prefix('[').filter(|r| r.starts_with('[')) {
        return literal;
    }
    assert!(
        !(written.starts_with('[') && written.ends_with(']')),
        "{written:?} would be evaluated as an ARM expression"
    );
    written
}

#[test]
fn secrets_and_the_ssh_key_never_reach_rendered_files() {
    const CANARY: &str = "canary-azure-51c0ffee-do-not-leak";
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = tmp.path().join("ops.pub");
    std::fs::write(&key, format!("ssh-ed25519 AAAA{CANARY}")).expect("key");
    let spec_text = std::fs::read_to_string(root().join("plans/azure-prod.yaml"))
        .expect("example")
        .replace("ssh_public_key: { file: keys/ops.pub }", &format!("ssh_public_key: {{ file: {} }}", key.display()))
        .replace(
            "password: { azure_key_vault: https://clover-kv.vault.azure.net/secrets/clover-password }",
            "password: { env: CLOVER_PASSWORD }",
        );
    let spec = tmp.path().join("spec.yaml");
    std::fs::write(&spec, spec_text).expect("spec");
    common::assert_render_keeps_secret(&spec, &tmp.path().join("out"), &[], CANARY);
}

#[test]
fn diff_works_for_azure_specs() {
    let out = common::diff_against_edit(
        "plans/azure-prod.yaml",
        "vm_size: Standard_D4s_v5",
        "vm_size: Standard_D8s_v5",
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("--- a/azuredeploy.parameters.json"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("+      \"value\": \"Standard_D8s_v5\""),
        "{}",
        out.stdout
    );
}
