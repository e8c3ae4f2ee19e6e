//! The two rollback points: a Compute Engine snapshot of the old data disk, under the name
//! render already wrote into `main.tf.json`, and an on-demand Cloud SQL backup of the system
//! database. Both are taken while the old server is paused.

use std::time::Instant;

use google_cloud_compute_v1::model::Snapshot;
use google_cloud_compute_v1::model::snapshot::Status as SnapshotStatus;
use google_cloud_sql_v1::model::{BackupRun, SqlBackupRunStatus};
use serde_json::{Value, json};

use super::GcpProvider;
use super::clients::{describe, error, is_not_found};
use super::operations;
use crate::apply::clock;
use crate::apply::executor::StepContext;

/// How long a snapshot or backup may take before apply stops waiting.
const LONG_WAIT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

impl GcpProvider {
    /// An on-demand backup of the old Cloud SQL instance. Its description, journaled before the
    /// request, finds it again after a crash. The step lasts until Cloud SQL reports the backup
    /// SUCCESSFUL: Cloud SQL documents no earlier moment at which a backup's content is fixed,
    /// and a backup that saw resume's re-enabled schedules would start them on the new server.
    pub(super) async fn snapshot_database(&self, cx: &StepContext) -> Result<Value, String> {
        let from = self.from()?;
        let instance = from.sql_instance.as_str();
        let noted = |key: &str| {
            cx.earlier_notes
                .iter()
                .find_map(|n| n[key].as_str().map(str::to_owned))
        };
        let id = match noted("backup_id") {
            Some(id) => parse_backup_id(&id)?,
            None => {
                let description = match noted("backup_description") {
                    Some(d) => d,
                    None => {
                        let d = format!(
                            "cloverlift {}: system database during the pause at {}",
                            self.spec.name,
                            clock::rfc3339(clock::now_secs())
                        );
                        cx.note(json!({ "backup_description": d }))?;
                        d
                    }
                };
                match self.find_backup(instance, &description).await? {
                    Some(id) => id,
                    None => self.start_backup(instance, &description, cx).await?,
                }
            }
        };
        let run = self.await_backup(instance, id, "snapshot-database").await?;
        Ok(json!({
            "backup_id": id.to_string(),
            "instance": instance,
            "database_version": run.database_version.name(),
        }))
    }

    async fn start_backup(
        &self,
        instance: &str,
        description: &str,
        cx: &StepContext,
    ) -> Result<i64, String> {
        let op = self
            .clients
            .backup_runs
            .insert()
            .set_project(self.project())
            .set_instance(instance)
            .set_body(BackupRun::new().set_description(description))
            .send()
            .await
            .map_err(error(&format!("sqladmin backupRuns.insert on {instance}")))?;
        let from_operation = op
            .backup_context
            .as_ref()
            .map(|c| c.backup_id)
            .filter(|id| *id != 0);
        let id = match from_operation {
            Some(id) => id,
            None => {
                // Older answers carry no backup context: the run is found by its description.
                operations::sql(
                    &self.clients,
                    self.project(),
                    &op.name,
                    self.poll,
                    "the backup",
                )
                .await?;
                self.find_backup(instance, description)
                    .await?
                    .ok_or_else(|| format!("the backup of {instance} is not in its backup runs"))?
            }
        };
        cx.note(json!({ "backup_id": id.to_string(), "operation": op.name }))?;
        Ok(id)
    }

    /// The backup run of `instance` with this description, if one exists.
    async fn find_backup(&self, instance: &str, description: &str) -> Result<Option<i64>, String> {
        let mut token = String::new();
        loop {
            let page = self
                .clients
                .backup_runs
                .list()
                .set_project(self.project())
                .set_instance(instance)
                .set_page_token(token.clone())
                .send()
                .await
                .map_err(error(&format!("sqladmin backupRuns.list on {instance}")))?;
            if let Some(run) = page.items.iter().find(|r| r.description == description) {
                return Ok(Some(run.id));
            }
            if page.next_page_token.is_empty() {
                return Ok(None);
            }
            token = page.next_page_token;
        }
    }

    /// Waits until the backup run is SUCCESSFUL; any end state but that is an error.
    pub(super) async fn await_backup(
        &self,
        instance: &str,
        id: i64,
        step: &str,
    ) -> Result<BackupRun, String> {
        let started = Instant::now();
        loop {
            let run = self
                .clients
                .backup_runs
                .get()
                .set_project(self.project())
                .set_instance(instance)
                .set_id(id)
                .send()
                .await
                .map_err(error(&format!(
                    "sqladmin backupRuns.get {id} of {instance}"
                )))?;
            match run.status {
                SqlBackupRunStatus::Successful => return Ok(run),
                SqlBackupRunStatus::Failed
                | SqlBackupRunStatus::Deleted
                | SqlBackupRunStatus::Skipped
                | SqlBackupRunStatus::DeletionFailed => {
                    let why = run
                        .error
                        .as_ref()
                        .map(|e| format!(": {}: {}", e.code, e.message))
                        .unwrap_or_default();
                    return Err(format!(
                        "backup {id} of {instance} ended {}{why}",
                        run.status.name().unwrap_or("?")
                    ));
                }
                _ => self.progress(
                    step,
                    format!(
                        "backup {id} of {instance}: {}",
                        run.status.name().unwrap_or("?")
                    ),
                ),
            }
            if started.elapsed() > LONG_WAIT {
                return Err(format!(
                    "backup {id} of {instance} did not finish within 6 hours"
                ));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// A snapshot of the old data disk under the name `main.tf.json` creates the new disk
    /// from. A snapshot of that name is only adopted when this run's journal says it asked for
    /// it: one left by another run holds another moment's data.
    pub(super) async fn snapshot_data(&self, cx: &StepContext) -> Result<Value, String> {
        let from = self.from()?;
        let name = self.snapshot_name();
        let ours = cx.earlier_notes.iter().any(|n| n["snapshot"] == name);
        match self.get_snapshot(&name).await? {
            Some(found) if ours && found.status != Some(SnapshotStatus::Failed) => {}
            Some(_) if ours => {
                return Err(format!(
                    "snapshot {name} failed; delete it (gcloud compute snapshots delete {name}) and run `apply --resume`"
                ));
            }
            Some(_) => {
                return Err(format!(
                    "a snapshot named {name} exists already, from another run; delete it \
                     (gcloud compute snapshots delete {name}) or give existing snapshots under \
                     `snapshots:`"
                ));
            }
            None => {
                cx.note(json!({ "snapshot": name }))?;
                let labels = [
                    ("cloverlift-plan".to_owned(), self.spec.name.to_string()),
                    ("cloverlift-step".to_owned(), "snapshot-data".to_owned()),
                ];
                let body = Snapshot::new()
                    .set_name(name.clone())
                    .set_description(format!(
                        "CloverDX {} data disk {} during the pause (cloverlift plan {})",
                        self.spec.from.version, from.data_disk, self.spec.name
                    ))
                    .set_labels(labels);
                let started = self
                    .clients
                    .disks
                    .create_snapshot()
                    .set_project(self.project())
                    .set_zone(from.zone.as_str())
                    .set_disk(from.data_disk.as_str())
                    .set_body(body)
                    .send()
                    .await;
                self.wait_compute(
                    started,
                    &format!("compute disks.createSnapshot {name} of {}", from.data_disk),
                )
                .await?;
            }
        }
        // Writes to the disk are safe again once the snapshot is UPLOADING (Compute Engine's
        // snapshot documentation); resume waits for that.
        self.await_snapshot(&name, "snapshot-data", |s| {
            matches!(s, SnapshotStatus::Uploading | SnapshotStatus::Ready)
        })
        .await?;
        Ok(json!({ "snapshot": name }))
    }

    async fn get_snapshot(&self, name: &str) -> Result<Option<Snapshot>, String> {
        match self
            .clients
            .snapshots
            .get()
            .set_project(self.project())
            .set_snapshot(name)
            .send()
            .await
        {
            Ok(s) => Ok(Some(s)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(describe(&format!("compute snapshots.get {name}"), &e)),
        }
    }

    async fn await_snapshot(
        &self,
        name: &str,
        step: &str,
        done: impl Fn(&SnapshotStatus) -> bool,
    ) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let snapshot = self
                .get_snapshot(name)
                .await?
                .ok_or_else(|| format!("snapshot {name} is gone"))?;
            let status = snapshot.status.clone().unwrap_or(SnapshotStatus::Creating);
            if done(&status) {
                return Ok(());
            }
            if matches!(status, SnapshotStatus::Failed | SnapshotStatus::Deleting) {
                return Err(format!(
                    "snapshot {name} is {}",
                    status.name().unwrap_or("?")
                ));
            }
            self.progress(
                step,
                format!("snapshot {name}: {}", status.name().unwrap_or("?")),
            );
            if started.elapsed() > LONG_WAIT {
                return Err(format!("snapshot {name} was not ready within 6 hours"));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    /// Waits until the data snapshot is READY; the backup was SUCCESSFUL already.
    pub(super) async fn await_snapshots(&self, cx: &StepContext) -> Result<Value, String> {
        let started = Instant::now();
        let name = cx
            .output("snapshot-data")
            .and_then(|o| o["snapshot"].as_str())
            .ok_or("snapshot-data left no snapshot name")?
            .to_owned();
        let backup = cx
            .output("snapshot-database")
            .and_then(|o| o["backup_id"].as_str())
            .ok_or("snapshot-database left no backup id")?
            .to_owned();
        self.await_snapshot(&name, "await-snapshots", |s| *s == SnapshotStatus::Ready)
            .await?;
        Ok(json!({
            "data": name,
            "database": backup,
            "seconds": started.elapsed().as_secs_f64(),
        }))
    }
}

/// Backup run ids are int64; the journal and the spec hold them as text.
pub(super) fn parse_backup_id(text: &str) -> Result<i64, String> {
    text.parse()
        .map_err(|_| format!("{text:?} is not a Cloud SQL backup run id"))
}
