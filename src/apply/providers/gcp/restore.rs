//! restore-database: the backup restored into the new deployment's Cloud SQL instance, then
//! the instance metadata key the new VM's boot guard waits for before it starts CloverDX.
//! The key is set by this step, not by Terraform (`main.tf.json` ignores changes to it), so a
//! later Infrastructure Manager apply cannot start CloverDX on an empty database.

use google_cloud_sql_v1::model::operation::SqlOperationType;
use google_cloud_sql_v1::model::{InstancesRestoreBackupRequest, RestoreBackupContext};
use serde_json::{Value, json};

use super::GcpProvider;
use super::clients::error;
use super::operations;
use super::snapshots::parse_backup_id;
use crate::apply::executor::StepContext;
use crate::render::gcp::RESTORED_KEY;

impl GcpProvider {
    pub(super) async fn restore_database(&self, cx: &StepContext) -> Result<Value, String> {
        let from = self.from()?;
        let source = from.sql_instance.as_str();
        let target = self.names.database.as_str();
        if source == target {
            // Never restore over the old database, whatever the names say.
            return Err(format!(
                "the new Cloud SQL instance {target} is the old one; rename the plan"
            ));
        }
        let backup = self.backup_to_restore(cx)?;
        let noted = cx
            .earlier_notes
            .iter()
            .rev()
            .find_map(|n| n["restore_operation"].as_str().map(str::to_owned));
        // A run killed between sending restoreBackup and journaling its operation left no note,
        // but Cloud SQL knows the restore: a second one would fail while the first runs, or
        // restore again over a finished one.
        let started = match noted {
            Some(op) => Some(op),
            None => self.restore_started(target).await?,
        };
        let finished = match started {
            // A resumed run waits for the restore it started; one that failed is started again.
            Some(op) => {
                operations::sql(&self.clients, self.project(), &op, self.poll, "the restore")
                    .await
                    .is_ok()
            }
            None => false,
        };
        if !finished {
            let id = parse_backup_id(&backup)?;
            let body = InstancesRestoreBackupRequest::new().set_restore_backup_context(
                RestoreBackupContext::new()
                    .set_backup_run_id(id)
                    .set_instance_id(source)
                    .set_project(self.project()),
            );
            let op = self
                .clients
                .sql_instances
                .restore_backup()
                .set_project(self.project())
                .set_instance(target)
                .set_body(body)
                .send()
                .await
                .map_err(error(&format!(
                    "sqladmin instances.restoreBackup of backup {backup} into {target}"
                )))?;
            cx.note(json!({ "restore_operation": op.name }))?;
            self.progress(
                "restore-database",
                format!("restoring backup {backup} of {source} into {target}"),
            );
            operations::sql(
                &self.clients,
                self.project(),
                &op.name,
                self.poll,
                &format!("restore backup {backup} into {target}"),
            )
            .await?;
        }
        self.mark_restored().await?;
        Ok(json!({ "backup_id": backup, "instance": target, "source": source }))
    }

    /// The newest restore into `target` that has not failed, from the instance's operations
    /// (Cloud SQL lists them newest first; the new instance has only this plan's few).
    async fn restore_started(&self, target: &str) -> Result<Option<String>, String> {
        let list = self
            .clients
            .sql_operations
            .list()
            .set_project(self.project())
            .set_instance(target)
            .send()
            .await
            .map_err(error(&format!("sqladmin operations.list of {target}")))?;
        Ok(list
            .items
            .into_iter()
            .find(|op| {
                op.operation_type == SqlOperationType::RestoreVolume
                    && op.error.as_ref().is_none_or(|e| e.errors.is_empty())
            })
            .map(|op| op.name))
    }

    /// The backup: the one snapshot-database took, or the spec's.
    fn backup_to_restore(&self, cx: &StepContext) -> Result<String, String> {
        if let Some(id) = cx
            .output("snapshot-database")
            .and_then(|o| o["backup_id"].as_str())
        {
            return Ok(id.to_owned());
        }
        self.spec
            .snapshots
            .as_ref()
            .map(|s| s.database.clone())
            .ok_or_else(|| "no backup to restore: snapshot-database left none".to_owned())
    }

    /// Sets `cloverlift-database-restored=true` on the new instance, keeping its other
    /// metadata; the fingerprint makes a concurrent change fail instead of being overwritten.
    async fn mark_restored(&self) -> Result<(), String> {
        let name = self.names.instance.as_str();
        let (fingerprint, mut items) = self.metadata(name).await?;
        if items
            .iter()
            .any(|i| i["key"] == RESTORED_KEY && i["value"] == "true")
        {
            return Ok(());
        }
        items.retain(|i| i["key"] != RESTORED_KEY);
        items.push(json!({ "key": RESTORED_KEY, "value": "true" }));
        self.set_metadata(name, &fingerprint, items, &format!("{RESTORED_KEY}=true"))
            .await
    }
}
