//! Each cloud's part of the plan, as same-shaped siblings behind the [`Provider`] trait:
//! snapshots, deployment, the address move and the cloud's preflight checks.
//!
//! [`Provider`]: crate::apply::runner::Provider

#[cfg(feature = "aws")]
pub mod aws;
