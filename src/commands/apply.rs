//! `cloverlift apply SPEC [--dry-run] [--resume] [--yes]`: executes the plan, journaled under
//! `.cloverlift/<plan>/` so an interrupted apply resumes; the old version always ends resumed.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{Io, exit, load_checked, report_io};
use crate::apply::changes::Changes;
use crate::apply::cloverdx::CloverDx;
use crate::apply::events::{Event, Events, HumanEvents, JsonEvents};
use crate::apply::executor::{Executor, Outcome, Runner};
use crate::apply::journal::Journal;
use crate::apply::preflight::{self, Report};
use crate::apply::providers;
use crate::apply::runner::{CloudRunner, Provider};
use crate::apply::summary;
use crate::apply::tls::Tls;
use crate::plan::step::StepKind;
use crate::render::{self, TemplateSource};
use crate::spec::model::Spec;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec file.
    #[arg(value_name = "SPEC")]
    pub file: PathBuf,
    /// Print every call apply would make, in order, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Continue an interrupted apply: finished steps are skipped and their outputs reused.
    #[arg(long)]
    pub resume: bool,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// `human` progress on stderr, or `json` events (one per line) on stdout.
    #[arg(long, value_enum, default_value = "human")]
    pub format: EventFormat,
    /// Where journals live, one directory per plan; `.cloverlift` beside the spec when absent,
    /// so a resume finds the journal wherever it is run from.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Send the cloud's calls to this endpoint: AWS (also AWS_ENDPOINT_URL) or Azure Resource
    /// Manager.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Azure: accept the marketplace terms of the new image in the subscription when they are
    /// not accepted yet (otherwise the preflight stops and prints the command that does).
    #[arg(long)]
    pub accept_marketplace_terms: bool,
    /// Reach the new server at this URL instead of the deployment's ServerUrl output
    /// (a tunnel, a load balancer).
    #[arg(long, value_name = "URL")]
    pub new_server_url: Option<String>,
    /// Directory of template overrides, as for `render`.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Seconds the cutover may take (disable on the old server, drain, enable on the new one);
    /// past it, the cutover is reversed.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_CUTOVER_TIMEOUT)]
    pub cutover_timeout: u64,
    /// At cutover, import into the new server the schedules and listeners added or changed on
    /// the old server since the snapshot (without it, such drift stops the cutover).
    #[arg(long)]
    pub carry_config: bool,
    /// Seconds between polls of long waits (snapshots, stacks, health).
    #[arg(long, default_value_t = DEFAULT_POLL_SECONDS)]
    pub poll_seconds: u64,
}

const DEFAULT_POLL_SECONDS: u64 = 15;
const DEFAULT_CUTOVER_TIMEOUT: u64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventFormat {
    Human,
    Json,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    let prepared = match Prepared::load(
        &args.file,
        args.templates.as_ref(),
        args.new_server_url.as_deref(),
        args.endpoint_url.as_deref(),
        io,
    ) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let events: Arc<dyn Events> = match args.format {
        EventFormat::Json => Arc::new(JsonEvents::new(std::io::stdout())),
        EventFormat::Human => Arc::new(HumanEvents::new(std::io::stderr().is_terminal())),
    };
    let Prepared {
        spec,
        plan,
        artifacts,
        spec_sha256,
        spec_dir,
        runtime,
    } = prepared;
    let run = Run {
        args,
        spec,
        plan: &plan,
        spec_sha256,
        spec_dir,
        artifacts,
        events,
    };
    runtime.block_on(run.execute(io))
}

/// What apply and rollback both start from: the checked spec and plan, what it renders (the
/// templates apply deployed), the journal's key, the spec's directory and an async runtime.
pub(super) struct Prepared {
    pub spec: Arc<Spec>,
    pub plan: crate::plan::Plan,
    pub artifacts: render::Artifacts,
    pub spec_sha256: String,
    pub spec_dir: PathBuf,
    pub runtime: tokio::runtime::Runtime,
}

impl Prepared {
    pub(super) fn load(
        file: &Path,
        templates: Option<&PathBuf>,
        new_server_url: Option<&str>,
        endpoint_url: Option<&str>,
        io: &mut Io,
    ) -> Result<Prepared, u8> {
        let (valid, plan) = load_checked(file, io)?;
        let spec = Arc::new(valid.spec.clone());
        let urls = check_urls(new_server_url, endpoint_url, io);
        check_support(&spec, io).and(urls)?;
        let source = TemplateSource {
            override_dir: templates.cloned(),
        };
        let artifacts = render::Renderer::new(&source)
            .and_then(|r| r.render(&valid, &plan))
            .map_err(|e| {
                report_io(io, e);
                exit::USAGE
            })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| {
                let _ = writeln!(io.err, "error: cannot start the async runtime: {e}");
                exit::USAGE
            })?;
        Ok(Prepared {
            spec,
            plan,
            spec_sha256: journal_key(file, &artifacts),
            spec_dir: file
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|| PathBuf::from(".")),
            artifacts,
            runtime,
        })
    }
}

/// `--yes`, or a "y" to `question` on a terminal; `what` names the command in the refusal.
pub(super) fn confirm(yes: bool, what: &str, question: &str, io: &mut Io) -> Result<(), u8> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        let _ = writeln!(
            io.err,
            "error[apply::confirm]: refusing to {what} without --yes: no terminal to ask on"
        );
        return Err(exit::USAGE);
    }
    let _ = write!(io.err, "{question} [y/N] ");
    let _ = io.err.flush();
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        let _ = writeln!(io.err, "nothing changed");
        Err(exit::USAGE)
    }
}

/// This build drives AWS (architecture), Azure and Google Cloud (architecture and war).
pub(super) fn check_support(spec: &Spec, io: &mut Io) -> Result<(), u8> {
    if crate::apply::drives(spec) {
        return Ok(());
    }
    let _ = writeln!(
        io.err,
        "error[apply::unsupported]: apply drives AWS (architecture strategy) and Azure and \
         Google Cloud (both strategies) in this build; for this spec, run `cloverlift render` and deploy \
         the files with your cloud's tools"
    );
    Err(exit::USAGE)
}

/// The URLs given on the command line, before anything else (a dry run included).
pub(super) fn check_urls(
    new_server_url: Option<&str>,
    endpoint_url: Option<&str>,
    io: &mut Io,
) -> Result<(), u8> {
    if let Some(url) = new_server_url
        && crate::spec::checked::ServerUrl::try_from(url.to_owned()).is_err()
    {
        let _ = writeln!(
            io.err,
            "error[apply::new_server_url]: --new-server-url must be https (http only to localhost): \
             the server password is sent there"
        );
        return Err(exit::USAGE);
    }
    if let Some(url) = endpoint_url {
        let parsed = reqwest::Url::parse(url);
        if !parsed.is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some()) {
            let _ = writeln!(
                io.err,
                "error[apply::endpoint_url]: --endpoint-url {url:?} is not an http(s) URL with a host"
            );
            return Err(exit::USAGE);
        }
    }
    Ok(())
}

/// The journal is tied to the spec and to what it renders (template overrides included).
pub(super) fn journal_key(spec_file: &Path, artifacts: &render::Artifacts) -> String {
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(spec_file).unwrap_or_default());
    for (name, text) in &artifacts.files {
        hasher.update(name.as_bytes());
        hasher.update(text.as_bytes());
    }
    format!("{:x}", hasher.finalize())
}

/// One apply, in its phases: preflight, confirmation, journal, execution, summary.
struct Run<'a> {
    args: &'a Args,
    spec: Arc<Spec>,
    plan: &'a crate::plan::Plan,
    spec_sha256: String,
    spec_dir: PathBuf,
    artifacts: render::Artifacts,
    events: Arc<dyn Events>,
}

impl Run<'_> {
    async fn execute(self, io: &mut Io<'_>) -> u8 {
        let provider = match self.provider().await {
            Ok(p) => p,
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                return exit::USAGE;
            }
        };
        let (report, old) = self.preflight(provider.as_ref()).await;
        self.events.emit(&Event::Preflight {
            passed: report.passed(),
            problems: report.problems.clone(),
            warnings: report.warnings.clone(),
            checked: report.checked.clone(),
        });
        let Some((old, new_tls)) = old.filter(|_| report.passed()) else {
            return exit::APPLY_FAILED;
        };
        let runner = Arc::new(CloudRunner {
            spec: Arc::clone(&self.spec),
            spec_dir: self.spec_dir.clone(),
            old,
            new_tls,
            new_server_url: self.args.new_server_url.clone(),
            provider,
            events: Arc::clone(&self.events),
            poll: self.poll(),
            cutover: crate::apply::cutover::Options {
                timeout: Duration::from_secs(self.args.cutover_timeout.max(1)),
                carry_config: self.args.carry_config,
            },
        });
        if self.args.dry_run {
            self.describe(runner.as_ref());
            return exit::OK;
        }
        if let Err(code) = self.confirm(runner.as_ref(), io) {
            return code;
        }
        self.apply(runner, io).await
    }

    fn poll(&self) -> Duration {
        Duration::from_secs(self.args.poll_seconds.max(1))
    }

    async fn provider(&self) -> Result<Arc<dyn Provider>, String> {
        providers::for_spec(
            Arc::clone(&self.spec),
            providers::Inputs {
                endpoint_url: self.args.endpoint_url.as_deref(),
                files: &self.artifacts.files,
                spec_dir: self.spec_dir.clone(),
                accept_marketplace_terms: self.args.accept_marketplace_terms,
                events: Arc::clone(&self.events),
                poll: self.poll(),
            },
        )
        .await
    }

    /// Everything the run needs, proven with read-only calls before the first change; every
    /// problem is reported, not just the first. Gives the old server's client when its
    /// password and trust resolved, with the new server's trust.
    async fn preflight(&self, provider: &dyn Provider) -> (Report, Option<(CloverDx, Tls)>) {
        let mut report = Report::default();
        let password = preflight::password(&self.spec, &self.spec_dir, &mut report).await;
        preflight::license(&self.spec, &self.spec_dir, &mut report).await;
        let (old_tls, new_tls) = preflight::trust(&self.spec, &self.spec_dir, &mut report);
        let server = &self.spec.from.server;
        let old = match (password, &old_tls) {
            (Some(p), Some(tls)) => match CloverDx::new(
                server.url.as_str(),
                server.username.as_str(),
                &p,
                &server.endpoints,
                tls,
            ) {
                Ok(old) => Some(old),
                Err(e) => {
                    report.problem(format!("the old server's client: {e}"));
                    None
                }
            },
            _ => None,
        };
        if let Some(old) = &old {
            let pausing = self.plan.find(StepKind::Pause.id()).is_some();
            preflight::old_server(old, &self.spec, pausing, &mut report).await;
        }
        report.extend(provider.preflight().await);
        (report, old.zip(new_tls))
    }

    fn describe(&self, runner: &CloudRunner) {
        for &ix in &self.plan.schedule.order {
            let step = self.plan.step(ix);
            self.events.emit(&Event::Planned {
                step: step.id.clone(),
                calls: runner.describe(step),
            });
        }
    }

    /// `--yes`, or a "y" on a terminal after the plan's calls.
    fn confirm(&self, runner: &CloudRunner, io: &mut Io) -> Result<(), u8> {
        if !self.args.yes && std::io::stdin().is_terminal() {
            self.describe(runner);
        }
        let question = format!("apply plan {} now?", self.spec.name);
        confirm(self.args.yes, "apply", &question, io)
    }

    async fn apply(&self, runner: Arc<CloudRunner>, io: &mut Io<'_>) -> u8 {
        let dir = self.state_dir().join(self.spec.name.as_str());
        let (journal, history) = match Journal::open(
            &dir,
            self.spec.name.as_str(),
            &self.spec_sha256,
            self.args.resume,
        ) {
            Ok(j) => j,
            Err(e) => {
                report_io(io, e);
                return exit::USAGE;
            }
        };
        let journal_path = journal.path().to_path_buf();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let signals = Signals::listen();
        tokio::spawn(async move {
            signals.wait().await;
            let _ = stop_tx.send(true);
        });
        let executor = Executor {
            plan: self.plan,
            runner: runner as Arc<dyn Runner>,
            journal: Arc::new(Mutex::new(journal)),
            history,
            events: self.events.as_ref(),
            stop: stop_rx,
        };
        let outcome = executor.run().await;
        self.events.emit(&Event::Done {
            outcome: if outcome.succeeded {
                "succeeded".into()
            } else if outcome.interrupted {
                "interrupted".into()
            } else {
                "failed".into()
            },
            downtime_seconds: outcome.downtime_seconds,
        });
        if outcome.succeeded {
            return exit::OK;
        }
        self.summarize(&outcome, &journal_path, io);
        exit::APPLY_FAILED
    }

    fn state_dir(&self) -> PathBuf {
        self.args
            .state_dir
            .clone()
            .unwrap_or_else(|| self.spec_dir.join(".cloverlift"))
    }

    fn summarize(&self, outcome: &Outcome, journal: &Path, io: &mut Io) {
        let changes = Changes::read(journal).unwrap_or_default();
        let from = self.spec.from.aws.as_ref();
        let resume = self.resume_command();
        let journal = journal.display().to_string();
        let cx = summary::Context {
            plan: self.spec.name.as_str(),
            journal: &journal,
            resume_command: &resume,
            region: from.map(|f| f.region.as_str()),
            old_instance: from.map(|f| f.instance_id.as_str()),
            allocation: from.and_then(|f| f.elastic_ip.as_ref()).map(|a| a.as_str()),
            gcp: self
                .spec
                .from
                .gcp
                .as_ref()
                .map(|g| (g.project.as_str(), g.region.as_str())),
        };
        summary::write(io.err, outcome, &changes, &cx);
    }

    /// The command that continues this run, as typed: every option that changes where the
    /// journal is, what is called or how it is reported, shell-quoted where needed.
    fn resume_command(&self) -> String {
        let a = self.args;
        let mut words: Vec<String> = vec![
            "cloverlift".into(),
            "apply".into(),
            a.file.display().to_string(),
            "--resume".into(),
        ];
        let mut option = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                words.push(name.into());
                words.push(v);
            }
        };
        option(
            "--state-dir",
            a.state_dir.as_ref().map(|d| d.display().to_string()),
        );
        option("--endpoint-url", a.endpoint_url.clone());
        option("--new-server-url", a.new_server_url.clone());
        option(
            "--templates",
            a.templates.as_ref().map(|d| d.display().to_string()),
        );
        option(
            "--poll-seconds",
            (a.poll_seconds != DEFAULT_POLL_SECONDS).then(|| a.poll_seconds.to_string()),
        );
        option(
            "--cutover-timeout",
            (a.cutover_timeout != DEFAULT_CUTOVER_TIMEOUT).then(|| a.cutover_timeout.to_string()),
        );
        if a.carry_config {
            words.push("--carry-config".into());
        }
        if a.accept_marketplace_terms {
            words.push("--accept-marketplace-terms".into());
        }
        if a.format == EventFormat::Json {
            words.extend(["--format".into(), "json".into()]);
        }
        if a.yes {
            words.push("--yes".into());
        }
        words
            .iter()
            .map(|w| quoted(w))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A word as a POSIX shell reads it back: bare when it holds nothing special.
fn quoted(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.to_owned()
    } else {
        crate::render::escape::shell_word(word)
    }
}

/// Ctrl-C, SIGTERM and SIGHUP (a dropped SSH session), registered before the executor starts
/// so no signal takes the default action while the old server is paused. A signal that cannot
/// be listened for (SIGINT is ignored in background jobs of a non-interactive shell) is never
/// received.
struct Signals {
    #[cfg(unix)]
    streams: Vec<tokio::signal::unix::Signal>,
}

impl Signals {
    fn listen() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let streams = [
                SignalKind::interrupt(),
                SignalKind::terminate(),
                SignalKind::hangup(),
            ]
            .into_iter()
            .filter_map(|kind| signal(kind).ok())
            .collect();
            Signals { streams }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn wait(self) {
        #[cfg(unix)]
        {
            let waits = self.streams.into_iter().map(|mut s| {
                Box::pin(async move {
                    if s.recv().await.is_none() {
                        std::future::pending::<()>().await;
                    }
                })
            });
            let waits: Vec<_> = waits.collect();
            if waits.is_empty() {
                std::future::pending::<()>().await;
            }
            let _ = futures_select_all(waits).await;
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The first of several futures to finish.
async fn futures_select_all<F: std::future::Future<Output = ()> + Unpin>(mut futures: Vec<F>) {
    std::future::poll_fn(move |cx| {
        for f in futures.iter_mut() {
            if std::pin::Pin::new(f).poll(cx).is_ready() {
                return std::task::Poll::Ready(());
            }
        }
        std::task::Poll::Pending
    })
    .await
}
