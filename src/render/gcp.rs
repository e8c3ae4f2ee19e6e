//! Google Cloud: the new deployment as Terraform JSON (`main.tf.json`) for Infrastructure
//! Manager, or on request as a Deployment Manager config (`deployment.yaml`); Deployment
//! Manager reached end of support on 2026-03-31 and can no longer deploy.
//!
//! CloverDX publishes no Google Cloud offering; this extrapolates its AWS and Azure
//! architecture: a Compute Engine VM from the CloverDX image, the data disk created from a
//! snapshot of the old one, a static external address, firewall rules, and a Cloud SQL for
//! PostgreSQL instance into which the plan's restore-database step restores the backup.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::engine::Engine;
use super::{Artifacts, Discovered, RenderFailure, boot};
use crate::spec::model::{FromGcp, Spec, Strategy, ToGcp};

/// The device name the data disk is attached under (`/dev/disk/by-id/google-clover-data`).
pub const DATA_DEVICE: &str = "clover-data";
/// Google's range for IAP TCP forwarding: SSH reaches the VM only through Identity-Aware Proxy.
pub const IAP_RANGE: &str = "35.235.240.0/20";
/// Instance metadata key the restore-database step sets to `true` once the backup is restored;
/// the boot guard waits for it before starting CloverDX.
pub const RESTORED_KEY: &str = "cloverlift-database-restored";
/// Where the VM reads that key (the metadata server, with `Metadata-Flavor: Google`).
pub const RESTORED_URL: &str = "http://metadata.google.internal/computeMetadata/v1/instance/attributes/cloverlift-database-restored";

/// Which file `render` writes for Google Cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GcpFormat {
    /// `main.tf.json` for Infrastructure Manager.
    #[default]
    Terraform,
    /// `deployment.yaml`, for a Deployment Manager that is past its end of support.
    DeploymentManager,
}

/// The Cloud SQL edition a tier belongs to. PostgreSQL 16 and later default to Enterprise
/// Plus, which refuses the `db-custom-*` tiers, so the edition is always written out.
pub fn sql_edition(tier: &str) -> &'static str {
    if tier.starts_with("db-perf-optimized-") {
        "ENTERPRISE_PLUS"
    } else {
        "ENTERPRISE"
    }
}

/// Resource names of the new deployment.
pub struct Names {
    pub disk: String,
    pub address: String,
    pub firewall_web: String,
    pub firewall_ssh: String,
    /// The egress rule that keeps the new server off the old system database (issue 31).
    pub firewall_old_database: String,
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
            firewall_old_database: format!("{n}-deny-old-db"),
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

/// The rendered startup script that runs war-upgrade.sh on the old instance for apply.
pub const WAR_STARTUP_SCRIPT: &str = "war-startup.sh";
/// How many bytes of an action's stderr war-startup.sh reports in a guest attribute: the
/// exit status and this tail stay well under the 256 bytes a guest attribute's value holds.
pub const WAR_REPORT_TAIL: usize = 200;

/// Terraform reads `${…}` and `%{…}` in every string as template syntax; literal text doubles
/// the introducer.
pub fn terraform_literal(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

pub fn render(engine: &Engine, spec: &Spec, format: GcpFormat) -> Result<Artifacts, RenderFailure> {
    let missing = |what: &str| RenderFailure::Template {
        name: "gcp/main.tf.json".into(),
        message: format!("the spec has no `{what}` block"),
    };
    let from = spec.from.gcp.as_ref().ok_or_else(|| missing("from.gcp"))?;
    match spec.strategy {
        Strategy::Architecture => {
            let to = spec.to.gcp.as_ref().ok_or_else(|| missing("to.gcp"))?;
            architecture(engine, spec, from, to, format)
        }
        Strategy::War => {
            // The war strategy deploys nothing: apply runs war-upgrade.sh on the instance
            // through war-startup.sh, the instance's startup script for one boot (see its
            // header); a person may run war-upgrade.sh by hand instead.
            let mut files = BTreeMap::new();
            files.insert(
                "war-upgrade.sh".to_owned(),
                super::war::script(engine, spec)?,
            );
            files.insert(
                WAR_STARTUP_SCRIPT.to_owned(),
                super::war::gcp_startup(engine, spec)?,
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
    let script = boot::guard_script(engine, spec, boot::Restore::Marker { url: RESTORED_URL })?;
    let fallback = boot::startup_fallback(engine, spec)?;
    let description = format!(
        "CloverDX Server {} next to {} from its snapshots (cloverlift plan {})",
        spec.to.version, spec.from.version, spec.name
    );
    let mut discovered = Vec::new();
    if spec.snapshots.is_none() {
        discovered.push(Discovered {
            parameter: "backupRunId",
            from: "the backup the snapshot-database step takes; restore-database restores it"
                .into(),
        });
    }
    if format == GcpFormat::DeploymentManager {
        deployment_manager_inputs(spec, to)?;
    }
    // What the spec leaves out becomes a Terraform input variable that apply fills in.
    let database_version = match &to.database_version {
        Some(v) => v.to_string(),
        None => {
            discovered.push(Discovered {
                parameter: "database_version",
                from: format!(
                    "the database version of {} (sqladmin instances.get); a backup restores only into its source's version",
                    from.sql_instance
                ),
            });
            "${var.database_version}".to_owned()
        }
    };
    let ingress = match &to.ingress_cidr {
        Some(cidr) => json!([cidr]),
        None => {
            discovered.push(Discovered {
                parameter: "ingress_source_ranges",
                from: format!(
                    "the source ranges the firewall rules of {} admit on port 443 (compute firewalls.list)",
                    from.instance
                ),
            });
            json!("${var.ingress_source_ranges}")
        }
    };
    if format == GcpFormat::Terraform {
        discovered.push(Discovered {
            parameter: "old_database_addresses",
            from: format!(
                "the addresses of {} (sqladmin instances.get), which the new server may never reach on 5432",
                from.sql_instance
            ),
        });
    }
    discovered.sort_by_key(|d| d.parameter);
    let mut context = json!({
        "description": description,
        "names": {
            "disk": names.disk,
            "address": names.address,
            "firewall_web": names.firewall_web,
            "firewall_ssh": names.firewall_ssh,
            "firewall_old_database": names.firewall_old_database,
            "database": names.database,
            "instance": names.instance,
        },
        "project": project,
        "region": region,
        "zone": zone,
        "source_snapshot": snapshot,
        "labels": labels(spec, &to.labels),
        "sql_tier": to.sql_tier,
        "sql_edition": sql_edition(to.sql_tier.as_str()),
        "image": image,
        "network_tag": format!("{}-clover", spec.name),
        "ssh_source_ranges": [IAP_RANGE],
        "data_device": DATA_DEVICE,
        "restored_key": RESTORED_KEY,
    });
    let (template, file, extra) = match format {
        GcpFormat::DeploymentManager => {
            let r = |name: &str, path: &str| format!("$(ref.{name}.{path})");
            let extra = json!({
                "disk_type": format!("zones/{zone}/diskTypes/pd-ssd"),
                "machine_type": format!("zones/{zone}/machineTypes/{}", to.machine_type),
                "network": network_path(to.network.as_str()),
                "subnetwork": subnetwork_path(to.subnetwork.as_str()),
                "database_version": database_version,
                "ingress_source_ranges": ingress,
                "dm_user_data": script.replace(
                    boot::DB_HOST_MARKER,
                    &r(&names.database, "ipAddresses[0].ipAddress"),
                ),
                "dm_startup_script": fallback.replace(
                    boot::DB_HOST_MARKER,
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
                "tf_user_data": terraform_literal(&script).replace(boot::DB_HOST_MARKER, host),
                "tf_startup_script": terraform_literal(&fallback).replace(boot::DB_HOST_MARKER, host),
                "database_version": database_version,
                "ingress_source_ranges": ingress,
                "variables": variables(to),
                "old_address": old_address(spec, from),
                "ignore_changes": [format!("metadata[{}]", serde_json::Value::from(RESTORED_KEY))],
            });
            ("gcp/main.tf.json", "main.tf.json", extra)
        }
    };
    if format == GcpFormat::DeploymentManager {
        // Checked before our own `$(ref.…)` references join the context: they are the only
        // Deployment Manager syntax the config may hold.
        refuse_deployment_manager_syntax(&context)?;
        refuse_deployment_manager_syntax(&json!([&script, &fallback]))?;
        let mut ours = extra.clone();
        if let Value::Object(map) = &mut ours {
            for key in DM_REFERENCES {
                map.remove(*key);
            }
        }
        refuse_deployment_manager_syntax(&ours)?;
    }
    if let (Value::Object(base), Value::Object(more)) = (&mut context, extra) {
        base.extend(more);
    }
    if format == GcpFormat::Terraform {
        escape_terraform(&mut context);
    }
    let text = engine.render(template, &context)?;
    let mut files = BTreeMap::new();
    files.insert(file.to_owned(), text);
    files.insert(boot::FILE.to_owned(), script);
    Ok(Artifacts { files, discovered })
}

/// Deployment Manager has no input variables and cannot read a resource it does not own, so
/// everything apply would discover must be in the spec, and the moved address (which the new
/// database must admit) cannot be looked up.
fn deployment_manager_inputs(spec: &Spec, to: &ToGcp) -> Result<(), RenderFailure> {
    let refuse = |message: &str| {
        Err(RenderFailure::Template {
            name: "gcp/deployment.yaml".into(),
            message: message.into(),
        })
    };
    if to.database_version.is_none() {
        return refuse(
            "Deployment Manager output needs `to.gcp.database_version` (the old Cloud SQL instance's version); or render main.tf.json, the default",
        );
    }
    if to.ingress_cidr.is_none() {
        return refuse(
            "Deployment Manager output needs `to.gcp.ingress_cidr` (who may reach ports 80 and 443); or render main.tf.json, the default",
        );
    }
    if spec.steps.move_address {
        return refuse(
            "Deployment Manager output cannot authorize the moved address on the new database; render main.tf.json, the default",
        );
    }
    Ok(())
}

/// Terraform input variables for what the spec leaves to apply.
fn variables(to: &ToGcp) -> Value {
    let mut vars = serde_json::Map::new();
    // Known only from the old Cloud SQL instance, private and public: the new server's egress
    // rule denies them (the second wall beside the boot guard).
    vars.insert(
        "old_database_addresses".into(),
        json!({
            "type": "list(string)",
            "description": "The old Cloud SQL instance's addresses as /32 networks: the new server may never open a connection to them on 5432.",
        }),
    );
    if to.database_version.is_none() {
        vars.insert(
            "database_version".into(),
            json!({
                "type": "string",
                "description": "The old Cloud SQL instance's database version (e.g. POSTGRES_15); a backup restores only into its source's version.",
            }),
        );
    }
    if to.ingress_cidr.is_none() {
        vars.insert(
            "ingress_source_ranges".into(),
            json!({
                "type": "list(string)",
                "description": "Networks allowed to reach ports 80 and 443 (the old server's firewall rules).",
            }),
        );
    }
    Value::Object(vars)
}

/// The old server's static address, looked up by name when it moves to the new server: the
/// new database must then admit it too.
fn old_address(spec: &Spec, from: &FromGcp) -> Value {
    match (&from.address, spec.steps.move_address) {
        (Some(name), true) => json!({ "name": name, "region": from.region }),
        _ => Value::Null,
    }
}

/// Context keys whose values carry intended interpolations (and are escaped where needed
/// already): the boot script, and the inputs that may be variables.
const INTERPOLATED: [&str; 4] = [
    "tf_user_data",
    "tf_startup_script",
    "database_version",
    "ingress_source_ranges",
];

/// Escapes every string of the Terraform context except [`INTERPOLATED`] ones.
/// Deployment Manager expands `$(ref.…)` references in every config string and has no escape
/// for them; its templates read `{{…}}`/`{%…%}` as Jinja. A value carrying either cannot be
/// written literally, so render refuses it (the Terraform output escapes them instead).
fn refuse_deployment_manager_syntax(value: &Value) -> Result<(), RenderFailure> {
    fn find(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => DM_SYNTAX
                .iter()
                .any(|m| s.contains(m))
                .then_some(s.as_str()),
            Value::Array(items) => items.iter().find_map(find),
            Value::Object(map) => map.iter().find_map(|(k, v)| {
                find(&Value::String(k.clone()))
                    .map(|_| k.as_str())
                    .or_else(|| find(v))
            }),
            _ => None,
        }
    }
    match find(value) {
        None => Ok(()),
        Some(found) => Err(RenderFailure::Template {
            name: "gcp/deployment.yaml".into(),
            message: format!(
                "the value {} contains Deployment Manager reference or Jinja syntax ({}), which \
                 Deployment Manager would evaluate and cannot escape; change the value, or render \
                 main.tf.json (the default), which escapes it",
                serde_json::Value::from(found),
                DM_SYNTAX.join(", ")
            ),
        }),
    }
}

const DM_SYNTAX: &[&str] = &["$(ref.", "{{", "{%"];

/// The Deployment Manager context keys that carry our own references, built from validated names.
const DM_REFERENCES: &[&str] = &["dm_user_data", "dm_startup_script", "refs"];

fn escape_terraform(value: &mut Value) {
    fn walk(v: &mut Value, key: Option<&str>) {
        match v {
            Value::String(s) if !key.is_some_and(|k| INTERPOLATED.contains(&k)) => {
                *s = terraform_literal(s)
            }
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
    fn editions_follow_the_tier() {
        assert_eq!(sql_edition("db-custom-2-7680"), "ENTERPRISE");
        assert_eq!(sql_edition("db-perf-optimized-N-4"), "ENTERPRISE_PLUS");
    }
}
