//! The deploy step on Google Cloud: the rendered `main.tf.json` uploaded byte for byte to
//! Cloud Storage under a content-addressed prefix, its input variables filled from the old
//! deployment, an Infrastructure Manager preview shown, then the deployment created (or, when
//! this plan's deployment exists, updated) and followed to ACTIVE. Deployment Manager is not
//! used: it can no longer deploy since its end of support on 2026-03-31.

use std::collections::{BTreeMap, BTreeSet};

use google_cloud_config_v1::model::deployment::State as DeploymentState;
use google_cloud_config_v1::model::{Deployment, Preview, TerraformBlueprint, TerraformVariable};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::GcpProvider;
use super::clients::{describe as describe_error, error, is_not_found};
use super::operations;
use crate::apply::executor::StepContext;

/// Where the blueprint goes: `gs://BUCKET/cloverlift/PLAN/SHA256-PREFIX/main.tf.json`.
struct Upload {
    bucket: String,
    object: String,
    /// The directory Infrastructure Manager reads the blueprint from.
    source: String,
    digest: String,
}

/// The input variables a rendered `main.tf.json` declares.
pub(super) fn declared_variables(blueprint: &str) -> Result<BTreeSet<String>, String> {
    if blueprint.is_empty() {
        return Ok(BTreeSet::new());
    }
    let blueprint: Value =
        serde_json::from_str(blueprint).map_err(|e| format!("the rendered main.tf.json: {e}"))?;
    Ok(blueprint["variable"]
        .as_object()
        .map(|v| v.keys().cloned().collect())
        .unwrap_or_default())
}

pub(super) fn describe(p: &GcpProvider) -> Vec<String> {
    let Ok(upload) = p.upload_target() else {
        return Vec::new();
    };
    let mut calls = Vec::new();
    if p.variables.contains("database_version") {
        calls.push(format!(
            "GET sqladmin projects/{}/instances/{} (database_version)",
            p.project(),
            p.from().map_or("?", |f| f.sql_instance.as_str())
        ));
    }
    if p.variables.contains("ingress_source_ranges") {
        calls.push(
            "GET compute the old instance and the project's firewalls (ingress_source_ranges: who may reach 443)"
                .into(),
        );
    }
    calls.extend([
        format!(
            "POST storage gs://{}/{} (the rendered main.tf.json, byte for byte)",
            upload.bucket, upload.object
        ),
        format!(
            "POST config {}/previews (the blueprint {}), until done; its changes shown",
            p.location(),
            upload.source
        ),
        format!(
            "POST config {}/deployments?deploymentId={} (or PATCH it when this plan's deployment exists), until ACTIVE",
            p.location(),
            p.spec.name
        ),
        "GET config its latest revision (outputs: server_url, instance, public_address)".into(),
    ]);
    calls
}

impl GcpProvider {
    pub(super) async fn deploy(&self, cx: &StepContext) -> Result<Value, String> {
        let inputs = self.input_values().await?;
        let upload = self.upload_blueprint().await?;
        let changes = self.preview(&upload, &inputs).await?;
        self.apply_deployment(&upload, &inputs, cx).await?;
        let outputs = self.outputs().await?;
        let text = |k: &str| outputs[k]["value"].clone();
        Ok(json!({
            "deployment": self.deployment(),
            "blueprint": upload.source,
            "sha256": upload.digest,
            "changes": changes,
            "inputs": inputs,
            "serverUrl": text("server_url"),
            "instance": text("instance"),
            "publicAddress": text("public_address"),
            "database": self.names.database,
            "databaseConnectionName": text("database_connection_name"),
        }))
    }

    /// Values for the declared variables, read from the old deployment.
    async fn input_values(&self) -> Result<BTreeMap<String, Value>, String> {
        let mut values = BTreeMap::new();
        for name in &self.variables {
            let value = match name.as_str() {
                "database_version" => json!(self.source_database_version().await?),
                "ingress_source_ranges" => json!(self.ingress_source_ranges().await?),
                "old_database_addresses" => json!(self.old_database_addresses().await?),
                other => {
                    return Err(format!(
                        "main.tf.json declares the variable {other}, which apply does not know how to fill"
                    ));
                }
            };
            values.insert(name.clone(), value);
        }
        Ok(values)
    }

    /// The old Cloud SQL instance's addresses (public and private) as /32 networks, for the new
    /// server's egress rule that denies them.
    async fn old_database_addresses(&self) -> Result<Vec<String>, String> {
        let from = self.from()?;
        let instance = self.sql_instance(from.sql_instance.as_str()).await?;
        let mut addresses: Vec<String> = instance
            .ip_addresses
            .iter()
            .filter(|a| !a.ip_address.is_empty())
            .map(|a| format!("{}/32", a.ip_address))
            .collect();
        addresses.sort();
        addresses.dedup();
        if addresses.is_empty() {
            return Err(format!(
                "{} reports no address: the new server's egress rule needs them",
                from.sql_instance
            ));
        }
        Ok(addresses)
    }

    /// The old Cloud SQL instance's version: a backup restores only into its source's version.
    pub(super) async fn source_database_version(&self) -> Result<String, String> {
        let from = self.from()?;
        let instance = self.sql_instance(from.sql_instance.as_str()).await?;
        instance
            .database_version
            .name()
            .map(str::to_owned)
            .ok_or_else(|| format!("{} reports no database version", from.sql_instance))
    }

    /// The source ranges the old instance's firewall rules admit on TCP 443: enabled INGRESS
    /// rules of its network that target it (by tag, or every instance) and allow 443.
    async fn ingress_source_ranges(&self) -> Result<Vec<String>, String> {
        let from = self.from()?;
        let instance = self.old_instance().await?;
        let view = serde_json::to_value(&instance).unwrap_or_default();
        let network = view["networkInterfaces"][0]["network"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let tags: BTreeSet<String> = view["tags"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        let mut ranges = BTreeSet::new();
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .firewalls
                .list()
                .set_project(self.project())
                .set_page_token(token.clone())
                .send()
                .await
                .map_err(error("compute firewalls.list"))?;
            for rule in &page.items {
                let r = serde_json::to_value(rule).unwrap_or_default();
                if admits_https(&r, &network, &tags) {
                    ranges.extend(
                        r["sourceRanges"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|s| s.as_str().map(str::to_owned)),
                    );
                }
            }
            match page.next_page_token {
                Some(next) if !next.is_empty() => token = next,
                _ => break,
            }
        }
        if ranges.is_empty() {
            return Err(format!(
                "no enabled firewall rule admits TCP 443 to {}; set to.gcp.ingress_cidr",
                from.instance
            ));
        }
        Ok(ranges.into_iter().collect())
    }

    fn upload_target(&self) -> Result<Upload, String> {
        let digest = hex(&Sha256::digest(self.blueprint.as_bytes()));
        let bucket = match self.to()?.blueprint_bucket.as_ref() {
            Some(b) => b.to_string(),
            None => format!("{}-cloverlift", self.project()),
        };
        let prefix = format!("cloverlift/{}/{}", self.spec.name, &digest[..16]);
        Ok(Upload {
            source: format!("gs://{bucket}/{prefix}"),
            object: format!("{prefix}/main.tf.json"),
            bucket,
            digest,
        })
    }

    /// Uploads the blueprint. The prefix is the content's digest, so an object already there
    /// holds these bytes, and a changed blueprint never overwrites what a revision used.
    async fn upload_blueprint(&self) -> Result<Upload, String> {
        let upload = self.upload_target()?;
        let written = self
            .clients
            .storage
            .write_object(
                format!("projects/_/buckets/{}", upload.bucket),
                upload.object.clone(),
                self.blueprint.clone(),
            )
            .set_content_type("application/json")
            .send_unbuffered()
            .await
            .map_err(|e| {
                let mut text = describe_error(
                    &format!("upload gs://{}/{}", upload.bucket, upload.object),
                    &e,
                );
                if is_not_found(&e) {
                    text.push_str(&format!(
                        "; create the bucket (gcloud storage buckets create gs://{} --location {}) or name one in to.gcp.blueprint_bucket",
                        upload.bucket,
                        self.from().map_or("", |f| f.region.as_str())
                    ));
                }
                text
            })?;
        if written.size != self.blueprint.len() as i64 {
            return Err(format!(
                "gs://{}/{} holds {} bytes, not the {} of main.tf.json",
                upload.bucket,
                upload.object,
                written.size,
                self.blueprint.len()
            ));
        }
        self.progress(
            "deploy",
            format!(
                "uploaded main.tf.json to gs://{}/{}",
                upload.bucket, upload.object
            ),
        );
        Ok(upload)
    }

    fn blueprint_spec(
        &self,
        upload: &Upload,
        inputs: &BTreeMap<String, Value>,
    ) -> TerraformBlueprint {
        TerraformBlueprint::new()
            .set_gcs_source(upload.source.clone())
            .set_input_values(inputs.iter().map(|(k, v)| {
                (
                    k.clone(),
                    TerraformVariable::new().set_input_value(v.clone()),
                )
            }))
    }

    fn service_account(&self) -> Result<String, String> {
        let email = self.to()?.service_account.as_ref().ok_or(
            "to.gcp.service_account is required to deploy with Infrastructure Manager (the service account Terraform runs as)",
        )?;
        Ok(format!(
            "projects/{}/serviceAccounts/{email}",
            self.project()
        ))
    }

    fn labels(&self) -> [(String, String); 2] {
        [
            ("cloverlift-plan".into(), self.spec.name.to_string()),
            (
                "cloverlift-to-version".into(),
                self.spec.to.version.as_str().replace('.', "-"),
            ),
        ]
    }

    /// An Infrastructure Manager preview of the blueprint; its resource changes, from the
    /// Terraform plan it exports, are shown before anything is created.
    async fn preview(
        &self,
        upload: &Upload,
        inputs: &BTreeMap<String, Value>,
    ) -> Result<Vec<String>, String> {
        let id = format!("{}-{}", self.spec.name, &upload.digest[..12]);
        let name = format!("{}/previews/{id}", self.location());
        let existing = self
            .clients
            .config
            .get_preview()
            .set_name(&name)
            .send()
            .await;
        match existing {
            Ok(_) => {}
            Err(e) if is_not_found(&e) => {
                let mut preview = Preview::new()
                    .set_terraform_blueprint(self.blueprint_spec(upload, inputs))
                    .set_service_account(self.service_account()?)
                    .set_labels(self.labels());
                if self.get_deployment().await?.is_some() {
                    preview = preview.set_deployment(self.deployment());
                }
                let op = self
                    .clients
                    .config
                    .create_preview()
                    .set_parent(self.location())
                    .set_preview_id(&id)
                    .set_preview(preview)
                    .send()
                    .await
                    .map_err(error("config previews.create"))?;
                operations::long_running(
                    &self.clients,
                    &op.name,
                    self.poll,
                    "the Infrastructure Manager preview",
                    |_| {},
                )
                .await?;
            }
            Err(e) => return Err(describe_error("config previews.get", &e)),
        }
        let exported = self
            .clients
            .config
            .export_preview_result()
            .set_parent(&name)
            .send()
            .await
            .map_err(error("config previews.export"))?;
        let uri = exported
            .result
            .map(|r| r.json_signed_uri)
            .filter(|u| !u.is_empty())
            .ok_or("the preview exported no JSON plan")?;
        let plan: Value = reqwest::get(&uri)
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("download the preview's plan: {e}"))?
            .json()
            .await
            .map_err(|e| format!("the preview's plan: {e}"))?;
        let changes = plan_changes(&plan);
        for change in &changes {
            self.progress("deploy", format!("preview: {change}"));
        }
        Ok(changes)
    }

    pub(super) async fn get_deployment(&self) -> Result<Option<Deployment>, String> {
        match self
            .clients
            .config
            .get_deployment()
            .set_name(self.deployment())
            .send()
            .await
        {
            Ok(d) => Ok(Some(d)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(describe_error("config deployments.get", &e)),
        }
    }

    /// Creates the deployment, or brings this plan's existing one to the blueprint; a
    /// deployment of the same name that this plan did not create is never touched.
    async fn apply_deployment(
        &self,
        upload: &Upload,
        inputs: &BTreeMap<String, Value>,
        cx: &StepContext,
    ) -> Result<(), String> {
        let wanted = Deployment::new()
            .set_terraform_blueprint(self.blueprint_spec(upload, inputs))
            .set_service_account(self.service_account()?)
            .set_labels(self.labels());
        let existing = self.get_deployment().await?;
        let op = match existing {
            None => self
                .clients
                .config
                .create_deployment()
                .set_parent(self.location())
                .set_deployment_id(self.spec.name.as_str())
                .set_deployment(wanted)
                .send()
                .await
                .map_err(error("config deployments.create"))?,
            Some(found) => {
                if found.labels.get("cloverlift-plan").map(String::as_str)
                    != Some(self.spec.name.as_str())
                {
                    return Err(format!(
                        "{} exists and was not created by this plan (no label cloverlift-plan={}); rename the plan or delete that deployment",
                        self.deployment(),
                        self.spec.name
                    ));
                }
                if matches!(
                    found.state,
                    DeploymentState::Creating | DeploymentState::Updating
                ) {
                    // A resumed run: the apply its predecessor started is still going.
                    self.await_deployment().await?;
                    let again = self.get_deployment().await?;
                    if again.as_ref().is_some_and(|d| self.is_current(d, upload)) {
                        return Ok(());
                    }
                }
                if found.state == DeploymentState::Active && self.is_current(&found, upload) {
                    return Ok(());
                }
                self.clients
                    .config
                    .update_deployment()
                    .set_deployment(wanted.set_name(self.deployment()))
                    .send()
                    .await
                    .map_err(error("config deployments.patch"))?
            }
        };
        cx.note(json!({ "operation": op.name, "blueprint": upload.source }))?;
        let step = |metadata: &Value| {
            if let Some(s) = metadata["deploymentMetadata"]["step"].as_str() {
                self.progress("deploy", format!("Infrastructure Manager: {s}"));
            }
        };
        let result = operations::long_running(
            &self.clients,
            &op.name,
            self.poll,
            "the Infrastructure Manager deployment",
            step,
        )
        .await;
        let deployment = self.get_deployment().await?;
        match (result, deployment) {
            (Ok(_), Some(d)) if d.state == DeploymentState::Active => Ok(()),
            (outcome, d) => Err(self.failure(outcome.err(), d.as_ref())),
        }
    }

    /// Whether the deployment runs this blueprint.
    fn is_current(&self, d: &Deployment, upload: &Upload) -> bool {
        let view = serde_json::to_value(d).unwrap_or_default();
        d.state == DeploymentState::Active
            && view["terraformBlueprint"]["gcsSource"].as_str() == Some(upload.source.as_str())
    }

    /// Polls the deployment until it leaves CREATING/UPDATING.
    async fn await_deployment(&self) -> Result<(), String> {
        loop {
            let Some(d) = self.get_deployment().await? else {
                return Ok(());
            };
            if !matches!(
                d.state,
                DeploymentState::Creating | DeploymentState::Updating
            ) {
                return Ok(());
            }
            self.progress("deploy", format!("{}: {}", self.deployment(), state(&d)));
            tokio::time::sleep(self.poll).await;
        }
    }

    /// The failure in Infrastructure Manager's words: its error code and detail, then the
    /// Terraform error of each resource.
    fn failure(&self, operation: Option<String>, d: Option<&Deployment>) -> String {
        let mut lines = vec![format!(
            "Infrastructure Manager did not apply {}{}",
            self.deployment(),
            d.map(|d| format!(" (state {})", state(d)))
                .unwrap_or_default()
        )];
        if let Some(op) = operation {
            lines.push(format!("  {op}"));
        }
        if let Some(d) = d {
            if let Some(code) = d.error_code.name().filter(|c| !c.ends_with("UNSPECIFIED")) {
                lines.push(format!("  {code}: {}", d.state_detail));
            }
            for e in &d.tf_errors {
                lines.push(format!(
                    "  {}: HTTP {}: {}",
                    e.resource_address, e.http_response_code, e.error_description
                ));
            }
            if !d.error_logs.is_empty() {
                lines.push(format!("  logs: {}", d.error_logs));
            }
        }
        lines.join("\n")
    }

    /// The outputs of the deployment's latest revision.
    async fn outputs(&self) -> Result<Value, String> {
        let d = self
            .get_deployment()
            .await?
            .ok_or_else(|| format!("{} is gone", self.deployment()))?;
        let revision = self
            .clients
            .config
            .get_revision()
            .set_name(&d.latest_revision)
            .send()
            .await
            .map_err(error(&format!(
                "config revisions.get {}",
                d.latest_revision
            )))?;
        let view = serde_json::to_value(&revision).unwrap_or_default();
        let outputs = view["applyResults"]["outputs"].clone();
        if outputs["server_url"]["value"].as_str().is_none() {
            return Err(format!(
                "revision {} has no server_url output",
                d.latest_revision
            ));
        }
        Ok(outputs)
    }
}

fn state(d: &Deployment) -> &str {
    d.state.name().unwrap_or("?")
}

/// Whether a firewall rule (as JSON) admits TCP 443 from outside to an instance with these
/// network tags on `network`.
fn admits_https(rule: &Value, network: &str, tags: &BTreeSet<String>) -> bool {
    let direction = rule["direction"].as_str().unwrap_or("INGRESS");
    let enabled = !rule["disabled"].as_bool().unwrap_or(false);
    let same_network = rule["network"]
        .as_str()
        .is_some_and(|n| n.rsplit('/').next() == network.rsplit('/').next());
    let targets: Vec<&str> = rule["targetTags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let targeted = targets.is_empty() || targets.iter().any(|t| tags.contains(*t));
    let allows = rule["allowed"].as_array().into_iter().flatten().any(|a| {
        let protocol = a["IPProtocol"].as_str().unwrap_or_default();
        let ports: Vec<&str> = a["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        (protocol == "tcp" || protocol == "all")
            && (ports.is_empty() || ports.iter().any(|p| port_in(p, 443)))
    });
    direction == "INGRESS" && enabled && same_network && targeted && allows
}

/// `443` or a range `400-500` holding `port`.
fn port_in(spec: &str, port: u16) -> bool {
    match spec.split_once('-') {
        Some((lo, hi)) => match (lo.parse::<u16>(), hi.parse::<u16>()) {
            (Ok(lo), Ok(hi)) => (lo..=hi).contains(&port),
            _ => false,
        },
        None => spec.parse::<u16>() == Ok(port),
    }
}

/// `ACTIONS ADDRESS` for every resource change of a Terraform JSON plan, in plan order.
fn plan_changes(plan: &Value) -> Vec<String> {
    plan["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            let actions: Vec<&str> = c["change"]["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            format!(
                "{} {}",
                actions.join("+"),
                c["address"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_admits_https_by_tag_port_or_range() {
        let tags: BTreeSet<String> = ["clover".to_owned()].into();
        let rule = |v: Value| admits_https(&v, "projects/p/global/networks/default", &tags);
        let base = json!({
            "network": "https://www.googleapis.com/compute/v1/projects/p/global/networks/default",
            "direction": "INGRESS", "targetTags": ["clover"], "sourceRanges": ["203.0.113.0/24"],
            "allowed": [{ "IPProtocol": "tcp", "ports": ["443"] }]
        });
        assert!(rule(base.clone()));
        let mut other_tag = base.clone();
        other_tag["targetTags"] = json!(["db"]);
        assert!(!rule(other_tag));
        let mut range = base.clone();
        range["allowed"] = json!([{ "IPProtocol": "tcp", "ports": ["400-500"] }]);
        assert!(rule(range));
        let mut ssh = base.clone();
        ssh["allowed"] = json!([{ "IPProtocol": "tcp", "ports": ["22"] }]);
        assert!(!rule(ssh));
        let mut disabled = base.clone();
        disabled["disabled"] = json!(true);
        assert!(!rule(disabled));
        let mut egress = base;
        egress["direction"] = json!("EGRESS");
        assert!(!rule(egress));
    }

    #[test]
    fn plan_changes_name_action_and_address() {
        let plan = json!({ "resource_changes": [
            { "address": "google_compute_disk.data", "change": { "actions": ["create"] } },
            { "address": "google_compute_instance.server", "change": { "actions": ["delete", "create"] } }
        ]});
        assert_eq!(
            plan_changes(&plan),
            [
                "create google_compute_disk.data",
                "delete+create google_compute_instance.server"
            ]
        );
    }
}
