//! The switch-over from the old server to the new one. In this order, each phase journaled
//! before it acts: disable on the old server what it runs, wait for its running jobs, carry
//! configuration drift to the new server when asked, then enable exactly that set on the new
//! server. At no instant are the same schedule or listener enabled on both servers. Guardrails
//! run first (nothing changes when they fail); when a phase fails or the timeout passes, the
//! switch is reversed at once: the old server runs again, the new one does not.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::cloverdx::{self, CloverDx, Disabled};
use super::drift::Drift;
use super::executor::StepContext;
use super::runner::CloudRunner;
use super::server_config::{self, Kind};
use crate::spec::model::Enable;

/// `--cutover-timeout` and `--carry-config`.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub timeout: Duration,
    pub carry_config: bool,
}

impl Default for Options {
    fn default() -> Self {
        // RDS Blue/Green switchovers default to the same 300 s.
        Options {
            timeout: Duration::from_secs(300),
            carry_config: false,
        }
    }
}

/// What moves from the old server to the new one, and what drifted since the snapshot.
struct Move {
    items: Disabled,
    drift: Drift,
    old_xml: String,
}

pub async fn run(r: &CloudRunner, cx: &StepContext) -> Result<Value, String> {
    let new = r.new_server(cx)?;
    guardrails(&new).await?;
    let planned = plan(r, &new, cx).await?;
    cx.note(json!({ "phase": "planned", "moving": cloverdx::to_json(&planned.items) }))?;
    let started = Instant::now();
    let deadline = started + r.cutover.timeout;
    match switch(r, &new, cx, &planned, deadline).await {
        Ok(carried) => Ok(json!({
            "moved": cloverdx::to_json(&planned.items),
            "carried": carried,
            "removed_on_old": planned.drift.removed.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>(),
            "window_seconds": started.elapsed().as_secs_f64(),
            "run_history": "not carried: runs recorded by the old server after the snapshot stay in its database",
        })),
        Err(e) => {
            let back = switch_back(r, &new, cx, &planned.items).await;
            Err(match back {
                Ok(()) => format!(
                    "cutover failed ({e}) and was reversed: the old server runs its schedules and listeners again, the new one runs none"
                ),
                Err(b) => format!(
                    "cutover failed ({e}) and reversing it failed too ({b}): check both servers; `cloverlift rollback` retries"
                ),
            })
        }
    }
}

/// Before anything changes: the new server answers healthy (the plan then reads both servers'
/// configurations, which proves the old one answers).
async fn guardrails(new: &CloverDx) -> Result<(), String> {
    match new.get_status(new.health()).await? {
        200 => {}
        status => {
            return Err(format!(
                "the new server is not healthy ({} answers {status}); nothing was switched",
                new.display(new.health())
            ));
        }
    }
    Ok(())
}

/// The new server runs the version the spec upgrades to (its export's `cloverVersion`): a
/// deployment from the wrong image must not take the old server's work.
fn new_version(new_xml: &str, expected: &str) -> Result<(), String> {
    match server_config::clover_version(new_xml)? {
        Some(v) if server_config::is_release(&v, expected) => Ok(()),
        Some(v) => Err(format!(
            "the new server runs CloverDX {v}, not to.version {expected} (cloverVersion of its \
             configuration export): check the image; nothing was switched"
        )),
        None => Err(format!(
            "the new server's configuration export names no cloverVersion, so it cannot be \
             proven to run to.version {expected}; nothing was switched"
        )),
    }
}

/// The set that moves: what the old server ran at the start of the run (pause's set) and runs
/// now, narrowed to the kinds `steps.verify.enable` names when it names any, less what was
/// deleted from the old server since the snapshot. A resumed cutover keeps the set it noted.
async fn plan(r: &CloudRunner, new: &CloverDx, cx: &StepContext) -> Result<Move, String> {
    let old_xml = r.old.export().await?;
    let new_xml = new.export().await?;
    new_version(&new_xml, r.spec.to.version.as_str())?;
    let drift = Drift::between(&old_xml, &new_xml)?;
    if !drift.is_empty() && !r.cutover.carry_config {
        return Err(format!(
            "the old server's configuration changed since the snapshot: {}; run with --carry-config to import the added and changed items into the new server first, or make both the same by hand; nothing was switched",
            drift.lines().join(", ")
        ));
    }
    let noted = cx
        .earlier_notes
        .iter()
        .rev()
        .find_map(|n| n.get("moving").map(cloverdx::from_json));
    let mut items = match noted {
        Some(set) => set,
        None => {
            let mut set: Disabled = cx
                .output("pause")
                .map(|o| cloverdx::from_json(&o["disabled"]))
                .unwrap_or_default();
            set.extend(
                server_config::items(&old_xml)?
                    .into_iter()
                    .filter(|i| i.enabled)
                    .map(|i| (i.kind, i.identity)),
            );
            set
        }
    };
    let kinds = &r.spec.steps.verify.enable;
    items.retain(|(kind, id)| {
        let wanted = kinds.is_empty()
            || kinds.contains(&match kind {
                Kind::Schedule => Enable::Schedules,
                Kind::Listener => Enable::Listeners,
            });
        wanted && !drift.removed.contains(&(*kind, id.clone()))
    });
    Ok(Move {
        items,
        drift,
        old_xml,
    })
}

/// The phases, each noted before it acts; the deadline is checked between them, so no
/// request is cut off halfway.
async fn switch(
    r: &CloudRunner,
    new: &CloverDx,
    cx: &StepContext,
    planned: &Move,
    deadline: Instant,
) -> Result<Vec<String>, String> {
    let items = &planned.items;
    let in_time = |phase: &str| {
        if Instant::now() > deadline {
            Err(format!(
                "--cutover-timeout of {}s passed before {phase}",
                r.cutover.timeout.as_secs()
            ))
        } else {
            Ok(())
        }
    };
    cx.note(json!({ "phase": "disable-old" }))?;
    r.old.set_enabled(items, false).await?;
    drain(r, deadline).await?;
    let carry: BTreeSet<(Kind, String)> = planned
        .drift
        .added
        .union(&planned.drift.changed)
        .cloned()
        .collect();
    if !carry.is_empty() {
        in_time("carrying the configuration")?;
        cx.note(json!({ "phase": "carry", "items": cloverdx::to_json(&carry) }))?;
        new.import_items(&planned.old_xml, &carry, false).await?;
    }
    in_time("enabling the new server")?;
    cx.note(json!({ "phase": "enable-new" }))?;
    new.set_enabled(items, true).await?;
    confirm(r, new, items).await?;
    Ok(carry.into_iter().map(|(_, id)| id).collect())
}

/// Running jobs on the old server finish before the new one starts the same work.
async fn drain(r: &CloudRunner, deadline: Instant) -> Result<(), String> {
    loop {
        let jobs = r.old.running_jobs().await?;
        if jobs.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{} jobs still run on the old server ({}) at the cutover timeout",
                jobs.len(),
                jobs.join(", ")
            ));
        }
        tokio::time::sleep(r.poll.min(Duration::from_secs(5))).await;
    }
}

/// Read back: every moved item is enabled on the new server and on the old one none is.
async fn confirm(r: &CloudRunner, new: &CloverDx, items: &Disabled) -> Result<(), String> {
    let missing = new.differing(items, true).await?;
    let both = r.old.differing(items, false).await?;
    if !missing.is_empty() {
        return Err(format!(
            "not enabled on the new server: {}",
            missing.join(", ")
        ));
    }
    if !both.is_empty() {
        return Err(format!(
            "still enabled on the old server: {}",
            both.join(", ")
        ));
    }
    Ok(())
}

/// Reverse a switch: the new server first stops running the items, then the old one runs them
/// again, so they are never enabled on both. When the new server refuses the change, its read
/// back decides: the old server runs the items again only if none of them runs on the new one.
pub async fn switch_back(
    r: &CloudRunner,
    new: &CloverDx,
    cx: &StepContext,
    items: &Disabled,
) -> Result<(), String> {
    cx.note(json!({ "phase": "reversing" }))?;
    let disabled = new.set_enabled(items, false).await;
    let running = new.differing(items, false).await.map_err(|e| {
        format!(
            "cannot read the new server back ({e}); the old server is left stopped so nothing runs twice"
        )
    })?;
    if !running.is_empty() {
        return Err(format!(
            "the new server still runs {} ({}); the old server is left stopped so nothing runs twice",
            running.join(", "),
            disabled.err().unwrap_or_default()
        ));
    }
    r.old.set_enabled(items, true).await?;
    cx.note(json!({ "phase": "reversed" }))
}
