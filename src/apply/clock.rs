//! Wall-clock timestamps for the journal and events, as RFC 3339 UTC. (Rendering never reads
//! the clock; only `apply` does, to record when things happened.)

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, with millisecond precision.
pub fn now_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// `2026-11-25T23:58:01.123Z` for a Unix time in seconds.
pub fn rfc3339(secs: f64) -> String {
    crate::timestamp::format_utc(secs)
}
