//! The CloverDX Server API as apply uses it. Sources (CloverDX documentation):
//! - REST API v1 under `/clover/api/rest/v1/…`, basic authentication, and an `X-Requested-By`
//!   header on every request against CSRF ("REST API", operations/rest-api).
//! - Schedules and event listeners are switched through the server configuration export and
//!   import (`server/configuration/export|import`, `include=schedules&include=eventListeners`):
//!   each item carries `enabled`; import matches schedules by description and listeners by
//!   name ("Server configuration", admin/server-config; the REST paths are from a third-party
//!   client, the Simple HTTP API's `export_server_config`/`import_server_config` are documented).
//! - Running jobs: the Simple HTTP API's `server_jobs` (one run id per line).
//! - License: `PUT /clover/api/rest/v1/server/license` with the file as the body
//!   (cloverdx-server-docker, Kubernetes example).
//! - Health: `GET /clover/accessibilityTest.jsp`: 200 healthy, 503 `SUSPENDED` suspended.
//!
//! Every path can be overridden in `from.server.endpoints`, for servers whose own reference
//! (`/clover/api/rest/v1/docs.html`) shows others.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};

use super::http_error;
use super::import_report::{self, ImportReport};
use super::server_config::{self, Kind};
use super::tls::Tls;
use crate::spec::model::Endpoints;

/// Where a request goes. The server URL (`from.server.url`, or the deployment's `ServerUrl`)
/// already ends in the web application's context, `/clover`: API paths (`from.server.endpoints`)
/// are relative to it, while verify checks (`http: /clover/`) are paths on the server's host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    /// A path under the server URL: `https://host/clover` + `/api/rest/v1/server/license`.
    Api(&'a str),
    /// A path on the server's host: `https://host` + `/clover/`.
    Host(&'a str),
}

/// The one place CloverDX URLs are built.
pub fn url(base: &str, target: Target) -> String {
    let base = base.trim_end_matches('/');
    match target {
        Target::Api(path) => format!("{base}{path}"),
        Target::Host(path) => {
            let origin = reqwest::Url::parse(base)
                .map(|u| u.origin().ascii_serialization())
                .unwrap_or_else(|_| base.to_owned());
            format!("{origin}{path}")
        }
    }
}

/// A CloverDX Server's API, authenticated.
#[derive(Clone)]
pub struct CloverDx {
    base: String,
    username: String,
    password: String,
    endpoints: Endpoints,
    tls: Tls,
    http: reqwest::Client,
}

/// What pause disabled (and resume re-enables), by kind and identity.
pub type Disabled = BTreeSet<(Kind, String)>;

impl CloverDx {
    pub fn new(
        base: &str,
        username: &str,
        password: &str,
        endpoints: &Endpoints,
        tls: &Tls,
    ) -> Result<CloverDx, String> {
        Ok(CloverDx {
            base: base.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            endpoints: endpoints.clone(),
            tls: tls.clone(),
            http: client(tls)?,
        })
    }

    /// The same credentials and paths on another server (the new version), trusted as `tls`
    /// says.
    pub fn at(&self, base: &str, tls: &Tls) -> Result<CloverDx, String> {
        CloverDx::new(base, &self.username, &self.password, &self.endpoints, tls)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of `target` on this server, without credentials: for messages.
    pub fn display(&self, target: Target) -> String {
        http_error::display_url(&url(&self.base, target))
    }

    fn request(&self, method: Method, target: Target) -> reqwest::RequestBuilder {
        self.http
            .request(method, url(&self.base, target))
            .basic_auth(&self.username, Some(&self.password))
            .header("X-Requested-By", "cloverlift")
    }

    async fn send(&self, what: &str, req: reqwest::RequestBuilder) -> Result<String, String> {
        let (client, req) = req.build_split();
        let req = req.map_err(|e| format!("{what}: {e}"))?;
        let shown = http_error::display_url(req.url().as_str());
        let what = format!("{what} ({} {shown})", req.method());
        let resp = client
            .execute(req)
            .await
            .map_err(|e| format!("{what}: {}", self.describe(&e, &shown)))?;
        let status = resp.status();
        // The URL and status only: bodies may carry configuration, never credentials.
        tracing::debug!(url = %resp.url(), %status, "{what}");
        let body = resp.text().await.unwrap_or_default();
        if status.is_success() {
            return Ok(body);
        }
        let hint = match status {
            StatusCode::UNAUTHORIZED => " (check from.server.username and the password)",
            StatusCode::FORBIDDEN => {
                " (the user lacks the permission, or CSRF protection refused the request)"
            }
            StatusCode::NOT_FOUND => {
                " (the path may differ on this server: see from.server.endpoints)"
            }
            _ => "",
        };
        let excerpt: String = body.chars().take(300).collect();
        Err(format!("{what}: HTTP {status}{hint}: {}", excerpt.trim()))
    }

    /// The schedules and listeners part of the server configuration.
    pub async fn export(&self) -> Result<String, String> {
        let req = self
            .request(
                Method::GET,
                Target::Api(self.endpoints.config_export.as_str()),
            )
            .query(&[("include", "schedules"), ("include", "eventListeners")]);
        self.send("export the server configuration", req).await
    }

    /// Imports `xml` as CloverDX documents it: a dry run first, whose report must hold no
    /// error, then the import itself, whose report must hold none either. Neither `override`
    /// nor `newOnly` is sent: their defaults (false) make the import add or update the items it
    /// carries and leave every other item alone ("Server configuration", admin/server-config:
    /// items "are either added … or existing item are updated"), which is what a subset needs.
    /// Warnings "should be resolved after import" but do not stop it: they are logged.
    async fn import(&self, xml: String) -> Result<(), String> {
        let dry = self.import_once(&xml, true).await?;
        if let Some(refusal) = dry.refusal() {
            return Err(format!(
                "the server's dry run refused the import, so nothing was changed: {refusal}"
            ));
        }
        let done = self.import_once(&xml, false).await?;
        if let Some(refusal) = done.refusal() {
            return Err(format!("the server refused the import: {refusal}"));
        }
        for warning in &done.warnings {
            tracing::warn!(server = %self.base, "the import reported a warning: {warning}");
        }
        Ok(())
    }

    async fn import_once(&self, xml: &str, dry_run: bool) -> Result<ImportReport, String> {
        let req = self
            .request(
                Method::POST,
                Target::Api(self.endpoints.config_import.as_str()),
            )
            .query(&[
                ("dryRun", if dry_run { "true" } else { "false" }),
                ("verbose", "FULL"),
                ("include", "schedules"),
                ("include", "eventListeners"),
            ])
            .header("Content-Type", "application/octet-stream")
            .body(xml.to_owned());
        let what = if dry_run {
            "dry-run the configuration import"
        } else {
            "import the server configuration"
        };
        let body = self.send(what, req).await?;
        Ok(import_report::read(&body))
    }

    /// The enabled schedules and/or listeners, which pause is about to disable.
    pub async fn enabled(
        &self,
        schedules: bool,
        listeners: bool,
    ) -> Result<(String, Disabled), String> {
        let xml = self.export().await?;
        let set = server_config::items(&xml)?
            .into_iter()
            .filter(|i| i.enabled)
            .filter(|i| match i.kind {
                Kind::Schedule => schedules,
                Kind::Listener => listeners,
            })
            .map(|i| (i.kind, i.identity))
            .collect();
        Ok((xml, set))
    }

    /// Read back: the identities among `items` whose state is not `enabled` now.
    pub async fn differing(&self, items: &Disabled, enabled: bool) -> Result<Vec<String>, String> {
        let (_, now_enabled) = self.enabled(true, true).await?;
        Ok(items
            .iter()
            .filter(|item| now_enabled.contains(*item) != enabled)
            .map(|(_, id)| id.clone())
            .collect())
    }

    /// Sets `enabled` on exactly `items`: the import carries only those items, so nothing else
    /// of the configuration is rewritten.
    pub async fn set_enabled(&self, items: &Disabled, enabled: bool) -> Result<(), String> {
        if items.is_empty() {
            return Ok(());
        }
        let xml = self.export().await?;
        let only = server_config::subset(&xml, items)?;
        let changed = server_config::set_enabled(&only, items, enabled)?;
        self.import(changed).await
    }

    /// Imports `items` from another server's configuration `xml` (only those), with `enabled`
    /// set as given: configuration carried from the old server to the new one.
    pub async fn import_items(
        &self,
        xml: &str,
        items: &Disabled,
        enabled: bool,
    ) -> Result<(), String> {
        if items.is_empty() {
            return Ok(());
        }
        let only = server_config::subset(xml, items)?;
        let changed = server_config::set_enabled(&only, items, enabled)?;
        self.import(changed).await
    }

    /// Starts a run of `job` in `sandbox` (`POST executions`, JSON): its run id.
    pub async fn start_job(&self, sandbox: &str, job: &str) -> Result<String, String> {
        let req = self
            .request(
                Method::POST,
                Target::Api(self.endpoints.executions.as_str()),
            )
            .json(&serde_json::json!({ "sandboxCode": sandbox, "jobFile": job }));
        let body = self.send("start the smoke job", req).await?;
        let v: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| format!("start the smoke job: not JSON ({e})"))?;
        match &v["runId"] {
            serde_json::Value::Number(n) => Ok(n.to_string()),
            serde_json::Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("start the smoke job: no runId in {body}")),
        }
    }

    /// The status of a run (`GET executions/RUN_ID`): `RUNNING`, `FINISHED_OK`, `ERROR`, ….
    pub async fn job_status(&self, run_id: &str) -> Result<String, String> {
        let path = format!("{}/{run_id}", self.endpoints.executions);
        let req = self.request(Method::GET, Target::Api(&path));
        let body = self.send("read the smoke job's status", req).await?;
        let v: serde_json::Value = serde_json::from_str(&body)
            .map_err(|e| format!("read the smoke job's status: not JSON ({e})"))?;
        v["status"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("read the smoke job's status: no status in {body}"))
    }

    /// Run ids of the jobs running now, from the Simple HTTP API's `server_jobs` ("a list of
    /// runIDs of currently running jobs", operations/simple-http-api). CloverDX's REST API
    /// documents no query for running executions (only a paged list of all of them, without a
    /// status filter), so this is the one documented source; it answers only where
    /// `http.api.enabled=true`, which the preflight proves. Anything but run ids (a login or
    /// error page of a disabled servlet) is an error, never a list of running jobs.
    pub async fn running_jobs(&self) -> Result<Vec<String>, String> {
        let req = self.request(
            Method::GET,
            Target::Api(self.endpoints.running_jobs.as_str()),
        );
        let body = self.send("list the running jobs", req).await?;
        let ids: Vec<String> = body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(odd) = ids.iter().find(|l| !l.chars().all(|c| c.is_ascii_digit())) {
            let odd: String = odd.chars().take(80).collect();
            return Err(format!(
                "list the running jobs ({}): the answer is not a list of run ids (`{odd}`): \
                 is the Simple HTTP API enabled (http.api.enabled=true)?",
                self.display(Target::Api(self.endpoints.running_jobs.as_str()))
            ));
        }
        Ok(ids)
    }

    /// The cluster's nodes from the Simple HTTP API's `cluster_status` (one
    /// `NAME|URL|LOAD|STATUS` line a node, operations/simple-http-api); a standalone server
    /// lists none or itself.
    pub async fn cluster_nodes(&self) -> Result<Vec<String>, String> {
        let req = self.request(
            Method::GET,
            Target::Api(self.endpoints.cluster_status.as_str()),
        );
        let body = self.send("read the cluster status", req).await?;
        Ok(body
            .lines()
            .map(str::trim)
            .filter(|l| l.split('|').count() == 4)
            .map(|l| l.split('|').next().unwrap_or_default().to_owned())
            .collect())
    }

    pub async fn upload_license(&self, license: Vec<u8>) -> Result<(), String> {
        let req = self
            .request(Method::PUT, Target::Api(self.endpoints.license.as_str()))
            .header("Content-Type", "application/octet-stream")
            .body(license);
        self.send("upload the license", req).await.map(|_| ())
    }

    /// `GET` `target`: `Ok(status)` for any HTTP answer, the failure in plain words otherwise.
    pub async fn get_status(&self, target: Target<'_>) -> Result<u16, String> {
        self.get(target).await.map(|resp| resp.status().as_u16())
    }

    /// `GET` `target`: its status and the start of its body (the health page says `SUSPENDED`
    /// in its body), the failure in plain words otherwise.
    pub async fn get_answer(&self, target: Target<'_>) -> Result<(u16, String), String> {
        let resp = self.get(target).await?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        Ok((status, body.chars().take(200).collect()))
    }

    async fn get(&self, target: Target<'_>) -> Result<reqwest::Response, String> {
        let shown = self.display(target);
        self.request(Method::GET, target)
            .send()
            .await
            .map_err(|e| format!("GET {shown}: {}", self.describe(&e, &shown)))
    }

    /// A failure in plain words; a refused certificate names the one the server presented
    /// and the spec field that would trust it.
    fn describe(&self, e: &reqwest::Error, shown: &str) -> String {
        let text = http_error::describe(e, shown);
        if text.contains("TLS handshake") {
            format!("{text}{}", self.tls.refusal_hint())
        } else {
            text
        }
    }

    /// The health page, under the server URL.
    pub fn health(&self) -> Target<'_> {
        Target::Api(self.endpoints.health.as_str())
    }
}

/// The HTTP client for `tls`: its own verifier, and a bound on every request.
fn client(tls: &Tls) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .tls_backend_preconfigured(tls.config.clone())
        .build()
        .map_err(|e| e.to_string())
}

/// `schedules` / `listeners` lists for the journal and outputs.
pub fn to_json(items: &Disabled) -> serde_json::Value {
    let of = |k: Kind| -> Vec<&str> {
        items
            .iter()
            .filter(|(kind, _)| *kind == k)
            .map(|(_, id)| id.as_str())
            .collect()
    };
    serde_json::json!({ "schedules": of(Kind::Schedule), "listeners": of(Kind::Listener) })
}

pub fn from_json(v: &serde_json::Value) -> Disabled {
    let mut out = Disabled::new();
    for (key, kind) in [("schedules", Kind::Schedule), ("listeners", Kind::Listener)] {
        for id in v[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x.as_str())
        {
            out.insert((kind, id.to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The README's endpoint table: API paths under the server URL, checks on its host.
    #[test]
    fn urls_join_api_paths_to_the_server_url_and_checks_to_its_host() {
        let e = Endpoints::default();
        for base in [
            "https://clover.example.com/clover",
            "https://clover.example.com/clover/",
        ] {
            assert_eq!(
                url(base, Target::Api(e.license.as_str())),
                "https://clover.example.com/clover/api/rest/v1/server/license"
            );
            assert_eq!(
                url(base, Target::Api(e.config_export.as_str())),
                "https://clover.example.com/clover/api/rest/v1/server/configuration/export"
            );
            assert_eq!(
                url(base, Target::Api(e.running_jobs.as_str())),
                "https://clover.example.com/clover/simpleHttpApi/server_jobs"
            );
            assert_eq!(
                url(base, Target::Api(e.health.as_str())),
                "https://clover.example.com/clover/accessibilityTest.jsp"
            );
            assert_eq!(
                url(base, Target::Host("/clover/")),
                "https://clover.example.com/clover/",
                "a check path is not appended to /clover again"
            );
        }
        assert_eq!(
            url("http://127.0.0.1:8080/clover", Target::Host("/clover/")),
            "http://127.0.0.1:8080/clover/"
        );
    }
}
