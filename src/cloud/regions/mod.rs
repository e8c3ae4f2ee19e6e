//! Region, location and zone names per provider, kept as data.

pub mod aws;
pub mod azure;
pub mod gcp;
