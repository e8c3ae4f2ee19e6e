//! `apply`: the plan executed. The executor is cloud-neutral; the steps shared by every cloud
//! (pause, resume, activate, verify, hooks) talk to the CloverDX Server API, and each cloud's
//! provider (`providers/`) does the rest: AWS, Azure and Google Cloud. All of it is behind the
//! clouds' features; the render-only build keeps only [`drives`].

#[cfg(feature = "apply-core")]
pub mod boot_report;
#[cfg(feature = "apply-core")]
pub mod changes;
#[cfg(feature = "apply-core")]
pub mod clock;
#[cfg(feature = "apply-core")]
pub mod cloverdx;
#[cfg(feature = "apply-core")]
pub mod console_pin;
#[cfg(feature = "apply-core")]
pub mod cutover;
#[cfg(feature = "apply-core")]
pub mod drift;
#[cfg(feature = "apply-core")]
pub mod events;
#[cfg(feature = "apply-core")]
pub mod executor;
#[cfg(feature = "apply-core")]
pub mod http_error;
#[cfg(feature = "apply-core")]
pub mod import_report;
#[cfg(feature = "apply-core")]
pub mod journal;
#[cfg(feature = "apply-core")]
pub mod new_items;
#[cfg(feature = "apply-core")]
pub mod patches;
#[cfg(feature = "apply-core")]
pub mod preflight;
#[cfg(feature = "apply-core")]
pub mod rollback;
#[cfg(feature = "apply-core")]
pub mod runner;
#[cfg(feature = "apply-core")]
pub mod secrets;
#[cfg(feature = "apply-core")]
pub mod server_config;
#[cfg(feature = "apply-core")]
pub mod summary;
#[cfg(feature = "apply-core")]
pub mod tls;
#[cfg(feature = "apply-core")]
pub mod xml_reference;

#[cfg(feature = "apply-core")]
pub mod providers;

use crate::spec::model::{Cloud, Spec, Strategy};

/// Whether this build's apply drives the spec's cloud and strategy (render says which
/// parameters apply discovers, or that the user supplies them).
pub fn drives(spec: &Spec) -> bool {
    match (spec.cloud, spec.strategy) {
        (Cloud::Aws, Strategy::Architecture) => cfg!(feature = "aws"),
        // The apply command itself is built with the `aws` feature.
        (Cloud::Azure, _) => cfg!(all(feature = "aws", feature = "azure")),
        (Cloud::Gcp, _) => cfg!(all(feature = "aws", feature = "gcp")),
        (Cloud::Aws, Strategy::War) => false,
    }
}
