//! The front end in one call: text → positioned tree → format version → schema-driven read
//! → typed spec → semantic rules. Every stage reports all it finds; a later stage runs only
//! when the earlier ones found nothing, so one mistake is not reported three ways. When the
//! read finds errors, the rules that need only well-formed parts still run on those parts
//! (`partial`).

use std::sync::LazyLock;

use super::model::Spec;
use super::node::Node;
use super::read::Reader;
use super::schema::Schema;
use super::{partial, validate, yaml};
use crate::diagnostics::{self, SpecError};
use crate::source::SourceFile;

/// The only format version this build reads.
pub const FORMAT_VERSION: i64 = 1;

static SCHEMA: LazyLock<Schema> = LazyLock::new(Schema::checked_in);

/// A spec that passed every rule, with the tree it came from (for spans in later stages).
#[derive(Debug, Clone)]
pub struct ValidSpec {
    pub spec: Spec,
    pub tree: Node,
}

/// Loads and validates one spec. On failure, every diagnostic found, in file order.
pub fn load(file: &SourceFile) -> Result<ValidSpec, Vec<SpecError>> {
    // Duplicate keys leave a readable tree, so the later stages still report what they find.
    let (tree, mut errors) = yaml::parse(file);
    let Some(mut tree) = tree else {
        return Err(errors);
    };
    if let Some(err) = check_format_version(&tree) {
        return Err(vec![err]);
    }
    errors.extend(validate::prune_other_clouds(&mut tree));
    errors.extend(validate::tree_rules(&tree));
    let mut reader = Reader::new(&SCHEMA);
    let value = reader.read_document(&tree);
    errors.extend(reader.errors);
    let value = match value {
        Some(v) if errors.is_empty() => v,
        _ => {
            errors.extend(partial::check(&tree, &SCHEMA));
            diagnostics::sort(&mut errors);
            return Err(errors);
        }
    };
    let spec: Spec = serde_json::from_value(value)
        .map_err(|e| vec![SpecError::internal(e.to_string(), tree.span)])?;
    let mut errors = validate::validate(&spec, &tree);
    if errors.is_empty() {
        Ok(ValidSpec { spec, tree })
    } else {
        diagnostics::sort(&mut errors);
        Err(errors)
    }
}

/// `version:` decides how the rest is read, so it is checked first and alone: a version-2
/// file read by version-1 rules would only produce noise.
fn check_format_version(tree: &Node) -> Option<SpecError> {
    let entry = tree.entry("version")?;
    let scalar = entry.value.as_scalar()?;
    match scalar.as_int() {
        Some(FORMAT_VERSION) => None,
        Some(other) => Some(SpecError::UnsupportedVersion {
            found: other.to_string(),
            span: entry.value.span.into(),
            help: format!(
                "this cloverlift reads format version {FORMAT_VERSION}; upgrade cloverlift or \
                 write the spec in version {FORMAT_VERSION}"
            ),
        }),
        // Not a number at all: the schema reader reports the type.
        None => None,
    }
}
