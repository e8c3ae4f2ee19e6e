//! The steps every cloud shares: pause and resume on the old server, activate and verify on
//! the new one, and hooks. Everything that touches a cloud goes to the cloud's [`Provider`].
//! The old server is reached only through `old`, and only pause and resume use it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::cloverdx::{self, CloverDx};
use super::console_pin;
use super::events::{Event, Events};
use super::executor::{Runner, StepContext, StepFuture};
use super::preflight::PreflightFuture;
use super::secrets;
use super::tls::Tls;
use crate::plan::Step;

use crate::plan::step::StepKind;
use crate::spec::model::Spec;

/// The longest a hook may run.
const HOOK_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// A cloud's part of the plan.
pub trait Provider: Send + Sync + 'static {
    /// The calls `kind` makes, for `--dry-run`.
    fn describe(&self, kind: StepKind) -> Vec<String>;
    fn run(&self, kind: StepKind, cx: StepContext) -> StepFuture<'_>;
    /// Everything the run needs from the cloud, proven before anything changes: credentials,
    /// every named resource in the state the run expects. Read-only calls only.
    fn preflight(&self) -> PreflightFuture<'_>;
    /// The new server's URL from the deploy step's outputs.
    fn new_server_url(&self, cx: &StepContext) -> Option<String>;
    /// The new instance's console as the cloud keeps it (the boot guard prints the server's
    /// certificate there), as a JSON string; `null` while the cloud has none yet.
    fn console<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a>;
    /// The call `console` makes, for `--dry-run`; `None` where this provider does not read the
    /// console (the new server is then trusted as `to.server.tls` says, or by the system's roots).
    fn describe_console(&self) -> Option<String>;
    /// Rollback: the old address back on the old server.
    fn move_address_back<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a>;
    /// Rollback: the new server stopped, its deployment intact.
    fn stop_new<'a>(&'a self, deploy: &'a Value) -> StepFuture<'a>;
    /// Rollback with `--delete-new`: the new deployment deleted (stateful resources leave
    /// final snapshots).
    fn delete_new(&self) -> StepFuture<'_>;
}

pub struct CloudRunner {
    pub spec: Arc<Spec>,
    pub spec_dir: PathBuf,
    pub old: CloverDx,
    /// How the new server's certificate is trusted (`to.server.tls`).
    pub new_tls: Tls,
    /// Overrides the new server's URL (a tunnel, a load balancer, a test server).
    pub new_server_url: Option<String>,
    pub provider: Arc<dyn Provider>,
    pub events: Arc<dyn Events>,
    /// How often waits poll.
    pub poll: Duration,
    pub cutover: super::cutover::Options,
}

impl Runner for CloudRunner {
    fn describe(&self, step: &Step) -> Vec<String> {
        let e = &self.spec.from.server.endpoints;
        let old = |path: &crate::spec::checked::HttpPath| {
            self.old.display(cloverdx::Target::Api(path.as_str()))
        };
        match step.kind {
            StepKind::Pause => vec![
                format!(
                    "GET {}?include=schedules&include=eventListeners",
                    old(&e.config_export)
                ),
                "journal the enabled schedules and listeners".into(),
                format!(
                    "POST {}?dryRun=true, then ?dryRun=false (the same items, enabled=false; refused on any error in the server's report)",
                    old(&e.config_import)
                ),
                format!(
                    "GET {} (read back: every item disabled)",
                    old(&e.config_export)
                ),
                format!(
                    "GET {} until no job runs (at most {})",
                    old(&e.running_jobs),
                    self.spec.steps.pause.drain_timeout
                ),
            ],
            StepKind::Resume => vec![format!(
                "POST {} (exactly the items pause disabled, enabled=true)",
                old(&e.config_import)
            )],
            StepKind::Activate => self
                .console_call()
                .into_iter()
                .chain([
                format!(
                    "GET {} until 200 (503 SUSPENDED: the schema-patch dialog, to.database_patches {})",
                    self.new_server_display(cloverdx::Target::Api(e.health.as_str())),
                    match self.spec.to.database_patches {
                        crate::spec::model::DatabasePatches::Auto => "auto",
                        crate::spec::model::DatabasePatches::Confirm => "confirm",
                    }
                ),
                format!(
                    "GET {} (what pause disabled must be disabled there too)",
                    self.new_server_display(cloverdx::Target::Api(e.config_export.as_str()))
                ),
                format!(
                    "PUT {} (the license)",
                    self.new_server_display(cloverdx::Target::Api(e.license.as_str()))
                ),
            ])
            .collect(),
            StepKind::Verify => {
                let calls: Vec<String> = self
                    .spec
                    .steps
                    .verify
                    .checks
                    .iter()
                    .map(|c| match c {
                        crate::spec::model::Check::Http(p) => format!(
                            "GET {} until 2xx",
                            self.new_server_display(cloverdx::Target::Host(p.as_str()))
                        ),
                    })
                    .chain(self.spec.steps.verify.smoke.iter().map(|s| {
                        format!(
                            "POST {} (run {} in sandbox {}), then GET …/RUN_ID until FINISHED_OK (at most {})",
                            self.new_server_display(cloverdx::Target::Api(e.executions.as_str())),
                            s.job,
                            s.sandbox,
                            s.timeout
                        )
                    }))
                    .collect();
                calls
            }
            StepKind::Cutover => vec![
                format!(
                    "GET {} and the old server's export (guardrails; compare the configurations, --carry-config imports what drifted)",
                    self.new_server_display(cloverdx::Target::Api(e.health.as_str()))
                ),
                format!(
                    "POST {} (what the old server runs, enabled=false), then GET {} until no job runs",
                    old(&e.config_import),
                    old(&e.running_jobs)
                ),
                format!(
                    "POST {} (exactly that set, enabled=true), within --cutover-timeout ({}s), reversed on failure",
                    self.new_server_display(cloverdx::Target::Api(e.config_import.as_str())),
                    self.cutover.timeout.as_secs()
                ),
            ],
            StepKind::Hook => self.hook_description(step),
            other => self.provider.describe(other),
        }
    }

    fn run(&self, step: Step, cx: StepContext) -> StepFuture<'_> {
        Box::pin(async move {
            match step.kind {
                StepKind::Pause => self.pause(&cx).await,
                StepKind::Resume => self.resume(&cx).await,
                StepKind::Activate => self.activate(&cx).await,
                StepKind::Verify => self.verify(&cx).await,
                StepKind::Cutover => super::cutover::run(self, &cx).await,
                StepKind::Hook => self.hook(&step, &cx).await,
                other => self.provider.run(other, cx).await,
            }
        })
    }
}

impl CloudRunner {
    /// A URL on the new server for `--dry-run`: real when `--new-server-url` names it, else
    /// with `NEW_SERVER_URL` (the deployment's ServerUrl, ending in `/clover`) or
    /// `NEW_SERVER_HOST` (its scheme and host) standing in.
    fn new_server_display(&self, target: cloverdx::Target) -> String {
        match (&self.new_server_url, target) {
            (Some(base), _) => crate::apply::http_error::display_url(&cloverdx::url(base, target)),
            (None, cloverdx::Target::Api(path)) => format!("NEW_SERVER_URL{path}"),
            (None, cloverdx::Target::Host(path)) => format!("NEW_SERVER_HOST{path}"),
        }
    }

    pub(super) fn progress(&self, step: &str, message: impl Into<String>) {
        self.events.emit(&Event::Progress {
            step: step.into(),
            message: message.into(),
        });
    }

    /// Disable the enabled schedules and listeners, having journaled which they are, then wait
    /// for running jobs to finish.
    async fn pause(&self, cx: &StepContext) -> Result<Value, String> {
        let p = &self.spec.steps.pause;
        let (xml, enabled) = self.old.enabled(p.schedules, p.listeners).await?;
        super::server_config::check_identities(&xml)?;
        // An interrupted earlier pause may already have disabled some: they are in its notes.
        let mut disabled = enabled;
        for note in &cx.earlier_notes {
            disabled.extend(cloverdx::from_json(&note["disabled"]));
        }
        cx.note(json!({ "disabled": cloverdx::to_json(&disabled) }))?;
        self.old.set_enabled(&disabled, false).await?;
        // Read back: an import the server accepted but did not apply must not pass for a pause
        // while the snapshots are taken.
        let still = self.old.differing(&disabled, false).await?;
        if !still.is_empty() {
            return Err(format!(
                "still enabled after pause: {} (the server accepted the import but did not apply it)",
                still.join(", ")
            ));
        }
        self.progress(
            "pause",
            format!("disabled {} schedules and listeners", disabled.len()),
        );
        let started = Instant::now();
        let timeout = p.drain_timeout.std();
        loop {
            let jobs = self.old.running_jobs().await?;
            if jobs.is_empty() {
                break;
            }
            if started.elapsed() >= timeout {
                return Err(format!(
                    "{} jobs still run after drain_timeout {} ({}); the old server will be resumed",
                    jobs.len(),
                    p.drain_timeout,
                    jobs.join(", ")
                ));
            }
            self.progress("pause", format!("waiting for {} running jobs", jobs.len()));
            tokio::time::sleep(self.poll).await;
        }
        Ok(json!({
            "disabled": cloverdx::to_json(&disabled),
            "drained_seconds": started.elapsed().as_secs_f64(),
        }))
    }

    /// Re-enable exactly what pause disabled (from its outputs, or its notes if it never
    /// finished).
    async fn resume(&self, cx: &StepContext) -> Result<Value, String> {
        let mut disabled = cx
            .output("pause")
            .map(|o| cloverdx::from_json(&o["disabled"]))
            .unwrap_or_default();
        if disabled.is_empty() {
            disabled = cx
                .pause_notes()?
                .iter()
                .flat_map(|n| cloverdx::from_json(&n["disabled"]))
                .collect();
        }
        self.old.set_enabled(&disabled, true).await?;
        // Read back: every item must be enabled now, or resume has not done its job.
        let missing = self.old.differing(&disabled, true).await?;
        if !missing.is_empty() {
            return Err(format!(
                "still disabled after resume: {}",
                missing.join(", ")
            ));
        }
        Ok(json!({ "enabled": cloverdx::to_json(&disabled) }))
    }

    /// Once the new server answers: prove that what pause disabled is disabled there too (the
    /// restored database contains the pause), then install the license. A certificate read
    /// from the console is pinned for every later step (journaled in this step's outputs).
    async fn activate(&self, cx: &StepContext) -> Result<Value, String> {
        let pin = if self.console_pins() {
            Some(self.console_fingerprint(cx).await?)
        } else {
            None
        };
        let server = match pin {
            Some(pin) => self.new_server_with(cx, &Tls::pinned(pin, console_pin::FIELD)?)?,
            None => self.new_server(cx)?,
        };
        let mut out = self.activate_server(&server, cx).await?;
        if let Some(pin) = pin {
            out["tls_sha256"] = json!(super::boot_report::text(&pin));
        }
        Ok(out)
    }

    async fn activate_server(&self, server: &CloverDx, cx: &StepContext) -> Result<Value, String> {
        self.wait_healthy(server, "activate").await?;
        let checked = super::new_items::ensure_disabled(&self.old, server, cx).await?;
        let Some(license) = &self.spec.to.license else {
            return Ok(
                json!({ "server": server.base(), "license": "none", "checked_disabled": checked }),
            );
        };
        let secret = secrets::resolve(license, &self.spec_dir).await?;
        server.upload_license(secret.bytes().to_vec()).await?;
        Ok(json!({ "server": server.base(), "license": "installed", "checked_disabled": checked }))
    }

    /// Waits for the health page's 200. A server that waits at CloverDX's schema-patch dialog
    /// answers 503 `SUSPENDED` (the vendor's Docker HEALTHCHECK treats exactly that as
    /// suspended, cloverdx-server-docker `Dockerfile`) and waits for a person, so waiting out
    /// the timeout would only hide it: apply stops at once and says what to do.
    async fn wait_healthy(&self, server: &CloverDx, step: &str) -> Result<(), String> {
        let deadline = Instant::now() + self.spec.steps.verify.timeout.std();
        loop {
            match server.get_answer(server.health()).await {
                Ok((200, _)) => return Ok(()),
                Ok((503, body)) if body.trim() == "SUSPENDED" => {
                    return Err(super::patches::suspended(&self.spec, server));
                }
                Ok((status, _)) => self.progress(step, format!("server answers {status}; waiting")),
                Err(e) => self.progress(step, format!("server not reachable yet ({e})")),
            }
            if Instant::now() >= deadline {
                return Err(format!("{} did not become healthy in time", server.base()));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    async fn verify(&self, cx: &StepContext) -> Result<Value, String> {
        let server = self.new_server(cx)?;
        let v = &self.spec.steps.verify;
        let deadline = Instant::now() + v.timeout.std();
        let mut passed = Vec::new();
        for check in &v.checks {
            let crate::spec::model::Check::Http(path) = check;
            let target = cloverdx::Target::Host(path.as_str());
            let shown = server.display(target);
            loop {
                match server.get_status(target).await {
                    Ok(s) if (200..300).contains(&s) => {
                        passed.push(shown.clone());
                        break;
                    }
                    Ok(s) => self.progress("verify", format!("GET {shown}: {s}")),
                    Err(e) => self.progress("verify", e),
                }
                if Instant::now() >= deadline {
                    return Err(format!(
                        "check GET {shown} did not answer 2xx within {}",
                        v.timeout
                    ));
                }
                tokio::time::sleep(self.poll).await;
            }
        }
        let smoke = match &v.smoke {
            Some(smoke) => self.smoke(&server, smoke).await?,
            None => Value::Null,
        };
        // The new server's schedules and listeners stay disabled: cutover enables them, once
        // the old server has stopped running them.
        Ok(json!({ "server": server.base(), "checks": passed, "smoke": smoke }))
    }

    /// Runs the spec's smoke job on the new server once and waits for its end; anything but
    /// `FINISHED_OK` fails verify.
    async fn smoke(
        &self,
        server: &CloverDx,
        smoke: &crate::spec::model::Smoke,
    ) -> Result<Value, String> {
        let run = server
            .start_job(smoke.sandbox.as_str(), smoke.job.as_str())
            .await?;
        self.progress(
            "verify",
            format!("smoke job {} started (run {run})", smoke.job),
        );
        let deadline = Instant::now() + smoke.timeout.std();
        loop {
            let status = server.job_status(&run).await?;
            match status.as_str() {
                "FINISHED_OK" => {
                    return Ok(json!({ "job": smoke.job, "run": run, "status": status }));
                }
                "RUNNING" | "READY" | "ENQUEUED" | "WAITING" | "N_A" => {}
                _ => {
                    return Err(format!(
                        "smoke job {} (run {run}) ended {status}; see its log on the new server",
                        smoke.job
                    ));
                }
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "smoke job {} (run {run}) did not finish within {}",
                    smoke.job, smoke.timeout
                ));
            }
            tokio::time::sleep(self.poll).await;
        }
    }

    fn hook_description(&self, step: &Step) -> Vec<String> {
        let Some(hook) = step.hook.and_then(|i| self.spec.hooks.get(i)) else {
            return Vec::new();
        };
        match (&hook.command, &hook.http) {
            (Some(cmd), _) => vec![format!("run {}", cmd.join(" "))],
            (None, Some(h)) => vec![format!(
                "{} {}",
                serde_json::to_value(h.method)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                h.url
            )],
            _ => Vec::new(),
        }
    }

    async fn hook(&self, step: &Step, cx: &StepContext) -> Result<Value, String> {
        let hook = step
            .hook
            .and_then(|i| self.spec.hooks.get(i))
            .ok_or("unknown hook")?;
        let outputs = serde_json::to_string(&cx.outputs).unwrap_or_default();
        if let Some(cmd) = &hook.command {
            let (program, args) = cmd.split_first().ok_or("empty command")?;
            let child = tokio::process::Command::new(program)
                .args(args)
                .current_dir(&self.spec_dir)
                .env("CLOVERLIFT_PLAN", self.spec.name.as_str())
                .env("CLOVERLIFT_STEP", &step.id)
                .env("CLOVERLIFT_OUTPUTS", &outputs)
                .kill_on_drop(true)
                .output();
            // A hung hook must not hold up the steps (or the compensation) after it.
            let out = tokio::time::timeout(HOOK_TIMEOUT, child)
                .await
                .map_err(|_| format!("{program} did not finish within {HOOK_TIMEOUT:?}"))?
                .map_err(|e| format!("cannot run {program}: {e}"))?;
            let code = out.status.code();
            if !out.status.success() {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let tail: String = stderr
                    .chars()
                    .rev()
                    .take(400)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                return Err(format!("{program} exited with {code:?}: {}", tail.trim()));
            }
            return Ok(json!({ "exit_code": code }));
        }
        if let Some(h) = &hook.http {
            let method = serde_json::to_value(h.method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "POST".into());
            let method =
                reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
            let resp = reqwest::Client::builder()
                .timeout(HOOK_TIMEOUT)
                .build()
                .map_err(|e| e.to_string())?
                .request(method, h.url.as_str())
                .json(&json!({ "plan": self.spec.name, "step": step.id, "outputs": cx.outputs }))
                .send()
                .await
                .map_err(|e| format!("{}: {e}", h.url))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(format!("{} answered {status}", h.url));
            }
            return Ok(json!({ "status": status.as_u16() }));
        }
        Err("the hook has neither command nor http".into())
    }
}
