//! The preflight: before the first mutating call, apply proves everything the whole run needs
//! (every secret, the cloud credentials and every resource the spec names, the old server's API
//! and credentials) and reports every problem in one run, as `validate` does for the spec. A
//! failed preflight changes nothing and leaves no journal.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use super::cloverdx::CloverDx;
use super::secrets;
use crate::spec::model::Spec;

/// What the preflight found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    /// Each one stops the run; each names what to fix.
    pub problems: Vec<String>,
    /// Worth knowing, not stopping for.
    pub warnings: Vec<String>,
    /// What was proven, for `--dry-run` and the logs.
    pub checked: Vec<String>,
}

impl Report {
    pub fn problem(&mut self, text: impl Into<String>) {
        self.problems.push(text.into());
    }

    pub fn warn(&mut self, text: impl Into<String>) {
        self.warnings.push(text.into());
    }

    pub fn ok(&mut self, text: impl Into<String>) {
        self.checked.push(text.into());
    }

    pub fn extend(&mut self, other: Report) {
        self.problems.extend(other.problems);
        self.warnings.extend(other.warnings);
        self.checked.extend(other.checked);
    }

    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

pub type PreflightFuture<'a> = Pin<Box<dyn Future<Output = Report> + Send + 'a>>;

/// The password of the old server, resolved, or the problem with its reference.
pub async fn password(spec: &Spec, spec_dir: &Path, report: &mut Report) -> Option<String> {
    match secrets::resolve(&spec.from.server.password, spec_dir).await {
        Ok(s) => match s.text() {
            Ok(t) => {
                report.ok("from.server.password resolves");
                Some(t)
            }
            Err(e) => {
                report.problem(format!("from.server.password: {e}"));
                None
            }
        },
        Err(e) => {
            report.problem(format!("from.server.password: {e}"));
            None
        }
    }
}

/// The license resolves and is something a server could read: not empty, text, not huge.
/// CloverDX publishes no license format, so nothing more is checked.
pub async fn license(spec: &Spec, spec_dir: &Path, report: &mut Report) {
    let Some(reference) = &spec.to.license else {
        return;
    };
    match secrets::resolve(reference, spec_dir).await {
        Ok(secret) => {
            let bytes = secret.bytes();
            if bytes.is_empty() {
                report.problem("to.license: the license is empty");
            } else if bytes.len() > 1024 * 1024 {
                report.problem(format!(
                    "to.license: {} bytes is no license file (over 1 MiB)",
                    bytes.len()
                ));
            } else if std::str::from_utf8(bytes).is_err() {
                report.problem("to.license: the license is not text (CloverDX license files are)");
            } else {
                report.ok("to.license resolves");
            }
        }
        Err(e) => report.problem(format!("to.license: {e}")),
    }
}

/// The old server answers its API with these credentials (a read-only export), its schedules
/// and listeners can be paused and resumed exactly (unique identities) when the plan pauses,
/// and it is healthy.
pub async fn old_server(old: &CloverDx, pausing: bool, report: &mut Report) {
    let export = old.export().await;
    let checked = export.and_then(|xml| {
        if pausing {
            super::server_config::check_identities(&xml)
        } else {
            Ok(())
        }
    });
    match checked {
        Ok(()) => report.ok(format!(
            "the old server's API answers at {} with these credentials",
            old.base()
        )),
        Err(e) => report.problem(format!(
            "the old server: {e} (check from.server.url, username and password)"
        )),
    }
    match old.get_status(old.health()).await {
        Ok(200) => report.ok("the old server is healthy"),
        Ok(503) => report.problem(format!(
            "the old server is suspended ({} answers 503): resume it before upgrading",
            old.display(old.health())
        )),
        Ok(status) => report.problem(format!(
            "the old server is not healthy: {} answers {status}",
            old.display(old.health())
        )),
        Err(e) => report.problem(format!("the old server: {e}")),
    }
}
