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
        self.attach(&address, &new_nic, &old_nic, "rollback")
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
        let mut deleted = Vec::new();
        for kind in DELETED_TYPES {
            let marker = format!("/providers/{kind}/");
            for id in &created {
                let of_kind = id
                    .to_ascii_lowercase()
                    .contains(&marker.to_ascii_lowercase());
                // The old address may sit on the new NIC if move-back did not run.
                let old_address = ids.public_ip.as_deref().is_some_and(|ip| same_id(ip, id));
                if !of_kind || old_address {
                    continue;
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
