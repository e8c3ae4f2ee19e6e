//! `cloverlift apply` end to end on Azure, against tests/servers/arm_server.py (a local Azure
//! Resource Manager double that follows ARM's documented protocol and the request and response
//! shapes of Azure's published REST examples; no ARM emulator exists) and the CloverDX Server
//! double. Credentials come through azure_identity's Azure CLI credential, with
//! tests/servers/azcli/az standing in for the CLI on PATH.

#![cfg(feature = "azure")]

mod common;
mod doubles;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use doubles::{NEW_ITEMS, OLD_ITEMS, Proc, after_cutover, items, old_items, python};

const SUB: &str = "3f2c6a1e-8b4d-4c2a-9e7f-1a2b3c4d5e6f";
const SSH_KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOps0nlyForTests ops@example";

struct World {
    _arm: Proc,
    arm_port: u16,
    _old: Proc,
    old_port: u16,
    _new: Proc,
    new_port: u16,
    dir: tempfile::TempDir,
}

fn world() -> World {
    let python = python();
    let (new, new_port) = doubles::cloverdx(&python, NEW_ITEMS);
    let (old, old_port) = doubles::cloverdx_old(&python, OLD_ITEMS, "6.4.2.3");
    // The new VM's serial console shows the certificate the new double serves, as its boot
    // guard would print it (tests/servers/arm_server.py, boot diagnostics).
    let (_, fingerprint) = doubles::certificate(new_port);
    let (arm, arm_port) = doubles::start(
        &python,
        &common::root().join("tests/servers/arm_server.py"),
        &["--new-server-fingerprint", &fingerprint],
    );
    // Operations stay in progress for one poll: every protocol path is taken, quickly.
    doubles::configure(arm_port, &json!({ "polls": 1 }));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("keys")).expect("keys");
    std::fs::write(dir.path().join("keys/ops.pub"), format!("{SSH_KEY}\n")).expect("key");
    World {
        _arm: arm,
        arm_port,
        _old: old,
        old_port,
        _new: new,
        new_port,
        dir,
    }
}

impl World {
    fn spec(&self, name: &str, move_address: bool) -> PathBuf {
        let text = format!(
            "version: 1\nname: {name}\ncloud: azure\nfrom:\n  version: 6.4.2\n  server:\n    url: http://127.0.0.1:{old}/clover\n    username: clover\n    password: {{ env: CLOVER_PASSWORD }}\n  azure:\n    subscription: {SUB}\n    resource_group: clover-prod\n    location: westeurope\n    vm: clover-vm\n    data_disk: clover-data\n    postgres_server: clover-pg\n    public_ip: clover-ip\nto:\n  version: 7.0.1\n  license: {{ azure_key_vault: https://clover-kv.vault.azure.net/secrets/cloverdx-7-license }}\n  azure:\n    resource_group: clover-prod-v7\n    vm_size: Standard_D4s_v5\n    image: {{ publisher: cloverdx, offer: cloverdx-server, sku: byol, version: 7.0.1 }}\n    subnet_id: /subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/apps\n    admin_username: cloveradmin\n    ssh_public_key: {{ file: keys/ops.pub }}\n    postgres_sku: Standard_D2ds_v5\nsteps:\n  pause: {{ drain_timeout: 20s }}\n  verify:\n    timeout: 20s\n    enable: [schedules]\n  move_address: {move_address}\n",
            old = self.old_port,
        );
        // The new server's certificate is not named: apply pins what its console reports.
        let text = doubles::trust_old(&text, self.old_port, self.dir.path());
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("spec");
        path
    }

    fn command(&self, verb: &str, spec: &Path, extra: &[&str]) -> Command {
        let new_server = doubles::clover_url(self.new_port);
        let mut args = vec!["--new-server-url", new_server.as_str()];
        args.extend_from_slice(extra);
        self.command_without_new_server(verb, spec, &args)
    }

    /// The war strategy upgrades the old server in place: no new server to point at.
    fn command_without_new_server(&self, verb: &str, spec: &Path, extra: &[&str]) -> Command {
        let shim = common::root().join("tests/servers/azcli");
        let path = format!(
            "{}:{}",
            shim.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloverlift"));
        cmd.arg(verb)
            .arg(spec)
            .args([
                "--endpoint-url",
                &format!("http://127.0.0.1:{}", self.arm_port),
                "--state-dir",
            ])
            .arg(self.dir.path().join("state"))
            .args(extra)
            .env("PATH", path)
            .env("CLOVER_PASSWORD", "s3cret-pw")
            .env(
                "CLOVERLIFT_AZURE_KEY_VAULT_URL",
                format!("http://127.0.0.1:{}", self.arm_port),
            )
            .env_remove("AZURE_CLIENT_SECRET")
            .env_remove("AZURE_FEDERATED_TOKEN_FILE")
            .env_remove("CLOVERLIFT_AZURE_CREDENTIAL")
            .stdin(Stdio::null());
        if verb == "apply" {
            cmd.args(["--poll-seconds", "1"]);
        }
        cmd
    }

    fn run(&self, verb: &str, spec: &Path, extra: &[&str]) -> common::Output {
        let out = self.command(verb, spec, extra).output().expect(verb);
        common::Output::from(out)
    }

    fn arm(&self) -> Value {
        doubles::state(self.arm_port)
    }

    fn resource(&self, id: &str) -> Value {
        self.arm()["resources"][id.to_ascii_lowercase()].clone()
    }

    fn journal(&self, name: &str) -> String {
        std::fs::read_to_string(
            self.dir
                .path()
                .join("state")
                .join(name)
                .join("journal.jsonl"),
        )
        .unwrap_or_default()
    }
}

fn id(group: &str, kind: &str, name: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{group}/providers/{kind}/{name}")
}

fn old_nic() -> String {
    id(
        "clover-prod",
        "Microsoft.Network/networkInterfaces",
        "clover-nic",
    )
}

fn old_ip() -> String {
    id(
        "clover-prod",
        "Microsoft.Network/publicIPAddresses",
        "clover-ip",
    )
}

fn primary_ip(nic: &Value) -> Value {
    nic["properties"]["ipConfigurations"][0]["properties"]["publicIPAddress"]["id"].clone()
}

/// `METHOD path` of the ARM requests that change something.
fn writes(arm: &Value) -> Vec<String> {
    doubles::request_lines(arm)
        .into_iter()
        .filter(|r| !r.starts_with("GET "))
        .collect()
}

/// The times (Unix seconds) the old server's `Nightly load` was disabled and enabled again.
fn pause_window(old_state: &Value) -> (f64, f64) {
    let changes: Vec<(f64, bool)> = old_state["timeline"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["item"] == "Nightly load")
        .map(|e| (e["t"].as_f64().unwrap_or_default(), e["enabled"] == true))
        .collect();
    let off = changes.iter().find(|c| !c.1).expect("paused").0;
    let on = changes
        .iter()
        .find(|c| c.1 && c.0 > off)
        .expect("resumed")
        .0;
    (off, on)
}

#[test]
fn apply_upgrades_the_arm_backed_example_end_to_end() {
    let w = world();
    let spec = w.spec("prod-westeurope", true);

    // Without the terms accepted, the preflight stops with the command that accepts them.
    let refused = w.run("apply", &spec, &["--dry-run"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!(
            "az vm image terms accept --publisher cloverdx --offer cloverdx-server --plan byol --subscription {SUB}"
        )),
        "{}",
        refused.stderr
    );

    // Under RUST_LOG=trace: the logs show the calls, never a token or a secret.
    let dry = w
        .command("apply", &spec, &["--dry-run", "--accept-marketplace-terms"])
        .env("RUST_LOG", "trace")
        .output()
        .expect("apply");
    let dry = common::Output::from(dry);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stderr.contains("ARM answered"), "trace logging is on");
    for secret in ["token-for-tests", "s3cret-pw", "CLOVERDX-LICENSE-7"] {
        assert!(!dry.stderr.contains(secret), "{secret} reached the logs");
    }
    assert!(
        dry.stderr.contains("ok       Azure credentials: azure-cli"),
        "{}",
        dry.stderr
    );
    assert!(
        dry.stderr.contains("/whatIf (Incremental; changes shown)"),
        "{}",
        dry.stderr
    );
    assert!(
        writes(&w.arm()).is_empty(),
        "the dry run only reads: {:?}",
        writes(&w.arm())
    );
    assert_eq!(doubles::state(w.old_port)["imports"], 0);
    assert_eq!(w.arm()["terms_accepted"], false);

    // A throttling storm at the start: ARM's 429s are waited out (Retry-After), not failed on.
    doubles::configure(w.arm_port, &json!({ "throttle": 5, "requests": [] }));
    let out = w.run(
        "apply",
        &spec,
        &["--yes", "--accept-marketplace-terms", "--format", "json"],
    );
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let arm = w.arm();
    assert_eq!(arm["throttled"], 5);
    assert_eq!(arm["terms_accepted"], true);

    // Exactly these changes, and on the old deployment only the NIC's IP configuration.
    let new_rg = format!("/subscriptions/{SUB}/resourceGroups/clover-prod-v7");
    let snapshot_put = writes(&arm)
        .into_iter()
        .find(|w| w.starts_with("PUT ") && w.contains("/snapshots/"))
        .expect("a snapshot PUT");
    let snapshot = snapshot_put.trim_start_matches("PUT ").to_owned();
    let deployment = format!("{new_rg}/providers/Microsoft.Resources/deployments/prod-westeurope");
    let new_nic = id(
        "clover-prod-v7",
        "Microsoft.Network/networkInterfaces",
        "prod-westeurope-nic",
    );
    let new_ip = id(
        "clover-prod-v7",
        "Microsoft.Network/publicIPAddresses",
        "prod-westeurope-ip",
    );
    let new_vm = id(
        "clover-prod-v7",
        "Microsoft.Compute/virtualMachines",
        "prod-westeurope-vm",
    );
    assert_eq!(
        writes(&arm),
        [
            snapshot_put.clone(),
            format!(
                "PUT /subscriptions/{SUB}/providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/publishers/cloverdx/offers/cloverdx-server/plans/byol/agreements/current"
            ),
            format!("POST {deployment}/whatIf"),
            format!("PUT {deployment}"),
            // activate reads the new VM's console for its certificate (boot diagnostics)
            format!("POST {new_vm}/retrieveBootDiagnosticsData"),
            format!("PUT {}", old_nic()),
            format!("PUT {new_nic}"),
            format!("DELETE {new_ip}"),
            format!("POST {new_vm}/restart"),
        ]
    );
    assert!(snapshot.starts_with(&format!(
        "{new_rg}/providers/Microsoft.Compute/snapshots/cloverlift-prod-westeurope-data-"
    )));
    // The console log is read with its SAS URI alone: no ARM token goes to storage, and the
    // signature reaches neither the output nor the journal.
    assert_eq!(arm["leaked_tokens"], json!([]));
    assert!(
        doubles::request_lines(&arm)
            .contains(&"GET /bootdiagnostics/prod-westeurope-vm.serialconsole.log".to_owned())
    );

    // The snapshot: an incremental copy of the old data disk, where the disk is.
    let body_of = |method: &str, path: &str| -> Value {
        arm["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["method"] == method && r["path"] == path)
            .map(|r| r["body"].clone())
            .unwrap_or_default()
    };
    let snap = body_of("PUT", &snapshot);
    assert_eq!(snap["location"], "westeurope");
    assert_eq!(snap["properties"]["incremental"], true);
    assert_eq!(
        snap["properties"]["creationData"],
        json!({ "createOption": "Copy", "sourceResourceId": id("clover-prod", "Microsoft.Compute/disks", "clover-data") })
    );

    // The deployment: the rendered template, byte for byte as JSON, with the snapshot, the
    // restore point inside the pause window, the old server's network and the resolved key.
    let rendered = w.dir.path().join("rendered");
    let render = Command::new(env!("CARGO_BIN_EXE_cloverlift"))
        .arg("render")
        .arg(&spec)
        .arg("--out")
        .arg(&rendered)
        .output()
        .expect("render");
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    let template: Value = serde_json::from_str(
        &std::fs::read_to_string(rendered.join("azuredeploy.json")).expect("rendered template"),
    )
    .expect("json");
    let sent = body_of("PUT", &deployment);
    assert_eq!(sent["properties"]["mode"], "Incremental");
    assert_eq!(
        sent["properties"]["template"], template,
        "the deployment is the rendered template"
    );
    let p = &sent["properties"]["parameters"];
    assert_eq!(p["dataSnapshotId"]["value"], snapshot.as_str());
    assert_eq!(p["sshPublicKey"]["value"], SSH_KEY);
    assert_eq!(p["allowedSourceAddressPrefix"]["value"], "203.0.113.0/24");
    assert_eq!(
        p["postgresDelegatedSubnetId"]["value"],
        format!(
            "/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet/subnets/postgres"
        )
    );
    let point = cloverlift::timestamp::parse_utc(
        p["restorePointInTime"]["value"]
            .as_str()
            .unwrap_or_default(),
    )
    .expect("an RFC 3339 restore point");
    let (paused, resumed) = pause_window(&doubles::state(w.old_port));
    assert!(
        paused <= point && point <= resumed,
        "the restore point {point} lies in the pause window {paused}..{resumed}"
    );

    // The address moved: off the old NIC, on the new one; the new deployment's own is gone.
    assert_eq!(primary_ip(&w.resource(&old_nic())), Value::Null);
    assert_eq!(
        primary_ip(&w.resource(&new_nic))
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(old_ip().to_ascii_lowercase())
    );
    assert_eq!(
        w.resource(&new_ip),
        Value::Null,
        "the new deployment's own address is deleted"
    );

    // The old server runs again exactly what it ran, minus what cutover moved; the new one is
    // licensed; never both ran a schedule.
    assert_eq!(items(&doubles::state(w.old_port)), after_cutover());
    assert_eq!(doubles::state(w.new_port)["license"], "CLOVERDX-LICENSE-7");
    doubles::never_both_enabled(w.old_port, w.new_port);

    // No secret in the journal: not the password, the license, the key or a token.
    let journal = w.journal("prod-westeurope");
    assert!(journal.contains("restore_point"), "{journal}");
    for secret in [
        "s3cret-pw",
        "CLOVERDX-LICENSE-7",
        "AAAAC3NzaC1lZDI1NTE5AAAAIOps0nlyForTests",
        "token-for-tests",
    ] {
        assert!(!journal.contains(secret), "{secret} in the journal");
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{secret} in the output"
        );
    }

    // Rollback: the address back on the old VM, the new VM powered off, the old server
    // running its schedules again.
    let back = w.run("rollback", &spec, &["--yes"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(
        primary_ip(&w.resource(&old_nic()))
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(old_ip().to_ascii_lowercase())
    );
    assert_eq!(primary_ip(&w.resource(&new_nic)), Value::Null);
    assert_eq!(
        w.resource(&new_vm)["actions"],
        json!(["restart", "powerOff"])
    );
    assert_eq!(items(&doubles::state(w.old_port)), old_items());

    // Deleting the new deployment: its VM, NIC, group and (already deleted) address; never the
    // old deployment's; the restored database and the new data disk are kept.
    let deleted = w.run("rollback", &spec, &["--yes", "--delete-new"]);
    assert_eq!(deleted.code, 0, "{}", deleted.stderr);
    for gone in [
        &new_vm,
        &new_nic,
        &id(
            "clover-prod-v7",
            "Microsoft.Network/networkSecurityGroups",
            "prod-westeurope-nsg",
        ),
    ] {
        assert_eq!(w.resource(gone), Value::Null, "{gone} is deleted");
    }
    for kept in [
        id(
            "clover-prod-v7",
            "Microsoft.DBforPostgreSQL/flexibleServers",
            "prod-westeurope-pg",
        ),
        id(
            "clover-prod-v7",
            "Microsoft.Compute/disks",
            "prod-westeurope-data",
        ),
        id(
            "clover-prod",
            "Microsoft.Compute/virtualMachines",
            "clover-vm",
        ),
        old_nic(),
        old_ip(),
    ] {
        assert_ne!(w.resource(&kept), Value::Null, "{kept} is kept");
    }
}

/// A failure before the deployment exists leaves the old deployment as it was and the old
/// server resumed; ARM's error is reported with the failing resource and its code.
#[test]
fn failed_snapshots_and_deployments_leave_the_old_server_resumed_and_untouched() {
    let w = world();
    doubles::configure(
        w.arm_port,
        &json!({ "terms_accepted": true, "fail_resource_type": "Microsoft.DBforPostgreSQL/flexibleServers" }),
    );
    let spec = w.spec("failed-db", true);
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("deployment failed-db ended Failed: Microsoft.DBforPostgreSQL/flexibleServers failed-db-pg: InternalServerError"),
        "{}",
        out.stderr
    );
    // The summary names what exists, in Azure's terms.
    assert!(
        out.stderr.contains("managed disk snapshot /subscriptions/"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the database restore point 20"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("the new deployment failed-db"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("aws "), "{}", out.stderr);
    assert_eq!(items(&doubles::state(w.old_port)), old_items());
    assert_eq!(
        primary_ip(&w.resource(&old_nic()))
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(old_ip().to_ascii_lowercase())
    );

    doubles::configure(
        w.arm_port,
        &json!({ "fail_resource_type": null, "fail_snapshot": true }),
    );
    let spec = w.spec("failed-snapshot", true);
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("create the data disk snapshot"),
        "{}",
        out.stderr
    );
    assert_eq!(items(&doubles::state(w.old_port)), old_items());
    let old_writes: Vec<String> = writes(&w.arm())
        .into_iter()
        .filter(|r| r.contains("/resourceGroups/clover-prod/"))
        .collect();
    assert!(
        old_writes.is_empty(),
        "the old deployment was changed: {old_writes:?}"
    );

    // Resuming with a changed spec is refused before anything is called.
    let text = std::fs::read_to_string(&spec)
        .expect("spec")
        .replace("Standard_D4s_v5", "Standard_D8s_v5");
    std::fs::write(&spec, text).expect("spec");
    let out = w.run("apply", &spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("apply::spec_changed"), "{}", out.stderr);
}

/// The address move fails between its two NIC updates: apply says where the address is, and a
/// resume finds it unattached and finishes the move.
#[test]
fn an_address_left_between_the_nics_is_reported_and_the_resume_finishes_the_move() {
    let w = world();
    let new_nic = id(
        "clover-prod-v7",
        "Microsoft.Network/networkInterfaces",
        "half-moved-nic",
    );
    doubles::configure(
        w.arm_port,
        &json!({ "terms_accepted": true, "faults": [{
            "method": "PUT", "path": new_nic, "status": 400, "code": "InternalError",
            "message": "An unexpected error occured while processing the network profile of the VM.", "times": 1
        }] }),
    );
    let spec = w.spec("half-moved", true);
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("is attached to no NIC now"),
        "{}",
        out.stderr
    );
    assert_eq!(
        w.resource(&old_ip())["properties"]["ipConfiguration"],
        Value::Null
    );

    let out = w.run("apply", &spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        primary_ip(&w.resource(&new_nic))
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(old_ip().to_ascii_lowercase())
    );

    // The same failure, then a rollback instead of a resume: the address goes home from
    // nowhere, and the old server runs its schedules again.
    assert_eq!(w.run("rollback", &spec, &["--yes"]).code, 0);
    doubles::configure(w.old_port, &serde_json::from_str(OLD_ITEMS).expect("items"));
    doubles::configure(w.new_port, &serde_json::from_str(NEW_ITEMS).expect("items"));
    let other_nic = id(
        "clover-prod-v7",
        "Microsoft.Network/networkInterfaces",
        "half-back-nic",
    );
    doubles::configure(
        w.arm_port,
        &json!({ "faults": [{
            "method": "PUT", "path": other_nic, "status": 400, "code": "InternalError",
            "message": "An unexpected error occured while processing the network profile of the VM.", "times": 1
        }] }),
    );
    let spec = w.spec("half-back", true);
    assert_eq!(w.run("apply", &spec, &["--yes"]).code, 3);
    assert_eq!(
        w.resource(&old_ip())["properties"]["ipConfiguration"],
        Value::Null
    );
    let back = w.run("rollback", &spec, &["--yes"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(
        primary_ip(&w.resource(&old_nic()))
            .as_str()
            .map(str::to_ascii_lowercase),
        Some(old_ip().to_ascii_lowercase())
    );
    assert_eq!(items(&doubles::state(w.old_port)), old_items());
}

#[test]
fn a_kill_at_every_step_boundary_then_resume_completes_the_upgrade() {
    let boundaries = [
        "pause",
        "snapshot-database",
        "snapshot-data",
        "resume",
        "await-snapshots",
        "deploy",
        "activate",
        "verify",
        "cutover",
    ];
    // One world per boundary: the cases share nothing, so they run side by side.
    doubles::each_in_parallel(&boundaries, |i, kill_after| {
        let w = world();
        doubles::configure(w.arm_port, &json!({ "terms_accepted": true }));
        let name = format!("kill-{i}");
        let spec = w.spec(&name, false);
        doubles::kill_after_step(
            w.command("apply", &spec, &["--yes", "--format", "json"]),
            kill_after,
        );
        let out = w.run("apply", &spec, &["--yes", "--resume"]);
        assert_eq!(
            out.code, 0,
            "killed after {kill_after}; resume: {}",
            out.stderr
        );
        assert_eq!(
            items(&doubles::state(w.old_port)),
            after_cutover(),
            "killed after {kill_after}"
        );
        let deployments = w.arm()["deployments"].clone();
        let key = format!(
            "/subscriptions/{SUB}/resourcegroups/clover-prod-v7/providers/microsoft.resources/deployments/{name}"
        );
        assert_eq!(
            deployments[key.as_str()]["state"],
            "Succeeded",
            "killed after {kill_after}"
        );
        // One deployment and one snapshot per plan, however often it was resumed.
        let puts = writes(&w.arm())
            .into_iter()
            .filter(|r| r.starts_with("PUT ") && r.contains(&format!("/{name}")))
            .count();
        assert_eq!(puts, 1, "killed after {kill_after}: {:?}", writes(&w.arm()));
    });
}

#[test]
fn the_arm_double_answers_only_documented_paths_methods_and_api_versions() {
    let w = world();
    let get = |path: &str, token: &str| -> (u16, Value) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", w.arm_port)).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .expect("request");
        let mut text = String::new();
        stream.read_to_string(&mut text).expect("response");
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        (status, serde_json::from_str(body).unwrap_or_default())
    };
    let vm = id(
        "clover-prod",
        "Microsoft.Compute/virtualMachines",
        "clover-vm",
    );
    let ok = get(
        &format!("{vm}?api-version=2024-07-01"),
        "arm-token-for-tests",
    );
    assert_eq!(ok.0, 200);
    let cases = [
        (
            format!("{vm}?api-version=2024-07-01"),
            "vault-token-for-tests",
            401,
            "InvalidAuthenticationTokenAudience",
        ),
        (
            format!("{vm}?api-version=2019-01-01"),
            "arm-token-for-tests",
            400,
            "InvalidApiVersionParameter",
        ),
        (
            vm.clone(),
            "arm-token-for-tests",
            400,
            "MissingApiVersionParameter",
        ),
        (
            format!("{vm}x?api-version=2024-07-01"),
            "arm-token-for-tests",
            404,
            "ResourceNotFound",
        ),
        (
            format!(
                "/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.Compute/virtualMachines/x?api-version=2024-07-01"
            ),
            "arm-token-for-tests",
            404,
            "ResourceGroupNotFound",
        ),
        (
            format!(
                "/subscriptions/{SUB}/resourceGroups/clover-prod/providers/Microsoft.Storage/storageAccounts/x?api-version=2024-01-01"
            ),
            "arm-token-for-tests",
            404,
            "NotFound",
        ),
        (
            format!("{vm}/restart?api-version=2024-07-01"),
            "arm-token-for-tests",
            405,
            "MethodNotAllowed",
        ),
        (
            "/secrets/clover-password?api-version=7.4".to_owned(),
            "arm-token-for-tests",
            401,
            "InvalidAuthenticationTokenAudience",
        ),
    ];
    for (path, token, status, code) in cases {
        let (got, body) = get(&path, token);
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "GET {path}"
        );
        assert!(body["error"]["message"].is_string(), "GET {path}: {body}");
    }
}

const WAR_URL: &str =
    "https://artifacts.example.com/clover-7.0.1.war?sv=2024-11-04&sr=b&sig=c2VjcmV0LXNpZ25hdHVyZQ";

impl World {
    fn war_spec(&self, name: &str) -> PathBuf {
        let text = format!(
            "version: 1\nname: {name}\ncloud: azure\nstrategy: war\nfrom:\n  version: 7.0.0\n  server:\n    url: http://127.0.0.1:{old}/clover\n    username: clover\n    password: {{ env: CLOVER_PASSWORD }}\n  azure:\n    subscription: {SUB}\n    resource_group: clover-prod\n    location: westeurope\n    vm: clover-vm\n    data_disk: clover-data\n    postgres_server: clover-pg\nto:\n  version: 7.0.1\n  license: {{ azure_key_vault: https://clover-kv.vault.azure.net/secrets/cloverdx-7-license }}\n  war:\n    url: \"{WAR_URL}\"\n    sha256: 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae\nsteps:\n  pause: {{ drain_timeout: 20s }}\n  verify:\n    timeout: 20s\n",
            old = self.old_port,
        );
        let text = doubles::trust_old(&text, self.old_port, self.dir.path());
        doubles::configure(self.old_port, &json!({ "version": "7.0.0.5" }));
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("spec");
        path
    }

    fn run_war(&self, spec: &Path, extra: &[&str]) -> common::Output {
        let out = self
            .command_without_new_server("apply", spec, extra)
            .output()
            .expect("apply");
        common::Output::from(out)
    }
}

/// The war strategy: snapshots first, then the rendered run command on the old VM with each
/// action; the old server is licensed, checked and resumed. A failing `replace` is followed
/// by `start` (the compensation of `stop`) and the old server resumed.
#[test]
fn the_war_strategy_runs_the_run_command_on_the_old_vm() {
    let w = world();
    let vm = id(
        "clover-prod",
        "Microsoft.Compute/virtualMachines",
        "clover-vm",
    );
    let spec = w.war_spec("war-ok");
    let dry = w.run_war(&spec, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("runCommands/cloverlift-war-upgrade (war-upgrade.sh replace"),
        "{}",
        dry.stderr
    );
    assert!(writes(&w.arm()).is_empty());

    let out = w.run_war(&spec, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        w.resource(&vm)["run_commands"],
        json!(["stop", "replace", "start"])
    );
    let old = doubles::state(w.old_port);
    assert_eq!(
        old["license"], "CLOVERDX-LICENSE-7",
        "the upgraded old server is licensed"
    );
    assert_eq!(items(&old), old_items(), "and resumed");
    let arm = w.arm();
    let command = format!("{vm}/runCommands/cloverlift-war-upgrade");
    let replace = arm["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["method"] == "PUT" && r["path"] == command.as_str())
        .nth(1)
        .map(|r| r["body"]["properties"].clone())
        .expect("the replace run");
    assert_eq!(
        replace["protectedParameters"],
        json!([{ "name": "CLOVERLIFT_WAR_URL", "value": WAR_URL }])
    );
    assert!(
        replace["source"]["script"]
            .as_str()
            .unwrap_or_default()
            .starts_with("#!/usr/bin/env bash")
    );
    let journal = w.journal("war-ok");
    assert!(
        !journal.contains("c2VjcmV0LXNpZ25hdHVyZQ"),
        "the signed URL reached the journal"
    );
    assert!(
        !out.stderr.contains("c2VjcmV0LXNpZ25hdHVyZQ"),
        "the signed URL reached the output"
    );

    doubles::configure(w.arm_port, &json!({ "run_command_exit": { "replace": 1 } }));
    doubles::configure(w.old_port, &serde_json::from_str(OLD_ITEMS).expect("items"));
    let spec = w.war_spec("war-fails");
    let out = w.run_war(&spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("war-upgrade.sh replace on clover-vm ended Failed (exit code 1)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("war-upgrade: replace failed"),
        "{}",
        out.stderr
    );
    assert_eq!(
        w.resource(&vm)["run_commands"],
        json!(["stop", "replace", "start", "stop", "replace", "start"]),
        "start-service runs as the compensation of stop-service"
    );
    assert_eq!(items(&doubles::state(w.old_port)), old_items());
}

impl doubles::stock::World for World {
    fn old_port(&self) -> u16 {
        self.old_port
    }
    fn new_port(&self) -> u16 {
        self.new_port
    }
    fn spec_named(&self, name: &str) -> PathBuf {
        self.spec(name, false)
    }
    fn apply(&self, spec: &Path, extra: &[&str]) -> common::Output {
        let mut args = extra.to_vec();
        args.push("--accept-marketplace-terms");
        self.run("apply", spec, &args)
    }
    fn snapshots(&self) -> usize {
        writes(&self.arm())
            .iter()
            .filter(|r| r.starts_with("PUT ") && r.contains("/snapshots/"))
            .count()
    }
    fn reset_servers(&self) {
        doubles::reset_items(self.old_port, self.new_port);
    }
    fn cloud_state(&self) -> Value {
        json!(writes(&self.arm()))
    }
}

#[test]
fn a_stock_server_the_run_cannot_use_is_refused_before_any_change() {
    doubles::stock::a_stock_server_the_run_cannot_use_is_refused_before_any_change(&world());
}

#[test]
fn an_import_the_server_refuses_stops_pause_before_any_snapshot() {
    doubles::stock::an_import_the_server_refuses_stops_pause_before_any_snapshot(&world());
}

#[test]
fn the_schema_patch_dialog_stops_confirm_runs_and_auto_runs_pass_it() {
    doubles::stock::the_schema_patch_dialog_stops_confirm_runs_and_auto_runs_pass_it(&world());
}

#[test]
fn a_restore_from_before_the_pause_stops_before_the_new_server_runs() {
    doubles::stock::a_restore_from_before_the_pause_stops_before_the_new_server_runs(&world());
}
