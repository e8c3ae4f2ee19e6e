//! The war strategy on Google Cloud. Compute Engine has no run command and cloverlift holds no
//! SSH key, so apply runs the rendered `war-upgrade.sh` through the old instance's startup
//! script for one boot: stop-service puts `war-startup.sh` in the instance's metadata (saving
//! the keys it replaces under `cloverlift-before-…`), restarts the instance (a graceful stop
//! and a start, so Tomcat shuts down cleanly and a static address stays), and the script runs
//! `stop`, `replace` and `start`, reporting each as a guest attribute that the three steps read
//! with `instances.getGuestAttributes`. start-service puts the metadata back, whether or not
//! the run succeeded. When the run ended before `start` (a failed replace), start-service, run
//! as the compensation, boots the instance once more with only `start`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::clients::{error, is_not_found};
use super::{GcpProvider, Power};
use crate::apply::clock;
use crate::apply::executor::StepContext;
use crate::plan::step::StepKind;

/// The run apply asked for: the guest attributes' key prefix.
const RUN_KEY: &str = "cloverlift-war-run";
/// The actions the run performs, in order, separated by spaces.
const ACTIONS_KEY: &str = "cloverlift-war-actions";
/// war-upgrade.sh, which the startup script fetches from the metadata server.
const UPGRADE_KEY: &str = "cloverlift-war-upgrade";
const URL_KEY: &str = "cloverlift-war-url";
const SHA256_KEY: &str = "cloverlift-war-sha256";
/// The keys apply owns while a run is in the metadata.
const OWN_KEYS: [&str; 5] = [RUN_KEY, ACTIONS_KEY, UPGRADE_KEY, URL_KEY, SHA256_KEY];
/// Keys apply sets and the instance may have had before: saved under this prefix, put back.
const REPLACED_KEYS: [&str; 2] = ["startup-script", "enable-guest-attributes"];
const SAVED_PREFIX: &str = "cloverlift-before-";
/// The guest attribute namespace war-startup.sh writes.
const NAMESPACE: &str = "cloverlift";
/// How long one action may take to report, boot included: `start` alone waits up to 15
/// minutes for the health page, `replace` downloads the WAR.
const REPORT_WAIT: Duration = Duration::from_secs(3600);
/// Compute Engine serves at most 10 guest attribute queries a minute per instance.
const MIN_REPORT_POLL: Duration = Duration::from_secs(6);

/// What the startup script reported for one action.
enum Report {
    /// The action ran: its exit status and the tail of its stderr.
    Ran { status: i64, stderr: String },
    /// The run ended without running it, after `last` exited `status`.
    Skipped { last: String, status: String },
}

impl GcpProvider {
    pub(super) async fn war_step(&self, kind: StepKind, cx: &StepContext) -> Result<Value, String> {
        match kind {
            StepKind::StopService => self.stop_service(cx).await,
            StepKind::ReplaceWar => self.replace_war(cx).await,
            StepKind::StartService => {
                let started = self.start_service(cx).await;
                // The metadata goes back even when start failed: the old instance keeps no
                // trace of the run beyond its guest attributes.
                with_restored(started, self.restore_metadata().await)
            }
            other => Err(format!("{other} is not a war step")),
        }
    }

    pub(super) fn describe_war(&self, kind: StepKind) -> Vec<String> {
        let Ok(from) = self.from() else {
            return Vec::new();
        };
        let instance = format!(
            "compute projects/{}/zones/{}/instances/{}",
            self.project(),
            from.zone,
            from.instance
        );
        let read = |action: &str| {
            format!(
                "GET {instance}/getGuestAttributes?queryPath={NAMESPACE}/ until war-upgrade.sh {action} reports: exit status 0"
            )
        };
        match kind {
            StepKind::StopService => vec![
                format!(
                    "POST {instance}/setMetadata (startup-script: war-startup.sh, {UPGRADE_KEY}: war-upgrade.sh, {ACTIONS_KEY}: stop replace start, enable-guest-attributes; the replaced keys saved as {SAVED_PREFIX}…)"
                ),
                format!("POST {instance}/stop, then /start (the startup script runs at boot)"),
                read("stop"),
            ],
            StepKind::ReplaceWar => vec![read(
                "replace (the WAR from to.war.url, its sha256 checked)",
            )],
            StepKind::StartService => vec![
                read("start"),
                format!(
                    "(a run that ended before start: setMetadata with {ACTIONS_KEY}: start, stop and start the instance)"
                ),
                format!(
                    "POST {instance}/setMetadata (the saved keys back, the run's keys removed)"
                ),
            ],
            _ => Vec::new(),
        }
    }

    async fn stop_service(&self, cx: &StepContext) -> Result<Value, String> {
        let run = match self.begin_run(cx, &["stop", "replace", "start"]).await {
            Ok(run) => run,
            // No boot ran the script: the metadata goes back now, and start-service (the
            // compensation) finds no run and only makes sure the instance runs.
            Err(e) => return with_restored(Err(e), self.restore_metadata().await),
        };
        let outcome = self.await_report(&run, "stop").await?;
        self.action_result(&run, "stop", outcome)
    }

    async fn replace_war(&self, cx: &StepContext) -> Result<Value, String> {
        let run = cx
            .output("stop-service")
            .and_then(|o| o["run"].as_str())
            .ok_or("stop-service recorded no run")?
            .to_owned();
        let outcome = self.await_report(&run, "replace").await?;
        self.action_result(&run, "replace", outcome)
    }

    /// Waits for the run's `start`; boots a start-only run when the run ended before it. With
    /// no run in the metadata, the instance was never booted for one: it only needs to run.
    async fn start_service(&self, cx: &StepContext) -> Result<Value, String> {
        // A start-only run this step began before an interruption: see it through.
        if cx.earlier_notes.iter().any(|n| n["run"].is_string()) {
            return self.start_only_run(cx).await;
        }
        let run = match cx.output("stop-service").and_then(|o| o["run"].as_str()) {
            Some(run) => Some(run.to_owned()),
            None => value_of(&self.old_metadata().await?.1, RUN_KEY).map(str::to_owned),
        };
        let Some(run) = run else {
            return self.ensure_running().await;
        };
        match self.await_report(&run, "start").await? {
            Report::Skipped { last, status } => {
                self.progress(
                    "start-service",
                    format!("run {run} ended at {last} (exit status {status}); booting once more to start"),
                );
                self.start_only_run(cx).await
            }
            outcome => self.action_result(&run, "start", outcome),
        }
    }

    async fn start_only_run(&self, cx: &StepContext) -> Result<Value, String> {
        let run = self.begin_run(cx, &["start"]).await?;
        let outcome = self.await_report(&run, "start").await?;
        self.action_result(&run, "start", outcome)
    }

    /// The compensation after a stop-service that failed before its boot: the instance starts
    /// as it always does, if it was stopped at all.
    async fn ensure_running(&self) -> Result<Value, String> {
        let from = self.from()?;
        let instance = self.old_instance().await?;
        let status = instance.status.and_then(|s| s.name().map(str::to_owned));
        if status.as_deref() == Some("RUNNING") {
            return Ok(
                json!({ "action": "start", "skipped": "no run reached the instance: it kept running" }),
            );
        }
        let name = from.instance.as_str();
        self.power(name, Power::Start).await?;
        Ok(json!({ "action": "start", "started": name }))
    }

    fn action_result(&self, run: &str, action: &str, outcome: Report) -> Result<Value, String> {
        let instance = self.from().map_or("?", |f| f.instance.as_str());
        match outcome {
            Report::Ran { status: 0, stderr } => {
                self.progress(
                    &step_of(action),
                    format!("war-upgrade.sh {action}: exit status 0"),
                );
                Ok(json!({ "run": run, "action": action, "exit_code": 0, "stderr": stderr }))
            }
            Report::Ran { status, stderr } => Err(format!(
                "war-upgrade.sh {action} on {instance} exited {status}; its stderr ends: {stderr}"
            )),
            Report::Skipped { last, status } => Err(format!(
                "war-upgrade.sh {action} never ran on {instance}: run {run} ended at {last} (exit status {status})"
            )),
        }
    }

    /// Puts a run in the metadata and restarts the instance, once: the run's name is journaled
    /// first, so a resumed step finds its run instead of starting another.
    async fn begin_run(&self, cx: &StepContext, actions: &[&str]) -> Result<String, String> {
        let noted = cx
            .earlier_notes
            .iter()
            .find_map(|n| n["run"].as_str().map(str::to_owned));
        let run = match noted {
            Some(run) => run,
            None => {
                // Milliseconds: two runs of one instance never share a name (a completed run's
                // name makes the script skip it).
                let run = format!("w{:x}", (clock::now_secs() * 1000.0) as u64);
                cx.note(json!({ "run": run }))?;
                run
            }
        };
        self.set_run_metadata(&run, actions).await?;
        self.restart(cx, &run).await?;
        Ok(run)
    }

    /// The old instance's metadata.
    async fn old_metadata(&self) -> Result<(Value, Vec<Value>), String> {
        self.metadata(self.from()?.instance.as_str()).await
    }

    async fn write_old_metadata(
        &self,
        fingerprint: &Value,
        items: Vec<Value>,
        what: &str,
    ) -> Result<(), String> {
        let name = self.from()?.instance.as_str();
        self.set_metadata(name, fingerprint, items, what).await
    }

    async fn set_run_metadata(&self, run: &str, actions: &[&str]) -> Result<(), String> {
        let (startup, upgrade) = self
            .war_scripts
            .as_ref()
            .ok_or("the rendered war-startup.sh and war-upgrade.sh are missing")?;
        let war = self
            .spec
            .to
            .war
            .as_ref()
            .ok_or("the war strategy needs to.war")?;
        let url = war
            .url
            .as_ref()
            .ok_or("apply on Google Cloud needs to.war.url: the instance downloads the WAR")?;
        let (fingerprint, mut items) = self.old_metadata().await?;
        if value_of(&items, RUN_KEY) == Some(run) {
            return Ok(());
        }
        // An earlier run still in the metadata means its saved keys are the instance's own:
        // saving again would save apply's script as the instance's.
        if value_of(&items, RUN_KEY).is_none() {
            let saved: Vec<Value> = REPLACED_KEYS
                .iter()
                .filter_map(|k| {
                    value_of(&items, k)
                        .map(|v| json!({ "key": format!("{SAVED_PREFIX}{k}"), "value": v }))
                })
                .collect();
            items.retain(|i| !is_saved(key(i)));
            items.extend(saved);
        }
        items.retain(|i| !is_own(key(i)) && !is_replaced(key(i)));
        for (key, value) in [
            ("startup-script", startup.as_str()),
            ("enable-guest-attributes", "TRUE"),
            (RUN_KEY, run),
            (ACTIONS_KEY, &actions.join(" ")),
            (UPGRADE_KEY, upgrade.as_str()),
            (URL_KEY, url.as_str()),
            (SHA256_KEY, war.sha256.as_str()),
        ] {
            items.push(json!({ "key": key, "value": value }));
        }
        self.write_old_metadata(
            &fingerprint,
            items,
            &format!("run {run} ({})", actions.join(" ")),
        )
        .await
    }

    /// Puts back what the run replaced and removes what it added; nothing when no run is there.
    async fn restore_metadata(&self) -> Result<(), String> {
        let (fingerprint, items) = self.old_metadata().await?;
        let touched = items.iter().any(|i| is_own(key(i)) || is_saved(key(i)));
        if !touched {
            return Ok(());
        }
        let mut kept: Vec<Value> = items
            .iter()
            .filter(|i| !is_own(key(i)) && !is_replaced(key(i)) && !is_saved(key(i)))
            .cloned()
            .collect();
        for key in REPLACED_KEYS {
            if let Some(v) = value_of(&items, &format!("{SAVED_PREFIX}{key}")) {
                kept.push(json!({ "key": key, "value": v }));
            }
        }
        self.write_old_metadata(&fingerprint, kept, "the instance's own startup script back")
            .await
    }

    /// A graceful stop, then a start: the boot runs the startup script. Each half is journaled
    /// when done, so a resume neither restarts a booted instance (which would cut an action
    /// short) nor skips the boot.
    async fn restart(&self, cx: &StepContext, run: &str) -> Result<(), String> {
        let noted = |what: &str| {
            cx.earlier_notes
                .iter()
                .any(|n| n[what].as_str() == Some(run))
        };
        if noted("started") {
            return Ok(());
        }
        let name = self.from()?.instance.as_str();
        if !noted("stopped") {
            let status = self
                .old_instance()
                .await?
                .status
                .and_then(|s| s.name().map(str::to_owned));
            if status.as_deref() != Some("TERMINATED") {
                self.progress(
                    "stop-service",
                    format!("stopping {name} (graceful shutdown) to boot it with war-startup.sh"),
                );
                self.power(name, Power::Stop).await?;
            }
            cx.note(json!({ "stopped": run }))?;
        }
        self.power(name, Power::Start).await?;
        cx.note(json!({ "started": run }))?;
        Ok(())
    }

    /// Polls the run's guest attributes until `action` reports or the run ends without it.
    async fn await_report(&self, run: &str, action: &str) -> Result<Report, String> {
        let from = self.from()?;
        let step = step_of(action);
        let began = Instant::now();
        let poll = self.poll.max(MIN_REPORT_POLL);
        loop {
            let reports = self.guest_attributes().await?;
            let find = |key: &str| {
                reports
                    .iter()
                    .find(|(k, _)| k == &format!("{run}-{key}"))
                    .map(|(_, v)| v.as_str())
            };
            if let Some(value) = find(action) {
                let (status, stderr) = value.split_once(' ').unwrap_or((value, ""));
                let status = status.parse::<i64>().map_err(|_| {
                    format!("guest attribute {NAMESPACE}/{run}-{action} is not a report: {value}")
                })?;
                return Ok(Report::Ran {
                    status,
                    stderr: crate::text::printable(stderr.trim()).into_owned(),
                });
            }
            if let Some(end) = find("end") {
                let (last, status) = end.split_once(' ').unwrap_or((end, "?"));
                return Ok(Report::Skipped {
                    last: crate::text::printable(last).into_owned(),
                    status: crate::text::printable(status).into_owned(),
                });
            }
            if began.elapsed() > REPORT_WAIT {
                return Err(format!(
                    "war-upgrade.sh {action} on {} did not report within {} min: see the boot's log (gcloud compute instances get-serial-port-output {} --zone {}), and check that the guest agent runs and that no organization policy forbids guest attributes",
                    from.instance,
                    REPORT_WAIT.as_secs() / 60,
                    from.instance,
                    from.zone
                ));
            }
            self.progress(
                &step,
                format!("waiting for war-upgrade.sh {action} (run {run})"),
            );
            tokio::time::sleep(poll).await;
        }
    }

    /// The `cloverlift/` guest attributes of the old instance, as (key, value). Compute
    /// answers 404 while the instance has none.
    async fn guest_attributes(&self) -> Result<Vec<(String, String)>, String> {
        let from = self.from()?;
        let got = self
            .clients
            .instances
            .get_guest_attributes()
            .set_project(self.project())
            .set_zone(from.zone.as_str())
            .set_instance(from.instance.as_str())
            .set_query_path(format!("{NAMESPACE}/"))
            .send()
            .await;
        let attributes = match got {
            Ok(a) => a,
            Err(e) if is_not_found(&e) => return Ok(Vec::new()),
            Err(e) => {
                return Err(error(&format!(
                    "compute instances.getGuestAttributes {}",
                    from.instance
                ))(e));
            }
        };
        Ok(attributes
            .query_value
            .map(|v| v.items)
            .unwrap_or_default()
            .into_iter()
            .filter(|e| e.namespace.as_deref() == Some(NAMESPACE))
            .filter_map(|e| Some((e.key?, e.value.unwrap_or_default())))
            .collect())
    }
}

fn value_of<'a>(items: &'a [Value], key: &str) -> Option<&'a str> {
    items
        .iter()
        .find(|i| i["key"] == key)
        .and_then(|i| i["value"].as_str())
}

/// A step's result with the metadata restore's: both errors when both failed.
fn with_restored<T>(result: Result<T, String>, restored: Result<(), String>) -> Result<T, String> {
    match (result, restored) {
        (Ok(v), Ok(())) => Ok(v),
        (Err(e), Ok(())) | (Ok(_), Err(e)) => Err(e),
        (Err(e), Err(r)) => Err(format!("{e}; and {r}")),
    }
}

fn key(item: &Value) -> &str {
    item["key"].as_str().unwrap_or_default()
}

fn is_own(key: &str) -> bool {
    OWN_KEYS.contains(&key)
}

fn is_replaced(key: &str) -> bool {
    REPLACED_KEYS.contains(&key)
}

fn is_saved(key: &str) -> bool {
    key.starts_with(SAVED_PREFIX)
}

fn step_of(action: &str) -> String {
    match action {
        "stop" => "stop-service",
        "replace" => "replace-war",
        _ => "start-service",
    }
    .to_owned()
}
