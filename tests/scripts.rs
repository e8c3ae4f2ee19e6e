//! Every shell script cloverlift renders, run the way the machine runs it.
//!
//! The scripts are extracted from the rendered deployment files (CloudFormation user data,
//! ARM custom data and run commands, Terraform and Deployment Manager metadata, the SSM
//! document's command lines), never from the templates, and each must equal the reviewable
//! copy render writes beside them. Then:
//! - ShellCheck reports nothing on any of them, and the shell that really runs each one
//!   parses it (dash for the SSM body, which the agent runs with `sh`; bash elsewhere);
//! - the boot guard boots in a sandbox (tests/sandbox/boot.sh) in cloud-init's order, through
//!   the happy path and every failure path, and `clover` is never started while the
//!   datasource names the old database;
//! - the war script replaces, keeps, rejects and rolls back WARs on a sandboxed server with
//!   a local HTTPS server, invoked as the SSM agent, the Azure run-command handler and a
//!   person would invoke it.
//!
//! The sandboxes need root (or user namespaces) for `unshare`; CI runs as root.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cloverlift::render::OutputFormat;
use common::root;
use sha2::{Digest, Sha256};

/// The new database's address, put in where each deployment puts its own.
const NEW_HOST: &str = "new-db.example.internal";
const OLD_HOST: &str = "clover-prod-db.abc123.eu-west-1.rds.amazonaws.com";

fn render(plan: &str, format: OutputFormat) -> BTreeMap<String, String> {
    render_edited(plan, format, |t| t)
}

/// [`render`] of the example `plan` with its text edited first.
fn render_edited(
    plan: &str,
    format: OutputFormat,
    edit: impl Fn(String) -> String,
) -> BTreeMap<String, String> {
    let text =
        edit(std::fs::read_to_string(root().join(format!("plans/{plan}.yaml"))).expect("plan"));
    let file = cloverlift::source::SourceFile::new(format!("{plan}.yaml"), text);
    let (valid, compiled) = cloverlift::check(&file).expect("valid example");
    let renderer = cloverlift::render::Renderer::new(&Default::default()).expect("templates");
    renderer
        .render_as(&valid, &compiled, format)
        .expect("renders")
        .files
}

fn yaml(name: &str, text: &str) -> cloverlift::spec::node::Node {
    let file = cloverlift::source::SourceFile::new(name, text.to_owned());
    let (tree, errors) = cloverlift::spec::yaml::parse(&file);
    assert!(errors.is_empty(), "{name} parses: {errors:?}");
    tree.expect("a document")
}

fn scalar(tree: &cloverlift::spec::node::Node, path: &[&str]) -> String {
    tree.lookup(path)
        .and_then(|n| n.as_scalar())
        .map(|s| s.text.clone())
        .unwrap_or_else(|| panic!("no scalar at {path:?}"))
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        out.extend(n.to_be_bytes()[1..chunk.len()].iter());
    }
    out
}

/// The reviewable copy with the address filled in: what every deployment must boot.
fn expected_guard(files: &BTreeMap<String, String>) -> String {
    files["boot-guard.sh"].replace(cloverlift::render::boot::DB_HOST_MARKER, NEW_HOST)
}

/// AWS: `UserData: Fn::Base64: Fn::Join ["", [before, GetAtt Database.Endpoint.Address, after]]`.
fn aws_user_data(files: &BTreeMap<String, String>) -> String {
    let t = yaml("cloudformation.yaml", &files["cloudformation.yaml"]);
    fn at<'a>(rest: &[&'a str]) -> Vec<&'a str> {
        let join = [
            "Resources",
            "Instance",
            "Properties",
            "UserData",
            "Fn::Base64",
            "Fn::Join",
        ];
        [&join[..], rest].concat()
    }
    assert_eq!(scalar(&t, &at(&["0"])), "");
    assert_eq!(
        scalar(&t, &at(&["1", "1", "Fn::GetAtt", "0"])),
        "Database",
        "the address is the new database's"
    );
    assert_eq!(
        scalar(&t, &at(&["1", "1", "Fn::GetAtt", "1"])),
        "Endpoint.Address"
    );
    format!(
        "{}{NEW_HOST}{}",
        scalar(&t, &at(&["1", "0"])),
        scalar(&t, &at(&["1", "2"]))
    )
}

/// Azure: `[base64(replace(base64ToString('…'), '@…@', reference(<new server>).fullyQualifiedDomainName))]`.
fn azure_custom_data(files: &BTreeMap<String, String>) -> String {
    let doc: serde_json::Value = serde_json::from_str(&files["azuredeploy.json"]).expect("JSON");
    let vm = doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["type"] == "Microsoft.Compute/virtualMachines")
        .expect("a VM");
    let expr = vm["properties"]["osProfile"]["customData"]
        .as_str()
        .expect("customData");
    let rest = expr
        .strip_prefix("[base64(replace(base64ToString('")
        .expect("customData decodes the script");
    let (encoded, rest) = rest.split_once("')").expect("base64 literal");
    assert!(
        rest.starts_with(", '@CLOVERLIFT_DB_HOST@', reference(resourceId('Microsoft.DBforPostgreSQL/flexibleServers', variables('postgresName'))"),
        "the address is the new flexible server's: {rest}"
    );
    assert!(rest.ends_with(".fullyQualifiedDomainName))]"), "{rest}");
    String::from_utf8(decode_base64(encoded))
        .expect("UTF-8")
        .replace(cloverlift::render::boot::DB_HOST_MARKER, NEW_HOST)
}

/// A Google Cloud VM metadata value from main.tf.json, read back as Terraform reads it
/// (`$${`/`%%{` unescaped) with its one interpolation, the new Cloud SQL instance's address,
/// filled in.
fn gcp_terraform_metadata(files: &BTreeMap<String, String>, key: &str) -> String {
    let doc: serde_json::Value = serde_json::from_str(&files["main.tf.json"]).expect("JSON");
    let vm = &doc["resource"]["google_compute_instance"]["server"];
    let text = vm["metadata"][key].as_str().expect(key);
    let interpolation = "${google_sql_database_instance.database.public_ip_address}";
    assert_eq!(
        text.matches("${").count(),
        text.matches("$${").count() + 1,
        "{key}: one interpolation"
    );
    text.replace(interpolation, NEW_HOST)
        .replace("$${", "${")
        .replace("%%{", "%{")
}

fn gcp_terraform_user_data(files: &BTreeMap<String, String>) -> String {
    gcp_terraform_metadata(files, "user-data")
}

/// Google Cloud, Deployment Manager: the `user-data` metadata item with its `$(ref.…)`.
fn gcp_dm_user_data(files: &BTreeMap<String, String>, name: &str) -> String {
    let t = yaml("deployment.yaml", &files["deployment.yaml"]);
    let items = ["resources", "5", "properties", "metadata", "items", "0"];
    assert_eq!(scalar(&t, &[&items[..], &["key"]].concat()), "user-data");
    scalar(&t, &[&items[..], &["value"]].concat()).replace(
        &format!("$(ref.{name}-db.ipAddresses[0].ipAddress)"),
        NEW_HOST,
    )
}

/// Google Cloud's startup script, from main.tf.json.
fn gcp_startup_script(files: &BTreeMap<String, String>) -> String {
    gcp_terraform_metadata(files, "startup-script")
}

/// Every boot guard render emits, with where it came from.
fn boot_guards() -> Vec<(String, String)> {
    type Extract = fn(&BTreeMap<String, String>) -> String;
    let deployments: [(&[&str], &str, Extract); 3] = [
        (
            &["aws-prod", "aws-existing-snapshots", "aws-hooks"],
            "UserData",
            aws_user_data,
        ),
        (
            &["azure-prod", "azure-existing-snapshots"],
            "customData",
            azure_custom_data,
        ),
        (
            &["gcp-prod", "gcp-existing-snapshots"],
            "main.tf.json user-data",
            gcp_terraform_user_data,
        ),
    ];
    let mut out = Vec::new();
    for (plans, place, extract) in deployments {
        for plan in plans {
            let files = render(plan, OutputFormat::Native);
            let script = extract(&files);
            assert_eq!(
                script,
                expected_guard(&files),
                "{plan}: {place} is boot-guard.sh"
            );
            out.push((format!("{plan} {place}"), script));
        }
    }
    let files = render("gcp-existing-snapshots", OutputFormat::DeploymentManager);
    let script = gcp_dm_user_data(&files, "qa-europe-west1");
    assert_eq!(script, expected_guard(&files), "deployment.yaml user-data");
    out.push((
        "gcp-existing-snapshots deployment.yaml user-data".into(),
        script,
    ));
    out
}

/// The SSM document's command lines, as the agent writes them to `_script.sh` (joined by
/// newlines, no `#!` line), with the document parameters substituted as SSM does: as text.
fn ssm_body(files: &BTreeMap<String, String>, params: &[(&str, &str)]) -> String {
    let t = yaml("cloudformation.yaml", &files["cloudformation.yaml"]);
    let path = [
        "Resources",
        "UpgradeDocument",
        "Properties",
        "Content",
        "mainSteps",
        "0",
        "inputs",
        "runCommand",
    ];
    let Some(cloverlift::spec::node::Node {
        kind: cloverlift::spec::node::Kind::Seq(lines),
        ..
    }) = t.lookup(&path)
    else {
        panic!("runCommand is a list")
    };
    let mut body: String = lines
        .iter()
        .map(|l| format!("{}\n", l.as_scalar().expect("a line").text))
        .collect();
    for (name, value) in params {
        ssm_accepts(&t, name, value);
        body = body.replace(&format!("{{{{ {name} }}}}"), value);
    }
    body
}

/// SSM refuses a `send-command` whose parameter is outside the document's `allowedValues` or
/// `allowedPattern`; the tests send only what SSM would let through.
fn ssm_accepts(t: &cloverlift::spec::node::Node, name: &str, value: &str) {
    let param = [
        "Resources",
        "UpgradeDocument",
        "Properties",
        "Content",
        "parameters",
        name,
    ];
    let at = |key: &str| t.lookup(&[&param[..], &[key]].concat());
    if let Some(cloverlift::spec::node::Node {
        kind: cloverlift::spec::node::Kind::Seq(values),
        ..
    }) = at("allowedValues")
    {
        let allowed: Vec<&str> = values
            .iter()
            .filter_map(|v| v.as_scalar().map(|s| s.text.as_str()))
            .collect();
        assert!(
            allowed.contains(&value),
            "SSM refuses {name}={value}: not in {allowed:?}"
        );
    }
    if let Some(pattern) = at("allowedPattern").and_then(|n| n.as_scalar()) {
        let re = regex_lite::Regex::new(&pattern.text).expect("a pattern SSM reads");
        assert!(
            re.is_match(value),
            "SSM refuses {name}={value}: not {}",
            pattern.text
        );
    }
}

/// The Azure run command: its script, and its named and protected parameters.
fn azure_run_command(files: &BTreeMap<String, String>) -> (String, Vec<(String, String)>) {
    let doc: serde_json::Value = serde_json::from_str(&files["azuredeploy.json"]).expect("JSON");
    let rc = &doc["resources"][0]["properties"];
    let script = rc["source"]["script"].as_str().expect("script").to_owned();
    let mut params = Vec::new();
    for list in ["parameters", "protectedParameters"] {
        for p in rc[list].as_array().expect("parameter list") {
            params.push((
                p["name"].as_str().expect("name").to_owned(),
                p["value"].as_str().expect("value").to_owned(),
            ));
        }
    }
    (script, params)
}

fn shellcheck(label: &str, script: &str, shell: &str) {
    let Some(tool) = common::oracle("SHELLCHECK", "shellcheck") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("script");
    std::fs::write(&path, script).expect("write");
    let out = Command::new(tool)
        .args([
            "--shell",
            shell,
            "--severity",
            "style",
            "--external-sources",
        ])
        .arg(&path)
        .output()
        .expect("run shellcheck");
    assert!(
        out.status.success(),
        "{label}: ShellCheck findings:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn parses_with(label: &str, script: &str, shell: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("script");
    std::fs::write(&path, script).expect("write");
    let out = Command::new(shell)
        .arg("-n")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("{shell}: {e}"));
    assert!(
        out.status.success(),
        "{label}: {shell} -n: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// cloud-init writes a boothook part without its `#cloud-boothook` line.
fn boothook_body(script: &str) -> &str {
    script
        .strip_prefix("#cloud-boothook\n")
        .expect("a boothook part")
}

#[test]
fn every_rendered_script_is_shellcheck_clean_and_parses_in_its_shell() {
    for (label, script) in boot_guards() {
        // EC2 takes at most 16 KiB of user data, before its base64 encoding.
        assert!(script.len() < 16 * 1024, "{label}: {} bytes", script.len());
        let body = boothook_body(&script);
        assert!(body.starts_with("#!/bin/bash\n"), "{label}");
        shellcheck(&label, body, "bash");
        parses_with(&label, body, "bash");
    }
    for plan in ["gcp-prod", "gcp-existing-snapshots"] {
        let script = gcp_startup_script(&render(plan, OutputFormat::Native));
        shellcheck(&format!("{plan} startup-script"), &script, "bash");
        parses_with(&format!("{plan} startup-script"), &script, "bash");
    }
    let gcp_war = render("gcp-war", OutputFormat::Native);
    shellcheck("gcp-war war-startup.sh", &gcp_war["war-startup.sh"], "bash");
    parses_with("gcp-war war-startup.sh", &gcp_war["war-startup.sh"], "bash");
    for plan in ["aws-war", "azure-war", "gcp-war"] {
        let files = render(plan, OutputFormat::Native);
        shellcheck(
            &format!("{plan} war-upgrade.sh"),
            &files["war-upgrade.sh"],
            "bash",
        );
        parses_with(
            &format!("{plan} war-upgrade.sh"),
            &files["war-upgrade.sh"],
            "bash",
        );
    }
    let aws = render("aws-war", OutputFormat::Native);
    let body = ssm_body(
        &aws,
        &[
            ("action", "stop"),
            ("warUrl", ""),
            ("warSha256", &"0".repeat(64)),
        ],
    );
    assert!(
        !body.starts_with("#!"),
        "the agent adds no #! line; the body is plain sh"
    );
    shellcheck("SSM runCommand", &body, "sh");
    parses_with("SSM runCommand", &body, "dash");
    let embedded: String = body
        .split_once("<<'CLOVERLIFT_WAR_UPGRADE_SCRIPT'\n")
        .and_then(|(_, rest)| rest.split_once("CLOVERLIFT_WAR_UPGRADE_SCRIPT\n"))
        .map(|(script, _)| script.to_owned())
        .expect("the here-document");
    assert_eq!(
        embedded, aws["war-upgrade.sh"],
        "the SSM body carries war-upgrade.sh"
    );
    let azure = render("azure-war", OutputFormat::Native);
    let (script, _) = azure_run_command(&azure);
    assert_eq!(
        script, azure["war-upgrade.sh"],
        "the run command is war-upgrade.sh"
    );
}

// ---------------------------------------------------------------------------------------------
// Boot sandbox

fn sandbox_available() -> bool {
    let ok = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "CI must run the sandbox tests: `unshare -m` needs root"
    );
    if !ok {
        eprintln!("unshare -m is not permitted here; skipping the sandbox");
    }
    ok
}

fn fragment(host: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='utf-8'?>\n<Context>\n  <Resource name=\"jdbc/clover_server\" auth=\"Container\" type=\"javax.sql.DataSource\"\n    driverClassName=\"org.postgresql.Driver\"\n    url=\"jdbc:postgresql://{host}:5432/clover?ssl=true&amp;sslmode=require\"\n    username=\"clover\" password=\"enc:Zm9vYmFy\"/>\n</Context>\n"
    )
}

struct Boot {
    calls: Vec<String>,
    phases: Vec<String>,
    console: String,
    fragment: Option<String>,
    work: tempfile::TempDir,
}

impl Boot {
    /// Every start that took effect, with the hosts the datasource named at that moment.
    fn starts(&self) -> Vec<&str> {
        self.calls
            .iter()
            .filter_map(|c| c.split_once(" start hosts=").map(|(_, h)| h))
            .collect()
    }

    fn phase(&self, boot: u32, name: &str) -> &str {
        let prefix = format!("{boot} {name} exit=");
        self.phases
            .iter()
            .find_map(|p| p.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no phase {boot} {name} in {:?}", self.phases))
    }

    /// The calls of one boot.
    fn calls_of(&self, boot: u32) -> Vec<&str> {
        let start = format!("{boot} boot");
        let end = format!("{boot} end");
        self.calls
            .iter()
            .skip_while(|c| **c != start)
            .skip(1)
            .take_while(|c| **c != end)
            .map(String::as_str)
            .collect()
    }

    fn never_started_against_the_old_database(&self) {
        for hosts in self.starts() {
            assert_eq!(
                hosts, NEW_HOST,
                "clover started while the datasource named {hosts}\n{}",
                self.console
            );
        }
    }
}

/// Boots `user_data` `boots` times with the data disk's fragment `fragment` (none: missing)
/// and the shims steered by `env`.
fn boot(user_data: &str, fragment: Option<&str>, env: &[(&str, &str)], boots: u32) -> Boot {
    boot_in(user_data, fragment, env, boots, None, &[])
}

/// [`boot`] with Google's startup script, when given, and more files in the data disk's conf/
/// (name, text): clover.properties, setenv_custom.sh.
fn boot_in(
    user_data: &str,
    fragment: Option<&str>,
    env: &[(&str, &str)],
    boots: u32,
    startup: Option<&str>,
    conf_files: &[(&str, &str)],
) -> Boot {
    let work = tempfile::tempdir().expect("tempdir");
    if let Some(text) = startup {
        std::fs::write(work.path().join("startup.sh"), text).expect("startup script");
    }
    let conf = work.path().join("disk/conf");
    std::fs::create_dir_all(&conf).expect("disk");
    if let Some(text) = fragment {
        std::fs::write(conf.join("server_fragment.xml"), text).expect("fragment");
    }
    for (name, text) in conf_files {
        std::fs::write(conf.join(name), text).expect("a conf file");
    }
    std::fs::write(work.path().join("user-data"), user_data).expect("user data");
    let out = Command::new("unshare")
        .args(["-m", "bash"])
        .arg(root().join("tests/sandbox/boot.sh"))
        .arg("/mnt/user-data")
        .arg(work.path())
        .arg(boots.to_string())
        .envs(env.iter().copied())
        .envs(startup.map(|_| ("SANDBOX_STARTUP_SCRIPT", "/mnt/startup.sh")))
        .output()
        .expect("run the boot sandbox");
    assert!(
        out.status.success(),
        "the sandbox itself failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(work.path().join(name)).unwrap_or_default();
    Boot {
        calls: read("state/calls").lines().map(str::to_owned).collect(),
        phases: read("state/phases").lines().map(str::to_owned).collect(),
        console: read("state/console"),
        fragment: std::fs::read_to_string(conf.join("server_fragment.xml")).ok(),
        work,
    }
}

/// [`boot`] with Google's startup script run after the final stage.
fn boot_with_startup(user_data: &str, startup: &str, env: &[(&str, &str)], boots: u32) -> Boot {
    boot_in(
        user_data,
        Some(&fragment(OLD_HOST)),
        env,
        boots,
        Some(startup),
        &[],
    )
}

/// One boot guard per cloud (and per Google Cloud format): they differ in what they wait for.
fn guards_by_cloud() -> Vec<(&'static str, String)> {
    let aws = render("aws-prod", OutputFormat::Native);
    let azure = render("azure-prod", OutputFormat::Native);
    let gcp = render("gcp-prod", OutputFormat::Native);
    vec![
        ("aws", aws_user_data(&aws)),
        ("azure", azure_custom_data(&azure)),
        ("gcp", gcp_terraform_user_data(&gcp)),
    ]
}

/// Google Cloud's guard also waits for the restore marker; the others need nothing more.
fn restored(cloud: &str) -> Vec<(&'static str, &'static str)> {
    if cloud == "gcp" {
        vec![("SANDBOX_RESTORED_AFTER", "1")]
    } else {
        Vec::new()
    }
}

#[test]
fn first_boot_starts_clover_only_after_the_datasource_names_the_new_database() {
    if !sandbox_available() {
        return;
    }
    for (cloud, script) in guards_by_cloud() {
        let mut env = restored(cloud);
        env.push(("SANDBOX_MOUNT_AFTER", "3"));
        let run = boot(&script, Some(&fragment(OLD_HOST)), &env, 1);
        run.never_started_against_the_old_database();
        assert_eq!(run.phase(1, "boothook"), "0", "{cloud}: {}", run.console);
        assert_eq!(
            run.phase(1, "per-boot:cloverlift-datasource-guard"),
            "0",
            "{cloud}: {}",
            run.console
        );
        let systemd: Vec<&str> = run
            .calls_of(1)
            .into_iter()
            .filter(|c| !c.starts_with("curl "))
            .collect();
        assert_eq!(
            systemd,
            [
                "script daemon-reload",
                "systemd start skipped-condition /run/cloverlift/datasource-verified",
                &format!("script start hosts={NEW_HOST}"),
            ],
            "{cloud}: held from the boothook on, systemd skips clover, the guard starts it"
        );
        let after = run.fragment.as_deref().expect("fragment");
        assert_eq!(after, fragment(NEW_HOST), "{cloud}: only the host changed");
        assert!(
            run.console
                .contains(&format!("clover started against {NEW_HOST}")),
            "{}",
            run.console
        );
        let plan = match cloud {
            "aws" => "prod-eu",
            "azure" => "prod-westeurope",
            _ => "prod-europe-west1",
        };
        let backup = std::fs::read_to_string(run.work.path().join(format!(
            "disk/conf/server_fragment.xml.cloverlift-before-{plan}"
        )))
        .expect("the original fragment is kept");
        assert_eq!(backup, fragment(OLD_HOST));
        // to.database_patches: auto (the default): the new version may patch the restored
        // database without waiting at CloverDX's dialog.
        let properties =
            std::fs::read_to_string(run.work.path().join("disk/conf/clover.properties"))
                .expect("clover.properties is written");
        assert!(
            properties
                .lines()
                .any(|l| l == "autoapply.sys.db.patches=7.0.1"),
            "{cloud}: {properties}"
        );
        // Once clover serves HTTPS, the guard prints its certificate's fingerprint, which
        // apply reads from the console (src/apply/boot_report.rs parses this very line).
        let printed = Command::new("openssl")
            .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
            .arg(run.work.path().join("state/server.pem"))
            .output()
            .expect("openssl");
        let printed = String::from_utf8_lossy(&printed.stdout);
        let fingerprint = printed.trim().split_once('=').expect("a fingerprint").1;
        let line = format!("cloverlift-guard: plan {plan} tls-sha256 {fingerprint}");
        assert!(
            run.console.contains(&line),
            "{cloud}: {line}: {}",
            run.console
        );
        #[cfg(feature = "apply-core")]
        {
            let parsed = cloverlift::apply::boot_report::fingerprint(&run.console, plan)
                .map(|b| cloverlift::apply::boot_report::text(&b));
            assert_eq!(parsed.as_deref(), Some(fingerprint), "{cloud}");
        }
    }
}

/// `to.database_patches: confirm` leaves the dialog to a person: the guard writes no patch
/// property and leaves the administrator's file as it was.
#[test]
fn with_confirm_the_guard_leaves_the_patch_property_to_a_person() {
    if !sandbox_available() {
        return;
    }
    let files = render_edited("aws-prod", OutputFormat::Native, |t| {
        t.replacen("\nto:\n", "\nto:\n  database_patches: confirm\n", 1)
    });
    let script = aws_user_data(&files);
    assert!(script.contains("readonly autoapply=''"), "{script}");
    let before = "datasource.type=JNDI\nhttp.api.enabled=true\n";
    let run = boot_in(
        &script,
        Some(&fragment(OLD_HOST)),
        &[],
        1,
        None,
        &[("clover.properties", before)],
    );
    run.never_started_against_the_old_database();
    let after = std::fs::read_to_string(run.work.path().join("disk/conf/clover.properties"))
        .expect("clover.properties");
    assert_eq!(after, before, "{}", run.console);
}

/// The administrator's clover.properties keeps every other line; an earlier value of the
/// patch property, in either spelling, is replaced, not repeated (Java reads the last one).
#[test]
fn the_guard_sets_the_patch_property_once_and_keeps_the_rest() {
    if !sandbox_available() {
        return;
    }
    let (cloud, script) = guards_by_cloud().remove(0);
    let before = "datasource.type=JNDI\nautoapply_sys_db_patches=6.4\nhttp.api.enabled=true\n";
    let run = boot_in(
        &script,
        Some(&fragment(OLD_HOST)),
        &restored(cloud),
        1,
        None,
        &[("clover.properties", before)],
    );
    let after = std::fs::read_to_string(run.work.path().join("disk/conf/clover.properties"))
        .expect("clover.properties");
    assert_eq!(
        after, "datasource.type=JNDI\nautoapply.sys.db.patches=7.0.1\nhttp.api.enabled=true\n",
        "{}",
        run.console
    );
}

#[test]
fn later_boots_never_stop_an_upgraded_server() {
    if !sandbox_available() {
        return;
    }
    for (cloud, script) in guards_by_cloud() {
        // Boot 1 upgrades; on boot 2 and 3 fstab mounts the disk before cloud-init and, on
        // Google Cloud, Terraform has since dropped the restore marker.
        let env = restored(cloud);
        let first = boot(&script, Some(&fragment(OLD_HOST)), &env, 1);
        assert_eq!(first.starts(), [NEW_HOST], "{cloud}: {}", first.console);
        let work = first.work.path();
        std::fs::remove_file(work.join("state/restored")).ok();
        let before = std::fs::read_to_string(work.join("state/calls")).expect("calls");
        let out = Command::new("unshare")
            .args(["-m", "bash"])
            .arg(root().join("tests/sandbox/boot.sh"))
            .arg("/mnt/user-data")
            .arg(work)
            .arg("3")
            .env("SANDBOX_FSTAB_MOUNTS", "yes")
            .env("SANDBOX_RESTORED_AFTER", "never")
            .output()
            .expect("reboot");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all = std::fs::read_to_string(work.join("state/calls")).expect("calls");
        let calls = all.strip_prefix(before.as_str()).expect("calls only grow");
        let console = std::fs::read_to_string(work.join("state/console")).expect("console");
        for boot in ["1", "2", "3"] {
            let of_boot: Vec<&str> = calls
                .lines()
                .skip_while(|l| *l != format!("{boot} boot"))
                .skip(1)
                .take_while(|l| *l != format!("{boot} end"))
                .collect();
            assert_eq!(
                of_boot,
                [format!("systemd start hosts={NEW_HOST}").as_str()],
                "{cloud} boot {boot}: retired: no hold, no stop, systemd starts clover: {console}"
            );
        }
        assert!(
            !calls.contains("curl"),
            "{cloud}: no wait for a restore already done"
        );
    }
}

#[test]
fn a_data_disk_that_never_mounts_leaves_clover_masked_and_says_why() {
    if !sandbox_available() {
        return;
    }
    for (cloud, script) in guards_by_cloud() {
        let mut env = restored(cloud);
        env.push(("SANDBOX_MOUNT_AFTER", "never"));
        let run = boot(&script, Some(&fragment(OLD_HOST)), &env, 1);
        assert!(run.starts().is_empty(), "{cloud}: {:?}", run.calls);
        assert_eq!(run.phase(1, "per-boot:cloverlift-datasource-guard"), "1");
        assert!(
            run.console
                .contains("FAILED: the data disk never mounted at /var/clover (tried 120 times"),
            "{}",
            run.console
        );
        assert!(
            run.calls
                .iter()
                .any(|c| c.starts_with("systemd start skipped-condition")),
            "{cloud}: systemd skips clover: {:?}",
            run.calls
        );
    }
}

#[test]
fn a_missing_fragment_leaves_clover_masked_and_says_why() {
    if !sandbox_available() {
        return;
    }
    for (cloud, script) in guards_by_cloud() {
        let run = boot(&script, None, &restored(cloud), 1);
        assert!(run.starts().is_empty(), "{cloud}: {:?}", run.calls);
        assert_eq!(run.phase(1, "per-boot:cloverlift-datasource-guard"), "1");
        assert!(
            run.console
                .contains("FAILED: /var/clover/conf/server_fragment.xml is missing"),
            "{}",
            run.console
        );
    }
}

#[test]
fn a_rewrite_that_does_not_take_leaves_clover_masked_and_the_old_host_unused() {
    if !sandbox_available() {
        return;
    }
    // The old host also appears outside the JDBC URL (a validation query naming it): the
    // rewrite cannot prove the old database is gone from the file.
    let tricky = fragment(OLD_HOST).replace(
        "username=",
        &format!("validationQuery=\"select '{OLD_HOST}'\" username="),
    );
    // And a datasource with no PostgreSQL URL at all.
    let foreign = fragment(OLD_HOST).replace("jdbc:postgresql://", "jdbc:oracle:thin:@");
    for (cloud, script) in guards_by_cloud() {
        for (fragment_text, reason) in [
            (&tricky, "still names the old database host"),
            (&foreign, "names no jdbc:postgresql:// database"),
        ] {
            let run = boot(&script, Some(fragment_text), &restored(cloud), 2);
            assert!(run.starts().is_empty(), "{cloud}: {:?}", run.calls);
            assert_eq!(run.phase(1, "per-boot:cloverlift-datasource-guard"), "1");
            assert_eq!(
                run.phase(2, "per-boot:cloverlift-datasource-guard"),
                "1",
                "every boot refuses"
            );
            assert!(run.console.contains(reason), "{cloud}: {}", run.console);
        }
    }
}

#[test]
fn a_clover_started_before_the_guard_is_stopped() {
    if !sandbox_available() {
        return;
    }
    let (_, script) = guards_by_cloud().remove(0);
    let run = boot(
        &script,
        Some(&fragment(OLD_HOST)),
        &[("SANDBOX_ACTIVE_BEFORE_GUARD", "yes")],
        1,
    );
    let calls = run.calls_of(1);
    let at = |c: &str| calls.iter().position(|x| *x == c).expect(c);
    assert!(at("script daemon-reload") < at("script stop"), "{calls:?}");
    assert!(
        run.console.contains("WARNING: clover was already running"),
        "{}",
        run.console
    );
    assert_eq!(run.starts().last().copied(), Some(NEW_HOST));
}

#[test]
fn google_cloud_waits_for_the_restore_boundedly_and_loudly() {
    if !sandbox_available() {
        return;
    }
    let gcp = gcp_terraform_user_data(&render("gcp-prod", OutputFormat::Native));
    let run = boot(
        &gcp,
        Some(&fragment(OLD_HOST)),
        &[("SANDBOX_RESTORED_AFTER", "4")],
        1,
    );
    run.never_started_against_the_old_database();
    assert_eq!(run.starts(), [NEW_HOST]);
    assert_eq!(
        run.calls.iter().filter(|c| c.starts_with("curl ")).count(),
        4
    );
    let never = boot(
        &gcp,
        Some(&fragment(OLD_HOST)),
        &[("SANDBOX_RESTORED_AFTER", "never")],
        1,
    );
    assert!(never.starts().is_empty());
    assert_eq!(never.phase(1, "per-boot:cloverlift-datasource-guard"), "1");
    assert!(
        never
            .console
            .contains("FAILED: the system database was not marked restored within 21600 s"),
        "{}",
        never.console
    );
    assert!(
        never
            .console
            .contains("waiting for the system database restore (300 s")
    );
    let slept: u64 = std::fs::read_to_string(never.work.path().join("state/slept"))
        .expect("slept")
        .lines()
        .map(|l| l.parse::<u64>().expect("seconds"))
        .sum();
    assert_eq!(slept, 21600, "the wait is bounded");
    // The datasource was rewritten before the wait, so a retry after the restore needs no
    // second rewrite; clover stays stopped until then.
    assert_eq!(never.fragment.as_deref(), Some(fragment(NEW_HOST).as_str()));
}

/// On Google Cloud, an image without cloud-init never runs the guard: the startup script then
/// stops clover loudly; with cloud-init it stays out of the way, on every boot.
#[test]
fn google_cloud_stops_clover_when_the_guard_never_ran() {
    if !sandbox_available() {
        return;
    }
    let files = render("gcp-prod", OutputFormat::Native);
    let guard = gcp_terraform_user_data(&files);
    let startup = gcp_startup_script(&files);
    // No cloud-init: systemd starts clover (against the old database: the damage this limits),
    // then the guest agent's startup script stops it and says why.
    let run = boot_with_startup(&guard, &startup, &[("SANDBOX_NO_CLOUD_INIT", "yes")], 1);
    assert_eq!(run.phase(1, "startup-script"), "1");
    assert!(
        run.console.contains("the boot guard never ran"),
        "{}",
        run.console
    );
    let calls = run.calls_of(1);
    assert_eq!(calls.last().copied(), Some("script stop"), "{calls:?}");
    // With cloud-init: the guard holds and then starts clover; the startup script does nothing.
    let run = boot_with_startup(&guard, &startup, &[("SANDBOX_RESTORED_AFTER", "1")], 2);
    assert_eq!(run.phase(1, "startup-script"), "0", "{}", run.console);
    assert_eq!(run.phase(2, "startup-script"), "0", "{}", run.console);
    assert!(
        !run.calls.iter().any(|c| c.ends_with(" stop")),
        "{:?}",
        run.calls
    );
    run.never_started_against_the_old_database();
}

#[test]
fn a_guard_that_cannot_hold_clover_masks_it_and_fails() {
    if !sandbox_available() {
        return;
    }
    let (_, script) = guards_by_cloud().remove(0);
    let run = boot(
        &script,
        Some(&fragment(OLD_HOST)),
        &[("SANDBOX_FAIL", "daemon-reload")],
        1,
    );
    run.never_started_against_the_old_database();
    assert!(run.starts().is_empty(), "{:?}", run.calls);
    assert_eq!(run.phase(1, "boothook"), "1");
    assert!(
        run.calls.contains(&"script mask".to_owned()),
        "{:?}",
        run.calls
    );
    assert!(
        run.calls
            .contains(&"systemd start refused-masked".to_owned()),
        "{:?}",
        run.calls
    );
    assert!(
        run.console
            .contains("FAILED: could not make systemd hold clover"),
        "{}",
        run.console
    );
}

#[test]
fn a_deployment_that_lost_the_database_address_holds_clover() {
    if !sandbox_available() {
        return;
    }
    // The address never filled in (a broken template override): the guard still holds first.
    let files = render("aws-prod", OutputFormat::Native);
    let script = files["boot-guard.sh"].replace(cloverlift::render::boot::DB_HOST_MARKER, "");
    let run = boot(&script, Some(&fragment(OLD_HOST)), &[], 1);
    assert!(run.starts().is_empty(), "{:?}", run.calls);
    assert_eq!(run.phase(1, "boothook"), "1");
    assert_eq!(
        run.calls_of(1).first().copied(),
        Some("script daemon-reload")
    );
    assert!(
        run.console.contains("is not a host name or IPv4 address"),
        "{}",
        run.console
    );
}

#[test]
fn several_hosts_in_one_url_are_refused_and_similar_hosts_are_not_confused() {
    if !sandbox_available() {
        return;
    }
    let (_, script) = guards_by_cloud().remove(0);
    let multi = fragment(OLD_HOST).replace(
        &format!("{OLD_HOST}:5432"),
        &format!("{OLD_HOST}:5432,standby.example.internal:5432"),
    );
    let run = boot(&script, Some(&multi), &[], 1);
    assert!(run.starts().is_empty(), "{:?}", run.calls);
    assert!(
        run.console
            .contains("names several hosts in one jdbc:postgresql URL"),
        "{}",
        run.console
    );
    // The old host is a prefix of the new one: that is no trace of the old host.
    let similar = script.replace(&format!("'{NEW_HOST}'"), "'10.0.0.50'");
    let run = boot(&similar, Some(&fragment("10.0.0.5")), &[], 1);
    assert_eq!(run.starts(), ["10.0.0.50"], "{}", run.console);
}

#[test]
fn a_retired_guard_leaves_a_later_datasource_change_alone() {
    if !sandbox_available() {
        return;
    }
    let (_, script) = guards_by_cloud().remove(0);
    let first = boot(&script, Some(&fragment(OLD_HOST)), &[], 1);
    assert_eq!(first.starts(), [NEW_HOST]);
    // An administrator points the server at a recovered database later.
    let conf = first.work.path().join("disk/conf/server_fragment.xml");
    std::fs::write(&conf, fragment("dr-db.example.internal")).expect("edit");
    for fstab in ["yes", "no"] {
        let out = Command::new("unshare")
            .args(["-m", "bash"])
            .arg(root().join("tests/sandbox/boot.sh"))
            .arg("/mnt/user-data")
            .arg(first.work.path())
            .arg("1")
            .env("SANDBOX_FSTAB_MOUNTS", fstab)
            .output()
            .expect("reboot");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read_to_string(&conf).expect("fragment"),
            fragment("dr-db.example.internal"),
            "fstab {fstab}: the guard does not rewrite a retired upgrade's datasource"
        );
    }
    let calls = std::fs::read_to_string(first.work.path().join("state/calls")).expect("calls");
    assert_eq!(
        calls.matches("start hosts=dr-db.example.internal").count(),
        2,
        "clover starts on both boots: {calls}"
    );
}

// ---------------------------------------------------------------------------------------------
// War sandbox

const OLD_WAR: &[u8] = b"PK old clover.war 7.0.0";
const NEW_WAR: &[u8] = b"PK new clover.war 7.0.1";
const OLDER_WAR: &[u8] = b"PK older clover.war 6.4.2";
const NEXT_WAR: &[u8] = b"PK next clover.war 7.0.2";
const LEFTOVER: &str = "clover.war.before-prod-eu-6";
/// A SAS-style signed URL: `&`, `%`, `=` and `:` that an unquoted shell word would break.
const SIGNED: &str = "https://127.0.0.1/files/clover.war?sv=2024-11-04&se=2026-12-01T10%3A00%3A00Z&sr=b&sp=r&sig=Ab%2Bc%2Fd%3D";

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Clone, Copy)]
enum Invoker {
    /// `war-upgrade.sh ACTION URL SHA256`, as the script's header says.
    Person,
    /// The SSM agent: the document's lines in `_script.sh`, run with `sh -c` (dash).
    SsmAgent,
    /// Azure's run-command handler: named and protected parameters exported, the script run
    /// with `/bin/bash -c`.
    AzureHandler,
}

struct War {
    results: Vec<String>,
    webapps: BTreeMap<String, String>,
    output: String,
    requests: String,
    calls: String,
}

/// Where `replace` keeps the WAR it found: per plan (aws-war for a person and SSM, azure-war
/// for the Azure handler).
fn backup_of(invoker: Invoker) -> &'static str {
    match invoker {
        Invoker::AzureHandler => "clover.war.before-prod-westeurope-war",
        Invoker::Person | Invoker::SsmAgent => "clover.war.before-prod-eu-war",
    }
}

/// A sandboxed server's work dir: webapps with the old WAR (and an older upgrade's leftover
/// backup), and the WARs the HTTPS server offers.
fn war_work() -> tempfile::TempDir {
    let work = tempfile::tempdir().expect("tempdir");
    let w = work.path();
    std::fs::create_dir_all(w.join("webapps-initial/clover/WEB-INF")).expect("webapps");
    std::fs::write(w.join("webapps-initial/clover.war"), OLD_WAR).expect("old war");
    // What an earlier upgrade (6.x to 7.0.0) left behind: never this plan's rollback.
    std::fs::write(w.join(format!("webapps-initial/{LEFTOVER}")), OLDER_WAR).expect("leftover");
    std::fs::create_dir_all(w.join("www/files")).expect("www");
    std::fs::write(w.join("www/files/clover.war"), NEW_WAR).expect("new war");
    std::fs::write(w.join("www/files/clover-next.war"), NEXT_WAR).expect("next war");
    work
}

fn war(invoker: Invoker, steps: &[(&str, &str, &str)], health_fails: u32) -> War {
    let work = war_work();
    let w = work.path();
    let aws = render("aws-war", OutputFormat::Native);
    let azure = render("azure-war", OutputFormat::Native);
    std::fs::write(w.join("war-upgrade.sh"), &aws["war-upgrade.sh"]).expect("script");
    for (i, (action, url, digest)) in steps.iter().enumerate() {
        let dir = w.join(format!("invocations/{i:02}"));
        std::fs::create_dir_all(&dir).expect("invocation");
        let inside = PathBuf::from("/mnt").join(format!("invocations/{i:02}"));
        let (argv, env): (Vec<String>, Vec<String>) = match invoker {
            Invoker::Person => (
                vec![
                    "bash".into(),
                    "/mnt/war-upgrade.sh".into(),
                    (*action).into(),
                    (*url).into(),
                    (*digest).into(),
                ],
                vec![],
            ),
            Invoker::SsmAgent => {
                let body = ssm_body(
                    &aws,
                    &[("action", action), ("warUrl", url), ("warSha256", digest)],
                );
                write_mode(&dir.join("_script.sh"), &body, 0o700);
                (
                    vec![
                        "dash".into(),
                        "-c".into(),
                        inside.join("_script.sh").display().to_string(),
                    ],
                    vec![],
                )
            }
            Invoker::AzureHandler => {
                let (script, params) = azure_run_command(&azure);
                write_mode(&dir.join("script.sh"), &script, 0o500);
                let template: serde_json::Value =
                    serde_json::from_str(&azure["azuredeploy.json"]).expect("JSON");
                let allowed = template["parameters"]["action"]["allowedValues"]
                    .as_array()
                    .expect("allowed actions");
                assert!(
                    allowed.iter().any(|a| a == action),
                    "ARM refuses action={action}: not in {allowed:?}"
                );
                let value = |expr: &str| match expr {
                    "[parameters('action')]" => (*action).to_owned(),
                    "[parameters('warUrl')]" => (*url).to_owned(),
                    "[parameters('warSha256')]" => (*digest).to_owned(),
                    other => panic!("unexpected run command parameter {other}"),
                };
                let mut env = Vec::new();
                let mut args = String::new();
                for (name, expr) in params {
                    let v = value(&expr);
                    // The handler skips empty values; unnamed ones are appended unquoted.
                    if v.is_empty() {
                        continue;
                    }
                    if name.is_empty() {
                        args.push(' ');
                        args.push_str(&v);
                    } else {
                        env.push(format!("{name}={v}"));
                    }
                }
                let cmd = format!("{}{args}", inside.join("script.sh").display());
                (vec!["/bin/bash".into(), "-c".into(), cmd], env)
            }
        };
        std::fs::write(dir.join("argv"), argv.join("\n") + "\n").expect("argv");
        if !env.is_empty() {
            std::fs::write(dir.join("env"), env.join("\n") + "\n").expect("env");
        }
    }
    run_war_sandbox(w, health_fails)
}

/// Runs WORK/invocations/* on the sandboxed server (tests/sandbox/war.sh).
fn run_war_sandbox(w: &Path, health_fails: u32) -> War {
    let out = Command::new("unshare")
        .args(["-mn", "bash"])
        .arg(root().join("tests/sandbox/war.sh"))
        .arg(w)
        .env("HEALTH_FAILS", health_fails.to_string())
        .output()
        .expect("run the war sandbox");
    assert!(
        out.status.success(),
        "the sandbox itself failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |name: &str| std::fs::read_to_string(w.join(name)).unwrap_or_default();
    let mut webapps = BTreeMap::new();
    for entry in std::fs::read_dir(w.join("webapps-final")).expect("webapps-final") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let value = if entry.path().is_dir() {
            "<dir>".to_owned()
        } else {
            sha(&std::fs::read(entry.path()).expect("file"))
        };
        webapps.insert(name, value);
    }
    War {
        results: read("state/results").lines().map(str::to_owned).collect(),
        webapps,
        output: read("state/output"),
        requests: read("state/requests"),
        calls: read("state/calls"),
    }
}

fn write_mode(path: &Path, text: &str, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).expect("write");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn exits(run: &War) -> Vec<&str> {
    run.results
        .iter()
        .map(|r| r.split_once(" exit=").map_or("?", |(_, e)| e))
        .collect()
}

#[test]
fn war_replace_twice_keeps_the_first_backup_for_every_invoker() {
    if !sandbox_available() {
        return;
    }
    let new = sha(NEW_WAR);
    for invoker in [Invoker::Person, Invoker::SsmAgent, Invoker::AzureHandler] {
        let run = war(
            invoker,
            &[
                ("stop", "", &new),
                ("replace", SIGNED, &new),
                ("replace", SIGNED, &new),
                ("start", "", &new),
            ],
            2,
        );
        assert_eq!(exits(&run), ["0", "0", "0", "0"], "{}", run.output);
        assert_eq!(run.webapps["clover.war"], new);
        assert_eq!(
            run.webapps[backup_of(invoker)],
            sha(OLD_WAR),
            "first backup kept"
        );
        assert!(
            !run.webapps.contains_key("clover"),
            "the old unpacked app is gone"
        );
        assert!(
            run.output.contains("already is the new WAR"),
            "{}",
            run.output
        );
        assert_eq!(
            run.requests
                .matches("GET /files/clover.war?sv=2024-11-04&se=")
                .count(),
            1,
            "the signed URL arrives whole, once: {}",
            run.requests
        );
        assert_eq!(
            run.requests
                .matches("GET /clover/accessibilityTest.jsp")
                .count(),
            3,
            "start polls until the server answers"
        );
        assert!(run.calls.contains("install -o clover"), "{}", run.calls);
    }
}

#[test]
fn a_second_replace_with_another_war_keeps_the_first_backup() {
    if !sandbox_available() {
        return;
    }
    let (new, next) = (sha(NEW_WAR), sha(NEXT_WAR));
    let run = war(
        Invoker::Person,
        &[
            ("replace", SIGNED, &new),
            ("replace", "https://127.0.0.1/files/clover-next.war", &next),
        ],
        0,
    );
    assert_eq!(exits(&run), ["0", "0"], "{}", run.output);
    assert_eq!(run.webapps["clover.war"], next);
    assert_eq!(
        run.webapps[backup_of(Invoker::Person)],
        sha(OLD_WAR),
        "the WAR found before the plan's first replace"
    );
}

#[test]
fn war_with_a_wrong_digest_changes_nothing() {
    if !sandbox_available() {
        return;
    }
    let wrong = sha(b"something else");
    for invoker in [Invoker::Person, Invoker::SsmAgent, Invoker::AzureHandler] {
        let run = war(invoker, &[("replace", SIGNED, &wrong)], 0);
        assert_eq!(exits(&run), ["1"], "{}", run.output);
        assert_eq!(run.webapps["clover.war"], sha(OLD_WAR));
        assert!(!run.webapps.contains_key(backup_of(invoker)));
        assert!(
            run.webapps.contains_key("clover"),
            "the unpacked app is untouched"
        );
        assert!(
            run.output.contains("nothing was replaced"),
            "{}",
            run.output
        );
    }
}

#[test]
fn war_rollback_restores_the_previous_war() {
    if !sandbox_available() {
        return;
    }
    let new = sha(NEW_WAR);
    let run = war(
        Invoker::SsmAgent,
        &[
            ("stop", "", &new),
            ("replace", SIGNED, &new),
            ("rollback", "", &new),
            ("start", "", &new),
        ],
        0,
    );
    assert_eq!(exits(&run), ["0", "0", "0", "0"], "{}", run.output);
    assert_eq!(
        run.webapps["clover.war"],
        sha(OLD_WAR),
        "the WAR this plan replaced, not an earlier upgrade's backup"
    );
    assert_eq!(run.webapps[LEFTOVER], sha(OLDER_WAR), "left alone");
    assert!(!run.webapps.contains_key(backup_of(Invoker::SsmAgent)));
}

// ---------------------------------------------------------------------------------------------
// Google Cloud: war-startup.sh as the old instance's startup script for one boot

/// The instance metadata apply sets for a run, as the metadata server serves it.
fn gcp_run_metadata(run: &str, actions: &str, digest: &str) -> Vec<(&'static str, String)> {
    let files = render("gcp-war", OutputFormat::Native);
    vec![
        ("startup-script", files["war-startup.sh"].clone()),
        ("cloverlift-war-upgrade", files["war-upgrade.sh"].clone()),
        ("cloverlift-war-run", run.to_owned()),
        ("cloverlift-war-actions", actions.to_owned()),
        ("cloverlift-war-url", SIGNED.to_owned()),
        ("cloverlift-war-sha256", digest.to_owned()),
        ("enable-guest-attributes", "TRUE".to_owned()),
        // The instance's own startup script, which the boot runs first.
        (
            "cloverlift-before-startup-script",
            "#!/bin/sh\nsystemctl start clover\n".to_owned(),
        ),
    ]
}

struct GcpBoots {
    run: War,
    /// NAMESPACE/KEY=VALUE, in the order they were written.
    reports: Vec<String>,
}

/// Boots the sandboxed server `boots` times as Compute Engine does: systemd starts the enabled
/// `clover` unit, then Google's guest agent runs the `startup-script` metadata value as a file.
fn gcp_boots(metadata: &[(&str, String)], boots: usize, health_fails: u32) -> GcpBoots {
    let work = war_work();
    let w = work.path();
    std::fs::create_dir_all(w.join("state/metadata")).expect("metadata");
    for (key, value) in metadata {
        std::fs::write(w.join("state/metadata").join(key), value).expect("attribute");
    }
    let startup = metadata
        .iter()
        .find(|(k, _)| *k == "startup-script")
        .map(|(_, v)| v.clone())
        .expect("a startup script");
    std::fs::write(w.join("startup-script"), &startup).expect("startup script");
    for boot in 0..boots {
        let systemd = w.join(format!("invocations/{:02}", boot * 2));
        std::fs::create_dir_all(&systemd).expect("invocation");
        std::fs::write(systemd.join("argv"), "systemctl\nstart\nclover\n").expect("argv");
        std::fs::write(systemd.join("env"), "SANDBOX_CALLER=systemd\n").expect("env");
        let agent = w.join(format!("invocations/{:02}", boot * 2 + 1));
        std::fs::create_dir_all(&agent).expect("invocation");
        // The guest agent writes the script to a file of its own and executes it (a copy made
        // inside the sandbox: no other test's fork can hold it open for writing).
        std::fs::write(
            agent.join("argv"),
            "bash\n-c\ncp /mnt/startup-script /run/startup-script && chmod 0700 /run/startup-script && exec /run/startup-script\n",
        )
        .expect("argv");
    }
    let run = run_war_sandbox(w, health_fails);
    let reports = std::fs::read_to_string(w.join("state/guest-attributes"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    GcpBoots { run, reports }
}

#[test]
fn gcp_war_startup_runs_the_actions_once_after_the_instances_own_script_and_reports_each() {
    if !sandbox_available() {
        return;
    }
    let new = sha(NEW_WAR);
    let boots = gcp_boots(
        &gcp_run_metadata("w18f2a", "stop replace start", &new),
        2,
        2,
    );
    let run = &boots.run;
    assert_eq!(exits(run), ["0", "0", "0", "0"], "{}", run.output);
    assert_eq!(run.webapps["clover.war"], new);
    assert_eq!(
        run.webapps["clover.war.before-prod-europe-west1-war"],
        sha(OLD_WAR),
        "the plan's backup"
    );
    // Reports: the status, then the stderr tail; all within a guest attribute's 256 bytes.
    let keys: Vec<&str> = boots
        .reports
        .iter()
        .map(|r| r.split_once('=').map_or("", |(k, _)| k))
        .collect();
    assert_eq!(
        keys,
        [
            "cloverlift/w18f2a-stop",
            "cloverlift/w18f2a-replace",
            "cloverlift/w18f2a-start",
            "cloverlift/w18f2a-end"
        ],
        "one report per action, once: the second boot runs nothing"
    );
    for report in &boots.reports {
        let value = report.split_once('=').map_or("", |(_, v)| v);
        assert!(value.len() <= 256, "{report}");
    }
    assert!(
        boots.reports[1]
            .starts_with("cloverlift/w18f2a-replace=0 war-upgrade: clover.war replaced by"),
        "{:?}",
        boots.reports
    );
    assert_eq!(boots.reports[3], "cloverlift/w18f2a-end=start 0");
    // In boot order: systemd starts clover, the own script (start: already active), then the
    // run stops, replaces and starts; the second boot only has systemd and the own script.
    let calls: Vec<&str> = run
        .calls
        .lines()
        .filter(|c| {
            c.starts_with("systemd ") || c.starts_with("script ") || c.starts_with("install -o")
        })
        .collect();
    assert_eq!(
        calls,
        [
            "systemd start hosts=none",
            "script start already-active",
            "script stop",
            "install -o clover",
            "script start hosts=none",
            "systemd start already-active",
            "script start already-active",
        ],
        "{}",
        run.output
    );
    assert!(
        run.output.contains("completed on an earlier boot"),
        "{}",
        run.output
    );
    assert!(
        !run.output.contains("sig=Ab"),
        "the signed URL reached the console"
    );
}

#[test]
fn gcp_war_startup_stops_at_a_failed_replace_and_a_start_only_run_starts_clover() {
    if !sandbox_available() {
        return;
    }
    // The digest of another WAR: the download does not match, nothing is replaced.
    let boots = gcp_boots(
        &gcp_run_metadata("w1", "stop replace start", &sha(NEXT_WAR)),
        1,
        0,
    );
    assert_eq!(exits(&boots.run), ["0", "1"], "{}", boots.run.output);
    assert_eq!(boots.run.webapps["clover.war"], sha(OLD_WAR));
    assert_eq!(boots.reports.len(), 3, "{:?}", boots.reports);
    assert_eq!(boots.reports[0], "cloverlift/w1-stop=0");
    assert!(
        boots.reports[1].starts_with("cloverlift/w1-replace=1 ")
            && boots.reports[1].contains("does not match sha256"),
        "{:?}",
        boots.reports
    );
    assert_eq!(boots.reports[2], "cloverlift/w1-end=replace 1");
    assert!(
        boots
            .run
            .calls
            .lines()
            .last()
            .is_some_and(|c| c == "script stop" || c.starts_with("metadata ")),
        "{}",
        boots.run.calls
    );
    // The compensation's run: only start.
    let boots = gcp_boots(&gcp_run_metadata("w2", "start", &sha(NEXT_WAR)), 1, 0);
    assert_eq!(exits(&boots.run), ["0", "0"], "{}", boots.run.output);
    assert_eq!(
        boots.reports,
        [
            "cloverlift/w2-start=0 war-upgrade: the server answers at https://127.0.0.1/clover/accessibilityTest.jsp",
            "cloverlift/w2-end=start 0"
        ]
    );
}

/// Without guest attributes enabled the metadata server refuses the reports: the upgrade
/// itself goes on (apply then times out and says where to look), and no report is faked.
#[test]
fn gcp_war_startup_without_guest_attributes_upgrades_and_says_it_could_not_report() {
    if !sandbox_available() {
        return;
    }
    let mut metadata = gcp_run_metadata("w3", "stop replace start", &sha(NEW_WAR));
    metadata.retain(|(k, _)| *k != "enable-guest-attributes");
    let boots = gcp_boots(&metadata, 1, 0);
    assert_eq!(exits(&boots.run), ["0", "0"], "{}", boots.run.output);
    assert_eq!(boots.run.webapps["clover.war"], sha(NEW_WAR));
    assert!(boots.reports.is_empty());
    assert!(
        boots
            .run
            .output
            .contains("could not report cloverlift/w3-stop")
            || boots.run.output.contains("could not report w3-stop"),
        "{}",
        boots.run.output
    );
}

/// A JNDI resource that jobs use, on a host of its own (issue 31, finding 3).
const DWH: &str = "  <Resource name=\"jdbc/dwh\" auth=\"Container\" type=\"javax.sql.DataSource\"\n    url=\"jdbc:postgresql://dwh.corp.example:5432/warehouse\"/>\n";

/// `fragment(host)` with a second resource `extra` before `</Context>`.
fn fragment_with(host: &str, extra: &str) -> String {
    fragment(host).replace("</Context>\n", &format!("{extra}</Context>\n"))
}

/// Issue 31, findings 1 and 3: the guard repoints the system database only, and wherever
/// CloverDX reads it on the data disk: the fragment's system resource (another resource, one
/// jobs use, is left byte for byte, and refused when it names the old system database's host),
/// and clover.properties' jdbc.url, which overrides the built-in configuration.
#[test]
fn the_guard_repoints_the_system_database_only_and_wherever_clover_reads_it() {
    if !sandbox_available() {
        return;
    }
    let (cloud, script) = guards_by_cloud().remove(0);
    let env = restored(cloud);
    let run = boot_in(
        &script,
        Some(&fragment_with(OLD_HOST, DWH)),
        &env,
        1,
        None,
        &[],
    );
    run.never_started_against_the_old_database();
    assert_eq!(run.starts().len(), 1, "{}", run.console);
    assert_eq!(
        run.fragment.as_deref(),
        Some(fragment_with(NEW_HOST, DWH).as_str()),
        "only jdbc/clover_server changed"
    );

    let shared = DWH.replace("dwh.corp.example", OLD_HOST);
    let run = boot_in(
        &script,
        Some(&fragment_with(OLD_HOST, &shared)),
        &env,
        1,
        None,
        &[],
    );
    assert!(run.starts().is_empty(), "{:?}", run.calls);
    assert!(
        run.console.contains("still names the old database host"),
        "{}",
        run.console
    );

    let properties = format!(
        "datasource.type=JDBC\njdbc.driverClassName=org.postgresql.Driver\njdbc.url=jdbc:postgresql://{OLD_HOST}:5432/clover?ssl=true\njdbc.username=clover\n"
    );
    let run = boot_in(
        &script,
        Some(&fragment(OLD_HOST)),
        &env,
        1,
        None,
        &[("clover.properties", &properties)],
    );
    run.never_started_against_the_old_database();
    assert_eq!(run.starts().len(), 1, "{}", run.console);
    let after = std::fs::read_to_string(run.work.path().join("disk/conf/clover.properties"))
        .expect("clover.properties");
    assert!(
        after.starts_with(&properties.replace(OLD_HOST, NEW_HOST)),
        "jdbc.url rewritten, every other line kept: {after}"
    );
}

/// What the guard cannot read or rewrite safely stops it, with clover held: an encrypted
/// jdbc.url, JDBC without a URL, and JVM options naming the old host (setenv_custom.sh).
#[test]
fn a_datasource_the_guard_cannot_read_keeps_clover_held() {
    if !sandbox_available() {
        return;
    }
    let (cloud, script) = guards_by_cloud().remove(0);
    let env = restored(cloud);
    for (properties, reason) in [
        (
            "datasource.type=JDBC\njdbc.url=enc#AbCdEf0123==\n",
            "encrypted",
        ),
        ("datasource.type=JDBC\n", "without a readable jdbc.url"),
    ] {
        let run = boot_in(
            &script,
            Some(&fragment(OLD_HOST)),
            &env,
            1,
            None,
            &[("clover.properties", properties)],
        );
        assert!(run.starts().is_empty(), "{reason}: {:?}", run.calls);
        assert!(run.console.contains(reason), "{reason}: {}", run.console);
    }
    let setenv = format!(
        "export JAVA_OPTS=\"$JAVA_OPTS -Dclover.jdbc.url=jdbc:postgresql://{OLD_HOST}:5432/clover\"\n"
    );
    let run = boot_in(
        &script,
        Some(&fragment(OLD_HOST)),
        &env,
        1,
        None,
        &[("setenv_custom.sh", &setenv)],
    );
    assert!(run.starts().is_empty(), "{:?}", run.calls);
    assert!(
        run.console
            .contains("setenv_custom.sh still names the old database host"),
        "{}",
        run.console
    );
}
