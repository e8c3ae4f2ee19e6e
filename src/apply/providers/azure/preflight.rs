//! Azure's part of the preflight: the credentials, then every resource the spec names, in the
//! state the run needs, with GETs only. Each problem names the spec field or the command that
//! fixes it.

use serde_json::Value;

use super::credential::ARM_SCOPE;
use super::{AzureProvider, api, same_id};
use crate::apply::preflight::Report;
use crate::spec::model::Strategy;

impl AzureProvider {
    pub(super) async fn preflight(&self) -> Report {
        let mut report = Report::default();
        match self.arm.credentials().token(ARM_SCOPE).await {
            Ok(_) => report.ok(format!(
                "Azure credentials: {}",
                self.arm.credentials().chosen_name().unwrap_or("?")
            )),
            Err(e) => {
                // Every other call would fail the same way.
                report.problem(e);
                return report;
            }
        }
        let Ok(ids) = self.ids() else {
            report.problem("the spec has no from.azure block");
            return report;
        };
        self.old_vm(&ids.vm, &ids.disk, &mut report).await;
        self.exists(&ids.disk, api::DISKS, "from.azure.data_disk", &mut report)
            .await;
        self.old_postgres(&ids.postgres, &mut report).await;
        if self.spec.steps.move_address {
            match &ids.public_ip {
                Some(ip) => {
                    self.old_address(ip, &ids.vm, &ids.new_group, &mut report)
                        .await
                }
                None => report.problem("steps.move_address needs from.azure.public_ip"),
            }
        }
        let group = ids.new_group.clone();
        self.exists(
            &group,
            api::RESOURCES,
            "to.azure.resource_group (create it first)",
            &mut report,
        )
        .await;
        if let Ok(to) = self.to() {
            self.exists(
                to.subnet_id.as_str(),
                api::NETWORK,
                "to.azure.subnet_id",
                &mut report,
            )
            .await;
        }
        if let Some(id) = self
            .known_parameters
            .get("dataSnapshotId")
            .and_then(|p| p["value"].as_str())
        {
            self.exists(id, api::DISKS, "snapshots.data", &mut report)
                .await;
        }
        if self.spec.strategy == Strategy::War {
            self.war_source(&mut report);
            return report;
        }
        self.marketplace_terms(&mut report).await;
        if !self
            .known_parameters
            .contains_key("allowedSourceAddressPrefix")
        {
            match self.https_source().await {
                Ok(source) => report.ok(format!(
                    "the new server's group will admit {source} on 80 and 443, as the old VM's does on 443"
                )),
                Err(e) => report.problem(e),
            }
        }
        report
    }

    async fn exists(
        &self,
        id: &str,
        api_version: &str,
        field: &str,
        report: &mut Report,
    ) -> Option<Value> {
        match self.arm.get(id, api_version).await {
            Ok(Some(found)) => {
                report.ok(format!("{id} exists"));
                Some(found)
            }
            Ok(None) => {
                report.problem(format!("{id} does not exist (check {field})"));
                None
            }
            Err(e) => {
                report.problem(format!("{id}: {e}"));
                None
            }
        }
    }

    /// The run command downloads the WAR on the VM: it needs an https URL the VM can read.
    fn war_source(&self, report: &mut Report) {
        match self.spec.to.war.as_ref().map(|w| (&w.url, &w.file)) {
            Some((Some(_), _)) => report.ok("the VM downloads the WAR from to.war.url, its sha256 checked"),
            Some((None, Some(file))) => report.problem(format!(
                "to.war.file ({file}) would have to be uploaded where the VM can read it, which apply does not do on Azure: upload it (a blob with a read-only SAS, say) and give its https URL as to.war.url"
            )),
            _ => report.problem("the war strategy needs to.war"),
        }
    }

    /// The old VM exists and has the spec's data disk at LUN 0.
    async fn old_vm(&self, vm: &str, disk: &str, report: &mut Report) {
        let Some(found) = self.exists(vm, api::COMPUTE, "from.azure.vm", report).await else {
            return;
        };
        let lun0 = found["properties"]["storageProfile"]["dataDisks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["lun"] == 0);
        let attached = lun0
            .and_then(|d| d["managedDisk"]["id"].as_str())
            .is_some_and(|id| same_id(id, disk));
        if !attached {
            report.problem(format!(
                "{vm} does not have {disk} at LUN 0 (check from.azure.data_disk: CloverDX's data disk is the first data disk)"
            ));
        }
    }

    async fn old_postgres(&self, id: &str, report: &mut Report) {
        let Some(server) = self
            .exists(id, api::POSTGRES, "from.azure.postgres_server", report)
            .await
        else {
            return;
        };
        let p = &server["properties"];
        report.ok(format!(
            "the system database: PostgreSQL {} ({}, {} GiB), {}",
            p["version"].as_str().unwrap_or("?"),
            server["sku"]["name"].as_str().unwrap_or("?"),
            p["storage"]["storageSizeGB"],
            p["state"].as_str().unwrap_or("?")
        ));
        if p["state"].as_str() != Some("Ready") {
            report.problem(format!(
                "{id} is {}, not Ready: a point-in-time restore needs a running source",
                p["state"].as_str().unwrap_or("in no state")
            ));
        }
        if let Err(e) = self.old_postgres_network().await {
            report.problem(e);
        }
    }

    /// The address exists and is on the old VM's NIC, or where an interrupted move left it:
    /// on no NIC, or already on the new deployment's.
    async fn old_address(&self, ip: &str, vm: &str, new_group: &str, report: &mut Report) {
        let Some(found) = self
            .exists(ip, api::NETWORK, "from.azure.public_ip", report)
            .await
        else {
            return;
        };
        let on = found["properties"]["ipConfiguration"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let nic = self
            .nic_of(vm)
            .await
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !nic.is_empty() && on.starts_with(&format!("{nic}/")) {
            return;
        }
        if on.is_empty() {
            report.warn(format!(
                "{ip} is attached to no NIC: an interrupted move-address leaves it so, and this run attaches it to the new VM"
            ));
        } else if on.starts_with(&format!("{}/", new_group.to_ascii_lowercase())) {
            report.ok(format!("{ip} is already on the new deployment's NIC"));
        } else {
            report.problem(format!(
                "{ip} is not on {vm}'s network interface (it is on {on}); check from.azure.public_ip"
            ));
        }
    }

    /// The image's terms must be accepted in the subscription before a VM can be made from it.
    async fn marketplace_terms(&self, report: &mut Report) {
        let (Ok(path), Ok(from), Ok(to)) = (self.terms_path(), self.from(), self.to()) else {
            return;
        };
        let image = &to.image;
        match self.arm.get(&path, api::MARKETPLACE).await {
            Ok(Some(agreement)) if agreement["properties"]["accepted"] == true => report.ok(format!(
                "the marketplace terms of {}/{}/{} are accepted",
                image.publisher, image.offer, image.sku
            )),
            Ok(_) if self.accept_marketplace_terms => report.ok(format!(
                "the marketplace terms of {}/{}/{} will be accepted before the deployment (--accept-marketplace-terms)",
                image.publisher, image.offer, image.sku
            )),
            Ok(_) => report.problem(format!(
                "the marketplace terms of {p}/{o}/{s} are not accepted in subscription {sub}: run `az vm image terms accept --publisher {p} --offer {o} --plan {s} --subscription {sub}` or pass --accept-marketplace-terms",
                p = image.publisher,
                o = image.offer,
                s = image.sku,
                sub = from.subscription
            )),
            Err(e) => report.problem(format!("the marketplace terms: {e}")),
        }
    }
}
