//! `cloverlift apply` end to end on AWS, against moto in server mode on 127.0.0.1 (the AWS
//! emulator) and against tests/servers/cloverdx_server.py, a local double of the CloverDX
//! Server API that follows its documented protocol (no CloverDX emulator exists).
//!
//! Known limits of moto 5.2, and what these tests assert instead of them: its CloudFormation
//! `AWS::EC2::Volume` ignores `SnapshotId` and `AWS::RDS::DBInstance` ignores
//! `DBSnapshotIdentifier`, so the tests check that the change set received the snapshot ids as
//! parameters, not what the volume or database were made from; stacks created through a change
//! set report no Outputs, so apply reads the instance id from the stack's `Instance` resource.

#![cfg(feature = "aws")]

mod common;
mod doubles;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use doubles::{
    NEW_ITEMS, OLD_ITEMS, Proc, after_cutover, items, never_both_enabled, old_items, requests,
};

struct World {
    _moto: Proc,
    endpoint: String,
    old: Proc,
    old_port: u16,
    new: Proc,
    new_port: u16,
    seed: Value,
    dir: tempfile::TempDir,
    venv: PathBuf,
}

fn world() -> Option<World> {
    let venv = doubles::moto_venv()?;
    let python = venv.join("bin/python");
    let (old, old_port) = doubles::cloverdx_old(&python, OLD_ITEMS, "6.4.2.3");
    let (new, new_port) = doubles::cloverdx(&python, NEW_ITEMS);
    // The new instance's console shows the certificate the new double serves, as its boot
    // guard would print it (tests/servers/moto_server.py).
    let (_, fingerprint) = doubles::certificate(new_port);
    let (moto, endpoint) = doubles::moto(
        &venv,
        &[("CLOVERLIFT_TEST_TLS_SHA256", fingerprint.as_str())],
    );
    let out = Command::new(venv.join("bin/python"))
        .arg(common::root().join("tests/servers/aws_world.py"))
        .args(["seed", &endpoint])
        .output()
        .expect("seed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seed: Value = serde_json::from_slice(&out.stdout).expect("seed json");
    Some(World {
        _moto: moto,
        endpoint,
        old,
        old_port,
        new,
        new_port,
        seed,
        dir: tempfile::tempdir().expect("tempdir"),
        venv,
    })
}

impl World {
    fn spec(&self, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
        let s = &self.seed;
        let text = format!(
            "version: 1\nname: {name}\ncloud: aws\nfrom:\n  version: 6.4.2\n  server:\n    url: http://127.0.0.1:{}/clover\n    username: clover\n    password: {{ env: CLOVER_PASSWORD }}\n  aws:\n    region: eu-west-1\n    instance_id: {}\n    db_instance: clover-prod-db\n    data_volume: {}\n    elastic_ip: {}\nto:\n  version: 7.0.1\n  license: {{ file: license.lic }}\n  aws:\n    image_id: {}\n    instance_type: m6i.xlarge\n    key_name: ops\n    subnet_id: {}\n    db_instance_class: db.m6g.large\nsteps:\n  pause: {{ drain_timeout: 20s }}\n  verify:\n    timeout: 20s\n    enable: [schedules]\n  move_address: true\n",
            self.old_port,
            s["instance"].as_str().unwrap_or_default(),
            s["volume"].as_str().unwrap_or_default(),
            s["allocation"].as_str().unwrap_or_default(),
            s["ami"].as_str().unwrap_or_default(),
            s["subnet"].as_str().unwrap_or_default(),
        );
        // The new server's certificate is not named: apply pins what its console reports.
        let text = doubles::trust_old(&text, self.old_port, self.dir.path());
        let path = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&path, edit(text)).expect("spec");
        std::fs::write(self.dir.path().join("license.lic"), "CLOVERDX-LICENSE-7").expect("license");
        path
    }

    fn apply_command(&self, spec: &Path, extra: &[&str]) -> Command {
        self.apply_command_at(&self.endpoint, spec, extra)
    }

    /// `apply` with AWS calls sent to `endpoint`.
    fn apply_command_at(&self, endpoint: &str, spec: &Path, extra: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloverlift"));
        cmd.arg("apply")
            .arg(spec)
            .args([
                "--endpoint-url",
                endpoint,
                "--new-server-url",
                &doubles::clover_url(self.new_port),
                "--poll-seconds",
                "1",
                "--state-dir",
            ])
            .arg(self.dir.path().join("state"))
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CLOVER_PASSWORD", "s3cret-pw")
            .stdin(Stdio::null());
        cmd
    }

    /// `cloverlift rollback SPEC` with the same state dir, endpoint and new-server URL.
    fn rollback_command(&self, spec: &Path, extra: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cloverlift"));
        cmd.arg("rollback")
            .arg(spec)
            .args([
                "--endpoint-url",
                &self.endpoint,
                "--new-server-url",
                &doubles::clover_url(self.new_port),
                "--state-dir",
            ])
            .arg(self.dir.path().join("state"))
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("CLOVER_PASSWORD", "s3cret-pw")
            .stdin(Stdio::null());
        cmd
    }

    fn rollback(&self, spec: &Path, extra: &[&str]) -> common::Output {
        let out = self
            .rollback_command(spec, extra)
            .output()
            .expect("rollback");
        common::Output::from(out)
    }

    fn apply(&self, spec: &Path, extra: &[&str]) -> common::Output {
        let out = self.apply_command(spec, extra).output().expect("apply");
        common::Output::from(out)
    }

    fn inspect(&self) -> Value {
        let out = Command::new(self.venv.join("bin/python"))
            .arg(common::root().join("tests/servers/aws_world.py"))
            .args(["inspect", &self.endpoint])
            .output()
            .expect("inspect");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("inspect json")
    }

    fn server_state(port: u16) -> Value {
        doubles::state(port)
    }

    fn configure(port: u16, settings: Value) {
        doubles::configure(port, &settings)
    }

    fn old_state(&self) -> Value {
        World::server_state(self.old_port)
    }
}

/// What the old deployment looks like, without what the opt-in address move changes.
fn old_deployment(inspect: &Value, seed: &Value) -> Value {
    let instance = inspect["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Instances"].as_array().cloned().unwrap_or_default())
        .find(|i| i["InstanceId"] == seed["instance"])
        .unwrap_or_default();
    let volume = inspect["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["VolumeId"] == seed["volume"])
        .cloned()
        .unwrap_or_default();
    let mut db = inspect["db_instances"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["DBInstanceIdentifier"] == "clover-prod-db")
        .cloned()
        .unwrap_or_default();
    // Time passing, not a change: the latest restorable time advances by itself.
    if let Some(map) = db.as_object_mut() {
        map.remove("LatestRestorableTime");
    }
    json!({
        "instance": {
            "state": instance["State"], "type": instance["InstanceType"], "image": instance["ImageId"],
            "subnet": instance["SubnetId"], "groups": instance["SecurityGroups"],
            "devices": instance["BlockDeviceMappings"], "tags": instance["Tags"],
        },
        "volume": volume,
        "database": db,
    })
}

#[test]
fn apply_upgrades_the_moto_backed_example_end_to_end() {
    let Some(w) = world() else { return };
    let spec = w.spec("e2e-prod", |t| t);
    let before = w.inspect();

    let dry = w.apply(&spec, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr
            .contains("rds:CreateDBSnapshot DBInstanceIdentifier=clover-prod-db")
    );
    assert_eq!(
        w.inspect()["snapshots"],
        before["snapshots"],
        "dry-run touches nothing"
    );
    assert_eq!(World::server_state(w.old_port)["imports"], 0);

    assert!(
        dry.stderr.contains(&format!(
            "GET https://127.0.0.1:{}/clover/ until 2xx",
            w.new_port
        )),
        "verify's check is a path on the new server's host, not under /clover again: {}",
        dry.stderr
    );
    assert!(
        dry.stderr
            .contains("ok       AWS credentials: arn:aws:sts::"),
        "the dry run runs the preflight: {}",
        dry.stderr
    );
    assert_eq!(
        requests(w.old_port),
        [
            "GET /clover/api/rest/v1/server/configuration/export",
            "GET /clover/simpleHttpApi/server_jobs",
            "GET /clover/simpleHttpApi/cluster_status",
            "GET /clover/accessibilityTest.jsp"
        ],
        "the dry run's preflight reads the old server and changes nothing"
    );

    let refused = w.apply(&spec, &[]);
    assert_eq!(refused.code, 2, "no terminal and no --yes: refuse");
    assert!(refused.stderr.contains("apply::confirm"));

    World::configure(w.old_port, json!({ "requests": [] }));
    World::configure(w.new_port, json!({ "requests": [] }));
    let out = w.apply(&spec, &["--yes", "--format", "json"]);
    assert_eq!(
        out.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        out.stdout, out.stderr
    );
    let events: Vec<Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON event per line"))
        .collect();
    let done = events.last().expect("events");
    assert_eq!(done["event"], "done");
    assert_eq!(done["outcome"], "succeeded");
    assert_eq!(events[0]["event"], "preflight");
    assert_eq!(events[0]["passed"], true);
    // The exact conversation with each server: the preflight's reads (the export, the
    // running-jobs list, the cluster status, health), pause (read, read, dry-run and import the
    // disable, read back, drain), resume (read, dry-run and import the re-enable, read back)
    // on the old one; health, the items check, license, the spec's check and the re-enable on
    // the new one. Every import is a dry run first.
    const EXPORT: &str = "GET /clover/api/rest/v1/server/configuration/export";
    const IMPORT: &str = "POST /clover/api/rest/v1/server/configuration/import";
    const HEALTH: &str = "GET /clover/accessibilityTest.jsp";
    const JOBS: &str = "GET /clover/simpleHttpApi/server_jobs";
    assert_eq!(
        requests(w.old_port),
        [
            EXPORT,
            JOBS,
            "GET /clover/simpleHttpApi/cluster_status",
            HEALTH,
            EXPORT,
            EXPORT,
            IMPORT,
            IMPORT,
            EXPORT,
            JOBS,
            EXPORT,
            IMPORT,
            IMPORT,
            EXPORT,
            // cutover: compare, disable what the old server runs, drain, read back
            EXPORT,
            EXPORT,
            IMPORT,
            IMPORT,
            JOBS,
            EXPORT
        ]
    );
    assert_eq!(
        requests(w.new_port),
        [
            HEALTH,
            EXPORT,
            "PUT /clover/api/rest/v1/server/license",
            "GET /clover/",
            // cutover: guardrail, compare, enable exactly that set, read back
            HEALTH,
            EXPORT,
            EXPORT,
            IMPORT,
            IMPORT,
            EXPORT
        ],
        "verify enables nothing; cutover does"
    );
    for port in [w.old_port, w.new_port] {
        let dry_runs: Vec<bool> = World::server_state(port)["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["method"] == "POST")
            .map(|r| {
                r["query"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("dryRun=true")
            })
            .collect();
        assert!(
            dry_runs.chunks(2).all(|pair| pair == [true, false]),
            "each import is a dry run, then the import: {dry_runs:?}"
        );
        assert!(
            World::server_state(port)["requests"]
                .as_array()
                .into_iter()
                .flatten()
                .all(|r| !r["query"].as_str().unwrap_or_default().contains("override")),
            "no import overrides"
        );
    }
    never_both_enabled(w.old_port, w.new_port);
    assert!(done["downtime_seconds"].as_f64().is_some_and(|d| d >= 0.0));
    let finished: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "finished")
        .filter_map(|e| e["step"].as_str())
        .collect();
    for step in [
        "pause",
        "snapshot-database",
        "snapshot-data",
        "resume",
        "await-snapshots",
        "deploy",
        "activate",
        "verify",
        "move-address",
    ] {
        assert!(
            finished.contains(&step),
            "{step} did not finish: {finished:?}"
        );
    }
    let pos = |s: &str| finished.iter().position(|f| *f == s).expect(s);
    assert!(
        pos("resume") < pos("deploy"),
        "resume never waits for deploy"
    );

    let after = w.inspect();
    // Both snapshots exist and were made from the old volume and database.
    let snapshot = after["snapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["VolumeId"] == w.seed["volume"])
        .cloned()
        .expect("an EBS snapshot of the old data volume");
    assert_eq!(snapshot["State"], "completed");
    let db_snapshot = after["db_snapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| {
            s["DBInstanceIdentifier"] == "clover-prod-db"
                && s["DBSnapshotIdentifier"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("cloverlift-e2e-prod-"))
        })
        .cloned()
        .expect("apply's RDS snapshot of the old database");
    assert_eq!(db_snapshot["Status"], "available");
    // The stack is complete, and its change set was given those snapshots.
    let stack = after["stacks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["StackName"] == "e2e-prod")
        .cloned()
        .expect("the stack");
    assert_eq!(
        stack["StackStatus"], "UPDATE_COMPLETE",
        "created, then updated by move-address"
    );
    let params = &after["change_set_parameters"]["e2e-prod"];
    assert_eq!(params["DataSnapshotId"], snapshot["SnapshotId"]);
    assert_eq!(
        params["DatabaseSnapshot"],
        db_snapshot["DBSnapshotIdentifier"]
    );
    assert_eq!(params["VpcId"], w.seed["vpc"]);
    assert_eq!(params["DataVolumeSize"], "128");
    assert_eq!(
        params["AllowedCidr"], "198.51.100.0/24",
        "the new group admits what the old server's group admits on 443, not the VPC"
    );
    assert_eq!(params["MultiAZ"], "false", "the old database's setting");
    assert_eq!(params["SshCidr"], "10.20.0.0/16", "SSH only from the VPC");
    let moved_ip = after["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["AllocationId"] == w.seed["allocation"])
        .and_then(|a| a["PublicIp"].as_str())
        .expect("the old Elastic IP's address")
        .to_owned();
    assert_eq!(
        stack["Parameters"]["MovedPublicIp"], moved_ip,
        "ServerUrl names the moved address"
    );
    assert_eq!(
        stack["Parameters"]["NewPublicAddress"], "false",
        "the new stack's own address is dropped"
    );
    let resources = after["stack_resources"]["e2e-prod"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let new_instance = resources
        .iter()
        .find(|r| r["LogicalResourceId"] == "Instance")
        .and_then(|r| r["PhysicalResourceId"].as_str())
        .expect("the new instance")
        .to_owned();
    // The old address moved to the new instance.
    let address = after["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["AllocationId"] == w.seed["allocation"])
        .cloned()
        .expect("the old Elastic IP");
    assert_eq!(address["InstanceId"], new_instance);
    // The old instance, volume and database are as they were.
    assert_eq!(
        old_deployment(&after, &w.seed),
        old_deployment(&before, &w.seed)
    );
    // Cutover moved the schedule the old server ran (the spec's `enable: [schedules]` narrows
    // the move to schedules): the old server no longer runs it; its listener stays there.
    assert_eq!(items(&w.old_state()), after_cutover());
    // The new server got the license and runs exactly what moved.
    let new = World::server_state(w.new_port);
    assert_eq!(new["license"], "CLOVERDX-LICENSE-7");
    assert_eq!(
        new["schedules"][0],
        json!({"description": "Nightly load", "enabled": true})
    );
    assert_eq!(
        new["schedules"][1]["enabled"], false,
        "it was disabled before pause"
    );
    assert_eq!(
        new["listeners"][0]["enabled"], false,
        "enable lists only schedules"
    );

    // The journal holds every step, and no secret.
    let journal = std::fs::read_to_string(w.dir.path().join("state/e2e-prod/journal.jsonl"))
        .expect("journal");
    assert!(!journal.contains("s3cret-pw") && !journal.contains("CLOVERDX-LICENSE-7"));
    assert!(!out.stdout.contains("s3cret-pw") && !out.stderr.contains("s3cret-pw"));
    let again = w.apply(&spec, &["--yes"]);
    assert_eq!(
        again.code, 2,
        "a finished journal is not silently overwritten"
    );
    assert!(again.stderr.contains("apply::journal_exists"));

    // Rollback: the old server takes its schedules, listeners and address back, exactly; the
    // new server runs nothing and is stopped, its deployment intact.
    let dry = w.rollback(&spec, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stderr.contains("move the address back"),
        "{}",
        dry.stderr
    );
    assert_eq!(
        items(&w.old_state()),
        after_cutover(),
        "the dry run changes nothing"
    );
    let back = w.rollback(&spec, &["--yes"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(
        items(&w.old_state()),
        old_items(),
        "exactly as before apply"
    );
    let new = World::server_state(w.new_port);
    assert!(
        new["schedules"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(new["listeners"].as_array().into_iter().flatten())
            .all(|i| i["enabled"] == false),
        "the new server runs nothing: {new}"
    );
    never_both_enabled(w.old_port, w.new_port);
    let rolled = w.inspect();
    let address = rolled["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["AllocationId"] == w.seed["allocation"])
        .cloned()
        .expect("the old Elastic IP");
    assert_eq!(
        address["InstanceId"], w.seed["instance"],
        "the address is back"
    );
    let new_state = rolled["instances"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["Instances"].as_array().cloned().unwrap_or_default())
        .find(|i| i["InstanceId"] == new_instance.as_str())
        .map(|i| i["State"]["Name"].clone())
        .expect("the new instance");
    assert!(
        new_state == "stopped" || new_state == "stopping",
        "{new_state}"
    );
    let stack = rolled["stacks"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["StackName"] == "e2e-prod")
        .cloned()
        .expect("the stack is intact");
    assert_eq!(stack["StackStatus"], "UPDATE_COMPLETE");
    assert_eq!(
        old_deployment(&rolled, &w.seed),
        old_deployment(&before, &w.seed)
    );
    // Rolling back again is safe and ends the same.
    let twice = w.rollback(&spec, &["--yes"]);
    assert_eq!(twice.code, 0, "{}", twice.stderr);
    assert_eq!(items(&w.old_state()), old_items());
}

/// The old server's configuration drifts after the snapshot (a hook edits a schedule between
/// verify and cutover): cutover refuses, naming the item, and switches nothing; with
/// `--carry-config` the resumed run imports the edit into the new server, then switches.
#[test]
fn cutover_refuses_configuration_drift_unless_carried() {
    let Some(w) = world() else { return };
    let drifted = r#"{"schedules":[{"description":"Nightly load","enabled":true,"job":"graph/Load-v2.grf"},{"description":"Old report","enabled":false}]}"#;
    let hook = format!(
        "hooks:\n  - name: edit-schedule\n    command: [{}, -c, \"import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method='POST'))\", \"http://127.0.0.1:{}/__test__/configure\", {}]\n    after: [verify]\n    before: [cutover]\n",
        w.venv.join("bin/python").display(),
        w.old_port,
        serde_json::to_string(drifted).expect("yaml string")
    );
    let spec = w.spec("drift", |t| {
        format!(
            "{}{hook}",
            t.replace("  move_address: true\n", "  move_address: false\n")
        )
    });
    let out = w.apply(&spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("changed schedule \"Nightly load\"")
            && out.stderr.contains("--carry-config"),
        "{}",
        out.stderr
    );
    let old = World::server_state(w.old_port);
    assert_eq!(
        old["schedules"][0]["enabled"], true,
        "nothing switched: the old server still runs it"
    );
    let out = w.apply(&spec, &["--yes", "--resume", "--carry-config"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let new = World::server_state(w.new_port);
    assert_eq!(
        new["schedules"][0]["job"], "graph/Load-v2.grf",
        "the edit was carried"
    );
    assert_eq!(new["schedules"][0]["enabled"], true);
    assert_eq!(
        World::server_state(w.old_port)["schedules"][0]["enabled"],
        false
    );
    never_both_enabled(w.old_port, w.new_port);
}

/// A cutover whose last phase fails is reversed at once: the old server runs again, the new
/// one runs nothing.
#[test]
fn a_failed_cutover_is_reversed() {
    let Some(w) = world() else { return };
    // The new server refuses imports once cutover starts enabling (a hook arms the failure
    // after verify, so activate and verify are untouched).
    let arm = format!(
        "hooks:\n  - name: break-new\n    command: [{}, -c, \"import sys,urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), method='POST'))\", \"http://127.0.0.1:{}/__test__/configure\", '{{\"fail\": {{\"/clover/api/rest/v1/server/configuration/import\": 500}}}}']\n    after: [verify]\n    before: [cutover]\n",
        w.venv.join("bin/python").display(),
        w.new_port,
    );
    let spec = w.spec("reversed", |t| {
        format!(
            "{}{arm}",
            t.replace("  move_address: true\n", "  move_address: false\n")
        )
    });
    let out = w.apply(&spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("cutover failed"), "{}", out.stderr);
    World::configure(w.new_port, json!({ "fail": {} }));
    assert_eq!(
        items(&w.old_state()),
        old_items(),
        "the old server runs again"
    );
    let new = World::server_state(w.new_port);
    assert_eq!(
        new["schedules"][0]["enabled"], false,
        "the new server runs nothing"
    );
    never_both_enabled(w.old_port, w.new_port);
}

/// Killed (SIGKILL, no chance to clean up) inside the cutover, after the old server stopped
/// running the schedule and before the new one started it, then resumed; and the same inside
/// rollback. Never both enabled, nothing lost: each ends where it would have.
#[test]
fn a_kill_inside_cutover_or_rollback_then_running_again_ends_right() {
    let Some(w) = world() else { return };
    let spec = w.spec("kill-cutover", |t| {
        t.replace("  move_address: true\n", "  move_address: false\n")
    });
    // The new server answers slowly, so the switch has a window to be killed in.
    World::configure(w.new_port, json!({ "latency": 0.5 }));
    let mut child = w
        .apply_command(&spec, &["--yes", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("apply");
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let event: Value = serde_json::from_str(&line).unwrap_or_default();
        if event["event"] == "started" && event["step"] == "cutover" {
            break;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while World::server_state(w.old_port)["schedules"][0]["enabled"] != false {
        assert!(
            Instant::now() < deadline,
            "cutover never disabled the old server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        World::server_state(w.new_port)["schedules"][0]["enabled"],
        false,
        "killed between the phases"
    );
    let out = w.apply(&spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(items(&w.old_state()), after_cutover());
    assert_eq!(
        World::server_state(w.new_port)["schedules"][0]["enabled"],
        true
    );
    never_both_enabled(w.old_port, w.new_port);

    // Rollback, killed after the new server stopped running the schedule and before the old
    // one runs it again; run again, it ends rolled back.
    let mut child = w
        .rollback_command(&spec, &["--yes"])
        .stderr(Stdio::null())
        .spawn()
        .expect("rollback");
    World::configure(w.old_port, json!({ "latency": 0.5 }));
    let deadline = Instant::now() + Duration::from_secs(30);
    while World::server_state(w.new_port)["schedules"][0]["enabled"] != false {
        assert!(
            Instant::now() < deadline,
            "rollback never disabled the new server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    World::configure(w.old_port, json!({ "latency": 0.0 }));
    World::configure(w.new_port, json!({ "latency": 0.0 }));
    let out = w.rollback(&spec, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(items(&w.old_state()), old_items());
    never_both_enabled(w.old_port, w.new_port);
}

/// Verify runs the spec's smoke job on the new server and checks its result; a failed run
/// stops the upgrade before cutover, with the old server still running everything.
#[test]
fn verify_runs_the_smoke_job_and_a_failed_run_stops_before_cutover() {
    let Some(w) = world() else { return };
    let with_smoke = |t: String| {
        t.replace("  move_address: true\n", "  move_address: false\n").replace(
            "    enable: [schedules]\n",
            "    enable: [schedules]\n    smoke: { sandbox: smoke, job: jobflow/Smoke.jbf, timeout: 20s }\n",
        )
    };
    World::configure(
        w.new_port,
        json!({ "jobs": { "smoke/jobflow/Smoke.jbf": "ERROR" } }),
    );
    let failing = w.spec("smoke-fails", with_smoke);
    let out = w.apply(&failing, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("smoke job jobflow/Smoke.jbf (run 1) ended ERROR"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("not run:  cutover"), "{}", out.stderr);
    assert_eq!(
        items(&w.old_state()),
        old_items(),
        "the old server runs everything"
    );
    World::configure(
        w.new_port,
        json!({ "jobs": { "smoke/jobflow/Smoke.jbf": "FINISHED_OK" } }),
    );
    let passing = w.spec("smoke-passes", with_smoke);
    let out = w.apply(&passing, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let reqs = requests(w.new_port);
    assert!(
        reqs.windows(3).any(|r| r
            == [
                "POST /clover/api/rest/v1/executions",
                "GET /clover/api/rest/v1/executions/2",
                "GET /clover/api/rest/v1/executions/2"
            ]),
        "{reqs:?}"
    );
}

#[test]
fn rollback_refuses_without_a_cutover_with_a_changed_spec_or_a_held_lock() {
    let Some(w) = world() else { return };
    // A run that failed before cutover: nothing to roll back.
    World::configure(w.old_port, json!({ "running_jobs": ["1017"] }));
    let spec = w.spec("no-cutover", |t| {
        t.replace("drain_timeout: 20s", "drain_timeout: 2s")
    });
    assert_eq!(w.apply(&spec, &["--yes"]).code, 3);
    World::configure(w.old_port, json!({ "running_jobs": [] }));
    let out = w.rollback(&spec, &["--yes"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("apply::nothing_to_roll_back"),
        "{}",
        out.stderr
    );
    // No journal at all.
    let never = w.spec("never-applied", |t| t);
    let out = w.rollback(&never, &["--yes"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    // A completed run, then a changed spec, then a held lock.
    let spec = w.spec("refusals", |t| {
        t.replace("  move_address: true\n", "  move_address: false\n")
    });
    let out = w.apply(&spec, &["--yes"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&spec).expect("spec");
    std::fs::write(
        &spec,
        text.replace("instance_type: m6i.xlarge", "instance_type: m6i.2xlarge"),
    )
    .expect("edit");
    let out = w.rollback(&spec, &["--yes"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("apply::spec_changed"), "{}", out.stderr);
    std::fs::write(&spec, text).expect("restore");
    let lock = w.dir.path().join("state/refusals/lock");
    let mut holder = Command::new(w.venv.join("bin/python"))
        .args([
            "-c",
            "import fcntl,sys,time; f=open(sys.argv[1],'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)",
        ])
        .arg(&lock)
        .stdout(Stdio::piped())
        .spawn()
        .expect("hold the lock");
    let mut line = String::new();
    BufReader::new(holder.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("held");
    let out = w.rollback(&spec, &["--yes"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("apply::locked"), "{}", out.stderr);
    assert_eq!(
        items(&w.old_state()),
        after_cutover(),
        "nothing rolled back"
    );
}

#[test]
fn a_failing_snapshot_leaves_the_old_server_resumed_and_unchanged() {
    let Some(w) = world() else { return };
    // A DB instance that does not exist is refused by the preflight, before pause.
    let missing_db = w.spec("fail-db", |t| {
        t.replace(
            "db_instance: clover-prod-db",
            "db_instance: clover-missing-db",
        )
    });
    let out = w.apply(&missing_db, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("error[apply::preflight]"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("failed:   pause"), "{}", out.stderr);
    // The database disappears after the preflight (a hook before pause deletes it):
    // rds:CreateDBSnapshot fails after pause.
    let hook = format!(
        "hooks:\n  - name: lose-database\n    command: [{}, {}, delete-db, {}, clover-prod-db]\n    before: [pause]\n",
        w.venv.join("bin/python").display(),
        common::root().join("tests/servers/aws_world.py").display(),
        w.endpoint
    );
    let spec = w.spec("fail-snap", |t| format!("{t}{hook}"));
    let before = w.inspect();
    let out = w.apply(&spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("failed:   snapshot-database"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("--resume"), "says how to resume");
    assert!(
        !out.stderr.contains("delete-stack"),
        "no stack exists, so none is to be deleted: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "the old server runs and is resumed (its schedules and listeners are re-enabled)"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(items(&w.old_state()), old_items(), "resumed exactly");
    let after = w.inspect();
    // The hook, not apply, deleted the database: the instance and volume are unchanged.
    let (a, b) = (
        old_deployment(&after, &w.seed),
        old_deployment(&before, &w.seed),
    );
    assert_eq!(a["instance"], b["instance"]);
    assert_eq!(a["volume"], b["volume"]);
    assert!(
        after["stacks"].as_array().is_none_or(|s| s.is_empty()),
        "nothing deployed"
    );
}

#[test]
fn a_failing_stack_leaves_the_old_server_resumed_and_unchanged() {
    let Some(w) = world() else { return };
    // An organisation's extra resource that CloudFormation (here moto) refuses.
    let templates = w.dir.path().join("templates/aws/partials");
    std::fs::create_dir_all(&templates).expect("dirs");
    std::fs::write(
        templates.join("extra-resources.hbs"),
        "\n  Broken:\n    Type: AWS::EC2::Subnet\n    Properties:\n      VpcId: vpc-00000000\n      CidrBlock: 10.99.0.0/24\n",
    )
    .expect("partial");
    let spec = w.spec("fail-stack", |t| t);
    let before = w.inspect();
    let dir = w.dir.path().join("templates");
    let out = w.apply(
        &spec,
        &["--yes", "--templates", dir.to_str().expect("path")],
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("failed:   deploy"), "{}", out.stderr);
    assert_eq!(items(&w.old_state()), old_items());
    let after = w.inspect();
    assert_eq!(
        old_deployment(&after, &w.seed),
        old_deployment(&before, &w.seed)
    );
    let address = after["addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["AllocationId"] == w.seed["allocation"])
        .cloned()
        .expect("the old Elastic IP");
    assert_eq!(
        address["InstanceId"], w.seed["instance"],
        "the address did not move"
    );
}

#[test]
fn a_security_group_the_old_database_admits_is_refused_before_anything_changes() {
    let Some(w) = world() else { return };
    let server_sg = w.seed["server_sg"]
        .as_str()
        .expect("server group")
        .to_owned();
    let spec = w.spec("old-group", |t| {
        t.replace(
            "    db_instance_class: db.m6g.large\n",
            &format!(
                "    db_instance_class: db.m6g.large\n    security_group_ids: [{server_sg}]\n"
            ),
        )
    });
    let before = w.inspect();
    let out = w.apply(&spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("error[apply::preflight]"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&format!(
            "{} admits security group {server_sg}",
            w.seed["db_sg"].as_str().expect("db group")
        )),
        "the rule is named: {}",
        out.stderr
    );
    assert_eq!(
        items(&w.old_state()),
        old_items(),
        "the old server was not paused"
    );
    let after = w.inspect();
    assert_eq!(after["snapshots"], before["snapshots"]);
    assert_eq!(after["db_snapshots"], before["db_snapshots"]);
    assert_eq!(after["stacks"], before["stacks"]);
}

/// The second wall (issue 31): an old database whose group admits a network overlapping the new
/// server's subnet is refused, naming the rule and the ways out, unless the spec accepts one
/// wall explicitly; then the preflight warns and `plan` says so.
#[test]
fn an_old_database_open_to_the_new_subnet_is_refused_unless_accepted() {
    let Some(w) = world() else { return };
    let db_sg = w.seed["db_sg"].as_str().expect("db group").to_owned();
    let out = Command::new(w.venv.join("bin/python"))
        .arg(common::root().join("tests/servers/aws_world.py"))
        .args(["admit", &w.endpoint, &db_sg, "10.20.0.0/16"])
        .output()
        .expect("admit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = w.inspect();
    let spec = w.spec("open-db", |t| t);
    let out = w.apply(&spec, &["--yes"]);
    assert_stopped_before_any_change(&w, "open-db", &before, &out);
    assert!(
        problems(&out)
            .iter()
            .any(|p| p.contains(&format!("{db_sg} admits 10.20.0.0/16"))
                && p.contains("to.aws.subnet_id")
                && p.contains("accept_old_database_reachable")),
        "{}",
        out.stderr
    );
    let accepted = w.spec("open-db-accepted", |t| {
        t.replace(
            "    db_instance_class: db.m6g.large\n",
            "    db_instance_class: db.m6g.large\n    accept_old_database_reachable: true\n",
        )
    });
    let out = w.apply(&accepted, &["--dry-run"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("only the boot guard keeps the new server off it"),
        "{}",
        out.stderr
    );
    let plan = common::run(&["plan", accepted.to_str().expect("path")], None);
    assert!(
        plan.stdout.contains("accept_old_database_reachable is set")
            || plan.stderr.contains("accept_old_database_reachable is set"),
        "{}{}",
        plan.stdout,
        plan.stderr
    );
}

#[test]
fn jobs_that_do_not_drain_fail_pause_and_the_server_is_resumed() {
    let Some(w) = world() else { return };
    World::configure(w.old_port, json!({ "running_jobs": ["1017"] }));
    let spec = w.spec("no-drain", |t| {
        t.replace("drain_timeout: 20s", "drain_timeout: 2s")
    });
    let before = w.inspect();
    let out = w.apply(&spec, &["--yes"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("jobs still run after drain_timeout"),
        "{}",
        out.stderr
    );
    assert_eq!(items(&w.old_state()), old_items());
    assert_eq!(
        w.inspect()["snapshots"],
        before["snapshots"],
        "no snapshot taken"
    );
    assert!(
        out.stderr.contains("the old server runs and is resumed"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("delete-stack"),
        "no stack exists: {}",
        out.stderr
    );
    // The printed command continues the run as it is, from the same journal.
    let line = out
        .stderr
        .lines()
        .find_map(|l| l.trim().strip_prefix("to continue: "))
        .expect("a resume command");
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(&words[..2], ["cloverlift", "apply"]);
    for option in [
        "--resume",
        "--state-dir",
        "--endpoint-url",
        "--new-server-url",
        "--yes",
    ] {
        assert!(words.contains(&option), "{option} missing from {line}");
    }
    World::configure(w.old_port, json!({ "running_jobs": [] }));
    let resumed = Command::new(env!("CARGO_BIN_EXE_cloverlift"))
        .args(&words[1..])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CLOVER_PASSWORD", "s3cret-pw")
        .stdin(Stdio::null())
        .output()
        .expect("resume");
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
}

/// Each preflight check stops the run before any change: no request but reads reaches the
/// old server, moto holds no new snapshot or stack, and no journal is left to resume.
fn assert_stopped_before_any_change(w: &World, name: &str, before: &Value, out: &common::Output) {
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("error[apply::preflight]"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("nothing was changed: the old server was not paused"),
        "{}",
        out.stderr
    );
    for r in requests(w.old_port) {
        assert!(
            r.starts_with("GET "),
            "only reads reach the old server: {r}"
        );
    }
    let after = w.inspect();
    assert_eq!(after["snapshots"], before["snapshots"]);
    assert_eq!(after["db_snapshots"], before["db_snapshots"]);
    assert_eq!(after["stacks"], before["stacks"]);
    assert!(
        !w.dir
            .path()
            .join("state")
            .join(name)
            .join("journal.jsonl")
            .exists(),
        "no journal for --resume to pick up"
    );
}

fn problems(out: &common::Output) -> Vec<&str> {
    out.stderr
        .lines()
        .filter_map(|l| l.strip_prefix("  - "))
        .collect()
}

#[test]
fn preflight_reports_every_missing_secret_in_one_run_even_for_a_dry_run() {
    let Some(w) = world() else { return };
    let spec = w.spec("no-secrets", |t| t.replace("license.lic", "missing.lic"));
    let before = w.inspect();
    for extra in [&["--dry-run"][..], &["--yes"][..]] {
        let out = w
            .apply_command(&spec, extra)
            .env_remove("CLOVER_PASSWORD")
            .output()
            .expect("apply");
        let out = common::Output::from(out);
        assert_stopped_before_any_change(&w, "no-secrets", &before, &out);
        let found = problems(&out);
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("from.server.password:") && p.contains("CLOVER_PASSWORD")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.starts_with("to.license:") && p.contains("missing.lic")),
            "{found:?}"
        );
        assert!(
            !out.stderr.contains("rds:CreateDBSnapshot"),
            "no calls listed after a failed preflight"
        );
    }
}

#[test]
fn preflight_proves_the_old_servers_credentials_and_address() {
    let Some(w) = world() else { return };
    let before = w.inspect();
    let wrong = w.spec("wrong-password", |t| t);
    let out = w
        .apply_command(&wrong, &["--yes"])
        .env("CLOVER_PASSWORD", "not-the-password")
        .output()
        .expect("apply");
    let out = common::Output::from(out);
    assert_stopped_before_any_change(&w, "wrong-password", &before, &out);
    assert!(
        problems(&out).iter().any(
            |p| p.contains("401") && p.contains("check from.server.url, username and password")
        ),
        "{}",
        out.stderr
    );
    let nowhere = w.spec("no-such-host", |t| {
        t.replace(
            &doubles::clover_url(w.old_port),
            "https://clover.no-such-host.invalid/clover",
        )
    });
    let out = w.apply(&nowhere, &["--dry-run"]);
    assert_stopped_before_any_change(&w, "no-such-host", &before, &out);
    assert!(
        problems(&out)
            .iter()
            .any(|p| p.contains("the host name clover.no-such-host.invalid does not resolve (DNS)")),
        "DNS failures are said in plain words: {}",
        out.stderr
    );
}

#[test]
fn preflight_proves_the_credentials_and_every_named_resource() {
    let Some(w) = world() else { return };
    let before = w.inspect();
    // Credentials: an endpoint where nothing answers fails GetCallerIdentity first.
    let spec = w.spec("no-aws", |t| t);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let out = w
        .apply_command_at(&format!("http://127.0.0.1:{port}"), &spec, &["--yes"])
        .output()
        .expect("apply");
    let out = common::Output::from(out);
    assert_stopped_before_any_change(&w, "no-aws", &before, &out);
    assert!(
        problems(&out)
            .iter()
            .any(|p| p.starts_with("AWS credentials do not work (sts:GetCallerIdentity")),
        "{}",
        out.stderr
    );
    // Where the new server goes: every missing resource is reported in one run.
    let subnet = w.seed["subnet"].as_str().expect("subnet").to_owned();
    let ami = w.seed["ami"].as_str().expect("ami").to_owned();
    let spec = w.spec("missing-new", |t| {
        t.replace(&subnet, "subnet-0000000000000dead")
            .replace(&ami, "ami-0000000000000dead")
            .replace("key_name: ops", "key_name: no-such-key")
    });
    let out = w.apply(&spec, &["--yes"]);
    assert_stopped_before_any_change(&w, "missing-new", &before, &out);
    let found = problems(&out);
    for expected in [
        "to.aws.subnet_id subnet-0000000000000dead: not found",
        "to.aws.image_id ami-0000000000000dead: not found",
        "to.aws.key_name no-such-key: not found",
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "{expected}: {found:?}"
        );
    }
    assert!(
        found
            .iter()
            .any(|p| p.contains("subscribe to the CloverDX Server AMI")),
        "the problem names the fix: {found:?}"
    );
    // The old server's instance must run.
    let out = Command::new(w.venv.join("bin/python"))
        .arg(common::root().join("tests/servers/aws_world.py"))
        .args([
            "stop-instance",
            &w.endpoint,
            w.seed["instance"].as_str().expect("instance"),
        ])
        .output()
        .expect("stop");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec = w.spec("stopped", |t| t);
    let out = w.apply(&spec, &["--yes"]);
    assert_stopped_before_any_change(&w, "stopped", &before, &out);
    assert!(
        problems(&out)
            .iter()
            .any(|p| p.contains("is stopped, not running")),
        "{}",
        out.stderr
    );
}

/// `RUST_LOG=trace` shows what apply does, never a credential: the SDK's and HTTP crates'
/// request logging (signed headers, the session token, basic auth) is capped.
#[test]
fn trace_logs_carry_no_credential() {
    let Some(w) = world() else { return };
    const TOKEN: &str = "canary-session-token-0ddba11";
    const KEY_ID: &str = "AKIACANARY0DDBA11XYZ";
    let spec = w.spec("trace", |t| t);
    let out = w
        .apply_command(&spec, &["--dry-run"])
        .env("RUST_LOG", "trace")
        .env("AWS_ACCESS_KEY_ID", KEY_ID)
        .env("AWS_SESSION_TOKEN", TOKEN)
        .output()
        .expect("apply");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("TRACE") || stderr.contains("DEBUG"),
        "trace logging is on"
    );
    for secret in [TOKEN, KEY_ID, "s3cret-pw", "Y2xvdmVyOnMzY3JldC1wdw=="] {
        assert!(!stderr.contains(secret), "{secret} reached the logs");
    }
}

#[test]
fn a_malformed_endpoint_url_is_refused_even_for_a_dry_run() {
    let Some(w) = world() else { return };
    let spec = w.spec("bad-endpoint", |t| t);
    let out = w
        .apply_command_at("not-a-url", &spec, &["--dry-run"])
        .output()
        .expect("apply");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[apply::endpoint_url]"));
}

/// The double is as strict as the server: it would have caught verify requesting
/// `/clover/clover/`.
#[test]
fn the_cloverdx_double_answers_only_documented_paths_and_methods() {
    let Some(w) = world() else { return };
    let call = |request: &str| doubles::tls_status_line(&w.venv, w.old_port, request);
    // clover:s3cret-pw
    let auth = "Authorization: Basic Y2xvdmVyOnMzY3JldC1wdw==\r\nX-Requested-By: test\r\n";
    let status = |method: &str, path: &str, headers: &str, body: &str| {
        call(&format!(
            "{method} {path} HTTP/1.0\r\nHost: x\r\n{headers}Content-Length: {}\r\n\r\n{body}",
            body.len()
        ))
    };
    assert!(
        status("GET", "/clover/clover/", auth, "").contains(" 404 "),
        "defect 1's path"
    );
    assert!(status("GET", "/clover/", "", "").contains(" 200 "));
    assert!(status("DELETE", "/clover/api/rest/v1/server/license", auth, "").contains(" 405 "));
    assert!(
        status(
            "GET",
            "/clover/api/rest/v1/server/configuration/export",
            "",
            ""
        )
        .contains(" 401 ")
    );
    assert!(
        status(
            "GET",
            "/clover/api/rest/v1/server/configuration/export",
            "Authorization: Basic Y2xvdmVyOnMzY3JldC1wdw==\r\n",
            ""
        )
        .contains(" 400 "),
        "no X-Requested-By"
    );
    assert!(
        status(
            "PUT",
            "/clover/api/rest/v1/server/license",
            &format!("{auth}Content-Type: text/plain\r\n"),
            "LICENSE"
        )
        .contains(" 415 ")
    );
    assert!(
        status(
            "POST",
            "/clover/api/rest/v1/server/configuration/import?dryRun=false",
            &format!("{auth}Content-Type: application/octet-stream\r\n"),
            "<not-xml"
        )
        .contains(" 400 ")
    );
    // A stock server: the API only over TLS (plain HTTP gets Tomcat's 400), the Simple HTTP
    // API off unless its administrator enabled it (the new double is stock).
    let plain = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", w.old_port)).expect("connect");
        stream
            .write_all(
                format!(
                    "GET /clover/api/rest/v1/server/configuration/export HTTP/1.0\r\n{auth}\r\n"
                )
                .as_bytes(),
            )
            .expect("request");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    assert!(plain.starts_with("HTTP/1.0 400 "), "{plain}");
    let jobs = format!("GET /clover/simpleHttpApi/server_jobs HTTP/1.0\r\nHost: x\r\n{auth}\r\n");
    assert!(call(&jobs).contains(" 200 "));
    assert!(doubles::tls_status_line(&w.venv, w.new_port, &jobs).contains(" 404 "));
    assert_eq!(items(&w.old_state()), old_items(), "nothing changed");
}

/// A run that failed and compensated (resume ran) voids its pause cycle: `--resume` pauses,
/// snapshots and resumes again rather than skipping resume and leaving the server paused.
#[test]
fn resume_after_a_compensated_failure_pauses_and_resumes_again() {
    let Some(w) = world() else { return };
    World::configure(w.old_port, json!({ "running_jobs": ["1017"] }));
    let spec = w.spec("compensated", |t| {
        t.replace("drain_timeout: 20s", "drain_timeout: 2s")
            .replace("  move_address: true\n", "  move_address: false\n")
    });
    assert_eq!(w.apply(&spec, &["--yes"]).code, 3);
    assert_eq!(items(&w.old_state()), old_items());
    World::configure(w.old_port, json!({ "running_jobs": [] }));
    let out = w.apply(&spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("skip     resume"), "{}", out.stderr);
    assert!(out.stderr.contains("done     resume"), "{}", out.stderr);
    assert_eq!(
        items(&w.old_state()),
        after_cutover(),
        "resumed (its listener runs), then cutover moved the schedule"
    );
}

#[test]
fn sigterm_during_pause_resumes_the_old_server_before_exiting() {
    let Some(w) = world() else { return };
    World::configure(w.old_port, json!({ "running_jobs": ["1017"] }));
    let spec = w.spec("sigterm", |t| t);
    let child = w
        .apply_command(&spec, &["--yes", "--format", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apply");
    // Wait until pause has disabled the items, then ask apply to stop.
    let deadline = Instant::now() + Duration::from_secs(20);
    while w.old_state()["imports"] == 0 {
        assert!(Instant::now() < deadline, "pause never disabled anything");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"event\":\"interrupted\""));
    assert_eq!(items(&w.old_state()), old_items(), "resumed before exiting");
}

/// A process killed (SIGKILL: no compensation) right after each step, then `--resume`: every
/// run ends with the upgrade done and the old server resumed exactly.
#[test]
fn a_kill_at_every_step_boundary_then_resume_completes_the_upgrade() {
    if doubles::moto_venv().is_none() {
        return;
    }
    let steps = [
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
    // One world (moto and both servers) per boundary: the cases share nothing, so they run
    // side by side.
    doubles::each_in_parallel(&steps, |i, kill_after| {
        let w = world().expect("moto");
        let name = format!("kill-{i}");
        let spec = w.spec(&name, |t| {
            t.replace("  move_address: true\n", "  move_address: false\n")
        });
        doubles::kill_after_step(
            w.apply_command(&spec, &["--yes", "--format", "json"]),
            kill_after,
        );
        let out = w.apply(&spec, &["--yes", "--resume"]);
        assert_eq!(
            out.code, 0,
            "killed after {kill_after}; resume: {}",
            out.stderr
        );
        assert_eq!(
            items(&w.old_state()),
            after_cutover(),
            "killed after {kill_after}"
        );
        let stack = w.inspect()["stacks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["StackName"] == name.as_str())
            .cloned()
            .expect("the stack");
        assert_eq!(
            stack["StackStatus"], "CREATE_COMPLETE",
            "killed after {kill_after}"
        );
    });
}

#[test]
fn resume_refuses_a_changed_spec() {
    let Some(w) = world() else { return };
    World::configure(w.old_port, json!({ "running_jobs": ["1017"] }));
    let spec = w.spec("changed", |t| {
        t.replace("drain_timeout: 20s", "drain_timeout: 1s")
    });
    assert_eq!(w.apply(&spec, &["--yes"]).code, 3);
    let text = std::fs::read_to_string(&spec)
        .expect("spec")
        .replace("instance_type: m6i.xlarge", "instance_type: m6i.2xlarge");
    std::fs::write(&spec, text).expect("spec");
    let out = w.apply(&spec, &["--yes", "--resume"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("apply::spec_changed"), "{}", out.stderr);
    drop(w.old);
    drop(w.new);
}

impl doubles::stock::World for World {
    fn old_port(&self) -> u16 {
        self.old_port
    }
    fn new_port(&self) -> u16 {
        self.new_port
    }
    fn spec_named(&self, name: &str) -> PathBuf {
        self.spec(name, |t| {
            t.replace("  move_address: true\n", "  move_address: false\n")
        })
    }
    fn apply(&self, spec: &Path, extra: &[&str]) -> common::Output {
        World::apply(self, spec, extra)
    }
    fn snapshots(&self) -> usize {
        let now = self.inspect();
        let count = |key: &str| now[key].as_array().map_or(0, Vec::len);
        count("snapshots") + count("db_snapshots")
    }
    fn reset_servers(&self) {
        doubles::reset_items(self.old_port, self.new_port);
    }
    fn cloud_state(&self) -> Value {
        let now = self.inspect();
        json!([now["snapshots"], now["db_snapshots"], now["stacks"]])
    }
}

#[test]
fn a_stock_server_the_run_cannot_use_is_refused_before_any_change() {
    let Some(w) = world() else { return };
    doubles::stock::a_stock_server_the_run_cannot_use_is_refused_before_any_change(&w);
}

#[test]
fn an_import_the_server_refuses_stops_pause_before_any_snapshot() {
    let Some(w) = world() else { return };
    doubles::stock::an_import_the_server_refuses_stops_pause_before_any_snapshot(&w);
}

#[test]
fn the_schema_patch_dialog_stops_confirm_runs_and_auto_runs_pass_it() {
    let Some(w) = world() else { return };
    doubles::stock::the_schema_patch_dialog_stops_confirm_runs_and_auto_runs_pass_it(&w);
}

#[test]
fn a_restore_from_before_the_pause_stops_before_the_new_server_runs() {
    let Some(w) = world() else { return };
    doubles::stock::a_restore_from_before_the_pause_stops_before_the_new_server_runs(&w);
}
