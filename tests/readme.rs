//! The README tells the truth: the commands, flags, diagnostic codes and paths it names exist,
//! and every command, flag and spec code the tool has is in it.

mod common;

use std::collections::BTreeSet;

use common::{root, run};

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

/// Subcommands from `cloverlift --help` (the `Commands:` section), without `help`.
fn commands() -> Vec<String> {
    let help = run(&["--help"], None).stdout;
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  ") || l.is_empty())
        // A wrapped description continues deeper; a command starts at two spaces.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

/// Long flags from `cloverlift COMMAND --help`, without `--help`.
fn flags(command: &str) -> BTreeSet<String> {
    let help = run(&[command, "--help"], None).stdout;
    let re = regex_lite::Regex::new(r"(?m)^\s+(?:-[a-zA-Z], )?(--[a-z][a-z-]*)").expect("regex");
    re.captures_iter(&help)
        .map(|c| c[1].to_owned())
        .filter(|f| f != "--help" && f != "--version")
        .collect()
}

#[test]
fn every_command_is_documented_and_every_documented_command_exists() {
    let text = readme();
    let commands = commands();
    assert!(commands.len() >= 8, "{commands:?}");
    for c in &commands {
        assert!(
            text.contains(&format!("### `cloverlift {c}")),
            "`cloverlift {c}` has no README section"
        );
    }
    let re = regex_lite::Regex::new(r"(?m)^### `cloverlift ([a-z]+)").expect("regex");
    for cap in re.captures_iter(&text) {
        assert!(
            commands.iter().any(|c| c == &cap[1]),
            "the README documents `cloverlift {}`, which does not exist",
            &cap[1]
        );
    }
}

#[test]
fn every_flag_is_documented_and_every_documented_flag_exists() {
    let text = readme();
    let heading = regex_lite::Regex::new(r"(?m)^### `cloverlift ([a-z]+)([^`]*)`").expect("regex");
    let flag = regex_lite::Regex::new(r"--[a-z][a-z-]*").expect("regex");
    for cap in heading.captures_iter(&text) {
        let command = &cap[1];
        let known = flags(command);
        // The section: from this heading to the next `### ` heading.
        let start = cap.get(0).map_or(0, |m| m.start());
        let rest = &text[start..];
        let end = rest[4..].find("\n### ").map_or(rest.len(), |i| i + 4);
        let section = &rest[..end];
        for f in flag.find_iter(&cap[2]) {
            assert!(
                known.contains(f.as_str()),
                "the README heading of `{command}` names {}, which it does not have",
                f.as_str()
            );
        }
        for f in &known {
            assert!(
                section.contains(f.as_str()),
                "`cloverlift {command} {f}` is not in its README section"
            );
        }
    }
}

#[test]
fn the_code_table_matches_explain() {
    let text = readme();
    let listed = run(&["explain"], None).stdout;
    let known: BTreeSet<&str> = listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let re = regex_lite::Regex::new(r"`((?:spec|render|apply|io)::[a-z_]+)`").expect("regex");
    let in_readme: BTreeSet<String> = re.captures_iter(&text).map(|c| c[1].to_owned()).collect();
    for code in &in_readme {
        assert!(
            known.contains(code.as_str()),
            "the README names `{code}`, unknown to explain"
        );
    }
    for code in known.iter().filter(|c| c.starts_with("spec::")) {
        assert!(
            in_readme.contains(*code),
            "`{code}` is missing from the README's code table"
        );
    }
}

#[test]
fn every_path_the_readme_names_exists() {
    let text = readme();
    let re = regex_lite::Regex::new(
        r"`((?:src|plans|tests|docs|schema|scripts|templates|benches|fuzz|crates|\.config)/[A-Za-z0-9_./-]*[A-Za-z0-9_/])`",
    )
    .expect("regex");
    for cap in re.captures_iter(&text) {
        let path = &cap[1];
        assert!(
            root().join(path).exists(),
            "the README names `{path}`, which does not exist"
        );
    }
    for file in [
        "LICENSE",
        "scripts/test",
        "scripts/fuzz",
        "plans/aws-prod.yaml",
    ] {
        assert!(root().join(file).exists(), "{file}");
        assert!(text.contains(file), "the README mentions {file}");
    }
}
