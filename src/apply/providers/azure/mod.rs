//! The Azure provider: an incremental snapshot of the old data disk, the PostgreSQL flexible
//! server's restore point taken inside the pause window, the rendered ARM template deployed
//! (what-if first, then the deployment, its operations streamed), and the public IP moved from
//! the old VM's NIC to the new one. Everything goes through Azure Resource Manager's REST API
//! (`arm`), authenticated by the `azure_identity` chain (`credential`); `--endpoint-url` points
//! it elsewhere (the ARM double in the tests). The old deployment is only read, except its NIC's
//! IP configuration when `move-address` moves the address on request.

mod address;
pub mod arm;
mod console;
pub mod credential;
mod deploy;
pub mod key_vault;
mod preflight;
mod rollback;
mod snapshots;
mod war;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use self::arm::{Arm, ArmError};
use self::credential::Credentials;
use crate::apply::events::{Event, Events};
use crate::apply::executor::{StepContext, StepFuture};
use crate::apply::preflight::PreflightFuture;
use crate::apply::runner::Provider;
use crate::plan::step::StepKind;
use crate::spec::model::{FromAzure, Spec, Strategy, ToAzure};

/// The API versions apply calls, the ones the rendered template pins where it has the type.
pub mod api {
    pub const COMPUTE: &str = "2024-07-01";
    pub const DISKS: &str = "2024-03-02";
    pub const NETWORK: &str = "2024-05-01";
    pub const POSTGRES: &str = "2024-08-01";
    pub const RESOURCES: &str = "2024-03-01";
    pub const MARKETPLACE: &str = "2021-01-01";
}

/// Everything the provider needs besides the spec.
pub struct Options<'a> {
    pub endpoint_url: Option<&'a str>,
    /// The rendered `azuredeploy.json`.
    pub template: &'a str,
    /// The rendered `azuredeploy.parameters.json`.
    pub parameters_file: &'a str,
    pub spec_dir: PathBuf,
    /// Accept the image's marketplace terms in the subscription when they are not yet.
    pub accept_marketplace_terms: bool,
    pub events: Arc<dyn Events>,
    pub poll: Duration,
}

pub struct AzureProvider {
    spec: Arc<Spec>,
    arm: Arm,
    template: Value,
    /// The parameters the spec gives, from the rendered parameters file.
    known_parameters: serde_json::Map<String, Value>,
    spec_dir: PathBuf,
    accept_marketplace_terms: bool,
    events: Arc<dyn Events>,
    poll: Duration,
}

impl AzureProvider {
    pub fn new(spec: Arc<Spec>, options: Options<'_>) -> Result<AzureProvider, String> {
        if spec.from.azure.is_none() {
            return Err("the spec has no from.azure block".into());
        }
        let credentials = Arc::new(Credentials::from_environment()?);
        let template: Value = if options.template.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(options.template)
                .map_err(|e| format!("the rendered azuredeploy.json: {e}"))?
        };
        let known_parameters = if options.parameters_file.is_empty() {
            serde_json::Map::new()
        } else {
            let file: Value = serde_json::from_str(options.parameters_file)
                .map_err(|e| format!("the rendered azuredeploy.parameters.json: {e}"))?;
            file["parameters"].as_object().cloned().unwrap_or_default()
        };
        Ok(AzureProvider {
            arm: Arm::new(options.endpoint_url, credentials, options.poll),
            spec,
            template,
            known_parameters,
            spec_dir: options.spec_dir,
            accept_marketplace_terms: options.accept_marketplace_terms,
            events: options.events,
            poll: options.poll,
        })
    }

    fn from(&self) -> Result<&FromAzure, String> {
        self.spec
            .from
            .azure
            .as_ref()
            .ok_or_else(|| "the spec has no from.azure block".into())
    }

    fn to(&self) -> Result<&ToAzure, String> {
        self.spec
            .to
            .azure
            .as_ref()
            .ok_or_else(|| "the spec has no to.azure block".into())
    }

    fn progress(&self, step: &str, message: impl Into<String>) {
        self.events.emit(&Event::Progress {
            step: step.into(),
            message: message.into(),
        });
    }

    /// The deployment's name: the plan's, as render names every resource after it.
    fn deployment_name(&self) -> &str {
        self.spec.name.as_str()
    }

    fn ids(&self) -> Result<Ids, String> {
        let from = self.from()?;
        let sub = from.subscription.as_str();
        let old_group = format!(
            "/subscriptions/{sub}/resourceGroups/{}",
            from.resource_group
        );
        // The war strategy has no new deployment: its snapshots stay beside the old one.
        let new_rg = self
            .spec
            .to
            .azure
            .as_ref()
            .and_then(|t| t.resource_group.as_ref())
            .unwrap_or(&from.resource_group)
            .to_string();
        let new_group = format!("/subscriptions/{sub}/resourceGroups/{new_rg}");
        Ok(Ids {
            vm: format!(
                "{old_group}/providers/Microsoft.Compute/virtualMachines/{}",
                from.vm
            ),
            disk: format!(
                "{old_group}/providers/Microsoft.Compute/disks/{}",
                from.data_disk
            ),
            postgres: format!(
                "{old_group}/providers/Microsoft.DBforPostgreSQL/flexibleServers/{}",
                from.postgres_server
            ),
            public_ip: from.public_ip.as_ref().map(|ip| {
                format!("{old_group}/providers/Microsoft.Network/publicIPAddresses/{ip}")
            }),
            deployment: format!(
                "{new_group}/providers/Microsoft.Resources/deployments/{}",
                self.deployment_name()
            ),
            snapshot_prefix: format!("{new_group}/providers/Microsoft.Compute/snapshots/"),
            new_group,
        })
    }
}

/// Resource ids the spec determines.
struct Ids {
    vm: String,
    disk: String,
    postgres: String,
    public_ip: Option<String>,
    new_group: String,
    deployment: String,
    /// Snapshots go to the new deployment's resource group (the old one's unless
    /// `to.azure.resource_group` says); the old resources themselves are never written.
    snapshot_prefix: String,
}

/// An ARM failure in apply's words: the operation, then ARM's code and message.
fn arm_error(what: &str) -> impl Fn(ArmError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Resource ids compare without regard to case (ARM treats them so).
fn same_id(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

impl Provider for AzureProvider {
    fn describe(&self, kind: StepKind) -> Vec<String> {
        let (Ok(ids), Ok(from)) = (self.ids(), self.from()) else {
            return Vec::new();
        };
        let deployment = &ids.deployment;
        match kind {
            StepKind::SnapshotDatabase => vec![
                format!("GET {} (the server answers)", ids.postgres),
                "journal the restore point: now, UTC, after pause confirmed the pause".into(),
            ],
            StepKind::SnapshotData => vec![format!(
                "PUT {}cloverlift-{}-data-<time> (incremental, Copy of {}), until Succeeded",
                ids.snapshot_prefix, self.spec.name, ids.disk
            )],
            StepKind::AwaitSnapshots => {
                vec!["GET the snapshot until completionPercent is 100".into()]
            }
            StepKind::Deploy => {
                let mut calls = vec![format!(
                    "GET {}, its NIC and network security group, {} (discover parameters)",
                    ids.vm, ids.postgres
                )];
                if self.accept_marketplace_terms {
                    calls.push(
                        "PUT the image's marketplace agreement (accepted=true) when not accepted"
                            .into(),
                    );
                }
                calls.extend([
                    format!("POST {deployment}/whatIf (Incremental; changes shown)"),
                    format!("PUT {deployment} (Incremental, the rendered azuredeploy.json)"),
                    format!("GET {deployment} and its operations until Succeeded"),
                ]);
                calls
            }
            StepKind::MoveAddress => vec![
                format!(
                    "PUT the NIC of {} without {} on its IP configuration",
                    from.vm,
                    ids.public_ip.as_deref().unwrap_or("?")
                ),
                "PUT the new VM's NIC with that public IP on its primary IP configuration".into(),
                "DELETE the new deployment's own public IP".into(),
                "POST <new VM>/restart (renews its certificate for the address)".into(),
            ],
            StepKind::StopService | StepKind::ReplaceWar | StepKind::StartService => {
                let action = match kind {
                    StepKind::StopService => "stop",
                    StepKind::ReplaceWar => "replace (the WAR from to.war.url, its sha256 checked)",
                    _ => "start",
                };
                vec![format!(
                    "PUT {}/runCommands/cloverlift-war-upgrade (war-upgrade.sh {action}), then GET its instanceView: exit code 0",
                    ids.vm
                )]
            }
            other => vec![format!("{other}: not an Azure step")],
        }
    }

    fn run(&self, kind: StepKind, cx: StepContext) -> StepFuture<'_> {
        Box::pin(async move {
            match kind {
                StepKind::SnapshotDatabase => self.snapshot_database(&cx).await,
                StepKind::SnapshotData => self.snapshot_data(&cx).await,
                StepKind::AwaitSnapshots => self.await_snapshots(&cx).await,
                StepKind::Deploy => self.deploy(&cx).await,
                StepKind::MoveAddress => self.move_address(&cx).await,
                StepKind::StopService | StepKind::ReplaceWar | StepKind::StartService => {
                    self.war_step(kind).await
                }
                other => Err(format!("step {other} has no Azure implementation")),
            }
        })
    }

    fn preflight(&self) -> PreflightFuture<'_> {
        Box::pin(self.preflight())
    }

    fn console<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a> {
        Box::pin(async move {
            let vm = deploy["vmId"]
                .as_str()
                .ok_or("the deploy step left no vmId")?;
            self.serial_console(vm).await
        })
    }

    fn describe_console(&self) -> Option<String> {
        Some(
            "POST <new VM>/retrieveBootDiagnosticsData, then GET its serialConsoleLogBlobUri (a SAS URI, never shown)"
                .into(),
        )
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
