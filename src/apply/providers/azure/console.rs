//! The new VM's serial console, where its boot guard prints the server's certificate. Azure
//! keeps it in boot diagnostics: `retrieveBootDiagnosticsData` answers short-lived SAS URIs of
//! the console screenshot and the serial console log (Compute 2024-07-01,
//! `VirtualMachine_RetrieveBootDiagnosticsData.json`), and the log is read from Blob Storage with
//! that URI alone (no ARM token goes to storage). The template turns boot diagnostics on with
//! managed storage (`diagnosticsProfile.bootDiagnostics.enabled`).

use std::time::Duration;

use serde_json::Value;

use super::{AzureProvider, api};
use crate::apply::http_error;

/// How long the SAS URI lives: it is used at once.
const SAS_MINUTES: u32 = 5;
/// A serial console log larger than this is cut: the guard's report is near its end, and the
/// tail is what is kept.
const MAX_LOG_BYTES: usize = 8 * 1024 * 1024;

impl AzureProvider {
    /// The serial console log of the VM `vm_id` (the deploy step's `vmId`), or `null` while
    /// boot diagnostics has none.
    pub(super) async fn serial_console(&self, vm_id: &str) -> Result<Value, String> {
        let path = format!(
            "{vm_id}/retrieveBootDiagnosticsData?sasUriExpirationTimeInMinutes={SAS_MINUTES}"
        );
        let uris = self
            .arm
            .post(&path, api::COMPUTE, None)
            .await
            .map_err(|e| format!("POST {vm_id}/retrieveBootDiagnosticsData: {e}"))?;
        let Some(uri) = uris["serialConsoleLogBlobUri"]
            .as_str()
            .filter(|u| !u.is_empty())
        else {
            return Ok(Value::Null);
        };
        read_log(uri).await.map(Value::String)
    }
}

/// GET the log at its SAS URI. The URI carries its signature, so messages show it without its
/// query; only https is followed, or http to this machine (the tests' double).
async fn read_log(uri: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(uri).map_err(|e| format!("the serial console log's URI: {e}"))?;
    let shown = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.path()
    );
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(format!(
            "the serial console log's URI {shown} is not https: not read"
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    // reqwest's errors carry the URL, signature included: it is dropped before the error is
    // described.
    let failed = |e: reqwest::Error| {
        format!(
            "GET {shown}: {}",
            http_error::describe(&e.without_url(), &shown)
        )
    };
    let mut resp = client.get(url).send().await.map_err(failed)?;
    let status = resp.status();
    if status.as_u16() == 404 {
        return Ok(String::new());
    }
    if !status.is_success() {
        return Err(format!("GET {shown}: HTTP {status}"));
    }
    let mut log: Vec<u8> = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(failed)? {
        log.extend_from_slice(&chunk);
        if log.len() > MAX_LOG_BYTES {
            log.drain(..log.len() - MAX_LOG_BYTES);
        }
    }
    Ok(String::from_utf8_lossy(&log).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SAS URI's signature is a credential: a failed read never shows it.
    #[tokio::test]
    async fn a_failed_read_never_shows_the_signature() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or(9);
        let uri = format!(
            "http://127.0.0.1:{port}/bootdiagnostics/vm.serialconsole.log?sv=2024-11-04&sig=TOPSECRET"
        );
        let err = read_log(&uri).await.expect_err("nothing listens");
        assert!(!err.contains("TOPSECRET"), "{err}");
        assert!(
            err.contains("/bootdiagnostics/vm.serialconsole.log"),
            "{err}"
        );
        let plain = read_log("http://storage.example.com/x.log?sig=TOPSECRET")
            .await
            .expect_err("not https");
        assert!(
            !plain.contains("TOPSECRET") && plain.contains("not https"),
            "{plain}"
        );
    }
}
