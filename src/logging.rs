//! The log filter: `RUST_LOG` as the user gives it, except that the HTTP, AWS SDK and Azure SDK crates
//! never log below `info`. At `trace` they print requests with their signed headers
//! (`authorization`, `x-amz-security-token`) and basic-auth headers: credentials that CI logs
//! would keep.

use tracing_subscriber::EnvFilter;

/// Crates whose `trace` output carries request headers.
const HEADER_LOGGERS: [&str; 16] = [
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
    // Azure's pipeline logs requests (token requests with client assertions among them).
    "azure_core",
    "azure_identity",
    "typespec_client_core",
    "typespec",
];

pub fn filter() -> EnvFilter {
    let mut filter = EnvFilter::from_default_env();
    // The cap only lowers verbosity: added to a quieter filter (RUST_LOG unset means errors
    // only), `target=info` would raise it and print the SDKs' warnings (a credentials chain
    // probing IMDS) that nobody asked for.
    let wants_detail = std::env::var("RUST_LOG")
        .map(|v| {
            let v = v.to_ascii_lowercase();
            v.contains("debug") || v.contains("trace")
        })
        .unwrap_or(false);
    if !wants_detail {
        return filter;
    }
    for target in HEADER_LOGGERS {
        // A directive for a target overrides a more general one, whatever order RUST_LOG has.
        if let Ok(directive) = format!("{target}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}
