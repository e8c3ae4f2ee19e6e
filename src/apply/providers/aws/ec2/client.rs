//! The EC2 Query protocol over HTTPS: a form-encoded POST signed with SigV4 (the `aws-sigv4`
//! crate the SDK itself signs with), credentials from aws-config's standard chain, XML answers,
//! and the errors EC2 documents (`<Response><Errors><Error><Code>…`).
//!
//! Retries follow the SDK's standard mode in spirit: throttling and transient answers are sent
//! again after an exponential, jittered back-off. An operation that creates or moves something
//! (`CreateSnapshot`, `AssociateAddress`) is sent again only when EC2 certainly did not act on
//! it (a throttle, or no connection at all): after a timeout or a 5xx it may have, and the
//! step's own resume logic (snapshots found by their tags) decides instead.

use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};

use super::query::Params;
use super::xml::Node;

const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// Attempts per request, the first included.
const ATTEMPTS: u32 = 5;
/// The longest back-off between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// Pages followed through `NextToken` before a listing is considered runaway.
const MAX_PAGES: usize = 1000;

/// Error codes EC2 (and AWS's front ends) use for "slow down".
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "TooManyRequestsException",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Error codes for a fault on EC2's side, worth trying again.
const TRANSIENT: &[&str] = &[
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "Unavailable",
];

/// An answer EC2 gave, or could not give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ec2Error {
    /// HTTP status; 0 when no answer came.
    pub status: u16,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl std::fmt::Display for Ec2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.status == 0 {
            return write!(f, "{}", self.message);
        }
        write!(f, "{}: {} (HTTP {}", self.code, self.message, self.status)?;
        if let Some(id) = &self.request_id {
            write!(f, ", request id {id}")?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for Ec2Error {}

impl Ec2Error {
    fn local(code: &str, message: String) -> Ec2Error {
        Ec2Error {
            status: 0,
            code: code.into(),
            message,
            request_id: None,
        }
    }

    /// From an error answer's body: `<Response><Errors><Error><Code/><Message/>…<RequestID/>`.
    pub fn from_answer(status: u16, body: &str) -> Ec2Error {
        let parsed = Node::parse(body).ok();
        let error = parsed
            .as_ref()
            .and_then(|r| r.child("Errors"))
            .and_then(|e| e.child("Error"));
        let code = error.and_then(|e| e.text_of("Code"));
        let message = error.and_then(|e| e.text_of("Message"));
        Ec2Error {
            status,
            code: code.unwrap_or("Unknown").to_owned(),
            message: message.map_or_else(
                || format!("HTTP {status} without an EC2 error body"),
                str::to_owned,
            ),
            request_id: parsed
                .as_ref()
                .and_then(|r| r.text_of("RequestID").or_else(|| r.text_of("RequestId")))
                .map(str::to_owned),
        }
    }

    fn throttled(&self) -> bool {
        self.status == 429 || THROTTLING.contains(&self.code.as_str())
    }

    /// No connection was made, so EC2 never saw the request.
    fn unsent(&self) -> bool {
        self.status == 0 && self.code == "Connect"
    }

    fn transient(&self) -> bool {
        matches!(self.status, 500 | 502 | 503 | 504)
            || TRANSIENT.contains(&self.code.as_str())
            || (self.status == 0 && self.code == "Transport")
    }

    /// Whether the request may be sent again: always when EC2 refused it unseen, and for
    /// read-only operations also after a fault that may have come after EC2 acted.
    fn retryable(&self, idempotent: bool) -> bool {
        self.throttled() || self.unsent() || (idempotent && self.transient())
    }
}

/// A client for one region's EC2 endpoint.
pub struct Client {
    endpoint: reqwest::Url,
    region: String,
    credentials: SharedCredentialsProvider,
    http: reqwest::Client,
}

impl Client {
    pub fn new(
        endpoint: &str,
        region: &str,
        credentials: SharedCredentialsProvider,
    ) -> Result<Client, String> {
        let endpoint = reqwest::Url::parse(endpoint)
            .ok()
            .filter(|u| u.host_str().is_some() && matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| format!("EC2 endpoint {endpoint}: not an http(s) URL with a host"))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Client {
            endpoint,
            region: region.to_owned(),
            credentials,
            http,
        })
    }

    /// One operation with one answer.
    pub async fn call(&self, params: &Params, idempotent: bool) -> Result<Node, Ec2Error> {
        self.send(params, None, idempotent).await
    }

    /// A `Describe*` operation, every page of it: `take` collects each page's items.
    pub async fn describe<T>(
        &self,
        params: &Params,
        take: impl Fn(&Node) -> Vec<T>,
    ) -> Result<Vec<T>, Ec2Error> {
        let mut items = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self.send(params, token.as_deref(), true).await?;
            items.extend(take(&page));
            match page.text_of("nextToken") {
                Some(next) if Some(next) != token.as_deref() => token = Some(next.to_owned()),
                _ => return Ok(items),
            }
        }
        Err(Ec2Error::local(
            "Paging",
            format!("{}: more than {MAX_PAGES} pages", params.action()),
        ))
    }

    async fn send(
        &self,
        params: &Params,
        token: Option<&str>,
        idempotent: bool,
    ) -> Result<Node, Ec2Error> {
        let body = params.body(token);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(&body).await {
                Ok(node) => return Ok(node),
                Err(e) if attempt < ATTEMPTS && e.retryable(idempotent) => {
                    let wait = backoff(attempt);
                    tracing::debug!(
                        action = params.action(),
                        attempt,
                        code = %e.code,
                        "EC2 answered {}; trying again in {:?}",
                        e.status,
                        wait
                    );
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn attempt(&self, body: &str) -> Result<Node, Ec2Error> {
        let headers = self.signed_headers(body).await?;
        let mut request = self
            .http
            .post(self.endpoint.clone())
            .header("content-type", CONTENT_TYPE)
            .body(body.to_owned());
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request.send().await.map_err(|e| {
            let code = if e.is_connect() {
                "Connect"
            } else {
                "Transport"
            };
            Ec2Error::local(code, format!("EC2 at {}: {e}", self.endpoint))
        })?;
        let status = response.status().as_u16();
        let text = response
            .text()
            .await
            .map_err(|e| Ec2Error::local("Transport", format!("EC2's answer: {e}")))?;
        if !(200..300).contains(&status) {
            return Err(Ec2Error::from_answer(status, &text));
        }
        Node::parse(&text).map_err(|e| Ec2Error {
            status,
            code: "MalformedAnswer".into(),
            message: e,
            request_id: None,
        })
    }

    /// The SigV4 headers (`authorization`, `x-amz-date`, `x-amz-security-token`) for a POST of
    /// `body` to the endpoint, with credentials fetched (and refreshed) by the provider chain.
    async fn signed_headers(&self, body: &str) -> Result<Vec<(String, String)>, Ec2Error> {
        let credentials = self
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| Ec2Error::local("Credentials", format!("AWS credentials: {e}")))?;
        let identity = credentials.into();
        let signing = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("ec2")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| Ec2Error::local("Signing", format!("SigV4: {e}")))?
            .into();
        let signable = SignableRequest::new(
            "POST",
            self.endpoint.as_str(),
            [("content-type", CONTENT_TYPE)].into_iter(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .map_err(|e| Ec2Error::local("Signing", format!("SigV4: {e}")))?;
        let (instructions, _signature) = sign(signable, &signing)
            .map_err(|e| Ec2Error::local("Signing", format!("SigV4: {e}")))?
            .into_parts();
        Ok(instructions
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }
}

/// Full-jitter exponential back-off: a random wait up to 1 s, 2 s, 4 s… (at most 20 s).
fn backoff(attempt: u32) -> Duration {
    let ceiling = Duration::from_secs(1u64 << attempt.min(5)).min(MAX_BACKOFF);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // The clock's sub-second digits are random enough to keep concurrent clients apart.
    ceiling.mul_f64(0.5 + f64::from(nanos % 1000) / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_answers_keep_code_message_and_request_id() {
        let e = Ec2Error::from_answer(
            400,
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID 'i-1' does not exist</Message></Error></Errors><RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>"#,
        );
        assert_eq!(e.code, "InvalidInstanceID.NotFound");
        assert_eq!(
            e.to_string(),
            "InvalidInstanceID.NotFound: The instance ID 'i-1' does not exist (HTTP 400, request id ea966190-f9aa-478e-9ede-example)"
        );
        assert!(!e.retryable(true));
        let html = Ec2Error::from_answer(503, "<html>busy</html>");
        assert_eq!(html.code, "Unknown");
        assert!(html.retryable(true) && !html.retryable(false));
    }

    #[test]
    fn throttles_are_retried_even_for_operations_that_change_things() {
        let e = Ec2Error::from_answer(
            503,
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors></Response>",
        );
        assert!(e.retryable(false));
        let timeout = Ec2Error::local("Transport", "timed out".into());
        assert!(timeout.retryable(true) && !timeout.retryable(false));
        assert!(Ec2Error::local("Connect", "refused".into()).retryable(false));
    }

    #[test]
    fn back_off_grows_and_is_capped() {
        assert!(backoff(1) <= Duration::from_secs(2));
        assert!(backoff(1) >= Duration::from_secs(1));
        assert!(backoff(9) <= MAX_BACKOFF);
    }
}
