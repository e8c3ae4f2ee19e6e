//! Azure's part of `cloverlift rollback`: the public IP back on the old VM's NIC, the new VM
//! powered off, and on request the new deployment's compute and network resources deleted.
//! The restored PostgreSQL server and the new data disk are kept: they hold what the new
//! server wrote, and deleting them is the user's decision (the snapshots stay too).

use serde_json::{Value, json};

use super::{AzureProvider, api, arm_error, same_id};

/// Deleted in this order: a NIC cannot go while its VM holds it, nor a group or an address
/// while a NIC names them.
const DELETED_TYPES: &[&str] = &[
    "Microsoft.Compute/virtualMachines",
    "Microsoft.Network/networkInterfaces",
    "Microsoft.Network/networkSecurityGroups",
    "Microsoft.Network/publicIPAddresses",
];

impl AzureProvider {
    pub(super) async fn move_address_back(&self, deploy: &Value) -> Result<Value, String> {
        let ids = self.ids()?;
        let address = ids
            .public_ip
            .clone()
            .ok_or("the spec names no from.azure.public_ip to move back")?;
        let new_vm = deploy["vmId"]
            .as_str()
            .ok_or("the journal has no new VM (deploy's vmId output)")?;
        let old_nic = self.nic_of(&ids.vm).await?;
        let new_nic = self.nic_of(new_vm).await?;
        self.attach(&address, &new_nic, &old_nic, "rollback", false)
            .await?;
        Ok(json!({ "public_ip": address, "nic": old_nic }))
    }

    pub(super) async fn stop_new(&self, deploy: &Value) -> Result<Value, String> {
        let vm = deploy["vmId"]
            .as_str()
            .ok_or("the journal has no new VM (deploy's vmId output)")?;
        self.arm
            .post(&format!("{vm}/powerOff"), api::COMPUTE, None)
            .await
            .map_err(arm_error("power off the new VM"))?;
        Ok(json!({ "vm": vm }))
    }

    pub(super) async fn delete_new(&self) -> Result<Value, String> {
        let ids = self.ids()?;
        let deployment = self
            .arm
            .read(&ids.deployment, api::RESOURCES)
            .await
            .map_err(arm_error("read the deployment"))?;
        let created: Vec<String> = deployment["properties"]["outputResources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r["id"].as_str().map(str::to_owned))
            .collect();
        // Never the old deployment's own resources, whatever the deployment lists.
        let old_nic = self.nic_of(&ids.vm).await.unwrap_or_default();
        let protected: Vec<&str> = [
            Some(ids.vm.as_str()),
            Some(old_nic.as_str()),
            ids.public_ip.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut deleted = Vec::new();
        for kind in DELETED_TYPES {
            let marker = format!("/providers/{kind}/");
            for id in &created {
                let of_kind = id
                    .to_ascii_lowercase()
                    .contains(&marker.to_ascii_lowercase());
                if !of_kind || protected.iter().any(|p| same_id(p, id)) {
                    continue;
                }
                if kind.ends_with("networkInterfaces")
                    && let Some(address) = ids.public_ip.as_deref()
                    && let Ok(nic) = self.arm.read(id, api::NETWORK).await
                    && nic
                        .to_string()
                        .to_ascii_lowercase()
                        .contains(&address.to_ascii_lowercase())
                {
                    return Err(format!(
                        "{id} still holds the old public IP {address}; move it back first \
                         (cloverlift rollback without --delete-new), then delete"
                    ));
                }
                self.arm
                    .delete(id, api_version(kind))
                    .await
                    .map_err(arm_error("delete a new resource"))?;
                deleted.push(id.clone());
            }
        }
        let kept: Vec<&String> = created.iter().filter(|id| !deleted.contains(id)).collect();
        Ok(json!({ "deployment": ids.deployment, "deleted": deleted, "kept": kept }))
    }
}

fn api_version(kind: &str) -> &'static str {
    if kind.starts_with("Microsoft.Compute") {
        api::COMPUTE
    } else {
        api::NETWORK
    }
}
