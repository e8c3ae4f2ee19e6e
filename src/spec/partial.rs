//! The rules that need only part of a spec, run when another part is malformed, so that one
//! run reports every problem: a misspelled key elsewhere does not hide a hook that names an
//! unknown step, nor a zone outside its region. Each part is read on its own against its
//! schema and checked only when it reads cleanly (its own errors are already reported).

use serde::de::DeserializeOwned;

use super::model::{FromGcp, Hook};
use super::node::Node;
use super::read::Reader;
use super::schema::Schema;
use super::validate;
use crate::diagnostics::SpecError;

pub fn check(tree: &Node, schema: &Schema) -> Vec<SpecError> {
    let mut errors = Vec::new();
    if let Some(hooks) = section::<Vec<Hook>>(tree, schema, &["hooks"]) {
        errors.extend(validate::hook_rules(&hooks, tree));
        errors.extend(crate::plan::graph::unknown_in_every_plan(&hooks, tree));
    }
    if let Some(from) = section::<FromGcp>(tree, schema, &["from", "gcp"]) {
        errors.extend(validate::gcp_zone_rules(&from, tree));
    }
    errors
}

/// The typed part at `path`, when it is there and well-formed.
fn section<T: DeserializeOwned>(tree: &Node, schema: &Schema, path: &[&str]) -> Option<T> {
    let value = Reader::new(schema).read_section(tree, path)?;
    serde_json::from_value(value).ok()
}
