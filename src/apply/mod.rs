//! `apply`: the plan executed. The executor is cloud-neutral; the steps shared by every cloud
//! (pause, resume, activate, verify, hooks) talk to the CloverDX Server API, and each cloud's
//! provider (`providers/`) does the rest. AWS is the first provider.

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
