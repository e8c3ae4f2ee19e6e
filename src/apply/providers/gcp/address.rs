//! move-address: the old server's static external address taken off the old instance's
//! access config and put on the new instance's, in place of the new deployment's own address,
//! which is then released; the new Cloud SQL instance's authorized networks follow. Each call
//! reads the current state first, so a resume after any of them finishes the move.

use google_cloud_compute_v1::model::AccessConfig;
use serde_json::{Value, json};

use super::GcpProvider;
use super::clients::{describe, error, is_not_found};
use super::operations;
use crate::apply::executor::StepContext;

/// The network interface the address sits on (render gives the new VM one interface).
const NIC: &str = "nic0";

/// Which instance an access config change is made on.
#[derive(Clone, Copy)]
enum Side {
    Old,
    New,
}

impl GcpProvider {
    fn instance_name(&self, side: Side) -> Result<&str, String> {
        Ok(match side {
            Side::Old => self.from()?.instance.as_str(),
            Side::New => self.names.instance.as_str(),
        })
    }

    /// The IP of the old server's static address.
    async fn old_address_ip(&self) -> Result<(String, String), String> {
        let from = self.from()?;
        let name = from
            .address
            .as_ref()
            .ok_or("steps.move_address needs from.gcp.address")?
            .as_str();
        let address = self
            .clients
            .addresses
            .get()
            .set_project(self.project())
            .set_region(from.region.as_str())
            .set_address(name)
            .send()
            .await
            .map_err(error(&format!("compute addresses.get {name}")))?;
        let ip = address
            .address
            .clone()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| format!("address {name} has no IP"))?;
        Ok((name.to_owned(), ip))
    }

    pub(super) async fn move_address(&self, _cx: &StepContext) -> Result<Value, String> {
        let (name, ip) = self.old_address_ip().await?;
        self.detach(Side::Old, Some(&ip)).await?;
        self.attach(Side::New, &ip).await?;
        self.authorize_on_new_database(&ip).await?;
        let released = self.release_own_address().await?;
        Ok(json!({
            "address": name,
            "ip": ip,
            "from": self.from()?.instance.as_str(),
            "to": self.names.instance,
            "released": released,
        }))
    }

    /// Rollback: the address back on the old instance.
    pub(super) async fn move_address_back(&self, _deploy: &Value) -> Result<Value, String> {
        let (name, ip) = self.old_address_ip().await?;
        self.detach(Side::New, Some(&ip)).await?;
        self.attach(Side::Old, &ip).await?;
        Ok(json!({ "address": name, "ip": ip, "on": self.from()?.instance.as_str() }))
    }

    /// The access configs of `side`'s first interface, as (name, natIP).
    async fn access_configs(&self, side: Side) -> Result<Vec<(String, String)>, String> {
        let instance = self.instance(self.instance_name(side)?).await?;
        let view = serde_json::to_value(&instance).unwrap_or_default();
        let nic = view["networkInterfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["name"] == NIC)
            .cloned()
            .unwrap_or(Value::Null);
        Ok(nic["accessConfigs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or_default().to_owned(),
                    c["natIP"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect())
    }

    /// Deletes `side`'s access configs: the one holding `ip`, or every one when `ip` is None.
    async fn detach(&self, side: Side, ip: Option<&str>) -> Result<(), String> {
        let instance = self.instance_name(side)?;
        let zone = self.from()?.zone.as_str();
        for (config, nat) in self.access_configs(side).await? {
            if ip.is_some_and(|ip| ip != nat) {
                continue;
            }
            let started = self
                .clients
                .instances
                .delete_access_config()
                .set_project(self.project())
                .set_zone(zone)
                .set_instance(instance)
                .set_access_config(config.clone())
                .set_network_interface(NIC)
                .send()
                .await;
            self.wait_compute(
                started,
                &format!("compute instances.deleteAccessConfig {instance} ({config}, {nat})"),
            )
            .await?;
            self.progress("move-address", format!("{nat} is off {instance}"));
        }
        Ok(())
    }

    /// Puts `ip` on `side`'s first interface; an interface holds one access config, so any
    /// other one (the new deployment's own address) goes first.
    async fn attach(&self, side: Side, ip: &str) -> Result<(), String> {
        let instance = self.instance_name(side)?;
        let zone = self.from()?.zone.as_str();
        let configs = self.access_configs(side).await?;
        if configs.iter().any(|(_, nat)| nat == ip) {
            return Ok(());
        }
        if !configs.is_empty() {
            self.detach(side, None).await?;
        }
        let body: AccessConfig = serde_json::from_value(json!({
            "name": "External NAT",
            "type": "ONE_TO_ONE_NAT",
            "natIP": ip,
            "networkTier": "PREMIUM",
        }))
        .map_err(|e| format!("access config: {e}"))?;
        let started = self
            .clients
            .instances
            .add_access_config()
            .set_project(self.project())
            .set_zone(zone)
            .set_instance(instance)
            .set_network_interface(NIC)
            .set_body(body)
            .send()
            .await;
        self.wait_compute(
            started,
            &format!("compute instances.addAccessConfig {instance} (natIP {ip})"),
        )
        .await?;
        self.progress("move-address", format!("{ip} is on {instance}"));
        Ok(())
    }

    /// The new database admits the moved address and no longer the released one: its
    /// authorized networks become the moved address plus every entry that is neither.
    async fn authorize_on_new_database(&self, ip: &str) -> Result<(), String> {
        let target = self.names.database.as_str();
        let instance = self.sql_instance(target).await?;
        let view = serde_json::to_value(&instance).unwrap_or_default();
        let own = self.own_address_ip().await?;
        let current: Vec<Value> = view["settings"]["ipConfiguration"]["authorizedNetworks"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut wanted: Vec<Value> = current
            .iter()
            .filter(|n| {
                let value = n["value"].as_str().unwrap_or_default();
                value != ip && own.as_deref() != Some(value)
            })
            .cloned()
            .collect();
        wanted.push(json!({ "name": "clover-server", "value": ip, "kind": "sql#aclEntry" }));
        let same = |a: &[Value], b: &[Value]| {
            let key = |v: &[Value]| {
                let mut k: Vec<String> = v
                    .iter()
                    .map(|n| n["value"].as_str().unwrap_or_default().to_owned())
                    .collect();
                k.sort();
                k
            };
            key(a) == key(b)
        };
        if same(&current, &wanted) {
            return Ok(());
        }
        let body: google_cloud_sql_v1::model::DatabaseInstance = serde_json::from_value(json!({
            "settings": { "ipConfiguration": { "authorizedNetworks": wanted } }
        }))
        .map_err(|e| format!("Cloud SQL settings: {e}"))?;
        let op = self
            .clients
            .sql_instances
            .patch()
            .set_project(self.project())
            .set_instance(target)
            .set_body(body)
            .send()
            .await
            .map_err(error(&format!("sqladmin instances.patch {target}")))?;
        operations::sql(
            &self.clients,
            self.project(),
            &op.name,
            self.poll,
            &format!("authorize {ip} on {target}"),
        )
        .await?;
        Ok(())
    }

    /// The IP of the new deployment's own address, while it exists.
    async fn own_address_ip(&self) -> Result<Option<String>, String> {
        let region = self.from()?.region.as_str();
        match self
            .clients
            .addresses
            .get()
            .set_project(self.project())
            .set_region(region)
            .set_address(self.names.address.as_str())
            .send()
            .await
        {
            Ok(a) => Ok(a.address),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(describe(
                &format!("compute addresses.get {}", self.names.address),
                &e,
            )),
        }
    }

    /// Releases the new deployment's own address, now on no instance. Gives its name, or
    /// None when it was released already.
    async fn release_own_address(&self) -> Result<Option<String>, String> {
        if self.own_address_ip().await?.is_none() {
            return Ok(None);
        }
        let region = self.from()?.region.as_str();
        let name = self.names.address.as_str();
        let started = self
            .clients
            .addresses
            .delete()
            .set_project(self.project())
            .set_region(region)
            .set_address(name)
            .send()
            .await;
        self.wait_compute(started, &format!("compute addresses.delete {name}"))
            .await?;
        Ok(Some(name.to_owned()))
    }
}
