use miette::{Diagnostic, SourceSpan};

/// One problem in one spec. The variant is the rule; SPEC.md's table is the list of codes.
/// The first label of each variant is its primary span: JSON and SARIF report its start.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
pub enum SpecError {
    #[error("{message}")]
    #[diagnostic(code(spec::yaml))]
    Yaml {
        message: String,
        #[label("here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("duplicate key `{key}`")]
    #[diagnostic(code(spec::duplicate_key))]
    DuplicateKey {
        key: String,
        #[label("repeated here")]
        span: SourceSpan,
        #[label("first given here")]
        first: SourceSpan,
        #[help]
        help: String,
    },

    #[error("unknown field `{field}` in {context}")]
    #[diagnostic(code(spec::unknown_field))]
    UnknownField {
        field: String,
        context: String,
        #[label("not a field of {context}")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("missing field `{field}` in {context}")]
    #[diagnostic(code(spec::missing_field))]
    MissingField {
        field: String,
        context: String,
        #[label("`{field}` is required here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("{}", value_message(.context, .reason))]
    #[diagnostic(code(spec::invalid_value))]
    InvalidValue {
        context: String,
        reason: String,
        #[label("{reason}")]
        span: SourceSpan,
        /// Where a value this one clashes with was given (a repeated hook name).
        #[label("first given here")]
        other: Option<SourceSpan>,
        #[help]
        help: String,
    },

    #[error("invalid {kind} `{value}`: {reason}")]
    #[diagnostic(code(spec::invalid_id))]
    InvalidId {
        kind: String,
        value: String,
        reason: String,
        #[label("{reason}")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(spec::cloud_mismatch))]
    CloudMismatch {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: String,
    },

    #[error("to.version {to} is not newer than from.version {from}")]
    #[diagnostic(code(spec::version_order))]
    VersionOrder {
        from: String,
        to: String,
        #[label("must be newer than {from}")]
        span: SourceSpan,
        #[label("the running version")]
        from_span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{context}` is a secret and must be a secret reference, not a plain string")]
    #[diagnostic(code(spec::literal_secret))]
    LiteralSecret {
        context: String,
        #[label("a literal secret")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(spec::requires))]
    Requires {
        message: String,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: String,
    },

    #[error("hook `{hook}` refers to `{step}`, which is no step or hook of this plan")]
    #[diagnostic(code(spec::unknown_step))]
    UnknownStep {
        hook: String,
        step: String,
        #[label("no such step")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("hooks make the plan cyclic: {cycle}")]
    #[diagnostic(code(spec::cycle))]
    Cycle {
        cycle: String,
        #[label("this hook closes the cycle")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("unsupported spec format version {found}")]
    #[diagnostic(code(spec::unsupported_version))]
    UnsupportedVersion {
        found: String,
        #[label("this build reads version 1")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    /// The file could not be read at all (exit code 2, not 1); reported like the others so
    /// every output format has one record per file.
    #[error("cannot read {path}: {message}")]
    #[diagnostic(code(io::read))]
    Unreadable {
        path: String,
        message: String,
        #[label("unreadable")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    /// A bug in cloverlift, reported as a diagnostic rather than a panic.
    #[error("internal error: {message}")]
    #[diagnostic(code(cloverlift::internal))]
    Internal {
        message: String,
        #[label("while reading this")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    /// Not in SPEC.md's table: hostile or absurd input (size, nesting, alias expansion).
    #[error("{message}")]
    #[diagnostic(code(spec::limit))]
    Limit {
        message: String,
        #[label("limit reached here")]
        span: SourceSpan,
        #[help]
        help: String,
    },
}

impl SpecError {
    /// `(offset, length)` in bytes of the primary label.
    pub fn primary_span(&self) -> (usize, usize) {
        let span = match self {
            SpecError::Yaml { span, .. }
            | SpecError::DuplicateKey { span, .. }
            | SpecError::UnknownField { span, .. }
            | SpecError::MissingField { span, .. }
            | SpecError::InvalidValue { span, .. }
            | SpecError::InvalidId { span, .. }
            | SpecError::CloudMismatch { span, .. }
            | SpecError::VersionOrder { span, .. }
            | SpecError::LiteralSecret { span, .. }
            | SpecError::Requires { span, .. }
            | SpecError::UnknownStep { span, .. }
            | SpecError::Cycle { span, .. }
            | SpecError::UnsupportedVersion { span, .. }
            | SpecError::Internal { span, .. }
            | SpecError::Unreadable { span, .. }
            | SpecError::Limit { span, .. } => span,
        };
        (span.offset(), span.len())
    }

    /// The code as SPEC.md writes it, e.g. `spec::unknown_field` (from the miette attribute,
    /// so there is one source of truth).
    pub fn code_string(&self) -> String {
        self.code().map(|c| c.to_string()).unwrap_or_default()
    }

    /// Every spec problem is an error today; the field exists so warnings fit the formats.
    pub fn severity_str(&self) -> &'static str {
        "error"
    }
}

impl SpecError {
    pub fn internal(message: impl Into<String>, span: impl Into<SourceSpan>) -> Self {
        SpecError::Internal {
            message: message.into(),
            span: span.into(),
            help: "this is a bug in cloverlift; please report it with this spec".into(),
        }
    }
}

/// `invalid value for `from.aws.region`: …`, or just the reason when the value is the whole
/// document (an empty file, a list).
fn value_message(context: &str, reason: &str) -> String {
    if context.is_empty() {
        reason.to_owned()
    } else {
        format!("invalid value for `{context}`: {reason}")
    }
}
