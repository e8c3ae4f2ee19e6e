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
    /// Journals the restore point (on Azure's clock, after pause confirmed the pause and before
    /// resume) and proves the source server can be restored to it.
    pub(super) async fn snapshot_database(&self, cx: &StepContext) -> Result<Value, String> {
        let ids = self.ids()?;
        let earlier = cx
            .earlier_notes
            .iter()
            .find_map(|n| n["restore_point"].as_str().map(str::to_owned));
        let (server, restore_point) = match earlier {
            // A resumed run keeps the point its predecessor chose inside the pause window.
            Some(point) => {
                let (server, _) = self.dated_server(&ids.postgres).await?;
                (server, point)
            }
            None => self.restore_point_in_pause(&ids.postgres, cx).await?,
        };
        let point = crate::timestamp::parse_utc(&restore_point).ok_or_else(|| {
            format!("the journaled restore point {restore_point:?} is not a time")
        })?;
        self.wait_until_past(&ids.postgres, point).await?;
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

    /// The restore point on Azure's clock, not this machine's (a local clock that runs ahead
    /// could put the point after resume, and the restored database would run the schedules
    /// the old server runs again). ARM's `Date` has whole seconds: an answer dated D came at
    /// D or within the next second, and pause had finished before the request, so D + 1 is
    /// after the pause. The step then waits until ARM's clock is past D + 1, so resume, which
    /// starts after this step, comes after the point.
    async fn restore_point_in_pause(
        &self,
        server_id: &str,
        cx: &StepContext,
    ) -> Result<(Value, String), String> {
        let (server, date) = self.dated_server(server_id).await?;
        let text = clock::rfc3339(date + 1.0);
        cx.note(json!({ "restore_point": text }))?;
        Ok((server, text))
    }

    /// Waits until ARM's clock is surely past `point`: an answer dated `point + 1` or later.
    async fn wait_until_past(&self, server_id: &str, point: f64) -> Result<(), String> {
        let started = Instant::now();
        loop {
            let (_, now) = self.dated_server(server_id).await?;
            if now >= point + 1.0 {
                return Ok(());
            }
            if started.elapsed() > std::time::Duration::from_secs(60) {
                return Err("Azure's clock did not pass the restore point within a minute".into());
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
    }

    async fn dated_server(&self, id: &str) -> Result<(Value, f64), String> {
        self.arm
            .read_dated(id, api::POSTGRES)
            .await
            .map_err(arm_error("PostgreSQL flexible server"))
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
