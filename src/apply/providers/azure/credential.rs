//! Who apply is, to Azure: the credential chain users expect from Azure's own tools, built from
//! `azure_identity` 1.x. In order:
//!
//! 1. a service principal with a secret (`AZURE_TENANT_ID`, `AZURE_CLIENT_ID`,
//!    `AZURE_CLIENT_SECRET`);
//! 2. workload identity federation, as CI systems and AKS provide it (`AZURE_TENANT_ID`,
//!    `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`);
//! 3. the Azure CLI's signed-in account (`az account get-access-token`);
//! 4. the managed identity of the machine apply runs on (IMDS, App Service, Cloud Shell).
//!
//! The first two are chosen by their variables; otherwise the CLI and the managed identity are
//! tried in turn and the first that answers is kept. `CLOVERLIFT_AZURE_CREDENTIAL` names one
//! (`environment`, `workload-identity`, `azure-cli`, `managed-identity`) to skip the guessing.
//!
//! azure_core is built without its own HTTP stack: its token requests go through the reqwest
//! client cloverlift already carries (one TLS stack, one HTTP client in the binary).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use azure_core::credentials::{Secret, TokenCredential};
use azure_core::http::{
    AsyncRawResponse, Body, ClientOptions, HttpClient, Request, StatusCode, Transport,
    headers::Headers,
};
use azure_identity::{
    AzureCliCredential, ClientSecretCredential, ClientSecretCredentialOptions,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, WorkloadIdentityCredential,
    WorkloadIdentityCredentialOptions,
};

/// The scope of Azure Resource Manager tokens.
pub const ARM_SCOPE: &str = "https://management.azure.com/.default";
/// The scope of Key Vault data-plane tokens.
pub const KEY_VAULT_SCOPE: &str = "https://vault.azure.net/.default";

/// A token is renewed this long before it expires, so a long wait never sends a stale one.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// The credential chain, with one cached bearer token per scope.
pub struct Credentials {
    sources: Vec<(&'static str, Arc<dyn TokenCredential>)>,
    chosen: Mutex<Option<usize>>,
    cache: Mutex<BTreeMap<String, (String, SystemTime)>>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.sources.iter().map(|(n, _)| *n).collect();
        f.debug_struct("Credentials")
            .field("sources", &names)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The chain for this environment (nothing is called yet).
    pub fn from_environment() -> Result<Credentials, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let forced = var("CLOVERLIFT_AZURE_CREDENTIAL");
        let secret = var("AZURE_CLIENT_SECRET").is_some();
        let federated = var("AZURE_FEDERATED_TOKEN_FILE").is_some();
        let wanted: Vec<&'static str> = match forced.as_deref() {
            Some("environment") => vec!["environment"],
            Some("workload-identity") => vec!["workload-identity"],
            Some("azure-cli") => vec!["azure-cli"],
            Some("managed-identity") => vec!["managed-identity"],
            Some(other) => {
                return Err(format!(
                    "CLOVERLIFT_AZURE_CREDENTIAL={other:?} is not one of environment, \
                     workload-identity, azure-cli, managed-identity"
                ));
            }
            None if secret => vec!["environment"],
            None if federated => vec!["workload-identity"],
            None => vec!["azure-cli", "managed-identity"],
        };
        let mut sources = Vec::new();
        for name in wanted {
            sources.push((name, build(name)?));
        }
        Ok(Credentials {
            sources,
            chosen: Mutex::new(None),
            cache: Mutex::new(BTreeMap::new()),
        })
    }

    /// A bearer token for `scope`, from the cache while it is fresh.
    pub async fn token(&self, scope: &str) -> Result<String, String> {
        if let Some(token) = self.cached(scope) {
            return Ok(token);
        }
        let chosen = self.chosen.lock().ok().and_then(|c| *c);
        let order: Vec<usize> = match chosen {
            Some(i) => vec![i],
            None => (0..self.sources.len()).collect(),
        };
        let mut failures = Vec::new();
        for i in order {
            let Some((name, source)) = self.sources.get(i) else {
                continue;
            };
            match source.get_token(&[scope], None).await {
                Ok(token) => {
                    if let Ok(mut c) = self.chosen.lock() {
                        *c = Some(i);
                    }
                    let expires = SystemTime::UNIX_EPOCH
                        + Duration::from_secs(token.expires_on.unix_timestamp().max(0) as u64);
                    let value = token.token.secret().to_owned();
                    if let Ok(mut cache) = self.cache.lock() {
                        cache.insert(scope.to_owned(), (value.clone(), expires));
                    }
                    tracing::debug!(credential = name, scope, "Azure token acquired");
                    return Ok(value);
                }
                // The message names the credential and why; it never holds a token.
                Err(e) => failures.push(format!("{name}: {e}")),
            }
        }
        Err(format!(
            "no Azure credential worked ({}); sign in with `az login`, or set AZURE_TENANT_ID, \
             AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_FEDERATED_TOKEN_FILE)",
            failures.join("; ")
        ))
    }

    /// The name of the credential that answered last, for the preflight's report.
    pub fn chosen_name(&self) -> Option<&'static str> {
        let i = self.chosen.lock().ok().and_then(|c| *c)?;
        self.sources.get(i).map(|(n, _)| *n)
    }

    fn cached(&self, scope: &str) -> Option<String> {
        let cache = self.cache.lock().ok()?;
        let (token, expires) = cache.get(scope)?;
        let fresh = SystemTime::now() + RENEW_BEFORE < *expires;
        fresh.then(|| token.clone())
    }
}

fn build(name: &str) -> Result<Arc<dyn TokenCredential>, String> {
    let options = || ClientOptions {
        transport: Some(Transport::new(Arc::new(ReqwestTransport::new()))),
        ..Default::default()
    };
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let built: azure_core::Result<Arc<dyn TokenCredential>> = match name {
        "environment" => ClientSecretCredential::new(
            &var("AZURE_TENANT_ID"),
            var("AZURE_CLIENT_ID"),
            Secret::new(var("AZURE_CLIENT_SECRET")),
            Some(ClientSecretCredentialOptions {
                client_options: options(),
            }),
        )
        .map(|c| c as Arc<dyn TokenCredential>),
        "workload-identity" => {
            let mut o = WorkloadIdentityCredentialOptions::default();
            o.credential_options.client_options = options();
            WorkloadIdentityCredential::new(Some(o)).map(|c| c as Arc<dyn TokenCredential>)
        }
        "azure-cli" => AzureCliCredential::new(None).map(|c| c as Arc<dyn TokenCredential>),
        _ => ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
            client_options: options(),
            ..Default::default()
        }))
        .map(|c| c as Arc<dyn TokenCredential>),
    };
    built.map_err(|e| format!("the {name} Azure credential: {e}"))
}

/// azure_core's transport over cloverlift's reqwest client.
#[derive(Debug)]
struct ReqwestTransport(reqwest::Client);

impl ReqwestTransport {
    fn new() -> ReqwestTransport {
        // Short connect timeout: off Azure, the managed identity endpoint does not answer, and
        // the chain should say so quickly.
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        ReqwestTransport(client)
    }
}

#[async_trait::async_trait]
impl HttpClient for ReqwestTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
            .map_err(|e| azure_core::Error::new(azure_core::error::ErrorKind::Other, e))?;
        let mut outgoing = self.0.request(method, request.url().as_str());
        for (name, value) in request.headers().iter() {
            outgoing = outgoing.header(name.as_str(), value.as_str());
        }
        outgoing = match request.body() {
            Body::Bytes(bytes) => outgoing.body(bytes.to_vec()),
            Body::SeekableStream(_) => {
                return Err(azure_core::Error::with_message(
                    azure_core::error::ErrorKind::Other,
                    "streamed request bodies are not used by the credential chain",
                ));
            }
        };
        let response = outgoing.send().await.map_err(|e| {
            let kind = if e.is_connect() {
                azure_core::error::ErrorKind::Connection
            } else {
                azure_core::error::ErrorKind::Io
            };
            azure_core::Error::new(kind, e)
        })?;
        let status = StatusCode::from(response.status().as_u16());
        let mut headers = Headers::new();
        for (name, value) in response.headers() {
            if let Ok(v) = value.to_str() {
                headers.insert(name.as_str().to_owned(), v.to_owned());
            }
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| azure_core::Error::new(azure_core::error::ErrorKind::Io, e))?;
        Ok(AsyncRawResponse::from_bytes(
            status,
            headers,
            bytes.to_vec(),
        ))
    }
}
