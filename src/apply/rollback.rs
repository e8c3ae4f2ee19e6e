//! `cloverlift rollback`: the reverse of a run's cutover, read from its journal. The new server
//! stops running what cutover moved before the old one runs it again (never both at once),
//! the address moves back when it had moved, and the new server is stopped, its deployment
//! left intact. Each phase is journaled before it acts and is idempotent, so an interrupted
//! rollback runs again to the same end.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::clock;
use super::cloverdx::{self, CloverDx, Disabled};
use super::journal::{Journal, Record};
use super::runner::Provider;

/// What the journal says the run did that rollback undoes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Undo {
    /// The items cutover moved (noted before it disabled anything).
    pub moved: Disabled,
    /// The deploy step's outputs (the new server's URL and instance).
    pub deploy: Value,
    /// Whether the address moved.
    pub address_moved: bool,
    /// The new server's certificate as activate pinned it from its console, if it did.
    pub tls_sha256: Option<String>,
}

impl Undo {
    /// From the journal's records; `None` when no cutover ever started.
    pub fn from_records(records: &[Record]) -> Option<Undo> {
        let mut undo = Undo::default();
        let mut cutover = false;
        for r in records {
            match r {
                Record::Note { step, data, .. } if step == "cutover" => {
                    if let Some(moving) = data.get("moving") {
                        cutover = true;
                        undo.moved = cloverdx::from_json(moving);
                    }
                }
                // A move that started may have gone part of the way (on Azure, the address
                // off the old NIC and not yet on the new one): moving it back is safe either
                // way, since each provider's move-back reads where the address is first.
                Record::Start { step, .. } if step == "move-address" => {
                    undo.address_moved = true;
                }
                Record::Finish { step, outputs, .. } => match step.as_str() {
                    "deploy" => undo.deploy = outputs.clone(),
                    "activate" => {
                        undo.tls_sha256 = outputs["tls_sha256"].as_str().map(str::to_owned)
                    }
                    "move-address" => undo.address_moved = true,
                    _ => {}
                },
                _ => {}
            }
        }
        cutover.then_some(undo)
    }
}

/// The calls rollback makes, for `--dry-run`.
pub fn describe(undo: &Undo, new: &str, old: &str, delete_new: bool) -> Vec<String> {
    let names: Vec<&str> = undo.moved.iter().map(|(_, id)| id.as_str()).collect();
    let mut calls = vec![
        format!("disable on the new server ({new}): {}", list(&names)),
        format!("re-enable on the old server ({old}): {}", list(&names)),
    ];
    if undo.address_moved {
        calls.push("move the address back to the old server".into());
    }
    calls.push("stop the new server's instance".into());
    if delete_new {
        calls.push(
            "delete the new deployment (its database and volume leave final snapshots)".into(),
        );
    }
    calls
}

fn list(items: &[&str]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

pub struct Rollback<'a> {
    pub undo: &'a Undo,
    pub old: &'a CloverDx,
    pub new: &'a CloverDx,
    pub provider: &'a dyn Provider,
    pub journal: Arc<Mutex<Journal>>,
    pub delete_new: bool,
}

impl Rollback<'_> {
    pub async fn run(&self) -> Result<Value, String> {
        let items = &self.undo.moved;
        self.note("disable-new")?;
        self.new.set_enabled(items, false).await?;
        self.note("enable-old")?;
        self.old.set_enabled(items, true).await?;
        let missing = self.old.differing(items, true).await?;
        if !missing.is_empty() {
            return Err(format!(
                "still disabled on the old server: {}",
                missing.join(", ")
            ));
        }
        let mut out = json!({ "re_enabled": cloverdx::to_json(items) });
        if self.undo.address_moved {
            self.note("move-address-back")?;
            out["address"] = self.provider.move_address_back(&self.undo.deploy).await?;
        }
        self.note("stop-new")?;
        out["stopped"] = self.provider.stop_new(&self.undo.deploy).await?;
        if self.delete_new {
            self.note("delete-new")?;
            out["deleted"] = self.provider.delete_new().await?;
        }
        self.note("done")?;
        Ok(out)
    }

    fn note(&self, phase: &str) -> Result<(), String> {
        let mut j = self
            .journal
            .lock()
            .map_err(|_| "journal lock poisoned".to_owned())?;
        j.append(&Record::Note {
            at: clock::rfc3339(clock::now_secs()),
            step: "rollback".into(),
            data: json!({ "phase": phase }),
        })
        .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(step: &str, data: Value) -> Record {
        Record::Note {
            at: String::new(),
            step: step.into(),
            data,
        }
    }

    #[test]
    fn no_cutover_means_nothing_to_roll_back() {
        let records = [note(
            "pause",
            json!({"disabled": {"schedules": ["a"], "listeners": []}}),
        )];
        assert_eq!(Undo::from_records(&records), None);
    }

    #[test]
    fn the_noted_set_and_the_address_move_are_found() {
        let records = [
            note(
                "cutover",
                json!({"phase": "planned", "moving": {"schedules": ["Nightly"], "listeners": []}}),
            ),
            Record::Finish {
                at: String::new(),
                step: "move-address".into(),
                seconds: 1.0,
                outputs: json!({}),
            },
        ];
        let undo = Undo::from_records(&records).expect("a cutover");
        assert_eq!(undo.moved.len(), 1);
        assert!(undo.address_moved);
    }

    #[test]
    fn a_move_that_only_started_is_moved_back_too() {
        let records = [
            note(
                "cutover",
                json!({"phase": "planned", "moving": {"schedules": ["Nightly"], "listeners": []}}),
            ),
            Record::Start {
                at: String::new(),
                step: "move-address".into(),
            },
        ];
        assert!(
            Undo::from_records(&records)
                .expect("a cutover")
                .address_moved
        );
    }
}
