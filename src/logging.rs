//! The log filter: `RUST_LOG` as the user gives it, except that the HTTP and AWS SDK crates
//! never log below `info`. At `trace` they print requests with their signed headers
//! (`authorization`, `x-amz-security-token`) and basic-auth headers: credentials that CI logs
//! would keep.

use tracing_subscriber::EnvFilter;

/// Crates whose `trace` output carries request headers.
const HEADER_LOGGERS: [&str; 12] = [
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_sigv4",
    "aws_runtime",
    "aws_config",
    "hyper",
    "hyper_util",
    "h2",
    "reqwest",
    "rustls",
];

pub fn filter() -> EnvFilter {
    let mut filter = EnvFilter::from_default_env();
    for target in HEADER_LOGGERS {
        // A directive for a target overrides a more general one, whatever order RUST_LOG has.
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}
