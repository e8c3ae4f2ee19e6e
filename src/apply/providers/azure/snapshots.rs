//! The two rollback points: an incremental snapshot of the old data disk, and the point in
//! time the new PostgreSQL flexible server is restored to (flexible servers restore by point in
//! time; there is no on-demand database snapshot to take).

use std::time::Instant;

use serde_json::{Value, json};

use super::{AzureProvider, api, arm_error};
use crate::apply::clock;
use crate::apply::executor::StepContext;

/// How long a snapshot copy may take before apply stops waiting.
const LONG_WAIT: std::time::Duration = std::time::Duration::from_secs(6 * 3600);

impl AzureProvider {
    /// Journals the restore point (now, after pause confirmed the pause and before resume) and
    /// proves the source server can be restored to it.
    pub(super) async fn snapshot_database(&self, cx: &StepContext) -> Result<Value, String> {
        let ids = self.ids()?;
        let earlier = cx
            .earlier_notes
            .iter()
            .find_map(|n| n["restore_point"].as_str().map(str::to_owned));
        let restore_point = match earlier {
            // A resumed run keeps the point its predecessor chose inside the pause window.
            Some(point) => point,
            None => {
                // Millisecond precision: rounding down could fall before the pause.
                let point = clock::rfc3339(clock::now_secs());
                cx.note(json!({ "restore_point": point }))?;
                point
            }
        };
        let server = self
            .arm
            .read(&ids.postgres, api::POSTGRES)
            .await
            .map_err(arm_error("PostgreSQL flexible server"))?;
        // ARM writes `+00:00` where the journal writes `Z`.
        let parse = |t: &str| crate::timestamp::parse_utc(&t.replace("+00:00", "Z"));
        if let Some(earliest) = server["properties"]["backup"]["earliestRestoreDate"].as_str()
            && let (Some(e), Some(r)) = (parse(earliest), parse(&restore_point))
            && e > r
        {
            return Err(format!(
                "{} can be restored from {earliest} on, not to {restore_point}",
                ids.postgres
            ));
        }
        Ok(json!({
            "restore_point": restore_point,
            "server": ids.postgres,
            "version": server["properties"]["version"],
        }))
    }

    /// An incremental `Copy` snapshot of the old data disk in the new resource group, named
    /// for this run and journaled before it is asked for, so a resume finds it.
    pub(super) async fn snapshot_data(&self, cx: &StepContext) -> Result<Value, String> {
        let ids = self.ids()?;
        let from = self.from()?;
        let earlier = cx
            .earlier_notes
            .iter()
            .find_map(|n| n["snapshot"].as_str().map(str::to_owned));
        let id = match earlier {
            Some(id) => id,
            None => {
                let id = format!(
                    "{}cloverlift-{}-data-{}",
                    ids.snapshot_prefix,
                    self.spec.name,
                    clock::now_secs() as u64
                );
                cx.note(json!({ "snapshot": id }))?;
                id
            }
        };
        if let Some(found) = self
            .arm
            .get(&id, api::DISKS)
            .await
            .map_err(arm_error("snapshot"))?
            && found["properties"]["provisioningState"] != "Failed"
        {
            return Ok(json!({ "snapshot": id }));
        }
        let body = json!({
            "location": from.location.as_str(),
            "tags": {
                "cloverlift-plan": self.spec.name.as_str(),
                "cloverlift-step": "snapshot-data",
            },
            "properties": {
                "creationData": { "createOption": "Copy", "sourceResourceId": ids.disk },
                "incremental": true,
            },
        });
        self.arm
            .put(&id, api::DISKS, &body)
            .await
            .map_err(arm_error("create the data disk snapshot"))?;
        Ok(json!({ "snapshot": id }))
    }

    /// Waits until the data snapshot can be copied: provisioned, and for an incremental
    /// snapshot its background copy at 100 percent.
    pub(super) async fn await_snapshots(&self, cx: &StepContext) -> Result<Value, String> {
        let id = cx
            .output("snapshot-data")
            .and_then(|o| o["snapshot"].as_str())
            .ok_or("snapshot-data left no snapshot id")?
            .to_owned();
        let restore_point = cx
            .output("snapshot-database")
            .and_then(|o| o["restore_point"].as_str())
            .ok_or("snapshot-database left no restore point")?
            .to_owned();
        let started = Instant::now();
        loop {
            let snapshot = self
                .arm
                .read(&id, api::DISKS)
                .await
                .map_err(arm_error("snapshot"))?;
            let p = &snapshot["properties"];
            let state = p["provisioningState"].as_str().unwrap_or("?");
            let percent = p["completionPercent"].as_f64();
            match state {
                "Succeeded" if percent.is_none_or(|c| c >= 100.0) => break,
                "Failed" | "Canceled" => return Err(format!("snapshot {id} ended {state}")),
                _ => self.progress(
                    "await-snapshots",
                    format!(
                        "{}: {state}, {}% copied",
                        id.rsplit('/').next().unwrap_or(&id),
                        percent.map_or("?".into(), |c| c.to_string())
                    ),
                ),
            }
            if started.elapsed() > LONG_WAIT {
                return Err(format!("snapshot {id} was not usable within 6 hours"));
            }
            tokio::time::sleep(self.poll).await;
        }
        Ok(json!({
            "data": id,
            "database": restore_point,
            "seconds": started.elapsed().as_secs_f64(),
        }))
    }
}
