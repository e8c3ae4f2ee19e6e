//! Every problem a spec can have, as one enum whose variants carry the miette code SPEC.md
//! assigns, the span of the offending YAML node and a help line; plus the reporters that print
//! them for people (graphical/plain), for pipelines (JSON) and for code scanning (SARIF).

pub mod codes;
mod error;
mod printable;
pub mod report;
pub mod secret_mask;

pub use error::SpecError;

use miette::Diagnostic;

use crate::source::SourceFile;

/// A diagnostic resolved against its file: what every machine-readable format prints.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Located {
    pub code: String,
    pub severity: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub help: String,
    #[serde(skip)]
    pub end_line: usize,
    #[serde(skip)]
    pub end_column: usize,
}

impl Located {
    pub fn new(file: &SourceFile, err: &SpecError) -> Self {
        let (offset, len) = err.primary_span();
        let (line, column) = file.line_col(offset);
        let (end_line, end_column) = file.line_col(offset + len);
        Located {
            code: err.code_string(),
            severity: err.severity_str(),
            message: err.to_string(),
            line,
            column,
            help: err.help().map(|h| h.to_string()).unwrap_or_default(),
            end_line,
            end_column,
        }
    }
}

/// Orders diagnostics by position, so every output lists them as they appear in the file.
pub fn sort(errors: &mut [SpecError]) {
    errors.sort_by_key(|e| e.primary_span());
}
