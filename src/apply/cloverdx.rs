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
use super::server_config::{self, Kind};
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
    ) -> Result<CloverDx, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(CloverDx {
            base: base.trim_end_matches('/').to_owned(),
            username: username.to_owned(),
            password: password.to_owned(),
            endpoints: endpoints.clone(),
            http,
        })
    }

    /// The same server under another base URL (the new version, for instance).
    pub fn at(&self, base: &str) -> CloverDx {
        CloverDx {
            base: base.trim_end_matches('/').to_owned(),
            ..self.clone()
        }
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
            .map_err(|e| format!("{what}: {}", http_error::describe(&e, &shown)))?;
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

    async fn import(&self, xml: String) -> Result<(), String> {
        let req = self
            .request(
                Method::POST,
                Target::Api(self.endpoints.config_import.as_str()),
            )
            .query(&[
                ("dryRun", "false"),
                ("override", "true"),
                ("include", "schedules"),
                ("include", "eventListeners"),
            ])
            .header("Content-Type", "application/octet-stream")
            .body(xml);
        self.send("import the server configuration", req)
            .await
            .map(|_| ())
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

    /// Run ids of the jobs running now.
    pub async fn running_jobs(&self) -> Result<Vec<String>, String> {
        let req = self.request(
            Method::GET,
            Target::Api(self.endpoints.running_jobs.as_str()),
        );
        let body = self.send("list the running jobs", req).await?;
        Ok(body
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
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
        let shown = self.display(target);
        let resp = self
            .request(Method::GET, target)
            .send()
            .await
            .map_err(|e| format!("GET {shown}: {}", http_error::describe(&e, &shown)))?;
        Ok(resp.status().as_u16())
    }

    /// The health page, under the server URL.
    pub fn health(&self) -> Target<'_> {
        Target::Api(self.endpoints.health.as_str())
    }
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
