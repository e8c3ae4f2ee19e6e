//! Google Cloud's part of the preflight: the credentials, then every resource the spec names,
//! in the state the run needs, with reads only. Each problem names the spec field or the
//! command that fixes it.

use serde_json::Value;

use super::GcpProvider;
use super::clients::{describe, is_not_found};
use super::snapshots::parse_backup_id;
use crate::apply::preflight::Report;
use crate::spec::model::Strategy;

impl GcpProvider {
    pub(super) async fn preflight(&self) -> Report {
        let mut report = Report::default();
        if let Err(e) = self.from() {
            report.problem(e);
            return report;
        }
        let instance = match self.old_instance().await {
            Ok(i) => serde_json::to_value(&i).unwrap_or_default(),
            Err(e) => {
                // Credentials, project or instance: every other call depends on it.
                report.problem(format!("{e} (from.gcp.instance, or the credentials)"));
                return report;
            }
        };
        report.ok(format!(
            "Google Cloud credentials reach compute in project {}",
            self.project()
        ));
        self.check_instance(&instance, &mut report);
        self.check_disk(&mut report).await;
        self.check_database(&mut report).await;
        match self.spec.strategy {
            Strategy::Architecture => {
                if self.spec.steps.move_address {
                    self.check_address(&instance, &mut report).await;
                }
                match self.to() {
                    Ok(to) if to.service_account.is_none() => report.problem(
                        "to.gcp.service_account is missing: Infrastructure Manager needs the service account Terraform runs as",
                    ),
                    Ok(_) => {}
                    Err(e) => report.problem(e),
                }
                self.check_deployment(&mut report).await;
            }
            Strategy::War => self.check_war(&instance, &mut report).await,
        }
        self.check_given_snapshots(&mut report).await;
        report
    }

    fn check_instance(&self, instance: &Value, report: &mut Report) {
        let Ok(from) = self.from() else { return };
        let status = instance["status"].as_str().unwrap_or("?");
        if status == "RUNNING" {
            report.ok(format!("instance {} is RUNNING", from.instance));
        } else {
            report.problem(format!(
                "instance {} is {status}, not RUNNING (from.gcp.instance)",
                from.instance
            ));
        }
        let suffix = format!("/disks/{}", from.data_disk);
        let attached = instance["disks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["source"].as_str().is_some_and(|s| s.ends_with(&suffix)));
        if !attached {
            report.problem(format!(
                "disk {} is not attached to {} (from.gcp.data_disk)",
                from.data_disk, from.instance
            ));
        }
    }

    async fn check_disk(&self, report: &mut Report) {
        let Ok(from) = self.from() else { return };
        match self
            .clients
            .disks
            .get()
            .set_project(self.project())
            .set_zone(from.zone.as_str())
            .set_disk(from.data_disk.as_str())
            .send()
            .await
        {
            Ok(_) => report.ok(format!("data disk {}", from.data_disk)),
            Err(e) => report.problem(describe(
                &format!("disk {} (from.gcp.data_disk)", from.data_disk),
                &e,
            )),
        }
    }

    async fn check_database(&self, report: &mut Report) {
        let Ok(from) = self.from() else { return };
        let db = match self.sql_instance(from.sql_instance.as_str()).await {
            Ok(db) => db,
            Err(e) => {
                report.problem(format!("{e} (from.gcp.sql_instance)"));
                return;
            }
        };
        // Cloud SQL's enums serialize as numbers in the client's model: read them by name.
        let version = db.database_version.name().unwrap_or("?");
        let state = db.state.name().unwrap_or("?");
        if state != "RUNNABLE" {
            report.problem(format!(
                "Cloud SQL instance {} is {state}, not RUNNABLE",
                from.sql_instance
            ));
        }
        if !version.starts_with("POSTGRES_") {
            report.problem(format!(
                "Cloud SQL instance {} runs {version}; CloverDX's system database here is PostgreSQL",
                from.sql_instance
            ));
        }
        if let Some(wanted) = self.to().ok().and_then(|t| t.database_version.as_ref())
            && wanted.as_str() != version
        {
            report.problem(format!(
                "to.gcp.database_version is {wanted}, but {} runs {version}: a backup restores only into its source's version",
                from.sql_instance
            ));
        }
        report.ok(format!(
            "Cloud SQL instance {} ({version}, {state})",
            from.sql_instance
        ));
    }

    async fn check_address(&self, instance: &Value, report: &mut Report) {
        let Ok(from) = self.from() else { return };
        let Some(name) = from.address.as_ref() else {
            report.problem("steps.move_address needs from.gcp.address");
            return;
        };
        let got = self
            .clients
            .addresses
            .get()
            .set_project(self.project())
            .set_region(from.region.as_str())
            .set_address(name.as_str())
            .send()
            .await;
        let address = match got {
            Ok(a) => serde_json::to_value(&a).unwrap_or_default(),
            Err(e) => {
                report.problem(describe(&format!("address {name} (from.gcp.address)"), &e));
                return;
            }
        };
        let ip = address["address"].as_str().unwrap_or_default();
        let on_old = instance["networkInterfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|n| n["accessConfigs"].as_array().cloned().unwrap_or_default())
            .any(|c| c["natIP"] == ip);
        if on_old {
            report.ok(format!("address {name} ({ip}) is on {}", from.instance));
        } else if address["status"] == "RESERVED" {
            report.warn(format!(
                "address {name} ({ip}) is on no instance: a move-address that stopped half way; `apply --resume` finishes it"
            ));
        } else {
            report.problem(format!(
                "address {name} ({ip}) is not on {} (from.gcp.address)",
                from.instance
            ));
        }
    }

    /// The war strategy restarts the old instance to run war-startup.sh: what a restart would
    /// lose, and what the instance downloads.
    async fn check_war(&self, instance: &Value, report: &mut Report) {
        let Ok(from) = self.from() else { return };
        match self.spec.to.war.as_ref().map(|w| (&w.url, &w.file)) {
            Some((Some(_), _)) => report.ok("the instance downloads the WAR from to.war.url, its sha256 checked"),
            Some((None, Some(file))) => report.problem(format!(
                "to.war.file ({file}) would have to be uploaded where the instance can read it, which apply does not do on Google Cloud: upload it (a Cloud Storage object behind a signed URL, say) and give its https URL as to.war.url"
            )),
            _ => report.problem("the war strategy needs to.war.url"),
        }
        if self.war_scripts.is_none() {
            report.problem("the rendered war-startup.sh and war-upgrade.sh are missing");
        }
        let external = instance["networkInterfaces"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|n| n["accessConfigs"].as_array().cloned().unwrap_or_default())
            .find_map(|c| c["natIP"].as_str().map(str::to_owned));
        match (external, from.address.is_some()) {
            (Some(_), true) => self.check_address(instance, report).await,
            (Some(ip), false) => report.problem(format!(
                "{} restarts to run war-startup.sh, and its external address {ip} would change unless it is reserved: reserve it (gcloud compute addresses create NAME --addresses {ip} --region {}) and name it in from.gcp.address",
                from.instance, from.region
            )),
            (None, _) => report.ok(format!(
                "{} has no external address; its internal one survives the restart",
                from.instance
            )),
        }
        let scratch = instance["disks"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|d| d["type"] == "SCRATCH");
        if scratch {
            report.problem(format!(
                "{} has a local SSD, whose content a stop discards: the war strategy restarts the instance",
                from.instance
            ));
        }
        let metadata = instance["metadata"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let has = |key: &str| metadata.iter().any(|i| i["key"] == key);
        if has("cloverlift-war-run") {
            report.warn(format!(
                "{} carries an earlier run's cloverlift-war-* metadata: this run replaces it and puts the instance's own startup script back",
                from.instance
            ));
        }
        if has("startup-script-url") {
            report.warn(format!(
                "{} also has startup-script-url, which the guest agent runs on the restart as well",
                from.instance
            ));
        }
    }

    async fn check_deployment(&self, report: &mut Report) {
        match self.get_deployment().await {
            Ok(Some(d))
                if d.labels.get("cloverlift-plan").map(String::as_str)
                    != Some(self.spec.name.as_str()) =>
            {
                report.problem(format!(
                    "{} exists and was not created by this plan; rename the plan or delete it",
                    self.deployment()
                ))
            }
            Ok(Some(_)) => report.warn(format!(
                "{} exists (an earlier run of this plan): deploy brings it to this blueprint",
                self.deployment()
            )),
            Ok(None) => report.ok(format!("{} is free", self.deployment())),
            Err(e) => report.problem(format!(
                "{e} (is the Infrastructure Manager API enabled? gcloud services enable config.googleapis.com)"
            )),
        }
    }

    async fn check_given_snapshots(&self, report: &mut Report) {
        let (Some(given), Ok(from)) = (self.spec.snapshots.as_ref(), self.from()) else {
            return;
        };
        match self
            .clients
            .snapshots
            .get()
            .set_project(self.project())
            .set_snapshot(given.data.as_str())
            .send()
            .await
        {
            Ok(s) => {
                let view = serde_json::to_value(&s).unwrap_or_default();
                if view["status"] == "READY" {
                    report.ok(format!("snapshot {}", given.data));
                } else {
                    report.problem(format!(
                        "snapshot {} is {}, not READY (snapshots.data)",
                        given.data,
                        view["status"].as_str().unwrap_or("?")
                    ));
                }
            }
            Err(e) if is_not_found(&e) => report.problem(format!(
                "snapshot {} does not exist (snapshots.data)",
                given.data
            )),
            Err(e) => report.problem(describe("snapshots.data", &e)),
        }
        let Ok(id) = parse_backup_id(&given.database) else {
            report.problem(format!(
                "snapshots.database {:?} is not a backup run id",
                given.database
            ));
            return;
        };
        match self
            .clients
            .backup_runs
            .get()
            .set_project(self.project())
            .set_instance(from.sql_instance.as_str())
            .set_id(id)
            .send()
            .await
        {
            Ok(run) if run.status.name() == Some("SUCCESSFUL") => {
                report.ok(format!("backup {id} of {}", from.sql_instance))
            }
            Ok(run) => report.problem(format!(
                "backup {id} of {} is {}, not SUCCESSFUL (snapshots.database)",
                from.sql_instance,
                run.status.name().unwrap_or("?")
            )),
            Err(e) => report.problem(describe(
                &format!("backup {id} of {} (snapshots.database)", from.sql_instance),
                &e,
            )),
        }
    }
}
