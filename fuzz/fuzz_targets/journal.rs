//! Any bytes as a journal (see `properties::journal`).
#![no_main]

#[path = "../properties.rs"]
mod properties;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| properties::journal(data));
