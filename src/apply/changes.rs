//! What an apply run changed, read back from its journal rather than guessed from which steps
//! finished: the summary after a failure says the old server is paused only when the journal
//! shows items disabled and not re-enabled, and suggests deleting only what exists.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::cloverdx;
use super::journal::{self, JournalError, Record};

/// The changes the journal records, across every run of the plan.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Schedules and listeners of the old server disabled and not re-enabled since.
    pub still_paused: BTreeSet<String>,
    /// Whether pause ever disabled anything.
    pub ever_paused: bool,
    /// Data disk snapshots started (EBS ids, Azure snapshot resource ids).
    pub volume_snapshots: BTreeSet<String>,
    /// RDS DB snapshots started (by identifier).
    pub db_snapshots: BTreeSet<String>,
    /// Database restore points journaled (Azure: the new server is restored to them).
    pub restore_points: BTreeSet<String>,
    /// Cloud SQL backup runs taken (Google Cloud), by id.
    pub backups: BTreeSet<String>,
    /// Whether a change set, stack or ARM deployment was created.
    pub stack_created: bool,
    /// Whether the old address moved to the new server.
    pub address_moved: bool,
    /// Whether a step touched the new server (license, re-enabled items).
    pub new_server_touched: bool,
    /// What cutover set out to move from the old server to the new one, and whether it was
    /// reversed since.
    pub cutover_moving: BTreeSet<String>,
    pub cutover_reversed: bool,
}

impl Changes {
    pub fn read(path: &Path) -> Result<Changes, JournalError> {
        let mut c = Changes::default();
        for record in journal::records(path)? {
            c.apply(&record);
        }
        Ok(c)
    }

    fn apply(&mut self, record: &Record) {
        match record {
            Record::Note { step, data, .. } => self.learn(step, data),
            Record::Finish { step, outputs, .. } | Record::Compensated { step, outputs, .. } => {
                self.learn(step, outputs)
            }
            _ => {}
        }
    }

    fn learn(&mut self, step: &str, data: &Value) {
        let ids = |v: &Value| -> Vec<String> {
            cloverdx::from_json(v)
                .into_iter()
                .map(|(_, id)| id)
                .collect()
        };
        match step {
            "pause" => {
                let disabled = ids(&data["disabled"]);
                self.ever_paused |= !disabled.is_empty();
                self.still_paused.extend(disabled);
            }
            "resume" => {
                for id in ids(&data["enabled"]) {
                    self.still_paused.remove(&id);
                }
            }
            "snapshot-data" => {
                if let Some(id) = data["snapshot"].as_str() {
                    self.volume_snapshots.insert(id.to_owned());
                }
            }
            "snapshot-database" => {
                if let Some(id) = data["snapshot"].as_str() {
                    self.db_snapshots.insert(id.to_owned());
                }
                if let Some(point) = data["restore_point"].as_str() {
                    self.restore_points.insert(point.to_owned());
                }
                if let Some(id) = data["backup_id"].as_str() {
                    self.backups.insert(id.to_owned());
                }
            }
            "deploy" => {
                self.stack_created |= data.get("change_set").is_some()
                    || data.get("StackId").is_some()
                    || data.get("deployment").is_some()
                    || data.get("deploymentId").is_some();
            }
            "move-address" => self.address_moved = true,
            "cutover" => {
                if let Some(moving) = data.get("moving").or_else(|| data.get("moved")) {
                    self.cutover_moving = ids(moving).into_iter().collect();
                    self.cutover_reversed = false;
                }
                if data["phase"] == "reversed" {
                    self.cutover_reversed = true;
                }
            }
            "activate" | "verify" => self.new_server_touched = true,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn note(step: &str, data: Value) -> Record {
        Record::Note {
            at: String::new(),
            step: step.into(),
            data,
        }
    }

    fn finish(step: &str, outputs: Value) -> Record {
        Record::Finish {
            at: String::new(),
            step: step.into(),
            seconds: 0.0,
            outputs,
        }
    }

    fn changes(records: &[Record]) -> Changes {
        let mut c = Changes::default();
        records.iter().for_each(|r| c.apply(r));
        c
    }

    #[test]
    fn a_pause_that_noted_nothing_paused_nothing() {
        let c = changes(&[note(
            "pause",
            json!({"disabled": {"schedules": [], "listeners": []}}),
        )]);
        assert!(!c.ever_paused && c.still_paused.is_empty());
    }

    #[test]
    fn items_stay_paused_until_resume_re_enables_them() {
        let paused = json!({"disabled": {"schedules": ["Nightly"], "listeners": ["Files"]}});
        let c = changes(&[note("pause", paused.clone())]);
        assert_eq!(c.still_paused.len(), 2);
        let c = changes(&[
            note("pause", paused),
            Record::Compensated {
                at: String::new(),
                step: "resume".into(),
                outputs: json!({"enabled": {"schedules": ["Nightly"], "listeners": ["Files"]}}),
            },
        ]);
        assert!(c.ever_paused && c.still_paused.is_empty());
    }

    #[test]
    fn created_resources_come_from_notes_and_outputs() {
        let c = changes(&[
            note("snapshot-database", json!({"snapshot": "db-snap"})),
            finish("snapshot-data", json!({"snapshot": "snap-1"})),
            note("deploy", json!({"change_set": "arn:cs"})),
        ]);
        assert_eq!(c.db_snapshots, BTreeSet::from(["db-snap".to_owned()]));
        assert_eq!(c.volume_snapshots, BTreeSet::from(["snap-1".to_owned()]));
        assert!(c.stack_created && !c.address_moved);
    }
}
