//! The Google Cloud provider: a snapshot of the old data disk, an on-demand Cloud SQL backup
//! of the system database taken inside the pause window, the rendered `main.tf.json` deployed
//! by Infrastructure Manager (uploaded to Cloud Storage, previewed, then applied), the backup
//! restored into the new Cloud SQL instance, and the old static address moved to the new VM.
//! Every call goes through Google's official clients (`clients`) with Application Default
//! Credentials; `--endpoint-url` points them all elsewhere (the double in the tests). The old
//! deployment is only read, except its access config when `move-address` moves the address.

mod address;
pub mod clients;
mod deploy;
mod operations;
mod preflight;
mod restore;
mod rollback;
mod snapshots;
mod war;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use google_cloud_compute_v1::model::Instance;
use google_cloud_sql_v1::model::DatabaseInstance;

use self::clients::{Clients, error};
use crate::apply::events::{Event, Events};
use crate::apply::executor::{StepContext, StepFuture};
use crate::apply::preflight::PreflightFuture;
use crate::apply::runner::Provider;
use crate::plan::step::StepKind;
use crate::render::gcp::{Names, data_snapshot_name};
use crate::spec::model::{FromGcp, Spec, Strategy, ToGcp};

/// Everything the provider needs besides the spec.
pub struct Options<'a> {
    pub endpoint_url: Option<&'a str>,
    /// The rendered `main.tf.json`, uploaded byte for byte (architecture strategy).
    pub blueprint: &'a str,
    /// The rendered `war-startup.sh` and `war-upgrade.sh` (war strategy).
    pub war_scripts: Option<(String, String)>,
    pub events: Arc<dyn Events>,
    pub poll: Duration,
}

pub struct GcpProvider {
    spec: Arc<Spec>,
    clients: Clients,
    blueprint: String,
    war_scripts: Option<(String, String)>,
    /// The input variables `main.tf.json` declares (what the spec left to apply).
    variables: BTreeSet<String>,
    names: Names,
    events: Arc<dyn Events>,
    poll: Duration,
}

impl GcpProvider {
    pub async fn new(spec: Arc<Spec>, options: Options<'_>) -> Result<GcpProvider, String> {
        if spec.from.gcp.is_none() {
            return Err("the spec has no from.gcp block".into());
        }
        let variables = match spec.strategy {
            Strategy::Architecture => deploy::declared_variables(options.blueprint)?,
            Strategy::War => BTreeSet::new(),
        };
        let clients = Clients::new(options.endpoint_url, options.poll).await?;
        Ok(GcpProvider {
            names: Names::of(&spec),
            spec,
            clients,
            blueprint: options.blueprint.to_owned(),
            war_scripts: options.war_scripts,
            variables,
            events: options.events,
            poll: options.poll,
        })
    }

    fn from(&self) -> Result<&FromGcp, String> {
        self.spec
            .from
            .gcp
            .as_ref()
            .ok_or_else(|| "the spec has no from.gcp block".into())
    }

    fn to(&self) -> Result<&ToGcp, String> {
        self.spec
            .to
            .gcp
            .as_ref()
            .ok_or_else(|| "the spec has no to.gcp block".into())
    }

    fn project(&self) -> &str {
        self.spec
            .from
            .gcp
            .as_ref()
            .map_or("", |f| f.project.as_str())
    }

    fn progress(&self, step: &str, message: impl Into<String>) {
        self.events.emit(&Event::Progress {
            step: step.into(),
            message: message.into(),
        });
    }

    /// The old server's instance.
    async fn old_instance(&self) -> Result<Instance, String> {
        let from = self.from()?;
        self.instance(from.instance.as_str()).await
    }

    /// An instance in the old deployment's zone (where render puts the new one too).
    async fn instance(&self, name: &str) -> Result<Instance, String> {
        let zone = self.from()?.zone.as_str();
        self.clients
            .instances
            .get()
            .set_project(self.project())
            .set_zone(zone)
            .set_instance(name)
            .send()
            .await
            .map_err(error(&format!("compute instances.get {name}")))
    }

    /// A Cloud SQL instance of the project.
    async fn sql_instance(&self, name: &str) -> Result<DatabaseInstance, String> {
        self.clients
            .sql_instances
            .get()
            .set_project(self.project())
            .set_instance(name)
            .send()
            .await
            .map_err(error(&format!("sqladmin instances.get {name}")))
    }

    /// Waits for the Compute Engine operation a call started; its error becomes the step's.
    async fn wait_compute(
        &self,
        started: google_cloud_compute_v1::Result<google_cloud_compute_v1::model::Operation>,
        what: &str,
    ) -> Result<(), String> {
        operations::compute_call(&self.clients, self.project(), started, self.poll, what)
            .await
            .map(|_| ())
    }

    /// Stops (gracefully) or starts an instance in the old deployment's zone, and waits.
    async fn power(&self, name: &str, action: Power) -> Result<(), String> {
        let zone = self.from()?.zone.as_str();
        let instances = &self.clients.instances;
        let started = match action {
            Power::Stop => {
                instances
                    .stop()
                    .set_project(self.project())
                    .set_zone(zone)
                    .set_instance(name)
                    .send()
                    .await
            }
            Power::Start => {
                instances
                    .start()
                    .set_project(self.project())
                    .set_zone(zone)
                    .set_instance(name)
                    .send()
                    .await
            }
        };
        self.wait_compute(started, &format!("compute instances.{action} {name}"))
            .await
    }

    /// The new instance's first serial port as Compute Engine keeps it
    /// (`instances.getSerialPortOutput`, port 1, where the guest's console goes): the most
    /// recent output, up to what Compute Engine retains.
    async fn serial_console(&self) -> Result<Value, String> {
        let zone = self.from()?.zone.as_str();
        let name = self.names.instance.as_str();
        let output = self
            .clients
            .instances
            .get_serial_port_output()
            .set_project(self.project())
            .set_zone(zone)
            .set_instance(name)
            .set_port(1)
            .send()
            .await
            .map_err(error(&format!(
                "compute instances.getSerialPortOutput {name}"
            )))?;
        Ok(output.contents.map_or(Value::Null, Value::String))
    }

    /// An instance's metadata: its fingerprint and its items, as `set_metadata` takes them.
    async fn metadata(&self, name: &str) -> Result<(Value, Vec<Value>), String> {
        let view = serde_json::to_value(self.instance(name).await?).unwrap_or_default();
        let items = view["metadata"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        Ok((view["metadata"]["fingerprint"].clone(), items))
    }

    /// Replaces an instance's metadata items; the fingerprint read with them makes a
    /// concurrent change fail instead of being overwritten.
    async fn set_metadata(
        &self,
        name: &str,
        fingerprint: &Value,
        items: Vec<Value>,
        what: &str,
    ) -> Result<(), String> {
        let zone = self.from()?.zone.as_str();
        let body: google_cloud_compute_v1::model::Metadata = serde_json::from_value(
            serde_json::json!({ "fingerprint": fingerprint, "items": items }),
        )
        .map_err(|e| format!("instance metadata: {e}"))?;
        let started = self
            .clients
            .instances
            .set_metadata()
            .set_project(self.project())
            .set_zone(zone)
            .set_instance(name)
            .set_body(body)
            .send()
            .await;
        self.wait_compute(
            started,
            &format!("compute instances.setMetadata {name} ({what})"),
        )
        .await
    }

    /// The data snapshot: the spec's, or the name render gave the one snapshot-data takes.
    fn snapshot_name(&self) -> String {
        data_snapshot_name(&self.spec)
    }

    /// Infrastructure Manager's location: the old deployment's region.
    fn location(&self) -> String {
        format!(
            "projects/{}/locations/{}",
            self.project(),
            self.from().map_or("", |f| f.region.as_str())
        )
    }

    /// The Infrastructure Manager deployment, named after the plan as every resource is.
    fn deployment(&self) -> String {
        format!("{}/deployments/{}", self.location(), self.spec.name)
    }
}

#[derive(Debug, Clone, Copy)]
enum Power {
    Stop,
    Start,
}

impl std::fmt::Display for Power {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Power::Stop => "stop",
            Power::Start => "start",
        })
    }
}

impl Provider for GcpProvider {
    fn describe(&self, kind: StepKind) -> Vec<String> {
        let Ok(from) = self.from() else {
            return Vec::new();
        };
        let p = self.project();
        let zone = from.zone.as_str();
        match kind {
            StepKind::SnapshotDatabase => vec![format!(
                "POST sqladmin projects/{p}/instances/{}/backupRuns (on demand), until SUCCESSFUL (the pause lasts until then)",
                from.sql_instance
            )],
            StepKind::SnapshotData => vec![format!(
                "POST compute projects/{p}/zones/{zone}/disks/{}/createSnapshot (name {}), its operation until DONE",
                from.data_disk,
                self.snapshot_name()
            )],
            StepKind::AwaitSnapshots => vec![format!(
                "GET compute projects/{p}/global/snapshots/{} until READY; the backup run until SUCCESSFUL",
                self.snapshot_name()
            )],
            StepKind::Deploy => deploy::describe(self),
            StepKind::RestoreDatabase => vec![
                format!(
                    "GET sqladmin projects/{p}/operations?instance={} (a restore already started is awaited, not repeated)",
                    self.names.database
                ),
                format!(
                    "POST sqladmin projects/{p}/instances/{}/restoreBackup (the backup of {}), its operation until DONE",
                    self.names.database, from.sql_instance
                ),
                format!(
                    "POST compute projects/{p}/zones/{zone}/instances/{}/setMetadata ({}=true: the boot guard starts CloverDX)",
                    self.names.instance,
                    crate::render::gcp::RESTORED_KEY
                ),
            ],
            StepKind::MoveAddress => vec![
                format!(
                    "POST compute …/instances/{}/deleteAccessConfig (the access config holding {})",
                    from.instance,
                    from.address.as_ref().map_or("?", |a| a.as_str())
                ),
                format!(
                    "POST compute …/instances/{}/deleteAccessConfig (its own address), then addAccessConfig (natIP: the moved address)",
                    self.names.instance
                ),
                format!(
                    "PATCH sqladmin projects/{p}/instances/{} (authorized networks follow the address)",
                    self.names.database
                ),
                format!(
                    "DELETE compute projects/{p}/regions/{}/addresses/{} (the new deployment's own address, released)",
                    from.region, self.names.address
                ),
            ],
            StepKind::StopService | StepKind::ReplaceWar | StepKind::StartService => {
                self.describe_war(kind)
            }
            other => vec![format!("{other}: not a Google Cloud step")],
        }
    }

    fn run(&self, kind: StepKind, cx: StepContext) -> StepFuture<'_> {
        Box::pin(async move {
            match kind {
                StepKind::SnapshotDatabase => self.snapshot_database(&cx).await,
                StepKind::SnapshotData => self.snapshot_data(&cx).await,
                StepKind::AwaitSnapshots => self.await_snapshots(&cx).await,
                StepKind::Deploy => self.deploy(&cx).await,
                StepKind::RestoreDatabase => self.restore_database(&cx).await,
                StepKind::MoveAddress => self.move_address(&cx).await,
                StepKind::StopService | StepKind::ReplaceWar | StepKind::StartService => {
                    self.war_step(kind, &cx).await
                }
                other => Err(format!("step {other} has no Google Cloud implementation")),
            }
        })
    }

    fn preflight(&self) -> PreflightFuture<'_> {
        Box::pin(self.preflight())
    }

    fn console<'a>(&'a self, _deploy: &'a Value) -> StepFuture<'a> {
        Box::pin(self.serial_console())
    }

    fn describe_console(&self) -> Option<String> {
        Some(format!(
            "GET compute projects/{}/zones/{}/instances/{}/serialPort?port=1",
            self.project(),
            self.from().map(|f| f.zone.as_str()).unwrap_or("?"),
            self.names.instance
        ))
    }

    fn new_server_url(&self, cx: &StepContext) -> Option<String> {
        if self.spec.strategy == Strategy::War {
            // In place: the upgraded server is the old one, at its own URL.
            return Some(self.spec.from.server.url.to_string());
        }
        cx.output("deploy")
            .and_then(|o| o["serverUrl"].as_str())
            .map(str::to_owned)
    }

    fn move_address_back<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a> {
        Box::pin(self.move_address_back(deploy))
    }

    fn stop_new<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a> {
        Box::pin(self.stop_new(deploy))
    }

    fn delete_new(&self) -> StepFuture<'_> {
        Box::pin(self.delete_new())
    }
}
