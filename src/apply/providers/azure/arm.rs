//! Azure Resource Manager over HTTPS, by its documented protocol:
//! - every request names its `api-version` (the ones the rendered template pins);
//! - errors come as `{"error":{"code","message","details"}}` and are reported with their code;
//! - 429 is retried after `Retry-After`, and 5xx for idempotent methods with backoff;
//! - long-running operations are followed through `Azure-AsyncOperation` (a status resource),
//!   else `Location` (202 until done), else the resource's own `provisioningState`
//!   ("Track asynchronous Azure operations", Azure Resource Manager docs).
//!
//! Polling URLs must stay on the endpoint's origin: a bearer token is never sent elsewhere.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use super::credential::{ARM_SCOPE, Credentials};

/// Public Azure's Resource Manager.
pub const PUBLIC_ENDPOINT: &str = "https://management.azure.com";

/// How many times one request is sent before its failure is final.
const ATTEMPTS: u32 = 8;
/// The longest back-off between two attempts (and the longest `Retry-After` honoured).
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long one long-running operation may take.
const LONG_WAIT: Duration = Duration::from_secs(6 * 3600);

/// An answer ARM gave, or could not give.
#[derive(Debug, Clone)]
pub struct ArmError {
    /// HTTP status, 0 when no answer came.
    pub status: u16,
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ArmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.status == 0 {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} ({}): {}", self.code, self.status, self.message)
        }
    }
}

impl ArmError {
    fn transport(message: String) -> ArmError {
        ArmError {
            status: 0,
            code: "Transport".into(),
            message,
        }
    }

    /// From an error body, `{"error":{code,message,details}}`; details are appended, since
    /// deployment failures put the failing resource's own error there.
    pub fn from_body(status: u16, body: &Value) -> ArmError {
        let error = if body["error"].is_object() {
            &body["error"]
        } else {
            body
        };
        let mut message = error["message"].as_str().unwrap_or("").to_owned();
        for detail in error["details"].as_array().into_iter().flatten() {
            message.push_str(&format!(
                "; {}: {}",
                detail["code"].as_str().unwrap_or("?"),
                detail["message"].as_str().unwrap_or("")
            ));
        }
        if message.is_empty() {
            message = format!("HTTP {status} without an error body");
        }
        ArmError {
            status,
            code: error["code"].as_str().unwrap_or("Unknown").to_owned(),
            message,
        }
    }
}

/// One answer: status, the headers long-running operations use, and the JSON body.
#[derive(Debug)]
struct Answer {
    status: u16,
    async_operation: Option<String>,
    location: Option<String>,
    retry_after: Option<Duration>,
    /// ARM's clock: the `Date` header, in Unix seconds (whole seconds).
    date: Option<f64>,
    body: Value,
}

/// A Resource Manager client for one endpoint.
pub struct Arm {
    endpoint: String,
    http: reqwest::Client,
    credentials: Arc<Credentials>,
    poll: Duration,
}

impl Arm {
    pub fn new(endpoint: Option<&str>, credentials: Arc<Credentials>, poll: Duration) -> Arm {
        let endpoint = endpoint
            .unwrap_or(PUBLIC_ENDPOINT)
            .trim_end_matches('/')
            .to_owned();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Arm {
            endpoint,
            http,
            credentials,
            poll,
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    /// GET `id`; `None` when ARM answers 404.
    pub async fn get(&self, id: &str, api_version: &str) -> Result<Option<Value>, ArmError> {
        match self
            .send(Method::GET, &self.url(id, api_version), None)
            .await
        {
            Ok(a) => Ok(Some(a.body)),
            Err(e) if e.status == 404 => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET `id`, which must exist, with the time on ARM's clock when it answered (from the
    /// `Date` header: whole seconds, so the answer came at that second or within the next).
    pub async fn read_dated(&self, id: &str, api_version: &str) -> Result<(Value, f64), ArmError> {
        let answer = self
            .send(Method::GET, &self.url(id, api_version), None)
            .await?;
        let date = answer
            .date
            .ok_or_else(|| ArmError::transport(format!("{id}: the answer has no Date header")))?;
        Ok((answer.body, date))
    }

    /// GET `id`, which must exist.
    pub async fn read(&self, id: &str, api_version: &str) -> Result<Value, ArmError> {
        self.get(id, api_version).await?.ok_or_else(|| ArmError {
            status: 404,
            code: "ResourceNotFound".into(),
            message: format!("{id} was not found"),
        })
    }

    /// GET a list (`value`), following `nextLink` pages on the same origin.
    pub async fn list(&self, path: &str, api_version: &str) -> Result<Vec<Value>, ArmError> {
        let mut url = self.url(path, api_version);
        let mut items = Vec::new();
        for _ in 0..1000 {
            let page = self.send(Method::GET, &url, None).await?.body;
            items.extend(page["value"].as_array().cloned().unwrap_or_default());
            match page["nextLink"].as_str() {
                Some(next) if !next.is_empty() => {
                    self.same_origin(next)?;
                    url = next.to_owned();
                }
                _ => break,
            }
        }
        Ok(items)
    }

    /// PUT `body` at `id` and wait for the operation; gives the resource as it ended.
    pub async fn put(&self, id: &str, api_version: &str, body: &Value) -> Result<Value, ArmError> {
        let url = self.url(id, api_version);
        let answer = self.send(Method::PUT, &url, Some(body)).await?;
        self.finish(answer, &url).await
    }

    /// PUT `body` at `id` and return ARM's first answer without waiting: for deployments,
    /// whose progress the caller follows through the resource and its operations.
    pub async fn put_started(
        &self,
        id: &str,
        api_version: &str,
        body: &Value,
    ) -> Result<Value, ArmError> {
        let url = self.url(id, api_version);
        self.send(Method::PUT, &url, Some(body))
            .await
            .map(|a| a.body)
    }

    /// POST an action (`…/restart`, `…/whatIf`) and wait for it; gives its result body.
    pub async fn post(
        &self,
        path: &str,
        api_version: &str,
        body: Option<&Value>,
    ) -> Result<Value, ArmError> {
        let url = self.url(path, api_version);
        let answer = self.send(Method::POST, &url, body).await?;
        self.finish_action(answer).await
    }

    /// DELETE `id` and wait; a resource already gone is done.
    pub async fn delete(&self, id: &str, api_version: &str) -> Result<(), ArmError> {
        let url = self.url(id, api_version);
        match self.send(Method::DELETE, &url, None).await {
            Ok(answer) => self.finish_action(answer).await.map(|_| ()),
            Err(e) if e.status == 404 => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `path` may carry its own query (`?$expand=instanceView`).
    fn url(&self, path: &str, api_version: &str) -> String {
        let joint = if path.contains('?') { '&' } else { '?' };
        format!("{}{path}{joint}api-version={api_version}", self.endpoint)
    }

    /// After a PUT: the async operation, the Location, or the resource's provisioningState.
    async fn finish(&self, answer: Answer, resource_url: &str) -> Result<Value, ArmError> {
        if let Some(op) = &answer.async_operation {
            self.wait_status(op, answer.retry_after).await?;
            return self
                .send(Method::GET, resource_url, None)
                .await
                .map(|a| a.body);
        }
        if answer.status == 202
            && let Some(location) = &answer.location
        {
            self.wait_location(location, answer.retry_after).await?;
            return self
                .send(Method::GET, resource_url, None)
                .await
                .map(|a| a.body);
        }
        let mut body = answer.body;
        let started = Instant::now();
        loop {
            match provisioning_state(&body) {
                None | Some("Succeeded") => return Ok(body),
                Some(state @ ("Failed" | "Canceled")) => {
                    return Err(ArmError {
                        status: 200,
                        code: format!("Provisioning{state}"),
                        message: format!("{resource_url} ended {state}"),
                    });
                }
                Some(_) => {}
            }
            if started.elapsed() > LONG_WAIT {
                return Err(timeout(resource_url));
            }
            tokio::time::sleep(self.poll).await;
            body = self.send(Method::GET, resource_url, None).await?.body;
        }
    }

    /// After a POST or DELETE: 200/204 are done; 202 is followed.
    async fn finish_action(&self, answer: Answer) -> Result<Value, ArmError> {
        if let Some(op) = &answer.async_operation {
            let status = self.wait_status(op, answer.retry_after).await?;
            // Actions with a result (whatIf) put it beside the status, or at Location.
            if let Some(location) = &answer.location {
                return self.wait_location(location, None).await;
            }
            return Ok(status);
        }
        if answer.status == 202
            && let Some(location) = &answer.location
        {
            return self.wait_location(location, answer.retry_after).await;
        }
        Ok(answer.body)
    }

    /// Polls an `Azure-AsyncOperation` status resource until it is terminal.
    async fn wait_status(&self, url: &str, first: Option<Duration>) -> Result<Value, ArmError> {
        self.poll_until(url, first, |answer| match answer.body["status"].as_str() {
            Some("Succeeded") => Some(Ok(answer.body.clone())),
            Some("Failed" | "Canceled") => Some(Err(ArmError::from_body(200, &answer.body))),
            _ => None,
        })
        .await
    }

    /// Polls a `Location` URL: 202 while the operation runs, then its result.
    async fn wait_location(&self, url: &str, first: Option<Duration>) -> Result<Value, ArmError> {
        self.poll_until(url, first, |answer| {
            (answer.status != 202).then(|| Ok(answer.body.clone()))
        })
        .await
    }

    /// GETs `url` (on the endpoint's origin) after each wait, `Retry-After` or the poll
    /// interval, until `done` gives the outcome or the long wait runs out.
    async fn poll_until(
        &self,
        url: &str,
        first: Option<Duration>,
        done: impl Fn(&Answer) -> Option<Result<Value, ArmError>>,
    ) -> Result<Value, ArmError> {
        self.same_origin(url)?;
        let started = Instant::now();
        let mut wait = first.unwrap_or(self.poll);
        loop {
            tokio::time::sleep(wait.min(MAX_BACKOFF)).await;
            let answer = self.send(Method::GET, url, None).await?;
            if let Some(outcome) = done(&answer) {
                return outcome;
            }
            if started.elapsed() > LONG_WAIT {
                return Err(timeout(url));
            }
            wait = answer.retry_after.unwrap_or(self.poll);
        }
    }

    fn same_origin(&self, url: &str) -> Result<(), ArmError> {
        let origin = |u: &str| {
            reqwest::Url::parse(u)
                .ok()
                .map(|u| u.origin().ascii_serialization())
        };
        if origin(url).is_some() && origin(url) == origin(&self.endpoint) {
            return Ok(());
        }
        Err(ArmError::transport(format!(
            "ARM asked to poll {url}, outside {}; not sending credentials there",
            self.endpoint
        )))
    }

    /// One request, retried while ARM throttles (429) or, for idempotent methods, fails on
    /// its side (5xx) or cannot be reached.
    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ArmError> {
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.send_once(method.clone(), url, body).await;
            let (retry, wait) = match &outcome {
                Ok(a) if a.status == 429 => (true, a.retry_after),
                Ok(a) if a.status >= 500 && idempotent => (true, a.retry_after),
                // The Network provider refuses a NIC update while another runs on it; ARM
                // documents both codes as "retry later".
                Ok(a) if a.status == 409 && idempotent && retryable_conflict(&a.body) => {
                    (true, a.retry_after)
                }
                Err(e) if e.status == 0 && idempotent => (true, None),
                _ => (false, None),
            };
            if !retry || attempt >= ATTEMPTS {
                return outcome.and_then(|a| {
                    if a.status < 400 {
                        Ok(a)
                    } else {
                        Err(ArmError::from_body(a.status, &a.body))
                    }
                });
            }
            let backoff = Duration::from_millis(500 * (1 << attempt.min(7)));
            let wait = wait.unwrap_or(backoff).min(MAX_BACKOFF);
            tracing::debug!(%method, url = %url, attempt, ?wait, "ARM asked to retry");
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer, ArmError> {
        let token = self
            .credentials
            .token(ARM_SCOPE)
            .await
            .map_err(ArmError::transport)?;
        let mut request = self.http.request(method.clone(), url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| ArmError::transport(crate::apply::http_error::describe(&e, url)))?;
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let date = header("date").and_then(|d| crate::timestamp::parse_http_date(&d));
        let async_operation = header("azure-asyncoperation");
        let location = header("location");
        // At least a second: `Retry-After: 0` must not turn a wait into a busy loop.
        let retry_after = header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| Duration::from_secs(s.max(1)));
        let text = response.text().await.map_err(|e| {
            ArmError::transport(format!("{url}: the answer's body could not be read: {e}"))
        })?;
        let body = if text.trim().is_empty() {
            Value::Null
        } else {
            match serde_json::from_str(&text) {
                Ok(v) => v,
                // A success ARM answers in JSON; anything else was cut off or not from ARM.
                Err(e) if status < 400 => {
                    return Err(ArmError::transport(format!(
                        "{url} answered {status} with a body that is not JSON ({e})"
                    )));
                }
                Err(_) => Value::String(text),
            }
        };
        tracing::debug!(%method, url = %url, status, "ARM answered");
        Ok(Answer {
            status,
            async_operation,
            location,
            retry_after,
            date,
            body,
        })
    }
}

fn retryable_conflict(body: &Value) -> bool {
    matches!(
        body["error"]["code"].as_str(),
        Some("AnotherOperationInProgress" | "RetryableError")
    )
}

fn provisioning_state(body: &Value) -> Option<&str> {
    body["properties"]["provisioningState"].as_str()
}

fn timeout(what: &str) -> ArmError {
    ArmError::transport(format!("{what} did not finish within 6 hours"))
}
