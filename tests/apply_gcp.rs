//! `cloverlift apply` end to end on Google Cloud, against tests/servers/gcp_server.py (a local
//! double of Compute Engine, Cloud SQL Admin, Infrastructure Manager, Cloud Storage and Secret
//! Manager that follows their discovery documents; no emulator covers them) and the CloverDX
//! Server double. Credentials are Application Default Credentials: an `authorized_user` file
//! whose token endpoint is the double's, so the token really comes through google-cloud-auth.

#![cfg(all(feature = "aws", feature = "gcp"))]

mod common;
mod doubles;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use doubles::{NEW_ITEMS, OLD_ITEMS, Proc, after_cutover, items, old_items, python};

const OLD_IP: &str = "34.76.10.20";

struct World {
    _gcp: Proc,
    gcp_port: u16,
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
    let new_url = doubles::clover_url(new_port);
    // The new instance's serial console shows the certificate the new double serves, as its
    // boot guard would print it (tests/servers/gcp_server.py).
    let (_, fingerprint) = doubles::certificate(new_port);
    let (gcp, gcp_port) = doubles::start(
        &python,
        &common::root().join("tests/servers/gcp_server.py"),
        &[
            "--new-server-url",
            &new_url,
            "--new-server-fingerprint",
            &fingerprint,
        ],
    );
    // Operations stay in progress for one poll: every protocol path is taken, quickly.
    doubles::configure(gcp_port, &json!({ "polls": 1 }));
    let dir = tempfile::tempdir().expect("tempdir");
    let adc = json!({
        "type": "authorized_user",
        "client_id": "client-id-for-tests",
        "client_secret": "client-secret-for-tests",
        "refresh_token": "refresh-token-for-tests",
        "token_uri": format!("http://127.0.0.1:{gcp_port}/token"),
    });
    std::fs::write(dir.path().join("adc.json"), adc.to_string()).expect("adc");
    World {
        _gcp: gcp,
        gcp_port,
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
            "version: 1\nname: {name}\ncloud: gcp\nfrom:\n  version: 6.4.2\n  server:\n    url: http://127.0.0.1:{old}/clover\n    username: clover\n    password: {{ gcp_secret: projects/acme-clover-prod/secrets/clover-password/versions/latest }}\n  gcp:\n    project: acme-clover-prod\n    region: europe-west1\n    zone: europe-west1-b\n    instance: clover-vm\n    data_disk: clover-data\n    sql_instance: clover-pg\n    address: clover-ip\nto:\n  version: 7.0.1\n  license: {{ gcp_secret: projects/acme-clover-prod/secrets/cloverdx-7-license/versions/3 }}\n  gcp:\n    machine_type: n2-standard-4\n    image: projects/cloverdx-public/global/images/cloverdx-server-7-0-1\n    network: default\n    subnetwork: default\n    sql_tier: db-custom-2-7680\n    service_account: cloverlift-deployer@acme-clover-prod.iam.gserviceaccount.com\nsteps:\n  pause: {{ drain_timeout: 20s }}\n  verify:\n    timeout: 20s\n    enable: [schedules]\n  move_address: {move_address}\n",
            old = self.old_port,
        );
        // The new server's certificate is not named: apply pins what its console reports.
        let text = doubles::trust_old(&text, self.old_port, self.dir.path());
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("spec");
        path
    }

    fn command(&self, verb: &str, spec: &Path, extra: &[&str]) -> Command {
        let origin = format!("http://127.0.0.1:{}", self.gcp_port);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloverlift"));
        cmd.arg(verb)
            .arg(spec)
            .args(["--endpoint-url", &origin, "--state-dir"])
            .arg(self.dir.path().join("state"))
            .args(extra)
            .env(
                "GOOGLE_APPLICATION_CREDENTIALS",
                self.dir.path().join("adc.json"),
            )
            .env("CLOVERLIFT_GCP_SECRET_MANAGER_URL", &origin)
            .env("HOME", self.dir.path())
            .env_remove("CLOUDSDK_CONFIG")
            .env_remove("GOOGLE_CLOUD_PROJECT")
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

    fn gcp(&self) -> Value {
        doubles::state(self.gcp_port)
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

    fn reset_servers(&self) {
        doubles::configure(
            self.old_port,
            &serde_json::from_str(OLD_ITEMS).expect("items"),
        );
        doubles::configure(
            self.new_port,
            &serde_json::from_str(NEW_ITEMS).expect("items"),
        );
    }
}

/// `METHOD path` of the API requests that change something (the token exchange aside).
fn writes(gcp: &Value) -> Vec<String> {
    doubles::request_lines(gcp)
        .into_iter()
        .filter(|r| !r.starts_with("GET ") && r != "POST /token")
        .collect()
}

fn body_of(gcp: &Value, method: &str, path_end: &str) -> Value {
    gcp["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| {
            r["method"] == method && r["path"].as_str().is_some_and(|p| p.ends_with(path_end))
        })
        .map(|r| r["body"].clone())
        .unwrap_or_default()
}

/// The NAT IPs on an instance's first interface, from the double's state.
fn nat_ips(gcp: &Value, instance: &str) -> Vec<String> {
    gcp["instances"][instance]["networkInterfaces"][0]["accessConfigs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["natIP"].as_str().map(str::to_owned))
        .collect()
}

const P: &str = "/compute/v1/projects/acme-clover-prod";

#[test]
fn apply_upgrades_the_gcp_example_end_to_end() {
    let w = world();
    let spec = w.spec("prod-europe-west1", true);

    // The dry run: the preflight and every call, under trace logging that shows no secret.
    let dry = w
        .command("apply", &spec, &["--dry-run"])
        .env("RUST_LOG", "trace")
        .output()
        .expect("apply");
    let dry = common::Output::from(dry);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    for secret in ["token-for-tests", "s3cret-pw", "CLOVERDX-LICENSE-7"] {
        assert!(!dry.stderr.contains(secret), "{secret} reached the logs");
    }
    assert!(dry.stderr.contains("/previews"), "{}", dry.stderr);
    assert!(
        writes(&w.gcp()).is_empty(),
        "the dry run only reads: {:?}",
        writes(&w.gcp())
    );
    assert_eq!(doubles::state(w.old_port)["imports"], 0);

    // A burst of 429s at the start is retried with backoff, not failed on.
    doubles::configure(w.gcp_port, &json!({ "throttle": 3, "requests": [] }));
    let out = w.run("apply", &spec, &["--yes", "--format", "json"]);
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let gcp = w.gcp();
    assert_eq!(gcp["throttled"], 3);

    // Exactly these changes; on the old deployment only its access config.
    let z = format!("{P}/zones/europe-west1-b");
    let writes = writes(&gcp);
    let position = |needle: &str| {
        writes
            .iter()
            .position(|r| r.contains(needle))
            .unwrap_or_else(|| panic!("no {needle} in {writes:?}"))
    };
    let expected_in_order = [
        "/previews".to_owned(),
        ":export".to_owned(),
        "/deployments".to_owned(),
        "/instances/prod-europe-west1-db/restoreBackup".to_owned(),
        format!("{z}/instances/prod-europe-west1-vm/setMetadata"),
        format!("{z}/instances/clover-vm/deleteAccessConfig"),
        format!("{z}/instances/prod-europe-west1-vm/addAccessConfig"),
        format!("{P}/regions/europe-west1/addresses/prod-europe-west1-ip"),
    ];
    let mut last = 0;
    for needle in &expected_in_order {
        let at = position(needle);
        assert!(at >= last, "{needle} out of order in {writes:?}");
        last = at;
    }
    assert!(position("/disks/clover-data/createSnapshot") < position("/previews"));
    assert!(position("/instances/clover-pg/backupRuns") < position("/previews"));
    let old_writes: Vec<&String> = writes
        .iter()
        .filter(|r| {
            r.contains("/clover-vm")
                || r.contains("/instances/clover-pg") && !r.contains("backupRuns")
        })
        .collect();
    assert_eq!(
        old_writes,
        [&format!("POST {z}/instances/clover-vm/deleteAccessConfig")],
        "the old deployment was changed beyond its address"
    );

    // The snapshot under the name main.tf.json reads it from.
    let snap = body_of(&gcp, "POST", "/disks/clover-data/createSnapshot");
    assert_eq!(snap["name"], "prod-europe-west1-data-7-0-1");
    assert_eq!(snap["labels"]["cloverlift-plan"], "prod-europe-west1");

    // The blueprint in Cloud Storage is the rendered main.tf.json, byte for byte.
    let main_tf = w.rendered(&spec, "main.tf.json");
    let objects = gcp["objects"].as_object().expect("objects");
    assert_eq!(objects.len(), 1, "{objects:?}");
    let (key, stored) = objects.iter().next().expect("one object");
    assert!(
        key.starts_with("acme-clover-prod-cloverlift/cloverlift/prod-europe-west1/")
            && key.ends_with("/main.tf.json"),
        "{key}"
    );
    assert_eq!(stored.as_str(), Some(main_tf.as_str()));

    // The deployment: that blueprint, the old instance's database version and firewall
    // ranges as inputs, run as the spec's service account.
    let deployment = &gcp["deployments"]["prod-europe-west1"];
    let body = &deployment["body"];
    assert_eq!(
        body["serviceAccount"],
        "projects/acme-clover-prod/serviceAccounts/cloverlift-deployer@acme-clover-prod.iam.gserviceaccount.com"
    );
    let blueprint = &body["terraformBlueprint"];
    assert!(
        blueprint["gcsSource"].as_str().is_some_and(
            |s| s.starts_with("gs://acme-clover-prod-cloverlift/cloverlift/prod-europe-west1/")
        ),
        "{blueprint}"
    );
    assert_eq!(
        blueprint["inputValues"]["database_version"]["inputValue"],
        "POSTGRES_15"
    );
    assert_eq!(
        blueprint["inputValues"]["ingress_source_ranges"]["inputValue"],
        json!(["203.0.113.0/24"])
    );
    // The second wall: the new server's egress to the old Cloud SQL instance is denied.
    assert_eq!(
        blueprint["inputValues"]["old_database_addresses"]["inputValue"],
        json!(["35.205.1.2/32"])
    );
    let wall = &gcp["firewalls"]["prod-europe-west1-deny-old-db"];
    assert_eq!(wall["direction"], "EGRESS", "{wall}");
    assert_eq!(wall["destinationRanges"], json!(["35.205.1.2/32"]));
    assert_eq!(
        wall["denied"],
        json!([{ "IPProtocol": "tcp", "ports": ["5432"] }])
    );

    // The backup was taken in the pause window, and restored into the new instance only.
    let restores = gcp["restores"].as_array().expect("restores");
    assert_eq!(restores.len(), 1, "{restores:?}");
    let restore = body_of(
        &gcp,
        "POST",
        "/instances/prod-europe-west1-db/restoreBackup",
    );
    let context = &restore["restoreBackupContext"];
    assert_eq!(context["instanceId"], "clover-pg");
    assert_eq!(context["project"], "acme-clover-prod");
    let journal = w.journal("prod-europe-west1");
    let backup_id = context["backupRunId"]
        .to_string()
        .trim_matches('"')
        .to_owned();
    assert!(journal.contains(&backup_id), "the backup id is journaled");

    // The boot guard's key is on the new instance; the old instance's metadata is untouched.
    let items_of = |instance: &str| gcp["instances"][instance]["metadata"]["items"].clone();
    assert!(
        items_of("prod-europe-west1-vm")
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["key"] == "cloverlift-database-restored" && i["value"] == "true"),
        "{}",
        items_of("prod-europe-west1-vm")
    );

    // The address moved; the new deployment's own one is released; the new database admits
    // the moved address and not the released one.
    assert_eq!(nat_ips(&gcp, "clover-vm"), Vec::<String>::new());
    assert_eq!(nat_ips(&gcp, "prod-europe-west1-vm"), [OLD_IP]);
    assert!(
        gcp["addresses"]["prod-europe-west1-ip"].is_null(),
        "{}",
        gcp["addresses"]
    );
    let networks: Vec<String> = gcp["sql_instances"]["prod-europe-west1-db"]["settings"]
        ["ipConfiguration"]["authorizedNetworks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|n| n["value"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(networks, [OLD_IP], "authorized networks follow the address");

    // The old server ran its schedules until cutover, and the new one got the license.
    assert_eq!(items(&doubles::state(w.old_port)), after_cutover());
    doubles::never_both_enabled(w.old_port, w.new_port);
    assert_eq!(doubles::state(w.new_port)["license"], "CLOVERDX-LICENSE-7");

    // Neither the journal nor the events carry a secret or a token.
    for secret in ["token-for-tests", "s3cret-pw", "CLOVERDX-LICENSE-7"] {
        assert!(!journal.contains(secret), "{secret} in the journal");
        assert!(!out.stdout.contains(secret), "{secret} in the events");
    }

    // Rollback: the address goes home and the new VM stops; nothing is deleted.
    let back = w.run("rollback", &spec, &["--yes"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    let gcp = w.gcp();
    assert_eq!(nat_ips(&gcp, "clover-vm"), [OLD_IP]);
    assert_eq!(nat_ips(&gcp, "prod-europe-west1-vm"), Vec::<String>::new());
    assert_eq!(
        gcp["instances"]["prod-europe-west1-vm"]["status"],
        "TERMINATED"
    );
    assert!(!gcp["sql_instances"]["prod-europe-west1-db"].is_null());
}

#[test]
fn failed_backups_deployments_and_restores_leave_the_old_server_resumed() {
    let w = world();

    doubles::configure(w.gcp_port, &json!({ "fail_backup": true }));
    let spec = w.spec("failed-backup", false);
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("ended FAILED"), "{}", out.stderr);
    assert_eq!(items(&doubles::state(w.old_port)), old_items());
    assert!(w.gcp()["deployments"]["failed-backup"].is_null());

    w.reset_servers();
    doubles::configure(
        w.gcp_port,
        &json!({ "fail_backup": false, "fail_resource": "google_sql_database_instance.database" }),
    );
    let spec = w.spec("failed-deploy", false);
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("google_sql_database_instance.database: HTTP 400"),
        "the Terraform error is shown: {}",
        out.stderr
    );
    assert_eq!(items(&doubles::state(w.old_port)), old_items());

    w.reset_servers();
    doubles::configure(
        w.gcp_port,
        &json!({ "fail_resource": null, "fail_restore": true }),
    );
    let spec = w.spec("failed-restore", false);
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("restore backup"), "{}", out.stderr);
    assert_eq!(items(&doubles::state(w.old_port)), old_items());
    let gcp = w.gcp();
    // The boot guard's key was never set: CloverDX does not start on the new instance.
    assert!(
        !gcp["instances"]["failed-restore-vm"]["metadata"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|i| i["key"] == "cloverlift-database-restored"),
    );
    assert_eq!(nat_ips(&gcp, "clover-vm"), [OLD_IP]);

    // The restore works again: a resume restores and finishes the upgrade.
    doubles::configure(w.gcp_port, &json!({ "fail_restore": false }));
    let out = w.run("apply", &spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    // Resuming with a changed spec is refused before anything is called.
    let text = std::fs::read_to_string(&spec)
        .expect("spec")
        .replace("n2-standard-4", "n2-standard-8");
    std::fs::write(&spec, text).expect("spec");
    let out = w.run("apply", &spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("apply::spec_changed"), "{}", out.stderr);
}

/// A restore Cloud SQL started but whose answer never came back (the connection closed, as a
/// process killed right after sending leaves it, with no operation journaled): the run fails
/// with the old server resumed, and the resume waits for that restore instead of starting a
/// second one over it.
#[test]
fn a_restore_whose_answer_was_lost_is_awaited_not_repeated() {
    let w = world();
    doubles::configure(w.gcp_port, &json!({ "drop_restore_reply": true }));
    let spec = w.spec("lost-restore", false);
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(items(&doubles::state(w.old_port)), old_items());

    let out = w.run("apply", &spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(items(&doubles::state(w.old_port)), after_cutover());
    let gcp = w.gcp();
    let restores = writes(&gcp)
        .iter()
        .filter(|r| r.ends_with("/instances/lost-restore-db/restoreBackup"))
        .count();
    assert_eq!(restores, 1, "{:?}", writes(&gcp));
    assert_eq!(gcp["restores"].as_array().map(Vec::len), Some(1));
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
        "restore-database",
        "activate",
        "verify",
        "cutover",
    ];
    // One world per boundary: the cases share nothing, so they run side by side.
    doubles::each_in_parallel(&boundaries, |i, kill_after| {
        let w = world();
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
        let gcp = w.gcp();
        assert_eq!(
            gcp["deployments"][name.as_str()]["state"],
            "ACTIVE",
            "killed after {kill_after}"
        );
        // One snapshot, one backup, one deployment and one restore per plan.
        let count = |needle: &str| writes(&gcp).iter().filter(|r| r.contains(needle)).count();
        let deployment_writes = gcp["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| {
                let path = r["path"].as_str().unwrap_or_default();
                (r["method"] == "POST"
                    && path.ends_with("/deployments")
                    && r["query"]["deploymentId"] == name.as_str())
                    || (r["method"] == "PATCH" && path.ends_with(&format!("/deployments/{name}")))
            })
            .count();
        assert_eq!(
            deployment_writes,
            1,
            "killed after {kill_after}: {:?}",
            writes(&gcp)
        );
        assert_eq!(
            count(&format!("/instances/{name}-db/restoreBackup")),
            1,
            "killed after {kill_after}"
        );
        assert_eq!(count("/createSnapshot"), 1, "killed after {kill_after}");
        assert_eq!(
            writes(&gcp)
                .iter()
                .filter(|r| r.ends_with("/backupRuns"))
                .count(),
            1,
            "killed after {kill_after}"
        );
    });
}

/// A signed Cloud Storage URL: its signature must reach neither the journal nor the output.
const WAR_URL: &str = "https://storage.googleapis.com/acme-clover-artifacts/clover-7.0.1.war?X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=c2lnbmF0dXJlLWZvci10ZXN0cw";
const WAR_SHA256: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

impl World {
    fn war_spec(&self, name: &str) -> PathBuf {
        let text = format!(
            "version: 1\nname: {name}\ncloud: gcp\nstrategy: war\nfrom:\n  version: 7.0.0\n  server:\n    url: http://127.0.0.1:{old}/clover\n    username: clover\n    password: {{ gcp_secret: projects/acme-clover-prod/secrets/clover-password/versions/latest }}\n  gcp:\n    project: acme-clover-prod\n    region: europe-west1\n    zone: europe-west1-b\n    instance: clover-vm\n    data_disk: clover-data\n    sql_instance: clover-pg\n    address: clover-ip\nto:\n  version: 7.0.1\n  license: {{ gcp_secret: projects/acme-clover-prod/secrets/cloverdx-7-license/versions/3 }}\n  war:\n    url: \"{WAR_URL}\"\n    sha256: {WAR_SHA256}\nsteps:\n  pause: {{ drain_timeout: 20s }}\n  verify:\n    timeout: 20s\n",
            old = self.old_port,
        );
        let text = doubles::trust_old(&text, self.old_port, self.dir.path());
        doubles::configure(self.old_port, &json!({ "version": "7.0.0.5" }));
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("spec");
        path
    }

    fn rendered(&self, spec: &Path, file: &str) -> String {
        let out = self.dir.path().join("rendered");
        let render = Command::new(env!("CARGO_BIN_EXE_cloverlift"))
            .arg("render")
            .arg(spec)
            .args(["--clean", "--out"])
            .arg(&out)
            .output()
            .expect("render");
        assert!(render.status.success(), "{render:?}");
        std::fs::read_to_string(out.join(file)).expect(file)
    }
}

/// The old instance's metadata items, by key.
fn metadata(gcp: &Value) -> std::collections::BTreeMap<String, String> {
    gcp["instances"]["clover-vm"]["metadata"]["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| {
            (
                i["key"].as_str().unwrap_or_default().to_owned(),
                i["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// The writes to the old instance, in order, as their last path segment.
fn instance_writes(gcp: &Value) -> Vec<String> {
    writes(gcp)
        .iter()
        .filter_map(|w| {
            w.strip_prefix(&format!(
                "POST {P}/zones/europe-west1-b/instances/clover-vm/"
            ))
        })
        .map(str::to_owned)
        .collect()
}

/// The war strategy: the snapshot and the backup first, then one boot of the old instance
/// with the rendered war-startup.sh as its startup script, each action read back from the
/// guest attributes, and the instance's own metadata put back.
#[test]
fn the_war_strategy_boots_the_old_instance_once_with_the_rendered_script() {
    let w = world();
    let spec = w.war_spec("war-ok");
    let before = metadata(&w.gcp());

    let dry = w.run("apply", &spec, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(dry.stderr.contains("getGuestAttributes"), "{}", dry.stderr);
    assert!(writes(&w.gcp()).is_empty(), "{:?}", writes(&w.gcp()));

    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let gcp = w.gcp();
    let all = writes(&gcp);
    let position = |needle: &str| all.iter().position(|r| r.contains(needle));
    assert!(
        position("/createSnapshot") < position("/setMetadata")
            && position("/backupRuns") < position("/setMetadata"),
        "the rollback points come first: {all:?}"
    );
    assert_eq!(
        instance_writes(&gcp),
        ["setMetadata", "stop", "start", "setMetadata"],
        "one boot, the metadata set before and put back after"
    );
    let boots = gcp["boots"].as_array().expect("boots");
    assert_eq!(boots.len(), 1, "{boots:?}");
    let md = &boots[0]["metadata"];
    assert_eq!(md["startup-script"], w.rendered(&spec, "war-startup.sh"));
    assert_eq!(
        md["cloverlift-war-upgrade"],
        w.rendered(&spec, "war-upgrade.sh")
    );
    assert_eq!(md["cloverlift-war-actions"], "stop replace start");
    assert_eq!(md["cloverlift-war-url"], WAR_URL);
    assert_eq!(md["cloverlift-war-sha256"], WAR_SHA256);
    assert_eq!(md["enable-guest-attributes"], "TRUE");
    assert_eq!(
        md["cloverlift-before-startup-script"].as_str(),
        before.get("startup-script").map(String::as_str),
        "the instance's own startup script is kept for the script to run first"
    );
    assert_eq!(gcp["server"]["war"], format!("sha-of-{WAR_SHA256}"));
    assert_eq!(gcp["server"]["service"], "running");
    assert_eq!(
        metadata(&gcp),
        before,
        "the metadata is the instance's own again"
    );
    let old = doubles::state(w.old_port);
    assert_eq!(
        old["license"], "CLOVERDX-LICENSE-7",
        "the upgraded server is licensed"
    );
    assert_eq!(items(&old), old_items(), "and resumed");
    for text in [w.journal("war-ok"), out.stderr.clone(), out.stdout.clone()] {
        assert!(
            !text.contains("c2lnbmF0dXJlLWZvci10ZXN0cw"),
            "the signed URL leaked"
        );
        assert!(!text.contains("s3cret-pw") && !text.contains("CLOVERDX-LICENSE-7"));
    }
}

/// A replace that fails ends the boot's run; start-service, the compensation of stop-service,
/// boots the instance once more with only `start`, and the metadata goes back.
#[test]
fn a_failed_replace_boots_once_more_to_start_and_puts_the_metadata_back() {
    let w = world();
    let before = metadata(&w.gcp());
    doubles::configure(
        w.gcp_port,
        &json!({ "war_outcomes": { "replace": [1, "war-upgrade: the downloaded WAR does not match sha256"] } }),
    );
    let spec = w.war_spec("war-fails");
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("war-upgrade.sh replace on clover-vm exited 1")
            && out.stderr.contains("does not match sha256"),
        "{}",
        out.stderr
    );
    let gcp = w.gcp();
    let boots = gcp["boots"].as_array().expect("boots");
    assert_eq!(boots.len(), 2, "{boots:?}");
    assert_eq!(boots[1]["metadata"]["cloverlift-war-actions"], "start");
    assert_eq!(gcp["server"]["service"], "running");
    assert_eq!(gcp["server"]["war"], "sha-of-7.0.0", "the old WAR stays");
    assert_eq!(metadata(&gcp), before);
    assert_eq!(items(&doubles::state(w.old_port)), old_items(), "resumed");
}

/// A kill after any step, then `--resume`: exactly one boot per plan, the WAR replaced, the
/// metadata the instance's own.
#[test]
fn a_killed_war_upgrade_resumes_without_a_second_boot() {
    let w = world();
    let before = metadata(&w.gcp());
    let boundaries = [
        "pause",
        "snapshot-database",
        "snapshot-data",
        "await-snapshots",
        "stop-service",
        "replace-war",
        "start-service",
        "activate",
        "verify",
    ];
    for (i, kill_after) in boundaries.iter().enumerate() {
        w.reset_servers();
        doubles::configure(
            w.gcp_port,
            &json!({ "server": { "service": "running", "war": "sha-of-7.0.0" } }),
        );
        let spec = w.war_spec(&format!("war-kill-{i}"));
        doubles::kill_after_step(
            w.command("apply", &spec, &["--yes", "--format", "json"]),
            kill_after,
        );
        let out = w.run("apply", &spec, &["--yes", "--resume"]);
        assert_eq!(out.code, 0, "killed after {kill_after}: {}", out.stderr);
        let gcp = w.gcp();
        assert_eq!(
            gcp["boots"].as_array().map(Vec::len),
            Some(i + 1),
            "killed after {kill_after}"
        );
        assert_eq!(gcp["server"]["war"], format!("sha-of-{WAR_SHA256}"));
        assert_eq!(metadata(&gcp), before, "killed after {kill_after}");
        assert_eq!(items(&doubles::state(w.old_port)), old_items());
    }
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
        self.run("apply", spec, extra)
    }
    fn snapshots(&self) -> usize {
        writes(&self.gcp())
            .iter()
            .filter(|r| r.ends_with("/backupRuns") || r.contains("createSnapshot"))
            .count()
    }
    fn reset_servers(&self) {
        World::reset_servers(self)
    }
    fn cloud_state(&self) -> Value {
        json!(writes(&self.gcp()))
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

/// The new server's certificate is the one its console reports, nothing else: when another
/// certificate answers at the new server's address, activate refuses the handshake (no
/// credentials are sent to it), says which certificate it saw, and the old server runs on.
/// A spec that names the certificate (`to.server.tls`) is trusted as it says instead.
#[test]
fn the_new_server_is_trusted_only_with_the_certificate_its_console_reports() {
    let w = world();
    let (_, real) = doubles::certificate(w.new_port);
    let other = real.replacen(&real[..2], if &real[..2] == "00" { "11" } else { "00" }, 1);
    doubles::configure(w.gcp_port, &json!({ "new_server_fingerprint": other }));
    let spec = w.spec("impostor", false);
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("TLS handshake") && out.stderr.contains(&real),
        "{}",
        out.stderr
    );
    assert_eq!(
        doubles::requests(w.new_port),
        Vec::<String>::new(),
        "nothing reached the server that the console does not vouch for"
    );
    assert_eq!(items(&doubles::state(w.old_port)), old_items());
    assert!(
        w.gcp()["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/impostor-vm/serialPort"))),
        "the console was read through Compute Engine"
    );

    // Named in the spec, the certificate is trusted without the console.
    w.reset_servers();
    let spec = w.spec("named", false);
    doubles::edit_spec(&spec, |t| doubles::pin_new(&t, w.new_port));
    let out = w.run("apply", &spec, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !w.gcp()["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/named-vm/serialPort"))),
        "to.server.tls needs no console"
    );
}
