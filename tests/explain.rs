//! Every diagnostic code the tool can print is one `cloverlift explain` knows, and the
//! reverse: the catalogue has no code the source never uses.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::run;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Codes in `#[diagnostic(code(…))]` attributes and in `error[…]` lines printed by hand.
fn printed_codes() -> BTreeSet<String> {
    let patterns = [
        regex_lite::Regex::new(r"code\(([a-z_]+::[a-z_]+)\)").expect("regex"),
        regex_lite::Regex::new(r"error\[([a-z_]+::[a-z_]+)\]").expect("regex"),
    ];
    let mut files = Vec::new();
    rust_files(&common::root().join("src"), &mut files);
    let mut codes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        for re in &patterns {
            codes.extend(re.captures_iter(&text).map(|c| c[1].to_owned()));
        }
    }
    codes
}

#[test]
fn every_printed_code_is_explained() {
    let printed = printed_codes();
    assert!(
        printed.len() >= 30,
        "the scan finds the codes ({printed:?})"
    );
    for code in &printed {
        let out = run(&["explain", code], None);
        assert_eq!(
            out.code, 0,
            "`explain {code}` does not know it: {}",
            out.stderr
        );
        assert!(
            out.stdout.starts_with(&format!("{code}: ")),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn the_catalogue_lists_only_codes_the_tool_prints() {
    let printed = printed_codes();
    let listed = run(&["explain"], None);
    for line in listed.stdout.lines() {
        let code = line.split_whitespace().next().unwrap_or_default();
        assert!(
            printed.contains(code),
            "`{code}` is explained but never printed"
        );
    }
}
