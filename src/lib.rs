//! cloverlift: compiles CloverDX Server cloud upgrade specs into plans, templates and applied
//! upgrades. The pipeline is load → validate → compile → render → apply; each stage is a
//! module that hands the next a typed value.

pub mod apply;
pub mod cloud;
pub mod commands;
pub mod diagnostics;
pub mod logging;
pub mod output;
pub mod plan;
pub mod render;
pub mod source;
pub mod spec;
pub mod suggest;
pub mod text;
pub mod timestamp;

use diagnostics::SpecError;
use plan::Plan;
use source::SourceFile;
use spec::load::ValidSpec;

/// The front end and the compiler together: a spec file to its plan, or every problem found.
pub fn check(file: &SourceFile) -> Result<(ValidSpec, Plan), Vec<SpecError>> {
    let valid = spec::load::load(file)?;
    let plan = plan::compile(&valid)?;
    Ok((valid, plan))
}
