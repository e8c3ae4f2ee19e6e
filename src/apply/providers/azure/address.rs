//! The public IP move: off the old VM's NIC, onto the new VM's, as two NIC updates (Azure
//! attaches a public IP to one IP configuration at a time). Each half reads the NICs first, so
//! a run interrupted between them finds the address where it is and finishes.

use serde_json::{Value, json};

use super::deploy::primary_nic;
use super::{AzureProvider, api, arm_error, same_id};
use crate::apply::executor::StepContext;

impl AzureProvider {
    pub(super) async fn move_address(&self, cx: &StepContext) -> Result<Value, String> {
        let ids = self.ids()?;
        let address = ids
            .public_ip
            .clone()
            .ok_or("move-address needs from.azure.public_ip")?;
        let new_vm = cx
            .output("deploy")
            .and_then(|o| o["vmId"].as_str())
            .ok_or("deploy left no vmId output")?
            .to_owned();
        let old_nic = self.nic_of(&ids.vm).await?;
        let new_nic = self.nic_of(&new_vm).await?;
        // The deployment's own address, noted before anything changes: after the move the new
        // NIC no longer names it.
        let earlier = cx
            .earlier_notes
            .iter()
            .find_map(|n| n["new_own_ip"].as_str().map(str::to_owned));
        let own = match earlier {
            Some(own) => Some(own),
            None => {
                let nic = self.read_nic(&new_nic).await?;
                let own = attached_ip(&nic)
                    .filter(|ip| !same_id(ip, &address))
                    .map(str::to_owned);
                cx.note(json!({ "new_own_ip": own, "old_nic": old_nic, "new_nic": new_nic }))?;
                own
            }
        };
        self.attach(&address, &old_nic, &new_nic, "move-address", true)
            .await?;
        if let Some(own) = &own {
            self.arm
                .delete(own, api::NETWORK)
                .await
                .map_err(arm_error("delete the new deployment's own public IP"))?;
            self.progress("move-address", format!("deleted {}", name(own)));
        }
        // The new server renews its certificate for the address at boot.
        self.arm
            .post(&format!("{new_vm}/restart"), api::COMPUTE, None)
            .await
            .map_err(arm_error("restart the new VM"))?;
        let ip = self
            .arm
            .read(&address, api::NETWORK)
            .await
            .map_err(arm_error("the public IP"))?;
        Ok(json!({
            "public_ip": address,
            "address": ip["properties"]["ipAddress"],
            "from_nic": old_nic,
            "to_nic": new_nic,
            "deleted": own,
        }))
    }

    /// The VM's primary network interface.
    pub(super) async fn nic_of(&self, vm: &str) -> Result<String, String> {
        let vm_body = self
            .arm
            .read(vm, api::COMPUTE)
            .await
            .map_err(arm_error("read the VM"))?;
        primary_nic(&vm_body).ok_or_else(|| format!("{vm} has no network interface"))
    }

    async fn read_nic(&self, nic: &str) -> Result<Value, String> {
        self.arm
            .read(nic, api::NETWORK)
            .await
            .map_err(arm_error("read the network interface"))
    }

    /// Moves `address` from `from_nic` to `to_nic`'s primary IP configuration; each NIC is
    /// changed only when it is not already as wanted. `replace` lets it take the place of
    /// another address there (the new deployment's own), never the old VM's.
    pub(super) async fn attach(
        &self,
        address: &str,
        from_nic: &str,
        to_nic: &str,
        step: &str,
        replace: bool,
    ) -> Result<(), String> {
        let mut from = self.read_nic(from_nic).await?;
        if detach(&mut from, address) {
            self.arm
                .put(from_nic, api::NETWORK, &from)
                .await
                .map_err(arm_error("detach the public IP"))?;
            self.progress(
                step,
                format!("detached {} from {}", name(address), name(from_nic)),
            );
        }
        let mut to = self.read_nic(to_nic).await?;
        if attached_ip(&to).is_some_and(|ip| same_id(ip, address)) {
            return Ok(());
        }
        if let Some(other) = attached_ip(&to)
            && !replace
        {
            return Err(format!(
                "{to_nic} already holds another public IP ({other}); not replacing it"
            ));
        }
        let Some(config) = primary_config(&mut to) else {
            return Err(format!("{to_nic} has no IP configuration"));
        };
        config["properties"]["publicIPAddress"] = json!({ "id": address });
        self.arm.put(to_nic, api::NETWORK, &to).await.map_err(|e| {
            format!(
                "attach the public IP: {e}; {address} is attached to no NIC now: `cloverlift apply --resume` (or rollback) attaches it again"
            )
        })?;
        self.progress(
            step,
            format!("attached {} to {}", name(address), name(to_nic)),
        );
        Ok(())
    }
}

/// The resource's own name, the last segment of its id.
fn name(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Removes `address` from any IP configuration of `nic`; tells whether it was there.
fn detach(nic: &mut Value, address: &str) -> bool {
    let mut changed = false;
    for config in nic["properties"]["ipConfigurations"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        let here = config["properties"]["publicIPAddress"]["id"]
            .as_str()
            .is_some_and(|id| same_id(id, address));
        if here && let Some(p) = config["properties"].as_object_mut() {
            p.remove("publicIPAddress");
            changed = true;
        }
    }
    changed
}

fn primary_config(nic: &mut Value) -> Option<&mut Value> {
    let configs = nic["properties"]["ipConfigurations"].as_array_mut()?;
    let index = configs
        .iter()
        .position(|c| c["properties"]["primary"] == json!(true))
        .unwrap_or(0);
    configs.get_mut(index)
}

/// The public IP on the NIC's primary IP configuration.
fn attached_ip(nic: &Value) -> Option<&str> {
    let configs = nic["properties"]["ipConfigurations"].as_array()?;
    let config = configs
        .iter()
        .find(|c| c["properties"]["primary"] == json!(true))
        .or_else(|| configs.first())?;
    config["properties"]["publicIPAddress"]["id"].as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_removes_only_that_address() {
        let mut nic = json!({ "properties": { "ipConfigurations": [
            { "name": "a", "properties": { "primary": true, "publicIPAddress": { "id": "/X/IP1" } } },
            { "name": "b", "properties": { "publicIPAddress": { "id": "/x/ip2" } } },
        ] } });
        assert!(detach(&mut nic, "/x/ip1"));
        assert!(!detach(&mut nic, "/x/ip1"));
        assert_eq!(attached_ip(&nic), None);
        assert_eq!(
            nic["properties"]["ipConfigurations"][1]["properties"]["publicIPAddress"]["id"],
            "/x/ip2"
        );
    }
}
