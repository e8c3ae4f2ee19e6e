//! The new deployment: parameters discovered from the old one, the marketplace terms, a
//! what-if shown before anything is created, then the ARM deployment of the rendered template
//! (incremental mode), followed through the deployment and its operations.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::{AzureProvider, api, arm_error};
use crate::apply::executor::StepContext;
use crate::apply::secrets;

const LONG_WAIT: Duration = Duration::from_secs(6 * 3600);

/// Parameters never written to the journal (they come from secret references).
const UNJOURNALED: &[&str] = &["sshPublicKey"];

impl AzureProvider {
    pub(super) async fn deploy(&self, cx: &StepContext) -> Result<Value, String> {
        let ids = self.ids()?;
        let existing = self
            .arm
            .get(&ids.deployment, api::RESOURCES)
            .await
            .map_err(arm_error("read the deployment"))?;
        if let Some(found) = &existing {
            self.adoptable(found, cx)?;
        }
        match existing.as_ref().and_then(provisioning_state) {
            Some("Succeeded") => {
                // A resumed apply finds the deployment its predecessor finished.
                return Ok(outputs(existing.as_ref().unwrap_or(&Value::Null)));
            }
            Some("Failed" | "Canceled") | None => {
                if existing.is_some() {
                    self.progress(
                        "deploy",
                        "the deployment of an earlier run did not succeed; deploying again (incremental)",
                    );
                }
                self.start_deployment(cx).await?;
            }
            Some(state) => self.progress("deploy", format!("the deployment is {state}; waiting")),
        }
        let deployment = self.wait_deployment().await?;
        Ok(outputs(&deployment))
    }

    /// A deployment of this name is taken as this run's only when this plan's journal started
    /// it and it was made from this run's snapshot and restore point: the name alone could be
    /// the old deployment's, or a rolled-back attempt's built from older data.
    fn adoptable(&self, found: &Value, cx: &StepContext) -> Result<(), String> {
        let name = self.deployment_name();
        let ours = cx
            .earlier_notes
            .iter()
            .any(|n| n["deployment"].as_str().is_some());
        if !ours {
            return Err(format!(
                "a deployment named {name} already exists in the new resource group, and this \
                 plan's journal did not start it (it may be the old deployment's, or a \
                 rolled-back attempt's); delete it or give the plan another name"
            ));
        }
        let sent = &found["properties"]["parameters"];
        for (parameter, step, key) in [
            ("dataSnapshotId", "snapshot-data", "snapshot"),
            ("restorePointInTime", "snapshot-database", "restore_point"),
        ] {
            let now = cx.output(step).and_then(|o| o[key].as_str());
            let then = sent[parameter]["value"].as_str();
            if let (Some(now), Some(then)) = (now, then)
                && now != then
            {
                return Err(format!(
                    "deployment {name} was made with {parameter} {then}, not this run's {now}; \
                     delete it (its resources hold older data) or give the plan another name"
                ));
            }
        }
        Ok(())
    }

    async fn start_deployment(&self, cx: &StepContext) -> Result<(), String> {
        let ids = self.ids()?;
        if self.accept_marketplace_terms {
            self.accept_terms().await?;
        }
        let parameters = self.parameters(cx).await?;
        let journaled: Map<String, Value> = parameters
            .iter()
            .filter(|(k, _)| !UNJOURNALED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        cx.note(json!({ "deployment": ids.deployment, "parameters": journaled }))?;
        let body = json!({
            "properties": {
                "mode": "Incremental",
                "template": self.template,
                "parameters": parameters,
            },
            "tags": { "cloverlift-plan": self.spec.name.as_str() },
        });
        let what_if = self
            .arm
            .post(
                &format!("{}/whatIf", ids.deployment),
                api::RESOURCES,
                Some(&json!({ "properties": body["properties"] })),
            )
            .await
            .map_err(arm_error("deployment what-if"))?;
        for change in what_if["properties"]["changes"]
            .as_array()
            .into_iter()
            .flatten()
        {
            self.progress(
                "deploy",
                format!(
                    "what-if: {} {}",
                    change["changeType"].as_str().unwrap_or("?"),
                    short_id(change["resourceId"].as_str().unwrap_or("?"))
                ),
            );
        }
        self.arm
            .put_started(&ids.deployment, api::RESOURCES, &body)
            .await
            .map_err(arm_error("create the deployment"))?;
        Ok(())
    }

    /// The template's parameters: the rendered file's, then what only the running deployment
    /// and the earlier steps know. Only parameters the template declares are sent.
    async fn parameters(&self, cx: &StepContext) -> Result<Map<String, Value>, String> {
        let to = self.to()?;
        let mut p = self.known_parameters.clone();
        let mut set = |name: &str, value: Value| {
            p.insert(name.to_owned(), json!({ "value": value }));
        };
        if let Some(id) = cx
            .output("snapshot-data")
            .and_then(|o| o["snapshot"].as_str())
        {
            set("dataSnapshotId", json!(id));
        }
        if let Some(point) = cx
            .output("snapshot-database")
            .and_then(|o| o["restore_point"].as_str())
        {
            set("restorePointInTime", json!(point));
        }
        let key = secrets::resolve(&to.ssh_public_key, &self.spec_dir).await?;
        set("sshPublicKey", json!(key.text()?.trim()));
        let network = self.old_postgres_network().await?;
        set("postgresDelegatedSubnetId", json!(network.0));
        set("postgresPrivateDnsZoneId", json!(network.1));
        if !p.contains_key("allowedSourceAddressPrefix") {
            let source = self.https_source().await?;
            p.insert(
                "allowedSourceAddressPrefix".into(),
                json!({ "value": source }),
            );
        }
        let declared = self.template["parameters"].as_object();
        p.retain(|k, _| declared.is_some_and(|d| d.contains_key(k)));
        Ok(p)
    }

    /// The old server's `network` block: the delegated subnet and private DNS zone the
    /// restored server joins (a point-in-time restore copies them, as the Azure CLI does).
    pub(super) async fn old_postgres_network(&self) -> Result<(String, String), String> {
        let ids = self.ids()?;
        let server = self
            .arm
            .read(&ids.postgres, api::POSTGRES)
            .await
            .map_err(arm_error("PostgreSQL flexible server"))?;
        let network = &server["properties"]["network"];
        let subnet = network["delegatedSubnetResourceId"].as_str().unwrap_or("");
        if subnet.is_empty() {
            return Err(format!(
                "{} has no delegated subnet (public access); the template restores into the old \
                 server's private network, so the old server must have one",
                ids.postgres
            ));
        }
        let zone = network["privateDnsZoneArmResourceId"]
            .as_str()
            .unwrap_or("");
        Ok((subnet.to_owned(), zone.to_owned()))
    }

    /// `PUT` the image's marketplace agreement with `accepted: true` unless it already is.
    async fn accept_terms(&self) -> Result<(), String> {
        let path = self.terms_path()?;
        let mut agreement = self
            .arm
            .read(&path, api::MARKETPLACE)
            .await
            .map_err(arm_error("read the marketplace terms"))?;
        if agreement["properties"]["accepted"] == json!(true) {
            return Ok(());
        }
        agreement["properties"]["accepted"] = json!(true);
        self.arm
            .put(&path, api::MARKETPLACE, &agreement)
            .await
            .map_err(arm_error("accept the marketplace terms"))?;
        self.progress("deploy", "accepted the image's marketplace terms");
        Ok(())
    }

    pub(super) fn terms_path(&self) -> Result<String, String> {
        let from = self.from()?;
        let image = &self.to()?.image;
        Ok(format!(
            "/subscriptions/{}/providers/Microsoft.MarketplaceOrdering/offerTypes/virtualmachine/publishers/{}/offers/{}/plans/{}/agreements/current",
            from.subscription, image.publisher, image.offer, image.sku
        ))
    }

    /// Polls the deployment until it ends, reporting each operation's new state; a failed
    /// deployment is reported by the resource that failed, with ARM's code and message.
    async fn wait_deployment(&self) -> Result<Value, String> {
        let ids = self.ids()?;
        let started = Instant::now();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        loop {
            let deployment = self
                .arm
                .read(&ids.deployment, api::RESOURCES)
                .await
                .map_err(arm_error("read the deployment"))?;
            let operations = self
                .arm
                .list(
                    &format!(
                        "{}/deployments/{}/operations",
                        ids.new_group,
                        self.deployment_name()
                    ),
                    api::RESOURCES,
                )
                .await
                .map_err(arm_error("list the deployment's operations"))?;
            for op in &operations {
                let line = operation_line(op);
                if seen.insert(line.clone()) {
                    self.progress("deploy", line);
                }
            }
            match provisioning_state(&deployment) {
                Some("Succeeded") => return Ok(deployment),
                Some(state @ ("Failed" | "Canceled")) => {
                    let failing = operations
                        .iter()
                        .find(|op| op["properties"]["provisioningState"] == "Failed")
                        .map(failure_line)
                        .unwrap_or_else(|| {
                            super::arm::ArmError::from_body(200, &deployment["properties"])
                                .to_string()
                        });
                    return Err(format!(
                        "deployment {} ended {state}: {failing}",
                        self.deployment_name()
                    ));
                }
                _ => {}
            }
            if started.elapsed() > LONG_WAIT {
                return Err(format!(
                    "deployment {} did not finish within 6 hours",
                    self.deployment_name()
                ));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// The source the old VM's network security group admits on 443, which the new server's
    /// group admits on 80 and 443 (the NIC's group, else its subnet's).
    pub(super) async fn https_source(&self) -> Result<String, String> {
        let ids = self.ids()?;
        let vm = self
            .arm
            .read(&ids.vm, api::COMPUTE)
            .await
            .map_err(arm_error("the old VM"))?;
        let nic_id = primary_nic(&vm).ok_or("the old VM has no network interface")?;
        let nic = self
            .arm
            .read(&nic_id, api::NETWORK)
            .await
            .map_err(arm_error("the old VM's network interface"))?;
        let mut nsg = nic["properties"]["networkSecurityGroup"]["id"]
            .as_str()
            .map(str::to_owned);
        if nsg.is_none() {
            let subnet = nic["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if !subnet.is_empty() {
                let subnet = self
                    .arm
                    .read(&subnet, api::NETWORK)
                    .await
                    .map_err(arm_error("the old VM's subnet"))?;
                nsg = subnet["properties"]["networkSecurityGroup"]["id"]
                    .as_str()
                    .map(str::to_owned);
            }
        }
        let nsg = nsg.ok_or(
            "no network security group on the old VM's NIC or subnet; set to.azure.ingress_cidr",
        )?;
        let group = self
            .arm
            .read(&nsg, api::NETWORK)
            .await
            .map_err(arm_error("the old VM's network security group"))?;
        https_sources(&group)
    }
}

/// The one source an NSG admits inbound on TCP 443.
fn https_sources(group: &Value) -> Result<String, String> {
    let mut sources: BTreeSet<String> = BTreeSet::new();
    for rule in group["properties"]["securityRules"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let p = &rule["properties"];
        let inbound_allow = p["direction"] == "Inbound" && p["access"] == "Allow";
        let tcp = matches!(p["protocol"].as_str(), Some("Tcp" | "*"));
        let ports: Vec<&str> = std::iter::once(p["destinationPortRange"].as_str())
            .flatten()
            .chain(
                p["destinationPortRanges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str),
            )
            .collect();
        if !(inbound_allow && tcp && ports.iter().any(|r| covers_443(r))) {
            continue;
        }
        sources.extend(
            std::iter::once(p["sourceAddressPrefix"].as_str())
                .flatten()
                .chain(
                    p["sourceAddressPrefixes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str),
                )
                .map(str::to_owned),
        );
    }
    let name = group["name"].as_str().unwrap_or("the old VM's group");
    match sources.len() {
        1 => Ok(sources.into_iter().next().unwrap_or_default()),
        0 => Err(format!(
            "{name} admits nothing on TCP 443; set to.azure.ingress_cidr"
        )),
        _ => Err(format!(
            "{name} admits several sources on TCP 443 ({}); set to.azure.ingress_cidr to the one the new server should admit",
            sources.into_iter().collect::<Vec<_>>().join(", ")
        )),
    }
}

fn covers_443(range: &str) -> bool {
    if range == "*" {
        return true;
    }
    match range.split_once('-') {
        Some((a, b)) => {
            matches!((a.parse::<u16>(), b.parse::<u16>()), (Ok(a), Ok(b)) if a <= 443 && 443 <= b)
        }
        None => range == "443",
    }
}

pub(super) fn primary_nic(vm: &Value) -> Option<String> {
    let nics = vm["properties"]["networkProfile"]["networkInterfaces"].as_array()?;
    nics.iter()
        .find(|n| n["properties"]["primary"] == json!(true))
        .or_else(|| nics.first())
        .and_then(|n| n["id"].as_str())
        .map(str::to_owned)
}

fn provisioning_state(deployment: &Value) -> Option<&str> {
    deployment["properties"]["provisioningState"].as_str()
}

/// The deployment's outputs, by name, with its id.
fn outputs(deployment: &Value) -> Value {
    let mut out = Map::new();
    out.insert("deploymentId".into(), deployment["id"].clone());
    for (name, output) in deployment["properties"]["outputs"]
        .as_object()
        .into_iter()
        .flatten()
    {
        out.insert(name.clone(), output["value"].clone());
    }
    Value::Object(out)
}

fn target(op: &Value) -> String {
    let t = &op["properties"]["targetResource"];
    format!(
        "{} {}",
        t["resourceType"].as_str().unwrap_or("?"),
        t["resourceName"].as_str().unwrap_or("?")
    )
}

fn operation_line(op: &Value) -> String {
    format!(
        "{} {}",
        target(op),
        op["properties"]["provisioningState"]
            .as_str()
            .unwrap_or("?")
    )
}

fn failure_line(op: &Value) -> String {
    let status = &op["properties"]["statusMessage"];
    let error = if status["error"].is_object() {
        &status["error"]
    } else {
        status
    };
    let e = super::arm::ArmError::from_body(0, &json!({ "error": error }));
    format!("{}: {}: {}", target(op), e.code, e.message)
}

/// `Microsoft.Compute/virtualMachines/x` from a full resource id.
fn short_id(id: &str) -> &str {
    id.find("/providers/")
        .map_or(id, |i| &id[i + "/providers/".len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_https_source_is_the_one_inbound_allow_on_443() {
        let group = json!({ "name": "nsg", "properties": { "securityRules": [
            { "properties": { "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                "destinationPortRange": "443", "sourceAddressPrefix": "203.0.113.0/24" } },
            { "properties": { "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                "destinationPortRange": "22", "sourceAddressPrefix": "10.0.0.0/8" } },
            { "properties": { "direction": "Inbound", "access": "Deny", "protocol": "*",
                "destinationPortRange": "*", "sourceAddressPrefix": "*" } },
        ] } });
        assert_eq!(https_sources(&group).as_deref(), Ok("203.0.113.0/24"));
    }

    #[test]
    fn two_sources_on_443_are_refused_with_their_names() {
        let group = json!({ "name": "nsg", "properties": { "securityRules": [
            { "properties": { "direction": "Inbound", "access": "Allow", "protocol": "*",
                "destinationPortRanges": ["80", "400-500"], "sourceAddressPrefixes": ["198.51.100.7/32", "Internet"] } },
        ] } });
        let err = https_sources(&group).expect_err("ambiguous");
        assert!(err.contains("198.51.100.7/32, Internet"), "{err}");
    }
}
