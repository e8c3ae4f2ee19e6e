//! Rollback on Google Cloud: the new VM stopped (its disks, database and deployment kept), or
//! with `--delete-new` the new VM, its own address and its firewall rules deleted. The restored
//! Cloud SQL instance and the data disk stay: they hold what the new server wrote, and the
//! Cloud SQL instance is deletion-protected by the blueprint.

use serde_json::{Value, json};

use super::clients::{describe, is_not_found};
use super::{GcpProvider, Power};

impl GcpProvider {
    pub(super) async fn stop_new(&self, _deploy: &Value) -> Result<Value, String> {
        let name = self.names.instance.as_str();
        self.power(name, Power::Stop).await?;
        Ok(json!({ "stopped": name }))
    }

    pub(super) async fn delete_new(&self) -> Result<Value, String> {
        let from = self.from()?;
        let (project, zone, region) = (self.project(), from.zone.as_str(), from.region.as_str());
        let mut deleted = Vec::new();
        let name = self.names.instance.clone();
        let started = self
            .clients
            .instances
            .delete()
            .set_project(project)
            .set_zone(zone)
            .set_instance(&name)
            .send()
            .await;
        if gone_or(&started, &mut deleted, &name) {
            self.wait_compute(started, &format!("compute instances.delete {name}"))
                .await?;
        }
        let address = self.names.address.clone();
        let started = self
            .clients
            .addresses
            .delete()
            .set_project(project)
            .set_region(region)
            .set_address(&address)
            .send()
            .await;
        if gone_or(&started, &mut deleted, &address) {
            self.wait_compute(started, &format!("compute addresses.delete {address}"))
                .await?;
        }
        for rule in [&self.names.firewall_web, &self.names.firewall_ssh] {
            let started = self
                .clients
                .firewalls
                .delete()
                .set_project(project)
                .set_firewall(rule.as_str())
                .send()
                .await;
            if gone_or(&started, &mut deleted, rule) {
                self.wait_compute(started, &format!("compute firewalls.delete {rule}"))
                    .await?;
            }
        }
        Ok(json!({
            "deleted": deleted,
            "kept": [self.names.database, self.names.disk, self.deployment()],
        }))
    }
}

/// Records `name` as deleted; false when it was not there (nothing to wait for). A failed
/// call other than 404 is left for the caller, which reports it.
fn gone_or<T>(
    started: &google_cloud_compute_v1::Result<T>,
    deleted: &mut Vec<String>,
    name: &str,
) -> bool {
    match started {
        Err(e) if is_not_found(e) => false,
        Err(e) => {
            tracing::debug!("{}", describe(name, e));
            true
        }
        Ok(_) => {
            deleted.push(name.to_owned());
            true
        }
    }
}
