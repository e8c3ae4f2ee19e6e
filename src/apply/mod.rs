//! `apply`: the plan executed. The executor is cloud-neutral; the steps shared by every cloud
//! (pause, resume, activate, verify, hooks) talk to the CloverDX Server API, and each cloud's
//! provider (`providers/`) does the rest. AWS and Azure have
//! providers.

pub mod changes;
pub mod clock;
pub mod cloverdx;
pub mod cutover;
pub mod drift;
pub mod events;
pub mod executor;
pub mod http_error;
pub mod journal;
pub mod preflight;
pub mod rollback;
pub mod runner;
pub mod secrets;
pub mod server_config;
pub mod summary;

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
