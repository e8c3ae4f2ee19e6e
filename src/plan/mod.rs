//! The plan: a validated spec compiled into a graph of typed steps, with its schedule and
//! the invariants that make it safe to run.

pub mod format;
pub mod graph;
pub mod invariant;
pub mod prerequisites;
pub mod schedule;
pub mod step;

pub use graph::{Plan, Step, compile};
