//! Google's clients for the services apply calls (built in `cloverlift-gcp-clients`, see its
//! crate documentation for why) and the wording of their errors.

use google_cloud_gax::error::Error;

pub use cloverlift_gcp_clients::{Clients, secret_manager};

/// Whether a call failed because the resource is not there.
pub fn is_not_found(e: &Error) -> bool {
    e.http_status_code() == Some(404)
        || e.status()
            .is_some_and(|s| s.code == google_cloud_gax::error::rpc::Code::NotFound)
}

/// A failed call in apply's words: the call, the HTTP status and Google's status and message;
/// quota errors say so, since their fix is a quota increase and not a retry.
pub fn describe(what: &str, e: &Error) -> String {
    let http = e
        .http_status_code()
        .map(|c| format!("HTTP {c} "))
        .unwrap_or_default();
    let detail = match e.status() {
        Some(s) => format!("{http}{}: {}", s.code.name(), s.message),
        None => format!("{http}{e}"),
    };
    let quota = detail.to_ascii_lowercase();
    if quota.contains("quota")
        && (quota.contains("exceeded") || quota.contains("resource_exhausted"))
    {
        return format!(
            "{what}: quota exceeded ({detail}); raise the quota (IAM & Admin > Quotas) or free \
             capacity, then `apply --resume`"
        );
    }
    format!("{what}: {detail}")
}

/// `describe` as a `map_err` argument.
pub fn error(what: &str) -> impl Fn(Error) -> String + '_ {
    move |e| describe(what, &e)
}
