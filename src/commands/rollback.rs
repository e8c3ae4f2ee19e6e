//! `cloverlift rollback SPEC [--dry-run] [--yes] [--delete-new]`: reverses the cutover of an
//! apply run from its journal. See `apply::rollback` for what it does and in which order.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::apply::Prepared;
use super::{Io, exit, report_io};
use crate::apply::cloverdx::CloverDx;
use crate::apply::console_pin;
use crate::apply::events::{Events, HumanEvents};
use crate::apply::journal::{self, Journal};
use crate::apply::preflight::{self, Report};
use crate::apply::providers;
use crate::apply::rollback::{self, Rollback, Undo};
use crate::apply::runner::Provider;
use crate::apply::tls::Tls;
use crate::spec::checked::Fingerprint;
use crate::spec::model::Spec;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The spec the run applied.
    #[arg(value_name = "SPEC")]
    pub file: PathBuf,
    /// Print what rollback would do, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub yes: bool,
    /// Also delete the new deployment (its database and volume leave final snapshots).
    #[arg(long)]
    pub delete_new: bool,
    /// Where the run's journal is, as given to apply.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Send the cloud's calls to this endpoint, as given to apply.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Reach the new server at this URL, as given to apply.
    #[arg(long, value_name = "URL")]
    pub new_server_url: Option<String>,
    /// Directory of template overrides, as given to apply.
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

pub fn run(args: &Args, io: &mut Io) -> u8 {
    let Prepared {
        spec,
        spec_sha256: key,
        spec_dir,
        runtime,
        ..
    } = match Prepared::load(
        &args.file,
        args.templates.as_ref(),
        args.new_server_url.as_deref(),
        args.endpoint_url.as_deref(),
        io,
    ) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| spec_dir.join(".cloverlift"))
        .join(spec.name.as_str());
    let journal_path = dir.join("journal.jsonl");
    let undo = match journal::records(&journal_path)
        .ok()
        .and_then(|records| Undo::from_records(&records))
    {
        Some(undo) => undo,
        None => {
            let _ = writeln!(
                io.err,
                "error[apply::nothing_to_roll_back]: the journal at {} shows no cutover: the old server still runs its schedules and listeners, and there is nothing to roll back",
                journal_path.display()
            );
            return exit::USAGE;
        }
    };
    runtime.block_on(async {
        let events: Arc<dyn Events> = Arc::new(HumanEvents::new(false));
        let no_files = std::collections::BTreeMap::new();
        let provider = match providers::for_spec(
            Arc::clone(&spec),
            providers::Inputs {
                endpoint_url: args.endpoint_url.as_deref(),
                files: &no_files,
                spec_dir: spec_dir.clone(),
                accept_marketplace_terms: false,
                events,
                poll: Duration::from_secs(5),
            },
        )
        .await
        {
            Ok(p) => p,
            Err(e) => {
                let _ = writeln!(io.err, "error: {e}");
                return exit::USAGE;
            }
        };
        let (old, new) = match servers(&spec, &spec_dir, args, &undo, provider.as_ref(), io).await {
            Ok(pair) => pair,
            Err(code) => return code,
        };
        let _ = writeln!(io.err, "rollback of plan {}:", spec.name);
        for call in rollback::describe(&undo, new.base(), old.base(), args.delete_new) {
            let _ = writeln!(io.err, "    {call}");
        }
        if args.dry_run {
            return exit::OK;
        }
        if let Err(code) = confirm(&spec, args, io) {
            return code;
        }
        // Takes the plan's lock and checks the spec is the one applied.
        let (journal, _) = match Journal::open(&dir, spec.name.as_str(), &key, true) {
            Ok(j) => j,
            Err(e) => {
                report_io(io, e);
                return exit::USAGE;
            }
        };
        let rollback = Rollback {
            undo: &undo,
            old: &old,
            new: &new,
            provider: provider.as_ref(),
            journal: Arc::new(Mutex::new(journal)),
            delete_new: args.delete_new,
        };
        match rollback.run().await {
            Ok(_) => {
                let _ = writeln!(
                    io.err,
                    "rolled back: the old server runs its schedules and listeners again; the new deployment is stopped{}",
                    if args.delete_new { " and being deleted" } else { " and intact" }
                );
                exit::OK
            }
            Err(e) => {
                let _ = writeln!(
                    io.err,
                    "error[apply::rollback]: {e}\n  run the same command again: every phase is safe to repeat"
                );
                exit::APPLY_FAILED
            }
        }
    })
}

/// The old server's client (its password resolved) and the new server's, at the URL the run
/// reached it on.
async fn servers(
    spec: &Spec,
    spec_dir: &std::path::Path,
    args: &Args,
    undo: &Undo,
    provider: &dyn Provider,
    io: &mut Io<'_>,
) -> Result<(CloverDx, CloverDx), u8> {
    let mut report = Report::default();
    let Some(password) = preflight::password(spec, spec_dir, &mut report).await else {
        for p in &report.problems {
            let _ = writeln!(io.err, "error[apply::preflight]: {p}");
        }
        return Err(exit::APPLY_FAILED);
    };
    let server = &spec.from.server;
    let (old_tls, new_tls) = crate::apply::tls::for_servers(spec, spec_dir).map_err(|e| {
        let _ = writeln!(io.err, "error: {e}");
        exit::USAGE
    })?;
    let new_tls = match console_pin(spec, undo, provider).await {
        Some(pin) => Tls::pinned(pin, console_pin::FIELD).map_err(|e| {
            let _ = writeln!(io.err, "error: {e}");
            exit::USAGE
        })?,
        None => new_tls,
    };
    let old = CloverDx::new(
        server.url.as_str(),
        server.username.as_str(),
        &password,
        &server.endpoints,
        &old_tls,
    )
    .map_err(|e| {
        let _ = writeln!(io.err, "error: {e}");
        exit::USAGE
    })?;
    let new_url = args
        .new_server_url
        .clone()
        .or_else(|| undo.deploy["ServerUrl"].as_str().map(str::to_owned))
        // Azure and Google Cloud deploy steps record it as `serverUrl`.
        .or_else(|| undo.deploy["serverUrl"].as_str().map(str::to_owned));
    let Some(new_url) = new_url else {
        let _ = writeln!(
            io.err,
            "error: the journal has no new server URL; give --new-server-url"
        );
        return Err(exit::USAGE);
    };
    let new = old.at(&new_url, &new_tls).map_err(|e| {
        let _ = writeln!(io.err, "error: {e}");
        exit::USAGE
    })?;
    Ok((old, new))
}

/// The new server's certificate when its console is what trusts it: the latest report on the
/// console (a reboot since activate may have made a new certificate), else the one activate
/// journaled.
async fn console_pin(spec: &Spec, undo: &Undo, provider: &dyn Provider) -> Option<[u8; 32]> {
    if !console_pin::console_pins(spec, provider) {
        return None;
    }
    let latest = console_pin::reported(provider, &undo.deploy, spec.name.as_str())
        .await
        .ok()
        .flatten();
    latest.or_else(|| undo.tls_sha256.as_deref().and_then(Fingerprint::bytes_of))
}

fn confirm(spec: &Spec, args: &Args, io: &mut Io) -> Result<(), u8> {
    let what = if args.delete_new {
        "roll back and DELETE the new deployment of"
    } else {
        "roll back"
    };
    super::apply::confirm(
        args.yes,
        "roll back",
        &format!("{what} plan {} now?", spec.name),
        io,
    )
}
