//! Google's official clients for the services cloverlift's `apply` calls, built once per run
//! with one set of Application Default Credentials, one retry policy and, for the tests, one
//! endpoint.
//!
//! A crate of its own for build cost (issue 17). A client is a trait object over every method
//! of its service, and an optimised crate compiles its own copy of every async body it polls,
//! however deep: the crate that awaited a client's `build()` compiled Google's transport for
//! all of those methods, which was most of the code optimised in cloverlift's own crate. Here
//! that code is compiled once, without optimisation in release builds (the root manifest's
//! profile, as for the client crates themselves: the calls are network-bound), and callers get
//! boxed futures, which they poll through a vtable compiled here rather than compile again.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use google_cloud_auth::credentials::Credentials;
use google_cloud_compute_v1::client as compute;
use google_cloud_config_v1::client::Config;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt, TooManyRequests};
use google_cloud_secretmanager_v1::client::SecretManagerService;
use google_cloud_sql_v1::client as sql;
use google_cloud_storage::client::Storage;

/// A future compiled in this crate: what callers await instead of an `async fn` (see the crate
/// documentation).
pub type Building<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// Every client apply uses.
pub struct Clients {
    pub instances: compute::Instances,
    pub disks: compute::Disks,
    pub snapshots: compute::Snapshots,
    pub addresses: compute::Addresses,
    pub firewalls: compute::Firewalls,
    pub zone_operations: compute::ZoneOperations,
    pub region_operations: compute::RegionOperations,
    pub global_operations: compute::GlobalOperations,
    pub sql_instances: sql::SqlInstancesService,
    pub backup_runs: sql::SqlBackupRunsService,
    pub sql_operations: sql::SqlOperationsService,
    pub config: Config,
    pub storage: Storage,
}

/// Application Default Credentials: `GOOGLE_APPLICATION_CREDENTIALS` (a service account key,
/// user credentials, or a workload identity federation configuration, as CI uses), then
/// gcloud's application-default login, then the metadata server.
fn credentials() -> Result<Credentials, String> {
    google_cloud_auth::credentials::Builder::default()
        .build()
        .map_err(|e| format!("Google Cloud credentials (Application Default Credentials): {e}"))
}

/// Builds a client with the shared settings: 429 and 503 retried (8 attempts, backoff scaled
/// to the poll interval), `endpoint` instead of Google's when given.
macro_rules! build {
    ($ty:ty, $endpoint:expr, $credentials:expr, $poll:expr) => {{
        let mut builder = <$ty>::builder()
            .with_credentials($credentials.clone())
            .with_retry_policy(TooManyRequests::new(Aip194Strict).with_attempt_limit(8))
            .with_backoff_policy(backoff($poll));
        if let Some(endpoint) = $endpoint {
            builder = builder.with_endpoint(endpoint);
        }
        builder
            .build()
            .await
            .map_err(|e| format!("{}: {e}", stringify!($ty)))?
    }};
}

fn backoff(poll: Duration) -> google_cloud_gax::exponential_backoff::ExponentialBackoff {
    let initial = poll.clamp(Duration::from_millis(10), Duration::from_secs(1));
    ExponentialBackoffBuilder::new()
        .with_initial_delay(initial)
        .with_maximum_delay(initial * 30)
        .with_scaling(2.0)
        .build()
        .unwrap_or_else(|_| ExponentialBackoffBuilder::new().clamp())
}

impl Clients {
    /// Builds every client with one set of credentials; `endpoint` (the tests' double) replaces
    /// Google's, and `poll` scales the retries' backoff.
    pub fn new(endpoint: Option<&str>, poll: Duration) -> Building<Clients> {
        let endpoint = endpoint.map(|e| e.trim_end_matches('/').to_owned());
        Box::pin(async move {
            let credentials = credentials()?;
            let e = || endpoint.clone();
            Ok(Clients {
                instances: build!(compute::Instances, e(), credentials, poll),
                disks: build!(compute::Disks, e(), credentials, poll),
                snapshots: build!(compute::Snapshots, e(), credentials, poll),
                addresses: build!(compute::Addresses, e(), credentials, poll),
                firewalls: build!(compute::Firewalls, e(), credentials, poll),
                zone_operations: build!(compute::ZoneOperations, e(), credentials, poll),
                region_operations: build!(compute::RegionOperations, e(), credentials, poll),
                global_operations: build!(compute::GlobalOperations, e(), credentials, poll),
                sql_instances: build!(sql::SqlInstancesService, e(), credentials, poll),
                backup_runs: build!(sql::SqlBackupRunsService, e(), credentials, poll),
                sql_operations: build!(sql::SqlOperationsService, e(), credentials, poll),
                config: build!(Config, e(), credentials, poll),
                storage: build!(Storage, e(), credentials, poll),
            })
        })
    }
}

/// A Secret Manager client of its own: secrets resolve before the provider exists.
pub fn secret_manager(endpoint: Option<&str>) -> Building<SecretManagerService> {
    let endpoint = endpoint.map(|e| e.trim_end_matches('/').to_owned());
    Box::pin(async move {
        let credentials = credentials()?;
        Ok(build!(
            SecretManagerService,
            endpoint,
            credentials,
            Duration::from_secs(1)
        ))
    })
}
