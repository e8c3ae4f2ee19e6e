//! Azure Resource Manager: the new deployment for the architecture strategy (a managed disk
//! copied from the data disk's snapshot, a point-in-time restore of the PostgreSQL flexible
//! server, NSG, NIC, public IP and the marketplace VM), or a run command that upgrades
//! clover.war in place; each with its deploymentParameters file.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::engine::Engine;
use super::escape::{arm_string, base64};
use super::parameters::Parameters;
use super::{Artifacts, RenderFailure, boot};
use crate::spec::model::{FromAzure, Spec, Strategy, ToAzure};

/// Pinned, generally available API versions per resource provider (ARM template reference).
pub const API_DISKS: &str = "2024-03-02";
pub const API_COMPUTE: &str = "2024-07-01";
pub const API_NETWORK: &str = "2024-05-01";
pub const API_POSTGRES: &str = "2024-08-01";

const PARAMETERS_FILE: (&str, fn(&Parameters) -> String) =
    ("azuredeploy.parameters.json", Parameters::arm_file);

const WAR_STEP_TIMEOUT_SECS: u64 = 1800;

pub fn render(engine: &Engine, spec: &Spec) -> Result<Artifacts, RenderFailure> {
    let missing = |what: &str| RenderFailure::Template {
        name: "azure/azuredeploy.json".into(),
        message: format!("the spec has no `{what}` block"),
    };
    let from = spec
        .from
        .azure
        .as_ref()
        .ok_or_else(|| missing("from.azure"))?;
    match spec.strategy {
        Strategy::Architecture => {
            let to = spec.to.azure.as_ref().ok_or_else(|| missing("to.azure"))?;
            architecture(engine, spec, from, to)
        }
        Strategy::War => war(engine, spec, from),
    }
}

/// The resource group the new deployment goes into.
pub fn target_group<'a>(from: &'a FromAzure, to: &'a ToAzure) -> &'a str {
    to.resource_group
        .as_ref()
        .map_or(from.resource_group.as_str(), |g| g.as_str())
}

/// Azure's pricing tier for a flexible server SKU name (Burstable B-series, memory-optimised
/// E-series, general purpose otherwise).
pub fn postgres_tier(sku: &str) -> &'static str {
    match sku.strip_prefix("Standard_").and_then(|s| s.chars().next()) {
        Some('B') => "Burstable",
        Some('E') => "MemoryOptimized",
        _ => "GeneralPurpose",
    }
}

fn tags(spec: &Spec, extra: &BTreeMap<String, String>) -> Value {
    let mut all: BTreeMap<String, String> = BTreeMap::new();
    all.insert("cloverlift-plan".into(), spec.name.to_string());
    all.insert(
        "cloverlift-from-version".into(),
        spec.from.version.to_string(),
    );
    all.insert("cloverlift-to-version".into(), spec.to.version.to_string());
    all.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
    json!(all)
}

fn metadata(
    spec: &Spec,
    description: String,
    discovered: &[&str],
) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(spec.name));
    m.insert("from_version".into(), json!(spec.from.version));
    m.insert("to_version".into(), json!(spec.to.version));
    m.insert("description".into(), json!(description));
    m.insert("discovered".into(), json!(discovered));
    m.insert(
        "api".into(),
        json!({
            "disks": API_DISKS,
            "compute": API_COMPUTE,
            "network": API_NETWORK,
            "postgres": API_POSTGRES,
        }),
    );
    m
}

fn architecture(
    engine: &Engine,
    spec: &Spec,
    from: &FromAzure,
    to: &ToAzure,
) -> Result<Artifacts, RenderFailure> {
    let group = target_group(from, to);
    let mut p = Parameters::default();
    p.set("location", &from.location);
    p.set("deploymentName", &spec.name);
    p.set("vmSize", &to.vm_size);
    p.set("adminUsername", &to.admin_username);
    p.set("subnetId", &to.subnet_id);
    p.set("imagePublisher", &to.image.publisher);
    p.set("imageOffer", &to.image.offer);
    p.set("imageSku", &to.image.sku);
    p.set("imageVersion", &to.image.version);
    p.set("postgresSkuName", &to.postgres_sku);
    p.set("postgresSkuTier", postgres_tier(to.postgres_sku.as_str()));
    p.set(
        "sourceServerResourceId",
        format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{}",
            from.subscription, from.resource_group, from.postgres_server
        ),
    );
    p.discover(
        "sshPublicKey",
        "to.azure.ssh_public_key, a reference that apply resolves",
    );
    p.discover(
        "postgresDelegatedSubnetId",
        format!(
            "network.delegatedSubnetResourceId of {} (flexibleServers get)",
            from.postgres_server
        ),
    );
    p.discover(
        "postgresPrivateDnsZoneId",
        format!(
            "network.privateDnsZoneArmResourceId of {} (flexibleServers get)",
            from.postgres_server
        ),
    );
    match &to.ingress_cidr {
        Some(cidr) => p.set("allowedSourceAddressPrefix", cidr),
        None => p.discover(
            "allowedSourceAddressPrefix",
            format!(
                "the source the network security group of {} admits on port 443",
                from.vm
            ),
        ),
    }
    match &spec.snapshots {
        Some(s) => {
            // A snapshot given by name lives in the new deployment's resource group, as
            // CloverDX's own upgrade template requires.
            let id = if s.data.starts_with('/') {
                s.data.clone()
            } else {
                format!(
                    "/subscriptions/{}/resourceGroups/{group}/providers/Microsoft.Compute/snapshots/{}",
                    from.subscription, s.data
                )
            };
            p.set("dataSnapshotId", id);
            p.set("restorePointInTime", &s.database);
        }
        None => {
            p.discover(
                "dataSnapshotId",
                "the snapshot taken by the snapshot-data step",
            );
            p.discover(
                "restorePointInTime",
                "the time the snapshot-database step records, inside the pause window",
            );
        }
    }

    let postgres = format!(
        "reference(resourceId('Microsoft.DBforPostgreSQL/flexibleServers', variables('postgresName')), {})",
        arm_string(API_POSTGRES)
    );
    let public_ip = format!(
        "reference(resourceId('Microsoft.Network/publicIPAddresses', variables('publicIpName')), {}).ipAddress",
        arm_string(API_NETWORK)
    );
    let fqdn = format!(
        "reference(resourceId('Microsoft.Network/publicIPAddresses', variables('publicIpName')), {}).dnsSettings.fqdn",
        arm_string(API_NETWORK)
    );
    // The boot guard travels base64-encoded, so no quote or newline of it meets ARM's
    // expression syntax; ARM decodes it, puts the new server's FQDN in and encodes it for
    // cloud-init, which reads custom data as user data.
    let boot = boot::guard_script(engine, spec, boot::Restore::BeforeVm)?;
    let custom_data = format!(
        "[base64(replace(base64ToString({}), {}, {postgres}.fullyQualifiedDomainName))]",
        arm_string(&base64(boot.as_bytes())),
        arm_string(boot::DB_HOST_MARKER),
    );
    let description = format!(
        "CloverDX Server {} next to {} from its snapshots (cloverlift plan {})",
        spec.to.version, spec.from.version, spec.name
    );
    let mut context = metadata(spec, description, &p.discovered_names());
    let extra = json!({
        "tags": tags(spec, &to.tags),
        // The only strings written as ARM expressions: built here from constants and
        // values escaped with `arm_string`.
        "expressions": {
            "custom_data": custom_data,
            "server_url": format!("[format('https://{{0}}/clover', {fqdn})]"),
            "fqdn": format!("[{fqdn}]"),
            "database_fqdn": format!("[{postgres}.fullyQualifiedDomainName]"),
            "public_ip": format!("[{public_ip}]"),
        },
    });
    if let Value::Object(more) = extra {
        context.extend(more);
    }
    let template = engine.render("azure/azuredeploy.json", &Value::Object(context))?;
    Ok(p.into_artifacts(
        [("azuredeploy.json", template), (boot::FILE, boot)],
        PARAMETERS_FILE,
    ))
}

fn war(engine: &Engine, spec: &Spec, from: &FromAzure) -> Result<Artifacts, RenderFailure> {
    let script = super::war::script(engine, spec)?;
    let mut p = Parameters::default();
    p.set("location", &from.location);
    p.set("vmName", &from.vm);
    p.discover(
        "action",
        "set by apply for each of the stop-service, replace-war and start-service steps",
    );
    if let Some(war) = &spec.to.war {
        p.set("warSha256", &war.sha256);
        match &war.url {
            Some(url) => p.set("warUrl", url),
            None => p.discover(
                "warUrl",
                "an https URL the VM can read to.war.file at (a blob with a read-only SAS, say): apply does not upload files, so upload it and give the URL as to.war.url",
            ),
        }
    }
    let description = format!(
        "In-place upgrade of CloverDX Server {} to {} (cloverlift plan {})",
        spec.from.version, spec.to.version, spec.name
    );
    let mut context = metadata(spec, description, &p.discovered_names());
    context.insert("tags".into(), tags(spec, &BTreeMap::new()));
    context.insert("script".into(), json!(script));
    context.insert("timeout_seconds".into(), json!(WAR_STEP_TIMEOUT_SECS));
    let template = engine.render("azure/war-runcommand.json", &Value::Object(context))?;
    Ok(p.into_artifacts(
        [("azuredeploy.json", template), ("war-upgrade.sh", script)],
        PARAMETERS_FILE,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_the_sku_series() {
        assert_eq!(postgres_tier("Standard_B2ms"), "Burstable");
        assert_eq!(postgres_tier("Standard_D2ds_v5"), "GeneralPurpose");
        assert_eq!(postgres_tier("Standard_E4ds_v5"), "MemoryOptimized");
    }
}
