//! The preflight: before the first mutating call, apply proves everything the whole run needs
//! (every secret, the cloud credentials and every resource the spec names, the old server's API
//! and credentials) and reports every problem in one run, as `validate` does for the spec. A
//! failed preflight changes nothing and leaves no journal.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use super::cloverdx::CloverDx;
use super::secrets;
use super::tls::Tls;
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

/// The trust of both servers' certificates: a `ca_file` that cannot be read is a problem.
pub fn trust(spec: &Spec, spec_dir: &Path, report: &mut Report) -> (Option<Tls>, Option<Tls>) {
    let old = super::tls::old_trust(spec, spec_dir);
    let new = super::tls::new_trust(spec, spec_dir);
    let mut keep = |r: Result<Tls, String>| match r {
        Ok(tls) => Some(tls),
        Err(e) => {
            report.problem(e);
            None
        }
    };
    (keep(old), keep(new))
}

/// The old server answers its API with these credentials (a read-only export) and runs the
/// version `from.version` says; its schedules and listeners can be paused and resumed exactly
/// (unique identities) when the plan pauses; its running jobs can be listed (pause and cutover
/// wait for them); it is no cluster; and it is healthy.
pub async fn old_server(old: &CloverDx, spec: &Spec, pausing: bool, report: &mut Report) {
    match old.export().await {
        Ok(xml) => {
            report.ok(format!(
                "the old server's API answers at {} with these credentials",
                old.base()
            ));
            if pausing && let Err(e) = super::server_config::check_identities(&xml) {
                report.problem(format!("the old server: {e}"));
            }
            version(&xml, spec.from.version.as_str(), "from.version", report);
        }
        Err(e) => report.problem(format!(
            "the old server: {e} (check from.server.url, username and password)"
        )),
    }
    running_jobs(old, report).await;
    cluster(old, report).await;
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

/// The export's `cloverVersion` is the release the spec names.
fn version(xml: &str, expected: &str, field: &str, report: &mut Report) {
    match super::server_config::clover_version(xml) {
        Ok(Some(v)) if super::server_config::is_release(&v, expected) => {
            report.ok(format!("the old server runs CloverDX {v}"));
        }
        Ok(Some(v)) => report.problem(format!(
            "the old server runs CloverDX {v} (cloverVersion of its configuration export), but \
             {field} says {expected}: correct {field}, since the upgrade path and the new \
             version's patches depend on it"
        )),
        Ok(None) | Err(_) => report.warn(format!(
            "the old server's configuration export names no cloverVersion: cannot prove it runs \
             {expected}"
        )),
    }
}

/// Pause and cutover wait for running jobs through the Simple HTTP API, which CloverDX ships
/// disabled (`http.api.enabled`, operations/simple-http-api); without it nothing is changed.
async fn running_jobs(old: &CloverDx, report: &mut Report) {
    match old.running_jobs().await {
        Ok(jobs) => report.ok(format!(
            "the old server lists its running jobs ({} now)",
            jobs.len()
        )),
        Err(e) => report.problem(format!(
            "the old server cannot list its running jobs, which pause and cutover wait for: {e}. \
             CloverDX's REST API has no query for running jobs and its Simple HTTP API is \
             disabled by default: set http.api.enabled=true in /var/clover/conf/clover.properties \
             on the old server (or from.server.endpoints.running_jobs to where it answers) and \
             restart it, then apply again"
        )),
    }
}

/// A cluster shares its system database and sandboxes between nodes; cloverlift upgrades one
/// standalone server (CloverDX's marketplace offerings are standalone).
async fn cluster(old: &CloverDx, report: &mut Report) {
    match old.cluster_nodes().await {
        Ok(nodes) if nodes.len() > 1 => report.problem(format!(
            "the old server is a cluster of {} nodes ({}): its nodes share one system database \
             and their sandboxes, and an upgrade must stop and upgrade every node together \
             (CloverDX's cluster upgrade), which cloverlift does not do; upgrade it by hand",
            nodes.len(),
            nodes.join(", ")
        )),
        Ok(_) => report.ok("the old server is standalone (no cluster nodes listed)"),
        Err(e) => report.warn(format!(
            "could not tell whether the old server is clustered ({e}); cloverlift upgrades \
             standalone servers only"
        )),
    }
}
