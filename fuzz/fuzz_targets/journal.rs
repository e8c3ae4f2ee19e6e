//! Any bytes as a journal: torn and garbled lines are skipped, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = cloverlift::apply::journal::history_from(data);
});
