//! The upgrade spec: its model, the YAML reader that keeps positions, and validation.

pub mod checked;
pub mod load;
pub mod model;
pub mod node;
mod partial;
pub mod read;
pub mod schema;
pub mod validate;
pub mod yaml;
