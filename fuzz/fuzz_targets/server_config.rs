//! The CloverDX configuration XML rewrite: any text is read or refused, never a panic; a
//! rewrite keeps every item, and a subset keeps only the items asked for.
#![no_main]

use std::collections::BTreeSet;

use cloverlift::apply::server_config::{self, Item};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(xml) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(items) = server_config::items(xml) else {
        return;
    };
    let _ = server_config::check_identities(xml);
    let all: BTreeSet<_> = items.iter().map(|i| (i.kind, i.identity.clone())).collect();
    if let Ok(rewritten) = server_config::set_enabled(xml, &all, false) {
        let after = server_config::items(&rewritten).expect("a rewrite reads back");
        let key = |v: &[Item]| v.iter().map(|i| (i.kind, i.identity.clone())).collect::<Vec<_>>();
        assert_eq!(key(&items), key(&after), "a rewrite keeps every item in order");
        assert!(after.iter().all(|i| !i.enabled), "every item is disabled");
    }
    let first: BTreeSet<_> = all.iter().take(1).cloned().collect();
    if let Ok(subset) = server_config::subset(xml, &first) {
        let kept = server_config::items(&subset).expect("a subset reads back");
        assert!(
            kept.iter().all(|i| first.contains(&(i.kind, i.identity.clone()))),
            "a subset keeps only the items asked for"
        );
    }
});
