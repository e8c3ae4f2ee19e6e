//! `cloverlift apply SPEC [--dry-run] [--resume] [--yes]`: executes the plan, journaled under
//! `.cloverlift/<plan>/` so an interrupted apply resumes; the old version always ends resumed.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::{Io, exit, load_checked, report_io};
use crate::apply::events::{Event, Events, HumanEvents, JsonEvents};
use crate::apply::executor::{Executor, Outcome, Runner};
use crate::apply::journal::Journal;
use crate::apply::runner::CloudRunner;
use crate::render::{self, TemplateSource};
use crate::spec::model::{Cloud, Strategy};

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
    /// Send AWS calls to this endpoint (also AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Reach the new server at this URL instead of the deployment's ServerUrl output
    /// (a tunnel, a load balancer).
    #[arg(long, value_name = "URL")]
    pub new_server_url: Option<String>,
    /// Directory of template overrides, as for `render`.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Seconds between polls of long waits (snapshots, stacks, health).
    #[arg(long, default_value_t = 15)]
    pub poll_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventFormat {
    Human,
    Json,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    let (valid, plan) = match load_checked(&args.file, io) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let spec = Arc::new(valid.spec.clone());
    if spec.cloud != Cloud::Aws || spec.strategy != Strategy::Architecture {
        let _ = writeln!(
            io.err,
            "error[apply::unsupported]: apply drives the architecture strategy on AWS in this build; \
             for this spec, run `cloverlift render` and deploy the files with your cloud's tools"
        );
        return exit::USAGE;
    }
    let source = TemplateSource {
        override_dir: args.templates.clone(),
    };
    let artifacts = match render::Renderer::new(&source).and_then(|r| r.render(&valid, &plan)) {
        Ok(a) => a,
        Err(e) => {
            report_io(io, e);
            return exit::USAGE;
        }
    };
    if let Some(url) = &args.new_server_url
        && crate::spec::checked::ServerUrl::try_from(url.clone()).is_err()
    {
        let _ = writeln!(
            io.err,
            "error[apply::new_server_url]: --new-server-url must be https (http only to localhost): \
             the server password is sent there"
        );
        return exit::USAGE;
    }
    let events: Arc<dyn Events> = match args.format {
        EventFormat::Json => Arc::new(JsonEvents::new(std::io::stdout())),
        EventFormat::Human => Arc::new(HumanEvents::new(std::io::stderr().is_terminal())),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(io.err, "error: cannot start the async runtime: {e}");
            return exit::USAGE;
        }
    };
    // The journal is tied to the spec and to what it renders (template overrides included).
    let mut hasher = Sha256::new();
    hasher.update(std::fs::read(&args.file).unwrap_or_default());
    for (name, text) in &artifacts.files {
        hasher.update(name.as_bytes());
        hasher.update(text.as_bytes());
    }
    let spec_sha256 = format!("{:x}", hasher.finalize());
    let spec_dir = args
        .file
        .parent()
        .map(|p| p.to_path_buf())
        .unwrap_or_else(|| PathBuf::from("."));
    runtime.block_on(async {
        let template = artifacts
            .files
            .get("cloudformation.yaml")
            .cloned()
            .unwrap_or_default();
        let parameters = artifacts
            .files
            .get("cloudformation.parameters.json")
            .cloned()
            .unwrap_or_else(|| "[]".into());
        let poll = Duration::from_secs(args.poll_seconds.max(1));
        let provider = match crate::apply::aws::AwsProvider::new(
            Arc::clone(&spec),
            args.endpoint_url.as_deref(),
            template,
            &parameters,
            Arc::clone(&events),
            poll,
        )
        .await
        {
            Ok(p) => p,
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                return exit::USAGE;
            }
        };
        // The password is resolved before anything changes; a missing secret stops here.
        let password = if args.dry_run {
            String::new()
        } else {
            match crate::apply::secrets::resolve(&spec.from.server.password, &spec_dir).await {
                Ok(s) => match s.text() {
                    Ok(t) => t,
                    Err(e) => {
                        let _ = writeln!(io.err, "error: from.server.password: {e}");
                        return exit::USAGE;
                    }
                },
                Err(e) => {
                    let _ = writeln!(io.err, "error: from.server.password: {e}");
                    return exit::USAGE;
                }
            }
        };
        let old = match crate::apply::cloverdx::CloverDx::new(
            spec.from.server.url.as_str(),
            spec.from.server.username.as_str(),
            &password,
            &spec.from.server.endpoints,
        ) {
            Ok(c) => c,
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                return exit::USAGE;
            }
        };
        let runner = Arc::new(CloudRunner {
            spec: Arc::clone(&spec),
            spec_dir: spec_dir.clone(),
            old,
            new_server_url: args.new_server_url.clone(),
            provider: Arc::new(provider),
            events: Arc::clone(&events),
            poll,
        });
        let describe = |events: &dyn Events| {
            for &ix in &plan.schedule.order {
                let step = plan.step(ix);
                events.emit(&Event::Planned {
                    step: step.id.clone(),
                    calls: runner.describe(step),
                });
            }
        };
        if args.dry_run {
            describe(events.as_ref());
            return exit::OK;
        }
        match runner.provider.preflight().await {
            Ok(report) => {
                for w in report["warnings"].as_array().into_iter().flatten() {
                    let _ = writeln!(io.err, "warning: {}", w.as_str().unwrap_or_default());
                }
            }
            Err(e) => {
                let _ = writeln!(
                    io.err,
                    "error[apply::preflight]: {e}\n  nothing was changed: the old server was not paused"
                );
                return exit::APPLY_FAILED;
            }
        }
        if !args.yes {
            if !std::io::stdin().is_terminal() {
                let _ = writeln!(
                    io.err,
                    "error[apply::confirm]: refusing to apply without --yes: no terminal to ask on"
                );
                return exit::USAGE;
            }
            describe(events.as_ref());
            let _ = write!(io.err, "apply plan {} now? [y/N] ", spec.name);
            let _ = io.err.flush();
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !matches!(answer.trim(), "y" | "Y" | "yes") {
                let _ = writeln!(io.err, "nothing applied");
                return exit::USAGE;
            }
        }
        let dir = args
            .state_dir
            .clone()
            .unwrap_or_else(|| spec_dir.join(".cloverlift"))
            .join(spec.name.as_str());
        let (journal, history) =
            match Journal::open(&dir, spec.name.as_str(), &spec_sha256, args.resume) {
                Ok(j) => j,
                Err(e) => {
                    report_io(io, e);
                    return exit::USAGE;
                }
            };
        let journal_path = journal.path().display().to_string();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let signals = Signals::listen();
        tokio::spawn(async move {
            signals.wait().await;
            let _ = stop_tx.send(true);
        });
        let executor = Executor {
            plan: &plan,
            runner: runner as Arc<dyn Runner>,
            journal: Arc::new(Mutex::new(journal)),
            history,
            events: events.as_ref(),
            stop: stop_rx,
        };
        let outcome = executor.run().await;
        events.emit(&Event::Done {
            outcome: if outcome.succeeded {
                "succeeded".into()
            } else if outcome.interrupted {
                "interrupted".into()
            } else {
                "failed".into()
            },
            downtime_seconds: outcome.downtime_seconds,
        });
        summarize(
            &outcome,
            &spec.name.to_string(),
            &args.file,
            &journal_path,
            io,
        )
    })
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

/// What was done and not, and how to go on: resume, or roll back.
fn summarize(
    outcome: &Outcome,
    name: &str,
    spec: &std::path::Path,
    journal: &str,
    io: &mut Io,
) -> u8 {
    if outcome.succeeded {
        return exit::OK;
    }
    let _ = writeln!(io.err, "\napply of plan {name} did not complete.");
    let _ = writeln!(io.err, "  done:     {}", list(&outcome.finished));
    for (step, error) in &outcome.failed {
        let _ = writeln!(io.err, "  failed:   {step}: {error}");
    }
    let _ = writeln!(io.err, "  not run:  {}", list(&outcome.not_run));
    if outcome.compensation_failed.is_empty() {
        if outcome.finished.iter().any(|s| s == "pause")
            || outcome.finished.iter().any(|s| s == "resume")
        {
            let _ = writeln!(
                io.err,
                "  the old server runs and is resumed (its schedules and listeners are re-enabled)"
            );
        } else if outcome.finished.iter().any(|s| s == "pause") {
            let _ = writeln!(
                io.err,
                "  ATTENTION: the old server is paused; run with --resume"
            );
        } else {
            let _ = writeln!(io.err, "  the old server was not touched");
        }
    } else {
        for (step, error) in &outcome.compensation_failed {
            let _ = writeln!(
                io.err,
                "  ATTENTION: {step} failed ({error}): the old server may still be paused"
            );
        }
    }
    let _ = writeln!(io.err, "  journal:  {journal}");
    let _ = writeln!(
        io.err,
        "  to continue: cloverlift apply {} --resume",
        spec.display()
    );
    let _ = writeln!(
        io.err,
        "  to roll back: aws cloudformation delete-stack --stack-name {name} (the old deployment is unchanged)"
    );
    exit::APPLY_FAILED
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(", ")
    }
}
