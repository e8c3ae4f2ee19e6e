//! Google Cloud: the new deployment as a Deployment Manager config (`deployment.yaml`), or as
//! Terraform JSON (`main.tf.json`) for Infrastructure Manager, Deployment Manager's successor.
//!
//! CloverDX publishes no Google Cloud offering; this extrapolates its AWS and Azure
//! architecture: a Compute Engine VM from the CloverDX image, the data disk created from a
//! snapshot of the old one, a static external address, firewall rules, and a Cloud SQL for
//! PostgreSQL instance into which the plan's restore-database step restores the backup.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::engine::{Engine, Syntax};
use super::{Artifacts, Discovered, RenderFailure};
use crate::spec::model::{FromGcp, Spec, Strategy, ToGcp};

/// The device name the data disk is attached under (`/dev/disk/by-id/google-clover-data`).
pub const DATA_DEVICE: &str = "clover-data";
/// Google's range for IAP TCP forwarding: SSH reaches the VM only through Identity-Aware Proxy.
pub const IAP_RANGE: &str = "35.235.240.0/20";
/// The system database's engine when the spec does not say.
pub const DEFAULT_DATABASE_VERSION: &str = "POSTGRES_15";
/// Instance metadata key the restore-database step sets once the backup is restored.
pub const RESTORED_KEY: &str = "cloverlift-database-restored";

/// The VM's startup script: wait for the data disk and for the restore-database step, point
/// the datasource at the new Cloud SQL instance, then start CloverDX. `@DB_HOST@` is replaced
/// by a reference to the instance's address in each format. No `$(` or `${` appears in it,
/// so neither Deployment Manager nor Terraform reads any of it as a reference.
const STARTUP_SCRIPT: &str = r#"#!/bin/bash
set -euo pipefail
systemctl stop clover || true
timeout 600 sh -c 'until mountpoint -q /var/clover; do mount /var/clover 2>/dev/null || sleep 5; done'
restored=http://metadata.google.internal/computeMetadata/v1/instance/attributes/@RESTORED_KEY@
until curl -sf -H 'Metadata-Flavor: Google' "$restored" | grep -qx true; do sleep 30; done
fragment=/var/clover/conf/server_fragment.xml
if [ -f "$fragment" ]; then
  sed -i -E 's#(jdbc:postgresql://)[^/:"]+#\1@DB_HOST@#' "$fragment"
fi
systemctl start clover
"#;

/// Which file `render` writes for Google Cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GcpFormat {
    /// `deployment.yaml`, as SPEC.md fixes it.
    #[default]
    DeploymentManager,
    /// `main.tf.json` for Infrastructure Manager.
    Terraform,
}

/// Resource names of the new deployment.
pub struct Names {
    pub disk: String,
    pub address: String,
    pub firewall_web: String,
    pub firewall_ssh: String,
    pub database: String,
    pub instance: String,
}

impl Names {
    pub fn of(spec: &Spec) -> Names {
        let n = spec.name.as_str();
        Names {
            disk: format!("{n}-data"),
            address: format!("{n}-ip"),
            firewall_web: format!("{n}-web"),
            firewall_ssh: format!("{n}-ssh"),
            database: format!("{n}-db"),
            instance: format!("{n}-vm"),
        }
    }
}

/// The snapshot the data disk is created from: the spec's, or the name the snapshot-data step
/// gives the snapshot it takes (Compute Engine lets the caller name snapshots, so render knows
/// it in advance).
pub fn data_snapshot_name(spec: &Spec) -> String {
    match &spec.snapshots {
        Some(s) => s.data.clone(),
        None => format!(
            "{}-data-{}",
            spec.name,
            spec.to.version.as_str().replace('.', "-")
        ),
    }
}

/// Label values hold lowercase letters, digits, `_` and `-`: versions become `7-0-1`.
fn labels(spec: &Spec, extra: &BTreeMap<String, String>) -> Value {
    let version = |v: &str| v.replace('.', "-");
    let mut all: BTreeMap<String, String> = BTreeMap::new();
    all.insert("cloverlift-plan".into(), spec.name.to_string());
    all.insert(
        "cloverlift-from-version".into(),
        version(spec.from.version.as_str()),
    );
    all.insert(
        "cloverlift-to-version".into(),
        version(spec.to.version.as_str()),
    );
    all.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    json!(all)
}

/// Terraform reads `${…}` and `%{…}` in every string as template syntax; literal text doubles
/// the introducer.
pub fn terraform_literal(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

pub fn render(engine: &Engine, spec: &Spec, format: GcpFormat) -> Result<Artifacts, RenderFailure> {
    let missing = |what: &str| RenderFailure::Template {
        name: "gcp/deployment.yaml".into(),
        message: format!("the spec has no `{what}` block"),
    };
    let from = spec.from.gcp.as_ref().ok_or_else(|| missing("from.gcp"))?;
    match spec.strategy {
        Strategy::Architecture => {
            let to = spec.to.gcp.as_ref().ok_or_else(|| missing("to.gcp"))?;
            architecture(engine, spec, from, to, format)
        }
        Strategy::War => {
            // The war strategy deploys nothing: the script runs on the instance through its
            // guest environment or SSH (see its header), and plan.json orders the steps.
            let mut files = BTreeMap::new();
            files.insert(
                "war-upgrade.sh".to_owned(),
                super::war::script(engine, spec)?,
            );
            Ok(Artifacts {
                files,
                discovered: Vec::new(),
            })
        }
    }
}

fn architecture(
    engine: &Engine,
    spec: &Spec,
    from: &FromGcp,
    to: &ToGcp,
    format: GcpFormat,
) -> Result<Artifacts, RenderFailure> {
    let names = Names::of(spec);
    let (zone, region, project) = (
        from.zone.as_str(),
        from.region.as_str(),
        from.project.as_str(),
    );
    let snapshot = format!(
        "projects/{project}/global/snapshots/{}",
        data_snapshot_name(spec)
    );
    let plain = |v: &str| !v.contains('/');
    let network_path = |n: &str| {
        if plain(n) {
            format!("global/networks/{n}")
        } else {
            n.to_owned()
        }
    };
    let subnetwork_path = |s: &str| {
        if plain(s) {
            format!("regions/{region}/subnetworks/{s}")
        } else {
            s.to_owned()
        }
    };
    let image = if plain(to.image.as_str()) {
        format!("global/images/{}", to.image)
    } else {
        to.image.to_string()
    };
    let database_version = to
        .database_version
        .as_ref()
        .map_or(DEFAULT_DATABASE_VERSION, |v| v.as_str());
    let script = STARTUP_SCRIPT.replace("@RESTORED_KEY@", RESTORED_KEY);
    let description = format!(
        "CloverDX Server {} next to {} from its snapshots (cloverlift plan {})",
        spec.to.version, spec.from.version, spec.name
    );
    let mut context = json!({
        "description": description,
        "names": {
            "disk": names.disk,
            "address": names.address,
            "firewall_web": names.firewall_web,
            "firewall_ssh": names.firewall_ssh,
            "database": names.database,
            "instance": names.instance,
        },
        "project": project,
        "region": region,
        "zone": zone,
        "source_snapshot": snapshot,
        "labels": labels(spec, &to.labels),
        "database_version": database_version,
        "sql_tier": to.sql_tier,
        "image": image,
        "network_tag": format!("{}-clover", spec.name),
        "ssh_source_ranges": [IAP_RANGE],
        "data_device": DATA_DEVICE,
    });
    let (template, file, extra) = match format {
        GcpFormat::DeploymentManager => {
            let r = |name: &str, path: &str| format!("$(ref.{name}.{path})");
            let extra = json!({
                "disk_type": format!("zones/{zone}/diskTypes/pd-ssd"),
                "machine_type": format!("zones/{zone}/machineTypes/{}", to.machine_type),
                "network": network_path(to.network.as_str()),
                "subnetwork": subnetwork_path(to.subnetwork.as_str()),
                "dm_startup_script": script.replace(
                    "@DB_HOST@",
                    &r(&names.database, "ipAddresses[0].ipAddress"),
                ),
                "refs": {
                    "address": r(&names.address, "address"),
                    "disk": r(&names.disk, "selfLink"),
                    "instance": r(&names.instance, "selfLink"),
                    "server_url": format!("https://{}/clover", r(&names.address, "address")),
                    "connection_name": r(&names.database, "connectionName"),
                    "database_address": r(&names.database, "ipAddresses[0].ipAddress"),
                },
            });
            ("gcp/deployment.yaml", "deployment.yaml", extra)
        }
        GcpFormat::Terraform => {
            let host = "${google_sql_database_instance.database.public_ip_address}";
            let extra = json!({
                "machine_type_name": to.machine_type,
                "network": to.network,
                "subnetwork": to.subnetwork,
                "tf_startup_script": terraform_literal(&script).replace("@DB_HOST@", host),
            });
            ("gcp/main.tf.json", "main.tf.json", extra)
        }
    };
    if let (Value::Object(base), Value::Object(more)) = (&mut context, extra) {
        base.extend(more);
    }
    if format == GcpFormat::Terraform {
        escape_terraform(&mut context);
    }
    let text = engine.render(template, Syntax::Json, &context)?;
    let mut files = BTreeMap::new();
    files.insert(file.to_owned(), text);
    let discovered = match &spec.snapshots {
        Some(_) => Vec::new(),
        None => vec![Discovered {
            parameter: "backupRunId",
            from: "the backup the snapshot-database step takes; restore-database restores it"
                .into(),
        }],
    };
    Ok(Artifacts { files, discovered })
}

/// Escapes every string of the Terraform context except the startup script, which is already
/// escaped and carries the one intended interpolation.
fn escape_terraform(value: &mut Value) {
    fn walk(v: &mut Value, key: Option<&str>) {
        match v {
            Value::String(s) if key != Some("tf_startup_script") => *s = terraform_literal(s),
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, None)),
            Value::Object(map) => map.iter_mut().for_each(|(k, i)| walk(i, Some(k))),
            _ => {}
        }
    }
    walk(value, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terraform_template_syntax_is_doubled() {
        assert_eq!(terraform_literal("a ${b} %{c} $d"), "a $${b} %%{c} $d");
    }

    #[test]
    fn the_startup_script_holds_no_reference_syntax() {
        assert!(!STARTUP_SCRIPT.contains("$("));
        assert!(!STARTUP_SCRIPT.contains("${"));
        assert!(!STARTUP_SCRIPT.contains("%{"));
        assert_eq!(STARTUP_SCRIPT.matches("@DB_HOST@").count(), 1);
    }
}
