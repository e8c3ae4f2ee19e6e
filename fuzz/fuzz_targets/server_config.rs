//! The CloverDX configuration XML rewrites (see `properties::server_config`).
#![no_main]

#[path = "../properties.rs"]
mod properties;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(xml) = std::str::from_utf8(data) {
        properties::server_config(xml);
    }
});
