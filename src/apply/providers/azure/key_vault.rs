//! `azure_key_vault` secret references, resolved through Key Vault's REST API (GetSecret) with
//! a token for the vault scope from the same credential chain as ARM. The value goes to the
//! caller only: it is never logged or journaled.
//!
//! `CLOVERLIFT_AZURE_KEY_VAULT_URL` sends the call to another origin (a private endpoint's
//! name, or the tests' double); the path stays the reference's.

use std::time::Duration;

use super::credential::{Credentials, KEY_VAULT_SCOPE};

/// Key Vault's data-plane API version.
const API_VERSION: &str = "7.4";

/// The secret's value, as text.
pub async fn resolve(reference: &str) -> Result<Vec<u8>, String> {
    let url = reqwest::Url::parse(reference).map_err(|e| format!("{reference}: {e}"))?;
    let mut url = match std::env::var("CLOVERLIFT_AZURE_KEY_VAULT_URL") {
        Ok(origin) if !origin.is_empty() => {
            let mut moved = reqwest::Url::parse(&origin)
                .map_err(|e| format!("CLOVERLIFT_AZURE_KEY_VAULT_URL: {e}"))?;
            moved.set_path(url.path());
            moved
        }
        _ => url,
    };
    url.query_pairs_mut()
        .append_pair("api-version", API_VERSION);
    let credentials = Credentials::from_environment()?;
    let token = credentials.token(KEY_VAULT_SCOPE).await?;
    let response = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| e.to_string())?
        .get(url.clone())
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| crate::apply::http_error::describe(&e, url.as_str()))?;
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if status != 200 {
        let e = super::arm::ArmError::from_body(status, &body);
        return Err(format!("Key Vault secret {reference}: {e}"));
    }
    body["value"]
        .as_str()
        .map(|v| v.as_bytes().to_vec())
        .ok_or_else(|| format!("Key Vault secret {reference} has no value"))
}
