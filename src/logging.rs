//! The log filter: `RUST_LOG` as the user gives it, except that the HTTP, AWS SDK and Azure SDK crates
//! never log below `info`. At `trace` they print requests with their signed headers
//! (`authorization`, `x-amz-security-token`) and basic-auth headers: credentials that CI logs
//! would keep.
//!
//! `RUST_LOG` is a list of `target=level` directives and bare levels (`info,cloverlift=debug`),
//! read by tracing-subscriber's `Targets`. Its `EnvFilter` would also take span and field
//! filters, but brings a regular-expression engine into every build, the render-only one
//! included, for a syntax nobody filtering a command-line tool's log needs.

use tracing::Level;
use tracing_subscriber::filter::{LevelFilter, Targets};

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

/// The filter for `RUST_LOG`, and a warning when `RUST_LOG` is not a directive list (logging
/// then stays at errors only, as when it is unset).
pub fn filter() -> (Targets, Option<String>) {
    filter_for(std::env::var("RUST_LOG").ok().as_deref())
}

fn filter_for(rust_log: Option<&str>) -> (Targets, Option<String>) {
    let errors_only = || Targets::new().with_default(LevelFilter::ERROR);
    let spec = rust_log.map(str::trim).unwrap_or_default();
    if spec.is_empty() {
        return (errors_only(), None);
    }
    let filter = match spec.parse::<Targets>() {
        Ok(filter) => filter,
        Err(e) => {
            let warning = format!(
                "warning: RUST_LOG={spec:?} is not a list of `target=level` directives ({e}); \
                 logging errors only"
            );
            return (errors_only(), Some(warning));
        }
    };
    (cap_header_loggers(filter), None)
}

/// Every header logger, and every user directive for a module inside one, at most at `info`.
/// The cap only lowers: a logger the filter keeps quieter stays so (raising it would print
/// the SDKs' warnings, a credentials chain probing IMDS, that nobody asked for).
fn cap_header_loggers(filter: Targets) -> Targets {
    let inside = |target: &str| {
        HEADER_LOGGERS.iter().any(|h| {
            target == *h
                || target
                    .strip_prefix(h)
                    .is_some_and(|rest| rest.starts_with("::"))
        })
    };
    let too_verbose: Vec<String> = filter
        .iter()
        .filter(|(target, level)| inside(target) && *level > LevelFilter::INFO)
        .map(|(target, _)| target.to_owned())
        .collect();
    let capped = too_verbose
        .into_iter()
        .fold(filter, |f, target| f.with_target(target, LevelFilter::INFO));
    HEADER_LOGGERS.iter().fold(capped, |f, target| {
        if effective_level(&f, target) > LevelFilter::INFO {
            f.with_target(*target, LevelFilter::INFO)
        } else {
            f
        }
    })
}

/// The most verbose level `filter` enables for `target`.
fn effective_level(filter: &Targets, target: &str) -> LevelFilter {
    [
        Level::TRACE,
        Level::DEBUG,
        Level::INFO,
        Level::WARN,
        Level::ERROR,
    ]
    .into_iter()
    .find(|level| filter.would_enable(target, level))
    .map_or(LevelFilter::OFF, LevelFilter::from_level)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(rust_log: Option<&str>, target: &str, level: Level) -> bool {
        filter_for(rust_log).0.would_enable(target, &level)
    }

    #[test]
    fn unset_or_empty_logs_errors_only() {
        for unset in [None, Some(""), Some("  ")] {
            assert!(enabled(unset, "cloverlift", Level::ERROR));
            assert!(!enabled(unset, "cloverlift", Level::WARN));
            assert!(
                !enabled(unset, "aws_config", Level::WARN),
                "no SDK warnings"
            );
        }
    }

    #[test]
    fn directives_select_targets_and_levels() {
        let log = Some("warn,cloverlift=debug");
        assert!(enabled(log, "cloverlift", Level::DEBUG));
        assert!(enabled(log, "cloverlift::apply::runner", Level::DEBUG));
        assert!(!enabled(log, "cloverlift", Level::TRACE));
        assert!(enabled(log, "petgraph", Level::WARN));
        assert!(!enabled(log, "petgraph", Level::INFO));
        // Only cloverlift: everything else is off.
        assert!(!enabled(Some("cloverlift=trace"), "hyper", Level::ERROR));
    }

    #[test]
    fn header_loggers_never_go_below_info() {
        for log in [
            "trace",
            "debug",
            "hyper=trace,trace",
            "trace,hyper=trace",
            "TRACE",
        ] {
            assert!(enabled(Some(log), "cloverlift", Level::DEBUG), "{log}");
            for target in HEADER_LOGGERS {
                assert!(!enabled(Some(log), target, Level::DEBUG), "{log}: {target}");
                assert!(enabled(Some(log), target, Level::INFO), "{log}: {target}");
            }
            assert!(!enabled(Some(log), "aws_sigv4::http_request", Level::TRACE));
        }
    }

    #[test]
    fn a_quieter_filter_is_not_raised_by_the_cap() {
        assert!(!enabled(Some("error"), "aws_config", Level::WARN));
        assert!(!enabled(Some("warn"), "aws_config", Level::INFO));
        assert!(!enabled(Some("trace,hyper=warn"), "hyper", Level::INFO));
        assert!(!enabled(
            Some("cloverlift=trace"),
            "aws_config",
            Level::ERROR
        ));
    }

    #[test]
    fn a_malformed_filter_logs_errors_only_and_says_so() {
        let (filter, warning) = filter_for(Some("cloverlift=loud"));
        assert!(filter.would_enable("cloverlift", &Level::ERROR));
        assert!(!filter.would_enable("cloverlift", &Level::WARN));
        let warning = warning.expect("a warning");
        assert!(
            warning.contains("RUST_LOG=\"cloverlift=loud\""),
            "{warning}"
        );
    }
}
